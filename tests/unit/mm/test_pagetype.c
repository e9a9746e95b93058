/* Host unit tests of page ownership, types and page-table validation
 * (hypervisor/arch/x86_64/mm.c compiled for the host). */
#include "harness.h"

struct tree {
    mfn_t l4, l3, l2, l1, data;
};

static struct domain *dom;

static int setup(void **state)
{
    (void)state;
    harness_init();
    dom = harness_domain(1, 64, 0, true);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    harness_fini();
    return 0;
}

/* L4[0] -> L3[0] -> L2[0] -> L1[0] -> data (writable). */
static struct tree build_tree(struct domain *d)
{
    struct tree t = { harness_frame(d), harness_frame(d), harness_frame(d),
                      harness_frame(d), harness_frame(d) };
    harness_table(t.l4)[0] = pte(t.l3, PTE_TABLE);
    harness_table(t.l3)[0] = pte(t.l2, PTE_TABLE);
    harness_table(t.l2)[0] = pte(t.l1, PTE_TABLE);
    harness_table(t.l1)[0] = pte(t.data, PTE_DATA);
    return t;
}

static int pin(mfn_t mfn, unsigned int level)
{
    return pt_pin(dom, mfn, pgt_of_level(level));
}

static void pin_each_level_then_unpin(void **state)
{
    (void)state;
    struct tree t = build_tree(dom);
    uint64_t *l4 = harness_table(t.l4);
    l4[TEST_HV_SLOT - 1] = pte(t.data, PTE_DATA);   /* guest junk in a hypervisor slot */

    assert_int_equal(pin(t.l4, 4), 0);
    assert_int_equal(type_of(t.l4), PGT_l4);
    assert_true(frame_table[t.l4].type_info & PGT_pinned);
    assert_int_equal(type_count(t.l4), 1);
    assert_int_equal(type_of(t.l3), PGT_l3);
    assert_int_equal(type_count(t.l3), 1);
    assert_int_equal(type_of(t.l2), PGT_l2);
    assert_int_equal(type_of(t.l1), PGT_l1);
    assert_int_equal(type_of(t.data), PGT_writable);
    assert_int_equal(type_count(t.data), 1);
    assert_int_equal(ref_count(t.data), 2);          /* allocation + L1 entry */
    /* Hypervisor slots come from the idle L4, guest entries gain USER. */
    assert_int_equal(l4[TEST_HV_SLOT], idle_l4()[TEST_HV_SLOT]);
    assert_int_equal(l4[TEST_HV_SLOT - 1], 0);
    assert_true(l4[0] & _PAGE_USER);
    assert_true(harness_table(t.l1)[0] & _PAGE_USER);

    /* The lower levels can be pinned on their own too. */
    assert_int_equal(pin(t.l2, 2), 0);
    assert_int_equal(type_count(t.l2), 2);
    assert_int_equal(pin(t.l2, 2), -EINVAL);        /* twice */
    assert_int_equal(type_count(t.l2), 2);
    assert_int_equal(pin(t.l1, 2), -EINVAL);        /* wrong level */

    assert_int_equal(pt_unpin(dom, t.l4), 0);
    assert_int_equal(type_count(t.l4), 0);
    assert_int_equal(type_count(t.l3), 0);
    assert_int_equal(type_count(t.l2), 1);          /* its own pin */
    assert_int_equal(type_count(t.l1), 1);
    assert_int_equal(l4[TEST_HV_SLOT], 0);          /* an ex-L4 keeps no hypervisor entry */
    assert_int_equal(pt_unpin(dom, t.l2), 0);
    assert_int_equal(type_count(t.l1), 0);
    assert_int_equal(type_count(t.data), 0);
    assert_int_equal(ref_count(t.data), 1);
    assert_int_equal(pt_unpin(dom, t.l2), -EINVAL); /* not pinned */
    assert_int_equal(pt_unpin(dom, t.data), -EINVAL);
}

