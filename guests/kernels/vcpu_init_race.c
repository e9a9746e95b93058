/*
 * Test kernel: two vCPUs initialising the same vCPU at once (issue 13:
 * VCPUOP_initialise checked "already initialised" long before it set it,
 * so both could take the page-table and GDT references and the loser
 * released the winner's GDT frames a second time, a BUG_ON in the
 * hypervisor).
 *
 * vCPU 0 and vCPU 1 race on VCPUOP_initialise of each of vCPUs 2..7, both
 * released by one shared counter, each with a context of its own that
 * has a one-frame GDT (a read-only page of null descriptors). Exactly one
 * of the two must succeed and the other get -EEXIST, and at the end the
 * hypervisor must get every frame back (checked by the host script).
 * Needs `vcpus=8`; the racing vCPUs are never brought up.
 */
#include "evtime.h"

const char test_name[] = "vcpu_init_race";

#define FIRST_TARGET 2
#define LAST_TARGET  7

static vcpu_guest_context_t ctxt[2];        /* one per racing vCPU */
static uint64_t gdt_mfn;
static volatile unsigned int go;            /* the target both race on */
static volatile unsigned int arrived[2];
static volatile long result[2][LAST_TARGET + 1];

static void race(unsigned int me)
{
    for (unsigned int t = FIRST_TARGET; t <= LAST_TARGET; t++) {
        if (me == 0)
            go = t;                         /* vCPU 0 leads */
        while (go != t)
            cpu_relax();
        arrived[me] = t;
        while (arrived[!me] != t)           /* both at the line, then go */
            cpu_relax();
        result[me][t] = hypercall_vcpu_op(VCPUOP_initialise, t, &ctxt[me]);
    }
}

static void racer(unsigned int id)
{
    (void)id;
    race(1);
}

void test_main(void)
{
    void *gdt = page_alloc();

    memset(gdt, 0, PAGE_SIZE);
    if (!test_eq(page_set_writable(gdt, false), 0, "map the GDT page read-only"))
        return;
    gdt_mfn = virt_to_mfn(gdt);
    vcpu_parked_context(&ctxt[0], (uint64_t)&ctxt[0], gdt_mfn);    /* never runs */
    vcpu_parked_context(&ctxt[1], (uint64_t)&ctxt[0], gdt_mfn);
    if (!test_eq(vcpu_start(1, racer), 0, "VCPUOP_initialise + VCPUOP_up of vCPU 1 "
                 "(boot with vcpus=8)"))
        return;
    printk("vcpu_init_race: vCPU 1 is up; racing on vCPUs %u-%u\n", FIRST_TARGET,
           LAST_TARGET);
    race(0);
    for (uint64_t give_up = system_time() + 10 * NSEC_PER_SEC;
         !vcpu_finished(1) && system_time() < give_up;)
        sleep_until(system_time() + NSEC_PER_MSEC);
    test_ok(vcpu_finished(1), "vCPU 1 did not finish its races within 10 s");
    for (unsigned int t = FIRST_TARGET; t <= LAST_TARGET; t++) {
        long a = result[0][t], b = result[1][t];
        test_ok((a == 0 && b == -XEN_EEXIST) || (a == -XEN_EEXIST && b == 0),
                "vCPU %u initialised from vCPUs 0 and 1 at once: got %ld and %ld, "
                "expected one 0 and one -EEXIST", t, a, b);
        test_eq(hypercall_vcpu_op(VCPUOP_initialise, t, &ctxt[0]), -XEN_EEXIST,
                "VCPUOP_initialise of vCPU %u a third time", t);
    }
}
