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
#include "hv/pv.h"
#include "hv/schedule.h"
#include "hv/mm.h"
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
    /* Two vCPUs may register for the same down vCPU at once: one wins. */
    uint64_t none = 0;
    if (!__atomic_compare_exchange_n(&v->vcpu_info_mfn, &none, r.mfn, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        put_page_and_type(r.mfn);
        return -EINVAL;
    }

    struct vcpu_info *new_vi = (struct vcpu_info *)((char *)mfn_to_virt(r.mfn) + r.offset);
    *new_vi = *v->vcpu_info;
    __atomic_store_n(&v->vcpu_info, new_vi, __ATOMIC_RELEASE);
    /* An event set in the old place while it was copied is not lost: the
     * guest rescans every selector word, as after Xen's map_vcpu_info. */
    __atomic_store_n(&new_vi->evtchn_pending_sel, ~0ul, __ATOMIC_RELEASE);
    __atomic_store_n(&new_vi->evtchn_upcall_pending, 1, __ATOMIC_RELEASE);
    return 0;
}

void vcpu_release_frames(struct vcpu *v)
{
    if (!v)
        return;
    pv_release_gdt(v);
    if (v->vcpu_info_mfn) {
        v->vcpu_info = &v->domain->shared_info->vcpu_info[v->id];
        put_page_and_type(v->vcpu_info_mfn);
        v->vcpu_info_mfn = 0;
    }
}

/* running: v is (still) loaded on a CPU; a vCPU being saved is not
 * reported running although it keeps its CPU until the save ends. */
static void fill_runstate(const struct vcpu *v, bool running, struct vcpu_runstate_info *rs)
{
    uint64_t now = now_ns();
    memset(rs, 0, sizeof(*rs));
    rs->state = running ? 0 /* running */ :
                v->state == VCPU_RUNNABLE ? 1 /* runnable */ :
                v->state == VCPU_BLOCKED ? 2 /* blocked */ : 3 /* offline */;
    rs->state_entry_time = now;
    rs->time[0] = v->cpu_time_ns;
    if (running && now > v->last_start_ns)
        rs->time[0] += now - v->last_start_ns;      /* the slice under way */
}

void vcpu_update_runstate_area(struct vcpu *v, bool running)
{
    struct vcpu_runstate_info rs;
    if (!v->runstate_guest_va)
        return;
    fill_runstate(v, running, &rs);
    /* The guest's own page tables are loaded: a bad area only fails the
     * copy (the guest chose it), it never faults the hypervisor. */
    copy_to_guest(v->runstate_guest_va, &rs, sizeof(rs));
}

/* VCPUOP_initialise: everything is read and checked before v changes,
 * except the page-table and GDT references, which are taken first and
 * dropped again if a later step fails. */
