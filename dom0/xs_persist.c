/*
 * xs_persist.c - xenstore state that survives a SIGKILL of its host: an
 * append-only journal of everything that changes state, and snapshots that
 * let the journal start again empty (docs/xenstore.md).
 *
 * Owns: struct xs_journal (the state directory, the journal descriptor,
 * the epoch) and the two files in the directory:
 *   xenstore.snapshot  the whole server state at the start of an epoch
 *   xenstore.journal   the records of that epoch, in the order applied
 * Records: input bytes a connection took off its ring, local (toolstack)
 * requests that change something, introduce, release, cut-off. Each is
 * one write() that completes before its effects: before req_cons moves,
 * before a reply reaches a ring, before xs_local returns. The server is
 * deterministic (xs_server.h), so replaying the snapshot and the journal
 * rebuilds exactly the state, including every reply and watch event each
 * connection had queued; the rings' rsp_prod then says what each guest
 * already has (xs_conn_attach).
 *
 * Invariants: a record's header carries its length and a checksum; a torn
 * last record (the host died inside write()) was never acted on and is cut
 * off at the next open. A journal whose epoch is not the snapshot's is
 * stale (a crash between writing a snapshot and switching journals) and is
 * ignored: the snapshot already holds its records. Compaction writes
 * journal.tmp (new epoch, empty), then the snapshot (tmp + fsync +
 * rename), then renames journal.tmp into place.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dom0_error.h"
#include "xs_server.h"

#define JOURNAL_FILE    "xenstore.journal"
#define SNAPSHOT_FILE   "xenstore.snapshot"
#define JOURNAL_MAGIC   "PVXSJRN1"
#define SNAPSHOT_MAGIC  "PVXSSNP1"
#define SNAPSHOT_END    0x454e4421u     /* "!DNE" */
#define COMPACT_BYTES   (1u << 20)      /* snapshot when the journal passes 1 MiB */
#define FILE_MAX        (256u << 20)

enum rec_type { REC_INPUT = 1, REC_LOCAL, REC_INTRODUCE, REC_RELEASE, REC_CUT_OFF };

struct rec_hdr {
    uint32_t type, len, sum, pad;
};

struct xs_journal {
    char *dir;
    int fd;
    uint64_t epoch, size;
};

/* ---- byte buffers ---- */

struct wbuf {
    uint8_t *p;
    size_t len, cap;
    int err;
};

static void put(struct wbuf *b, const void *d, size_t n)
{
    if (b->err || n == 0)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        uint8_t *p;
        while (cap < b->len + n)
            cap *= 2;
        p = realloc(b->p, cap);
        if (!p) {
            b->err = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
}

static void put_u32(struct wbuf *b, uint32_t v) { put(b, &v, sizeof(v)); }
static void put_u64(struct wbuf *b, uint64_t v) { put(b, &v, sizeof(v)); }

static void put_bytes(struct wbuf *b, const void *d, uint32_t n)
{
    put_u32(b, n);
    put(b, d, n);
}

static void put_str(struct wbuf *b, const char *s)
{
    put_bytes(b, s, (uint32_t)strlen(s));
}

struct rbuf {
    const uint8_t *p;
    size_t len, off;
    int err;
};

static const void *get(struct rbuf *b, size_t n)
{
    const void *d;

    if (b->err || n > b->len - b->off) {
        b->err = 1;
        return NULL;
    }
    d = b->p + b->off;
    b->off += n;
    return d;
}

static uint32_t get_u32(struct rbuf *b)
{
    uint32_t v = 0;
    const void *d = get(b, sizeof(v));

    if (d)
        memcpy(&v, d, sizeof(v));
    return v;
}

static uint64_t get_u64(struct rbuf *b)
{
    uint64_t v = 0;
    const void *d = get(b, sizeof(v));

    if (d)
        memcpy(&v, d, sizeof(v));
    return v;
}

static const void *get_bytes(struct rbuf *b, uint32_t *n, uint32_t max)
{
    *n = get_u32(b);
    if (*n > max) {
        b->err = 1;
        return NULL;
    }
    return get(b, *n);
}

/* A string of at most max bytes, copied and terminated into out. */
static int get_str(struct rbuf *b, char *out, size_t outlen)
{
    uint32_t n;
    const void *d = get_bytes(b, &n, (uint32_t)outlen - 1);

    if (!d)
        return -1;
    memcpy(out, d, n);
    out[n] = '\0';
    return 0;
}

static uint32_t checksum(const void *d, size_t n, uint32_t h)
{
    const uint8_t *p = d;

    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;     /* FNV-1a */
    return h;
}

static int read_file(const char *path, uint8_t **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    uint8_t *p;
    size_t done = 0;

    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0 || (uint64_t)st.st_size > FILE_MAX) {
        close(fd);
        return -EFBIG;
    }
    p = malloc((size_t)st.st_size + 1);
    if (!p) {
        close(fd);
        return -ENOMEM;
    }
    while (done < (size_t)st.st_size) {
        ssize_t n = read(fd, p + done, (size_t)st.st_size - done);
        if (n <= 0) {
            free(p);
            close(fd);
            return n < 0 ? -errno : -EIO;
        }
        done += (size_t)n;
    }
    close(fd);
    *out = p;
    *len = done;
    return 0;
}

