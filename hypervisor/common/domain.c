/* Domains: creation, lookup and destruction (their state changes after
 * creation, shutdown and crash included, are domain_state.c's).
 *
 * Owns: the domain table (domid -> struct domain), struct domain/vcpu
 * memory, each domain's shared_info frame.
 * Invariants:
 *  - domid 0 is Domain 0 and never created here; guests get increasing
 *    ids from 1 that wrap below DOMID_FIRST_RESERVED, as Xen hands them
 *    out: an id is not used again until the whole range has gone round,
 *    so a toolstack never mistakes a new domain for one just destroyed;
 *  - domain d sits in slot domid_slot(d->id); the allocator skips ids
 *    whose slot is taken (and those of slot 0, Domain 0's);
 *  - every guest domain in the table is in live[0..nr_live) exactly once,
 *    at d->live_index, in creation order (a removal shifts the tail down);
 *    walks over the domains use it, so they cost what exists;
 *  - a domain in DOM_SHUTDOWN keeps its frames until domain_destroy, which
 *    runs only when none of its vCPUs is loaded on a CPU (the scheduler's
 *    reaper calls it after switching away);
 *  - after domain_destroy every frame the domain owned is back in the heap
 *    (or held by whoever still references it, e.g. a grant mapping);
 *  - d->refcnt counts the table's reference (dropped by domain_destroy) and
 *    one per get_*; the struct, its vCPUs and its event-channel buckets
 *    are freed by the put that takes it to 0, never before; a count that
 *    would go below 0 or a struct whose magic is gone is a BUG;
 *  - a domain is in the table from the moment it has an id (the slot is
 *    taken) but get_domain_by_id finds it only once domain_create has
 *    initialised every lock and table (d->published): a binding to a
 *    half-made domain once took its event lock before evtchn_init reset
 *    it, and every later taker spun forever. The other lookups see it (a
 *    frame it owns must find its owner, also when a failed creation
 *    gives its frames back);
 *  - d->state is set here only while the domain is being made (nobody
 *    can find it yet); every later change is domain_state.c's, under
 *    d->lock. DOM_DEAD is final and set (domain_set_dead) before teardown
 *    starts; get_domain_by_id refuses a dead domain, and whoever got one
 *    just before sees DOM_DEAD under d->lock.
 * Locking: domlist_lock is a leaf (taken under d->lock and the mm locks
 * by frame-owner lookups); d->lock guards state changes (see hv/domain.h). */
#include "asm/page.h"
#include "asm/percpu.h"
#include "hv/domain.h"
#include "hv/errno.h"
#include "hv/event.h"
#include "hv/grant_table.h"
#include "asm/guest_mm.h"
#include "hv/lib.h"
#include "hv/mm.h"
#include "hv/pagetype.h"
#include "hv/printk.h"
#include "hv/pv.h"
#include "hv/timer.h"

static spinlock_t domlist_lock = SPINLOCK_INIT;
static struct domain *domains[MAX_DOMAINS];
static domid_t next_domid = 1;          /* under domlist_lock */
static struct domain *live[MAX_DOMAINS];    /* guests, dense; under domlist_lock */
static unsigned int nr_live;

/* Page-granular allocation of hypervisor structures. */
static unsigned int order_for(size_t size)
{
    unsigned int order = 0;
    while ((PAGE_SIZE << order) < size)
        order++;
    return order;
}

/* An idle single-vCPU domain costs the hypervisor four pages: struct
 * domain (with its grant table's header, its event-channel bucket
 * pointers and first EVTCHN_INLINE_PORTS ports), its vCPU, shared_info
 * and the first frame of its grant table; a page of ports comes with the
 * first port beyond those, a page of active grant entries with the first
 * pin of a grant in its range (docs/performance.md, `make bench-create`).
 * struct domain has about 100 bytes to spare: what grows it past a page
 * costs every domain a page. */
_Static_assert(sizeof(struct domain) <= PAGE_SIZE, "a domain fits one page");
_Static_assert(sizeof(struct vcpu) <= PAGE_SIZE, "a vCPU fits one page");

static void *struct_alloc(size_t size)
{
    int64_t mfn = alloc_frames(order_for(size));
    if (mfn < 0)
        return NULL;
    void *p = mfn_to_virt((mfn_t)mfn);
    memset(p, 0, PAGE_SIZE << order_for(size));
    for (uint64_t i = 0; i < (1UL << order_for(size)); i++)
        frame_table[mfn + i].owner = OWNER_HV;
    return p;
}

