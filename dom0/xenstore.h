/*
 * xenstore.h - the xenstore server of Domain 0: the tree, watches,
 * transactions and quotas (xs_tree.c, xs_watch.c, xs_transaction.c), one
 * connection per introduced domain over its ring page and event channel
 * (xs_conn.c), the request handlers (xs_ops.c) and persistence across a
 * SIGKILL of its host process (xs_persist.c, docs/xenstore.md).
 *
 * The host (pvd) owns the event loop and the machine: it maps ring pages
 * and kicks event channels through struct xs_host, calls xs_poll when a
 * domain's port is pending (or on a timer), and changes the tree as the
 * toolstack through the xs_local_* calls (privileged, as Domain 0).
 *
 * Errors: negative errno, with one line in err[errlen] where there is one.
 */
#ifndef DOM0_XENSTORE_H
#define DOM0_XENSTORE_H

#include <stddef.h>
#include <stdint.h>

#include <public/io/xs_wire.h>

/* Per-domain quotas (0 = unlimited), Xen 4.17 xenstored's defaults. */
struct xs_quota {
    uint32_t nodes;             /* nodes a domain owns (1000) */
    uint32_t entry_size;        /* bytes of one node's value (2048) */
    uint32_t watches;           /* watches per domain (128) */
    uint32_t transactions;      /* open transactions per domain (10) */
    uint32_t perms;             /* permission entries besides the owner's (5) */
    uint32_t outstanding;       /* requests whose reply the guest has not taken (20) */
    uint32_t trans_nodes;       /* nodes one transaction may touch (1024) */
    uint32_t out_bytes;         /* queued output before a guest that does not
                                 * read its ring is cut off (262144) */
};

void xs_quota_defaults(struct xs_quota *q);
/* Set one quota by its name ("nodes", "entry-size", "watches",
 * "transactions", "perms", "outstanding", "transaction-nodes",
 * "output-bytes"). -EINVAL for an unknown name. */
int xs_quota_set(struct xs_quota *q, const char *name, uint32_t value);
/* The names, in order, for listings; NULL-terminated. */
extern const char *const xs_quota_names[];
uint32_t xs_quota_get(const struct xs_quota *q, const char *name);

enum xs_log_level { XS_LOG_INFO, XS_LOG_WARN };

struct xs_host {
    void *arg;
    /* The ring page of a domain (mfn from INTRODUCE), NULL if not RAM. */
    struct xenstore_domain_interface *(*map_ring)(void *arg, uint32_t domid, uint64_t mfn);
    /* Kick the domain's event channel (Domain 0's port). */
    void (*notify)(void *arg, uint32_t domid, uint32_t port);
    void (*log)(void *arg, enum xs_log_level level, const char *line);
    /* A watch set through xs_local_watch fired. */
    void (*local_event)(void *arg, const char *path, const char *token);
};

struct xs_server;

/* Open the server with its state in dir (created if missing): the last
 * snapshot and journal are loaded and replayed; connections of domains
 * still introduced are re-attached (map_ring), their undelivered replies
 * and watch events are queued again, and every one is kicked. dir NULL:
 * in memory only (tests). */
int xs_open(const char *dir, const struct xs_quota *q, const struct xs_host *host,
            struct xs_server **out, char *err, size_t errlen);
/* Write a snapshot (so the next start need not replay the journal) and
 * free everything. Rings are left as they are. NULL accepted. */
void xs_close(struct xs_server *s);

/* The quotas in force (CONTROL quota and xs_set_quota change them). */
const struct xs_quota *xs_get_quota(const struct xs_server *s);
int xs_set_quota(struct xs_server *s, const char *name, uint32_t value);

/* A domain's ring: start serving it (fires @introduceDomain). Same domain,
 * same ring and port again: 0. -EEXIST if introduced with another ring. */
int xs_introduce(struct xs_server *s, uint32_t domid, uint64_t mfn, uint32_t port,
                 char *err, size_t errlen);
/* Stop serving it (fires @releaseDomain); its watches and transactions go. */
int xs_release(struct xs_server *s, uint32_t domid);
int xs_is_introduced(const struct xs_server *s, uint32_t domid);
/* The introduced domains (at most max into out); returns how many there are. */
uint32_t xs_introduced(const struct xs_server *s, uint32_t *out, uint32_t max);

/* Serve one domain (its port was pending) or all. Never blocks. */
void xs_poll(struct xs_server *s, uint32_t domid);
void xs_poll_all(struct xs_server *s);

/* One request as the local toolstack (Domain 0, privileged, no
 * transaction): type and payload as on the wire. The reply payload goes to
 * reply[*reply_len] (in: its size; XS_MSG_MAX always suffices). Returns 0,
 * or -errno of the error reply. */
int xs_local(struct xs_server *s, uint32_t type, const void *payload, uint32_t len, char *reply,
             uint32_t *reply_len);
/* Helpers on xs_local. */
int xs_local_write(struct xs_server *s, const char *path, const char *value);
/* path's value into buf (NUL-terminated); -E2BIG when it does not fit len */
int xs_local_read(struct xs_server *s, const char *path, char *buf, size_t len);
int xs_local_mkdir(struct xs_server *s, const char *path);
int xs_local_rm(struct xs_server *s, const char *path);
/* perms: a space-separated list ("n0 r5"). */
int xs_local_set_perms(struct xs_server *s, const char *path, const char *perms);
/* A watch for the host (not persisted: gone after a restart). */
int xs_local_watch(struct xs_server *s, const char *path, const char *token, int add);

/* Counters for tests and status. */
struct xs_stats {
    uint64_t requests, replies, events, journal_bytes;
    uint32_t connections, nodes;
};
void xs_get_stats(const struct xs_server *s, struct xs_stats *st);

/* Is the connection of domid cut off (and why)? */
int xs_is_cut_off(const struct xs_server *s, uint32_t domid, const char **why);

#endif
