/* Page-table entry bits and address conversions between physical addresses,
 * the direct map and the hypervisor image. */
#ifndef ASM_PAGE_H
#define ASM_PAGE_H

#include "asm/config.h"

#define _PAGE_PRESENT  0x001UL
#define _PAGE_RW       0x002UL
#define _PAGE_USER     0x004UL
#define _PAGE_PWT      0x008UL
#define _PAGE_PCD      0x010UL
#define _PAGE_ACCESSED 0x020UL
#define _PAGE_DIRTY    0x040UL
#define _PAGE_PSE      0x080UL
#define _PAGE_GLOBAL   0x100UL
#define _PAGE_NX       (1UL << 63)
#define PTE_ADDR_MASK  0x000ffffffffff000UL

#define L1_SHIFT 12
#define L2_SHIFT 21
#define L3_SHIFT 30
#define L4_SHIFT 39
#define PT_ENTRIES 512
#define pt_index(va, shift) (((va) >> (shift)) & (PT_ENTRIES - 1))

#ifndef __ASSEMBLER__
#include "hv/types.h"

extern char _start[], _stext[], _etext[], _srodata[], _erodata[], _sdata[], _end[];

/* A 64-bit address whose bits 63..47 are all equal (anything else faults
 * with #GP when used, and in the hypervisor's own IRET/SYSRET path). */
static inline bool is_canonical_address(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

static inline void *__va(paddr_t pa)
{
    return (void *)(pa + DIRECTMAP_START);
}

/* Physical address of a direct-map or image address. */
static inline paddr_t __pa(const void *va)
{
    uintptr_t v = (uintptr_t)va;
    if (v >= DIRECTMAP_START && v < DIRECTMAP_END)
        return v - DIRECTMAP_START;
    return v - HV_VIRT_BASE;
}

static inline void *mfn_to_virt(mfn_t mfn) { return __va(mfn << PAGE_SHIFT); }
static inline mfn_t virt_to_mfn(const void *va) { return __pa(va) >> PAGE_SHIFT; }
#endif

#endif
