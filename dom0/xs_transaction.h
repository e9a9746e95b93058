/*
 * xs_transaction.h - xenstore transactions with conflict detection.
 *
 * A transaction works on a private copy of the tree taken at its start.
 * Every node it looks at is recorded once with the generation it had then
 * (0: absent); every change it makes is logged. At commit, if any recorded
 * node's generation in the live tree differs, something else changed what
 * the transaction saw: the commit fails with -EAGAIN (as in xenstored) and
 * nothing is applied. Otherwise the logged changes are replayed, with the
 * same permissions and quotas, on a copy of the live tree that then
 * replaces it: a commit applies all or nothing.
 *
 * Limits: at most `max_nodes` distinct nodes per transaction (Xen's
 * quota-trans-nodes, 1024): -ENOSPC beyond.
 */
#ifndef DOM0_XS_TRANSACTION_H
#define DOM0_XS_TRANSACTION_H

#include <stdint.h>

#include "xs_tree.h"

struct xs_access {
    char *path;
    uint64_t gen;
};

/* A logged change: XS_WRITE (value), XS_MKDIR, XS_RM, XS_SET_PERMS (perms). */
struct xs_op {
    uint32_t type;
    char *path;
    char *value;
    uint32_t len;
    struct xs_perms perms;
};

struct xs_tx {
    struct xs_tx *next;
    uint32_t id;
    struct xs_who who;
    struct xs_tree tree;
    uint64_t start_gen;             /* the generation counter at the start */
    struct xs_access *acc;
    uint32_t nacc, cacc, max_nodes;
    int overflow;                   /* more nodes than max_nodes were touched */
    struct xs_op *ops;
    uint32_t nops, cops;
};

/* Start: copy live. The copy's access hook records into tx. */
int xs_tx_start(struct xs_tx *tx, const struct xs_tree *live, uint32_t id, const struct xs_who *who,
                uint32_t max_nodes);
void xs_tx_free(struct xs_tx *tx);

/* After an operation inside the transaction: -ENOSPC if it touched too
 * many nodes (the operation stands in the copy; the commit will refuse). */
int xs_tx_check(const struct xs_tx *tx);
/* Log a successful change (copies its arguments). */
int xs_tx_log(struct xs_tx *tx, uint32_t type, const char *path, const void *value, uint32_t len,
              const struct xs_perms *perms);

/* Record an access directly (the transaction's snapshot read it). */
void xs_tx_record(void *tx, const char *path, uint64_t gen);

/* Commit into live: 0, -EAGAIN on a conflict, -ENOSPC if the transaction
 * was too big, or the error of a change that no longer applies. On success
 * *changes (malloc'd, *nchanges) are what the watches must see. */
int xs_tx_commit(struct xs_tx *tx, struct xs_tree *live, struct xs_change **changes,
                 uint32_t *nchanges);

/* Replay one logged change on t (used by commit and by persistence). */
int xs_op_apply(struct xs_tree *t, const struct xs_who *who, const struct xs_op *op,
                struct xs_change *chg, int *changed);

#endif
