/* Domains started from GRUB modules (common/bootdomains.c). */
#ifndef HV_BOOTDOMAINS_H
#define HV_BOOTDOMAINS_H

#include "hv/types.h"

/* Build and start a domain for every module2 line. Returns how many run. */
unsigned int boot_domains_start(void);
/* When every boot domain has gone: report and stop the machine. */
void boot_domains_check_done(void);
/* Destroy shut-down domains whose vCPUs are no longer loaded anywhere,
 * in bounded steps (CPU 0, interrupts off): true while a destruction is
 * unfinished, for the caller to come back after taking interrupts. */
bool domains_reap(void);

struct domain;
/* Answer every request on a boot-loader domain's xenstore ring with ENOSYS
 * (common/xenstore_absent.c): there is no xenstore without Domain 0. */
void xenstore_absent_serve(struct domain *d);

#endif
