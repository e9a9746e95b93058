/*
 * Test kernel: page-table updates through mmu_update and
 * update_va_mapping, legal and illegal.
 *
 * Legal: hooking a new L1 into the kernel tables, mapping, remapping and
 * unmapping pages, read-only mappings of page-table frames. Illegal, each
 * with the -errno Xen 4.17 returns: writable mappings of page-table frames
 * and mappings of frames the domain does not own (hypervisor memory,
 * other RAM) fail the type/ownership check (-EBUSY); writes to the
 * hypervisor's L4 slots 256-271, superpage (PSE) entries in an L2 or L3,
 * nonexistent frames and addresses in the hypervisor hole are -EINVAL;
 * the low three bits of an mmu_update pointer are the command, so a
 * 4-byte-misaligned pointer is an unknown command (-ENOSYS); unmapped
 * request lists are -EFAULT.
 */
#include "lib.h"

const char test_name[] = "pagetable";

#define TEST_VA   0xffffffffc0000000ul

static long map_at(uint64_t va, uint64_t mfn, uint64_t flags)
{
    return hypercall_update_va_mapping(va, (mfn << PAGE_SHIFT) | flags,
                                       UVMF_INVLPG);
}

static void check_legal(void)
{
    uint8_t *a = page_alloc(), *b = page_alloc();
    volatile uint8_t *t = (volatile uint8_t *)TEST_VA;
    uint64_t pte_ma;

    memset(a, 0xaa, PAGE_SIZE);
    memset(b, 0xbb, PAGE_SIZE);
    test_eq(mm_ensure_l1(TEST_VA), 0, "add an L1 table for TEST_VA");
    pte_ma = pte_maddr(TEST_VA, 1);
    test_ok(pte_ma != 0, "TEST_VA has an L1 entry");
    test_eq(mmu_update1(pte_ma, (virt_to_mfn(a) << PAGE_SHIFT) | PTE_PAGE), 0,
            "mmu_update: map page A at TEST_VA");
    test_eq(t[17], 0xaa, "read page A through TEST_VA");
    t[18] = 0x5a;
    test_eq(a[18], 0x5a, "write through TEST_VA lands in page A");

    test_eq(map_at(TEST_VA, virt_to_mfn(b), PTE_PAGE), 0,
            "update_va_mapping: remap TEST_VA to page B");
    test_eq(t[17], 0xbb, "read page B through TEST_VA");
    test_eq(hypercall_update_va_mapping(TEST_VA, 0, UVMF_INVLPG), 0,
            "update_va_mapping: unmap TEST_VA");
    probe_reset();
    __asm__ volatile(PROBE_ASM("movb (%0), %%al") : : "r"(TEST_VA) : "rax");
    test_eq(last_trap.vector, 14, "read of unmapped TEST_VA faults");

    /* Read-only mappings of page tables are allowed. */
    test_eq(map_at(TEST_VA, kernel_l4_mfn(), PTE_P | PTE_A), 0,
            "read-only mapping of the L4");
    test_eq(*(volatile uint64_t *)(TEST_VA + 511 * 8),
            ((const uint64_t *)start_info->pt_base)[511],
            "L4 contents through the new read-only mapping");
    test_eq(map_at(TEST_VA, virt_to_mfn(a), PTE_PAGE | PTE_NX), 0,
            "NX data mapping");
    test_eq(mmu_update1(pte_ma | MMU_PT_UPDATE_PRESERVE_AD,
                        (virt_to_mfn(b) << PAGE_SHIFT) | PTE_P | PTE_RW), 0,
            "MMU_PT_UPDATE_PRESERVE_AD");
    test_eq(t[17], 0xbb, "read page B after PRESERVE_AD update");
    test_eq(hypercall_update_va_mapping(TEST_VA, 0, UVMF_TLB_FLUSH | UVMF_ALL),
            0, "unmap with a full flush of all vCPUs");
}

static uint64_t xen_slot_mfn(void)
{
    const uint64_t *l4 = (const uint64_t *)start_info->pt_base;

    for (unsigned int i = HYPERVISOR_L4_FIRST_SLOT;
         i <= HYPERVISOR_L4_LAST_SLOT; i++)
        if (l4[i] & PTE_P)
            return (l4[i] & PTE_ADDR) >> PAGE_SHIFT;
    return 0;
}

