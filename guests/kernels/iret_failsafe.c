/*
 * Test kernel: the failsafe callback after a faulting return to the guest
 * (issue 13). An iret hypercall names a code or stack selector the CPU
 * refuses at the hypervisor's iretq (a null one, or an entry of the
 * guest's GDT that is not set up); the hypervisor must bounce to the
 * failsafe callback with the guest's registers exactly as they were at
 * the iret, and a frame of rcx, r11, ds, es, fs, gs, rip, cs, rflags,
 * rsp, ss holding the context that failed. Before the fix the fault
 * frame and the fault handler's saved registers overwrote the register
 * slots of the saved guest frame, and the guest got words of the
 * hypervisor's stack in rbx, rbp, r12-r15 and the others.
 *
 * Every general register is loaded with a distinct known value before
 * the iret; our own failsafe entry stores them all before anything else
 * runs, then resumes the C code on its saved stack. pvcore only: under
 * Xen the same frames go the same way, but this kernel checks pvcore's.
 */
#include "evtime.h"

const char test_name[] = "iret_failsafe";

#define K(n) (0x5eed000000000000ul | ((uint64_t)(n) << 8) | (n))

/* Registers as the failsafe entry found them, in this order. */
struct seen_regs {
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, r8, r9, r10, r11, r12, r13, r14, r15;
};
struct seen_regs seen;
const uint64_t *seen_frame;                 /* the frame the hypervisor wrote */
uint64_t saved_rsp;
static uint64_t bounce_stack[512] ALIGNED(16);
uint64_t bounce_stack_top;
extern char failsafe_entry[], iret_target[];

/* iret_with(cs, ss): an iret to iret_target with these selectors and
 * every register known; returns once the failsafe entry ran. */
void iret_with(uint64_t cs, uint64_t ss);
__asm__(
    ".text\n"
    ".globl iret_with\n"
    "iret_with:\n"
    "    push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
    "    mov %rsp, saved_rsp(%rip)\n"
    "    pushq %rsi\n"                              /* ss */
    "    pushq bounce_stack_top(%rip)\n"            /* rsp */
    "    pushq $0x2\n"                              /* rflags: events stay masked */
    "    pushq %rdi\n"                              /* cs */
    "    leaq iret_target(%rip), %rax\n"
    "    pushq %rax\n"                              /* rip */
    "    pushq $0\n"                                /* flags */
    "    movabsq $0x5eed000000000101, %rax\n"
    "    movabsq $0x5eed000000000202, %rbx\n"
    "    movabsq $0x5eed000000000303, %rcx\n"
    "    movabsq $0x5eed000000000404, %rdx\n"
    "    movabsq $0x5eed000000000505, %rsi\n"
    "    movabsq $0x5eed000000000606, %rdi\n"
    "    movabsq $0x5eed000000000707, %rbp\n"
    "    movabsq $0x5eed000000000808, %r8\n"
    "    movabsq $0x5eed000000000909, %r9\n"
    "    movabsq $0x5eed000000000a0a, %r10\n"
    "    movabsq $0x5eed000000000b0b, %r11\n"
    "    movabsq $0x5eed000000000c0c, %r12\n"
    "    movabsq $0x5eed000000000d0d, %r13\n"
    "    movabsq $0x5eed000000000e0e, %r14\n"
    "    movabsq $0x5eed000000000f0f, %r15\n"
    "    jmp hypercall_page + 23 * 32\n"
    ".globl iret_target\n"
    "iret_target:\n"
    "    ud2\n"
    ".globl failsafe_entry\n"
    "failsafe_entry:\n"
    "    mov %rax, seen+0(%rip)\n mov %rbx, seen+8(%rip)\n mov %rcx, seen+16(%rip)\n"
    "    mov %rdx, seen+24(%rip)\n mov %rsi, seen+32(%rip)\n mov %rdi, seen+40(%rip)\n"
    "    mov %rbp, seen+48(%rip)\n mov %r8, seen+56(%rip)\n mov %r9, seen+64(%rip)\n"
    "    mov %r10, seen+72(%rip)\n mov %r11, seen+80(%rip)\n mov %r12, seen+88(%rip)\n"
    "    mov %r13, seen+96(%rip)\n mov %r14, seen+104(%rip)\n mov %r15, seen+112(%rip)\n"
    "    mov %rsp, seen_frame(%rip)\n"
    "    mov saved_rsp(%rip), %rsp\n"
    "    pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
    "    ret\n");

