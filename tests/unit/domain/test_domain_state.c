/* Host unit tests of the domain state changes (common/domain_state.c),
 * linked as they are, with hv/spinlock.h's ticket locks on real atomics:
 * only interrupt masking is a no-op (tests/unit/evtchn/shim), so d->lock
 * excludes between host threads as it does between CPUs.
 *
 * The race test: a domain runs with 1-4 vCPUs; this thread pauses and
 * unpauses it in a loop (Domain 0's control calls) while another thread
 * shuts it down once at a random moment (the guest's SCHEDOP_shutdown or a
 * crash on another CPU). Afterwards the domain must be shut down with the
 * reason given, every vCPU paused and off the run queue, and pause and
 * unpause must refuse it. Without d->lock around the check and the change
 * in domain_pause/domain_unpause, a pause or unpause that read the state
 * before the shutdown wrote it writes it back over DOM_SHUTDOWN: on two
 * free CPUs about one round in ten shows it (the QEMU test, tests/dom0link,
 * cannot: a control call takes ~100 us against a window of a few
 * instructions). The test says when its threads hardly ran at once (one
 * CPU free), as then nothing could show. The scheduler is a stand-in
 * with schedule.c's rule: a vCPU is queued iff it is RUNNABLE and its
 * domain DOM_RUNNING.
 *
 * DOMSTATE_ROUNDS (default 300000) and DOMSTATE_SECONDS (default 6: the
 * rounds stop there on a slow or loaded host) change the run. */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <cmocka.h>

#include <public/sched.h>
#include "hv/domain.h"
#include "hv/errno.h"
#include "hv/printk.h"
#include "hv/schedule.h"
#include "hv/timer.h"

#define NR_TEST_VCPUS 4

static struct domain dom;
static struct vcpu vcpus[NR_TEST_VCPUS];
static spinlock_t runq_lock = SPINLOCK_INIT;   /* the stand-in run queue's */

/* What the rest of the hypervisor provides to domain_state.c. */
void vcpu_wake(struct vcpu *v)
{
    uint64_t f = spin_lock_irqsave(&runq_lock);
    if (v->state == VCPU_BLOCKED)
        v->state = VCPU_RUNNABLE;
    if (v->state == VCPU_RUNNABLE && v->domain->state == DOM_RUNNING && v->processor < 0)
        v->on_runq = true;
    spin_unlock_irqrestore(&runq_lock, f);
}

void vcpu_sleep(struct vcpu *v)
{
    uint64_t f = spin_lock_irqsave(&runq_lock);
    v->on_runq = false;
    spin_unlock_irqrestore(&runq_lock, f);
}

void sched_request(void)
{
}

static unsigned int timer_refreshes;    /* timers_domain_runs calls */

void timers_domain_runs(struct domain *d)
{
    (void)d;
    timer_refreshes++;
}

void smp_service_flush(void)
{
}

void printk(enum log_level lvl, const char *fmt, ...)
{
    (void)lvl;
    (void)fmt;
}

/* dom running with nr vCPUs, each runnable and queued. */
static void dom_reset(unsigned int nr)
{
    dom.state = DOM_RUNNING;
    dom.shutdown_code = SHUTDOWN_CODE_NONE;
    dom.shutdown_reason = 0;
    dom.unpopulated = 0;
    dom.nr_vcpus = nr;
    for (unsigned int i = 0; i < NR_TEST_VCPUS; i++) {
        struct vcpu *v = &vcpus[i];
        v->id = i;
        v->domain = &dom;
        v->processor = -1;
        v->initialised = true;
        v->state = VCPU_RUNNABLE;
        v->on_runq = i < nr;
        dom.vcpus[i] = i < nr ? v : NULL;
    }
}

/* What is wrong with dom after a shutdown for reason: a mask of these. */
enum {
    BAD_STATE = 1,          /* not DOM_SHUTDOWN */
    BAD_REASON = 2,
    BAD_VCPU_STATE = 4,     /* a vCPU not VCPU_PAUSED */
    BAD_VCPU_QUEUED = 8,    /* a vCPU still on the run queue */
    BAD_PAUSE = 16,         /* domain_pause did not refuse */
    BAD_UNPAUSE = 32,       /* domain_unpause did not refuse */
    NR_BAD = 6
};
static const char *const bad_names[NR_BAD] = {
    "state not DOM_SHUTDOWN", "wrong shutdown_reason", "vCPU not VCPU_PAUSED",
    "vCPU still queued", "pause did not return -EBUSY", "unpause did not return -EBUSY",
};

