/* Local APIC and its timer (arch/x86_64/apic.c). */
#ifndef HV_APIC_H
#define HV_APIC_H

#include "hv/types.h"

/* Map and enable this CPU's LAPIC, mask the legacy PIC (boot CPU), and
 * calibrate the LAPIC timer against the TSC. Needs time_init(). */
void apic_init(void);
/* Periodic timer interrupts on this CPU, hz per second (0 stops it). */
void lapic_timer_periodic(unsigned int hz);
/* One interrupt after ns nanoseconds (stops the periodic timer). */
void lapic_timer_oneshot(uint64_t ns);
/* LAPIC timer input clock, in ticks per millisecond (after the divider). */
uint64_t lapic_timer_khz(void);
void lapic_timer_interrupt(void);
void lapic_eoi(void);
/* An interrupt is waiting for this CPU (read with interrupts off). */
bool lapic_irq_pending(void);
/* Send an IPI: icr_low holds delivery mode and vector. Waits until the
 * LAPIC has sent it. */
void lapic_send_ipi(uint32_t apic_id, uint32_t icr_low);
uint32_t lapic_id(void);

#endif
