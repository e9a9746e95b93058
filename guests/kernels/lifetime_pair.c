/*
 * Test kernel: domain lifetime under attack (issue 13). Booted twice by
 * tests/guests/lifetime_test.sh on -smp 2, both with vcpus=2:
 *
 *   role=attacker victim=<first victim domid> last=<last victim domid> [ms=<max run>]
 *                 [idle_ms=<quiet end>]
 *   role=victim peer=<attacker domid> [live_ms=<max life>] [live_min_ms=<min life>]
 *               (module option restarts=N)
 *
 * The victim grants VICTIM_GRANTS pages to the attacker (v1, refs from
 * FIRST_REF), allocates VICTIM_PORTS unbound ports for it, keeps both its
 * vCPUs busy on hypercalls, and after a random time between live_min_ms
 * (default 0) and live_ms crashes
 * in one of three ways, from a random vCPU: SCHEDOP_shutdown(crash), a
 * fault with no trap table (the hypervisor crashes it), or an iret to a
 * non-canonical address with no failsafe callback. The hypervisor builds
 * it again (restarts=N), as a new domain with the next domid.
 *
 * Both vCPUs of the attacker loop over the newest domids: bind to every
 * port the victim may have offered, send on the binding a few times,
 * close it; map each granted ref (host mapping, read its first word),
 * copy from it with GNTTABOP_copy, unmap. The mapping and the binding are
 * held across the victim's crash often enough (the attacker keeps them a
 * random while), so the victim's teardown runs while another domain uses
 * its ports and its frames. The attacker stops once it has seen the last
 * victim and that one is gone, or no victim has been seen for idle_ms
 * (default 60000: a loaded host can starve a rebuild for seconds) after
 * it got within SCAN_DOMAINS of the last, or after ms; it prints what it
 * did and how many distinct victims it reached, and succeeds if it bound,
 * sent, mapped and copied at least once each. The
 * hypervisor must survive it all and give every frame back.
 */
#include "evtime.h"
#include "gnttab.h"

const char test_name[] = "lifetime_pair";

#define VICTIM_PORTS   6
#define SCAN_PORTS     (VICTIM_PORTS + 6)       /* console, xenstore, ... too */
#define VICTIM_GRANTS  4
#define FIRST_REF      8
#define GRANT_MAGIC    0x6c69666574696d65ul     /* "lifetime" */
#define TABLE_VA       0xffffffffc0300000ul
#define MAP_VA         0xffffffffc0310000ul     /* one page per attacking vCPU */
#define DOMID_LIMIT    0x7ff0                   /* DOMID_FIRST_RESERVED */
#define SCAN_DOMAINS   16                       /* ids from the newest seen: victims that
                                                 * lived too briefly to be seen are skipped */

static domid_t peer;

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* ---- the victim ------------------------------------------------------ */

static volatile bool victim_go;

static NORETURN void crash(unsigned int how)
{
    switch (how) {
    case 0: {
        struct sched_shutdown s = { .reason = SHUTDOWN_crash };
        hypercall_sched_op(SCHEDOP_shutdown, &s);
        break;
    }
    case 1:
        hypercall_set_trap_table(NULL);         /* nowhere to bounce the #UD */
        __asm__ volatile("ud2");
        break;
    default:
        /* iret to a non-canonical rip: a #GP with no trap table to take it. */
        hypercall_set_trap_table(NULL);
        __asm__ volatile("pushq $0xe02b\n\t"         /* ss */
                         "push %%rsp\n\t"             /* rsp */
                         "pushq $0x2\n\t"             /* rflags */
                         "pushq $0xe030\n\t"          /* cs: guest kernel mode */
                         "push %0\n\t"                /* rip */
                         "pushq $0\n\t"               /* flags */
                         "jmp hypercall_page + 23 * 32"
                         :: "r"(0x8000000000000000ul) : "memory");
        break;
    }
    for (;;)
        hypercall_sched_op(SCHEDOP_yield, NULL);
}

static volatile unsigned int crasher = ~0u, crash_how;

/* Hypercalls that touch what the attacker races on, until told to crash. */
static void victim_busy(unsigned int me)
{
    evtchn_port_t p;

    while (!victim_go)
        cpu_relax();
    for (;;) {
        if (crasher == me)
            crash(crash_how);
        if (evtchn_alloc_unbound(peer, &p) == 0)
            evtchn_close(p);
        hypercall_sched_op(SCHEDOP_yield, NULL);
    }
}

static void victim_vcpu1(unsigned int id)
{
    victim_busy(id);
}

