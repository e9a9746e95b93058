/* Host unit tests of the grant tables (common/grant_table.c) with the page
 * types and page-table code under them, on tests/unit/mm's harness: guest
 * structures in host memory, machine frames of the harness.
 *
 * Domain 1 ("granter", also the current vCPU unless a test makes a second
 * domain current) has kernel page tables L4 -> L3 -> L2 -> L1 mapping the
 * first 2 MiB; TEST_VA is a free page of it for host mappings. */
#include <public/memory.h>

#include "harness.h"
#include "hv/grant_table.h"
#include "../../../hypervisor/common/grant_priv.h"     /* white-box checks only */
#include "hv/pagetype.h"

#define BAD_PTR       TEST_UNMAPPED_VA      /* copies from/to it fault */
#define HV_PTR        0xffff800000001000UL  /* in the hypervisor's slots */
#define VA_INDEX      5
#define TEST_VA       (VA_INDEX * PAGE_SIZE)
#define STATUS_MAX    4                     /* status frames of a 32-frame v2 table */

static struct domain *dom;
static mfn_t l4, l3, l2, l1;
static struct grant_entry_v1 *entries;      /* dom's first table frame */
static xen_pfn_t table_frames[GNTTAB_MAX_FRAMES];

/* The harness has no free_hv_page (mm/frame.c's): the same, on its heap. */
void free_hv_page(void *va)
{
    free_frames(virt_to_mfn(va), 0);
}

static long gnt(unsigned int cmd, void *op, unsigned int count)
{
    return do_grant_table_op(cmd, (uint64_t)op, count);
}

static struct gnttab_setup_table setup(domid_t dom_id, uint32_t nr, xen_pfn_t *list, long *rc)
{
    struct gnttab_setup_table op = { .dom = dom_id, .nr_frames = nr, .status = 99,
                                     .frame_list = (uint64_t)list };
    *rc = gnt(GNTTABOP_setup_table, &op, 1);
    return op;
}

/* Page tables for d, current or not; returns its L1. */
static mfn_t make_tables(struct domain *d)
{
    mfn_t t4 = harness_frame(d), t3 = harness_frame(d), t2 = harness_frame(d);
    mfn_t t1 = harness_frame(d);
    harness_table(t4)[0] = pte(t3, PTE_TABLE);
    harness_table(t3)[0] = pte(t2, PTE_TABLE);
    harness_table(t2)[0] = pte(t1, PTE_TABLE);
    assert_int_equal(vcpu_set_guest_table(d->vcpus[0], t4, false), 0);
    if (d == dom)
        l4 = t4, l3 = t3, l2 = t2;
    return t1;
}

