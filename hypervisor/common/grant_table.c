/* Grant tables, v1: HYPERVISOR_grant_table_op and Domain 0's grant access
 * (see hv/grant_table.h for the model).
 *
 * Owns: every domain's grant table (the shared entry frames, an active
 * entry per grant with its pin counts, the maptrack of the domain's own
 * mappings) and the registry domid -> table. Frame references and page
 * types are arch/x86_64/mm.c's; the page-table entries of host mappings
 * are written by pv/mmu.c's pv_grant_*_l1e.
 *
 * Invariants:
 *  - an active entry with pins has `user` (the only domain that may use
 *    the grant while pinned) and `mfn` (the frame, read from the entry at
 *    the first pin); GTF_reading is set in the shared entry while
 *    ro_pins + rw_pins > 0, GTF_writing while rw_pins > 0;
 *  - every use of a grant (a maptrack entry, a copy in progress) holds one
 *    pin, a general reference on the frame and, when writable, a
 *    PGT_writable type reference; releasing it drops them all;
 *  - a maptrack entry names its granter by domid and the generation of the
 *    granter's table, so a later domain reusing the domid is never
 *    unpinned by mistake; when the granter's table is gone the release
 *    only drops the frame references;
 *  - the shared frames are owned by the domain with a permanent
 *    PGT_writable type (never a page table), and are given up with the
 *    table (unshare_frame).
 * Every guest structure is copied in and checked whole before anything
 * changes; results are GNTST_* per operation, -errno for the call.
 *
 * Locking, in this order: a mapper's maptrack_lock -> gnttabs.lock (the
 * registry, held only to find a table and lock it) -> a table's lock (its
 * entries, active entries and size) -> mm.c's locks (d->mm_lock, page and
 * heap locks). No guest copy happens under a table lock. Callers run with
 * interrupts off (hypercalls, the control interface's interrupt handler,
 * domain destruction), like every other user of these locks. */
#include "asm/guest_mm.h"
#include "hv/errno.h"
#include "hv/grant_table.h"
#include "hv/guest_access.h"
#include "hv/hypercall.h"
#include "hv/lib.h"
#include "hv/mm.h"
#include "hv/printk.h"
#include "hv/spinlock.h"

/* Pins of one grant (mappings and copies in progress). */
struct active_grant {
    uint16_t ro_pins, rw_pins;
    domid_t user;
    uint16_t pad;
    mfn_t mfn;
};

/* One mapping a domain made (a maptrack entry); flags 0 = free, and then
 * ref links the free list. */
struct grant_mapping {
    uint16_t flags;                 /* GNTMAP_* as mapped */
    domid_t granter;
    grant_ref_t ref;
    uint64_t generation;            /* of the granter's table */
    mfn_t mfn;
    uint64_t host_addr;             /* page mapped (GNTMAP_host_map), else 0 */
};

#define ENTRIES_PER_FRAME   (PAGE_SIZE / sizeof(struct grant_entry_v1))
#define ACTIVE_PER_PAGE     (PAGE_SIZE / sizeof(struct active_grant))
#define ACTIVE_PAGES        (GNTTAB_MAX_FRAMES * ENTRIES_PER_FRAME / ACTIVE_PER_PAGE)
#define MAPTRACK_PER_PAGE   (PAGE_SIZE / sizeof(struct grant_mapping))
#define MAPTRACK_MAX_PAGES  64u
#define MAPTRACK_NONE       UINT32_MAX
#define SET_STATUS_TRIES    5       /* cmpxchg retries against a guest rewriting its entry */

/* A grant is pinned by one domain's mappings (bounded by its maptrack)
 * plus copies in progress (two per CPU at most). */
_Static_assert(MAPTRACK_MAX_PAGES * MAPTRACK_PER_PAGE + 2 * NR_CPUS < UINT16_MAX, "pin counts");
_Static_assert(ENTRIES_PER_FRAME % ACTIVE_PER_PAGE == 0, "active pages per frame");

struct grant_table {
    struct domain *domain;
    uint64_t generation;
    spinlock_t lock;
    unsigned int nr_frames;
    uint32_t *shared[GNTTAB_MAX_FRAMES];        /* entries as words: flags|domid<<16, frame */
    struct active_grant *active[ACTIVE_PAGES];

