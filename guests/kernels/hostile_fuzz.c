/*
 * Hostile test kernel: random arguments and wild pointers to every
 * hypercall, for a bounded number of calls or a time; with `ms=` (or
 * `races=1`) also several vCPUs racing on the domain's shared objects.
 *
 * Command line: seed=N (default fixed: the same calls every run), ms=N
 * (run for N ms of system time instead of CALLS calls), racers=N (vCPUs
 * 0..N-1 hammer, at most LIB_MAX_VCPUS; boot with vcpus= at least
 * racers + 1: the vCPUs above the racers are the ones the racers
 * initialise, bring up and take down), races=1 (the shared-object races
 * also without ms=), race_mask=N (bits 0-4: event channels, grants, page
 * tables, vCPUs, console and more event channels; default all). Each racer has its own random stream (seed + id)
 * and interleaves the wild calls with races on (hostile_races below):
 *  - event channels: alloc/bind_ipi/send/unmask/bind_vcpu/status/close of
 *    ports the others allocated, now and then EVTCHNOP_reset;
 *  - grants: entries of the shared table rewritten (frame, flags, cleared)
 *    while the others map (host mappings at their own addresses), copy and
 *    unmap them;
 *  - page tables: pages of a shared pool pinned as L1, unpinned, made
 *    writable and read-only, their entries written with mmu_update;
 *  - the console: short CONSOLEIO_writes from every racer;
 *  - vCPU initialisation: VCPUOP_initialise / up / down of the spare
 *    vCPUs from every racer at once.
 * It prints `hostile_fuzz: seed=S racers=R calls=C errors=E races=X` and
 * must survive with its console, memory, page tables and trap table
 * working; the hypervisor must survive too (tests/guests/soak_test.sh,
 * `make soak`).
 *
 * Every pointer argument is taken from a set of wild addresses (NULL, low
 * memory, unmapped user space, non-canonical, the hypervisor hole, the top
 * of memory) and every scalar is random, so no call can validly alter the
 * kernel's own state. The calls that could legitimately end or stall the
 * domain (iret, shutdown / block / poll, vcpu down, kexec, trap table and
 * callback changes) are left out or restricted. The kernel must survive
 * and then prove its console, memory and page tables still work.
 */
#include "evtime.h"
#include "gnttab.h"

const char test_name[] = "hostile_fuzz";

#define CALLS 6000

#define RNG_DEFAULT 0x9e3779b97f4a7c15ul

/* One random stream per racing vCPU. */
static uint64_t rng_states[LIB_MAX_VCPUS];

