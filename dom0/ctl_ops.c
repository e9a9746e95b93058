/*
 * ctl_ops.c - the typed control requests: one function per op, each
 * filling exactly the op's argument struct through the op's typed call
 * (generated from public/pvcore_ctl.h's table: op number and size), checking what the hypervisor returns against the
 * bulk area's bounds, and naming the domain / port / handle on failure.
 *
 * Owns nothing: every call goes through ctl_call (ctl.c).
 */
#include "ctl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dom0_error.h"

/* One request: op with `size` bytes of arg; on failure err becomes
 * "<what>: <why>", what formatted from fmt. */
static int call_opv(struct ctl *c, uint32_t op, const void *arg, uint32_t size,
                    struct pvctl_response *rsp, char *err, size_t errlen, const char *fmt,
                    va_list ap) __attribute__((format(printf, 8, 0)));

static int call_opv(struct ctl *c, uint32_t op, const void *arg, uint32_t size,
                    struct pvctl_response *rsp, char *err, size_t errlen, const char *fmt,
                    va_list ap)
{
    struct pvctl_request req;
    char why[1024], what[128];

    memset(&req, 0, sizeof(req));
    req.op = op;
    req.size = size;
    if (size)
        memcpy(req.u.raw, arg, size);
    int rc = ctl_call(c, &req, rsp, ctl_timeout(c), why, sizeof(why));
    if (!rc)
        return 0;
    vsnprintf(what, sizeof(what), fmt, ap);
    return dom0_fail(err, errlen, -rc, "%s: %s", what, why);
}

/* call_<name>(c, &request, &rsp, err, errlen, what...): one typed call per
 * op of public/pvcore_ctl.h's table; the op number and the payload size
 * come from the table, the payload's type is checked by the compiler. */
#define CALL_FN(NAME, name, number, request, reply, bulk, target)                              \
    static int call_##name(struct ctl *c, const request *arg, struct pvctl_response *rsp,     \
                           char *err, size_t errlen, const char *fmt, ...)                    \
        __attribute__((format(printf, 6, 7), unused));                                       \
    static int call_##name(struct ctl *c, const request *arg, struct pvctl_response *rsp,     \
                           char *err, size_t errlen, const char *fmt, ...)                    \
    {                                                                                         \
        va_list ap;                                                                           \
        va_start(ap, fmt);                                                                    \
        int rc = call_opv(c, PVCTL_OP_##NAME, arg, (uint32_t)sizeof(request), rsp, err,       \
                          errlen, fmt, ap);                                                   \
        va_end(ap);                                                                           \
        return rc;                                                                            \
    }
PVCTL_OPS(CALL_FN)

int ctl_nop(struct ctl *c, char *err, size_t errlen)
{
    struct pvctl_response rsp;

    return call_nop(c, NULL, &rsp, err, errlen, "control NOP");
}

int ctl_machine_info(struct ctl *c, struct pvctl_machine_info *info, char *err, size_t errlen)
{
    struct pvctl_response rsp;
    int rc = call_machine_info(c, NULL, &rsp, err, errlen, "machine info");

    if (!rc)
        *info = rsp.u.machine;
    return rc;
}

