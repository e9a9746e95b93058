/* The hypervisor's page tables.
 *
 * Owns: idle_l4 (the top-level table the hypervisor runs on), the direct map
 * of all RAM at DIRECTMAP_START (2 MiB pages, RW, NX, global), the mapping of
 * the hypervisor image (4 KiB pages: text RX, rodata R, data and bss RW NX),
 * and the ioremap window (uncached 4 KiB pages, handed out once, never
 * unmapped).
 * Invariants: every mapping lives in the reserved L4 slots 256-271 once the
 * boot identity map is dropped; a virtual address is never remapped to a
 * different frame (a request to do so is a hypervisor bug and panics).
 * Locking: tables are built on the boot CPU before other CPUs exist; the
 * ioremap window is bumped under ioremap_lock. */
#include "asm/cpu.h"
#include "asm/page.h"
#include "hv/bootinfo.h"
#include "hv/lib.h"
#include "hv/mm.h"
#include "hv/printk.h"
#include "hv/spinlock.h"

extern uint32_t boot_cpu_has_nx;

static uint64_t *hv_l4;
static void *(*alloc_table)(void);
static uint64_t nx_bit;
static spinlock_t ioremap_lock = SPINLOCK_INIT;
static uint64_t ioremap_next = IOREMAP_VIRT_START;

bool cpu_has_nx(void)
{
    return boot_cpu_has_nx != 0;
}

uint64_t *idle_l4(void)
{
    return hv_l4;
}

static uint64_t *next_table(uint64_t *table, unsigned int idx, uint64_t va)
{
    uint64_t e = table[idx];

    if (!(e & _PAGE_PRESENT)) {
        void *t = alloc_table();
        if (!t)
            panic("paging: out of memory for a page table (va %#lx)", va);
        table[idx] = __pa(t) | _PAGE_PRESENT | _PAGE_RW;
        return t;
    }
    if (e & _PAGE_PSE)
        panic("paging: va %#lx is inside an existing large page", va);
    return __va(e & PTE_ADDR_MASK);
}

static void set_leaf(uint64_t *slot, uint64_t val, uint64_t va)
{
    if ((*slot & _PAGE_PRESENT) && *slot != val)
        panic("paging: va %#lx already maps %#lx, refusing to remap to %#lx",
              va, *slot & PTE_ADDR_MASK, val & PTE_ADDR_MASK);
    *slot = val;
}

/* Map [va, va+size) to [pa, pa+size) with flags, using 2 MiB pages where
 * both addresses are aligned and allow_large is set. */
static void map_range(uint64_t va, paddr_t pa, uint64_t size, uint64_t flags,
                      bool allow_large)
{
    while (size) {
        uint64_t *l3 = next_table(hv_l4, pt_index(va, L4_SHIFT), va);
        uint64_t *l2 = next_table(l3, pt_index(va, L3_SHIFT), va);
        if (allow_large && !(va & (MiB(2) - 1)) && !(pa & (MiB(2) - 1)) && size >= MiB(2)) {
            set_leaf(&l2[pt_index(va, L2_SHIFT)], pa | flags | _PAGE_PSE, va);
            va += MiB(2), pa += MiB(2), size -= MiB(2);
            continue;
        }
        uint64_t *l1 = next_table(l2, pt_index(va, L2_SHIFT), va);
        set_leaf(&l1[pt_index(va, L1_SHIFT)], pa | flags, va);
        va += PAGE_SIZE, pa += PAGE_SIZE, size -= PAGE_SIZE;
    }
}

static void map_image_part(const char *start, const char *end, uint64_t flags)
{
    uint64_t va = ALIGN_DOWN((uint64_t)start, PAGE_SIZE);
    uint64_t va_end = ALIGN_UP((uint64_t)end, PAGE_SIZE);
    map_range(va, va - HV_VIRT_BASE, va_end - va, flags, false);
}

void paging_init(void *(*pt_alloc)(void))
{
    const uint64_t base = _PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_GLOBAL;

    alloc_table = pt_alloc;
    nx_bit = cpu_has_nx() ? _PAGE_NX : 0;
    hv_l4 = alloc_table();
    if (!hv_l4)
        panic("paging: no memory for the top-level page table");

    /* Direct map: every RAM range, rounded out to 2 MiB. */
    for (unsigned int i = 0; i < boot_info.nr_mmap; i++) {
        const struct mem_range *r = &boot_info.mmap[i];
        if (r->type != MEM_RAM)
            continue;
        paddr_t s = ALIGN_DOWN(r->start, MiB(2));
        paddr_t e = ALIGN_UP(r->start + r->len, MiB(2));
        if (e > DIRECTMAP_END - DIRECTMAP_START)
            e = DIRECTMAP_END - DIRECTMAP_START;
        for (paddr_t p = s; p < e; p += MiB(2)) {
            uint64_t *l3 = next_table(hv_l4, pt_index((uint64_t)__va(p), L4_SHIFT), p);
            uint64_t *l2 = next_table(l3, pt_index((uint64_t)__va(p), L3_SHIFT), p);
            uint64_t *slot = &l2[pt_index((uint64_t)__va(p), L2_SHIFT)];
            if (!(*slot & _PAGE_PRESENT))
                *slot = p | base | _PAGE_RW | _PAGE_DIRTY | _PAGE_PSE | nx_bit;
        }
    }

    /* The image, with per-section permissions. */
    map_image_part(_stext, _etext, base);
    map_image_part(_srodata, _erodata, base | nx_bit);
    map_image_part(_sdata, _end, base | _PAGE_RW | _PAGE_DIRTY | nx_bit);

    write_cr3(__pa(hv_l4));
    write_cr4(read_cr4() | X86_CR4_PGE);
    pr_info("paging: direct map at %#lx, image %#lx-%#lx (text %lu KiB, data %lu KiB)%s",
            DIRECTMAP_START, (uint64_t)_start, (uint64_t)_end,
            (uint64_t)(_etext - _stext) >> 10, (uint64_t)(_end - _sdata) >> 10,
            nx_bit ? ", NX on" : ", no NX");
}

void paging_set_table_allocator(void *(*pt_alloc)(void))
{
    alloc_table = pt_alloc;
}

void *ioremap(paddr_t pa, size_t size)
{
    paddr_t start = ALIGN_DOWN(pa, PAGE_SIZE);
    uint64_t len = ALIGN_UP(pa + size, PAGE_SIZE) - start;
    uint64_t flags = _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY |
                     _PAGE_PCD | _PAGE_PWT | _PAGE_GLOBAL | nx_bit;

    uint64_t f = spin_lock_irqsave(&ioremap_lock);
    uint64_t va = ioremap_next;
    if (va + len > IOREMAP_VIRT_END || va + len < va)
        panic("ioremap: window full mapping %#lx (+%#lx)", pa, (uint64_t)size);
    ioremap_next += len;
    map_range(va, start, len, flags, false);
    spin_unlock_irqrestore(&ioremap_lock, f);
    return (void *)(va + (pa - start));
}
