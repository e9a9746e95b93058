/* HYPERVISOR_memory_op: reservations (the balloon), exchange and the
 * memory layout queries of the Xen PV ABI, with Xen 4.17's results.
 *
 * Owns: the checks and bookkeeping of increase/decrease_reservation,
 * populate_physmap and exchange, and the answers to the layout queries. Frames,
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
 * mean 0 extents done rather than an error code. Each list runs through
 * batch_run (hv/batch.h); stopped for pending work, the call continues
 * with the extent reached in the high bits of cmd (MEMOP_EXTENT_SHIFT),
 * and such an index from the guest is honoured too.
 *
 * Locking: d->mm_lock around the reference drop of a given-back frame;
 * mm.c takes d->page_lock for the page list. */
#include <public/memory.h>
#include "asm/guest_mm.h"
#include "hv/batch.h"
#include "hv/errno.h"
#include "hv/guest_access.h"
#include "hv/hypercall.h"
#include "hv/lib.h"
#include "hv/mm.h"
#include "hv/spinlock.h"

#define MEMOP_MAX_EXTENTS (UINT32_MAX >> MEMOP_EXTENT_SHIFT)
#define MEMOP_MAX_ORDER   0
#define MEMOP_EXCHANGE_MAX_ORDER 20     /* Xen's MAX_ORDER: above, -EINVAL */

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

/* One extent of each operation (ctx: the domain; elem: its slot of the
 * list, copied in or out as the operation's batch_ops say). Non-zero
 * stops the batch with the extents before it done. */
static long decrease_one(void *ctx, void *elem, uint64_t at)
{
    struct domain *d = ctx;

    (void)at;
    spin_lock(&d->mm_lock);
    bool ok = remove_frame(d, *(xen_pfn_t *)elem);
    spin_unlock(&d->mm_lock);
    return !ok;
}

static long increase_one(void *ctx, void *elem, uint64_t at)
{
    int64_t mfn = alloc_domain_frame(ctx);

    (void)at;
    if (mfn < 0)
        return 1;
    /* The frame stays the domain's even if it cannot learn its number
     * (as in Xen): the copy-out's fault ends the batch before it. */
    *(xen_pfn_t *)elem = (xen_pfn_t)mfn;
    return 0;
}

static long populate_one(void *ctx, void *elem, uint64_t at)
{
    int64_t mfn = alloc_domain_frame(ctx);

    (void)at;
    if (mfn < 0)
        return 1;
    machine_to_phys[mfn] = *(xen_pfn_t *)elem;      /* the gpfn asked for */
    *(xen_pfn_t *)elem = (xen_pfn_t)mfn;
    return 0;
}

static const struct batch_ops extent_batch[] = {
    [XENMEM_increase_reservation] = { .size = sizeof(xen_pfn_t), .out_size = sizeof(xen_pfn_t),
                                      .run = increase_one },
    [XENMEM_decrease_reservation] = { .size = sizeof(xen_pfn_t), .copy_in = true,
                                      .run = decrease_one },
    [XENMEM_populate_physmap] = { .size = sizeof(xen_pfn_t), .copy_in = true,
                                  .out_size = sizeof(xen_pfn_t), .run = populate_one },
};

/* The extent operations return the extents done; stopped for pending
 * work they continue with the extent reached in cmd's high bits (Xen's
 * MEMOP_EXTENT_SHIFT encoding). */
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
    /* increase_reservation may have no list: nothing is copied then. */
    uint64_t i = start;
    if (batch_run(&extent_batch[op], d, r.extent_start, &i, r.nr_extents) == -ERESTART) {
        const uint64_t args[2] = { op | (i << MEMOP_EXTENT_SHIFT), arg };
        return hypercall_continue(__HYPERVISOR_memory_op, 2, args);
    }
    return (long)i;
}

