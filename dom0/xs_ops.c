/*
 * xs_ops.c - the xenstore request handlers: one table, one handler per
 * message type, each of the same shape (split and check the payload, act
 * on the tree of the request's transaction or the live one, reply).
 *
 * Owns nothing beyond one request. Order of checks (as cxenstored): the
 * type (ENOSYS), privilege (EACCES), the transaction id (ENOENT), then the
 * handler's own argument checks; nothing changes before they all pass.
 * Errors go back as XS_ERROR with Xen's name; quota refusals also get one
 * log line per connection and kind.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_server.h"

struct req {
    struct xs_conn *c;
    const struct xsd_sockmsg *h;
    const char *payload;
    uint32_t len;
    struct xs_tx *tx;
    struct xs_who who;
};

#define F_PRIV   1u                 /* privileged callers only */
#define F_NOTID  2u                 /* the transaction id is ignored */

enum quota_kind { Q_NODES, Q_ENTRY, Q_WATCHES, Q_TRANSACTIONS, Q_PERMS, Q_TRANS_NODES };

static const char *const quota_kind_names[] = {
    [Q_NODES] = "nodes", [Q_ENTRY] = "entry-size", [Q_WATCHES] = "watches",
    [Q_TRANSACTIONS] = "transactions", [Q_PERMS] = "perms",
    [Q_TRANS_NODES] = "transaction-nodes",
};

static int quota_hit(struct req *r, enum quota_kind k, int rc, const char *path)
{
    struct xs_conn *c = r->c;

    if (!c->s->replaying && !(c->quota_logged & (2u << k))) {
        c->quota_logged |= 2u << k;
        xs_log(c->s, XS_LOG_WARN, "xenstore: domain %u hit its quota %s = %u (%s %s): %s",
               c->domid, quota_kind_names[k], xs_quota_get(&c->s->quota, quota_kind_names[k]),
               xs_type_name(r->h->type), path ? path : "", xs_error_name(-rc));
    }
    return rc;
}

static int reply(struct req *r, const void *data, uint32_t len)
{
    return xs_conn_send(r->c, r->h->type, r->h->req_id, r->h->tx_id, data, len, 1);
}

static int reply_ok(struct req *r)
{
    return reply(r, "OK", 3);
}

static struct xs_tree *tree_of(struct req *r)
{
    return r->tx ? &r->tx->tree : &r->c->s->tree;
}

/* One NUL-terminated string argument, canonical path into out. */
static int one_path(struct req *r, char *out, size_t outlen)
{
    const char *argv[1];

    if (xs_split_strings(r->payload, r->len, argv, 1) != 1)
        return -EINVAL;
    return xs_path_canonical(r->c->domid, argv[0], 0, out, outlen);
}

static int one_domid(struct req *r, uint32_t *domid)
{
    const char *argv[1];

    if (xs_split_strings(r->payload, r->len, argv, 1) != 1)
        return -EINVAL;
    return xs_parse_domid(argv[0], domid);
}

/* After a change: in a transaction, log it; else fire the watches. */
static int changed(struct req *r, uint32_t type, const char *path, const void *value,
                   uint32_t len, const struct xs_perms *perms, const struct xs_change *chg)
{
    if (r->tx)
        return xs_tx_log(r->tx, type, path, value, len, perms);
    xs_fire(r->c->s, chg);
    return 0;
}

static int tx_result(struct req *r, int rc, const char *path)
{
    if (rc == 0 && r->tx && xs_tx_check(r->tx) < 0)
        return quota_hit(r, Q_TRANS_NODES, -ENOSPC, path);
    return rc;
}

/* The node a one-path request names, readable by the caller. */
static int readable_node(struct req *r, const struct xs_node **n)
{
    char path[XENSTORE_ABS_PATH_MAX + 1];
    int rc = one_path(r, path, sizeof(path));

    if (rc < 0)
        return rc;
    return tx_result(r, xs_tree_read(tree_of(r), &r->who, path, n), path);
}

static int do_read(struct req *r)
{
    const struct xs_node *n;
    int rc = readable_node(r, &n);

    return rc < 0 ? rc : reply(r, n->value, n->len);
}