static void struct_free(void *p, size_t size)
{
    if (p)
        free_frames(virt_to_mfn(p), order_for(size));
}

/* The domain in slot for id (any state) with a new reference, or NULL.
 * domlist_lock held: the table's reference keeps it alive meanwhile. */
static struct domain *get_locked(struct domain *d)
{
    if (d) {
        ASSERT(d->magic == DOMAIN_MAGIC);
        uint32_t old = __atomic_fetch_add(&d->refcnt, 1, __ATOMIC_ACQUIRE);
        BUG_ON(old == 0);               /* in the table means referenced */
    }
    return d;
}

struct domain *get_domain_by_id(domid_t id)
{
    if (id >= DOMID_FIRST_RESERVED)
        return NULL;
    uint64_t f = spin_lock_irqsave(&domlist_lock);
    struct domain *d = domains[domid_slot(id)];
    /* Not one still being created, nor one whose teardown began. */
    d = get_locked(d && d->id == id && d->published && d->state != DOM_DEAD ? d : NULL);
    spin_unlock_irqrestore(&domlist_lock, f);
    return d;
}

struct domain *get_domain_owning(domid_t id)
{
    if (id >= DOMID_FIRST_RESERVED)
        return NULL;
    uint64_t f = spin_lock_irqsave(&domlist_lock);
    struct domain *d = domains[domid_slot(id)];
    d = get_locked(d && d->id == id ? d : NULL);
    spin_unlock_irqrestore(&domlist_lock, f);
    return d;
}

struct domain *get_domain_live(unsigned int i)
{
    if (i >= __atomic_load_n(&nr_live, __ATOMIC_ACQUIRE))
        return NULL;
    uint64_t f = spin_lock_irqsave(&domlist_lock);
    struct domain *d = get_locked(i < nr_live ? live[i] : NULL);
    spin_unlock_irqrestore(&domlist_lock, f);
    return d;
}

void get_domain(struct domain *d)
{
    ASSERT(d->magic == DOMAIN_MAGIC);
    uint32_t old = __atomic_fetch_add(&d->refcnt, 1, __ATOMIC_ACQUIRE);
    BUG_ON(old == 0);                   /* the caller had to hold one */
}

bool domain_exists(domid_t id)
{
    struct domain *d = get_domain_owning(id);
    put_domain(d);
    return d != NULL;
}

bool domain_handle_in_use(const uint8_t handle[16])
{
    bool found = false;
    uint64_t f = spin_lock_irqsave(&domlist_lock);
    for (unsigned int i = 0; i < nr_live && !found; i++)
        found = !memcmp(live[i]->handle, handle, sizeof(live[i]->handle));
    spin_unlock_irqrestore(&domlist_lock, f);
    return found;
}

/* Called with domlist_lock held. */
static void live_add(struct domain *d)
{
    d->live_index = nr_live;
    live[nr_live] = d;
    __atomic_store_n(&nr_live, nr_live + 1, __ATOMIC_RELEASE);
}

static void live_remove(struct domain *d)
{
    unsigned int i = d->live_index;

    if (i >= nr_live || live[i] != d)
        return;
    for (; i + 1 < nr_live; i++) {
        live[i] = live[i + 1];
        live[i]->live_index = i;
    }
    live[nr_live - 1] = NULL;
    __atomic_store_n(&nr_live, nr_live - 1, __ATOMIC_RELEASE);
}

/* The next id at or after next_domid whose slot is free; 0 if every guest
 * slot is taken. Called with domlist_lock held. */
static domid_t domid_alloc(struct domain *d)
{
    domid_t id = next_domid;

    for (unsigned int tries = 0; tries < 2 * MAX_DOMAINS; tries++) {
        if (domid_slot(id) != 0 && !domains[domid_slot(id)]) {
            domains[domid_slot(id)] = d;
            live_add(d);
            next_domid = id + 1 < DOMID_FIRST_RESERVED ? id + 1 : 1;
            return id;
        }
        id = id + 1 < DOMID_FIRST_RESERVED ? id + 1 : 1;
    }
    return 0;
}

unsigned int domains_alive(void)
{
    return __atomic_load_n(&nr_live, __ATOMIC_ACQUIRE);
}

static struct vcpu *vcpu_create(struct domain *d, unsigned int id)
{
    struct vcpu *v = struct_alloc(sizeof(*v));
    if (!v)
        return NULL;
    v->id = id;
    v->domain = d;
    v->state = VCPU_DOWN;
    v->processor = -1;
    v->kernel_mode = true;
    v->vcpu_info = &d->shared_info->vcpu_info[id];
    v->vcpu_info->evtchn_upcall_mask = 1;
    pv_init_debugregs(v);
    list_init(&v->runq_link);
    return v;
}

