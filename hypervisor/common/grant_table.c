/* Grant tables, v1 and v2: the tables, HYPERVISOR_grant_table_op's
 * dispatch and the table operations (see hv/grant_table.h for the model;
 * grant_priv.h for the files that share this subsystem).
 *
 * Owns: every domain's grant table (the shared entry frames, in v2 the
 * status frames, an active entry per grant with its pin counts (pages of
 * them allocated when a grant in their range is first pinned: a domain
 * whose grants nobody uses costs none; see the invariants), the
 * maptrack of the domain's own mappings) and the registry domid -> table.
 * Frame references and page types are arch/x86_64/mm.c's; the page-table
 * entries of host mappings are written by pv/mmu.c's pv_grant_*_l1e.
 *
 * Invariants:
 *  - a table is v1 (8-byte entries, GTF_reading / GTF_writing in the
 *    entry's flags) or v2 (16-byte entries, those two flags in status
 *    frame entry i, STATUS_FRAMES(nr_frames) status frames); the version
 *    changes only under the table lock with no grant beyond the first
 *    RESERVED_ENTRIES pinned (grant_version.c);
 *  - an active entry with pins has `user` (the only domain that may use
 *    the grant while pinned), `mfn` and the sub-page window (read from the
 *    entry at the first pin; a transitive grant's pins are copies that
 *    each also hold a use of the grant it names); GTF_reading is set while
 *    ro_pins + rw_pins > 0, GTF_writing while rw_pins > 0;
 *  - a page of active entries (gt->active[ref / ACTIVE_PER_PAGE]) is
 *    allocated by gnttab_active_alloc under the table lock, at the first
 *    pin of a grant in its range and only for a domain that grant's entry
 *    names (grant_pin.c's acquire: a stranger's map or copy cannot make a
 *    table, Domain 0's least of all, take memory), and stays until
 *    table_free; NULL means no grant in its range has pins. Two CPUs
 *    pinning grants of one page hold the same lock, so one allocates;
 *  - every use of a grant (each part, host or device, of a maptrack
 *    entry; a copy in progress) holds one pin, a general reference on the
 *    frame and, when writable, a PGT_writable type reference; releasing
 *    it drops them all;
 *  - a maptrack entry names its granter by domid and the generation of the
 *    granter's table, so a later domain reusing the domid is never
 *    unpinned by mistake; when the granter's table is gone the release
 *    only drops the frame references;
 *  - the shared and status frames are owned by the domain with a
 *    permanent PGT_writable type (never a page table), and are given up
 *    with the table (unshare_frame), status frames also when going back
 *    to v1 (only while the domain maps none).
 * Every guest structure is copied in and checked whole before anything
 * changes; results are GNTST_* per operation, -errno for the call.
 *
 * Locking, in this order: a mapper's maptrack_lock -> gnttabs.lock (the
 * registry, held only to find a table and lock it) -> a table's lock (its
 * version, entries, active entries and size) -> mm.c's locks (d->mm_lock,
 * page and heap locks). No guest copy happens under a table lock. Callers
 * run with interrupts off (hypercalls, the control interface's interrupt
 * handler, domain destruction), like every other user of these locks. */
#include "asm/guest_mm.h"
#include "grant_priv.h"
#include "hv/batch.h"
#include "hv/errno.h"
#include "hv/guest_access.h"
#include "hv/hypercall.h"
#include "hv/lib.h"
#include "hv/mm.h"
#include "hv/printk.h"

/* The registry: the table of the domain in each domain-table slot
 * (domid_slot()); an entry belongs to domid id only if its domain's id is
 * id, checked under the registry lock, before which the table is removed
 * on destruction. */
static struct {
    spinlock_t lock;
    struct grant_table *table[MAX_DOMAINS];
    uint64_t last_generation;
} gnttabs = { .lock = SPINLOCK_INIT };

/* ------------------------------------------------------------------ */
/* Pages and tables                                                     */

void *gnttab_hv_page(void)
{
    void *p = alloc_hv_page();
    if (p)
        frame_table[virt_to_mfn(p)].owner = OWNER_HV;
    return p;
}

/* Status frames (v2) for a table of nr frames beyond those gt has, into
 * frames[]: all or none (-ENOMEM). */
