/*
 * Test kernel: grant tables (v1), one domain granting to itself.
 *
 * Sets the table up (setup_table / query_size / set_version /
 * get_version), maps its own table frames, grants pages to its own domid
 * and maps them at a virtual address with GNTMAP_host_map: writes through
 * the mapping show through the original page and back; a read-only grant
 * maps read-only only; while mapped the entry carries GTF_reading /
 * GTF_writing and ending access fails; after unmap it succeeds. Also
 * GNTTABOP_copy between grants and frames, and the refusals: bad refs,
 * handles, domains, offsets; op arrays the hypervisor cannot read
 * (-EFAULT). The domain learns its own domid from an event channel bound
 * to DOMID_SELF (the PV ABI does not hand it over otherwise).
 */
#include "gnttab.h"

const char test_name[] = "grant";

#define UNMAPPED_PTR ((void *)0x0000100000000000ul)   /* nothing mapped there */
#define TABLE_VA     0xffffffffc0200000ul             /* our grant table frame 0 */
#define MAP_VA       0xffffffffc0210000ul             /* grant mappings go here */
#define MAP_VA_RO    (MAP_VA + PAGE_SIZE)
#define MAP_VA_OVER  (MAP_VA + 2 * PAGE_SIZE)             /* a grant over a present entry */
#define REF_RW       16                               /* refs 0-7 are the toolstack's */
#define REF_RO       17
#define REF_COPY_SRC 18
#define REF_COPY_DST 19

static grant_entry_v1_t *table;
static domid_t self;
static bool on_pvcore;

static long gnttab(unsigned int cmd, void *op, unsigned int count)
{
    return hypercall_grant_table_op(cmd, op, count);
}

/* Our domid: the remote end Xen records for an unbound port we offer to
 * DOMID_SELF. */
static domid_t learn_own_domid(void)
{
    struct evtchn_alloc_unbound a = { .dom = DOMID_SELF, .remote_dom = DOMID_SELF };
    struct evtchn_status st = { .dom = DOMID_SELF };
    struct evtchn_close cl;

    if (hypercall_event_channel_op(EVTCHNOP_alloc_unbound, &a))
        test_abort("EVTCHNOP_alloc_unbound failed: cannot learn our domid");
    st.port = cl.port = a.port;
    if (hypercall_event_channel_op(EVTCHNOP_status, &st) || st.status != EVTCHNSTAT_unbound)
        test_abort("EVTCHNOP_status of our unbound port failed");
    hypercall_event_channel_op(EVTCHNOP_close, &cl);
    return st.u.unbound.dom;
}

static void grant_page(grant_ref_t ref, void *page, uint16_t flags)
{
    table[ref].domid = self;
    table[ref].frame = (uint32_t)virt_to_mfn(page);
    __atomic_store_n(&table[ref].flags, flags, __ATOMIC_RELEASE);
}

/* gnttab_end_foreign_access_ref of a guest: only when nobody uses it. */
static bool end_access(grant_ref_t ref)
{
    uint16_t flags = __atomic_load_n(&table[ref].flags, __ATOMIC_ACQUIRE);

    do {
        if (flags & (GTF_reading | GTF_writing))
            return false;
    } while (!__atomic_compare_exchange_n(&table[ref].flags, &flags, 0, false,
                                          __ATOMIC_SEQ_CST, __ATOMIC_ACQUIRE));
    return true;
}

static void check_versions(void)
{
    struct gnttab_get_version gv = { .dom = DOMID_SELF };
    struct gnttab_set_version sv = { .version = 1 };
    long rc;

    test_eq(gnttab(GNTTABOP_get_version, &gv, 1), 0, "get_version");
    test_eq(gv.version, 1, "grant table version at boot");
    test_eq(gnttab(GNTTABOP_set_version, &sv, 1), 0, "set_version(1)");
    sv.version = 2;
    rc = gnttab(GNTTABOP_set_version, &sv, 1);
    test_eq(rc, 0, "set_version(2) (grant_v2 tests v2 itself)");
    test_eq(sv.version, 2, "set_version(2) reports v2");
    sv.version = 1;
    test_eq(gnttab(GNTTABOP_set_version, &sv, 1), 0, "back to set_version(1)");
    sv.version = 3;
    test_eq(gnttab(GNTTABOP_set_version, &sv, 1), -XEN_EINVAL, "set_version(3)");
    test_eq(gnttab(GNTTABOP_get_version, &gv, 1), 0, "get_version again");
    test_eq(gv.version, 1, "version after the set_version calls");
}

