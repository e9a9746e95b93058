/* Event channels, the FIFO ABI (EVTCHNOP_init_control, expand_array,
 * set_priority), behaving as Xen 4.17's event_fifo.c.
 *
 * Owns: a domain's FIFO state (struct evtchn_fifo_domain): the guest
 * frames it maps (one control block per vCPU, up to EVTCHN_FIFO_MAX_PAGES
 * event-array pages), each holding a general reference and a writable type
 * reference so that the guest can neither free them nor make them page
 * tables while the hypervisor writes there; and the hypervisor's half of
 * each queue (its tail). Queues are per vCPU and per priority (0 highest
 * .. 15); their heads and a ready bit per queue are in the control block.
 *
 * Raising a port (set_pending): PENDING is set in its event word; if the
 * word is not MASKED and not yet LINKED, LINKED is set and the port is
 * appended to the queue of the notified vCPU at the channel's priority:
 * the current tail's LINK field is set with cmpxchg while that tail is
 * still LINKED (the guest may unlink it at any time; BUSY stops the guest
 * from unmasking it meanwhile); if the tail was already consumed the
 * queue was empty and the port becomes the head, and the queue's ready
 * bit (set only for a new head) raises evtchn_upcall_pending. A port
 * whose queue changed (bind_vcpu, set_priority) is appended to the new
 * queue the next time it is linked; if it was the tail of its old queue,
 * that tail is forgotten, so the old queue is never linked through it.
 * A port with no event word yet (beyond the array) keeps its pending
 * state in the channel and is raised when expand_array adds its page;
 * so do ports bound under the 2-level ABI before init_control, whose
 * 2-level pending bits are carried over.
 *
 * Invariants: fifo->nr_pages pages are mapped, in order, and the ports
 * they cover are the only ones with event words; a vCPU's queues are
 * used only once its control block is mapped (events for a vCPU without
 * one are dropped, PENDING untouched, as in Xen 4.17); every frame reference taken is dropped at reset or
 * domain destruction (evtchn_fifo_teardown).
 *
 * Locking: everything here runs with d->event_lock held (event_channel.c
 * takes it for every raise, unmask and clear), so unlike Xen there are no
 * per-queue locks and no "lost event after too many queue changes": queue
 * moves are serialised. The guest's words change concurrently, hence the
 * atomic operations on them. Frame references are taken before the lock
 * and dropped after it (they take the owner's mm_lock). */
#include "hv/errno.h"
#include "hv/event.h"
#include "hv/lib.h"
#include "hv/mm.h"
#include "hv/pagetype.h"
#include "hv/printk.h"

#define W_PENDING (1u << EVTCHN_FIFO_PENDING)
#define W_MASKED  (1u << EVTCHN_FIFO_MASKED)
#define W_LINKED  (1u << EVTCHN_FIFO_LINKED)
#define W_BUSY    (1u << EVTCHN_FIFO_BUSY)

struct evtchn_fifo_vcpu {
    struct evtchn_fifo_control_block *cb;   /* NULL: not initialised */
    mfn_t cb_mfn;
    uint32_t tail[EVTCHN_FIFO_MAX_QUEUES];  /* 0: empty */
};

struct evtchn_fifo_domain {
    bool active;                            /* the domain uses the FIFO ABI */
    unsigned int nr_pages;                  /* event-array pages mapped */
    event_word_t *array[EVTCHN_FIFO_MAX_PAGES];
    mfn_t array_mfn[EVTCHN_FIFO_MAX_PAGES];
    struct evtchn_fifo_vcpu vcpu[MAX_VCPUS];
};
_Static_assert(sizeof(struct evtchn_fifo_domain) <= PAGE_SIZE, "FIFO state fits a page");

static event_word_t *word_of(const struct domain *d, uint32_t port)
{
    const struct evtchn_fifo_domain *f = __atomic_load_n(&d->evtchn_fifo, __ATOMIC_ACQUIRE);
    if (!f)
        return NULL;
    unsigned int page = port / EVTCHN_FIFO_WORDS_PER_PAGE;
    if (page >= __atomic_load_n(&f->nr_pages, __ATOMIC_ACQUIRE))
        return NULL;
    event_word_t *a = __atomic_load_n(&f->array[page], __ATOMIC_ACQUIRE);
    return a ? &a[port % EVTCHN_FIFO_WORDS_PER_PAGE] : NULL;
}

