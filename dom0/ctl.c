/*
 * ctl.c - the control client's transport: attaching to the control block
 * of a machine, the synchronous call over its rings and doorbell, and the
 * asynchronous one (ctl_submit) whose completion runs on the loop.
 *
 * Owns: struct ctl (the mapped block, Domain 0's shared_info, the ring
 * state, the call timeout) and the records of async calls (struct
 * ctl_pending, one list in submission order). The machine handle is
 * borrowed.
 * Invariants:
 *  - at most one awaited request (ctl_call) of this process is in the
 *    ring at a time; posted and async requests may be there beside it;
 *  - every response taken from the ring, by whichever thread, is matched
 *    by id: the awaited call's (sync_id: kept in sync_rsp when another
 *    thread took it), an async call's (kept in its record:
 *    P_SENT becomes P_ANSWERED; a bulk op's collect copies its results out
 *    of the bulk area then), or a stale / posted / abandoned one (dropped);
 *  - the bulk area has one owner: a thread holding bulk_lock once no
 *    async bulk op is in flight (bulk_async == 0), or the async bulk op
 *    whose id is bulk_async, from its push until its answer is taken; a
 *    bulk op (either kind) is pushed only into a quiet ring;
 *  - an async record is freed only by the loop (ctl_async_poll, _cancel,
 *    _fail_all) or, for a ghost (cancelled or timed out while in the
 *    ring: kept only to swallow its answer and keep bulk_async), by
 *    whoever takes its answer; done runs at most once, on the loop.
 * Threads: any thread may call ctl_call / ctl_post / ctl_bulk_hold; the
 * async calls of one ctl belong to one thread (the loop), which never
 * waits: it only trylocks bulk_lock and takes ring_lock for a few copies.
 * Lock order: bulk_lock (recursive: held by a bulk op's wrapper across
 * its copies, or by ctl_bulk_hold across many calls) before call_lock
 * (held for one awaited request, from its push to its answer) before
 * ring_lock (held only to push or take, and for the async list, so that
 * a posted or async request never waits for an awaited one's answer).
 * The loop's trylock of bulk_lock under ring_lock cannot wait, so it
 * breaks no order. collect runs under ring_lock; the kick hook and done
 * run after all are released.
 */
#include "ctl.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl_ring.h"
#include "dom0_error.h"
#include "machine.h"

struct ctl {
    struct machine *m;
    struct ctl_ring ring;
    struct shared_info *dom0_si;
    uint64_t boot_id;
    uint64_t block_paddr;
    unsigned int timeout_ms;
    pthread_mutex_t call_lock;      /* one request in flight (see the top) */
    pthread_mutex_t bulk_lock;      /* recursive: the bulk area's owner */
    pthread_mutex_t ring_lock;      /* the ring's indices and ids, held briefly */
    void (*on_kicks)(void *arg);    /* kicks were drained by a call */
    void *kick_arg;
    struct ctl_op_stats stats[PVCTL_OP_MAX];    /* ctl_call's, under call_lock */
    /* async calls (see the top): the list and bulk_async under ring_lock */
    struct ctl_pending *async, *async_tail;
    uint64_t bulk_async;            /* the async bulk op that owns the bulk area (id) */
    uint64_t sync_id;               /* the awaited request in the ring (ctl_call's), 0: none */
    int sync_answered;              /* ... and its answer, taken by another thread */
    struct pvctl_response sync_rsp;
    uint64_t next_ticket;           /* the loop's */
    int64_t next_kick;              /* the loop's: ring again while one is unanswered */
    int bulk_wanted;                /* atomic: the loop could not hold the bulk area */
    int bulk_reserved;              /* ring_lock: the loop waits to hold it: no new async bulk op */
    int bulk_waiters;               /* atomic: threads waiting in ctl_bulk_hold */
};

enum pending_state { P_QUEUED, P_SENT, P_GHOST, P_ANSWERED };

struct ctl_pending {
    struct ctl_pending *next;
    struct ctl_async_call call;
    uint64_t ticket;
    int bulk;
    enum pending_state state;
    int64_t deadline;
    struct pvctl_response rsp;
};

static __thread int drained_kicks;  /* this thread's call ate a kick */
static __thread uint64_t call_kicks; /* doorbell kicks this thread's call sent */

