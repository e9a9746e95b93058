/* Domain teardown: every type, pin and reference a dead domain holds
 * dropped and its frames freed, in bounded steps (hv/pagetype.h), so the
 * CPU doing it takes interrupts, serves Domain 0's control requests and
 * runs guests between steps however large the domain.
 *
 * Owns: d->teardown_pass and d->teardown_list. Passes, each over every
 * frame of d->page_list (a frame is moved to teardown_list when done; the
 * list goes back to page_list for the next pass):
 *   L1..L4  strip the validated tables of that level: each present guest
 *           entry's references are dropped and the entry cleared, lowest
 *           level first, so no later devalidation does that work again
 *           and no step cascades into more than one level of tables that
 *           are already empty;
 *   UNPIN   the vCPUs' base pointers (at the start) and every pin go;
 *           every table's type drops to 0 at no cost;
 *   RELEASE allocation references dropped: frames nobody else holds are
 *           scrubbed and freed after one TLB flush per step (at most
 *           TEARDOWN_MAX_SCRUBS of them: zeroing is the costly part);
 *   ORPHANS frames still referenced from elsewhere (a grant mapping, a
 *           vcpu_info or GDT frame) become hypervisor frames, freed by
 *           their last put_page; a later domain with this id can never
 *           map them.
 * Invariants: a frame being worked on holds a general reference of the
 * teardown's own, so another CPU dropping the last other one cannot free
 * it meanwhile; frames move between the lists only under d->page_lock
 * (as frame_release unlinks them); the domain's vCPUs never run again.
 * Locking: d->mm_lock around each frame's type changes, d->page_lock
 * around list moves; order as mm.c's (mm_lock -> page_lock -> heap). */
#include "asm/guest_mm.h"
#include "hv/batch.h"
#include "hv/lib.h"
#include "hv/mm.h"
#include "hv/printk.h"

enum { TD_START, TD_STRIP_L1, TD_STRIP_L4 = TD_STRIP_L1 + 3, TD_UNPIN, TD_RELEASE, TD_ORPHANS,
       TD_DONE };

/* The next frame of this pass, moved to teardown_list and referenced for
 * us; false when the pass has gone through every frame. */
static bool next_frame(struct domain *d, mfn_t *mfn)
{
    for (;;) {
        spin_lock(&d->page_lock);
        if (list_empty(&d->page_list)) {
            spin_unlock(&d->page_lock);
            return false;
        }
        struct page_info *pg = list_entry(d->page_list.next, struct page_info, list);
        list_del(&pg->list);
        list_add_tail(&pg->list, &d->teardown_list);
        spin_unlock(&d->page_lock);
        *mfn = (mfn_t)(pg - frame_table);
        if (!get_page(*mfn, d))
            return true;
        /* Count 0: its last holder is freeing it right now. */
    }
}

/* Clear a validated level-`level` table's guest entries, references
 * dropped. */
static void strip_table(struct domain *d, mfn_t mfn, unsigned int level)
{
    uint64_t x = frame_table[mfn].type_info;

    if ((x & PGT_type_mask) != pgt_of_level(level) || !(x & PGT_count_mask) ||
        !(x & PGT_validated))
        return;
    uint64_t *t = mfn_to_virt(mfn);
    spin_lock(&d->mm_lock);
    for (unsigned int i = 0; i < PT_ENTRIES; i++) {
        if (!pt_guest_slot(level, i) || !(t[i] & _PAGE_PRESENT))
            continue;
        pt_put_entry_refs(mfn, level, t[i]);
        t[i] = 0;
    }
    spin_unlock(&d->mm_lock);
}

static void drop_base_pointers(struct domain *d)
{
    spin_lock(&d->mm_lock);
    for (unsigned int i = 0; i < MAX_VCPUS; i++) {
        struct vcpu *v = d->vcpus[i];
        if (!v)
            continue;
        if (v->guest_table_user)
            pt_put_page_and_type(v->guest_table_user);
        if (v->guest_table)
            pt_put_page_and_type(v->guest_table);
        v->guest_table = v->guest_table_user = 0;
    }
    spin_unlock(&d->mm_lock);
}