static void path_in(const struct xs_journal *j, const char *name, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", j->dir, name);
}

/* ---- records ---- */

static int append(struct xs_server *s, uint32_t type, const void *a, uint32_t alen,
                  const void *b, uint32_t blen)
{
    struct xs_journal *j = s->journal;
    uint8_t buf[sizeof(struct rec_hdr) + 64 + XS_MSG_MAX + XENSTORE_PAYLOAD_MAX];
    struct rec_hdr h = { .type = type, .len = alen + blen };
    size_t total = sizeof(h) + alen + blen;
    ssize_t n;

    if (!j || s->replaying)
        return 0;
    if (total > sizeof(buf))
        return -E2BIG;
    memcpy(buf + sizeof(h), a, alen);
    if (blen)
        memcpy(buf + sizeof(h) + alen, b, blen);
    h.sum = checksum(buf + sizeof(h), alen + blen, checksum(&h.type, 8, 2166136261u));
    memcpy(buf, &h, sizeof(h));
    n = write(j->fd, buf, total);
    if (n != (ssize_t)total) {
        int e = n < 0 ? errno : EIO;
        /* leave no torn record behind a good one */
        if (ftruncate(j->fd, (off_t)j->size) == 0)
            lseek(j->fd, (off_t)j->size, SEEK_SET);
        return -e;
    }
    j->size += total;
    s->stats.journal_bytes += total;
    return 0;
}

int xs_journal_input(struct xs_server *s, uint32_t domid, const void *bytes, uint32_t len)
{
    return append(s, REC_INPUT, &domid, sizeof(domid), bytes, len);
}

int xs_journal_local(struct xs_server *s, uint32_t type, const void *payload, uint32_t len)
{
    return append(s, REC_LOCAL, &type, sizeof(type), payload, len);
}

int xs_journal_introduce(struct xs_server *s, uint32_t domid, uint64_t mfn, uint32_t port,
                         uint32_t in_pos, uint32_t out_pos)
{
    struct { uint32_t domid, port; uint64_t mfn; uint32_t in_pos, out_pos; } r =
        { domid, port, mfn, in_pos, out_pos };

    return append(s, REC_INTRODUCE, &r, sizeof(r), NULL, 0);
}

int xs_journal_release(struct xs_server *s, uint32_t domid)
{
    return append(s, REC_RELEASE, &domid, sizeof(domid), NULL, 0);
}

int xs_journal_cut_off(struct xs_server *s, uint32_t domid, uint32_t ring_error, const char *why)
{
    uint32_t r[2] = { domid, ring_error };

    return append(s, REC_CUT_OFF, r, sizeof(r), why, (uint32_t)strlen(why));
}