/* Names and bulk use of the ops: public/pvcore_ctl.h's table. */
#define OP_NAME(NAME, name, number, request, reply, bulk, target) [PVCTL_OP_##NAME] = #NAME,
static const char *const op_names[PVCTL_OP_MAX] = { PVCTL_OPS(OP_NAME) };
#define OP_BULK(NAME, name, number, request, reply, bulk, target) [PVCTL_OP_##NAME] = bulk,
static const unsigned char op_bulk[PVCTL_OP_MAX] = { PVCTL_OPS(OP_BULK) };

const char *ctl_op_name(uint32_t op)
{
    static __thread char buf[24];

    if (op < PVCTL_OP_MAX && op_names[op])
        return op_names[op];
    dom0_format(buf, sizeof(buf), "op %u", op);
    return buf;
}

/* Ops whose data travels in the bulk area; an unknown op is treated as
 * one, so that a malformed request never races a bulk transfer. */
static int op_uses_bulk(uint32_t op)
{
    return op >= PVCTL_OP_MAX || op_bulk[op];
}

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t deadline_after(unsigned int ms)
{
    return now_ns() + (int64_t)ms * 1000000;
}

/* Map the anchor's block and Domain 0's shared_info: 0, -EAGAIN while not
 * announced yet, another negative errno when what is there is wrong. */
static int map_block(struct ctl *c, char *err, size_t errlen)
{
    const struct pvctl_anchor *a = machine_phys(c->m, PVCTL_ANCHOR_PADDR, sizeof(*a));

    if (!a)
        return dom0_fail(err, errlen, EPROTO, "control anchor at %#llx is not machine RAM",
                         (unsigned long long)PVCTL_ANCHOR_PADDR);
    if (memcmp(a->magic, PVCTL_ANCHOR_MAGIC, sizeof(PVCTL_ANCHOR_MAGIC)))
        return dom0_fail(err, errlen, EAGAIN, "no control anchor at %#llx yet (the hypervisor "
                         "has not announced its control block)",
                         (unsigned long long)PVCTL_ANCHOR_PADDR);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (a->version != PVCTL_VERSION)
        return dom0_fail(err, errlen, EPROTONOSUPPORT, "control anchor: version %u, this "
                         "Domain 0 speaks version %u", a->version, PVCTL_VERSION);
    uint64_t paddr = a->block_paddr;
    struct pvctl_block *blk = machine_phys(c->m, paddr, sizeof(*blk));
    if (!blk || paddr & 4095)
        return dom0_fail(err, errlen, EPROTO, "control anchor names block address %#llx, "
                         "which is not %zu bytes of page-aligned machine RAM",
                         (unsigned long long)paddr, sizeof(*blk));
    int rc = ctl_ring_check_block(blk, PVCTL_BLOCK_PAGES * 4096, err, errlen);
    if (rc == -ENODEV)
        return -EAGAIN;
    if (rc)
        return rc;
    uint64_t si = blk->dom0_shared_info;
    c->dom0_si = machine_phys(c->m, si, sizeof(struct shared_info));
    if (!c->dom0_si || si & 4095)
        return dom0_fail(err, errlen, EPROTO, "control block names Domain 0's shared_info at "
                         "%#llx, which is not a page of machine RAM", (unsigned long long)si);
    c->boot_id = blk->boot_id;
    c->block_paddr = paddr;
    ctl_ring_init(&c->ring, blk);
    return 0;
}