static void unpin(struct domain *d, mfn_t mfn)
{
    struct page_info *pg = &frame_table[mfn];

    spin_lock(&d->mm_lock);
    if (pg->type_info & PGT_pinned) {
        pg->type_info &= ~PGT_pinned;
        pt_put_page_and_type(mfn);
    }
    spin_unlock(&d->mm_lock);
}

static void release(struct domain *d, mfn_t mfn, struct list_head *released)
{
    spin_lock(&d->page_lock);
    bool had = frame_table[mfn].flags & PGF_ALLOCATED;
    frame_table[mfn].flags &= ~PGF_ALLOCATED;
    spin_unlock(&d->page_lock);
    if (had)
        put_page_deferred(mfn, released);       /* the allocation's */
}

static void orphan_the_rest(struct domain *d)
{
    spin_lock(&d->page_lock);
    while (!list_empty(&d->page_list)) {
        struct page_info *pg = list_entry(d->page_list.next, struct page_info, list);
        pr_warn("domain %u: mfn %#lx still referenced at teardown (count %u, type %#lx)",
                d->id, (uint64_t)(pg - frame_table), pg->count, pg->type_info);
        list_del(&pg->list);
        pg->owner = OWNER_HV;
        d->tot_pages--;
    }
    spin_unlock(&d->page_lock);
}

/* Back to page_list for the next pass. */
static void end_pass(struct domain *d)
{
    spin_lock(&d->page_lock);
    while (!list_empty(&d->teardown_list)) {
        struct list_head *n = d->teardown_list.next;
        list_del(n);
        list_add_tail(n, &d->page_list);
    }
    spin_unlock(&d->page_lock);
    d->teardown_pass++;
}

bool domain_relinquish_memory_step(struct domain *d)
{
    struct list_head released;
    unsigned int n = 0, to_scrub = 0;

    if (d->teardown_pass == TD_START) {
        list_init(&d->teardown_list);
        d->teardown_pass = TD_STRIP_L1;
    }
    list_init(&released);
    while (d->teardown_pass < TD_ORPHANS) {
        if (n >= TEARDOWN_MAX_FRAMES ||
            (n >= TEARDOWN_MIN_FRAMES && n % 16 == 0 && interrupt_pending()) ||
            to_scrub >= TEARDOWN_MAX_SCRUBS)
            break;
        mfn_t mfn;
        if (!next_frame(d, &mfn)) {
            if (d->teardown_pass == TD_UNPIN - 1)
                drop_base_pointers(d);          /* before the pins go */
            end_pass(d);
            continue;
        }
        n++;
        if (d->teardown_pass <= TD_STRIP_L4)
            strip_table(d, mfn, d->teardown_pass - TD_STRIP_L1 + 1);
        else if (d->teardown_pass == TD_UNPIN)
            unpin(d, mfn);
        else {
            release(d, mfn, &released);
            to_scrub++;
        }
        put_page_deferred(mfn, &released);     /* ours */
    }
    /* No translation of a frame may outlive its return to the heap. */
    if (!list_empty(&released)) {
        flush_tlb_domain(d);
        while (!list_empty(&released)) {
            struct page_info *pg = list_entry(released.next, struct page_info, list);
            list_del(&pg->list);
            free_frame_scrubbed((mfn_t)(pg - frame_table));
        }
    }
    if (d->teardown_pass == TD_ORPHANS) {
        orphan_the_rest(d);
        d->teardown_pass = TD_DONE;
    }
    return d->teardown_pass == TD_DONE;
}

void domain_relinquish_memory(struct domain *d)
{
    while (!domain_relinquish_memory_step(d))
        ;
}
