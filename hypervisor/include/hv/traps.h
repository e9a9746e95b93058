/* Trap and interrupt dispatch (arch/x86_64/traps.c). */
#ifndef HV_TRAPS_H
#define HV_TRAPS_H

#include "asm/regs.h"

#define VEC_PIC_BASE        0x20    /* legacy PIC, remapped and masked */
#define VEC_LAPIC_TIMER     0xf0
#define VEC_IPI_RESCHED     0xf1    /* pick again (a vCPU woke up for us) */
#define VEC_IPI_FLUSH       0xf2    /* flush this CPU's TLB */
#define VEC_IPI_TIMER       0xf3    /* re-arm for a vCPU deadline set elsewhere */
#define VEC_DOORBELL        0xe0    /* COM2: Domain 0 rang the doorbell */
#define VEC_LAPIC_ERROR     0xfe
#define VEC_SPURIOUS        0xff

void do_trap(struct cpu_regs *regs);
/* Print the register dump and backtrace of a fatal trap, then stop the
 * machine with the failure status. */
void fatal_trap(const struct cpu_regs *regs) __noreturn;
/* Print a backtrace following the frame-pointer chain from rbp. */
void show_backtrace(uint64_t rip, uint64_t rbp);

#endif