    spinlock_t maptrack_lock;
    unsigned int maptrack_pages;
    grant_handle_t maptrack_free;               /* free-list head, MAPTRACK_NONE if empty */
    struct grant_mapping *maptrack[MAPTRACK_MAX_PAGES];
};
_Static_assert(sizeof(struct grant_table) <= PAGE_SIZE, "grant_table fits a page");

/* The registry: which table each domid has. */
static struct {
    spinlock_t lock;
    struct grant_table *table[MAX_DOMAINS];
    uint64_t last_generation;
} gnttabs = { .lock = SPINLOCK_INIT };

/* What one use of a grant holds (see the invariants). */
struct grant_use {
    domid_t granter;
    grant_ref_t ref;
    uint64_t generation;
    mfn_t mfn;
    bool readonly;
};

/* ------------------------------------------------------------------ */
/* Pages and tables                                                     */

static void *hv_page(void)
{
    void *p = alloc_hv_page();
    if (p)
        frame_table[virt_to_mfn(p)].owner = OWNER_HV;
    return p;
}

static unsigned int nr_entries(const struct grant_table *gt)
{
    return gt->nr_frames * (unsigned int)ENTRIES_PER_FRAME;
}

/* Word 0 of an entry: flags (low 16 bits) and domid; word 1: the frame. */
static uint32_t *entry_words(struct grant_table *gt, grant_ref_t ref)
{
    return &gt->shared[ref / ENTRIES_PER_FRAME][2 * (ref % ENTRIES_PER_FRAME)];
}

static struct active_grant *active_of(struct grant_table *gt, grant_ref_t ref)
{
    return &gt->active[ref / ACTIVE_PER_PAGE][ref % ACTIVE_PER_PAGE];
}

static void clear_entry_flags(struct grant_table *gt, grant_ref_t ref, uint16_t flags)
{
    __atomic_fetch_and(entry_words(gt, ref), ~(uint32_t)flags, __ATOMIC_SEQ_CST);
}

/* Grow to nr frames: everything is allocated before anything changes. */
static int grow_table(struct grant_table *gt, unsigned int nr)
{
    void *shared[GNTTAB_MAX_FRAMES] = { 0 };
    void *active[ACTIVE_PAGES] = { 0 };
    const unsigned int per = ENTRIES_PER_FRAME / ACTIVE_PER_PAGE;
    unsigned int i;

    for (i = gt->nr_frames; i < nr; i++) {
        shared[i] = hv_page();
        active[per * i] = hv_page();
        active[per * i + 1] = hv_page();
        if (!shared[i] || !active[per * i] || !active[per * i + 1])
            break;
    }
    if (i < nr) {
        for (unsigned int j = gt->nr_frames; j <= i; j++) {
            for (unsigned int k = 0; k < per; k++)
                if (active[per * j + k])
                    free_hv_page(active[per * j + k]);
            if (shared[j])
                free_hv_page(shared[j]);
        }
        return -ENOMEM;
    }
    for (i = gt->nr_frames; i < nr; i++) {
        share_frame_with_domain(gt->domain, virt_to_mfn(shared[i]));
        gt->shared[i] = shared[i];
        for (unsigned int k = 0; k < per; k++)
            gt->active[per * i + k] = active[per * i + k];
    }
    gt->nr_frames = nr;
    return 0;
}

static void table_free(struct grant_table *gt)
{
    for (unsigned int i = 0; i < gt->nr_frames; i++)
        unshare_frame(virt_to_mfn(gt->shared[i]));
    for (unsigned int i = 0; i < ACTIVE_PAGES; i++)
        if (gt->active[i])
            free_hv_page(gt->active[i]);
    for (unsigned int i = 0; i < gt->maptrack_pages; i++)
        free_hv_page(gt->maptrack[i]);
    free_hv_page(gt);
}

/* Domain id's table, locked, if it exists (and has generation gen, unless
 * gen is 0). */
static struct grant_table *table_lock(domid_t id, uint64_t gen)
{
    struct grant_table *gt = NULL;

