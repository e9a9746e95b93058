/*
 * Test kernel: VCPUOP_down racing the vCPU's own blocking and its
 * wake-ups, and up/down from two vCPUs at once.
 *
 * "Down" is the guest's decision and only VCPUOP_up undoes it: a vCPU
 * taken down while it blocks (SCHEDOP_block, or SCHEDOP_poll with a
 * timeout) must stay down whatever events and timers then arrive, and
 * VCPUOP_is_up must say 0 (Xen keeps _VPF_down apart from _VPF_blocked).
 * pvcore once kept one state word, which SCHEDOP_block overwrote with
 * "blocked" after a concurrent VCPUOP_down had set "down"; the next event
 * then ran a vCPU the guest had taken down.
 *
 * vCPU 1 (the victim) counts its loops, each a SCHEDOP_block or a short
 * SCHEDOP_poll sleep (one in 16); vCPU 0 sends it events to keep it
 * looping, vCPU 2 too while vCPU 0 checks that it stays down.
 *  1. For `ms=` (default 3000) vCPU 0 waits for the victim to loop, takes
 *     it down at a varying moment, waits until it is not running, and
 *     checks that VCPUOP_is_up says 0 (every 64th round also that over a
 *     few ms of events and timers it counts no loop); then brings it up.
 *  2. vCPUs 0 and 2 both bring vCPU 1 up and down, `storm=` times each
 *     (default 2000); afterwards vCPU 1 must be in a consistent state: up
 *     and running, or down and still, as VCPUOP_is_up says; then one more
 *     down and up must each take effect.
 * Needs `vcpus=3` (on Xen: dom0_max_vcpus=3).
 */
#include "evtime.h"

const char test_name[] = "vcpu_down_race";

#define VICTIM 1
#define SENDER 2

static evtchn_port_t victim_port;
static volatile uint64_t victim_loops;
static volatile bool stop_victim, sending, stop_sender;
static volatile bool storm_go;
static volatile unsigned int storm_done;
static unsigned int storm_ops;
static volatile long storm_bad_rc;

static void victim(unsigned int id)
{
    (void)id;
    while (!stop_victim) {
        uint64_t n = victim_loops + 1;
        victim_loops = n;
        if (n & 15)
            event_block();
        else
            sleep_until(system_time() + 20 * NSEC_PER_USEC);
    }
}

/* A little xorshift per vCPU: varying delays and choices. */
static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void spin_ns(uint64_t ns)
{
    uint64_t end = system_time() + ns;
    while (system_time() < end)
        cpu_relax();
}

static long vcpu_op(int cmd, unsigned int id)
{
    return hypercall_vcpu_op(cmd, id, NULL);
}

/* Up/down of the victim, chosen at random; any result but 0 is kept. */
static void storm(uint64_t seed)
{
    for (unsigned int i = 0; i < storm_ops; i++) {
        long rc = vcpu_op(next_rand(&seed) & 1 ? VCPUOP_up : VCPUOP_down, VICTIM);
        if (rc)
            storm_bad_rc = rc;
        if (next_rand(&seed) & 1)
            evtchn_send(victim_port);
        spin_ns(next_rand(&seed) % (20 * NSEC_PER_USEC));
    }
}

static void sender(unsigned int id)
{
    (void)id;
    while (!stop_sender) {
        if (storm_go) {
            storm(0x9e3779b97f4a7c15ull);
            __atomic_fetch_add(&storm_done, 1, __ATOMIC_SEQ_CST);
            while (storm_go && !stop_sender)
                cpu_relax();
            continue;
        }
        if (sending) {
            evtchn_send(victim_port);
            spin_ns(5 * NSEC_PER_USEC);
        } else {
            sleep_until(system_time() + NSEC_PER_MSEC);
        }
    }
}

/* Wait up to 2 s for the victim to count more loops than `than`. */
static bool victim_runs(uint64_t than)
{
    uint64_t give_up = system_time() + 2 * NSEC_PER_SEC;
    while (victim_loops <= than && system_time() < give_up) {
        evtchn_send(victim_port);
        sleep_until(system_time() + 100 * NSEC_PER_USEC);
    }
    return victim_loops > than;
}

/* Wait up to 1 s for the victim not to be running, then 1 ms more. */
static void victim_settles(void)
{
    struct vcpu_runstate_info rs;
    uint64_t give_up = system_time() + NSEC_PER_SEC;
    while (!vcpu_runstate(VICTIM, &rs) && rs.state == RUNSTATE_running &&
           system_time() < give_up)
        sleep_until(system_time() + 50 * NSEC_PER_USEC);
    sleep_until(system_time() + NSEC_PER_MSEC);
}

