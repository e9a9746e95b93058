/*
 * Test kernel: multicall batches.
 *
 * A batch with failing entries in the middle runs every entry and reports
 * each result separately; nested multicalls, unknown hypercalls inside a
 * batch and an unmapped batch pointer fail as Xen defines. A list at NULL
 * (multicall, mmu_update, mmuext_op) is read at 0 and fails there with
 * -EFAULT, nothing done: pvcore once ran its own stack's leftovers as the
 * first element (a NULL multicall emptied the trap table, set_trap_table
 * with whatever lay there; the trap table is probed after).
 */
#include "lib.h"

const char test_name[] = "multicall";

static const char msg[] = "multicall: console write from inside a batch\n";

void test_main(void)
{
    static multicall_entry_t calls[6], inner[1];
    domid_t self = DOMID_SELF;
    long rc;

    calls[0] = (multicall_entry_t){ .op = __HYPERVISOR_xen_version,
                                    .args = { XENVER_version } };
    calls[1] = (multicall_entry_t){ .op = __HYPERVISOR_memory_op,
                                    .args = { XENMEM_current_reservation,
                                              0x0000100000000000ul } };
    calls[2] = (multicall_entry_t){ .op = __HYPERVISOR_console_io,
                                    .args = { CONSOLEIO_write, sizeof(msg) - 1,
                                              HC(msg) } };
    calls[3] = (multicall_entry_t){ .op = 100 };   /* unknown hypercall */
    calls[4] = (multicall_entry_t){ .op = __HYPERVISOR_memory_op,
                                    .args = { XENMEM_current_reservation,
                                              HC(&self) } };
    inner[0] = calls[0];
    calls[5] = (multicall_entry_t){ .op = __HYPERVISOR_multicall,
                                    .args = { HC(inner), 1 } };
    for (unsigned int i = 0; i < ARRAY_SIZE(calls); i++)
        calls[i].result = 0xdeadbeef;

    rc = hypercall_multicall(calls, ARRAY_SIZE(calls));
    test_eq(rc, 0, "multicall of %u entries", (unsigned int)ARRAY_SIZE(calls));
    test_eq(calls[0].result, hypercall_xen_version(XENVER_version, NULL),
            "entry 0 (xen_version) result");
    test_eq(calls[1].result, -XEN_EFAULT, "entry 1 (bad pointer) result");
    test_eq(calls[2].result, 0, "entry 2 (console write) result");
    test_eq(calls[3].result, -XEN_ENOSYS, "entry 3 (unknown hypercall)");
    test_eq(calls[4].result, hypercall_memory_op(XENMEM_current_reservation,
                                                 &self),
            "entry 4 (after two failures) still ran");
    test_eq(calls[5].result, -XEN_EINVAL, "entry 5 (nested multicall)");
    test_eq(inner[0].result, 0, "the nested batch did not run");

    test_eq(hypercall_multicall((multicall_entry_t *)0x0000100000000000ul, 2),
            -XEN_EFAULT, "multicall with an unmapped batch");
    test_eq(hypercall_multicall(calls, 0), 0, "empty multicall");

    uint32_t done = 7;
    test_eq(hypercall_multicall(NULL, 1), -XEN_EFAULT, "multicall with a NULL list");
    test_eq(hypercall_mmu_update(NULL, 1, &done, DOMID_SELF), -XEN_EFAULT,
            "mmu_update with a NULL list");
    test_eq(done, 0, "mmu_update with a NULL list: nothing done");
    done = 7;
    test_eq(hypercall_mmuext_op(NULL, 1, &done, DOMID_SELF), -XEN_EFAULT,
            "mmuext_op with a NULL list");
    test_eq(done, 0, "mmuext_op with a NULL list: nothing done");
    probe_reset();
    __asm__ volatile(PROBE_ASM("ud2"));
    test_eq(last_trap.vector, 6, "trap table still installed");
}
