/* Batched hypercalls: the one loop over a guest array of requests (see
 * hv/batch.h; the check for pending work and the continuations are
 * arch/x86_64/pv/continuation.c's).
 *
 * Owns: batch_run.
 * Invariants: at least one element runs per call, so every continuation
 * makes progress; an element is copied in whole before its handler runs
 * and its results are copied out before the next one is read.
 * Locking: none; callers hold no lock across batch_run (handlers take
 * their own per element). */
#include "hv/batch.h"
#include "hv/errno.h"
#include "hv/guest_access.h"
#include "hv/lib.h"
#include "hv/printk.h"

long batch_run(const struct batch_ops *ops, void *ctx, uint64_t base, uint64_t *i,
               uint64_t count)
{
    uint64_t elem[BATCH_ELEM_MAX / sizeof(uint64_t)];
    const uint64_t first = *i;

    BUG_ON(ops->size > sizeof(elem) || ops->out_offset + ops->out_size > ops->size);
    for (; *i < count; (*i)++) {
        if (*i != first && (*i - first) % BATCH_CHECK_EVERY == 0 && hypercall_preempt_check())
            return -ERESTART;
        uint64_t at = base ? base + *i * ops->size : 0;
        if (at && ops->copy_in && copy_from_guest(elem, at, ops->size))
            return -EFAULT;
        long rc = ops->run(ctx, elem, at);
        if (rc)
            return rc;
        if (at && ops->out_size &&
            copy_to_guest(at + ops->out_offset, (uint8_t *)elem + ops->out_offset,
                          ops->out_size))
            return -EFAULT;
    }
    return 0;
}

