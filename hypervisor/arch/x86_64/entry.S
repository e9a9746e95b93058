/* Interrupt and exception entry.
 *
 * One 16-byte stub per vector (isr_stubs + 16 * vector): it pushes a zero
 * error code where the CPU does not push one, records the vector in the
 * high half of the error-code slot, and joins common_trap, which saves the
 * general registers as a struct cpu_regs and calls do_trap(regs). */
#include "asm/config.h"

    .text
    .align 16
    .globl isr_stubs
isr_stubs:
    .set vec, 0
    .rept 256
    .if (vec == 8) || (vec >= 10 && vec <= 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
    .else
    pushq $0
    .endif
    movl $vec, 4(%rsp)
    jmp common_trap
    .org isr_stubs + (vec + 1) * 16, 0xcc
    .set vec, vec + 1
    .endr

    .globl common_trap
common_trap:
    cld
    pushq %rdi
    pushq %rsi
    pushq %rdx
    pushq %rcx
    pushq %rax
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %rbx
    pushq %rbp
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, %rdi
    movq %rsp, %rbx             /* callee-saved: the frame */
    andq $-16, %rsp
    call do_trap
    movq %rbx, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbp
    popq %rbx
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rax
    popq %rcx
    popq %rdx
    popq %rsi
    popq %rdi
    addq $8, %rsp               /* error code and vector */
    iretq
