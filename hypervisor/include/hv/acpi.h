/* ACPI: just enough to power the machine off (arch/x86_64/acpi.c). */
#ifndef HV_ACPI_H
#define HV_ACPI_H

#include "hv/types.h"

/* Find the FADT and the \_S5 sleep type from the RSDP the loader passed. */
void acpi_init(void);
/* Enter S5 (soft off). Returns only if that is impossible. */
void acpi_poweroff(void);

#endif