static int do_write(struct req *r)
{
    char path[XENSTORE_ABS_PATH_MAX + 1];
    const char *p, *value;
    uint32_t vlen;
    struct xs_change chg;
    int rc;

    if (xs_split_write(r->payload, r->len, &p, &value, &vlen) < 0 ||
        xs_path_canonical(r->c->domid, p, 0, path, sizeof(path)) < 0)
        return -EINVAL;
    rc = tx_result(r, xs_tree_write(tree_of(r), &r->who, path, value, vlen, &chg), path);
    if (rc == -ENOSPC && !r->who.priv)
        return quota_hit(r, vlen > r->c->s->limits.entry_size && r->c->s->limits.entry_size
                         ? Q_ENTRY : Q_NODES, rc, path);
    if (rc < 0)
        return rc;
    rc = changed(r, XS_WRITE, path, value, vlen, NULL, &chg);
    return rc < 0 ? rc : reply_ok(r);
}

/* MKDIR and RM: one path; *done says whether anything changed (an
 * existing directory, an absent node with its parent: OK, no event). */
typedef int (*path_op_fn)(struct xs_tree *t, const struct xs_who *w, const char *path, int *done,
                          struct xs_change *chg);

static int path_change(struct req *r, uint32_t type, path_op_fn op)
{
    char path[XENSTORE_ABS_PATH_MAX + 1];
    struct xs_change chg;
    int done, rc = one_path(r, path, sizeof(path));

    if (rc < 0)
        return rc;
    rc = tx_result(r, op(tree_of(r), &r->who, path, &done, &chg), path);
    if (rc == -ENOSPC && !r->who.priv)
        return quota_hit(r, Q_NODES, rc, path);
    if (rc < 0)
        return rc;
    if (done && (rc = changed(r, type, path, NULL, 0, NULL, &chg)) < 0)
        return rc;
    return reply_ok(r);
}

static int do_mkdir(struct req *r)
{
    return path_change(r, XS_MKDIR, xs_tree_mkdir);
}

static int do_rm(struct req *r)
{
    return path_change(r, XS_RM, xs_tree_rm);
}

/* The children of a node as NUL-terminated names into buf (at most cap
 * bytes); the full length in *total. */
static uint32_t children(const struct xs_node *n, char *buf, uint32_t cap, uint32_t *total)
{
    uint32_t len = 0;

    for (uint32_t i = 0; i < n->nkids; i++) {
        uint32_t l = (uint32_t)strlen(n->kids[i]->name) + 1;
        if (len + l <= cap)
            memcpy(buf + len, n->kids[i]->name, l);
        len += l;
    }
    *total = len;
    return len < cap ? len : cap;
}

static int do_directory(struct req *r)
{
    const struct xs_node *n;
    uint32_t total;
    int rc = readable_node(r, &n);

    if (rc < 0)
        return rc;
    children(n, (char *)r->c->s->reply, XENSTORE_PAYLOAD_MAX, &total);
    if (total > XENSTORE_PAYLOAD_MAX)
        return -E2BIG;
    return reply(r, r->c->s->reply, total);
}

static int do_directory_part(struct req *r)
{
    char path[XENSTORE_ABS_PATH_MAX + 1], *out = (char *)r->c->s->reply;
    const char *argv[2];
    const struct xs_node *n;
    uint64_t off;
    uint32_t total, len, at = 0, end;
    char *all;
    int rc;

    if (xs_split_strings(r->payload, r->len, argv, 2) != 2 ||
        xs_path_canonical(r->c->domid, argv[0], 0, path, sizeof(path)) < 0 ||
        xs_parse_u64(argv[1], &off) < 0)
        return -EINVAL;
    rc = tx_result(r, xs_tree_read(tree_of(r), &r->who, path, &n), path);
    if (rc < 0)
        return rc;
    children(n, NULL, 0, &total);
    all = malloc(total + 1);
    if (!all)
        return -ENOMEM;
    children(n, all, total, &total);
    len = (uint32_t)snprintf(out, XENSTORE_PAYLOAD_MAX, "%llu", (unsigned long long)n->gen) + 1;
    /* whole names from off while they fit, then "" if the list ended */
    end = off < total ? (uint32_t)off : total;
    while (end < total) {
        uint32_t l = (uint32_t)strlen(all + end) + 1;
        if (len + at + l + 1 > XENSTORE_PAYLOAD_MAX)
            break;
        memcpy(out + len + at, all + end, l);
        at += l;
        end += l;
    }
    free(all);
    if (at == 0 && end < total)
        return -E2BIG;
    if (end >= total)
        out[len + at++] = '\0';
    return reply(r, out, len + at);
}

