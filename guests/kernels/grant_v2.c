/*
 * Test kernel: grant tables v2, unmap_and_replace and partial unmaps, one
 * domain granting to itself (as grant.c does, so it runs as Xen's dom0).
 *
 * - set_version / get_version: 3 is -EINVAL; a switch is refused (-EBUSY)
 *   while a grant beyond the 8 reserved ones is mapped; a reserved entry
 *   is carried into v2 and back, every other entry cleared.
 * - get_status_frames: none in v1; in v2 one status frame per 8 table
 *   frames, beyond that GNTST_general_error; the frame is mapped and read.
 * - v2 full_page grants: GTF_reading / GTF_writing appear in the status
 *   frame (not the header) while mapped; ending access the v2 way (clear
 *   the header, then read the status) shows the grant still in use until
 *   unmapped; read-only grants; mapping a sub_page grant is refused.
 * - sub_page grants: copies inside page_off / length work, outside give
 *   GNTST_general_error, beyond the page GNTST_bad_copy_arg; a transitive
 *   grant to ourselves is refused for copies.
 * - going back to v1: -EBUSY while a grant is mapped or a status frame is
 *   mapped, -ERANGE while a reserved entry has a frame above 2^32.
 * - partial unmaps of a host+device mapping: host part, then device part
 *   (and the other way round); status flags and the handle live until the
 *   last part goes.
 * - unmap_and_replace: the PTE at new_addr moves over the grant mapping,
 *   new_addr is cleared and the grant released; new_addr 0 only unmaps.
 */
#include "evtime.h"
#include "gnttab.h"

const char test_name[] = "grant_v2";

#define TABLE_VA     0xffffffffc0300000ul             /* grant table frame 0 */
#define STATUS_VA    (TABLE_VA + PAGE_SIZE)           /* status frame 0 */
#define MAP_VA       0xffffffffc0310000ul             /* grant mappings go here */
#define NEW_VA       (MAP_VA + PAGE_SIZE)             /* unmap_and_replace's new_addr */
#define REF_RESERVED 5                                /* carried across switches */
#define REF_A        16                               /* beyond the reserved ones */
#define REF_B        17
#define REF_C        18
#define REF_D        19
#define V1_PER_FRAME (PAGE_SIZE / sizeof(grant_entry_v1_t))
#define V2_PER_FRAME (PAGE_SIZE / sizeof(union grant_entry_v2))
#define ST_PER_FRAME (PAGE_SIZE / sizeof(grant_status_t))

static domid_t self;
static unsigned int nr_frames;
static volatile grant_entry_v1_t *v1;
static volatile union grant_entry_v2 *v2;
static volatile grant_status_t *status;

static long gnttab(unsigned int cmd, void *op, unsigned int count)
{
    return hypercall_grant_table_op(cmd, op, count);
}

/* Our domid: the remote end recorded for a port offered to DOMID_SELF. */
static domid_t own_domid(void)
{
    evtchn_port_t port;
    struct evtchn_status st;

    if (evtchn_alloc_unbound(DOMID_SELF, &port) || evtchn_status(port, &st) ||
        st.status != EVTCHNSTAT_unbound)
        test_abort("cannot learn our domid from an unbound port");
    evtchn_close(port);
    return st.u.unbound.dom;
}

static long set_version(uint32_t version, uint32_t *in_force)
{
    struct gnttab_set_version sv = { .version = version };
    long rc = gnttab(GNTTABOP_set_version, &sv, 1);

    *in_force = sv.version;
    return rc;
}

static uint32_t get_version(void)
{
    struct gnttab_get_version gv = { .dom = DOMID_SELF };

    test_eq(gnttab(GNTTABOP_get_version, &gv, 1), 0, "get_version");
    return gv.version;
}

static int16_t status_frames(uint32_t nr, uint64_t *list)
{
    struct gnttab_get_status_frames op = { .nr_frames = nr, .dom = DOMID_SELF, .status = 99,
                                           .frame_list = HC(list) };

    test_eq(gnttab(GNTTABOP_get_status_frames, &op, 1), 0, "get_status_frames(%u) call", nr);
    return op.status;
}

static void grant_v1(grant_ref_t ref, void *page, uint16_t flags)
{
    v1[ref].domid = self;
    v1[ref].frame = (uint32_t)virt_to_mfn(page);
    __atomic_store_n(&v1[ref].flags, flags, __ATOMIC_RELEASE);
}

