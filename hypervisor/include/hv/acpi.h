/* ACPI: just enough to power the machine off (arch/x86_64/acpi.c). */
#ifndef HV_ACPI_H
#define HV_ACPI_H

#include "hv/types.h"

/* Find the FADT and the \_S5 sleep type from the RSDP the loader passed. */
void acpi_init(void);
/* LAPIC ids of the enabled CPUs from the MADT, boot CPU included.
 * Returns how many (0 if there is no MADT). */
unsigned int acpi_cpu_apic_ids(uint32_t *ids, unsigned int max);
/* Enter S5 (soft off). Returns only if that is impossible. */
void acpi_poweroff(void);

#endif
