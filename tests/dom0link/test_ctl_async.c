/*
 * test_ctl_async.c - the control client's asynchronous calls (ctl_submit,
 * ctl_async_poll, ctl_async_cancel, ctl_async_fail_all) against a real
 * machine (QEMU, build/pvcore.iso). TAP.
 *
 * The main thread plays pvd's loop: it submits and polls, and must never
 * wait. It checks that
 *  1. calls complete once each, in order, more of them than the ring
 *     holds (the rest queued inside ctl and pushed as answers come);
 *  2. while another thread holds the bulk area (as the control thread
 *     does through a long bulk call), a submitted bulk op stays queued
 *     and a plain op is answered meanwhile; once the area is released
 *     the kick hook runs and the bulk op completes, its results collected;
 *  3. an answer that another thread's ctl_call takes from the ring is
 *     kept for its async call (not dropped as stale), and the hook runs;
 *     and the other way round: the loop polling all the while, another
 *     thread's 40 calls are all answered;
 *  4. with the machine frozen (QEMU `stop`), a call times out with an
 *     error naming its op; its late answer is swallowed once the machine
 *     runs again, and the next call is answered;
 *  5. a cancelled call's done never runs; ctl_async_fail_all completes
 *     every call with the error given, naming each op.
 * No bound on how long anything takes is tested: every wait is for an
 * event, up to WAIT_MS.
 */
#include "../lib/tap.h"
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "link_harness.h"

#define RAM_MIB 128u
#define WAIT_MS 30000u
#define MANY (PVCTL_RING_SIZE * 3)

static struct {
    struct link l;
    unsigned int failures;
    int hooks;                      /* kick hook runs (atomic) */
} t;

#define report(ok, what, ...) tap_report((ok), (what), &t.failures, __VA_ARGS__)

static void on_hook(void *arg)
{
    (void)arg;
    __atomic_add_fetch(&t.hooks, 1, __ATOMIC_ACQ_REL);
}

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* One async call's record, as a backend keeps it. */
struct call {
    int done, rc, order;
    int32_t status;
    char err[600];
    struct pvctl_domain_info list[4];
    uint32_t listed;                /* bytes LIST_DOMAINS answered */
};

static int done_order;

static void on_done(void *arg, int rc, const struct pvctl_response *rsp, const char *err)
{
    struct call *k = arg;

    k->done++;
    k->rc = rc;
    k->order = ++done_order;
    k->status = rsp ? rsp->status : 1;
    snprintf(k->err, sizeof(k->err), "%s", err ? err : "");
}

static void collect_list(void *arg, const void *bulk, const struct pvctl_response *rsp)
{
    struct call *k = arg;
    uint32_t n = rsp->size < sizeof(k->list) ? rsp->size : (uint32_t)sizeof(k->list);

    k->listed = rsp->size;
    memcpy(k->list, bulk, n);
}

static int submit(uint32_t op, struct call *k, unsigned int timeout_ms, uint64_t *ticket)
{
    struct ctl_async_call ac = { .req = { .op = op }, .done = on_done, .arg = k,
                                 .timeout_ms = timeout_ms };
    char err[300];
    uint64_t tk;
    int rc;

    if (op == PVCTL_OP_LIST_DOMAINS)
        ac.collect = collect_list;
    rc = ctl_submit(t.l.c, &ac, ticket ? ticket : &tk, err, sizeof(err));
    if (rc < 0)
        printf("# submit %s: %s\n", ctl_op_name(op), err);
    return rc;
}

/* The loop: poll (never waiting inside ctl) until cond(arg) or WAIT_MS. */
static int pump(int (*cond)(void *), void *arg)
{
    uint64_t end = now_ms() + WAIT_MS;
    char err[300];

    while (!cond(arg) && now_ms() < end) {
        struct pollfd p = { .fd = machine_doorbell_fd(t.l.m), .events = POLLIN };
        if (poll(&p, 1, 10) > 0)
            machine_drain_kicks(t.l.m, err, sizeof(err));
        if (ctl_async_poll(t.l.c, err, sizeof(err)) < 0) {
            printf("# poll: %s\n", err);
            return 0;
        }
    }
    return cond(arg);
}

static int all_done(void *arg)
{
    struct call *k = arg;

    for (int i = 0; i < MANY; i++)
        if (!k[i].done)
            return 0;
    return 1;
}

static int one_done(void *arg)
{
    return ((struct call *)arg)->done != 0;
}

static int nothing_pending(void *arg)
{
    (void)arg;
    return ctl_async_pending(t.l.c) == 0;
}

