/* Traps taken from guests, and bouncing them into the guest kernel.
 *
 * Owns: the decision what happens to every vector taken in ring 3:
 *  - SYSCALL from guest kernel mode (and `int $0x82`) is a hypercall;
 *    SYSCALL from guest user mode is bounced to the syscall callback (the
 *    syscall32 one from 32-bit code), #UD when there is none;
 *  - exceptions go through the guest's virtual IDT (set_trap_table), with
 *    Xen's frame: RCX, R11, [error code,] RIP, CS, RFLAGS, RSP, SS on the
 *    guest kernel stack (CS RPL 0 when interrupted in guest kernel mode,
 *    saved upcall mask in CS bits 32-39, RFLAGS.IF = !mask);
 *  - `int $N` arrives as #GP through a DPL-0 gate; the instruction is
 *    decoded (the #GP error code is not trusted) and delivered as vector N
 *    if the guest's own IDT allows it from the current guest mode, else as
 *    #GP(N*8+2);
 *  - #GP and the forced-emulation #UD may be privileged instructions that
 *    pv/emulate.c performs on the guest's behalf, a #PF a write to a page
 *    table that pv/ptwr.c performs;
 *  - interrupts (the timer) are the hypervisor's, never the guest's.
 * A guest that has no handler for what it caused is crashed, never the
 * hypervisor.
 * Locking: runs on the CPU the vCPU runs on, with interrupts off. */
#include "asm/cpu.h"
#include "asm/percpu.h"
#include "hv/apic.h"
#include "hv/control.h"
#include "hv/guest_access.h"
#include "hv/hypercall.h"
#include "hv/lib.h"
#include "hv/printk.h"
#include "hv/pv.h"
#include "hv/ptwr.h"
#include "hv/schedule.h"
#include "hv/smp.h"
#include "hv/timer.h"
#include "hv/traps.h"

#define X86_EFLAGS_TF  (1UL << 8)
#define X86_EFLAGS_IOPL (3UL << 12)
#define X86_EFLAGS_NT  (1UL << 14)
#define X86_EFLAGS_RF  (1UL << 16)
#define X86_EFLAGS_VM  (1UL << 17)
#define X86_EFLAGS_AC  (1UL << 18)
#define PFEC_PRESENT   (1u << 0)
#define PFEC_WRITE     (1u << 1)
#define PFEC_USER      (1u << 2)

static bool vector_has_error_code(unsigned int v)
{
    return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30;
}

/* The bounce, inlined into the hot paths (do_guest_trap's int3, #UD,
 * #PF and user syscall; pv_inject_trap): under QEMU TCG every call and
 * return on the way costs a translation-block lookup. The frame goes
 * straight to the guest stack, one guarded store per word. */
