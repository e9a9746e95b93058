/* HYPERVISOR_memory_op: reservations (the balloon) and the memory layout
 * queries of the Xen PV ABI, with Xen 4.17's results.
 *
 * Owns: the checks and bookkeeping of increase/decrease_reservation and
 * populate_physmap, and the answers to the layout queries. Frames,
 * references and the m2p are arch/x86_64/mm.c's.
 *
 * Invariants: a domain never holds more than max_pages frames (mm.c's
 * assign_frame refuses); a frame given back loses its allocation
 * reference at once and is freed when its last mapping goes; for a PV
 * guest the p2m is the guest's, the hypervisor only sets m2p[mfn] = gpfn
 * for frames populate_physmap hands out. Extents are single pages
 * (extent_order 0): larger orders are refused the way Xen refuses orders
 * above a domain's limit, by doing nothing.
 *
 * The extent operations return the number of extents done; as in Xen,
 * bad arguments (unreadable structure or list, another domain, order)
 * mean 0 extents done rather than an error code. A continuation index in
 * the high bits of cmd (MEMOP_EXTENT_SHIFT) is honoured.
 *
 * Locking: d->mm_lock around the reference drop of a given-back frame;
 * mm.c takes d->page_lock for the page list. */
#include <public/memory.h>
#include "asm/guest_mm.h"
#include "hv/errno.h"
#include "hv/guest_access.h"
#include "hv/hypercall.h"
#include "hv/lib.h"
#include "hv/mm.h"
#include "hv/spinlock.h"

#define MEMOP_MAX_EXTENTS (UINT32_MAX >> MEMOP_EXTENT_SHIFT)
#define MEMOP_MAX_ORDER   0

/* The domain a request names, when the caller may act on it. */
static struct domain *memop_target(domid_t domid)
{
    struct domain *self = current->domain;
    return domid == DOMID_SELF || domid == self->id ? self : NULL;
}

/* Query ops on another domain: -ESRCH if it does not exist, -EPERM as no
 * domain may look at another one yet. */
static long memop_query_target(domid_t domid, struct domain **out)
{
    *out = memop_target(domid);
    if (*out)
        return 0;
    return domain_exists(domid) ? -EPERM : -ESRCH;
}

/* Give back one frame (Xen's guest_remove_page): false stops the batch. */
static bool remove_frame(struct domain *d, xen_pfn_t mfn)
{
    if (mfn >= max_mfn || get_page(mfn, d))
        return false;
    spin_lock(&d->page_lock);
    bool allocated = frame_table[mfn].flags & PGF_ALLOCATED;
    frame_table[mfn].flags &= ~PGF_ALLOCATED;
    spin_unlock(&d->page_lock);
    if (allocated)
        put_page(mfn);                  /* the allocation's reference */
    put_page(mfn);                      /* ours: may free it now */
    return allocated;
}

static uint64_t decrease_reservation(struct domain *d, const struct xen_memory_reservation *r,
                                     uint64_t i)
{
    for (; i < r->nr_extents; i++) {
        xen_pfn_t mfn;
        if (copy_from_guest(&mfn, r->extent_start + i * sizeof(mfn), sizeof(mfn)))
            break;
        spin_lock(&d->mm_lock);
        bool ok = remove_frame(d, mfn);
        spin_unlock(&d->mm_lock);
        if (!ok)
            break;
    }
    return i;
}

static uint64_t increase_reservation(struct domain *d, const struct xen_memory_reservation *r,
                                     uint64_t i)
{
    for (; i < r->nr_extents; i++) {
        int64_t mfn = alloc_domain_frame(d);
        if (mfn < 0)
            break;
        /* The frame stays the domain's even if it cannot learn its number
         * (as in Xen). */
        xen_pfn_t out = (xen_pfn_t)mfn;
        if (r->extent_start &&
            copy_to_guest(r->extent_start + i * sizeof(out), &out, sizeof(out)))
            break;
    }
    return i;
}

static uint64_t populate_physmap(struct domain *d, const struct xen_memory_reservation *r,
                                 uint64_t i)
{
    for (; i < r->nr_extents; i++) {
        xen_pfn_t gpfn, out;
        uint64_t slot = r->extent_start + i * sizeof(gpfn);
        if (copy_from_guest(&gpfn, slot, sizeof(gpfn)))
            break;
        int64_t mfn = alloc_domain_frame(d);
        if (mfn < 0)
            break;
        machine_to_phys[mfn] = gpfn;
        out = (xen_pfn_t)mfn;
        if (copy_to_guest(slot, &out, sizeof(out)))
            break;
    }
    return i;
}

