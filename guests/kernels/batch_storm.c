/*
 * Test kernel: the longest batches a guest can issue (issue 13,
 * "Unbounded, non-preemptible hypercalls"), and that batches the
 * hypervisor stops and continues give exactly the results of
 * uninterrupted ones.
 *
 * A batch's array does not need a guest's memory: one frame of requests
 * mapped at `pages` consecutive pages (default 4096, 16 MiB) of the top
 * GiB of the address space reads as one long array, so one call carries
 * 1 M mmu_update requests, 699050 mmuext_ops, 262144 multicall entries or
 * 699050 grant unmaps (every 8-byte word of the frame is the same, so an
 * element split across two pages is the same element). One page of each
 * array (`bad`, default 3000) maps a frame of failing requests instead.
 *
 * Checks, the same on pvcore and Xen 4.17:
 *  - mmu_update of the whole array stops at the first request of the bad
 *    page with -ENOSYS and done = its index; a full-length batch of good
 *    requests is done whole (done = count, also inside a multicall);
 *  - mmuext_op likewise (-ENOSYS at the first op starting in the bad
 *    page);
 *  - a multicall of the whole array runs every entry: rc 0, the good
 *    entries' and bad entries' results;
 *  - grant unmaps of unknown handles: rc 0, every status GNTST_bad_handle;
 *  - decrease_reservation of every spare frame with a foreign one at
 *    index `spare / 2`: that many done; populate_physmap gives them back;
 *  - XENMEM_exchange of 64 spare frames with a foreign one among them:
 *    -EINVAL, nr_exchanged its index; then the rest.
 * On pvcore also: a multicall entry's arguments show the continuation of
 * its stopped mmu_update (Xen's encoding: the list advanced, the count
 * with MMU_UPDATE_PREEMPTED), i.e. the batch was stopped and continued.
 * Then, for `ms` milliseconds (default 6000), it issues all of them in a
 * loop: a ticker on the same CPU (timer_lateness) measures how late its
 * timer gets (tests/guests/batch_test.sh).
 */
#include "evtime.h"

const char test_name[] = "batch_storm";

#define ALIAS_BASE   0xffffffffc0000000ul       /* the top GiB */
#define REGION_SIZE  (16ul << 20)               /* per array */
#define MMU_PREEMPTED 0x80000000u
#define GNT_WORD     0x0000fffcfffffffful        /* handle ~0, status bad_handle */
#define MMUEXT_BAD   99u                        /* no such mmuext command */

enum region { R_MMU, R_EXT, R_MC, R_GNT, NR_REGIONS };

static unsigned int pages, bad_page;
static uint64_t *scratch;                       /* mmu_update writes here */
static uint64_t *gnt;                           /* the grant unmap frame */
static multicall_entry_t *mc_good, *mc_bad;     /* the multicall frames */
static xen_pfn_t *spare;                        /* frames to balloon */
static unsigned int nr_spare;

static uint64_t region_va(enum region r)
{
    return ALIAS_BASE + r * REGION_SIZE;
}

/* Map frame mfn at every page of region r (the bad page: bad_mfn). */
static void alias_region(enum region r, uint64_t mfn, uint64_t bad_mfn, bool writable)
{
    static mmu_update_t reqs[256];
    unsigned int n = 0, done;

    for (unsigned int p = 0; p < pages; p++) {
        uint64_t va = region_va(r) + (uint64_t)p * PAGE_SIZE;
        if (p % 512 == 0 && mm_ensure_l1(va))
            test_abort("no L1 for the alias region at %#lx", (unsigned long)va);
        reqs[n++] = (mmu_update_t){
            .ptr = pte_maddr(va, 1),
            .val = ((p == bad_page ? bad_mfn : mfn) << PAGE_SHIFT) | PTE_P | PTE_A |
                   (writable ? PTE_RW | PTE_D : 0),
        };
        if (n == ARRAY_SIZE(reqs) || p == pages - 1) {
            long rc = hypercall_mmu_update(reqs, n, &done, DOMID_SELF);
            if (rc)
                test_abort("mapping the alias region %u: %ld", r, rc);
            n = 0;
        }
    }
}

static void *fill_page(uint64_t word)
{
    uint64_t *p = page_alloc();
    for (unsigned int i = 0; i < PAGE_SIZE / 8; i++)
        p[i] = word;
    return p;
}