    if (id >= MAX_DOMAINS)
        return NULL;
    spin_lock(&gnttabs.lock);
    if (gnttabs.table[id] && (!gen || gnttabs.table[id]->generation == gen)) {
        gt = gnttabs.table[id];
        spin_lock(&gt->lock);
    }
    spin_unlock(&gnttabs.lock);
    return gt;
}

/* A live domain's own table: stable while the domain is not destroyed,
 * which cannot happen while it makes a hypercall (or, for Domain 0, ever). */
static struct grant_table *table_of(const struct domain *d)
{
    struct grant_table *gt = NULL;

    if (d->id >= MAX_DOMAINS)
        return NULL;
    spin_lock(&gnttabs.lock);
    if (gnttabs.table[d->id] && gnttabs.table[d->id]->domain == d)
        gt = gnttabs.table[d->id];
    spin_unlock(&gnttabs.lock);
    return gt;
}

/* ------------------------------------------------------------------ */
/* Using a grant: pin, references, release                              */

/* Set GTF_reading (and GTF_writing) in the shared entry, checking what
 * the guest wrote there: at the first pin the type and the domid allowed
 * (and, for a mapping, no sub-page grant); GTF_readonly for writers. The
 * guest may rewrite the entry meanwhile, hence the bounded cmpxchg. */
static int16_t set_status(struct grant_table *gt, grant_ref_t ref, domid_t user, bool readonly,
                          bool first, bool mapping)
{
    uint32_t *word = entry_words(gt, ref);
    uint16_t mask = GTF_type_mask | (mapping ? GTF_sub_page : 0);
    uint32_t old = __atomic_load_n(word, __ATOMIC_ACQUIRE);

    for (unsigned int tries = 0; tries < SET_STATUS_TRIES; tries++) {
        uint16_t flags = (uint16_t)old;
        domid_t domid = (domid_t)(old >> 16);
        if (first && ((flags & mask) != GTF_permit_access || domid != user))
            return GNTST_general_error;
        if (!readonly && (flags & GTF_readonly))
            return GNTST_general_error;
        uint32_t new = old | GTF_reading | (readonly ? 0 : GTF_writing);
        if (__atomic_compare_exchange_n(word, &old, new, false, __ATOMIC_SEQ_CST,
                                        __ATOMIC_ACQUIRE))
            return GNTST_okay;
    }
    return GNTST_general_error;
}

/* The frame references a use holds. */
static int16_t get_frame_refs(struct domain *owner, mfn_t mfn, bool readonly, int16_t not_owned)
{
    if (get_page(mfn, owner))
        return not_owned;
    if (!readonly && get_page_type(mfn, PGT_writable)) {
        put_page(mfn);
        return GNTST_general_error;     /* a page table or descriptor frame */
    }
    return GNTST_okay;
}

static void put_frame_refs(mfn_t mfn, bool readonly)
{
    if (!readonly)
        put_page_type(mfn);
    put_page(mfn);
}

static int16_t grant_acquire(struct domain *user, domid_t granter, grant_ref_t ref,
                             bool readonly, bool mapping, struct grant_use *use)
{
    struct grant_table *gt = table_lock(granter, 0);
    int16_t st;

    if (!gt)
        return GNTST_bad_domain;
    if (ref >= nr_entries(gt)) {
        st = GNTST_bad_gntref;
        goto out;
    }
    struct active_grant *act = active_of(gt, ref);
    bool first = !act->ro_pins && !act->rw_pins;
    bool new_writer = !readonly && !act->rw_pins;
    if (!first && act->user != user->id) {
        st = GNTST_general_error;
        goto out;
    }
    if (first || new_writer) {
        st = set_status(gt, ref, user->id, readonly, first, mapping);
        if (st)
            goto out;
    }
    mfn_t mfn = first ? __atomic_load_n(entry_words(gt, ref) + 1, __ATOMIC_ACQUIRE) : act->mfn;
    /* A frame named at the first pin that is not the granter's is a bad
     * page; later, the frame is held by the pins already there. */
    st = get_frame_refs(gt->domain, mfn, readonly,
                        first ? GNTST_bad_page : GNTST_general_error);
    if (st) {
        clear_entry_flags(gt, ref, (first ? GTF_reading : 0) | (new_writer ? GTF_writing : 0));
        goto out;
    }
    if (first) {
        act->user = user->id;
        act->mfn = mfn;
    }
    if (readonly)
        act->ro_pins++;
    else
        act->rw_pins++;
    *use = (struct grant_use){ .granter = granter, .ref = ref, .generation = gt->generation,
                               .mfn = mfn, .readonly = readonly };
out:
    spin_unlock(&gt->lock);
    return st;
}