static void writable_mapping_of_a_table_is_refused(void **state)
{
    (void)state;
    struct tree t = build_tree(dom);
    /* The L1 maps the L2 that references it, writable. */
    harness_table(t.l1)[1] = pte(t.l2, PTE_DATA);

    assert_int_equal(pin(t.l2, 2), -EBUSY);
    /* Everything taken during the failed validation was given back. */
    assert_int_equal(type_count(t.l2), 0);
    assert_int_equal(type_count(t.l1), 0);
    assert_int_equal(type_count(t.data), 0);
    assert_int_equal(ref_count(t.data), 1);
    assert_int_equal(ref_count(t.l1), 1);

    /* Read-only is fine. */
    harness_table(t.l1)[1] = pte(t.l2, PTE_RO);
    assert_int_equal(pin(t.l2, 2), 0);
    /* And a table in use cannot become writable afterwards. */
    assert_int_equal(pt_mod_entry(dom, t.l1, 1, 2, pte(t.l2, PTE_DATA), false), -EBUSY);
    assert_int_equal(pt_mod_entry(dom, t.l1, 1, 2, pte(t.l1, PTE_DATA), false), -EBUSY);
    /* Nor can a writable frame be pinned as a table. */
    assert_int_equal(pin(t.data, 1), -EINVAL);
}

static void frames_of_others_and_non_ram_are_refused(void **state)
{
    (void)state;
    struct domain *other = harness_domain(2, 8, 1, false);
    mfn_t theirs = list_entry(other->page_list.next, struct page_info, list) - frame_table;
    mfn_t l1 = harness_frame(dom);
    mfn_t hv_table = pte_mfn(idle_l4()[TEST_HV_SLOT]);
    uint64_t *t = harness_table(l1);

    assert_int_equal(pin(l1, 1), 0);
    assert_int_equal(pt_mod_entry(dom, l1, 1, 0, pte(theirs, PTE_RO), false), -EBUSY);
    assert_int_equal(pt_mod_entry(dom, l1, 1, 0, pte(hv_table, PTE_RO), false), -EBUSY);
    assert_int_equal(pt_mod_entry(dom, l1, 1, 0, pte(3, PTE_RO), false), -EPERM);
    assert_int_equal(pt_mod_entry(dom, l1, 1, 0, pte(TEST_FRAMES + 5, PTE_RO), false), -EPERM);
    assert_int_equal(pt_mod_entry(dom, l1, 1, 0, PTE_ADDR_MASK | PTE_RO, false), -EINVAL);
    assert_int_equal(t[0], 0);
    assert_int_equal(ref_count(theirs), 1);

    /* Upper levels refuse foreign frames too. */
    mfn_t l2 = harness_frame(dom);
    harness_table(l2)[0] = pte(theirs, PTE_TABLE);
    assert_int_equal(pin(l2, 2), -EINVAL);
}

static void forbidden_flags_per_level(void **state)
{
    (void)state;
    struct tree t = build_tree(dom);
    mfn_t page = harness_frame(dom);

    assert_int_equal(pin(t.l4, 4), 0);
    assert_int_equal(pt_mod_entry(dom, t.l1, 1, 1, pte(page, PTE_DATA | _PAGE_PCD), false),
                     -EINVAL);
    assert_int_equal(pt_mod_entry(dom, t.l1, 1, 1, pte(page, PTE_DATA | _PAGE_PWT), false),
                     -EINVAL);
    assert_int_equal(pt_mod_entry(dom, t.l1, 1, 1, pte(page, PTE_DATA | PTE_PAT_4K), false),
                     -EINVAL);
    assert_int_equal(pt_mod_entry(dom, t.l2, 2, 1, pte(page, PTE_DATA | _PAGE_PSE), false),
                     -EINVAL);
    assert_int_equal(pt_mod_entry(dom, t.l3, 3, 1, pte(page, PTE_DATA | _PAGE_PSE), false),
                     -EINVAL);
    assert_int_equal(pt_mod_entry(dom, t.l4, 4, 1, pte(t.l3, PTE_TABLE | _PAGE_GLOBAL), false),
                     -EINVAL);
    assert_int_equal(type_count(page), 0);

    /* Allowed: NX, guest-available bits, global (dropped: guest mappings
     * are never global), and the kernel's lack of USER (added). */
    uint64_t v = pte(page, PTE_DATA | _PAGE_NX | (1UL << 52) | (1UL << 9) | _PAGE_GLOBAL);
    assert_int_equal(pt_mod_entry(dom, t.l1, 1, 1, v, false), 0);
    assert_int_equal(harness_table(t.l1)[1], (v | _PAGE_USER) & ~_PAGE_GLOBAL);
    assert_int_equal(type_count(page), 1);
}

