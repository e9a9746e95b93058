/*
 * CPU-time windows for the scheduling kernels (cpu_burn, blocker): the
 * window from the command line, the hypervisor's runstate accounting at
 * its edges, and the one-line report (see evtime.h).
 */
#include "evtime.h"

void cpu_window_from_cmdline(struct cpu_window *w)
{
    uint64_t start = cmdline_u64("start", 2000), len = cmdline_u64("len", 5000);

    w->start_ns = start * NSEC_PER_MSEC;
    w->end_ns = (start + len) * NSEC_PER_MSEC;
    if (!test_ok(len > 0 && system_time() < w->start_ns,
                 "window start=%lu len=%lu ms: booted at %lu ms, after its start",
                 (unsigned long)start, (unsigned long)len,
                 (unsigned long)(system_time() / NSEC_PER_MSEC)))
        test_abort("cannot measure the window");
}

static uint64_t runstate_running(unsigned int vcpu)
{
    struct vcpu_runstate_info rs;
    long rc = vcpu_runstate(vcpu, &rs);

    if (rc)
        test_abort("VCPUOP_get_runstate_info of vCPU %u: %ld", vcpu, rc);
    return rs.time[RUNSTATE_running];
}

void cpu_usage_begin(struct cpu_usage *u, unsigned int vcpu)
{
    /* the runstate readings inside the window's edges: the hypervisor's
     * count then covers no more time than the window (read the other way
     * round it also covered the two hypercalls, and a lone burner came to
     * 100.01-100.02 % of a CPU under TCG) */
    u->t0 = system_time();
    u->rs0 = runstate_running(vcpu);
}

void cpu_usage_end(struct cpu_usage *u, unsigned int vcpu, uint64_t tsc_ticks)
{
    uint64_t rs1 = runstate_running(vcpu), t1 = system_time();

    u->window_ns = t1 - u->t0;
    u->tsc_running_ns = tsc_to_ns(tsc_ticks);
    test_ok(rs1 >= u->rs0, "vCPU %u: runstate running time went back from "
            "%lu to %lu ns", vcpu, (unsigned long)u->rs0, (unsigned long)rs1);
    u->runstate_running_ns = rs1 - u->rs0;
    test_ok(u->tsc_running_ns <= u->window_ns,
            "vCPU %u: TSC running time %lu ns exceeds the window %lu ns", vcpu,
            (unsigned long)u->tsc_running_ns, (unsigned long)u->window_ns);
}

void cpu_usage_report(const char *tag, unsigned int vcpu,
                      const struct cpu_usage *u)
{
    printk("%s: vcpu=%u window_ns=%lu tsc_running_ns=%lu runstate_running_ns=%lu "
           "gaps=%lu\n", tag, vcpu, (unsigned long)u->window_ns,
           (unsigned long)u->tsc_running_ns,
           (unsigned long)u->runstate_running_ns, (unsigned long)u->gaps);
}
