/* Guest frames: ownership, reference counts, page types, page-table
 * validation and the machine-to-phys table.
 *
 * Owns: page_info.count/type_info/owner of every frame given to a domain,
 * the rules of hv/pagetype.h, machine_to_phys[] and its read-only guest
 * mapping in L4 slot 256, and the vCPUs' guest_table/guest_table_user
 * references. Every guest change of an entry goes through mod_entry (the
 * hypercalls of pv/mmu.c, and the direct writes pv/ptwr.c emulates);
 * reservations are in common/memory.c.
 *
 * Invariants:
 *  - a frame owned by a domain has count >= 1 while it is on the domain's
 *    page_list; PGF_ALLOCATED means one of those references is the
 *    allocation's own; count 0 frees the frame (owner OWNER_NONE, m2p
 *    entry invalid) after a TLB flush;
 *  - type_info holds one type; its count counts the references of that
 *    type: a pin, a vCPU base pointer, an entry of a validated table one
 *    level up (L4 -> L3 -> L2 -> L1), a writable L1 entry (PGT_writable),
 *    a descriptor table (PGT_seg_desc). The type may change only while the
 *    count is 0; page-table types are validated on 0 -> 1 and devalidated
 *    on 1 -> 0 (their entries' references dropped);
 *  - a validated table holds, for each present entry, a general reference
 *    on the frame it maps plus the next-lower type (L2-L4) or, for a
 *    writable L1 entry, PGT_writable; every such frame belongs to the
 *    table's owner. A read-only L2-L4 entry may instead map a table of its
 *    own level (a linear page table, mm_linear.c): its own table with no
 *    reference, another with the same references as an ordinary entry; entries carry _PAGE_USER (guest kernels run in ring 3)
 *    and never _PAGE_GLOBAL (so a CR3 load flushes them);
 *  - L4 slots 256-271 of a validated L4 are copies of the idle L4's and
 *    hold no references; guests cannot write them;
 *  - an L1 entry with PTE_GRANT (written only by the grant code) holds no
 *    references: the grant table holds them for it; guests cannot write,
 *    replace or clear it;
 *  - a frame that loses PGT_writable to become a table or descriptor
 *    frame, and a frame about to be freed, are preceded by a TLB flush, so
 *    no stale writable or foreign translation survives.
 *
 * Locking: d->mm_lock around every type change of d's frames (the pt_*
 * functions expect it held; the hv/pagetype.h entry points take it).
 * General counts are atomic. Order: d->mm_lock -> d->page_lock -> heap. */
#include "asm/cpu.h"
#include "asm/guest_mm.h"
#include "hv/errno.h"
#include "hv/lib.h"
#include "hv/mm.h"
#include "hv/printk.h"
#include "hv/smp.h"
#include "hv/spinlock.h"

uint64_t *machine_to_phys;
static mfn_t m2p_mfn;
static uint64_t m2p_frames;

#define PGT_COUNT(x)    ((x) & PGT_count_mask)
#define PGT_TYPE(x)     ((x) & PGT_type_mask)

static bool pgt_is_table(uint64_t type)
{
    return type >= PGT_l1 && type <= PGT_l4;
}

static unsigned int pgt_level(uint64_t type)
{
    return (unsigned int)(type >> PGT_TYPE_SHIFT);
}

/* ------------------------------------------------------------------ */
/* TLB flushes                                                          */

void flush_tlb_local(void)
{
    write_cr3(read_cr3());
}

/* Every CPU that may hold d's translations must drop them. vCPUs that are
 * not running hold none: their CR3 load on the next context switch drops
 * every (non-global) guest translation. With more than one CPU online the
 * flush goes to all of them (smp.c), otherwise it is local. */
void flush_tlb_domain(struct domain *d)
{
    (void)d;
    if (nr_cpus_online > 1)
        flush_tlb_all_cpus();
    else
        flush_tlb_local();
}

/* ------------------------------------------------------------------ */
/* General references and frame lifetime                               */

static struct page_info *frame(mfn_t mfn)
{
    return &frame_table[mfn];
}

/* The frame's owning domain (any state: its teardown releases frames),
 * referenced; NULL for the hypervisor's and free frames. put_domain it. */
static struct domain *owner_domain(const struct page_info *pg)
{
    domid_t owner = pg->owner;
    return owner < DOMID_FIRST_RESERVED ? get_domain_owning(owner) : NULL;
}

