/* The guest page-table hypercalls: mmu_update, update_va_mapping and
 * mmuext_op (Xen x86-64 PV ABI, errors as Xen 4.17 returns them).
 *
 * Owns: argument checking and batching of those hypercalls, and finding
 * the L1 entry of a virtual address for the grant code's mappings; the
 * checks and reference bookkeeping of each entry update are
 * arch/x86_64/mm.c's.
 *
 * Invariants: each request is copied in, checked and applied on its own;
 * a batch stops at the first failing request and `done` tells the guest
 * how many were applied. No request can touch a frame the caller's
 * domain does not own, nor a hypervisor L4 slot.
 *
 * Locking: d->mm_lock is held around each request's checks and update
 * (never across a guest copy); the lock order is mm.c's. */
#include "asm/cpu.h"
#include "asm/guest_mm.h"
#include "hv/batch.h"
#include "hv/errno.h"
#include "hv/guest_access.h"
#include "hv/hypercall.h"
#include "hv/lib.h"
#include "hv/mm.h"
#include "hv/pv.h"

/* Xen's continuation marker in the count of mmu_update / mmuext_op. */
#define MMU_UPDATE_PREEMPTED (~(~0U >> 1))
#define LDT_MAX_ENTRIES      8192

/* The domain a foreigndom argument names for the pages: only the caller
 * itself (DOMID_SELF); naming itself by id is refused as in Xen, other
 * existing domains need privileges no domain has yet. */
static int check_pg_owner(struct domain *d, uint16_t dom)
{
    if (dom == DOMID_SELF)
        return 0;
    if (dom == d->id)
        return -ESRCH;
    if (dom == DOMID_IO || dom == DOMID_XEN || domain_exists(dom))
        return -EPERM;
    return -ESRCH;
}

/* mmu_update's pt domain (foreigndom >> 16, plus one; 0 = self). */
static int check_pt_owner(struct domain *d, uint32_t pt_dom)
{
    if (pt_dom == 0 || pt_dom - 1 == d->id)
        return 0;
    return domain_exists((domid_t)(pt_dom - 1)) ? -EPERM : -ESRCH;
}

/* Write one 8-byte entry of a frame that is not a live page table: Xen
 * lets mmu_update write plain memory the guest could write anyway. */
static int write_plain(mfn_t mfn, unsigned int idx, uint64_t val)
{
    struct page_info *pg = &frame_table[mfn];
    uint64_t type = pg->type_info & PGT_type_mask;

    if ((pg->type_info & PGT_count_mask) && type == PGT_writable) {
        ((uint64_t *)mfn_to_virt(mfn))[idx] = val;
        return 0;
    }
    if (pt_get_page_type(mfn, PGT_writable))
        return -EINVAL;
    ((uint64_t *)mfn_to_virt(mfn))[idx] = val;
    pt_put_page_type(mfn);
    return 0;
}

static int mmu_normal_update(struct domain *d, uint64_t ptr, uint64_t val, bool preserve_ad)
{
    mfn_t mfn = ptr >> PAGE_SHIFT;
    unsigned int idx = (unsigned int)((ptr & (PAGE_SIZE - 1)) >> 3);

    if (get_page(mfn, d))
        return -EINVAL;
    uint64_t x = frame_table[mfn].type_info;
    uint64_t type = x & PGT_type_mask;
    int rc;
    if (type >= PGT_l1 && type <= PGT_l4 && (x & PGT_count_mask) && (x & PGT_validated))
        rc = pt_mod_entry(d, mfn, (unsigned int)(type >> PGT_TYPE_SHIFT), idx, val,
                          preserve_ad);
    else
        rc = write_plain(mfn, idx, val);
    put_page(mfn);
    return rc;
}

static int mmu_machphys_update(struct domain *d, uint64_t ptr, uint64_t val)
{
    mfn_t mfn = ptr >> PAGE_SHIFT;

    if (get_page(mfn, d))
        return -EINVAL;
    machine_to_phys[mfn] = val;
    put_page(mfn);
    return 0;
}

