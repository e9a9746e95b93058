/* The boot CPU's way from the multiboot2 entry to a running hypervisor.
 * Each step depends on the ones above it; the comments say why. */
#include "asm/cpu.h"
#include "asm/page.h"
#include "asm/percpu.h"
#include "hv/acpi.h"
#include "hv/apic.h"
#include "hv/bootdomains.h"
#include "hv/bootinfo.h"
#include "hv/control.h"
#include "hv/lib.h"
#include "hv/mm.h"
#include "hv/pagetype.h"
#include "hv/printk.h"
#include "hv/schedule.h"
#include "hv/selftest.h"
#include "hv/smp.h"
#include "hv/shutdown.h"
#include "hv/time.h"
#include "hv/timer.h"

#define PVCORE_VERSION "0.1"

static void apply_log_level(void)
{
    const char *v = cmdline_get("loglevel");
    enum log_level lvl;

    if (!v)
        return;
    if (console_parse_level(v, &lvl))
        console_set_level(lvl);
    else
        pr_warn("boot: loglevel=%s is not err, warn, info, debug or 0-3; keeping info", v);
}

static void list_modules(void)
{
    for (unsigned int i = 0; i < boot_info.nr_modules; i++) {
        const struct boot_module *m = &boot_info.modules[i];
        pr_info("boot: module %u at %#lx-%#lx (%lu KiB): %s", i, m->start, m->end,
                (m->end - m->start) >> 10, m->cmdline);
    }
}

void hv_main(uint32_t mb_magic, uint32_t mb_info);

void hv_main(uint32_t mb_magic, uint32_t mb_info)
{
    /* 1. Console first, so that everything after can report. */
    console_init();

    /* 2. Descriptor tables: from here on every fault gets a readable dump. */
    idt_init();
    percpu[0].id = 0;
    cpu_desc_init(&percpu[0], cpu0_stack);

    /* 3. What the loader gave us; the command line configures the rest. */
    if (!multiboot_parse(mb_magic, mb_info))
        machine_exit(false);
    apply_log_level();
    shutdown_init();
    pr_info("pvcore " PVCORE_VERSION " hypervisor (x86-64) starting; command line: \"%s\"",
            boot_info.cmdline);
    list_modules();

    /* 4. Memory: needs the memory map; replaces the boot page tables. */
    mm_init();

    /* 5. ACPI tables (for power-off), reached through ioremap. */
    acpi_init();

    /* 6. Time: TSC against the PIT, then the LAPIC timer against the TSC. */
    time_init();
    wallclock_init();
    apic_init();

    /* 7. The scheduler, then the other CPUs (they go straight to idle). */
    sched_init();
    smp_boot_cpus();
    pr_info("pvcore: ready: %lu MiB free, %u CPU%s", frames_free() >> 8, nr_cpus_online,
            nr_cpus_online > 1 ? "s" : "");

    /* 8. Self-tests, if asked for: they end the run with their status. */
    selftest_run();

    /* 8. Guests: the read-only M2P they all map, the scheduler, then the
     * domains the boot loader brought as modules. */
    m2p_init();
    control_init();
    boot_domains_start();

    /* 9. Run them (or idle, with the timer ticking). */
    timers_reprogram();
    idle_loop();
}
