/* Host harness for the guest memory code: see harness.h. */
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "hv/buddy.h"
#include "hv/guest_access.h"
#include "hv/lib.h"
#include "hv/printk.h"
#include "hv/pv.h"
#include "hv/smp.h"

uint8_t *test_machine_memory;
uint64_t test_cr3, test_fs_base, test_gs_base;
unsigned int test_cr3_loads, test_invlpgs, test_descriptor_loads;

struct page_info *frame_table;
uint64_t max_mfn;

static struct buddy heap;
static uint64_t *idle;
static struct domain *domains[8];
static struct vcpu *running;

/* ---- machine memory and the heap (mm/frame.c's role) ---- */

void harness_init(void)
{
    /* kept from the last machine: fuzz/fuzz_ctl boots one per input */
    if (!test_machine_memory)
        test_machine_memory = aligned_alloc(PAGE_SIZE, (size_t)TEST_FRAMES * PAGE_SIZE);
    assert_non_null(test_machine_memory);
    memset(test_machine_memory, 0x5a, (size_t)TEST_FRAMES * PAGE_SIZE);
    max_mfn = TEST_FRAMES;
    frame_table = calloc(TEST_FRAMES, sizeof(*frame_table));
    assert_non_null(frame_table);
    for (mfn_t m = 0; m < TEST_FRAMES; m++)
        frame_table[m].owner = OWNER_HV;
    for (mfn_t m = 0; m < TEST_RESERVED; m++)
        frame_table[m].flags |= PGF_RESERVED;
    buddy_init(&heap, frame_table, TEST_FRAMES);
    assert_int_equal(buddy_add_range(&heap, TEST_RESERVED, TEST_FRAMES), 0);

    idle = alloc_hv_page();
    assert_non_null(idle);
    uint64_t *hv_l3 = alloc_hv_page();
    assert_non_null(hv_l3);
    idle[TEST_HV_SLOT] = __pa(hv_l3) | _PAGE_PRESENT | _PAGE_RW;
    test_cr3 = __pa(idle);
    test_cr3_loads = test_invlpgs = test_descriptor_loads = 0;
    running = NULL;
    memset(domains, 0, sizeof(domains));
    m2p_init();
}

void harness_fini(void)
{
    for (unsigned int i = 0; i < ARRAY_SIZE(domains); i++) {
        if (!domains[i])
            continue;
        /* Every get_domain_* the code under test made was put again. */
        if (domains[i]->refcnt != 1)
            fail_msg("domain %u: %u references left (expected only the table's)", i,
                     domains[i]->refcnt);
        for (unsigned int v = 0; v < MAX_VCPUS; v++)
            free(domains[i]->vcpus[v]);
        free(domains[i]);
        domains[i] = NULL;
    }
    free(frame_table);
    frame_table = NULL;         /* the machine memory stays for the next harness_init */
}

int64_t alloc_frames(unsigned int order)
{
    return buddy_alloc(&heap, order);
}

void free_frames(mfn_t mfn, unsigned int order)
{
    if (buddy_free(&heap, mfn, order))
        fail_msg("free_frames(%#lx, %u) does not match an allocation", mfn, order);
}

/* As mm/frame.c's, without the bookkeeping: zeroed now, and on free. */
int64_t alloc_zeroed_frame(void)
{
    int64_t mfn = alloc_frames(0);
    if (mfn >= 0)
        memset(mfn_to_virt((mfn_t)mfn), 0, PAGE_SIZE);
    return mfn;
}

void free_frame_scrubbed(mfn_t mfn)
{
    memset(mfn_to_virt(mfn), 0, PAGE_SIZE);
    free_frames(mfn, 0);
}

void *alloc_hv_page(void)
{
    int64_t mfn = alloc_frames(0);
    if (mfn < 0)
        return NULL;
    memset(mfn_to_virt((mfn_t)mfn), 0, PAGE_SIZE);
    return mfn_to_virt((mfn_t)mfn);
}

uint64_t frames_free(void)
{
    return heap.nr_free;
}

uint64_t *idle_l4(void)
{
    return idle;
}

bool cpu_has_nx(void)
{
    return true;
}

/* ---- domains and vCPUs (common/domain.c's role) ---- */