static uint64_t rnd(void)
{
    uint64_t *s = &rng_states[this_vcpu_id() % LIB_MAX_VCPUS];
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static uint64_t wild_ptr(void)
{
    static const uint64_t wild[] = {
        0, 1, 0x1000, 0x0000100000000000ul, 0x00007ffffffff000ul,
        0x0000800000000000ul, 0xffff800000000000ul, 0xffff830000000000ul,
        0xffff87fffffffff8ul, 0xfffffffffffff000ul, ~0ul,
    };
    uint64_t p = wild[rnd() % ARRAY_SIZE(wild)];

    return (rnd() & 3) ? p : p + (rnd() & 0xfff);
}

static uint64_t small_int(void)
{
    return (rnd() & 1) ? rnd() & 0x3f : rnd();
}

/* Hypercalls whose arguments are (pointer, ...) or (cmd, pointer). */
enum shape { CMD_PTR, PTR_COUNT, SCALARS, SKIP };

static enum shape shape_of(unsigned int nr)
{
    switch (nr) {
    case __HYPERVISOR_set_trap_table: case __HYPERVISOR_stack_switch:
    case __HYPERVISOR_set_callbacks: case __HYPERVISOR_iret:
    case __HYPERVISOR_callback_op: case __HYPERVISOR_kexec_op:
    case __HYPERVISOR_sched_op_compat: case __HYPERVISOR_sched_op:
    case __HYPERVISOR_vcpu_op: case __HYPERVISOR_platform_op:
        return SKIP;
    case __HYPERVISOR_mmu_update: case __HYPERVISOR_mmuext_op:
    case __HYPERVISOR_multicall: case __HYPERVISOR_set_gdt:
    case __HYPERVISOR_event_channel_op_compat:
    case __HYPERVISOR_physdev_op_compat:
        return PTR_COUNT;
    case __HYPERVISOR_fpu_taskswitch: case __HYPERVISOR_update_va_mapping:
    case __HYPERVISOR_set_timer_op: case __HYPERVISOR_vm_assist:
    case __HYPERVISOR_set_segment_base: case __HYPERVISOR_update_descriptor:
    case __HYPERVISOR_set_debugreg: case __HYPERVISOR_get_debugreg:
        return SCALARS;
    default:
        return CMD_PTR;
    }
}

static long fuzz_one(unsigned int nr)
{
    switch (shape_of(nr)) {
    case CMD_PTR:
        return hypercall5(nr, small_int(), wild_ptr(), small_int(),
                          wild_ptr(), small_int());
    case PTR_COUNT:
        return hypercall5(nr, wild_ptr(), small_int(), wild_ptr(),
                          small_int(), small_int());
    case SCALARS:
        if (nr == __HYPERVISOR_update_va_mapping)   /* never our own VAs */
            return hypercall5(nr, wild_ptr(), rnd(), small_int(), 0, 0);
        if (nr == __HYPERVISOR_set_segment_base)    /* FS / user GS only */
            return hypercall5(nr, rnd() & 1 ? SEGBASE_FS : SEGBASE_GS_USER,
                              rnd(), 0, 0, 0);
        return hypercall5(nr, small_int(), rnd(), small_int(), 0, 0);
    case SKIP:
        break;
    }
    return 0;
}

/* ---- shared-object races -------------------------------------------- */

#define POOL_PAGES   16             /* page-table pool */
#define GRANT_REFS   16             /* entries raced on, from FIRST_REF */
#define FIRST_REF    8
#define TABLE_VA     0xffffffffc0300000ul
#define MAP_VA       0xffffffffc0310000ul   /* 4 pages per racer */
#define RACE_PORTS   64

static void *pool[POOL_PAGES];
static uint8_t *grant_pages[GRANT_REFS];
static volatile grant_entry_v1_t *gtab;
static uint32_t first_race_port;        /* ports below are the library's */
static domid_t self_id;                 /* for grants to ourselves */
static unsigned int racers = 1, spare_first, spare_last;
static vcpu_guest_context_t spare_ctx[LIB_MAX_VCPUS];
static uint64_t spare_gdt_mfn;
static volatile bool stop;
static uint64_t deadline;               /* ms mode: system time to stop at */
static bool timed, racing;

struct tally { uint64_t calls, errors, races; };
static struct tally tallies[LIB_MAX_VCPUS];

static void race_evtchn(void)
{
    uint32_t port = first_race_port + (uint32_t)(rnd() % RACE_PORTS);
    evtchn_port_t p;

    switch (rnd() % 16) {
    case 0: case 1: evtchn_alloc_unbound(DOMID_SELF, &p); break;
    case 2: case 3: evtchn_bind_ipi((uint32_t)(rnd() % racers), &p); break;
    case 4: case 5: case 6: evtchn_send(port); break;
    case 7: evtchn_unmask(port); break;
    case 8: {
        struct evtchn_bind_vcpu b = { .port = port, .vcpu = (uint32_t)(rnd() % racers) };
        hypercall_event_channel_op(EVTCHNOP_bind_vcpu, &b);
        break;
    }
    case 9: {
        struct evtchn_status st = { .dom = DOMID_SELF, .port = port };
        hypercall_event_channel_op(EVTCHNOP_status, &st);
        break;
    }
    case 10: {
        /* A loopback interdomain binding to a port another racer holds. */
        evtchn_bind_interdomain(DOMID_SELF, port, &p);
        break;
    }
    case 15:
        if (rnd() % 64 == 0) {          /* every port closed under the others */
            evtchn_reset_self();
            break;
        }
        /* fall through */
    default: evtchn_close(port); break;
    }
}

static void race_grant(unsigned int me)
{
    unsigned int i = (unsigned int)(rnd() % GRANT_REFS);
    grant_ref_t ref = FIRST_REF + i;
    uint64_t va = MAP_VA + (me * 4 + rnd() % 4) * PAGE_SIZE;

    switch (rnd() % 6) {
    case 0: {                           /* (re)grant, maybe read-only */
        gtab[ref].domid = rnd() % 4 ? self_id : (domid_t)rnd();
        gtab[ref].frame = (uint32_t)virt_to_mfn(grant_pages[rnd() % GRANT_REFS]);
        __atomic_store_n(&gtab[ref].flags,
                         (uint16_t)(GTF_permit_access | (rnd() & 1 ? GTF_readonly : 0)),
                         __ATOMIC_RELEASE);
        break;
    }
    case 1:                             /* end access under the others */
        __atomic_store_n(&gtab[ref].flags, 0, __ATOMIC_RELEASE);
        break;
    case 2: case 3: {
        struct gnttab_map_grant_ref m = gnttab_map1(ref, gtab[ref].domid, rnd() & 1 ?
                                                    GNTMAP_host_map | GNTMAP_readonly :
                                                    GNTMAP_host_map, va);
        if (m.status == GNTST_okay)
            gnttab_unmap1(m.handle, va, 0);
        break;
    }
    case 4: {
        static uint8_t buf[LIB_MAX_VCPUS][64];
        struct gnttab_copy c = gnttab_copy_op(GNTCOPY_source_gref, ref, DOMID_SELF,
                                              (uint16_t)(rnd() % 4096), virt_to_mfn(buf[me]),
                                              DOMID_SELF,
                                              (uint16_t)((uint64_t)buf[me] & 4095),
                                              (uint16_t)(rnd() % 64));
        hypercall_grant_table_op(GNTTABOP_copy, &c, 1);
        break;
    }
    default: {                          /* a handle that may be another racer's */
        struct gnttab_unmap_grant_ref u = { .host_addr = va, .handle = (uint32_t)(rnd() % 64) };
        hypercall_grant_table_op(GNTTABOP_unmap_grant_ref, &u, 1);
        break;
    }
    }
}

static void race_pagetable(void)
{
    void *pg = pool[rnd() % POOL_PAGES];
    uint64_t mfn = virt_to_mfn(pg);

    switch (rnd() % 6) {
    case 0: page_set_writable(pg, false); break;
    case 1: page_set_writable(pg, true); break;
    case 2: mmuext1(MMUEXT_PIN_L1_TABLE, mfn, 0); break;
    case 3: mmuext1(MMUEXT_UNPIN_TABLE, mfn, 0); break;
    case 4: {                           /* an entry of a (maybe) pinned L1 */
        uint64_t target = virt_to_mfn(pool[rnd() % POOL_PAGES]);
        uint64_t val = rnd() % 4 ? (target << PAGE_SHIFT) | PTE_P | (rnd() & 1 ? PTE_RW : 0) : 0;
        mmu_update1((mfn << PAGE_SHIFT) + (rnd() % 512) * 8, val);
        break;
    }
    default:
        mmuext1(MMUEXT_INVLPG_LOCAL, (uint64_t)pg, 0);
        break;
    }
}

static void race_console(unsigned int me)
{
    char line[48];
    int n = snprintf(line, sizeof(line), "hostile_fuzz: racer %u says %lx\n", me,
                     (unsigned long)rnd());
    hypercall_console_io(CONSOLEIO_write, (unsigned int)n, line);
}

static void race_vcpu(void)
{
    if (spare_first > spare_last)
        return;
    unsigned int id = spare_first + (unsigned int)(rnd() % (spare_last - spare_first + 1));
    switch (rnd() % 3) {
    case 0: hypercall_vcpu_op(VCPUOP_initialise, id, &spare_ctx[id]); break;
    case 1: hypercall_vcpu_op(VCPUOP_up, id, NULL); break;
    default: hypercall_vcpu_op(VCPUOP_down, id, NULL); break;
    }
}

/* One shared-object race; the console only now and then (it is printed). */
static uint64_t race_mask = 0x1f;      /* race_mask=: which of the five below run */

static void race_one(unsigned int me)
{
    unsigned int kind = (unsigned int)(rnd() % 5);
    if (!(race_mask & (1u << kind)))
        return;
    switch (kind) {
    case 0: race_evtchn(); break;
    case 1: race_grant(me); break;
    case 2: race_pagetable(); break;
    case 3: race_vcpu(); break;
    default:
        if (rnd() % 512 == 0)
            race_console(me);
        else
            race_evtchn();
        break;
    }
    tallies[me].races++;
}

static void races_setup(void)
{
    static xen_pfn_t frames[1];
    struct gnttab_setup_table st = { .dom = DOMID_SELF, .nr_frames = 1, .status = 99,
                                     .frame_list = HC(frames) };
    evtchn_port_t p;

    if (hypercall_grant_table_op(GNTTABOP_setup_table, &st, 1) || st.status)
        test_abort("setup_table: status %d", st.status);
    if (mm_ensure_l1(TABLE_VA) || mm_ensure_l1(MAP_VA))
        test_abort("no L1 for the grant table or the mappings");
    gnttab_map_frame(TABLE_VA, frames[0]);
    gtab = (volatile grant_entry_v1_t *)TABLE_VA;
    for (unsigned int i = 0; i < GRANT_REFS; i++)
        grant_pages[i] = page_alloc();
    for (unsigned int i = 0; i < POOL_PAGES; i++)
        pool[i] = page_alloc();
    /* Our domid: the remote end of a port allocated for ourselves. */
    struct evtchn_status es;
    if (evtchn_alloc_unbound(DOMID_SELF, &p) || evtchn_status(p, &es))
        test_abort("alloc_unbound / status of a port for ourselves");
    self_id = es.u.unbound.dom;
    first_race_port = p;
    /* The spare vCPUs' context: parked, one read-only GDT frame of null
     * descriptors (VCPUOP_initialise takes references on it). */
    void *gdt = page_alloc();
    if (page_set_writable(gdt, false))
        test_abort("GDT page read-only");
    spare_gdt_mfn = virt_to_mfn(gdt);
    for (unsigned int id = spare_first; id <= spare_last && id < LIB_MAX_VCPUS; id++)
        vcpu_parked_context(&spare_ctx[id], (uint64_t)page_alloc() + PAGE_SIZE, spare_gdt_mfn);
}

/* Leave the shared objects as the final checks need them: no pool page
 * pinned or read-only, no grant mapped. */
static void races_cleanup(void)
{
    for (unsigned int i = 0; i < POOL_PAGES; i++) {
        uint64_t mfn = virt_to_mfn(pool[i]);
        for (unsigned int e = 0; e < 512; e++)
            mmu_update1((mfn << PAGE_SHIFT) + e * 8, 0);    /* if pinned */
        mmuext1(MMUEXT_UNPIN_TABLE, mfn, 0);
        page_set_writable(pool[i], true);
    }
    for (unsigned int i = 0; i < GRANT_REFS; i++)
        __atomic_store_n(&gtab[FIRST_REF + i].flags, 0, __ATOMIC_RELEASE);
}

static bool done(unsigned int i)
{
    if (stop)
        return true;
    if (timed ? (i % 64 == 0 && system_time() >= deadline) : i >= CALLS) {
        stop = true;
        return true;
    }
    return false;
}

static void hammer(unsigned int me)
{
    struct tally *t = &tallies[me];

    for (unsigned int i = 0; !done(i); i++) {
        if (racing && rnd() % 2) {
            race_one(me);
            continue;
        }
        unsigned int nr = rnd() % 64;
        long rc;

        if (shape_of(nr) == SKIP) {
            /* Restricted forms of the dangerous ones. */
            if (nr == __HYPERVISOR_sched_op)
                rc = hypercall_sched_op(SCHEDOP_yield, (void *)wild_ptr());
            else if (nr == __HYPERVISOR_vcpu_op)
                rc = hypercall_vcpu_op(rnd() & 1 ? VCPUOP_is_up :
                                       VCPUOP_get_runstate_info,
                                       small_int(), (void *)wild_ptr());
            else
                continue;
        } else {
            rc = fuzz_one(nr);
        }
        t->calls++;
        t->errors += rc < 0;
    }
    if (me)                             /* per-vCPU state the wild calls may have set */
        hypercall_fpu_taskswitch(0);
}

static void racer(unsigned int id)
{
    hammer(id);
}

void test_main(void)
{
    static uint8_t canary[PAGE_SIZE] ALIGNED(PAGE_SIZE);
    uint64_t l4_entry = ((const uint64_t *)start_info->pt_base)[511];
    long first_version = hypercall_xen_version(XENVER_version, NULL);
    uint64_t seed = cmdline_u64("seed", RNG_DEFAULT), ms = cmdline_u64("ms", 0);

    racers = (unsigned int)cmdline_u64("racers", 1);
    if (racers < 1 || racers > LIB_MAX_VCPUS)
        test_abort("racers=%u is not between 1 and %u", racers, LIB_MAX_VCPUS);
    for (unsigned int i = 0; i < LIB_MAX_VCPUS; i++)
        rng_states[i] = (seed ? seed : RNG_DEFAULT) + i * 0x9e3779b97f4a7c15ul;
    timed = ms > 0;
    racing = timed || cmdline_u64("races", 0);
    race_mask = cmdline_u64("race_mask", 0x1f);
    deadline = system_time() + ms * NSEC_PER_MSEC;
    spare_first = racers;
    spare_last = (unsigned int)cmdline_u64("spare", racing ? racers : 0);
    if (spare_last >= LIB_MAX_VCPUS)
        spare_last = LIB_MAX_VCPUS - 1;
    if (!racing)
        spare_last = 0, spare_first = 1;
    memset(canary, 0x3c, sizeof(canary));
    if (racing)
        races_setup();
    for (unsigned int id = 1; id < racers; id++)
        if (vcpu_start(id, racer))
            test_abort("racer vCPU %u did not start (boot with vcpus=%u or more)", id,
                       racers + 1);
    hammer(0);
    for (uint64_t give_up = system_time() + 30 * NSEC_PER_SEC; system_time() < give_up;) {
        bool all = true;
        for (unsigned int id = 1; id < racers; id++)
            all &= vcpu_finished(id);
        if (all)
            break;
        sleep_until(system_time() + NSEC_PER_MSEC);
    }
    for (unsigned int id = 1; id < racers; id++)
        test_ok(vcpu_finished(id), "racer vCPU %u stopped within 30 s", id);
    if (racing)
        races_cleanup();
    hypercall_fpu_taskswitch(0);
    hypercall_set_segment_base(SEGBASE_FS, 0);
    struct tally sum = { 0 };
    for (unsigned int i = 0; i < racers; i++) {
        sum.calls += tallies[i].calls;
        sum.errors += tallies[i].errors;
        sum.races += tallies[i].races;
    }
    printk("hostile_fuzz: seed=%lu racers=%u calls=%lu errors=%lu races=%lu\n",
           (unsigned long)seed, racers, (unsigned long)sum.calls, (unsigned long)sum.errors,
           (unsigned long)sum.races);

    test_ok(timed || sum.calls >= CALLS / 2, "only %lu calls were made", sum.calls);
    test_ok(sum.errors > sum.calls / 2, "only %lu of %lu wild calls failed", sum.errors,
            sum.calls);
    test_ok(!racing || sum.races > 0, "no shared-object race was run");
    test_eq(hypercall_xen_version(XENVER_version, NULL), first_version,
            "xen_version still answers");
    test_eq(((const uint64_t *)start_info->pt_base)[511], l4_entry,
            "kernel L4 entry 511 unchanged");
    for (unsigned int i = 0; i < sizeof(canary); i += 64)
        if (!test_eq(canary[i], 0x3c, "canary byte %u", i))
            break;
    canary[5] = 1;
    test_eq(canary[5], 1, "kernel memory still writable");
    probe_reset();
    __asm__ volatile(PROBE_ASM("ud2"));
    test_eq(last_trap.vector, 6, "trap table still installed");
}