static void many_in_order(void)
{
    static struct call k[MANY];
    int submitted = 0, in_order = 1, once = 1, ok = 1;

    memset(k, 0, sizeof(k));
    done_order = 0;
    for (int i = 0; i < MANY; i++)
        submitted += submit(PVCTL_OP_NOP, &k[i], 0, NULL) == 0;
    report(submitted == MANY, "ctl_submit takes more calls than the ring holds, without waiting",
           "%d of %d submitted", submitted, MANY);
    report(pump(all_done, k), "every call completes", "%u still pending", ctl_async_pending(t.l.c));
    for (int i = 0; i < MANY; i++) {
        once &= k[i].done == 1;
        ok &= k[i].rc == 0 && k[i].status == 0;
        in_order &= k[i].order == i + 1;
    }
    report(once, "each done runs exactly once", "a done ran %d times", k[0].done);
    report(ok, "each NOP is answered with status 0", "rc %d status %d: %s", k[0].rc, k[0].status, k[0].err);
    report(in_order, "they complete in the order submitted", "first out of order");
}

struct holder {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int holding, release;
};

static void *hold_bulk(void *arg)
{
    struct holder *h = arg;

    ctl_bulk_hold(t.l.c);
    pthread_mutex_lock(&h->lock);
    h->holding = 1;
    pthread_cond_broadcast(&h->cond);
    while (!h->release)
        pthread_cond_wait(&h->cond, &h->lock);
    pthread_mutex_unlock(&h->lock);
    ctl_bulk_release(t.l.c);
    return NULL;
}

static void bulk_behind_a_thread(void)
{
    struct holder h = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 };
    struct call bulk = { 0 }, plain = { 0 };
    pthread_t th;
    int hooks;

    pthread_create(&th, NULL, hold_bulk, &h);
    pthread_mutex_lock(&h.lock);
    while (!h.holding)
        pthread_cond_wait(&h.cond, &h.lock);
    pthread_mutex_unlock(&h.lock);
    report(submit(PVCTL_OP_LIST_DOMAINS, &bulk, WAIT_MS, NULL) == 0 &&
           submit(PVCTL_OP_MACHINE_INFO, &plain, WAIT_MS, NULL) == 0,
           "a bulk op and a plain op are submitted while another thread holds the bulk area",
           "submit failed");
    report(pump(one_done, &plain) && plain.rc == 0, "the plain op is answered meanwhile", "done %d rc %d: %s",
           plain.done, plain.rc, plain.err);
    report(!bulk.done && ctl_bulk_try_hold(t.l.c) == 0,
           "the bulk op waits, queued, and the loop cannot hold the area", "bulk done %d", bulk.done);
    hooks = __atomic_load_n(&t.hooks, __ATOMIC_ACQUIRE);
    pthread_mutex_lock(&h.lock);
    h.release = 1;
    pthread_cond_broadcast(&h.cond);
    pthread_mutex_unlock(&h.lock);
    pthread_join(th, NULL);
    report(__atomic_load_n(&t.hooks, __ATOMIC_ACQUIRE) > hooks, "releasing the area runs the kick hook",
           "no hook ran");
    report(pump(one_done, &bulk) && bulk.rc == 0, "then the bulk op completes", "done %d rc %d: %s",
           bulk.done, bulk.rc, bulk.err);
    report(bulk.listed % sizeof(struct pvctl_domain_info) == 0,
           "its collect saw the listing in the bulk area", "%u bytes", bulk.listed);
    if (ctl_bulk_try_hold(t.l.c)) {
        report(1, "the loop can hold the free bulk area without waiting", "-");
        ctl_bulk_release(t.l.c);
    } else {
        report(0, "the loop can hold the free bulk area without waiting", "refused");
    }
}

static void answer_taken_by_another_call(void)
{
    struct call k = { 0 };
    char err[300];
    int hooks = __atomic_load_n(&t.hooks, __ATOMIC_ACQUIRE), rc;

    report(submit(PVCTL_OP_NOP, &k, WAIT_MS, NULL) == 0, "an async NOP is submitted", "-");
    /* answered in order: this call's loop takes the async answer first */
    rc = ctl_nop(t.l.c, err, sizeof(err));
    report(rc == 0, "a synchronous call goes through beside it", "%s", err);
    report(__atomic_load_n(&t.hooks, __ATOMIC_ACQUIRE) > hooks,
           "the call that took the async answer runs the kick hook", "no hook ran");
    report(!k.done, "done runs only in the loop's poll", "done ran in the other call");
    rc = ctl_async_poll(t.l.c, err, sizeof(err));
    report(rc == 0 && k.done == 1 && k.rc == 0, "one poll completes it from the kept answer",
           "poll %d, done %d, rc %d: %s", rc, k.done, k.rc, k.err);
}

struct syncer {
    int calls, failed, stop;
    char err[300];
};

