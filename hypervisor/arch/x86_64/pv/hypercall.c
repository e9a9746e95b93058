/* The hypercall table and the small per-vCPU hypercalls.
 *
 * Owns: dispatch (one table; every number not in it goes to
 * hypercall_unimplemented(): -ENOSYS, logged once), and the handlers that only touch the
 * calling vCPU's own state: set_trap_table, stack_switch, set_callbacks,
 * callback_op, nmi_op, fpu_taskswitch, set_segment_base, iret, vm_assist,
 * physdev_op(set_iopl) and multicall; pv_hypercall() is the entry from a
 * guest's SYSCALL or int $0x82 (iret inline, the rest through the table).
 * Every guest structure is copied in before use; nothing changes until all
 * of it has been checked. */
#include <public/callback.h>
#include <public/physdev.h>
#include "asm/cpu.h"
#include "asm/percpu.h"
#include "hv/batch.h"
#include "hv/errno.h"
#include "hv/event.h"
#include "hv/grant_table.h"
#include "hv/guest_access.h"
#include "hv/hypercall.h"
#include "hv/lib.h"
#include "hv/pagetype.h"
#include "hv/printk.h"
#include "hv/pv.h"
#include "hv/schedule.h"
#include "hv/timer.h"

#define NR_HYPERCALLS 64

static bool canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

long do_set_trap_table(uint64_t traps)
{
    struct vcpu *v = current;
    struct trap_info table[256];
    unsigned int n = 0;

    if (!traps) {                       /* NULL resets the virtual IDT */
        memset(v->trap_address, 0, sizeof(v->trap_address));
        memset(v->trap_flags, 0, sizeof(v->trap_flags));
        return 0;
    }
    /* Read the whole list first: a bad entry changes nothing. */
    for (;; n++) {
        struct trap_info ti;
        if (n == 256)
            return -E2BIG;
        if (copy_from_guest(&ti, traps + n * sizeof(ti), sizeof(ti)))
            return -EFAULT;
        if (!ti.address)
            break;
        if (!canonical(ti.address))
            return -EINVAL;
        table[n] = ti;
    }
    for (unsigned int i = 0; i < n; i++) {
        /* cs: always FLAT_KERNEL_CS, never a hypervisor selector */
        v->trap_address[table[i].vector] = table[i].address;
        v->trap_flags[table[i].vector] = table[i].flags;
    }
    return 0;
}

long do_stack_switch(uint64_t ss, uint64_t sp)
{
    struct vcpu *v = current;
    if ((ss & 3) != 3 && ss != 0)
        ss |= 3;                        /* ring-3 stack selector, like Xen's fixup */
    v->kernel_ss = ss;
    v->kernel_sp = sp;
    return 0;
}

/* CALLBACKTYPE_nmi: the NMI entry of the virtual IDT, events masked. */
static void register_nmi_callback(struct vcpu *v, uint64_t address)
{
    v->trap_flags[2] = TI_IF_MASK;
    v->trap_address[2] = address;
}

static long unregister_nmi_callback(struct vcpu *v)
{
    v->trap_flags[2] = 0;
    v->trap_address[2] = 0;
    return 0;
}

/* As Xen 4.17's register_guest_callback for a 64-bit PV guest: every type
 * it knows; an unknown type is -ENOSYS. */
static long register_callback(struct vcpu *v, const struct callback_register *cb)
{
    bool mask = cb->flags & CALLBACKF_mask_events;

    if (!canonical(cb->address))
        return -EINVAL;
    switch (cb->type) {
    case CALLBACKTYPE_event:
        v->event_callback = cb->address;
        return 0;
    case CALLBACKTYPE_failsafe:
        v->failsafe_callback = cb->address;
        v->failsafe_disables_events = mask;
        return 0;
    case CALLBACKTYPE_syscall:
        v->syscall_callback = cb->address;
        v->syscall_disables_events = mask;
        return 0;
    case CALLBACKTYPE_syscall32:
        v->syscall32_callback = cb->address;
        v->syscall32_disables_events = mask;
        return 0;
    case CALLBACKTYPE_sysenter:
        v->sysenter_callback = cb->address;
        v->sysenter_disables_events = mask;
        return 0;
    case CALLBACKTYPE_nmi:
        register_nmi_callback(v, cb->address);
        return 0;
    default:
        return hypercall_unimplemented(__HYPERVISOR_callback_op, 0x100 + cb->type);
    }
}

