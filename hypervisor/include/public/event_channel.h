/*
 * pvcore public ABI: event channels (HYPERVISOR_event_channel_op).
 *
 * Owns: EVTCHNOP_* commands and their argument structures, channel status
 * values and the FIFO ABI constants. The 2-level pending/mask bitmaps live
 * in shared_info (<public/xen.h>).
 */
#ifndef PVCORE_PUBLIC_EVENT_CHANNEL_H
#define PVCORE_PUBLIC_EVENT_CHANNEL_H

#include "xen.h"

#define EVTCHNOP_bind_interdomain   0
#define EVTCHNOP_bind_virq          1
#define EVTCHNOP_bind_pirq          2
#define EVTCHNOP_close              3
#define EVTCHNOP_send               4
#define EVTCHNOP_status             5
#define EVTCHNOP_alloc_unbound      6
#define EVTCHNOP_bind_ipi           7
#define EVTCHNOP_bind_vcpu          8
#define EVTCHNOP_unmask             9
#define EVTCHNOP_reset             10
#define EVTCHNOP_init_control      11
#define EVTCHNOP_expand_array      12
#define EVTCHNOP_set_priority      13
#define EVTCHNOP_reset_cont        14

/* evtchn_status.status */
#define EVTCHNSTAT_closed        0
#define EVTCHNSTAT_unbound       1
#define EVTCHNSTAT_interdomain   2
#define EVTCHNSTAT_pirq          3
#define EVTCHNSTAT_virq          4
#define EVTCHNSTAT_ipi           5

#define BIND_PIRQ__WILL_SHARE    1

/* FIFO ABI */
#define EVTCHN_FIFO_PRIORITY_MAX      0
#define EVTCHN_FIFO_PRIORITY_DEFAULT  7
#define EVTCHN_FIFO_PRIORITY_MIN     15
#define EVTCHN_FIFO_MAX_QUEUES       16
#define EVTCHN_FIFO_PENDING          31
#define EVTCHN_FIFO_MASKED           30
#define EVTCHN_FIFO_LINKED           29
#define EVTCHN_FIFO_BUSY             28
#define EVTCHN_FIFO_LINK_BITS        17
#define EVTCHN_FIFO_LINK_MASK        ((1u << EVTCHN_FIFO_LINK_BITS) - 1)
#define EVTCHN_FIFO_NR_CHANNELS      (1u << EVTCHN_FIFO_LINK_BITS)
/* Event words in one 4 KiB event-array page (not a Xen public name). */
#define EVTCHN_FIFO_WORDS_PER_PAGE   1024

#ifndef __ASSEMBLY__

typedef uint32_t evtchn_port_t;

/* New unbound port in <dom> that <remote_dom> may connect to. */
struct evtchn_alloc_unbound {
    domid_t dom, remote_dom;        /* IN                                 */
    evtchn_port_t port;             /* OUT                                */
};
_Static_assert(sizeof(struct evtchn_alloc_unbound) == 8, "alloc_unbound");

/* Connect a fresh local port to <remote_dom, remote_port>. */
struct evtchn_bind_interdomain {
    domid_t remote_dom;             /* IN                                 */
    uint16_t _pad;
    evtchn_port_t remote_port;      /* IN                                 */
    evtchn_port_t local_port;       /* OUT                                */
};
_Static_assert(sizeof(struct evtchn_bind_interdomain) == 12, "bind_interdom");
_Static_assert(offsetof(struct evtchn_bind_interdomain, remote_port) == 4,
               "bind_interdomain.remote_port");

struct evtchn_bind_virq {
    uint32_t virq;                  /* IN: VIRQ_*                         */
    uint32_t vcpu;                  /* IN                                 */
    evtchn_port_t port;             /* OUT                                */
};
_Static_assert(sizeof(struct evtchn_bind_virq) == 12, "bind_virq");

struct evtchn_bind_pirq {
    uint32_t pirq;                  /* IN                                 */
    uint32_t flags;                 /* IN: BIND_PIRQ__*                   */
    evtchn_port_t port;             /* OUT                                */
};
_Static_assert(sizeof(struct evtchn_bind_pirq) == 12, "bind_pirq");

struct evtchn_bind_ipi {
    uint32_t vcpu;                  /* IN                                 */
    evtchn_port_t port;             /* OUT                                */
};
_Static_assert(sizeof(struct evtchn_bind_ipi) == 8, "bind_ipi");

struct evtchn_close {
    evtchn_port_t port;
};

struct evtchn_send {
    evtchn_port_t port;
};

struct evtchn_status {
    domid_t dom;                    /* IN                                 */
    uint16_t _pad;
    evtchn_port_t port;             /* IN                                 */
    uint32_t status;                /* OUT: EVTCHNSTAT_*                  */
    uint32_t vcpu;                  /* OUT: vCPU notified                 */
    union {
        struct { domid_t dom; } unbound;
        struct { domid_t dom; uint16_t _pad; evtchn_port_t port; } interdomain;
        uint32_t pirq;
        uint32_t virq;
    } u;
};
_Static_assert(sizeof(struct evtchn_status) == 24, "evtchn_status");
_Static_assert(offsetof(struct evtchn_status, u) == 16, "evtchn_status.u");

struct evtchn_bind_vcpu {
    evtchn_port_t port;
    uint32_t vcpu;
};
_Static_assert(sizeof(struct evtchn_bind_vcpu) == 8, "bind_vcpu");

struct evtchn_unmask {
    evtchn_port_t port;
};

struct evtchn_reset {
    domid_t dom;
};

struct evtchn_init_control {
    uint64_t control_gfn;           /* IN                                 */
    uint32_t offset;                /* IN                                 */
    uint32_t vcpu;                  /* IN                                 */
    uint8_t  link_bits;             /* OUT                                */
    uint8_t  _pad[7];
};
_Static_assert(sizeof(struct evtchn_init_control) == 24, "init_control");

struct evtchn_expand_array {
    uint64_t array_gfn;
};

struct evtchn_set_priority {
    evtchn_port_t port;
    uint32_t priority;
};

/* FIFO ABI: one event word per port in the guest's event array pages;
 * PENDING/MASKED/LINKED/BUSY are bit numbers, LINK the next port in the
 * queue. One control block per vCPU (EVTCHNOP_init_control): a ready bit
 * per priority queue and the queues' heads. */
typedef uint32_t event_word_t;

struct evtchn_fifo_control_block {
    uint32_t ready;
    uint32_t _rsvd;
    event_word_t head[EVTCHN_FIFO_MAX_QUEUES];
};
_Static_assert(sizeof(struct evtchn_fifo_control_block) == 72, "fifo control block");

/* Argument of the old event_channel_op_compat hypercall. */
struct evtchn_op {
    uint32_t cmd;
    union {
        struct evtchn_alloc_unbound alloc_unbound;
        struct evtchn_bind_interdomain bind_interdomain;
        struct evtchn_bind_virq bind_virq;
        struct evtchn_bind_pirq bind_pirq;
        struct evtchn_bind_ipi bind_ipi;
        struct evtchn_close close;
        struct evtchn_send send;
        struct evtchn_status status;
        struct evtchn_bind_vcpu bind_vcpu;
        struct evtchn_unmask unmask;
    } u;
};
_Static_assert(offsetof(struct evtchn_op, u) == 4, "evtchn_op.u");
_Static_assert(sizeof(struct evtchn_op) == 28, "evtchn_op");

#endif /* !__ASSEMBLY__ */
#endif /* PVCORE_PUBLIC_EVENT_CHANNEL_H */
