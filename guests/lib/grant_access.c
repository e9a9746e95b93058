/*
 * grant_access.c - this guest's own grant table, as the frontends
 * (blkfront.c, netfront.c) share it: pages granted to Domain 0 and their
 * access ended again (see gnttab.h, "granting").
 *
 * Owns: the grant table (GRANT_FRAMES frames of v1 entries, 4096 refs, set
 * up on first use, mapped at table_page; blkfront's zero-copy buffers take
 * a thousand), the hint where the search for a free ref starts (after the
 * last one given: a ref just ended is not given again at once). Refs below
 * FIRST_FREE_REF are left to the toolstack. Invariant: a ref Domain 0 still has mapped (GTF_reading /
 * GTF_writing) is never reused: its access is left for good and counted.
 */
#include "gnttab.h"

#define GRANT_FRAMES    8
#define GRANT_ENTRIES   (GRANT_FRAMES * PAGE_SIZE / sizeof(grant_entry_v1_t))
#define FIRST_FREE_REF  16

static uint8_t table_page[GRANT_FRAMES * PAGE_SIZE] ALIGNED(PAGE_SIZE);
static volatile grant_entry_v1_t *gtable;
static uint32_t stuck, next_ref = FIRST_FREE_REF;

long grant_table_init(void)
{
    xen_pfn_t frame[GRANT_FRAMES] = { 0 };
    struct gnttab_setup_table st = { .dom = DOMID_SELF, .nr_frames = GRANT_FRAMES,
                                     .frame_list = (uint64_t)frame };

    if (gtable)
        return 0;
    if (hypercall_grant_table_op(GNTTABOP_setup_table, &st, 1) || st.status)
        return -22;
    for (unsigned i = 0; i < GRANT_FRAMES; i++)
        if (hypercall_update_va_mapping((uint64_t)table_page + i * PAGE_SIZE, (frame[i] << PAGE_SHIFT) | PTE_PAGE,
                                        UVMF_INVLPG))
            return -22;
    gtable = (volatile grant_entry_v1_t *)table_page;
    return 0;
}

grant_ref_t grant_access(void *page, bool readonly)
{
    for (uint32_t k = 0; gtable && k < GRANT_ENTRIES - FIRST_FREE_REF; k++) {
        grant_ref_t r = next_ref;
        next_ref = next_ref + 1 < GRANT_ENTRIES ? next_ref + 1 : FIRST_FREE_REF;
        if (gtable[r].flags)
            continue;
        gtable[r].domid = 0;
        gtable[r].frame = (uint32_t)virt_to_mfn(page);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        gtable[r].flags = GTF_permit_access | (readonly ? GTF_readonly : 0);
        return r;
    }
    return 0;
}

/* As Linux's gnttab_end_foreign_access_ref: not while Domain 0 still has
 * the page mapped. */
void grant_end(grant_ref_t ref)
{
    uint16_t flags;

    if (!ref || ref >= GRANT_ENTRIES || !gtable)
        return;
    flags = gtable[ref].flags;
    for (;;) {
        if (flags & (GTF_reading | GTF_writing)) {
            stuck++;
            return;
        }
        if (__atomic_compare_exchange_n(&gtable[ref].flags, &flags, 0, false, __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST))
            return;
    }
}

uint32_t grant_stuck(void)
{
    return stuck;
}
