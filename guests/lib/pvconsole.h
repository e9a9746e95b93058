/*
 * The PV console ring for the test kernels (include after lib.h): the page
 * start_info->console.domU.mfn names, read by Domain 0's console backend
 * (dom0/console.c), as opposed to console_io, which lands on the
 * hypervisor's console.
 *
 * Owns: the kernel's view of the ring (its "out" half); the event
 * channel is start_info's. Output waits while the ring is
 * full; it is never overwritten or dropped.
 */
#ifndef GUEST_PVCONSOLE_H
#define GUEST_PVCONSOLE_H

#include <public/io/console.h>
#include "lib.h"

/* Find the ring among the mapped pfns; writes notify the backend on
 * start_info's console port, which is the kernel's own and already bound
 * (builder/pvbuild.h). Aborts the test when the ring page is not mapped. */
void pvconsole_init(void);
void pvconsole_write(const char *s, size_t n);
void pvconsole_printf(const char *fmt, ...) PRINTF(1, 2);

#endif /* GUEST_PVCONSOLE_H */
