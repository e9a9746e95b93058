/*
 * Event channels for the PV test kernels: EVTCHNOP_* wrappers, the event
 * upcall dispatcher over the 2-level ABI (the FIFO one is in
 * evtchn_fifo.c), blocking and polling helpers
 * (see evtime.h for the event model).
 */
#include "evtime.h"

volatile uint32_t evtchn_seen[EVTCHN_LIB_PORTS];
volatile uint32_t evtchn_seen_other;
volatile uint32_t evtchn_upcalls;

static struct {
    evtchn_handler_t fn;
    void *arg;
} port_handlers[EVTCHN_LIB_PORTS];

void evtchn_set_handler(evtchn_port_t port, evtchn_handler_t fn, void *arg)
{
    if (port >= EVTCHN_LIB_PORTS)
        test_abort("evtchn_set_handler: port %u beyond %u", port,
                   EVTCHN_LIB_PORTS);
    port_handlers[port].arg = arg;
    port_handlers[port].fn = fn;
}

void evtchn_deliver(evtchn_port_t port)
{
    if (port >= EVTCHN_LIB_PORTS) {
        __atomic_fetch_add(&evtchn_seen_other, 1, __ATOMIC_SEQ_CST);
        return;
    }
    __atomic_fetch_add(&evtchn_seen[port], 1, __ATOMIC_SEQ_CST);
    if (port_handlers[port].fn)
        port_handlers[port].fn(port, port_handlers[port].arg);
}

/* The event callback: Linux's 2-level scan, one pass per selector word. */
void evtchn_upcall(struct trap_frame *f)
{
    vcpu_info_t *vi = vcpu_info_self();
    volatile xen_ulong_t *pending = shared_info->evtchn_pending;
    volatile xen_ulong_t *mask = shared_info->evtchn_mask;

    (void)f;
    __atomic_fetch_add(&evtchn_upcalls, 1, __ATOMIC_SEQ_CST);
    if (evtchn_fifo_active) {
        while (__atomic_exchange_n(&vi->evtchn_upcall_pending, 0,
                                   __ATOMIC_SEQ_CST))
            evtchn_fifo_consume();
        return;
    }
    while (__atomic_exchange_n(&vi->evtchn_upcall_pending, 0,
                               __ATOMIC_SEQ_CST)) {
        xen_ulong_t sel = __atomic_exchange_n(&vi->evtchn_pending_sel, 0,
                                              __ATOMIC_SEQ_CST);
        while (sel) {
            unsigned int w = (unsigned int)__builtin_ctzl(sel);
            xen_ulong_t bits;

            sel &= sel - 1;
            while ((bits = pending[w] & ~mask[w])) {
                unsigned int b = (unsigned int)__builtin_ctzl(bits);

                __atomic_fetch_and(&pending[w], ~(1ul << b), __ATOMIC_SEQ_CST);
                evtchn_deliver(w * 64 + b);
            }
        }
    }
}

void evtchn_upcall_clear(void)
{
    vcpu_info_t *vi = vcpu_info_self();

    __atomic_store_n(&vi->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
}

void evtchn_upcall_init(void)
{
    trap_set_handler(TRAP_EVENT, evtchn_upcall);
}

void event_block(void)
{
    hypercall_sched_op(SCHEDOP_block, NULL);
    /* The upcall (if any) ran on the way back, and its iret restored the
     * unmasked state SCHEDOP_block left: mask again. */
    vcpu_info_self()->evtchn_upcall_mask = 1;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

long sched_poll(evtchn_port_t *ports, unsigned int nr, uint64_t timeout)
{
    struct sched_poll p = {
        .ports = HC(ports), .nr_ports = nr, .timeout = timeout,
    };

    return hypercall_sched_op(SCHEDOP_poll, &p);
}

void sleep_until(uint64_t deadline)
{
    while (system_time() < deadline) {
        long rc = sched_poll(NULL, 0, deadline);

        if (rc)
            test_abort("SCHEDOP_poll (no ports, timeout %lu) failed: %ld",
                       (unsigned long)deadline, rc);
    }
}

long evtchn_alloc_unbound(domid_t remote, evtchn_port_t *port)
{
    struct evtchn_alloc_unbound a = { .dom = DOMID_SELF, .remote_dom = remote };
    long rc = hypercall_event_channel_op(EVTCHNOP_alloc_unbound, &a);

    if (!rc)
        *port = a.port;
    return rc;
}

long evtchn_bind_interdomain(domid_t remote, evtchn_port_t remote_port,
                             evtchn_port_t *local)
{
    struct evtchn_bind_interdomain b = {
        .remote_dom = remote, .remote_port = remote_port,
    };
    long rc = hypercall_event_channel_op(EVTCHNOP_bind_interdomain, &b);

    if (!rc)
        *local = b.local_port;
    return rc;
}

long evtchn_bind_virq(uint32_t virq, uint32_t vcpu, evtchn_port_t *port)
{
    struct evtchn_bind_virq b = { .virq = virq, .vcpu = vcpu };
    long rc = hypercall_event_channel_op(EVTCHNOP_bind_virq, &b);

    if (!rc)
        *port = b.port;
    return rc;
}

long evtchn_bind_ipi(uint32_t vcpu, evtchn_port_t *port)
{
    struct evtchn_bind_ipi b = { .vcpu = vcpu };
    long rc = hypercall_event_channel_op(EVTCHNOP_bind_ipi, &b);

    if (!rc)
        *port = b.port;
    return rc;
}

long evtchn_send(evtchn_port_t port)
{
    struct evtchn_send s = { .port = port };

    return hypercall_event_channel_op(EVTCHNOP_send, &s);
}

long evtchn_close(evtchn_port_t port)
{
    struct evtchn_close c = { .port = port };

    return hypercall_event_channel_op(EVTCHNOP_close, &c);
}

long evtchn_unmask(evtchn_port_t port)
{
    struct evtchn_unmask u = { .port = port };

    return hypercall_event_channel_op(EVTCHNOP_unmask, &u);
}

long evtchn_alloc_many(evtchn_port_t *ports, unsigned int max, unsigned int *n,
                       evtchn_port_t *highest)
{
    long rc = 0;

    *n = 0;
    *highest = 0;
    while (*n < max) {
        rc = evtchn_alloc_unbound(DOMID_SELF, &ports[*n]);
        if (rc)
            break;
        if (ports[*n] > *highest)
            *highest = ports[*n];
        (*n)++;
    }
    return rc;
}

long evtchn_reset_self(void)
{
    struct evtchn_reset r = { .dom = DOMID_SELF };

    return hypercall_event_channel_op(EVTCHNOP_reset, &r);
}

long evtchn_status(evtchn_port_t port, struct evtchn_status *st)
{
    memset(st, 0, sizeof(*st));
    st->dom = DOMID_SELF;
    st->port = port;
    return hypercall_event_channel_op(EVTCHNOP_status, st);
}

const char *evtchn_status_name(uint32_t status)
{
    static const char *const names[] = {
        "closed", "unbound", "interdomain", "pirq", "virq", "ipi",
    };

    return status < ARRAY_SIZE(names) ? names[status] : "?";
}
