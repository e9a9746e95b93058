/*
 * Test kernel: a mostly blocked domain for the scheduler tests.
 *
 * Cmdline `start=<ms> len=<ms>`: over that window of system time it
 * blocks (SCHEDOP_block) on a 100 ms one-shot timer (VIRQ_TIMER), again
 * and again. Its TSC-based running time is the sum of the stretches from
 * each wake-up back to the next block; it reports the same line as
 * cpu_burn (`blocker: vcpu=0 window_ns=... tsc_running_ns=...
 * runstate_running_ns=...`) plus the number of wake-ups, which must match
 * the timer (len / 100 ms, give or take one).
 */
#include "evtime.h"

const char test_name[] = "blocker";

#define TICK_NS (100 * NSEC_PER_MSEC)

static volatile unsigned int fired;

static void on_timer(evtchn_port_t port, void *arg)
{
    (void)port;
    (void)arg;
    fired++;
}

void test_main(void)
{
    struct cpu_window win;
    struct cpu_usage u;
    evtchn_port_t port;
    uint64_t ticks = 0, awake, expect;
    unsigned int wakeups = 0;

    cpu_window_from_cmdline(&win);
    evtchn_upcall_init();
    test_eq(hypercall_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL), 0,
            "stop the default periodic timer");
    if (!test_eq(evtchn_bind_virq(VIRQ_TIMER, 0, &port), 0, "bind VIRQ_TIMER"))
        return;
    evtchn_set_handler(port, on_timer, NULL);
    sleep_until(win.start_ns);

    cpu_usage_begin(&u, 0);
    awake = rdtsc();
    while (system_time() < win.end_ns) {
        uint64_t next = system_time() + TICK_NS;
        unsigned int before = fired;

        if (next > win.end_ns)
            next = win.end_ns;
        if (!test_eq(hypercall_set_timer_op(next), 0, "set_timer_op"))
            return;
        ticks += rdtsc() - awake;
        while (fired == before)
            event_block();
        awake = rdtsc();
        wakeups++;
    }
    ticks += rdtsc() - awake;
    cpu_usage_end(&u, 0, ticks);
    u.gaps = wakeups;
    cpu_usage_report("blocker", 0, &u);
    expect = (win.end_ns - win.start_ns + TICK_NS - 1) / TICK_NS;
    printk("blocker: %u wake-ups (timer every 100 ms: %lu expected)\n", wakeups,
           (unsigned long)expect);
    test_ok(wakeups + 1 >= expect && wakeups <= expect + 1,
            "%u wake-ups in the window, expected %lu", wakeups,
            (unsigned long)expect);
}
