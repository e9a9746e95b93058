/* Page ownership, types and reference counts; the guest page-table
 * hypercalls (arch/x86_64/mm.c) and memory reservations (common/memory.c).
 *
 * Every machine frame has an owner (page_info.owner), a general reference
 * count (page_info.count) and a type with its own count (type_info):
 *   PGT_none, PGT_l1..PGT_l4 (page tables), PGT_seg_desc (GDT/LDT frames),
 *   PGT_writable (mapped writable somewhere).
 * Rules (what makes a guest unable to break isolation):
 *  - a frame can hold only one type at a time while its type count is > 0:
 *    a page table or descriptor frame is never writable by a guest, and a
 *    writable frame cannot become a page table;
 *  - a page-table frame is validated when it first gets its type (pin,
 *    use as a base pointer, or being referenced by a higher-level table):
 *    every present entry must reference a frame the domain owns, with the
 *    next-lower type (L4 -> L3 -> L2 -> L1), or for L1 a data frame, typed
 *    PGT_writable when the entry is writable; forbidden flags are refused;
 *    the hypervisor L4 slots (256-271) are filled by the hypervisor, never
 *    taken from the guest;
 *  - every entry update (mmu_update, update_va_mapping) is checked the
 *    same way before it is written; the old entry's references are dropped
 *    after the new ones are taken;
 *  - unpin / last use drops the type, which drops the references its
 *    entries held.
 * A frame with PGF_ALLOCATED holds one general reference for its owner;
 * a frame whose count reaches 0 is returned to the heap.
 *
 * Locking: d->mm_lock around page-table updates and type changes of d's
 * frames. */
#ifndef HV_PAGETYPE_H
#define HV_PAGETYPE_H

#include "hv/domain.h"
#include "hv/page.h"

#define PGT_TYPE_SHIFT  61
#define PGT_none        (0UL << PGT_TYPE_SHIFT)
#define PGT_l1          (1UL << PGT_TYPE_SHIFT)
#define PGT_l2          (2UL << PGT_TYPE_SHIFT)
#define PGT_l3          (3UL << PGT_TYPE_SHIFT)
#define PGT_l4          (4UL << PGT_TYPE_SHIFT)
#define PGT_seg_desc    (5UL << PGT_TYPE_SHIFT)
#define PGT_writable    (7UL << PGT_TYPE_SHIFT)
#define PGT_type_mask   (7UL << PGT_TYPE_SHIFT)
#define PGT_pinned      (1UL << 60)
#define PGT_validated   (1UL << 59)
#define PGT_count_mask  0xffffffffUL

/* Machine-to-phys table: RW for the hypervisor, mapped read-only (and
 * user-accessible) for guests at RO_MPT_VIRT_START. INVALID_M2P_ENTRY for
 * frames no guest owns. */
#define INVALID_M2P_ENTRY (~0UL)
extern uint64_t *machine_to_phys;
void m2p_init(void);

int get_page(mfn_t mfn, struct domain *d);
void put_page(mfn_t mfn);
int get_page_type(mfn_t mfn, uint64_t type);
void put_page_type(mfn_t mfn);
int get_page_and_type(mfn_t mfn, struct domain *d, uint64_t type);
void put_page_and_type(mfn_t mfn);

/* Install l4 as the vCPU's kernel (user = false) or user page table, with
 * the L4 type and a reference; the previous one is released. l4 = 0 clears
 * (user table only). -EINVAL if l4 is not a valid L4 of the domain. */
int vcpu_set_guest_table(struct vcpu *v, mfn_t l4, bool user);
/* Copy the hypervisor's L4 slots into a (validated) guest L4. */
void fill_hypervisor_l4_slots(uint64_t *l4);
/* Drop every type, pin and reference a dead domain holds and free its
 * frames (frames still referenced from elsewhere are freed when that
 * reference goes), in bounded steps: each call does at least
 * TEARDOWN_MIN_FRAMES frames' work and stops when an interrupt is pending
 * (interrupt_pending) or after TEARDOWN_MAX_FRAMES; true when all
 * is done. domain_relinquish_memory runs the steps to the end. */
#define TEARDOWN_MIN_FRAMES 256
#define TEARDOWN_MAX_FRAMES 4096
/* Frames a step of the release pass frees: each is scrubbed (zeroed) on
 * its way back to the heap, ~2-4 us apiece under TCG. */
#define TEARDOWN_MAX_SCRUBS 128
bool domain_relinquish_memory_step(struct domain *d);
void domain_relinquish_memory(struct domain *d);

/* Give a freshly allocated frame to d (owner, PGF_ALLOCATED, page_list,
 * tot_pages). -ENOMEM beyond max_pages. */
int assign_frame(struct domain *d, mfn_t mfn);
/* Allocate one frame for d. Returns the mfn or -ENOMEM. */
int64_t alloc_domain_frame(struct domain *d);
/* XENMEM_exchange (mm.c): take a frame whose only reference is its
 * allocation away from d (-EINVAL otherwise), give it back, or free it. */
int steal_frame(struct domain *d, mfn_t mfn);
void unsteal_frame(struct domain *d, mfn_t mfn);
void free_stolen_frame(struct domain *d, mfn_t mfn);

/* Hypercalls. */
long do_mmu_update(uint64_t ureqs, uint64_t count, uint64_t pdone, uint64_t foreigndom);
long do_update_va_mapping(uint64_t va, uint64_t val, uint64_t flags);
long do_mmuext_op(uint64_t uops, uint64_t count, uint64_t pdone, uint64_t foreigndom);
long do_memory_op(uint64_t cmd, uint64_t arg);

#endif