static __force_inline bool
bounce_frame(struct vcpu *v, struct cpu_regs *regs, const struct trap_bounce *tb)
{
    uint64_t rsp;
    uint64_t cs = regs->cs;

    if (!tb->eip) {
        domain_crash(v->domain, "vcpu %u: no handler to bounce to (rip %#lx)", v->id, regs->rip);
        return false;
    }
    if (!v->kernel_mode) {
        toggle_guest_mode(v);
        rsp = v->kernel_sp;
    } else {
        rsp = regs->rsp;
        cs &= ~3UL;                     /* tells the guest: kernel context */
    }
    rsp &= ~0xfUL;

    uint8_t mask = v->vcpu_info->evtchn_upcall_mask;
    if (tb->flags & TBF_INTERRUPT)
        v->vcpu_info->evtchn_upcall_mask = 1;

    /* RCX, R11, [DS, ES, FS, GS,] [error code,] RIP, CS, RFLAGS, RSP, SS
     * from the lowest address up. */
    unsigned int n = 7 + (tb->flags & TBF_FAILSAFE ? 4 : 0) +
                     (tb->flags & TBF_EXCEPTION_ERRCODE ? 1 : 0);
    uint64_t new_rsp = rsp - n * 8;
    if (new_rsp > rsp || !guest_range_ok(new_rsp, n * 8))
        goto bad_stack;

    /* RFLAGS as the guest sees it: IF = !mask and, with
     * architectural_iopl, its virtual IOPL (as Xen). */
    uint64_t rflags = (regs->rflags & ~(X86_EFLAGS_IF | X86_EFLAGS_IOPL)) |
                      (mask ? 0 : X86_EFLAGS_IF);
    if (v->domain->vm_assist & (1UL << VMASST_TYPE_architectural_iopl))
        rflags |= v->iopl << 12;

    uint64_t *frame = (uint64_t *)new_rsp;
    guest_store_u64(&frame[0], regs->rcx, bad_stack);
    guest_store_u64(&frame[1], regs->r11, bad_stack);
    frame += 2;
    if (tb->flags & TBF_FAILSAFE) {
        /* The guest's data selectors as they are loaded (the hypervisor
         * never changes them), as Xen saves them for its failsafe frame. */
        uint16_t ds, es, fs, gs;
        __asm__ volatile("mov %%ds, %0; mov %%es, %1; mov %%fs, %2; mov %%gs, %3"
                         : "=r"(ds), "=r"(es), "=r"(fs), "=r"(gs));
        guest_store_u64(&frame[0], ds, bad_stack);
        guest_store_u64(&frame[1], es, bad_stack);
        guest_store_u64(&frame[2], fs, bad_stack);
        guest_store_u64(&frame[3], gs, bad_stack);
        frame += 4;
    }
    if (tb->flags & TBF_EXCEPTION_ERRCODE) {
        guest_store_u64(&frame[0], tb->error_code, bad_stack);
        frame++;
    }
    guest_store_u64(&frame[0], regs->rip, bad_stack);
    guest_store_u64(&frame[1], (cs & 0xffff) | ((uint64_t)mask << 32), bad_stack);
    guest_store_u64(&frame[2], rflags, bad_stack);
    guest_store_u64(&frame[3], regs->rsp, bad_stack);
    guest_store_u64(&frame[4], regs->ss, bad_stack);

    regs->rflags &= ~(X86_EFLAGS_AC | X86_EFLAGS_VM | X86_EFLAGS_RF | X86_EFLAGS_NT | X86_EFLAGS_TF);
    regs->rflags |= X86_EFLAGS_IF;
    regs->ss = FLAT_KERNEL_SS;
    regs->rsp = new_rsp;
    regs->cs = FLAT_KERNEL_CS;
    regs->rip = tb->eip;
    return true;

bad_stack:
    domain_crash(v->domain, "vcpu %u: cannot write an exception frame at %#lx "
                 "(guest kernel stack unmapped or in hypervisor space)", v->id, new_rsp);
    return false;
}

bool bounce_to_guest(struct vcpu *v, struct cpu_regs *regs, const struct trap_bounce *tb)
{
    return bounce_frame(v, regs, tb);
}

static __force_inline void
inject_trap(struct vcpu *v, struct cpu_regs *regs, unsigned int vector,
            bool has_error_code, uint32_t error_code)
{
    const struct trap_info ti = { .flags = v->trap_flags[vector & 0xff] };
    struct trap_bounce tb = {
        .eip = v->trap_address[vector & 0xff],
        .error_code = error_code,
        .flags = TBF_EXCEPTION | (has_error_code ? TBF_EXCEPTION_ERRCODE : 0) |
                 (TI_GET_IF(&ti) ? TBF_INTERRUPT : 0),
    };

    if (!tb.eip) {
        domain_crash(v->domain, "vcpu %u: unhandled trap %u (error code %#x) at rip %#lx "
                     "in guest %s mode", v->id, vector, error_code, regs->rip,
                     v->kernel_mode ? "kernel" : "user");
        return;
    }
    bounce_frame(v, regs, &tb);
}

void pv_inject_trap(struct vcpu *v, struct cpu_regs *regs, unsigned int vector,
                    bool has_error_code, uint32_t error_code)
{
    inject_trap(v, regs, vector, has_error_code, error_code);
}

