/* Linear (recursive) page tables: an entry of a level-k table (k = 2..4)
 * that maps a level-k table instead of a level-(k-1) one, so that the
 * guest sees its own tables through its address space (the classic
 * recursive L4 slot).
 *
 * Owns: the rules of such entries and page_info.linear_count. The rules
 * are Xen 4.17's (arch/x86/mm.c, define_get_linear_pagetable), tried by
 * mm.c only where the entry fails as an ordinary one:
 *  - the entry is read-only, or the guest could write its own tables;
 *  - an entry mapping its own table holds no references at all (which
 *    lets a table that maps itself be validated);
 *  - otherwise the mapped frame is the domain's, is already a validated
 *    table of the same level (never one in validation), and gets a general
 *    and a type reference like any entry's;
 *  - a table either contains linear entries (linear_count > 0, their
 *    number) or is mapped by them (linear_count < 0, minus their number),
 *    never both, so chains of linear entries cannot form (XSA-240).
 * At put time an entry is linear exactly when it maps its own table or a
 * table of its own level: an ordinary entry maps the level below, whose
 * type cannot change while it is referenced.
 *
 * Locking: d->mm_lock held, as for every type change (mm.c). */
#include "asm/guest_mm.h"
#include "hv/mm.h"
#include "hv/printk.h"

#define LINEAR_MAX INT16_MAX

bool pt_get_linear(struct domain *d, mfn_t table, unsigned int level, uint64_t e)
{
    mfn_t mfn = pte_mfn(e);

    if (e & _PAGE_RW)
        return false;
    if (mfn == table)
        return true;
    struct page_info *tpg = &frame_table[table];
    if (tpg->owner != d->id || get_page(mfn, d))
        return false;
    struct page_info *pg = &frame_table[mfn];
    uint64_t x = pg->type_info;
    if (tpg->linear_count < 0 || tpg->linear_count == LINEAR_MAX ||
        pg->linear_count > 0 || pg->linear_count == -LINEAR_MAX ||
        (x & PGT_count_mask) == PGT_count_mask ||
        (x & (PGT_type_mask | PGT_validated)) != (pgt_of_level(level) | PGT_validated)) {
        put_page(mfn);
        return false;
    }
    tpg->linear_count++;
    pg->linear_count--;
    pg->type_info = x + 1;
    return true;
}

bool pt_put_linear(mfn_t table, unsigned int level, uint64_t e)
{
    mfn_t mfn = pte_mfn(e);

    if (mfn == table)
        return true;
    struct page_info *pg = &frame_table[mfn];
    if ((pg->type_info & PGT_type_mask) != pgt_of_level(level))
        return false;
    BUG_ON(frame_table[table].linear_count <= 0 || pg->linear_count >= 0);
    frame_table[table].linear_count--;
    pg->linear_count++;
    pt_put_page_and_type(mfn);
    return true;
}
