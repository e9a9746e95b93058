/*
 * Test kernel: ballooning through memory_op.
 *
 * Gives back unmapped pages with decrease_reservation, takes memory back
 * with populate_physmap (Xen fills the m2p for PV guests) and
 * increase_reservation, and checks current_reservation, the p2m / m2p and
 * the new frames' usability after every step, plus rejected requests.
 */
#include "lib.h"

const char test_name[] = "balloon";

#define N 16
#define INVALID_MFN (~0ul)
#define TEST_VA 0xffffffffc0000000ul

static long reservation(void)
{
    domid_t self = DOMID_SELF;

    return hypercall_memory_op(XENMEM_current_reservation, &self);
}

static long memop_extents(unsigned int cmd, xen_pfn_t *list, uint64_t n,
                          unsigned int order)
{
    struct xen_memory_reservation r = {
        .extent_start = HC(list), .nr_extents = n, .extent_order = order,
        .domid = DOMID_SELF,
    };

    return hypercall_memory_op(cmd, &r);
}

void test_main(void)
{
    static xen_pfn_t list[N];
    uint64_t first = start_info->nr_pages - N;
    long before = reservation(), rc;

    test_ok(first >= mm_mapped_pfns(), "balloon pfns %lu.. are unmapped",
            (unsigned long)first);

    for (unsigned int i = 0; i < N; i++)
        list[i] = pfn_to_mfn(first + i);
    rc = memop_extents(XENMEM_decrease_reservation, list, N, 0);
    test_eq(rc, N, "decrease_reservation of %d pages", N);
    for (unsigned int i = 0; i < N; i++)
        p2m[first + i] = INVALID_MFN;
    test_eq(reservation(), before - N, "reservation after decrease");

    rc = memop_extents(XENMEM_decrease_reservation, list, 1, 0);
    test_eq(rc, 0, "decrease_reservation of a frame already given back");

    /* increase_reservation hands out MFNs without touching the p2m. */
    rc = memop_extents(XENMEM_increase_reservation, list, 4, 0);
    test_eq(rc, 4, "increase_reservation of 4 pages");
    test_eq(reservation(), before - N + 4, "reservation after increase");
    rc = memop_extents(XENMEM_decrease_reservation, list, 4, 0);
    test_eq(rc, 4, "give the 4 pages back");
    test_eq(reservation(), before - N, "reservation after giving them back");
    /* Extent lists Xen cannot read end the batch at 0 extents done. */
    test_eq(memop_extents(XENMEM_populate_physmap,
                          (xen_pfn_t *)0x0000100000000000ul, 1, 0), 0,
            "populate_physmap with an unmapped extent list");
    test_eq(memop_extents(XENMEM_populate_physmap,
                          (xen_pfn_t *)HYPERVISOR_VIRT_START, 1, 0), 0,
            "populate_physmap with an extent list in the hypervisor hole");
    test_eq(memop_extents(XENMEM_increase_reservation, list, 1, 40), 0,
            "increase_reservation with extent order 40");
    test_eq(reservation(), before - N, "reservation unchanged by the rejects");


    for (unsigned int i = 0; i < N; i++)
        list[i] = first + i;
    rc = memop_extents(XENMEM_populate_physmap, list, N, 0);
    test_eq(rc, N, "populate_physmap of %d pages", N);
    test_eq(reservation(), before, "reservation after populate_physmap");
    for (unsigned int i = 0; i < N && i < (unsigned int)rc; i++) {
        p2m[first + i] = list[i];
        if (!test_eq(mfn_to_pfn(list[i]), first + i,
                     "m2p of populated frame %u", i))
            break;
    }

    /* A populated frame is ours: map it, use it, unmap it. */
    test_eq(mm_ensure_l1(TEST_VA), 0, "L1 for TEST_VA");
    test_eq(hypercall_update_va_mapping(TEST_VA, (list[0] << PAGE_SHIFT) |
                                        PTE_PAGE, UVMF_INVLPG), 0,
            "map a populated frame");
    *(volatile uint64_t *)TEST_VA = 0x1122334455667788ul;
    test_eq(*(volatile uint64_t *)TEST_VA, 0x1122334455667788ul,
            "read back through the populated frame");
    test_eq(hypercall_update_va_mapping(TEST_VA, 0, UVMF_INVLPG), 0,
            "unmap it");

    list[0] = 0x10;     /* a frame we do not own */
    test_eq(memop_extents(XENMEM_decrease_reservation, list, 1, 0), 0,
            "decrease_reservation of a frame we do not own");
    test_eq(reservation(), before, "reservation at the start value again");
}