static void set_up_table(void)
{
    struct gnttab_query_size q = { .dom = DOMID_SELF, .status = 99 };
    static xen_pfn_t frames[4];
    struct gnttab_setup_table st = { .dom = DOMID_SELF, .nr_frames = 4, .status = 99,
                                     .frame_list = HC(frames) };

    test_eq(gnttab(GNTTABOP_query_size, &q, 1), 0, "query_size");
    test_eq(q.status, GNTST_okay, "query_size status");
    test_ok(q.nr_frames >= 1 && q.max_nr_frames >= 4 && q.nr_frames <= q.max_nr_frames,
            "query_size: %u of %u frames", q.nr_frames, q.max_nr_frames);
    if (on_pvcore) {
        test_eq(q.nr_frames, 1, "pvcore's default table size");
        test_eq(q.max_nr_frames, 32, "pvcore's maximum table size");
    }
    test_eq(gnttab(GNTTABOP_setup_table, &st, 1), 0, "setup_table");
    test_eq(st.status, GNTST_okay, "setup_table status");
    test_eq(gnttab(GNTTABOP_query_size, &q, 1), 0, "query_size after setup_table");
    test_ok(q.nr_frames >= 4, "table has %u frames after asking for 4", q.nr_frames);

    st.nr_frames = q.max_nr_frames + 1;
    st.status = 99;
    test_eq(gnttab(GNTTABOP_setup_table, &st, 1), 0, "setup_table beyond the maximum");
    test_eq(st.status, GNTST_general_error, "setup_table beyond the maximum: status");
    st.nr_frames = 1;
    test_eq(gnttab(GNTTABOP_setup_table, &st, 2), -XEN_EINVAL, "setup_table with count 2");
    test_eq(gnttab(GNTTABOP_setup_table, UNMAPPED_PTR, 1), -XEN_EFAULT,
            "setup_table from an unmapped address");
    test_eq(gnttab(GNTTABOP_query_size, UNMAPPED_PTR, 1), -XEN_EFAULT,
            "query_size from an unmapped address");

    if (mm_ensure_l1(TABLE_VA))
        test_abort("no L1 for TABLE_VA");
    long rc = hypercall_update_va_mapping(TABLE_VA, (frames[0] << PAGE_SHIFT) | PTE_PAGE,
                                          UVMF_INVLPG);
    if (rc)
        test_abort("cannot map our grant table frame %#lx: %ld",
                   (unsigned long)frames[0], rc);
    table = (grant_entry_v1_t *)TABLE_VA;
}

