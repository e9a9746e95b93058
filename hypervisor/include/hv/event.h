/* Event channels, 2-level ABI (common/event_channel.c).
 *
 * Ports are per domain (0 reserved, 1..max_evtchns-1 usable). A port is
 * FREE, UNBOUND (waiting for remote_domid to bind), INTERDOMAIN (linked to
 * a port of another domain, or of the same one), VIRQ or IPI. Sending sets
 * the pending bit in the receiver's shared_info; if the port is not masked
 * the selector bit and evtchn_upcall_pending of the notified vCPU are set
 * and that vCPU is kicked (woken if blocked, polled ports re-checked).
 *
 * Lock order: d->event_lock of the lower domid first when two domains'
 * locks are needed (bind_interdomain, close of an interdomain port).
 */
#ifndef HV_EVENT_H
#define HV_EVENT_H

#include "hv/domain.h"

#define EVTCHN_DEFAULT_MAX  1024      /* per-domain port limit (<= 4096) */

enum evtchn_state { ECS_FREE, ECS_RESERVED, ECS_UNBOUND, ECS_INTERDOMAIN, ECS_VIRQ, ECS_IPI };

struct evtchn {
    uint8_t state;
    uint8_t pad;
    uint16_t notify_vcpu;
    union {
        domid_t remote_domid;                     /* UNBOUND */
        struct { domid_t dom; uint32_t port; } interdomain;
        uint32_t virq;                            /* VIRQ */
    } u;
};

int evtchn_init(struct domain *d, unsigned int max_ports);
/* Close every port of d, and Domain 0's ports bound to d or waiting for it. */
void evtchn_destroy(struct domain *d);
/* Raise a VIRQ on a vCPU (per-vCPU VIRQs) or the domain (global ones). */
void send_virq(struct vcpu *v, unsigned int virq);
void send_global_virq(struct domain *d, unsigned int virq);
/* Mark port pending for d (used by the hypervisor and Domain 0). */
void evtchn_notify(struct domain *d, uint32_t port);
/* Wake v if it waits for events (blocked, or polling a now pending port). */
void vcpu_kick(struct vcpu *v);
/* Is any port in v's poll set pending? */
bool vcpu_poll_satisfied(struct vcpu *v);

/* A port of guest's own bound interdomain to a new port of backend, or to
 * the hypervisor (backend NULL, *backend_port 0). 0 or -ENOSPC. */
long evtchn_connect(struct domain *guest, struct domain *backend, uint32_t *guest_port,
                    uint32_t *backend_port);
/* Ports of d that are not free (port 0 excluded). */
unsigned int evtchn_ports_in_use(struct domain *d);

long do_event_channel_op(uint64_t cmd, uint64_t arg);
/* Run event-channel operation cmd for d on an argument already in
 * hypervisor memory (the control interface uses it for Domain 0). */
long evtchn_do(struct domain *d, unsigned int cmd, void *arg);

#endif