int ctl_create_domain(struct ctl *c, const struct pvctl_create *cr, uint32_t *domid,
                      uint64_t *shared_info_maddr, char *err, size_t errlen)
{
    struct pvctl_response rsp;
    /* CREATE_DOMAIN allocates (zeroed) the first PVCTL_POPULATE_PAGES
     * frames, each POPULATE the next as many: every call is short, so the
     * other callers of this client (the backends on pvd's loop) wait for
     * one step at most, never for a whole large domain. */
    int rc = call_create_domain(c, cr, &rsp, err, errlen,
                     "create domain '%.*s'", PVCTL_NAME_LEN, cr->name);

    if (rc)
        return rc;
    *domid = rsp.u.created.domid;
    *shared_info_maddr = rsp.u.created.shared_info;
    for (uint64_t left = rsp.u.created.unpopulated; left && !rc;) {
        struct pvctl_domid d = { .domid = *domid };
        rc = call_populate(c, &d, &rsp, err, errlen, "memory of domain %u ('%.*s'): %llu of "
                           "%llu pages to go", *domid, PVCTL_NAME_LEN, cr->name,
                           (unsigned long long)left, (unsigned long long)cr->mem_pages);
        if (!rc && rsp.u.populated.unpopulated >= left)
            rc = dom0_fail(err, errlen, EPROTO, "memory of domain %u: POPULATE left %llu of "
                           "%llu pages to go", *domid,
                           (unsigned long long)rsp.u.populated.unpopulated,
                           (unsigned long long)left);
        left = rc ? left : rsp.u.populated.unpopulated;
    }
    if (rc) {
        char ignored[200];
        ctl_destroy(c, *domid, ignored, sizeof(ignored));
    }
    return rc;
}

static int bulk_get_frames(struct ctl *c, uint32_t domid, uint64_t start, uint64_t count,
                   uint64_t *mfns, char *err, size_t errlen)
{
    const uint64_t per_call = PVCTL_BULK_SIZE / sizeof(uint64_t);

    for (uint64_t done = 0; done < count;) {
        struct pvctl_frames f = { .domid = domid, .start = start + done,
                                  .count = count - done < per_call ? count - done : per_call };
        struct pvctl_response rsp;
        int rc = call_get_frames(c, &f, &rsp, err, errlen,
                         "frames %llu-%llu of domain %u", (unsigned long long)f.start,
                         (unsigned long long)(f.start + f.count - 1), domid);
        if (rc)
            return rc;
        if (rsp.u.frames.count != f.count)
            return dom0_fail(err, errlen, EPROTO, "frames %llu-%llu of domain %u: the "
                             "hypervisor returned %llu frames", (unsigned long long)f.start,
                             (unsigned long long)(f.start + f.count - 1), domid,
                             (unsigned long long)rsp.u.frames.count);
        memcpy(mfns + done, ctl_bulk(c), f.count * sizeof(uint64_t));
        done += f.count;
    }
    return 0;
}

int ctl_set_vcpu_context(struct ctl *c, const struct pvctl_vcpu_context *ctx,
                         char *err, size_t errlen)
{
    struct pvctl_response rsp;

    return call_set_vcpu_context(c, ctx, &rsp, err, errlen,
                   "vCPU %u context of domain %u (entry %#llx, L4 mfn %#llx)", ctx->vcpu,
                   ctx->domid, (unsigned long long)ctx->rip, (unsigned long long)ctx->l4_mfn);
}

int ctl_set_console(struct ctl *c, const struct pvctl_set_console *sc, char *err, size_t errlen)
{
    struct pvctl_response rsp;

    return call_set_console(c, sc, &rsp, err, errlen,
                   "console of domain %u (pfn %llu, store pfn %llu)", sc->domid,
                   (unsigned long long)sc->console_pfn, (unsigned long long)sc->store_pfn);
}

typedef int domid_call(struct ctl *c, const struct pvctl_domid *arg, struct pvctl_response *rsp,
                       char *err, size_t errlen, const char *fmt, ...);

static int domain_op(struct ctl *c, domid_call *call, uint32_t domid, uint32_t arg,
                     const char *verb, char *err, size_t errlen)
{
    struct pvctl_domid d = { .domid = domid, .arg = arg };
    struct pvctl_response rsp;

    return call(c, &d, &rsp, err, errlen, "%s domain %u", verb, domid);
}

int ctl_unpause(struct ctl *c, uint32_t domid, char *err, size_t errlen)
{
    return domain_op(c, call_unpause, domid, 0, "unpause", err, errlen);
}

