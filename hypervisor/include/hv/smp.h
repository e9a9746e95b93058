/* Multiple CPUs (arch/x86_64/smp.c): start-up of the application
 * processors, and the IPIs the hypervisor sends between CPUs. */
#ifndef HV_SMP_H
#define HV_SMP_H

#include "hv/types.h"

extern unsigned int nr_cpus_online;

/* Start every CPU the MADT lists (up to NR_CPUS and the maxcpus= option). */
void smp_boot_cpus(void);
/* Ask CPU cpu to reschedule. */
void smp_send_resched(unsigned int cpu);
/* Have CPU cpu re-arm its timer (a deadline it serves changed). */
void smp_send_timer_kick(unsigned int cpu);
/* Flush the TLB of every online CPU (this one included) and wait. */
void flush_tlb_all_cpus(void);
/* Handle a flush request addressed to this CPU, if any (IPI handler, and
 * CPUs spinning with interrupts off, so two flushers never deadlock). */
void smp_service_flush(void);
/* IPI entry points from the trap dispatcher. */
void smp_ipi_interrupt(unsigned int vector);

#endif