static int setup_dom(void **state)
{
    long rc;
    (void)state;
    harness_init();
    dom = harness_domain(1, 64, 0, true);
    assert_int_equal(gnttab_init(dom), 0);
    l1 = make_tables(dom);
    struct gnttab_setup_table op = setup(DOMID_SELF, 1, table_frames, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(op.status, GNTST_okay);
    entries = mfn_to_virt(table_frames[0]);
    return 0;
}

static int teardown_dom(void **state)
{
    (void)state;
    for (domid_t id = 0; id < 8; id++)
        if (domain_by_id(id))
            gnttab_destroy(domain_by_id(id));
    harness_fini();
    return 0;
}

static void grant(grant_ref_t ref, domid_t to, mfn_t frame, uint16_t flags)
{
    entries[ref].domid = to;
    entries[ref].frame = (uint32_t)frame;
    __atomic_store_n(&entries[ref].flags, flags, __ATOMIC_RELEASE);
}

/* What a guest's gnttab_end_foreign_access_ref does: true if it ended. */
static bool end_access(grant_ref_t ref)
{
    uint16_t expect = entries[ref].flags & ~(GTF_reading | GTF_writing);
    if (entries[ref].flags & (GTF_reading | GTF_writing))
        return false;
    return __atomic_compare_exchange_n(&entries[ref].flags, &expect, 0, false,
                                       __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

static int16_t map1(domid_t from, grant_ref_t ref, uint32_t flags, uint64_t va,
                    grant_handle_t *handle)
{
    struct gnttab_map_grant_ref op = { .host_addr = va, .flags = flags, .ref = ref,
                                       .dom = from, .status = 99 };
    assert_int_equal(gnt(GNTTABOP_map_grant_ref, &op, 1), 0);
    if (handle)
        *handle = op.handle;
    return op.status;
}

static int16_t unmap1(grant_handle_t handle, uint64_t va)
{
    struct gnttab_unmap_grant_ref op = { .host_addr = va, .handle = handle, .status = 99 };
    assert_int_equal(gnt(GNTTABOP_unmap_grant_ref, &op, 1), 0);
    return op.status;
}

/* A copy operation: flags, source (frame or ref, domid, offset), dest, len. */
#define copy_op(fl, src, sdom, soff, dst, ddom, doff, n)                                  \
    ((struct gnttab_copy){ .source = { .u.gmfn = (src), .domid = (sdom), .offset = (soff) }, \
                           .dest = { .u.gmfn = (dst), .domid = (ddom), .offset = (doff) },   \
                           .len = (n), .flags = (fl), .status = 99 })

/* Each copy's status is the one wanted (the index names the copy). */
static void assert_statuses(const struct gnttab_copy *ops, const int16_t *want, unsigned int n)
{
    for (unsigned int i = 0; i < n; i++) {
        if (ops[i].status != want[i])
            fail_msg("copy %u: status %d, expected %d", i, ops[i].status, want[i]);
    }
}

/* ---- table setup, sizes, versions ---------------------------------- */

static void setup_table_shares_frames_the_domain_cannot_make_tables(void **state)
{
    xen_pfn_t list[GNTTAB_MAX_FRAMES + 1];
    long rc;
    (void)state;

    struct gnttab_query_size q = { .dom = DOMID_SELF, .status = 99 };
    assert_int_equal(gnt(GNTTABOP_query_size, &q, 1), 0);
    assert_int_equal(q.status, GNTST_okay);
    assert_int_equal(q.nr_frames, GNTTAB_DEFAULT_FRAMES);
    assert_int_equal(q.max_nr_frames, GNTTAB_MAX_FRAMES);

    struct gnttab_setup_table op = setup(dom->id, 8, list, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(op.status, GNTST_okay);
    assert_int_equal(list[0], table_frames[0]);
    q.nr_frames = 0;
    assert_int_equal(gnt(GNTTABOP_query_size, &q, 1), 0);
    assert_int_equal(q.nr_frames, 8);
    for (unsigned int i = 0; i < 8; i++) {
        assert_int_equal(frame_table[list[i]].owner, dom->id);
        assert_int_equal(type_of(list[i]), PGT_writable);
        /* The guest may map it writable, never pin it as a table. */
        assert_int_equal(get_page_and_type(list[i], dom, PGT_writable), 0);
        put_page_and_type(list[i]);
        assert_int_not_equal(get_page_and_type(list[i], dom, PGT_l1), 0);
    }

    op = setup(DOMID_SELF, GNTTAB_MAX_FRAMES + 1, list, &rc);
    assert_int_equal(op.status, GNTST_general_error);
    op = setup(DOMID_SELF, 1, (xen_pfn_t *)BAD_PTR, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(op.status, GNTST_bad_virt_addr);
    setup(DOMID_SELF, 1, (xen_pfn_t *)HV_PTR, &rc);
    assert_int_equal(rc, -EFAULT);

    harness_domain(2, 16, 0, false);
    op = setup(2, 1, list, &rc);
    assert_int_equal(op.status, GNTST_permission_denied);
    op = setup(5, 1, list, &rc);
    assert_int_equal(op.status, GNTST_bad_domain);
    q.dom = 5;
    assert_int_equal(gnt(GNTTABOP_query_size, &q, 1), 0);
    assert_int_equal(q.status, GNTST_bad_domain);

    assert_int_equal(gnt(GNTTABOP_setup_table, &op, 2), -EINVAL);
    assert_int_equal(gnt(GNTTABOP_query_size, &q, 0), -EINVAL);
    assert_int_equal(gnt(GNTTABOP_setup_table, (void *)BAD_PTR, 1), -EFAULT);
    assert_int_equal(gnt(GNTTABOP_query_size, (void *)BAD_PTR, 1), -EFAULT);
}

static long set_version(uint32_t version, uint32_t *in_force)
{
    struct gnttab_set_version sv = { .version = version };
    long rc = gnt(GNTTABOP_set_version, &sv, 1);
    if (in_force)
        *in_force = sv.version;
    return rc;
}

static uint32_t get_version(void)
{
    struct gnttab_get_version gv = { .dom = DOMID_SELF };
    assert_int_equal(gnt(GNTTABOP_get_version, &gv, 1), 0);
    return gv.version;
}

static struct gnttab_get_status_frames status_frames(uint32_t nr, uint64_t *list, long *rc)
{
    struct gnttab_get_status_frames op = { .nr_frames = nr, .dom = DOMID_SELF, .status = 99,
                                           .frame_list = (uint64_t)list };
    *rc = gnt(GNTTABOP_get_status_frames, &op, 1);
    return op;
}

/* A v2 entry of dom's table (after set_version(2)). */
static union grant_entry_v2 *entry_v2(grant_ref_t ref)
{
    return (union grant_entry_v2 *)entries + ref;
}

static void grant_v2(grant_ref_t ref, domid_t to, mfn_t frame, uint16_t flags)
{
    entry_v2(ref)->hdr.domid = to;
    entry_v2(ref)->full_page.frame = frame;
    __atomic_store_n(&entry_v2(ref)->hdr.flags, flags, __ATOMIC_RELEASE);
}

static void grant_sub_page(grant_ref_t ref, domid_t to, mfn_t frame, uint16_t off, uint16_t len,
                           uint16_t flags)
{
    entry_v2(ref)->sub_page.page_off = off;
    entry_v2(ref)->sub_page.length = len;
    grant_v2(ref, to, frame, GTF_permit_access | GTF_sub_page | flags);
}

static void versions_and_other_ops(void **state)
{
    (void)state;
    uint32_t v;
    assert_int_equal(set_version(1, &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(set_version(3, &v), -EINVAL);
    assert_int_equal(v, 1);                             /* the version in force */
    assert_int_equal(gnt(GNTTABOP_set_version, (void *)BAD_PTR, 1), -EFAULT);
    assert_int_equal(get_version(), 1);

    struct gnttab_get_version gv = { .dom = 2 };
    harness_domain(2, 16, 0, false);
    assert_int_equal(gnt(GNTTABOP_get_version, &gv, 1), -EPERM);
    gv.dom = 6;
    assert_int_equal(gnt(GNTTABOP_get_version, &gv, 1), -ESRCH);
    assert_int_equal(gnt(GNTTABOP_get_version, (void *)BAD_PTR, 1), -EFAULT);
    assert_int_equal(gnt(GNTTABOP_transfer, &gv, 1), -ENOSYS);
    assert_int_equal(gnt(GNTTABOP_swap_grant_ref, &gv, 1), -ENOSYS);
    assert_int_equal(gnt(GNTTABOP_map_grant_ref | (1u << 12), &gv, 1), -EINVAL);
    assert_int_equal(gnt(GNTTABOP_map_grant_ref, &gv, 0x80000000u), -EINVAL);
    /* No bound on a batch (it continues, hv/batch.h): only its array is checked. */
    assert_int_equal(gnt(GNTTABOP_map_grant_ref, (void *)BAD_PTR, GNTTAB_MAX_OPS + 1), -EFAULT);
    assert_int_equal(gnt(GNTTABOP_unmap_and_replace, (void *)BAD_PTR, 1), -EFAULT);
}

static void version_2_shares_status_frames(void **state)
{
    (void)state;
    uint64_t list[STATUS_MAX + 1];
    uint32_t v;
    long rc;

    /* v1 has no status frames. */
    struct gnttab_get_status_frames sf = status_frames(1, list, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(sf.status, GNTST_general_error);
    sf = status_frames(0, list, &rc);
    assert_int_equal(sf.status, GNTST_okay);

    assert_int_equal(set_version(2, &v), 0);
    assert_int_equal(v, 2);
    assert_int_equal(get_version(), 2);
    assert_int_equal(set_version(2, &v), 0);            /* again: nothing to do */
    /* 4 table frames of 256 v2 entries: one status frame of 2048. */
    sf = status_frames(1, list, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(sf.status, GNTST_okay);
    mfn_t st = list[0];
    assert_int_equal(frame_table[st].owner, dom->id);
    assert_int_equal(type_of(st), PGT_writable);
    assert_int_equal(status_frames(2, list, &rc).status, GNTST_general_error);
    assert_int_equal(status_frames(1, (uint64_t *)BAD_PTR, &rc).status, GNTST_bad_virt_addr);
    assert_int_equal(gnt(GNTTABOP_get_status_frames, &sf, 2), -EINVAL);
    assert_int_equal(gnt(GNTTABOP_get_status_frames, (void *)BAD_PTR, 1), -EFAULT);
    sf.dom = 5;
    assert_int_equal(gnt(GNTTABOP_get_status_frames, &sf, 1), 0);
    assert_int_equal(sf.status, GNTST_bad_domain);

    /* Growing the table grows the status frames with it. */
    xen_pfn_t frames[GNTTAB_MAX_FRAMES];
    assert_int_equal(setup(DOMID_SELF, 9, frames, &rc).status, GNTST_okay);
    assert_int_equal(status_frames(2, list, &rc).status, GNTST_okay);
    assert_int_equal(list[0], st);
    assert_int_equal(status_frames(3, list, &rc).status, GNTST_general_error);

    /* Back to v1 only while the domain maps no status frame. */
    assert_int_equal(get_page(st, dom), 0);
    assert_int_equal(set_version(1, &v), -EBUSY);
    assert_int_equal(v, 2);
    assert_int_equal(frame_table[st].owner, dom->id);
    put_page(st);
    uint64_t free_before = frames_free();
    assert_int_equal(set_version(1, &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(frames_free(), free_before + 2);   /* both status frames freed */
    assert_int_equal(status_frames(1, list, &rc).status, GNTST_general_error);
}

/* A domain destroyed in v2 while it maps a status frame: the frame goes
 * with the last reference, like the table frames. */
static void status_frame_outlives_the_table_while_mapped(void **state)
{
    (void)state;
    uint64_t list[1];
    long rc;

    assert_int_equal(set_version(2, NULL), 0);
    assert_int_equal(status_frames(1, list, &rc).status, GNTST_okay);
    mfn_t st = list[0];
    assert_int_equal(get_page(st, dom), 0);             /* the domain's mapping */
    gnttab_destroy(dom);
    assert_int_equal(frame_table[st].owner, OWNER_HV);
    assert_int_equal(ref_count(st), 1);
    uint64_t free_before = frames_free();
    put_page(st);
    assert_int_equal(frames_free(), free_before + 1);
}

static void version_switch_refused_while_grants_are_in_use(void **state)
{
    (void)state;
    mfn_t f = harness_frame(dom);
    grant_handle_t h;
    uint32_t v;

    grant(8, dom->id, f, GTF_permit_access);
    assert_int_equal(map1(dom->id, 8, GNTMAP_host_map, TEST_VA, &h), GNTST_okay);
    assert_int_equal(set_version(2, &v), -EBUSY);
    assert_int_equal(v, 1);
    assert_int_equal(entries[8].flags, GTF_permit_access | GTF_reading | GTF_writing);
    assert_int_equal(unmap1(h, TEST_VA), GNTST_okay);

    /* The toolstack's entries (0-7) may be in use; they are carried over
     * with their status, every other entry is cleared. */
    grant(2, dom->id, f, GTF_permit_access | GTF_readonly);
    assert_int_equal(map1(dom->id, 2, GNTMAP_host_map | GNTMAP_readonly, TEST_VA, &h),
                     GNTST_okay);
    assert_int_equal(set_version(2, &v), 0);
    assert_int_equal(entry_v2(2)->hdr.flags, GTF_permit_access | GTF_readonly);
    assert_int_equal(entry_v2(2)->hdr.domid, dom->id);
    assert_int_equal(entry_v2(2)->full_page.frame, f);
    assert_int_equal(entry_v2(4)->hdr.flags, 0);        /* v1 entry 8 is cleared */
    uint64_t list[1];
    long rc;
    assert_int_equal(status_frames(1, list, &rc).status, GNTST_okay);
    grant_status_t *status = mfn_to_virt(list[0]);
    assert_int_equal(status[2], GTF_reading);

    /* v2 -> v1 needs entries v1 can say. */
    grant_v2(3, dom->id, 1ULL << 32, GTF_permit_access);
    assert_int_equal(set_version(1, &v), -ERANGE);
    grant_v2(3, dom->id, 0, GTF_transitive);
    assert_int_equal(set_version(1, &v), -ERANGE);
    assert_int_equal(v, 2);
    grant_v2(3, 0, 0, GTF_invalid);
    assert_int_equal(set_version(1, &v), 0);
    assert_int_equal(entries[2].flags, GTF_permit_access | GTF_readonly | GTF_reading);
    assert_int_equal(entries[2].frame, f);
    /* The pin made in v1, carried through v2, is released in v1. */
    assert_int_equal(unmap1(h, TEST_VA), GNTST_okay);
    assert_int_equal(entries[2].flags, GTF_permit_access | GTF_readonly);
    assert_int_equal(ref_count(f), 1);
}

static void version_2_grants_and_their_status(void **state)
{
    (void)state;
    mfn_t f = harness_frame(dom);
    grant_handle_t h;
    uint64_t list[1];
    long rc;

    assert_int_equal(set_version(2, NULL), 0);
    assert_int_equal(status_frames(1, list, &rc).status, GNTST_okay);
    grant_status_t *status = mfn_to_virt(list[0]);

    grant_v2(10, dom->id, f, GTF_permit_access);
    assert_int_equal(map1(dom->id, 10, GNTMAP_host_map, TEST_VA, &h), GNTST_okay);
    assert_int_equal(harness_table(l1)[VA_INDEX] & PTE_ADDR_MASK, f << PAGE_SHIFT);
    assert_int_equal(status[10], GTF_reading | GTF_writing);
    assert_int_equal(entry_v2(10)->hdr.flags, GTF_permit_access);   /* header untouched */
    assert_int_equal(ref_count(f), 2);
    assert_int_equal(unmap1(h, TEST_VA), GNTST_okay);
    assert_int_equal(status[10], 0);
    assert_int_equal(ref_count(f), 1);

    /* Read-only, to someone else, not a frame of ours, above 2^32. */
    grant_v2(11, dom->id, f, GTF_permit_access | GTF_readonly);
    assert_int_equal(map1(dom->id, 11, GNTMAP_host_map, TEST_VA, NULL), GNTST_general_error);
    assert_int_equal(status[11], 0);
    assert_int_equal(map1(dom->id, 11, GNTMAP_host_map | GNTMAP_readonly, TEST_VA, &h),
                     GNTST_okay);
    assert_int_equal(status[11], GTF_reading);
    assert_int_equal(unmap1(h, TEST_VA), GNTST_okay);
    grant_v2(12, 2, f, GTF_permit_access);
    harness_domain(2, 16, 0, false);
    assert_int_equal(map1(dom->id, 12, GNTMAP_host_map, TEST_VA, NULL), GNTST_general_error);
    grant_v2(13, dom->id, f | (1ULL << 40), GTF_permit_access);
    assert_int_equal(map1(dom->id, 13, GNTMAP_host_map, TEST_VA, NULL), GNTST_bad_page);
    assert_int_equal(status[13], 0);
    /* Sub-page and transitive grants are never mapped. */
    grant_sub_page(14, dom->id, f, 0, PAGE_SIZE, 0);
    assert_int_equal(map1(dom->id, 14, GNTMAP_host_map, TEST_VA, NULL), GNTST_general_error);
    entry_v2(15)->transitive.trans_domid = dom->id;
    entry_v2(15)->transitive.gref = 10;
    entry_v2(15)->hdr.domid = dom->id;
    __atomic_store_n(&entry_v2(15)->hdr.flags, GTF_transitive, __ATOMIC_RELEASE);
    assert_int_equal(map1(dom->id, 15, GNTMAP_host_map, TEST_VA, NULL), GNTST_general_error);
    assert_int_equal(status[14] | status[15], 0);
    assert_int_equal(harness_table(l1)[VA_INDEX], 0);
    /* Refs count v2 entries: 4 frames of 256. */
    assert_int_equal(map1(dom->id, 4 * 256, GNTMAP_host_map, TEST_VA, NULL), GNTST_bad_gntref);
}

static void version_2_sub_page_copies_stay_in_their_window(void **state)
{
    (void)state;
    mfn_t a = harness_frame(dom), b = harness_frame(dom);
    uint8_t *pa = mfn_to_virt(a), *pb = mfn_to_virt(b);
    const uint16_t both = GNTCOPY_source_gref | GNTCOPY_dest_gref;
    uint64_t list[1];
    long rc;

    for (unsigned int i = 0; i < PAGE_SIZE; i++)
        pa[i] = (uint8_t)(i * 3);
    assert_int_equal(set_version(2, NULL), 0);
    assert_int_equal(status_frames(1, list, &rc).status, GNTST_okay);
    grant_status_t *status = mfn_to_virt(list[0]);
    grant_sub_page(20, dom->id, a, 100, 200, GTF_readonly);
    grant_sub_page(21, dom->id, b, 1000, 64, 0);
    grant_v2(22, dom->id, b, GTF_permit_access);
    entry_v2(23)->transitive.trans_domid = dom->id;
    entry_v2(23)->transitive.gref = 22;
    entry_v2(23)->hdr.domid = dom->id;
    __atomic_store_n(&entry_v2(23)->hdr.flags, GTF_transitive, __ATOMIC_RELEASE);
    struct gnttab_copy ops[7] = {
        copy_op(both, 20, dom->id, 100, 22, dom->id, 0, 200),      /* the whole window */
        copy_op(both, 20, dom->id, 150, 21, dom->id, 1000, 64),    /* into a window */
        copy_op(both, 20, dom->id, 99, 22, dom->id, 0, 8),         /* starts before */
        copy_op(both, 20, dom->id, 250, 22, dom->id, 0, 51),       /* ends after */
        copy_op(both, 22, dom->id, 0, 21, dom->id, 1001, 64),      /* dest ends after */
        copy_op(both, 20, dom->id, 4000, 22, dom->id, 0, 200),     /* beyond the page */
        copy_op(both, 23, dom->id, 0, 22, dom->id, 0, 8),          /* transitive */
    };
    assert_int_equal(gnt(GNTTABOP_copy, ops, 7), 0);
    const int16_t want[7] = { GNTST_okay, GNTST_okay, GNTST_general_error, GNTST_general_error,
                              GNTST_general_error, GNTST_bad_copy_arg, GNTST_general_error };
    assert_statuses(ops, want, 7);
    assert_memory_equal(pb + 1000, pa + 150, 64);
    assert_memory_equal(pb, pa + 100, 200);
    for (grant_ref_t r = 20; r <= 23; r++)
        assert_int_equal(status[r], 0);
    assert_int_equal(ref_count(a), 1);
    assert_int_equal(ref_count(b), 1);
    assert_int_equal(type_count(b), 0);
}

/* ---- map / unmap ------------------------------------------------------ */

static void host_map_keeps_flags_and_frame_until_unmapped(void **state)
{
    (void)state;
    mfn_t f = harness_frame(dom);
    grant_handle_t h;

    grant(10, dom->id, f, GTF_permit_access);
    assert_int_equal(map1(dom->id, 10, GNTMAP_host_map, TEST_VA + 0x123, &h), GNTST_okay);
    assert_int_equal(harness_table(l1)[VA_INDEX],
                     pte(f, _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_USER |
                         PTE_GRANT | _PAGE_NX));
    assert_int_equal(entries[10].flags, GTF_permit_access | GTF_reading | GTF_writing);
    assert_int_equal(ref_count(f), 2);
    assert_int_equal(type_of(f), PGT_writable);
    assert_int_equal(type_count(f), 1);
    assert_false(end_access(10));

    /* The guest cannot take the entry away behind the grant code's back. */
    struct mmu_update req = { (l1 << PAGE_SHIFT) + VA_INDEX * 8, 0 };
    uint32_t done;
    assert_int_equal(do_mmu_update((uint64_t)&req, 1, (uint64_t)&done, DOMID_SELF), -EPERM);
    assert_int_equal(do_update_va_mapping(TEST_VA, 0, 0), -EPERM);
    /* ... nor forge one. */
    req.ptr += 8;
    req.val = pte(f, PTE_RO | PTE_GRANT);
    assert_int_equal(do_mmu_update((uint64_t)&req, 1, (uint64_t)&done, DOMID_SELF), -EINVAL);
    /* A second mapping at the same place is refused. */
    assert_int_equal(map1(dom->id, 10, GNTMAP_host_map, TEST_VA, NULL), GNTST_general_error);
    assert_int_equal(entries[10].flags, GTF_permit_access | GTF_reading | GTF_writing);

    assert_int_equal(unmap1(h, TEST_VA + PAGE_SIZE), GNTST_general_error);
    assert_int_equal(unmap1(h + 1, TEST_VA), GNTST_bad_handle);
    assert_int_equal(unmap1(h, TEST_VA), GNTST_okay);
    assert_int_equal(harness_table(l1)[VA_INDEX], 0);
    assert_int_equal(entries[10].flags, GTF_permit_access);
    assert_int_equal(ref_count(f), 1);
    assert_int_equal(type_count(f), 0);
    assert_int_equal(unmap1(h, TEST_VA), GNTST_bad_handle);
    assert_true(end_access(10));
}

static void readonly_grants_and_pin_counts(void **state)
{
    (void)state;
    mfn_t f = harness_frame(dom);
    grant_handle_t ro, rw, dev;

    grant(11, dom->id, f, GTF_permit_access | GTF_readonly);
    assert_int_equal(map1(dom->id, 11, GNTMAP_host_map, TEST_VA, NULL), GNTST_general_error);
    assert_int_equal(entries[11].flags, GTF_permit_access | GTF_readonly);
    assert_int_equal(ref_count(f), 1);
    assert_int_equal(map1(dom->id, 11, GNTMAP_host_map | GNTMAP_readonly, TEST_VA, &ro),
                     GNTST_okay);
    assert_int_equal(harness_table(l1)[VA_INDEX] & _PAGE_RW, 0);
    assert_int_equal(entries[11].flags, GTF_permit_access | GTF_readonly | GTF_reading);
    assert_int_equal(type_count(f), 0);
    assert_int_equal(unmap1(ro, TEST_VA), GNTST_okay);

    /* Writers and readers: GTF_writing goes with the last writer,
     * GTF_reading with the last mapping. */
    grant(12, dom->id, f, GTF_permit_access);
    assert_int_equal(map1(dom->id, 12, GNTMAP_host_map | GNTMAP_readonly, TEST_VA, &ro),
                     GNTST_okay);
    assert_int_equal(map1(dom->id, 12, GNTMAP_device_map, 0, &dev), GNTST_okay);
    assert_int_equal(map1(dom->id, 12, GNTMAP_host_map, TEST_VA + PAGE_SIZE, &rw), GNTST_okay);
    assert_int_equal(entries[12].flags, GTF_permit_access | GTF_reading | GTF_writing);
    assert_int_equal(ref_count(f), 4);
    assert_int_equal(unmap1(rw, TEST_VA + PAGE_SIZE), GNTST_okay);
    assert_int_equal(entries[12].flags, GTF_permit_access | GTF_reading | GTF_writing);
    struct gnttab_unmap_grant_ref u = { .dev_bus_addr = (f + 1) << PAGE_SHIFT, .handle = dev };
    assert_int_equal(gnt(GNTTABOP_unmap_grant_ref, &u, 1), 0);
    assert_int_equal(u.status, GNTST_bad_dev_addr);
    u.dev_bus_addr = f << PAGE_SHIFT;
    assert_int_equal(gnt(GNTTABOP_unmap_grant_ref, &u, 1), 0);
    assert_int_equal(u.status, GNTST_okay);
    assert_int_equal(entries[12].flags, GTF_permit_access | GTF_reading);
    assert_int_equal(unmap1(ro, TEST_VA), GNTST_okay);
    assert_int_equal(entries[12].flags, GTF_permit_access);
    assert_int_equal(ref_count(f), 1);
}

/* XENFEAT_gnttab_map_avail_bits: GNTMAP_guest_avail0 and the two flags
 * above it become PTE bits 9-11; higher ones are dropped, as by Xen. */
static void guest_avail_flags_reach_the_pte(void **state)
{
    (void)state;
    mfn_t f = harness_frame(dom);
    grant_handle_t h;

    grant(13, dom->id, f, GTF_permit_access);
    assert_int_equal(map1(dom->id, 13, GNTMAP_host_map | GNTMAP_guest_avail0 * 5, TEST_VA, &h),
                     GNTST_okay);
    assert_int_equal(harness_table(l1)[VA_INDEX] & PTE_AVAIL, 5UL << 9);
    assert_int_equal(unmap1(h, TEST_VA), GNTST_okay);
    assert_int_equal(map1(dom->id, 13, GNTMAP_host_map | GNTMAP_guest_avail0 * 0xf, TEST_VA, &h),
                     GNTST_okay);
    assert_int_equal(harness_table(l1)[VA_INDEX] & PTE_AVAIL, 7UL << 9);
    assert_int_equal(unmap1(h, TEST_VA), GNTST_okay);
    assert_int_equal(harness_table(l1)[VA_INDEX], 0);
}

static void map_refusals_change_nothing(void **state)
{
    (void)state;
    mfn_t f = harness_frame(dom), other = harness_frame(harness_domain(2, 16, 0, false));
    uint64_t free_before;

    grant(13, dom->id, f, GTF_permit_access);
    assert_int_equal(map1(dom->id, GNTTAB_DEFAULT_FRAMES * 512, GNTMAP_host_map, TEST_VA, NULL),
                     GNTST_bad_gntref);
    assert_int_equal(map1(dom->id, 13, 0, TEST_VA, NULL), GNTST_bad_gntref);
    assert_int_equal(map1(DOMID_SELF, 13, GNTMAP_host_map, TEST_VA, NULL), GNTST_bad_domain);
    assert_int_equal(map1(7, 13, GNTMAP_host_map, TEST_VA, NULL), GNTST_bad_domain);
    assert_int_equal(map1(dom->id, 13, GNTMAP_host_map | GNTMAP_contains_pte, TEST_VA, NULL),
                     GNTST_general_error);
    /* No L1 maps this address / it is in the hypervisor's slots. */
    assert_int_equal(map1(dom->id, 13, GNTMAP_host_map, 1UL << 30, NULL), GNTST_general_error);
    assert_int_equal(map1(dom->id, 13, GNTMAP_host_map, HV_PTR, NULL), GNTST_general_error);
    assert_int_equal(entries[13].flags, GTF_permit_access);
    assert_int_equal(ref_count(f), 1);

    grant(14, 2, f, GTF_permit_access);                 /* granted to someone else */
    assert_int_equal(map1(dom->id, 14, GNTMAP_host_map, TEST_VA, NULL), GNTST_general_error);
    grant(15, dom->id, f, GTF_accept_transfer);
    assert_int_equal(map1(dom->id, 15, GNTMAP_host_map, TEST_VA, NULL), GNTST_general_error);
    grant(16, dom->id, f, GTF_permit_access | GTF_sub_page);
    assert_int_equal(map1(dom->id, 16, GNTMAP_host_map, TEST_VA, NULL), GNTST_general_error);
    grant(17, dom->id, other, GTF_permit_access);       /* not the granter's frame */
    assert_int_equal(map1(dom->id, 17, GNTMAP_host_map, TEST_VA, NULL), GNTST_bad_page);
    assert_int_equal(entries[17].flags, GTF_permit_access);
    grant(18, dom->id, l1, GTF_permit_access);          /* a page table: read-only only */
    assert_int_equal(map1(dom->id, 18, GNTMAP_host_map, TEST_VA, NULL), GNTST_general_error);
    assert_int_equal(entries[18].flags, GTF_permit_access);
    assert_int_equal(harness_table(l1)[VA_INDEX], 0);

    /* The maptrack is bounded. */
    free_before = frames_free();
    grant_handle_t last = 0;
    uint64_t mfn;
    uint32_t handle;
    unsigned int n = 0;
    int rc;
    while ((rc = gnttab_map_for(dom, dom->id, 13, GNTMAP_readonly, &mfn, &handle)) == 0) {
        last = handle;
        n++;
    }
    assert_int_equal(rc, -ENOSPC);
    assert_true(n >= 4096 && n < UINT16_MAX);
    assert_int_equal(entries[13].flags, GTF_permit_access | GTF_reading);
    for (grant_handle_t h = 0; h <= last; h++)
        assert_int_equal(gnttab_unmap_for(dom, h), 0);
    assert_int_equal(entries[13].flags, GTF_permit_access);
    assert_int_equal(ref_count(f), 1);
    assert_true(frames_free() < free_before);           /* maptrack pages stay */
}

static int16_t unmap_parts(grant_handle_t handle, uint64_t va, uint64_t dev_bus_addr)
{
    struct gnttab_unmap_grant_ref op = { .host_addr = va, .dev_bus_addr = dev_bus_addr,
                                         .handle = handle, .status = 99 };
    assert_int_equal(gnt(GNTTABOP_unmap_grant_ref, &op, 1), 0);
    return op.status;
}

static int16_t unmap_and_replace(grant_handle_t handle, uint64_t va, uint64_t new_va)
{
    struct gnttab_unmap_and_replace op = { .host_addr = va, .new_addr = new_va,
                                           .handle = handle, .status = 99 };
    assert_int_equal(gnt(GNTTABOP_unmap_and_replace, &op, 1), 0);
    return op.status;
}

static void partial_unmaps_of_host_and_device_mappings(void **state)
{
    (void)state;
    mfn_t f = harness_frame(dom);
    uint64_t bus = f << PAGE_SHIFT;
    grant_handle_t h;

    /* Host part first: the device part keeps its pin and references. */
    grant(24, dom->id, f, GTF_permit_access);
    assert_int_equal(map1(dom->id, 24, GNTMAP_host_map | GNTMAP_device_map, TEST_VA, &h),
                     GNTST_okay);
    assert_int_equal(ref_count(f), 3);
    assert_int_equal(type_count(f), 2);
    assert_int_equal(unmap_parts(h, 0, 0), GNTST_okay);             /* names no part */
    assert_int_equal(ref_count(f), 3);
    assert_int_equal(unmap_parts(h, TEST_VA, 0), GNTST_okay);
    assert_int_equal(harness_table(l1)[VA_INDEX], 0);
    assert_int_equal(ref_count(f), 2);
    assert_int_equal(type_count(f), 1);
    assert_int_equal(entries[24].flags, GTF_permit_access | GTF_reading | GTF_writing);
    assert_false(end_access(24));
    assert_int_equal(unmap_parts(h, TEST_VA, 0), GNTST_okay);       /* no host part left */
    assert_int_equal(ref_count(f), 2);
    assert_int_equal(unmap_parts(h, 0, bus + PAGE_SIZE), GNTST_bad_dev_addr);
    assert_int_equal(unmap_parts(h, 0, bus), GNTST_okay);
    assert_int_equal(entries[24].flags, GTF_permit_access);
    assert_int_equal(ref_count(f), 1);
    assert_int_equal(type_count(f), 0);
    assert_int_equal(unmap_parts(h, 0, bus), GNTST_bad_handle);     /* the handle went too */

    /* Device part first, read-only: the host part keeps the frame mapped. */
    assert_int_equal(map1(dom->id, 24, GNTMAP_host_map | GNTMAP_device_map | GNTMAP_readonly,
                          TEST_VA, &h), GNTST_okay);
    assert_int_equal(entries[24].flags, GTF_permit_access | GTF_reading);
    assert_int_equal(unmap_parts(h, 0, bus), GNTST_okay);
    assert_int_equal(harness_table(l1)[VA_INDEX] & PTE_ADDR_MASK, bus);
    assert_int_equal(entries[24].flags, GTF_permit_access | GTF_reading);
    assert_int_equal(ref_count(f), 2);
    assert_int_equal(unmap_parts(h, TEST_VA, bus), GNTST_okay);     /* no device part left */
    assert_int_equal(harness_table(l1)[VA_INDEX], 0);
    assert_int_equal(entries[24].flags, GTF_permit_access);
    assert_int_equal(ref_count(f), 1);

    /* Both at once; a wrong host address unmaps neither. */
    assert_int_equal(map1(dom->id, 24, GNTMAP_host_map | GNTMAP_device_map, TEST_VA, &h),
                     GNTST_okay);
    assert_int_equal(unmap_parts(h, TEST_VA + PAGE_SIZE, bus), GNTST_general_error);
    assert_int_equal(ref_count(f), 3);
    assert_int_equal(unmap_parts(h, TEST_VA, bus), GNTST_okay);
    assert_int_equal(ref_count(f), 1);
    assert_int_equal(type_count(f), 0);
    assert_true(end_access(24));

    /* A dying mapper gives back both parts. */
    grant(25, dom->id, f, GTF_permit_access);
    assert_int_equal(map1(dom->id, 25, GNTMAP_host_map | GNTMAP_device_map, TEST_VA, &h),
                     GNTST_okay);
    assert_int_equal(ref_count(f), 3);
    gnttab_destroy(dom);
    assert_int_equal(ref_count(f), 1);
    assert_int_equal(type_count(f), 0);
}

static void unmap_and_replace_moves_the_new_entry(void **state)
{
    (void)state;
    mfn_t f = harness_frame(dom), g = harness_frame(dom), other = harness_frame(dom);
    const uint64_t new_va = TEST_VA + PAGE_SIZE;
    grant_handle_t h, h2;

    grant(26, dom->id, f, GTF_permit_access);
    assert_int_equal(map1(dom->id, 26, GNTMAP_host_map, TEST_VA, &h), GNTST_okay);
    assert_int_equal(do_update_va_mapping(new_va, pte(g, PTE_DATA), 0), 0);
    uint64_t g_pte = harness_table(l1)[VA_INDEX + 1];
    assert_int_equal(ref_count(g), 2);

    /* Refusals change nothing: the wrong address, no L1 for new_addr. */
    assert_int_equal(unmap_and_replace(h, new_va, new_va + PAGE_SIZE), GNTST_general_error);
    assert_int_equal(unmap_and_replace(h, TEST_VA, 1UL << 30), GNTST_general_error);
    assert_int_equal(unmap_and_replace(h, TEST_VA, TEST_VA), GNTST_general_error);
    assert_int_equal(unmap_and_replace(h + 1, TEST_VA, new_va), GNTST_bad_handle);
    assert_int_equal(harness_table(l1)[VA_INDEX] & PTE_GRANT, PTE_GRANT);
    assert_int_equal(harness_table(l1)[VA_INDEX + 1], g_pte);

    /* new_addr's entry moves to host_addr with its references; the grant
     * is released. */
    assert_int_equal(unmap_and_replace(h, TEST_VA, new_va), GNTST_okay);
    assert_int_equal(harness_table(l1)[VA_INDEX], g_pte);
    assert_int_equal(harness_table(l1)[VA_INDEX + 1], 0);
    assert_int_equal(ref_count(g), 2);
    assert_int_equal(ref_count(f), 1);
    assert_int_equal(entries[26].flags, GTF_permit_access);
    assert_int_equal(unmap_and_replace(h, TEST_VA, new_va), GNTST_bad_handle);
    assert_int_equal(do_update_va_mapping(TEST_VA, 0, 0), 0);
    assert_int_equal(ref_count(g), 1);

    /* new_addr 0 is a plain unmap; a grant entry at new_addr is not moved. */
    assert_int_equal(map1(dom->id, 26, GNTMAP_host_map, TEST_VA, &h), GNTST_okay);
    grant(27, dom->id, other, GTF_permit_access);
    assert_int_equal(map1(dom->id, 27, GNTMAP_host_map, new_va, &h2), GNTST_okay);
    assert_int_equal(unmap_and_replace(h, TEST_VA, new_va), GNTST_general_error);
    assert_int_equal(unmap_and_replace(h2, new_va, 0), GNTST_okay);
    assert_int_equal(harness_table(l1)[VA_INDEX + 1], 0);
    assert_int_equal(ref_count(other), 1);

    /* Only the host part of a host+device mapping is replaced. */
    assert_int_equal(unmap1(h, TEST_VA), GNTST_okay);
    assert_int_equal(map1(dom->id, 26, GNTMAP_host_map | GNTMAP_device_map, TEST_VA, &h),
                     GNTST_okay);
    assert_int_equal(unmap_and_replace(h, TEST_VA, 0), GNTST_okay);
    assert_int_equal(harness_table(l1)[VA_INDEX], 0);
    assert_int_equal(entries[26].flags, GTF_permit_access | GTF_reading | GTF_writing);
    assert_int_equal(ref_count(f), 2);
    assert_int_equal(unmap_parts(h, 0, f << PAGE_SHIFT), GNTST_okay);
    assert_int_equal(ref_count(f), 1);
    assert_true(end_access(26));
}

/* ---- lifetime --------------------------------------------------------- */

static void ballooned_frame_lives_until_unmapped(void **state)
{
    (void)state;
    mfn_t f = harness_frame(dom);
    grant_handle_t h;
    xen_pfn_t list[1] = { f };
    struct xen_memory_reservation r = { .extent_start = (uint64_t)list, .nr_extents = 1,
                                        .domid = DOMID_SELF };

    grant(20, dom->id, f, GTF_permit_access);
    assert_int_equal(map1(dom->id, 20, GNTMAP_host_map, TEST_VA, &h), GNTST_okay);
    uint64_t pages = dom->tot_pages, free_before = frames_free();
    assert_int_equal(do_memory_op(XENMEM_decrease_reservation, (uint64_t)&r), 1);
    assert_int_equal(frame_table[f].owner, dom->id);       /* still there, still mapped */
    assert_int_equal(ref_count(f), 1);
    assert_int_equal(frames_free(), free_before);
    assert_int_equal(unmap1(h, TEST_VA), GNTST_okay);
    assert_int_equal(frames_free(), free_before + 1);
    assert_int_equal(dom->tot_pages, pages - 1);
    assert_int_equal(entries[20].flags, GTF_permit_access);
}

/* A page of active entries comes with the first pin of a grant in its
 * range, and only for a domain the entry names: a stranger's maps and
 * copies (a wild guest naming Domain 0, whose table outlives it) take no
 * memory from the granter's table. */
static void active_pages_only_for_a_named_user(void **state)
{
    (void)state;
    struct domain *stranger = harness_domain(2, 16, 0, false);
    struct grant_table *gt = gnttab_of(dom);
    mfn_t f = harness_frame(dom), mine = harness_frame(stranger);
    const grant_ref_t ref = ACTIVE_PER_PAGE + 44;       /* in the second page */
    uint64_t mfn, free_before;
    uint32_t h;

    assert_int_equal(gnttab_init(stranger), 0);
    for (unsigned int i = 0; i < ACTIVE_PAGES; i++)
        assert_null(gt->active[i]);                     /* a new table has none */

    grant(ref, 3, f, GTF_permit_access);                /* to someone else */
    assert_int_equal(gnttab_map_for(stranger, dom->id, ref, GNTMAP_readonly, &mfn, &h), -EPERM);
    assert_int_equal(gnttab_map_for(stranger, dom->id, ref + 1, 0, &mfn, &h), -EPERM);
    free_before = frames_free();
    struct gnttab_copy op = copy_op(GNTCOPY_source_gref, ref, dom->id, 0, mine, DOMID_SELF, 0, 8);
    assert_int_equal(gnttab_copy_for(stranger, &op, 1), 0);
    assert_int_equal(op.status, GNTST_general_error);
    assert_int_equal(frames_free(), free_before);
    assert_null(gt->active[ref / ACTIVE_PER_PAGE]);
    assert_int_equal(entries[ref].flags, GTF_permit_access);

    grant(ref, 2, f, GTF_permit_access);                /* now to the stranger */
    assert_int_equal(gnttab_map_for(stranger, dom->id, ref, GNTMAP_readonly, &mfn, &h), 0);
    assert_int_equal(frames_free(), free_before - 1);   /* the page of active entries */
    assert_non_null(gt->active[ref / ACTIVE_PER_PAGE]);
    assert_null(gt->active[0]);
    assert_int_equal(gnttab_unmap_for(stranger, h), 0);
    assert_non_null(gt->active[ref / ACTIVE_PER_PAGE]);    /* until the table goes */
    assert_int_equal(frames_free(), free_before - 1);
    gnttab_destroy(stranger);
}

static void granter_death_leaves_mapped_frame_alive(void **state)
{
    (void)state;
    struct domain *mapper = harness_domain(2, 16, 0, false);
    mfn_t f = harness_frame(dom);
    uint64_t mfn, free_before;
    uint32_t h;

    assert_int_equal(gnttab_init(mapper), 0);
    grant(21, 2, f, GTF_permit_access);
    assert_int_equal(gnttab_map_for(mapper, dom->id, 21, 0, &mfn, &h), 0);
    assert_int_equal(mfn, f);
    assert_int_equal(entries[21].flags, GTF_permit_access | GTF_reading | GTF_writing);
    assert_int_equal(gnttab_map_for(mapper, dom->id, 21, GNTMAP_host_map, &mfn, &h), -EINVAL);

    /* The granter goes: its table and frames, except the mapped one. */
    domain_relinquish_memory(dom);
    gnttab_destroy(dom);
    assert_int_equal(frame_table[f].owner, OWNER_HV);
    assert_int_equal(ref_count(f), 1);

    /* A new table for the same domid: the old mapping must not unpin it. */
    struct domain again = { .id = dom->id };
    assert_int_equal(gnttab_init(&again), 0);
    free_before = frames_free();
    assert_int_equal(gnttab_unmap_for(mapper, h), 0);
    assert_int_equal(frames_free(), free_before + 1);
    assert_int_equal(gnttab_unmap_for(mapper, h), -ENOENT);
    gnttab_destroy(&again);
    gnttab_destroy(mapper);
}

static void mapper_death_releases_its_mappings(void **state)
{
    (void)state;
    struct domain *mapper = harness_domain(2, 32, 0, false);
    mfn_t f = harness_frame(dom), ml1;
    uint64_t mfn;
    uint32_t h;

    assert_int_equal(gnttab_init(mapper), 0);
    ml1 = make_tables(mapper);
    grant(22, 2, f, GTF_permit_access);
    assert_int_equal(gnttab_map_for(mapper, dom->id, 22, GNTMAP_readonly, &mfn, &h), 0);
    assert_int_equal(pv_grant_map_l1e(mapper->vcpus[0], TEST_VA, f, false, 0), 0);
    assert_int_equal(harness_table(ml1)[VA_INDEX] & PTE_GRANT, PTE_GRANT);
    assert_int_equal(pv_grant_unmap_l1e(mapper->vcpus[0], TEST_VA, f + 1), -EINVAL);
    assert_int_equal(pv_grant_unmap_l1e(mapper->vcpus[0], TEST_VA, f), 0);
    assert_int_equal(entries[22].flags, GTF_permit_access | GTF_reading);
    assert_int_equal(ref_count(f), 2);

    gnttab_destroy(mapper);
    assert_int_equal(entries[22].flags, GTF_permit_access);
    assert_int_equal(ref_count(f), 1);
    assert_true(end_access(22));
}

static void table_with_grant_entry_is_not_revalidated(void **state)
{
    (void)state;
    mfn_t f = harness_frame(dom);
    grant_handle_t h;

    grant(23, dom->id, f, GTF_permit_access);
    assert_int_equal(map1(dom->id, 23, GNTMAP_host_map, TEST_VA, &h), GNTST_okay);
    /* Unhook the L1: it is devalidated; the grant entry gives back nothing
     * (the mapping holds the references) and the L1 cannot come back. */
    spin_lock(&dom->mm_lock);
    assert_int_equal(pt_mod_entry(dom, l2, 2, 0, 0, false), 0);
    assert_int_equal(type_count(l1), 0);
    assert_int_equal(ref_count(f), 2);
    assert_int_not_equal(pt_mod_entry(dom, l2, 2, 0, pte(l1, PTE_TABLE), false), 0);
    spin_unlock(&dom->mm_lock);
    /* The mapping can no longer be found at its address: it stays. */
    assert_int_equal(unmap1(h, TEST_VA), GNTST_general_error);
    assert_int_equal(entries[23].flags, GTF_permit_access | GTF_reading | GTF_writing);
}

/* ---- copy ------------------------------------------------------------- */

/* dom (v1) grants f to domain 2, whose v2 table grants it on to dom
 * transitively; dom copies through domain 2's grant (as Domain 0 would,
 * gnttab_copy_for: domain 2 is the current vCPU here). */
static void transitive_grants_for_copies(void **state)
{
    (void)state;
    mfn_t f = harness_frame(dom), c = harness_frame(dom);
    uint8_t *pf = mfn_to_virt(f), *pc = mfn_to_virt(c);
    const uint16_t src = GNTCOPY_source_gref, dst = GNTCOPY_dest_gref;
    xen_pfn_t frames[1];
    uint64_t status_mfn;
    long rc;

    for (unsigned int i = 0; i < PAGE_SIZE; i++)
        pf[i] = (uint8_t)(i * 13);
    grant(40, 2, f, GTF_permit_access);
    entries[41].domid = 2;
    __atomic_store_n(&entries[41].flags, GTF_transitive, __ATOMIC_RELEASE); /* v1: no such type */
    struct domain *d2 = harness_domain(2, 32, 0, true);
    assert_int_equal(gnttab_init(d2), 0);
    assert_int_equal(set_version(2, NULL), 0);
    assert_int_equal(setup(DOMID_SELF, 1, frames, &rc).status, GNTST_okay);
    assert_int_equal(status_frames(1, &status_mfn, &rc).status, GNTST_okay);
    union grant_entry_v2 *e2 = mfn_to_virt(frames[0]);
    grant_status_t *st2 = mfn_to_virt(status_mfn);
    const struct { grant_ref_t ref; domid_t to, trans; grant_ref_t gref; } t[] = {
        { 50, 1, 1, 40 },           /* dom's grant 40 to domain 2, on to dom */
        { 51, 1, 2, 50 },           /* names its own granter */
        { 52, 1, 7, 40 },           /* no domain 7 */
        { 53, 1, 1, 41 },           /* names something that is not a grant to 2 */
        { 54, 3, 1, 40 },           /* granted to domain 3, not dom */
    };
    for (unsigned int i = 0; i < 5; i++) {
        e2[t[i].ref].transitive.trans_domid = t[i].trans;
        e2[t[i].ref].transitive.gref = t[i].gref;
        e2[t[i].ref].hdr.domid = t[i].to;
        __atomic_store_n(&e2[t[i].ref].hdr.flags, GTF_transitive, __ATOMIC_RELEASE);
    }

    struct gnttab_copy ops[7] = {
        copy_op(src, 50, 2, 8, c, DOMID_SELF, 8, 100),
        copy_op(dst, c, DOMID_SELF, 0, 50, 2, 3000, 16),
        copy_op(src, 51, 2, 0, c, DOMID_SELF, 0, 1),
        copy_op(src, 52, 2, 0, c, DOMID_SELF, 0, 1),
        copy_op(src, 53, 2, 0, c, DOMID_SELF, 0, 1),
        copy_op(src, 54, 2, 0, c, DOMID_SELF, 0, 1),
        copy_op(src, 40, 1, 0, c, DOMID_SELF, 0, 1),     /* dom's grant is to 2, not dom */
    };
    assert_int_equal(gnttab_copy_for(dom, ops, 7), 0);
    const int16_t want[7] = { GNTST_okay, GNTST_okay, GNTST_general_error, GNTST_general_error,
                              GNTST_general_error, GNTST_general_error, GNTST_general_error };
    assert_statuses(ops, want, 7);
    assert_memory_equal(pc + 8, pf + 8, 100);
    assert_memory_equal(pf + 3000, pc, 16);
    /* Nothing stays pinned, in either table. */
    for (grant_ref_t r = 50; r <= 54; r++)
        assert_int_equal(st2[r], 0);
    assert_int_equal(entries[40].flags, GTF_permit_access);
    assert_int_equal(entries[41].flags, GTF_transitive);
    assert_int_equal(ref_count(f), 1);
    assert_int_equal(type_count(f), 0);
    /* Transitive grants are never mapped. */
    uint64_t mfn;
    uint32_t h;
    assert_int_equal(gnttab_map_for(dom, 2, 50, GNTMAP_readonly, &mfn, &h), -EPERM);
    assert_int_equal(st2[50], 0);
}

/* White box: a copy through transitive entry 3 is in flight (on another
 * CPU) while its granter rewrites it and switches back to v1; a new
 * writer must not take the v2 path into a table that has no status
 * frames any more. */
static void transitive_pin_left_over_in_v1(void **state)
{
    (void)state;
    mfn_t f = harness_frame(dom), c = harness_frame(dom);

    grant(3, dom->id, f, GTF_permit_access);
    struct grant_table *gt = gnttab_lock(dom->id, 0);
    *gnttab_active_alloc(gt, 3) = (struct active_grant){ .ro_pins = 1, .user = dom->id,
                                                   .sub_page = 1, .transitive = 1 };
    spin_unlock(&gt->lock);
    struct gnttab_copy op = copy_op(GNTCOPY_dest_gref, c, DOMID_SELF, 0, 3, dom->id, 0, 8);
    assert_int_equal(gnt(GNTTABOP_copy, &op, 1), 0);
    assert_int_equal(op.status, GNTST_general_error);
    assert_int_equal(entries[3].flags, GTF_permit_access);
    gt = gnttab_lock(dom->id, 0);
    *gnttab_active_alloc(gt, 3) = (struct active_grant){ 0 };
    spin_unlock(&gt->lock);
}

/* A copy batch stopped for pending work every BATCH_CHECK_EVERY ops
 * continues as Xen's (same cmd, the array advanced, the count reduced)
 * and ends with every status and byte an uninterrupted batch gives. */
static void copy_batch_continues_as_uninterrupted(void **state)
{
    (void)state;
    mfn_t a = harness_frame(dom), b = harness_frame(dom);
    uint8_t *pa = mfn_to_virt(a), *pb = mfn_to_virt(b);
    struct gnttab_copy ops[40];
    const uint16_t both = GNTCOPY_source_gref | GNTCOPY_dest_gref;

    for (unsigned int i = 0; i < PAGE_SIZE; i++)
        pa[i] = (uint8_t)(i * 7);
    grant(40, dom->id, a, GTF_permit_access | GTF_readonly);
    grant(41, dom->id, b, GTF_permit_access);
    for (unsigned int i = 0; i < 40; i++)
        ops[i] = copy_op(both, 40, dom->id, i * 100, 41, dom->id, i * 100, 100);
    ops[33] = copy_op(both, 9999, dom->id, 0, 41, dom->id, 0, 1);      /* bad ref */
    harness_preempt_every = 1;
    long rc = gnt(GNTTABOP_copy, ops, 40);
    unsigned int rounds = 0;
    while (harness_cont.pending) {
        harness_cont.pending = false;
        rounds++;
        assert_int_equal(rc, __HYPERVISOR_grant_table_op);
        assert_int_equal(harness_cont.nr, __HYPERVISOR_grant_table_op);
        assert_int_equal(harness_cont.args[0], GNTTABOP_copy);
        assert_int_equal(harness_cont.args[1], (uint64_t)&ops[rounds * BATCH_CHECK_EVERY]);
        assert_int_equal(harness_cont.args[2], 40 - rounds * BATCH_CHECK_EVERY);
        rc = do_grant_table_op(harness_cont.args[0], harness_cont.args[1],
                               harness_cont.args[2]);
    }
    harness_preempt_every = 0;
    assert_int_equal(rc, 0);
    assert_int_equal(rounds, 39 / BATCH_CHECK_EVERY);
    for (unsigned int i = 0; i < 40; i++)
        assert_int_equal(ops[i].status, i == 33 ? GNTST_bad_gntref : GNTST_okay);
    assert_memory_equal(pb + 3400, pa + 3400, 600);
    assert_int_equal(pb[3300], 0);
    assert_memory_equal(pb, pa, 3300);
}

/* Issue a grant batch and its continuations until it is done. */
static long gnt_continued(unsigned int cmd, void *ops, unsigned int count, unsigned int *rounds)
{
    long rc = gnt(cmd, ops, count);

    *rounds = 0;
    while (harness_cont.pending) {
        harness_cont.pending = false;
        (*rounds)++;
        assert_int_equal(rc, __HYPERVISOR_grant_table_op);
        rc = do_grant_table_op(harness_cont.args[0], harness_cont.args[1],
                               harness_cont.args[2]);
    }
    return rc;
}

/* Maps and unmaps continued likewise: every op's results (status,
 * handle, bus address: the whole map op is copied back) as without. */
static void map_batch_continues_as_uninterrupted(void **state)
{
    (void)state;
    mfn_t a = harness_frame(dom);
    struct gnttab_map_grant_ref maps[40];
    struct gnttab_unmap_grant_ref unmaps[40];
    unsigned int rounds;

    grant(50, dom->id, a, GTF_permit_access | GTF_readonly);
    for (unsigned int i = 0; i < 40; i++)
        maps[i] = (struct gnttab_map_grant_ref){
            .flags = GNTMAP_device_map | GNTMAP_readonly, .ref = i == 33 ? 9999 : 50,
            .dom = dom->id, .status = 99 };
    harness_preempt_every = 1;
    assert_int_equal(gnt_continued(GNTTABOP_map_grant_ref, maps, 40, &rounds), 0);
    assert_int_equal(rounds, 39 / BATCH_CHECK_EVERY);
    for (unsigned int i = 0; i < 40; i++) {
        assert_int_equal(maps[i].status, i == 33 ? GNTST_bad_gntref : GNTST_okay);
        if (i != 33)
            assert_int_equal(maps[i].dev_bus_addr, (uint64_t)a << PAGE_SHIFT);
        for (unsigned int j = 0; j < i; j++)
            assert_true(i == 33 || j == 33 || maps[i].handle != maps[j].handle);
    }
    assert_true(entries[50].flags & GTF_reading);
    for (unsigned int i = 0; i < 40; i++)
        unmaps[i] = (struct gnttab_unmap_grant_ref){
            .dev_bus_addr = (uint64_t)a << PAGE_SHIFT, .handle = maps[i].handle,
            .status = 99 };
    unmaps[33].handle = 0xffffff;
    assert_int_equal(gnt_continued(GNTTABOP_unmap_grant_ref, unmaps, 40, &rounds), 0);
    assert_int_equal(rounds, 39 / BATCH_CHECK_EVERY);
    harness_preempt_every = 0;
    for (unsigned int i = 0; i < 40; i++)
        assert_int_equal(unmaps[i].status, i == 33 ? GNTST_bad_handle : GNTST_okay);
    assert_int_equal(entries[50].flags, GTF_permit_access | GTF_readonly);
    assert_int_equal(ref_count(a), 1);
}

static void copy_between_grants_and_frames(void **state)
{
    (void)state;
    mfn_t a = harness_frame(dom), b = harness_frame(dom), c = harness_frame(dom);
    mfn_t foreign = harness_frame(harness_domain(2, 16, 0, false));
    uint8_t *pa = mfn_to_virt(a), *pb = mfn_to_virt(b), *pc = mfn_to_virt(c);
    const uint16_t both = GNTCOPY_source_gref | GNTCOPY_dest_gref;

    for (unsigned int i = 0; i < PAGE_SIZE; i++)
        pa[i] = (uint8_t)i;
    grant(30, dom->id, a, GTF_permit_access | GTF_readonly);
    grant(31, dom->id, b, GTF_permit_access);
    struct gnttab_copy ops[8] = {
        copy_op(both, 30, dom->id, 100, 31, DOMID_SELF, 200, 300),
        copy_op(GNTCOPY_source_gref, 30, DOMID_SELF, 0, c, DOMID_SELF, 0, PAGE_SIZE),
        copy_op(both, 31, dom->id, 0, 30, dom->id, 0, 1),         /* r/o grant as dest */
        copy_op(both, 30, dom->id, 4000, 31, dom->id, 0, 200),    /* beyond the page */
        copy_op(both, 9999, dom->id, 0, 31, dom->id, 0, 1),
        copy_op(GNTCOPY_dest_gref, c, dom->id, 0, 31, dom->id, 0, 1),  /* frame: SELF only */
        copy_op(GNTCOPY_source_gref, 30, dom->id, 0, foreign, DOMID_SELF, 0, 1),
        copy_op(both | 4, 30, dom->id, 0, 31, dom->id, 0, 1),
    };
    assert_int_equal(gnt(GNTTABOP_copy, ops, 8), 0);
    assert_int_equal(ops[0].status, GNTST_okay);
    assert_memory_equal(pb + 200, pa + 100, 300);
    assert_int_equal(pb[199], 0);
    assert_int_equal(ops[1].status, GNTST_okay);
    assert_memory_equal(pc, pa, PAGE_SIZE);
    assert_int_equal(ops[2].status, GNTST_general_error);
    assert_int_equal(ops[3].status, GNTST_bad_copy_arg);
    assert_int_equal(ops[4].status, GNTST_bad_gntref);
    assert_int_equal(ops[5].status, GNTST_permission_denied);
    assert_int_equal(ops[6].status, GNTST_bad_page);
    assert_int_equal(ops[7].status, GNTST_bad_copy_arg);
    /* Copies pin only while they run. */
    assert_int_equal(entries[30].flags, GTF_permit_access | GTF_readonly);
    assert_int_equal(entries[31].flags, GTF_permit_access);
    assert_int_equal(ref_count(a), 1);
    assert_int_equal(ref_count(c), 1);
    assert_int_equal(type_count(b), 0);

    assert_int_equal(gnt(GNTTABOP_copy, (void *)BAD_PTR, 1), -EFAULT);
    assert_int_equal(gnt(GNTTABOP_map_grant_ref, (void *)BAD_PTR, 1), -EFAULT);
    assert_int_equal(gnt(GNTTABOP_unmap_grant_ref, (void *)HV_PTR, 1), -EFAULT);
    assert_int_equal(gnt(GNTTABOP_copy, (void *)BAD_PTR, 0), 0);

    /* Domain 0's copy: the same operations, DOMID_SELF is the caller. */
    memset(pb, 0, PAGE_SIZE);
    ops[0] = copy_op(both, 30, dom->id, 0, 31, DOMID_SELF, 0, 16);
    assert_int_equal(gnttab_copy_for(dom, ops, 1), 0);
    assert_int_equal(ops[0].status, GNTST_okay);
    assert_memory_equal(pb, pa, 16);
    assert_int_equal(gnttab_copy_for(dom, ops, GNTTAB_MAX_OPS + 1), -EINVAL);
}

/* Domain 0 owns no frames: its copies may name frames of its window (the
 * control block's bulk area) as their DOMID_SELF side, and only the bytes
 * inside it; nobody else may. Domain 5 plays Domain 0 here. */
static void dom0_window_for_copies(void **state)
{
    (void)state;
    struct domain *d0 = harness_domain(5, 16, 0, false);
    mfn_t a = harness_frame(dom), b = harness_frame(dom);
    mfn_t w = harness_frame(harness_domain(3, 16, 0, false));
    mfn_t other = harness_frame(harness_domain(4, 16, 0, false));
    uint8_t *pa = mfn_to_virt(a), *pb = mfn_to_virt(b), *pw = mfn_to_virt(w);
    const uint16_t src = GNTCOPY_source_gref, dst = GNTCOPY_dest_gref;

    for (unsigned int i = 0; i < PAGE_SIZE; i++)
        pa[i] = (uint8_t)(i * 7);
    memset(pw, 0, PAGE_SIZE);
    grant(60, 5, a, GTF_permit_access | GTF_readonly);
    grant(61, 5, b, GTF_permit_access);
    gnttab_set_dom0_window(d0, ((uint64_t)w << PAGE_SHIFT) + 1024, 2048);
    struct gnttab_copy ops[6] = {
        copy_op(src, 60, dom->id, 0, w, DOMID_SELF, 1024, 100),    /* into the window */
        copy_op(dst, w, DOMID_SELF, 1024, 61, dom->id, 8, 100),    /* and out of it */
        copy_op(src, 60, dom->id, 0, w, DOMID_SELF, 3000, 200),    /* past its end */
        copy_op(src, 60, dom->id, 0, w, DOMID_SELF, 0, 16),        /* before its start */
        copy_op(src, 60, dom->id, 0, other, DOMID_SELF, 0, 16),    /* not a window frame */
        copy_op(src, 60, dom->id, 0, w, dom->id, 1024, 16),        /* only as DOMID_SELF */
    };
    assert_int_equal(gnttab_copy_for(d0, ops, 6), 0);
    const int16_t want[6] = { GNTST_okay, GNTST_okay, GNTST_general_error, GNTST_general_error,
                              GNTST_bad_page, GNTST_permission_denied };
    assert_statuses(ops, want, 6);
    assert_memory_equal(pw + 1024, pa, 100);
    assert_memory_equal(pb + 8, pa, 100);
    assert_int_equal(pw[1023], 0);
    /* the window is Domain 0's alone */
    struct gnttab_copy mine = copy_op(src, 61, DOMID_SELF, 0, w, DOMID_SELF, 1024, 8);
    grant(61, dom->id, b, GTF_permit_access);
    assert_int_equal(gnttab_copy_for(dom, &mine, 1), 0);
    assert_int_equal(mine.status, GNTST_bad_page);
    /* no references left behind */
    assert_int_equal(ref_count(a), 1);
    assert_int_equal(type_count(b), 0);
    assert_int_equal(entries[60].flags, GTF_permit_access | GTF_readonly);
    gnttab_set_dom0_window(NULL, 0, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(setup_table_shares_frames_the_domain_cannot_make_tables,
                                        setup_dom, teardown_dom),
        cmocka_unit_test_setup_teardown(versions_and_other_ops, setup_dom, teardown_dom),
        cmocka_unit_test_setup_teardown(version_2_shares_status_frames, setup_dom, teardown_dom),
        cmocka_unit_test_setup_teardown(status_frame_outlives_the_table_while_mapped, setup_dom,
                                        teardown_dom),
        cmocka_unit_test_setup_teardown(version_switch_refused_while_grants_are_in_use,
                                        setup_dom, teardown_dom),
        cmocka_unit_test_setup_teardown(version_2_grants_and_their_status, setup_dom,
                                        teardown_dom),
        cmocka_unit_test_setup_teardown(version_2_sub_page_copies_stay_in_their_window,
                                        setup_dom, teardown_dom),
        cmocka_unit_test_setup_teardown(host_map_keeps_flags_and_frame_until_unmapped, setup_dom,
                                        teardown_dom),
        cmocka_unit_test_setup_teardown(readonly_grants_and_pin_counts, setup_dom, teardown_dom),
        cmocka_unit_test_setup_teardown(guest_avail_flags_reach_the_pte, setup_dom, teardown_dom),
        cmocka_unit_test_setup_teardown(map_refusals_change_nothing, setup_dom, teardown_dom),
        cmocka_unit_test_setup_teardown(partial_unmaps_of_host_and_device_mappings, setup_dom,
                                        teardown_dom),
        cmocka_unit_test_setup_teardown(unmap_and_replace_moves_the_new_entry, setup_dom,
                                        teardown_dom),
        cmocka_unit_test_setup_teardown(ballooned_frame_lives_until_unmapped, setup_dom,
                                        teardown_dom),
        cmocka_unit_test_setup_teardown(active_pages_only_for_a_named_user, setup_dom,
                                        teardown_dom),
        cmocka_unit_test_setup_teardown(granter_death_leaves_mapped_frame_alive, setup_dom,
                                        teardown_dom),
        cmocka_unit_test_setup_teardown(mapper_death_releases_its_mappings, setup_dom,
                                        teardown_dom),
        cmocka_unit_test_setup_teardown(table_with_grant_entry_is_not_revalidated, setup_dom,
                                        teardown_dom),
        cmocka_unit_test_setup_teardown(copy_between_grants_and_frames, setup_dom, teardown_dom),
        cmocka_unit_test_setup_teardown(copy_batch_continues_as_uninterrupted, setup_dom,
                                        teardown_dom),
        cmocka_unit_test_setup_teardown(map_batch_continues_as_uninterrupted, setup_dom,
                                        teardown_dom),
        cmocka_unit_test_setup_teardown(dom0_window_for_copies, setup_dom, teardown_dom),
        cmocka_unit_test_setup_teardown(transitive_grants_for_copies, setup_dom, teardown_dom),
        cmocka_unit_test_setup_teardown(transitive_pin_left_over_in_v1, setup_dom, teardown_dom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
