/* Event channels: ports and the EVTCHNOP_* operations, shared by the
 * 2-level and FIFO ABIs (see hv/event.h for the model).
 *
 * Owns: each domain's port table (its first EVTCHN_INLINE_PORTS channels
 * in d->evtchn_inline, the rest in d->evtchn_buckets; d->max_evtchns), the
 * VIRQ bindings of its vCPUs, which ABI a domain uses (d->evtchn_ops) and
 * the switches between them (EVTCHNOP_init_control -> FIFO,
 * EVTCHNOP_reset -> back to 2-level).
 * Invariants: port 0 is never handed out; an INTERDOMAIN port's peer names
 * it back (closing one end turns the other into UNBOUND for the closer's
 * domain); a VIRQ is bound to at most one port per vCPU; a port the FIFO
 * guest still has linked on a queue is not handed out again; every port
 * at or above max_evtchns is FREE; a port below EVTCHN_INLINE_PORTS is
 * always in struct domain (bucket 0, once allocated for the ports beyond,
 * leaves those entries unused), so a domain that binds no more costs no
 * page of ports (Domain 0, two ports per guest, reserves its first bucket
 * at creation: evtchn_reserve_ports).
 * Lifetime: another domain is used only with a reference (get_domain_by_id,
 * put_domain); a dying domain's ports are closed by evtchn_destroy after it
 * sets d->evtchn_closed under d->event_lock, and every binding to a
 * domain checks that flag under the same lock, so nothing binds to a
 * domain once its ports are being closed; the buckets themselves are
 * freed with the struct (evtchn_free, from the last put_domain), so a CPU
 * holding a reference never reads a freed bucket.
 * Locking: d->event_lock; two domains' locks are taken lower domid first.
 * Anything that raises, unmasks or clears a port of d holds d's lock, so
 * the ABI code (evtchn_2l.c, evtchn_fifo.c) is serialised per domain. */
#include <public/event_channel.h>
#include "asm/page.h"
#include "hv/control.h"
#include "hv/event.h"
#include "hv/guest_access.h"
#include "hv/hypercall.h"
#include "hv/lib.h"
#include "hv/mm.h"
#include "hv/pagetype.h"
#include "hv/printk.h"
#include "hv/schedule.h"
#include "hv/smp.h"
#include "asm/percpu.h"

static bool virq_is_global(unsigned int virq)
{
    return virq != VIRQ_TIMER && virq != VIRQ_DEBUG && virq != VIRQ_XENOPROF &&
           virq != VIRQ_XENPMU;
}

_Static_assert(EVTCHN_MAX_BUCKETS <= DOMAIN_EVTCHN_BUCKETS,
               "struct domain holds every bucket pointer");
_Static_assert(EVTCHN_DEFAULT_MAX % EVTCHN_PER_BUCKET == 0 &&
               EVTCHN_DOM0_MAX % EVTCHN_PER_BUCKET == 0 && EVTCHN_DOM0_MAX <= EVTCHN_FIFO_MAX_PORTS &&
               EVTCHN_FIFO_MAX_PORTS % EVTCHN_PER_BUCKET == 0, "whole buckets");

_Static_assert(EVTCHN_INLINE_PORTS * sizeof(struct evtchn) <= sizeof(((struct domain *)0)->evtchn_inline) &&
               EVTCHN_INLINE_PORTS >= 8 && EVTCHN_INLINE_PORTS <= EVTCHN_PER_BUCKET,
               "struct domain holds the first ports, fewer than a bucket");

/* The channels kept in struct domain. */
static struct evtchn *inline_ports(const struct domain *d)
{
    return (struct evtchn *)d->evtchn_inline;
}

/* Where port's channel lives, whatever the ABI's limit: in struct domain
 * below EVTCHN_INLINE_PORTS, else in its bucket (NULL while that bucket
 * is not allocated). port < EVTCHN_MAX_BUCKETS * EVTCHN_PER_BUCKET. */
static struct evtchn *port_slot(const struct domain *d, uint32_t port)
{
    if (port < EVTCHN_INLINE_PORTS)
        return &inline_ports(d)[port];
    struct evtchn *b = __atomic_load_n(&d->evtchn_buckets[port / EVTCHN_PER_BUCKET],
                                       __ATOMIC_ACQUIRE);
    return b ? &b[port % EVTCHN_PER_BUCKET] : NULL;
}