static void setup(void)
{
    /* mmu_update: request i writes slot i % 512 of scratch; bad: cmd 4. */
    scratch = page_alloc();
    mmu_update_t *good = page_alloc(), *badreq = page_alloc();
    for (unsigned int i = 0; i < PAGE_SIZE / sizeof(*good); i++) {
        good[i] = (mmu_update_t){ virt_to_mfn(scratch) * PAGE_SIZE + (i % 512) * 8,
                                  0x5a00 + i };
        badreq[i] = good[i];
        badreq[i].ptr |= 4;
    }
    /* multicall: xen_version(XENVER_version) entries; bad: hypercall 100. */
    multicall_entry_t *mc = page_alloc(), *mcbad = page_alloc();
    for (unsigned int i = 0; i < PAGE_SIZE / sizeof(*mc); i++) {
        mc[i] = (multicall_entry_t){ .op = __HYPERVISOR_xen_version,
                                     .args = { XENVER_version } };
        mcbad[i] = (multicall_entry_t){ .op = 100 };
    }
    void *ext = fill_page(MMUEXT_TLB_FLUSH_LOCAL), *extbad = fill_page(MMUEXT_BAD);
    gnt = fill_page(GNT_WORD & 0xffffffffu);    /* statuses 0 until written */
    mc_good = mc;
    mc_bad = mcbad;
    /* Read-only aliases where nothing is written back. */
    alias_region(R_MMU, virt_to_mfn(good), virt_to_mfn(badreq), false);
    alias_region(R_EXT, virt_to_mfn(ext), virt_to_mfn(extbad), false);
    alias_region(R_MC, virt_to_mfn(mc), virt_to_mfn(mcbad), true);
    alias_region(R_GNT, virt_to_mfn(gnt), virt_to_mfn(gnt), true);
}

/* Counts of the whole arrays, and the index of the first failing element. */
#define N_MMU  ((uint64_t)pages * (PAGE_SIZE / sizeof(mmu_update_t)))
#define N_EXT  ((uint64_t)pages * PAGE_SIZE / sizeof(struct mmuext_op))
#define N_MC   ((uint64_t)pages * (PAGE_SIZE / sizeof(multicall_entry_t)))
#define N_GNT  ((uint64_t)pages * PAGE_SIZE / sizeof(struct gnttab_unmap_grant_ref))
#define BAD_MMU ((uint64_t)bad_page * (PAGE_SIZE / sizeof(mmu_update_t)))
#define BAD_EXT (((uint64_t)bad_page * PAGE_SIZE + sizeof(struct mmuext_op) - 1) / \
                 sizeof(struct mmuext_op))

static long memop(unsigned int cmd, xen_pfn_t *list, uint64_t n)
{
    struct xen_memory_reservation r = { .extent_start = HC(list), .nr_extents = n,
                                        .domid = DOMID_SELF };
    return hypercall_memory_op(cmd, &r);
}

/* The unmapped pfns (at most 4096) and their frames. */
static void spare_setup(void)
{
    uint64_t first = mm_mapped_pfns();

    nr_spare = start_info->nr_pages - first;
    if (nr_spare > 4096)
        nr_spare = 4096;
    spare = page_alloc();
    for (unsigned int i = 1; i < (nr_spare * sizeof(xen_pfn_t) + PAGE_SIZE - 1) / PAGE_SIZE; i++)
        page_alloc();                   /* the pool is contiguous */
    for (unsigned int i = 0; i < nr_spare; i++)
        spare[i] = p2m[first + i];
}

/* Give back n spare frames and take as many again, p2m updated. */
static long balloon_cycle(unsigned int n)
{
    uint64_t first = mm_mapped_pfns();
    long rc = memop(XENMEM_decrease_reservation, spare, n);

    if (rc != (long)n)
        return rc;
    for (unsigned int i = 0; i < n; i++)
        spare[i] = first + i;           /* gpfns in, frames out */
    rc = memop(XENMEM_populate_physmap, spare, n);
    for (unsigned int i = 0; i < n && i < (unsigned long)rc; i++)
        p2m[first + i] = spare[i];
    return rc;
}