int ctl_pause(struct ctl *c, uint32_t domid, char *err, size_t errlen)
{
    return domain_op(c, call_pause, domid, 0, "pause", err, errlen);
}

int ctl_shutdown(struct ctl *c, uint32_t domid, uint32_t reason, char *err, size_t errlen)
{
    return domain_op(c, call_shutdown, domid, reason, "shut down", err, errlen);
}

int ctl_destroy(struct ctl *c, uint32_t domid, char *err, size_t errlen)
{
    return domain_op(c, call_destroy, domid, 0, "destroy", err, errlen);
}

int ctl_get_info(struct ctl *c, uint32_t domid, struct pvctl_domain_info *info,
                 char *err, size_t errlen)
{
    struct pvctl_domid d = { .domid = domid };
    struct pvctl_response rsp;
    int rc = call_get_info(c, &d, &rsp, err, errlen,
                     "info of domain %u", domid);

    if (!rc)
        *info = rsp.u.info;
    return rc;
}

static int bulk_list_domains(struct ctl *c, struct pvctl_domain_info *out, size_t max, size_t *nr,
                     char *err, size_t errlen)
{
    struct pvctl_response rsp;
    int rc = call_list_domains(c, NULL, &rsp, err, errlen, "list domains");

    if (rc)
        return rc;
    if (rsp.size > PVCTL_BULK_SIZE || rsp.size % sizeof(*out))
        return dom0_fail(err, errlen, EPROTO, "list domains: the hypervisor returned %u bytes, "
                         "not a whole number of %zu-byte entries within the bulk area",
                         rsp.size, sizeof(*out));
    *nr = rsp.size / sizeof(*out);
    memcpy(out, ctl_bulk(c), (*nr < max ? *nr : max) * sizeof(*out));
    if (*nr > max)
        return dom0_fail(err, errlen, ENOSPC, "list domains: %zu domains, room for %zu",
                         *nr, max);
    return 0;
}

int ctl_set_max_mem(struct ctl *c, uint32_t domid, uint64_t max_pages, char *err, size_t errlen)
{
    struct pvctl_set_max_mem m = { .domid = domid, .max_pages = max_pages };
    struct pvctl_response rsp;

    return call_set_max_mem(c, &m, &rsp, err, errlen,
                   "max memory of domain %u to %llu pages", domid, (unsigned long long)max_pages);
}

int ctl_set_sched(struct ctl *c, uint32_t domid, uint32_t weight, uint32_t cap,
                  char *err, size_t errlen)
{
    struct pvctl_set_sched s = { .domid = domid, .weight = weight, .cap = cap };
    struct pvctl_response rsp;

    return call_set_sched(c, &s, &rsp, err, errlen,
                   "scheduler weight %u cap %u for domain %u", weight, cap, domid);
}

int ctl_pin_table(struct ctl *c, uint32_t domid, uint64_t mfn, unsigned int level,
                  char *err, size_t errlen)
{
    struct pvctl_pin p = { .domid = domid, .level = level, .mfn = mfn };
    struct pvctl_response rsp;

    return call_pin_table(c, &p, &rsp, err, errlen,
                   "pin of mfn %#lx as L%u of domain %u", (unsigned long)mfn, level, domid);
}

int ctl_unpin_table(struct ctl *c, uint32_t domid, uint64_t mfn, char *err, size_t errlen)
{
    struct pvctl_pin p = { .domid = domid, .mfn = mfn };
    struct pvctl_response rsp;

    return call_unpin_table(c, &p, &rsp, err, errlen,
                   "unpin of mfn %#lx of domain %u", (unsigned long)mfn, domid);
}

int ctl_evtchn_alloc_unbound(struct ctl *c, uint32_t remote_domid, uint32_t *port,
                             char *err, size_t errlen)
{
    struct pvctl_evtchn e = { .domid = remote_domid };
    struct pvctl_response rsp;
    int rc = call_evtchn_alloc_unbound(c, &e, &rsp, err, errlen,
                     "unbound event channel for domain %u", remote_domid);

    if (!rc)
        *port = rsp.u.port;
    return rc;
}