int evtchn_init(struct domain *d, unsigned int max_ports)
{
    memset(d->evtchn_inline, 0, sizeof(d->evtchn_inline));
    inline_ports(d)[0].state = ECS_RESERVED;
    d->evtchn_buckets = d->evtchn_bucket_table;
    d->max_evtchns = max_ports;
    d->evtchn_free_hint = 1;
    d->evtchn_ops = &evtchn_2l_ops;
    d->evtchn_closed = false;
    d->event_lock = (spinlock_t)SPINLOCK_INIT;
    return 0;
}

int evtchn_reserve_ports(struct domain *d, uint32_t nr)
{
    uint64_t f = spin_lock_irqsave(&d->event_lock);
    int rc = 0;

    for (uint32_t b = EVTCHN_INLINE_PORTS / EVTCHN_PER_BUCKET;
         nr > EVTCHN_INLINE_PORTS && b <= (nr - 1) / EVTCHN_PER_BUCKET && b < EVTCHN_MAX_BUCKETS;
         b++) {
        if (d->evtchn_buckets[b])
            continue;
        struct evtchn *page = alloc_hv_page();
        if (!page) {
            rc = -ENOMEM;
            break;
        }
        __atomic_store_n(&d->evtchn_buckets[b], page, __ATOMIC_RELEASE);
    }
    spin_unlock_irqrestore(&d->event_lock, f);
    return rc;
}

struct evtchn *evtchn_port(const struct domain *d, uint32_t port)
{
    if (port >= __atomic_load_n(&d->max_evtchns, __ATOMIC_ACQUIRE))
        return NULL;
    return port_slot(d, port);
}

static const struct evtchn_port_ops *ops_of(const struct domain *d)
{
    return __atomic_load_n(&d->evtchn_ops, __ATOMIC_ACQUIRE);
}

/* A channel (re)initialised to state, with the defaults of both ABIs.
 * The FIFO queue it was last linked on is kept, as in Xen: that queue's
 * tail may still name the port (see evtchn_fifo.c). */
static void port_init(struct evtchn *ch, enum evtchn_state state, uint16_t vcpu)
{
    uint8_t last_vcpu = ch->last_vcpu, last_priority = ch->last_priority;

    memset(ch, 0, sizeof(*ch));
    ch->last_vcpu = last_vcpu;
    ch->last_priority = last_priority;
    ch->state = (uint8_t)state;
    ch->notify_vcpu = vcpu;
    ch->priority = EVTCHN_FIFO_PRIORITY_DEFAULT;
}

/* The lowest free port, allocating its bucket if needed. Lock held. */
static int get_free_port(struct domain *d)
{
    uint32_t busy = 0;
    for (uint32_t p = d->evtchn_free_hint ? d->evtchn_free_hint : 1; p < d->max_evtchns; p++) {
        struct evtchn *ch = port_slot(d, p);
        if (!ch) {
            struct evtchn *b = alloc_hv_page();
            if (!b)
                return -ENOMEM;
            __atomic_store_n(&d->evtchn_buckets[p / EVTCHN_PER_BUCKET], b, __ATOMIC_RELEASE);
            ch = &b[p % EVTCHN_PER_BUCKET];
        }
        if (ch->state != ECS_FREE)
            continue;
        if (d->evtchn_ops->is_busy(d, p)) {
            if (!busy)
                busy = p;
            continue;
        }
        d->evtchn_free_hint = busy ? busy : p + 1;
        return (int)p;
    }
    if (busy)
        d->evtchn_free_hint = busy;
    return -ENOSPC;
}

static void lock_pair(struct domain *a, struct domain *b, uint64_t *fa, uint64_t *fb)
{
    if (a == b) {
        *fa = spin_lock_irqsave(&a->event_lock);
    } else if (a->id < b->id) {
        *fa = spin_lock_irqsave(&a->event_lock);
        *fb = spin_lock_irqsave(&b->event_lock);
    } else {
        *fb = spin_lock_irqsave(&b->event_lock);
        *fa = spin_lock_irqsave(&a->event_lock);
    }
}

static void unlock_pair(struct domain *a, struct domain *b, uint64_t fa, uint64_t fb)
{
    if (a == b) {
        spin_unlock_irqrestore(&a->event_lock, fa);
    } else if (a->id < b->id) {
        spin_unlock_irqrestore(&b->event_lock, fb);
        spin_unlock_irqrestore(&a->event_lock, fa);
    } else {
        spin_unlock_irqrestore(&a->event_lock, fa);
        spin_unlock_irqrestore(&b->event_lock, fb);
    }
}

