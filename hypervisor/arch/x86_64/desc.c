/* Descriptor tables: per-CPU GDT and TSS, the shared IDT.
 *
 * Owns: percpu[], the boot CPU's stack block, the IDT.
 * The GDT follows Xen's layout: entries below 0xe000 will belong to the
 * running guest (set_gdt), the hypervisor's own descriptors start at 0xe000
 * (HV_CS64 0xe008, HV_DS 0xe010, ring-3 flat segments 0xe023/0xe02b/0xe033,
 * the TSS at 0xe040). IST stacks: #DF, NMI and #MC always run on their own
 * stacks, so even a corrupt %rsp leads to a readable dump.
 * Locking: each CPU writes only its own entries; the IDT is written once
 * before any other CPU starts. */
#include "asm/cpu.h"
#include "asm/percpu.h"
#include "hv/lib.h"

struct percpu percpu[NR_CPUS];
char cpu0_stack[STACK_SIZE] __aligned(STACK_SIZE);
static uint64_t gdt_area[NR_CPUS][HV_GDT_ENTRIES] __aligned(4096);

struct idt_gate {
    uint16_t off_lo;
    uint16_t sel;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t off_mid;
    uint32_t off_hi;
    uint32_t reserved;
} __packed;

static struct idt_gate idt[256] __aligned(16);
extern char isr_stubs[];
extern char syscall_stubs[], syscall32_stubs[];
extern uint64_t syscall_stack_top[NR_CPUS];

struct desc_ptr {
    uint16_t limit;
    uint64_t base;
} __packed;

#define GDT_IDX(sel) ((sel) >> 3)

static void set_gate(unsigned int vec, unsigned int ist, unsigned int dpl)
{
    uint64_t addr = (uint64_t)(isr_stubs + 16 * vec);
    struct idt_gate *g = &idt[vec];

    g->off_lo = (uint16_t)addr;
    g->sel = HV_CS64;
    g->ist = (uint8_t)ist;
    g->type_attr = (uint8_t)(0x80 | (dpl << 5) | 0xe);   /* present, interrupt gate */
    g->off_mid = (uint16_t)(addr >> 16);
    g->off_hi = (uint32_t)(addr >> 32);
    g->reserved = 0;
}

void idt_init(void)
{
    for (unsigned int v = 0; v < 256; v++)
        set_gate(v, 0, 0);
    set_gate(2, IST_NMI, 0);
    set_gate(8, IST_DF, 0);
    set_gate(18, IST_MC, 0);
    /* Reachable with `int` from ring 3: int3, into, and the hypercall
     * vector 0x82. Every other `int $N` from a guest becomes a #GP, which
     * the guest-trap code decodes and bounces by the guest's own IDT. */
    set_gate(3, 0, 3);
    set_gate(4, 0, 3);
    set_gate(HYPERCALL_VECTOR, 0, 3);
}

static void set_tss_desc(uint64_t *gdt, const struct tss64 *tss)
{
    uint64_t base = (uint64_t)tss;
    uint64_t limit = sizeof(*tss) - 1;

    gdt[GDT_IDX(HV_TSS_SEL)] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
                               (0x89UL << 40) |          /* present, 64-bit TSS */
                               (((limit >> 16) & 0xf) << 48) |
                               (((base >> 24) & 0xff) << 56);
    gdt[GDT_IDX(HV_TSS_SEL) + 1] = base >> 32;
}

void cpu_desc_init(struct percpu *pc, void *stack_block)
{
    uint64_t *gdt = gdt_area[pc->id];
    char *stack = stack_block;
    struct cpu_info *ci = (struct cpu_info *)(stack + STACK_SIZE) - 1;

    pc->stack_block = stack_block;
    pc->gdt = gdt;
    ci->pcpu = pc;

    memset(gdt, 0, sizeof(gdt_area[0]));
    gdt[GDT_IDX(HV_CS64)] = 0x00af9b000000ffffUL;   /* ring 0, 64-bit code */
    gdt[GDT_IDX(HV_DS)] = 0x00cf93000000ffffUL;     /* ring 0 data */
    gdt[GDT_IDX(RING3_CS32)] = 0x00cffb000000ffffUL;
    gdt[GDT_IDX(RING3_DS)] = 0x00cff3000000ffffUL;
    gdt[GDT_IDX(RING3_CS64)] = 0x00affb000000ffffUL;

    memset(&pc->tss, 0, sizeof(pc->tss));
    pc->tss.rsp[0] = (uint64_t)(&ci->guest_regs + 1);
    pc->tss.ist[IST_DF - 1] = (uint64_t)(stack + 1 * IST_STACK_SIZE);
    pc->tss.ist[IST_NMI - 1] = (uint64_t)(stack + 2 * IST_STACK_SIZE);
    pc->tss.ist[IST_MC - 1] = (uint64_t)(stack + 3 * IST_STACK_SIZE);
    pc->tss.iomap_base = sizeof(pc->tss);           /* no I/O bitmap */
    set_tss_desc(gdt, &pc->tss);

    struct desc_ptr gp = { sizeof(gdt_area[0]) - 1, (uint64_t)gdt };
    struct desc_ptr ip = { sizeof(idt) - 1, (uint64_t)idt };
    __asm__ volatile(
        "lgdt %0\n\t"
        "pushq %[cs]\n\t"
        "leaq 1f(%%rip), %%rax\n\t"
        "pushq %%rax\n\t"
        "lretq\n"
        "1:\n\t"
        "movl %[ds], %%eax\n\t"
        "movl %%eax, %%ss\n\t"
        "xorl %%eax, %%eax\n\t"
        "movl %%eax, %%ds\n\t"
        "movl %%eax, %%es\n\t"
        "movl %%eax, %%fs\n\t"
        "movl %%eax, %%gs\n\t"
        "lidt %1\n\t"
        "ltr %w[tr]"
        :: "m"(gp), "m"(ip), [cs] "i"(HV_CS64), [ds] "i"(HV_DS), [tr] "r"(HV_TSS_SEL)
        : "rax", "memory");

    /* SYSCALL: 64-bit entry through this CPU's stub on this CPU's stack,
     * interrupts, traps, direction and alignment flags cleared. */
    syscall_stack_top[pc->id] = pc->tss.rsp[0];
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
    wrmsr(MSR_STAR, ((uint64_t)RING3_CS32 << 48) | ((uint64_t)HV_CS64 << 32));
    wrmsr(MSR_LSTAR, (uint64_t)(syscall_stubs + 64 * pc->id));
    wrmsr(MSR_CSTAR, (uint64_t)(syscall32_stubs + 64 * pc->id));
    wrmsr(MSR_FMASK, X86_EFLAGS_IF | (1UL << 8) /* TF */ | (1UL << 10) /* DF */ |
                     (1UL << 14) /* NT */ | (1UL << 18) /* AC */);

    /* SSE for guests: FXSAVE/FXRSTOR and SSE exceptions enabled. */
    write_cr4(read_cr4() | X86_CR4_OSFXSR | (1UL << 10) /* OSXMMEXCPT */);
    write_cr0(read_cr0() & ~((1UL << 2) /* EM */ | X86_CR0_TS));
}