static void hypervisor_slots_cannot_be_written(void **state)
{
    (void)state;
    struct tree t = build_tree(dom);
    uint64_t *l4 = harness_table(t.l4);

    assert_int_equal(pin(t.l4, 4), 0);
    for (unsigned int slot = HV_FIRST_L4_SLOT; slot <= HV_LAST_L4_SLOT; slot++) {
        assert_int_equal(pt_mod_entry(dom, t.l4, 4, slot, 0, false), -EINVAL);
        assert_int_equal(pt_mod_entry(dom, t.l4, 4, slot, pte(t.l3, PTE_TABLE), false), -EINVAL);
    }
    assert_int_equal(l4[TEST_HV_SLOT], idle_l4()[TEST_HV_SLOT]);
    /* Slot 272 is the guest's again. */
    assert_int_equal(pt_mod_entry(dom, t.l4, 4, 272, pte(t.l3, PTE_TABLE), false), 0);
    assert_int_equal(type_count(t.l3), 2);
}

static void table_referenced_twice(void **state)
{
    (void)state;
    struct tree t = build_tree(dom);
    mfn_t l2b = harness_frame(dom);
    harness_table(t.l2)[7] = pte(t.l1, PTE_TABLE);      /* same L1 twice in one L2 */
    harness_table(l2b)[0] = pte(t.l1, PTE_TABLE);       /* and from another L2 */

    assert_int_equal(pin(t.l2, 2), 0);
    assert_int_equal(type_count(t.l1), 2);
    assert_int_equal(type_count(t.data), 1);            /* validated once */
    assert_int_equal(pin(l2b, 2), 0);
    assert_int_equal(type_count(t.l1), 3);
    assert_int_equal(ref_count(t.l1), 4);

    assert_int_equal(pt_unpin(dom, t.l2), 0);
    assert_int_equal(type_count(t.l1), 1);
    assert_int_equal(type_count(t.data), 1);
    assert_int_equal(pt_unpin(dom, l2b), 0);
    assert_int_equal(type_count(t.l1), 0);
    assert_int_equal(type_count(t.data), 0);
    assert_int_equal(ref_count(t.l1), 1);
}

static void live_update_swaps_references(void **state)
{
    (void)state;
    mfn_t l1 = harness_frame(dom), a = harness_frame(dom), b = harness_frame(dom);
    harness_table(l1)[4] = pte(a, PTE_DATA);
    assert_int_equal(pin(l1, 1), 0);
    assert_int_equal(type_count(a), 1);

    assert_int_equal(pt_mod_entry(dom, l1, 1, 4, pte(b, PTE_DATA), false), 0);
    assert_int_equal(type_count(a), 0);
    assert_int_equal(ref_count(a), 1);
    assert_int_equal(type_count(b), 1);
    assert_int_equal(ref_count(b), 2);

    /* Dropping RW drops the writable type, keeps the mapping reference. */
    assert_int_equal(pt_mod_entry(dom, l1, 1, 4, pte(b, PTE_RO), false), 0);
    assert_int_equal(type_count(b), 0);
    assert_int_equal(ref_count(b), 2);

    /* A refused update leaves the old entry and its references alone. */
    assert_int_equal(pt_mod_entry(dom, l1, 1, 4, pte(l1, PTE_DATA), false), -EBUSY);
    assert_int_equal(harness_table(l1)[4], pte(b, PTE_RO | _PAGE_USER));
    assert_int_equal(ref_count(b), 2);

    /* Remapping the same frame with A/D preserved keeps what the CPU set. */
    harness_table(l1)[4] |= _PAGE_DIRTY;
    assert_int_equal(pt_mod_entry(dom, l1, 1, 4, pte(b, PTE_DATA & ~_PAGE_DIRTY), true), 0);
    assert_true(harness_table(l1)[4] & _PAGE_DIRTY);
    assert_int_equal(type_count(b), 1);

    assert_int_equal(pt_mod_entry(dom, l1, 1, 4, 0, false), 0);
    assert_int_equal(ref_count(b), 1);
    assert_int_equal(type_count(b), 0);
}