bool vcpu_poll_satisfied(struct vcpu *v)
{
    struct domain *d = v->domain;
    const struct evtchn_port_ops *ops = ops_of(d);
    for (unsigned int i = 0; i < v->nr_poll_ports; i++)
        if (ops->is_pending(d, v->poll_ports[i]))
            return true;
    return false;
}

void vcpu_kick(struct vcpu *v)
{
    /* Running on another CPU: make it pass through its exit path, where
     * the upcall is delivered. */
    int cpu = v->processor;
    if (cpu >= 0 && (unsigned int)cpu != this_cpu()->id && v->vcpu_info->evtchn_upcall_pending)
        smp_send_resched((unsigned int)cpu);
    if (v->state != VCPU_BLOCKED)
        return;
    /* A polling vCPU waits for its ports (masked or not); a blocked one
     * for an upcall. */
    if (v->nr_poll_ports ? !vcpu_poll_satisfied(v) : !v->vcpu_info->evtchn_upcall_pending)
        return;
    v->nr_poll_ports = 0;
    v->poll_deadline = 0;
    vcpu_wake(v);
}

void vcpu_mark_events_pending(struct vcpu *v)
{
    __atomic_store_n(&v->vcpu_info->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST);
    vcpu_kick(v);
}

static struct vcpu *notify_vcpu(struct domain *d, const struct evtchn *ch)
{
    if (!d->nr_vcpus)
        return NULL;                    /* Domain 0 */
    unsigned int i = ch->notify_vcpu < d->nr_vcpus ? ch->notify_vcpu : 0;
    return d->vcpus[i];
}

/* Mark port pending in d through its ABI. d->event_lock held. */
static void raise_port(struct domain *d, struct evtchn *ch, uint32_t port)
{
    d->evtchn_ops->set_pending(d, notify_vcpu(d, ch), ch, port);
}

void evtchn_notify(struct domain *d, uint32_t port)
{
    uint64_t f = spin_lock_irqsave(&d->event_lock);
    struct evtchn *ch = evtchn_port(d, port);
    if (ch && ch->state != ECS_FREE && ch->state != ECS_RESERVED)
        raise_port(d, ch, port);
    spin_unlock_irqrestore(&d->event_lock, f);
}

void send_virq(struct vcpu *v, unsigned int virq)
{
    struct domain *d = v->domain;
    if (virq >= 24)
        return;
    uint64_t f = spin_lock_irqsave(&d->event_lock);
    int port = v->virq_port[virq];
    struct evtchn *ch = port > 0 ? evtchn_port(d, (uint32_t)port) : NULL;
    if (ch && ch->state == ECS_VIRQ)
        d->evtchn_ops->set_pending(d, v, ch, (uint32_t)port);
    spin_unlock_irqrestore(&d->event_lock, f);
}

void send_global_virq(struct domain *d, unsigned int virq)
{
    if (d->nr_vcpus && d->vcpus[0])
        send_virq(d->vcpus[0], virq);
}

/* The domain an operation names, referenced (put with put_target). */
static struct domain *target_domain(struct domain *self, domid_t id)
{
    if (id == DOMID_SELF || id == self->id)
        return self;
    return get_domain_by_id(id);
}

static void put_target(struct domain *self, struct domain *d)
{
    if (d != self)
        put_domain(d);
}

static long evtchn_alloc_unbound(struct domain *self, struct evtchn_alloc_unbound *a)
{
    struct domain *d = target_domain(self, a->dom);
    if (d != self) {
        put_target(self, d);
        return -EPERM;                  /* only Domain 0 may do this for others */
    }
    domid_t remote = a->remote_dom == DOMID_SELF ? self->id : a->remote_dom;
    uint64_t f = spin_lock_irqsave(&d->event_lock);
    int port = get_free_port(d);
    if (port > 0) {
        struct evtchn *ch = evtchn_port(d, (uint32_t)port);
        port_init(ch, ECS_UNBOUND, 0);
        ch->u.remote_domid = remote;
        a->port = (uint32_t)port;
    }
    spin_unlock_irqrestore(&d->event_lock, f);
    return port > 0 ? 0 : port;
}

