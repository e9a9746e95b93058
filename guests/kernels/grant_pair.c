/*
 * Test kernel: a v2 grant between two domains (pvcore only: Xen runs only
 * dom0 under this QEMU). tests/guests/grant_test.sh boots it twice:
 * `role=granter peer=<mapper's domid>` and `role=mapper peer=<granter's>`.
 *
 * The granter switches its table to v2 and maps its status frame; it
 * grants a page (full_page, REF_FULL) and a 256-byte window of another
 * (sub_page, REF_SUB, read-only) to the mapper. The mapper keeps its
 * table in v1 (a mapper's version does not matter) and maps REF_FULL with
 * GNTMAP_host_map | GNTMAP_device_map once the grant is there. Then, with
 * the page itself as the mailbox (the mapper writes through its mapping
 * or, once that is gone, with GNTTABOP_copy):
 *  - mapper, first: maps and copies of Domain 0's entries, never granted,
 *    are refused and take no memory (grant_test.sh counts the frames);
 *  - granter: sees GTF_reading | GTF_writing in its status frame while
 *    the header stays as it wrote it; set_version(1) is -EBUSY;
 *  - mapper: copies inside the sub_page window (outside it:
 *    GNTST_general_error; a map of it: GNTST_general_error); grants a page
 *    of its own back to the granter and copies from and to it through the
 *    granter's transitive grant naming that one (a map of it:
 *    GNTST_general_error); a second,
 *    host-only mapping of REF_FULL is unmapped with unmap_and_replace by a
 *    page of its own; writes MAPPER_TEXT; unmaps the host part only and
 *    says HOSTGONE by copy;
 *  - granter: the device part still keeps the status set (ending access
 *    the v2 way fails); says DEVNOW;
 *  - mapper: reads DEVNOW by copy, unmaps the device part: the handle is
 *    gone;
 *  - granter: the status drops to 0, access ends; with its status frame
 *    unmapped it switches back to v1.
 * Every wait is bounded (WAIT_NS): a peer that never comes is a FAILURE.
 */
#include "evtime.h"
#include "gnttab.h"

const char test_name[] = "grant_pair";

#define TABLE_VA     0xffffffffc0300000ul
#define STATUS_VA    (TABLE_VA + PAGE_SIZE)
#define MAP_VA       0xffffffffc0310000ul
#define MAP2_VA      (MAP_VA + PAGE_SIZE)
#define NEW_VA       (MAP_VA + 2 * PAGE_SIZE)
#define REF_FULL     16
#define REF_SUB      17
#define REF_TRANS    18                     /* the granter's, naming the mapper's REF_BACK */
#define REF_BACK     20                     /* the mapper's grant to the granter */
#define SUB_OFF      512
#define SUB_LEN      256
#define TEXT         "granted by the granter"
#define MAPPER_OFF   2048
#define MAPPER_TEXT  "written by the mapper"
#define HOSTGONE_OFF 3072
#define HOSTGONE     "HOSTGONE"
#define DEVNOW_OFF   3584
#define DEVNOW       "DEVNOW"
#define WAIT_NS      (30 * NSEC_PER_SEC)
#define STEP_NS      (5 * NSEC_PER_MSEC)

static domid_t peer;

static long gnttab(unsigned int cmd, void *op, unsigned int count)
{
    return hypercall_grant_table_op(cmd, op, count);
}

/* Wait until done() or WAIT_NS; abort naming what never happened. */
static void wait_for(bool (*done)(void), const char *what)
{
    uint64_t end = system_time() + WAIT_NS;

    while (!done()) {
        if (system_time() > end)
            test_abort("waited %llu s for %s", WAIT_NS / NSEC_PER_SEC, what);
        sleep_until(system_time() + STEP_NS);
    }
}

/* ---- the granter ---------------------------------------------------- */

static volatile union grant_entry_v2 *v2;
static volatile grant_status_t *status;
static volatile char *page;

static bool mapped_by_peer(void)
{
    return status[REF_FULL] == (GTF_reading | GTF_writing);
}
static bool mapper_wrote(void)
{
    return !memcmp((const char *)page + MAPPER_OFF, MAPPER_TEXT, sizeof(MAPPER_TEXT));
}
static bool host_part_gone(void)
{
    return !memcmp((const char *)page + HOSTGONE_OFF, HOSTGONE, sizeof(HOSTGONE));
}
static bool unmapped_by_peer(void)
{
    return status[REF_FULL] == 0;
}