static unsigned int shut_down_wrong(unsigned int reason)
{
    unsigned int bad = 0;

    if (dom.state != DOM_SHUTDOWN)
        bad |= BAD_STATE;
    if (dom.shutdown_reason != reason)
        bad |= BAD_REASON;
    for (unsigned int i = 0; i < dom.nr_vcpus; i++) {
        if (vcpus[i].state != VCPU_PAUSED)
            bad |= BAD_VCPU_STATE;
        if (vcpus[i].on_runq)
            bad |= BAD_VCPU_QUEUED;
    }
    /* Last: a wrongly running domain may be paused, and a paused one
     * unpaused, by these very calls. */
    if (domain_pause(&dom) != -EBUSY)
        bad |= BAD_PAUSE;
    if (domain_unpause(&dom) != -EBUSY)
        bad |= BAD_UNPAUSE;
    return bad;
}

/* One thread, in order: the transitions and what they refuse. */
static void test_transitions(void **state)
{
    (void)state;
    dom_reset(2);
    assert_int_equal(domain_unpause(&dom), -EALREADY);
    assert_int_equal(domain_pause(&dom), 0);
    assert_int_equal(dom.state, DOM_PAUSED);
    assert_false(vcpus[0].on_runq || vcpus[1].on_runq);
    assert_int_equal(domain_pause(&dom), -EALREADY);
    timer_refreshes = 0;
    assert_int_equal(domain_unpause(&dom), 0);
    assert_true(vcpus[0].on_runq && vcpus[1].on_runq);
    assert_int_equal(timer_refreshes, 1);       /* its timers count again */
    domain_shutdown(&dom, SHUTDOWN_reboot);
    assert_int_equal(shut_down_wrong(SHUTDOWN_reboot), 0);
    domain_shutdown(&dom, SHUTDOWN_crash);      /* the first reason stays */
    assert_int_equal(shut_down_wrong(SHUTDOWN_reboot), 0);

    /* A building domain runs once vCPU 0 has a context and all its memory. */
    dom_reset(2);
    dom.state = DOM_BUILDING;
    vcpus[0].initialised = false;
    vcpus[0].state = vcpus[1].state = VCPU_DOWN;
    vcpus[0].on_runq = vcpus[1].on_runq = false;
    assert_int_equal(domain_unpause(&dom), -EINVAL);
    vcpus[0].initialised = true;
    dom.unpopulated = 1;
    assert_int_equal(domain_unpause(&dom), -EINVAL);
    assert_int_equal(dom.state, DOM_BUILDING);
    dom.unpopulated = 0;
    assert_int_equal(domain_unpause(&dom), 0);
    assert_int_equal(dom.state, DOM_RUNNING);
    assert_int_equal(vcpus[0].state, VCPU_RUNNABLE);
    assert_true(vcpus[0].on_runq && !vcpus[1].on_runq);

    /* A code the guest recorded wins over the reason given. */
    dom_reset(1);
    dom.shutdown_code = SHUTDOWN_poweroff;
    domain_crash(&dom, "test");
    assert_int_equal(shut_down_wrong(SHUTDOWN_poweroff), 0);

    /* A paused domain shuts down as well; the checker sees a wrong one. */
    dom_reset(3);
    assert_int_equal(domain_pause(&dom), 0);
    domain_shutdown(&dom, SHUTDOWN_poweroff);
    assert_int_equal(shut_down_wrong(SHUTDOWN_poweroff), 0);
    dom_reset(3);
    assert_int_equal(shut_down_wrong(SHUTDOWN_reboot), (1u << NR_BAD) - 1);
}

/* The race: round r is started by go = r; the shutter waits a random
 * while, shuts dom down for reasons[r % 4] and sets done = r. */