static int do_get_perms(struct req *r)
{
    char one[16], *out = (char *)r->c->s->reply;
    const struct xs_node *n;
    uint32_t len = 0;
    int rc = readable_node(r, &n);

    if (rc < 0)
        return rc;
    for (uint32_t i = 0; i < n->perms.n; i++) {
        xs_perm_format(&n->perms.p[i], one);
        memcpy(out + len, one, strlen(one) + 1);
        len += (uint32_t)strlen(one) + 1;
    }
    return reply(r, out, len);
}

static int do_set_perms(struct req *r)
{
    char path[XENSTORE_ABS_PATH_MAX + 1];
    const char *argv[XS_ARGS_MAX + 1];
    struct xs_perms perms;
    struct xs_change chg;
    int n = xs_split_strings(r->payload, r->len, argv, XS_ARGS_MAX + 1), rc;

    if (n == -EINVAL && r->len && r->payload[r->len - 1] == '\0')
        return quota_hit(r, Q_PERMS, -ENOSPC, NULL);
    if (n < 2 || xs_path_canonical(r->c->domid, argv[0], 0, path, sizeof(path)) < 0)
        return -EINVAL;
    rc = xs_perms_parse(argv + 1, (unsigned)n - 1, &perms);
    if (rc < 0)
        return rc;
    rc = tx_result(r, xs_tree_set_perms(tree_of(r), &r->who, path, &perms, &chg), path);
    if (rc == -ENOSPC)
        return quota_hit(r, Q_PERMS, rc, path);
    if (rc < 0)
        return rc;
    rc = changed(r, XS_SET_PERMS, path, NULL, 0, &perms, &chg);
    return rc < 0 ? rc : reply_ok(r);
}

static int watch_args(struct req *r, char *path, size_t pathlen, const char **token,
                      uint32_t *strip)
{
    const char *argv[2];

    if (xs_split_strings(r->payload, r->len, argv, 2) != 2 ||
        xs_path_canonical(r->c->domid, argv[0], 1, path, pathlen) < 0)
        return -EINVAL;
    *token = argv[1];
    *strip = 0;
    if (argv[0][0] != '/' && argv[0][0] != '@') {
        char home[XS_HOME_MAX];
        xs_home(r->c->domid, home);
        *strip = (uint32_t)strlen(home) + 1;
    }
    return 0;
}

static int do_watch(struct req *r)
{
    char path[XENSTORE_ABS_PATH_MAX + 1];
    const char *token;
    uint32_t strip, max = r->who.priv ? 0 : r->c->s->quota.watches;
    int rc = watch_args(r, path, sizeof(path), &token, &strip);

    if (rc < 0)
        return rc;
    rc = xs_watch_add(&r->c->watches, path, token, strip, max);
    if (rc == -E2BIG)
        return quota_hit(r, Q_WATCHES, rc, path);
    if (rc < 0)
        return rc;
    rc = reply_ok(r);
    if (rc == 0) {
        /* a new watch fires once at once, with the path as given */
        uint32_t pl = (uint32_t)strlen(r->payload) + 1, tl = (uint32_t)strlen(token) + 1;
        xs_conn_send(r->c, XS_WATCH_EVENT, 0, 0, r->payload, pl + tl, 0);
    }
    return rc;
}

static int do_unwatch(struct req *r)
{
    char path[XENSTORE_ABS_PATH_MAX + 1];
    const char *token;
    uint32_t strip;
    int rc = watch_args(r, path, sizeof(path), &token, &strip);

    if (rc < 0)
        return rc;
    rc = xs_watch_remove(&r->c->watches, path, token);
    return rc < 0 ? rc : reply_ok(r);
}