/* May the current guest mode use `int $vector` (virtual IDT DPL)? */
static bool soft_int_allowed(const struct vcpu *v, unsigned int vector)
{
    const struct trap_info ti = { .flags = v->trap_flags[vector & 0xff] };
    unsigned int dpl = TI_GET_DPL(&ti);
    return dpl >= (v->kernel_mode ? 1u : 3u);
}

static void deliver_soft_int(struct vcpu *v, struct cpu_regs *regs, unsigned int vector,
                             unsigned int insn_len)
{
    if (!soft_int_allowed(v, vector)) {
        pv_inject_trap(v, regs, 13, true, vector * 8 + 2);
        return;
    }
    regs->rip += insn_len;
    pv_inject_trap(v, regs, vector, false, 0);
}

/* SYSCALL from guest user mode (from kernel mode it is a hypercall). */
static __force_inline void user_syscall(struct vcpu *v, struct cpu_regs *regs)
{
    /* From 32-bit user code the syscall32 callback (as Xen: no fallback
     * to the 64-bit one; the mask flag is the syscall callback's). */
    struct trap_bounce tb = {
        .eip = regs->cs == FLAT_RING3_CS32 ? v->syscall32_callback : v->syscall_callback,
        .flags = v->syscall_disables_events ? TBF_INTERRUPT : 0,
    };
    if (!tb.eip) {
        /* No callback: the guest kernel gets a #UD at the syscall
         * instruction, as on hardware with SYSCALL disabled (and Xen). */
        regs->rip -= 2;
        pv_inject_trap(v, regs, 6, false, 0);
        return;
    }
    bounce_frame(v, regs, &tb);
}

static void guest_gp(struct vcpu *v, struct cpu_regs *regs)
{
    uint8_t insn[2];

    /* `int $N` through a gate the guest may not use: decode it. */
    if (!copy_from_guest(insn, regs->rip, 2) && insn[0] == 0xcd) {
        deliver_soft_int(v, regs, insn[1], 2);
        return;
    }
    if (regs->error_code == 0 && pv_emulate_gp(v, regs))
        return;
    pv_inject_trap(v, regs, 13, true, regs->error_code);
}

/* A #PF: the page-table write it may be is done here (true); else the
 * guest's view of it is set up (its CR2 and *ec) for the bounce. */
static __force_inline bool guest_page_fault(struct vcpu *v, struct cpu_regs *regs,
                                             uint32_t *ec)
{
    uint64_t cr2 = read_cr2();          /* before any guest copy can fault */

    /* Only a write to a present page can be a page-table write. */
    if ((regs->error_code & (PFEC_PRESENT | PFEC_WRITE)) == (PFEC_PRESENT | PFEC_WRITE) &&
        pv_ptwr_fault(v, regs, cr2))
        return true;
    *ec = regs->error_code & ~PFEC_USER;
    if (!v->kernel_mode)
        *ec |= PFEC_USER;
    v->vcpu_info->arch.cr2 = cr2;
    return false;
}

/* Everything but the frequent traps of do_guest_trap (out of the hot
 * pages: its switch compiles to jump tables, an indirect jump each, under
 * QEMU TCG a translation-block lookup). */