/* set_callbacks registers the three in turn; like Xen it ignores a
 * refused (non-canonical) address and returns 0. */
long do_set_callbacks(uint64_t event, uint64_t failsafe, uint64_t syscall)
{
    struct vcpu *v = current;
    const struct callback_register cbs[3] = {
        { .type = CALLBACKTYPE_event, .address = event },
        { .type = CALLBACKTYPE_failsafe, .address = failsafe },
        { .type = CALLBACKTYPE_syscall, .address = syscall },
    };
    for (unsigned int i = 0; i < 3; i++)
        register_callback(v, &cbs[i]);
    return 0;
}

long do_callback_op(uint64_t cmd, uint64_t arg)
{
    struct vcpu *v = current;

    switch (cmd) {
    case CALLBACKOP_register: {
        struct callback_register cb;
        if (copy_from_guest(&cb, arg, sizeof(cb)))
            return -EFAULT;
        return register_callback(v, &cb);
    }
    case CALLBACKOP_unregister: {
        /* Only the NMI callback can be unregistered (as Xen); the others
         * are -EINVAL and stay registered. */
        struct callback_unregister cb;
        if (copy_from_guest(&cb, arg, sizeof(cb)))
            return -EFAULT;
        switch (cb.type) {
        case CALLBACKTYPE_event:
        case CALLBACKTYPE_failsafe:
        case CALLBACKTYPE_syscall:
        case CALLBACKTYPE_syscall32:
        case CALLBACKTYPE_sysenter:
            return -EINVAL;
        case CALLBACKTYPE_nmi:
            return unregister_nmi_callback(v);
        default:
            return hypercall_unimplemented(__HYPERVISOR_callback_op, 0x200 + cb.type);
        }
    }
    default:
        return hypercall_unimplemented(__HYPERVISOR_callback_op, cmd);
    }
}

/* nmi_op: register (a canonical address) or unregister the NMI callback,
 * the same one CALLBACKTYPE_nmi sets, as Xen. */
long do_nmi_op(uint64_t cmd, uint64_t arg)
{
    struct vcpu *v = current;

    switch (cmd) {
    case XENNMI_register_callback: {
        struct xennmi_callback cb;
        if (copy_from_guest(&cb, arg, sizeof(cb)))
            return -EFAULT;
        const struct callback_register reg = { .type = CALLBACKTYPE_nmi,
                                               .address = cb.handler_address };
        return register_callback(v, &reg);
    }
    case XENNMI_unregister_callback:
        return unregister_nmi_callback(v);
    default:
        return hypercall_unimplemented(__HYPERVISOR_nmi_op, cmd);
    }
}

long do_fpu_taskswitch(uint64_t set)
{
    struct vcpu *v = current;
    v->fpu_ts = set != 0;
    if (v->fpu_ts)
        write_cr0(read_cr0() | X86_CR0_TS);
    else
        write_cr0(read_cr0() & ~X86_CR0_TS);
    return 0;
}

