/*
 * ctl.h - the control client: Domain 0's end of the control interface
 * (hypervisor/include/public/pvcore_ctl.h) on a machine from machine.h.
 *
 * ctl_attach finds the anchor the hypervisor wrote at PVCTL_ANCHOR_PADDR,
 * checks it and the block it names (magic, version, size), and maps the
 * block and Domain 0's shared_info. A later process attaches to the same
 * block: its request ids continue above every id still in the slots, so
 * answers to a dead process's requests are skipped, never mistaken.
 *
 * ctl_call is synchronous: one request in the ring, a kick, then it waits
 * on the doorbell (re-checking the ring every CTL_RECHECK_MS even without a
 * kick) for the response with its id, at most timeout_ms. It never hangs:
 * -ETIMEDOUT names the op and the machine's state, -EPIPE means QEMU
 * closed the doorbell, -ESTALE means the machine rebooted (boot_id
 * changed). A request that uses the bulk area first waits until no other
 * request is unanswered (the bulk area belongs to one request at a time).
 * ctl_call drains doorbell kicks: after it, an event loop checks
 * ctl_pending_ports() rather than rely on a kick it may have eaten.
 *
 * ctl_submit is the event loop's call: it never waits (see "asynchronous
 * calls" below); the answer is taken by whoever drains the response ring
 * and completed in the loop's ctl_async_poll, which pvd runs on every
 * doorbell kick, wake of its control thread and tick.
 *
 * Threads: ctl_call may be called from several threads at once; awaited
 * calls are serialized (one of this process in the ring at a time;
 * posted and async ones may be beside it). A bulk op's wrapper holds the
 * bulk area from its first copy in to its last copy out; ctl_bulk_hold
 * keeps it across several calls, ctl_bulk_try_hold without waiting (the
 * loop's: netback's copy window lives in the bulk area between its grant
 * copies); an async bulk op owns it from its push until its answer is
 * taken. The kick hook (ctl_set_kick_hook) runs in the calling thread
 * after a call that drained doorbell kicks or took an async call's
 * answer, and after a release of the bulk area the loop wanted, so that
 * the loop looks at its ports and completes its calls.
 *
 * Typed wrappers (ctl_ops.c) fill one request each and name the domain,
 * port or handle in their error message. Errors: negative errno + one line
 * in err (dom0_error.h); a refusal by the hypervisor returns its status.
 */
#ifndef DOM0_CTL_H
#define DOM0_CTL_H

#include <stddef.h>
#include <stdint.h>

#include <public/grant_table.h>
#include <public/pvcore_ctl.h>

struct machine;
struct ctl;

#define CTL_DEFAULT_TIMEOUT_MS 5000u
/* How long a waiting call may sleep without a kick: pvd's loop drains the
 * same doorbell and takes answers too (async calls), keeping a waiting
 * call's answer for it without waking it, so this bounds that call's extra
 * latency (20 ms made each of a build's calls cost up to 20 ms). */
#define CTL_RECHECK_MS 2
/* Ring the doorbell again this often while a request is unanswered. */
#define CTL_REKICK_MS 100

/* Attach to the control block of machine m, waiting up to timeout_ms for
 * the hypervisor to announce it. -ETIMEDOUT (no anchor / block yet),
 * -EPROTONOSUPPORT (version), -EPROTO (inconsistent), -ENOMEM. The handle
 * does not own m: close it before the machine. */
int ctl_attach(struct machine *m, unsigned int timeout_ms, struct ctl **out,
               char *err, size_t errlen);
void ctl_close(struct ctl *c);              /* NULL is accepted */

struct machine *ctl_machine(const struct ctl *c);
uint64_t ctl_boot_id(const struct ctl *c);
/* Timeout ctl_ops.c uses for its calls (default CTL_DEFAULT_TIMEOUT_MS). */
void ctl_set_timeout(struct ctl *c, unsigned int timeout_ms);
unsigned int ctl_timeout(const struct ctl *c);

/* Send req (its id is assigned here) and wait for its response. Returns
 * rsp->status (0 or a negative errno from the hypervisor) or a transport
 * error as above; err says which. req->op and req->size are sent as given:
 * the hypervisor checks them. */
int ctl_call(struct ctl *c, struct pvctl_request *req, struct pvctl_response *rsp,
             unsigned int timeout_ms, char *err, size_t errlen);

