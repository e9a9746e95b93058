/* Grant tables: mappings (see grant_table.c for the model, the invariants
 * and the lock order).
 *
 * Owns: every domain's maptrack (the grants it has mapped, by handle),
 * GNTTABOP_map_grant_ref / unmap_grant_ref / unmap_and_replace and
 * Domain 0's map / unmap. A maptrack entry holds one use of its grant
 * (grant_pin.c) per part it still has: GNTMAP_host_map and
 * GNTMAP_device_map are unmapped separately (partial unmaps, as Xen), and
 * the entry is freed with its last part. The page-table entry of a host
 * part is written by pv/mmu.c's pv_grant_*_l1e and holds nothing. A
 * mapper's maptrack_lock is taken before any table lock. */
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

/* The parts of a mapping (host, device): each holds a use of the grant. */
static unsigned int nr_parts(uint16_t flags)
{
    return !!(flags & GNTMAP_host_map) + !!(flags & GNTMAP_device_map);
}

/* ------------------------------------------------------------------ */
/* Map and unmap (shared by guests and Domain 0)                        */

/* Map op->ref of op->dom for mapper. With GNTMAP_host_map the frame is
 * mapped at op->host_addr in v's page tables (v NULL: not possible). */
static int16_t map_grant(struct domain *mapper, struct vcpu *v,
                         const struct gnttab_map_grant_ref *op, grant_handle_t *handle,
                         mfn_t *mfn)
{
    bool readonly = op->flags & GNTMAP_readonly;
    bool host = op->flags & GNTMAP_host_map;
    uint16_t parts = (uint16_t)(op->flags & (GNTMAP_device_map | GNTMAP_host_map));
    struct grant_table *mt = gnttab_of(mapper);
    struct grant_use use, second;
    int16_t st;

    if (!parts)
        return GNTST_bad_gntref;                /* as Xen 4.17 */
    if ((op->flags & GNTMAP_contains_pte) || (host && !v) || !mt)
        return GNTST_general_error;
    spin_lock(&mt->maptrack_lock);
    grant_handle_t h = maptrack_get(mt);
    if (h == MAPTRACK_NONE) {
        st = GNTST_no_device_space;
        goto out;
    }
    st = grant_acquire(mapper->id, op->dom, op->ref, readonly, true, &use);
    if (!st && nr_parts(parts) == 2) {
        st = grant_acquire(mapper->id, op->dom, op->ref, readonly, true, &second);
        if (st)
            grant_release(&use);
    }
    if (st) {
        maptrack_put(mt, h);
        goto out;
    }
    if (host && pv_grant_map_l1e(v, op->host_addr, use.mfn, readonly,
                                 op->flags / GNTMAP_guest_avail0)) {
        for (unsigned int i = 0; i < nr_parts(parts); i++)
            grant_release(&use);
        maptrack_put(mt, h);
        st = GNTST_general_error;               /* no L1 maps host_addr, or a grant is there */
        goto out;
    }
    *maptrack_entry(mt, h) = (struct grant_mapping){
        .flags = parts | (readonly ? GNTMAP_readonly : 0),
        .granter = op->dom, .ref = op->ref, .generation = use.generation, .mfn = use.mfn,
        .host_addr = host ? op->host_addr & ~(PAGE_SIZE - 1) : 0,
    };
    *handle = h;
    *mfn = use.mfn;
out:
    spin_unlock(&mt->maptrack_lock);
    return st;
}

/* What an unmap names (unmap_grant_ref, unmap_and_replace, Domain 0). */
struct unmap_request {
    grant_handle_t handle;
    uint64_t host_addr;             /* non-zero: the host part, mapped at this page */
    uint64_t dev_bus_addr;          /* non-zero: the device part, of this frame */
    uint64_t new_addr;              /* host part: move this page's entry there instead */
    bool any_device;                /* Domain 0: the device part, whatever dev_bus_addr */
};

/* Unmap the parts of a mapping the request names, as Xen 4.17 does: the
 * host part when host_addr is given (it must be the mapping's page and
 * the grant entry still be there, else GNTST_general_error and nothing
 * changes), the device part when dev_bus_addr is given (it must be the
 * frame's address, else GNTST_bad_dev_addr); a part not named stays, with
 * its pin and references, and the handle with it. Naming none is
 * GNTST_okay and does nothing. */
static int16_t unmap_grant(struct domain *mapper, struct vcpu *v, const struct unmap_request *rq)
{
    struct grant_table *mt = gnttab_of(mapper);
    int16_t st = GNTST_okay;
    uint16_t done = 0;

    if (!mt)
        return GNTST_bad_handle;
    spin_lock(&mt->maptrack_lock);
    struct grant_mapping *m = maptrack_lookup(mt, rq->handle);
    if (!m) {
        st = GNTST_bad_handle;
        goto out;
    }
    if (rq->dev_bus_addr && rq->dev_bus_addr != m->mfn << PAGE_SHIFT) {
        st = GNTST_bad_dev_addr;                /* what Xen 4.17 answers (measured) */
        goto out;
    }
    if (rq->host_addr && (m->flags & GNTMAP_host_map)) {
        int rc = -EINVAL;
        if (v && (rq->host_addr & ~(PAGE_SIZE - 1)) == m->host_addr)
            rc = rq->new_addr ? pv_grant_replace_l1e(v, m->host_addr, m->mfn, rq->new_addr)
                              : pv_grant_unmap_l1e(v, m->host_addr, m->mfn);
        if (rc) {
            st = GNTST_general_error;
            goto out;
        }
        done |= GNTMAP_host_map;
        m->host_addr = 0;
    }
    if ((rq->dev_bus_addr || rq->any_device) && (m->flags & GNTMAP_device_map))
        done |= GNTMAP_device_map;
    struct grant_use use = use_of(m);
    m->flags &= (uint16_t)~done;
    if (!(m->flags & (GNTMAP_host_map | GNTMAP_device_map)))
        maptrack_put(mt, rq->handle);
    for (unsigned int i = 0; i < nr_parts(done); i++)
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
    struct unmap_request rq = { .handle = handle, .any_device = true };

    return gntst_errno(unmap_grant(mapper, NULL, &rq));
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
    struct unmap_request rq = { .handle = op->handle, .host_addr = op->host_addr,
                                .dev_bus_addr = op->dev_bus_addr };

    op->status = unmap_grant(v->domain, v, &rq);
}

/* Xen's unmap_common with no device address: only a host part goes. */
void gnttab_unmap_and_replace_op(struct vcpu *v, void *arg)
{
    struct gnttab_unmap_and_replace *op = arg;
    struct unmap_request rq = { .handle = op->handle, .host_addr = op->host_addr,
                                .new_addr = op->new_addr };

    op->status = unmap_grant(v->domain, v, &rq);
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
        unsigned int parts = nr_parts(m->flags);
        m->flags = 0;
        for (unsigned int i = 0; i < parts; i++)
            grant_release(&use);
        released++;
    }
    spin_unlock(&gt->maptrack_lock);
    return released;
}
