/*
 * Test kernel: the XENFEAT bits of XENVER_get_features, and that what they
 * promise works.
 *
 * Reported as Xen 4.17 reports them to a 64-bit PV guest:
 * mmu_pt_update_preserve_ad, highmem_assist, gnttab_map_avail_bits always
 * (Linux panics without the first and the last); pae_pgdir_above_4gb
 * exactly while VMASST_TYPE_pae_extended_cr3 is on; dom0 exactly for the
 * initial domain (as which the kernel runs on Xen, never on pvcore); never
 * the features of translated or HVM guests (writable_page_tables,
 * writable_descriptor_tables, auto_translated_physmap,
 * supervisor_mode_kernel, hvm_*). memory_op_vnode_supported is not
 * checked: Xen reports it, pvcore has no vNUMA and does not.
 *
 * What the bits promise: MMU_PT_UPDATE_PRESERVE_AD keeps the A/D bits of
 * the entry it replaces; MMUEXT_COPY_PAGE and MMUEXT_CLEAR_PAGE (the
 * highmem assist) copy and clear frames, and refuse a page-table frame.
 * gnttab_map_avail_bits is exercised by the grant kernel.
 */
#include "lib.h"

const char test_name[] = "xenfeat";

#define TEST_VA  0xffffffffc0000000ul

static uint32_t features(void)
{
    struct xen_feature_info fi = { .submap_idx = 0 };

    test_eq(hypercall_xen_version(XENVER_get_features, &fi), 0, "XENVER_get_features");
    return fi.submap;
}

static void check_bits(void)
{
    static const struct { unsigned int bit; const char *name; } never[] = {
        { XENFEAT_writable_page_tables, "writable_page_tables" },
        { XENFEAT_writable_descriptor_tables, "writable_descriptor_tables" },
        { XENFEAT_auto_translated_physmap, "auto_translated_physmap" },
        { XENFEAT_supervisor_mode_kernel, "supervisor_mode_kernel" },
        { XENFEAT_hvm_callback_vector, "hvm_callback_vector" },
        { XENFEAT_hvm_safe_pvclock, "hvm_safe_pvclock" },
        { XENFEAT_hvm_pirqs, "hvm_pirqs" },
    };
    static const struct { unsigned int bit; const char *name; } always[] = {
        { XENFEAT_mmu_pt_update_preserve_ad, "mmu_pt_update_preserve_ad" },
        { XENFEAT_highmem_assist, "highmem_assist" },
        { XENFEAT_gnttab_map_avail_bits, "gnttab_map_avail_bits" },
    };
    uint32_t f = features();

    printk("XENFEAT submap 0: %#x\n", f);
    for (unsigned int i = 0; i < ARRAY_SIZE(always); i++)
        test_ok(f & (1u << always[i].bit), "%s reported", always[i].name);
    for (unsigned int i = 0; i < ARRAY_SIZE(never); i++)
        test_ok(!(f & (1u << never[i].bit)), "%s not reported to a PV guest", never[i].name);
    test_eq(!!(f & (1u << XENFEAT_dom0)), !!(start_info->flags & SIF_INITDOMAIN),
            "dom0 reported exactly to the initial domain");

    test_eq(hypercall_vm_assist(VMASST_CMD_enable, VMASST_TYPE_pae_extended_cr3), 0,
            "pae_extended_cr3 on");
    test_ok(features() & (1u << XENFEAT_pae_pgdir_above_4gb),
            "pae_pgdir_above_4gb reported with pae_extended_cr3");
    test_eq(hypercall_vm_assist(VMASST_CMD_disable, VMASST_TYPE_pae_extended_cr3), 0,
            "pae_extended_cr3 off");
    test_ok(!(features() & (1u << XENFEAT_pae_pgdir_above_4gb)),
            "pae_pgdir_above_4gb not reported without pae_extended_cr3");
}

static void check_preserve_ad(void)
{
    uint8_t *page = page_alloc();
    uint64_t pte_ma, e;

    test_eq(mm_ensure_l1(TEST_VA), 0, "L1 for TEST_VA");
    pte_ma = pte_maddr(TEST_VA, 1);
    test_eq(mmu_update1(pte_ma, (virt_to_mfn(page) << PAGE_SHIFT) | PTE_P | PTE_RW), 0,
            "map a page without A/D");
    *(volatile uint8_t *)TEST_VA = 1;           /* the CPU sets A and D */
    e = pte_read(TEST_VA, 1);
    test_eq(e & (PTE_A | PTE_D), PTE_A | PTE_D, "A/D set by the write");
    test_eq(mmu_update1(pte_ma | MMU_PT_UPDATE_PRESERVE_AD,
                        (virt_to_mfn(page) << PAGE_SHIFT) | PTE_P), 0,
            "PRESERVE_AD update to read-only");
    e = pte_read(TEST_VA, 1);
    test_eq(e & (PTE_A | PTE_D | PTE_RW), PTE_A | PTE_D, "A/D kept, RW gone");
    test_eq(mmu_update1(pte_ma, 0), 0, "unmap");
}

static void check_highmem_assist(void)
{
    uint8_t *src = page_alloc(), *dst = page_alloc();

    for (unsigned int i = 0; i < PAGE_SIZE; i++)
        src[i] = (uint8_t)(i * 7 + 3);
    memset(dst, 0x55, PAGE_SIZE);
    test_eq(mmuext1(MMUEXT_COPY_PAGE, virt_to_mfn(dst), virt_to_mfn(src)), 0,
            "MMUEXT_COPY_PAGE");
    test_eq(memcmp(dst, src, PAGE_SIZE), 0, "the copy equals the source");
    test_eq(mmuext1(MMUEXT_CLEAR_PAGE, virt_to_mfn(dst), 0), 0, "MMUEXT_CLEAR_PAGE");
    bool zero = true;
    for (unsigned int i = 0; i < PAGE_SIZE; i++)
        zero = zero && !dst[i];
    test_ok(zero, "the cleared page is all zero");
    test_eq(mmuext1(MMUEXT_CLEAR_PAGE, kernel_l4_mfn(), 0), -XEN_EINVAL,
            "MMUEXT_CLEAR_PAGE of the L4 is refused");
    test_eq(mmuext1(MMUEXT_COPY_PAGE, kernel_l4_mfn(), virt_to_mfn(src)), -XEN_EINVAL,
            "MMUEXT_COPY_PAGE onto the L4 is refused");
}

void test_main(void)
{
    check_bits();
    check_preserve_ad();
    check_highmem_assist();
}