static long evtchn_bind_interdomain(struct domain *ld, struct evtchn_bind_interdomain *b)
{
    struct domain *rd = target_domain(ld, b->remote_dom);
    if (!rd)
        return -ESRCH;
    uint64_t fl = 0, fr = 0;
    lock_pair(ld, rd, &fl, &fr);
    long rc;
    struct evtchn *rch = evtchn_port(rd, b->remote_port);
    int lport;
    if (rd->evtchn_closed || ld->evtchn_closed) {
        rc = -ESRCH;                    /* dying: its ports are being closed */
    } else if (!rch || rch->state != ECS_UNBOUND || rch->u.remote_domid != ld->id) {
        rc = -EINVAL;
    } else if ((lport = get_free_port(ld)) < 0) {
        rc = lport;
    } else {
        struct evtchn *lch = evtchn_port(ld, (uint32_t)lport);
        port_init(lch, ECS_INTERDOMAIN, 0);
        lch->u.interdomain.dom = rd->id;
        lch->u.interdomain.port = b->remote_port;
        rch->state = ECS_INTERDOMAIN;
        rch->u.interdomain.dom = ld->id;
        rch->u.interdomain.port = (uint32_t)lport;
        b->local_port = (uint32_t)lport;
        /* The remote end may have had events sent before: deliver one
         * now, as Xen does, so that nothing sent across the bind is lost. */
        raise_port(ld, lch, (uint32_t)lport);
        rc = 0;
    }
    unlock_pair(ld, rd, fl, fr);
    put_target(ld, rd);
    return rc;
}

static long evtchn_bind_virq(struct domain *d, struct evtchn_bind_virq *b)
{
    if (b->virq >= 24)
        return -EINVAL;
    if (virq_is_global(b->virq) && b->vcpu != 0)
        return -EINVAL;
    if (b->vcpu >= d->nr_vcpus || !d->vcpus[b->vcpu])
        return -ENOENT;
    struct vcpu *v = d->vcpus[b->vcpu];
    uint64_t f = spin_lock_irqsave(&d->event_lock);
    long rc;
    int port;
    if (v->virq_port[b->virq]) {
        rc = -EEXIST;
    } else if ((port = get_free_port(d)) < 0) {
        rc = port;
    } else {
        struct evtchn *ch = evtchn_port(d, (uint32_t)port);
        port_init(ch, ECS_VIRQ, (uint16_t)b->vcpu);
        ch->u.virq = b->virq;
        v->virq_port[b->virq] = port;
        b->port = (uint32_t)port;
        rc = 0;
    }
    spin_unlock_irqrestore(&d->event_lock, f);
    return rc;
}

static long evtchn_bind_ipi(struct domain *d, struct evtchn_bind_ipi *b)
{
    if (b->vcpu >= d->nr_vcpus || !d->vcpus[b->vcpu])
        return -ENOENT;
    uint64_t f = spin_lock_irqsave(&d->event_lock);
    int port = get_free_port(d);
    if (port > 0) {
        port_init(evtchn_port(d, (uint32_t)port), ECS_IPI, (uint16_t)b->vcpu);
        b->port = (uint32_t)port;
    }
    spin_unlock_irqrestore(&d->event_lock, f);
    return port > 0 ? 0 : port;
}

/* Close with d->event_lock (and the peer's, if interdomain) held. */
static void close_port_locked(struct domain *d, uint32_t port)
{
    struct evtchn *ch = evtchn_port(d, port);
    if (ch->state == ECS_VIRQ) {
        struct vcpu *v = d->vcpus[ch->notify_vcpu < d->nr_vcpus ? ch->notify_vcpu : 0];
        if (v && ch->u.virq < 24 && v->virq_port[ch->u.virq] == (int)port)
            v->virq_port[ch->u.virq] = 0;
    }
    d->evtchn_ops->clear_pending(d, ch, port);
    port_init(ch, ECS_FREE, 0);
    if (port < d->evtchn_free_hint)
        d->evtchn_free_hint = port;
}

/* Lock the domain at the other end of an interdomain port of d together
 * with d; returns it referenced (d itself for a loopback or a peer that is
 * gone); unlock_peer undoes both. A dying peer is locked too: its end
 * must still be turned back to UNBOUND or left alone, never raised after
 * it is closed (its ports are closed under its lock). */