static int mmu_one(struct domain *d, const struct mmu_update *req)
{
    unsigned int cmd = (unsigned int)(req->ptr & (sizeof(uint64_t) - 1));
    int rc;

    switch (cmd) {
    case MMU_NORMAL_PT_UPDATE:
    case MMU_PT_UPDATE_PRESERVE_AD:
    case MMU_PT_UPDATE_NO_TRANSLATE:        /* PV: addresses are machine ones */
        spin_lock(&d->mm_lock);
        rc = mmu_normal_update(d, req->ptr - cmd, req->val, cmd == MMU_PT_UPDATE_PRESERVE_AD);
        spin_unlock(&d->mm_lock);
        return rc;
    case MMU_MACHPHYS_UPDATE:
        return mmu_machphys_update(d, req->ptr, req->val);
    default:
        return hypercall_unimplemented(__HYPERVISOR_mmu_update, cmd);
    }
}

/* Read the continuation's done count, or start from 0. */
static uint32_t batch_start(uint64_t *count, uint64_t pdone)
{
    uint32_t done = 0;

    *count &= 0xffffffffUL;                 /* unsigned int in the ABI */
    if (*count & MMU_UPDATE_PREEMPTED) {
        *count &= ~(uint64_t)MMU_UPDATE_PREEMPTED;
        if (pdone)
            (void)copy_from_guest(&done, pdone, sizeof(done));
    }
    return done;
}

/* How mmu_update and mmuext_op end, as Xen's: stopped for pending work,
 * the hypercall continues with the list advanced to the request reached
 * and the rest of the count marked MMU_UPDATE_PREEMPTED; in every case
 * the requests done so far (with those of earlier continuations) go to
 * pdone, a failure to write it ignored. */
static long batch_finish(unsigned int nr, long rc, uint64_t list, size_t size, uint64_t i,
                         uint64_t count, uint64_t pdone, uint64_t foreigndom, uint32_t done)
{
    if (rc == -ERESTART) {
        const uint64_t args[4] = { list + i * size, (count - i) | MMU_UPDATE_PREEMPTED,
                                   pdone, foreigndom };
        rc = hypercall_continue(nr, 4, args);
    }
    done += (uint32_t)i;
    if (pdone)
        (void)copy_to_guest(pdone, &done, sizeof(done));
    return rc;
}

static long mmu_update_one(void *ctx, void *elem, uint64_t at)
{
    (void)at;
    return mmu_one(ctx, elem);
}

static const struct batch_ops mmu_update_batch = {
    .size = sizeof(struct mmu_update), .copy_in = true, .run = mmu_update_one,
};

long do_mmu_update(uint64_t ureqs, uint64_t count, uint64_t pdone, uint64_t foreigndom)
{
    struct domain *d = current->domain;
    uint32_t done = batch_start(&count, pdone);
    uint64_t i = 0;
    long rc;

    if (!guest_range_ok(ureqs, count * sizeof(struct mmu_update)))
        return -EFAULT;
    rc = check_pt_owner(d, (uint32_t)(foreigndom >> 16) & 0xffff);
    if (!rc)
        rc = check_pg_owner(d, (uint16_t)foreigndom);
    if (!rc)
        rc = batch_run(&mmu_update_batch, d, ureqs, &i, count);
    return batch_finish(__HYPERVISOR_mmu_update, rc, ureqs, sizeof(struct mmu_update), i,
                        count, pdone, foreigndom, done);
}

mfn_t pv_guest_l1_of(struct vcpu *v, uint64_t va)
{
    static const unsigned int shifts[] = { L4_SHIFT, L3_SHIFT, L2_SHIFT };
    mfn_t mfn = v->guest_table;

    if (!mfn || !guest_range_ok(va, 1))
        return 0;
    for (unsigned int i = 0; i < ARRAY_SIZE(shifts); i++) {
        uint64_t e = ((const uint64_t *)mfn_to_virt(mfn))[pt_index(va, shifts[i])];
        if (!(e & _PAGE_PRESENT) || (e & _PAGE_PSE))
            return 0;
        mfn = pte_mfn(e);
    }
    /* A validated L2 only holds validated L1s of its owner; checked anyway,
     * as the entry is read without a reference of our own. */
    if (mfn >= max_mfn || frame_table[mfn].owner != v->domain->id ||
        (frame_table[mfn].type_info & (PGT_type_mask | PGT_validated)) !=
            (PGT_l1 | PGT_validated))
        return 0;
    return mfn;
}

/* Grant mappings at a guest virtual address (for common/grant_table.c):
 * the entry itself is mm.c's pt_grant_*_l1e. */
