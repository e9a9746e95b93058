/* Application processors and inter-processor interrupts.
 *
 * Owns: bringing CPUs 1..N-1 online (INIT-SIPI-SIPI into the real-mode
 * trampoline, one CPU at a time), the per-CPU flush requests and the
 * reschedule/flush IPIs.
 * Invariants: percpu[i] is initialised before CPU i runs any C code; a CPU
 * is counted in nr_cpus_online only once it can take interrupts and run
 * the idle loop.
 * Locking: bring-up is serialised by the boot CPU (ap_booting). A TLB
 * flush sets a request flag on every other online CPU, sends the IPI and
 * waits for the flags to clear; a CPU waiting for anything with interrupts
 * off (spin locks, this wait) serves its own request, so two CPUs flushing
 * at once, or one holding a lock the other waits for, cannot deadlock. */
#include "asm/cpu.h"
#include "asm/page.h"
#include "asm/percpu.h"
#include "hv/acpi.h"
#include "hv/apic.h"
#include "hv/bootinfo.h"
#include "hv/lib.h"
#include "hv/mm.h"
#include "hv/printk.h"
#include "hv/smp.h"
#include "hv/time.h"
#include "hv/timer.h"
#include "hv/traps.h"
#include "hv/schedule.h"

extern char trampoline_start[], trampoline_end[];
extern uint32_t tr_cr3, tr_nx;
extern uint64_t tr_stack, tr_entry;
extern uint32_t boot_cpu_has_nx;

unsigned int nr_cpus_online = 1;
static volatile bool ap_up;
static unsigned int ap_booting;
static volatile uint32_t flush_request[NR_CPUS];

#define ICR_INIT    0x00004500u
#define ICR_SIPI    0x00004600u
#define ICR_FIXED   0x00004000u      /* fixed delivery, assert */

static void *tramp_field(void *copy, void *field)
{
    return (char *)copy + ((char *)field - trampoline_start);
}

/* Page tables for the trampoline: the first GiB identity-mapped, plus
 * the hypervisor's slots. Returns the L4, below 4 GiB. */
static uint64_t *trampoline_tables(void)
{
    uint64_t *l4 = alloc_hv_page(), *l3 = alloc_hv_page(), *l2 = alloc_hv_page();
    if (!l4 || !l3 || !l2 || __pa(l4) >= GiB(4) || __pa(l3) >= GiB(4) || __pa(l2) >= GiB(4))
        panic("smp: no page-table memory below 4 GiB for the AP trampoline");
    memcpy(l4 + HV_FIRST_L4_SLOT, idle_l4() + HV_FIRST_L4_SLOT,
           (PT_ENTRIES - HV_FIRST_L4_SLOT) * sizeof(uint64_t));
    l4[0] = __pa(l3) | _PAGE_PRESENT | _PAGE_RW;
    l3[0] = __pa(l2) | _PAGE_PRESENT | _PAGE_RW;
    for (unsigned int i = 0; i < PT_ENTRIES; i++)
        l2[i] = ((uint64_t)i << L2_SHIFT) | _PAGE_PRESENT | _PAGE_RW | _PAGE_PSE;
    return l4;
}

void ap_start(void);
void ap_start(void)
{
    unsigned int id = ap_booting;
    struct percpu *pc = &percpu[id];

    write_cr3(__pa(idle_l4()));
    write_cr4(read_cr4() | X86_CR4_PGE);
    cpu_desc_init(pc, pc->stack_block);
    apic_init();
    __atomic_store_n(&ap_up, true, __ATOMIC_RELEASE);
    timers_reprogram();
    idle_loop();
}