static void grant_full(grant_ref_t ref, uint64_t frame, uint16_t flags)
{
    v2[ref].hdr.domid = self;
    v2[ref].full_page.frame = frame;
    __atomic_store_n(&v2[ref].hdr.flags, flags, __ATOMIC_RELEASE);
}

static void grant_sub(grant_ref_t ref, void *page, uint16_t off, uint16_t len, uint16_t flags)
{
    v2[ref].sub_page.page_off = off;
    v2[ref].sub_page.length = len;
    grant_full(ref, virt_to_mfn(page), GTF_permit_access | GTF_sub_page | flags);
}

/* gnttab_end_foreign_access_ref_v2: clear the header, then the grant is
 * ours again only if the status says nobody uses it. */
static bool end_access_v2(grant_ref_t ref)
{
    __atomic_store_n(&v2[ref].hdr.flags, 0, __ATOMIC_SEQ_CST);
    return !(__atomic_load_n(&status[ref], __ATOMIC_SEQ_CST) & (GTF_reading | GTF_writing));
}

static void set_up_table(void)
{
    static xen_pfn_t frames[4];
    struct gnttab_setup_table st = { .dom = DOMID_SELF, .nr_frames = 4, .status = 99,
                                     .frame_list = HC(frames) };
    struct gnttab_query_size q = { .dom = DOMID_SELF };

    if (gnttab(GNTTABOP_setup_table, &st, 1) || st.status != GNTST_okay)
        test_abort("setup_table of 4 frames: status %d", st.status);
    if (gnttab(GNTTABOP_query_size, &q, 1) || q.status != GNTST_okay)
        test_abort("query_size");
    nr_frames = q.nr_frames;
    if (mm_ensure_l1(TABLE_VA) || mm_ensure_l1(MAP_VA))
        test_abort("no L1 for our mappings");
    gnttab_map_frame(TABLE_VA, frames[0]);
    v1 = (volatile grant_entry_v1_t *)TABLE_VA;
    v2 = (volatile union grant_entry_v2 *)TABLE_VA;
}

/* v1 -> v2: refused while a grant is mapped; the reserved entry moves
 * over, the others are cleared. */
static void switch_to_v2(void *page)
{
    uint32_t v = 0;
    uint64_t list[1];

    test_eq(get_version(), 1, "version at boot");
    test_eq(set_version(3, &v), -XEN_EINVAL, "set_version(3)");
    test_eq(v, 1, "set_version(3) reports the version in force");
    test_eq(status_frames(1, list), GNTST_general_error, "a v1 table has no status frames");

    grant_v1(REF_A, page, GTF_permit_access);
    struct gnttab_map_grant_ref op = gnttab_map1(REF_A, self, GNTMAP_host_map, MAP_VA);
    test_eq(op.status, GNTST_okay, "map a v1 grant");
    test_eq(set_version(2, &v), -XEN_EBUSY, "set_version(2) with a grant mapped");
    test_eq(v, 1, "the refused switch reports v1");
    test_eq(v1[REF_A].flags, GTF_permit_access | GTF_reading | GTF_writing,
            "the mapped entry is untouched by the refused switch");
    test_eq(gnttab_unmap1(op.handle, MAP_VA, 0), GNTST_okay, "unmap the v1 grant");

    grant_v1(REF_RESERVED, page, GTF_permit_access | GTF_readonly);
    test_eq(set_version(2, &v), 0, "set_version(2) with nothing mapped");
    test_eq(v, 2, "set_version(2) reports v2");
    test_eq(get_version(), 2, "get_version after the switch");
    test_eq(v2[REF_RESERVED].hdr.flags, GTF_permit_access | GTF_readonly,
            "reserved entry carried into v2: flags");
    test_eq(v2[REF_RESERVED].hdr.domid, self, "reserved entry carried into v2: domid");
    test_eq(v2[REF_RESERVED].full_page.frame, virt_to_mfn(page),
            "reserved entry carried into v2: frame");
    /* v1 entry REF_A lay where v2 entry REF_A / 2 is now. */
    test_eq(v2[REF_A / 2].hdr.flags | v2[REF_A / 2].full_page.frame, 0,
            "other entries cleared by the switch");
    test_eq(set_version(2, &v), 0, "set_version(2) again: nothing to do");
}

static void map_status_frames(void)
{
    uint64_t list[2] = { 0, 0 };
    unsigned int nr = (nr_frames * V2_PER_FRAME + ST_PER_FRAME - 1) / ST_PER_FRAME;

    test_eq(status_frames(nr, list), GNTST_okay, "get_status_frames(%u) for %u table frames",
            nr, nr_frames);
    test_eq(status_frames(nr + 1, list), GNTST_general_error, "one status frame too many");
    test_ok(list[0] != 0, "status frame 0 is %#lx", (unsigned long)list[0]);
    gnttab_map_frame(STATUS_VA, list[0]);
    status = (volatile grant_status_t *)STATUS_VA;
    test_eq(status[REF_RESERVED], 0, "status of the unused reserved entry");
}