static int do_transaction_start(struct req *r)
{
    struct xs_conn *c = r->c;
    struct xs_tx *tx;
    char id[16];
    int rc;

    if (r->tx)
        return -EBUSY;
    if (!r->who.priv && c->s->quota.transactions && c->ntx >= c->s->quota.transactions)
        return quota_hit(r, Q_TRANSACTIONS, -ENOSPC, NULL);
    tx = calloc(1, sizeof(*tx));
    if (!tx)
        return -ENOMEM;
    rc = xs_tx_start(tx, &c->s->tree, c->next_txid, &r->who,
                     r->who.priv ? 0 : c->s->quota.trans_nodes);
    if (rc < 0) {
        free(tx);
        return rc;
    }
    if (++c->next_txid == 0)
        c->next_txid = 1;
    tx->next = c->txs;
    c->txs = tx;
    c->ntx++;
    snprintf(id, sizeof(id), "%u", tx->id);
    return reply(r, id, (uint32_t)strlen(id) + 1);
}

static int do_transaction_end(struct req *r)
{
    struct xs_conn *c = r->c;
    struct xs_change *chg = NULL;
    const char *argv[1];
    uint32_t n = 0;
    int rc = 0, commit;

    if (!r->tx)
        return -ENOENT;
    if (xs_split_strings(r->payload, r->len, argv, 1) != 1 ||
        (strcmp(argv[0], "T") && strcmp(argv[0], "F")))
        return -EINVAL;
    commit = argv[0][0] == 'T';
    for (struct xs_tx **p = &c->txs; *p; p = &(*p)->next)
        if (*p == r->tx) {
            *p = r->tx->next;
            break;
        }
    c->ntx--;
    if (commit)
        rc = xs_tx_commit(r->tx, &c->s->tree, &chg, &n);
    xs_tx_free(r->tx);
    free(r->tx);
    r->tx = NULL;
    if (rc == -ENOSPC)
        return quota_hit(r, Q_NODES, rc, NULL);
    if (rc < 0)
        return rc;
    for (uint32_t i = 0; i < n; i++) {
        int dup = 0;
        for (uint32_t j = 0; j < i && !dup; j++)
            dup = !strcmp(chg[i].path, chg[j].path) && chg[i].recursive == chg[j].recursive;
        if (!dup)
            xs_fire(c->s, &chg[i]);
    }
    free(chg);
    return reply_ok(r);
}

static int do_get_domain_path(struct req *r)
{
    char home[XS_HOME_MAX];
    uint32_t domid;

    if (one_domid(r, &domid) < 0)
        return -EINVAL;
    xs_home(domid, home);
    return reply(r, home, (uint32_t)strlen(home) + 1);
}

static int do_is_domain_introduced(struct req *r)
{
    uint32_t domid;

    if (one_domid(r, &domid) < 0)
        return -EINVAL;
    return reply(r, xs_is_introduced(r->c->s, domid) ? "T" : "F", 2);
}

static int do_introduce(struct req *r)
{
    const char *argv[3];
    uint32_t domid;
    uint64_t mfn, port;
    int rc;

    if (xs_split_strings(r->payload, r->len, argv, 3) != 3 || xs_parse_domid(argv[0], &domid) < 0 ||
        xs_parse_u64(argv[1], &mfn) < 0 || xs_parse_u64(argv[2], &port) < 0 ||
        port > UINT32_MAX || domid == 0)
        return -EINVAL;
    rc = xs_introduce(r->c->s, domid, mfn, (uint32_t)port, NULL, 0);
    return rc < 0 ? rc : reply_ok(r);
}

static int do_release(struct req *r)
{
    uint32_t domid;
    int rc;

    if (one_domid(r, &domid) < 0)
        return -EINVAL;
    rc = xs_release(r->c->s, domid);
    return rc < 0 ? rc : reply_ok(r);
}

static int do_resume(struct req *r)
{
    uint32_t domid;

    if (one_domid(r, &domid) < 0)
        return -EINVAL;
    return xs_is_introduced(r->c->s, domid) ? reply_ok(r) : -ENOENT;
}

static int do_reset_watches(struct req *r)
{
    xs_watch_clear(&r->c->watches);
    xs_conn_drop_transactions(r->c);
    return reply_ok(r);
}

