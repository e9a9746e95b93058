/* vcpu_op: per-vCPU operations a guest asks for itself.
 * Implemented: is_up, register_vcpu_info, register_runstate_memory_area,
 * get_runstate_info. Bringing further vCPUs up (initialise/up/down) and
 * the vCPU timers come with SMP and event channels. */
#include <public/vcpu.h>
#include "asm/page.h"
#include "hv/domain.h"
#include "hv/guest_access.h"
#include "hv/hypercall.h"
#include "hv/lib.h"
#include "hv/mm.h"
#include "hv/pagetype.h"
#include "hv/time.h"
#include "hv/timer.h"

static long register_vcpu_info(struct vcpu *v, uint64_t arg)
{
    struct vcpu_register_vcpu_info r;

    if (copy_from_guest(&r, arg, sizeof(r)))
        return -EFAULT;
    if (r.offset > PAGE_SIZE - sizeof(struct vcpu_info) || (r.offset & 7) || r.rsvd)
        return -EINVAL;
    if (v->vcpu_info_mfn)
        return -EINVAL;                 /* once per vCPU, as in Xen */
    if (r.mfn >= max_mfn || get_page_and_type(r.mfn, v->domain, PGT_writable))
        return -EINVAL;

    struct vcpu_info *new_vi = (struct vcpu_info *)((char *)mfn_to_virt(r.mfn) + r.offset);
    *new_vi = *v->vcpu_info;
    v->vcpu_info = new_vi;
    v->vcpu_info_mfn = r.mfn;
    return 0;
}

static void fill_runstate(const struct vcpu *v, struct vcpu_runstate_info *rs)
{
    memset(rs, 0, sizeof(*rs));
    rs->state = v->processor >= 0 ? 0 /* running */ :
                v->state == VCPU_RUNNABLE ? 1 /* runnable */ :
                v->state == VCPU_BLOCKED ? 2 /* blocked */ : 3 /* offline */;
    rs->state_entry_time = now_ns();
    rs->time[0] = v->cpu_time_ns;
}

long do_vcpu_op(uint64_t cmd, uint64_t vcpuid, uint64_t arg)
{
    struct domain *d = current->domain;

    if (vcpuid >= d->nr_vcpus || !d->vcpus[vcpuid])
        return -ENOENT;
    struct vcpu *v = d->vcpus[vcpuid];

    switch (cmd) {
    case VCPUOP_is_up:
        return v->state != VCPU_DOWN;
    case VCPUOP_register_vcpu_info:
        if (v != current)
            return -EINVAL;
        return register_vcpu_info(v, arg);
    case VCPUOP_register_runstate_memory_area: {
        struct vcpu_register_runstate_memory_area r;
        if (copy_from_guest(&r, arg, sizeof(r)))
            return -EFAULT;
        if (r.addr && !guest_range_ok(r.addr, sizeof(struct vcpu_runstate_info)))
            return -EINVAL;
        v->runstate_guest_va = r.addr;
        if (r.addr && v == current) {
            struct vcpu_runstate_info rs;
            fill_runstate(v, &rs);
            copy_to_guest(r.addr, &rs, sizeof(rs));
        }
        return 0;
    }
    case VCPUOP_get_runstate_info: {
        struct vcpu_runstate_info rs;
        fill_runstate(v, &rs);
        return copy_to_guest(arg, &rs, sizeof(rs));
    }
    case VCPUOP_set_singleshot_timer:
    case VCPUOP_stop_singleshot_timer:
    case VCPUOP_set_periodic_timer:
    case VCPUOP_stop_periodic_timer:
        return vcpu_timer_op(v, (unsigned int)cmd, arg);
    default:
        return -ENOSYS;
    }
}
