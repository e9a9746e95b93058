/* ctl_host.h - the machine around the hypervisor's control interface for
 * fuzz_ctl.c (see ctl_host.c). */
#ifndef FUZZ_CTL_HOST_H
#define FUZZ_CTL_HOST_H

/* A fresh machine (tests/unit/mm's harness) with control_init done. */
void ctl_host_start(void);
/* Finish the destruction of domains whose destroy was requested. */
void ctl_host_reap(void);
/* Destroy every domain, check nothing leaked, free the machine. */
void ctl_host_stop(void);

#endif
