/* Batched hypercalls and their continuations (common/batch.c).
 *
 * Every hypercall that works through a guest array of requests
 * (mmu_update, mmuext_op, multicall, memory_op's extent lists,
 * grant_table_op's map/unmap/unmap_and_replace/copy) runs it through
 * batch_run(): copy one element in, run its typed handler, copy its
 * results out, and every BATCH_CHECK_EVERY elements stop when the CPU has
 * other work (an interrupt waiting, a reschedule asked for). The caller
 * then encodes how far it got in its own arguments, exactly as Xen 4.17
 * does, with hypercall_continue(): the guest re-executes the hypercall
 * instruction with those arguments, after the interrupt has been taken
 * and whatever it woke has run. Inside a multicall the continuation goes
 * into the multicall entry instead, and the multicall itself continues
 * from that entry. */
#ifndef HV_BATCH_H
#define HV_BATCH_H

#include "hv/types.h"

/* Elements run between two looks for pending work. */
#define BATCH_CHECK_EVERY 16
/* Largest element (a multicall entry). */
#define BATCH_ELEM_MAX 64

struct batch_ops {
    size_t size;                    /* of one element in the guest array */
    bool copy_in;                   /* read the element before running it */
    size_t out_offset, out_size;    /* copied back after it ran (0: nothing) */
    /* Run one element (elem: the copy; at: its guest address). 0 goes on;
     * anything else stops the batch at this element with that value
     * (-ERESTART: stop here, the element to be run again). */
    long (*run)(void *ctx, void *elem, uint64_t at);
};

/* Run elements [*i, count) of the guest array at base. Base 0 is no
 * array (nothing copied) only for a batch that does not copy_in, as Xen's
 * NULL increase_reservation list; for any other it is guest address 0,
 * read (and normally faulting) like any other. Returns 0 when all ran,
 * the handler's value when it stopped the batch, -EFAULT when an element
 * could not be copied in or out, or -ERESTART when other work is pending; *i is then the element
 * that stopped it (the first not done). At least one element runs before
 * a preemption, so a continuation always makes progress. */
long batch_run(const struct batch_ops *ops, void *ctx, uint64_t base, uint64_t *i,
               uint64_t count);

/* Does this CPU have something better to do (Xen's
 * hypercall_preempt_check)? An interrupt waiting or a reschedule asked
 * for. */
bool hypercall_preempt_check(void);
/* An interrupt is waiting: what background work (domain teardown) stops
 * for; it runs from the scheduler, where a reschedule is always asked. */
bool interrupt_pending(void);

/* Make the current hypercall run again with args (nargs of them, the
 * others unchanged) when the guest resumes; returns the value the
 * hypercall handler must return (the hypercall number, left in rax). */
long hypercall_continue(unsigned int nr, unsigned int nargs, const uint64_t *args);

/* multicall's bracket around one entry (args: the entry's): end says
 * whether the entry's hypercall made a continuation and, if so, the
 * arguments to run it again with. */
void multicall_entry_begin(const uint64_t args[6]);
bool multicall_entry_end(uint64_t args[6]);

#endif
