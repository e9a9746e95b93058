/* Operations pvcore does not implement: -ENOSYS, logged once.
 *
 * Owns: the per-domain record of which unimplemented hypercalls and
 * sub-operations have been logged (d->unimpl_logged), so that each
 * (hypercall, sub-op) pair a guest tries shows up once in the log with
 * its numbers, and a guest looping on one cannot flood the console. The
 * record holds UNIMPL_LOG_MAX pairs; the message that fills it says that
 * nothing further will be logged for the domain.
 * Keys: hypercall number (capped at 255) in bits 24-31, the sub-op
 * (capped at 0xfffffe; 0xffffff = the hypercall itself) below.
 * Locking: d->unimpl_lock, a leaf lock; never taken in interrupt context. */
#include "hv/domain.h"
#include "hv/errno.h"
#include "hv/hypercall.h"
#include "hv/printk.h"

static uint32_t unimpl_key(unsigned long nr, uint64_t subop)
{
    uint32_t sub = subop == HC_NO_SUBOP ? 0xffffffu : (uint32_t)MIN(subop, 0xfffffeUL);
    return ((uint32_t)MIN(nr, 0xffUL) << 24) | sub;
}

/* Record key for d; returns whether it is new, and whether it filled the
 * record (*full). */
static bool unimpl_record(struct domain *d, uint32_t key, bool *full)
{
    bool fresh = true;

    spin_lock(&d->unimpl_lock);
    for (unsigned int i = 0; i < d->nr_unimpl_logged && fresh; i++)
        fresh = d->unimpl_logged[i] != key;
    if (fresh && d->nr_unimpl_logged == UNIMPL_LOG_MAX)
        fresh = false;
    if (fresh)
        d->unimpl_logged[d->nr_unimpl_logged++] = key;
    *full = d->nr_unimpl_logged == UNIMPL_LOG_MAX;
    spin_unlock(&d->unimpl_lock);
    return fresh;
}

long hypercall_unimplemented(unsigned long nr, uint64_t subop)
{
    struct vcpu *v = current;
    bool full;

    if (!v || !unimpl_record(v->domain, unimpl_key(nr, subop), &full))
        return -ENOSYS;
    struct domain *d = v->domain;
    const char *more = full ? " (record full: nothing further logged for this domain)" : "";
    if (subop == HC_NO_SUBOP)
        pr_info("domain %u (%s): unimplemented hypercall %lu -> -ENOSYS%s", d->id, d->name,
                nr, more);
    else
        pr_info("domain %u (%s): unimplemented hypercall %lu sub-operation %lu -> -ENOSYS%s",
                d->id, d->name, nr, (unsigned long)subop, more);
    return -ENOSYS;
}