static void check_host_mapping(void)
{
    volatile uint64_t *page = page_alloc();
    volatile uint64_t *mapped = (volatile uint64_t *)MAP_VA;
    uint64_t mfn = virt_to_mfn((void *)page);

    grant_page(REF_RW, (void *)page, GTF_permit_access);
    struct gnttab_map_grant_ref op = gnttab_map1(REF_RW, self, GNTMAP_host_map, MAP_VA);
    test_eq(op.status, GNTST_okay, "map our own grant at MAP_VA");
    if (op.status != GNTST_okay)
        return;
    test_eq(op.dev_bus_addr, mfn << PAGE_SHIFT, "map reports the frame's address");
    uint64_t pte = pte_read(MAP_VA, 1);
    test_eq(pte & PTE_ADDR, mfn << PAGE_SHIFT, "MAP_VA maps the granted frame");
    test_eq(pte & (PTE_P | PTE_RW), PTE_P | PTE_RW, "writable mapping");

    page[0] = 0x1234567890abcdeful;
    test_eq(mapped[0], 0x1234567890abcdeful, "write through the page, read through the mapping");
    mapped[1] = 0xfeedfacecafebeeful;
    test_eq(page[1], 0xfeedfacecafebeeful, "write through the mapping, read through the page");

    test_eq(table[REF_RW].flags, GTF_permit_access | GTF_reading | GTF_writing,
            "entry flags while mapped writable");
    test_ok(!end_access(REF_RW), "ending access while mapped fails");
    test_eq(table[REF_RW].flags, GTF_permit_access | GTF_reading | GTF_writing,
            "entry flags after the failed end of access");

    if (on_pvcore)          /* Xen would accept it and crash us (implicit unmap) */
        test_eq(hypercall_update_va_mapping(MAP_VA, 0, UVMF_INVLPG), -XEN_EPERM,
                "update_va_mapping cannot remove a grant mapping");

    test_eq(gnttab_unmap1(op.handle + 1000, MAP_VA, 0), GNTST_bad_handle,
            "unmap an unknown handle");
    test_eq(gnttab_unmap1(op.handle, MAP_VA, 0), GNTST_okay, "unmap");
    test_eq(pte_read(MAP_VA, 1) & PTE_P, 0, "MAP_VA is unmapped");
    test_eq(table[REF_RW].flags, GTF_permit_access, "entry flags after unmap");
    test_eq(gnttab_unmap1(op.handle, MAP_VA, 0), GNTST_bad_handle, "unmap the same handle again");
    test_ok(end_access(REF_RW), "ending access after unmap succeeds");
    test_eq(table[REF_RW].flags, 0, "entry ended");
}

/* XENFEAT_gnttab_map_avail_bits: GNTMAP_guest_avail0.. land in PTE bits 9-11. */
static void check_avail_bits(void)
{
    void *page = page_alloc();

    grant_page(REF_RW, page, GTF_permit_access);
    struct gnttab_map_grant_ref op =
        gnttab_map1(REF_RW, self, GNTMAP_host_map | GNTMAP_guest_avail0 * 5, MAP_VA);
    test_eq(op.status, GNTST_okay, "map with guest_avail bits 101");
    if (op.status != GNTST_okay)
        return;
    test_eq(pte_read(MAP_VA, 1) & 0xe00, 5ul << 9, "guest_avail bits in PTE bits 9-11");
    test_eq(gnttab_unmap1(op.handle, MAP_VA, 0), GNTST_okay, "unmap the avail-bits mapping");
    test_ok(end_access(REF_RW), "end access after the avail-bits mapping");
}

static void check_readonly(void)
{
    volatile uint64_t *page = page_alloc();
    volatile uint64_t *mapped = (volatile uint64_t *)MAP_VA_RO;

    page[0] = 0x5151515151515151ul;
    grant_page(REF_RO, (void *)page, GTF_permit_access | GTF_readonly);
    struct gnttab_map_grant_ref op = gnttab_map1(REF_RO, self, GNTMAP_host_map, MAP_VA_RO);
    test_eq(op.status, GNTST_general_error, "writable map of a read-only grant");
    test_eq(table[REF_RO].flags, GTF_permit_access | GTF_readonly,
            "entry flags after the refused map");
    op = gnttab_map1(REF_RO, self, GNTMAP_host_map | GNTMAP_readonly, MAP_VA_RO);
    test_eq(op.status, GNTST_okay, "read-only map of a read-only grant");
    if (op.status != GNTST_okay)
        return;
    test_eq(pte_read(MAP_VA_RO, 1) & (PTE_P | PTE_RW), PTE_P, "read-only mapping");
    test_eq(mapped[0], 0x5151515151515151ul, "read through the read-only mapping");
    test_eq(table[REF_RO].flags, GTF_permit_access | GTF_readonly | GTF_reading,
            "entry flags while mapped read-only");
    probe_reset();
    __asm__ volatile(PROBE_ASM("movq $1, (%0)") : : "r"(MAP_VA_RO) : "memory");
    test_eq(last_trap.vector, 14, "a write through the read-only mapping faults");
    test_eq(gnttab_unmap1(op.handle, MAP_VA_RO, 0), GNTST_okay, "unmap the read-only mapping");
    test_ok(end_access(REF_RO), "end access of the read-only grant");
}