struct domain *harness_domain(domid_t id, uint64_t max_pages, uint64_t nr_frames,
                              bool make_current)
{
    assert_true(id < ARRAY_SIZE(domains) && !domains[id]);
    struct domain *d = calloc(1, sizeof(*d));
    struct vcpu *v = calloc(1, sizeof(*v));
    assert_non_null(d);
    assert_non_null(v);
    d->id = id;
    d->max_pages = max_pages;
    list_init(&d->page_list);
    v->domain = d;
    v->kernel_mode = true;
    d->vcpus[0] = v;
    d->nr_vcpus = 1;
    d->refcnt = 1;                      /* the table's */
    d->magic = DOMAIN_MAGIC;
    domains[id] = d;
    for (uint64_t i = 0; i < nr_frames; i++)
        harness_frame(d);
    if (make_current)
        running = v;
    return d;
}

mfn_t harness_frame(struct domain *d)
{
    int64_t mfn = alloc_domain_frame(d);
    assert_true(mfn >= 0);
    return (mfn_t)mfn;
}

uint64_t *harness_table(mfn_t mfn)
{
    return mfn_to_virt(mfn);
}

struct domain *domain_by_id(domid_t id)
{
    return id < ARRAY_SIZE(domains) ? domains[id] : NULL;
}

/* common/domain.c's references, counted so that harness_fini can tell a
 * get without its put. */
struct domain *get_domain_owning(domid_t id)
{
    struct domain *d = domain_by_id(id);
    if (d)
        d->refcnt++;
    return d;
}

struct domain *get_domain_by_id(domid_t id)
{
    struct domain *d = domain_by_id(id);
    if (!d || d->state == DOM_DEAD)
        return NULL;
    d->refcnt++;
    return d;
}

struct domain *get_domain_live(unsigned int i)
{
    for (domid_t id = 1; id < ARRAY_SIZE(domains); id++)
        if (domains[id] && i-- == 0)
            return get_domain_owning(id);
    return NULL;
}

void get_domain(struct domain *d)
{
    assert_true(d->refcnt > 0);
    d->refcnt++;
}

void put_domain(struct domain *d)
{
    if (!d)
        return;
    if (d->refcnt <= 1)
        fail_msg("domain %u: put_domain without a reference", d->id);
    d->refcnt--;
}

bool domain_exists(domid_t id)
{
    return domain_by_id(id) != NULL;
}

struct vcpu *current_vcpu(void)
{
    return running;
}

void load_guest_descriptors(struct vcpu *v)
{
    (void)v;
    test_descriptor_loads++;
}

/* ---- guest copies (usercopy.S's role): host pointers are guest
 *      addresses; a copy touching the TEST_UNMAPPED_VA window faults ---- */

static bool unmapped(const void *p)
{
    return (uintptr_t)p >= TEST_UNMAPPED_VA && (uintptr_t)p < TEST_UNMAPPED_VA + GiB(1);
}

size_t copy_raw_with_fixup(void *dst, const void *src, size_t n)
{
    if (unmapped(dst) || unmapped(src))
        return n;
    memcpy(dst, src, n);
    return 0;
}

/* ---- continuations (pv/continuation.c's role, which needs the LAPIC and
 *      the guest's registers): the checks for pending work answer yes on
 *      every harness_preempt_every-th call (0: never); a continuation is
 *      recorded in harness_cont for the test to issue again ---- */

unsigned int harness_preempt_every;
struct harness_continuation harness_cont;
static unsigned int preempt_calls;

bool hypercall_preempt_check(void)
{
    return harness_preempt_every && ++preempt_calls % harness_preempt_every == 0;
}

bool interrupt_pending(void)
{
    return hypercall_preempt_check();
}

long hypercall_continue(unsigned int nr, unsigned int nargs, const uint64_t *args)
{
    harness_cont.pending = true;
    harness_cont.nr = nr;
    harness_cont.nargs = nargs;
    memcpy(harness_cont.args, args, nargs * sizeof(args[0]));
    return (long)nr;
}

/* ---- console ---- */

void printk(enum log_level lvl, const char *fmt, ...)
{
    va_list ap;
    (void)lvl;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* The harness is a one-CPU machine: no other CPU ever posts a TLB flush
 * request, and the all-CPU flush is never needed (mm.c flushes locally
 * when nr_cpus_online is 1), so reaching it is a bug in mm.c's logic. */
unsigned int nr_cpus_online = 1;

void smp_service_flush(void)
{
}

void flush_tlb_all_cpus(void)
{
    fprintf(stderr, "flush_tlb_all_cpus called on a one-CPU machine\n");
    abort();
}
