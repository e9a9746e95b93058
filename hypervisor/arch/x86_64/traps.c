/* Trap and interrupt dispatch, and the fatal-trap dump.
 *
 * Owns: the decision what each vector means. The LAPIC timer and spurious
 * vectors are handled; every other vector taken in the hypervisor is fatal:
 * a dump names the vector, the error code (decoded for #PF), the faulting
 * RIP with its symbol, all registers, CR0/2/3/4 and a symbolized backtrace,
 * then the machine stops with the failure status. A fault while dumping
 * skips straight to the stop.
 * Locking: none; the dump breaks the console lock. */
#include "asm/cpu.h"
#include "asm/percpu.h"
#include "hv/apic.h"
#include "hv/control.h"
#include "hv/lib.h"
#include "hv/guest_access.h"
#include "hv/printk.h"
#include "hv/pv.h"
#include "hv/schedule.h"
#include "hv/shutdown.h"
#include "hv/smp.h"
#include "hv/symbols.h"
#include "hv/timer.h"
#include "hv/traps.h"

static const char *const exception_names[32] = {
    [0] = "#DE divide error", [1] = "#DB debug", [2] = "NMI",
    [3] = "#BP breakpoint", [4] = "#OF overflow", [5] = "#BR bound range",
    [6] = "#UD invalid opcode", [7] = "#NM device not available",
    [8] = "#DF double fault", [9] = "coprocessor segment overrun",
    [10] = "#TS invalid TSS", [11] = "#NP segment not present",
    [12] = "#SS stack fault", [13] = "#GP general protection",
    [14] = "#PF page fault", [16] = "#MF x87 FPU error",
    [17] = "#AC alignment check", [18] = "#MC machine check",
    [19] = "#XM SIMD exception", [20] = "#VE virtualization exception",
    [21] = "#CP control protection", [28] = "#HV hypervisor injection",
    [29] = "#VC VMM communication", [30] = "#SX security exception",
};

static const char *vector_name(unsigned int v)
{
    if (v < 32)
        return exception_names[v] ? exception_names[v] : "reserved exception";
    if (v >= VEC_PIC_BASE && v < VEC_PIC_BASE + 16)
        return "legacy PIC interrupt";
    return "external interrupt";
}

/* Is [addr, addr+8) inside the stack block that holds sp? */
static bool on_same_stack(uint64_t addr, uint64_t sp)
{
    uint64_t base = sp & ~((uint64_t)STACK_SIZE - 1);
    return addr >= base && addr + 16 <= base + STACK_SIZE && !(addr & 7);
}

void show_backtrace(uint64_t rip, uint64_t rbp)
{
    char sym[96];

    printk(LOG_ERR, "backtrace:");
    symbol_format(rip, sym, sizeof(sym));
    printk(LOG_ERR, "  [<%016lx>] %s", rip, sym);
    for (unsigned int depth = 0; depth < 32 && on_same_stack(rbp, rbp); depth++) {
        const uint64_t *frame = (const uint64_t *)rbp;
        uint64_t ret = frame[1];
        if (!ret)
            break;
        symbol_format(ret, sym, sizeof(sym));
        printk(LOG_ERR, "  [<%016lx>] %s", ret, sym);
        if (frame[0] <= rbp)         /* frames grow upwards towards the top */
            break;
        rbp = frame[0];
    }
}

static void describe_pf(uint32_t ec, char *buf, size_t len)
{
    snprintf(buf, len, " [%s, %s, %s%s%s]",
             ec & 1 ? "protection violation" : "not present",
             ec & 2 ? "write" : "read",
             ec & 4 ? "user" : "supervisor",
             ec & 8 ? ", reserved bit" : "",
             ec & 16 ? ", instruction fetch" : "");
}