static __attribute__((noinline)) void __noreturn guest_trap_other(struct vcpu *v, struct cpu_regs *regs, unsigned int vec)
{
    switch (vec) {
    case HYPERCALL_VECTOR:
        if (v->kernel_mode)
            pv_hypercall(regs);
        pv_inject_trap(v, regs, 13, true, HYPERCALL_VECTOR * 8 + 2);
        break;
    case VEC_LAPIC_TIMER:
        lapic_timer_interrupt();
        timers_run();
        break;
    case VEC_IPI_RESCHED:
    case VEC_IPI_FLUSH:
    case VEC_IPI_TIMER:
        smp_ipi_interrupt(vec);
        break;
    case VEC_DOORBELL:
        control_doorbell_interrupt();
        break;
    case VEC_SPURIOUS:
    case VEC_PIC_BASE + 7:
    case VEC_PIC_BASE + 15:
        break;
    case 2:     /* NMI */
    case 8:     /* #DF */
    case 18:    /* #MC */
        fatal_trap(regs);
    case 3:     /* int3 / into through the DPL-3 gates: software interrupts */
    case 4: {
        /* rip is past the instruction, where the guest's handler returns
         * to; only a refusal (#GP at the instruction) needs its length:
         * the 1-byte form (CC/CE) or CD 03/04. */
        if (soft_int_allowed(v, vec)) {
            pv_inject_trap(v, regs, vec, false, 0);
            break;
        }
        uint8_t prev[2] = { 0, 0 };
        unsigned int len = 1;
        if (!copy_from_guest(prev, regs->rip - 2, 2) && prev[0] == 0xcd && prev[1] == vec)
            len = 2;
        regs->rip -= len;
        deliver_soft_int(v, regs, vec, len);
        break;
    }
    case 1:     /* #DB: the guest's breakpoints (its DR6 takes the status) */
        pv_debug_trap(v);
        pv_inject_trap(v, regs, 1, false, 0);
        break;
    case 7:     /* #NM: the guest's virtual CR0.TS */
        write_cr0(read_cr0() & ~X86_CR0_TS);
        if (v->fpu_ts) {
            v->fpu_ts = false;
            pv_inject_trap(v, regs, 7, false, 0);
        }
        break;
    case 13:
        guest_gp(v, regs);
        break;
    default:
        if (vec < 32)
            pv_inject_trap(v, regs, vec, vector_has_error_code(vec), regs->error_code);
        else
            pr_debug("d%u: ignored interrupt vector %u taken in guest context",
                     v->domain->id, vec);
        break;
    }
    return_to_guest();
}

__hot_path void do_guest_trap(struct cpu_regs *regs)
{
    struct vcpu *v = current;
    unsigned int vec = regs->entry_vector;

    if (!v)
        panic("trap %u from ring 3 with no current vCPU", vec);

    /* The frequent ones here, with one inlined bounce for the three
     * exceptions. */
    if (vec == TRAP_SYSCALL) {
        if (v->kernel_mode)
            pv_hypercall(regs);         /* returns to the guest itself */
        user_syscall(v, regs);
        return_to_guest();
    }
    if ((vec == 3 && soft_int_allowed(v, 3)) || vec == 6 || vec == 14) {
        uint32_t ec = 0;
        /* int3 through the DPL-3 gate: rip is already past it. #UD: maybe
         * the forced-emulation prefix. */
        if (!(vec == 6 && pv_emulate_forced(v, regs)) &&
            !(vec == 14 && guest_page_fault(v, regs, &ec)))
            inject_trap(v, regs, vec, vec == 14, ec);
        return_to_guest();
    }
    guest_trap_other(v, regs, vec);
}

/* The iret to a guest faulted (its frame was bad): use the failsafe
 * callback if there is one, else the domain has to go. */
void guest_iret_fault(void);
void guest_iret_fault(void)
{
    struct vcpu *v = current;
    struct cpu_regs *regs = &get_cpu_info()->guest_regs;
    struct trap_bounce tb = {
        .eip = v->failsafe_callback,
        .flags = TBF_FAILSAFE | (v->failsafe_disables_events ? TBF_INTERRUPT : 0),
    };

    if (v->failsafe_callback) {
        /* The frame shows the guest the context that failed (its cs and
         * ss included, as a guest's failsafe handler checks them); the
         * bounce itself runs on the kernel stack with flat selectors. */
        if (v->kernel_mode && !guest_range_ok(regs->rsp - 128, 128))
            regs->rsp = v->kernel_sp;
        if (bounce_to_guest(v, regs, &tb))
            return_to_guest();
    } else {
        domain_crash(v->domain, "vcpu %u: return to guest at %#lx faulted and no failsafe "
                     "callback is registered", v->id, regs->rip);
    }
    return_to_guest();
}