int ctl_evtchn_connect(struct ctl *c, uint32_t domid, uint32_t *guest_port,
                       uint32_t *dom0_port, char *err, size_t errlen)
{
    struct pvctl_evtchn e = { .domid = domid };
    struct pvctl_response rsp;
    int rc = call_evtchn_connect(c, &e, &rsp, err, errlen,
                     "connected event channel for domain %u", domid);

    if (!rc) {
        *dom0_port = rsp.u.connect.port;
        *guest_port = rsp.u.connect.remote_port;
    }
    return rc;
}

int ctl_evtchn_bind_interdomain(struct ctl *c, uint32_t remote_domid, uint32_t remote_port,
                                uint32_t *port, char *err, size_t errlen)
{
    struct pvctl_evtchn e = { .domid = remote_domid, .port = remote_port };
    struct pvctl_response rsp;
    int rc = call_evtchn_bind_interdomain(c, &e, &rsp, err, errlen,
                     "bind to port %u of domain %u", remote_port, remote_domid);

    if (!rc)
        *port = rsp.u.port;
    return rc;
}

int ctl_evtchn_send(struct ctl *c, uint32_t port, char *err, size_t errlen)
{
    struct pvctl_evtchn e = { .port = port };
    struct pvctl_response rsp;

    return call_evtchn_send(c, &e, &rsp, err, errlen,
                   "send on Domain 0 port %u", port);
}

int ctl_evtchn_notify(struct ctl *c, uint32_t port, char *err, size_t errlen)
{
    struct pvctl_request req;
    struct pvctl_evtchn e = { .port = port };

    memset(&req, 0, sizeof(req));
    req.op = PVCTL_OP_EVTCHN_SEND;
    req.size = sizeof(e);
    memcpy(req.u.raw, &e, sizeof(e));
    return ctl_post(c, &req, err, errlen);
}

int ctl_evtchn_close(struct ctl *c, uint32_t port, char *err, size_t errlen)
{
    struct pvctl_evtchn e = { .port = port };
    struct pvctl_response rsp;

    return call_evtchn_close(c, &e, &rsp, err, errlen,
                   "close Domain 0 port %u", port);
}

int ctl_grant_map(struct ctl *c, uint32_t domid, uint32_t gref, uint32_t flags,
                  uint64_t *mfn, uint32_t *handle, char *err, size_t errlen)
{
    struct pvctl_grant_map g = { .domid = domid, .gref = gref, .flags = flags };
    struct pvctl_response rsp;
    int rc = call_grant_map(c, &g, &rsp, err, errlen,
                     "map grant %u of domain %u%s", gref, domid,
                     flags & GNTMAP_readonly ? " read-only" : "");

    if (!rc) {
        *mfn = rsp.u.grant.mfn;
        *handle = rsp.u.grant.handle;
    }
    return rc;
}

int ctl_grant_unmap(struct ctl *c, uint32_t handle, char *err, size_t errlen)
{
    struct pvctl_grant_map g = { .handle = handle };
    struct pvctl_response rsp;

    return call_grant_unmap(c, &g, &rsp, err, errlen,
                   "unmap grant handle %u", handle);
}

/* n entries of size bytes each into the bulk area, at most max of them
 * (else -E2BIG naming what); bulk_take copies them back after the call. */
static int bulk_put(struct ctl *c, const void *entries, size_t n, size_t size, size_t max, const char *what,
                    char *err, size_t errlen)
{
    if (n == 0)
        return dom0_fail(err, errlen, EINVAL, "%s: no entries", what);
    if (n > max)
        return dom0_fail(err, errlen, E2BIG, "%s: %zu entries, at most %zu per call", what, n, max);
    memcpy(ctl_bulk(c), entries, n * size);
    return 0;
}