static long memop_extents(unsigned int op, uint64_t start, uint64_t arg)
{
    struct xen_memory_reservation r;

    if (copy_from_guest(&r, arg, sizeof(r)) || r.nr_extents > MEMOP_MAX_EXTENTS ||
        start >= r.nr_extents)
        return (long)start;
    struct domain *d = memop_target(r.domid);
    if (!d || r.extent_order > MEMOP_MAX_ORDER)
        return (long)start;
    /* The whole list must lie in guest space (mapped or not). */
    bool list_needed = op != XENMEM_increase_reservation || r.extent_start;
    if (list_needed && !guest_range_ok(r.extent_start + start * sizeof(xen_pfn_t),
                                       (r.nr_extents - start) * sizeof(xen_pfn_t)))
        return (long)start;

    switch (op) {
    case XENMEM_increase_reservation:
        return (long)increase_reservation(d, &r, start);
    case XENMEM_decrease_reservation:
        return (long)decrease_reservation(d, &r, start);
    default:
        return (long)populate_physmap(d, &r, start);
    }
}

static long memop_reservation_query(unsigned int op, uint64_t arg)
{
    domid_t domid;
    struct domain *d;

    if (copy_from_guest(&domid, arg, sizeof(domid)))
        return -EFAULT;
    long rc = memop_query_target(domid, &d);
    if (rc)
        return rc;
    return (long)(op == XENMEM_current_reservation ? d->tot_pages : d->max_pages);
}

/* The domain's pseudo-physical map: RAM from 0 up to its maximum. */
static long memop_memory_map(uint64_t arg)
{
    struct domain *d = current->domain;
    struct xen_memory_map map;
    struct e820_entry ram = { .addr = 0, .size = d->max_pages << PAGE_SHIFT,
                              .type = E820_RAM };

    if (copy_from_guest(&map, arg, sizeof(map)))
        return -EFAULT;
    map.nr_entries = MIN(map.nr_entries, 1u);
    if ((map.nr_entries && copy_to_guest(map.buffer, &ram, sizeof(ram))) ||
        copy_to_guest(arg, &map, sizeof(map)))
        return -EFAULT;
    return 0;
}

static long memop_machphys_mapping(uint64_t arg)
{
    struct xen_machphys_mapping m = {
        .v_start = MACH2PHYS_VIRT_START,
        .v_end = MACH2PHYS_VIRT_END,
        .max_mfn = max_mfn - 1,
    };
    return copy_to_guest(arg, &m, sizeof(m)) ? -EFAULT : 0;
}

/* The m2p's frames, one per 2 MiB of the table (Xen's layout). */
static long memop_machphys_mfn_list(uint64_t arg)
{
    struct xen_machphys_mfn_list l;
    const uint64_t per_extent = 1UL << (L2_SHIFT - PAGE_SHIFT);
    uint32_t i;

    if (copy_from_guest(&l, arg, sizeof(l)))
        return -EFAULT;
    for (i = 0; i < l.max_extents && (uint64_t)i * per_extent < m2p_nr_frames(); i++) {
        xen_pfn_t mfn = m2p_first_mfn() + (uint64_t)i * per_extent;
        if (copy_to_guest(l.extent_start + (uint64_t)i * sizeof(mfn), &mfn, sizeof(mfn)))
            return -EFAULT;
    }
    l.nr_extents = i;
    return copy_to_guest(arg, &l, sizeof(l)) ? -EFAULT : 0;
}

long do_memory_op(uint64_t cmd, uint64_t arg)
{
    unsigned int op = (unsigned int)(cmd & MEMOP_CMD_MASK);
    uint64_t start = cmd >> MEMOP_EXTENT_SHIFT;

    switch (op) {
    case XENMEM_increase_reservation:
    case XENMEM_decrease_reservation:
    case XENMEM_populate_physmap:
        return memop_extents(op, start, arg);
    }
    if (start)
        return -EINVAL;
    switch (op) {
    case XENMEM_maximum_ram_page:
        return (long)max_mfn;
    case XENMEM_current_reservation:
    case XENMEM_maximum_reservation:
        return memop_reservation_query(op, arg);
    case XENMEM_memory_map:
        return memop_memory_map(arg);
    case XENMEM_machine_memory_map:
        return -EPERM;                  /* no domain is privileged */
    case XENMEM_machphys_mapping:
        return memop_machphys_mapping(arg);
    case XENMEM_machphys_mfn_list:
        return memop_machphys_mfn_list(arg);
    default:
        return hypercall_unimplemented(__HYPERVISOR_memory_op, op);
    }
}
