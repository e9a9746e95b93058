/* The credit scheduler's policy (common/sched_credit.c); the mechanism
 * (switching, idling, accounting hooks) is common/schedule.c.
 *
 * Credits: every vCPU holds credit in weighted nanoseconds. Running burns
 * it at a rate inversely proportional to the vCPU's weight (its domain's
 * weight split across the domain's online vCPUs); a CPU runs its queued
 * vCPU with the most credit; when the best has none left, every vCPU on
 * that CPU gets CREDIT_INIT more (at most CREDIT_INIT in total). Under
 * contention CPU time therefore follows the weights; with one runnable
 * vCPU it simply runs (work-conserving). A vCPU waking from block keeps
 * the credit it did not use, so it runs ahead of busy ones (the boost) and
 * preempts the current one if it has more credit.
 * Caps: a capped domain may run cap% of one CPU per CAP_PERIOD_NS, summed
 * over its vCPUs; when the budget is gone they are parked until the next
 * period.
 * Run queues are per CPU; an idle CPU steals waiting vCPUs, and a CPU with
 * less queued weight than another takes one over when that narrows the
 * difference.
 * Lock order: runq locks of two CPUs lower id first; leaf locks. */
#ifndef HV_SCHED_CREDIT_H
#define HV_SCHED_CREDIT_H

#include "hv/domain.h"

#define CREDIT_INIT_NS  (10 * 1000000LL)
#define CAP_PERIOD_NS   (10 * 1000000ULL)
#define MAX_SLICE_NS    (10 * 1000000ULL)
#define MIN_SLICE_NS    (2 * 1000000ULL)

void csched_init(void);
/* v became runnable and is not loaded anywhere: queue it and tickle. */
void csched_insert(struct vcpu *v);
/* Take v off its run queue if it is on one. */
void csched_remove(struct vcpu *v);
/* v ran for ns: burn its credit and its domain's cap budget. */
void csched_burn(struct vcpu *v, uint64_t ns, uint64_t now);
/* Pick what CPU cpu runs next; prev (still loaded, may be NULL) competes
 * if it can run. Sets *slice. NULL: nothing, go idle. */
struct vcpu *csched_pick(unsigned int cpu, struct vcpu *prev, uint64_t now, uint64_t *slice);
/* Is there anything this CPU could run (own queue, or stealable)? */
bool csched_has_work(unsigned int cpu, uint64_t now);
/* Should the running vCPU give way now (someone queued has more credit)? */
bool csched_should_preempt(unsigned int cpu, struct vcpu *curr, uint64_t now);
/* Weight 1-65535, cap 0 (none) - 100 * vCPUs. */
int csched_set_params(struct domain *d, unsigned int weight, unsigned int cap);

#endif
