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
 * the guest made bad: a selector of its own that is not present or not
 * usable, #GP/#NP/#SS), the fixup saves the guest's registers back into the
 * frame and hands over to guest_iret_fault().
 *
 * It returns with sysretq instead, which is cheaper, only when sysretq
 * restores exactly the state iretq would (as Xen does for syscall-entered
 * frames, but never clobbering a register the frame says otherwise):
 *  - cs is RING3_CS64 and ss RING3_DS: the selectors sysretq loads from
 *    STAR (RING3_CS32 + 16 and + 8), with flat attributes like theirs;
 *  - rcx equals rip, and rip is canonical: Intel's sysretq would #GP in
 *    ring 0, on the guest's stack, for a non-canonical rcx. So returns
 *    from hypercalls and from the guest kernel's iret of a syscall use
 *    it; a bounce into the guest kernel (rip the handler, rcx the
 *    guest's) does not, unless the guest's rcx happens to be that rip;
 *  - r11 equals rflags, and rflags has no bit sysretq would drop (RF, VM,
 *    reserved ones) and bit 1 set: sysretq loads (r11 & 0x3c7fd7) | 2.
 * The window between loading the guest's %rsp and sysretq runs in ring 0
 * on the guest's stack: interrupts are off, nothing there can fault, and
 * NMI, #MC and #DF use their own IST stacks. AMD's SYSRET keeps the
 * hidden attributes of the SS it finds (null after an interrupt from ring
 * 3), so a null SS is first loaded with the hypervisor's flat data
 * selector; any other SS in ring 0 is that selector or SYSCALL's (flat
 * attributes) and is left alone: loading a segment register is costly
 * (under TCG a helper call and the end of a translated block). */
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

    .section .text.hot, "ax"
/* void restore_guest_frame(struct cpu_regs *regs) -- does not return. */
    .globl restore_guest_frame
restore_guest_frame:
    movq %rdi, %rsp
    cmpw $RING3_CS64, REGS_CS(%rsp)
    jne .Liret_frame
    cmpw $RING3_DS, REGS_SS(%rsp)
    jne .Liret_frame
    movq REGS_RIP(%rsp), %rax
    cmpq %rax, REGS_RCX(%rsp)
    jne .Liret_frame
    sarq $47, %rax              /* canonical: bits 63-47 all equal */
    incq %rax
    cmpq $1, %rax
    ja .Liret_frame
    movq REGS_RFLAGS(%rsp), %rax
    cmpq %rax, REGS_R11(%rsp)
    jne .Liret_frame
    testq $~0x3c7fd7, %rax
    jnz .Liret_frame
    testb $2, %al
    jz .Liret_frame
    cli
    movw %ss, %ax               /* null after an interrupt from ring 3 */
    testw %ax, %ax
    jnz 1f
    movl $HV_DS, %eax
    movl %eax, %ss
1:
    POP_GPRS                    /* rcx = rip, r11 = rflags: checked above */
    movq REGS_RSP - REGS_ERROR_CODE(%rsp), %rsp
    sysretq
.Liret_frame:
    POP_GPRS
    addq $8, %rsp
.Liret:
    iretq
.Liret_fault:
    /* The iretq faulted in ring 0, on this stack: the CPU pushed its frame
     * and the trap entry saved its registers below %rsp, i.e. over the
     * general-register slots of the guest frame we had just popped. The
     * fixup returned here with every register as it was at the iretq: the
     * guest's, and %rsp at the frame's rip. Save them again, so that the
     * frame is the guest's once more (never a word of the hypervisor's
     * stack), and call guest_iret_fault below the frame, as every entry
     * runs: it bounces to the failsafe callback from a clean frame. */
    subq $8, %rsp               /* error code and vector */
    movq $0, (%rsp)
    PUSH_GPRS
    call guest_iret_fault
    ud2
    EXTABLE(.Liret, .Liret_fault)

    .section .text.hot, "ax"       /* linker.ld: the hot pages */
    SYSCALL_STUBS syscall_stubs, RING3_CS64
    .text
    SYSCALL_STUBS syscall32_stubs, RING3_CS32