int ctl_attach(struct machine *m, unsigned int timeout_ms, struct ctl **out,
               char *err, size_t errlen)
{
    struct ctl *c = calloc(1, sizeof(*c));
    int64_t deadline = deadline_after(timeout_ms);
    int rc;

    if (!c)
        return dom0_fail(err, errlen, ENOMEM, "control client: out of memory");
    c->m = m;
    c->timeout_ms = CTL_DEFAULT_TIMEOUT_MS;
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&c->bulk_lock, &ma);
    pthread_mutexattr_destroy(&ma);
    pthread_mutex_init(&c->call_lock, NULL);
    pthread_mutex_init(&c->ring_lock, NULL);
    while ((rc = map_block(c, err, errlen)) == -EAGAIN && now_ns() < deadline)
        usleep(10 * 1000);
    if (rc == -EAGAIN) {
        struct machine_status st;

        machine_status(m, &st);
        rc = dom0_fail(err, errlen, ETIMEDOUT, "no control block announced at %#llx within "
                       "%u ms (machine: %s)", (unsigned long long)PVCTL_ANCHOR_PADDR,
                       timeout_ms, st.reason);
    }
    if (rc) {
        ctl_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

void ctl_close(struct ctl *c)
{
    if (!c)
        return;
    while (c->async) {
        struct ctl_pending *p = c->async;
        c->async = p->next;
        free(p);
    }
    pthread_mutex_destroy(&c->call_lock);
    pthread_mutex_destroy(&c->bulk_lock);
    pthread_mutex_destroy(&c->ring_lock);
    free(c);
}

void ctl_set_kick_hook(struct ctl *c, void (*fn)(void *arg), void *arg)
{
    pthread_mutex_lock(&c->call_lock);
    c->kick_arg = arg;
    __atomic_store_n(&c->on_kicks, fn, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&c->call_lock);
}

static int wait_doorbell(struct ctl *c, int64_t deadline, char *err, size_t errlen);
static int take_locked(struct ctl *c, uint64_t want, struct pvctl_response *rsp, int *kept);

static void run_hook(struct ctl *c)
{
    void (*hook)(void *) = __atomic_load_n(&c->on_kicks, __ATOMIC_ACQUIRE);

    if (hook)
        hook(c->kick_arg);
}

/* The bulk area for this thread: bulk_lock, then the end of an async bulk
 * op in flight (its answer is taken here if nobody else takes it; at
 * most the call timeout: a late answer is then the hypervisor's fault,
 * as for an abandoned ctl_call). */
void ctl_bulk_hold(struct ctl *c)
{
    int64_t deadline = deadline_after(c->timeout_ms);
    int kept = 0, busy;

    __atomic_add_fetch(&c->bulk_waiters, 1, __ATOMIC_ACQ_REL);
    pthread_mutex_lock(&c->bulk_lock);
    __atomic_sub_fetch(&c->bulk_waiters, 1, __ATOMIC_ACQ_REL);
    drained_kicks = 0;
    for (;;) {
        pthread_mutex_lock(&c->ring_lock);
        take_locked(c, 0, NULL, &kept);
        busy = c->bulk_async != 0;
        pthread_mutex_unlock(&c->ring_lock);
        if (!busy || now_ns() >= deadline || wait_doorbell(c, deadline, NULL, 0) < 0)
            break;
    }
    if (kept || drained_kicks)
        run_hook(c);
}

int ctl_bulk_try_hold(struct ctl *c)
{
    int busy;

    if (__atomic_load_n(&c->bulk_waiters, __ATOMIC_ACQUIRE) ||
        pthread_mutex_trylock(&c->bulk_lock) != 0) {
        __atomic_store_n(&c->bulk_wanted, 1, __ATOMIC_RELEASE);
        return 0;
    }
    /* an async bulk op in flight: no new one goes before the holder had
     * its turn (its answer wakes the loop, which tries again) */
    pthread_mutex_lock(&c->ring_lock);
    busy = c->bulk_async != 0;
    c->bulk_reserved = busy;
    pthread_mutex_unlock(&c->ring_lock);
    if (busy) {
        pthread_mutex_unlock(&c->bulk_lock);
        return 0;
    }
    return 1;
}

void ctl_bulk_release(struct ctl *c)
{
    int queued;

    pthread_mutex_unlock(&c->bulk_lock);
    pthread_mutex_lock(&c->ring_lock);
    queued = c->async != NULL;
    pthread_mutex_unlock(&c->ring_lock);
    /* the loop may wait to hold it, or have bulk ops queued behind it */
    if (__atomic_exchange_n(&c->bulk_wanted, 0, __ATOMIC_ACQ_REL) || queued)
        run_hook(c);
}

struct machine *ctl_machine(const struct ctl *c)
{
    return c->m;
}

uint64_t ctl_boot_id(const struct ctl *c)
{
    return c->boot_id;
}

void ctl_set_timeout(struct ctl *c, unsigned int timeout_ms)
{
    c->timeout_ms = timeout_ms;
}

unsigned int ctl_timeout(const struct ctl *c)
{
    return c->timeout_ms;
}

void *ctl_bulk(struct ctl *c)
{
    return c->ring.blk->bulk;
}

uint64_t ctl_bulk_maddr(const struct ctl *c)
{
    return c->block_paddr + offsetof(struct pvctl_block, bulk);
}

size_t ctl_pending_ports(struct ctl *c, uint32_t *ports, size_t max)
{
    return ctl_ring_take_pending(c->dom0_si, ports, max);
}

/* Wait for a kick or CTL_RECHECK_MS, whichever comes first (not past the
 * deadline, rounded up to a millisecond). 0, -EPIPE when the doorbell is
 * closed. */
static int wait_doorbell(struct ctl *c, int64_t deadline, char *err, size_t errlen)
{
    int64_t left_ms = (deadline - now_ns() + 999999) / 1000000;
    struct pollfd p = { .fd = machine_doorbell_fd(c->m), .events = POLLIN };

    if (left_ms <= 0)
        return 0;
    if (poll(&p, 1, (int)(left_ms < CTL_RECHECK_MS ? left_ms : CTL_RECHECK_MS)) < 0 &&
        errno != EINTR)
        return dom0_fail(err, errlen, errno, "waiting on the doorbell: %s", strerror(errno));
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
        int n = machine_drain_kicks(c->m, err, errlen);
        if (n < 0)
            return n;
        if (n > 0)
            drained_kicks = 1;
    }
    return 0;
}

