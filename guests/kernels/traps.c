/*
 * Test kernel: exception and software-interrupt bounces.
 *
 * Covers set_trap_table, delivery of #DE, #UD, #BP, #PF (error code and
 * cr2 in vcpu_info.arch.cr2) and #GP with the Xen PV frame (RCX/R11 on
 * top, kernel CS with RPL 0, saved upcall mask in CS bits 32-39), `int $N`
 * through DPL-3 entries (delivered) and DPL-0 / absent entries (#GP with
 * error code vector*8+2), and the iret hypercall restoring every register.
 * Checks tagged [int-N] depend on the CPU reporting the IDT error code
 * right (QEMU TCG does not; see tests/xen/boot-kernels.sh).
 */
#include "lib.h"

const char test_name[] = "traps";

static uint8_t ro_page[PAGE_SIZE] ALIGNED(PAGE_SIZE);

#define UNMAPPED_VA  0x0000100000000000ul

static void expect_trap(uint64_t vector, uint64_t error_code, const char *what)
{
    test_eq(last_trap.vector, vector, "%s: vector", what);
    if (last_trap.vector == vector)
        test_eq(last_trap.error_code, error_code, "%s: error code", what);
}

static void check_frame_shape(const char *what)
{
    test_eq(last_trap.cs & 3, 0, "%s: CS RPL in a kernel-mode frame", what);
    test_eq(last_trap.cs & 0xfffc, FLAT_KERNEL_CS & 0xfffc, "%s: CS", what);
    test_eq((last_trap.cs >> 32) & 0xff, 1,
            "%s: saved upcall mask in CS bits 32-39", what);
}

static void check_faults(void)
{
    uint64_t rip;

    probe_reset();
    __asm__ volatile("xor %%edx, %%edx\n xor %%eax, %%eax\n xor %%ecx, %%ecx\n"
                     "lea 1f(%%rip), %0\n" PROBE_ASM("divl %%ecx")
                     : "=r"(rip) : : "rax", "rcx", "rdx");
    expect_trap(0, 0, "divide by zero");
    test_eq(last_trap.rip, rip, "#DE frame rip points at the div");
    check_frame_shape("#DE");

    probe_reset();
    __asm__ volatile("lea 1f(%%rip), %0\n" PROBE_ASM("ud2") : "=r"(rip));
    expect_trap(6, 0, "ud2");
    test_eq(last_trap.rip, rip, "#UD frame rip points at ud2");

    probe_reset();
    __asm__ volatile("lea 2f(%%rip), %0\n" PROBE_ASM("int3") : "=r"(rip));
    expect_trap(3, 0, "int3");
    test_eq(last_trap.rip, rip, "#BP frame rip is after int3");

    probe_reset();
    __asm__ volatile("lea 1f(%%rip), %0\n" PROBE_ASM("movq (%1), %%rax")
                     : "=&r"(rip) : "r"(UNMAPPED_VA) : "rax");
    expect_trap(14, 0, "read of an unmapped address");
    test_eq(last_trap.cr2, UNMAPPED_VA, "#PF cr2 for the read");
    test_eq(last_trap.rip, rip, "#PF frame rip points at the load");

    probe_reset();
    __asm__ volatile(PROBE_ASM("movq %%rax, (%0)")
                     : : "r"(UNMAPPED_VA + 8) : "memory");
    expect_trap(14, 2, "write to an unmapped address");
    test_eq(last_trap.cr2, UNMAPPED_VA + 8, "#PF cr2 for the write");

    test_eq(page_set_writable(ro_page, false), 0, "make a page read-only");
    probe_reset();
    __asm__ volatile(PROBE_ASM("movb $1, (%0)") : : "r"(ro_page + 100)
                     : "memory");
    expect_trap(14, 3, "write to a read-only page");
    test_eq(last_trap.cr2, (uint64_t)ro_page + 100, "#PF cr2 (read-only)");
    test_eq(page_set_writable(ro_page, true), 0, "make the page writable");
    probe_reset();
    ro_page[100] = 1;
    test_eq(last_trap.vector, TRAP_NONE, "write after making it writable");

    probe_reset();
    __asm__ volatile(PROBE_ASM("movq (%0), %%rax")
                     : : "r"(0x8000000000000000ul) : "rax");
    expect_trap(13, 0, "load from a non-canonical address");
    check_frame_shape("#GP");
}

