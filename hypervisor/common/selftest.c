/* Boot self-tests: the frame allocator, the timer against the TSC, and
 * deliberate faults that the trap handlers must catch and report.
 * Each prints "selftest: NAME: PASS|FAIL (details)". */
#include "asm/cpu.h"
#include "asm/page.h"
#include "asm/percpu.h"
#include "hv/apic.h"
#include "hv/bootinfo.h"
#include "hv/buddy.h"
#include "hv/errno.h"
#include "hv/lib.h"
#include "hv/mm.h"
#include "hv/printk.h"
#include "hv/selftest.h"
#include "hv/shutdown.h"
#include "hv/time.h"

#define TIMER_TEST_HZ 100

static bool report(const char *name, bool ok, const char *detail)
{
    printk(ok ? LOG_INFO : LOG_ERR, "selftest: %s: %s (%s)", name, ok ? "PASS" : "FAIL", detail);
    return ok;
}

/* Every order: allocate, check alignment and that the memory is real RAM
 * (a pattern written through the direct map reads back), free. Then take
 * every free frame one by one (no frame twice, exhaustion reported as
 * -ENOMEM), give them all back and check the free lists coalesced back to
 * exactly the shape they had. */
static bool test_alloc(void)
{
    char why[160];
    uint64_t free0 = frames_free();
    uint64_t blocks0[BUDDY_MAX_ORDER + 1];

    for (unsigned int o = 0; o <= BUDDY_MAX_ORDER; o++)
        blocks0[o] = frames_free_blocks(o);

    unsigned int orders_ok = 0;
    for (unsigned int o = 0; o <= 10; o++) {
        int64_t mfn = alloc_frames(o);
        if (mfn < 0) {
            snprintf(why, sizeof(why), "order %u allocation failed (%ld)", o, mfn);
            return report("alloc", false, why);
        }
        if (mfn & ((1L << o) - 1)) {
            snprintf(why, sizeof(why), "order %u block at mfn %#lx is not aligned", o, mfn);
            return report("alloc", false, why);
        }
        uint64_t *p = mfn_to_virt((mfn_t)mfn);
        uint64_t words = (PAGE_SIZE << o) / 8;
        for (uint64_t i = 0; i < words; i += 512)
            p[i] = ((uint64_t)mfn << 20) ^ i;
        for (uint64_t i = 0; i < words; i += 512)
            if (p[i] != (((uint64_t)mfn << 20) ^ i)) {
                snprintf(why, sizeof(why), "memory at mfn %#lx does not hold data", mfn);
                return report("alloc", false, why);
            }
        free_frames((mfn_t)mfn, o);
        orders_ok++;
    }

    /* Exhaust: chain all frames through their own first word. */
    uint64_t taken = 0, dup = 0;
    int64_t head = -1, mfn;
    while ((mfn = alloc_frames(0)) >= 0) {
        struct page_info *pg = &frame_table[mfn];
        if (pg->count == 0xa110c)
            dup++;
        pg->count = 0xa110c;
        *(int64_t *)mfn_to_virt((mfn_t)mfn) = head;
        head = mfn;
        taken++;
    }
    bool enomem = mfn == -ENOMEM;
    uint64_t free_at_exhaustion = frames_free();
    while (head >= 0) {
        int64_t next = *(int64_t *)mfn_to_virt((mfn_t)head);
        frame_table[head].count = 0;
        free_frames((mfn_t)head, 0);
        head = next;
    }

    bool shape = true;
    for (unsigned int o = 0; o <= BUDDY_MAX_ORDER; o++)
        shape &= frames_free_blocks(o) == blocks0[o];

    snprintf(why, sizeof(why),
             "orders 0-10 ok: %u; exhausted after %lu of %lu frames%s; duplicates %lu; "
             "free after %lu; coalesced %s",
             orders_ok, taken, free0, enomem ? " with -ENOMEM" : "", dup,
             frames_free(), shape ? "yes" : "no");
    return report("alloc", taken == free0 && enomem && !dup && free_at_exhaustion == 0 &&
                  frames_free() == free0 && shape, why);
}