static void grant_release(const struct grant_use *use)
{
    put_frame_refs(use->mfn, use->readonly);
    struct grant_table *gt = table_lock(use->granter, use->generation);
    if (!gt)
        return;                         /* the granter is gone: nothing to unpin */
    struct active_grant *act = active_of(gt, use->ref);
    uint16_t clear = 0;
    if (use->readonly) {
        BUG_ON(!act->ro_pins);
        act->ro_pins--;
    } else {
        BUG_ON(!act->rw_pins);
        if (!--act->rw_pins)
            clear |= GTF_writing;
    }
    if (!act->ro_pins && !act->rw_pins)
        clear |= GTF_reading;
    if (clear)
        clear_entry_flags(gt, use->ref, clear);
    spin_unlock(&gt->lock);
}

/* ------------------------------------------------------------------ */
/* The maptrack (with the mapper's maptrack_lock held)                  */

static struct grant_mapping *maptrack_entry(struct grant_table *gt, grant_handle_t h)
{
    return &gt->maptrack[h / MAPTRACK_PER_PAGE][h % MAPTRACK_PER_PAGE];
}

static grant_handle_t maptrack_get(struct grant_table *gt)
{
    if (gt->maptrack_free == MAPTRACK_NONE) {
        if (gt->maptrack_pages == MAPTRACK_MAX_PAGES)
            return MAPTRACK_NONE;
        struct grant_mapping *page = hv_page();
        if (!page)
            return MAPTRACK_NONE;
        grant_handle_t base = gt->maptrack_pages * (grant_handle_t)MAPTRACK_PER_PAGE;
        for (unsigned int i = 0; i < MAPTRACK_PER_PAGE; i++)
            page[i].ref = i + 1 < MAPTRACK_PER_PAGE ? base + i + 1 : MAPTRACK_NONE;
        gt->maptrack[gt->maptrack_pages++] = page;
        gt->maptrack_free = base;
    }
    grant_handle_t h = gt->maptrack_free;
    gt->maptrack_free = maptrack_entry(gt, h)->ref;
    return h;
}

static void maptrack_put(struct grant_table *gt, grant_handle_t h)
{
    struct grant_mapping *m = maptrack_entry(gt, h);

    *m = (struct grant_mapping){ .ref = gt->maptrack_free };
    gt->maptrack_free = h;
}

/* The mapping with handle h, or NULL. */
static struct grant_mapping *maptrack_lookup(struct grant_table *gt, grant_handle_t h)
{
    if (h >= gt->maptrack_pages * MAPTRACK_PER_PAGE)
        return NULL;
    struct grant_mapping *m = maptrack_entry(gt, h);
    return m->flags ? m : NULL;
}

static struct grant_use use_of(const struct grant_mapping *m)
{
    return (struct grant_use){ .granter = m->granter, .ref = m->ref,
                               .generation = m->generation, .mfn = m->mfn,
                               .readonly = m->flags & GNTMAP_readonly };
}

/* ------------------------------------------------------------------ */
/* Map, unmap, copy (shared by guests and Domain 0)                     */

/* Map op->ref of op->dom for mapper. With GNTMAP_host_map the frame is
 * mapped at op->host_addr in v's page tables (v NULL: not possible). */
