/*
 * xs_conn.c - one xenstore connection: the domain's ring page (input and
 * output streams), its queue of replies and watch events, and cutting off
 * a guest that breaks the protocol.
 *
 * Owns: struct xs_conn and everything hanging off it. The ring page is
 * borrowed (the host maps it) and is guest memory: indices are read once,
 * checked (a producer more than a ring ahead is corrupt) and bytes copied
 * before use. Our own stream positions (in_pos, out_pos) are the truth;
 * the guest cannot move them by scribbling on req_cons or rsp_prod.
 *
 * Input order (persistence): bytes are copied from req[] into in[] up to
 * the end of one message, journaled, then req_cons is advanced, then the
 * message is handled. Output: bytes are copied into rsp[], then rsp_prod
 * is advanced; after a restart rsp_prod says how much the guest has.
 *
 * Flow control: no request is read while the guest has `outstanding`
 * replies it has not taken off the ring; a guest whose queued output
 * exceeds out_bytes (watch events it never reads) is cut off.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_server.h"

#define XS_SERVE_BATCH 64           /* messages per connection per round */

struct xs_conn *xs_conn_new(struct xs_server *s, uint32_t domid, uint64_t mfn, uint32_t port)
{
    struct xs_conn *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    c->s = s;
    c->domid = domid;
    c->mfn = mfn;
    c->port = port;
    c->next_txid = 1;
    return c;
}

void xs_conn_drop_transactions(struct xs_conn *c)
{
    struct xs_tx *tx = c->txs, *next;

    for (; tx; tx = next) {
        next = tx->next;
        xs_tx_free(tx);
        free(tx);
    }
    c->txs = NULL;
    c->ntx = 0;
}

void xs_conn_free(struct xs_conn *c)
{
    struct xs_msg *m, *next;

    if (!c)
        return;
    for (m = c->out_head; m; m = next) {
        next = m->next;
        free(m);
    }
    xs_watch_clear(&c->watches);
    xs_conn_drop_transactions(c);
    free(c);
}

void xs_conn_cut_off(struct xs_conn *c, uint32_t ring_error, const char *fmt, ...)
{
    va_list ap;

    if (c->dead)
        return;
    va_start(ap, fmt);
    vsnprintf(c->why, sizeof(c->why), fmt, ap);
    va_end(ap);
    c->dead = 1;
    c->dead_error = ring_error;
    if (!c->s->replaying) {
        xs_journal_cut_off(c->s, c->domid, ring_error, c->why);
        xs_log(c->s, XS_LOG_WARN, "xenstore: domain %u cut off: %s", c->domid, c->why);
    }
    if (c->ring) {
        c->ring->error = ring_error;
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        c->kick = 1;
    }
}

int xs_conn_send(struct xs_conn *c, uint32_t type, uint32_t req_id, uint32_t tx_id,
                 const void *payload, uint32_t len, int reply)
{
    struct xsd_sockmsg h = { .type = type, .req_id = req_id, .tx_id = tx_id, .len = len };
    struct xs_msg *m;

    if (c->dead)
        return -EPIPE;
    if (c->local) {
        /* the toolstack's connection: replies go to xs_local's caller,
         * events to the host */
        if (reply) {
            uint32_t n = len < c->s->local_reply_cap ? len : c->s->local_reply_cap;
            if (c->s->local_reply && n)     /* an empty reply may have no payload */
                memcpy(c->s->local_reply, payload, n);
            c->s->local_reply_len = n;
            c->s->local_error = type == XS_ERROR ? xs_error_from_name(payload) : 0;
        } else if (c->s->host.local_event && !c->s->replaying) {
            const char *path = payload, *token = path + strlen(path) + 1;
            c->s->host.local_event(c->s->host.arg, path, token);
        }
        return 0;
    }
    if (!c->s->replaying && c->s->quota.out_bytes &&
        c->out_bytes + sizeof(h) + len > c->s->quota.out_bytes) {
        xs_conn_cut_off(c, XENSTORE_ERROR_COMM, "it does not take its replies and watch events "
                        "off the ring (%u bytes queued, quota output-bytes %u)",
                        c->out_bytes, c->s->quota.out_bytes);
        return -EPIPE;
    }
    m = malloc(sizeof(*m) + sizeof(h) + len);
    if (!m)
        return -ENOMEM;
    m->next = NULL;
    m->len = (uint32_t)sizeof(h) + len;
    m->off = 0;
    m->reply = reply;
    memcpy(m->data, &h, sizeof(h));
    if (len)
        memcpy(m->data + sizeof(h), payload, len);
    if (c->out_tail)
        c->out_tail->next = m;
    else
        c->out_head = m;
    c->out_tail = m;
    c->out_bytes += m->len;
    c->out_msgs++;
    if (reply) {
        c->out_replies++;
        c->s->stats.replies++;
    } else {
        c->s->stats.events++;
    }
    return 0;
}