static bool end_access_v2(grant_ref_t ref)
{
    __atomic_store_n(&v2[ref].hdr.flags, 0, __ATOMIC_SEQ_CST);
    return !(__atomic_load_n(&status[ref], __ATOMIC_SEQ_CST) & (GTF_reading | GTF_writing));
}

static void grant(grant_ref_t ref, const void *p, uint16_t flags)
{
    v2[ref].hdr.domid = peer;
    v2[ref].full_page.frame = virt_to_mfn(p);
    __atomic_store_n(&v2[ref].hdr.flags, flags, __ATOMIC_RELEASE);
}

static void granter(void)
{
    static xen_pfn_t frames[4];
    struct gnttab_setup_table st = { .dom = DOMID_SELF, .nr_frames = 4, .status = 99,
                                     .frame_list = HC(frames) };
    struct gnttab_set_version sv = { .version = 2 };
    uint64_t status_mfn = 0;
    struct gnttab_get_status_frames gs = { .nr_frames = 1, .dom = DOMID_SELF, .status = 99,
                                           .frame_list = HC(&status_mfn) };
    uint8_t *sub = page_alloc();

    if (gnttab(GNTTABOP_setup_table, &st, 1) || st.status)
        test_abort("setup_table: status %d", st.status);
    test_eq(gnttab(GNTTABOP_set_version, &sv, 1), 0, "set_version(2)");
    test_eq(gnttab(GNTTABOP_get_status_frames, &gs, 1), 0, "get_status_frames");
    test_eq(gs.status, GNTST_okay, "get_status_frames status");
    if (mm_ensure_l1(TABLE_VA))
        test_abort("no L1 for TABLE_VA");
    gnttab_map_frame(TABLE_VA, frames[0]);
    gnttab_map_frame(STATUS_VA, status_mfn);
    v2 = (volatile union grant_entry_v2 *)TABLE_VA;
    status = (volatile grant_status_t *)STATUS_VA;

    page = page_alloc();
    memcpy((char *)page, TEXT, sizeof(TEXT));
    for (unsigned int i = 0; i < PAGE_SIZE; i++)
        sub[i] = (uint8_t)(i ^ 0xa5);
    v2[REF_SUB].sub_page.page_off = SUB_OFF;
    v2[REF_SUB].sub_page.length = SUB_LEN;
    grant(REF_SUB, sub, GTF_permit_access | GTF_sub_page | GTF_readonly);
    grant(REF_FULL, (const void *)page, GTF_permit_access);
    v2[REF_TRANS].transitive.trans_domid = peer;
    v2[REF_TRANS].transitive.gref = REF_BACK;
    v2[REF_TRANS].hdr.domid = peer;
    __atomic_store_n(&v2[REF_TRANS].hdr.flags, GTF_transitive, __ATOMIC_RELEASE);
    printk("granter: refs %u (full page) and %u (sub-page) granted to domain %u\n",
           REF_FULL, REF_SUB, peer);

    wait_for(mapped_by_peer, "the mapper to map the grant");
    test_eq(v2[REF_FULL].hdr.flags, GTF_permit_access, "the header stays as written");
    sv.version = 1;
    test_eq(gnttab(GNTTABOP_set_version, &sv, 1), -XEN_EBUSY,
            "set_version(1) while the peer maps our grant");
    test_eq(sv.version, 2, "still v2");
    wait_for(mapper_wrote, "the mapper's text");
    wait_for(host_part_gone, "the mapper to unmap its host part");
    test_eq(status[REF_FULL], GTF_reading | GTF_writing, "the device part keeps the status");
    test_ok(!end_access_v2(REF_FULL), "ending access while the device part is mapped fails");
    __atomic_store_n(&v2[REF_FULL].hdr.flags, GTF_permit_access, __ATOMIC_RELEASE);
    memcpy((char *)page + DEVNOW_OFF, DEVNOW, sizeof(DEVNOW));
    wait_for(unmapped_by_peer, "the mapper to unmap its device part");
    test_ok(end_access_v2(REF_FULL), "ending access after the last part");
    test_ok(end_access_v2(REF_SUB), "ending the sub-page grant");
    test_ok(end_access_v2(REF_TRANS), "ending the transitive grant");

    gnttab_map_frame(STATUS_VA, 0);
    sv.version = 1;
    test_eq(gnttab(GNTTABOP_set_version, &sv, 1), 0, "set_version(1) at the end");
    test_eq(sv.version, 1, "back to v1");
    printk("granter: the mapper mapped, wrote, unmapped in two parts\n");
}

/* ---- the mapper ----------------------------------------------------- */