static int call_failed(struct ctl *c, int rc, const struct pvctl_request *req, const char *what,
                       unsigned int timeout_ms, char *err, size_t errlen)
{
    char why[1024];

    if (rc == -ETIMEDOUT) {
        struct machine_status st;

        machine_status(c->m, &st);
        dom0_format(why, sizeof(why), "gave up after %u ms; machine: %s", timeout_ms, st.reason);
    } else {
        dom0_format(why, sizeof(why), "%s", err && errlen ? err : strerror(-rc));
    }
    return dom0_fail(err, errlen, -rc, "control request %s (id %llu): %s; %s",
                     ctl_op_name(req->op), (unsigned long long)req->id, what, why);
}

static int call_locked(struct ctl *c, struct pvctl_request *req, struct pvctl_response *rsp,
                       unsigned int timeout_ms, char *err, size_t errlen);

static void unlink_pending(struct ctl *c, struct ctl_pending **pp, struct ctl_pending *p)
{
    *pp = p->next;
    if (c->async_tail == p) {
        struct ctl_pending *t = c->async;
        while (t && t->next)
            t = t->next;
        c->async_tail = t;
    }
}

/* A response that is not the waiting call's: an async call's is kept
 * (*kept = 1), a ghost's ends the ghost, anything else is dropped. */
static void keep_answer(struct ctl *c, const struct pvctl_response *r, int *kept)
{
    struct ctl_pending **pp, *p;

    for (pp = &c->async; (p = *pp); pp = &p->next)
        if ((p->state == P_SENT || p->state == P_GHOST) && p->call.req.id == r->id)
            break;
    if (!p)
        return;
    if (p->bulk && c->bulk_async == r->id)
        c->bulk_async = 0;
    if (p->state == P_GHOST) {
        unlink_pending(c, pp, p);
        free(p);
        return;
    }
    if (p->call.collect)
        p->call.collect(p->call.arg, c->ring.blk->bulk, r);
    p->rsp = *r;
    p->state = P_ANSWERED;
    *kept = 1;
}

/* Take every response there is (ring_lock held): 1 once the one with id
 * `want` is in *rsp (want 0: none is), 0 when none is left, -EPROTO. */
static int take_locked(struct ctl *c, uint64_t want, struct pvctl_response *rsp, int *kept)
{
    struct pvctl_response r;
    int rc;

    if (want && c->sync_answered && c->sync_id == want) {
        *rsp = c->sync_rsp;         /* another thread took it for us */
        return 1;
    }
    while ((rc = ctl_ring_take_one(&c->ring, &r)) == 1) {
        if (want && r.id == want) {
            *rsp = r;
            return 1;
        }
        if (c->sync_id && r.id == c->sync_id) {
            c->sync_rsp = r;        /* the awaited call's: kept for it */
            c->sync_answered = 1;
            continue;
        }
        keep_answer(c, &r, kept);
    }
    return rc;
}

void ctl_stats(struct ctl *c, struct ctl_op_stats out[PVCTL_OP_MAX])
{
    pthread_mutex_lock(&c->call_lock);
    memcpy(out, c->stats, sizeof(c->stats));
    pthread_mutex_unlock(&c->call_lock);
}

