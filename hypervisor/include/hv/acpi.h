/* ACPI: just enough to power the machine off (arch/x86_64/acpi.c). */
#ifndef HV_ACPI_H
#define HV_ACPI_H

#include "hv/types.h"

/* Find the FADT and the \_S5 sleep type from the RSDP the loader passed. */
void acpi_init(void);
/* LAPIC ids of the enabled CPUs from the MADT, boot CPU included.
 * Returns how many (0 if there is no MADT). */
unsigned int acpi_cpu_apic_ids(uint32_t *ids, unsigned int max);
/* The I/O APIC that serves ISA IRQ isa_irq: its MMIO address, the global
 * interrupt it arrives on and its MADT polarity/trigger flags. */
bool acpi_find_ioapic(uint32_t isa_irq, uint64_t *addr, uint32_t *gsi_base, uint32_t *gsi,
                      uint16_t *flags);
/* Enter S5 (soft off). Returns only if that is impossible. */
void acpi_poweroff(void);

#endif