/* The compare-and-exchange update of writable page tables: the checks of
 * pt_mod_entry, and nothing at all when the entry is not what was read. */
static void cmpxchg_update_checks_like_mod_entry(void **state)
{
    (void)state;
    mfn_t l1 = harness_frame(dom), a = harness_frame(dom), b = harness_frame(dom);
    harness_table(l1)[4] = pte(a, PTE_DATA);
    assert_int_equal(pin(l1, 1), 0);
    uint64_t cur = harness_table(l1)[4];

    /* The CPU set A/D since the guest's value was computed: no change. */
    assert_int_equal(pt_cmpxchg_entry(dom, l1, 1, 4, cur & ~_PAGE_DIRTY, pte(b, PTE_DATA)),
                     -EAGAIN);
    assert_int_equal(harness_table(l1)[4], cur);
    assert_int_equal(type_count(b), 0);
    assert_int_equal(ref_count(b), 1);

    /* Refused exactly as by mmu_update, old entry untouched. */
    assert_int_equal(pt_cmpxchg_entry(dom, l1, 1, 4, cur, pte(l1, PTE_DATA)), -EBUSY);
    assert_int_equal(pt_cmpxchg_entry(dom, l1, 1, 4, cur, pte(b, PTE_DATA | _PAGE_PCD)),
                     -EINVAL);
    assert_int_equal(harness_table(l1)[4], cur);

    /* Accepted: references move from a to b, the entry is adjusted. */
    assert_int_equal(pt_cmpxchg_entry(dom, l1, 1, 4, cur, pte(b, PTE_DATA)), 0);
    assert_int_equal(harness_table(l1)[4], pte(b, PTE_DATA | _PAGE_USER));
    assert_int_equal(type_count(a), 0);
    assert_int_equal(ref_count(a), 1);
    assert_int_equal(type_count(b), 1);
    assert_int_equal(ref_count(b), 2);

    /* Removal drops them. */
    assert_int_equal(pt_cmpxchg_entry(dom, l1, 1, 4, harness_table(l1)[4], 0), 0);
    assert_int_equal(type_count(b), 0);
    assert_int_equal(ref_count(b), 1);
}

static int16_t linear_count(mfn_t mfn)
{
    return frame_table[mfn].linear_count;
}

/* A table mapping itself, read-only: no references, at every level. */
static void linear_self_maps(void **state)
{
    (void)state;
    struct tree t = build_tree(dom);
    harness_table(t.l4)[5] = pte(t.l4, PTE_RO);
    harness_table(t.l2)[6] = pte(t.l2, PTE_RO);

    assert_int_equal(pin(t.l4, 4), 0);
    assert_int_equal(type_count(t.l4), 1);          /* the pin's */
    assert_int_equal(ref_count(t.l4), 2);           /* allocation + pin */
    assert_int_equal(type_count(t.l2), 1);          /* the L3 entry's */
    assert_int_equal(linear_count(t.l4), 0);
    /* Made writable, through the fast path or not: refused. */
    assert_int_equal(pt_mod_entry(dom, t.l4, 4, 5, pte(t.l4, PTE_RO | _PAGE_RW), false),
                     -EINVAL);
    assert_int_equal(pt_mod_entry(dom, t.l3, 3, 7, pte(t.l3, PTE_TABLE), false), -EINVAL);
    assert_int_equal(pt_mod_entry(dom, t.l3, 3, 7, pte(t.l3, PTE_RO), false), 0);
    assert_int_equal(pt_mod_entry(dom, t.l3, 3, 7, 0, false), 0);
    assert_int_equal(pt_unpin(dom, t.l4), 0);
    assert_int_equal(type_count(t.l4), 0);
    assert_int_equal(ref_count(t.l4), 1);
    assert_int_equal(type_count(t.l2), 0);

    /* Writable self-map: the table is refused. */
    harness_table(t.l4)[5] = pte(t.l4, PTE_TABLE);
    assert_int_equal(pin(t.l4, 4), -EINVAL);
    assert_int_equal(ref_count(t.l4), 1);
}