void fatal_trap(const struct cpu_regs *r)
{
    static volatile int in_fatal;
    char sym[96], extra[96] = "";
    unsigned int v = r->entry_vector;

    local_irq_disable();
    console_force_unlock();
    if (__atomic_exchange_n(&in_fatal, 1, __ATOMIC_SEQ_CST)) {
        console_write("*** fault while reporting a fault; stopping\n", 44);
        machine_exit(false);
    }

    if (v == 14)
        describe_pf(r->error_code, extra, sizeof(extra));
    symbol_format(r->rip, sym, sizeof(sym));

    printk(LOG_ERR, "*** FATAL TRAP: vector %u (%s) in %s, error code %#x%s",
           v, vector_name(v), regs_from_guest(r) ? "ring 3" : "the hypervisor",
           r->error_code, extra);
    printk(LOG_ERR, "cpu %u  rip %04x:%016lx  %s",
           this_cpu() ? this_cpu()->id : 0, r->cs, r->rip, sym);
    if (v == 14)
        printk(LOG_ERR, "faulting address (cr2): %016lx", read_cr2());
    printk(LOG_ERR, "rflags %016lx  rsp %04x:%016lx", r->rflags, r->ss, r->rsp);
    printk(LOG_ERR, "rax %016lx  rbx %016lx  rcx %016lx", r->rax, r->rbx, r->rcx);
    printk(LOG_ERR, "rdx %016lx  rsi %016lx  rdi %016lx", r->rdx, r->rsi, r->rdi);
    printk(LOG_ERR, "rbp %016lx  r8  %016lx  r9  %016lx", r->rbp, r->r8, r->r9);
    printk(LOG_ERR, "r10 %016lx  r11 %016lx  r12 %016lx", r->r10, r->r11, r->r12);
    printk(LOG_ERR, "r13 %016lx  r14 %016lx  r15 %016lx", r->r13, r->r14, r->r15);
    printk(LOG_ERR, "cr0 %016lx  cr2 %016lx  cr3 %016lx  cr4 %016lx",
           read_cr0(), read_cr2(), read_cr3(), read_cr4());
    if (!regs_from_guest(r))
        show_backtrace(r->rip, r->rbp);
    printk(LOG_ERR, "*** stopping the machine: failure");
    machine_exit(false);
}

void do_trap(struct cpu_regs *r)
{
    unsigned int v = r->entry_vector;

    if (regs_from_guest(r))
        do_guest_trap(r);

    switch (v) {
    case VEC_LAPIC_TIMER:
        lapic_timer_interrupt();
        timers_run();
        return;
    case VEC_IPI_RESCHED:
    case VEC_IPI_FLUSH:
    case VEC_IPI_TIMER:
        smp_ipi_interrupt(v);
        return;
    case VEC_DOORBELL:
        control_doorbell_interrupt();
        return;
    case VEC_SPURIOUS:
        return;
    case VEC_PIC_BASE + 7:
    case VEC_PIC_BASE + 15:
        /* Spurious IRQ 7/15 from the masked legacy PIC. */
        return;
    case 14: {
        /* A fault on a guest address inside a guarded copy: resume at its
         * fixup, which reports -EFAULT. Anything else is a hypervisor bug. */
        uint64_t fixup = search_extable(r->rip);
        if (fixup) {
            r->rip = fixup;
            return;
        }
        fatal_trap(r);
    }
    case 1:
        /* A guest's breakpoint (pv/cpuregs.c arms them while it runs) hit
         * by the hypervisor's own access to guest memory: dropped, as Xen
         * does; RF keeps an instruction breakpoint from firing again. */
        __asm__ volatile("mov %0, %%db6" :: "r"(0xffff0ff0UL));
        r->rflags |= 1UL << 16;
        return;
    case 11:                    /* #NP, #SS: only pv/entry.S's iretq to a */
    case 12:                    /* guest selector has a fixup for them */
    case 13: {
        uint64_t fixup = search_extable(r->rip);
        if (fixup) {
            r->rip = fixup;
            return;
        }
        fatal_trap(r);
    }
    default:
        fatal_trap(r);
    }
}
