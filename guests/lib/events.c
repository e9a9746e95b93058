/*
 * Event masking helpers over the 2-level event channel ABI in shared_info:
 * the per-vCPU upcall mask and the per-port pending / mask bitmaps; once
 * the domain uses the FIFO ABI, the per-port ones work on event words.
 */
#include "evtime.h"

static vcpu_info_t *vcpu0(void)
{
    return &shared_info->vcpu_info[0];
}

void events_mask_all(void)
{
    vcpu0()->evtchn_upcall_mask = 1;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

bool events_masked(void)
{
    return vcpu0()->evtchn_upcall_mask != 0;
}

static void bit_set(volatile uint64_t *words, unsigned int bit)
{
    __atomic_fetch_or(&words[bit / 64], 1ull << (bit % 64), __ATOMIC_SEQ_CST);
}

static void bit_clear(volatile uint64_t *words, unsigned int bit)
{
    __atomic_fetch_and(&words[bit / 64], ~(1ull << (bit % 64)),
                       __ATOMIC_SEQ_CST);
}

void event_channel_mask(evtchn_port_t port)
{
    if (evtchn_fifo_active) {
        evtchn_fifo_mask(port);
        return;
    }
    bit_set(shared_info->evtchn_mask, port);
}

/* Clear the mask bit without asking the hypervisor to re-deliver. */
void event_channel_unmask_local(evtchn_port_t port)
{
    if (evtchn_fifo_active) {
        evtchn_fifo_unmask_local(port);
        return;
    }
    bit_clear(shared_info->evtchn_mask, port);
}

bool event_channel_pending(evtchn_port_t port)
{
    if (evtchn_fifo_active)
        return evtchn_fifo_test(port, EVTCHN_FIFO_PENDING);
    return (shared_info->evtchn_pending[port / 64] >> (port % 64)) & 1;
}

void event_channel_clear(evtchn_port_t port)
{
    if (evtchn_fifo_active) {
        evtchn_fifo_clear(port);
        return;
    }
    bit_clear(shared_info->evtchn_pending, port);
}
