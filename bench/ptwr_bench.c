/*
 * ptwr_bench.c - a PV guest kernel that measures what a page-table entry
 * update costs when written directly (a #PF that the hypervisor emulates,
 * pv/ptwr.c) against an mmu_update hypercall of one entry, and prints the
 * ratio. Built with the test-kernel library (guests/lib) and booted by
 * bench/ptwr_bench.sh (`make bench`).
 *
 * Each round remaps one address between two pages, so every update
 * takes the full check (new references taken, old ones dropped) rather
 * than the fast path for flag-only changes. The two methods alternate in
 * batches and each keeps its fastest batch, so a disturbance of the host
 * (TCG, other load) does not land on one side only. Asserts nothing.
 * Command line: rounds=N (per batch, default 2000), batches=N (default 5).
 */
#include "lib.h"
#include "evtime.h"

const char test_name[] = "ptwr_bench";

#define BENCH_VA 0xffffffffc0000000ul

static uint64_t batch_direct(volatile uint64_t *slot, uint64_t a, uint64_t b, uint64_t rounds)
{
    uint64_t t0 = rdtsc();
    for (uint64_t i = 0; i < rounds; i++)
        *slot = (i & 1) ? b : a;
    return rdtsc() - t0;
}

static uint64_t batch_hypercall(uint64_t slot_ma, uint64_t a, uint64_t b, uint64_t rounds)
{
    uint64_t t0 = rdtsc();
    for (uint64_t i = 0; i < rounds; i++)
        if (mmu_update1(slot_ma, (i & 1) ? b : a))
            test_abort("mmu_update failed in round %lu", (unsigned long)i);
    return rdtsc() - t0;
}

void test_main(void)
{
    uint64_t rounds = cmdline_u64("rounds", 2000), batches = cmdline_u64("batches", 5);
    void *pa = page_alloc(), *pb = page_alloc();
    uint64_t a = (virt_to_mfn(pa) << PAGE_SHIFT) | PTE_PAGE;
    uint64_t b = (virt_to_mfn(pb) << PAGE_SHIFT) | PTE_PAGE;

    if (!rounds || !batches)
        test_abort("rounds and batches must be positive");
    test_eq(hypercall_vm_assist(VMASST_CMD_enable, VMASST_TYPE_writable_pagetables), 0,
            "writable_pagetables on");
    test_eq(mm_ensure_l1(BENCH_VA), 0, "an L1 for the benchmark address");
    uint64_t slot_ma = pte_maddr(BENCH_VA, 1);
    /* The L1 is a pool page: readable (read-only) at its kernel address. */
    volatile uint64_t *slot = (volatile uint64_t *)mfn_to_virt(slot_ma >> PAGE_SHIFT) +
                              ((slot_ma & (PAGE_SIZE - 1)) / 8);

    uint64_t best_direct = ~0ul, best_hcall = ~0ul;
    for (uint64_t i = 0; i < batches; i++) {
        uint64_t d = batch_direct(slot, a, b, rounds);
        uint64_t h = batch_hypercall(slot_ma, a, b, rounds);
        best_direct = d < best_direct ? d : best_direct;
        best_hcall = h < best_hcall ? h : best_hcall;
    }
    test_eq(*slot & PTE_ADDR, b & PTE_ADDR, "the last update is in place");
    test_eq(mmu_update1(slot_ma, 0), 0, "benchmark mapping removed");

    uint64_t ns_direct = tsc_to_ns(best_direct) / rounds, ns_hcall = tsc_to_ns(best_hcall) / rounds;
    uint64_t ratio100 = best_hcall ? best_direct * 100 / best_hcall : 0;
    printk("ptwr_bench: %lu rounds x %lu batches: emulated PTE write %lu ns, "
           "mmu_update of one entry %lu ns, ratio emulated/mmu_update %lu.%02lu\n",
           (unsigned long)rounds, (unsigned long)batches, (unsigned long)ns_direct,
           (unsigned long)ns_hcall, (unsigned long)(ratio100 / 100),
           (unsigned long)(ratio100 % 100));
}