/* Send req without waiting for its answer (which the next call skips as
 * stale): for notifications whose result nobody acts on, so that a loop
 * never waits behind another thread's long call. Not for bulk ops. 0 once
 * it is in the ring (its refusal, if any, is not reported). It goes
 * with PVCTL_OP_POSTED, so its answer rings no doorbell: the hypervisor
 * kicks Domain 0 only for answers someone waits for. */
int ctl_post(struct ctl *c, struct pvctl_request *req, char *err, size_t errlen);

/* ---- asynchronous calls (for an event loop: nothing here waits) ----
 *
 * ctl_submit puts a request in the ring and returns at once; when the
 * ring is full, or a bulk op finds the bulk area or the ring busy, the
 * request is queued inside ctl and pushed by a later ctl_async_poll, in
 * the order submitted (a plain op does not wait behind a queued bulk op;
 * bulk ops keep their order). Whoever takes responses from the ring (a
 * ctl_call of any thread, or ctl_async_poll) keeps an async call's
 * answer for it (a bulk op's collect copies its results out of the bulk
 * area right then, under ctl's lock, so that the area is free again) and
 * the kick hook runs, so that the loop polls. done(arg, rc, rsp, err)
 * runs in ctl_async_poll, on the thread that polls (the loop), exactly
 * once per call that was not cancelled: rc 0 or the hypervisor's
 * negative status (rsp is its response), or a transport error naming
 * the op: -ETIMEDOUT after timeout_ms without an answer, -EPIPE (the
 * doorbell closed), -ESTALE (the machine rebooted), -EPROTO (a corrupt
 * ring). done may submit again; it must not call ctl_call.
 * Calls for one ctl are submitted, polled, cancelled and failed on one
 * thread (the loop); their answers may be taken by any thread. */
struct ctl_async_call {
    struct pvctl_request req;       /* op, size and payload (id assigned by ctl) */
    /* bulk ops: write the bulk area just before the push (may be NULL) */
    void (*fill)(void *arg, void *bulk);
    /* bulk ops: copy the results out as the answer is taken: any thread,
     * under ctl's lock, memory copies only (may be NULL) */
    void (*collect)(void *arg, const void *bulk, const struct pvctl_response *rsp);
    void (*done)(void *arg, int rc, const struct pvctl_response *rsp, const char *err);
    void *arg;                      /* valid until done ran or the call was cancelled */
    unsigned int timeout_ms;        /* 0: ctl_timeout(c) */
};
/* 0 and *ticket (never 0; for ctl_async_cancel), or a negative errno with
 * err when nothing was submitted (-ESTALE, -ENOMEM, -EINVAL for an op
 * beyond the table): done is then not called. */
int ctl_submit(struct ctl *c, const struct ctl_async_call *call, uint64_t *ticket,
               char *err, size_t errlen);
/* Push what is queued, take answers, re-kick, time out, and run the
 * done of every finished call. 0, or the transport error (-EPIPE,
 * -ESTALE, -EPROTO) that failed every call (err says which); a timed-out
 * call alone is no error of the poll. */
int ctl_async_poll(struct ctl *c, char *err, size_t errlen);
/* done is never called for this ticket after this returns (a no-op for a
 * ticket that is finished). An answer still to come is taken and
 * dropped, and a bulk op keeps the bulk area until then. */
void ctl_async_cancel(struct ctl *c, uint64_t ticket);
/* Every call not finished fails now: done(rc, why) for each (the machine
 * is lost). */
void ctl_async_fail_all(struct ctl *c, int rc, const char *why);
/* Calls submitted and not yet finished (their done not yet run). */
unsigned int ctl_async_pending(struct ctl *c);

/* The async bulk ops (ctl_ops.c): a caller-owned record (e.g. inside
 * the request it serves), untouched by ctl once done ran or the call was
 * cancelled (ctl_async_cancel(c, k->ticket)). The entries are copied to
 * the bulk area as the request is pushed and back as its answer is
 * taken (statuses filled, as the synchronous wrappers do); done(k, rc,
 * err) runs in ctl_async_poll: rc 0 (look at each entry), or the call's
 * error with err naming it ("map a batch of 3 grants (...): ..."). */
