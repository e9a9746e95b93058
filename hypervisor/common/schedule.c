/* vCPU scheduling: who runs next, and the idle loop.
 *
 * Owns: the run queue (runnable vCPUs not currently loaded on a CPU), the
 * per-CPU need_resched flag and time slice, CPU-time accounting.
 * Policy: round robin with a SLICE_NS time slice (the credit scheduler of
 * the scheduling issue replaces this file's policy, not its interface).
 * A vCPU is on the run queue iff it is RUNNABLE, its domain is running and
 * it is not loaded on a CPU.
 * Locking: runq_lock (irq-safe) around the run queue; a leaf lock. */
#include <public/sched.h>
#include "asm/cpu.h"
#include "asm/percpu.h"
#include "hv/bootdomains.h"
#include "hv/guest_access.h"
#include "hv/lib.h"
#include "hv/printk.h"
#include "hv/pv.h"
#include "hv/schedule.h"
#include "hv/time.h"
#include "hv/timer.h"

#define SLICE_NS (10 * NSEC_PER_MSEC)

static spinlock_t runq_lock = SPINLOCK_INIT;
static struct list_head runq;

void sched_init(void)
{
    list_init(&runq);
}

static bool vcpu_can_run(const struct vcpu *v)
{
    return v->state == VCPU_RUNNABLE && v->domain->state == DOM_RUNNING;
}

/* Queue v if it may run and is neither queued nor loaded. */
static void runq_insert(struct vcpu *v)
{
    uint64_t f = spin_lock_irqsave(&runq_lock);
    if (vcpu_can_run(v) && !v->on_runq && v->processor < 0) {
        list_add_tail(&v->runq_link, &runq);
        v->on_runq = true;
    }
    spin_unlock_irqrestore(&runq_lock, f);
}

void vcpu_wake(struct vcpu *v)
{
    if (v->state == VCPU_BLOCKED || v->state == VCPU_DOWN)
        v->state = VCPU_RUNNABLE;
    runq_insert(v);
}

void vcpu_sleep(struct vcpu *v)
{
    uint64_t f = spin_lock_irqsave(&runq_lock);
    if (v->on_runq) {
        list_del(&v->runq_link);
        v->on_runq = false;
    }
    spin_unlock_irqrestore(&runq_lock, f);
    if (v->processor >= 0)
        percpu[v->processor].need_resched = true;
}

void sched_request(void)
{
    this_cpu()->need_resched = true;
}

bool sched_pending(void)
{
    struct percpu *pc = this_cpu();
    return pc->need_resched || !pc->curr || !vcpu_can_run(pc->curr);
}

void sched_tick(void)
{
    struct percpu *pc = this_cpu();
    if (pc->curr && now_ns() >= pc->slice_end_ns)
        pc->need_resched = true;
}

static struct vcpu *runq_pop(void)
{
    struct vcpu *next = NULL;
    uint64_t f = spin_lock_irqsave(&runq_lock);
    while (!list_empty(&runq)) {
        struct vcpu *v = list_entry(runq.next, struct vcpu, runq_link);
        list_del(&v->runq_link);
        v->on_runq = false;
        if (vcpu_can_run(v)) {
            next = v;
            break;
        }
    }
    spin_unlock_irqrestore(&runq_lock, f);
    return next;
}

static bool runq_empty(void)
{
    uint64_t f = spin_lock_irqsave(&runq_lock);
    bool e = list_empty(&runq);
    spin_unlock_irqrestore(&runq_lock, f);
    return e;
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

    domains_reap();             /* also drains the guests' console rings */
    if (prev) {
        prev->cpu_time_ns += now - prev->last_start_ns;
        prev->last_start_ns = now;
    }
    struct vcpu *next = runq_pop();
    pc->need_resched = false;

    if (!next && prev && vcpu_can_run(prev)) {
        pc->slice_end_ns = now + SLICE_NS;      /* nobody else wants the CPU */
        timers_reprogram();
        return;
    }
    if (prev && next != prev) {
        context_switch(prev, NULL);
        /* prev is no longer loaded: requeue it if it may still run. */
        runq_insert(prev);
        domains_reap();
    }
    if (!next)
        go_idle();
    if (next != prev)
        context_switch(NULL, next);
    next->last_start_ns = now;
    pc->slice_end_ns = now + SLICE_NS;
    timers_reprogram();
}

void idle_loop(void)
{
    for (;;) {
        local_irq_disable();
        domains_reap();
        if (!runq_empty()) {
            schedule();
            return_to_guest();
        }
        boot_domains_check_done();
        timers_reprogram();
        safe_halt();
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
        vcpu_sleep(v);
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
        return -ENOSYS;
    }
}
