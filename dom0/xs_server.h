/*
 * xs_server.h - internals shared by the xenstore server's files
 * (xenstore.c, xs_conn.c, xs_ops.c, xs_persist.c). Not for the host.
 *
 * Ownership: the server owns the live tree, the connections (each its
 * input buffer, output queue, watches and transactions) and the journal.
 * Everything runs on the host's one thread; there are no locks.
 *
 * Determinism (what persistence relies on): the state after a sequence of
 * journal records (input bytes per connection, local requests, introduce,
 * release, cut-off, quota) is a pure function of that sequence. Nothing
 * here reads the clock or the rings while replaying.
 */
#ifndef DOM0_XS_SERVER_H
#define DOM0_XS_SERVER_H

#include <stdarg.h>
#include <stdint.h>

#include "xenstore.h"
#include "xs_transaction.h"
#include "xs_tree.h"
#include "xs_watch.h"
#include "xs_wire.h"

/* One queued message (a reply or a watch event). */
struct xs_msg {
    struct xs_msg *next;
    uint32_t len, off;              /* bytes, bytes already on the ring */
    int reply;                      /* counts as outstanding */
    uint8_t data[];
};

struct xs_conn {
    /* What the passes over every connection after each request read
     * (kick_all, xs_fire, xs_conn_find), together at the start: a
     * connection is over 5 KiB, and with a thousand domains each pass
     * would otherwise touch several of its cache lines and pages. */
    struct xs_conn *next;
    struct xs_server *s;
    uint32_t domid, port;
    int local;                      /* the host's toolstack connection: no ring */
    int dead;                       /* cut off: never served again */
    int kick;                       /* notify after this round */
    struct xs_msg *out_head, *out_tail;
    struct xs_watch_list watches;
    struct xenstore_domain_interface *ring;     /* NULL while replaying */
    uint64_t mfn;
    /* input: bytes taken from req[] (stream offset = our req_cons) */
    uint32_t in_pos, in_len;
    uint8_t in[XS_MSG_MAX];
    /* output: stream offset of the first queued byte (= our rsp_prod) */
    uint32_t out_pos;
    uint32_t out_bytes, out_replies, out_msgs;
    /* replies on the ring the guest has not consumed: their end offsets
     * (a ring holds at most XENSTORE_RING_SIZE / header-size messages) */
    uint32_t on_ring_end[XENSTORE_RING_SIZE / XS_HDR_SIZE];
    uint32_t on_ring_head, on_ring_n;
    struct xs_tx *txs;
    uint32_t ntx, next_txid;
    uint32_t dead_error;            /* XENSTORE_ERROR_* written to the ring */
    char why[160];
    int quota_logged;               /* one log line per quota and connection */
};

struct xs_journal;

struct xs_server {
    struct xs_tree tree;
    uint64_t gen;
    struct xs_limits limits;
    struct xs_quota quota;
    struct xs_conn *conns;          /* introduced domains, in introduction order */
    struct xs_conn *local;
    struct xs_host host;
    struct xs_journal *journal;     /* NULL: in memory only */
    int replaying;
    uint8_t reply[XS_MSG_MAX];      /* scratch for one reply payload */
    char *local_reply;              /* xs_local's caller buffer */
    uint32_t local_reply_cap, local_reply_len;
    int local_error;
    struct xs_stats stats;
};

/* xenstore.c */
void xs_log(struct xs_server *s, enum xs_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
struct xs_conn *xs_conn_find(const struct xs_server *s, uint32_t domid);
void xs_limits_from_quota(struct xs_server *s);
/* A fresh tree: xenstored's and the toolstack's top-level directories. */
int xs_server_init_tree(struct xs_server *s);
/* Fire the watches of every connection for a change. */
void xs_fire(struct xs_server *s, const struct xs_change *chg);
/* The apply side of the records the journal holds (also used live). */
int xs_do_introduce(struct xs_server *s, uint32_t domid, uint64_t mfn, uint32_t port,
                    uint32_t in_pos, uint32_t out_pos);
void xs_do_release(struct xs_server *s, uint32_t domid);
int xs_do_local(struct xs_server *s, uint32_t type, const void *payload, uint32_t len);

/* xs_conn.c */
struct xs_conn *xs_conn_new(struct xs_server *s, uint32_t domid, uint64_t mfn, uint32_t port);
void xs_conn_free(struct xs_conn *c);
/* Queue a message (header built here); reply = counts as outstanding. */
int xs_conn_send(struct xs_conn *c, uint32_t type, uint32_t req_id, uint32_t tx_id,
                 const void *payload, uint32_t len, int reply);
/* Take input bytes (from the ring or the journal) and handle complete messages. */
void xs_conn_input(struct xs_conn *c, const uint8_t *bytes, uint32_t len);
void xs_conn_cut_off(struct xs_conn *c, uint32_t ring_error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Serve the ring: output, then input, for a bounded number of messages. */
void xs_conn_serve(struct xs_conn *c);
/* Put queued output on the ring (no-op while replaying or without ring). */
void xs_conn_flush(struct xs_conn *c);
/* After a restart: attach the ring and drop what the guest already has. */
int xs_conn_attach(struct xs_conn *c, struct xenstore_domain_interface *ring);
void xs_conn_drop_transactions(struct xs_conn *c);

/* xs_ops.c: handle one complete message of c (header + payload). */
void xs_process(struct xs_conn *c, const struct xsd_sockmsg *h, const char *payload);

/* xs_persist.c */
int xs_journal_open(struct xs_server *s, const char *dir, char *err, size_t errlen);
void xs_journal_close(struct xs_server *s);
/* Records; each is one write() that completes before the caller acts. */
int xs_journal_input(struct xs_server *s, uint32_t domid, const void *bytes, uint32_t len);
int xs_journal_local(struct xs_server *s, uint32_t type, const void *payload, uint32_t len);
int xs_journal_introduce(struct xs_server *s, uint32_t domid, uint64_t mfn, uint32_t port,
                         uint32_t in_pos, uint32_t out_pos);
int xs_journal_release(struct xs_server *s, uint32_t domid);
int xs_journal_cut_off(struct xs_server *s, uint32_t domid, uint32_t ring_error, const char *why);
/* Snapshot now if the journal has grown past its threshold. */
void xs_journal_maybe_compact(struct xs_server *s);
int xs_journal_snapshot(struct xs_server *s);

#endif
