/* Hypercall continuations and the check for pending work (see
 * hv/batch.h; the batches themselves are common/batch.c's).
 *
 * Owns: hypercall_preempt_check, interrupt_pending, hypercall_continue
 * and each CPU's
 * multicall bracket (whether the hypercall running on this CPU is a
 * multicall entry, and the continuation that entry asked for).
 *
 * Invariants: a continuation changes only the argument registers, rax
 * (the hypercall number) and rip, moved back over the 2-byte `syscall`
 * (hypercall page) or `int $0x82`, so the guest runs the same instruction
 * again, as Xen's hypercall_create_continuation does; events pending for
 * the guest are delivered first, as on Xen.
 *
 * Locking: none, everything here is this CPU's. Hypercalls run with
 * interrupts off: a pending interrupt is seen from the local timer's
 * deadline or in the LAPIC's IRR, and taken once the hypercall has
 * returned to the guest. */
#include "asm/config.h"
#include "asm/percpu.h"
#include "hv/apic.h"
#include "hv/batch.h"
#include "hv/lib.h"
#include "hv/time.h"
#include "hv/printk.h"

/* The multicall entry running on each CPU, if any. */
static struct {
    bool in_entry;
    bool preempted;
    uint64_t args[6];
} mc_state[NR_CPUS];

/* Under QEMU's TCG a LAPIC register read takes QEMU's global lock, which
 * the thread that delivers timer interrupts needs too: read the IRR at
 * most every IRR_POLL_NS (IPIs, the doorbell). The local timer, the usual
 * reason to stop, is known from its deadline without touching the LAPIC. */
#define IRR_POLL_NS (200 * 1000)

static bool interrupt_due(struct percpu *pc)
{
    uint64_t now = now_ns();

    if (pc->timer_armed_ns && now >= pc->timer_armed_ns)
        return true;
    if (now - pc->irr_polled_ns < IRR_POLL_NS)
        return false;
    pc->irr_polled_ns = now;
    return lapic_irq_pending();
}

bool hypercall_preempt_check(void)
{
    struct percpu *pc = this_cpu();
    return pc->need_resched || interrupt_due(pc);
}

bool interrupt_pending(void)
{
    return interrupt_due(this_cpu());
}

long hypercall_continue(unsigned int nr, unsigned int nargs, const uint64_t *args)
{
    BUG_ON(nargs > 6);
    typeof(mc_state[0]) *mc = &mc_state[this_cpu()->id];
    if (mc->in_entry) {
        /* The multicall copies these into the entry and stops there. */
        mc->preempted = true;
        memcpy(mc->args, args, nargs * sizeof(args[0]));
        return (long)nr;
    }
    struct cpu_regs *regs = &get_cpu_info()->guest_regs;
    uint64_t *const reg[6] = { &regs->rdi, &regs->rsi, &regs->rdx,
                               &regs->r10, &regs->r8, &regs->r9 };
    for (unsigned int k = 0; k < nargs; k++)
        *reg[k] = args[k];
    regs->rip -= 2;                     /* syscall (0f 05) or int $0x82 (cd 82) */
    return (long)nr;                    /* becomes rax: the hypercall number */
}

void multicall_entry_begin(const uint64_t args[6])
{
    typeof(mc_state[0]) *mc = &mc_state[this_cpu()->id];
    mc->in_entry = true;
    mc->preempted = false;
    memcpy(mc->args, args, sizeof(mc->args));
}

bool multicall_entry_end(uint64_t args[6])
{
    typeof(mc_state[0]) *mc = &mc_state[this_cpu()->id];
    bool preempted = mc->preempted;

    mc->in_entry = mc->preempted = false;
    if (preempted)
        memcpy(args, mc->args, sizeof(mc->args));
    return preempted;
}
