/*
 * C entry of the PV test kernels: boot state and shutdown.
 *
 * Owns: pv_start (called by head.S with start_info), mapping shared_info,
 * bringing up the library (mm, traps, events masked) and handing over to
 * the kernel's test_main; domain_shutdown.
 */
#include "lib.h"

start_info_t *start_info;
shared_info_t *shared_info;

/* Its mapping is replaced by the shared_info frame at boot. */
static uint8_t shared_info_page[PAGE_SIZE] ALIGNED(PAGE_SIZE);

void domain_shutdown(unsigned int reason)
{
    struct sched_shutdown sd = { .reason = reason };

    for (;;) {
        hypercall_sched_op(SCHEDOP_shutdown, &sd);
        /* Not reached on a working hypervisor; do not spin hot. */
        hypercall_sched_op(SCHEDOP_yield, NULL);
    }
}

NORETURN void pv_start(start_info_t *si);
void pv_start(start_info_t *si)
{
    char magic[sizeof(si->magic) + 1];

    start_info = si;
    memcpy(magic, si->magic, sizeof(si->magic));
    magic[sizeof(si->magic)] = '\0';
    printk("pvcore-test %s: booting (magic \"%s\", %lu pages, flags %#x)\n",
           test_name, magic, (unsigned long)si->nr_pages, si->flags);
    if (strncmp(magic, "xen-", 4))
        test_abort("start_info magic is \"%s\", expected \"xen-...\"", magic);

    long rc = hypercall_update_va_mapping((uint64_t)shared_info_page,
                                          si->shared_info | PTE_PAGE,
                                          UVMF_INVLPG);
    if (rc)
        test_abort("mapping shared_info (maddr %#lx) failed: %ld",
                   (unsigned long)si->shared_info, rc);
    shared_info = (shared_info_t *)shared_info_page;
    events_mask_all();
    mm_init();
    traps_init();
    rc = traps_install();
    if (rc)
        test_abort("set_trap_table/callbacks failed: %ld", rc);

    test_main();
    test_finish();
}
