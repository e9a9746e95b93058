/*
 * Test kernel: pinning and unpinning page tables of every level.
 *
 * Builds a small L4 -> L3 -> L2 -> L1 hierarchy from pool pages, pins each
 * level, checks double pin / unpin, that a pinned table cannot be mapped
 * writable (-EBUSY), that pinning fails for writable frames, wrong levels
 * and invalid contents, and that unpinned frames become ordinary pages
 * again. First: the initial L4 (start_info->pt_base) comes pinned, as
 * Xen's builders leave it and as Linux expects (it unpins it early and
 * BUG()s if that fails).
 */
#include "lib.h"

const char test_name[] = "pin";

static uint64_t mfn_of(void *va)
{
    return virt_to_mfn(va);
}

static uint64_t *table_page(void)
{
    return page_alloc();
}

static void seal(void *t, const char *what)
{
    test_eq(page_set_writable(t, false), 0, "map %s read-only", what);
}

void test_main(void)
{
    uint64_t *l4 = table_page(), *l3 = table_page(), *l2 = table_page(),
             *l1 = table_page(), *data = table_page();
    uint64_t *bad_l1 = table_page(), *bad_l2 = table_page();
    uint64_t boot_l4 = virt_to_mfn((void *)start_info->pt_base);

    test_eq(mmuext1(MMUEXT_PIN_L4_TABLE, boot_l4, 0), -XEN_EINVAL,
            "the initial L4 is already pinned");
    test_eq(mmuext1(MMUEXT_UNPIN_TABLE, boot_l4, 0), 0, "unpin the initial L4 (as Linux does)");
    test_eq(mmuext1(MMUEXT_PIN_L4_TABLE, boot_l4, 0), 0, "pin the initial L4 again");

    /* L1 mapping one data page; the rest of the chain above it. */
    l1[0] = (mfn_of(data) << PAGE_SHIFT) | PTE_PAGE;
    l2[0] = (mfn_of(l1) << PAGE_SHIFT) | PTE_TABLE;
    l3[0] = (mfn_of(l2) << PAGE_SHIFT) | PTE_TABLE;
    l4[0] = (mfn_of(l3) << PAGE_SHIFT) | PTE_TABLE;

    test_eq(mmuext1(MMUEXT_PIN_L1_TABLE, mfn_of(l1), 0), -XEN_EINVAL,
            "pin an L1 that is still mapped writable");
    seal(l1, "L1");
    test_eq(mmuext1(MMUEXT_PIN_L1_TABLE, mfn_of(l1), 0), 0, "pin L1");
    test_eq(mmuext1(MMUEXT_PIN_L1_TABLE, mfn_of(l1), 0), -XEN_EINVAL,
            "pin the same L1 twice");
    test_eq(page_set_writable(l1, true), -XEN_EBUSY,
            "writable mapping of a pinned L1");
    test_eq(mmuext1(MMUEXT_PIN_L2_TABLE, mfn_of(l1), 0), -XEN_EINVAL,
            "pin a pinned L1 as an L2");
    test_eq(mmuext1(MMUEXT_UNPIN_TABLE, mfn_of(l1), 0), 0, "unpin L1");
    test_eq(mmuext1(MMUEXT_UNPIN_TABLE, mfn_of(l1), 0), -XEN_EINVAL,
            "unpin an L1 that is not pinned");

    seal(l2, "L2");
    seal(l3, "L3");
    seal(l4, "L4");
    test_eq(mmuext1(MMUEXT_PIN_L2_TABLE, mfn_of(l2), 0), 0, "pin L2");
    test_eq(mmuext1(MMUEXT_PIN_L3_TABLE, mfn_of(l3), 0), 0, "pin L3");
    test_eq(mmuext1(MMUEXT_PIN_L4_TABLE, mfn_of(l4), 0), 0, "pin L4");
    test_eq(l4[0], (mfn_of(l3) << PAGE_SHIFT) | PTE_TABLE,
            "guest slot 0 of the pinned L4 kept");
    test_ok(l4[HYPERVISOR_L4_FIRST_SLOT + 5] & PTE_P,
            "pinned L4 got the hypervisor slots filled in (slot 261 = %#lx)",
            (unsigned long)l4[HYPERVISOR_L4_FIRST_SLOT + 5]);
    test_eq(page_set_writable(l1, true), -XEN_EBUSY,
            "writable mapping of an L1 used by a pinned L2");
    test_eq(mmuext1(MMUEXT_UNPIN_TABLE, mfn_of(l4), 0), 0, "unpin L4");
    test_eq(mmuext1(MMUEXT_UNPIN_TABLE, mfn_of(l3), 0), 0, "unpin L3");
    test_eq(mmuext1(MMUEXT_UNPIN_TABLE, mfn_of(l2), 0), 0, "unpin L2");
    test_eq(page_set_writable(l1, true), 0,
            "L1 is an ordinary page again after unpinning");
    l1[1] = 0;
    test_eq(l1[1], 0, "write to the former L1");

    /* Invalid contents. */
    /* The live kernel L4, writable. */
    bad_l1[0] = (kernel_l4_mfn() << PAGE_SHIFT) | PTE_PAGE;
    seal(bad_l1, "bad L1");
    test_eq(mmuext1(MMUEXT_PIN_L1_TABLE, mfn_of(bad_l1), 0), -XEN_EBUSY,
            "pin an L1 mapping the live L4 writable");
    bad_l2[3] = (mfn_of(data) << PAGE_SHIFT) | PTE_PAGE | PTE_PSE;
    seal(bad_l2, "bad L2");
    test_eq(mmuext1(MMUEXT_PIN_L2_TABLE, mfn_of(bad_l2), 0), -XEN_EINVAL,
            "pin an L2 with a superpage entry");
    test_eq(mmuext1(MMUEXT_PIN_L4_TABLE, mfn_of(data), 0), -XEN_EINVAL,
            "pin a writable data page as an L4");
    test_eq(mmuext1(MMUEXT_PIN_L1_TABLE, 0xfffffffffful, 0), -XEN_EINVAL,
            "pin a nonexistent frame");
    test_eq(mmuext1(MMUEXT_UNPIN_TABLE, mfn_of(data), 0), -XEN_EINVAL,
            "unpin a data page");
    test_eq(mmuext1(MMUEXT_NEW_BASEPTR, mfn_of(data), 0), -XEN_EINVAL,
            "NEW_BASEPTR with a data page");
    test_eq(mmuext1(MMUEXT_TLB_FLUSH_LOCAL, 0, 0), 0, "TLB_FLUSH_LOCAL");
    test_eq(mmuext1(MMUEXT_INVLPG_LOCAL, (uint64_t)data, 0), 0, "INVLPG_LOCAL");
    test_eq(mmuext1(MMUEXT_TLB_FLUSH_ALL, 0, 0), 0, "TLB_FLUSH_ALL");
    test_eq(mmuext1(MMUEXT_INVLPG_ALL, (uint64_t)data, 0), 0, "INVLPG_ALL");
}
