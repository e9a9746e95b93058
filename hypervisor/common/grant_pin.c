/* Grant tables: using a grant (see grant_table.c for the model, the
 * invariants and the lock order).
 *
 * Owns: the pins of a grant (its active entry's counts, user, frame and
 * sub-page window), the status flags GTF_reading / GTF_writing that a pin
 * keeps set (v1: in the granter's entry; v2: in its status frame), and
 * the frame references every use holds. Callers hold no table lock; these
 * functions take the granter's.
 *
 * Entries a pin accepts, read at the first pin: GTF_permit_access to the
 * user, v1 or v2 full_page (the frame), or v2 sub_page (frame, page_off,
 * length: copies only, never a mapping); for copies also a v2
 * GTF_transitive grant to the user (trans_domid, gref), as Xen 4.17's
 * default: one level (the grant it names must not be transitive itself)
 * and never its own granter (GNTST_general_error). Its pin is taken
 * before the granter's table is unlocked to use the named grant (two
 * table locks are never held), and given back if that fails. */
#include "grant_priv.h"
#include "hv/lib.h"
#include "hv/mm.h"
#include "hv/printk.h"

#define SET_STATUS_TRIES    5       /* cmpxchg retries against a guest rewriting its entry */

/* Clear status flags of an entry: where they live in the table's version. */
static void clear_status(struct grant_table *gt, grant_ref_t ref, uint16_t flags)
{
    if (gt->version == 2)
        __atomic_fetch_and(gnttab_status(gt, ref), (grant_status_t)~flags, __ATOMIC_SEQ_CST);
    else
        __atomic_fetch_and(gnttab_entry_words(gt, ref), ~(uint32_t)flags, __ATOMIC_SEQ_CST);
}

/* What the entry's first word must say at the first pin: type (with no
 * sub-page flag for a mapping) and the user. */
static bool entry_allows(uint32_t word, domid_t user, bool mapping, uint16_t type)
{
    uint16_t mask = GTF_type_mask | (mapping ? GTF_sub_page : 0);

    return ((uint16_t)word & mask) == type && (domid_t)(word >> 16) == user;
}

/* Whether the entry grants anything to user now (access or, in v2, a
 * transitive grant): what a first pin needs before its active entry's
 * page is allocated. The guest may rewrite it meanwhile; set_status_* is
 * the check that counts. */
static bool entry_names(struct grant_table *gt, grant_ref_t ref, domid_t user)
{
    uint32_t word = __atomic_load_n(gnttab_entry_words(gt, ref), __ATOMIC_ACQUIRE);

    return entry_allows(word, user, false, GTF_permit_access) ||
           (gt->version == 2 && entry_allows(word, user, false, GTF_transitive));
}

/* v1: set GTF_reading (and GTF_writing) in the shared entry, checking
 * what the guest wrote there: at the first pin the type and the domid
 * allowed (and, for a mapping, no sub-page grant); GTF_readonly for
 * writers. The guest may rewrite the entry meanwhile, hence the bounded
 * cmpxchg. */
static int16_t set_status_v1(struct grant_table *gt, grant_ref_t ref, domid_t user,
                             bool readonly, bool first, bool mapping)
{
    uint32_t *word = gnttab_entry_words(gt, ref);
    uint32_t old = __atomic_load_n(word, __ATOMIC_ACQUIRE);

    for (unsigned int tries = 0; tries < SET_STATUS_TRIES; tries++) {
        if (first && !entry_allows(old, user, mapping, GTF_permit_access))
            return GNTST_general_error;
        if (!readonly && ((uint16_t)old & GTF_readonly))
            return GNTST_general_error;
        uint32_t new = old | GTF_reading | (readonly ? 0 : GTF_writing);
        if (__atomic_compare_exchange_n(word, &old, new, false, __ATOMIC_SEQ_CST,
                                        __ATOMIC_ACQUIRE))
            return GNTST_okay;
    }
    return GNTST_general_error;
}

/* v2: the same checks on the entry's header, the flags set in the status
 * frame; the header is read again after they are visible, and a change
 * that would have been refused undoes them (as a guest ending access
 * checks the status after clearing the header). */
