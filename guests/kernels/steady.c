/*
 * Test kernel: a well-behaved domain that checks its own progress, to run
 * beside hostile ones (tests/guests/soak_test.sh, `make soak`).
 *
 * For `ms=` milliseconds of system time (default 10000), every `period_ms`
 * (default 20): sleep until the next period (SCHEDOP_poll with a timeout),
 * then send an event to itself on an IPI port and see it pending, fill a
 * 64 KiB buffer with a pattern of this round and read it back, and count
 * the round. Progress is checked as it goes: a round that starts more than
 * `stall_ms` (default 5000) after the previous one is a stall, a lost
 * event or a wrong byte a failure. Every `report_s` seconds (default 60)
 * and at the end it prints
 *   steady: rounds=R late_max_ms=L stalls=S events=E
 * and succeeds when nothing failed, no round stalled and it made at least
 * one round a second (the machine may be slow, never stuck).
 */
#include "evtime.h"

const char test_name[] = "steady";

#define BUF_WORDS (64 * 1024 / 8)

static uint64_t buf[BUF_WORDS];

void test_main(void)
{
    uint64_t ms = cmdline_u64("ms", 10000), period = cmdline_u64("period_ms", 20);
    uint64_t stall_ns = cmdline_u64("stall_ms", 5000) * NSEC_PER_MSEC;
    uint64_t report_ns = cmdline_u64("report_s", 60) * NSEC_PER_SEC;
    uint64_t rounds = 0, stalls = 0, events = 0, late_max = 0, bad_bytes = 0, lost = 0;
    evtchn_port_t port;

    if (!period)
        test_abort("period_ms=0");
    if (!test_eq(evtchn_bind_ipi(0, &port), 0, "bind_ipi"))
        return;
    event_channel_mask(port);           /* seen by its pending bit, no upcall */
    uint64_t start = system_time(), end = start + ms * NSEC_PER_MSEC;
    uint64_t next = start, last = start, next_report = start + report_ns;
    while (system_time() < end) {
        next += period * NSEC_PER_MSEC;
        sleep_until(next);
        uint64_t now = system_time();
        if (now > next && now - next > late_max)
            late_max = now - next;
        if (now - last > stall_ns) {
            stalls++;
            printk("steady: round %lu started %lu ms after the one before\n",
                   (unsigned long)rounds, (unsigned long)((now - last) / NSEC_PER_MSEC));
        }
        last = now;
        if (next < now)
            next = now;                 /* late: no burst of catch-up rounds */

        event_channel_clear(port);
        if (evtchn_send(port) == 0 && event_channel_pending(port))
            events++;
        else
            lost++;
        for (unsigned int i = 0; i < BUF_WORDS; i++)
            buf[i] = rounds * 0x9e3779b97f4a7c15ul + i;
        for (unsigned int i = 0; i < BUF_WORDS; i++)
            bad_bytes += buf[i] != rounds * 0x9e3779b97f4a7c15ul + i;
        rounds++;
        if (now >= next_report) {
            printk("steady: rounds=%lu late_max_ms=%lu stalls=%lu events=%lu\n",
                   (unsigned long)rounds, (unsigned long)(late_max / NSEC_PER_MSEC),
                   (unsigned long)stalls, (unsigned long)events);
            next_report += report_ns;
        }
    }
    printk("steady: rounds=%lu late_max_ms=%lu stalls=%lu events=%lu\n", (unsigned long)rounds,
           (unsigned long)(late_max / NSEC_PER_MSEC), (unsigned long)stalls,
           (unsigned long)events);
    test_eq(lost, 0, "events sent to itself that were not pending");
    test_eq(bad_bytes, 0, "words of the buffer that did not read back");
    test_eq(stalls, 0, "rounds that started more than stall_ms after the one before");
    test_ok(rounds * 1000 >= ms, "only %lu rounds in %lu ms (not one a second)",
            (unsigned long)rounds, (unsigned long)ms);
}