static void *sync_calls(void *arg)
{
    struct syncer *y = arg;

    for (int i = 0; i < 40; i++) {
        if (ctl_nop(t.l.c, y->err, sizeof(y->err)) < 0) {
            y->failed++;
            break;
        }
        y->calls++;
    }
    __atomic_store_n(&y->stop, 1, __ATOMIC_RELEASE);
    return NULL;
}

static int syncer_done(void *arg)
{
    return __atomic_load_n(&((struct syncer *)arg)->stop, __ATOMIC_ACQUIRE);
}

/* The loop polls (taking every answer there is) while another thread's
 * calls wait for theirs: an answer the loop takes for them is kept. */
static void loop_polls_beside_calls(void)
{
    struct syncer y = { 0 };
    struct call k[8];
    pthread_t th;
    int ok_all = 1;

    memset(k, 0, sizeof(k));
    pthread_create(&th, NULL, sync_calls, &y);
    for (int i = 0; i < 8; i++)
        submit(PVCTL_OP_NOP, &k[i], WAIT_MS, NULL);
    pump(syncer_done, &y);
    pthread_join(th, NULL);
    report(y.calls == 40 && !y.failed, "another thread's calls are answered while the loop polls",
           "%d of 40, then: %s", y.calls, y.err);
    pump(nothing_pending, NULL);
    for (int i = 0; i < 8; i++)
        ok_all &= k[i].done == 1 && k[i].rc == 0;
    report(ok_all, "and the loop's calls beside them", "rc %d: %s", k[0].rc, k[0].err);
}

static void monitor(const char *cmd)
{
    char out[256], err[300];

    if (machine_monitor(t.l.m, cmd, out, sizeof(out), err, sizeof(err)) < 0)
        printf("# monitor %s: %s\n", cmd, err);
}

static void frozen_machine(void)
{
    struct call slow = { 0 }, gone = { 0 }, after = { 0 }, f[3] = { { 0 } };
    uint64_t ticket;
    char err[300];

    monitor("stop");
    report(submit(PVCTL_OP_NOP, &slow, 300, NULL) == 0 && submit(PVCTL_OP_NOP, &gone, WAIT_MS, &ticket) == 0,
           "calls are submitted to a frozen machine without waiting", "-");
    ctl_async_cancel(t.l.c, ticket);
    report(pump(one_done, &slow) && slow.rc == -ETIMEDOUT, "a call with no answer times out",
           "done %d rc %d", slow.done, slow.rc);
    report(strstr(slow.err, "NOP") && strstr(slow.err, "no response"), "its error names the op and the cause",
           "%s", slow.err);
    report(submit(PVCTL_OP_NOP, &f[0], WAIT_MS, NULL) == 0 && submit(PVCTL_OP_LIST_DOMAINS, &f[1], WAIT_MS, NULL) == 0 &&
           submit(PVCTL_OP_MACHINE_INFO, &f[2], WAIT_MS, NULL) == 0, "three more are submitted", "-");
    ctl_async_fail_all(t.l.c, -EPIPE, "the machine is lost (test)");
    report(f[0].done == 1 && f[1].done == 1 && f[2].done == 1 && f[0].rc == -EPIPE && f[1].rc == -EPIPE &&
           f[2].rc == -EPIPE, "ctl_async_fail_all completes every call with its error",
           "done %d %d %d, rc %d %d %d", f[0].done, f[1].done, f[2].done, f[0].rc, f[1].rc, f[2].rc);
    report(strstr(f[1].err, "LIST_DOMAINS") && strstr(f[1].err, "lost (test)"),
           "each error names the op and the reason", "%s", f[1].err);
    monitor("cont");
    report(submit(PVCTL_OP_NOP, &after, WAIT_MS, NULL) == 0 && pump(one_done, &after) && after.rc == 0,
           "once the machine runs again the next call is answered", "done %d rc %d: %s", after.done, after.rc,
           after.err);
    report(pump(nothing_pending, NULL), "the late answers are swallowed: nothing stays pending", "%u pending",
           ctl_async_pending(t.l.c));
    report(!gone.done, "the cancelled call's done never ran", "it ran (rc %d)", gone.rc);
    report(ctl_nop(t.l.c, err, sizeof(err)) == 0, "synchronous calls still work", "%s", err);
}

int main(void)
{
    char err[1024];

    setvbuf(stdout, NULL, _IOLBF, 0);
    link_cleanup_at_exit(&t.l, &t.failures);
    if (link_start(&t.l, RAM_MIB, err, sizeof(err))) {
        report(0, "the machine boots", "%s", err);
        return 1;
    }
    ctl_set_kick_hook(t.l.c, on_hook, NULL);
    many_in_order();
    bulk_behind_a_thread();
    answer_taken_by_another_call();
    loop_polls_beside_calls();
    frozen_machine();
    return t.failures != 0;
}
