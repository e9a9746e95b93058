/*
 * pvcore public ABI: per-vCPU operations (HYPERVISOR_vcpu_op(cmd, vcpu, arg)).
 *
 * Owns: VCPUOP_* commands, runstate accounting, timer and vcpu_info
 * registration structures.
 */
#ifndef PVCORE_PUBLIC_VCPU_H
#define PVCORE_PUBLIC_VCPU_H

#include "xen.h"

#define VCPUOP_initialise                       0  /* vcpu_guest_context  */
#define VCPUOP_up                               1
#define VCPUOP_down                             2
#define VCPUOP_is_up                            3  /* returns 1 or 0      */
#define VCPUOP_get_runstate_info                4
#define VCPUOP_register_runstate_memory_area    5
#define VCPUOP_set_periodic_timer               6
#define VCPUOP_stop_periodic_timer              7
#define VCPUOP_set_singleshot_timer             8
#define VCPUOP_stop_singleshot_timer            9
#define VCPUOP_register_vcpu_info              10
#define VCPUOP_send_nmi                        11
#define VCPUOP_get_physid                      12
#define VCPUOP_register_vcpu_time_memory_area  13

#define RUNSTATE_running    0
#define RUNSTATE_runnable   1
#define RUNSTATE_blocked    2
#define RUNSTATE_offline    3

/* Set in state_entry_time while Xen rewrites a registered runstate area
 * (with VMASST_TYPE_runstate_update_flag). */
#define XEN_RUNSTATE_UPDATE (1ULL << 63)

#define VCPU_SSHOTTMR_future (1u << 0)  /* -ETIME if timeout already past */

#ifndef __ASSEMBLY__

struct vcpu_runstate_info {
    int32_t  state;                 /* RUNSTATE_*                         */
    uint32_t _pad;
    uint64_t state_entry_time;      /* system time of the last change     */
    uint64_t time[4];               /* ns spent in each RUNSTATE_*        */
};
typedef struct vcpu_runstate_info vcpu_runstate_info_t;
_Static_assert(sizeof(struct vcpu_runstate_info) == 48, "vcpu_runstate_info");
_Static_assert(offsetof(struct vcpu_runstate_info, time) == 16, "runstate.t");

struct vcpu_register_runstate_memory_area {
    uint64_t addr;                  /* guest virtual address of the area  */
};

struct vcpu_set_periodic_timer {
    uint64_t period_ns;
};

struct vcpu_set_singleshot_timer {
    uint64_t timeout_abs_ns;        /* absolute system time               */
    uint32_t flags;                 /* VCPU_SSHOTTMR_*                    */
    uint32_t _pad;
};
_Static_assert(sizeof(struct vcpu_set_singleshot_timer) == 16, "sshot_timer");

/* Move this vCPU's vcpu_info to (mfn, offset). */
struct vcpu_register_vcpu_info {
    uint64_t mfn;
    uint32_t offset;
    uint32_t rsvd;
};
_Static_assert(sizeof(struct vcpu_register_vcpu_info) == 16, "reg_vcpu_info");

struct vcpu_get_physid {
    uint64_t phys_id;
};

struct vcpu_register_time_memory_area {
    uint64_t addr;                  /* guest address of vcpu_time_info    */
};

#endif /* !__ASSEMBLY__ */
#endif /* PVCORE_PUBLIC_VCPU_H */