static int16_t map_grant(struct domain *mapper, struct vcpu *v,
                         const struct gnttab_map_grant_ref *op, grant_handle_t *handle,
                         mfn_t *mfn)
{
    bool readonly = op->flags & GNTMAP_readonly;
    bool host = op->flags & GNTMAP_host_map;
    struct grant_table *mt = table_of(mapper);
    struct grant_use use;
    int16_t st;

    if (!(op->flags & (GNTMAP_device_map | GNTMAP_host_map)))
        return GNTST_bad_gntref;                /* as Xen 4.17 */
    if ((op->flags & GNTMAP_contains_pte) || (host && !v) || !mt)
        return GNTST_general_error;
    spin_lock(&mt->maptrack_lock);
    grant_handle_t h = maptrack_get(mt);
    if (h == MAPTRACK_NONE) {
        st = GNTST_no_device_space;
        goto out;
    }
    st = grant_acquire(mapper, op->dom, op->ref, readonly, true, &use);
    if (st) {
        maptrack_put(mt, h);
        goto out;
    }
    if (host && pv_grant_map_l1e(v, op->host_addr, use.mfn, readonly)) {
        grant_release(&use);
        maptrack_put(mt, h);
        st = GNTST_general_error;               /* no L1 maps host_addr, or a grant is there */
        goto out;
    }
    *maptrack_entry(mt, h) = (struct grant_mapping){
        .flags = (uint16_t)(op->flags & (GNTMAP_device_map | GNTMAP_host_map | GNTMAP_readonly)),
        .granter = op->dom, .ref = op->ref, .generation = use.generation, .mfn = use.mfn,
        .host_addr = host ? op->host_addr & ~(PAGE_SIZE - 1) : 0,
    };
    *handle = h;
    *mfn = use.mfn;
out:
    spin_unlock(&mt->maptrack_lock);
    return st;
}

/* Unmap handle h of mapper. A host mapping must be named by its page
 * (host_addr) and still be in v's page tables there; dev_bus_addr, if
 * given, must be the frame's address. */
static int16_t unmap_grant(struct domain *mapper, struct vcpu *v, grant_handle_t h,
                           uint64_t host_addr, uint64_t dev_bus_addr)
{
    struct grant_table *mt = table_of(mapper);
    int16_t st = GNTST_okay;

    if (!mt)
        return GNTST_bad_handle;
    spin_lock(&mt->maptrack_lock);
    struct grant_mapping *m = maptrack_lookup(mt, h);
    if (!m) {
        st = GNTST_bad_handle;
        goto out;
    }
    if (dev_bus_addr && dev_bus_addr != m->mfn << PAGE_SHIFT) {
        st = GNTST_general_error;
        goto out;
    }
    if (m->flags & GNTMAP_host_map) {
        if (!v || (host_addr & ~(PAGE_SIZE - 1)) != m->host_addr ||
            pv_grant_unmap_l1e(v, m->host_addr, m->mfn)) {
            st = GNTST_general_error;
            goto out;
        }
    }
    struct grant_use use = use_of(m);
    maptrack_put(mt, h);
    grant_release(&use);
out:
    spin_unlock(&mt->maptrack_lock);
    return st;
}

/* One side of a copy: a grant, or a frame of the caller's own. */
struct copy_side {
    struct grant_use use;
    bool granted;
};

static int16_t copy_side_acquire(struct domain *caller, const struct gnttab_copy_ptr *p,
                                 bool by_gref, bool dest, struct copy_side *s)
{
    s->granted = by_gref;
    if (by_gref)
        return grant_acquire(caller, p->domid == DOMID_SELF ? caller->id : p->domid, p->u.ref,
                             !dest, false, &s->use);
    /* Only DOMID_SELF may name a frame, and it must be the caller's. */
    if (p->domid != DOMID_SELF)
        return GNTST_permission_denied;
    s->use = (struct grant_use){ .mfn = p->u.gmfn, .readonly = !dest };
    return get_frame_refs(caller, p->u.gmfn, !dest, GNTST_bad_page);
}

static void copy_side_release(const struct copy_side *s)
{
    if (s->granted)
        grant_release(&s->use);
    else
        put_frame_refs(s->use.mfn, s->use.readonly);
}