/* Copy len bytes between a frame of ours and the peer's grant ref. */
static int16_t copy(bool to_peer, grant_ref_t ref, uint16_t off, void *buf, uint16_t len)
{
    uint64_t mine = virt_to_mfn(buf);
    uint16_t mine_off = (uint16_t)((uint64_t)buf & (PAGE_SIZE - 1));
    struct gnttab_copy op = to_peer
        ? gnttab_copy_op(GNTCOPY_dest_gref, mine, DOMID_SELF, mine_off, ref, peer, off, len)
        : gnttab_copy_op(GNTCOPY_source_gref, ref, peer, off, mine, DOMID_SELF, mine_off, len);

    test_eq(gnttab(GNTTABOP_copy, &op, 1), 0, "copy call");
    return op.status;
}

static struct gnttab_map_grant_ref first_map;

static bool grant_is_there(void)
{
    first_map = gnttab_map1(REF_FULL, peer, GNTMAP_host_map | GNTMAP_device_map, MAP_VA);
    return first_map.status == GNTST_okay;
}

static char *scratch;

static bool devnow_said(void)
{
    memset(scratch, 0, sizeof(DEVNOW));
    return copy(false, REF_FULL, DEVNOW_OFF, scratch, sizeof(DEVNOW)) == GNTST_okay &&
           !memcmp(scratch, DEVNOW, sizeof(DEVNOW));
}

static void mapper_sub_page(void)
{
    uint8_t *buf = page_alloc();
    bool same = true;

    test_eq(copy(false, REF_SUB, SUB_OFF, buf, SUB_LEN), GNTST_okay,
            "copy the whole sub-page window");
    for (unsigned int i = 0; i < SUB_LEN; i++)
        same &= buf[i] == (uint8_t)((SUB_OFF + i) ^ 0xa5);
    test_ok(same, "the window's bytes arrive");
    test_eq(copy(false, REF_SUB, SUB_OFF - 4, buf, 8), GNTST_general_error,
            "copy starting before the window");
    test_eq(copy(false, REF_SUB, SUB_OFF + SUB_LEN - 4, buf, 8), GNTST_general_error,
            "copy ending after the window");
    test_eq(gnttab_map1(REF_SUB, peer, GNTMAP_host_map | GNTMAP_readonly, MAP2_VA).status,
            GNTST_general_error, "mapping a sub-page grant");
}

static void mapper_replace(void)
{
    uint8_t *mine = page_alloc();
    uint64_t mine_mfn = virt_to_mfn(mine);

    memset(mine, 0x3c, PAGE_SIZE);
    gnttab_map_frame(NEW_VA, mine_mfn);
    struct gnttab_map_grant_ref op = gnttab_map1(REF_FULL, peer, GNTMAP_host_map, MAP2_VA);
    test_eq(op.status, GNTST_okay, "a second, host-only mapping");
    if (op.status != GNTST_okay)
        return;
    test_eq(gnttab_unmap_and_replace1(op.handle, MAP2_VA, NEW_VA), GNTST_okay,
            "unmap_and_replace of the second mapping");
    test_eq(pte_read(MAP2_VA, 1) & PTE_ADDR, mine_mfn << PAGE_SHIFT,
            "MAP2_VA now maps our own page");
    test_eq(pte_read(NEW_VA, 1) & PTE_P, 0, "NEW_VA cleared");
    test_eq(*(volatile uint8_t *)MAP2_VA, 0x3c, "read our page through MAP2_VA");
    gnttab_map_frame(MAP2_VA, 0);
}

/* The mapper grants a page of its own to the granter (REF_BACK, v1) and
 * reaches it back through the granter's transitive grant REF_TRANS. */
