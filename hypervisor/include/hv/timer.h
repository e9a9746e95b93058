/* Guest time and timers (common/timer.c).
 *
 * System time is now_ns(): nanoseconds since the hypervisor calibrated the
 * TSC. Each vCPU's vcpu_time_info (and the copy in the guest's time memory
 * area, the user-mapped pvclock of Linux's vDSO) is refreshed when it is
 * loaded on a CPU;
 * the wallclock at system time 0 (read from the RTC at boot) is in every
 * shared_info. vCPU timers (single-shot and periodic) raise VIRQ_TIMER;
 * SCHEDOP_poll timeouts wake the poller. The LAPIC runs one-shot, armed
 * for the earliest of: a vCPU timer, a poll timeout, the end of the
 * current time slice, and a 10 ms heartbeat. */
#ifndef HV_TIMER_H
#define HV_TIMER_H

#include "hv/domain.h"

void wallclock_init(void);
/* Fill a domain's shared_info wallclock. */
void domain_set_wallclock(struct domain *d);
/* Publish system time to v's vcpu_time_info (v loaded on this CPU). */
void vcpu_update_time(struct vcpu *v);
/* Copy vcpu_time_info to the guest's VCPUOP_register_vcpu_time_memory_area
 * (v's page tables loaded): version made odd, the fields, version even. */
void vcpu_update_time_area(struct vcpu *v);
/* Fire what is due, then re-arm the LAPIC for the next deadline. */
void timers_run(void);
void timers_reprogram(void);
/* v now belongs to cpu's run queue (v->sched_cpu = cpu, a move): that
 * CPU walks its vCPUs' deadlines again before it next arms. */
void timers_vcpu_moved(struct vcpu *v, unsigned int cpu);
/* d became RUNNING: its vCPUs' deadlines count from now on. */
void timers_domain_runs(struct domain *d);

long do_set_timer_op(uint64_t timeout);
long vcpu_timer_op(struct vcpu *v, unsigned int cmd, uint64_t arg);
long sched_poll(struct vcpu *v, uint64_t arg);

#endif
