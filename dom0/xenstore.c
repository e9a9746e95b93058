/*
 * xenstore.c - the xenstore server: quotas, the life of connections
 * (introduce, release), watch firing, the host's local requests, polling.
 *
 * Owns: struct xs_server (see xs_server.h for what hangs off it).
 * Invariants: at most one connection per domid; the local connection is
 * never in s->conns; every change to the live tree outside a transaction
 * is followed by xs_fire before the request's reply is queued; every
 * state change is journaled (xs_persist.c) before it is applied, and
 * nothing is journaled while replaying.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dom0_error.h"
#include "xs_server.h"

const char *const xs_quota_names[] = {
    "nodes", "entry-size", "watches", "transactions", "perms", "outstanding",
    "transaction-nodes", "output-bytes", NULL,
};

static uint32_t *quota_field(struct xs_quota *q, const char *name)
{
    uint32_t *fields[] = { &q->nodes, &q->entry_size, &q->watches, &q->transactions,
                           &q->perms, &q->outstanding, &q->trans_nodes, &q->out_bytes };

    for (int i = 0; xs_quota_names[i]; i++)
        if (!strcmp(xs_quota_names[i], name))
            return fields[i];
    return NULL;
}

void xs_quota_defaults(struct xs_quota *q)
{
    q->nodes = 1000;
    q->entry_size = 2048;
    q->watches = 128;
    q->transactions = 10;
    q->perms = 5;
    q->outstanding = 20;
    q->trans_nodes = 1024;
    q->out_bytes = 262144;
}

int xs_quota_set(struct xs_quota *q, const char *name, uint32_t value)
{
    uint32_t *f = quota_field(q, name);

    if (!f)
        return -EINVAL;
    *f = value;
    return 0;
}

uint32_t xs_quota_get(const struct xs_quota *q, const char *name)
{
    const uint32_t *f = quota_field((struct xs_quota *)q, name);

    return f ? *f : 0;
}

void xs_limits_from_quota(struct xs_server *s)
{
    s->limits.nodes = s->quota.nodes;
    s->limits.entry_size = s->quota.entry_size;
    s->limits.perms = s->quota.perms;
}

void xs_log(struct xs_server *s, enum xs_log_level level, const char *fmt, ...)
{
    char line[512];
    va_list ap;

    if (!s->host.log)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    s->host.log(s->host.arg, level, line);
}

struct xs_conn *xs_conn_find(const struct xs_server *s, uint32_t domid)
{
    for (struct xs_conn *c = s->conns; c; c = c->next)
        if (c->domid == domid)
            return c;
    return NULL;
}

int xs_is_introduced(const struct xs_server *s, uint32_t domid)
{
    return xs_conn_find(s, domid) != NULL;
}

uint32_t xs_introduced(const struct xs_server *s, uint32_t *out, uint32_t max)
{
    uint32_t n = 0;

    for (struct xs_conn *c = s->conns; c; c = c->next, n++)
        if (n < max)
            out[n] = c->domid;
    return n;
}

static void fire_conn(struct xs_conn *c, const struct xs_change *chg)
{
    struct xs_who who = { .domid = c->local ? 0 : c->domid, .priv = c->local || c->domid == 0 };
    char buf[XENSTORE_ABS_PATH_MAX + 1 + XENSTORE_PAYLOAD_MAX];

    /* most connections (a guest's) watch nothing: a change costs them a test */
    if (c->dead || !c->watches.head || (!(xs_perm_of(&chg->perms, &who) & XS_PERM_READ) &&
                    !(chg->new_perms.n && (xs_perm_of(&chg->new_perms, &who) & XS_PERM_READ))))
        return;
    for (struct xs_watch *w = c->watches.head; w; w = w->next) {
        const char *path;
        size_t pl, tl;
        if (!xs_watch_fires(w, chg, &path))
            continue;
        pl = strlen(path) + 1;
        tl = strlen(w->token) + 1;
        if (pl + tl > XENSTORE_PAYLOAD_MAX)
            continue;
        memcpy(buf, path, pl);
        memcpy(buf + pl, w->token, tl);
        xs_conn_send(c, XS_WATCH_EVENT, 0, 0, buf, (uint32_t)(pl + tl), 0);
    }
}

