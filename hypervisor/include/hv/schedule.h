/* vCPU scheduling (common/schedule.c).
 *
 * Round-robin over runnable vCPUs with a time slice enforced by the
 * per-CPU periodic timer; the credit scheduler with weights and caps
 * replaces the policy in its own file later. The hypervisor is not
 * preemptible: scheduling happens on the way back to a guest and in the
 * idle loop. */
#ifndef HV_SCHEDULE_H
#define HV_SCHEDULE_H

#include "hv/domain.h"

#define SCHED_TICK_HZ   100

void sched_init(void);
/* Make a vCPU eligible to run / take it off the run queue. */
void vcpu_wake(struct vcpu *v);
void vcpu_sleep(struct vcpu *v);
/* Timer tick: account and ask for a reschedule at the end of the slice. */
void sched_tick(void);
/* Ask this CPU to pick again before returning to a guest. */
void sched_request(void);
static inline bool vcpu_can_run(const struct vcpu *v)
{
    return v->state == VCPU_RUNNABLE && v->domain->state == DOM_RUNNING;
}

/* Must this CPU pick again before returning to a guest? Inline: it is
 * checked on every exit to a guest. */
static inline bool sched_pending(void)
{
    struct percpu *pc = this_cpu();
    return pc->need_resched || !pc->curr || !vcpu_can_run(pc->curr);
}
/* Pick the next vCPU and switch to it; goes idle (never returns) if there
 * is none. Called with interrupts off on the way to a guest. */
void schedule(void);
/* The idle loop: halts until something is runnable. */
void idle_loop(void) __noreturn;

long do_sched_op(uint64_t cmd, uint64_t arg);

#endif