int pv_grant_map_l1e(struct vcpu *v, uint64_t va, mfn_t mfn, bool readonly, unsigned int avail)
{
    struct domain *d = v->domain;
    int rc = -EINVAL;

    spin_lock(&d->mm_lock);
    mfn_t l1 = pv_guest_l1_of(v, va);
    if (l1)
        rc = pt_grant_set_l1e(d, l1, (unsigned int)pt_index(va, L1_SHIFT), mfn, readonly,
                              avail);
    spin_unlock(&d->mm_lock);
    if (rc == 1) {
        /* the entry replaced was present: a CPU may hold its translation
         * (one not present is never cached, so a fresh map needs no flush) */
        flush_tlb_domain(d);
        rc = 0;
    }
    return rc;
}

int pv_grant_unmap_l1e(struct vcpu *v, uint64_t va, mfn_t mfn)
{
    struct domain *d = v->domain;
    int rc = -EINVAL;

    spin_lock(&d->mm_lock);
    mfn_t l1 = pv_guest_l1_of(v, va);
    if (l1)
        rc = pt_grant_clear_l1e(d, l1, (unsigned int)pt_index(va, L1_SHIFT), mfn);
    spin_unlock(&d->mm_lock);
    /* No translation of the frame may survive the grant's release. */
    if (!rc)
        flush_tlb_domain(d);
    return rc;
}

int pv_grant_replace_l1e(struct vcpu *v, uint64_t va, mfn_t mfn, uint64_t new_va)
{
    struct domain *d = v->domain;
    int rc = -EINVAL;

    spin_lock(&d->mm_lock);
    mfn_t l1 = pv_guest_l1_of(v, va), new_l1 = pv_guest_l1_of(v, new_va);
    if (l1 && new_l1)
        rc = pt_grant_replace_l1e(d, l1, (unsigned int)pt_index(va, L1_SHIFT), mfn, new_l1,
                                  (unsigned int)pt_index(new_va, L1_SHIFT));
    spin_unlock(&d->mm_lock);
    if (!rc)
        flush_tlb_domain(d);            /* neither old translation may survive */
    return rc;
}

/* vCPU bitmap of a *_MULTI flush: only its readability matters while the
 * flush covers every CPU of the domain. */
static int read_vcpumask(uint64_t ptr)
{
    uint64_t mask;
    return copy_from_guest(&mask, ptr, sizeof(mask)) ? -EFAULT : 0;
}

long do_update_va_mapping(uint64_t va, uint64_t val, uint64_t flags)
{
    struct vcpu *v = current;
    struct domain *d = v->domain;
    int rc = -EINVAL;

    spin_lock(&d->mm_lock);
    mfn_t l1 = pv_guest_l1_of(v, va);
    if (l1)
        rc = pt_mod_entry(d, l1, 1, (unsigned int)pt_index(va, L1_SHIFT), val, false);
    spin_unlock(&d->mm_lock);
    if (rc)
        return rc;

    uint64_t target = flags & ~(uint64_t)UVMF_FLUSHTYPE_MASK;
    switch (flags & UVMF_FLUSHTYPE_MASK) {
    case UVMF_TLB_FLUSH:
    case UVMF_INVLPG:
        if (target != UVMF_LOCAL && target != UVMF_ALL)
            rc = read_vcpumask(target);
        if ((flags & UVMF_FLUSHTYPE_MASK) == UVMF_INVLPG && target == UVMF_LOCAL)
            invlpg((const void *)va);
        else
            flush_tlb_domain(d);
        break;
    default:
        break;
    }
    return rc;
}

static int mmuext_set_ldt(struct vcpu *v, uint64_t base, uint32_t ents)
{
    uint64_t ptr = ents ? base : 0;

    if ((ptr & (PAGE_SIZE - 1)) || ents > LDT_MAX_ENTRIES ||
        !guest_range_ok(ptr, (size_t)ents * 8))
        return -EINVAL;
    if (v->ldt_base != ptr || v->ldt_ents != ents) {
        v->ldt_base = ptr;
        v->ldt_ents = ents;
        load_guest_descriptors(v);
    }
    return 0;
}

static int mmuext_clear_page(struct domain *d, mfn_t mfn)
{
    if (pt_get_page_and_type(mfn, d, PGT_writable))
        return -EINVAL;
    memset(mfn_to_virt(mfn), 0, PAGE_SIZE);
    pt_put_page_and_type(mfn);
    return 0;
}