/* Last reference gone: unlink from the owner, forget the m2p entry and
 * give the frame back to the heap after a TLB flush; or, with deferred
 * (domain teardown), put it on that list for the caller to flush once and
 * free. */
static void frame_release(mfn_t mfn, struct list_head *deferred)
{
    struct page_info *pg = frame(mfn);
    struct domain *d = owner_domain(pg);

    BUG_ON(PGT_COUNT(pg->type_info) != 0);
    if (d) {
        spin_lock(&d->page_lock);
        /* Frames the hypervisor allocated for a domain (shared_info) are
         * owned without being on its list; an unlinked node points at
         * itself. */
        if (pg->list.next != &pg->list) {
            list_del(&pg->list);
            d->tot_pages--;
        }
        spin_unlock(&d->page_lock);
    }
    pg->type_info = 0;
    pg->owner = OWNER_NONE;
    pg->flags &= ~PGF_ALLOCATED;
    if (machine_to_phys)
        machine_to_phys[mfn] = INVALID_M2P_ENTRY;
    if (deferred) {
        list_add_tail(&pg->list, deferred);
        put_domain(d);
        return;
    }
    /* A stale translation of this frame must not outlive its next owner's
     * first use of it (nor its scrub). */
    flush_tlb_domain(d);
    put_domain(d);
    free_frame_scrubbed(mfn);
}