struct ctl_bulk_call {
    void (*done)(struct ctl_bulk_call *k, int rc, const char *err);
    void *arg;                      /* the caller's */
    uint64_t ticket;                /* while submitted (0 once done ran) */
    void *entries;
    size_t n, size;
    uint32_t port;                  /* the event-channel ops': the port bound */
    char what[96];
};
int ctl_submit_grant_map_batch(struct ctl *c, struct ctl_bulk_call *k, struct pvctl_grant_map_entry *e,
                               size_t n, char *err, size_t errlen);
int ctl_submit_grant_unmap_batch(struct ctl *c, struct ctl_bulk_call *k, struct pvctl_grant_unmap_entry *e,
                                 size_t n, char *err, size_t errlen);
int ctl_submit_grant_copy(struct ctl *c, struct ctl_bulk_call *k, struct gnttab_copy *ops, size_t n,
                          char *err, size_t errlen);
/* The backends' connect and disconnect, asynchronous: the same record
 * (no entries); done(k, rc, err), k->port the Domain 0 port bound. */
int ctl_submit_evtchn_bind_interdomain(struct ctl *c, struct ctl_bulk_call *k, uint32_t remote_domid,
                                       uint32_t remote_port, char *err, size_t errlen);
int ctl_submit_evtchn_close(struct ctl *c, struct ctl_bulk_call *k, uint32_t port, char *err, size_t errlen);

/* Hold the bulk area without waiting (the loop's ctl_bulk_hold): 1 when
 * held (release with ctl_bulk_release), 0 when another thread holds it
 * or waits for it (the kick hook then runs once it is released), or an
 * async bulk op is in flight (its answer wakes the loop; meanwhile no new
 * async bulk op is pushed, so that the next try gets it). */
int ctl_bulk_try_hold(struct ctl *c);

/* fn(arg) after a call drained doorbell kicks (any thread; fn must be
 * safe to call from any thread, e.g. write an eventfd). */
void ctl_set_kick_hook(struct ctl *c, void (*fn)(void *arg), void *arg);
/* Hold the bulk area across several calls (recursive; release as often
 * as held). Take it before no other lock of the caller's that a control
 * call's thread may hold. */
void ctl_bulk_hold(struct ctl *c);
void ctl_bulk_release(struct ctl *c);

/* The bulk area: written before and read after a bulk call, valid until
 * the next call. */
void *ctl_bulk(struct ctl *c);
/* The bulk area's machine address: Domain 0's grant-copy window (a
 * DOMID_SELF side of ctl_grant_copy may name its frames). */
uint64_t ctl_bulk_maddr(const struct ctl *c);

/* What this handle's calls cost, per op (answered or failed alike):
 * calls made, the time from the push to the answer (or the failure), and
 * how many doorbell kicks they sent (the first, and any re-kicks after
 * CTL_REKICK_MS without an answer). For benchmarks and diagnostics;
 * ctl_stats_reset zeroes them. */
struct ctl_op_stats {
    uint64_t calls, ns, kicks;
};
void ctl_stats(struct ctl *c, struct ctl_op_stats out[PVCTL_OP_MAX]);
void ctl_stats_reset(struct ctl *c);

/* The name of an op ("CREATE_DOMAIN"), "op N" for unknown ones. */
const char *ctl_op_name(uint32_t op);

/* Test-and-clear Domain 0's pending event-channel ports (at most max). */
size_t ctl_pending_ports(struct ctl *c, uint32_t *ports, size_t max);

/* ---- typed wrappers (ctl_ops.c) ---- */
int ctl_nop(struct ctl *c, char *err, size_t errlen);
int ctl_machine_info(struct ctl *c, struct pvctl_machine_info *info, char *err, size_t errlen);
/* CREATE_DOMAIN, then POPULATE until the whole reservation is there (a
 * failed step destroys the domain again). *shared_info_maddr: the new
 * domain's shared_info frame, which its start_info must name. */
int ctl_create_domain(struct ctl *c, const struct pvctl_create *cr, uint32_t *domid,
                      uint64_t *shared_info_maddr, char *err, size_t errlen);
/* mfns[0..count) = the frames of pfns [start, start + count), in as many
 * requests as the bulk area needs. */
int ctl_get_frames(struct ctl *c, uint32_t domid, uint64_t start, uint64_t count,
                   uint64_t *mfns, char *err, size_t errlen);
int ctl_set_vcpu_context(struct ctl *c, const struct pvctl_vcpu_context *ctx,
                         char *err, size_t errlen);