static int16_t set_status_v2(struct grant_table *gt, grant_ref_t ref, domid_t user,
                             bool readonly, bool first, bool mapping, uint16_t type)
{
    uint32_t *word = gnttab_entry_words(gt, ref);
    grant_status_t *status = gnttab_status(gt, ref);
    grant_status_t set = GTF_reading | (readonly ? 0 : GTF_writing);
    uint32_t hdr = __atomic_load_n(word, __ATOMIC_ACQUIRE);

    if (first && !entry_allows(hdr, user, mapping, type))
        return GNTST_general_error;
    if (!readonly && ((uint16_t)hdr & GTF_readonly))
        return GNTST_general_error;
    __atomic_fetch_or(status, set, __ATOMIC_SEQ_CST);
    hdr = __atomic_load_n(word, __ATOMIC_SEQ_CST);
    if (first && (!entry_allows(hdr, user, mapping, type) ||
                  (!readonly && ((uint16_t)hdr & GTF_readonly)))) {
        clear_status(gt, ref, set);
        return GNTST_general_error;
    }
    if (!first && ((uint16_t)hdr & GTF_readonly)) {
        clear_status(gt, ref, GTF_writing);     /* GTF_reading stays with the pins */
        return GNTST_general_error;
    }
    return GNTST_okay;
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

/* What the first pin reads from the entry (with the status set): the
 * frame and the window copies may touch (whole page unless v2 sub_page). */
struct granted {
    mfn_t mfn;
    uint16_t start, length;
    bool sub_page;
};

static struct granted read_grant(struct grant_table *gt, grant_ref_t ref)
{
    uint32_t *w = gnttab_entry_words(gt, ref);
    struct granted g = { .length = PAGE_SIZE };

    if (gt->version == 1) {
        g.mfn = __atomic_load_n(w + 1, __ATOMIC_ACQUIRE);
        return g;
    }
    union grant_entry_v2 *e = (union grant_entry_v2 *)w;
    g.mfn = __atomic_load_n(&e->full_page.frame, __ATOMIC_ACQUIRE);
    if (__atomic_load_n(&e->hdr.flags, __ATOMIC_ACQUIRE) & GTF_sub_page) {
        g.sub_page = true;
        g.start = __atomic_load_n(&e->sub_page.page_off, __ATOMIC_ACQUIRE);
        g.length = __atomic_load_n(&e->sub_page.length, __ATOMIC_ACQUIRE);
    }
    return g;
}

/* Give back one pin of ref in granter's table (of generation gen), and
 * the status flags no pin keeps any more. Nothing if the table is gone. */
static void unpin(domid_t granter, grant_ref_t ref, uint64_t gen, bool readonly)
{
    struct grant_table *gt = gnttab_lock(granter, gen);
    if (!gt)
        return;                         /* the granter is gone: nothing to unpin */
    struct active_grant *act = gnttab_active(gt, ref);
    uint16_t clear = 0;
    if (readonly) {
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
        clear_status(gt, ref, clear);
    spin_unlock(&gt->lock);
}

static int16_t acquire(domid_t user, domid_t granter, grant_ref_t ref, bool readonly,
                       bool mapping, bool transitive_ok, struct grant_use *use);

/* A transitive grant, gt locked (and unlocked here): pin it, then use the
 * grant it names as its granter would. */
static int16_t acquire_transitive(struct grant_table *gt, domid_t user, domid_t granter,
                                  grant_ref_t ref, bool readonly, bool first, bool new_writer,
                                  struct grant_use *use)
{
    struct active_grant *act = gnttab_active(gt, ref);
    union grant_entry_v2 *e = (union grant_entry_v2 *)gnttab_entry_words(gt, ref);
    int16_t st = GNTST_okay;

    if (first || new_writer)
        st = set_status_v2(gt, ref, user, readonly, first, false, GTF_transitive);
    if (st) {
        spin_unlock(&gt->lock);
        return st;
    }
    uint16_t flags = __atomic_load_n(&e->hdr.flags, __ATOMIC_ACQUIRE);
    domid_t inner_granter = __atomic_load_n(&e->transitive.trans_domid, __ATOMIC_ACQUIRE);
    grant_ref_t inner_ref = __atomic_load_n(&e->transitive.gref, __ATOMIC_ACQUIRE);
    if ((flags & GTF_type_mask) != GTF_transitive || inner_granter == granter) {
        clear_status(gt, ref, (first ? GTF_reading : 0) | (new_writer ? GTF_writing : 0));
        spin_unlock(&gt->lock);
        return GNTST_general_error;     /* rewritten meanwhile, or names itself */
    }
    if (first)
        *act = (struct active_grant){ .user = user, .sub_page = 1, .transitive = 1 };
    if (readonly)
        act->ro_pins++;
    else
        act->rw_pins++;
    uint64_t gen = gt->generation;
    spin_unlock(&gt->lock);

    struct grant_use inner;
    st = acquire(granter, inner_granter, inner_ref, readonly, false, false, &inner);
    if (st) {
        unpin(granter, ref, gen, readonly);
        return st == GNTST_bad_domain ? GNTST_general_error : st;   /* as Xen */
    }
    *use = (struct grant_use){ .granter = granter, .ref = ref, .generation = gen,
                               .mfn = inner.mfn, .readonly = readonly, .start = inner.start,
                               .length = inner.length, .transitive = true,
                               .inner_granter = inner_granter, .inner_ref = inner_ref,
                               .inner_generation = inner.generation };
    return GNTST_okay;
}

static int16_t acquire(domid_t user, domid_t granter, grant_ref_t ref, bool readonly,
                       bool mapping, bool transitive_ok, struct grant_use *use)
{
    struct grant_table *gt = gnttab_lock(granter, 0);
    int16_t st;

    if (!gt)
        return GNTST_bad_domain;
    if (ref >= gnttab_nr_entries(gt)) {
        st = GNTST_bad_gntref;
        goto out;
    }
    /* The page of active entries a first pin needs is allocated only for
     * a user the entry names: a domain granted nothing there cannot make
     * the granter's table take memory (Domain 0's, which never goes away,
     * kept a page for every boot whose hostile guest tried its grants). */
    if (!gnttab_active_page(gt, ref) && !entry_names(gt, ref, user)) {
        st = GNTST_general_error;       /* what the first pin would have said */
        goto out;
    }
    struct active_grant *act = gnttab_active_alloc(gt, ref);
    if (!act) {
        st = GNTST_no_device_space;     /* no memory for its active entry */
        goto out;
    }
    bool first = !act->ro_pins && !act->rw_pins;
    bool new_writer = !readonly && !act->rw_pins;
    /* Pinned by another domain, or a sub-page or transitive grant pinned
     * by a copy (mappings), or a transitive one (inside a transitive). */
    if (!first && (act->user != user || (mapping && act->sub_page) ||
                   (!transitive_ok && act->transitive))) {
        st = GNTST_general_error;
        goto out;
    }
    uint16_t type = (uint16_t)__atomic_load_n(gnttab_entry_words(gt, ref), __ATOMIC_ACQUIRE) &
                    GTF_type_mask;
    if (transitive_ok && (first ? gt->version == 2 && type == GTF_transitive : act->transitive)) {
        /* A transitive pin of entry 0-7 can outlive a switch back to v1,
         * which has no transitive grants (and no status frames). */
        if (gt->version != 2) {
            st = GNTST_general_error;
            goto out;
        }
        return acquire_transitive(gt, user, granter, ref, readonly, first, new_writer, use);
    }
    if (first || new_writer) {
        st = gt->version == 2
                 ? set_status_v2(gt, ref, user, readonly, first, mapping, GTF_permit_access)
                 : set_status_v1(gt, ref, user, readonly, first, mapping);
        if (st)
            goto out;
    }
    struct granted g = { act->mfn, act->start, (uint16_t)act->length, act->sub_page };
    if (first)
        g = read_grant(gt, ref);
    /* A frame named at the first pin that is not the granter's is a bad
     * page (get_page checks it is a frame at all); later, the frame is
     * held by the pins already there. */
    st = grant_get_frame_refs(gt->domain, g.mfn, readonly,
                              first ? GNTST_bad_page : GNTST_general_error);
    if (st) {
        clear_status(gt, ref, (first ? GTF_reading : 0) | (new_writer ? GTF_writing : 0));
        goto out;
    }
    if (first)
        *act = (struct active_grant){ .user = user, .start = g.start, .mfn = g.mfn,
                                      .sub_page = g.sub_page, .length = g.length };
    if (readonly)
        act->ro_pins++;
    else
        act->rw_pins++;
    *use = (struct grant_use){ .granter = granter, .ref = ref, .generation = gt->generation,
                               .mfn = g.mfn, .readonly = readonly, .start = g.start,
                               .length = g.length };
out:
    spin_unlock(&gt->lock);
    return st;
}

int16_t grant_acquire(domid_t user, domid_t granter, grant_ref_t ref, bool readonly,
                      bool mapping, struct grant_use *use)
{
    return acquire(user, granter, ref, readonly, mapping, !mapping, use);
}

void grant_release(const struct grant_use *use)
{
    if (use->transitive) {
        unpin(use->granter, use->ref, use->generation, use->readonly);
        struct grant_use inner = { .granter = use->inner_granter, .ref = use->inner_ref,
                                   .generation = use->inner_generation, .mfn = use->mfn,
                                   .readonly = use->readonly };
        grant_release(&inner);
        return;
    }
    grant_put_frame_refs(use->mfn, use->readonly);
    unpin(use->granter, use->ref, use->generation, use->readonly);
}