long do_set_segment_base(uint64_t which, uint64_t base)
{
    struct vcpu *v = current;

    switch (which) {
    case SEGBASE_FS:
        if (!canonical(base))
            return -EINVAL;
        wrmsr(MSR_FS_BASE, base);
        return 0;
    case SEGBASE_GS_USER:
        if (!canonical(base))
            return -EINVAL;
        wrmsr(MSR_KERNEL_GS_BASE, base);  /* the other mode's (toggle_guest_mode) */
        return 0;
    case SEGBASE_GS_KERNEL:
        if (!canonical(base))
            return -EINVAL;
        wrmsr(MSR_GS_BASE, base);
        return 0;
    case SEGBASE_GS_USER_SEL: {
        uint16_t sel = (uint16_t)base;
        if (sel && ((sel & 3) != 3 || sel >= HV_GDT_FIRST_ENTRY * 8))
            return -EINVAL;
        /* Flat selectors: the user GS base a selector load gives is 0. */
        v->gs_sel_user = sel;
        wrmsr(MSR_KERNEL_GS_BASE, 0);
        return 0;
    }
    default:
        return -EINVAL;
    }
}

/* As Xen 4.17's do_iret: an unreadable frame or a return to user mode
 * without a user page table crashes the domain; anything else is loaded,
 * a non-canonical return address or stack pointer included: the exit to
 * the guest (return_to_guest) turns those into the #GP(0) that Xen's
 * faulting iretq gives the guest; selectors the CPU refuses at the iretq
 * go to the failsafe callback. */
static __force_inline long iret(struct vcpu *v, struct cpu_regs *regs)
{
    const struct iret_context *frame = (const struct iret_context *)regs->rsp;
    uint64_t rax, r11, rcx, flags, rip, cs, rflags, rsp, ss;

    /* Nine guarded loads (into scalars: GCC 12 crashes on asm goto
     * outputs into a struct's fields): the hot half of every bounce's
     * round trip. */
    if (!guest_range_ok(regs->rsp, sizeof(*frame)))
        goto unreadable;
    guest_load(rax, &frame->rax, unreadable);
    guest_load(r11, &frame->r11, unreadable);
    guest_load(rcx, &frame->rcx, unreadable);
    guest_load(flags, &frame->flags, unreadable);
    guest_load(rip, &frame->rip, unreadable);
    guest_load(cs, &frame->cs, unreadable);
    guest_load(rflags, &frame->rflags, unreadable);
    guest_load(rsp, &frame->rsp, unreadable);
    guest_load(ss, &frame->ss, unreadable);
    if ((cs & 3) == 3) {                /* back to guest user mode */
        if (!v->guest_table_user) {
            domain_crash(v->domain, "vcpu %u: iret to user mode without a user page table",
                         v->id);
            return -EINVAL;
        }
        if (v->kernel_mode)
            toggle_guest_mode(v);
    }
    if (v->domain->vm_assist & (1UL << VMASST_TYPE_architectural_iopl))
        v->iopl = (rflags >> 12) & 3;
    regs->rip = rip;
    /* The guest's selectors at guest privilege, as Xen's do_iret takes
     * them: one of its own GDT that is not usable makes the return fault,
     * and the guest gets its failsafe callback (pv/entry.S, traps.c). */
    regs->cs = (uint16_t)(cs | 3);
    /* Guests never get IOPL, NT, VM, RF or an interrupt flag of their own:
     * IF is always on in hardware, the guest's IF is its upcall mask. */
    regs->rflags = (rflags & ~((3UL << 12) | (1UL << 14) | (1UL << 16) | (1UL << 17))) |
                   X86_EFLAGS_IF | 0x2;
    regs->rsp = rsp;
    regs->ss = (uint16_t)(ss | 3);
    if (flags & VGCF_in_syscall) {
        /* sysret-style: rcx and r11 as Xen's sysretq leaves them (the
         * return address and the flags), which lets the exit use sysretq
         * too (pv/entry.S), and never the hypercall page's address. */
        regs->rcx = regs->rip;
        regs->r11 = regs->rflags;
    } else {
        regs->r11 = r11;
        regs->rcx = rcx;
    }
    v->vcpu_info->evtchn_upcall_mask = !(rflags & X86_EFLAGS_IF);
    return (long)rax;

unreadable:
    domain_crash(v->domain, "vcpu %u: iret frame at %#lx unreadable", v->id, regs->rsp);
    return -EFAULT;
}