/* One table mapping another of its level: references like an ordinary
 * entry, and never a chain (a table maps linearly or is mapped, not both). */
static void linear_between_tables(void **state)
{
    (void)state;
    struct tree a = build_tree(dom), b = build_tree(dom), c = build_tree(dom);
    assert_int_equal(pin(a.l4, 4), 0);
    assert_int_equal(pin(b.l4, 4), 0);
    assert_int_equal(pin(c.l4, 4), 0);

    assert_int_equal(pt_mod_entry(dom, a.l4, 4, 9, pte(b.l4, PTE_RO), false), 0);
    assert_int_equal(type_count(b.l4), 2);
    assert_int_equal(ref_count(b.l4), 3);
    assert_int_equal(linear_count(a.l4), 1);
    assert_int_equal(linear_count(b.l4), -1);
    /* Writable, or from a table mapped linearly, or to one mapping linearly. */
    assert_int_equal(pt_mod_entry(dom, a.l4, 4, 10, pte(c.l4, PTE_TABLE), false), -EINVAL);
    assert_int_equal(pt_mod_entry(dom, a.l4, 4, 9, pte(b.l4, PTE_RO | _PAGE_RW), false),
                     -EINVAL);
    assert_int_equal(pt_mod_entry(dom, b.l4, 4, 10, pte(c.l4, PTE_RO), false), -EINVAL);
    assert_int_equal(pt_mod_entry(dom, c.l4, 4, 10, pte(a.l4, PTE_RO), false), -EINVAL);
    assert_int_equal(type_count(c.l4), 1);
    assert_int_equal(type_count(a.l4), 1);
    /* Several tables may map the same one. */
    assert_int_equal(pt_mod_entry(dom, c.l4, 4, 10, pte(b.l4, PTE_RO), false), 0);
    assert_int_equal(linear_count(b.l4), -2);
    /* Not a table of the same level, or not validated: an ordinary entry
     * or nothing. */
    assert_int_equal(pt_mod_entry(dom, a.l4, 4, 11, pte(b.l2, PTE_RO), false), -EINVAL);
    mfn_t other = harness_frame(harness_domain(2, 8, 0, false));
    assert_int_equal(pt_mod_entry(dom, a.l4, 4, 11, pte(other, PTE_RO), false), -EINVAL);

    /* L2 and L3 levels work the same way. */
    assert_int_equal(pt_mod_entry(dom, a.l2, 2, 3, pte(b.l2, PTE_RO), false), 0);
    assert_int_equal(type_count(b.l2), 2);
    assert_int_equal(pt_mod_entry(dom, a.l3, 3, 3, pte(b.l3, PTE_RO), false), 0);
    assert_int_equal(linear_count(b.l3), -1);

    /* Removal drops it all. */
    assert_int_equal(pt_mod_entry(dom, a.l4, 4, 9, 0, false), 0);
    assert_int_equal(pt_mod_entry(dom, c.l4, 4, 10, 0, false), 0);
    assert_int_equal(pt_mod_entry(dom, a.l2, 2, 3, 0, false), 0);
    assert_int_equal(linear_count(b.l4), 0);
    assert_int_equal(linear_count(a.l4), 0);
    assert_int_equal(type_count(b.l4), 1);
    assert_int_equal(ref_count(b.l4), 2);
    assert_int_equal(type_count(b.l2), 1);
    /* The L3 one goes with its table's devalidation. */
    assert_int_equal(pt_unpin(dom, a.l4), 0);
    assert_int_equal(linear_count(b.l3), 0);
    assert_int_equal(linear_count(a.l3), 0);
    assert_int_equal(type_count(b.l3), 1);
}