static int16_t copy_one(struct domain *caller, const struct gnttab_copy *op)
{
    struct copy_side src, dst;
    int16_t st;

    if (op->flags & ~(GNTCOPY_source_gref | GNTCOPY_dest_gref) ||
        op->source.offset + op->len > PAGE_SIZE || op->dest.offset + op->len > PAGE_SIZE)
        return GNTST_bad_copy_arg;
    st = copy_side_acquire(caller, &op->source, op->flags & GNTCOPY_source_gref, false, &src);
    if (st)
        return st;
    st = copy_side_acquire(caller, &op->dest, op->flags & GNTCOPY_dest_gref, true, &dst);
    if (st) {
        copy_side_release(&src);
        return st;
    }
    memmove((uint8_t *)mfn_to_virt(dst.use.mfn) + op->dest.offset,
            (const uint8_t *)mfn_to_virt(src.use.mfn) + op->source.offset, op->len);
    copy_side_release(&dst);
    copy_side_release(&src);
    return GNTST_okay;
}

/* ------------------------------------------------------------------ */
/* Lifecycle                                                            */

int gnttab_init(struct domain *d)
{
    if (d->id >= MAX_DOMAINS)
        return -EINVAL;
    struct grant_table *gt = hv_page();
    if (!gt)
        return -ENOMEM;
    gt->domain = d;
    gt->lock = (spinlock_t)SPINLOCK_INIT;
    gt->maptrack_lock = (spinlock_t)SPINLOCK_INIT;
    gt->maptrack_free = MAPTRACK_NONE;
    int rc = grow_table(gt, GNTTAB_DEFAULT_FRAMES);
    if (rc) {
        free_hv_page(gt);
        return rc;
    }
    spin_lock(&gnttabs.lock);
    if (gnttabs.table[d->id]) {
        rc = -EEXIST;
    } else {
        gt->generation = ++gnttabs.last_generation;
        gnttabs.table[d->id] = gt;
    }
    spin_unlock(&gnttabs.lock);
    if (rc)
        table_free(gt);
    return rc;
}

void gnttab_destroy(struct domain *d)
{
    struct grant_table *gt = NULL;

    if (d->id >= MAX_DOMAINS)
        return;
    spin_lock(&gnttabs.lock);
    if (gnttabs.table[d->id] && gnttabs.table[d->id]->domain == d) {
        gt = gnttabs.table[d->id];
        gnttabs.table[d->id] = NULL;
    }
    spin_unlock(&gnttabs.lock);
    if (!gt)
        return;
    /* Whoever found the table before it left the registry is done with it
     * once its lock is free; nobody can find it now. */
    spin_lock(&gt->lock);
    spin_unlock(&gt->lock);

    /* d's mappings: its vCPUs never run again, so its page-table entries
     * are left as they are (they hold no references; the tables go with
     * d's memory); no translation may survive the frames, though. */
    flush_tlb_domain(d);
    spin_lock(&gt->maptrack_lock);
    unsigned int released = 0;
    for (grant_handle_t h = 0; h < gt->maptrack_pages * MAPTRACK_PER_PAGE; h++) {
        struct grant_mapping *m = maptrack_entry(gt, h);
        if (!m->flags)
            continue;
        struct grant_use use = use_of(m);
        m->flags = 0;
        grant_release(&use);
        released++;
    }
    spin_unlock(&gt->maptrack_lock);
    if (released)
        pr_debug("domain %u: released %u grant mappings at destruction", d->id, released);
    table_free(gt);
}

/* ------------------------------------------------------------------ */
/* Domain 0                                                             */

static int gntst_errno(int16_t st)
{
    switch (st) {
    case GNTST_okay: return 0;
    case GNTST_bad_domain: return -ESRCH;
    case GNTST_bad_gntref: return -ENOENT;
    case GNTST_bad_handle: return -ENOENT;
    case GNTST_bad_page: return -ENXIO;
    case GNTST_no_device_space: return -ENOSPC;
    case GNTST_bad_copy_arg: return -EINVAL;
    case GNTST_permission_denied: return -EACCES;
    default: return -EPERM;
    }
}

int gnttab_map_for(struct domain *mapper, domid_t granter, uint32_t gref, uint32_t flags,
                   uint64_t *mfn, uint32_t *handle)
{
    struct gnttab_map_grant_ref op = {
        .flags = GNTMAP_device_map | flags, .ref = gref, .dom = granter,
    };

    if (flags & ~(uint32_t)GNTMAP_readonly)
        return -EINVAL;
    return gntst_errno(map_grant(mapper, NULL, &op, handle, mfn));
}

