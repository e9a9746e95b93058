/*
 * Test kernel: linear (recursive) page tables, with Xen 4.17's rules.
 *
 * Allowed: a read-only L4 entry mapping its own L4 (the classic recursive
 * slot), through which the kernel reads its L4 and the L1 entry of any
 * address; a read-only L2 entry mapping its own L2 and an L3 entry its own
 * L3; one L4 mapping another pinned L4, which then stays in use after its
 * pin is gone, until the entry goes.
 *
 * Refused with -EINVAL: a writable self-map (it would make the tables
 * writable) at L4 and L2, making a read-only linear entry writable, and
 * chains: a table mapped linearly cannot map another linearly, and a table
 * with linear entries cannot be mapped linearly (Xen's XSA-240 rule). A
 * write through the linear view of the L4 is a #PF the kernel gets.
 */
#include "lib.h"

const char test_name[] = "linear";

#define SLOT_SELF    400u           /* recursive L4 slot */
#define SLOT_RW      401u
#define SLOT_OTHER   402u
#define L2_TEST_VA   0xffffffffc0000000ul

static uint64_t sext(uint64_t va)
{
    return (uint64_t)((int64_t)(va << 16) >> 16);
}

/* Where the recursive slot shows the L4 itself, and the L1 entry of va. */
static uint64_t self_l4_va(void)
{
    uint64_t r = SLOT_SELF;
    return sext((r << 39) | (r << 30) | (r << 21) | (r << 12));
}

static uint64_t self_pte_va(uint64_t va)
{
    return sext(((uint64_t)SLOT_SELF << 39) | ((va >> 9) & 0x7ffffffff8ul));
}

static uint64_t l4_maddr(unsigned int slot)
{
    return (kernel_l4_mfn() << PAGE_SHIFT) + slot * 8;
}

static void recursive_slot(void)
{
    uint64_t l4 = kernel_l4_mfn() << PAGE_SHIFT;
    const uint64_t *boot_l4 = (const uint64_t *)start_info->pt_base;

    test_eq(mmu_update1(l4_maddr(SLOT_RW), l4 | PTE_P | PTE_RW | PTE_A), -XEN_EINVAL,
            "writable L4 self-map refused");
    test_eq(mmu_update1(l4_maddr(SLOT_SELF), l4 | PTE_P | PTE_A), 0, "read-only L4 self-map");

    const volatile uint64_t *view = (const volatile uint64_t *)self_l4_va();
    test_eq(view[511], boot_l4[511], "L4 entry 511 read through the recursive slot");
    test_eq(view[SLOT_SELF] & PTE_ADDR, l4, "the recursive entry maps the L4");
    uint64_t va = (uint64_t)start_info;
    test_eq(*(const volatile uint64_t *)self_pte_va(va), pte_read(va, 1),
            "start_info's L1 entry read through the recursive slot");

    probe_reset();
    __asm__ volatile(PROBE_ASM("movq %1, (%0)")
                     : : "r"(&view[SLOT_RW]), "r"(0ul) : "memory");
    test_eq(last_trap.vector, 14, "a write through the linear view of the L4 faults");
    test_eq(last_trap.cr2, (uint64_t)&view[SLOT_RW], "at the address written");

    test_eq(mmu_update1(l4_maddr(SLOT_SELF), l4 | PTE_P | PTE_RW | PTE_A), -XEN_EINVAL,
            "the self-map cannot be made writable");
    test_eq(mmu_update1(l4_maddr(SLOT_SELF), l4 | PTE_P | PTE_A | PTE_D), 0,
            "the self-map updated read-only");
    test_eq(mmu_update1(l4_maddr(SLOT_SELF), 0), 0, "recursive slot removed");
    test_eq(mmuext1(MMUEXT_TLB_FLUSH_LOCAL, 0, 0), 0, "TLB flushed");
}