static void domain_free_structs(struct domain *d)
{
    for (unsigned int i = 0; i < MAX_VCPUS; i++)     /* no scheduler still knows it */
        ASSERT(!d->vcpus[i] || (d->vcpus[i]->processor < 0 && !d->vcpus[i]->on_runq));
    evtchn_free(d);
    for (unsigned int i = 0; i < MAX_VCPUS; i++)
        struct_free(d->vcpus[i], sizeof(struct vcpu));
    d->magic = 0;
    struct_free(d, sizeof(*d));
}

void put_domain(struct domain *d)
{
    if (!d)
        return;
    BUG_ON(d->magic != DOMAIN_MAGIC);   /* a put after the last one */
    uint32_t old = __atomic_fetch_sub(&d->refcnt, 1, __ATOMIC_RELEASE);
    BUG_ON(old == 0);                   /* underflow */
    if (old != 1)
        return;
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    /* Only domain_destroy drops the table's reference, after the state
     * went DOM_DEAD and the slot was freed: nobody can find it now. */
    BUG_ON(d->state != DOM_DEAD);
    pr_debug("domain %u (%s): freed", d->id, d->name);
    domain_free_structs(d);
}

/* Up to max frames of d's reservation, in pfn order (the m2p says so). */
static long populate(struct domain *d, uint64_t max)
{
    for (uint64_t i = 0; i < max && d->unpopulated; i++) {
        /* alloc_domain_frame hands out zeroed frames (scrubbed when freed,
         * or now): nothing of a previous owner leaks. */
        int64_t mfn = alloc_domain_frame(d);
        if (mfn < 0)
            return -ENOMEM;
        machine_to_phys[mfn] = d->tot_pages - 1;
        d->unpopulated--;
    }
    return (long)d->unpopulated;
}

static long populate_locked(struct domain *d, const void *arg)
{
    return populate(d, *(const uint64_t *)arg);
}

long domain_populate(struct domain *d, uint64_t max)
{
    return domain_while_state(d, DOMS(DOM_BUILDING), populate_locked, &max);
}

struct domain *domain_create(const struct domain_config *cfg, int *err)
{
    if (!cfg->vcpus || cfg->vcpus > MAX_VCPUS || !cfg->mem_pages ||
        cfg->max_pages < cfg->mem_pages) {
        *err = -EINVAL;
        return NULL;
    }
    if (cfg->mem_pages > frames_free()) {
        *err = -ENOMEM;
        return NULL;
    }

    struct domain *d = struct_alloc(sizeof(*d));
    if (!d) {
        *err = -ENOMEM;
        return NULL;
    }
    strlcpy(d->name, cfg->name ? cfg->name : "", sizeof(d->name));
    d->state = DOM_BUILDING;
    d->refcnt = 1;                      /* the table's */
    d->magic = DOMAIN_MAGIC;
    d->lock = (spinlock_t)SPINLOCK_INIT;
    d->mm_lock = (spinlock_t)SPINLOCK_INIT;
    d->page_lock = (spinlock_t)SPINLOCK_INIT;
    d->unimpl_lock = (spinlock_t)SPINLOCK_INIT;
    d->console_line_lock = (spinlock_t)SPINLOCK_INIT;
    list_init(&d->page_list);
    d->max_pages = cfg->max_pages;
    d->weight = cfg->weight ? cfg->weight : 256;
    d->shutdown_code = SHUTDOWN_CODE_NONE;
    d->cap = cfg->cap;

    /* The id. */
    uint64_t f = spin_lock_irqsave(&domlist_lock);
    domid_t id = domid_alloc(d);
    d->id = id;                         /* before anyone can look it up */
    spin_unlock_irqrestore(&domlist_lock, f);
    if (!id) {
        struct_free(d, sizeof(*d));
        *err = -ENOSPC;
        return NULL;
    }

    /* shared_info: a hypervisor frame the domain may map; the hypervisor
     * keeps its own reference until domain_destroy. */
    void *si = alloc_hv_page();
    if (!si)
        goto nomem;
    d->shared_info = si;
    d->shared_info_mfn = virt_to_mfn(si);
    domain_set_wallclock(d);
    /* Mappable by the domain, never typable as a page table or GDT. */
    share_frame_with_domain(d, d->shared_info_mfn);