int get_page(mfn_t mfn, struct domain *d)
{
    if (mfn >= max_mfn)
        return -EINVAL;
    struct page_info *pg = frame(mfn);
    uint32_t c = __atomic_load_n(&pg->count, __ATOMIC_ACQUIRE);
    do {
        if (c == 0 || c == UINT32_MAX || pg->owner != d->id)
            return -EINVAL;
    } while (!__atomic_compare_exchange_n(&pg->count, &c, c + 1, false,
                                          __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
    /* The owner cannot change while we hold a reference. */
    if (pg->owner != d->id) {
        put_page(mfn);
        return -EINVAL;
    }
    return 0;
}

void put_page(mfn_t mfn)
{
    struct page_info *pg = frame(mfn);
    uint32_t c = __atomic_sub_fetch(&pg->count, 1, __ATOMIC_ACQ_REL);

    BUG_ON(c == UINT32_MAX);
    if (c == 0)
        frame_release(mfn, NULL);
}

void put_page_deferred(mfn_t mfn, struct list_head *deferred)
{
    uint32_t c = __atomic_sub_fetch(&frame(mfn)->count, 1, __ATOMIC_ACQ_REL);

    BUG_ON(c == UINT32_MAX);
    if (c == 0)
        frame_release(mfn, deferred);
}

int assign_frame(struct domain *d, mfn_t mfn)
{
    struct page_info *pg = frame(mfn);
    int rc = -ENOMEM;

    spin_lock(&d->page_lock);
    if (d->tot_pages < d->max_pages) {
        pg->owner = d->id;
        pg->type_info = 0;
        pg->linear_count = 0;
        pg->flags |= PGF_ALLOCATED;
        __atomic_store_n(&pg->count, 1, __ATOMIC_RELEASE);
        list_add_tail(&pg->list, &d->page_list);
        d->tot_pages++;
        rc = 0;
    }
    spin_unlock(&d->page_lock);
    return rc;
}

int64_t alloc_domain_frame(struct domain *d)
{
    if (__atomic_load_n(&d->tot_pages, __ATOMIC_RELAXED) >= d->max_pages)
        return -ENOMEM;
    /* Never hand a guest what a previous owner left in a frame: zeroed
     * when it was freed, or now. */
    int64_t mfn = alloc_zeroed_frame();
    if (mfn < 0)
        return -ENOMEM;
    if (assign_frame(d, (mfn_t)mfn)) {
        free_frame_scrubbed((mfn_t)mfn);
        return -ENOMEM;
    }
    return mfn;
}

/* Take frame mfn away from d for XENMEM_exchange (Xen's steal_page): only
 * while its allocation reference is its only one (count 1: not mapped,
 * no type, not pinned). Count 0 from here on, so get_page refuses it;
 * off d's list and tot_pages. -EINVAL otherwise. */
int steal_frame(struct domain *d, mfn_t mfn)
{
    struct page_info *pg;
    uint32_t one = 1;

    if (mfn >= max_mfn)
        return -EINVAL;
    pg = frame(mfn);
    spin_lock(&d->page_lock);
    bool ok = pg->owner == d->id && (pg->flags & PGF_ALLOCATED) &&
              __atomic_compare_exchange_n(&pg->count, &one, 0, false, __ATOMIC_ACQ_REL,
                                          __ATOMIC_ACQUIRE);
    if (ok) {
        list_del(&pg->list);
        d->tot_pages--;
    }
    spin_unlock(&d->page_lock);
    return ok ? 0 : -EINVAL;
}

/* Give a stolen frame back to d as it was. */
void unsteal_frame(struct domain *d, mfn_t mfn)
{
    struct page_info *pg = frame(mfn);

    spin_lock(&d->page_lock);
    list_add_tail(&pg->list, &d->page_list);
    d->tot_pages++;
    __atomic_store_n(&pg->count, 1, __ATOMIC_RELEASE);
    spin_unlock(&d->page_lock);
}

/* Free a stolen frame: no translation of it may survive. */
void free_stolen_frame(struct domain *d, mfn_t mfn)
{
    struct page_info *pg = frame(mfn);

    pg->type_info = 0;
    pg->owner = OWNER_NONE;
    pg->flags &= ~PGF_ALLOCATED;
    machine_to_phys[mfn] = INVALID_M2P_ENTRY;
    flush_tlb_domain(d);
    free_frame_scrubbed(mfn);
}

/* ------------------------------------------------------------------ */
/* Entry validation                                                     */

static uint64_t l1_disallowed(void)
{
    return PTE_FLAGS_MASK & ~(L1_ALLOWED_FLAGS | (cpu_has_nx() ? _PAGE_NX : 0));
}

static uint64_t upper_disallowed(void)
{
    return PTE_FLAGS_MASK & ~(UPPER_ALLOWED_FLAGS | (cpu_has_nx() ? _PAGE_NX : 0));
}

static bool entry_flags_ok(unsigned int level, uint64_t e)
{
    return !(e & (level == 1 ? l1_disallowed() : upper_disallowed()));
}

/* What a guest entry becomes once accepted. */
static uint64_t adjust_entry(unsigned int level, uint64_t e)
{
    e |= _PAGE_USER;
    if (level == 1)
        e &= ~_PAGE_GLOBAL;
    return e;
}

/* References for a present L1 entry (flags already checked). */
static int get_l1e_refs(struct domain *d, uint64_t e)
{
    mfn_t mfn = pte_mfn(e);

    /* Not RAM the heap manages: I/O space a domU may not map (Xen 4.17
     * says -EPERM, and -EINVAL for the all-ones "invalid" frame). */
    if (mfn >= max_mfn || (frame(mfn)->flags & (PGF_RESERVED | PGF_MANAGED)) != PGF_MANAGED)
        return mfn == (PTE_ADDR_MASK >> PAGE_SHIFT) ? -EINVAL : -EPERM;
    if (get_page(mfn, d))
        return -EBUSY;
    if ((e & _PAGE_RW) && pt_get_page_type(mfn, PGT_writable)) {
        put_page(mfn);
        return -EBUSY;
    }
    return 0;
}

/* References for present entry e of level-`level` table `table`: an
 * upper entry maps the next level, or failing that is a linear entry
 * (mm_linear.c), tried exactly where Xen tries it. */
static int get_entry_refs(struct domain *d, mfn_t table, unsigned int level, uint64_t e)
{
    if (!entry_flags_ok(level, e))
        return -EINVAL;
    if (level == 1)
        return get_l1e_refs(d, e);
    int rc = pt_get_page_and_type(pte_mfn(e), d, pgt_of_level(level - 1));
    if (rc == -EINVAL && pt_get_linear(d, table, level, e))
        rc = 0;
    return rc;
}

void pt_put_entry_refs(mfn_t table, unsigned int level, uint64_t e)
{
    mfn_t mfn = pte_mfn(e);

    if (level == 1 && (e & PTE_GRANT))
        return;                         /* the grant table's references */
    if (level > 1 && pt_put_linear(table, level, e))
        return;
    if (level > 1)
        pt_put_page_and_type(mfn);
    else if (e & _PAGE_RW)
        pt_put_page_and_type(mfn);
    else
        put_page(mfn);
}

void fill_hypervisor_l4_slots(uint64_t *l4)
{
    const uint64_t *idle = idle_l4();

    for (unsigned int i = HV_FIRST_L4_SLOT; i <= HV_LAST_L4_SLOT; i++)
        l4[i] = idle[i];
}

/* Take the references of every present entry of a table becoming type
 * `level`; on failure drop what was taken. */
static int validate_table(mfn_t mfn, unsigned int level)
{
    struct domain *d = owner_domain(frame(mfn));
    uint64_t *t = mfn_to_virt(mfn);
    unsigned int i;
    int rc = 0;

    BUG_ON(!d);
    for (i = 0; i < PT_ENTRIES; i++) {
        if (!pt_guest_slot(level, i) || !(t[i] & _PAGE_PRESENT))
            continue;
        rc = get_entry_refs(d, mfn, level, t[i]);
        if (rc)
            break;
        t[i] = adjust_entry(level, t[i]);
    }
    put_domain(d);
    if (rc) {
        while (i--)
            if (pt_guest_slot(level, i) && (t[i] & _PAGE_PRESENT))
                pt_put_entry_refs(mfn, level, t[i]);
        return rc;
    }
    if (level == 4)
        fill_hypervisor_l4_slots(t);
    return 0;
}

static void devalidate_table(mfn_t mfn, unsigned int level)
{
    uint64_t *t = mfn_to_virt(mfn);

    for (unsigned int i = 0; i < PT_ENTRIES; i++)
        if (pt_guest_slot(level, i) && (t[i] & _PAGE_PRESENT))
            pt_put_entry_refs(mfn, level, t[i]);
    /* An ex-L4 may become writable: leave no hypervisor entries in it. */
    if (level == 4)
        for (unsigned int i = HV_FIRST_L4_SLOT; i <= HV_LAST_L4_SLOT; i++)
            t[i] = 0;
}

/* ------------------------------------------------------------------ */
/* Type references                                                      */

int pt_get_page_type(mfn_t mfn, uint64_t type)
{
    struct page_info *pg = frame(mfn);
    uint64_t x = pg->type_info;

    if (PGT_COUNT(x) == 0) {
        uint64_t old = PGT_TYPE(x);
        /* Writable mappings may still sit in a TLB: kill them before the
         * contents start to matter. */
        if (old == PGT_writable && type != PGT_writable) {
            struct domain *owner = owner_domain(pg);
            flush_tlb_domain(owner);
            put_domain(owner);
        }
        pg->type_info = type | 1;       /* validating: count 1, not validated */
        if (pgt_is_table(type)) {
            int rc = validate_table(mfn, pgt_level(type));
            if (rc) {
                pg->type_info = 0;
                return rc;
            }
        }
        pg->type_info |= PGT_validated;
        return 0;
    }
    /* A table in the middle of its own validation is only reachable
     * through itself at the same level: the level rule forbids that for
     * ordinary entries, and a linear entry to itself takes no reference. */
    if (PGT_TYPE(x) != type || !(x & PGT_validated) || PGT_COUNT(x) == PGT_count_mask)
        return -EINVAL;
    pg->type_info = x + 1;
    return 0;
}

void pt_put_page_type(mfn_t mfn)
{
    struct page_info *pg = frame(mfn);
    uint64_t x = pg->type_info;

    BUG_ON(PGT_COUNT(x) == 0);
    if (PGT_COUNT(x) > 1) {
        pg->type_info = x - 1;
        return;
    }
    /* The pin holds a reference of its own: unpin clears the flag first. */
    BUG_ON(x & PGT_pinned);
    if (pgt_is_table(PGT_TYPE(x)) && (x & PGT_validated)) {
        pg->type_info = PGT_TYPE(x) | 1;        /* devalidating */
        devalidate_table(mfn, pgt_level(PGT_TYPE(x)));
    }
    /* Count 0, not validated; the type stays until someone changes it. */
    pg->type_info = PGT_TYPE(x);
}

int pt_get_page_and_type(mfn_t mfn, struct domain *d, uint64_t type)
{
    int rc = get_page(mfn, d);
    if (rc)
        return rc;
    rc = pt_get_page_type(mfn, type);
    if (rc)
        put_page(mfn);
    return rc;
}

void pt_put_page_and_type(mfn_t mfn)
{
    pt_put_page_type(mfn);
    put_page(mfn);
}

/* The public entry points lock the frame's owner; the caller holds a
 * general reference, so the owner is stable (and referenced meanwhile:
 * it may be torn down on another CPU). */
int get_page_type(mfn_t mfn, uint64_t type)
{
    struct domain *d = owner_domain(frame(mfn));
    if (d)
        spin_lock(&d->mm_lock);
    int rc = pt_get_page_type(mfn, type);
    if (d)
        spin_unlock(&d->mm_lock);
    put_domain(d);
    return rc;
}

void put_page_type(mfn_t mfn)
{
    struct domain *d = owner_domain(frame(mfn));
    if (d)
        spin_lock(&d->mm_lock);
    pt_put_page_type(mfn);
    if (d)
        spin_unlock(&d->mm_lock);
    put_domain(d);
}

int get_page_and_type(mfn_t mfn, struct domain *d, uint64_t type)
{
    spin_lock(&d->mm_lock);
    int rc = pt_get_page_and_type(mfn, d, type);
    spin_unlock(&d->mm_lock);
    return rc;
}

void put_page_and_type(mfn_t mfn)
{
    put_page_type(mfn);
    put_page(mfn);
}

/* ------------------------------------------------------------------ */
/* Entry updates, pins, base pointers                                   */

/* Flags that change nothing Xen's safety depends on (Xen's fast path):
 * same frame, same presence, same RW at every level (a linear entry must
 * not become writable unchecked). */
#define FASTPATH_FLAGS (_PAGE_NX | PTE_AVAIL_HIGH | PTE_AVAIL | _PAGE_GLOBAL | _PAGE_DIRTY | \
                        _PAGE_ACCESSED | _PAGE_USER)

/* How an accepted entry gets into its slot. */
enum entry_commit {
    COMMIT_STORE,           /* replace it */
    COMMIT_PRESERVE_AD,     /* replace it, keeping the A/D bits the CPU set */
    COMMIT_CMPXCHG,         /* replace it only if it still holds the value expected */
};

/* false: COMMIT_CMPXCHG found the slot changed (by the CPU's A/D updates;
 * every other writer holds mm_lock). */
static bool write_entry(uint64_t *slot, uint64_t expect, uint64_t val, enum entry_commit how)
{
    if (how == COMMIT_STORE) {
        __atomic_store_n(slot, val, __ATOMIC_RELEASE);
        return true;
    }
    if (how == COMMIT_CMPXCHG)
        return __atomic_compare_exchange_n(slot, &expect, val, false, __ATOMIC_ACQ_REL,
                                           __ATOMIC_ACQUIRE);
    /* The CPU may set A/D in the old entry at any moment. */
    uint64_t old = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    while (!__atomic_compare_exchange_n(slot, &old,
                                        val | (old & (_PAGE_ACCESSED | _PAGE_DIRTY)), false,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        ;
    return true;
}

/* The one checked update of a page-table entry, for every way a guest
 * changes one (mmu_update, update_va_mapping, writable page tables). With
 * COMMIT_CMPXCHG, -EAGAIN when the slot does not hold `expect` (before or
 * at the write), and nothing has changed. */
static int mod_entry(struct domain *d, mfn_t table, unsigned int level, unsigned int idx,
                     uint64_t val, enum entry_commit how, uint64_t expect)
{
    uint64_t *slot = (uint64_t *)mfn_to_virt(table) + idx;
    uint64_t old = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

    if (!pt_guest_slot(level, idx))
        return -EINVAL;
    if (how == COMMIT_CMPXCHG && old != expect)
        return -EAGAIN;
    if (level == 1 && (old & _PAGE_PRESENT) && (old & PTE_GRANT))
        return -EPERM;                  /* only unmap_grant_ref removes it */
    if (val & _PAGE_PRESENT) {
        if (!entry_flags_ok(level, val))
            return -EINVAL;
        val = adjust_entry(level, val);
        if ((old & _PAGE_PRESENT) && !((old ^ val) & ~FASTPATH_FLAGS))
            return write_entry(slot, old, val, how) ? 0 : -EAGAIN;
        int rc = get_entry_refs(d, table, level, val);
        if (rc)
            return rc;
    }
    if (!write_entry(slot, old, val, how)) {
        if (val & _PAGE_PRESENT)
            pt_put_entry_refs(table, level, val);
        return -EAGAIN;
    }
    if (old & _PAGE_PRESENT)
        pt_put_entry_refs(table, level, old);
    return 0;
}

int pt_mod_entry(struct domain *d, mfn_t table, unsigned int level, unsigned int idx,
                 uint64_t val, bool preserve_ad)
{
    return mod_entry(d, table, level, idx, val,
                     preserve_ad ? COMMIT_PRESERVE_AD : COMMIT_STORE, 0);
}

int pt_cmpxchg_entry(struct domain *d, mfn_t table, unsigned int level, unsigned int idx,
                     uint64_t expect, uint64_t val)
{
    return mod_entry(d, table, level, idx, val, COMMIT_CMPXCHG, expect);
}

int pt_pin(struct domain *d, mfn_t mfn, uint64_t type)
{
    int rc = pt_get_page_and_type(mfn, d, type);
    if (rc)
        return rc;
    if (frame(mfn)->type_info & PGT_pinned) {
        pt_put_page_and_type(mfn);
        return -EINVAL;
    }
    frame(mfn)->type_info |= PGT_pinned;
    return 0;
}

int pt_unpin(struct domain *d, mfn_t mfn)
{
    if (get_page(mfn, d))
        return -EINVAL;
    struct page_info *pg = frame(mfn);
    if (!(pg->type_info & PGT_pinned)) {
        put_page(mfn);
        return -EINVAL;
    }
    pg->type_info &= ~PGT_pinned;
    pt_put_page_and_type(mfn);
    put_page(mfn);
    return 0;
}

int pt_set_guest_table(struct vcpu *v, mfn_t l4, bool user)
{
    struct domain *d = v->domain;
    mfn_t *slot = user ? &v->guest_table_user : &v->guest_table;
    mfn_t old = *slot;

    if (l4 && l4 != old) {
        int rc = pt_get_page_and_type(l4, d, PGT_l4);
        if (rc)
            return rc;
    } else if (!l4 && !user) {
        return -EINVAL;
    }
    if (l4 == old)
        return 0;
    *slot = l4;
    /* Never run on a table whose references are gone: switch first. */
    if (v == current && v->kernel_mode == !user)
        write_cr3(l4 ? l4 << PAGE_SHIFT : __pa(idle_l4()));
    if (old)
        pt_put_page_and_type(old);
    return 0;
}

int vcpu_set_guest_table(struct vcpu *v, mfn_t l4, bool user)
{
    spin_lock(&v->domain->mm_lock);
    int rc = pt_set_guest_table(v, l4, user);
    spin_unlock(&v->domain->mm_lock);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Grant mappings and shared hypervisor frames                          */

int pt_grant_set_l1e(struct domain *d, mfn_t l1, unsigned int idx, mfn_t mfn, bool readonly,
                     unsigned int avail)
{
    uint64_t *slot = (uint64_t *)mfn_to_virt(l1) + idx;
    uint64_t old = *slot;
    uint64_t val = (mfn << PAGE_SHIFT) | _PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_DIRTY |
                   _PAGE_USER | PTE_GRANT | (readonly ? 0 : _PAGE_RW) |
                   (((uint64_t)avail << 9) & PTE_AVAIL) |
                   (cpu_has_nx() ? _PAGE_NX : 0);

    (void)d;
    if ((old & _PAGE_PRESENT) && (old & PTE_GRANT))
        return -EBUSY;
    write_entry(slot, old, val, COMMIT_STORE);
    if (!(old & _PAGE_PRESENT))
        return 0;
    pt_put_entry_refs(l1, 1, old);
    return 1;
}

int pt_grant_clear_l1e(struct domain *d, mfn_t l1, unsigned int idx, mfn_t mfn)
{
    uint64_t *slot = (uint64_t *)mfn_to_virt(l1) + idx;
    uint64_t old = *slot;

    (void)d;
    if (!(old & _PAGE_PRESENT) || !(old & PTE_GRANT) || pte_mfn(old) != mfn)
        return -EINVAL;
    write_entry(slot, old, 0, COMMIT_STORE);
    return 0;
}

int pt_grant_replace_l1e(struct domain *d, mfn_t l1, unsigned int idx, mfn_t mfn,
                         mfn_t new_l1, unsigned int new_idx)
{
    uint64_t *slot = (uint64_t *)mfn_to_virt(l1) + idx;
    uint64_t *from = (uint64_t *)mfn_to_virt(new_l1) + new_idx;
    uint64_t old = *slot, moved = *from;

    (void)d;
    if (!(old & _PAGE_PRESENT) || !(old & PTE_GRANT) || pte_mfn(old) != mfn || slot == from)
        return -EINVAL;
    if ((moved & _PAGE_PRESENT) && (moved & PTE_GRANT))
        return -EBUSY;
    /* The moved entry keeps the references it holds; the grant entry
     * holds none. */
    write_entry(from, moved, 0, COMMIT_STORE);
    write_entry(slot, old, moved, COMMIT_STORE);
    return 0;
}

void share_frame_with_domain(struct domain *d, mfn_t mfn)
{
    struct page_info *pg = frame(mfn);

    list_init(&pg->list);               /* owned, but not on d's page list */
    pg->type_info = PGT_writable | PGT_validated | 1;
    pg->owner = d->id;
    __atomic_store_n(&pg->count, 1, __ATOMIC_RELEASE);
}

void unshare_frame(mfn_t mfn)
{
    struct page_info *pg = frame(mfn);

    /* From now on no domain can take a reference; the ones still held
     * (a mapping in another domain) keep it until they go. */
    pg->owner = OWNER_HV;
    put_page_and_type(mfn);
}

int unshare_frames_unused(struct domain *d, const mfn_t *mfns, unsigned int n)
{
    bool used = false;

    /* Owned by the hypervisor first, so d cannot take a new reference
     * while we look; d's references then show above the share's one. */
    for (unsigned int i = 0; i < n; i++)
        __atomic_store_n(&frame(mfns[i])->owner, OWNER_HV, __ATOMIC_SEQ_CST);
    for (unsigned int i = 0; i < n; i++)
        used |= __atomic_load_n(&frame(mfns[i])->count, __ATOMIC_SEQ_CST) != 1;
    for (unsigned int i = 0; i < n; i++) {
        if (used)
            __atomic_store_n(&frame(mfns[i])->owner, d->id, __ATOMIC_SEQ_CST);
        else
            put_page_and_type(mfns[i]);
    }
    return used ? -EBUSY : 0;
}

/* ------------------------------------------------------------------ */
/* Machine-to-phys table                                                */

mfn_t m2p_first_mfn(void)
{
    return m2p_mfn;
}

uint64_t m2p_nr_frames(void)
{
    return m2p_frames;
}

static uint64_t *m2p_next_table(uint64_t *table, unsigned int idx)
{
    if (!(table[idx] & _PAGE_PRESENT)) {
        void *t = alloc_hv_page();
        if (!t)
            panic("m2p: out of memory for its page tables");
        /* Guests walk through these: user-accessible, read-only leaves. */
        table[idx] = __pa(t) | _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED;
    }
    return __va(table[idx] & PTE_ADDR_MASK);
}

void m2p_init(void)
{
    uint64_t bytes = max_mfn * sizeof(uint64_t);
    unsigned int order = 0;

    m2p_frames = ALIGN_UP(bytes, PAGE_SIZE) >> PAGE_SHIFT;
    while ((1UL << order) < m2p_frames)
        order++;
    if (RO_MPT_VIRT_START + (m2p_frames << PAGE_SHIFT) > MACH2PHYS_VIRT_END)
        panic("m2p: %lu frames do not fit the guest m2p window", max_mfn);
    int64_t first = alloc_frames(order);
    if (first < 0)
        panic("m2p: no %lu contiguous frames for the machine-to-phys table", m2p_frames);
    m2p_mfn = (mfn_t)first;
    for (uint64_t i = 0; i < (1UL << order); i++)
        frame(m2p_mfn + i)->owner = OWNER_HV;
    machine_to_phys = mfn_to_virt(m2p_mfn);
    for (uint64_t m = 0; m < max_mfn; m++)
        machine_to_phys[m] = INVALID_M2P_ENTRY;

    uint64_t leaf = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED | _PAGE_GLOBAL |
                    (cpu_has_nx() ? _PAGE_NX : 0);
    for (uint64_t i = 0; i < m2p_frames; i++) {
        uint64_t va = RO_MPT_VIRT_START + (i << PAGE_SHIFT);
        uint64_t *l3 = m2p_next_table(idle_l4(), pt_index(va, L4_SHIFT));
        uint64_t *l2 = m2p_next_table(l3, pt_index(va, L3_SHIFT));
        uint64_t *l1 = m2p_next_table(l2, pt_index(va, L2_SHIFT));
        l1[pt_index(va, L1_SHIFT)] = ((m2p_mfn + i) << PAGE_SHIFT) | leaf;
    }
    pr_info("m2p: %lu entries in %lu frames at mfn %#lx, guests see it at %#lx",
            max_mfn, m2p_frames, m2p_mfn, RO_MPT_VIRT_START);
}
