/* Domain state: every change of d->state after creation.
 *
 * Owns: d->state once the domain is published (domain.c sets the first
 * state while nobody can find the domain yet), d->shutdown_reason,
 * d->destroy_requested, the vCPUs' VCPU_PAUSED hold, and the count of
 * destructions asked for (domains_destroy_pending). Control operations
 * (common/control.c), guests (SCHEDOP_shutdown, crashes) and the boot-
 * domain reaper change a domain's state only through these functions.
 * Invariants:
 *  - d->state is written here only, under d->lock, in the same critical
 *    section as the check of the state that allows the change: a pause or
 *    an unpause racing a shutdown cannot bring a shut-down domain back
 *    (tests/unit/domain/test_domain_state.c races them on host threads).
 *    Changes others make that depend on the state run under d->lock
 *    (domain_while_state); a bare read elsewhere is a snapshot, for a
 *    report or of DOM_SHUTDOWN/DOM_DEAD, which do not go back;
 *  - DOM_SHUTDOWN leads only to DOM_DEAD, which is final; pause and
 *    unpause refuse both (-EBUSY). A shut-down domain's vCPUs are off the
 *    run queues and VCPU_PAUSED (domain_request_destroy leaves one never
 *    brought up VCPU_DOWN); its shutdown_reason is the code the guest
 *    recorded (SCHEDOP_shutdown_code), else the first reason given;
 *  - DOM_DEAD is set once (domain_set_dead, the first step of
 *    domain_destroy_step), before anything is released;
 *  - a domain counts in nr_destroy_pending from its first
 *    domain_request_destroy until domain_destroy_finished.
 * Locking: d->lock, then the scheduler's run queue locks (vcpu_sleep,
 * vcpu_wake); domain_while_state's fn runs under d->lock and may take what
 * hv/domain.h orders after it. Nothing here sleeps or takes another
 * domain's lock. */
#include <public/sched.h>
#include "hv/domain.h"
#include "hv/errno.h"
#include "hv/lib.h"
#include "hv/printk.h"
#include "hv/schedule.h"
#include "hv/timer.h"

static unsigned int nr_destroy_pending;     /* atomic */

unsigned int domains_destroy_pending(void)
{
    return __atomic_load_n(&nr_destroy_pending, __ATOMIC_RELAXED);
}

void domain_request_destroy(struct domain *d)
{
    uint64_t f = spin_lock_irqsave(&d->lock);
    if (d->state == DOM_DEAD) {
        spin_unlock_irqrestore(&d->lock, f);
        return;
    }
    if (!d->destroy_requested)
        __atomic_fetch_add(&nr_destroy_pending, 1, __ATOMIC_RELAXED);
    d->destroy_requested = true;
    d->state = DOM_SHUTDOWN;
    for (unsigned int i = 0; i < d->nr_vcpus; i++) {
        vcpu_sleep(d->vcpus[i]);
        if (d->vcpus[i]->state != VCPU_DOWN)
            d->vcpus[i]->state = VCPU_PAUSED;
    }
    spin_unlock_irqrestore(&d->lock, f);
    pr_info("domain %u (%s): destroy requested", d->id, d->name);
    sched_request();
}

void domain_shutdown(struct domain *d, unsigned int reason)
{
    uint64_t f = spin_lock_irqsave(&d->lock);
    if (d->state == DOM_SHUTDOWN || d->state == DOM_DEAD) {
        spin_unlock_irqrestore(&d->lock, f);
        return;
    }
    /* A code recorded with SCHEDOP_shutdown_code wins over the reason given
     * now, as in Xen (a guest can record poweroff before a crash path). */
    if (d->shutdown_code == SHUTDOWN_CODE_NONE)
        d->shutdown_code = reason;
    reason = d->shutdown_code;
    d->state = DOM_SHUTDOWN;
    d->shutdown_reason = reason;
    for (unsigned int i = 0; i < d->nr_vcpus; i++) {
        vcpu_sleep(d->vcpus[i]);
        d->vcpus[i]->state = VCPU_PAUSED;
    }
    spin_unlock_irqrestore(&d->lock, f);
    pr_info("domain %u (%s): shut down: %s", d->id, d->name, shutdown_reason_name(reason));
    sched_request();
}

int domain_unpause(struct domain *d)
{
    uint64_t f = spin_lock_irqsave(&d->lock);
    int rc = 0;
    if (d->state != DOM_BUILDING && d->state != DOM_PAUSED)
        rc = d->state == DOM_RUNNING ? -EALREADY : -EBUSY;
    else if (d->state == DOM_BUILDING &&
             (!d->nr_vcpus || !d->vcpus[0]->initialised || d->unpopulated))
        rc = -EINVAL;                   /* nothing to run yet, or not all its memory */
    if (rc) {
        spin_unlock_irqrestore(&d->lock, f);
        return rc;
    }
    d->state = DOM_RUNNING;
    for (unsigned int i = 0; i < d->nr_vcpus; i++) {
        struct vcpu *v = d->vcpus[i];
        if (i == 0 && v->state == VCPU_DOWN && v->initialised)
            v->state = VCPU_RUNNABLE;
        if (v->state == VCPU_RUNNABLE)
            vcpu_wake(v);
    }
    spin_unlock_irqrestore(&d->lock, f);
    timers_domain_runs(d);              /* deadlines set while it was paused */
    return 0;
}

int domain_pause(struct domain *d)
{
    uint64_t f = spin_lock_irqsave(&d->lock);
    int rc = 0;
    if (d->state != DOM_RUNNING) {
        rc = d->state == DOM_PAUSED ? -EALREADY : -EBUSY;
    } else {
        d->state = DOM_PAUSED;
        for (unsigned int i = 0; i < d->nr_vcpus; i++)
            vcpu_sleep(d->vcpus[i]);
    }
    spin_unlock_irqrestore(&d->lock, f);
    return rc;
}

long domain_while_state(struct domain *d, unsigned int states,
                        long (*fn)(struct domain *, const void *), const void *arg)
{
    uint64_t f = spin_lock_irqsave(&d->lock);
    long rc = states & DOMS(d->state) ? fn(d, arg) : -EBUSY;
    spin_unlock_irqrestore(&d->lock, f);
    return rc;
}

void domain_crash(struct domain *d, const char *fmt, ...)
{
    char why[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    pr_warn("domain %u (%s) crashed: %s", d->id, d->name, why);
    domain_shutdown(d, SHUTDOWN_crash);
}

void domain_set_dead(struct domain *d)
{
    uint64_t f = spin_lock_irqsave(&d->lock);
    BUG_ON(d->state == DOM_DEAD);       /* destroyed twice */
    d->state = DOM_DEAD;
    spin_unlock_irqrestore(&d->lock, f);
}

void domain_destroy_finished(struct domain *d)
{
    if (d->destroy_requested)
        __atomic_fetch_sub(&nr_destroy_pending, 1, __ATOMIC_RELAXED);
}
