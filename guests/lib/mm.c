/*
 * Page-table helpers for the PV test kernels.
 *
 * Owns: the p2m / m2p translations, finding how much of the pseudo-physical
 * space the start-of-day tables map, walking the kernel page tables from
 * start_info->pt_base (tables are read through their read-only mapping,
 * located via the m2p), a page pool taken from the mapped pages after the
 * boot stack, and wrappers for single mmu_update / mmuext_op requests.
 */
#include "lib.h"

uint64_t *p2m;
static uint64_t mapped_pfns;      /* pfns [0, mapped_pfns) are mapped     */
static uint64_t pool_next;        /* next free pfn of the page pool       */

uint64_t virt_to_pfn(const void *va)
{
    return ((uint64_t)va - VIRT_BASE) >> PAGE_SHIFT;
}

uint64_t virt_to_mfn(const void *va)
{
    return pfn_to_mfn(virt_to_pfn(va));
}

void *pfn_to_virt(uint64_t pfn)
{
    return (void *)(VIRT_BASE + (pfn << PAGE_SHIFT));
}

void *mfn_to_virt(uint64_t mfn)
{
    uint64_t pfn = mfn_to_pfn(mfn);

    if (pfn >= mapped_pfns || pfn_to_mfn(pfn) != mfn)
        return NULL;
    return pfn_to_virt(pfn);
}

uint64_t mm_mapped_pfns(void)
{
    return mapped_pfns;
}

uint64_t kernel_l4_mfn(void)
{
    return virt_to_mfn((void *)start_info->pt_base);
}

static unsigned int pt_index(uint64_t va, int level)
{
    return (va >> (PAGE_SHIFT + 9 * (level - 1))) & 511;
}

uint64_t pte_maddr(uint64_t va, int level)
{
    uint64_t mfn = kernel_l4_mfn();

    for (int l = 4;; l--) {
        uint64_t maddr = (mfn << PAGE_SHIFT) + pt_index(va, l) * 8;
        const uint64_t *table;

        if (l == level)
            return maddr;
        table = mfn_to_virt(mfn);
        if (!table)
            return 0;
        uint64_t e = table[pt_index(va, l)];
        if (!(e & PTE_P) || (e & PTE_PSE))
            return 0;
        mfn = (e & PTE_ADDR) >> PAGE_SHIFT;
    }
}

uint64_t pte_read(uint64_t va, int level)
{
    uint64_t maddr = pte_maddr(va, level);
    const uint64_t *table;

    if (!maddr)
        return 0;
    table = mfn_to_virt(maddr >> PAGE_SHIFT);
    return table ? table[(maddr & (PAGE_SIZE - 1)) / 8] : 0;
}

uint64_t mm_foreign_ram_mfn(void)
{
    for (uint64_t mfn = 0x800; mfn < 0x10000; mfn += 0x101) {
        uint64_t pfn = mfn_to_pfn(mfn);

        if (pfn >= start_info->nr_pages || pfn_to_mfn(pfn) != mfn)
            return mfn;
    }
    return 0;
}

long mmu_update1(uint64_t ptr, uint64_t val)
{
    mmu_update_t req = { .ptr = ptr, .val = val };
    unsigned int done = 0;

    return hypercall_mmu_update(&req, 1, &done, DOMID_SELF);
}

long mmuext1(unsigned int cmd, uint64_t arg1, uint64_t arg2)
{
    struct mmuext_op op = { .cmd = cmd };
    unsigned int done = 0;

    op.arg1.mfn = arg1;
    op.arg2.src_mfn = arg2;
    return hypercall_mmuext_op(&op, 1, &done, DOMID_SELF);
}

long page_set_writable(void *va, bool writable)
{
    uint64_t pte = pte_read((uint64_t)va, 1);

    if (!(pte & PTE_P))
        return -XEN_EINVAL;
    pte = writable ? pte | PTE_RW : pte & ~PTE_RW;
    return hypercall_update_va_mapping((uint64_t)va, pte, UVMF_INVLPG);
}

void *page_alloc(void)
{
    void *va;

    if (pool_next >= mapped_pfns)
        test_abort("page pool exhausted (%lu pages mapped)",
                   (unsigned long)mapped_pfns);
    va = pfn_to_virt(pool_next++);
    memset(va, 0, PAGE_SIZE);
    return va;
}

long mm_ensure_l1(uint64_t va)
{
    for (int level = 4; level > 1; level--) {
        uint64_t e = pte_read(va, level);
        long rc;

        if (e & PTE_P)
            continue;
        void *table = page_alloc();
        rc = page_set_writable(table, false);
        if (rc)
            return rc;
        rc = mmu_update1(pte_maddr(va, level),
                         (virt_to_mfn(table) << PAGE_SHIFT) | PTE_TABLE);
        if (rc)
            return rc;
    }
    return 0;
}

void mm_init(void)
{
    uint64_t pt_pfn = virt_to_pfn((void *)start_info->pt_base);

    p2m = (uint64_t *)start_info->mfn_list;
    /* The boot tables lie inside the mapped area: trust up to them while
     * measuring the rest. */
    mapped_pfns = pt_pfn + start_info->nr_pt_frames;
    while (mapped_pfns < start_info->nr_pages &&
           (pte_read((uint64_t)pfn_to_virt(mapped_pfns), 1) & PTE_P))
        mapped_pfns++;
    /* Page tables, then one page of boot stack, then free pages. */
    pool_next = pt_pfn + start_info->nr_pt_frames + 1;
    printk("mm: %lu pages, %lu mapped, pool %lu pages, L4 mfn %#lx\n",
           (unsigned long)start_info->nr_pages, (unsigned long)mapped_pfns,
           (unsigned long)(mapped_pfns - pool_next),
           (unsigned long)kernel_l4_mfn());
}