static volatile uint64_t soft_seen;

static void soft_handler(struct trap_frame *f)
{
    soft_seen = f->vector;
    f->rax = 0xfeedface;          /* must come back through iret */
}

static void check_soft_ints(void)
{
    uint64_t rax = 0, rip;

    soft_seen = 0;
    __asm__ volatile("int $0x80" : "=a"(rax) : "a"(0ul) : "memory");
    test_eq(soft_seen, 0x80, "int $0x80 through a DPL-3 entry delivered");
    test_eq(rax, 0xfeedface, "rax set by the handler survives the iret");

    probe_reset();
    __asm__ volatile(PROBE_ASM("int $0x21") ::: "memory");
    test_eq(last_trap.vector, 0x21,
            "[int-N] int $0x21 through a DPL-3 entry delivered as vector "
            "0x21");

    probe_reset();
    __asm__ volatile("lea 1f(%%rip), %0\n" PROBE_ASM("int $0x20")
                     : "=r"(rip) : : "memory");
    test_eq(last_trap.vector, 13, "int $0x20 through a DPL-0 entry -> #GP");
    test_eq(last_trap.error_code, 0x20 * 8 + 2,
            "[int-N] #GP error code for int $0x20 (vector*8+2)");
    test_eq(last_trap.rip, rip, "#GP from int $0x20 points at the int");

    probe_reset();
    __asm__ volatile(PROBE_ASM("int $0x22") ::: "memory");
    test_eq(last_trap.vector, 13, "int $0x22 without an entry -> #GP");
    test_eq(last_trap.error_code, 0x22 * 8 + 2,
            "[int-N] #GP error code for int $0x22 (vector*8+2)");
}

/* Every register the handler does not own must survive trap + iret. */
static void check_register_preservation(void)
{
    uint64_t in[6] = { 0x1111, 0x2222, 0x3333, 0x4444, 0x5555, 0x6666 };
    uint64_t out[6];
    uint64_t flags_before, flags_after;

    probe_reset();
    __asm__ volatile(
        "pushfq\n pop %[fb]\n"
        "mov 0(%[in]), %%rbx\n mov 8(%[in]), %%r12\n mov 16(%[in]), %%r13\n"
        "mov 24(%[in]), %%r14\n mov 32(%[in]), %%r15\n mov 40(%[in]), %%r9\n"
        PROBE_ASM("ud2")
        "mov %%rbx, 0(%[out])\n mov %%r12, 8(%[out])\n mov %%r13, 16(%[out])\n"
        "mov %%r14, 24(%[out])\n mov %%r15, 32(%[out])\n mov %%r9, 40(%[out])\n"
        "pushfq\n pop %[fa]\n"
        : [fb] "=&r"(flags_before), [fa] "=&r"(flags_after)
        : [in] "r"(in), [out] "r"(out)
        : "rbx", "r12", "r13", "r14", "r15", "r9", "memory");
    test_eq(last_trap.vector, 6, "ud2 between register loads");
    for (unsigned int i = 0; i < 6; i++)
        test_eq(out[i], in[i], "register %u preserved across trap and iret", i);
    test_eq(flags_after & 0xcd5, flags_before & 0xcd5,
            "arithmetic flags preserved across trap and iret");
}

void test_main(void)
{
    trap_add_soft_vector(0x80, 3);
    trap_add_soft_vector(0x21, 3);
    trap_add_soft_vector(0x20, 0);
    trap_set_handler(0x80, soft_handler);
    test_eq(traps_install(), 0, "set_trap_table with software vectors");
    test_eq(hypercall_set_trap_table((trap_info_t *)0x0000100000000000ul),
            -XEN_EFAULT, "set_trap_table from an unmapped address");

    check_faults();
    check_soft_ints();
    check_register_preservation();
}
