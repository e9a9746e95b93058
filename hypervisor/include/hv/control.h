/* The control interface with Domain 0 (common/control.c); the protocol is
 * include/public/pvcore_ctl.h. */
#ifndef HV_CONTROL_H
#define HV_CONTROL_H

#include "hv/types.h"

/* Create Domain 0 (domid 0), the control block and the anchor; set up the
 * doorbell on COM2 if the machine has one. */
void control_init(void);
/* Serve the request ring (doorbell interrupt, and every timer tick on the
 * boot CPU as a safety net). */
void control_poll(void);
void control_doorbell_interrupt(void);
/* Tell Domain 0 to look (an event is pending for it, or responses). */
void control_kick_dom0(void);
/* Copy hypervisor console output into the control block's console ring. */
void control_console_append(const char *s, size_t n);

#endif