static bool start_cpu(unsigned int id, uint32_t apic_id, void *copy)
{
    int64_t stack = alloc_frames(STACK_ORDER);
    if (stack < 0) {
        pr_err("smp: no memory for CPU %u's stacks", id);
        return false;
    }
    struct percpu *pc = &percpu[id];
    pc->id = id;
    pc->apic_id = apic_id;
    pc->stack_block = mfn_to_virt((mfn_t)stack);
    memset(pc->stack_block, 0, STACK_SIZE);

    *(uint64_t *)tramp_field(copy, &tr_stack) =
        (uint64_t)pc->stack_block + STACK_SIZE - CPU_INFO_RESERVE;
    ap_booting = id;
    ap_up = false;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);

    lapic_send_ipi(apic_id, ICR_INIT);
    udelay(10000);
    for (int i = 0; i < 2; i++) {
        lapic_send_ipi(apic_id, ICR_SIPI | (TRAMPOLINE_PHYS >> PAGE_SHIFT));
        udelay(200);
    }
    for (unsigned int i = 0; i < 2000 && !__atomic_load_n(&ap_up, __ATOMIC_ACQUIRE); i++)
        udelay(100);
    if (!ap_up) {
        pr_err("smp: CPU %u (APIC %u) did not come up", id, apic_id);
        free_frames((mfn_t)stack, STACK_ORDER);
        return false;
    }
    return true;
}

void smp_boot_cpus(void)
{
    uint32_t ids[NR_CPUS * 4];
    unsigned int n = acpi_cpu_apic_ids(ids, ARRAY_SIZE(ids));
    unsigned int limit = NR_CPUS;
    const char *mc = cmdline_get("maxcpus");
    uint64_t v;

    if (mc && parse_u64(mc, NULL, &v) && v >= 1 && v < limit)
        limit = (unsigned int)v;
    if (n <= 1 || limit == 1) {
        pr_info("smp: 1 CPU");
        return;
    }

    void *copy = __va(TRAMPOLINE_PHYS);
    memcpy(copy, trampoline_start, (size_t)(trampoline_end - trampoline_start));
    uint64_t *l4 = trampoline_tables();
    *(uint32_t *)tramp_field(copy, &tr_cr3) = (uint32_t)__pa(l4);
    *(uint32_t *)tramp_field(copy, &tr_nx) = boot_cpu_has_nx;
    *(uint64_t *)tramp_field(copy, &tr_entry) = (uint64_t)ap_start;

    uint32_t self = lapic_id();
    for (unsigned int i = 0; i < n && nr_cpus_online < limit; i++) {
        if (ids[i] == self)
            continue;
        if (start_cpu(nr_cpus_online, ids[i], copy))
            nr_cpus_online++;
    }
    /* Every AP is on idle_l4 now: the trampoline's tables can go. */
    uint64_t *l3 = __va(l4[0] & PTE_ADDR_MASK);
    free_hv_page(__va(l3[0] & PTE_ADDR_MASK));
    free_hv_page(l3);
    free_hv_page(l4);
    pr_info("smp: %u CPUs online (%u listed by ACPI)", nr_cpus_online, n);
}

void smp_send_resched(unsigned int cpu)
{
    if (cpu == this_cpu()->id) {
        percpu[cpu].need_resched = true;
        return;
    }
    percpu[cpu].need_resched = true;
    lapic_send_ipi(percpu[cpu].apic_id, ICR_FIXED | VEC_IPI_RESCHED);
}

void smp_send_timer_kick(unsigned int cpu)
{
    lapic_send_ipi(percpu[cpu].apic_id, ICR_FIXED | VEC_IPI_TIMER);
}

void smp_service_flush(void)
{
    unsigned int me = this_cpu() ? this_cpu()->id : 0;
    if (__atomic_load_n(&flush_request[me], __ATOMIC_ACQUIRE)) {
        write_cr3(read_cr3());
        __atomic_store_n(&flush_request[me], 0, __ATOMIC_RELEASE);
    }
}

void flush_tlb_all_cpus(void)
{
    unsigned int me = this_cpu()->id;

    write_cr3(read_cr3());
    for (unsigned int c = 0; c < nr_cpus_online; c++) {
        if (c == me)
            continue;
        __atomic_store_n(&flush_request[c], 1, __ATOMIC_RELEASE);
        lapic_send_ipi(percpu[c].apic_id, ICR_FIXED | VEC_IPI_FLUSH);
    }
    for (unsigned int c = 0; c < nr_cpus_online; c++) {
        while (c != me && __atomic_load_n(&flush_request[c], __ATOMIC_ACQUIRE)) {
            smp_service_flush();
            cpu_relax();
        }
    }
}

void smp_ipi_interrupt(unsigned int vector)
{
    lapic_eoi();
    if (vector == VEC_IPI_FLUSH)
        smp_service_flush();
    else if (vector == VEC_IPI_TIMER)
        timers_reprogram();
    else
        this_cpu()->need_resched = true;
}
