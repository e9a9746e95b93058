/* Per-CPU state. Each CPU has a stack block (STACK_SIZE, aligned to its
 * size) with struct cpu_info at the top of its primary stack, so the
 * current CPU is found from %rsp alone, in any context, without swapgs. */
#ifndef ASM_PERCPU_H
#define ASM_PERCPU_H

#include "asm/config.h"
#include "asm/regs.h"

struct tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __packed;

struct vcpu;

struct percpu {
    unsigned int id;                /* dense CPU number, 0 = boot CPU */
    struct vcpu *curr;              /* vCPU whose state is loaded, NULL = idle */
    bool need_resched;              /* pick again before returning to a guest */
    uint64_t slice_end_ns;          /* end of the current vCPU's time slice */
    unsigned int gdt_guest_ents;    /* guest descriptors now in gdt[0..n) */
    uint32_t apic_id;
    void *stack_block;              /* STACK_SIZE bytes, aligned */
    uint64_t *gdt;                  /* HV_GDT_ENTRIES descriptors */
    struct tss64 tss __aligned(16);
    volatile uint64_t timer_ticks;  /* LAPIC timer interrupts taken */
    uint64_t timer_period_ns;       /* 0 when the periodic timer is off */
    uint64_t timer_armed_ns;        /* when the one-shot timer fires at the
                                     * latest; 0: unknown (re-arm always) */
    uint64_t timer_next_ns;         /* no vCPU timer this CPU serves is due
                                     * before it (common/timer.c); 0: unknown */
    bool timer_rescan;              /* a vCPU came or changed from elsewhere:
                                     * walk them all before trusting it */
    uint64_t irr_polled_ns;         /* last look at the LAPIC's IRR for
                                     * pending work (pv/continuation.c) */
};

/* At the top of every primary stack. guest_regs receives the frame of an
 * interruption from ring 3 (TSS.rsp0 points just past it). */
struct cpu_info {
    struct cpu_regs guest_regs;
    struct percpu *pcpu;
    uint64_t reserved;
};
_Static_assert((sizeof(struct cpu_info) - sizeof(struct cpu_regs)) % 16 == 0,
               "TSS.rsp0 must stay 16-byte aligned");
_Static_assert(sizeof(struct cpu_info) <= CPU_INFO_RESERVE, "cpu_info too large");

extern struct percpu percpu[NR_CPUS];
extern char cpu0_stack[STACK_SIZE];

static inline struct cpu_info *get_cpu_info(void)
{
    uintptr_t sp;
    __asm__("mov %%rsp, %0" : "=r"(sp));
    return (struct cpu_info *)((sp | (STACK_SIZE - 1)) + 1) - 1;
}

static inline struct percpu *this_cpu(void)
{
    return get_cpu_info()->pcpu;
}

/* Set up and load the GDT, TSS (with IST stacks) and IDT of a CPU. */
void cpu_desc_init(struct percpu *pc, void *stack_block);
/* Build the shared IDT once (boot CPU, before cpu_desc_init). */
void idt_init(void);

#define IST_DF  1
#define IST_NMI 2
#define IST_MC  3

#endif
