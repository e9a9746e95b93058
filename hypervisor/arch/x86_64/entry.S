/* Interrupt and exception entry.
 *
 * One 16-byte stub per vector (isr_stubs + 16 * vector): it pushes a zero
 * error code where the CPU does not push one, records the vector in the
 * high half of the error-code slot, and joins common_trap, which saves the
 * general registers as a struct cpu_regs and calls do_trap(regs). */
#include "asm/asm_frame.h"
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
    PUSH_GPRS
    movq %rsp, %rdi
    movq %rsp, %rbx             /* callee-saved: the frame */
    andq $-16, %rsp
    call do_trap
    movq %rbx, %rsp
    POP_GPRS
    addq $8, %rsp               /* error code and vector */
    iretq