static long vcpu_initialise(struct vcpu *v, uint64_t arg)
{
    struct domain *d = v->domain;

    int64_t buf_mfn = alloc_frames(1);             /* the context is ~5 KiB */
    if (buf_mfn < 0)
        return -ENOMEM;
    struct vcpu_guest_context *c = mfn_to_virt((mfn_t)buf_mfn);
    long rc = copy_from_guest(c, arg, sizeof(*c));
    if (rc)
        goto out;

    const struct cpu_user_regs *u = &c->user_regs;
    rc = -EINVAL;
    if (!is_canonical_address(u->rip) || !is_canonical_address(u->rsp) ||
        !is_canonical_address(c->event_callback_eip) ||
        !is_canonical_address(c->failsafe_callback_eip) ||
        !is_canonical_address(c->syscall_callback_eip) || !is_canonical_address(c->fs_base) ||
        !is_canonical_address(c->gs_base_kernel) || !is_canonical_address(c->gs_base_user) ||
        c->gdt_ents > 16 * 512)
        goto out;
    for (unsigned int i = 0; i < 256; i++)
        if (c->trap_ctxt[i].address && !is_canonical_address(c->trap_ctxt[i].address))
            goto out;

    mfn_t l4 = c->ctrlreg[3] >> PAGE_SHIFT, ul4 = c->ctrlreg[1] >> PAGE_SHIFT;
    if (!l4 || l4 >= max_mfn || ul4 >= max_mfn)
        goto out;
    /* Two vCPUs may initialise the same one at once: the domain lock makes
     * the check and the change one step (as Xen's domain_lock), so the
     * loser sees -EEXIST and never releases the winner's tables or GDT. */
    uint64_t flags = spin_lock_irqsave(&d->lock);
    rc = -EEXIST;
    if (v->initialised)
        goto out_unlock;
    rc = vcpu_set_guest_table(v, l4, false);
    if (rc)
        goto out_unlock;
    if (ul4 && (rc = vcpu_set_guest_table(v, ul4, true)))
        goto out_unlock;
    if (c->gdt_ents && (rc = pv_set_gdt(v, c->gdt_frames, c->gdt_ents))) {
        if (ul4)
            vcpu_set_guest_table(v, 0, true);
        goto out_unlock;
    }

    memset(&v->regs, 0, sizeof(v->regs));
    v->regs.r15 = u->r15; v->regs.r14 = u->r14; v->regs.r13 = u->r13;
    v->regs.r12 = u->r12; v->regs.rbp = u->rbp; v->regs.rbx = u->rbx;
    v->regs.r11 = u->r11; v->regs.r10 = u->r10; v->regs.r9 = u->r9;
    v->regs.r8 = u->r8; v->regs.rax = u->rax; v->regs.rcx = u->rcx;
    v->regs.rdx = u->rdx; v->regs.rsi = u->rsi; v->regs.rdi = u->rdi;
    v->regs.rip = u->rip;
    v->regs.rsp = u->rsp;
    v->regs.cs = FLAT_KERNEL_CS;
    v->regs.ss = FLAT_KERNEL_SS;
    v->regs.rflags = (u->rflags & ~((3UL << 12) | (1UL << 14) | (1UL << 17))) | (1UL << 9) | 2;
    /* The IOPL field of the context is the vCPU's virtual IOPL, as Xen's
     * arch_set_info_guest takes it (Linux starts secondary CPUs with
     * IOPL 1 this way; they never call PHYSDEVOP_set_iopl). */
    v->iopl = (u->rflags >> 12) & 3;
    for (unsigned int i = 0; i < 256; i++) {     /* cs: always FLAT_KERNEL_CS */
        v->trap_address[i] = c->trap_ctxt[i].address;
        v->trap_flags[i] = c->trap_ctxt[i].flags;
    }
    v->kernel_ss = c->kernel_ss;
    v->kernel_sp = c->kernel_sp;
    v->event_callback = c->event_callback_eip;
    v->failsafe_callback = c->failsafe_callback_eip;
    v->syscall_callback = c->syscall_callback_eip;
    v->failsafe_disables_events = c->flags & VGCF_failsafe_disables_events;
    v->syscall_disables_events = c->flags & VGCF_syscall_disables_events;
    v->fs_base = c->fs_base;
    v->gs_base_kernel = c->gs_base_kernel;
    v->gs_base_user = c->gs_base_user;
    v->kernel_mode = true;
    if (c->flags & VGCF_i387_valid) {
        memcpy(v->fpu_state, c->fpu_ctxt, sizeof(v->fpu_state));
        v->fpu_initialised = true;
    }
    v->vcpu_info->evtchn_upcall_mask = 1;
    v->initialised = true;
    rc = 0;
out_unlock:
    spin_unlock_irqrestore(&d->lock, flags);
out:
    free_frames((mfn_t)buf_mfn, 1);
    return rc;
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
    case VCPUOP_initialise:
        return vcpu_initialise(v, arg);
    case VCPUOP_up:
        if (!v->initialised)
            return -EINVAL;
        if (v->state == VCPU_DOWN) {
            v->state = VCPU_RUNNABLE;
            vcpu_wake(v);
        }
        return 0;
    case VCPUOP_down:
        if (v->state != VCPU_DOWN) {
            v->state = VCPU_DOWN;
            vcpu_sleep(v);
        }
        return 0;
    case VCPUOP_register_vcpu_info:
        /* Itself, or a vCPU that is down (Linux moves each secondary
         * CPU's vcpu_info before bringing it up). */
        if (v != current && v->state != VCPU_DOWN)
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
            fill_runstate(v, true, &rs);
            copy_to_guest(r.addr, &rs, sizeof(rs));
        }
        return 0;
    }
    case VCPUOP_register_vcpu_time_memory_area: {
        /* As Xen: an area outside guest space is -EFAULT, 0 stops the
         * updates; the area is filled now when v is the caller, else when
         * v is next loaded. */
        struct vcpu_register_time_memory_area r;
        if (copy_from_guest(&r, arg, sizeof(r)))
            return -EFAULT;
        if (!guest_range_ok(r.addr, sizeof(struct vcpu_time_info)))
            return -EFAULT;
        v->time_area_guest_va = r.addr;
        if (v == current)
            vcpu_update_time_area(v);
        return 0;
    }
    case VCPUOP_get_runstate_info: {
        struct vcpu_runstate_info rs;
        fill_runstate(v, v->processor >= 0, &rs);
        return copy_to_guest(arg, &rs, sizeof(rs));
    }
    case VCPUOP_set_singleshot_timer:
    case VCPUOP_stop_singleshot_timer:
    case VCPUOP_set_periodic_timer:
    case VCPUOP_stop_periodic_timer:
        return vcpu_timer_op(v, (unsigned int)cmd, arg);
    default:
        return hypercall_unimplemented(__HYPERVISOR_vcpu_op, cmd);
    }
}
