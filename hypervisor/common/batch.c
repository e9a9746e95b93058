/* Batched hypercalls: the one loop over a guest array of requests (see
 * hv/batch.h; the check for pending work and the continuations are
 * arch/x86_64/pv/continuation.c's).
 *
 * Owns: batch_run.
 * Invariants: at least one element runs per call, so every continuation
 * makes progress; an element is copied in whole before its handler runs
 * (a batch that reads its elements never runs one it could not copy, even
 * from a list at 0: the handler would get this stack's leftovers) and its
 * results are copied out before the next one is read.
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
    /* Only a batch that reads nothing may lack an array (base 0): for one
     * that reads its elements 0 is an address like any other, read and
     * failing there as Xen's copy_from_guest of a NULL handle, so elem is
     * never run uncopied (it would hold this stack's leftovers). */
    const bool listed = base || ops->copy_in;

    BUG_ON(ops->size > sizeof(elem) || ops->out_offset + ops->out_size > ops->size);
    for (; *i < count; (*i)++) {
        if (*i != first && (*i - first) % BATCH_CHECK_EVERY == 0 && hypercall_preempt_check())
            return -ERESTART;
        uint64_t at = listed ? base + *i * ops->size : 0;
        if (ops->copy_in && copy_from_guest(elem, at, ops->size))
            return -EFAULT;
        long rc = ops->run(ctx, elem, at);
        if (rc)
            return rc;
        if (listed && ops->out_size &&
            copy_to_guest(at + ops->out_offset, (uint8_t *)elem + ops->out_offset,
                          ops->out_size))
            return -EFAULT;
    }
    return 0;
}

