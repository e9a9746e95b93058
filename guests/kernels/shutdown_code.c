/*
 * Test kernel: SCHEDOP_shutdown_code.
 *
 * Records SHUTDOWN_poweroff as the shutdown code, prints
 * "Test result: SUCCESS" and then asks for SHUTDOWN_crash: the recorded
 * code must win, so the hypervisor reports a poweroff (Xen: "Hardware
 * Dom0 halted") and not a crash.
 */
#include "lib.h"

const char test_name[] = "shutdown_code";

void test_main(void)
{
    struct sched_shutdown code = { .reason = SHUTDOWN_poweroff };

    test_eq(hypercall_sched_op(SCHEDOP_shutdown_code,
                               (void *)0x0000100000000000ul), -XEN_EFAULT,
            "shutdown_code with an unmapped argument");
    test_eq(hypercall_sched_op(SCHEDOP_shutdown_code, &code), 0,
            "SCHEDOP_shutdown_code(poweroff)");
    if (test_failures())
        return;     /* report the FAILURE the usual way */
    printk("Test result: SUCCESS\n");
    printk("shutdown_code: requesting SHUTDOWN_crash; expect a poweroff\n");
    domain_shutdown(SHUTDOWN_crash);
}
