/*
 * pvcore public ABI: scheduler operations (HYPERVISOR_sched_op).
 *
 * Owns: SCHEDOP_* commands, SHUTDOWN_* reasons and the argument structures
 * of shutdown, poll, remote_shutdown, watchdog and pin_override.
 */
#ifndef PVCORE_PUBLIC_SCHED_H
#define PVCORE_PUBLIC_SCHED_H

#include "event_channel.h"

#define SCHEDOP_yield            0   /* arg ignored                        */
#define SCHEDOP_block            1   /* unmask events and wait for one     */
#define SCHEDOP_shutdown         2   /* struct sched_shutdown              */
#define SCHEDOP_poll             3   /* struct sched_poll                  */
#define SCHEDOP_remote_shutdown  4   /* struct sched_remote_shutdown       */
#define SCHEDOP_shutdown_code    5   /* struct sched_shutdown: record only */
#define SCHEDOP_watchdog         6   /* struct sched_watchdog              */
#define SCHEDOP_pin_override     7   /* struct sched_pin_override          */

#define SHUTDOWN_poweroff        0
#define SHUTDOWN_reboot          1
#define SHUTDOWN_suspend         2
#define SHUTDOWN_crash           3
#define SHUTDOWN_watchdog        4
#define SHUTDOWN_soft_reset      5
#define SHUTDOWN_MAX             5

#ifndef __ASSEMBLY__
/* The name of a SHUTDOWN_* reason, as logs and the toolstack show it
 * (pvcore's convenience, not part of Xen's interface). */
static inline const char *shutdown_reason_name(unsigned int r)
{
    switch (r) {
    case SHUTDOWN_poweroff: return "poweroff";
    case SHUTDOWN_reboot: return "reboot";
    case SHUTDOWN_suspend: return "suspend";
    case SHUTDOWN_crash: return "crash";
    case SHUTDOWN_watchdog: return "watchdog";
    case SHUTDOWN_soft_reset: return "soft_reset";
    default: return "unknown";
    }
}
#endif

#ifndef __ASSEMBLY__

struct sched_shutdown {
    uint32_t reason;                /* SHUTDOWN_*                         */
};

/* Block until one of ports is pending or timeout (absolute system time,
 * 0 = none) passes. */
struct sched_poll {
    uint64_t ports;                 /* guest address of evtchn_port_t[]   */
    uint32_t nr_ports;
    uint32_t _pad;
    uint64_t timeout;
};
_Static_assert(sizeof(struct sched_poll) == 24, "sched_poll");
_Static_assert(offsetof(struct sched_poll, timeout) == 16, "sched_poll.to");

struct sched_remote_shutdown {
    domid_t  domain_id;
    uint16_t _pad;
    uint32_t reason;
};
_Static_assert(sizeof(struct sched_remote_shutdown) == 8, "remote_shutdown");

struct sched_watchdog {
    uint32_t id;                    /* 0 = allocate; else the watchdog     */
    uint32_t timeout;               /* seconds; 0 = destroy                */
};

struct sched_pin_override {
    int32_t pcpu;
};

#endif /* !__ASSEMBLY__ */
#endif /* PVCORE_PUBLIC_SCHED_H */