long do_iret(void)
{
    return iret(current, &get_cpu_info()->guest_regs);
}

/* vm_assist types a 64-bit PV guest may set (as Xen 4.17 accepts them). */
#define VM_ASSIST_VALID ((1UL << VMASST_TYPE_4gb_segments) |            \
                         (1UL << VMASST_TYPE_4gb_segments_notify) |     \
                         (1UL << VMASST_TYPE_writable_pagetables) |     \
                         (1UL << VMASST_TYPE_pae_extended_cr3) |        \
                         (1UL << VMASST_TYPE_architectural_iopl) |      \
                         (1UL << VMASST_TYPE_runstate_update_flag) |    \
                         (1UL << VMASST_TYPE_m2p_strict))

long do_vm_assist(uint64_t cmd, uint64_t type)
{
    struct domain *d = current->domain;
    if (type >= 64 || !(VM_ASSIST_VALID & (1UL << type)))
        return -EINVAL;
    switch (cmd) {
    case VMASST_CMD_enable:
        d->vm_assist |= 1UL << type;
        return 0;
    case VMASST_CMD_disable:
        d->vm_assist &= ~(1UL << type);
        return 0;
    default:
        return hypercall_unimplemented(__HYPERVISOR_vm_assist, cmd);
    }
}

long do_physdev_op(uint64_t cmd, uint64_t arg)
{
    struct physdev_set_iopl io;

    if (cmd != PHYSDEVOP_set_iopl)
        return hypercall_unimplemented(__HYPERVISOR_physdev_op, cmd);
    if (copy_from_guest(&io, arg, sizeof(io)))
        return -EFAULT;
    if (io.iopl > 3)
        return -EINVAL;
    current->iopl = io.iopl;
    return 0;
}

#define HC(fn) ((hypercall_fn)(void (*)(void))(fn))

static const hypercall_fn hypercall_table[NR_HYPERCALLS] = {
    [__HYPERVISOR_set_trap_table] = HC(do_set_trap_table),
    [__HYPERVISOR_mmu_update] = HC(do_mmu_update),
    [__HYPERVISOR_set_gdt] = HC(do_set_gdt),
    [__HYPERVISOR_stack_switch] = HC(do_stack_switch),
    [__HYPERVISOR_set_callbacks] = HC(do_set_callbacks),
    [__HYPERVISOR_fpu_taskswitch] = HC(do_fpu_taskswitch),
    [__HYPERVISOR_set_debugreg] = HC(do_set_debugreg),
    [__HYPERVISOR_get_debugreg] = HC(do_get_debugreg),
    [__HYPERVISOR_update_descriptor] = HC(do_update_descriptor),
    [__HYPERVISOR_memory_op] = HC(do_memory_op),
    [__HYPERVISOR_multicall] = HC(do_multicall),
    [__HYPERVISOR_update_va_mapping] = HC(do_update_va_mapping),
    [__HYPERVISOR_set_timer_op] = HC(do_set_timer_op),
    [__HYPERVISOR_xen_version] = HC(do_xen_version),
    [__HYPERVISOR_console_io] = HC(do_console_io),
    [__HYPERVISOR_vm_assist] = HC(do_vm_assist),
    [__HYPERVISOR_iret] = HC(do_iret),
    [__HYPERVISOR_vcpu_op] = HC(do_vcpu_op),
    [__HYPERVISOR_set_segment_base] = HC(do_set_segment_base),
    [__HYPERVISOR_mmuext_op] = HC(do_mmuext_op),
    [__HYPERVISOR_sched_op] = HC(do_sched_op),
    [__HYPERVISOR_callback_op] = HC(do_callback_op),
    [__HYPERVISOR_nmi_op] = HC(do_nmi_op),
    [__HYPERVISOR_physdev_op] = HC(do_physdev_op),
    [__HYPERVISOR_event_channel_op] = HC(do_event_channel_op),
    [__HYPERVISOR_grant_table_op] = HC(do_grant_table_op),
    [__HYPERVISOR_platform_op] = HC(do_platform_op),
    [__HYPERVISOR_sysctl] = HC(do_sysctl),
    [__HYPERVISOR_domctl] = HC(do_domctl),
    [__HYPERVISOR_kexec_op] = HC(do_kexec_op),
    [__HYPERVISOR_hypfs_op] = HC(do_hypfs_op),
};