static void linear_tables_are_freed_with_the_domain(void **state)
{
    (void)state;
    uint64_t free_before = frames_free();
    struct domain *d = harness_domain(3, 32, 0, false);
    struct tree a = build_tree(d), b = build_tree(d);
    harness_table(a.l4)[5] = pte(a.l4, PTE_RO);
    spin_lock(&d->mm_lock);
    assert_int_equal(pt_pin(d, b.l4, PGT_l4), 0);
    harness_table(a.l4)[6] = pte(b.l4, PTE_RO);
    assert_int_equal(pt_pin(d, a.l4, PGT_l4), 0);
    spin_unlock(&d->mm_lock);
    assert_int_equal(linear_count(b.l4), -1);

    domain_relinquish_memory(d);
    assert_int_equal(d->tot_pages, 0);
    assert_int_equal(frames_free(), free_before);
}

static void writable_to_table_flushes_the_tlb(void **state)
{
    (void)state;
    mfn_t l1 = harness_frame(dom), page = harness_frame(dom);
    harness_table(l1)[0] = pte(page, PTE_DATA);
    assert_int_equal(pin(l1, 1), 0);
    assert_int_equal(pt_mod_entry(dom, l1, 1, 0, 0, false), 0);
    assert_int_equal(type_of(page), PGT_writable);

    unsigned int before = test_cr3_loads;
    assert_int_equal(pin(page, 1), 0);
    assert_true(test_cr3_loads > before);
    /* No flush for a frame that was never writable-typed again. */
    assert_int_equal(pt_unpin(dom, page), 0);
    before = test_cr3_loads;
    assert_int_equal(pin(page, 1), 0);
    assert_int_equal(test_cr3_loads, before);
}

static void relinquish_frees_everything(void **state)
{
    (void)state;
    uint64_t free_before = frames_free();
    struct domain *d = harness_domain(3, 32, 4, false);
    struct tree t = build_tree(d);
    struct vcpu *v = d->vcpus[0];
    spin_lock(&d->mm_lock);
    assert_int_equal(pt_pin(d, t.l2, PGT_l2), 0);
    spin_unlock(&d->mm_lock);
    assert_int_equal(vcpu_set_guest_table(v, t.l4, false), 0);
    assert_int_equal(vcpu_set_guest_table(v, t.l4, true), 0);
    assert_int_equal(type_count(t.l4), 2);
    machine_to_phys[t.data] = 9;

    domain_relinquish_memory(d);
    assert_int_equal(d->tot_pages, 0);
    assert_true(list_empty(&d->page_list));
    assert_int_equal(v->guest_table, 0);
    assert_int_equal(frames_free(), free_before);
    assert_int_equal(frame_table[t.l1].owner, OWNER_NONE);
    assert_int_equal(frame_table[t.l1].type_info, 0);
    assert_int_equal(machine_to_phys[t.data], INVALID_M2P_ENTRY);
}

/* Teardown frees its frames after one TLB flush per step of up to
 * TEARDOWN_MAX_SCRUBS, not one each (a 256 MiB domain took 6 s on 2 CPUs
 * that way, found with GRUB's PV port booting Linux); a frame released
 * later by another holder still gets its own flush before it is free. */