void xs_fire(struct xs_server *s, const struct xs_change *chg)
{
    for (struct xs_conn *c = s->conns; c; c = c->next)
        fire_conn(c, chg);
    fire_conn(s->local, chg);
}

static void fire_special(struct xs_server *s, const char *name)
{
    struct xs_change chg = { .recursive = 0, .new_perms.n = 0 };

    snprintf(chg.path, sizeof(chg.path), "%s", name);
    chg.perms.n = 1;        /* "n0": Domain 0 only, as xenstored's special nodes */
    xs_fire(s, &chg);
}

/* Put every queued output on its ring and kick whom it concerns. */
static void kick_all(struct xs_server *s)
{
    if (s->replaying)
        return;
    for (struct xs_conn *c = s->conns; c; c = c->next) {
        if (!c->out_head && !c->kick)
            continue;               /* nothing queued, nothing to tell */
        xs_conn_flush(c);
        if (c->kick && c->ring && s->host.notify)
            s->host.notify(s->host.arg, c->domid, c->port);
        c->kick = 0;
    }
    xs_journal_maybe_compact(s);
}

int xs_do_introduce(struct xs_server *s, uint32_t domid, uint64_t mfn, uint32_t port,
                    uint32_t in_pos, uint32_t out_pos)
{
    struct xs_conn *c = xs_conn_find(s, domid), **tail;

    if (c)
        return c->mfn == mfn && c->port == port ? 0 : -EEXIST;
    c = xs_conn_new(s, domid, mfn, port);
    if (!c)
        return -ENOMEM;
    c->in_pos = in_pos;
    c->out_pos = out_pos;
    for (tail = &s->conns; *tail; tail = &(*tail)->next)
        ;
    *tail = c;
    fire_special(s, "@introduceDomain");
    return 0;
}

void xs_do_release(struct xs_server *s, uint32_t domid)
{
    for (struct xs_conn **p = &s->conns; *p; p = &(*p)->next)
        if ((*p)->domid == domid) {
            struct xs_conn *c = *p;
            *p = c->next;
            xs_conn_free(c);
            fire_special(s, "@releaseDomain");
            return;
        }
}

int xs_introduce(struct xs_server *s, uint32_t domid, uint64_t mfn, uint32_t port, char *err,
                 size_t errlen)
{
    struct xenstore_domain_interface *ring;
    struct xs_conn *c = xs_conn_find(s, domid);
    uint32_t in_pos, out_pos;
    int rc;

    if (domid == 0)
        return dom0_fail(err, errlen, EINVAL, "xenstore: Domain 0 is served locally, not "
                         "introduced");
    if (c) {
        if (c->mfn == mfn && c->port == port)
            return 0;
        return dom0_fail(err, errlen, EEXIST, "xenstore: domain %u is already introduced with "
                         "ring mfn %#llx port %u", domid, (unsigned long long)c->mfn, c->port);
    }
    ring = s->host.map_ring ? s->host.map_ring(s->host.arg, domid, mfn) : NULL;
    if (!ring)
        return dom0_fail(err, errlen, EFAULT, "xenstore: domain %u: ring mfn %#llx is not "
                         "machine RAM", domid, (unsigned long long)mfn);
    in_pos = __atomic_load_n(&ring->req_cons, __ATOMIC_ACQUIRE);
    out_pos = __atomic_load_n(&ring->rsp_prod, __ATOMIC_ACQUIRE);
    rc = xs_journal_introduce(s, domid, mfn, port, in_pos, out_pos);
    if (rc < 0)
        return dom0_fail(err, errlen, -rc, "xenstore: domain %u: journal: %s", domid,
                         strerror(-rc));
    rc = xs_do_introduce(s, domid, mfn, port, in_pos, out_pos);
    if (rc < 0)
        return dom0_fail(err, errlen, -rc, "xenstore: introducing domain %u: %s", domid,
                         strerror(-rc));
    c = xs_conn_find(s, domid);
    xs_conn_attach(c, ring);
    xs_log(s, XS_LOG_INFO, "xenstore: domain %u introduced (ring mfn %#llx, port %u)", domid,
           (unsigned long long)mfn, port);
    kick_all(s);
    return 0;
}

int xs_release(struct xs_server *s, uint32_t domid)
{
    int rc;

    if (!xs_conn_find(s, domid))
        return -ENOENT;
    rc = xs_journal_release(s, domid);
    if (rc < 0)
        return rc;
    xs_do_release(s, domid);
    kick_all(s);
    return 0;
}