    if (evtchn_init(d, EVTCHN_DEFAULT_MAX) || gnttab_init(d))
        goto nomem;
    for (unsigned int i = 0; i < cfg->vcpus; i++) {
        d->vcpus[i] = vcpu_create(d, i);
        if (!d->vcpus[i])
            goto nomem;
    }
    d->nr_vcpus = cfg->vcpus;

    d->unpopulated = cfg->mem_pages;
    if (populate(d, cfg->first_pages ? cfg->first_pages : cfg->mem_pages) < 0)
        goto nomem;
    f = spin_lock_irqsave(&domlist_lock);
    d->published = true;
    spin_unlock_irqrestore(&domlist_lock, f);
    return d;

nomem:
    domain_destroy(d);
    *err = -ENOMEM;
    return NULL;
}

struct domain *domain_create_dom0(int *err)
{
    struct domain *d = struct_alloc(sizeof(*d));
    if (!d) {
        *err = -ENOMEM;
        return NULL;
    }
    strlcpy(d->name, "Domain-0", sizeof(d->name));
    d->id = 0;
    d->state = DOM_RUNNING;
    d->refcnt = 1;                      /* the table's: never dropped */
    d->magic = DOMAIN_MAGIC;
    d->lock = (spinlock_t)SPINLOCK_INIT;
    d->mm_lock = (spinlock_t)SPINLOCK_INIT;
    d->page_lock = (spinlock_t)SPINLOCK_INIT;
    d->unimpl_lock = (spinlock_t)SPINLOCK_INIT;
    d->console_line_lock = (spinlock_t)SPINLOCK_INIT;
    list_init(&d->page_list);
    d->shutdown_code = SHUTDOWN_CODE_NONE;
    void *si = alloc_hv_page();
    /* Domain 0 holds two ports per guest: its first bucket of ports comes
     * with it rather than when the 16th guest starts (a page it would
     * keep from then on; tests count the frames before and after guests). */
    if (!si || evtchn_init(d, EVTCHN_DOM0_MAX) || evtchn_reserve_ports(d, EVTCHN_PER_BUCKET) ||
        gnttab_init(d)) {
        if (si)
            free_hv_page(si);
        evtchn_free(d);
        struct_free(d, sizeof(*d));
        *err = -ENOMEM;
        return NULL;
    }
    d->shared_info = si;
    d->shared_info_mfn = virt_to_mfn(si);
    frame_table[d->shared_info_mfn].owner = 0;
    uint64_t f = spin_lock_irqsave(&domlist_lock);
    d->published = true;
    domains[0] = d;
    spin_unlock_irqrestore(&domlist_lock, f);
    return d;
}

/* Destruction in bounded steps: the event channels and vCPU frames, the
 * memory (mm_teardown.c, in many steps), then the grant table and the
 * slot. The domain stays in its slot as DOM_DEAD (Domain 0 sees it
 * dying) until the last step takes it out and drops the table's
 * reference. */
bool domain_destroy_step(struct domain *d)
{
    switch (d->destroy_stage) {
    case 0: {
        for (unsigned int i = 0; i < d->nr_vcpus; i++)
            BUG_ON(d->vcpus[i] && d->vcpus[i]->processor >= 0);
        /* Dead before anything is released: from here get_domain_by_id,
         * the control interface and every state change leave it alone
         * (whoever got a reference just before checks the state under
         * d->lock, or, for event channels, d->evtchn_closed under
         * d->event_lock). */
        domain_set_dead(d);
        evtchn_destroy(d);
        for (unsigned int i = 0; i < d->nr_vcpus; i++)
            vcpu_release_frames(d->vcpus[i]);
        d->destroy_stage = 1;
        return false;
    }
    case 1:
        if (domain_relinquish_memory_step(d))
            d->destroy_stage = 2;
        return false;
    default:
        break;
    }
    gnttab_destroy(d);
    if (d->shared_info)
        unshare_frame(d->shared_info_mfn);

    uint64_t f = spin_lock_irqsave(&domlist_lock);
    if (d->id && domains[domid_slot(d->id)] == d) {
        domains[domid_slot(d->id)] = NULL;
        live_remove(d);
    }
    spin_unlock_irqrestore(&domlist_lock, f);
    domain_destroy_finished(d);
    pr_debug("domain %u (%s): destroyed; %lu frames free", d->id, d->name, frames_free());
    put_domain(d);                      /* the table's reference */
    return true;
}

void domain_destroy(struct domain *d)
{
    while (!domain_destroy_step(d))
        ;
}