static void apply_record(struct xs_server *s, uint32_t type, struct rbuf *b, uint32_t len)
{
    const uint8_t *d = get(b, len);
    struct xs_conn *c;
    uint32_t u[2];
    char why[160];

    if (!d)
        return;
    switch (type) {
    case REC_INPUT:
        if (len < 4)
            break;
        memcpy(u, d, 4);
        c = xs_conn_find(s, u[0]);
        if (c)
            xs_conn_input(c, d + 4, len - 4);
        break;
    case REC_LOCAL:
        if (len < 4)
            break;
        memcpy(u, d, 4);
        xs_do_local(s, u[0], d + 4, len - 4);
        break;
    case REC_INTRODUCE: {
        struct { uint32_t domid, port; uint64_t mfn; uint32_t in_pos, out_pos; } r;
        if (len != sizeof(r))
            break;
        memcpy(&r, d, sizeof(r));
        xs_do_introduce(s, r.domid, r.mfn, r.port, r.in_pos, r.out_pos);
        break;
    }
    case REC_RELEASE:
        if (len != 4)
            break;
        memcpy(u, d, 4);
        xs_do_release(s, u[0]);
        break;
    case REC_CUT_OFF:
        if (len < 8 || len - 8 >= sizeof(why))
            break;
        memcpy(u, d, 8);
        memcpy(why, d + 8, len - 8);
        why[len - 8] = '\0';
        c = xs_conn_find(s, u[0]);
        if (c)
            xs_conn_cut_off(c, u[1], "%s", why);
        break;
    default:
        break;
    }
}

/* Replay the journal of epoch j->epoch; returns the good length. */
static size_t replay(struct xs_server *s, const uint8_t *p, size_t len, uint32_t *records)
{
    struct rbuf b = { .p = p, .len = len };
    size_t good;
    uint64_t epoch;

    *records = 0;
    if (len < 16 || memcmp(p, JOURNAL_MAGIC, 8))
        return 0;
    b.off = 8;
    epoch = get_u64(&b);
    if (epoch != s->journal->epoch)
        return 0;
    good = b.off;
    s->replaying = 1;
    while (b.len - b.off >= sizeof(struct rec_hdr)) {
        struct rec_hdr h;
        memcpy(&h, b.p + b.off, sizeof(h));
        if (h.len > b.len - b.off - sizeof(h) ||
            checksum(b.p + b.off + sizeof(h), h.len, checksum(&h.type, 8, 2166136261u)) != h.sum)
            break;
        b.off += sizeof(h);
        apply_record(s, h.type, &b, h.len);
        good = b.off;
        (*records)++;
    }
    s->replaying = 0;
    return good;
}

/* ---- snapshots ---- */

static int put_node(void *arg, const char *path, const struct xs_node *n)
{
    struct wbuf *b = arg;

    put_str(b, path);
    put_bytes(b, n->value, n->len);
    put_u64(b, n->gen);
    put_u32(b, n->perms.n);
    for (uint32_t i = 0; i < n->perms.n; i++) {
        put_u32(b, n->perms.p[i].domid);
        put_u32(b, n->perms.p[i].perm);
    }
    return 0;
}

static void put_tree(struct wbuf *b, const struct xs_tree *t)
{
    xs_tree_walk(t, "/", put_node, b);
    put_u32(b, UINT32_MAX);
}

static void get_perms(struct rbuf *b, struct xs_perms *p)
{
    p->n = get_u32(b);
    if (p->n < 1 || p->n > XS_PERMS_MAX) {
        b->err = 1;
        return;
    }
    for (uint32_t i = 0; i < p->n; i++) {
        p->p[i].domid = get_u32(b);
        p->p[i].perm = get_u32(b) & XS_PERM_BOTH;
    }
}

static int get_tree(struct rbuf *b, struct xs_tree *t, uint64_t *gen, const struct xs_limits *l)
{
    char path[XENSTORE_ABS_PATH_MAX + 1];
    struct xs_perms perms;

    if (xs_tree_init(t, gen, l) < 0)
        return -1;
    for (;;) {
        uint32_t vlen;
        const void *value;
        uint64_t g;
        if (b->len - b->off >= 4 && !memcmp(b->p + b->off, "\xff\xff\xff\xff", 4)) {
            b->off += 4;
            return 0;
        }
        if (get_str(b, path, sizeof(path)) < 0)
            return -1;
        value = get_bytes(b, &vlen, XENSTORE_PAYLOAD_MAX);
        g = get_u64(b);
        get_perms(b, &perms);
        if (b->err || xs_tree_restore(t, path, value, vlen, g, &perms) < 0)
            return -1;
    }
}

