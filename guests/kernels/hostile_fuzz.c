/*
 * Hostile test kernel: random arguments and wild pointers to every
 * hypercall, for a bounded number of calls.
 *
 * Every pointer argument is taken from a set of wild addresses (NULL, low
 * memory, unmapped user space, non-canonical, the hypervisor hole, the top
 * of memory) and every scalar is random, so no call can validly alter the
 * kernel's own state. The calls that could legitimately end or stall the
 * domain (iret, shutdown / block / poll, vcpu down, kexec, trap table and
 * callback changes) are left out or restricted. The kernel must survive
 * and then prove its console, memory and page tables still work.
 */
#include "lib.h"

const char test_name[] = "hostile_fuzz";

#define CALLS 6000

static uint64_t rng_state = 0x9e3779b97f4a7c15ul;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static uint64_t wild_ptr(void)
{
    static const uint64_t wild[] = {
        0, 1, 0x1000, 0x0000100000000000ul, 0x00007ffffffff000ul,
        0x0000800000000000ul, 0xffff800000000000ul, 0xffff830000000000ul,
        0xffff87fffffffff8ul, 0xfffffffffffff000ul, ~0ul,
    };
    uint64_t p = wild[rnd() % ARRAY_SIZE(wild)];

    return (rnd() & 3) ? p : p + (rnd() & 0xfff);
}

static uint64_t small_int(void)
{
    return (rnd() & 1) ? rnd() & 0x3f : rnd();
}

/* Hypercalls whose arguments are (pointer, ...) or (cmd, pointer). */
enum shape { CMD_PTR, PTR_COUNT, SCALARS, SKIP };

static enum shape shape_of(unsigned int nr)
{
    switch (nr) {
    case __HYPERVISOR_set_trap_table: case __HYPERVISOR_stack_switch:
    case __HYPERVISOR_set_callbacks: case __HYPERVISOR_iret:
    case __HYPERVISOR_callback_op: case __HYPERVISOR_kexec_op:
    case __HYPERVISOR_sched_op_compat: case __HYPERVISOR_sched_op:
    case __HYPERVISOR_vcpu_op: case __HYPERVISOR_platform_op:
        return SKIP;
    case __HYPERVISOR_mmu_update: case __HYPERVISOR_mmuext_op:
    case __HYPERVISOR_multicall: case __HYPERVISOR_set_gdt:
    case __HYPERVISOR_event_channel_op_compat:
    case __HYPERVISOR_physdev_op_compat:
        return PTR_COUNT;
    case __HYPERVISOR_fpu_taskswitch: case __HYPERVISOR_update_va_mapping:
    case __HYPERVISOR_set_timer_op: case __HYPERVISOR_vm_assist:
    case __HYPERVISOR_set_segment_base: case __HYPERVISOR_update_descriptor:
    case __HYPERVISOR_set_debugreg: case __HYPERVISOR_get_debugreg:
        return SCALARS;
    default:
        return CMD_PTR;
    }
}

static long fuzz_one(unsigned int nr)
{
    switch (shape_of(nr)) {
    case CMD_PTR:
        return hypercall5(nr, small_int(), wild_ptr(), small_int(),
                          wild_ptr(), small_int());
    case PTR_COUNT:
        return hypercall5(nr, wild_ptr(), small_int(), wild_ptr(),
                          small_int(), small_int());
    case SCALARS:
        if (nr == __HYPERVISOR_update_va_mapping)   /* never our own VAs */
            return hypercall5(nr, wild_ptr(), rnd(), small_int(), 0, 0);
        if (nr == __HYPERVISOR_set_segment_base)    /* FS / user GS only */
            return hypercall5(nr, rnd() & 1 ? SEGBASE_FS : SEGBASE_GS_USER,
                              rnd(), 0, 0, 0);
        return hypercall5(nr, small_int(), rnd(), small_int(), 0, 0);
    case SKIP:
        break;
    }
    return 0;
}

void test_main(void)
{
    static uint8_t canary[PAGE_SIZE] ALIGNED(PAGE_SIZE);
    unsigned int per_nr[64] = { 0 };
    uint64_t l4_entry = ((const uint64_t *)start_info->pt_base)[511];
    long first_version = hypercall_xen_version(XENVER_version, NULL);
    unsigned int calls = 0, errors = 0;

    memset(canary, 0x3c, sizeof(canary));
    for (unsigned int i = 0; i < CALLS; i++) {
        unsigned int nr = rnd() % 64;
        long rc;

        if (shape_of(nr) == SKIP) {
            /* Restricted forms of the dangerous ones. */
            if (nr == __HYPERVISOR_sched_op)
                rc = hypercall_sched_op(SCHEDOP_yield, (void *)wild_ptr());
            else if (nr == __HYPERVISOR_vcpu_op)
                rc = hypercall_vcpu_op(rnd() & 1 ? VCPUOP_is_up :
                                       VCPUOP_get_runstate_info,
                                       small_int(), (void *)wild_ptr());
            else
                continue;
        } else {
            rc = fuzz_one(nr);
        }
        calls++;
        per_nr[nr]++;
        errors += rc < 0;
    }
    hypercall_fpu_taskswitch(0);
    hypercall_set_segment_base(SEGBASE_FS, 0);
    printk("hostile_fuzz: %u calls, %u returned an error\n", calls, errors);

    test_ok(calls >= CALLS / 2, "only %u calls were made", calls);
    test_ok(errors > calls / 2, "only %u of %u wild calls failed", errors,
            calls);
    test_eq(hypercall_xen_version(XENVER_version, NULL), first_version,
            "xen_version still answers");
    test_eq(((const uint64_t *)start_info->pt_base)[511], l4_entry,
            "kernel L4 entry 511 unchanged");
    for (unsigned int i = 0; i < sizeof(canary); i += 64)
        if (!test_eq(canary[i], 0x3c, "canary byte %u", i))
            break;
    canary[5] = 1;
    test_eq(canary[5], 1, "kernel memory still writable");
    probe_reset();
    __asm__ volatile(PROBE_ASM("ud2"));
    test_eq(last_trap.vector, 6, "trap table still installed");
}
