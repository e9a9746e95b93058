/* Local APIC: enable, EOI, and the timer (periodic or one-shot).
 *
 * Owns: the LAPIC MMIO mapping and the timer calibration (LAPIC timer
 * ticks per ms, measured against the calibrated TSC). The legacy 8259 PICs
 * are remapped to 0x20-0x2f and fully masked: every interrupt comes from
 * the LAPIC. Per-CPU state (tick counts) lives in struct percpu.
 * Locking: each CPU programs only its own LAPIC. */
#include "asm/cpu.h"
#include "asm/page.h"
#include "asm/percpu.h"
#include "hv/apic.h"
#include "hv/mm.h"
#include "hv/printk.h"
#include "hv/time.h"
#include "hv/traps.h"

#define APIC_ID         0x020
#define APIC_VERSION    0x030
#define APIC_TPR        0x080
#define APIC_EOI        0x0b0
#define APIC_SVR        0x0f0
#define APIC_ESR        0x280
#define APIC_LVT_TIMER  0x320
#define APIC_LVT_LINT0  0x350
#define APIC_LVT_LINT1  0x360
#define APIC_LVT_ERROR  0x370
#define APIC_TMICT      0x380
#define APIC_TMCCT      0x390
#define APIC_TDCR       0x3e0

#define LVT_MASKED      (1u << 16)
#define LVT_PERIODIC    (1u << 17)
#define APIC_BASE_ENABLE (1UL << 11)
#define TDCR_DIV16      0x3

static volatile uint32_t *lapic;
static uint64_t timer_ticks_per_ms;

static inline uint32_t apic_read(uint32_t reg) { return lapic[reg / 4]; }
static inline void apic_write(uint32_t reg, uint32_t v) { lapic[reg / 4] = v; }

static void pic_mask_all(void)
{
    /* ICW1-4: remap master to 0x20, slave to 0x28, then mask everything. */
    outb(0x20, 0x11); outb(0xa0, 0x11);
    outb(0x21, VEC_PIC_BASE); outb(0xa1, VEC_PIC_BASE + 8);
    outb(0x21, 0x04); outb(0xa1, 0x02);
    outb(0x21, 0x01); outb(0xa1, 0x01);
    outb(0x21, 0xff); outb(0xa1, 0xff);
}

static void timer_calibrate(void)
{
    apic_write(APIC_TDCR, TDCR_DIV16);
    apic_write(APIC_LVT_TIMER, LVT_MASKED | VEC_LAPIC_TIMER);
    apic_write(APIC_TMICT, 0xffffffffu);
    uint64_t t0 = now_ns();
    udelay(10000);
    uint32_t left = apic_read(APIC_TMCCT);
    uint64_t dt = now_ns() - t0;
    apic_write(APIC_TMICT, 0);

    timer_ticks_per_ms = (uint64_t)(0xffffffffu - left) * NSEC_PER_MSEC / dt;
    if (!timer_ticks_per_ms)
        panic("apic: LAPIC timer does not count");
}

void apic_init(void)
{
    uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
    wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_ENABLE);
    paddr_t pa = base & PTE_ADDR_MASK;

    if (!lapic) {
        lapic = ioremap(pa, PAGE_SIZE);
        pic_mask_all();
    }
    apic_write(APIC_TPR, 0);
    apic_write(APIC_LVT_LINT0, LVT_MASKED);
    apic_write(APIC_LVT_LINT1, LVT_MASKED);
    apic_write(APIC_LVT_ERROR, VEC_LAPIC_ERROR);
    apic_write(APIC_ESR, 0);
    apic_write(APIC_SVR, 0x100 | VEC_SPURIOUS);      /* software enable */
    this_cpu()->apic_id = apic_read(APIC_ID) >> 24;

    if (!timer_ticks_per_ms)
        timer_calibrate();
    pr_info("apic: LAPIC id %u version %#x at %#lx, timer %lu.%03lu MHz",
            this_cpu()->apic_id, apic_read(APIC_VERSION) & 0xff, pa,
            timer_ticks_per_ms / 1000, timer_ticks_per_ms % 1000);
}

uint64_t lapic_timer_khz(void)
{
    return timer_ticks_per_ms;
}

uint32_t lapic_id(void)
{
    return apic_read(APIC_ID) >> 24;
}

void lapic_timer_periodic(unsigned int hz)
{
    this_cpu()->timer_armed_ns = 0;     /* the one-shot deadline is gone */
    if (!hz) {
        apic_write(APIC_TMICT, 0);
        this_cpu()->timer_period_ns = 0;
        return;
    }
    uint64_t count = timer_ticks_per_ms * 1000 / hz;
    if (count == 0 || count > 0xffffffffu)
        panic("apic: %u Hz is outside what the LAPIC timer can do", hz);
    this_cpu()->timer_period_ns = NSEC_PER_SEC / hz;
    apic_write(APIC_TDCR, TDCR_DIV16);
    apic_write(APIC_LVT_TIMER, LVT_PERIODIC | VEC_LAPIC_TIMER);
    apic_write(APIC_TMICT, (uint32_t)count);
}

void lapic_timer_oneshot(uint64_t ns)
{
    uint64_t count = ns * timer_ticks_per_ms / NSEC_PER_MSEC;
    if (count == 0)
        count = 1;
    if (count > 0xffffffffu)
        count = 0xffffffffu;
    this_cpu()->timer_period_ns = 0;
    apic_write(APIC_TDCR, TDCR_DIV16);
    apic_write(APIC_LVT_TIMER, VEC_LAPIC_TIMER);
    apic_write(APIC_TMICT, (uint32_t)count);
}

#define APIC_ICR_LO     0x300
#define APIC_ICR_HI     0x310
#define ICR_BUSY        (1u << 12)

void lapic_send_ipi(uint32_t apic_id, uint32_t icr_low)
{
    uint64_t f = local_irq_save();
    for (unsigned int i = 0; i < 1000000 && (apic_read(APIC_ICR_LO) & ICR_BUSY); i++)
        cpu_relax();
    apic_write(APIC_ICR_HI, apic_id << 24);
    apic_write(APIC_ICR_LO, icr_low);
    for (unsigned int i = 0; i < 1000000 && (apic_read(APIC_ICR_LO) & ICR_BUSY); i++)
        cpu_relax();
    local_irq_restore(f);
}

/* Vectors 0xe0-0xff (timer, IPIs, the doorbell, errors: every vector
 * the hypervisor unmasks) wait in the IRR's last word while interrupts
 * are off. */
#define APIC_IRR_E0     0x270

bool lapic_irq_pending(void)
{
    return apic_read(APIC_IRR_E0) != 0;
}

void lapic_eoi(void)
{
    apic_write(APIC_EOI, 0);
}

void lapic_timer_interrupt(void)
{
    this_cpu()->timer_ticks++;
    lapic_eoi();
}
