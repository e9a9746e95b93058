/*
 * xs_transaction.c - transactions (see xs_transaction.h).
 *
 * Owns: the transaction's tree copy, its access set and its change log.
 * Invariants: acc[] has distinct paths, each with the generation seen the
 * first time (the copy's generations are the live tree's as of the start);
 * ops[] are exactly the changes that succeeded in the copy, in order.
 */
#include "xs_transaction.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void xs_tx_record(void *arg, const char *path, uint64_t gen)
{
    struct xs_tx *tx = arg;
    struct xs_access *a;

    for (uint32_t i = 0; i < tx->nacc; i++)
        if (!strcmp(tx->acc[i].path, path))
            return;
    /* a node this transaction made: its first sight was recorded already */
    if (gen > tx->start_gen)
        return;
    if (tx->max_nodes && tx->nacc >= tx->max_nodes) {
        tx->overflow = 1;
        return;
    }
    if (tx->nacc == tx->cacc) {
        uint32_t cap = tx->cacc ? tx->cacc * 2 : 16;
        a = realloc(tx->acc, cap * sizeof(*a));
        if (!a) {
            tx->overflow = 1;
            return;
        }
        tx->acc = a;
        tx->cacc = cap;
    }
    a = &tx->acc[tx->nacc];
    a->path = strdup(path);
    if (!a->path) {
        tx->overflow = 1;
        return;
    }
    a->gen = gen;
    tx->nacc++;
}

int xs_tx_start(struct xs_tx *tx, const struct xs_tree *live, uint32_t id, const struct xs_who *who,
                uint32_t max_nodes)
{
    int rc;

    memset(tx, 0, sizeof(*tx));
    rc = xs_tree_clone(live, &tx->tree);
    if (rc < 0)
        return rc;
    tx->id = id;
    tx->start_gen = *live->gen;
    tx->who = *who;
    tx->max_nodes = max_nodes;
    tx->tree.access = xs_tx_record;
    tx->tree.access_arg = tx;
    return 0;
}

static void op_free(struct xs_op *op)
{
    free(op->path);
    free(op->value);
}

void xs_tx_free(struct xs_tx *tx)
{
    xs_tree_free(&tx->tree);
    for (uint32_t i = 0; i < tx->nacc; i++)
        free(tx->acc[i].path);
    for (uint32_t i = 0; i < tx->nops; i++)
        op_free(&tx->ops[i]);
    free(tx->acc);
    free(tx->ops);
    tx->acc = NULL;
    tx->ops = NULL;
    tx->nacc = tx->nops = 0;
}

int xs_tx_check(const struct xs_tx *tx)
{
    return tx->overflow ? -ENOSPC : 0;
}

int xs_tx_log(struct xs_tx *tx, uint32_t type, const char *path, const void *value, uint32_t len,
              const struct xs_perms *perms)
{
    struct xs_op op = { .type = type, .len = len };

    if (tx->nops == tx->cops) {
        uint32_t cap = tx->cops ? tx->cops * 2 : 8;
        struct xs_op *o = realloc(tx->ops, cap * sizeof(*o));
        if (!o)
            return -ENOMEM;
        tx->ops = o;
        tx->cops = cap;
    }
    op.path = strdup(path);
    if (len) {
        op.value = malloc(len);
        if (op.value)
            memcpy(op.value, value, len);
    }
    if (!op.path || (len && !op.value)) {
        op_free(&op);
        return -ENOMEM;
    }
    if (perms)
        op.perms = *perms;
    tx->ops[tx->nops++] = op;
    return 0;
}

int xs_op_apply(struct xs_tree *t, const struct xs_who *who, const struct xs_op *op,
                struct xs_change *chg, int *changed)
{
    *changed = 1;
    switch (op->type) {
    case XS_WRITE:
        return xs_tree_write(t, who, op->path, op->value, op->len, chg);
    case XS_MKDIR:
        return xs_tree_mkdir(t, who, op->path, changed, chg);
    case XS_RM:
        return xs_tree_rm(t, who, op->path, changed, chg);
    case XS_SET_PERMS:
        return xs_tree_set_perms(t, who, op->path, &op->perms, chg);
    default:
        return -EINVAL;
    }
}

int xs_tx_commit(struct xs_tx *tx, struct xs_tree *live, struct xs_change **changes,
                 uint32_t *nchanges)
{
    struct xs_tree next;
    struct xs_change *ch = NULL;
    uint32_t n = 0;
    int rc, changed;

    *changes = NULL;
    *nchanges = 0;
    if (tx->overflow)
        return -ENOSPC;
    for (uint32_t i = 0; i < tx->nacc; i++) {
        const struct xs_node *node = xs_tree_find(live, tx->acc[i].path);
        if ((node ? node->gen : 0) != tx->acc[i].gen)
            return -EAGAIN;
    }
    if (tx->nops == 0)
        return 0;
    ch = calloc(tx->nops, sizeof(*ch));
    if (!ch)
        return -ENOMEM;
    rc = xs_tree_clone(live, &next);
    if (rc < 0) {
        free(ch);
        return rc;
    }
    for (uint32_t i = 0; i < tx->nops; i++) {
        rc = xs_op_apply(&next, &tx->who, &tx->ops[i], &ch[n], &changed);
        if (rc < 0) {
            xs_tree_free(&next);
            free(ch);
            return rc;
        }
        if (changed)
            n++;
    }
    next.access = live->access;
    next.access_arg = live->access_arg;
    xs_tree_free(live);
    *live = next;
    *changes = ch;
    *nchanges = n;
    return 0;
}