static void relinquish_flushes_once(void **state)
{
    (void)state;
    uint64_t free_before = frames_free();
    struct domain *d = harness_domain(3, 400, 300, false);
    struct tree t = build_tree(d);
    spin_lock(&d->mm_lock);
    assert_int_equal(pt_pin(d, t.l4, PGT_l4), 0);
    spin_unlock(&d->mm_lock);
    mfn_t held = harness_frame(d);
    assert_int_equal(get_page(held, d), 0);            /* like a foreign mapping */

    unsigned int before = test_cr3_loads;
    uint64_t frames = d->tot_pages;
    domain_relinquish_memory(d);
    assert_int_equal(test_cr3_loads - before,
                     (frames + TEARDOWN_MAX_SCRUBS - 1) / TEARDOWN_MAX_SCRUBS);
    assert_int_equal(frames_free(), free_before - 1);
    assert_int_equal(frame_table[t.l1].owner, OWNER_NONE);
    assert_int_equal(frame_table[held].owner, OWNER_HV);

    before = test_cr3_loads;
    put_page(held);
    assert_int_equal(test_cr3_loads - before, 1);
    assert_int_equal(frames_free(), free_before);
}

/* Teardown in bounded steps (mm_teardown.c): with other work pending at
 * every check, a step stops after TEARDOWN_MIN_FRAMES frames; the end is
 * the one-go end: every frame free, the tables' references all dropped
 * (an L1 full of writable mappings, a linear L4 entry, two pins). */
static void relinquish_in_steps(void **state)
{
    (void)state;
    uint64_t free_before = frames_free();
    struct domain *d = harness_domain(3, 900, 0, false);
    struct tree t = build_tree(d);
    for (unsigned int i = 1; i < PT_ENTRIES; i++)
        harness_table(t.l1)[i] = pte(harness_frame(d), PTE_DATA);
    harness_table(t.l4)[7] = pte(t.l4, PTE_RO);         /* linear, to itself */
    spin_lock(&d->mm_lock);
    assert_int_equal(pt_pin(d, t.l4, PGT_l4), 0);
    assert_int_equal(pt_pin(d, t.l2, PGT_l2), 0);
    spin_unlock(&d->mm_lock);
    assert_int_equal(vcpu_set_guest_table(d->vcpus[0], t.l4, false), 0);
    uint64_t frames = d->tot_pages;
    assert_true(frames > 2 * TEARDOWN_MIN_FRAMES);

    harness_preempt_every = 1;
    unsigned int steps = 1;
    while (!domain_relinquish_memory_step(d))
        steps++;
    harness_preempt_every = 0;
    /* Seven passes over every frame, TEARDOWN_MIN_FRAMES a step. */
    assert_true(steps >= 6 * frames / TEARDOWN_MIN_FRAMES);
    assert_int_equal(d->tot_pages, 0);
    assert_true(list_empty(&d->page_list));
    assert_int_equal(frames_free(), free_before);
    assert_int_equal(frame_table[t.l1].type_info, 0);
    assert_int_equal(frame_table[t.l4].owner, OWNER_NONE);
}

static void relinquish_orphans_frames_referenced_elsewhere(void **state)
{
    (void)state;
    uint64_t free_before = frames_free();
    struct domain *d = harness_domain(3, 32, 0, false);
    mfn_t info = harness_frame(d);
    /* Like a registered vcpu_info the vCPU code still holds. */
    assert_int_equal(get_page_and_type(info, d, PGT_writable), 0);

    domain_relinquish_memory(d);
    assert_int_equal(d->tot_pages, 0);
    assert_int_equal(frame_table[info].owner, OWNER_HV);  /* no new domain 3 can map it */
    assert_int_equal(frames_free(), free_before - 1);
    put_page_and_type(info);
    assert_int_equal(frames_free(), free_before);
}

