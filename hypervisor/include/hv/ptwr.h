/* Writable page tables (arch/x86_64/pv/ptwr.c): emulating a guest
 * kernel's direct write to one of its L1 page tables. */
#ifndef HV_PTWR_H
#define HV_PTWR_H

#include "asm/regs.h"
#include "hv/domain.h"

/* A #PF taken from v (frame, faulting address cr2): true if it was a
 * write to a page table that has been performed (frame advanced past the
 * instruction, or left to execute it again), false to bounce the #PF to
 * the guest unchanged. */
bool pv_ptwr_fault(struct vcpu *v, struct cpu_regs *frame, uint64_t cr2);

#endif
