/* Event channels, the 2-level ABI: pending and mask bitmaps in shared_info,
 * one selector bit per bitmap word in the notified vCPU's vcpu_info.
 *
 * Owns: the hypervisor's writes to shared_info->evtchn_pending and to the
 * vCPUs' evtchn_pending_sel (the guest owns evtchn_mask and clears
 * pending bits itself).
 * Invariants: a port's selector bit and evtchn_upcall_pending are set only
 * when the port becomes pending unmasked, or is unmasked while pending
 * (Xen's protocol); Domain 0, which has no vCPU in the machine, gets its
 * pending bits set and a doorbell kick instead.
 * Locking: called with d->event_lock held (see event_channel.c); the bits
 * themselves change with atomic operations only, because the guest
 * changes them concurrently. */
#include "hv/control.h"
#include "hv/event.h"

#define BITS_PER_WORD 64

static uint64_t port_bit(uint32_t port)
{
    return 1UL << (port % BITS_PER_WORD);
}

/* Select the port's word for v and raise the upcall, unless already. */
static void notify_word(struct vcpu *v, unsigned int word)
{
    if (!(__atomic_fetch_or(&v->vcpu_info->evtchn_pending_sel, 1UL << word,
                            __ATOMIC_SEQ_CST) & (1UL << word)))
        __atomic_store_n(&v->vcpu_info->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST);
}

static void evtchn_2l_set_pending(struct domain *d, struct vcpu *v, struct evtchn *ch,
                                  uint32_t port)
{
    struct shared_info *si = d->shared_info;
    unsigned int word = port / BITS_PER_WORD;
    (void)ch;

    if (__atomic_fetch_or(&si->evtchn_pending[word], port_bit(port), __ATOMIC_SEQ_CST) &
        port_bit(port))
        return;                         /* already pending: nothing new */
    if (!v) {
        /* Domain 0: the toolstack reads the bits through shared memory,
         * the doorbell tells it to look. */
        control_kick_dom0();
        return;
    }
    if (!(__atomic_load_n(&si->evtchn_mask[word], __ATOMIC_SEQ_CST) & port_bit(port)))
        notify_word(v, word);
    vcpu_kick(v);
}

static void evtchn_2l_clear_pending(struct domain *d, struct evtchn *ch, uint32_t port)
{
    (void)ch;
    __atomic_fetch_and(&d->shared_info->evtchn_pending[port / BITS_PER_WORD],
                       ~port_bit(port), __ATOMIC_SEQ_CST);
}

/* Clearing the mask of a pending port notifies, as if it were sent now. */
static void evtchn_2l_unmask(struct domain *d, struct vcpu *v, struct evtchn *ch, uint32_t port)
{
    struct shared_info *si = d->shared_info;
    unsigned int word = port / BITS_PER_WORD;
    (void)ch;

    if (!(__atomic_fetch_and(&si->evtchn_mask[word], ~port_bit(port), __ATOMIC_SEQ_CST) &
          port_bit(port)) || !v)
        return;
    if (__atomic_load_n(&si->evtchn_pending[word], __ATOMIC_SEQ_CST) & port_bit(port)) {
        notify_word(v, word);
        vcpu_kick(v);
    }
}

static bool evtchn_2l_is_pending(const struct domain *d, uint32_t port)
{
    if (port >= EVTCHN_DEFAULT_MAX)
        return false;
    return __atomic_load_n(&d->shared_info->evtchn_pending[port / BITS_PER_WORD],
                           __ATOMIC_ACQUIRE) & port_bit(port);
}

static bool evtchn_2l_is_busy(const struct domain *d, uint32_t port)
{
    (void)d;
    (void)port;
    return false;
}

const struct evtchn_port_ops evtchn_2l_ops = {
    .name = "2-level",
    .set_pending = evtchn_2l_set_pending,
    .clear_pending = evtchn_2l_clear_pending,
    .unmask = evtchn_2l_unmask,
    .is_pending = evtchn_2l_is_pending,
    .is_busy = evtchn_2l_is_busy,
    .set_priority = NULL,
};