static void check_full_page(void *page)
{
    volatile uint64_t *mapped = (volatile uint64_t *)MAP_VA;
    uint64_t mfn = virt_to_mfn(page);

    grant_full(REF_A, mfn, GTF_permit_access);
    struct gnttab_map_grant_ref op = gnttab_map1(REF_A, self, GNTMAP_host_map, MAP_VA);
    test_eq(op.status, GNTST_okay, "map a v2 full_page grant");
    if (op.status != GNTST_okay)
        return;
    test_eq(op.dev_bus_addr, mfn << PAGE_SHIFT, "map reports the frame");
    test_eq(pte_read(MAP_VA, 1) & PTE_ADDR, mfn << PAGE_SHIFT, "MAP_VA maps the granted frame");
    test_eq(status[REF_A], GTF_reading | GTF_writing, "status while mapped writable");
    test_eq(v2[REF_A].hdr.flags, GTF_permit_access, "the header carries no status in v2");
    mapped[3] = 0x7654321076543210ul;
    test_eq(((volatile uint64_t *)page)[3], 0x7654321076543210ul, "write through the mapping");

    uint32_t v;
    test_eq(set_version(1, &v), -XEN_EBUSY, "set_version(1) with a v2 grant mapped");
    test_eq(v, 2, "the refused switch reports v2");
    test_ok(!end_access_v2(REF_A), "ending access while mapped: still in use");
    test_eq(gnttab_unmap1(op.handle, MAP_VA, 0), GNTST_okay, "unmap the v2 grant");
    test_eq(status[REF_A], 0, "status after unmap");
    test_ok(end_access_v2(REF_A), "ending access after unmap");

    grant_full(REF_B, mfn, GTF_permit_access | GTF_readonly);
    test_eq(gnttab_map1(REF_B, self, GNTMAP_host_map, MAP_VA).status, GNTST_general_error,
            "writable map of a read-only v2 grant");
    test_eq(status[REF_B], 0, "status after the refused map");
    op = gnttab_map1(REF_B, self, GNTMAP_host_map | GNTMAP_readonly, MAP_VA);
    test_eq(op.status, GNTST_okay, "read-only map of a read-only v2 grant");
    test_eq(status[REF_B], GTF_reading, "status while mapped read-only");
    test_eq(pte_read(MAP_VA, 1) & (PTE_P | PTE_RW), PTE_P, "read-only mapping");
    test_eq(gnttab_unmap1(op.handle, MAP_VA, 0), GNTST_okay, "unmap the read-only v2 grant");
    test_ok(end_access_v2(REF_B), "end access of the read-only grant");

    grant_sub(REF_C, page, 0, PAGE_SIZE, 0);
    test_eq(gnttab_map1(REF_C, self, GNTMAP_host_map, MAP_VA).status, GNTST_general_error,
            "mapping a sub_page grant");
    test_eq(status[REF_C], 0, "status after the refused sub_page map");
    test_eq(pte_read(MAP_VA, 1) & PTE_P, 0, "refusals map nothing");
    test_ok(end_access_v2(REF_C), "end access of the sub_page grant");
    grant_ref_t beyond = (grant_ref_t)V2_PER_FRAME * nr_frames;
    test_eq(gnttab_map1(beyond, self, GNTMAP_host_map, MAP_VA).status, GNTST_bad_gntref,
            "ref beyond the v2 table (%u entries)", beyond);
}

/* A copy between two of our own grants. */
static struct gnttab_copy copy_op(grant_ref_t src, uint16_t soff, grant_ref_t dst,
                                  uint16_t doff, uint16_t len)
{
    return gnttab_copy_op(GNTCOPY_source_gref | GNTCOPY_dest_gref, src, self, soff, dst, self,
                          doff, len);
}

