/* Guest memory internals shared by arch/x86_64/mm.c (frame ownership,
 * page types, page-table validation, the m2p), arch/x86_64/pv/mmu.c (the
 * page-table hypercalls) and common/memory.c (reservations).
 *
 * Everything here that takes or drops a page type expects the owning
 * domain's mm_lock to be held (the public wrappers in hv/pagetype.h take
 * it themselves). */
#ifndef ASM_GUEST_MM_H
#define ASM_GUEST_MM_H

#include "asm/page.h"
#include "hv/pagetype.h"

/* Guest page-table entry flags a guest may use, per level (as Xen 4.17
 * for a PV domain without I/O memory: no cache attributes, no PSE, no
 * global bit above L1). The address bits are checked separately. */
#define PTE_FLAGS_MASK      (~PTE_ADDR_MASK)
#define PTE_AVAIL           (7UL << 9)                  /* bits 9-11 */
#define PTE_AVAIL_HIGH      (0x7ffUL << 52)             /* bits 52-62 */
#define PTE_PAT_4K          _PAGE_PSE                   /* bit 7 in an L1 */
/* An L1 entry the grant code wrote (Xen's _PAGE_GNTTAB): guests may not set it. */
#define PTE_GRANT           (1UL << 62)
#define L1_ALLOWED_FLAGS    (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | \
                             _PAGE_DIRTY | _PAGE_GLOBAL | PTE_AVAIL | \
                             (PTE_AVAIL_HIGH & ~PTE_GRANT))
#define UPPER_ALLOWED_FLAGS (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | \
                             _PAGE_DIRTY | PTE_AVAIL | PTE_AVAIL_HIGH)

static inline mfn_t pte_mfn(uint64_t pte) { return (pte & PTE_ADDR_MASK) >> PAGE_SHIFT; }
static inline bool l4_slot_is_hv(unsigned int slot)
{
    return slot >= HV_FIRST_L4_SLOT && slot <= HV_LAST_L4_SLOT;
}
/* PGT_l1..PGT_l4 for level 1..4. */
static inline uint64_t pgt_of_level(unsigned int level)
{
    return (uint64_t)level << PGT_TYPE_SHIFT;
}

/* Type references with d->mm_lock held (d = the frame's owner). */
/* Entry i of a level-`level` table is the guest's (not a hypervisor L4
 * slot). */
static inline bool pt_guest_slot(unsigned int level, unsigned int i)
{
    return level != 4 || !l4_slot_is_hv(i);
}

/* Drop the references present entry e of a validated level-`level` table
 * holds (none for a grant entry: the grant table's). d->mm_lock held. */
void pt_put_entry_refs(mfn_t table, unsigned int level, uint64_t e);
/* put_page whose frame, if this was the last reference, goes on deferred
 * instead of back to the heap, for one TLB flush before many frees. */
void put_page_deferred(mfn_t mfn, struct list_head *deferred);

int pt_get_page_type(mfn_t mfn, uint64_t type);
void pt_put_page_type(mfn_t mfn);
int pt_get_page_and_type(mfn_t mfn, struct domain *d, uint64_t type);
void pt_put_page_and_type(mfn_t mfn);

/* Linear page tables (mm_linear.c), d->mm_lock held. pt_get_linear: take
 * what entry e of level-`level` table `table` needs as a linear entry
 * (false: e is no acceptable linear entry, nothing taken). pt_put_linear:
 * drop it if e is a linear entry (true), else leave e alone (false). */
bool pt_get_linear(struct domain *d, mfn_t table, unsigned int level, uint64_t e);
bool pt_put_linear(mfn_t table, unsigned int level, uint64_t e);

/* Replace entry idx of the validated level-`level` table `table` of d by
 * val, checked like validation; the old entry's references are dropped
 * after the new ones are taken. preserve_ad keeps the A/D bits the CPU
 * set in the old entry. 0 or -EINVAL/-EPERM/-EBUSY (as Xen 4.17). */
int pt_mod_entry(struct domain *d, mfn_t table, unsigned int level, unsigned int idx,
                 uint64_t val, bool preserve_ad);
/* The same check and update, made only if the entry still holds expect
 * (a compare-and-exchange against the CPU's A/D updates): -EAGAIN, with
 * nothing changed, when it does not. For writable page tables. */