static void check_results(void)
{
    unsigned int done;
    long rc;

    done = 7;
    rc = hypercall_mmu_update((mmu_update_t *)region_va(R_MMU), N_MMU, &done, DOMID_SELF);
    test_eq(rc, -XEN_ENOSYS, "mmu_update of %lu requests, bad ones from %lu",
            (unsigned long)N_MMU, (unsigned long)BAD_MMU);
    test_eq(done, BAD_MMU, "mmu_update: done is the index of the first bad request");
    test_eq(scratch[255], 0x5a00 + 255, "mmu_update: the requests before it wrote");
    done = 7;
    rc = hypercall_mmu_update((mmu_update_t *)region_va(R_MMU), BAD_MMU, &done, DOMID_SELF);
    test_eq(rc, 0, "mmu_update of the %lu good requests", (unsigned long)BAD_MMU);
    test_eq(done, BAD_MMU, "mmu_update: all done");

    done = 7;
    rc = hypercall_mmuext_op((struct mmuext_op *)region_va(R_EXT), N_EXT, &done, DOMID_SELF);
    test_eq(rc, -XEN_ENOSYS, "mmuext_op of %lu ops, bad ones from %lu",
            (unsigned long)N_EXT, (unsigned long)BAD_EXT);
    test_eq(done, BAD_EXT, "mmuext_op: done is the index of the first bad op");

    mc_good[0].result = mc_bad[0].result = 0xdead;
    rc = hypercall_multicall((multicall_entry_t *)region_va(R_MC), N_MC);
    test_eq(rc, 0, "multicall of %lu entries", (unsigned long)N_MC);
    test_eq(mc_good[0].result, hypercall_xen_version(XENVER_version, NULL),
            "multicall: the good entries' result");
    test_eq(mc_bad[0].result, -XEN_ENOSYS, "multicall: the bad page's entries' result");

    /* One entry: mmu_update of the good requests, its done count. */
    static multicall_entry_t one[2];
    one[0] = (multicall_entry_t){ .op = __HYPERVISOR_mmu_update,
                                  .args = { region_va(R_MMU), BAD_MMU, HC(&done), DOMID_SELF } };
    one[1] = (multicall_entry_t){ .op = __HYPERVISOR_xen_version, .args = { XENVER_version } };
    done = 7;
    rc = hypercall_multicall(one, 2);
    test_eq(rc, 0, "multicall of a long mmu_update");
    test_eq(one[0].result, 0, "multicall: the mmu_update's result");
    test_eq(done, BAD_MMU, "multicall: the mmu_update's done count");
    test_eq(one[1].result, hypercall_xen_version(XENVER_version, NULL),
            "multicall: the entry after it ran");
    if (running_on_pvcore()) {
        /* The entry holds its last continuation (Xen's encoding). */
        test_ok(one[0].args[1] & MMU_PREEMPTED, "multicall: the mmu_update was stopped and "
                "continued (count %#lx)", (unsigned long)one[0].args[1]);
        test_eq((one[0].args[0] - region_va(R_MMU)) / sizeof(mmu_update_t) +
                    (one[0].args[1] & ~(uint64_t)MMU_PREEMPTED), BAD_MMU,
                "multicall: list advanced + count left = the batch");
    }

    rc = hypercall_grant_table_op(GNTTABOP_unmap_grant_ref, (void *)region_va(R_GNT), N_GNT);
    test_eq(rc, 0, "grant unmap of %lu unknown handles", (unsigned long)N_GNT);
    unsigned int wrong = 0;
    for (unsigned int i = 0; i < PAGE_SIZE / 8; i++)
        wrong += gnt[i] != GNT_WORD;
    test_eq(wrong, 0, "grant unmap: every status GNTST_bad_handle");

    if (nr_spare < 2) {
        test_ok(false, "no spare frames to balloon (%u)", nr_spare);
        return;
    }
    unsigned int half = nr_spare / 2;
    xen_pfn_t keep = spare[half];
    spare[half] = mm_foreign_ram_mfn();
    rc = memop(XENMEM_decrease_reservation, spare, nr_spare);
    test_eq(rc, half, "decrease_reservation of %u frames, a foreign one at %u", nr_spare, half);
    spare[half] = keep;
    uint64_t first = mm_mapped_pfns();
    for (unsigned int i = 0; i < half; i++)
        spare[i] = first + i;
    rc = memop(XENMEM_populate_physmap, spare, half);
    test_eq(rc, half, "populate_physmap of them again");
    for (unsigned int i = 0; i < half && i < (unsigned long)rc; i++)
        p2m[first + i] = spare[i];
}

