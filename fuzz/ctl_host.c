/*
 * ctl_host.c - the machine around the hypervisor's control interface for
 * fuzz_ctl.c. tests/unit/mm's harness gives machine memory, the heap, the
 * frame table and the domain table; this file plays the parts of the
 * hypervisor that control.c calls and that are not under test, each the
 * way the hypervisor does it on a machine whose CPUs are all idle:
 *   domain.c   domain_create (and for Domain 0) with the real event
 *              channels, grant table, shared_info and memory of the guest
 *              memory code; destruction (requested, then done by the
 *              reaper: ctl_host_reap) with the real teardown of each
 *   schedule.c vCPUs wake and sleep; no CPU ever runs one
 *   the rest   time, the TSC, the LAPIC and IOAPIC, per-CPU data
 * The harness's table holds at most 7 guests per machine (ids 1-7): a
 * destroyed domain keeps its id, as DOM_DEAD, until the machine goes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <public/grant_table.h>
#include <public/pvcore_ctl.h>

#include "asm/percpu.h"
#include "ctl_host.h"
#include "harness.h"
#include "hv/control.h"
#include "hv/domain.h"
#include "hv/event.h"
#include "hv/grant_table.h"
#include "hv/pagetype.h"
#include "hv/pv.h"
#include "hv/sched_credit.h"
#include "hv/schedule.h"
#include "hv/smp.h"
#include "hv/time.h"

#define HARNESS_DOMAINS 8	/* tests/unit/mm/harness.c's table */

struct percpu percpu[NR_CPUS];
static uint64_t heap_before;     /* frames free before control_init */

/* ---- mm/frame.c ---- */

void free_hv_page(void *va)
{
    free_frames(virt_to_mfn(va), 0);
}

uint64_t frames_managed(void)
{
    return TEST_FRAMES - TEST_RESERVED;
}

/* ---- time, interrupts, other CPUs ---- */

uint64_t now_ns(void)
{
    return 1000000000ull;
}

uint64_t tsc_khz(void)
{
    return 2000000;
}

bool ioapic_route_isa_irq(unsigned int irq, uint8_t vector, uint32_t apic_id)
{
    return false;
}

void lapic_eoi(void)
{
}

void smp_send_resched(unsigned int cpu)
{
}

/* ---- schedule.c / sched_credit.c on idle CPUs ---- */

void vcpu_wake(struct vcpu *v)
{
    if (v->state == VCPU_BLOCKED)
        v->state = VCPU_RUNNABLE;
}

void vcpu_sleep(struct vcpu *v)
{
}

int csched_set_params(struct domain *d, unsigned int weight, unsigned int cap)
{
    if (weight < 1 || weight > 65535 || cap > 100 * d->nr_vcpus)
        return -EINVAL;
    d->weight = weight;
    d->cap = cap;
    return 0;
}

void vcpu_set_start_state(struct vcpu *v, uint64_t rip, uint64_t rsp, uint64_t rsi)
{
    memset(&v->regs, 0, sizeof(v->regs));
    v->regs.rip = rip;
    v->regs.rsp = rsp;
    v->regs.rsi = rsi;
}

/* ---- domain.c ---- */

static void domain_teardown(struct domain *d)
{
    d->state = DOM_DEAD;
    evtchn_destroy(d);
    evtchn_free(d);             /* the last reference went: no CPU is in an event call */
    domain_relinquish_memory(d);
    gnttab_destroy(d);
    if (d->shared_info)
        unshare_frame(d->shared_info_mfn);
    d->shared_info = NULL;
}

static int domain_setup(struct domain *d, unsigned int vcpus)
{
    void *si = alloc_hv_page();

    if (!si)
        return -ENOMEM;
    d->shared_info = si;
    d->shared_info_mfn = virt_to_mfn(si);
    if (d->id)
        share_frame_with_domain(d, d->shared_info_mfn);
    else
        frame_table[d->shared_info_mfn].owner = 0;
    if (evtchn_init(d, EVTCHN_DEFAULT_MAX) || gnttab_init(d))
        return -ENOMEM;
    for (unsigned int i = 0; i < vcpus; i++) {
        struct vcpu *v = d->vcpus[i] ? d->vcpus[i] : calloc(1, sizeof(*v));

        if (!v)
            abort();
        v->id = i;
        v->domain = d;
        v->state = VCPU_DOWN;
        v->processor = -1;
        v->kernel_mode = true;
        v->vcpu_info = &d->shared_info->vcpu_info[i];
        v->vcpu_info->evtchn_upcall_mask = 1;
        d->vcpus[i] = v;
    }
    d->nr_vcpus = vcpus;
    return 0;
}

/* As domain.c's, without the m2p (no guest runs here): the next frames
 * of a building domain's reservation. */
long domain_populate(struct domain *d, uint64_t max)
{
    uint64_t n = max < d->unpopulated ? max : d->unpopulated;

    if (d->state != DOM_BUILDING)
        return -EBUSY;
    for (; n; n--, d->unpopulated--)
        if (alloc_domain_frame(d) < 0)
            return -ENOMEM;
    return (long)d->unpopulated;
}

struct domain *domain_create(const struct domain_config *cfg, int *err)
{
    struct domain *d;
    domid_t id = 1;