static void victim(void)
{
    static xen_pfn_t frames[1];
    struct gnttab_setup_table st = { .dom = DOMID_SELF, .nr_frames = 1, .status = 99,
                                     .frame_list = HC(frames) };
    uint64_t seed = rdtsc() | 1;
    uint64_t live_ms = cmdline_u64("live_ms", 20);
    uint64_t live_min_ms = cmdline_u64("live_min_ms", 0);

    if (hypercall_grant_table_op(GNTTABOP_setup_table, &st, 1) || st.status)
        test_abort("setup_table: status %d", st.status);
    if (mm_ensure_l1(TABLE_VA))
        test_abort("no L1 for the grant table");
    gnttab_map_frame(TABLE_VA, frames[0]);
    volatile grant_entry_v1_t *gt = (volatile grant_entry_v1_t *)TABLE_VA;
    for (unsigned int i = 0; i < VICTIM_GRANTS; i++) {
        uint64_t *page = page_alloc();
        page[0] = GRANT_MAGIC;
        gt[FIRST_REF + i].domid = peer;
        gt[FIRST_REF + i].frame = (uint32_t)virt_to_mfn(page);
        __atomic_store_n(&gt[FIRST_REF + i].flags, GTF_permit_access, __ATOMIC_RELEASE);
    }
    for (unsigned int i = 0; i < VICTIM_PORTS; i++) {
        evtchn_port_t p;
        if (evtchn_alloc_unbound(peer, &p))
            test_abort("alloc_unbound for domain %u", peer);
    }
    if (vcpu_start(1, victim_vcpu1))
        test_abort("vCPU 1 did not start (boot with vcpus=2)");
    if (live_min_ms > live_ms)
        live_min_ms = live_ms;
    uint64_t until = system_time() + (live_min_ms + rnd(&seed) % (live_ms - live_min_ms + 1)) * NSEC_PER_MSEC;
    crash_how = (unsigned int)(rnd(&seed) % 3);
    victim_go = true;
    while (system_time() < until)
        hypercall_sched_op(SCHEDOP_yield, NULL);
    crasher = (unsigned int)(rnd(&seed) & 1);
    victim_busy(0);
}

/* ---- the attacker ---------------------------------------------------- */

struct tally {
    uint64_t binds, sends, maps, copies, found;
};
static struct tally tallies[2];
static volatile domid_t newest;             /* newest victim domid seen alive */
static volatile uint64_t last_seen_ns, stop_at, idle_ns;
static volatile uint64_t victims_seen;      /* distinct victims reached */
static domid_t last_victim;
static volatile bool last_gone;             /* the last victim was seen, then gone */
static volatile bool stop;
static domid_t self_id;

static domid_t next_domid(domid_t d)
{
    do
        d = d + 1 < DOMID_LIMIT ? (domid_t)(d + 1) : 1;
    while (d == self_id);
    return d;
}

