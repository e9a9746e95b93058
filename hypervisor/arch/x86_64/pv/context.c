/* Loading and saving guest vCPU state on a CPU.
 *
 * Owns: which page table, segment bases, FPU image, CR0.TS and GDT
 * contents are live for the vCPU loaded on this CPU (percpu.curr).
 * A vCPU's register frame lives in cpu_info->guest_regs while it is
 * loaded, in v->regs otherwise. The guest's GDT entries (below 0xe000) are
 * copied into this CPU's GDT when the vCPU is loaded; they were validated
 * when set_gdt/update_descriptor accepted them.
 * Locking: runs on the CPU concerned with interrupts off. */
#include "asm/cpu.h"
#include "asm/page.h"
#include "asm/percpu.h"
#include "hv/lib.h"
#include "hv/mm.h"
#include "hv/pagetype.h"
#include "hv/printk.h"
#include "hv/pv.h"
#include "hv/schedule.h"
#include "hv/timer.h"

static inline void fxsave(void *p) { __asm__ volatile("fxsave64 (%0)" :: "r"(p) : "memory"); }
static inline void fxrstor(const void *p) { __asm__ volatile("fxrstor64 (%0)" :: "r"(p) : "memory"); }

static bool canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

static void fpu_init_state(void)
{
    uint32_t mxcsr = 0x1f80;
    __asm__ volatile("fninit; ldmxcsr %0" :: "m"(mxcsr));
}

void load_guest_descriptors(struct vcpu *v)
{
    struct percpu *pc = this_cpu();
    uint64_t *gdt = pc->gdt;
    static const unsigned int per_frame = PAGE_SIZE / 8;
    unsigned int ents = v ? v->gdt_ents : 0;

    /* Clear what the previous guest left beyond this one's entries (only
     * what was in use: the area is 56 KiB and this runs on every switch). */
    if (pc->gdt_guest_ents > ents)
        memset(gdt + ents, 0, (pc->gdt_guest_ents - ents) * sizeof(uint64_t));
    for (unsigned int i = 0; v && i < v->gdt_nr_frames; i++) {
        unsigned int n = MIN(per_frame, v->gdt_ents - i * per_frame);
        memcpy(gdt + i * per_frame, mfn_to_virt(v->gdt_frames[i]), n * 8);
    }
    pc->gdt_guest_ents = ents;
}

/* v stays loaded (processor >= 0) until every part of its state is in
 * struct vcpu: a CPU that finds it unloaded (a waker queueing it, another
 * CPU taking it from a run queue) may load it at once, and must find its
 * registers, FPU and bases as they are, not those of its previous save
 * (two 1-vCPU domains exchanging events on two CPUs resumed one with
 * stale registers about one run in five). */
static void save_state(struct vcpu *v)
{
    vcpu_update_runstate_area(v, false);    /* still on v's page tables */
    cpu_regs_copy(&v->regs, &get_cpu_info()->guest_regs);
    pv_save_debugregs(v);
    fxsave(v->fpu_state);
    v->fs_base = rdmsr(MSR_FS_BASE);
    if (v->kernel_mode) {
        v->gs_base_kernel = rdmsr(MSR_GS_BASE);
        v->gs_base_user = rdmsr(MSR_KERNEL_GS_BASE);
    } else {
        v->gs_base_user = rdmsr(MSR_GS_BASE);
        v->gs_base_kernel = rdmsr(MSR_KERNEL_GS_BASE);
    }
    __atomic_store_n(&v->processor, -1, __ATOMIC_RELEASE);
}

static void load_state(struct vcpu *v)
{
    cpu_regs_copy(&get_cpu_info()->guest_regs, &v->regs);
    v->processor = (int)this_cpu()->id;
    vcpu_update_time(v);
    load_guest_cr3(v);
    vcpu_update_runstate_area(v, true);
    vcpu_update_time_area(v);
    load_guest_descriptors(v);
    pv_load_debugregs(v);
    pv_load_cr4(v);
    /* Null data selectors, then the bases (loading a selector resets them). */
    __asm__ volatile("movl %0, %%ds; movl %0, %%es; movl %0, %%fs; movl %0, %%gs"
                     :: "r"(0) : "memory");
    wrmsr(MSR_FS_BASE, v->fs_base);
    wrmsr(MSR_GS_BASE, v->kernel_mode ? v->gs_base_kernel : v->gs_base_user);
    wrmsr(MSR_KERNEL_GS_BASE, v->kernel_mode ? v->gs_base_user : v->gs_base_kernel);

    write_cr0(read_cr0() & ~X86_CR0_TS);
    if (v->fpu_initialised) {
        fxrstor(v->fpu_state);
    } else {
        fpu_init_state();
        v->fpu_initialised = true;
    }
    if (v->fpu_ts)
        write_cr0(read_cr0() | X86_CR0_TS);
}

void context_switch(struct vcpu *prev, struct vcpu *next)
{
    if (prev) {
        write_cr0(read_cr0() & ~X86_CR0_TS);
        save_state(prev);
    }
    set_current_vcpu(next);
    if (next) {
        load_state(next);
    } else {
        write_cr3(__pa(idle_l4()));
        load_guest_descriptors(NULL);
        pv_load_cr4(NULL);
    }
}

void vcpu_set_start_state(struct vcpu *v, uint64_t rip, uint64_t rsp, uint64_t rsi)
{
    memset(&v->regs, 0, sizeof(v->regs));
    v->regs.rip = rip;
    v->regs.rsp = rsp;
    v->regs.rsi = rsi;
    v->regs.cs = FLAT_KERNEL_CS;
    v->regs.ss = FLAT_KERNEL_SS;
    v->regs.rflags = X86_EFLAGS_IF | 0x2;
    v->kernel_mode = true;
    v->vcpu_info->evtchn_upcall_mask = 1;   /* events masked at entry */
}

/* Deliver a pending event upcall (the guest's "interrupt") if unmasked.
 * Returns whether it tried (the bounce may have crashed the domain). */
static bool check_event_upcall(struct vcpu *v, struct cpu_regs *regs)
{
    struct vcpu_info *vi = v->vcpu_info;
    if (!vi->evtchn_upcall_pending || vi->evtchn_upcall_mask || !v->event_callback)
        return false;
    struct trap_bounce tb = { .eip = v->event_callback, .flags = TBF_INTERRUPT };
    bounce_to_guest(v, regs, &tb);
    return true;
}

__hot_path void return_to_guest(void)
{
    for (;;) {
        local_irq_disable();
        if (sched_pending())
            schedule();                 /* may go idle and never return */
        struct vcpu *v = current;
        struct cpu_regs *regs = &get_cpu_info()->guest_regs;
        /* Only a bounce can have changed what sched_pending() saw. */
        if (check_event_upcall(v, regs) && sched_pending())
            continue;                   /* the bounce crashed the domain */
        if (!canonical(regs->rip) || !canonical(regs->rsp)) {
            /* The iretq would fault in the hypervisor: the guest gets the
             * #GP(0) that fault is, at the state it asked for (as Xen
             * delivers its own faulting iretq). A frame that cannot be
             * built crashes the domain. */
            pv_inject_trap(v, regs, 13, true, 0);
            continue;
        }
        restore_guest_frame(regs);
    }
}
