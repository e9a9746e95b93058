/*
 * Test kernel: a guest that writes its console output twice, as Mini-OS
 * does (every line to console_io and to the PV console ring). In
 * boot-loader mode the hypervisor prints both channels; each line must
 * appear once (tests/guests/bootloader_test.sh counts them). Also one
 * line on each channel alone, which must appear too.
 * Needs a PV console ring: not for Xen's dom0 (not in make test-xen).
 */
#include "evtime.h"
#include "pvconsole.h"

const char test_name[] = "dualcons";

static void both(const char *line)
{
    printk("%s", line);
    pvconsole_write(line, strlen(line));
}

void test_main(void)
{
    char line[64];

    test_ok(start_info->console.domU.mfn != 0, "a PV console ring");
    pvconsole_init();
    for (unsigned int i = 1; i <= 5; i++) {
        snprintf(line, sizeof(line), "dualcons: twice-written line %u\n", i);
        both(line);
    }
    printk("dualcons: console_io only\n");
    pvconsole_printf("dualcons: ring only\n");
    both("dualcons: twice-written last line\n");
    /* Let the hypervisor drain the ring before the result line. */
    sleep_until(system_time() + 200 * NSEC_PER_MSEC);
}
