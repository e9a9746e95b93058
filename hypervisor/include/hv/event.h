/* Event channels (common/event_channel.c: ports and operations;
 * common/evtchn_2l.c: the 2-level ABI; common/evtchn_fifo.c: the FIFO ABI).
 *
 * Ports are per domain (0 reserved, 1..max_evtchns-1 usable). A port is
 * FREE, UNBOUND (waiting for remote_domid to bind), INTERDOMAIN (linked to
 * a port of another domain, or of the same one), VIRQ or IPI. The port
 * logic (binding, closing, sending, status) is the same for both ABIs;
 * how "pending", "masked" and the notification of a vCPU look in guest
 * memory is the ABI's, behind struct evtchn_port_ops:
 *  - 2-level: pending/mask bitmaps in shared_info, the selector word and
 *    evtchn_upcall_pending of the notified vCPU (1024 ports per domain);
 *  - FIFO (after EVTCHNOP_init_control): an event word per port in event
 *    array pages the guest gave (EVTCHNOP_expand_array), per-vCPU queues
 *    of 16 priorities whose heads and ready bits live in the vCPU's
 *    control block (up to EVTCHN_FIFO_MAX_PORTS ports per domain).
 * Domain 0 (no vCPU in the machine) always uses the 2-level ABI.
 *
 * Port table: the first EVTCHN_INLINE_PORTS channels inside struct domain
 * (an idle guest binds a few: console, xenstore, its timer), the others
 * in buckets of one page each (EVTCHN_PER_BUCKET channels: port p at
 * p % EVTCHN_PER_BUCKET of bucket p / EVTCHN_PER_BUCKET, so bucket 0's
 * first EVTCHN_INLINE_PORTS entries are never used), allocated when
 * get_free_port first needs them and freed only when the domain is
 * destroyed (with the struct), so a channel pointer stays valid while the
 * domain lives.
 *
 * Lock order: d->event_lock of the lower domid first when two domains'
 * locks are needed (bind_interdomain, send and close of an interdomain
 * port). Every change of a domain's pending state (raising, unmasking,
 * clearing) and every change of its ABI state happens with that domain's
 * event_lock held; only reads (is_pending for SCHEDOP_poll) go without.
 * Taken inside event_lock: the scheduler's locks (waking a vCPU), the
 * heap lock (bucket and FIFO state pages).
 */
#ifndef HV_EVENT_H
#define HV_EVENT_H

#include <public/event_channel.h>
#include "asm/page.h"
#include "hv/domain.h"

#define EVTCHN_DEFAULT_MAX     1024     /* 2-level port limit per domain */
/* Domain 0's limit: all the 2-level ABI can name (64 words of 64 pending
 * bits), since it holds two ports (console, xenstore) per guest and more
 * for each disk and vif: 2047 guests need 4094. */
#define EVTCHN_DOM0_MAX        (8 * sizeof(xen_ulong_t) * 8 * sizeof(xen_ulong_t))
/* FIFO port limit per domain: 32 event-array pages. Xen's ABI allows
 * 2^17; Xen itself bounds each domain by its max_evtchn_port (xl's
 * default is 1023, Domain 0 unbounded). pvcore picks 32768: 32 times the
 * 2-level limit, while a guest can make the hypervisor allocate at most
 * 512 KiB of port table for it. */
#define EVTCHN_FIFO_MAX_PORTS  32768
#define EVTCHN_FIFO_MAX_PAGES  (EVTCHN_FIFO_MAX_PORTS / EVTCHN_FIFO_WORDS_PER_PAGE)

enum evtchn_state { ECS_FREE, ECS_RESERVED, ECS_UNBOUND, ECS_INTERDOMAIN, ECS_VIRQ, ECS_IPI };