static struct domain *lock_with_peer(struct domain *d, uint32_t port, uint64_t *fl, uint64_t *fr)
{
    uint64_t f = spin_lock_irqsave(&d->event_lock);
    struct evtchn *ch = evtchn_port(d, port);
    domid_t rid = ch && ch->state == ECS_INTERDOMAIN ? ch->u.interdomain.dom : d->id;
    spin_unlock_irqrestore(&d->event_lock, f);
    struct domain *rd = rid == d->id ? d : get_domain_owning(rid);
    if (!rd)
        rd = d;
    lock_pair(d, rd, fl, fr);
    return rd;
}

static void unlock_peer(struct domain *d, struct domain *rd, uint64_t fl, uint64_t fr)
{
    unlock_pair(d, rd, fl, fr);
    put_target(d, rd);
}

static long evtchn_close(struct domain *d, uint32_t port)
{
    uint64_t fl = 0, fr = 0;
    struct domain *rd = lock_with_peer(d, port, &fl, &fr);
    struct evtchn *ch = evtchn_port(d, port);
    long rc = 0;
    if (!ch || ch->state == ECS_FREE || ch->state == ECS_RESERVED) {
        rc = -EINVAL;
    } else {
        if (ch->state == ECS_INTERDOMAIN && ch->u.interdomain.dom == rd->id) {
            struct evtchn *rch = evtchn_port(rd, ch->u.interdomain.port);
            if (rch && rch->state == ECS_INTERDOMAIN && rch->u.interdomain.dom == d->id) {
                /* The peer waits for us to bind again. */
                rch->state = ECS_UNBOUND;
                rch->u.remote_domid = d->id;
            }
        }
        /* (An interdomain port whose peer changed under us is still ours
         * to close: the peer no longer names it.) */
        close_port_locked(d, port);
    }
    unlock_peer(d, rd, fl, fr);
    return rc;
}

static long evtchn_send(struct domain *d, uint32_t port)
{
    /* A port of our own (IPI, unbound, or not one to send on): all under
     * the one lock, never let go and taken again with the peer's. */
    uint64_t f = spin_lock_irqsave(&d->event_lock);
    struct evtchn *ch = evtchn_port(d, port);
    if (!ch || ch->state != ECS_INTERDOMAIN) {
        long rc = 0;
        if (ch && ch->state == ECS_IPI && d->nr_vcpus)
            raise_port(d, ch, port);
        else if (!ch || ch->state != ECS_UNBOUND)
            rc = -EINVAL;               /* unbound: nobody listens yet, dropped as in Xen */
        spin_unlock_irqrestore(&d->event_lock, f);
        return rc;
    }
    spin_unlock_irqrestore(&d->event_lock, f);

    uint64_t fl = 0, fr = 0;
    struct domain *rd = lock_with_peer(d, port, &fl, &fr);
    ch = evtchn_port(d, port);
    long rc = 0;
    if (!ch) {
        rc = -EINVAL;
    } else if (ch->state == ECS_INTERDOMAIN) {
        /* Only a peer locked together with us may be raised. */
        struct evtchn *rch = ch->u.interdomain.dom == rd->id ?
                             evtchn_port(rd, ch->u.interdomain.port) : NULL;
        if (rch && rch->state == ECS_INTERDOMAIN)
            raise_port(rd, rch, ch->u.interdomain.port);
    } else if (ch->state == ECS_IPI && d->nr_vcpus) {
        raise_port(d, ch, port);
    } else if (ch->state == ECS_UNBOUND) {
        rc = 0;                         /* nobody listens yet: dropped, as in Xen */
    } else {
        rc = -EINVAL;
    }
    unlock_peer(d, rd, fl, fr);
    return rc;
}

static long evtchn_status(struct domain *self, struct evtchn_status *s)
{
    struct domain *d = target_domain(self, s->dom);
    if (!d)
        return -ESRCH;
    if (d != self) {
        put_target(self, d);
        return -EPERM;
    }
    uint64_t f = spin_lock_irqsave(&d->event_lock);
    struct evtchn *ch = evtchn_port(d, s->port);
    long rc = 0;
    if (!ch) {
        rc = -EINVAL;
    } else {
        s->vcpu = ch->notify_vcpu;
        switch (ch->state) {
        case ECS_FREE: case ECS_RESERVED: s->status = EVTCHNSTAT_closed; break;
        case ECS_UNBOUND:
            s->status = EVTCHNSTAT_unbound;
            s->u.unbound.dom = ch->u.remote_domid;
            break;
        case ECS_INTERDOMAIN:
            s->status = EVTCHNSTAT_interdomain;
            s->u.interdomain.dom = ch->u.interdomain.dom;
            s->u.interdomain.port = ch->u.interdomain.port;
            break;
        case ECS_VIRQ: s->status = EVTCHNSTAT_virq; s->u.virq = ch->u.virq; break;
        case ECS_IPI: s->status = EVTCHNSTAT_ipi; break;
        }
    }
    spin_unlock_irqrestore(&d->event_lock, f);
    return rc;
}

