/* Interrupt and exception entry.
 *
 * One 16-byte stub per vector (isr_stubs + 16 * vector): it pushes a zero
 * error code where the CPU does not push one, records the vector in the
 * high half of the error-code slot, and joins common_trap, which saves the
 * general registers as a struct cpu_regs and calls do_guest_trap(regs)
 * for a trap from ring 3 (it never returns), do_trap(regs) otherwise.
 * Both are on the hot pages (.text.hot, the stubs last: linker.ld), the
 * stubs of the exceptions next to common_trap. */
#include "asm/asm_frame.h"
#include "asm/config.h"
#include "asm/regs.h"

    .section .text.hot.stubs, "ax"
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

    .section .text.hot, "ax"
    .align 16
    .globl common_trap
common_trap:
    cld
    PUSH_GPRS
    movq %rsp, %rdi
    testb $3, REGS_CS(%rsp)
    jnz 1f
    movq %rsp, %rbx             /* callee-saved: the frame */
    andq $-16, %rsp
    call do_trap
    movq %rbx, %rsp
    POP_GPRS
    addq $8, %rsp               /* error code and vector */
    iretq
1:  andq $-16, %rsp             /* from ring 3: the frame is the guest's */
    call do_guest_trap          /* never returns */
    ud2