/* Count periodic LAPIC timer interrupts over one second of TSC time. */
static bool test_timer(void)
{
    char why[160];
    struct percpu *pc = this_cpu();

    lapic_timer_periodic(TIMER_TEST_HZ);
    local_irq_enable();
    /* Start on a tick boundary. */
    uint64_t t = pc->timer_ticks;
    while (pc->timer_ticks == t)
        __asm__ volatile("hlt");
    uint64_t ticks0 = pc->timer_ticks;
    uint64_t start = now_ns();
    while (now_ns() - start < NSEC_PER_SEC)
        __asm__ volatile("hlt");
    uint64_t ticks = pc->timer_ticks - ticks0;
    uint64_t elapsed = now_ns() - start;
    local_irq_disable();
    lapic_timer_periodic(0);

    /* Both ends of the window sit right after a tick (hlt woke on it). */
    uint64_t expected = (TIMER_TEST_HZ * elapsed + NSEC_PER_SEC / 2) / NSEC_PER_SEC;
    uint64_t diff = ticks > expected ? ticks - expected : expected - ticks;
    uint64_t err_ppm = expected ? diff * 1000000 / expected : 1000000;
    snprintf(why, sizeof(why),
             "%lu ticks in %lu us of TSC time, expected %lu at %u Hz, error %lu.%02lu%%",
             ticks, elapsed / 1000, expected, TIMER_TEST_HZ, err_ppm / 10000,
             (err_ppm / 100) % 100);
    return report("timer", err_ppm <= 50000, why);
}

/* Deliberate faults. noinline so the dump names these functions. */
static __attribute__((noinline)) void fault_pf(void)
{
    *(volatile uint64_t *)0xffff8100deadb000UL = 1;   /* unmapped, in the reserved range */
}

static __attribute__((noinline)) void fault_ud(void)
{
    __asm__ volatile("ud2");
}

static __attribute__((noinline)) void fault_gp(void)
{
    *(volatile uint64_t *)0x8000000000000000UL = 1;   /* non-canonical */
}

static __attribute__((noinline)) void fault_de(void)
{
    uint64_t lo = 1, hi = 0;
    __asm__ volatile("divq %2" : "+a"(lo), "+d"(hi) : "r"(0UL));
}

static __attribute__((noinline)) void fault_bp(void)
{
    __asm__ volatile("int3");
}

/* A #PF that cannot be delivered on a broken stack becomes #DF, which the
 * IST stack must still catch. */
static __attribute__((noinline)) void fault_df(void)
{
    __asm__ volatile("movabs $0xffff8100dead0000, %%rsp\n\tpushq $0" ::: "memory");
}

static const struct {
    const char *name;
    void (*fn)(void);
} faults[] = {
    { "fault-pf", fault_pf }, { "fault-ud", fault_ud }, { "fault-gp", fault_gp },
    { "fault-de", fault_de }, { "fault-bp", fault_bp }, { "fault-df", fault_df },
};

void selftest_run(void)
{
    const char *list = cmdline_get("selftest");
    bool ok = true;

    if (!list)
        return;
    pr_info("selftest: running %s", list);
    if (cmdline_list_has("selftest", "boot"))
        report("boot", true, "the hypervisor came up");
    if (cmdline_list_has("selftest", "alloc"))
        ok &= test_alloc();
    if (cmdline_list_has("selftest", "timer"))
        ok &= test_timer();
    for (unsigned int i = 0; i < ARRAY_SIZE(faults); i++) {
        if (!cmdline_list_has("selftest", faults[i].name))
            continue;
        pr_info("selftest: %s: triggering a deliberate fault in %s", faults[i].name,
                faults[i].name);
        faults[i].fn();
        report(faults[i].name, false, "the fault did not happen");
        ok = false;
    }
    pr_info("selftest: %s", ok ? "all passed" : "FAILED");
    machine_exit(ok);
}