static long evtchn_unmask(struct domain *d, uint32_t port)
{
    uint64_t f = spin_lock_irqsave(&d->event_lock);
    struct evtchn *ch = evtchn_port(d, port);
    long rc = -EINVAL;
    if (ch) {
        /* A free port is left alone (Xen's evtchn_usable). */
        if (ch->state != ECS_FREE && ch->state != ECS_RESERVED)
            d->evtchn_ops->unmask(d, notify_vcpu(d, ch), ch, port);
        rc = 0;
    }
    spin_unlock_irqrestore(&d->event_lock, f);
    return rc;
}

/* Every port that may be in use (the inline ones and all buckets,
 * whatever the ABI's limit). */
static uint32_t ports_allocated(const struct domain *d)
{
    uint32_t n = EVTCHN_INLINE_PORTS;
    for (uint32_t b = 0; b < EVTCHN_MAX_BUCKETS; b++)
        if (d->evtchn_buckets[b])
            n = (b + 1) * EVTCHN_PER_BUCKET;
    return n;
}

static void close_all(struct domain *d)
{
    uint32_t n = ports_allocated(d);
    for (uint32_t p = 1; p < n; p++) {
        const struct evtchn *ch = port_slot(d, p);
        if (ch && ch->state != ECS_FREE)
            evtchn_close(d, p);
    }
}

/* Back to the 2-level ABI (after every port is closed): the FIFO guest
 * frames are released, the port limit is the 2-level one again. */
static void fifo_to_2l(struct domain *d)
{
    mfn_t frames[EVTCHN_FIFO_MAX_FRAMES];
    uint64_t f = spin_lock_irqsave(&d->event_lock);
    unsigned int n = evtchn_fifo_teardown(d, frames, ARRAY_SIZE(frames));
    __atomic_store_n(&d->evtchn_ops, &evtchn_2l_ops, __ATOMIC_RELEASE);
    __atomic_store_n(&d->max_evtchns, EVTCHN_DEFAULT_MAX, __ATOMIC_RELEASE);
    d->evtchn_free_hint = 1;
    spin_unlock_irqrestore(&d->event_lock, f);
    for (unsigned int i = 0; i < n; i++)
        put_page_and_type(frames[i]);
}

/* EVTCHNOP_reset: close every port; a FIFO domain goes back to 2-level,
 * as in Xen 4.17. */
static long evtchn_reset(struct domain *self, domid_t dom)
{
    struct domain *d = target_domain(self, dom);
    if (d != self) {
        put_target(self, d);
        return -EPERM;
    }
    close_all(d);
    fifo_to_2l(d);
    return 0;
}

static long evtchn_bind_vcpu(struct domain *d, struct evtchn_bind_vcpu *b)
{
    if (b->vcpu >= d->nr_vcpus || !d->vcpus[b->vcpu])
        return -ENOENT;
    uint64_t f = spin_lock_irqsave(&d->event_lock);
    struct evtchn *ch = evtchn_port(d, b->port);
    long rc = 0;
    if (!ch || ch->state == ECS_FREE || ch->state == ECS_RESERVED)
        rc = -EINVAL;
    else if (ch->state == ECS_IPI || (ch->state == ECS_VIRQ && !virq_is_global(ch->u.virq)))
        rc = -EINVAL;
    else
        ch->notify_vcpu = (uint16_t)b->vcpu;    /* FIFO: its next link moves queues */
    spin_unlock_irqrestore(&d->event_lock, f);
    return rc;
}

/* EVTCHNOP_set_priority: -EINVAL for a port beyond the table, -ENOSYS
 * under the 2-level ABI, -EACCES for a free port (as Xen 4.17). */