int gnttab_unmap_for(struct domain *mapper, uint32_t handle)
{
    return gntst_errno(unmap_grant(mapper, NULL, handle, 0, 0));
}

long gnttab_copy_for(struct domain *caller, struct gnttab_copy *ops, unsigned int n)
{
    if (n > GNTTAB_MAX_OPS)
        return -EINVAL;
    for (unsigned int i = 0; i < n; i++) {
        struct gnttab_copy op;
        memcpy(&op, &ops[i], sizeof(op));       /* the caller may change it meanwhile */
        int16_t st = copy_one(caller, &op);
        __atomic_store_n(&ops[i].status, st, __ATOMIC_RELAXED);
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* The hypercall                                                        */

/* The domain a setup_table / query_size names: the caller (DOMID_SELF or
 * its own id) or, as Xen says for an unprivileged caller, permission
 * denied for another existing domain and bad domain for none. */
static int16_t own_target(struct domain *self, domid_t dom)
{
    if (dom == DOMID_SELF || dom == self->id)
        return GNTST_okay;
    return domain_by_id(dom) ? GNTST_permission_denied : GNTST_bad_domain;
}

static long setup_table_op(struct domain *self, uint64_t uop)
{
    struct gnttab_setup_table op;
    xen_pfn_t frames[GNTTAB_MAX_FRAMES];
    struct grant_table *gt = table_of(self);

    if (copy_from_guest(&op, uop, sizeof(op)))
        return -EFAULT;
    if (!guest_range_ok(op.frame_list, (uint64_t)op.nr_frames * sizeof(xen_pfn_t)))
        return -EFAULT;
    op.status = own_target(self, op.dom);
    if (op.status == GNTST_okay && (!gt || op.nr_frames > GNTTAB_MAX_FRAMES))
        op.status = GNTST_general_error;
    if (op.status == GNTST_okay) {
        spin_lock(&gt->lock);
        if (op.nr_frames > gt->nr_frames && grow_table(gt, op.nr_frames))
            op.status = GNTST_general_error;
        for (unsigned int i = 0; op.status == GNTST_okay && i < op.nr_frames; i++)
            frames[i] = virt_to_mfn(gt->shared[i]);
        spin_unlock(&gt->lock);
    }
    for (unsigned int i = 0; op.status == GNTST_okay && i < op.nr_frames; i++)
        if (copy_to_guest(op.frame_list + i * sizeof(xen_pfn_t), &frames[i], sizeof(frames[i])))
            op.status = GNTST_bad_virt_addr;
    if (copy_to_guest(uop + offsetof(struct gnttab_setup_table, status), &op.status,
                      sizeof(op.status)))
        return -EFAULT;
    return 0;
}

static long query_size_op(struct domain *self, uint64_t uop)
{
    struct gnttab_query_size op;
    struct grant_table *gt = table_of(self);

    if (copy_from_guest(&op, uop, sizeof(op)))
        return -EFAULT;
    op.status = own_target(self, op.dom);
    if (op.status == GNTST_okay && !gt)
        op.status = GNTST_general_error;
    if (op.status == GNTST_okay) {
        spin_lock(&gt->lock);
        op.nr_frames = gt->nr_frames;
        spin_unlock(&gt->lock);
        op.max_nr_frames = GNTTAB_MAX_FRAMES;
    }
    return copy_to_guest(uop, &op, sizeof(op)) ? -EFAULT : 0;
}

/* v1 only: asking for 2 is what Xen 4.17 built or booted v1-only answers. */
static long set_version_op(uint64_t uop)
{
    struct gnttab_set_version op;
    long rc;

    if (copy_from_guest(&op, uop, sizeof(op)))
        return -EFAULT;
    rc = op.version == 1 ? 0 : op.version == 2 ? -ENOSYS : -EINVAL;
    op.version = 1;
    return copy_to_guest(uop, &op, sizeof(op)) ? -EFAULT : rc;
}

static long get_version_op(struct domain *self, uint64_t uop)
{
    struct gnttab_get_version op;

    if (copy_from_guest(&op, uop, sizeof(op)))
        return -EFAULT;
    switch (own_target(self, op.dom)) {
    case GNTST_okay:
        break;
    case GNTST_permission_denied:
        return -EPERM;
    default:
        return -ESRCH;
    }
    op.version = 1;
    return copy_to_guest(uop + offsetof(struct gnttab_get_version, version), &op.version,
                         sizeof(op.version)) ? -EFAULT : 0;
}

static void map_op(struct vcpu *v, void *arg)
{
    struct gnttab_map_grant_ref *op = arg;
    grant_handle_t h;
    mfn_t mfn;

    op->status = map_grant(v->domain, v, op, &h, &mfn);
    if (op->status == GNTST_okay) {
        op->handle = h;
        op->dev_bus_addr = mfn << PAGE_SHIFT;
    }
}

static void unmap_op(struct vcpu *v, void *arg)
{
    struct gnttab_unmap_grant_ref *op = arg;

    op->status = unmap_grant(v->domain, v, op->handle, op->host_addr, op->dev_bus_addr);
}

static void copy_op(struct vcpu *v, void *arg)
{
    struct gnttab_copy *op = arg;

    op->status = copy_one(v->domain, op);
}

/* An array of operations: each is copied in, run, and its results copied
 * back (the status field, or the whole op for map as Xen does); a fault
 * ends the call with -EFAULT, the earlier operations staying done. */
struct batch_kind {
    size_t size;                    /* of one operation */
    size_t out_offset, out_size;    /* what is copied back */
    void (*run)(struct vcpu *v, void *op);
};

static const struct batch_kind batch_map = {
    sizeof(struct gnttab_map_grant_ref), 0, sizeof(struct gnttab_map_grant_ref), map_op,
};
static const struct batch_kind batch_unmap = {
    sizeof(struct gnttab_unmap_grant_ref), offsetof(struct gnttab_unmap_grant_ref, status),
    sizeof(int16_t), unmap_op,
};
static const struct batch_kind batch_copy = {
    sizeof(struct gnttab_copy), offsetof(struct gnttab_copy, status), sizeof(int16_t), copy_op,
};

static long run_batch(struct vcpu *v, const struct batch_kind *k, uint64_t uop, uint32_t count)
{
    union {
        struct gnttab_map_grant_ref map;
        struct gnttab_unmap_grant_ref unmap;
        struct gnttab_copy copy;
    } op;

    if (count > GNTTAB_MAX_OPS)
        return -EINVAL;
    if (!guest_range_ok(uop, (uint64_t)count * k->size))
        return -EFAULT;
    for (uint32_t i = 0; i < count; i++) {
        uint64_t at = uop + (uint64_t)i * k->size;
        if (copy_from_guest(&op, at, k->size))
            return -EFAULT;
        k->run(v, &op);
        if (copy_to_guest(at + k->out_offset, (uint8_t *)&op + k->out_offset, k->out_size))
            return -EFAULT;
    }
    return 0;
}

long do_grant_table_op(uint64_t cmd, uint64_t uop, uint64_t count)
{
    struct vcpu *v = current;
    uint32_t n = (uint32_t)count;           /* unsigned int in the ABI */

    if ((int32_t)n < 0)
        return -EINVAL;
    /* Xen's continuation bits (cmd above bit 11): never valid from a guest here. */
    if ((uint32_t)cmd & ~0xfffu)
        return -EINVAL;
    switch ((uint32_t)cmd) {
    case GNTTABOP_map_grant_ref:
        return run_batch(v, &batch_map, uop, n);
    case GNTTABOP_unmap_grant_ref:
        return run_batch(v, &batch_unmap, uop, n);
    case GNTTABOP_copy:
        return run_batch(v, &batch_copy, uop, n);
    case GNTTABOP_setup_table:
        return n == 1 ? setup_table_op(v->domain, uop) : -EINVAL;
    case GNTTABOP_query_size:
        return n == 1 ? query_size_op(v->domain, uop) : -EINVAL;
    case GNTTABOP_set_version:
        return set_version_op(uop);
    case GNTTABOP_get_version:
        return get_version_op(v->domain, uop);
    default:                                /* transfer, v2 and the rest */
        return hypercall_unimplemented(__HYPERVISOR_grant_table_op, cmd);
    }
}
