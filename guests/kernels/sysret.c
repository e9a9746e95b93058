/*
 * Test kernel: returns to the guest restore exactly the frame asked for.
 *
 * pvcore returns to a guest with sysretq (cheaper than iretq) only when
 * sysretq restores exactly what iretq would: rcx equal to rip, r11 to
 * rflags, canonical rip, flat ring-3 selectors (pv/entry.S). Each case
 * here is a frame where sysretq would have clobbered something, and the
 * guest checks every register it can see:
 *  - a plain syscall round trip from user mode, the kernel returning with
 *    VGCF_in_syscall (sysretq applies): rcx is the address after the
 *    syscall and r11 the flags, as Xen's sysretq leaves them;
 *  - the kernel's `int $0x80` handler (iret flags 0: rcx and r11 come
 *    from the frame) alters r11 to a value that is not rflags: user mode
 *    sees that r11, and its flags unchanged (not loaded from r11);
 *  - it alters rcx to a non-canonical value: user mode sees that rcx;
 *  - the syscall handler moves rip to a non-canonical address, so rcx
 *    equals rip but is non-canonical: the guest gets a #GP from user mode
 *    at that address, the hypervisor lives on;
 *  - a kernel-mode bounce (int3 in the guest kernel) with rcx set to the
 *    handler's own address, the rip of the bounce frame, and r11 not the
 *    flags: the handler's first instruction sees both registers as the
 *    kernel had them.
 * On Xen 4.17 the three user-mode cases run too; the last two are pvcore
 * only: Xen leaves rcx and r11 undefined on entry to a bounce handler
 * (the PV ABI puts them in the frame), and a non-canonical return is not
 * tried there under TCG (see usermode.c).
 */
#include "lib.h"

const char test_name[] = "sysret";

#define USER_CODE_VA   0x400000ul
#define USER_STACK_VA  0x401000ul
#define ODD_RCX        0x8000000000000123ul
#define ODD_R11        0x5a5a5aul
#define BAD_RIP        0x0000800000000000ul

extern char sr_user_plain[], sr_user_r11[], sr_user_rcx[], sr_user_badrip[], sr_user_page[];
extern char sr_bp_entry[];
extern volatile uint64_t sr_bp_rcx, sr_bp_r11;
uint64_t sr_kernel_int3(uint64_t rcx, uint64_t r11);

/* User code: each entry ends in `syscall` with rax 2, rdi 0 (all seen as
 * expected) or the number of the failed check, rsi the value seen. */
__asm__(
    ".pushsection .text.user, \"ax\"\n"
    ".p2align 12\n"
    ".globl sr_user_page, sr_user_plain, sr_user_r11, sr_user_rcx, sr_user_badrip\n"
    "sr_user_page:\n"
    "sr_user_plain:\n"
    "    mov $1, %eax\n"
    "    mov $0x7777, %r11\n"
    "    syscall\n"
    "1:  pushfq\n"                        /* the flags sysretq/iretq loaded */
    "    pop %r8\n"
    "    lea 1b(%rip), %rdx\n"
    "    mov $1, %edi\n"
    "    mov %rcx, %rsi\n"
    "    cmp %rdx, %rcx\n"
    "    jne 9f\n"
    "    mov %r8, %rdx\n"
    "    mov $2, %edi\n"
    "    mov %r11, %rsi\n"
    "    cmp %rdx, %r11\n"
    "    jne 9f\n"
    "    xor %edi, %edi\n"
    "9:  mov $2, %eax\n"
    "    syscall\n"
    "    ud2\n"
    /* int80_case N: int $0x80 with rax N; check 5 if the flags changed,
     * then check N on the register the handler altered. */
    ".macro int80_case n\n"
    "    mov $\\n, %eax\n"
    "    pushfq\n"
    "    pop %r9\n"
    "    int $0x80\n"
    "    pushfq\n"                         /* flags back as they were */
    "    pop %r8\n"
    "    mov $5, %edi\n"
    "    mov %r8, %rsi\n"
    "    cmp %r9, %r8\n"
    "    jne 9b\n"
    "    mov $\\n, %edi\n"
    ".endm\n"
    "sr_user_r11:\n"
    "    int80_case 3\n"
    "    mov %r11, %rsi\n"
    "    cmp $0x5a5a5a, %r11\n"
    "    jne 9b\n"
    "    xor %edi, %edi\n"
    "    jmp 9b\n"
    "sr_user_rcx:\n"
    "    int80_case 4\n"
    "    mov %rcx, %rsi\n"
    "    movabs $0x8000000000000123, %rdx\n"
    "    cmp %rdx, %rcx\n"
    "    jne 9b\n"
    "    xor %edi, %edi\n"
    "    jmp 9b\n"
    "sr_user_badrip:\n"
    "    mov $5, %eax\n"
    "    syscall\n"
    "    ud2\n"
    ".p2align 12\n"
    ".popsection\n"
    ".text\n"
    /* The #BP entry for the kernel-mode case: note rcx and r11 as they
     * are at the handler's first instruction, then the library's entry. */
    ".globl sr_bp_entry\n"
    "sr_bp_entry:\n"
    "    mov %rcx, sr_bp_rcx(%rip)\n"
    "    mov %r11, sr_bp_r11(%rip)\n"
    "    jmp entry_bp\n"
    /* sr_kernel_int3(rcx, r11): int3 with those two registers. */
    ".globl sr_kernel_int3\n"
    "sr_kernel_int3:\n"
    "    push %r12\n"
    "    mov %rdi, %rcx\n"
    "    mov %rsi, %r11\n"
    "    int3\n"
    "    mov %rcx, %rax\n"                  /* rcx as the iret left it */
    "    pop %r12\n"
    "    ret\n");

