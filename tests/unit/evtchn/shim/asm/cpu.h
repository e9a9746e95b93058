/* Host shim for asm/cpu.h in the event channel tests: tests/unit/mm's
 * shim, with interrupt masking (cli/sti, which fault in a host process)
 * reduced to nothing: a host thread takes no interrupts (the spinlocks
 * stay real; tests/unit/domain races them on several threads). */
#ifndef TEST_EVTCHN_SHIM_ASM_CPU_H
#define TEST_EVTCHN_SHIM_ASM_CPU_H

#define local_irq_disable hv_local_irq_disable
#define local_irq_enable hv_local_irq_enable
#define local_irq_save hv_local_irq_save
#define local_irq_restore hv_local_irq_restore
#include "../../../mm/shim/asm/cpu.h"
#undef local_irq_disable
#undef local_irq_enable
#undef local_irq_save
#undef local_irq_restore

static inline void local_irq_disable(void) {}
static inline void local_irq_enable(void) {}
static inline uint64_t local_irq_save(void) { return 0; }
static inline void local_irq_restore(uint64_t f) { (void)f; }

#endif