static void put_conn(struct wbuf *b, const struct xs_conn *c)
{
    uint32_t n = 0;

    put_u32(b, c->domid);
    put_u64(b, c->mfn);
    put_u32(b, c->port);
    put_u32(b, c->in_pos);
    put_bytes(b, c->in, c->in_len);
    put_u32(b, c->out_pos);
    put_u32(b, (uint32_t)c->dead);
    put_u32(b, c->dead_error);
    put_str(b, c->why);
    put_u32(b, c->next_txid);
    put_u32(b, c->out_msgs);
    for (const struct xs_msg *m = c->out_head; m; m = m->next) {
        put_u32(b, (uint32_t)m->reply);
        put_bytes(b, m->data + m->off, m->len - m->off);
    }
    put_u32(b, c->watches.n);
    for (const struct xs_watch *w = c->watches.head; w; w = w->next) {
        put_str(b, w->path);
        put_str(b, w->token);
        put_u32(b, w->strip);
    }
    for (const struct xs_tx *tx = c->txs; tx; tx = tx->next)
        n++;
    put_u32(b, n);
    for (const struct xs_tx *tx = c->txs; tx; tx = tx->next) {
        put_u32(b, tx->id);
        put_u32(b, tx->who.domid);
        put_u32(b, (uint32_t)tx->who.priv);
        put_u32(b, tx->max_nodes);
        put_u32(b, (uint32_t)tx->overflow);
        put_u64(b, tx->start_gen);
        put_tree(b, &tx->tree);
        put_u32(b, tx->nacc);
        for (uint32_t i = 0; i < tx->nacc; i++) {
            put_str(b, tx->acc[i].path);
            put_u64(b, tx->acc[i].gen);
        }
        put_u32(b, tx->nops);
        for (uint32_t i = 0; i < tx->nops; i++) {
            const struct xs_op *op = &tx->ops[i];
            put_u32(b, op->type);
            put_str(b, op->path);
            put_bytes(b, op->value, op->len);
            put_u32(b, op->perms.n);
            for (uint32_t k = 0; k < op->perms.n && k < XS_PERMS_MAX; k++) {
                put_u32(b, op->perms.p[k].domid);
                put_u32(b, op->perms.p[k].perm);
            }
        }
    }
}

static int get_tx(struct rbuf *b, struct xs_server *s, struct xs_tx *tx)
{
    char path[XENSTORE_ABS_PATH_MAX + 1];
    uint32_t n;

    memset(tx, 0, sizeof(*tx));
    tx->id = get_u32(b);
    tx->who.domid = get_u32(b);
    tx->who.priv = (int)get_u32(b);
    tx->max_nodes = get_u32(b);
    tx->overflow = (int)get_u32(b);
    tx->start_gen = get_u64(b);
    if (b->err || get_tree(b, &tx->tree, &s->gen, &s->limits) < 0)
        return -1;
    tx->tree.access = xs_tx_record;
    tx->tree.access_arg = tx;
    n = get_u32(b);
    for (uint32_t i = 0; i < n && !b->err; i++) {
        uint64_t gen;
        if (get_str(b, path, sizeof(path)) < 0)
            return -1;
        gen = get_u64(b);
        xs_tx_record(tx, path, gen);
    }
    n = get_u32(b);
    for (uint32_t i = 0; i < n && !b->err; i++) {
        uint32_t type = get_u32(b), vlen;
        const void *value;
        struct xs_perms perms = { 0 };
        if (get_str(b, path, sizeof(path)) < 0)
            return -1;
        value = get_bytes(b, &vlen, XENSTORE_PAYLOAD_MAX);
        perms.n = get_u32(b);
        if (perms.n > XS_PERMS_MAX)
            return -1;
        for (uint32_t k = 0; k < perms.n; k++) {
            perms.p[k].domid = get_u32(b);
            perms.p[k].perm = get_u32(b) & XS_PERM_BOTH;
        }
        if (b->err || xs_tx_log(tx, type, path, value, vlen, &perms) < 0)
            return -1;
    }
    return b->err ? -1 : 0;
}