static uint32_t word_load(const event_word_t *w)
{
    return __atomic_load_n(w, __ATOMIC_SEQ_CST);
}

static bool test_and_set(event_word_t *w, uint32_t bit)
{
    return __atomic_fetch_or(w, bit, __ATOMIC_SEQ_CST) & bit;
}

/* Set the LINK of a word still LINKED: 1 done, 0 the word is no longer
 * linked (the guest consumed it), -1 the guest changed it meanwhile. */
static int try_set_link(event_word_t *word, uint32_t *w, uint32_t link)
{
    if (!(*w & W_LINKED))
        return 0;
    uint32_t want = (*w & ~(W_BUSY | EVTCHN_FIFO_LINK_MASK)) | link;
    if (__atomic_compare_exchange_n(word, w, want, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
        return 1;
    return -1;
}

/* Link the tail word to port. The guest may only set or clear MASKED,
 * clear PENDING or unlink a linked word; with BUSY set it does not
 * unmask, so after BUSY a few attempts suffice (Xen's reasoning). */
static bool set_link(const struct domain *d, event_word_t *word, uint32_t link)
{
    uint32_t w = word_load(word);
    int r = try_set_link(word, &w, link);
    if (r >= 0)
        return r;
    __atomic_fetch_or(word, W_BUSY, __ATOMIC_SEQ_CST);
    w = word_load(word);
    for (unsigned int tries = 0; tries < 4; tries++) {
        r = try_set_link(word, &w, link);
        if (r >= 0) {
            if (r == 0)
                __atomic_fetch_and(word, ~W_BUSY, __ATOMIC_SEQ_CST);
            return r;
        }
    }
    pr_debug("domain %u: FIFO port %u not linked (tail word keeps changing)", d->id, link);
    __atomic_fetch_and(word, ~W_BUSY, __ATOMIC_SEQ_CST);
    return true;
}

static void fifo_set_pending(struct domain *d, struct vcpu *v, struct evtchn *ch, uint32_t port)
{
    struct evtchn_fifo_domain *f = d->evtchn_fifo;
    event_word_t *word = word_of(d, port);

    if (!word) {
        ch->pending = true;             /* raised when its page arrives */
        return;
    }
    struct evtchn_fifo_vcpu *fv = &f->vcpu[v->id];
    if (!fv->cb) {
        /* Dropped, PENDING not even set: Xen 4.17 does the same (the
         * guest must not unmask before the block exists). */
        pr_debug("domain %u: vCPU %u has no FIFO control block (port %u)", d->id, v->id,
                 port);
        return;
    }
    bool was_pending = test_and_set(word, W_PENDING);
    if (!(word_load(word) & W_MASKED) && !test_and_set(word, W_LINKED)) {
        unsigned int prio = ch->priority;
        uint32_t *old_tail = &f->vcpu[ch->last_vcpu].tail[ch->last_priority];
        if (*old_tail == port)
            *old_tail = 0;              /* its old queue is empty now */
        ch->last_vcpu = (uint8_t)v->id;
        ch->last_priority = (uint8_t)prio;

        uint32_t *tail = &fv->tail[prio];
        event_word_t *tail_word = *tail ? word_of(d, *tail) : NULL;
        bool linked = tail_word && set_link(d, tail_word, port);
        if (!linked)
            __atomic_store_n(&fv->cb->head[prio], port, __ATOMIC_SEQ_CST);
        *tail = port;
        if (!linked && !(__atomic_fetch_or(&fv->cb->ready, 1u << prio, __ATOMIC_SEQ_CST) &
                         (1u << prio)))
            vcpu_mark_events_pending(v);
    }
    if (!was_pending)
        vcpu_kick(v);                   /* a poller of this port */
}

static void fifo_clear_pending(struct domain *d, struct evtchn *ch, uint32_t port)
{
    event_word_t *word = word_of(d, port);
    ch->pending = false;
    /* The guest unlinks (and ignores) events no longer pending. */
    if (word)
        __atomic_fetch_and(word, ~W_PENDING, __ATOMIC_SEQ_CST);
}

static void fifo_unmask(struct domain *d, struct vcpu *v, struct evtchn *ch, uint32_t port)
{
    event_word_t *word = word_of(d, port);
    if (!word)
        return;
    __atomic_fetch_and(word, ~W_MASKED, __ATOMIC_SEQ_CST);
    if (word_load(word) & W_PENDING)
        fifo_set_pending(d, v, ch, port);
}

static bool fifo_is_pending(const struct domain *d, uint32_t port)
{
    const event_word_t *word = word_of(d, port);
    return word && (word_load(word) & W_PENDING);
}

static bool fifo_is_busy(const struct domain *d, uint32_t port)
{
    const event_word_t *word = word_of(d, port);
    return word && (word_load(word) & W_LINKED);
}

static int fifo_set_priority(struct domain *d, struct evtchn *ch, unsigned int priority)
{
    (void)d;
    if (priority > EVTCHN_FIFO_PRIORITY_MIN)
        return -EINVAL;
    /* Future links use the new queue; a linked event stays where it is. */
    ch->priority = (uint8_t)priority;
    return 0;
}

const struct evtchn_port_ops evtchn_fifo_ops = {
    .name = "FIFO",
    .set_pending = fifo_set_pending,
    .clear_pending = fifo_clear_pending,
    .unmask = fifo_unmask,
    .is_pending = fifo_is_pending,
    .is_busy = fifo_is_busy,
    .set_priority = fifo_set_priority,
};

/* A frame of d that the hypervisor may write: general and writable type
 * references, as Xen's map_guest_page. PV guests name frames by mfn. */
static int get_guest_frame(struct domain *d, uint64_t gfn)
{
    if (gfn >= max_mfn || get_page_and_type((mfn_t)gfn, d, PGT_writable))
        return -EINVAL;
    return 0;
}

/* Switch d to FIFO (lock held): the 2-level pending state of the ports
 * already bound is kept in the channels until their event words exist,
 * and they get the default priority (Xen's setup_ports). */
static void switch_to_fifo(struct domain *d)
{
    for (uint32_t p = 1; p < d->max_evtchns; p++) {
        struct evtchn *ch = evtchn_port(d, p);
        if (!ch || ch->state == ECS_FREE)
            continue;
        ch->pending = evtchn_2l_ops.is_pending(d, p);
        ch->priority = EVTCHN_FIFO_PRIORITY_DEFAULT;
        ch->last_vcpu = 0;
        ch->last_priority = 0;
    }
    d->evtchn_fifo->active = true;
    __atomic_store_n(&d->evtchn_ops, &evtchn_fifo_ops, __ATOMIC_RELEASE);
    __atomic_store_n(&d->max_evtchns, EVTCHN_FIFO_MAX_PORTS, __ATOMIC_RELEASE);
}

long evtchn_fifo_init_control(struct domain *d, struct evtchn_init_control *ic)
{
    /* Checked in Xen's order: vCPU, offset (whole block in the page, 8-byte
     * aligned), the frame, then whether this vCPU already has one. */
    ic->link_bits = EVTCHN_FIFO_LINK_BITS;
    if (ic->vcpu >= d->nr_vcpus || !d->vcpus[ic->vcpu])
        return -ENOENT;
    if (ic->offset > PAGE_SIZE - sizeof(struct evtchn_fifo_control_block) || (ic->offset & 7))
        return -EINVAL;
    if (get_guest_frame(d, ic->control_gfn))
        return -EINVAL;

    long rc = 0;
    uint64_t fl = spin_lock_irqsave(&d->event_lock);
    if (!d->evtchn_fifo) {
        struct evtchn_fifo_domain *f = alloc_hv_page();
        if (f)
            __atomic_store_n(&d->evtchn_fifo, f, __ATOMIC_RELEASE);
        else
            rc = -ENOMEM;
    }
    if (!rc) {
        struct evtchn_fifo_vcpu *fv = &d->evtchn_fifo->vcpu[ic->vcpu];
        if (fv->cb) {
            rc = -EINVAL;               /* initialised already, as Xen */
        } else {
            memset(fv->tail, 0, sizeof(fv->tail));
            fv->cb_mfn = (mfn_t)ic->control_gfn;
            __atomic_store_n(&fv->cb, (struct evtchn_fifo_control_block *)
                             ((char *)mfn_to_virt(fv->cb_mfn) + ic->offset), __ATOMIC_RELEASE);
            if (!d->evtchn_fifo->active)
                switch_to_fifo(d);
        }
    }
    spin_unlock_irqrestore(&d->event_lock, fl);
    if (rc)
        put_page_and_type((mfn_t)ic->control_gfn);
    else
        pr_debug("domain %u: FIFO control block of vCPU %u at mfn %#lx+%u", d->id, ic->vcpu,
                 (unsigned long)ic->control_gfn, ic->offset);
    return rc;
}

long evtchn_fifo_expand_array(struct domain *d, uint64_t gfn)
{
    struct evtchn_fifo_domain *f = __atomic_load_n(&d->evtchn_fifo, __ATOMIC_ACQUIRE);
    if (!f || !f->active)
        return -EOPNOTSUPP;
    if (__atomic_load_n(&f->nr_pages, __ATOMIC_ACQUIRE) >= EVTCHN_FIFO_MAX_PAGES)
        return -ENOSPC;
    if (get_guest_frame(d, gfn))
        return -EINVAL;

    long rc = 0;
    uint64_t fl = spin_lock_irqsave(&d->event_lock);
    unsigned int slot = f->nr_pages;
    if (!f->active) {
        rc = -EOPNOTSUPP;               /* reset meanwhile */
    } else if (slot >= EVTCHN_FIFO_MAX_PAGES) {
        rc = -ENOSPC;
    } else {
        f->array_mfn[slot] = (mfn_t)gfn;
        __atomic_store_n(&f->array[slot], mfn_to_virt((mfn_t)gfn), __ATOMIC_RELEASE);
        __atomic_store_n(&f->nr_pages, slot + 1, __ATOMIC_RELEASE);
        /* Raise what was sent while the page was missing. */
        uint32_t first = slot * EVTCHN_FIFO_WORDS_PER_PAGE;
        for (uint32_t p = first ? first : 1; p < first + EVTCHN_FIFO_WORDS_PER_PAGE; p++) {
            struct evtchn *ch = evtchn_port(d, p);
            if (!ch || ch->state == ECS_FREE || !ch->pending)
                continue;
            ch->pending = false;
            unsigned int vi = ch->notify_vcpu < d->nr_vcpus ? ch->notify_vcpu : 0;
            fifo_set_pending(d, d->vcpus[vi], ch, p);
        }
    }
    spin_unlock_irqrestore(&d->event_lock, fl);
    if (rc)
        put_page_and_type((mfn_t)gfn);
    return rc;
}

unsigned int evtchn_fifo_teardown(struct domain *d, mfn_t *frames, unsigned int max)
{
    struct evtchn_fifo_domain *f = d->evtchn_fifo;
    unsigned int n = 0;
    if (!f)
        return 0;
    for (unsigned int i = 0; i < MAX_VCPUS; i++) {
        struct evtchn_fifo_vcpu *fv = &f->vcpu[i];
        if (fv->cb) {
            BUG_ON(n >= max);
            frames[n++] = fv->cb_mfn;
        }
        __atomic_store_n(&fv->cb, NULL, __ATOMIC_RELEASE);
        memset(fv->tail, 0, sizeof(fv->tail));
    }
    unsigned int pages = f->nr_pages;
    __atomic_store_n(&f->nr_pages, 0, __ATOMIC_RELEASE);
    for (unsigned int i = 0; i < pages; i++) {
        BUG_ON(n >= max);
        frames[n++] = f->array_mfn[i];
        __atomic_store_n(&f->array[i], NULL, __ATOMIC_RELEASE);
    }
    f->active = false;
    return n;
}

void evtchn_fifo_free(struct domain *d)
{
    /* Only at destruction: lockless readers (SCHEDOP_poll) may still look
     * at the state until then, so a reset keeps the page. */
    if (d->evtchn_fifo)
        free_hv_page(d->evtchn_fifo);
    d->evtchn_fifo = NULL;
}