/* Journaled as local requests (INTRODUCE and RELEASE journal their own
 * records in xs_introduce / xs_release; reads change nothing). */
static int mutates(uint32_t type)
{
    return type == XS_WRITE || type == XS_MKDIR || type == XS_RM || type == XS_SET_PERMS ||
           type == XS_CONTROL;
}

int xs_do_local(struct xs_server *s, uint32_t type, const void *payload, uint32_t len)
{
    struct xsd_sockmsg h = { .type = type, .req_id = 0, .tx_id = 0, .len = len };
    char *copy;

    if (len > XENSTORE_PAYLOAD_MAX)
        return -E2BIG;
    copy = malloc(len + 1);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, payload, len);
    copy[len] = '\0';
    s->local_error = 0;
    s->local_reply_len = 0;
    xs_process(s->local, &h, copy);
    free(copy);
    return s->local_error > 0 ? -s->local_error : 0;
}

int xs_local(struct xs_server *s, uint32_t type, const void *payload, uint32_t len, char *reply,
             uint32_t *reply_len)
{
    int rc;

    if (len > XENSTORE_PAYLOAD_MAX)
        return -E2BIG;
    if (mutates(type) && (rc = xs_journal_local(s, type, payload, len)) < 0)
        return rc;
    s->local_reply = reply;
    s->local_reply_cap = reply && reply_len ? *reply_len : 0;
    rc = xs_do_local(s, type, payload, len);
    if (reply_len)
        *reply_len = s->local_reply_len;
    s->local_reply = NULL;
    s->local_reply_cap = 0;
    kick_all(s);
    return rc;
}

static int local_strings(struct xs_server *s, uint32_t type, const char *a, const char *b,
                         int b_terminated)
{
    char buf[XENSTORE_PAYLOAD_MAX];
    size_t al = strlen(a) + 1, bl = b ? strlen(b) + (b_terminated ? 1 : 0) : 0;

    if (al + bl > sizeof(buf))
        return -E2BIG;
    memcpy(buf, a, al);
    if (b)
        memcpy(buf + al, b, bl);
    return xs_local(s, type, buf, (uint32_t)(al + bl), NULL, NULL);
}

int xs_local_write(struct xs_server *s, const char *path, const char *value)
{
    return local_strings(s, XS_WRITE, path, value, 0);
}

int xs_local_read(struct xs_server *s, const char *path, char *buf, size_t len)
{
    char reply[XENSTORE_PAYLOAD_MAX + 1];
    uint32_t rlen = sizeof(reply) - 1;
    int rc = xs_local(s, XS_READ, path, (uint32_t)strlen(path) + 1, reply, &rlen);

    if (rc < 0)
        return rc;
    if (rlen >= len)
        return -E2BIG;
    memcpy(buf, reply, rlen);
    buf[rlen] = '\0';
    return 0;
}

int xs_local_mkdir(struct xs_server *s, const char *path)
{
    return local_strings(s, XS_MKDIR, path, NULL, 0);
}

int xs_local_rm(struct xs_server *s, const char *path)
{
    return local_strings(s, XS_RM, path, NULL, 0);
}

int xs_local_set_perms(struct xs_server *s, const char *path, const char *perms)
{
    char buf[XENSTORE_PAYLOAD_MAX];
    size_t len = strlen(path) + 1, pl = strlen(perms);

    if (len + pl + 1 > sizeof(buf))
        return -E2BIG;
    memcpy(buf, path, len);
    for (size_t i = 0; i <= pl; i++)
        buf[len + i] = perms[i] == ' ' ? '\0' : perms[i];
    return xs_local(s, XS_SET_PERMS, buf, (uint32_t)(len + pl + 1), NULL, NULL);
}

int xs_local_watch(struct xs_server *s, const char *path, const char *token, int add)
{
    return local_strings(s, add ? XS_WATCH : XS_UNWATCH, path, token, 1);
}

const struct xs_quota *xs_get_quota(const struct xs_server *s)
{
    return &s->quota;
}