void ctl_stats_reset(struct ctl *c)
{
    pthread_mutex_lock(&c->call_lock);
    memset(c->stats, 0, sizeof(c->stats));
    pthread_mutex_unlock(&c->call_lock);
}

int ctl_call(struct ctl *c, struct pvctl_request *req, struct pvctl_response *rsp,
             unsigned int timeout_ms, char *err, size_t errlen)
{
    int bulk = op_uses_bulk(req->op), rc;
    void (*hook)(void *);
    void *arg;

    if (bulk)
        ctl_bulk_hold(c);
    pthread_mutex_lock(&c->call_lock);
    drained_kicks = 0;
    call_kicks = 0;
    int64_t t0 = now_ns();
    rc = call_locked(c, req, rsp, timeout_ms, err, errlen);
    pthread_mutex_lock(&c->ring_lock);
    c->sync_id = 0;                 /* a late answer (abandoned) is dropped as stale */
    c->sync_answered = 0;
    pthread_mutex_unlock(&c->ring_lock);
    if (req->op < PVCTL_OP_MAX) {
        c->stats[req->op].calls++;
        c->stats[req->op].ns += (uint64_t)(now_ns() - t0);
        c->stats[req->op].kicks += call_kicks;
    }
    hook = c->on_kicks;
    arg = c->kick_arg;
    pthread_mutex_unlock(&c->call_lock);
    /* the loop may have async calls waiting for the ring or the bulk area
     * this call had: tell it as if a kick came */
    pthread_mutex_lock(&c->ring_lock);
    if (c->async)
        drained_kicks = 1;
    pthread_mutex_unlock(&c->ring_lock);
    if (bulk)
        ctl_bulk_release(c);
    /* a kick this call ate may have been for someone else's port, and an
     * answer it took may have been an async call's */
    if (hook && drained_kicks)
        hook(arg);
    return rc;
}

static int call_locked(struct ctl *c, struct pvctl_request *req, struct pvctl_response *rsp,
                       unsigned int timeout_ms, char *err, size_t errlen)
{
    int64_t deadline = deadline_after(timeout_ms);
    int bulk = op_uses_bulk(req->op);
    int rc;

    req->id = 0;
    if (c->ring.blk->boot_id != c->boot_id)
        return dom0_fail(err, errlen, ESTALE, "control request %s: the machine rebooted "
                         "(boot id %#llx, attached to %#llx); attach again",
                         ctl_op_name(req->op), (unsigned long long)c->ring.blk->boot_id,
                         (unsigned long long)c->boot_id);
    /* A slot, and for bulk ops a quiet ring; stale answers are consumed. */
    for (;;) {
        int taken, kept = 0;
        pthread_mutex_lock(&c->ring_lock);
        taken = take_locked(c, 0, NULL, &kept);
        rc = taken < 0 ? -EPROTO
             : !bulk || ctl_ring_unanswered(&c->ring) == 0 ? ctl_ring_push(&c->ring, req) : -EAGAIN;
        if (rc == 0) {
            c->sync_id = req->id;   /* whoever takes its answer keeps it (call_lock is ours) */
            c->sync_answered = 0;
        }
        pthread_mutex_unlock(&c->ring_lock);
        if (kept)
            drained_kicks = 1;
        if (taken < 0)
            return call_failed(c, -EPROTO, req, "response ring corrupt", timeout_ms, err, errlen);
        if (rc == 0)
            break;
        if (rc != -EAGAIN)
            return call_failed(c, rc, req, "request ring corrupt", timeout_ms, err, errlen);
        if (now_ns() >= deadline)
            return call_failed(c, -ETIMEDOUT, req, bulk ? "earlier requests still unanswered"
                               : "request ring full", timeout_ms, err, errlen);
        if ((rc = wait_doorbell(c, deadline, err, errlen)) < 0)
            return call_failed(c, rc, req, "doorbell", timeout_ms, err, errlen);
    }
    if ((rc = machine_kick(c->m, err, errlen)) < 0)
        return call_failed(c, rc, req, "doorbell", timeout_ms, err, errlen);
    call_kicks++;
    int64_t next_kick = now_ns() + CTL_REKICK_MS * 1000000ll;
    for (;;) {
        int kept = 0;
        pthread_mutex_lock(&c->ring_lock);
        rc = take_locked(c, req->id, rsp, &kept);
        pthread_mutex_unlock(&c->ring_lock);
        if (kept)
            drained_kicks = 1;
        if (rc < 0)
            return call_failed(c, rc, req, "response ring corrupt", timeout_ms, err, errlen);
        if (rc == 1)
            break;
        if (now_ns() >= deadline)
            return call_failed(c, -ETIMEDOUT, req, "no response", timeout_ms, err, errlen);
        /* A kick can be lost (the hypervisor's doorbell interrupt is an
         * edge): ring again while no answer comes. */
        if (now_ns() >= next_kick) {
            if ((rc = machine_kick(c->m, err, errlen)) < 0)
                return call_failed(c, rc, req, "doorbell", timeout_ms, err, errlen);
            call_kicks++;
            next_kick = now_ns() + CTL_REKICK_MS * 1000000ll;
        }
        if ((rc = wait_doorbell(c, deadline, err, errlen)) < 0)
            return call_failed(c, rc, req, "doorbell", timeout_ms, err, errlen);
    }
    if (rsp->status > 0 || rsp->status < -4095)
        return dom0_fail(err, errlen, EPROTO, "control request %s (id %llu): response status "
                         "%d is not 0 or a negative errno", ctl_op_name(req->op),
                         (unsigned long long)req->id, rsp->status);
    if (rsp->status < 0)
        return dom0_fail(err, errlen, -rsp->status, "%s (%d, from the hypervisor)",
                         strerror(-rsp->status), rsp->status);
    return 0;
}