static int do_control(struct req *r)
{
    const char *argv[4];
    char *out = (char *)r->c->s->reply;
    uint32_t len = 0;
    uint64_t v;
    int n = xs_split_strings(r->payload, r->len, argv, 4);

    if (n < 1)
        return -EINVAL;
    if (!strcmp(argv[0], "print") && n == 2) {
        if (!r->c->s->replaying)
            xs_log(r->c->s, XS_LOG_INFO, "xenstore: %s", argv[1]);
        return reply_ok(r);
    }
    if (!strcmp(argv[0], "quota") && n == 1) {
        for (int i = 0; xs_quota_names[i]; i++)
            len += (uint32_t)snprintf(out + len, XENSTORE_PAYLOAD_MAX - len, "%-18s %u\n",
                                      xs_quota_names[i],
                                      xs_quota_get(&r->c->s->quota, xs_quota_names[i]));
        return reply(r, out, len + 1);
    }
    if (!strcmp(argv[0], "quota") && n == 3) {
        if (xs_parse_u64(argv[2], &v) < 0 || v > UINT32_MAX ||
            xs_quota_set(&r->c->s->quota, argv[1], (uint32_t)v) < 0)
            return -EINVAL;
        xs_limits_from_quota(r->c->s);
        return reply_ok(r);
    }
    if (!strcmp(argv[0], "help") && n == 1) {
        static const char help[] = "print <string>\nquota [<name> <value>]\nhelp\n";
        return reply(r, help, sizeof(help));
    }
    return -EINVAL;
}

static const struct {
    int (*fn)(struct req *r);
    uint32_t flags;
} handlers[XS_TYPE_COUNT] = {
    [XS_CONTROL] = { do_control, F_PRIV },
    [XS_DIRECTORY] = { do_directory, 0 },
    [XS_READ] = { do_read, 0 },
    [XS_GET_PERMS] = { do_get_perms, 0 },
    [XS_WATCH] = { do_watch, F_NOTID },
    [XS_UNWATCH] = { do_unwatch, F_NOTID },
    [XS_TRANSACTION_START] = { do_transaction_start, 0 },
    [XS_TRANSACTION_END] = { do_transaction_end, 0 },
    [XS_INTRODUCE] = { do_introduce, F_PRIV },
    [XS_RELEASE] = { do_release, F_PRIV },
    [XS_GET_DOMAIN_PATH] = { do_get_domain_path, 0 },
    [XS_WRITE] = { do_write, 0 },
    [XS_MKDIR] = { do_mkdir, 0 },
    [XS_RM] = { do_rm, 0 },
    [XS_SET_PERMS] = { do_set_perms, 0 },
    [XS_IS_DOMAIN_INTRODUCED] = { do_is_domain_introduced, F_PRIV },
    [XS_RESUME] = { do_resume, F_PRIV },
    [XS_RESET_WATCHES] = { do_reset_watches, F_NOTID },
    [XS_DIRECTORY_PART] = { do_directory_part, 0 },
};

void xs_process(struct xs_conn *c, const struct xsd_sockmsg *h, const char *payload)
{
    struct req r = { .c = c, .h = h, .payload = payload, .len = h->len };
    int rc;

    r.who.domid = c->local ? 0 : c->domid;
    r.who.priv = c->local || c->domid == 0;
    if (h->type >= XS_TYPE_COUNT || !handlers[h->type].fn) {
        rc = -ENOSYS;
    } else if ((handlers[h->type].flags & F_PRIV) && !r.who.priv) {
        rc = -EACCES;
    } else {
        rc = 0;
        if (!(handlers[h->type].flags & F_NOTID) && h->tx_id) {
            for (r.tx = c->txs; r.tx && r.tx->id != h->tx_id; r.tx = r.tx->next)
                ;
            if (!r.tx)
                rc = -ENOENT;
        }
        if (rc == 0)
            rc = handlers[h->type].fn(&r);
    }
    if (rc < 0 && rc != -EPIPE) {
        const char *name = xs_error_name(-rc);
        xs_conn_send(c, XS_ERROR, h->req_id, h->tx_id, name, (uint32_t)strlen(name) + 1, 1);
    }
}