/* A grant mapped where an ordinary page is mapped (and its translation was
 * just used, so a CPU may hold it): reads see the granted frame at once.
 * pvcore flushes only when the entry it replaces was present (a fresh map
 * needs no flush); this is the case that needs one. Xen's handling of a
 * map over a present entry is not what this checks: pvcore only. */
static void check_map_over_present(void)
{
    volatile uint64_t *plain = page_alloc(), *granted = page_alloc();
    volatile uint64_t *at = (volatile uint64_t *)MAP_VA_OVER;

    if (!on_pvcore)
        return;
    plain[0] = 0x0101010101010101ul;
    granted[0] = 0x0202020202020202ul;
    test_eq(hypercall_update_va_mapping(MAP_VA_OVER, (virt_to_mfn((void *)plain) << PAGE_SHIFT) | PTE_PAGE,
                                        UVMF_INVLPG), 0, "map an ordinary page at MAP_VA_OVER");
    test_eq(at[0], 0x0101010101010101ul, "read through the ordinary mapping");
    grant_page(REF_RW, (void *)granted, GTF_permit_access);
    struct gnttab_map_grant_ref op = gnttab_map1(REF_RW, self, GNTMAP_host_map, MAP_VA_OVER);
    test_eq(op.status, GNTST_okay, "map a grant over the present entry");
    if (op.status != GNTST_okay)
        return;
    test_eq(at[0], 0x0202020202020202ul, "the next read sees the granted frame, not the old translation");
    test_eq(gnttab_unmap1(op.handle, MAP_VA_OVER, 0), GNTST_okay, "unmap the grant mapped over a present entry");
    test_ok(end_access(REF_RW), "end access after the map over a present entry");
}

static void check_map_refusals(void)
{
    void *page = page_alloc();
    struct gnttab_query_size q = { .dom = DOMID_SELF };

    gnttab(GNTTABOP_query_size, &q, 1);
    grant_page(REF_RW, page, GTF_permit_access);
    grant_ref_t beyond = q.nr_frames * (grant_ref_t)(PAGE_SIZE / sizeof(grant_entry_v1_t));
    test_eq(gnttab_map1(beyond, self, GNTMAP_host_map, MAP_VA).status, GNTST_bad_gntref,
            "map a ref beyond the table");
    test_eq(gnttab_map1(REF_RW, self, 0, MAP_VA).status, GNTST_bad_gntref,
            "map with neither host_map nor device_map");
    test_eq(gnttab_map1(REF_RW, DOMID_SELF, GNTMAP_host_map, MAP_VA).status, GNTST_bad_domain,
            "map naming DOMID_SELF as the granter");
    test_eq(gnttab_map1(REF_RO, self, GNTMAP_host_map | GNTMAP_readonly, MAP_VA).status,
            GNTST_general_error, "map an ended grant");
    test_eq(table[REF_RW].flags, GTF_permit_access, "refusals leave the entry alone");
    test_eq(pte_read(MAP_VA, 1) & PTE_P, 0, "refusals map nothing");

    struct gnttab_map_grant_ref op = { .host_addr = MAP_VA, .flags = GNTMAP_host_map,
                                       .ref = REF_RW, .dom = self };
    test_eq(gnttab(GNTTABOP_map_grant_ref, UNMAPPED_PTR, 1), -XEN_EFAULT,
            "map_grant_ref with an unmapped op array");
    test_eq(gnttab(GNTTABOP_unmap_grant_ref, UNMAPPED_PTR, 1), -XEN_EFAULT,
            "unmap_grant_ref with an unmapped op array");
    test_eq(gnttab(GNTTABOP_copy, UNMAPPED_PTR, 1), -XEN_EFAULT,
            "copy with an unmapped op array");
    test_eq(gnttab(GNTTABOP_map_grant_ref, &op, 0), 0, "map_grant_ref of no ops");
    test_eq(table[REF_RW].flags, GTF_permit_access, "no ops: the entry is untouched");
    test_ok(end_access(REF_RW), "end access of the never-mapped grant");
}