static int alloc_status(struct grant_table *gt, unsigned int nr, void **frames)
{
    for (unsigned int i = gt->nr_status_frames; i < STATUS_FRAMES(nr); i++) {
        frames[i] = gnttab_hv_page();
        if (!frames[i]) {
            while (i-- > gt->nr_status_frames)
                free_hv_page(frames[i]);
            return -ENOMEM;
        }
    }
    return 0;
}

static void install_status(struct grant_table *gt, unsigned int nr, void **frames)
{
    for (unsigned int i = gt->nr_status_frames; i < STATUS_FRAMES(nr); i++) {
        share_frame_with_domain(gt->domain, virt_to_mfn(frames[i]));
        gt->status[i] = frames[i];
    }
    gt->nr_status_frames = STATUS_FRAMES(nr);
}

int gnttab_status_populate(struct grant_table *gt)
{
    void *frames[STATUS_MAX_FRAMES] = { 0 };
    int rc = alloc_status(gt, gt->nr_frames, frames);

    if (!rc)
        install_status(gt, gt->nr_frames, frames);
    return rc;
}

int gnttab_status_unpopulate(struct grant_table *gt)
{
    mfn_t mfns[STATUS_MAX_FRAMES];

    for (unsigned int i = 0; i < gt->nr_status_frames; i++)
        mfns[i] = virt_to_mfn(gt->status[i]);
    int rc = unshare_frames_unused(gt->domain, mfns, gt->nr_status_frames);
    if (rc)
        return rc;
    for (unsigned int i = 0; i < gt->nr_status_frames; i++)
        gt->status[i] = NULL;
    gt->nr_status_frames = 0;
    return 0;
}

/* Grow to nr frames (and, in v2, their status frames): everything is
 * allocated before anything changes. */
static int grow_table(struct grant_table *gt, unsigned int nr)
{
    void *shared[GNTTAB_MAX_FRAMES] = { 0 };
    void *status[STATUS_MAX_FRAMES] = { 0 };
    unsigned int i;

    for (i = gt->nr_frames; i < nr; i++) {
        shared[i] = gnttab_hv_page();
        if (!shared[i])
            break;
    }
    if (i < nr || (gt->version == 2 && alloc_status(gt, nr, status))) {
        for (unsigned int j = gt->nr_frames; j <= i && j < nr; j++)
            if (shared[j])
                free_hv_page(shared[j]);
        return -ENOMEM;
    }
    if (gt->version == 2)
        install_status(gt, nr, status);
    for (i = gt->nr_frames; i < nr; i++) {
        share_frame_with_domain(gt->domain, virt_to_mfn(shared[i]));
        gt->shared[i] = shared[i];
    }
    gt->nr_frames = nr;
    return 0;
}

struct active_grant *gnttab_active_alloc(struct grant_table *gt, grant_ref_t ref)
{
    struct active_grant **page = &gt->active[ref / ACTIVE_PER_PAGE];

    if (!*page)
        *page = gnttab_hv_page();       /* zeroed; freed with the table */
    return *page ? &(*page)[ref % ACTIVE_PER_PAGE] : NULL;
}

static void table_free(struct grant_table *gt)
{
    for (unsigned int i = 0; i < gt->nr_frames; i++)
        unshare_frame(virt_to_mfn(gt->shared[i]));
    for (unsigned int i = 0; i < gt->nr_status_frames; i++)
        unshare_frame(virt_to_mfn(gt->status[i]));
    for (unsigned int i = 0; i < ACTIVE_PAGES; i++)
        if (gt->active[i])
            free_hv_page(gt->active[i]);
    for (unsigned int i = 0; i < gt->maptrack_pages; i++)
        free_hv_page(gt->maptrack[i]);
    memset(gt, 0, sizeof(*gt));     /* its storage is the domain's */
}

/* Domain id's table, locked, if it exists (and has generation gen, unless
 * gen is 0). */
struct grant_table *gnttab_lock(domid_t id, uint64_t gen)
{
    struct grant_table *gt = NULL;

    if (id >= DOMID_FIRST_RESERVED)
        return NULL;
    spin_lock(&gnttabs.lock);
    gt = gnttabs.table[domid_slot(id)];
    if (gt && gt->domain->id == id && (!gen || gt->generation == gen))
        spin_lock(&gt->lock);
    else
        gt = NULL;
    spin_unlock(&gnttabs.lock);
    return gt;
}

/* A live domain's own table: stable while the domain is not destroyed,
 * which cannot happen while it makes a hypercall (or, for Domain 0, ever). */
