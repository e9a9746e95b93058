/* Grant tables: GNTTABOP_copy and Domain 0's copy (see grant_table.c for
 * the model, the invariants and the lock order).
 *
 * Owns: nothing but the copy itself; each side is a use of a grant
 * (grant_pin.c) or a reference on a frame of the caller's, held only
 * while the copy runs. A copy stays within each side's window: a v2
 * sub-page grant's [page_off, page_off + length), else the page. */
#include "grant_priv.h"
#include "hv/errno.h"
#include "hv/lib.h"
#include "hv/mm.h"

/* One side of a copy: a grant, a frame of the caller's own, or (Domain 0)
 * a frame of its window. */
struct copy_side {
    struct grant_use use;
    bool granted, window;
};

/* Domain 0's window (gnttab_set_dom0_window): written once at boot. */
static struct {
    struct domain *dom0;
    uint64_t paddr, bytes;
} dom0_window;

void gnttab_set_dom0_window(struct domain *dom0, uint64_t paddr, uint64_t bytes)
{
    dom0_window.dom0 = dom0;
    dom0_window.paddr = paddr;
    dom0_window.bytes = bytes;
}

/* The part of frame mfn inside Domain 0's window, as use's window. */
static bool dom0_window_frame(mfn_t mfn, struct grant_use *use)
{
    uint64_t lo = (uint64_t)mfn << PAGE_SHIFT, hi = lo + PAGE_SIZE;
    uint64_t wlo = dom0_window.paddr, whi = dom0_window.paddr + dom0_window.bytes;

    if (mfn > (UINT64_MAX >> PAGE_SHIFT) || hi <= wlo || lo >= whi)
        return false;
    lo = MAX(lo, wlo);
    hi = MIN(hi, whi);
    use->mfn = mfn;
    use->start = (uint16_t)(lo & (PAGE_SIZE - 1));
    use->length = (uint16_t)(hi - lo);
    return true;
}

static int16_t copy_side_acquire(struct domain *caller, const struct gnttab_copy_ptr *p,
                                 bool by_gref, bool dest, struct copy_side *s)
{
    s->granted = by_gref;
    s->window = false;
    if (by_gref)
        return grant_acquire(caller->id, p->domid == DOMID_SELF ? caller->id : p->domid, p->u.ref,
                             !dest, false, &s->use);
    /* Only DOMID_SELF may name a frame, and it must be the caller's. */
    if (p->domid != DOMID_SELF)
        return GNTST_permission_denied;
    if (dom0_window.dom0 && caller == dom0_window.dom0) {
        s->use = (struct grant_use){ .readonly = !dest };
        s->window = true;
        return dom0_window_frame(p->u.gmfn, &s->use) ? GNTST_okay : GNTST_bad_page;
    }
    s->use = (struct grant_use){ .mfn = p->u.gmfn, .readonly = !dest, .length = PAGE_SIZE };
    return grant_get_frame_refs(caller, p->u.gmfn, !dest, GNTST_bad_page);
}

static void copy_side_release(const struct copy_side *s)
{
    if (s->granted)
        grant_release(&s->use);
    else if (!s->window)
        grant_put_frame_refs(s->use.mfn, s->use.readonly);
}

/* The bytes [offset, offset + len) lie in the side's window (a v2 sub-page
 * grant's page_off / length; else the page). */
static bool in_window(const struct copy_side *s, uint16_t offset, uint16_t len)
{
    return offset >= s->use.start &&
           (uint32_t)offset + len <= (uint32_t)s->use.start + s->use.length;
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
    if (!in_window(&src, op->source.offset, op->len) ||
        !in_window(&dst, op->dest.offset, op->len)) {
        st = GNTST_general_error;           /* as Xen: outside a sub-page grant */
        goto out;
    }
    memmove((uint8_t *)mfn_to_virt(dst.use.mfn) + op->dest.offset,
            (const uint8_t *)mfn_to_virt(src.use.mfn) + op->source.offset, op->len);
out:
    copy_side_release(&dst);
    copy_side_release(&src);
    return st;
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

void gnttab_copy_op(struct vcpu *v, void *arg)
{
    struct gnttab_copy *op = arg;

    op->status = copy_one(v->domain, op);
}