static void lower_levels(void)
{
    test_eq(mm_ensure_l1(L2_TEST_VA), 0, "tables for the L2 test address");
    uint64_t l2_entry = pte_maddr(L2_TEST_VA, 2), l3_entry = pte_maddr(L2_TEST_VA, 3);
    uint64_t l2 = l2_entry & ~(PAGE_SIZE - 1), l3 = l3_entry & ~(PAGE_SIZE - 1);

    test_eq(mmu_update1(l2 + 8 * 500, l2 | PTE_P | PTE_RW | PTE_A), -XEN_EINVAL,
            "writable L2 self-map refused");
    test_eq(mmu_update1(l2 + 8 * 500, l2 | PTE_P | PTE_A), 0, "read-only L2 self-map");
    /* Through entry 500 the L2 is the L1 of its 2 MiB at 500 << 21, and
     * page 500 of that is the L2 itself. */
    uint64_t view = (L2_TEST_VA & ~((1ul << 30) - 1)) | (500ul << 21) | (500ul << 12);
    test_eq(*(const volatile uint64_t *)(view + 8 * 500) & PTE_ADDR, l2,
            "the L2 reads itself through the self-map");
    test_eq(mmu_update1(l2 + 8 * 500, 0), 0, "L2 self-map removed");
    test_eq(mmu_update1(l3 + 8 * 500, l3 | PTE_P | PTE_A), 0, "read-only L3 self-map");
    test_eq(mmu_update1(l3 + 8 * 500, 0), 0, "L3 self-map removed");
    test_eq(mmuext1(MMUEXT_TLB_FLUSH_LOCAL, 0, 0), 0, "TLB flushed");
}

/* A fresh, empty, pinned L4. */
static uint64_t new_l4(void)
{
    void *page = page_alloc();

    test_eq(page_set_writable(page, false), 0, "new L4 page read-only");
    test_eq(mmuext1(MMUEXT_PIN_L4_TABLE, virt_to_mfn(page), 0), 0, "new L4 pinned");
    return virt_to_mfn(page);
}

static void between_tables(void)
{
    uint64_t b = new_l4(), c = new_l4();
    uint64_t b_ma = b << PAGE_SHIFT, c_ma = c << PAGE_SHIFT;
    uint64_t self = kernel_l4_mfn() << PAGE_SHIFT;

    test_eq(mmu_update1(l4_maddr(SLOT_OTHER), b_ma | PTE_P | PTE_RW | PTE_A), -XEN_EINVAL,
            "writable entry to another L4 refused");
    test_eq(mmu_update1(l4_maddr(SLOT_OTHER), b_ma | PTE_P | PTE_A), 0,
            "read-only entry to another pinned L4");
    /* B is mapped linearly: it may not map linearly itself ... */
    test_eq(mmu_update1(b_ma + 8 * 5, c_ma | PTE_P | PTE_A), -XEN_EINVAL,
            "a linearly mapped L4 cannot map another L4");
    test_eq(mmu_update1(b_ma + 8 * 5, b_ma | PTE_P | PTE_A), 0,
            "but it may map itself (no references)");
    test_eq(mmu_update1(b_ma + 8 * 5, 0), 0, "B's self-map removed");
    /* ... and our L4, which has a linear entry, may not be mapped linearly. */
    test_eq(mmu_update1(c_ma + 8 * 5, self | PTE_P | PTE_A), -XEN_EINVAL,
            "an L4 with linear entries cannot be mapped linearly");
    /* Many may map the same L4. */
    test_eq(mmu_update1(c_ma + 8 * 6, b_ma | PTE_P | PTE_A), 0, "C maps B too");
    test_eq(mmu_update1(c_ma + 8 * 6, 0), 0, "C's entry removed");
    test_eq(mmu_update1(l4_maddr(SLOT_OTHER), b_ma | PTE_P | PTE_RW | PTE_A), -XEN_EINVAL,
            "the linear entry cannot be made writable");

    /* B stays a table while mapped, even unpinned. */
    test_eq(mmuext1(MMUEXT_UNPIN_TABLE, b, 0), 0, "unpin B");
    test_eq(hypercall_update_va_mapping((uint64_t)mfn_to_virt(b),
                                        b_ma | PTE_P | PTE_RW | PTE_A | PTE_D, UVMF_INVLPG),
            -XEN_EBUSY, "B is still a page table: no writable mapping");
    test_eq(mmu_update1(l4_maddr(SLOT_OTHER), 0), 0, "linear entry removed");
    test_eq(page_set_writable(mfn_to_virt(b), true), 0, "B is a plain page again");
    test_eq(mmuext1(MMUEXT_UNPIN_TABLE, c, 0), 0, "unpin C");
    test_eq(page_set_writable(mfn_to_virt(c), true), 0, "C is a plain page again");
}

void test_main(void)
{
    recursive_slot();
    lower_levels();
    between_tables();
}