static int mmuext_copy_page(struct domain *d, mfn_t dst, mfn_t src)
{
    if (get_page(src, d))
        return -EINVAL;
    if (pt_get_page_and_type(dst, d, PGT_writable)) {
        put_page(src);
        return -EINVAL;
    }
    memcpy(mfn_to_virt(dst), mfn_to_virt(src), PAGE_SIZE);
    pt_put_page_and_type(dst);
    put_page(src);
    return 0;
}

static int mmuext_one(struct vcpu *v, const struct mmuext_op *op)
{
    struct domain *d = v->domain;
    int rc;

    switch (op->cmd) {
    case MMUEXT_PIN_L1_TABLE:
    case MMUEXT_PIN_L2_TABLE:
    case MMUEXT_PIN_L3_TABLE:
    case MMUEXT_PIN_L4_TABLE:
        spin_lock(&d->mm_lock);
        rc = pt_pin(d, op->arg1.mfn, pgt_of_level(op->cmd - MMUEXT_PIN_L1_TABLE + 1));
        spin_unlock(&d->mm_lock);
        return rc;
    case MMUEXT_UNPIN_TABLE:
        spin_lock(&d->mm_lock);
        rc = pt_unpin(d, op->arg1.mfn);
        spin_unlock(&d->mm_lock);
        return rc;
    case MMUEXT_NEW_BASEPTR:
    case MMUEXT_NEW_USER_BASEPTR:
        spin_lock(&d->mm_lock);
        rc = pt_set_guest_table(v, op->arg1.mfn, op->cmd == MMUEXT_NEW_USER_BASEPTR);
        spin_unlock(&d->mm_lock);
        return rc;
    case MMUEXT_TLB_FLUSH_LOCAL:
        flush_tlb_local();
        return 0;
    case MMUEXT_INVLPG_LOCAL:
        if (guest_range_ok(op->arg1.linear_addr, 1))
            invlpg((const void *)op->arg1.linear_addr);
        return 0;
    case MMUEXT_TLB_FLUSH_MULTI:
    case MMUEXT_INVLPG_MULTI:
        rc = read_vcpumask(op->arg2.vcpumask);
        if (!rc)
            flush_tlb_domain(d);
        return rc;
    case MMUEXT_TLB_FLUSH_ALL:
    case MMUEXT_INVLPG_ALL:
        flush_tlb_domain(d);
        return 0;
    case MMUEXT_FLUSH_CACHE:
        return -EACCES;             /* no domain has device access */
    case MMUEXT_FLUSH_CACHE_GLOBAL:
        return -EINVAL;
    case MMUEXT_SET_LDT:
        return mmuext_set_ldt(v, op->arg1.linear_addr, op->arg2.nr_ents);
    case MMUEXT_CLEAR_PAGE:
        spin_lock(&d->mm_lock);
        rc = mmuext_clear_page(d, op->arg1.mfn);
        spin_unlock(&d->mm_lock);
        return rc;
    case MMUEXT_COPY_PAGE:
        spin_lock(&d->mm_lock);
        rc = mmuext_copy_page(d, op->arg1.mfn, op->arg2.src_mfn);
        spin_unlock(&d->mm_lock);
        return rc;
    case MMUEXT_MARK_SUPER:
    case MMUEXT_UNMARK_SUPER:
        return -EOPNOTSUPP;
    default:
        return hypercall_unimplemented(__HYPERVISOR_mmuext_op, op->cmd);
    }
}

static long mmuext_one_elem(void *ctx, void *elem, uint64_t at)
{
    (void)at;
    return mmuext_one(ctx, elem);
}

static const struct batch_ops mmuext_batch = {
    .size = sizeof(struct mmuext_op), .copy_in = true, .run = mmuext_one_elem,
};

long do_mmuext_op(uint64_t uops, uint64_t count, uint64_t pdone, uint64_t foreigndom)
{
    struct vcpu *v = current;
    uint32_t done = batch_start(&count, pdone);
    uint64_t i = 0;
    long rc;

    if (!guest_range_ok(uops, count * sizeof(struct mmuext_op)))
        return -EFAULT;
    rc = check_pg_owner(v->domain, (uint16_t)foreigndom);
    if (!rc)
        rc = batch_run(&mmuext_batch, v, uops, &i, count);
    return batch_finish(__HYPERVISOR_mmuext_op, rc, uops, sizeof(struct mmuext_op), i,
                        count, pdone, foreigndom, done);
}
