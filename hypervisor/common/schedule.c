/* vCPU scheduling mechanism: switching, idling, accounting, sched_op.
 *
 * Owns: the per-CPU need_resched flag and time slice, CPU-time accounting
 * (v->cpu_time_ns, from the scheduler's own clock), and when a CPU calls
 * into the policy (common/sched_credit.c), which owns the run queues.
 * A vCPU may run iff it is RUNNABLE and its domain is running; it is on a
 * run queue iff it may run and is not loaded on a CPU.
 * Locking: the policy's run queue locks; this file holds none itself.
 * The hypervisor is not preemptible: scheduling happens on the way back to
 * a guest and in the idle loop, with interrupts off. */
#include <public/sched.h>
#include "asm/cpu.h"
#include "asm/percpu.h"
#include "hv/bootdomains.h"
#include "hv/guest_access.h"
#include "hv/hypercall.h"
#include "hv/lib.h"
#include "hv/printk.h"
#include "hv/pv.h"
#include "hv/sched_credit.h"
#include "hv/schedule.h"
#include "hv/smp.h"
#include "hv/time.h"
#include "hv/timer.h"

void sched_init(void)
{
    csched_init();
}


void vcpu_wake(struct vcpu *v)
{
    if (v->state == VCPU_BLOCKED)
        v->state = VCPU_RUNNABLE;
    /* Pairs with the fence in schedule() after unloading prev: either
     * that CPU sees v runnable, or we see v unloaded; v gets queued. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (vcpu_can_run(v) && !v->on_runq && v->processor < 0)
        csched_insert(v);
}

void vcpu_sleep(struct vcpu *v)
{
    csched_remove(v);
    int cpu = v->processor;
    if (cpu >= 0)
        smp_send_resched((unsigned int)cpu);
}

void sched_request(void)
{
    this_cpu()->need_resched = true;
}

/* Charge the running vCPU for the time since it was last charged. */
static void account_current(struct percpu *pc, uint64_t now)
{
    struct vcpu *v = pc->curr;
    if (!v || now <= v->last_start_ns)
        return;
    uint64_t ran = now - v->last_start_ns;
    v->cpu_time_ns += ran;
    v->last_start_ns = now;
    csched_burn(v, ran, now);
}

void sched_tick(void)
{
    struct percpu *pc = this_cpu();
    uint64_t now = now_ns();

    if (pc->curr) {
        account_current(pc, now);
        if (now >= pc->slice_end_ns || csched_should_preempt(pc->id, pc->curr, now))
            pc->need_resched = true;
    } else if (csched_has_work(pc->id, now)) {
        pc->need_resched = true;
    }
}

/* Leave the current stack and run the idle loop on a fresh one. */
static void __noreturn go_idle(void)
{
    uintptr_t top = (uintptr_t)get_cpu_info() & ~0xfUL;
    __asm__ volatile("movq %0, %%rsp\n\t"
                     "xorl %%ebp, %%ebp\n\t"
                     "jmp idle_loop" :: "r"(top) : "memory");
    __builtin_unreachable();
}

void schedule(void)
{
    struct percpu *pc = this_cpu();
    struct vcpu *prev = pc->curr;
    uint64_t now = now_ns();
    uint64_t slice = MAX_SLICE_NS;

    if (pc->id == 0)
        domains_reap();             /* also drains the guests' console rings */
    account_current(pc, now);
    pc->need_resched = false;

    struct vcpu *next = csched_pick(pc->id, prev && vcpu_can_run(prev) ? prev : NULL,
                                    now, &slice);
    pc->slice_end_ns = now + slice;
    if (next && next == prev) {
        timers_reprogram();
        return;
    }
    if (prev) {
        context_switch(prev, NULL);
        /* prev is no longer loaded: queue it again if it may still run. */
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (vcpu_can_run(prev) && !prev->on_runq)
            csched_insert(prev);
    }
    if (!next)
        go_idle();
    context_switch(NULL, next);
    /* Charged from here: the switch itself is the hypervisor's time. */
    next->last_start_ns = now_ns();
    timers_reprogram();
}

void idle_loop(void)
{
    for (;;) {
        local_irq_disable();
        /* A destruction in progress goes on while there is nothing else
         * to do, interrupts taken between its steps. */
        bool tearing_down = this_cpu()->id == 0 && domains_reap();
        if (csched_has_work(this_cpu()->id, now_ns())) {
            schedule();             /* goes idle again if nothing was taken */
            return_to_guest();
        }
        if (this_cpu()->id == 0)
            boot_domains_check_done();
        timers_reprogram();
        if (tearing_down) {
            local_irq_enable();
            cpu_relax();
        } else {
            safe_halt();
        }
    }
}

long do_sched_op(uint64_t cmd, uint64_t arg)
{
    struct vcpu *v = current;
    struct domain *d = v->domain;

    switch (cmd) {
    case SCHEDOP_yield:
        sched_request();
        return 0;

    case SCHEDOP_block:
        /* Blocking re-enables event delivery; a pending event means the
         * vCPU does not block at all. */
        v->vcpu_info->evtchn_upcall_mask = 0;
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (v->vcpu_info->evtchn_upcall_pending)
            return 0;
        v->state = VCPU_BLOCKED;
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (v->vcpu_info->evtchn_upcall_pending) {   /* raced with a sender */
            v->state = VCPU_RUNNABLE;
            return 0;
        }
        sched_request();
        return 0;

    case SCHEDOP_shutdown:
    case SCHEDOP_shutdown_code: {
        struct sched_shutdown s;
        if (copy_from_guest(&s, arg, sizeof(s)))
            return -EFAULT;
        if (s.reason > SHUTDOWN_MAX)
            return -EINVAL;
        if (cmd == SCHEDOP_shutdown_code) {
            if (d->shutdown_code == SHUTDOWN_CODE_NONE)
                d->shutdown_code = s.reason;
            return 0;
        }
        domain_shutdown(d, s.reason);
        return 0;
    }

    case SCHEDOP_poll:
        return sched_poll(v, arg);

    default:
        return hypercall_unimplemented(__HYPERVISOR_sched_op, cmd);
    }
}
