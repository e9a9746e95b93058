/* Grant tables: the table's version (GNTTABOP_set_version / get_version),
 * as Xen 4.17 switches it (see grant_table.c for the model and the lock
 * order).
 *
 * Owns: the switch of a table between v1 (8-byte entries, flags in the
 * entry) and v2 (16-byte entries: full_page, sub_page, transitive; the
 * GTF_reading / GTF_writing status of entry i in a separate status frame).
 *
 * A switch happens under the table lock, and only while no grant beyond
 * the first RESERVED_ENTRIES (the toolstack's: console, xenstore) is
 * pinned (-EBUSY); those eight are carried over in the new format, with
 * their status, and every other entry is cleared. v1 -> v2 shares
 * STATUS_FRAMES(nr_frames) new status frames with the domain (-ENOMEM);
 * v2 -> v1 needs the reserved entries to fit v1 (no transitive grant, no
 * frame above 2^32: -ERANGE) and the status frames to be unmapped by the
 * domain (-EBUSY); they are then taken back. Every failure changes
 * nothing, and the version in force is always written back. */
#include "grant_priv.h"
#include "hv/errno.h"
#include "hv/guest_access.h"
#include "hv/lib.h"

/* Entry i in v1 form, with its status flags (what a switch carries). */
static struct grant_entry_v1 reserved_entry(struct grant_table *gt, grant_ref_t i)
{
    uint32_t *w = gnttab_entry_words(gt, i);
    struct grant_entry_v1 e = { 0 };

    if (gt->version == 1) {
        uint32_t hdr = __atomic_load_n(w, __ATOMIC_ACQUIRE);
        e.flags = (uint16_t)hdr;
        e.domid = (domid_t)(hdr >> 16);
        e.frame = __atomic_load_n(w + 1, __ATOMIC_ACQUIRE);
        return e;
    }
    union grant_entry_v2 *v2 = (union grant_entry_v2 *)w;
    uint16_t flags = __atomic_load_n(&v2->hdr.flags, __ATOMIC_ACQUIRE);
    if ((flags & GTF_type_mask) != GTF_permit_access)
        return e;                           /* nothing else is carried over */
    e.flags = flags | *gnttab_status(gt, i);
    e.domid = v2->hdr.domid;
    e.frame = (uint32_t)v2->full_page.frame;
    return e;
}

static void set_reserved_entry(struct grant_table *gt, grant_ref_t i,
                               const struct grant_entry_v1 *e)
{
    uint32_t *w = gnttab_entry_words(gt, i);

    if (gt->version == 1) {
        w[1] = e->frame;
        __atomic_store_n(w, e->flags | (uint32_t)e->domid << 16, __ATOMIC_RELEASE);
        return;
    }
    union grant_entry_v2 *v2 = (union grant_entry_v2 *)w;
    *gnttab_status(gt, i) = e->flags & (GTF_reading | GTF_writing);
    v2->full_page.frame = e->frame;
    v2->hdr.domid = e->domid;
    __atomic_store_n(&v2->hdr.flags, e->flags & ~(GTF_reading | GTF_writing), __ATOMIC_RELEASE);
}

/* v2 -> v1: can v1 say what the reserved entries say? */
static bool reserved_fit_v1(struct grant_table *gt)
{
    for (grant_ref_t i = 0; i < RESERVED_ENTRIES; i++) {
        union grant_entry_v2 *e = (union grant_entry_v2 *)gnttab_entry_words(gt, i);
        uint16_t type = __atomic_load_n(&e->hdr.flags, __ATOMIC_ACQUIRE) & GTF_type_mask;
        if (type == GTF_transitive ||
            (type == GTF_permit_access && (e->full_page.frame >> 32)))
            return false;
    }
    return true;
}

static int switch_version(struct grant_table *gt, unsigned int version)
{
    struct grant_entry_v1 saved[RESERVED_ENTRIES];
    int rc;

    for (grant_ref_t ref = RESERVED_ENTRIES; ref < gnttab_nr_entries(gt); ref++) {
        if (gnttab_pinned(gt, ref))
            return -EBUSY;
    }
    if (gt->version == 1) {
        rc = gnttab_status_populate(gt);
        if (rc)
            return rc;
    } else if (!reserved_fit_v1(gt)) {
        return -ERANGE;
    }
    for (grant_ref_t i = 0; i < RESERVED_ENTRIES; i++)
        saved[i] = reserved_entry(gt, i);
    if (gt->version == 2) {
        rc = gnttab_status_unpopulate(gt);
        if (rc)
            return rc;
    }
    for (unsigned int i = 0; i < gt->nr_frames; i++)
        memset(gt->shared[i], 0, PAGE_SIZE);
    gt->version = version;
    for (grant_ref_t i = 0; i < RESERVED_ENTRIES; i++)
        set_reserved_entry(gt, i, &saved[i]);
    return 0;
}

long gnttab_set_version_op(struct domain *self, uint64_t uop)
{
    struct gnttab_set_version op;
    struct grant_table *gt = gnttab_of(self);
    long rc = 0;

    if (copy_from_guest(&op, uop, sizeof(op)))
        return -EFAULT;
    if (!gt)
        return -ESRCH;
    spin_lock(&gt->lock);
    if (op.version != 1 && op.version != 2)
        rc = -EINVAL;
    else if (op.version != gt->version)
        rc = switch_version(gt, op.version);
    op.version = gt->version;
    spin_unlock(&gt->lock);
    return copy_to_guest(uop, &op, sizeof(op)) ? -EFAULT : rc;
}

long gnttab_get_version_op(struct domain *self, uint64_t uop)
{
    struct gnttab_get_version op;
    struct grant_table *gt = gnttab_of(self);

    if (copy_from_guest(&op, uop, sizeof(op)))
        return -EFAULT;
    switch (gnttab_own_target(self, op.dom)) {
    case GNTST_okay:
        break;
    case GNTST_permission_denied:
        return -EPERM;
    default:
        return -ESRCH;
    }
    if (!gt)
        return -ESRCH;
    spin_lock(&gt->lock);
    op.version = gt->version;
    spin_unlock(&gt->lock);
    return copy_to_guest(uop + offsetof(struct gnttab_get_version, version), &op.version,
                         sizeof(op.version)) ? -EFAULT : 0;
}
