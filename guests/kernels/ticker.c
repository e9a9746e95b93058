/*
 * Test kernel: a console that keeps printing, for Domain 0's console
 * backend (tests/dom0link/).
 *
 * Writes "tick N\n" (N = 1, 2, ...) to its PV console ring (pvconsole.h)
 * every `period_ms` ms of system time (default 100; SCHEDOP_poll with a
 * timeout between lines), and stops after `count` lines (default 0: until
 * it is destroyed or shut down). A full ring is waited out, never
 * overwritten, so the reader sees every line. `fifo=1`: switch to the
 * FIFO event channel ABI first (Domain 0 stays 2-level at its end).
 */
#include "evtime.h"
#include "pvconsole.h"

const char test_name[] = "ticker";

void test_main(void)
{
    uint64_t period = cmdline_u64("period_ms", 100) * NSEC_PER_MSEC;
    uint64_t count = cmdline_u64("count", 0);

    if (cmdline_u64("fifo", 0) && evtchn_fifo_setup(1))
        test_abort("fifo=1: FIFO event channel setup failed");
    pvconsole_init();
    uint64_t next = system_time();
    for (uint64_t n = 1; !count || n <= count; n++) {
        pvconsole_printf("tick %lu\n", (unsigned long)n);
        next += period;
        sleep_until(next);
    }
}