static void check_sub_page_copy(void)
{
    uint8_t *src = page_alloc(), *dst = page_alloc(), *whole = page_alloc();

    for (unsigned int i = 0; i < PAGE_SIZE; i++)
        src[i] = (uint8_t)(i * 5 + 1);
    grant_sub(REF_A, src, 256, 512, GTF_readonly);
    grant_sub(REF_B, dst, 1024, 128, 0);
    grant_full(REF_C, virt_to_mfn(whole), GTF_permit_access);
    v2[REF_D].transitive.trans_domid = self;
    v2[REF_D].transitive.gref = REF_C;
    v2[REF_D].hdr.domid = self;
    __atomic_store_n(&v2[REF_D].hdr.flags, GTF_transitive, __ATOMIC_RELEASE);
    struct gnttab_copy ops[7] = {
        copy_op(REF_A, 256, REF_C, 0, 512),         /* the whole window */
        copy_op(REF_A, 300, REF_B, 1024, 128),      /* window to window */
        copy_op(REF_A, 255, REF_C, 0, 8),           /* starts before the window */
        copy_op(REF_A, 700, REF_C, 0, 69),          /* ends after it */
        copy_op(REF_C, 0, REF_B, 1030, 128),        /* destination ends after its window */
        copy_op(REF_A, 4000, REF_C, 0, 200),        /* beyond the page */
        copy_op(REF_D, 0, REF_C, 0, 8),             /* transitive, to ourselves */
    };
    test_eq(gnttab(GNTTABOP_copy, ops, 7), 0, "sub_page copy batch");
    test_eq(ops[0].status, GNTST_okay, "copy of the whole sub_page window");
    test_ok(!memcmp(whole, src + 256, 512), "window copy content");
    test_eq(ops[1].status, GNTST_okay, "copy between sub_page windows");
    test_ok(!memcmp(dst + 1024, src + 300, 128) && dst[1023] == 0 && dst[1152] == 0,
            "window-to-window copy landed inside the window");
    test_eq(ops[2].status, GNTST_general_error, "copy starting before the source window");
    test_eq(ops[3].status, GNTST_general_error, "copy ending after the source window");
    test_eq(ops[4].status, GNTST_general_error, "copy ending after the destination window");
    test_eq(ops[5].status, GNTST_bad_copy_arg, "copy beyond the page");
    test_eq(ops[6].status, GNTST_general_error, "copy through a transitive grant to ourselves");
    for (grant_ref_t r = REF_A; r <= REF_D; r++)
        test_eq(status[r], 0, "status of ref %u after the copies", r);
    for (grant_ref_t r = REF_A; r <= REF_D; r++)
        test_ok(end_access_v2(r), "end access of ref %u", r);
}

/* v2 -> v1: refused while a status frame is mapped and while a reserved
 * entry says what v1 cannot; the reserved entry comes back. */
static void switch_back_to_v1(void *page)
{
    uint32_t v;

    test_eq(set_version(1, &v), -XEN_EBUSY, "set_version(1) with a status frame mapped");
    test_eq(v, 2, "still v2");
    gnttab_map_frame(STATUS_VA, 0);
    status = NULL;
    uint64_t frame = v2[REF_RESERVED].full_page.frame;
    v2[REF_RESERVED].full_page.frame = frame | (1ul << 32);
    test_eq(set_version(1, &v), -XEN_ERANGE, "set_version(1) with a reserved frame above 2^32");
    test_eq(v, 2, "still v2 after -ERANGE");
    v2[REF_RESERVED].full_page.frame = frame;
    test_eq(set_version(1, &v), 0, "set_version(1)");
    test_eq(v, 1, "back to v1");
    test_eq(get_version(), 1, "get_version after switching back");
    test_eq(v1[REF_RESERVED].flags, GTF_permit_access | GTF_readonly,
            "reserved entry carried back: flags");
    test_eq(v1[REF_RESERVED].frame, (uint32_t)virt_to_mfn(page),
            "reserved entry carried back: frame");
    v1[REF_RESERVED].flags = 0;
}