struct grant_table *gnttab_of(const struct domain *d)
{
    struct grant_table *gt = NULL;

    spin_lock(&gnttabs.lock);
    if (gnttabs.table[domid_slot(d->id)] && gnttabs.table[domid_slot(d->id)]->domain == d)
        gt = gnttabs.table[domid_slot(d->id)];
    spin_unlock(&gnttabs.lock);
    return gt;
}

/* ------------------------------------------------------------------ */
/* Lifecycle                                                            */

_Static_assert(sizeof(struct grant_table) <= DOMAIN_GNTTAB_BYTES,
               "the grant table header fits its storage in struct domain");

int gnttab_init(struct domain *d)
{
    struct grant_table *gt = (struct grant_table *)d->gnttab_storage;
    memset(gt, 0, sizeof(*gt));
    gt->domain = d;
    gt->lock = (spinlock_t)SPINLOCK_INIT;
    gt->maptrack_lock = (spinlock_t)SPINLOCK_INIT;
    gt->maptrack_free = MAPTRACK_NONE;
    gt->version = 1;
    int rc = grow_table(gt, GNTTAB_DEFAULT_FRAMES);
    if (rc)
        return rc;
    spin_lock(&gnttabs.lock);
    if (gnttabs.table[domid_slot(d->id)]) {
        rc = -EEXIST;
    } else {
        gt->generation = ++gnttabs.last_generation;
        gnttabs.table[domid_slot(d->id)] = gt;
    }
    spin_unlock(&gnttabs.lock);
    if (rc)
        table_free(gt);
    return rc;
}