static void bulk_take(struct ctl *c, void *entries, size_t n, size_t size)
{
    memcpy(entries, ctl_bulk(c), n * size);
}

static int bulk_grant_copy(struct ctl *c, struct gnttab_copy *ops, size_t n, char *err, size_t errlen)
{
    struct pvctl_grant_copy a = { .count = (uint32_t)n };
    struct pvctl_response rsp;
    int rc = bulk_put(c, ops, n, sizeof(*ops), PVCTL_BULK_SIZE / sizeof(*ops), "grant copy", err, errlen);

    if (rc)
        return rc;
    rc = call_grant_copy(c, &a, &rsp, err, errlen,
                     "grant copy of %zu operations", n);
    if (!rc)
        bulk_take(c, ops, n, sizeof(*ops));
    return rc;
}

static int bulk_grant_map_batch(struct ctl *c, struct pvctl_grant_map_entry *e, size_t n, char *err,
                                size_t errlen)
{
    struct pvctl_grant_batch a = { .count = (uint32_t)n };
    struct pvctl_response rsp;
    int rc = bulk_put(c, e, n, sizeof(*e), PVCTL_GRANT_BATCH_MAX, "grant map batch", err, errlen);

    if (rc)
        return rc;
    rc = call_grant_map_batch(c, &a, &rsp, err, errlen, "map a batch of %zu grants (the first: ref %u of "
                              "domain %u)", n, e[0].gref, e[0].domid);
    if (!rc)
        bulk_take(c, e, n, sizeof(*e));
    return rc;
}

static int bulk_grant_unmap_batch(struct ctl *c, struct pvctl_grant_unmap_entry *e, size_t n, char *err,
                                  size_t errlen)
{
    struct pvctl_grant_batch a = { .count = (uint32_t)n };
    struct pvctl_response rsp;
    int rc = bulk_put(c, e, n, sizeof(*e), PVCTL_GRANT_BATCH_MAX, "grant unmap batch", err, errlen);

    if (rc)
        return rc;
    rc = call_grant_unmap_batch(c, &a, &rsp, err, errlen, "unmap a batch of %zu grant handles (the first: %u)",
                                n, e[0].handle);
    if (!rc)
        bulk_take(c, e, n, sizeof(*e));
    return rc;
}

static int bulk_console_read(struct ctl *c, uint64_t from, char *buf, size_t buflen, size_t *len,
                     uint64_t *next, uint64_t *lost, char *err, size_t errlen)
{
    struct pvctl_console_read r = { .from = from };
    struct pvctl_response rsp;

    if (!buflen)
        return dom0_fail(err, errlen, EINVAL, "hypervisor console: empty buffer");
    int rc = call_console_read(c, &r, &rsp, err, errlen,
                     "hypervisor console from index %llu", (unsigned long long)from);
    if (rc)
        return rc;
    if (rsp.size > PVCTL_BULK_SIZE)
        return dom0_fail(err, errlen, EPROTO, "hypervisor console: the hypervisor returned %u "
                         "bytes, more than the bulk area", rsp.size);
    *len = rsp.size < buflen - 1 ? rsp.size : buflen - 1;
    memcpy(buf, ctl_bulk(c), *len);
    buf[*len] = '\0';
    /* What did not fit in buf is read again from *next. */
    *next = rsp.u.console.next - (rsp.size - *len);
    *lost = rsp.u.console.lost;
    return 0;
}

/* The bulk area is this call's from before the request is written until
 * its answer is copied out (other threads wait; see ctl.h). */
int ctl_get_frames(struct ctl *c, uint32_t domid, uint64_t start, uint64_t count,
                   uint64_t *mfns, char *err, size_t errlen)
{
    ctl_bulk_hold(c);
    int rc = bulk_get_frames(c, domid, start, count, mfns, err, errlen);
    ctl_bulk_release(c);
    return rc;
}

