/*
 * Test kernel: how late a periodic wake-up comes (issue 13, "Unbounded,
 * non-preemptible hypercalls"; tests/guests/batch_test.sh).
 *
 * After `delay` ms (default 500) it sleeps until each deadline of a
 * `period_ms` period (default 5) for `ms` milliseconds (default 5000),
 * SCHEDOP_poll with a timeout, and records how long after the deadline it
 * ran again. Prints
 *   lateness: max_us=M mean_us=A samples=N period_us=P
 * and fails only if it took no samples: the bound is the test's.
 */
#include "evtime.h"

const char test_name[] = "timer_lateness";

void test_main(void)
{
    uint64_t period = cmdline_u64("period_ms", 5) * NSEC_PER_MSEC;
    uint64_t len = cmdline_u64("ms", 5000) * NSEC_PER_MSEC;
    uint64_t next = system_time() + cmdline_u64("delay", 500) * NSEC_PER_MSEC;
    uint64_t max = 0, sum = 0, n = 0;

    if (!period)
        test_abort("period_ms=0");
    sleep_until(next);
    uint64_t end = next + len;
    while (next < end) {
        next += period;
        sleep_until(next);
        uint64_t late = system_time() - next;
        if (late > max)
            max = late;
        sum += late;
        n++;
    }
    printk("lateness: max_us=%lu mean_us=%lu samples=%lu period_us=%lu\n",
           (unsigned long)(max / NSEC_PER_USEC), (unsigned long)(n ? sum / n / NSEC_PER_USEC : 0),
           (unsigned long)n, (unsigned long)(period / NSEC_PER_USEC));
    test_ok(n > 0, "samples taken");
}