static int get_conn(struct rbuf *b, struct xs_server *s, struct xs_conn **out)
{
    char path[XENSTORE_ABS_PATH_MAX + 1], token[XENSTORE_PAYLOAD_MAX + 1];
    struct xs_conn *c;
    struct xs_tx **tail;
    const void *d;
    uint32_t n, len;

    c = xs_conn_new(s, 0, 0, 0);
    if (!c)
        return -1;
    *out = c;
    c->domid = get_u32(b);
    c->mfn = get_u64(b);
    c->port = get_u32(b);
    c->in_pos = get_u32(b);
    d = get_bytes(b, &c->in_len, sizeof(c->in));
    if (d)
        memcpy(c->in, d, c->in_len);
    c->out_pos = get_u32(b);
    c->dead = (int)get_u32(b);
    c->dead_error = get_u32(b);
    if (get_str(b, c->why, sizeof(c->why)) < 0)
        return -1;
    c->next_txid = get_u32(b);
    n = get_u32(b);
    for (uint32_t i = 0; i < n && !b->err; i++) {
        int reply = (int)get_u32(b);
        struct xs_msg *m;
        d = get_bytes(b, &len, XS_MSG_MAX);
        if (!d)
            return -1;
        m = malloc(sizeof(*m) + len);
        if (!m)
            return -1;
        m->next = NULL;
        m->len = len;
        m->off = 0;
        m->reply = reply;
        memcpy(m->data, d, len);
        if (c->out_tail)
            c->out_tail->next = m;
        else
            c->out_head = m;
        c->out_tail = m;
        c->out_bytes += len;
        c->out_msgs++;
        c->out_replies += reply ? 1 : 0;
    }
    n = get_u32(b);
    for (uint32_t i = 0; i < n && !b->err; i++) {
        uint32_t strip;
        if (get_str(b, path, sizeof(path)) < 0 || get_str(b, token, sizeof(token)) < 0)
            return -1;
        strip = get_u32(b);
        if (b->err || xs_watch_add(&c->watches, path, token, strip, 0) < 0)
            return -1;
    }
    n = get_u32(b);
    tail = &c->txs;
    for (uint32_t i = 0; i < n && !b->err; i++) {
        struct xs_tx *tx = calloc(1, sizeof(*tx));
        if (!tx)
            return -1;
        *tail = tx;
        tail = &tx->next;
        c->ntx++;
        if (get_tx(b, s, tx) < 0)
            return -1;
    }
    return b->err ? -1 : 0;
}

static int load_snapshot(struct xs_server *s, const uint8_t *p, size_t len)
{
    struct rbuf b = { .p = p, .len = len };
    struct xs_conn **tail = &s->conns;
    const void *magic = get(&b, 8);
    uint32_t n;

    if (!magic || memcmp(magic, SNAPSHOT_MAGIC, 8))
        return -1;
    s->journal->epoch = get_u64(&b);
    s->gen = get_u64(&b);
    for (int i = 0; xs_quota_names[i]; i++)
        xs_quota_set(&s->quota, xs_quota_names[i], get_u32(&b));
    xs_limits_from_quota(s);
    if (b.err || get_tree(&b, &s->tree, &s->gen, &s->limits) < 0)
        return -1;
    n = get_u32(&b);
    for (uint32_t i = 0; i < n && !b.err; i++) {
        struct xs_conn *c = NULL;
        int rc = get_conn(&b, s, &c);
        if (c) {
            *tail = c;
            tail = &c->next;
        }
        if (rc < 0)
            return -1;
    }
    return !b.err && get_u32(&b) == SNAPSHOT_END && !b.err ? 0 : -1;
}

static int write_whole(const char *path, const void *d, size_t len, int sync)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    size_t done = 0;

    if (fd < 0)
        return -errno;
    while (done < len) {
        ssize_t n = write(fd, (const uint8_t *)d + done, len - done);
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            close(fd);
            return -e;
        }
        done += (size_t)n;
    }
    if (sync && fsync(fd) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return close(fd) < 0 ? -errno : 0;
}