int ctl_post(struct ctl *c, struct pvctl_request *req, char *err, size_t errlen)
{
    struct pvctl_response rsp;
    int rc;

    if (op_uses_bulk(req->op))
        return dom0_fail(err, errlen, EINVAL, "control request %s uses the bulk area: it cannot be "
                         "posted", ctl_op_name(req->op));
    req->id = 0;
    if (c->ring.blk->boot_id != c->boot_id)
        return dom0_fail(err, errlen, ESTALE, "control request %s: the machine rebooted",
                         ctl_op_name(req->op));
    /* Answers nobody waits for fill the response ring, and the hypervisor
     * stops serving requests (posted ones too) while it is full: take them
     * here, unless a call is in flight (it takes them while it waits for
     * its own, which may be among them). Lock order: call, then ring. */
    int idle = pthread_mutex_trylock(&c->call_lock) == 0;
    int taken = 0, kept = 0;
    pthread_mutex_lock(&c->ring_lock);
    if (idle)
        taken = take_locked(c, 0, NULL, &kept);
    req->op |= PVCTL_OP_POSTED;             /* its answer rings no doorbell */
    rc = taken < 0 ? -EPROTO : ctl_ring_push(&c->ring, req);
    req->op &= ~PVCTL_OP_POSTED;
    pthread_mutex_unlock(&c->ring_lock);
    if (idle)
        pthread_mutex_unlock(&c->call_lock);
    if (kept)
        run_hook(c);
    if (taken < 0)
        return dom0_fail(err, errlen, EPROTO, "control request %s: response ring corrupt",
                         ctl_op_name(req->op));
    if (rc == -EAGAIN)      /* the ring is full: wait for room like a call */
        return ctl_call(c, req, &rsp, c->timeout_ms, err, errlen);
    if (rc < 0)
        return dom0_fail(err, errlen, -rc, "control request %s: request ring corrupt",
                         ctl_op_name(req->op));
    return machine_kick(c->m, err, errlen) < 0 ? -EPIPE : 0;
}

/* ---- asynchronous calls (the loop's; see ctl.h and the top) ---- */

/* Push the queued calls in order while the ring takes them, then kick
 * once. A bulk op goes once the bulk area is free and the ring quiet;
 * the plain ops behind it do not wait for it. 0, or a transport error
 * with err. */
