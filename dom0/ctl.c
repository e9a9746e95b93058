/*
 * ctl.c - the control client's transport: attaching to the control block
 * of a machine and the synchronous call over its rings and doorbell.
 *
 * Owns: struct ctl (the mapped block, Domain 0's shared_info, the ring
 * state and the call timeout). The machine handle is borrowed.
 * Invariants: at most one request of this process is in the ring at a
 * time (ctl_call returns only once it is answered or abandoned); an
 * abandoned request's late answer is skipped by id like any stale one.
 * Threads: any thread may call. Lock order: bulk_lock (recursive: held by
 * a bulk op's wrapper across its copies, or by ctl_bulk_hold across many
 * calls) before call_lock (held for one awaited request, from its push to
 * its answer) before ring_lock (held only to push or take, so that a
 * posted request, ctl_post, never waits for an awaited one's answer).
 * The kick hook runs after all are released.
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
    pthread_mutex_destroy(&c->call_lock);
    pthread_mutex_destroy(&c->bulk_lock);
    pthread_mutex_destroy(&c->ring_lock);
    free(c);
}

void ctl_set_kick_hook(struct ctl *c, void (*fn)(void *arg), void *arg)
{
    pthread_mutex_lock(&c->call_lock);
    c->on_kicks = fn;
    c->kick_arg = arg;
    pthread_mutex_unlock(&c->call_lock);
}

void ctl_bulk_hold(struct ctl *c)
{
    pthread_mutex_lock(&c->bulk_lock);
}

void ctl_bulk_release(struct ctl *c)
{
    pthread_mutex_unlock(&c->bulk_lock);
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
        pthread_mutex_lock(&c->bulk_lock);
    pthread_mutex_lock(&c->call_lock);
    drained_kicks = 0;
    call_kicks = 0;
    int64_t t0 = now_ns();
    rc = call_locked(c, req, rsp, timeout_ms, err, errlen);
    if (req->op < PVCTL_OP_MAX) {
        c->stats[req->op].calls++;
        c->stats[req->op].ns += (uint64_t)(now_ns() - t0);
        c->stats[req->op].kicks += call_kicks;
    }
    hook = drained_kicks ? c->on_kicks : NULL;
    arg = c->kick_arg;
    pthread_mutex_unlock(&c->call_lock);
    if (bulk)
        pthread_mutex_unlock(&c->bulk_lock);
    /* a kick this call ate may have been for someone else's port */
    if (hook)
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
        int taken;
        pthread_mutex_lock(&c->ring_lock);
        taken = ctl_ring_take(&c->ring, 0, NULL, NULL);
        rc = taken < 0 ? -EPROTO
             : !bulk || ctl_ring_unanswered(&c->ring) == 0 ? ctl_ring_push(&c->ring, req) : -EAGAIN;
        pthread_mutex_unlock(&c->ring_lock);
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
        pthread_mutex_lock(&c->ring_lock);
        rc = ctl_ring_take(&c->ring, req->id, rsp, NULL);
        pthread_mutex_unlock(&c->ring_lock);
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
    int taken = 0;
    pthread_mutex_lock(&c->ring_lock);
    if (idle)
        taken = ctl_ring_take(&c->ring, 0, NULL, NULL);
    rc = taken < 0 ? -EPROTO : ctl_ring_push(&c->ring, req);
    pthread_mutex_unlock(&c->ring_lock);
    if (idle)
        pthread_mutex_unlock(&c->call_lock);
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