struct evtchn {
    uint8_t state;
    uint8_t priority;               /* FIFO queue (0 highest .. 15) */
    uint16_t notify_vcpu;
    uint8_t last_vcpu;              /* FIFO: the queue it was last linked on */
    uint8_t last_priority;
    bool pending;                   /* FIFO: raised while it had no event word */
    uint8_t pad;
    union {
        domid_t remote_domid;                     /* UNBOUND */
        struct { domid_t dom; uint32_t port; } interdomain;
        uint32_t virq;                            /* VIRQ */
    } u;
};

#define EVTCHN_PER_BUCKET   (PAGE_SIZE / sizeof(struct evtchn))
#define EVTCHN_INLINE_PORTS (DOMAIN_EVTCHN_INLINE_BYTES / sizeof(struct evtchn))
#define EVTCHN_MAX_BUCKETS  (EVTCHN_FIFO_MAX_PORTS / EVTCHN_PER_BUCKET)

/* What an ABI does with a port's pending state. All but is_pending and
 * is_busy are called with d->event_lock held. v is the vCPU to notify
 * (NULL for Domain 0). */
struct evtchn_port_ops {
    const char *name;
    void (*set_pending)(struct domain *d, struct vcpu *v, struct evtchn *ch, uint32_t port);
    void (*clear_pending)(struct domain *d, struct evtchn *ch, uint32_t port);
    void (*unmask)(struct domain *d, struct vcpu *v, struct evtchn *ch, uint32_t port);
    bool (*is_pending)(const struct domain *d, uint32_t port);
    /* A port the guest still has on a queue cannot be handed out again. */
    bool (*is_busy)(const struct domain *d, uint32_t port);
    /* NULL: the ABI has no priorities (-ENOSYS, as Xen). */
    int (*set_priority)(struct domain *d, struct evtchn *ch, unsigned int priority);
};

extern const struct evtchn_port_ops evtchn_2l_ops;
extern const struct evtchn_port_ops evtchn_fifo_ops;

int evtchn_init(struct domain *d, unsigned int max_ports);
/* Allocate now the buckets that ports below nr would take at their first
 * binding (Domain 0's first: it holds two ports per guest). 0 or -ENOMEM;
 * what was allocated stays, freed with the port table. */
int evtchn_reserve_ports(struct domain *d, uint32_t nr);
/* Close every port of d, and Domain 0's ports bound to d or waiting for
 * it; from then on nothing binds to d. The port table stays (others may
 * still hold a reference to d) until evtchn_free. */
void evtchn_destroy(struct domain *d);
/* Free d's port table: the last put_domain, when nobody can look. */
void evtchn_free(struct domain *d);
/* The channel of port, or NULL beyond the limit or in an unallocated
 * bucket. */
struct evtchn *evtchn_port(const struct domain *d, uint32_t port);
/* Raise a VIRQ on a vCPU (per-vCPU VIRQs) or the domain (global ones). */
void send_virq(struct vcpu *v, unsigned int virq);
void send_global_virq(struct domain *d, unsigned int virq);
/* Mark port pending for d (used by the hypervisor and Domain 0). */
void evtchn_notify(struct domain *d, uint32_t port);
/* Wake v if it waits for events (blocked, or polling a now pending port). */
void vcpu_kick(struct vcpu *v);
/* Is any port in v's poll set pending? */
bool vcpu_poll_satisfied(struct vcpu *v);
/* Set evtchn_upcall_pending of v and kick it (both ABIs). */
void vcpu_mark_events_pending(struct vcpu *v);

/* FIFO ABI (common/evtchn_fifo.c). init_control and expand_array take
 * d->event_lock themselves; teardown wants it held and returns the
 * frames whose references the caller drops after unlocking. */
long evtchn_fifo_init_control(struct domain *d, struct evtchn_init_control *ic);
long evtchn_fifo_expand_array(struct domain *d, uint64_t gfn);
unsigned int evtchn_fifo_teardown(struct domain *d, mfn_t *frames, unsigned int max);
void evtchn_fifo_free(struct domain *d);
#define EVTCHN_FIFO_MAX_FRAMES (EVTCHN_FIFO_MAX_PAGES + MAX_VCPUS)

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