static void seen(domid_t d)
{
    last_seen_ns = system_time();
    domid_t n = newest;
    /* Newer unless it is far behind (the ids wrapped). */
    if (d != n && (domid_t)(d - n) < 0x4000 &&
        __atomic_compare_exchange_n(&newest, &n, d, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
        __atomic_fetch_add(&victims_seen, 1, __ATOMIC_RELAXED);
}

/* One pass over domain d: true if it answered as alive. */
static bool attack(unsigned int me, domid_t d, uint64_t *seed)
{
    struct tally *t = &tallies[me];
    bool alive = false;

    for (evtchn_port_t rp = 1; rp <= SCAN_PORTS; rp++) {
        evtchn_port_t lp;
        long rc = evtchn_bind_interdomain(d, rp, &lp);
        if (rc == -XEN_ESRCH)
            return alive;
        alive = true;
        if (rc)
            continue;
        t->binds++;
        for (unsigned int n = rnd(seed) % 4; n; n--)
            t->sends += evtchn_send(lp) == 0;
        evtchn_close(lp);
    }
    uint64_t va = MAP_VA + me * PAGE_SIZE;
    for (grant_ref_t ref = FIRST_REF; ref < FIRST_REF + VICTIM_GRANTS; ref++) {
        struct gnttab_map_grant_ref m = gnttab_map1(ref, d, GNTMAP_host_map, va);
        if (m.status == GNTST_bad_domain)
            return alive;
        alive = true;
        if (m.status == GNTST_okay) {
            t->maps++;
            volatile uint64_t *w = (volatile uint64_t *)va;
            if (*w != GRANT_MAGIC)
                test_abort("domain %u ref %u: read %#lx through the mapping, not the magic",
                           d, ref, *w);
            for (unsigned int n = rnd(seed) % 64; n; n--)   /* hold it a while */
                hypercall_sched_op(SCHEDOP_yield, NULL);
            gnttab_unmap1(m.handle, va, 0);
        }
        static uint64_t buf[2][512] ALIGNED(4096);
        struct gnttab_copy c = gnttab_copy_op(GNTCOPY_source_gref, ref, d, 0,
                                              virt_to_mfn(buf[me]), DOMID_SELF, 0, 8);
        if (hypercall_grant_table_op(GNTTABOP_copy, &c, 1) == 0 && c.status == GNTST_okay) {
            t->copies++;
            if (buf[me][0] != GRANT_MAGIC)
                test_abort("domain %u ref %u: copied %#lx, not the magic", d, ref, buf[me][0]);
        }
    }
    return alive;
}

/* Attack the newest domids until told to stop; vCPU 0 also decides when:
 * after ms, or when no victim has been seen for idle_ns (after the first). */
static void attack_loop(unsigned int me)
{
    uint64_t seed = (rdtsc() << 1 | 1) ^ me;

    while (!stop) {
        domid_t d = newest;
        for (unsigned int i = 0; i < SCAN_DOMAINS && !stop; i++, d = next_domid(d)) {
            if (attack(me, d, &seed)) {
                tallies[me].found++;
                seen(d);
            } else if (d == last_victim && newest == last_victim) {
                last_gone = true;
            }
        }
        /* last_seen_ns may be newer than now: the other vCPU can see a
         * victim between the two readings (and each vCPU has its own
         * clock), so the idle time is signed, never a wrapped difference. */
        uint64_t seen_ns = last_seen_ns, now = system_time();
        bool near_end = (domid_t)(last_victim - newest) < SCAN_DOMAINS;
        if (me == 0 && (now > stop_at || last_gone ||
                        (near_end && seen_ns && (int64_t)(now - seen_ns) > (int64_t)idle_ns)))
            stop = true;
    }
}

static void attacker_vcpu1(unsigned int id)
{
    attack_loop(id);
}

static void attacker(void)
{
    uint64_t max_ms = cmdline_u64("ms", 60000), idle_ms = cmdline_u64("idle_ms", 60000);
    domid_t first = (domid_t)cmdline_u64("victim", 2);

    self_id = (domid_t)cmdline_u64("self", 1);
    newest = first;
    last_victim = (domid_t)cmdline_u64("last", first);
    victims_seen = 0;
    if (mm_ensure_l1(MAP_VA))
        test_abort("no L1 for the mappings");
    stop_at = system_time() + max_ms * NSEC_PER_MSEC;
    idle_ns = idle_ms * NSEC_PER_MSEC;
    last_seen_ns = 0;
    if (vcpu_start(1, attacker_vcpu1))
        test_abort("vCPU 1 did not start (boot with vcpus=2)");
    attack_loop(0);
    for (uint64_t give_up = system_time() + 10 * NSEC_PER_SEC;
         !vcpu_finished(1) && system_time() < give_up;)
        sleep_until(system_time() + NSEC_PER_MSEC);
    test_ok(vcpu_finished(1), "vCPU 1 stopped attacking within 10 s");
    struct tally sum = { 0 };
    for (unsigned int i = 0; i < 2; i++) {
        sum.binds += tallies[i].binds;
        sum.sends += tallies[i].sends;
        sum.maps += tallies[i].maps;
        sum.copies += tallies[i].copies;
        sum.found += tallies[i].found;
    }
    printk("lifetime: binds=%lu sends=%lu maps=%lu copies=%lu passes=%lu newest=%u "
           "victims_reached=%lu\n", sum.binds, sum.sends, sum.maps, sum.copies, sum.found,
           newest, (unsigned long)victims_seen + (sum.found > 0));
    test_ok(sum.binds && sum.sends && sum.maps && sum.copies,
            "the attacker reached the victims (binds %lu sends %lu maps %lu copies %lu)",
            sum.binds, sum.sends, sum.maps, sum.copies);
}

void test_main(void)
{
    char role[16];

    if (!cmdline_str("role", role, sizeof(role)))
        test_abort("no role= on the command line");
    peer = (domid_t)cmdline_u64("peer", 1);
    if (!strncmp(role, "victim", sizeof(role)))
        victim();
    else if (!strncmp(role, "attacker", sizeof(role)))
        attacker();
    else
        test_abort("role=%s is neither victim nor attacker", role);
}