#define ON_RING_SLOTS (XENSTORE_RING_SIZE / XS_HDR_SIZE)

/* Forget the replies the guest has taken off the ring. */
static void reap_on_ring(struct xs_conn *c, XENSTORE_RING_IDX cons)
{
    while (c->on_ring_n && (int32_t)(cons - c->on_ring_end[c->on_ring_head]) >= 0) {
        c->on_ring_head = (c->on_ring_head + 1) % ON_RING_SLOTS;
        c->on_ring_n--;
    }
}

static void note_on_ring(struct xs_conn *c, uint32_t end)
{
    if (c->on_ring_n == ON_RING_SLOTS) {       /* cannot happen: a message has a header */
        c->on_ring_head = (c->on_ring_head + 1) % ON_RING_SLOTS;
        c->on_ring_n--;
    }
    c->on_ring_end[(c->on_ring_head + c->on_ring_n) % ON_RING_SLOTS] = end;
    c->on_ring_n++;
}

/* Drop n delivered bytes from the head of the queue; on_ring: they went
 * onto the ring now (else the guest had them before a restart). */
static void consume_output(struct xs_conn *c, uint32_t n, int on_ring)
{
    while (n && c->out_head) {
        struct xs_msg *m = c->out_head;
        uint32_t take = m->len - m->off < n ? m->len - m->off : n;
        m->off += take;
        n -= take;
        c->out_bytes -= take;
        if (m->off == m->len) {
            c->out_head = m->next;
            if (!c->out_head)
                c->out_tail = NULL;
            c->out_msgs--;
            if (m->reply) {
                c->out_replies--;
                if (on_ring)
                    note_on_ring(c, c->out_pos);
            }
            free(m);
        }
    }
}

void xs_conn_flush(struct xs_conn *c)
{
    struct xenstore_domain_interface *r = c->ring;
    XENSTORE_RING_IDX cons, prod;
    uint32_t space;

    if (!r || c->dead || c->s->replaying)
        return;
    while (c->out_head) {
        struct xs_msg *m = c->out_head;
        uint32_t n, at;

        cons = __atomic_load_n(&r->rsp_cons, __ATOMIC_ACQUIRE);
        prod = c->out_pos;
        if (prod - cons > XENSTORE_RING_SIZE) {
            xs_conn_cut_off(c, XENSTORE_ERROR_RINGIDX, "bad response ring indices "
                            "(rsp_cons %u, rsp_prod %u)", cons, prod);
            return;
        }
        space = XENSTORE_RING_SIZE - (prod - cons);
        if (!space)
            return;
        n = m->len - m->off;
        if (n > space)
            n = space;
        at = MASK_XENSTORE_IDX(prod);
        if (n > XENSTORE_RING_SIZE - at)
            n = XENSTORE_RING_SIZE - at;
        memcpy(r->rsp + at, m->data + m->off, n);
        __atomic_thread_fence(__ATOMIC_RELEASE);
        c->out_pos = prod + n;
        consume_output(c, n, 1);
        __atomic_store_n(&r->rsp_prod, c->out_pos, __ATOMIC_RELEASE);
        c->kick = 1;
    }
}

int xs_conn_attach(struct xs_conn *c, struct xenstore_domain_interface *ring)
{
    XENSTORE_RING_IDX prod, have;

    c->ring = ring;
    if (c->dead) {
        ring->error = c->dead_error;
        return 0;
    }
    /* what the guest already has: the ring's rsp_prod, which must lie
     * within what we had queued */
    prod = __atomic_load_n(&ring->rsp_prod, __ATOMIC_ACQUIRE);
    have = prod - c->out_pos;
    if (have > c->out_bytes) {
        xs_conn_cut_off(c, XENSTORE_ERROR_RINGIDX, "response ring index %u is outside the "
                        "queued output [%u, %u] after the restart", prod, c->out_pos,
                        c->out_pos + c->out_bytes);
        return -EPROTO;
    }
    consume_output(c, have, 0);
    c->out_pos = prod;
    /* input: everything up to in_pos is journaled and handled */
    __atomic_store_n(&ring->req_cons, c->in_pos, __ATOMIC_RELEASE);
    ring->server_features = XENSTORE_SERVER_FEATURE_ERROR;
    c->kick = 1;
    return 0;
}

