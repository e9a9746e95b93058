/*
 * Test kernel: a grant to Domain 0 (tests/dom0link/test_link.c drives the
 * other side through the control interface).
 *
 * 1. GNTTABOP_setup_table (1 frame), mapped over a page of the image.
 * 2. A fresh page holds GRANT_TEXT; grant ref GREF gives Domain 0
 *    read/write access to it. Says "grant: ref=GREF ready" on the PV console.
 * 3. Waits (up to WAIT_NS) for Domain 0 to write DOM0_TEXT at offset
 *    REPLY_OFF of the page (it maps the grant and writes through it).
 * 4. Tries to end access the way a frontend does (clear the flags unless
 *    GTF_reading / GTF_writing is set): while Domain 0 has the grant
 *    mapped this must be refused. Says "grant: end while mapped: refused".
 * 5. Retries until Domain 0 has unmapped (up to WAIT_NS): must succeed.
 *    Says "grant: end after unmap: ok" and finishes.
 * Each step's failure is a test FAILURE (on the hypervisor console) and a
 * "grant: FAIL ..." line on the PV console.
 *
 * batch=1 (tests/dom0link/test_grant_batch.c, GRANT_MAP_BATCH): refs
 * BATCH_FIRST.. (BATCH_N of them) each grant a page holding "granted page
 * I" read/write, ref BATCH_RO a page "read-only page" with GTF_readonly;
 * "grant: batch ready". Waits for Domain 0 to write "written by domain 0
 * I" at REPLY_OFF of every writable page ("grant: batch written"); ending
 * access to them while mapped must be refused ("grant: batch end while
 * mapped: refused"); then, once Domain 0 has unmapped them, it must
 * succeed for every one ("grant: batch end after unmap: ok").
 */
#include "evtime.h"
#include "pvconsole.h"

const char test_name[] = "grant_dom0";

#define GREF        8
#define REPLY_OFF   2048
#define GRANT_TEXT  "granted by the guest"
#define DOM0_TEXT   "written by domain 0"
#define WAIT_NS     (30 * NSEC_PER_SEC)
#define STEP_NS     (10 * NSEC_PER_MSEC)
#define BATCH_FIRST 8
#define BATCH_N     6
#define BATCH_RO    20

static uint8_t table_page[PAGE_SIZE] ALIGNED(PAGE_SIZE);

static NORETURN void fail(const char *what)
{
    pvconsole_printf("grant: FAIL %s\n", what);
    test_abort("%s", what);
}

/* gnttab_end_foreign_access_ref, v1: 1 when access ended. */
static int end_access(volatile grant_entry_v1_t *e)
{
    uint16_t flags = e->flags;

    for (;;) {
        if (flags & (GTF_reading | GTF_writing))
            return 0;
        if (__atomic_compare_exchange_n(&e->flags, &flags, 0, false, __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST))
            return 1;
    }
}

/* Grant page to Domain 0 as ref in table t. */
static void grant(volatile grant_entry_v1_t *t, unsigned int ref, const void *page, uint16_t flags)
{
    t[ref].domid = 0;
    t[ref].frame = (uint32_t)virt_to_mfn(page);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    t[ref].flags = GTF_permit_access | flags;
}

static void batch(volatile grant_entry_v1_t *t)
{
    char *pages[BATCH_N], want[BATCH_N][32];
    char *ro = page_alloc();

    for (unsigned int i = 0; i < BATCH_N; i++) {
        pages[i] = page_alloc();
        snprintf(pages[i], PAGE_SIZE, "granted page %u", i);
        snprintf(want[i], sizeof(want[i]), "%s %u", DOM0_TEXT, i);
        grant(t, BATCH_FIRST + i, pages[i], 0);
    }
    snprintf(ro, PAGE_SIZE, "read-only page");
    grant(t, BATCH_RO, ro, GTF_readonly);
    pvconsole_printf("grant: batch ready\n");

    for (unsigned int i = 0; i < BATCH_N; i++) {
        uint64_t end = system_time() + WAIT_NS;
        while (strncmp(pages[i] + REPLY_OFF, want[i], sizeof(want[i])) && system_time() < end)
            sleep_until(system_time() + STEP_NS);
        if (strncmp(pages[i] + REPLY_OFF, want[i], sizeof(want[i])))
            fail("Domain 0 did not write through every grant of the batch");
    }
    pvconsole_printf("grant: batch written\n");
    for (unsigned int i = 0; i < BATCH_N; i++)
        if (end_access(&t[BATCH_FIRST + i]))
            fail("batch: end access while mapped: allowed");
    pvconsole_printf("grant: batch end while mapped: refused\n");

    uint64_t end = system_time() + WAIT_NS;
    for (unsigned int i = 0; i < BATCH_N; i++)
        while (!end_access(&t[BATCH_FIRST + i]) && system_time() < end)
            sleep_until(system_time() + STEP_NS);
    for (unsigned int i = 0; i < BATCH_N; i++)
        if (t[BATCH_FIRST + i].flags)
            fail("batch: end access after unmap: still refused");
    pvconsole_printf("grant: batch end after unmap: ok\n");
}

void test_main(void)
{
    xen_pfn_t frame = 0;
    struct gnttab_setup_table st = {
        .dom = DOMID_SELF, .nr_frames = 1, .frame_list = (uint64_t)&frame,
    };

    pvconsole_init();
    if (hypercall_grant_table_op(GNTTABOP_setup_table, &st, 1) || st.status)
        fail("setup_table");
    if (hypercall_update_va_mapping((uint64_t)table_page, (frame << PAGE_SHIFT) | PTE_PAGE,
                                    UVMF_INVLPG))
        fail("mapping the grant table frame");
    if (cmdline_u64("batch", 0)) {
        batch((volatile grant_entry_v1_t *)table_page);
        return;
    }
    volatile grant_entry_v1_t *e = (volatile grant_entry_v1_t *)table_page + GREF;
    char *page = page_alloc();
    memcpy(page, GRANT_TEXT, sizeof(GRANT_TEXT));
    e->domid = 0;
    e->frame = (uint32_t)virt_to_mfn(page);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    e->flags = GTF_permit_access;
    pvconsole_printf("grant: ref=%u ready\n", GREF);

    uint64_t end = system_time() + WAIT_NS;
    while (memcmp(page + REPLY_OFF, DOM0_TEXT, sizeof(DOM0_TEXT)) && system_time() < end)
        sleep_until(system_time() + STEP_NS);
    if (memcmp(page + REPLY_OFF, DOM0_TEXT, sizeof(DOM0_TEXT)))
        fail("Domain 0 did not write through the grant");
    pvconsole_printf("grant: domain 0 wrote \"%s\"\n", page + REPLY_OFF);

    if (end_access(e))
        fail("end access while mapped: allowed");
    pvconsole_printf("grant: end while mapped: refused\n");

    end = system_time() + WAIT_NS;
    while (!end_access(e) && system_time() < end)
        sleep_until(system_time() + STEP_NS);
    if (e->flags)
        fail("end access after unmap: still refused");
    pvconsole_printf("grant: end after unmap: ok\n");
}
