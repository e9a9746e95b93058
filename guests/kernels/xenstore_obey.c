/*
 * xenstore_obey test kernel: a guest that cooperates with its toolstack
 * the way a Xen guest does: it advertises control/feature-poweroff and
 * control/feature-reboot, watches control/shutdown and, when the
 * toolstack writes "poweroff" or "reboot" there, clears it and shuts
 * itself down with that reason (SCHEDOP_shutdown). Prints a line every
 * second until then; "halt" and unknown requests are reported and ignored.
 */
#include "evtime.h"
#include "xenbus.h"

const char test_name[] = "xenstore_obey";

void test_main(void)
{
    char p[64], t[16], v[32];

    if (!test_ok(xenbus_init() == 0, "xenbus_init"))
        return;
    test_eq(xenbus_write(0, "control/feature-poweroff", "1"), 0, "feature-poweroff");
    test_eq(xenbus_write(0, "control/feature-reboot", "1"), 0, "feature-reboot");
    test_eq(xenbus_watch("control/shutdown", "shutdown"), 0, "watch control/shutdown");
    if (test_failures())
        return;
    printk("xenstore_obey: waiting for control/shutdown\n");
    for (;;) {
        if (xenbus_wait_event(p, sizeof(p), t, sizeof(t), NSEC_PER_SEC) < 0)
            continue;
        if (xenbus_read(0, "control/shutdown", v, sizeof(v)) < 0 || !v[0])
            continue;
        xenbus_write(0, "control/shutdown", "");
        if (!strncmp(v, "poweroff", 9)) {
            printk("xenstore_obey: control/shutdown = poweroff: powering off\n");
            domain_shutdown(SHUTDOWN_poweroff);
        }
        if (!strncmp(v, "reboot", 7)) {
            printk("xenstore_obey: control/shutdown = reboot: rebooting\n");
            domain_shutdown(SHUTDOWN_reboot);
        }
        printk("xenstore_obey: control/shutdown = %s: not understood\n", v);
    }
}