volatile uint64_t sr_bp_rcx, sr_bp_r11;
static uint8_t trap_stack[4 * PAGE_SIZE] ALIGNED(16);
static struct { uint64_t vector, rip, cs; } fault;

/* int $0x80 returns with iret flags 0: rcx and r11 from the frame. */
static void on_int80(struct trap_frame *f)
{
    if (f->rax == 3)
        f->r11 = ODD_R11;
    else if (f->rax == 4)
        f->rcx = ODD_RCX;
}

/* syscall returns with VGCF_in_syscall: rcx and r11 sysret-style. */
static void on_syscall(struct trap_frame *f)
{
    switch (f->rax) {
    case 1:
        return;
    case 5:
        f->rip = BAD_RIP;
        return;
    default:
        events_mask_all();
        user_resume_kernel(f->rdi | f->rsi << 8);
    }
}

static void on_user_fault(struct trap_frame *f)
{
    if ((f->cs & 3) != 3)
        test_abort("kernel %s at %#lx", trap_name(f->vector), (unsigned long)f->rip);
    fault.vector = f->vector;
    fault.rip = f->rip;
    fault.cs = f->cs;
    events_mask_all();
    user_resume_kernel(~0ul);
}

static void on_kernel_bp(struct trap_frame *f)
{
    (void)f;
}

static uint64_t user_va(const char *sym)
{
    return USER_CODE_VA + (uint64_t)(sym - sr_user_page);
}

static void user_case(const char *sym, const char *what)
{
    uint64_t r = user_enter(user_va(sym), USER_STACK_VA + PAGE_SIZE, 0);

    test_ok((r & 0xff) == 0, "%s: check %lu failed, user saw %#lx", what, (unsigned long)(r & 0xff),
            (unsigned long)(r >> 8));
}

void test_main(void)
{
    trap_set_handler(TRAP_SYSCALL, on_syscall);
    trap_add_soft_vector(0x80, 3);
    trap_set_handler(0x80, on_int80);
    test_eq(traps_install(), 0, "install traps with int $0x80");
    test_eq(user_space_init(sr_user_page, USER_CODE_VA, USER_STACK_VA,
                            trap_stack + sizeof(trap_stack)), 0, "the user address space");

    user_case(sr_user_plain, "plain syscall round trip: rcx and r11 as the CPU left them");
    user_case(sr_user_r11, "r11 altered by the kernel");
    user_case(sr_user_rcx, "rcx altered to a non-canonical value");

    if (!running_on_pvcore()) {
        /* Xen enters a bounce handler with rcx and r11 undefined (they
         * are in the frame), and is not tried on a non-canonical return
         * address under TCG (see usermode.c). */
        printk("sysret: SKIP the non-canonical return and the kernel-mode bounce (pvcore only)\n");
        return;
    }
    trap_set_handler(12, on_user_fault);
    trap_set_handler(13, on_user_fault);
    trap_set_handler(14, on_user_fault);
    fault.vector = TRAP_NONE;
    user_enter(user_va(sr_user_badrip), USER_STACK_VA + PAGE_SIZE, 0);
    test_eq(fault.vector, 13, "rip and rcx non-canonical: #GP");
    test_eq(fault.rip, BAD_RIP, "#GP at the non-canonical rip");
    test_eq(fault.cs & 3, 3, "#GP from user mode");
    trap_set_handler(12, NULL);
    trap_set_handler(13, NULL);
    trap_set_handler(14, NULL);

    /* Kernel-mode bounce: rcx is the bounce frame's rip (the handler). */
    trap_info_t bp[] = { { .vector = 3, .flags = 3, .cs = FLAT_KERNEL_CS,
                           .address = (uint64_t)sr_bp_entry },
                         { 0 } };
    trap_set_handler(3, on_kernel_bp);
    test_eq(hypercall_set_trap_table(bp), 0, "#BP through sr_bp_entry");
    uint64_t rcx_after = sr_kernel_int3((uint64_t)sr_bp_entry, ODD_R11);
    test_eq(sr_bp_rcx, (uint64_t)sr_bp_entry, "kernel bounce: rcx at the handler");
    test_eq(sr_bp_r11, ODD_R11, "kernel bounce: r11 at the handler");
    test_eq(rcx_after, (uint64_t)sr_bp_entry, "rcx after the handler's iret");
    test_eq(traps_install(), 0, "the library's trap table back");
    printk("sysret: every frame restored exactly\n");
}
