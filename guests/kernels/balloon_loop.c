/*
 * Test kernel: ballooning without a pause, for tests that read the
 * domain's frames from Domain 0 meanwhile (issue 13: GET_FRAMES walked the
 * page list without its lock while the guest changed it).
 *
 * For `ms=` milliseconds of system time (default 4000): give N frames
 * back with decrease_reservation, take N again with increase_reservation,
 * and so on (the frames are never mapped; the p2m is not touched). Each
 * step must do all N. Prints `balloon_loop: R rounds` at the end.
 */
#include "evtime.h"

const char test_name[] = "balloon_loop";

#define N 64

static long memop_extents(unsigned int cmd, xen_pfn_t *list, uint64_t n)
{
    struct xen_memory_reservation r = {
        .extent_start = HC(list), .nr_extents = n, .extent_order = 0,
        .domid = DOMID_SELF,
    };

    return hypercall_memory_op(cmd, &r);
}

void test_main(void)
{
    static xen_pfn_t list[N];
    uint64_t first = start_info->nr_pages - N, rounds = 0;
    uint64_t end = system_time() + cmdline_u64("ms", 4000) * NSEC_PER_MSEC;
    long rc;

    if (!test_ok(first >= mm_mapped_pfns(), "balloon pfns %lu.. are unmapped",
                 (unsigned long)first))
        return;
    for (unsigned int i = 0; i < N; i++)
        list[i] = pfn_to_mfn(first + i);
    while (system_time() < end) {
        rc = memop_extents(XENMEM_decrease_reservation, list, N);
        if (!test_eq(rc, N, "decrease_reservation of %d frames (round %lu)", N,
                     (unsigned long)rounds))
            return;
        rc = memop_extents(XENMEM_increase_reservation, list, N);
        if (!test_eq(rc, N, "increase_reservation of %d frames (round %lu)", N,
                     (unsigned long)rounds))
            return;
        rounds++;
    }
    printk("balloon_loop: %lu rounds\n", (unsigned long)rounds);
}
