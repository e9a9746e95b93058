/* Host shim for asm/cpu.h: the real header, except that CR3 loads and
 * INVLPG (privileged) are recorded instead of executed, so tests can see
 * the TLB flushes the code under test asks for. */
#ifndef TEST_SHIM_ASM_CPU_H
#define TEST_SHIM_ASM_CPU_H

#define read_cr3 hv_read_cr3
#define write_cr3 hv_write_cr3
#define invlpg hv_invlpg
#include "../../../../../hypervisor/arch/x86_64/include/asm/cpu.h"
#undef read_cr3
#undef write_cr3
#undef invlpg

extern uint64_t test_cr3;               /* what the last CR3 load wrote */
extern unsigned int test_cr3_loads;     /* full TLB flushes */
extern unsigned int test_invlpgs;

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
