/* Stopping the machine (common/shutdown.c). */
#ifndef HV_SHUTDOWN_H
#define HV_SHUTDOWN_H

#include "hv/types.h"

/* Status written to the isa-debug-exit port; QEMU exits with (v << 1) | 1. */
#define DEBUG_EXIT_PASS 0x10   /* QEMU exit status 33 */
#define DEBUG_EXIT_FAIL 0x11   /* QEMU exit status 35 */

/* Configure from the boot command line (debug-exit=PORT). */
void shutdown_init(void);
/* Stop the machine with a pass/fail status: isa-debug-exit when configured,
 * else ACPI soft-off, else halt forever with interrupts off. */
void machine_exit(bool success) __noreturn;

#endif