static int push_queued(struct ctl *c, char *err, size_t errlen)
{
    struct ctl_pending *p;
    int held = 0, pushed = 0, rc = 0, bulk_blocked = 0;

    pthread_mutex_lock(&c->ring_lock);
    for (p = c->async; p; p = p->next) {
        if (p->state != P_QUEUED || (p->bulk && (bulk_blocked || c->bulk_reserved)))
            continue;
        if (p->bulk && !held) {
            /* trylock under ring_lock: it cannot wait (see the top) */
            if (pthread_mutex_trylock(&c->bulk_lock) != 0) {
                __atomic_store_n(&c->bulk_wanted, 1, __ATOMIC_RELEASE);
                bulk_blocked = 1;
                continue;
            }
            held = 1;
        }
        /* a bulk op waits for a quiet ring; plain ops behind it go on
         * (bulk ops keep their order among themselves) */
        if (p->bulk && (c->bulk_async || ctl_ring_unanswered(&c->ring))) {
            bulk_blocked = 1;
            continue;
        }
        if (p->bulk && p->call.fill)
            p->call.fill(p->call.arg, c->ring.blk->bulk);
        rc = ctl_ring_push(&c->ring, &p->call.req);
        if (rc == -EAGAIN) {
            rc = 0;
            break;
        }
        if (rc < 0) {
            rc = dom0_fail(err, errlen, EPROTO, "control request %s: request ring corrupt",
                           ctl_op_name(p->call.req.op));
            break;
        }
        p->state = P_SENT;
        if (p->bulk)
            c->bulk_async = p->call.req.id;
        pushed++;
    }
    pthread_mutex_unlock(&c->ring_lock);
    if (held)
        pthread_mutex_unlock(&c->bulk_lock);    /* bulk_async owns the area now */
    if (pushed && rc == 0) {
        if (machine_kick(c->m, err, errlen) < 0)
            return -EPIPE;
        c->next_kick = now_ns() + CTL_REKICK_MS * 1000000ll;
    }
    return rc;
}

int ctl_submit(struct ctl *c, const struct ctl_async_call *call, uint64_t *ticket,
               char *err, size_t errlen)
{
    struct ctl_pending *p;
    char why[300];

    if (!call->done || call->req.op >= PVCTL_OP_MAX)
        return dom0_fail(err, errlen, EINVAL, "control request %s: cannot be submitted (%s)",
                         ctl_op_name(call->req.op), call->done ? "unknown op" : "no done");
    if (c->ring.blk->boot_id != c->boot_id)
        return dom0_fail(err, errlen, ESTALE, "control request %s: the machine rebooted",
                         ctl_op_name(call->req.op));
    p = calloc(1, sizeof(*p));
    if (!p)
        return dom0_fail(err, errlen, ENOMEM, "control request %s: out of memory",
                         ctl_op_name(call->req.op));
    p->call = *call;
    p->call.req.id = 0;
    if (!p->call.timeout_ms)
        p->call.timeout_ms = c->timeout_ms;
    p->ticket = ++c->next_ticket;
    p->bulk = op_uses_bulk(call->req.op);
    p->state = P_QUEUED;
    p->deadline = deadline_after(p->call.timeout_ms);
    pthread_mutex_lock(&c->ring_lock);
    if (c->async_tail)
        c->async_tail->next = p;
    else
        c->async = p;
    c->async_tail = p;
    pthread_mutex_unlock(&c->ring_lock);
    *ticket = p->ticket;
    push_queued(c, why, sizeof(why));   /* a failure is the next poll's */
    return 0;
}

/* done of a call whose answer came: the hypervisor's status as rc. */
static void finish_answered(struct ctl_pending *p)
{
    const struct pvctl_response *r = &p->rsp;
    char err[300] = "";
    int rc = 0;

    if (r->status > 0 || r->status < -4095)
        rc = dom0_fail(err, sizeof(err), EPROTO, "control request %s (id %llu): response status "
                       "%d is not 0 or a negative errno", ctl_op_name(p->call.req.op),
                       (unsigned long long)p->call.req.id, r->status);
    else if (r->status < 0)
        rc = dom0_fail(err, sizeof(err), -r->status, "control request %s (id %llu): %s (%d, "
                       "from the hypervisor)", ctl_op_name(p->call.req.op),
                       (unsigned long long)p->call.req.id, strerror(-r->status), r->status);
    p->call.done(p->call.arg, rc, r, err);
}

void ctl_async_fail_all(struct ctl *c, int rc, const char *why)
{
    struct ctl_pending *list, *p;
    char err[600];

    pthread_mutex_lock(&c->ring_lock);
    list = c->async;
    c->async = c->async_tail = NULL;
    c->bulk_async = 0;
    pthread_mutex_unlock(&c->ring_lock);
    while ((p = list)) {
        list = p->next;
        if (p->state != P_GHOST) {
            dom0_format(err, sizeof(err), "control request %s (id %llu): %s",
                        ctl_op_name(p->call.req.op), (unsigned long long)p->call.req.id, why);
            p->call.done(p->call.arg, rc, NULL, err);
        }
        free(p);
    }
}