/* The victim is down: over 3 ms of events and its timers, it stays so. */
static bool victim_stays_down(const char *when, unsigned int round)
{
    sending = true;
    victim_settles();
    uint64_t before = victim_loops;
    for (unsigned int i = 0; i < 30; i++) {
        evtchn_send(victim_port);
        sleep_until(system_time() + 100 * NSEC_PER_USEC);
    }
    uint64_t after = victim_loops;
    sending = false;
    long up = vcpu_op(VCPUOP_is_up, VICTIM);
    return test_ok(after == before && up == 0,
                   "%s %u: vCPU %u taken down ran on (%lu loops) and VCPUOP_is_up "
                   "says %ld; expected it to stay down (0 loops, is_up 0)",
                   when, round, VICTIM, (unsigned long)(after - before), up);
}

void test_main(void)
{
    uint64_t ms = cmdline_u64("ms", 3000);
    uint64_t seed = 0x2545f4914f6cdd1dull;

    storm_ops = (unsigned int)cmdline_u64("storm", 2000);
    evtchn_upcall_init();
    if (!test_eq(evtchn_bind_ipi(VICTIM, &victim_port), 0, "bind an IPI port to vCPU %u",
                 VICTIM))
        return;
    if (!test_eq(vcpu_start(VICTIM, victim), 0, "start vCPU %u (boot with vcpus=3)", VICTIM) ||
        !test_eq(vcpu_start(SENDER, sender), 0, "start vCPU %u (boot with vcpus=3)", SENDER))
        return;
    printk("vcpu_down_race: %lu ms of down while blocking, then %u up/downs from "
           "each of 2 vCPUs\n", (unsigned long)ms, storm_ops);

    /* 1. Down while the victim blocks, polls and is woken: as soon as it
     * is off its CPU (past any hypercall it was in), it must be down. */
    unsigned int failed = 0, r = 0;
    for (uint64_t end = system_time() + ms * NSEC_PER_MSEC;
         system_time() < end && failed < 3; r++) {
        uint64_t before = victim_loops, give_up = system_time() + 2 * NSEC_PER_SEC;
        while (victim_loops == before && system_time() < give_up)
            evtchn_send(victim_port);
        if (!test_ok(victim_loops != before, "round %u: vCPU %u never ran after VCPUOP_up",
                     r, VICTIM))
            break;
        evtchn_send(victim_port);
        spin_ns(next_rand(&seed) % (10 * NSEC_PER_USEC));
        if (!test_eq(vcpu_op(VCPUOP_down, VICTIM), 0, "round %u: VCPUOP_down", r))
            break;
        if ((r & 63) == 63) {
            failed += !victim_stays_down("round", r);
        } else {
            struct vcpu_runstate_info rs;
            give_up = system_time() + 10 * NSEC_PER_MSEC;
            while (!vcpu_runstate(VICTIM, &rs) && rs.state == RUNSTATE_running &&
                   system_time() < give_up)
                cpu_relax();
            long up = vcpu_op(VCPUOP_is_up, VICTIM);
            failed += !test_eq(up, 0, "round %u: VCPUOP_is_up of vCPU %u once it left its "
                               "CPU after VCPUOP_down (runstate %d)", r, VICTIM, rs.state);
        }
        if (!test_eq(vcpu_op(VCPUOP_up, VICTIM), 0, "round %u: VCPUOP_up", r))
            break;
    }
    printk("vcpu_down_race: phase 1 done: %u rounds, victim counted %lu loops\n",
           r, (unsigned long)victim_loops);

    /* 2. Up and down from two vCPUs at once. */
    if (!test_ok(victim_runs(victim_loops), "vCPU %u runs before the storm", VICTIM))
        goto out;
    storm_go = true;
    storm(0xda942042e4dd58b5ull);
    while (__atomic_load_n(&storm_done, __ATOMIC_SEQ_CST) == 0)
        cpu_relax();
    storm_go = false;
    test_eq(storm_bad_rc, 0, "every VCPUOP_up/down of the storm returned 0");
    victim_settles();
    long up = vcpu_op(VCPUOP_is_up, VICTIM);
    printk("vcpu_down_race: after the storm VCPUOP_is_up says %ld\n", up);
    if (up == 1)
        test_ok(victim_runs(victim_loops), "after the storm vCPU %u is up but never runs",
                VICTIM);
    else if (test_eq(up, 0, "VCPUOP_is_up after the storm"))
        victim_stays_down("after the storm", 0);
    test_eq(vcpu_op(VCPUOP_down, VICTIM), 0, "VCPUOP_down after the storm");
    victim_stays_down("down after the storm", 0);
    test_eq(vcpu_op(VCPUOP_up, VICTIM), 0, "VCPUOP_up after the storm");
    test_ok(victim_runs(victim_loops), "vCPU %u runs after the last VCPUOP_up", VICTIM);

out:
    stop_sender = true;
    stop_victim = true;
    vcpu_op(VCPUOP_up, VICTIM);
    for (uint64_t give_up = system_time() + 5 * NSEC_PER_SEC;
         (!vcpu_finished(VICTIM) || !vcpu_finished(SENDER)) && system_time() < give_up;) {
        evtchn_send(victim_port);
        sleep_until(system_time() + NSEC_PER_MSEC);
    }
    test_ok(vcpu_finished(VICTIM) && vcpu_finished(SENDER),
            "vCPUs %u and %u finished", VICTIM, SENDER);
}