/* XENMEM_exchange, Xen's memory_exchange for order-0 extents: each input
 * frame (only its allocation referencing it) is swapped for a new frame
 * at the output list's gpfn, whose mfn goes back into that list. */
struct exchange {
    struct domain *d;
    struct xen_memory_exchange x;
    long rc;                            /* -EFAULT on the output list */
};

static long exchange_one(void *ctx, void *elem, uint64_t at)
{
    struct exchange *e = ctx;
    uint64_t out_at = e->x.out.extent_start + (at - e->x.in.extent_start);
    mfn_t in = *(xen_pfn_t *)elem;
    xen_pfn_t gpfn;

    spin_lock(&e->d->mm_lock);
    int rc = steal_frame(e->d, in);
    spin_unlock(&e->d->mm_lock);
    if (rc)
        return rc;
    int64_t out = alloc_domain_frame(e->d);
    if (out < 0) {
        unsteal_frame(e->d, in);
        return -ENOMEM;
    }
    free_stolen_frame(e->d, in);
    /* As Xen: the exchange is done; a fault on the output list is only
     * reported. */
    if (copy_from_guest(&gpfn, out_at, sizeof(gpfn))) {
        e->rc = -EFAULT;
        return 0;
    }
    machine_to_phys[out] = gpfn;
    if (copy_to_guest(out_at, &out, sizeof(xen_pfn_t)))
        e->rc = -EFAULT;
    return 0;
}

static const struct batch_ops exchange_batch = {
    .size = sizeof(xen_pfn_t), .copy_in = true, .run = exchange_one,
};

/* Xen's checks and order; nr_exchanged goes back to the guest whatever
 * happens, and a stop for pending work continues with it. */
static long memop_exchange(uint64_t arg)
{
    struct exchange e = { .rc = 0 };
    struct xen_memory_exchange *x = &e.x;
    long rc = 0;

    if (copy_from_guest(x, arg, sizeof(*x)))
        return -EFAULT;
    if (x->nr_exchanged > x->in.nr_extents || x->in.domid != x->out.domid ||
        x->in.extent_order > MEMOP_EXCHANGE_MAX_ORDER ||
        x->out.extent_order > MEMOP_EXCHANGE_MAX_ORDER ||
        (UINT64_MAX >> x->in.extent_order) < x->in.nr_extents ||
        (UINT64_MAX >> x->out.extent_order) < x->out.nr_extents ||
        (x->in.nr_extents << x->in.extent_order) != (x->out.nr_extents << x->out.extent_order))
        rc = -EINVAL;
    else if (!guest_range_ok(x->in.extent_start, x->in.nr_extents * sizeof(xen_pfn_t)) ||
             !guest_range_ok(x->out.extent_start, x->out.nr_extents * sizeof(xen_pfn_t)))
        rc = -EFAULT;
    else if (x->in.extent_order > MEMOP_MAX_ORDER || x->out.extent_order > MEMOP_MAX_ORDER)
        rc = -EPERM;                    /* multi-page extents: privileged only, as Xen */
    else
        rc = memop_query_target(x->in.domid, &e.d);
    if (!rc) {
        uint64_t i = x->nr_exchanged;
        rc = batch_run(&exchange_batch, &e, x->in.extent_start, &i, x->in.nr_extents);
        x->nr_exchanged = i;
        if (rc == -ERESTART) {
            const uint64_t args[2] = { XENMEM_exchange, arg };
            rc = hypercall_continue(__HYPERVISOR_memory_op, 2, args);
        } else if (!rc) {
            rc = e.rc;
        }
    }
    if (copy_to_guest(arg + offsetof(struct xen_memory_exchange, nr_exchanged),
                      &x->nr_exchanged, sizeof(x->nr_exchanged)))
        rc = -EFAULT;
    return rc;
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
    case XENMEM_exchange:
        return memop_exchange(arg);
    default:
        return hypercall_unimplemented(__HYPERVISOR_memory_op, op);
    }
}