/* XENMEM_exchange of the first spare frames (order 0), a foreign frame
 * at 5/8 of them: -EINVAL with nr_exchanged its index, the frames before
 * it swapped for new ones at the same gpfns; then the rest. */
static void check_exchange(void)
{
    static xen_pfn_t in[64], out[64];
    unsigned int n = nr_spare < 64 ? nr_spare : 64, bad = n * 5 / 8;
    uint64_t first = mm_mapped_pfns();
    long before = hypercall_memory_op(XENMEM_current_reservation, &(domid_t){ DOMID_SELF });

    for (unsigned int i = 0; i < n; i++) {
        in[i] = spare[i];
        out[i] = first + i;
    }
    in[bad] = mm_foreign_ram_mfn();
    struct xen_memory_exchange x = {
        .in = { .extent_start = HC(in), .nr_extents = n, .domid = DOMID_SELF },
        .out = { .extent_start = HC(out), .nr_extents = n, .domid = DOMID_SELF },
    };
    long rc = hypercall_memory_op(XENMEM_exchange, &x);
    test_eq(rc, -XEN_EINVAL, "exchange of %u frames, a foreign one at %u", n, bad);
    test_eq(x.nr_exchanged, bad, "exchange: nr_exchanged is the foreign frame's index");
    in[bad] = spare[bad];
    rc = hypercall_memory_op(XENMEM_exchange, &x);
    test_eq(rc, 0, "exchange of the rest");
    test_eq(x.nr_exchanged, n, "exchange: all exchanged");
    unsigned int wrong = 0;
    for (unsigned int i = 0; i < n; i++) {
        wrong += out[i] == in[i];               /* a new frame each */
        wrong += m2p[out[i]] != first + i;
        spare[i] = out[i];
        p2m[first + i] = out[i];
    }
    test_eq(wrong, 0, "exchange: new frames at the gpfns asked for (m2p)");
    test_eq(hypercall_memory_op(XENMEM_current_reservation, &(domid_t){ DOMID_SELF }), before,
            "exchange: the reservation is unchanged");
}

void test_main(void)
{
    pages = cmdline_u64("pages", 4096);
    bad_page = cmdline_u64("bad", 3000);
    uint64_t ms = cmdline_u64("ms", 6000);

    if (pages < 2 || pages > REGION_SIZE / PAGE_SIZE || bad_page >= pages)
        test_abort("pages=%u bad=%u: need 2 <= pages <= %lu and bad < pages", pages, bad_page,
                   REGION_SIZE / PAGE_SIZE);
    setup();
    spare_setup();
    uint64_t t0 = system_time();
    check_results();
    check_exchange();
    printk("batch_storm: checks took %lu ms\n", (unsigned long)((system_time() - t0) / NSEC_PER_MSEC));

    /* The storm: the longest good batches of each kind, for ms. */
    uint64_t end = system_time() + ms * NSEC_PER_MSEC, rounds = 0;
    while (system_time() < end) {
        unsigned int done;
        long rc = hypercall_mmu_update((mmu_update_t *)region_va(R_MMU), BAD_MMU, &done,
                                       DOMID_SELF);
        rc |= hypercall_mmuext_op((struct mmuext_op *)region_va(R_EXT), BAD_EXT, &done,
                                  DOMID_SELF);
        rc |= hypercall_multicall((multicall_entry_t *)region_va(R_MC), N_MC);
        rc |= hypercall_grant_table_op(GNTTABOP_unmap_grant_ref, (void *)region_va(R_GNT),
                                       N_GNT);
        if (rc || balloon_cycle(nr_spare) != (long)nr_spare)
            test_abort("storm round %lu failed (%ld)", (unsigned long)rounds, rc);
        rounds++;
    }
    printk("batch_storm: %lu rounds of %lu + %lu + %lu + %lu + 2 x %u elements in %lu ms\n",
           (unsigned long)rounds, (unsigned long)BAD_MMU, (unsigned long)BAD_EXT,
           (unsigned long)N_MC, (unsigned long)N_GNT, nr_spare, (unsigned long)ms);
}