int pt_cmpxchg_entry(struct domain *d, mfn_t table, unsigned int level, unsigned int idx,
                     uint64_t expect, uint64_t val);
/* MMUEXT_PIN_Lx_TABLE / MMUEXT_UNPIN_TABLE. */
int pt_pin(struct domain *d, mfn_t mfn, uint64_t type);
int pt_unpin(struct domain *d, mfn_t mfn);
/* vcpu_set_guest_table with v->domain->mm_lock held. */
int pt_set_guest_table(struct vcpu *v, mfn_t l4, bool user);

/* Grant mappings (common/grant_table.c). An L1 entry with PTE_GRANT maps
 * a frame granted to the table's owner, which need not own it: the grant
 * table holds the frame's references (a general one, and PGT_writable for
 * a writable mapping), the entry holds none. Guests cannot write, replace
 * or clear such an entry (mmu_update / update_va_mapping: -EPERM); only the
 * grant code removes it. An L1 devalidated with one in it drops nothing
 * for it and cannot be validated again until it is gone.
 * pt_grant_set_l1e replaces entry idx of d's validated L1 `l1` by a grant
 * entry for mfn, with the low 3 bits of avail in the software bits 9-11
 * (GNTMAP_guest_avail0..; the old entry's references are dropped; -EBUSY
 * if it is a grant entry): 1 when the old entry was present (a CPU may
 * still hold its translation), else 0; pt_grant_clear_l1e clears it (-EINVAL unless it is a
 * grant entry for mfn). Both with d->mm_lock held. */
int pt_grant_set_l1e(struct domain *d, mfn_t l1, unsigned int idx, mfn_t mfn, bool readonly,
                     unsigned int avail);
int pt_grant_clear_l1e(struct domain *d, mfn_t l1, unsigned int idx, mfn_t mfn);
/* GNTTABOP_unmap_and_replace: the grant entry for mfn at idx of l1 is
 * replaced by the entry at new_idx of new_l1, which is cleared (its
 * references move with it); -EINVAL unless idx holds a grant entry for
 * mfn (or both name the same entry), -EBUSY if the one to move is itself
 * a grant entry. With d->mm_lock held. */
int pt_grant_replace_l1e(struct domain *d, mfn_t l1, unsigned int idx, mfn_t mfn,
                         mfn_t new_l1, unsigned int new_idx);
/* The validated L1 of v's kernel page tables that maps va, or 0 when an
 * upper level is not present or va is not a guest address (pv/mmu.c;
 * d->mm_lock held). */
mfn_t pv_guest_l1_of(struct vcpu *v, uint64_t va);
/* The same at va in v's kernel page tables (pv/mmu.c): takes the lock,
 * -EINVAL when no validated L1 maps va; flushes the domain's TLBs. */
int pv_grant_map_l1e(struct vcpu *v, uint64_t va, mfn_t mfn, bool readonly,
                     unsigned int avail);
int pv_grant_unmap_l1e(struct vcpu *v, uint64_t va, mfn_t mfn);
int pv_grant_replace_l1e(struct vcpu *v, uint64_t va, mfn_t mfn, uint64_t new_va);

/* A hypervisor frame shared with d (grant table frames): owned by d, not on
 * its page list, with a general reference and a permanent PGT_writable
 * type reference of the hypervisor's, so d may map it but never make it a
 * page table or descriptor frame. unshare_frame drops both: the frame
 * becomes the hypervisor's (no domain can take a new reference) and is
 * freed with its last reference. */
void share_frame_with_domain(struct domain *d, mfn_t mfn);
void unshare_frame(mfn_t mfn);
/* unshare_frame of the n frames d was given, only if d holds no reference
 * to any of them (maps none): 0; else none changes, -EBUSY. */
int unshare_frames_unused(struct domain *d, const mfn_t *mfns, unsigned int n);

/* TLB flushes. Guest mappings are never global, so a CR3 reload drops
 * them. flush_tlb_domain flushes every CPU that may hold d's mappings;
 * with no IPIs yet that is the local CPU only (see mm.c). */
void flush_tlb_local(void);
void flush_tlb_domain(struct domain *d);

/* The m2p table's frames: first mfn and count (contiguous). */
mfn_t m2p_first_mfn(void);
uint64_t m2p_nr_frames(void);

#endif
