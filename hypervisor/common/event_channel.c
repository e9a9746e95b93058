/* Event channels: the 2-level ABI (see hv/event.h for the model).
 *
 * Owns: each domain's port table (d->evtchn, d->max_evtchns), the VIRQ
 * bindings of its vCPUs, the pending/mask bits in shared_info as far as
 * the hypervisor writes them.
 * Invariants: port 0 is never handed out; an INTERDOMAIN port's peer names
 * it back (closing one end turns the other into UNBOUND for the closer's
 * domain, so a later send there is a clean -ENOTCONN-free no-op error);
 * a VIRQ is bound to at most one port per vCPU.
 * Locking: d->event_lock; two domains' locks are taken lower domid first.
 * Setting pending bits uses atomics only, so it needs no receiver lock. */
#include <public/event_channel.h>
#include "asm/page.h"
#include "hv/control.h"
#include "hv/event.h"
#include "hv/guest_access.h"
#include "hv/hypercall.h"
#include "hv/lib.h"
#include "hv/mm.h"
#include "hv/printk.h"
#include "hv/schedule.h"
#include "hv/smp.h"
#include "asm/percpu.h"

#define BITS_PER_WORD 64

static bool virq_is_global(unsigned int virq)
{
    return virq != VIRQ_TIMER && virq != VIRQ_DEBUG && virq != VIRQ_XENOPROF &&
           virq != VIRQ_XENPMU;
}

int evtchn_init(struct domain *d, unsigned int max_ports)
{
    size_t bytes = ALIGN_UP((size_t)max_ports * sizeof(struct evtchn), PAGE_SIZE);
    unsigned int order = 0;
    while ((PAGE_SIZE << order) < bytes)
        order++;
    int64_t mfn = alloc_frames(order);
    if (mfn < 0)
        return -ENOMEM;
    d->evtchn = mfn_to_virt((mfn_t)mfn);
    memset(d->evtchn, 0, PAGE_SIZE << order);
    d->max_evtchns = max_ports;
    d->event_lock = (spinlock_t)SPINLOCK_INIT;
    d->evtchn[0].state = ECS_RESERVED;
    return 0;
}

static struct evtchn *port_of(struct domain *d, uint32_t port)
{
    return port < d->max_evtchns ? &d->evtchn[port] : NULL;
}

