/* Host shim for asm/cpu.h: the real header, except that CR3 loads and
 * INVLPG (privileged) are recorded instead of executed, so tests can see
 * the TLB flushes the code under test asks for, and rdmsr reads the FS/GS
 * bases a test sets. */
#ifndef TEST_SHIM_ASM_CPU_H
#define TEST_SHIM_ASM_CPU_H

#define read_cr3 hv_read_cr3
#define write_cr3 hv_write_cr3
#define invlpg hv_invlpg
#define rdmsr hv_rdmsr
#include "../../../../../hypervisor/arch/x86_64/include/asm/cpu.h"
#undef read_cr3
#undef write_cr3
#undef invlpg
#undef rdmsr

extern uint64_t test_cr3;               /* what the last CR3 load wrote */
extern unsigned int test_cr3_loads;     /* full TLB flushes */
extern unsigned int test_invlpgs;

extern uint64_t test_fs_base, test_gs_base;   /* what rdmsr reads */

static inline uint64_t rdmsr(uint32_t msr)
{
    return msr == MSR_FS_BASE ? test_fs_base : msr == MSR_GS_BASE ? test_gs_base : 0;
}
static inline uint64_t read_cr3(void) { return test_cr3; }
static inline void write_cr3(uint64_t v)
{
    test_cr3 = v;
    test_cr3_loads++;
}
static inline void invlpg(const void *va)
{
    (void)va;
    test_invlpgs++;
}

#endif
