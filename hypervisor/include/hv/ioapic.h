/* The I/O APIC (arch/x86_64/ioapic.c): routing one legacy interrupt line
 * to a vector on one CPU. Every other input stays masked. */
#ifndef HV_IOAPIC_H
#define HV_IOAPIC_H

#include "hv/types.h"

/* Route ISA IRQ isa_irq to vector on the CPU with LAPIC id apic_id. */
bool ioapic_route_isa_irq(uint32_t isa_irq, uint8_t vector, uint32_t apic_id);

#endif