static void check_illegal(void)
{
    uint64_t l1_mfn = pte_maddr(TEST_VA, 1) >> PAGE_SHIFT;
    uint64_t l4_ma = kernel_l4_mfn() << PAGE_SHIFT;
    uint64_t pte_ma = pte_maddr(TEST_VA, 1);
    uint64_t xen_mfn = xen_slot_mfn(), other = mm_foreign_ram_mfn();
    uint8_t *page = page_alloc();
    mmu_update_t req;
    unsigned int done = 77;

    test_eq(map_at(TEST_VA, l1_mfn, PTE_PAGE), -XEN_EBUSY,
            "writable mapping of an L1 page-table frame");
    test_eq(map_at(TEST_VA, kernel_l4_mfn(), PTE_PAGE), -XEN_EBUSY,
            "writable mapping of the L4 frame");
    test_eq(mmu_update1(pte_ma, (l1_mfn << PAGE_SHIFT) | PTE_PAGE),
            -XEN_EBUSY, "mmu_update: writable mapping of a page table");

    test_ok(xen_mfn != 0, "found a hypervisor frame in L4 slots 256-271");
    test_eq(map_at(TEST_VA, xen_mfn, PTE_P | PTE_A), -XEN_EBUSY,
            "mapping a hypervisor page-table frame (mfn %#lx)",
            (unsigned long)xen_mfn);
    test_ok(other != 0, "found a RAM frame the domain does not own");
    test_eq(map_at(TEST_VA, other, PTE_PAGE), -XEN_EBUSY,
            "mapping a frame owned by someone else (mfn %#lx)",
            (unsigned long)other);

    for (unsigned int slot = HYPERVISOR_L4_FIRST_SLOT;
         slot <= HYPERVISOR_L4_LAST_SLOT; slot += 5)
        test_eq(mmu_update1(l4_ma + slot * 8, 0), -XEN_EINVAL,
                "clearing hypervisor L4 slot %u", slot);
    test_eq(mmu_update1(l4_ma + 300 * 8,
                        (virt_to_mfn(page) << PAGE_SHIFT) | PTE_TABLE),
            -XEN_EINVAL, "writable data page as an L3 via the L4");

    test_eq(mmu_update1(pte_maddr(TEST_VA, 2),
                        (virt_to_mfn(page) << PAGE_SHIFT) | PTE_PAGE | PTE_PSE),
            -XEN_EINVAL, "L2 entry with PSE (superpage) set");
    test_eq(mmu_update1(pte_maddr(TEST_VA, 3),
                        (virt_to_mfn(page) << PAGE_SHIFT) | PTE_PAGE | PTE_PSE),
            -XEN_EINVAL, "L3 entry with PSE (1 GiB superpage) set");
    test_eq(mmu_update1(pte_ma + 4, (virt_to_mfn(page) << PAGE_SHIFT) | PTE_PAGE),
            -XEN_ENOSYS, "mmu_update with a 4-byte misaligned PTE pointer");
    test_eq(mmu_update1((0xfffffffful << PAGE_SHIFT),
                        (virt_to_mfn(page) << PAGE_SHIFT) | PTE_PAGE),
            -XEN_EINVAL, "mmu_update of a PTE in a nonexistent frame");
    test_eq(map_at(HYPERVISOR_VIRT_START + 0x1000, virt_to_mfn(page), PTE_PAGE),
            -XEN_EINVAL, "update_va_mapping inside the hypervisor hole");
    test_eq(map_at(0x0000900000000000ul, virt_to_mfn(page), PTE_PAGE),
            -XEN_EINVAL, "update_va_mapping of an address with no L1");
    test_eq(map_at(TEST_VA + 0x123, virt_to_mfn(page), PTE_PAGE), 0,
            "update_va_mapping ignores the offset bits of va");
    test_eq(hypercall_update_va_mapping(TEST_VA, 0, UVMF_INVLPG), 0,
            "unmap TEST_VA again");

    test_eq(hypercall_mmu_update((mmu_update_t *)0x0000100000000000ul, 1,
                                 &done, DOMID_SELF), -XEN_EFAULT,
            "mmu_update with an unmapped request list");
    /* The update is done even when `done` cannot be written back. */
    req = (mmu_update_t){ pte_ma, (virt_to_mfn(page) << PAGE_SHIFT) | PTE_PAGE };
    test_eq(hypercall_mmu_update(&req, 1, (unsigned int *)0x0000100000000000ul,
                                 DOMID_SELF), 0,
            "mmu_update with an unmapped done pointer");
    test_eq(pte_read(TEST_VA, 1) & PTE_ADDR, virt_to_mfn(page) << PAGE_SHIFT,
            "that update took effect");
    test_eq(hypercall_update_va_mapping(TEST_VA, 0, UVMF_INVLPG), 0,
            "unmap TEST_VA once more");
    done = 77;
    test_eq(hypercall_mmu_update(&req, 0, &done, DOMID_SELF), 0,
            "mmu_update with count 0");
    test_eq(done, 0, "done count for an empty batch");
    test_eq(mmuext1(99, 0, 0), -XEN_ENOSYS, "mmuext_op unknown command 99");
}

void test_main(void)
{
    check_legal();
    check_illegal();
}