void gnttab_destroy(struct domain *d)
{
    struct grant_table *gt = NULL;

    spin_lock(&gnttabs.lock);
    if (gnttabs.table[domid_slot(d->id)] && gnttabs.table[domid_slot(d->id)]->domain == d) {
        gt = gnttabs.table[domid_slot(d->id)];
        gnttabs.table[domid_slot(d->id)] = NULL;
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
    unsigned int released = gnttab_release_mappings(gt);
    if (released)
        pr_debug("domain %u: released %u grant mappings at destruction", d->id, released);
    table_free(gt);
}

/* ------------------------------------------------------------------ */
/* The hypercall                                                        */

int16_t gnttab_own_target(struct domain *self, domid_t dom)
{
    if (dom == DOMID_SELF || dom == self->id)
        return GNTST_okay;
    return domain_exists(dom) ? GNTST_permission_denied : GNTST_bad_domain;
}

/* How setup_table and get_status_frames end: the frames into the guest's
 * list while all went well (else GNTST_bad_virt_addr), then the status
 * field at status_at. */
static long frames_and_status_out(uint64_t uop, size_t status_at, int16_t status, uint64_t list,
                                  const uint64_t *frames, unsigned int n)
{
    for (unsigned int i = 0; status == GNTST_okay && i < n; i++)
        if (copy_to_guest(list + i * sizeof(uint64_t), &frames[i], sizeof(frames[i])))
            status = GNTST_bad_virt_addr;
    return copy_to_guest(uop + status_at, &status, sizeof(status)) ? -EFAULT : 0;
}

static long setup_table_op(struct domain *self, uint64_t uop)
{
    struct gnttab_setup_table op;
    uint64_t frames[GNTTAB_MAX_FRAMES];         /* xen_pfn_t is uint64_t */
    struct grant_table *gt = gnttab_of(self);

    if (copy_from_guest(&op, uop, sizeof(op)))
        return -EFAULT;
    if (!guest_range_ok(op.frame_list, (uint64_t)op.nr_frames * sizeof(xen_pfn_t)))
        return -EFAULT;
    op.status = gnttab_own_target(self, op.dom);
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
    return frames_and_status_out(uop, offsetof(struct gnttab_setup_table, status), op.status,
                                 op.frame_list, frames, op.nr_frames);
}

static long query_size_op(struct domain *self, uint64_t uop)
{
    struct gnttab_query_size op;
    struct grant_table *gt = gnttab_of(self);

    if (copy_from_guest(&op, uop, sizeof(op)))
        return -EFAULT;
    op.status = gnttab_own_target(self, op.dom);
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

static long get_status_frames_op(struct domain *self, uint64_t uop)
{
    struct gnttab_get_status_frames op;
    uint64_t frames[STATUS_MAX_FRAMES];
    struct grant_table *gt = gnttab_of(self);

    if (copy_from_guest(&op, uop, sizeof(op)))
        return -EFAULT;
    op.status = gnttab_own_target(self, op.dom);
    if (op.status == GNTST_okay && !gt)
        op.status = GNTST_general_error;
    if (op.status == GNTST_okay) {
        spin_lock(&gt->lock);
        if (op.nr_frames > gt->nr_status_frames)   /* v1 has none */
            op.status = GNTST_general_error;
        for (unsigned int i = 0; op.status == GNTST_okay && i < op.nr_frames; i++)
            frames[i] = virt_to_mfn(gt->status[i]);
        spin_unlock(&gt->lock);
    }
    return frames_and_status_out(uop, offsetof(struct gnttab_get_status_frames, status),
                                 op.status, op.frame_list, frames, op.nr_frames);
}

/* An array of operations through batch_run (hv/batch.h): each is copied
 * in, run, and its results copied back (the status field, or the whole op
 * for map as Xen does); a fault ends the call with -EFAULT, the earlier
 * operations staying done. */
struct batch_kind {
    struct batch_ops ops;
    void (*run)(struct vcpu *v, void *op);
};

static long grant_one(void *ctx, void *elem, uint64_t at);

#define GRANT_BATCH(type, out_off, out_sz, fn) \
    { { sizeof(type), true, out_off, out_sz, grant_one }, fn }

static const struct batch_kind batch_map = GRANT_BATCH(
    struct gnttab_map_grant_ref, 0, sizeof(struct gnttab_map_grant_ref), gnttab_map_op);
static const struct batch_kind batch_unmap = GRANT_BATCH(
    struct gnttab_unmap_grant_ref, offsetof(struct gnttab_unmap_grant_ref, status),
    sizeof(int16_t), gnttab_unmap_op);
static const struct batch_kind batch_unmap_and_replace = GRANT_BATCH(
    struct gnttab_unmap_and_replace, offsetof(struct gnttab_unmap_and_replace, status),
    sizeof(int16_t), gnttab_unmap_and_replace_op);
static const struct batch_kind batch_copy = GRANT_BATCH(
    struct gnttab_copy, offsetof(struct gnttab_copy, status), sizeof(int16_t), gnttab_copy_op);

struct grant_batch {
    struct vcpu *v;
    const struct batch_kind *kind;
};

static long grant_one(void *ctx, void *elem, uint64_t at)
{
    struct grant_batch *b = ctx;

    (void)at;
    b->kind->run(b->v, elem);
    return 0;
}

/* Stopped for pending work, the call continues as Xen's: the same cmd,
 * the array advanced to the operation reached, the count reduced. */
static long run_batch(struct vcpu *v, const struct batch_kind *k, uint32_t cmd, uint64_t uop,
                      uint32_t count)
{
    struct grant_batch b = { v, k };
    uint64_t i = 0;

    if (!guest_range_ok(uop, (uint64_t)count * k->ops.size))
        return -EFAULT;
    long rc = batch_run(&k->ops, &b, uop, &i, count);
    if (rc == -ERESTART) {
        const uint64_t args[3] = { cmd, uop + i * k->ops.size, count - i };
        return hypercall_continue(__HYPERVISOR_grant_table_op, 3, args);
    }
    return rc;
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
        return run_batch(v, &batch_map, (uint32_t)cmd, uop, n);
    case GNTTABOP_unmap_grant_ref:
        return run_batch(v, &batch_unmap, (uint32_t)cmd, uop, n);
    case GNTTABOP_copy:
        return run_batch(v, &batch_copy, (uint32_t)cmd, uop, n);
    case GNTTABOP_setup_table:
        return n == 1 ? setup_table_op(v->domain, uop) : -EINVAL;
    case GNTTABOP_query_size:
        return n == 1 ? query_size_op(v->domain, uop) : -EINVAL;
    case GNTTABOP_unmap_and_replace:
        return run_batch(v, &batch_unmap_and_replace, (uint32_t)cmd, uop, n);
    case GNTTABOP_set_version:
        return gnttab_set_version_op(v->domain, uop);
    case GNTTABOP_get_version:
        return gnttab_get_version_op(v->domain, uop);
    case GNTTABOP_get_status_frames:
        return n == 1 ? get_status_frames_op(v->domain, uop) : -EINVAL;
    default:                                /* transfer, swap_grant_ref, cache_flush, dump_table */
        return hypercall_unimplemented(__HYPERVISOR_grant_table_op, cmd);
    }
}