/* The bulk area is this call's from before the request is written until
 * its answer is copied out (other threads wait; see ctl.h). */
int ctl_list_domains(struct ctl *c, struct pvctl_domain_info *out, size_t max, size_t *nr,
                     char *err, size_t errlen)
{
    ctl_bulk_hold(c);
    int rc = bulk_list_domains(c, out, max, nr, err, errlen);
    ctl_bulk_release(c);
    return rc;
}

/* The bulk area is this call's from before the request is written until
 * its answer is copied out (other threads wait; see ctl.h). */
int ctl_grant_copy(struct ctl *c, struct gnttab_copy *ops, size_t n, char *err, size_t errlen)
{
    ctl_bulk_hold(c);
    int rc = bulk_grant_copy(c, ops, n, err, errlen);
    ctl_bulk_release(c);
    return rc;
}

/* The bulk area is this call's from before the request is written until
 * its answer is copied out (other threads wait; see ctl.h). */
int ctl_console_read(struct ctl *c, uint64_t from, char *buf, size_t buflen, size_t *len,
                     uint64_t *next, uint64_t *lost, char *err, size_t errlen)
{
    ctl_bulk_hold(c);
    int rc = bulk_console_read(c, from, buf, buflen, len, next, lost, err, errlen);
    ctl_bulk_release(c);
    return rc;
}

/* The bulk area is this call's from before the request is written until
 * its answer is copied out (other threads wait; see ctl.h). */
int ctl_grant_map_batch(struct ctl *c, struct pvctl_grant_map_entry *e, size_t n, char *err, size_t errlen)
{
    ctl_bulk_hold(c);
    int rc = bulk_grant_map_batch(c, e, n, err, errlen);
    ctl_bulk_release(c);
    return rc;
}

/* The bulk area is this call's from before the request is written until
 * its answer is copied out (other threads wait; see ctl.h). */
int ctl_grant_unmap_batch(struct ctl *c, struct pvctl_grant_unmap_entry *e, size_t n, char *err, size_t errlen)
{
    ctl_bulk_hold(c);
    int rc = bulk_grant_unmap_batch(c, e, n, err, errlen);
    ctl_bulk_release(c);
    return rc;
}

/* ---- asynchronous bulk ops (ctl_submit): the entries travel through
 * the bulk area as for the calls above, copied in as the request is
 * pushed and out as its answer is taken ---- */

static void bulk_call_fill(void *arg, void *bulk)
{
    struct ctl_bulk_call *k = arg;

    memcpy(bulk, k->entries, k->n * k->size);
}

static void bulk_call_collect(void *arg, const void *bulk, const struct pvctl_response *rsp)
{
    struct ctl_bulk_call *k = arg;

    if (rsp->status == 0)
        memcpy(k->entries, bulk, k->n * k->size);
}

static void bulk_call_done(void *arg, int rc, const struct pvctl_response *rsp, const char *err)
{
    struct ctl_bulk_call *k = arg;
    char why[700];

    (void)rsp;
    if (rc)
        dom0_format(why, sizeof(why), "%s: %s", k->what, err);
    k->ticket = 0;
    k->done(k, rc, rc ? why : "");
}

static int submit_bulk(struct ctl *c, struct ctl_bulk_call *k, uint32_t op, void *entries, size_t n, size_t size,
                       size_t max, char *err, size_t errlen)
{
    struct ctl_async_call ac = { .req = { .op = op, .size = sizeof(struct pvctl_grant_batch) },
                                 .fill = bulk_call_fill, .collect = bulk_call_collect,
                                 .done = bulk_call_done, .arg = k };

    _Static_assert(sizeof(struct pvctl_grant_batch) == sizeof(struct pvctl_grant_copy),
                   "the batch ops and grant copy carry one count");
    k->entries = entries;
    k->n = n;
    k->size = size;
    if (k->n == 0)
        return dom0_fail(err, errlen, EINVAL, "%s: no entries", k->what);
    if (k->n > max)
        return dom0_fail(err, errlen, E2BIG, "%s: %zu entries, at most %zu per call", k->what, k->n, max);
    if (op == PVCTL_OP_GRANT_COPY)
        ac.req.u.grant_copy.count = (uint32_t)k->n;
    else
        ac.req.u.grant_batch.count = (uint32_t)k->n;
    return ctl_submit(c, &ac, &k->ticket, err, errlen);
}