static void check_copy(void)
{
    uint8_t *src = page_alloc(), *dst = page_alloc(), *frame = page_alloc();
    const uint16_t both = GNTCOPY_source_gref | GNTCOPY_dest_gref;

    for (unsigned int i = 0; i < PAGE_SIZE; i++)
        src[i] = (uint8_t)(i * 7);
    grant_page(REF_COPY_SRC, src, GTF_permit_access | GTF_readonly);
    grant_page(REF_COPY_DST, dst, GTF_permit_access);
    struct gnttab_copy ops[6] = {
        gnttab_copy_op(both, REF_COPY_SRC, self, 16, REF_COPY_DST, self, 1000, 500),
        gnttab_copy_op(GNTCOPY_source_gref, REF_COPY_SRC, self, 0, virt_to_mfn(frame),
                       DOMID_SELF, 0, PAGE_SIZE),
        gnttab_copy_op(both, REF_COPY_DST, self, 0, REF_COPY_SRC, self, 0, 8), /* r/o dest */
        gnttab_copy_op(both, REF_COPY_SRC, self, 4000, REF_COPY_DST, self, 0, 200),
        gnttab_copy_op(both, 0xfffff, self, 0, REF_COPY_DST, self, 0, 8),
        gnttab_copy_op(GNTCOPY_dest_gref, virt_to_mfn(frame), self, 0, REF_COPY_DST, self,
                       0, 8),
    };
    test_eq(gnttab(GNTTABOP_copy, ops, 6), 0, "copy batch");
    test_eq(ops[0].status, GNTST_okay, "copy grant to grant");
    test_ok(!memcmp(dst + 1000, src + 16, 500) && dst[999] == 0 && dst[1500] == 0,
            "grant-to-grant copy landed at the right place");
    test_eq(ops[1].status, GNTST_okay, "copy grant to our frame");
    test_ok(!memcmp(frame, src, PAGE_SIZE), "grant-to-frame copy content");
    test_eq(ops[2].status, GNTST_general_error, "copy into a read-only grant");
    test_eq(ops[3].status, GNTST_bad_copy_arg, "copy beyond the page");
    test_eq(ops[4].status, GNTST_bad_gntref, "copy from a bad ref");
    test_eq(ops[5].status, GNTST_permission_denied, "a frame side must say DOMID_SELF");
    test_eq(table[REF_COPY_SRC].flags, GTF_permit_access | GTF_readonly,
            "copies leave no reading flag behind");
    test_eq(table[REF_COPY_DST].flags, GTF_permit_access,
            "copies leave no writing flag behind");
    test_ok(end_access(REF_COPY_SRC) && end_access(REF_COPY_DST), "end access of the copy grants");
}

void test_main(void)
{
    char extra[XEN_EXTRAVERSION_LEN] = "";

    hypercall_xen_version(XENVER_extraversion, extra);
    on_pvcore = strstr(extra, "pvcore") != NULL;
    self = learn_own_domid();
    printk("grant: domid %u on %s\n", self, on_pvcore ? "pvcore" : "Xen");
    check_versions();
    set_up_table();
    if (mm_ensure_l1(MAP_VA) || mm_ensure_l1(MAP_VA_RO) || mm_ensure_l1(MAP_VA_OVER))
        test_abort("no L1 for MAP_VA");
    check_host_mapping();
    check_avail_bits();
    check_readonly();
    check_map_over_present();
    check_map_refusals();
    check_copy();
}
