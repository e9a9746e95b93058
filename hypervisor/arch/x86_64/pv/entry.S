/* Guest entry and exit.
 *
 * SYSCALL: each CPU's LSTAR points at its own 64-byte stub in syscall_stubs
 * (CSTAR at its stub in syscall32_stubs, which records the 32-bit code
 * selector).
 * SYSCALL leaves %rsp as the guest's, so the stub saves %rax in the CPU's
 * scratch slot, loads the CPU's stack top (the end of cpu_info->guest_regs,
 * like TSS.rsp0), builds the same frame an interrupt from ring 3 would push
 * (ss, rsp, rflags = r11, cs, rip = rcx), marks it TRAP_SYSCALL and joins
 * common_trap. FMASK clears IF, so nothing can interrupt the stub.
 *
 * Exit: restore_guest_frame(regs) pops a struct cpu_regs (always
 * cpu_info->guest_regs) and irets to ring 3. If that iret faults (a frame
 * the guest made bad), the fixup hands over to guest_iret_fault(). */
#include "asm/asm_frame.h"
#include "asm/config.h"
#include "asm/regs.h"

#define EXTABLE(insn, fixup) \
    .pushsection .extable, "a"; .balign 8; .quad insn, fixup; .popsection

    .data
    .balign 8
    .globl syscall_stack_top
syscall_stack_top:  .fill NR_CPUS, 8, 0
syscall_scratch:    .fill NR_CPUS, 8, 0

/* One 64-byte stub per CPU; cs is the code selector the frame records:
 * RING3_CS64 for LSTAR (64-bit code), RING3_CS32 for CSTAR (SYSCALL from
 * 32-bit compatibility-mode user code). */
.macro SYSCALL_STUBS name, cs
    .balign 64
    .globl \name
\name:
    .set cpu, 0
    .rept NR_CPUS
    movabsq %rax, syscall_scratch + 8 * cpu
    movabsq syscall_stack_top + 8 * cpu, %rax
    xchgq %rax, %rsp
    pushq $RING3_DS
    pushq %rax
    pushq %r11
    pushq $\cs
    pushq %rcx
    pushq $0
    movl $TRAP_SYSCALL, 4(%rsp)
    movabsq syscall_scratch + 8 * cpu, %rax
    jmp common_trap
    .org \name + (cpu + 1) * 64, 0xcc
    .set cpu, cpu + 1
    .endr
.endm

    .text
    SYSCALL_STUBS syscall_stubs, RING3_CS64
    SYSCALL_STUBS syscall32_stubs, RING3_CS32

/* void restore_guest_frame(struct cpu_regs *regs) -- does not return. */
    .globl restore_guest_frame
restore_guest_frame:
    movq %rdi, %rsp
    POP_GPRS
    addq $8, %rsp
.Liret:
    iretq
.Liret_fault:
    /* Back on the hypervisor stack: the guest frame is abandoned. */
    call guest_iret_fault
    ud2
    EXTABLE(.Liret, .Liret_fault)