int ctl_submit_grant_map_batch(struct ctl *c, struct ctl_bulk_call *k, struct pvctl_grant_map_entry *e,
                               size_t n, char *err, size_t errlen)
{
    snprintf(k->what, sizeof(k->what), "map a batch of %zu grants (the first: ref %u of domain %u)", n,
             n ? e[0].gref : 0, n ? e[0].domid : 0);
    return submit_bulk(c, k, PVCTL_OP_GRANT_MAP_BATCH, e, n, sizeof(*e), PVCTL_GRANT_BATCH_MAX, err, errlen);
}

int ctl_submit_grant_unmap_batch(struct ctl *c, struct ctl_bulk_call *k, struct pvctl_grant_unmap_entry *e,
                                 size_t n, char *err, size_t errlen)
{
    snprintf(k->what, sizeof(k->what), "unmap a batch of %zu grant handles (the first: %u)", n,
             n ? e[0].handle : 0);
    return submit_bulk(c, k, PVCTL_OP_GRANT_UNMAP_BATCH, e, n, sizeof(*e), PVCTL_GRANT_BATCH_MAX, err, errlen);
}

int ctl_submit_grant_copy(struct ctl *c, struct ctl_bulk_call *k, struct gnttab_copy *ops, size_t n,
                          char *err, size_t errlen)
{
    snprintf(k->what, sizeof(k->what), "grant copy of %zu operations", n);
    return submit_bulk(c, k, PVCTL_OP_GRANT_COPY, ops, n, sizeof(*ops), PVCTL_BULK_SIZE / sizeof(*ops), err,
                       errlen);
}

/* ---- asynchronous event-channel ops (a backend's connect and
 * disconnect): no bulk area, the same record and done ---- */

static void port_call_done(void *arg, int rc, const struct pvctl_response *rsp, const char *err)
{
    struct ctl_bulk_call *k = arg;

    if (!rc && rsp)
        k->port = rsp->u.port;
    bulk_call_done(arg, rc, rsp, err);
}

static int submit_port(struct ctl *c, struct ctl_bulk_call *k, uint32_t op, uint32_t domid, uint32_t port,
                       char *err, size_t errlen)
{
    struct ctl_async_call ac = { .req = { .op = op, .size = sizeof(struct pvctl_evtchn) },
                                 .done = port_call_done, .arg = k };

    ac.req.u.evtchn = (struct pvctl_evtchn){ .domid = domid, .port = port };
    k->entries = NULL;
    k->n = 0;
    k->port = 0;
    return ctl_submit(c, &ac, &k->ticket, err, errlen);
}

int ctl_submit_evtchn_bind_interdomain(struct ctl *c, struct ctl_bulk_call *k, uint32_t remote_domid,
                                       uint32_t remote_port, char *err, size_t errlen)
{
    snprintf(k->what, sizeof(k->what), "bind to port %u of domain %u", remote_port, remote_domid);
    return submit_port(c, k, PVCTL_OP_EVTCHN_BIND_INTERDOMAIN, remote_domid, remote_port, err, errlen);
}

int ctl_submit_evtchn_close(struct ctl *c, struct ctl_bulk_call *k, uint32_t port, char *err, size_t errlen)
{
    snprintf(k->what, sizeof(k->what), "close Domain 0 port %u", port);
    return submit_port(c, k, PVCTL_OP_EVTCHN_CLOSE, 0, port, err, errlen);
}
