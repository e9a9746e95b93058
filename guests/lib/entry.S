/*
 * Trap, callback and iret entry code for the PV test kernels.
 *
 * Owns: one entry per vector in the trap table. Xen delivers a bounce frame
 * of RCX, R11, [error code], RIP, CS, RFLAGS, RSP, SS; each entry pops RCX
 * and R11 back into their registers, pushes a 0 error code where the CPU
 * has none, pushes the vector, and joins trap_common, which saves all
 * registers as struct trap_frame, calls trap_dispatch(frame), restores
 * them and returns through the iret hypercall (flags 0, or VGCF_in_syscall
 * for the syscall callback).
 */
#define __ASSEMBLY__
#include <public/xen.h>

.macro trap_entry name, vector, has_error
    .globl \name
\name:
    pop   %rcx
    pop   %r11
    .if !\has_error
    push  $0
    .endif
    push  $\vector
    jmp   trap_common
.endm

    .text
    trap_entry entry_de,   0, 0
    trap_entry entry_db,   1, 0
    trap_entry entry_nmi,  2, 0
    trap_entry entry_bp,   3, 0
    trap_entry entry_of,   4, 0
    trap_entry entry_br,   5, 0
    trap_entry entry_ud,   6, 0
    trap_entry entry_nm,   7, 0
    trap_entry entry_df,   8, 1
    trap_entry entry_ts,  10, 1
    trap_entry entry_np,  11, 1
    trap_entry entry_ss,  12, 1
    trap_entry entry_gp,  13, 1
    trap_entry entry_pf,  14, 1
    trap_entry entry_mf,  16, 0
    trap_entry entry_ac,  17, 1
    trap_entry entry_mc,  18, 0
    trap_entry entry_xm,  19, 0
    trap_entry entry_syscall,  0x100, 0
    trap_entry entry_failsafe, 0x101, 0

/* Software-interrupt vectors: the vector comes from a per-vector trap_entry
 * generated here for every vector 0x20-0xff. */
    .globl soft_vector_stubs
    .p2align 4
soft_vector_stubs:
    .set v, 0x20
    .rept 0xe0
    .p2align 4
    pop   %rcx
    pop   %r11
    push  $0
    push  $v
    jmp   trap_common
    .set v, v + 1
    .endr

trap_common:
    push  %rax
    push  %rbx
    push  %rcx
    push  %rdx
    push  %rsi
    push  %rdi
    push  %rbp
    push  %r8
    push  %r9
    push  %r10
    push  %r11
    push  %r12
    push  %r13
    push  %r14
    push  %r15
    mov   %rsp, %rdi
    cld
    call  trap_dispatch
    /* Returns the iret flags word to use. */
    mov   %rax, %r12
    mov   %r12, 0x78(%rsp)          /* stash in the vector slot */
    pop   %r15
    pop   %r14
    pop   %r13
    pop   %r12
    pop   %r11
    pop   %r10
    pop   %r9
    pop   %r8
    pop   %rbp
    pop   %rdi
    pop   %rsi
    pop   %rdx
    pop   %rcx
    pop   %rbx
    pop   %rax
    /* Stack: flags(was vector), error code, rip, cs, rflags, rsp, ss.
     * Move flags over the error code so it sits right below rip. */
    push  %rax
    mov   8(%rsp), %rax
    mov   %rax, 16(%rsp)
    pop   %rax
    add   $8, %rsp
    jmp   hypercall_page + __HYPERVISOR_iret * 32

/* The event upcall: the library keeps events masked, so an upcall only
 * clears the pending flag and returns. Frame: RCX, R11, RIP, CS, ... */
    .globl entry_event
entry_event:
    pop   %rcx
    pop   %r11
    push  $0
    push  $0x102
    jmp   trap_common

    .section .note.GNU-stack, "", @progbits
