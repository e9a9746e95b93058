/* Grant tables: using a grant (see grant_table.c for the model, the
 * invariants and the lock order).
 *
 * Owns: the pins of a grant (its active entry's counts and user), the
 * status flags GTF_reading / GTF_writing that a pin keeps set in the
 * granter's entry, and the frame references every use holds. Callers
 * hold no table lock; these functions take the granter's. */
#include "grant_priv.h"
#include "hv/lib.h"
#include "hv/mm.h"
#include "hv/printk.h"

#define SET_STATUS_TRIES    5       /* cmpxchg retries against a guest rewriting its entry */

static void clear_entry_flags(struct grant_table *gt, grant_ref_t ref, uint16_t flags)
{
    __atomic_fetch_and(gnttab_entry_words(gt, ref), ~(uint32_t)flags, __ATOMIC_SEQ_CST);
}

/* Set GTF_reading (and GTF_writing) in the shared entry, checking what
 * the guest wrote there: at the first pin the type and the domid allowed
 * (and, for a mapping, no sub-page grant); GTF_readonly for writers. The
 * guest may rewrite the entry meanwhile, hence the bounded cmpxchg. */
static int16_t set_status(struct grant_table *gt, grant_ref_t ref, domid_t user, bool readonly,
                          bool first, bool mapping)
{
    uint32_t *word = gnttab_entry_words(gt, ref);
    uint16_t mask = GTF_type_mask | (mapping ? GTF_sub_page : 0);
    uint32_t old = __atomic_load_n(word, __ATOMIC_ACQUIRE);

    for (unsigned int tries = 0; tries < SET_STATUS_TRIES; tries++) {
        uint16_t flags = (uint16_t)old;
        domid_t domid = (domid_t)(old >> 16);
        if (first && ((flags & mask) != GTF_permit_access || domid != user))
            return GNTST_general_error;
        if (!readonly && (flags & GTF_readonly))
            return GNTST_general_error;
        uint32_t new = old | GTF_reading | (readonly ? 0 : GTF_writing);
        if (__atomic_compare_exchange_n(word, &old, new, false, __ATOMIC_SEQ_CST,
                                        __ATOMIC_ACQUIRE))
            return GNTST_okay;
    }
    return GNTST_general_error;
}

int16_t grant_get_frame_refs(struct domain *owner, mfn_t mfn, bool readonly, int16_t not_owned)
{
    if (get_page(mfn, owner))
        return not_owned;
    if (!readonly && get_page_type(mfn, PGT_writable)) {
        put_page(mfn);
        return GNTST_general_error;     /* a page table or descriptor frame */
    }
    return GNTST_okay;
}

void grant_put_frame_refs(mfn_t mfn, bool readonly)
{
    if (!readonly)
        put_page_type(mfn);
    put_page(mfn);
}

int16_t grant_acquire(struct domain *user, domid_t granter, grant_ref_t ref,
                             bool readonly, bool mapping, struct grant_use *use)
{
    struct grant_table *gt = gnttab_lock(granter, 0);
    int16_t st;

    if (!gt)
        return GNTST_bad_domain;
    if (ref >= gnttab_nr_entries(gt)) {
        st = GNTST_bad_gntref;
        goto out;
    }
    struct active_grant *act = gnttab_active(gt, ref);
    bool first = !act->ro_pins && !act->rw_pins;
    bool new_writer = !readonly && !act->rw_pins;
    if (!first && act->user != user->id) {
        st = GNTST_general_error;
        goto out;
    }
    if (first || new_writer) {
        st = set_status(gt, ref, user->id, readonly, first, mapping);
        if (st)
            goto out;
    }
    mfn_t mfn = first ? __atomic_load_n(gnttab_entry_words(gt, ref) + 1, __ATOMIC_ACQUIRE) : act->mfn;
    /* A frame named at the first pin that is not the granter's is a bad
     * page; later, the frame is held by the pins already there. */
    st = grant_get_frame_refs(gt->domain, mfn, readonly,
                        first ? GNTST_bad_page : GNTST_general_error);
    if (st) {
        clear_entry_flags(gt, ref, (first ? GTF_reading : 0) | (new_writer ? GTF_writing : 0));
        goto out;
    }
    if (first) {
        act->user = user->id;
        act->mfn = mfn;
    }
    if (readonly)
        act->ro_pins++;
    else
        act->rw_pins++;
    *use = (struct grant_use){ .granter = granter, .ref = ref, .generation = gt->generation,
                               .mfn = mfn, .readonly = readonly };
out:
    spin_unlock(&gt->lock);
    return st;
}

void grant_release(const struct grant_use *use)
{
    grant_put_frame_refs(use->mfn, use->readonly);
    struct grant_table *gt = gnttab_lock(use->granter, use->generation);
    if (!gt)
        return;                         /* the granter is gone: nothing to unpin */
    struct active_grant *act = gnttab_active(gt, use->ref);
    uint16_t clear = 0;
    if (use->readonly) {
        BUG_ON(!act->ro_pins);
        act->ro_pins--;
    } else {
        BUG_ON(!act->rw_pins);
        if (!--act->rw_pins)
            clear |= GTF_writing;
    }
    if (!act->ro_pins && !act->rw_pins)
        clear |= GTF_reading;
    if (clear)
        clear_entry_flags(gt, use->ref, clear);
    spin_unlock(&gt->lock);
}
