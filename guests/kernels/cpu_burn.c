/*
 * Test kernel: a CPU-bound domain for the scheduler tests.
 *
 * Cmdline `start=<ms> len=<ms> [vcpus=N]`: sleeps until system time
 * `start`, busy-loops until `start + len`, on N vCPUs (vCPUs 1.. brought
 * up with VCPUOP_initialise/up; a failure is a FAILURE). Each vCPU counts
 * its own running time from the TSC: the sum of the deltas between
 * consecutive rdtsc reads below GAP_NS (a longer gap is time it did not
 * run), converted with vcpu_time_info's mul/shift, and reads its
 * runstate time[running] at both edges. One line per vCPU:
 *   cpu-burn: vcpu=N window_ns=W tsc_running_ns=T runstate_running_ns=R gaps=G
 * (G: how many deltas were left out as gaps).
 * tests/guests/sched_test.sh turns those into CPU shares.
 */
#include "evtime.h"

const char test_name[] = "cpu_burn";

#define GAP_NS (50 * NSEC_PER_USEC)

static struct cpu_window win;
static struct cpu_usage usage[LIB_MAX_VCPUS];

static void burn(unsigned int id)
{
    uint64_t gap = ns_to_tsc(GAP_NS), ticks = 0, gaps = 0, prev, now;

    sleep_until(win.start_ns);
    cpu_usage_begin(&usage[id], id);
    prev = rdtsc();
    do {
        now = rdtsc();
        if (now - prev < gap)
            ticks += now - prev;
        else
            gaps++;
        prev = now;
    } while (system_time() < win.end_ns);
    cpu_usage_end(&usage[id], id, ticks);
    usage[id].gaps = gaps;
}

void test_main(void)
{
    uint64_t nr = cmdline_u64("vcpus", 1);

    cpu_window_from_cmdline(&win);
    if (!test_ok(nr >= 1 && nr <= LIB_MAX_VCPUS, "vcpus=%lu: 1..%u",
                 (unsigned long)nr, LIB_MAX_VCPUS))
        return;
    printk("cpu-burn: %lu vCPU(s), window %lu..%lu ms, TSC %lu kHz\n",
           (unsigned long)nr, (unsigned long)(win.start_ns / NSEC_PER_MSEC),
           (unsigned long)(win.end_ns / NSEC_PER_MSEC), (unsigned long)tsc_khz());
    for (unsigned int id = 1; id < nr; id++) {
        long rc = vcpu_start(id, burn);

        if (!test_eq(rc, 0, "VCPUOP_initialise + up of vCPU %u", id))
            return;
    }
    burn(0);
    for (unsigned int id = 1; id < nr; id++) {
        uint64_t give_up = win.end_ns + 10 * NSEC_PER_SEC;

        while (!vcpu_finished(id) && system_time() < give_up)
            sleep_until(system_time() + NSEC_PER_MSEC);
        if (!test_ok(vcpu_finished(id), "vCPU %u did not finish its window "
                     "10 s after its end", id))
            return;
    }
    for (unsigned int id = 0; id < nr; id++)
        cpu_usage_report("cpu-burn", id, &usage[id]);
}