long hypercall_dispatch(unsigned long nr, const uint64_t a[6])
{
    hypercall_fn fn = nr < NR_HYPERCALLS ? hypercall_table[nr] : NULL;

    if (!fn)
        return hypercall_unimplemented(nr, HC_NO_SUBOP);
    return fn(a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* A hypercall from guest kernel mode (SYSCALL or int $0x82), then the
 * exit to the guest: the arguments straight from the frame, and iret (half
 * of every bounce's round trip) inline rather than through the table. */
__hot_path void pv_hypercall(struct cpu_regs *regs)
{
    unsigned long nr = regs->rax;
    long rc;

    if (nr == __HYPERVISOR_iret) {
        rc = iret(current, regs);
    } else {
        hypercall_fn fn = nr < NR_HYPERCALLS ? hypercall_table[nr] : NULL;
        rc = fn ? fn(regs->rdi, regs->rsi, regs->rdx, regs->r10, regs->r8, regs->r9)
                : hypercall_unimplemented(nr, HC_NO_SUBOP);
    }
    /* iret rewrote the whole frame and returns the guest's rax itself. */
    regs->rax = (uint64_t)rc;
    return_to_guest();
}

/* One multicall entry: its hypercall, then the result back. A hypercall
 * that stopped for pending work leaves its continuation in the entry's
 * arguments (the whole entry is written back) and the multicall stops
 * there, to go on from that entry, as Xen's do_multicall. */
static long multicall_one(void *ctx, void *elem, uint64_t at)
{
    struct multicall_entry *mc = elem;
    long rc;

    (void)ctx;
    /* No nesting, and no iret: it would rewrite the multicall's frame. */
    if (mc->op == __HYPERVISOR_multicall || mc->op == __HYPERVISOR_iret) {
        rc = -EINVAL;
    } else {
        multicall_entry_begin((const uint64_t *)mc->args);
        rc = hypercall_dispatch(mc->op, (const uint64_t *)mc->args);
        if (multicall_entry_end((uint64_t *)mc->args)) {
            mc->result = (uint64_t)rc;
            return copy_to_guest(at, mc, sizeof(*mc)) ? -EFAULT : -ERESTART;
        }
    }
    mc->result = (uint64_t)rc;
    /* One store (do_multicall checked the whole list's range). */
    guest_store_u64(at + offsetof(struct multicall_entry, result), mc->result, unwritable);
    return current->domain->state != DOM_RUNNING;  /* an entry shut the domain down */
unwritable:
    return -EFAULT;
}

static const struct batch_ops multicall_batch = {
    .size = sizeof(struct multicall_entry), .copy_in = true, .run = multicall_one,
};

/* Xen's continuation: the list advanced to the entry reached, the count
 * reduced by the entries done. */
long do_multicall(uint64_t calls, uint64_t nr)
{
    uint64_t i = 0;

    nr &= 0xffffffffUL;                 /* uint32_t in the ABI */
    if (!guest_range_ok(calls, nr * sizeof(struct multicall_entry)))
        return -EFAULT;
    long rc = batch_run(&multicall_batch, NULL, calls, &i, nr);
    if (rc == -ERESTART) {
        const uint64_t args[2] = { calls + i * sizeof(struct multicall_entry), nr - i };
        return hypercall_continue(__HYPERVISOR_multicall, 2, args);
    }
    return rc < 0 ? rc : 0;
}