static long evtchn_set_priority(struct domain *d, const struct evtchn_set_priority *sp)
{
    uint64_t f = spin_lock_irqsave(&d->event_lock);
    struct evtchn *ch = evtchn_port(d, sp->port);
    long rc;
    if (!ch)
        rc = -EINVAL;
    else if (!d->evtchn_ops->set_priority)
        rc = -ENOSYS;
    else if (ch->state == ECS_FREE || ch->state == ECS_RESERVED)
        rc = -EACCES;
    else
        rc = d->evtchn_ops->set_priority(d, ch, sp->priority);
    spin_unlock_irqrestore(&d->event_lock, f);
    return rc;
}

/* A new port of guest's own, bound interdomain to a new port of backend
 * (or, backend NULL, to the hypervisor itself: the peer is DOMID_XEN and
 * whatever the guest sends there is read by polling, e.g. the console
 * ring in boot-loader mode). This is what a builder hands the guest in
 * start_info: its own port, already connected, never port 0. */
long evtchn_connect(struct domain *guest, struct domain *backend, uint32_t *guest_port,
                    uint32_t *backend_port)
{
    struct domain *b = backend ? backend : guest;
    uint64_t fg = 0, fb = 0;
    long rc = 0;
    lock_pair(guest, b, &fg, &fb);
    if (guest->evtchn_closed || b->evtchn_closed) {
        rc = -ESRCH;
        goto out;
    }
    int gp = get_free_port(guest);
    if (gp < 0) {
        rc = gp;
        goto out;
    }
    struct evtchn *gch = evtchn_port(guest, (uint32_t)gp);
    port_init(gch, ECS_INTERDOMAIN, 0);
    if (!backend) {
        gch->u.interdomain.dom = DOMID_XEN;
        gch->u.interdomain.port = 0;
        *backend_port = 0;
    } else {
        int bp = get_free_port(backend);
        if (bp < 0) {
            port_init(gch, ECS_FREE, 0);
            rc = bp;
            goto out;
        }
        struct evtchn *bch = evtchn_port(backend, (uint32_t)bp);
        port_init(bch, ECS_INTERDOMAIN, 0);
        bch->u.interdomain.dom = guest->id;
        bch->u.interdomain.port = (uint32_t)gp;
        gch->u.interdomain.dom = backend->id;
        gch->u.interdomain.port = (uint32_t)bp;
        *backend_port = (uint32_t)bp;
    }
    *guest_port = (uint32_t)gp;
out:
    unlock_pair(guest, b, fg, fb);
    return rc;
}

unsigned int evtchn_ports_in_use(struct domain *d)
{
    unsigned int n = 0;
    uint64_t f = spin_lock_irqsave(&d->event_lock);
    for (uint32_t p = 1; p < ports_allocated(d); p++) {
        const struct evtchn *ch = evtchn_port(d, p);
        n += ch && ch->state != ECS_FREE;
    }
    spin_unlock_irqrestore(&d->event_lock, f);
    return n;
}

/* Domain 0's ports that serve d (bound to it, or waiting for it to bind)
 * die with d: nothing else would ever close them, and every start would
 * leak two (console, xenstore) until Domain 0 runs out of ports. */
static void close_dom0_ports_of(struct domain *d)
{
    struct domain *dom0 = get_domain_by_id(0);
    if (!dom0 || dom0 == d || !dom0->evtchn_buckets) {
        put_domain(dom0);
        return;
    }
    for (uint32_t p = 1; p < ports_allocated(dom0); p++) {
        uint64_t f = spin_lock_irqsave(&dom0->event_lock);
        const struct evtchn *ch = evtchn_port(dom0, p);
        bool serves = ch && ((ch->state == ECS_UNBOUND && ch->u.remote_domid == d->id) ||
                             (ch->state == ECS_INTERDOMAIN && ch->u.interdomain.dom == d->id));
        spin_unlock_irqrestore(&dom0->event_lock, f);
        if (serves)
            evtchn_close(dom0, p);
    }
    put_domain(dom0);
}

void evtchn_destroy(struct domain *d)
{
    if (!d->evtchn_buckets)
        return;
    uint64_t f = spin_lock_irqsave(&d->event_lock);
    d->evtchn_closed = true;            /* nothing binds to d from now on */
    spin_unlock_irqrestore(&d->event_lock, f);
    close_dom0_ports_of(d);
    close_all(d);
    fifo_to_2l(d);
    evtchn_fifo_free(d);
}