int ctl_async_poll(struct ctl *c, char *err, size_t errlen)
{
    int kept = 0, rc, sent = 0;
    int64_t now;

    if (c->ring.blk->boot_id != c->boot_id) {
        rc = dom0_fail(err, errlen, ESTALE, "the machine rebooted (boot id %#llx, attached to "
                       "%#llx)", (unsigned long long)c->ring.blk->boot_id,
                       (unsigned long long)c->boot_id);
        ctl_async_fail_all(c, rc, err);
        return rc;
    }
    pthread_mutex_lock(&c->ring_lock);
    rc = take_locked(c, 0, NULL, &kept);
    pthread_mutex_unlock(&c->ring_lock);
    if (rc < 0)
        rc = dom0_fail(err, errlen, EPROTO, "response ring corrupt");
    else
        rc = push_queued(c, err, errlen);
    if (rc < 0) {
        ctl_async_fail_all(c, rc, err);
        return rc;
    }
    /* finish what was answered or waited too long, one at a time: done
     * runs without a lock and may submit again */
    now = now_ns();
    for (;;) {
        struct ctl_pending **pp, *p;
        struct ctl_async_call call;
        enum pending_state was;
        char why[600];

        pthread_mutex_lock(&c->ring_lock);
        for (pp = &c->async; (p = *pp); pp = &p->next)
            if (p->state == P_ANSWERED || ((p->state == P_QUEUED || p->state == P_SENT) &&
                                           now >= p->deadline))
                break;
        if (!p) {
            for (p = c->async; p && !sent; p = p->next)
                sent = p->state == P_SENT || p->state == P_GHOST;
            pthread_mutex_unlock(&c->ring_lock);
            break;
        }
        was = p->state;
        call = p->call;
        if (was == P_SENT) {
            /* its answer may still come: a ghost swallows it (and keeps
             * the bulk area for a bulk op until then) */
            p->state = P_GHOST;
            p->call.done = NULL;
            p->call.collect = NULL;
            p->call.fill = NULL;
            p->call.arg = NULL;
        } else {
            unlink_pending(c, pp, p);
        }
        pthread_mutex_unlock(&c->ring_lock);
        if (was == P_ANSWERED) {
            finish_answered(p);
        } else {
            char st[80];
            dom0_format(st, sizeof(st), "%s", was == P_SENT ? "no response"
                        : "never sent: the ring or the bulk area stayed busy");
            call_failed(c, -ETIMEDOUT, &call.req, st, call.timeout_ms, why, sizeof(why));
            call.done(call.arg, -ETIMEDOUT, NULL, why);
        }
        if (was != P_SENT)
            free(p);
    }
    /* a kick can be lost: ring again while something is unanswered */
    if (sent && now_ns() >= c->next_kick) {
        if (machine_kick(c->m, err, errlen) < 0) {
            ctl_async_fail_all(c, -EPIPE, "the doorbell is closed");
            return -EPIPE;
        }
        c->next_kick = now_ns() + CTL_REKICK_MS * 1000000ll;
    }
    return 0;
}

void ctl_async_cancel(struct ctl *c, uint64_t ticket)
{
    struct ctl_pending **pp, *p;

    pthread_mutex_lock(&c->ring_lock);
    for (pp = &c->async; (p = *pp); pp = &p->next)
        if (p->ticket == ticket && p->state != P_GHOST)
            break;
    if (p && p->state == P_SENT) {
        p->state = P_GHOST;
        p->call.done = NULL;
        p->call.collect = NULL;
        p->call.fill = NULL;
        p->call.arg = NULL;
    } else if (p) {
        unlink_pending(c, pp, p);
        free(p);
    }
    pthread_mutex_unlock(&c->ring_lock);
}

unsigned int ctl_async_pending(struct ctl *c)
{
    unsigned int n = 0;

    pthread_mutex_lock(&c->ring_lock);
    for (struct ctl_pending *p = c->async; p; p = p->next)
        n += p->state != P_GHOST;
    pthread_mutex_unlock(&c->ring_lock);
    return n;
}
