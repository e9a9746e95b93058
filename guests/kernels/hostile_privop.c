/*
 * Hostile test kernel: privileged instructions in the PV kernel.
 *
 * The PV kernel runs in ring 3; each privileged instruction below must be
 * bounced to the kernel's #GP handler (or crash the domain). I/O
 * privilege is first dropped to 0 with PHYSDEVOP_set_iopl so port I/O is
 * not allowed either. Control-register and MSR writes use values the
 * hypervisor cannot accept (a CR3 of a frame not owned, CR0 with paging
 * off, an MSR that does not exist), so emulating them would be a bug too.
 */
#include "lib.h"

const char test_name[] = "hostile_privop";

#define GP 13

struct privop {
    const char *name;
    void (*run)(void);
};

#define PRIVOP(id, text, ...)                                            \
    static void id(void) { __asm__ volatile(PROBE_ASM(text) __VA_ARGS__); }

PRIVOP(op_cli, "cli", ::: "memory")
PRIVOP(op_sti, "sti", ::: "memory")
PRIVOP(op_hlt, "hlt", ::: "memory")
PRIVOP(op_in, "inb $0x80, %%al", ::: "rax")
PRIVOP(op_out, "outb %%al, $0x80", :: "a"(0))
PRIVOP(op_inw_dx, "inw %%dx, %%ax", :: "d"(0x3f8) : "rax")
PRIVOP(op_cr3, "mov %0, %%cr3", :: "r"(0xfffffffff000ul))
PRIVOP(op_cr0, "mov %0, %%cr0", :: "r"(0ul))
PRIVOP(op_wrmsr, "wrmsr", :: "c"(0x4b564d99u), "a"(1), "d"(0))
PRIVOP(op_rdmsr, "rdmsr", :: "c"(0x4b564d99u) : "rax", "rdx")
PRIVOP(op_lgdt, "lgdt (%0)", :: "r"(&(uint8_t[10]){ 0 }))
PRIVOP(op_lidt, "lidt (%0)", :: "r"(&(uint8_t[10]){ 0 }))
PRIVOP(op_ltr, "ltr %w0", :: "r"(0x28))
PRIVOP(op_lldt, "lldt %w0", :: "r"(0x30))
PRIVOP(op_invd, "invd", ::: "memory")

static const struct privop ops[] = {
    { "cli", op_cli }, { "sti", op_sti }, { "hlt", op_hlt },
    { "in $0x80", op_in }, { "out $0x80", op_out }, { "in (%dx)", op_inw_dx },
    { "mov to %cr3 (bogus frame)", op_cr3 }, { "mov to %cr0 (paging off)", op_cr0 },
    { "wrmsr (no such MSR)", op_wrmsr }, { "rdmsr (no such MSR)", op_rdmsr },
    { "lgdt", op_lgdt }, { "lidt", op_lidt }, { "ltr", op_ltr },
    { "lldt", op_lldt }, { "invd", op_invd },
};

void test_main(void)
{
    struct physdev_set_iopl iopl = { .iopl = 0 };

    test_eq(hypercall_physdev_op(PHYSDEVOP_set_iopl, &iopl), 0,
            "PHYSDEVOP_set_iopl(0)");
    for (unsigned int i = 0; i < ARRAY_SIZE(ops); i++) {
        probe_reset();
        ops[i].run();
        printk("privop %-26s -> %s (error code %#lx)\n", ops[i].name,
               trap_name(last_trap.vector), (unsigned long)last_trap.error_code);
        test_eq(last_trap.vector, GP, "%s bounced as #GP", ops[i].name);
    }
    test_ok(events_masked(), "event mask untouched by cli/sti attempts");
}