enum { F_RCX, F_R11, F_DS, F_ES, F_FS, F_GS, F_RIP, F_CS, F_RFLAGS, F_RSP, F_SS };

static void check_case(const char *what, uint64_t cs, uint64_t ss)
{
    static const char *const names[] = { "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "r8",
                                         "r9", "r10", "r11", "r12", "r13", "r14", "r15" };
    memset(&seen, 0, sizeof(seen));
    seen_frame = NULL;
    iret_with(cs, ss);
    if (!test_ok(seen_frame, "%s: the failsafe callback ran", what))
        return;
    const uint64_t *r = (const uint64_t *)&seen;
    unsigned int leaked = 0;
    for (unsigned int i = 0; i < ARRAY_SIZE(names); i++) {
        if (i == 2 || i == 10)
            continue;                   /* rcx, r11: in the frame (a bounce clobbers them) */
        if (r[i] != K(i + 1)) {
            leaked++;
            printk("iret_failsafe: %s: %s = %#lx at the failsafe callback, not %#lx%s\n", what,
                   names[i], r[i], K(i + 1),
                   r[i] >= 0xffff800000000000ul && r[i] < 0xffff880000000000ul ?
                   " (a hypervisor address)" : "");
        }
    }
    test_eq(leaked, 0, "%s: registers that reached the failsafe callback changed", what);
    test_eq(seen_frame[F_RCX], K(3), "%s: rcx in the failsafe frame", what);
    test_eq(seen_frame[F_R11], K(11), "%s: r11 in the failsafe frame", what);
    test_eq(seen_frame[F_RIP], (uint64_t)iret_target, "%s: rip in the failsafe frame", what);
    test_eq(seen_frame[F_CS] & 0xfffc, cs & 0xfffc, "%s: the failing cs in the frame", what);
    test_eq(seen_frame[F_SS] & 0xfffc, ss & 0xfffc, "%s: the failing ss in the frame", what);
    test_eq(seen_frame[F_RSP], bounce_stack_top, "%s: rsp in the failsafe frame", what);
    for (unsigned int i = F_DS; i <= F_GS; i++)
        test_ok(seen_frame[i] <= 0xffff, "%s: segment word %u of the frame is a selector "
                "(%#lx)", what, i - F_DS, seen_frame[i]);
    printk("iret_failsafe: %s: failsafe frame cs %#lx ss %#lx ds %#lx es %#lx fs %#lx gs %#lx\n",
           what, seen_frame[F_CS], seen_frame[F_SS], seen_frame[F_DS], seen_frame[F_ES],
           seen_frame[F_FS], seen_frame[F_GS]);
}

void test_main(void)
{
    struct callback_register cb = { .type = CALLBACKTYPE_failsafe,
                                    .flags = CALLBACKF_mask_events,
                                    .address = (uint64_t)failsafe_entry };

    bounce_stack_top = (uint64_t)&bounce_stack[ARRAY_SIZE(bounce_stack)];
    if (!test_eq(hypercall_callback_op(CALLBACKOP_register, &cb), 0, "register failsafe"))
        return;
    /* RPL 0 in the frame: back to guest kernel mode (RPL 3 means user). */
    check_case("null cs", 0x0000, FLAT_KERNEL_SS);
    check_case("unset GDT entry as cs", 0x0fe0, FLAT_KERNEL_SS);
    check_case("null ss", FLAT_KERNEL_CS & ~3, 0x0000);
    check_case("unset GDT entry as ss", FLAT_KERNEL_CS & ~3, 0x0fe0);
}