static int get_free_port(struct domain *d)
{
    for (uint32_t p = 1; p < d->max_evtchns; p++)
        if (d->evtchn[p].state == ECS_FREE)
            return (int)p;
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
    struct shared_info *si = v->domain->shared_info;
    for (unsigned int i = 0; i < v->nr_poll_ports; i++) {
        uint32_t p = v->poll_ports[i];
        if (__atomic_load_n(&si->evtchn_pending[p / BITS_PER_WORD], __ATOMIC_ACQUIRE) &
            (1UL << (p % BITS_PER_WORD)))
            return true;
    }
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

/* Domain 0 has no vCPU in the machine: its pending bits are read by the
 * toolstack through shared memory, and the doorbell tells it to look. */
static void set_pending_dom0(struct domain *d, uint32_t port)
{
    uint64_t bit = 1UL << (port % BITS_PER_WORD);
    if (!(__atomic_fetch_or(&d->shared_info->evtchn_pending[port / BITS_PER_WORD], bit,
                            __ATOMIC_SEQ_CST) & bit))
        control_kick_dom0();
}

/* Set port pending for vCPU v's domain; notify v if unmasked. */
static void set_pending(struct vcpu *v, uint32_t port)
{
    struct shared_info *si = v->domain->shared_info;
    uint64_t bit = 1UL << (port % BITS_PER_WORD);
    unsigned int word = port / BITS_PER_WORD;

    if (__atomic_fetch_or(&si->evtchn_pending[word], bit, __ATOMIC_SEQ_CST) & bit)
        return;                         /* already pending: nothing new */
    if (!(__atomic_load_n(&si->evtchn_mask[word], __ATOMIC_SEQ_CST) & bit) &&
        !(__atomic_fetch_or(&v->vcpu_info->evtchn_pending_sel, 1UL << word,
                            __ATOMIC_SEQ_CST) & (1UL << word)))
        __atomic_store_n(&v->vcpu_info->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST);
    vcpu_kick(v);
}

static struct vcpu *notify_vcpu(struct domain *d, const struct evtchn *ch)
{
    unsigned int i = ch->notify_vcpu < d->nr_vcpus ? ch->notify_vcpu : 0;
    return d->vcpus[i];
}

/* Mark port pending in d, whichever kind of domain it is. */
static void raise_port(struct domain *d, const struct evtchn *ch, uint32_t port)
{
    if (!d->nr_vcpus)
        set_pending_dom0(d, port);
    else
        set_pending(notify_vcpu(d, ch), port);
}

void evtchn_notify(struct domain *d, uint32_t port)
{
    struct evtchn *ch = port_of(d, port);
    if (ch && ch->state != ECS_FREE)
        raise_port(d, ch, port);
}

void send_virq(struct vcpu *v, unsigned int virq)
{
    int port = virq < 24 ? v->virq_port[virq] : 0;
    if (port > 0)
        set_pending(v, (uint32_t)port);
}

void send_global_virq(struct domain *d, unsigned int virq)
{
    if (d->nr_vcpus && d->vcpus[0])
        send_virq(d->vcpus[0], virq);
}

static struct domain *target_domain(struct domain *self, domid_t id)
{
    if (id == DOMID_SELF || id == self->id)
        return self;
    return domain_by_id(id);
}

static long evtchn_alloc_unbound(struct domain *self, struct evtchn_alloc_unbound *a)
{
    struct domain *d = target_domain(self, a->dom);
    if (d != self)
        return -EPERM;                  /* only Domain 0 may do this for others */
    domid_t remote = a->remote_dom == DOMID_SELF ? self->id : a->remote_dom;
    uint64_t f = spin_lock_irqsave(&d->event_lock);
    int port = get_free_port(d);
    if (port > 0) {
        d->evtchn[port].state = ECS_UNBOUND;
        d->evtchn[port].notify_vcpu = 0;
        d->evtchn[port].u.remote_domid = remote;
        a->port = (uint32_t)port;
    }
    spin_unlock_irqrestore(&d->event_lock, f);
    return port > 0 ? 0 : port;
}

static long evtchn_bind_interdomain(struct domain *ld, struct evtchn_bind_interdomain *b)
{
    struct domain *rd = target_domain(ld, b->remote_dom);
    if (!rd || rd->state == DOM_DEAD)
        return -ESRCH;
    uint64_t fl = 0, fr = 0;
    lock_pair(ld, rd, &fl, &fr);
    long rc;
    struct evtchn *rch = port_of(rd, b->remote_port);
    int lport = get_free_port(ld);
    if (!rch || rch->state != ECS_UNBOUND || rch->u.remote_domid != ld->id)
        rc = -EINVAL;
    else if (lport < 0)
        rc = lport;
    else {
        struct evtchn *lch = &ld->evtchn[lport];
        lch->state = ECS_INTERDOMAIN;
        lch->notify_vcpu = 0;
        lch->u.interdomain.dom = rd->id;
        lch->u.interdomain.port = b->remote_port;
        rch->state = ECS_INTERDOMAIN;
        rch->u.interdomain.dom = ld->id;
        rch->u.interdomain.port = (uint32_t)lport;
        b->local_port = (uint32_t)lport;
        rc = 0;
    }
    unlock_pair(ld, rd, fl, fr);
    /* The remote end may have had events sent before: deliver one now, as
     * Xen does, so that nothing sent across the bind is lost. */
    if (!rc)
        raise_port(ld, &ld->evtchn[b->local_port], b->local_port);
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
    if (v->virq_port[b->virq])
        rc = -EEXIST;
    else if ((port = get_free_port(d)) < 0)
        rc = port;
    else {
        d->evtchn[port].state = ECS_VIRQ;
        d->evtchn[port].notify_vcpu = (uint16_t)b->vcpu;
        d->evtchn[port].u.virq = b->virq;
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
        d->evtchn[port].state = ECS_IPI;
        d->evtchn[port].notify_vcpu = (uint16_t)b->vcpu;
        b->port = (uint32_t)port;
    }
    spin_unlock_irqrestore(&d->event_lock, f);
    return port > 0 ? 0 : port;
}

/* Close with d->event_lock (and the peer's, if interdomain) held. */
static void close_port_locked(struct domain *d, uint32_t port)
{
    struct evtchn *ch = &d->evtchn[port];
    if (ch->state == ECS_VIRQ) {
        struct vcpu *v = d->vcpus[ch->notify_vcpu < d->nr_vcpus ? ch->notify_vcpu : 0];
        if (v && ch->u.virq < 24 && v->virq_port[ch->u.virq] == (int)port)
            v->virq_port[ch->u.virq] = 0;
    }
    memset(ch, 0, sizeof(*ch));
    ch->state = ECS_FREE;
    __atomic_fetch_and(&d->shared_info->evtchn_pending[port / BITS_PER_WORD],
                       ~(1UL << (port % BITS_PER_WORD)), __ATOMIC_SEQ_CST);
}

static long evtchn_close(struct domain *d, uint32_t port)
{
    uint64_t f = spin_lock_irqsave(&d->event_lock);
    struct evtchn *ch = port_of(d, port);
    if (!ch || ch->state == ECS_FREE || ch->state == ECS_RESERVED) {
        spin_unlock_irqrestore(&d->event_lock, f);
        return -EINVAL;
    }
    if (ch->state != ECS_INTERDOMAIN) {
        close_port_locked(d, port);
        spin_unlock_irqrestore(&d->event_lock, f);
        return 0;
    }
    /* Interdomain: retake both locks in order, then re-check. */
    domid_t rid = ch->u.interdomain.dom;
    spin_unlock_irqrestore(&d->event_lock, f);
    struct domain *rd = domain_by_id(rid);
    if (!rd)
        rd = d;
    uint64_t fl = 0, fr = 0;
    lock_pair(d, rd, &fl, &fr);
    ch = &d->evtchn[port];
    if (ch->state == ECS_INTERDOMAIN && ch->u.interdomain.dom == rd->id) {
        struct evtchn *rch = port_of(rd, ch->u.interdomain.port);
        if (rch && rch->state == ECS_INTERDOMAIN && rch->u.interdomain.dom == d->id) {
            /* The peer waits for us to bind again. */
            rch->state = ECS_UNBOUND;
            rch->u.remote_domid = d->id;
        }
    }
    if (ch->state != ECS_FREE)
        close_port_locked(d, port);
    unlock_pair(d, rd, fl, fr);
    return 0;
}

static long evtchn_send(struct domain *d, uint32_t port)
{
    uint64_t f = spin_lock_irqsave(&d->event_lock);
    struct evtchn *ch = port_of(d, port);
    long rc = 0;
    if (!ch) {
        rc = -EINVAL;
    } else if (ch->state == ECS_INTERDOMAIN) {
        struct domain *rd = domain_by_id(ch->u.interdomain.dom);
        if (ch->u.interdomain.dom == d->id)
            rd = d;
        struct evtchn *rch = rd ? port_of(rd, ch->u.interdomain.port) : NULL;
        if (rch)
            raise_port(rd, rch, ch->u.interdomain.port);
    } else if (ch->state == ECS_IPI && d->nr_vcpus) {
        set_pending(notify_vcpu(d, ch), port);
    } else if (ch->state == ECS_UNBOUND) {
        rc = 0;                         /* nobody listens yet: dropped, as in Xen */
    } else {
        rc = -EINVAL;
    }
    spin_unlock_irqrestore(&d->event_lock, f);
    return rc;
}

static long evtchn_status(struct domain *self, struct evtchn_status *s)
{
    struct domain *d = target_domain(self, s->dom);
    if (!d)
        return -ESRCH;
    if (d != self)
        return -EPERM;
    uint64_t f = spin_lock_irqsave(&d->event_lock);
    struct evtchn *ch = port_of(d, s->port);
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
    struct shared_info *si = d->shared_info;
    if (port >= d->max_evtchns)
        return -EINVAL;
    uint64_t bit = 1UL << (port % BITS_PER_WORD);
    unsigned int word = port / BITS_PER_WORD;
    if (!d->nr_vcpus) {
        __atomic_fetch_and(&si->evtchn_mask[word], ~bit, __ATOMIC_SEQ_CST);
        return 0;
    }
    struct vcpu *v = notify_vcpu(d, &d->evtchn[port]);
    /* Clearing the mask of a pending port notifies, as if it were sent now. */
    if ((__atomic_fetch_and(&si->evtchn_mask[word], ~bit, __ATOMIC_SEQ_CST) & bit) &&
        (__atomic_load_n(&si->evtchn_pending[word], __ATOMIC_SEQ_CST) & bit) &&
        !(__atomic_fetch_or(&v->vcpu_info->evtchn_pending_sel, 1UL << word,
                            __ATOMIC_SEQ_CST) & (1UL << word))) {
        __atomic_store_n(&v->vcpu_info->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST);
        vcpu_kick(v);
    }
    return 0;
}

static long evtchn_reset(struct domain *self, domid_t dom)
{
    struct domain *d = target_domain(self, dom);
    if (d != self)
        return -EPERM;
    for (uint32_t p = 1; p < d->max_evtchns; p++)
        if (d->evtchn[p].state != ECS_FREE)
            evtchn_close(d, p);
    return 0;
}

static long evtchn_bind_vcpu(struct domain *d, struct evtchn_bind_vcpu *b)
{
    if (b->vcpu >= d->nr_vcpus || !d->vcpus[b->vcpu])
        return -ENOENT;
    uint64_t f = spin_lock_irqsave(&d->event_lock);
    struct evtchn *ch = port_of(d, b->port);
    long rc = 0;
    if (!ch || ch->state == ECS_FREE || ch->state == ECS_RESERVED)
        rc = -EINVAL;
    else if (ch->state == ECS_IPI || (ch->state == ECS_VIRQ && !virq_is_global(ch->u.virq)))
        rc = -EINVAL;
    else
        ch->notify_vcpu = (uint16_t)b->vcpu;
    spin_unlock_irqrestore(&d->event_lock, f);
    return rc;
}

void evtchn_destroy(struct domain *d)
{
    if (!d->evtchn)
        return;
    for (uint32_t p = 1; p < d->max_evtchns; p++)
        if (d->evtchn[p].state != ECS_FREE)
            evtchn_close(d, p);
    size_t bytes = ALIGN_UP((size_t)d->max_evtchns * sizeof(struct evtchn), PAGE_SIZE);
    unsigned int order = 0;
    while ((PAGE_SIZE << order) < bytes)
        order++;
    free_frames(virt_to_mfn(d->evtchn), order);
    d->evtchn = NULL;
}

/* Argument size of each operation (0: not supported). */
static size_t evtchn_arg_size(uint64_t cmd)
{
    switch (cmd) {
    case EVTCHNOP_alloc_unbound: return sizeof(struct evtchn_alloc_unbound);
    case EVTCHNOP_bind_interdomain: return sizeof(struct evtchn_bind_interdomain);
    case EVTCHNOP_bind_virq: return sizeof(struct evtchn_bind_virq);
    case EVTCHNOP_bind_ipi: return sizeof(struct evtchn_bind_ipi);
    case EVTCHNOP_close: return sizeof(struct evtchn_close);
    case EVTCHNOP_send: return sizeof(struct evtchn_send);
    case EVTCHNOP_status: return sizeof(struct evtchn_status);
    case EVTCHNOP_unmask: return sizeof(struct evtchn_unmask);
    case EVTCHNOP_reset: return sizeof(struct evtchn_reset);
    case EVTCHNOP_bind_vcpu: return sizeof(struct evtchn_bind_vcpu);
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
    default: return -ENOSYS;
    }
}

/* Copy the argument in, run the operation, copy it back when it worked. */
long do_event_channel_op(uint64_t cmd, uint64_t arg)
{
    uint8_t a[32];
    size_t size = evtchn_arg_size(cmd);

    if (!size)
        return hypercall_unimplemented(__HYPERVISOR_event_channel_op, cmd);
    if (copy_from_guest(a, arg, size))
        return -EFAULT;
    long rc = evtchn_do(current->domain, (unsigned int)cmd, a);
    if (!rc && copy_to_guest(arg, a, size))
        return -EFAULT;
    return rc;
}