int xs_journal_snapshot(struct xs_server *s)
{
    struct xs_journal *j = s->journal;
    struct wbuf b = { 0 };
    char jtmp[4200], jpath[4200], stmp[4200], spath[4200];
    uint64_t epoch;
    uint32_t n = 0;
    int fd, rc;

    if (!j)
        return 0;
    epoch = j->epoch + 1;
    put(&b, SNAPSHOT_MAGIC, 8);
    put_u64(&b, epoch);
    put_u64(&b, s->gen);
    for (int i = 0; xs_quota_names[i]; i++)
        put_u32(&b, xs_quota_get(&s->quota, xs_quota_names[i]));
    put_tree(&b, &s->tree);
    for (const struct xs_conn *c = s->conns; c; c = c->next)
        n++;
    put_u32(&b, n);
    for (const struct xs_conn *c = s->conns; c; c = c->next)
        put_conn(&b, c);
    put_u32(&b, SNAPSHOT_END);
    if (b.err) {
        free(b.p);
        return -ENOMEM;
    }
    path_in(j, JOURNAL_FILE ".tmp", jtmp, sizeof(jtmp));
    path_in(j, JOURNAL_FILE, jpath, sizeof(jpath));
    path_in(j, SNAPSHOT_FILE ".tmp", stmp, sizeof(stmp));
    path_in(j, SNAPSHOT_FILE, spath, sizeof(spath));
    {
        uint8_t hdr[16];
        memcpy(hdr, JOURNAL_MAGIC, 8);
        memcpy(hdr + 8, &epoch, 8);
        rc = write_whole(jtmp, hdr, sizeof(hdr), 0);
    }
    if (rc == 0)
        rc = write_whole(stmp, b.p, b.len, 1);
    free(b.p);
    if (rc == 0 && rename(stmp, spath) < 0)
        rc = -errno;
    if (rc == 0 && rename(jtmp, jpath) < 0)
        rc = -errno;
    if (rc < 0) {
        xs_log(s, XS_LOG_WARN, "xenstore: snapshot in %s failed: %s (the journal goes on)",
               j->dir, strerror(-rc));
        return rc;
    }
    fd = open(jpath, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        xs_log(s, XS_LOG_WARN, "xenstore: reopening %s: %s", jpath, strerror(-rc));
        return rc;
    }
    if (j->fd >= 0)
        close(j->fd);
    j->fd = fd;
    j->epoch = epoch;
    j->size = 16;
    return 0;
}

void xs_journal_maybe_compact(struct xs_server *s)
{
    if (s->journal && s->journal->size > COMPACT_BYTES)
        xs_journal_snapshot(s);
}

int xs_journal_open(struct xs_server *s, const char *dir, char *err, size_t errlen)
{
    struct xs_journal *j = calloc(1, sizeof(*j));
    char path[4200];
    uint8_t *data = NULL;
    size_t len = 0, good;
    uint32_t records = 0;
    int rc;

    if (!j || !(j->dir = strdup(dir))) {
        free(j);
        return dom0_fail(err, errlen, ENOMEM, "xenstore: out of memory");
    }
    j->fd = -1;
    s->journal = j;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        rc = dom0_fail(err, errlen, errno, "xenstore: state directory %s: %s", dir,
                       strerror(errno));
        goto fail;
    }
    path_in(j, SNAPSHOT_FILE, path, sizeof(path));
    rc = read_file(path, &data, &len);
    if (rc == 0) {
        if (load_snapshot(s, data, len) < 0) {
            free(data);
            rc = dom0_fail(err, errlen, EBADMSG, "xenstore: %s is corrupt; move it away to "
                           "start with an empty store", path);
            goto fail;
        }
        free(data);
    } else if (rc == -ENOENT) {
        rc = xs_server_init_tree(s);
        if (rc < 0) {
            dom0_fail(err, errlen, -rc, "xenstore: %s", strerror(-rc));
            goto fail;
        }
    } else {
        rc = dom0_fail(err, errlen, -rc, "xenstore: reading %s: %s", path, strerror(-rc));
        goto fail;
    }
    path_in(j, JOURNAL_FILE, path, sizeof(path));
    rc = read_file(path, &data, &len);
    if (rc == 0) {
        good = replay(s, data, len, &records);
        free(data);
        if (records || good < len)
            xs_log(s, XS_LOG_INFO, "xenstore: replayed %u journal records (epoch %llu)%s",
                   records, (unsigned long long)j->epoch,
                   good < len ? "; dropped a torn last record" : "");
    } else if (rc != -ENOENT) {
        rc = dom0_fail(err, errlen, -rc, "xenstore: reading %s: %s", path, strerror(-rc));
        goto fail;
    }
    rc = xs_journal_snapshot(s);
    if (rc < 0) {
        dom0_fail(err, errlen, -rc, "xenstore: cannot write a snapshot in %s: %s", dir,
                  strerror(-rc));
        goto fail;
    }
    return 0;
fail:
    xs_journal_close(s);
    return rc;
}

void xs_journal_close(struct xs_server *s)
{
    struct xs_journal *j = s->journal;

    if (!j)
        return;
    if (j->fd >= 0)
        close(j->fd);
    free(j->dir);
    free(j);
    s->journal = NULL;
}
