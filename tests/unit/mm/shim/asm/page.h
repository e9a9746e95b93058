/* Host shim for asm/page.h: the real PTE bits and layout, but the direct
 * map resolves into a malloc'ed arena standing in for machine memory
 * (machine address 0 = test_machine_memory). Only the address
 * conversions differ from the hypervisor's header. */
#ifndef TEST_SHIM_ASM_PAGE_H
#define TEST_SHIM_ASM_PAGE_H

#define __va hv_direct_map_va
#define __pa hv_direct_map_pa
#define mfn_to_virt hv_mfn_to_virt
#define virt_to_mfn hv_virt_to_mfn
#include "../../../../../hypervisor/arch/x86_64/include/asm/page.h"
#undef __va
#undef __pa
#undef mfn_to_virt
#undef virt_to_mfn

extern uint8_t *test_machine_memory;

static inline void *__va(paddr_t pa) { return test_machine_memory + pa; }
static inline paddr_t __pa(const void *va)
{
    return (paddr_t)((const uint8_t *)va - test_machine_memory);
}
static inline void *mfn_to_virt(mfn_t mfn) { return __va(mfn << PAGE_SHIFT); }
static inline mfn_t virt_to_mfn(const void *va) { return __pa(va) >> PAGE_SHIFT; }

#endif