int ctl_set_console(struct ctl *c, const struct pvctl_set_console *sc, char *err, size_t errlen);
int ctl_unpause(struct ctl *c, uint32_t domid, char *err, size_t errlen);
int ctl_pause(struct ctl *c, uint32_t domid, char *err, size_t errlen);
int ctl_shutdown(struct ctl *c, uint32_t domid, uint32_t reason, char *err, size_t errlen);
int ctl_destroy(struct ctl *c, uint32_t domid, char *err, size_t errlen);
int ctl_get_info(struct ctl *c, uint32_t domid, struct pvctl_domain_info *info,
                 char *err, size_t errlen);
/* Up to max domains into out; *nr = how many the hypervisor listed
 * (-ENOSPC when that is more than max; out holds the first max). */
int ctl_list_domains(struct ctl *c, struct pvctl_domain_info *out, size_t max, size_t *nr,
                     char *err, size_t errlen);
int ctl_set_max_mem(struct ctl *c, uint32_t domid, uint64_t max_pages, char *err, size_t errlen);
/* Pin (level 1-4) or unpin a page table of domain domid on its behalf. */
int ctl_pin_table(struct ctl *c, uint32_t domid, uint64_t mfn, unsigned int level,
                  char *err, size_t errlen);
int ctl_unpin_table(struct ctl *c, uint32_t domid, uint64_t mfn, char *err, size_t errlen);
int ctl_set_sched(struct ctl *c, uint32_t domid, uint32_t weight, uint32_t cap,
                  char *err, size_t errlen);
int ctl_evtchn_alloc_unbound(struct ctl *c, uint32_t remote_domid, uint32_t *port,
                             char *err, size_t errlen);
/* A new port of domain domid's own, bound to a new Domain 0 port: what
 * start_info carries (*guest_port) and what Domain 0 listens on. */
int ctl_evtchn_connect(struct ctl *c, uint32_t domid, uint32_t *guest_port,
                       uint32_t *dom0_port, char *err, size_t errlen);
int ctl_evtchn_bind_interdomain(struct ctl *c, uint32_t remote_domid, uint32_t remote_port,
                                uint32_t *port, char *err, size_t errlen);
int ctl_evtchn_send(struct ctl *c, uint32_t port, char *err, size_t errlen);
/* The same, posted (ctl_post): errors of the send itself are not seen. */
int ctl_evtchn_notify(struct ctl *c, uint32_t port, char *err, size_t errlen);
int ctl_evtchn_close(struct ctl *c, uint32_t port, char *err, size_t errlen);
/* flags: GNTMAP_readonly or 0. *mfn: the granted frame (map it with
 * machine_phys(m, mfn << 12, 4096) while the grant is mapped). */
int ctl_grant_map(struct ctl *c, uint32_t domid, uint32_t gref, uint32_t flags,
                  uint64_t *mfn, uint32_t *handle, char *err, size_t errlen);
int ctl_grant_unmap(struct ctl *c, uint32_t handle, char *err, size_t errlen);
/* e[0..n), 1 <= n <= PVCTL_GRANT_BATCH_MAX, in one call: domid, gref and
 * flags in; each entry's status (0 or the errno ctl_grant_map would have
 * returned for it), mfn and handle out. 0 once every entry has its
 * status (a refused entry fails alone: look at each), or the call's
 * error (-E2BIG beyond the bound, a transport error: no entry was done). */
int ctl_grant_map_batch(struct ctl *c, struct pvctl_grant_map_entry *e, size_t n, char *err, size_t errlen);
/* The same for unmaps: e[i].handle in, e[i].status out. */
int ctl_grant_unmap_batch(struct ctl *c, struct pvctl_grant_unmap_entry *e, size_t n, char *err, size_t errlen);
/* ops[0..n): copied to the bulk area and back (status fields filled). */
int ctl_grant_copy(struct ctl *c, struct gnttab_copy *ops, size_t n, char *err, size_t errlen);
/* Hypervisor console text from index `from` into buf (NUL-terminated);
 * *next: the index to continue from, *lost: bytes that were overwritten
 * before they could be read. */
int ctl_console_read(struct ctl *c, uint64_t from, char *buf, size_t buflen, size_t *len,
                     uint64_t *next, uint64_t *lost, char *err, size_t errlen);

#endif