static const unsigned int reasons[4] = {
    SHUTDOWN_poweroff, SHUTDOWN_reboot, SHUTDOWN_crash, SHUTDOWN_watchdog,
};
static unsigned int go, done;
static unsigned int cycles;             /* the pauser's pause/unpause pairs */
static unsigned int overlapped;         /* rounds whose shutdown ran beside a pair */
static unsigned int max_delay;          /* cpu_relax()es: calibrate() */

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint32_t xorshift(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void *shutter(void *arg)
{
    unsigned int rounds = *(const unsigned int *)arg;
    uint32_t rng = 0x9e3779b9u;

    for (unsigned int r = 1; r <= rounds; r++) {
        unsigned int spins = 0, seen;
        while ((seen = __atomic_load_n(&go, __ATOMIC_ACQUIRE)) < r) {
            cpu_relax();
            if (++spins % 1024 == 0)
                sched_yield();          /* let the pauser run on a busy host */
        }
        if (seen == ~0u)                /* stopped early */
            break;
        for (unsigned int i = xorshift(&rng) % max_delay; i; i--)
            cpu_relax();
        unsigned int before = __atomic_load_n(&cycles, __ATOMIC_RELAXED);
        domain_shutdown(&dom, reasons[r % 4]);
        overlapped += __atomic_load_n(&cycles, __ATOMIC_RELAXED) != before;
        __atomic_store_n(&done, r, __ATOMIC_RELEASE);
    }
    return NULL;
}

static unsigned int env_uint(const char *name, unsigned int dflt)
{
    const char *s = getenv(name);
    return s && *s ? (unsigned int)strtoul(s, NULL, 0) : dflt;
}

/* max_delay such that the shutter's delay spans a few pause/unpause
 * cycles of this host. */
static void calibrate(void)
{
    enum { N = 20000 };
    dom_reset(NR_TEST_VCPUS);
    uint64_t t0 = now_ns();
    for (unsigned int i = 0; i < N; i++) {
        domain_pause(&dom);
        domain_unpause(&dom);
    }
    uint64_t t1 = now_ns();
    for (unsigned int i = 0; i < N; i++)
        cpu_relax();
    uint64_t t2 = now_ns();
    uint64_t cycle = t1 - t0, relax = t2 - t1 ? t2 - t1 : 1;
    max_delay = (unsigned int)(4 * cycle / relax) + 1;
}

static void test_pause_unpause_race_shutdown(void **state)
{
    (void)state;
    unsigned int rounds = env_uint("DOMSTATE_ROUNDS", 300000);
    uint64_t limit = env_uint("DOMSTATE_SECONDS", 6) * 1000000000ull;
    unsigned int failed = 0, bad_counts[NR_BAD] = {0}, nr_rounds = 0;
    pthread_t t;

    calibrate();
    __atomic_store_n(&go, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&done, 0, __ATOMIC_RELAXED);
    overlapped = 0;
    assert_int_equal(pthread_create(&t, NULL, shutter, &rounds), 0);
    uint64_t start = now_ns();
    for (unsigned int r = 1; r <= rounds; r++) {
        if ((r & 63) == 0 && now_ns() - start > limit)
            break;
        dom_reset(1 + r % NR_TEST_VCPUS);
        __atomic_store_n(&go, r, __ATOMIC_RELEASE);
        for (unsigned int n = 1; __atomic_load_n(&done, __ATOMIC_ACQUIRE) != r; n++) {
            domain_pause(&dom);
            domain_unpause(&dom);
            __atomic_store_n(&cycles, cycles + 1, __ATOMIC_RELAXED);
            if (n % 256 == 0)
                sched_yield();          /* let the shutter run on a busy host */
        }
        unsigned int bad = shut_down_wrong(reasons[r % 4]);
        failed += bad != 0;
        for (unsigned int i = 0; i < NR_BAD; i++)
            bad_counts[i] += !!(bad & (1u << i));
        nr_rounds++;
    }
    __atomic_store_n(&go, ~0u, __ATOMIC_RELEASE);
    pthread_join(t, NULL);
    uint64_t ms = (now_ns() - start) / 1000000;

    /* overlapped: the shutter's last write happened before its join. */
    printf("%u of %u rounds wrong in %lu ms; in %u the shutdown ran beside a pause/unpause "
           "(delay 0-%u cpu_relax)\n", failed, nr_rounds, (unsigned long)ms, overlapped, max_delay);
    if (overlapped < nr_rounds / 100)
        printf("  the two threads hardly ran at once (one free CPU?): a race could not show\n");
    for (unsigned int i = 0; i < NR_BAD; i++)
        if (bad_counts[i])
            printf("  %u rounds: %s\n", bad_counts[i], bad_names[i]);
    assert_int_equal(failed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transitions),
        cmocka_unit_test(test_pause_unpause_race_shutdown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