static void guest_table_switch(void **state)
{
    (void)state;
    struct tree t = build_tree(dom);
    mfn_t l4b = harness_frame(dom);
    struct vcpu *v = dom->vcpus[0];

    assert_int_equal(pin(t.l1, 1), 0);                  /* data is now mapped writable */
    assert_int_equal(vcpu_set_guest_table(v, t.data, false), -EINVAL);
    assert_int_equal(vcpu_set_guest_table(v, 0, false), -EINVAL);
    assert_int_equal(vcpu_set_guest_table(v, t.l4, false), 0);
    assert_int_equal(test_cr3, t.l4 << PAGE_SHIFT);     /* current, kernel mode */
    assert_int_equal(type_count(t.l4), 1);

    assert_int_equal(vcpu_set_guest_table(v, l4b, false), 0);
    assert_int_equal(test_cr3, l4b << PAGE_SHIFT);
    assert_int_equal(type_count(t.l4), 0);
    assert_int_equal(type_count(t.l3), 0);
    assert_int_equal(type_count(t.l1), 1);              /* its pin */

    /* The user table does not touch CR3 while in kernel mode. */
    assert_int_equal(vcpu_set_guest_table(v, t.l4, true), 0);
    assert_int_equal(test_cr3, l4b << PAGE_SHIFT);
    assert_int_equal(vcpu_set_guest_table(v, 0, true), 0);
    assert_int_equal(v->guest_table_user, 0);
    assert_int_equal(type_count(t.l4), 0);
}

static void reservation_limit_and_frame_lifetime(void **state)
{
    (void)state;
    struct domain *d = harness_domain(4, 3, 3, false);
    assert_int_equal(alloc_domain_frame(d), -ENOMEM);
    assert_int_equal(d->tot_pages, 3);

    mfn_t m = list_entry(d->page_list.next, struct page_info, list) - frame_table;
    assert_int_equal(get_page(m, d), 0);
    assert_int_equal(get_page(m, dom), -EINVAL);
    assert_int_equal(get_page(TEST_FRAMES, d), -EINVAL);
    uint64_t free_before = frames_free();
    frame_table[m].flags &= ~PGF_ALLOCATED;
    put_page(m);                                    /* the allocation's */
    assert_int_equal(frames_free(), free_before);   /* still referenced */
    put_page(m);
    assert_int_equal(frames_free(), free_before + 1);
    assert_int_equal(d->tot_pages, 2);
    assert_int_equal(get_page(m, d), -EINVAL);
}

static void m2p_is_mapped_read_only_for_guests(void **state)
{
    (void)state;
    uint64_t e = idle_l4()[HV_FIRST_L4_SLOT];
    for (int shift = L3_SHIFT; shift >= L1_SHIFT; shift -= 9) {
        assert_true(e & _PAGE_PRESENT);
        assert_true(e & _PAGE_USER);
        e = ((uint64_t *)__va(e & PTE_ADDR_MASK))[0];
    }
    assert_true(e & _PAGE_PRESENT);
    assert_true(e & _PAGE_USER);
    assert_false(e & _PAGE_RW);
    assert_int_equal(pte_mfn(e), m2p_first_mfn());
    assert_int_equal(m2p_nr_frames(), TEST_FRAMES * 8 / PAGE_SIZE);
    assert_int_equal(machine_to_phys[TEST_FRAMES - 1], INVALID_M2P_ENTRY);
    /* The other hypervisor slots stay supervisor-only. */
    assert_false(idle_l4()[TEST_HV_SLOT] & _PAGE_USER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(pin_each_level_then_unpin),
        T(writable_mapping_of_a_table_is_refused),
        T(frames_of_others_and_non_ram_are_refused),
        T(forbidden_flags_per_level),
        T(hypervisor_slots_cannot_be_written),
        T(table_referenced_twice),
        T(live_update_swaps_references),
        T(cmpxchg_update_checks_like_mod_entry),
        T(linear_self_maps),
        T(linear_between_tables),
        T(linear_tables_are_freed_with_the_domain),
        T(writable_to_table_flushes_the_tlb),
        T(relinquish_frees_everything),
        T(relinquish_flushes_once),
        T(relinquish_orphans_frames_referenced_elsewhere),
        T(relinquish_in_steps),
        T(guest_table_switch),
        T(reservation_limit_and_frame_lifetime),
        T(m2p_is_mapped_read_only_for_guests),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