int xs_set_quota(struct xs_server *s, const char *name, uint32_t value)
{
    char buf[64];
    int n = snprintf(buf, sizeof(buf), "quota%c%s%c%u", 0, name, 0, value);

    if (!quota_field(&s->quota, name) || n < 0 || (size_t)n >= sizeof(buf))
        return -EINVAL;
    return xs_local(s, XS_CONTROL, buf, (uint32_t)n + 1, NULL, NULL);
}

void xs_poll(struct xs_server *s, uint32_t domid)
{
    struct xs_conn *c = xs_conn_find(s, domid);

    if (c)
        xs_conn_serve(c);
    kick_all(s);
}

void xs_poll_all(struct xs_server *s)
{
    for (struct xs_conn *c = s->conns; c; c = c->next)
        xs_conn_serve(c);
    kick_all(s);
}

void xs_get_stats(const struct xs_server *s, struct xs_stats *st)
{
    *st = s->stats;
    st->connections = 0;
    st->nodes = 0;
    for (struct xs_conn *c = s->conns; c; c = c->next)
        st->connections++;
    for (uint32_t i = 0; i < s->tree.ncounts; i++)
        st->nodes += s->tree.counts[i].nodes;
}

int xs_is_cut_off(const struct xs_server *s, uint32_t domid, const char **why)
{
    const struct xs_conn *c = xs_conn_find(s, domid);

    if (!c || !c->dead)
        return 0;
    if (why)
        *why = c->why;
    return 1;
}

static const char *const initial_nodes[] = { "/local", "/local/domain", "/tool",
                                             "/tool/xenstored", "/vm", NULL };

int xs_server_init_tree(struct xs_server *s)
{
    struct xs_who dom0 = { .domid = 0, .priv = 1 };
    int created, rc = xs_tree_init(&s->tree, &s->gen, &s->limits);

    for (int i = 0; rc == 0 && initial_nodes[i]; i++)
        rc = xs_tree_mkdir(&s->tree, &dom0, initial_nodes[i], &created, NULL);
    return rc;
}

static void server_free(struct xs_server *s)
{
    struct xs_conn *c, *next;

    for (c = s->conns; c; c = next) {
        next = c->next;
        xs_conn_free(c);
    }
    xs_conn_free(s->local);
    xs_tree_free(&s->tree);
    free(s);
}

int xs_open(const char *dir, const struct xs_quota *q, const struct xs_host *host,
            struct xs_server **out, char *err, size_t errlen)
{
    struct xs_server *s = calloc(1, sizeof(*s));
    struct xs_quota want;
    int rc;

    if (!s)
        return dom0_fail(err, errlen, ENOMEM, "xenstore: out of memory");
    if (host)
        s->host = *host;
    xs_quota_defaults(&s->quota);
    xs_limits_from_quota(s);
    s->local = xs_conn_new(s, 0, 0, 0);
    if (!s->local) {
        free(s);
        return dom0_fail(err, errlen, ENOMEM, "xenstore: out of memory");
    }
    s->local->local = 1;
    if (dir) {
        rc = xs_journal_open(s, dir, err, errlen);   /* snapshot + replay */
    } else {
        rc = xs_server_init_tree(s);
        if (rc < 0)
            dom0_fail(err, errlen, -rc, "xenstore: %s", strerror(-rc));
    }
    if (rc < 0) {
        server_free(s);
        return rc;
    }
    for (struct xs_conn *c = s->conns; c; c = c->next) {
        struct xenstore_domain_interface *ring =
            s->host.map_ring ? s->host.map_ring(s->host.arg, c->domid, c->mfn) : NULL;
        if (!ring) {
            xs_log(s, XS_LOG_WARN, "xenstore: domain %u: ring mfn %#llx cannot be mapped after "
                   "the restart; not served", c->domid, (unsigned long long)c->mfn);
            continue;
        }
        xs_conn_attach(c, ring);
    }
    want = q ? *q : s->quota;
    for (int i = 0; xs_quota_names[i]; i++)
        if (xs_quota_get(&want, xs_quota_names[i]) != xs_quota_get(&s->quota, xs_quota_names[i]))
            xs_set_quota(s, xs_quota_names[i], xs_quota_get(&want, xs_quota_names[i]));
    *out = s;
    xs_poll_all(s);
    return 0;
}

void xs_close(struct xs_server *s)
{
    if (!s)
        return;
    if (s->journal)
        xs_journal_snapshot(s);
    xs_journal_close(s);
    server_free(s);
}