/* Host and device parts of one mapping go separately (v1 again). */
static void check_partial_unmaps(void *page)
{
    uint64_t bus = virt_to_mfn(page) << PAGE_SHIFT;

    grant_v1(REF_A, page, GTF_permit_access);
    struct gnttab_map_grant_ref op =
        gnttab_map1(REF_A, self, GNTMAP_host_map | GNTMAP_device_map, MAP_VA);
    test_eq(op.status, GNTST_okay, "host+device map");
    if (op.status != GNTST_okay)
        return;
    test_eq(op.dev_bus_addr, bus, "host+device map: bus address");
    test_eq(gnttab_unmap1(op.handle, 0, 0), GNTST_okay, "unmap naming no part");
    test_eq(pte_read(MAP_VA, 1) & PTE_ADDR, bus, "naming no part leaves the host mapping");
    test_eq(gnttab_unmap1(op.handle, MAP_VA, 0), GNTST_okay, "unmap the host part");
    test_eq(pte_read(MAP_VA, 1) & PTE_P, 0, "host part gone");
    test_eq(v1[REF_A].flags, GTF_permit_access | GTF_reading | GTF_writing,
            "the device part keeps the grant in use");
    test_eq(gnttab_unmap1(op.handle, MAP_VA, 0), GNTST_okay,
            "unmap the host part again: nothing left");
    test_eq(gnttab_unmap1(op.handle, 0, bus + PAGE_SIZE), GNTST_bad_dev_addr,
            "device part named by the wrong address");
    test_eq(gnttab_unmap1(op.handle, 0, bus), GNTST_okay, "unmap the device part");
    test_eq(v1[REF_A].flags, GTF_permit_access, "flags after the last part");
    test_eq(gnttab_unmap1(op.handle, 0, bus), GNTST_bad_handle,
            "the handle went with the last part");

    op = gnttab_map1(REF_A, self, GNTMAP_host_map | GNTMAP_device_map | GNTMAP_readonly, MAP_VA);
    test_eq(op.status, GNTST_okay, "read-only host+device map");
    test_eq(gnttab_unmap1(op.handle, 0, bus), GNTST_okay, "unmap the device part first");
    test_eq(pte_read(MAP_VA, 1) & (PTE_P | PTE_RW | PTE_ADDR), PTE_P | bus,
            "the host part stays mapped read-only");
    test_eq(v1[REF_A].flags, GTF_permit_access | GTF_reading, "the host part keeps it in use");
    test_eq(gnttab_unmap1(op.handle, MAP_VA, 0), GNTST_okay, "unmap the host part");
    test_eq(v1[REF_A].flags, GTF_permit_access, "flags after both parts");
    test_eq(gnttab_unmap1(op.handle, MAP_VA, bus), GNTST_bad_handle, "nothing left of the mapping");
}

/* Uses REF_A as check_partial_unmaps left it (granted, unmapped). */
static void check_unmap_and_replace(void)
{
    uint8_t *scratch = page_alloc();
    uint64_t scratch_mfn = virt_to_mfn(scratch);

    memset(scratch, 0x5a, PAGE_SIZE);
    if (mm_ensure_l1(NEW_VA))
        test_abort("no L1 for NEW_VA");
    gnttab_map_frame(NEW_VA, scratch_mfn);
    struct gnttab_map_grant_ref op = gnttab_map1(REF_A, self, GNTMAP_host_map, MAP_VA);
    test_eq(op.status, GNTST_okay, "map for unmap_and_replace");
    if (op.status != GNTST_okay)
        return;
    test_eq(gnttab_unmap_and_replace1(op.handle + 1000, MAP_VA, NEW_VA), GNTST_bad_handle,
            "unmap_and_replace of an unknown handle");
    test_eq(gnttab_unmap_and_replace1(op.handle, MAP_VA, NEW_VA), GNTST_okay, "unmap_and_replace");
    test_eq(pte_read(MAP_VA, 1) & (PTE_P | PTE_RW | PTE_ADDR), PTE_P | PTE_RW |
            (scratch_mfn << PAGE_SHIFT), "MAP_VA now maps what NEW_VA mapped");
    test_eq(pte_read(NEW_VA, 1) & PTE_P, 0, "NEW_VA is cleared");
    test_eq(*(volatile uint8_t *)MAP_VA, 0x5a, "read the replacement through MAP_VA");
    test_eq(v1[REF_A].flags, GTF_permit_access, "the grant is released");
    test_eq(gnttab_unmap1(op.handle, MAP_VA, 0), GNTST_bad_handle, "the handle is gone");
    gnttab_map_frame(MAP_VA, 0);

    op = gnttab_map1(REF_A, self, GNTMAP_host_map, MAP_VA);
    test_eq(op.status, GNTST_okay, "map again");
    test_eq(gnttab_unmap_and_replace1(op.handle, MAP_VA, 0), GNTST_okay,
            "unmap_and_replace with no new address");
    test_eq(pte_read(MAP_VA, 1) & PTE_P, 0, "MAP_VA unmapped");
    test_eq(v1[REF_A].flags, GTF_permit_access, "released again");
    v1[REF_A].flags = 0;
}

void test_main(void)
{
    void *page = page_alloc();

    self = own_domid();
    printk("grant_v2: domid %u\n", self);
    set_up_table();
    switch_to_v2(page);
    map_status_frames();
    check_full_page(page);
    check_sub_page_copy();
    switch_back_to_v1(page);
    check_partial_unmaps(page);
    check_unmap_and_replace();
}