static void mapper_transitive(void)
{
    static xen_pfn_t frames[1];
    struct gnttab_setup_table st = { .dom = DOMID_SELF, .nr_frames = 1, .status = 99,
                                     .frame_list = HC(frames) };
    uint8_t *own = page_alloc(), *buf = page_alloc();

    if (gnttab(GNTTABOP_setup_table, &st, 1) || st.status)
        test_abort("setup_table: status %d", st.status);
    if (mm_ensure_l1(TABLE_VA))
        test_abort("no L1 for TABLE_VA");
    gnttab_map_frame(TABLE_VA, frames[0]);
    volatile grant_entry_v1_t *v1 = (volatile grant_entry_v1_t *)TABLE_VA;
    for (unsigned int i = 0; i < PAGE_SIZE; i++)
        own[i] = (uint8_t)(i * 7 + 3);
    v1[REF_BACK].domid = peer;
    v1[REF_BACK].frame = (uint32_t)virt_to_mfn(own);
    __atomic_store_n(&v1[REF_BACK].flags, GTF_permit_access, __ATOMIC_RELEASE);

    test_eq(copy(false, REF_TRANS, 100, buf, 200), GNTST_okay,
            "copy from our own page through the granter's transitive grant");
    test_ok(!memcmp(buf, own + 100, 200), "the transitive copy reads our page");
    memset(buf, 0xee, 16);
    test_eq(copy(true, REF_TRANS, 4000, buf, 16), GNTST_okay,
            "copy into our page through the transitive grant");
    test_eq(own[4000] & own[4015], 0xee, "the transitive copy wrote our page");
    test_eq(v1[REF_BACK].flags, GTF_permit_access, "nothing stays pinned after the copies");
    test_eq(gnttab_map1(REF_TRANS, peer, GNTMAP_host_map, MAP2_VA).status, GNTST_general_error,
            "mapping a transitive grant");
    __atomic_store_n(&v1[REF_BACK].flags, 0, __ATOMIC_RELEASE);
    test_eq(copy(false, REF_TRANS, 0, buf, 8), GNTST_general_error,
            "the transitive grant after we ended ours");
    gnttab_map_frame(TABLE_VA, 0);
}

/* Grants nobody gave: entries of Domain 0's table (it grants nothing in
 * these boots), in both pages of active entries its first frame has. Each
 * map and copy is refused; grant_test.sh's end-of-boot frame count checks
 * they took no memory for Domain 0's table, which outlives every guest
 * (pages of active entries come with a grant's first pin, and a stranger's
 * try once kept one there). */
static void mapper_strangers(void)
{
    static const grant_ref_t refs[] = { 8, 300 };
    uint8_t *buf = page_alloc();

    for (unsigned int i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
        test_eq(gnttab_map1(refs[i], 0, GNTMAP_host_map | GNTMAP_readonly, MAP2_VA).status,
                GNTST_general_error, "mapping Domain 0's ref %u, never granted", refs[i]);
        struct gnttab_copy op = gnttab_copy_op(GNTCOPY_source_gref, refs[i], 0, 0,
                                               virt_to_mfn(buf), DOMID_SELF, 0, 8);
        test_eq(gnttab(GNTTABOP_copy, &op, 1), 0, "copy call");
        test_eq(op.status, GNTST_general_error, "copying from Domain 0's ref %u, never granted",
                refs[i]);
    }
}

static void mapper(void)
{
    if (mm_ensure_l1(MAP_VA))
        test_abort("no L1 for MAP_VA");
    scratch = page_alloc();
    mapper_strangers();
    wait_for(grant_is_there, "the granter's grant");
    uint64_t bus = first_map.dev_bus_addr;
    volatile char *mapped = (volatile char *)MAP_VA;
    test_ok(!memcmp((const char *)mapped, TEXT, sizeof(TEXT)), "read the granter's text");

    mapper_sub_page();
    mapper_replace();
    mapper_transitive();

    memcpy((char *)mapped + MAPPER_OFF, MAPPER_TEXT, sizeof(MAPPER_TEXT));
    test_eq(gnttab_unmap1(first_map.handle, MAP_VA, 0), GNTST_okay, "unmap the host part");
    test_eq(pte_read(MAP_VA, 1) & PTE_P, 0, "host part gone");
    memcpy(scratch, HOSTGONE, sizeof(HOSTGONE));
    test_eq(copy(true, REF_FULL, HOSTGONE_OFF, scratch, sizeof(HOSTGONE)), GNTST_okay,
            "tell the granter by copy (the device part keeps the grant)");
    wait_for(devnow_said, "the granter's go-ahead");
    test_eq(gnttab_unmap1(first_map.handle, 0, bus), GNTST_okay, "unmap the device part");
    test_eq(gnttab_unmap1(first_map.handle, 0, bus), GNTST_bad_handle, "the handle went with it");
    printk("mapper: mapped, wrote, replaced, unmapped in two parts\n");
}

void test_main(void)
{
    char role[16];

    peer = (domid_t)cmdline_u64("peer", DOMID_SELF);
    if (!cmdline_str("role", role, sizeof(role)) || peer >= DOMID_FIRST_RESERVED)
        test_abort("cmdline needs role=granter|mapper peer=<domid>, got \"%s\"",
                   (const char *)start_info->cmd_line);
    if (!strncmp(role, "granter", sizeof(role)))
        granter();
    else if (!strncmp(role, "mapper", sizeof(role)))
        mapper();
    else
        test_abort("unknown role \"%s\"", role);
}