void evtchn_free(struct domain *d)
{
    if (!d->evtchn_buckets)
        return;
    for (uint32_t b = 0; b < EVTCHN_MAX_BUCKETS; b++)
        if (d->evtchn_buckets[b])
            free_hv_page(d->evtchn_buckets[b]);
    memset(d->evtchn_bucket_table, 0, sizeof(d->evtchn_bucket_table));
    d->evtchn_buckets = NULL;
}

/* Argument size of each operation (0: not supported); *out says whether
 * the operation writes results into it (copied back to the guest). */
static size_t evtchn_arg_size(uint64_t cmd, bool *out)
{
    *out = true;
    switch (cmd) {
    case EVTCHNOP_alloc_unbound: return sizeof(struct evtchn_alloc_unbound);
    case EVTCHNOP_bind_interdomain: return sizeof(struct evtchn_bind_interdomain);
    case EVTCHNOP_bind_virq: return sizeof(struct evtchn_bind_virq);
    case EVTCHNOP_bind_ipi: return sizeof(struct evtchn_bind_ipi);
    case EVTCHNOP_status: return sizeof(struct evtchn_status);
    case EVTCHNOP_init_control: return sizeof(struct evtchn_init_control);
    }
    *out = false;
    switch (cmd) {
    case EVTCHNOP_close: return sizeof(struct evtchn_close);
    case EVTCHNOP_send: return sizeof(struct evtchn_send);
    case EVTCHNOP_unmask: return sizeof(struct evtchn_unmask);
    case EVTCHNOP_reset: return sizeof(struct evtchn_reset);
    case EVTCHNOP_bind_vcpu: return sizeof(struct evtchn_bind_vcpu);
    case EVTCHNOP_expand_array: return sizeof(struct evtchn_expand_array);
    case EVTCHNOP_set_priority: return sizeof(struct evtchn_set_priority);
    default: return 0;
    }
}

long evtchn_do(struct domain *d, unsigned int cmd, void *a)
{
    switch (cmd) {
    case EVTCHNOP_alloc_unbound: return evtchn_alloc_unbound(d, a);
    case EVTCHNOP_bind_interdomain: return evtchn_bind_interdomain(d, a);
    case EVTCHNOP_bind_virq: return evtchn_bind_virq(d, a);
    case EVTCHNOP_bind_ipi: return evtchn_bind_ipi(d, a);
    case EVTCHNOP_close: return evtchn_close(d, ((struct evtchn_close *)a)->port);
    case EVTCHNOP_send: return evtchn_send(d, ((struct evtchn_send *)a)->port);
    case EVTCHNOP_status: return evtchn_status(d, a);
    case EVTCHNOP_unmask: return evtchn_unmask(d, ((struct evtchn_unmask *)a)->port);
    case EVTCHNOP_reset: return evtchn_reset(d, ((struct evtchn_reset *)a)->dom);
    case EVTCHNOP_bind_vcpu: return evtchn_bind_vcpu(d, a);
    case EVTCHNOP_init_control:
        return d->nr_vcpus ? evtchn_fifo_init_control(d, a) : -EOPNOTSUPP;
    case EVTCHNOP_expand_array:
        return evtchn_fifo_expand_array(d, ((struct evtchn_expand_array *)a)->array_gfn);
    case EVTCHNOP_set_priority: return evtchn_set_priority(d, a);
    default: return -ENOSYS;
    }
}

/* Copy the argument in, run the operation, copy it back when it worked
 * and the operation has results (never for EVTCHNOP_send, the hot one). */
long do_event_channel_op(uint64_t cmd, uint64_t arg)
{
    uint8_t a[32];
    bool out;

    if (cmd == EVTCHNOP_send) {
        /* The hot one: its port read with one guarded load, no switch
         * (a jump table: an indirect jump, under QEMU TCG a lookup). */
        uint32_t port;
        if (!guest_range_ok(arg, sizeof(port)))
            return -EFAULT;
        guest_load(port, arg, unreadable);
        return evtchn_send(current->domain, port);
    }

    size_t size = evtchn_arg_size(cmd, &out);

    if (!size)
        return hypercall_unimplemented(__HYPERVISOR_event_channel_op, cmd);
    if (copy_from_guest(a, arg, size))
        return -EFAULT;
    long rc = evtchn_do(current->domain, (unsigned int)cmd, a);
    if (!rc && out && copy_to_guest(arg, a, size))
        return -EFAULT;
    return rc;
unreadable:
    return -EFAULT;
}