    if (!cfg->vcpus || cfg->vcpus > MAX_VCPUS || !cfg->mem_pages || cfg->max_pages < cfg->mem_pages) {
        *err = -EINVAL;
        return NULL;
    }
    if (cfg->mem_pages > frames_free()) {
        *err = -ENOMEM;
        return NULL;
    }
    while (id < HARNESS_DOMAINS && domain_by_id(id))
        id++;
    if (id == HARNESS_DOMAINS) {
        *err = -ENOSPC;
        return NULL;
    }
    d = harness_domain(id, cfg->max_pages, 0, false);
    snprintf(d->name, sizeof(d->name), "%s", cfg->name ? cfg->name : "");
    d->state = DOM_BUILDING;
    d->weight = cfg->weight ? cfg->weight : 256;
    d->cap = cfg->cap;
    d->shutdown_code = SHUTDOWN_CODE_NONE;
    if (domain_setup(d, cfg->vcpus) != 0)
        goto nomem;
    d->unpopulated = cfg->mem_pages;
    if (domain_populate(d, cfg->first_pages ? cfg->first_pages : cfg->mem_pages) < 0)
        goto nomem;
    return d;
nomem:
    domain_teardown(d);
    *err = -ENOMEM;
    return NULL;
}

struct domain *domain_create_dom0(int *err)
{
    struct domain *d = harness_domain(0, 0, 0, false);

    snprintf(d->name, sizeof(d->name), "Domain-0");
    d->state = DOM_RUNNING;
    d->shutdown_code = SHUTDOWN_CODE_NONE;
    if (domain_setup(d, 0) != 0) {
        *err = -ENOMEM;
        return NULL;
    }
    return d;
}

/* The guest in the harness's slot, unless it is gone. */
static struct domain *domain_in_slot(unsigned int slot)
{
    struct domain *d = slot < HARNESS_DOMAINS ? domain_by_id((domid_t)slot) : NULL;

    return d && d->state != DOM_DEAD ? d : NULL;
}

bool domain_handle_in_use(const uint8_t handle[16])
{
    for (unsigned int i = 1; i < HARNESS_DOMAINS; i++) {
        struct domain *d = domain_in_slot(i);
        if (d && !memcmp(d->handle, handle, 16))
            return true;
    }
    return false;
}

int domain_unpause(struct domain *d)
{
    if (d->state != DOM_BUILDING && d->state != DOM_PAUSED)
        return d->state == DOM_RUNNING ? -EALREADY : -EBUSY;
    if (d->state == DOM_BUILDING &&
        (!d->nr_vcpus || !d->vcpus[0]->initialised || d->unpopulated))
        return -EINVAL;
    d->state = DOM_RUNNING;
    for (unsigned int i = 0; i < d->nr_vcpus; i++) {
        struct vcpu *v = d->vcpus[i];
        if (i == 0 && v->state == VCPU_DOWN && v->initialised)
            v->state = VCPU_RUNNABLE;
    }
    return 0;
}

int domain_pause(struct domain *d)
{
    if (d->state != DOM_RUNNING)
        return d->state == DOM_PAUSED ? -EALREADY : -EBUSY;
    d->state = DOM_PAUSED;
    return 0;
}

long domain_while_state(struct domain *d, unsigned int states,
                        long (*fn)(struct domain *, const void *), const void *arg)
{
    return states & DOMS(d->state) ? fn(d, arg) : -EBUSY;
}

void domain_shutdown(struct domain *d, unsigned int reason)
{
    if (d->state == DOM_SHUTDOWN || d->state == DOM_DEAD)
        return;
    if (d->shutdown_code == SHUTDOWN_CODE_NONE)
        d->shutdown_code = reason;
    d->state = DOM_SHUTDOWN;
    d->shutdown_reason = d->shutdown_code;
    for (unsigned int i = 0; i < d->nr_vcpus; i++)
        d->vcpus[i]->state = VCPU_PAUSED;
}

void domain_request_destroy(struct domain *d)
{
    d->destroy_requested = true;
    d->state = DOM_SHUTDOWN;
    for (unsigned int i = 0; i < d->nr_vcpus; i++)
        if (d->vcpus[i]->state != VCPU_DOWN)
            d->vcpus[i]->state = VCPU_PAUSED;
}

/* ---- the machine ---- */

void ctl_host_start(void)
{
    harness_init();
    heap_before = frames_free();
    control_init();
}

void ctl_host_reap(void)
{
    for (unsigned int i = 1; i < HARNESS_DOMAINS; i++) {
        struct domain *d = domain_in_slot(i);
        if (d && d->destroy_requested)
            domain_teardown(d);
    }
}

void ctl_host_stop(void)
{
    struct domain *dom0 = domain_by_id(0);

    /* as pvd does before it lets a domain go: Domain 0's maps and ports */
    for (uint32_t h = 0; h < 4096; h++)
        gnttab_unmap_for(dom0, h);
    for (unsigned int i = 1; i < HARNESS_DOMAINS; i++) {
        struct domain *d = domain_in_slot(i);
        if (d)
            domain_teardown(d);
    }
    /* then what control_init made: Domain 0 (its maptrack grew with its
     * maps) and the control block (PVCTL_BLOCK_PAGES, a power of two) */
    unsigned int order = 0;
    while ((1u << order) < PVCTL_BLOCK_PAGES)
        order++;
    evtchn_destroy(dom0);
    evtchn_free(dom0);
    gnttab_destroy(dom0);
    free_frames(dom0->shared_info_mfn, 0);
    free_frames(((const struct pvctl_anchor *)__va(PVCTL_ANCHOR_PADDR))->block_paddr >> PAGE_SHIFT, order);
    if (frames_free() != heap_before) {
        fprintf(stderr, "ctl_host: %llu frames free after everything went, %llu before control_init\n",
                (unsigned long long)frames_free(), (unsigned long long)heap_before);
        abort();
    }
    harness_fini();
}
