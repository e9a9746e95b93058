/* Grant tables: mappings (see grant_table.c for the model, the invariants
 * and the lock order).
 *
 * Owns: every domain's maptrack (the grants it has mapped, by handle),
 * GNTTABOP_map_grant_ref / unmap_grant_ref and Domain 0's map / unmap.
 * A maptrack entry holds the use of its grant (grant_pin.c); the page-table
 * entry of a host mapping is written by pv/mmu.c's pv_grant_*_l1e and
 * holds nothing. A mapper's maptrack_lock is taken before any table lock. */
#include "asm/guest_mm.h"
#include "grant_priv.h"
#include "hv/errno.h"
#include "hv/lib.h"
#include "hv/mm.h"

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
        struct grant_mapping *page = gnttab_hv_page();
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
    struct grant_table *mt = gnttab_of(mapper);
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
    struct grant_table *mt = gnttab_of(mapper);
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

void gnttab_map_op(struct vcpu *v, void *arg)
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

void gnttab_unmap_op(struct vcpu *v, void *arg)
{
    struct gnttab_unmap_grant_ref *op = arg;

    op->status = unmap_grant(v->domain, v, op->handle, op->host_addr, op->dev_bus_addr);
}

unsigned int gnttab_release_mappings(struct grant_table *gt)
{
    unsigned int released = 0;

    spin_lock(&gt->maptrack_lock);
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
    return released;
}