/* Copy up to len bytes of the request stream at in_pos + skip. */
static int ring_peek(struct xs_conn *c, uint32_t skip, uint8_t *dst, uint32_t len)
{
    struct xenstore_domain_interface *r = c->ring;
    XENSTORE_RING_IDX prod = __atomic_load_n(&r->req_prod, __ATOMIC_ACQUIRE);
    XENSTORE_RING_IDX cons = c->in_pos + skip;
    uint32_t avail, done = 0;

    if (prod - c->in_pos > XENSTORE_RING_SIZE)
        return -EPROTO;
    avail = prod - cons;
    if (avail > XENSTORE_RING_SIZE)     /* skip beyond prod: nothing yet */
        return 0;
    if (len > avail)
        len = avail;
    while (done < len) {
        uint32_t at = MASK_XENSTORE_IDX(cons + done), n = len - done;
        if (n > XENSTORE_RING_SIZE - at)
            n = XENSTORE_RING_SIZE - at;
        memcpy(dst + done, r->req + at, n);
        done += n;
    }
    return (int)len;
}

void xs_conn_input(struct xs_conn *c, const uint8_t *bytes, uint32_t len)
{
    struct xsd_sockmsg h;

    if (c->dead || len > sizeof(c->in) - c->in_len)
        return;
    memcpy(c->in + c->in_len, bytes, len);
    c->in_len += len;
    c->in_pos += len;
    if (c->in_len < XS_HDR_SIZE)
        return;
    memcpy(&h, c->in, sizeof(h));
    if (c->in_len < XS_HDR_SIZE + h.len)
        return;
    c->s->stats.requests++;
    c->in_len = 0;
    xs_process(c, &h, (const char *)c->in + XS_HDR_SIZE);
}

/* Read at most the rest of one message from the ring, journal it and
 * handle it. 1 if bytes were taken, 0 if none, -1 if cut off. */
static int read_one(struct xs_conn *c)
{
    uint8_t chunk[XS_MSG_MAX];
    uint32_t have = c->in_len, got = 0, want;
    struct xsd_sockmsg h;
    int n;

    if (have < XS_HDR_SIZE) {
        n = ring_peek(c, 0, chunk, XS_HDR_SIZE - have);
        if (n < 0)
            goto bad_index;
        got = (uint32_t)n;
        if (have + got < XS_HDR_SIZE) {
            if (!got)
                return 0;
            goto take;
        }
        memcpy(&h, c->in, have);
        memcpy((uint8_t *)&h + have, chunk, XS_HDR_SIZE - have);
    } else {
        memcpy(&h, c->in, sizeof(h));
    }
    if (xs_header_check(&h) < 0) {
        xs_conn_cut_off(c, XENSTORE_ERROR_PROTO, "message %s (req_id %u) claims %u payload bytes "
                        "(at most %u)", xs_type_name(h.type), h.req_id, h.len,
                        XENSTORE_PAYLOAD_MAX);
        return -1;
    }
    want = XS_HDR_SIZE + h.len - have;      /* bytes still to come */
    if (want > got) {
        n = ring_peek(c, got, chunk + got, want - got);
        if (n < 0)
            goto bad_index;
        got += (uint32_t)n;
    }
    if (!got)
        return 0;
take:
    if (xs_journal_input(c->s, c->domid, chunk, got) < 0) {
        xs_log(c->s, XS_LOG_WARN, "xenstore: domain %u: journal write failed; request left in "
               "the ring", c->domid);
        return 0;
    }
    __atomic_store_n(&c->ring->req_cons, c->in_pos + got, __ATOMIC_RELEASE);
    c->kick = 1;
    xs_conn_input(c, chunk, got);
    return 1;
bad_index:
    xs_conn_cut_off(c, XENSTORE_ERROR_RINGIDX, "bad request ring indices (req_prod %u, "
                    "req_cons %u)", c->ring->req_prod, c->in_pos);
    return -1;
}

void xs_conn_serve(struct xs_conn *c)
{
    if (!c->ring || c->dead)
        return;
    if (c->ring->connection != XENSTORE_CONNECTED) {
        xs_conn_cut_off(c, XENSTORE_ERROR_PROTO, "it asked for a reconnection, which this "
                        "server does not offer (server_features)");
        return;
    }
    for (int i = 0; i < XS_SERVE_BATCH && !c->dead; i++) {
        xs_conn_flush(c);
        if (c->dead)
            return;
        reap_on_ring(c, __atomic_load_n(&c->ring->rsp_cons, __ATOMIC_ACQUIRE));
        if (c->s->quota.outstanding &&
            c->out_replies + c->on_ring_n >= c->s->quota.outstanding) {
            if (!(c->quota_logged & 1u)) {
                c->quota_logged |= 1u;
                xs_log(c->s, XS_LOG_WARN, "xenstore: domain %u reached its quota of %u "
                       "outstanding requests; reading its ring again once it takes replies",
                       c->domid, c->s->quota.outstanding);
            }
            return;
        }
        if (read_one(c) <= 0)
            break;
    }
    xs_conn_flush(c);
}
