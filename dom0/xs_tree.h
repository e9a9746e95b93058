/*
 * xs_tree.h - the xenstore tree: nodes with a value, permissions and a
 * generation count, and the operations guests and the toolstack apply to
 * it, with Xen's permission rules and the per-domain node and entry-size
 * quotas.
 *
 * Permissions (docs/misc/xenstore.txt): perms[0] names the owner and the
 * access of every domain not listed; perms[1..] give one domain r (read),
 * w (write), b (both) or n (none). The owner and privileged callers
 * (Domain 0) may do everything. A new node inherits its parent's
 * permissions; an unprivileged creator becomes its owner.
 *
 * Generations: every node carries the value of a counter shared by all
 * trees of one server (xs_tree_init's gen); a node's generation changes
 * when its value, permissions or list of children change or when it is
 * created. 0 means "absent" to the access hook transactions use.
 *
 * Quotas are charged to a node's owner and apply to unprivileged callers:
 * nodes per domain (ENOSPC), value size (ENOSPC), permission entries
 * (ENOSPC). Limits live in struct xs_limits, owned by the server.
 *
 * Every operation checks everything (path, permissions, quotas) before it
 * changes anything: it either succeeds whole or changes nothing.
 */
#ifndef DOM0_XS_TREE_H
#define DOM0_XS_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "xs_wire.h"

#define XS_PERM_NONE   0u
#define XS_PERM_READ   1u
#define XS_PERM_WRITE  2u
#define XS_PERM_BOTH   3u
#define XS_PERM_OWNER  4u           /* internal: the caller owns the node */
#define XS_PERMS_MAX   XS_ARGS_MAX  /* entries a node can carry at all */

struct xs_perm {
    uint32_t domid;
    uint32_t perm;                  /* XS_PERM_NONE .. XS_PERM_BOTH */
};

struct xs_perms {
    uint32_t n;                     /* >= 1 */
    struct xs_perm p[XS_PERMS_MAX];
};

struct xs_node {
    char *name;                     /* last component ("" for the root) */
    struct xs_node *parent;
    struct xs_node **kids;          /* in creation order */
    uint32_t nkids, kcap;
    char *value;                    /* not terminated; NULL if len == 0 */
    uint32_t len;
    uint64_t gen;
    struct xs_perms perms;
};

/* Quota limits (0 = unlimited), applied to unprivileged callers. */
struct xs_limits {
    uint32_t nodes;                 /* nodes owned per domain (1000) */
    uint32_t entry_size;            /* value bytes per node (2048) */
    uint32_t perms;                 /* permission entries beyond the owner's (5) */
};

/* Who asks. priv: Domain 0 (or the local toolstack): all access. */
struct xs_who {
    uint32_t domid;
    int priv;
};

/* What an operation changed, for the watches. recursive: a removal (the
 * watches below path fire too). perms: the node's before the change;
 * new_perms (n = 0: unchanged) after it. A watcher that may read the node
 * under either sees the event (as xenstored). */
struct xs_change {
    char path[XENSTORE_ABS_PATH_MAX + 1];
    int recursive;
    struct xs_perms perms, new_perms;
};

/* Called for every node an operation looks at (gen 0: absent). */
typedef void (*xs_access_fn)(void *arg, const char *path, uint64_t gen);

struct xs_owner_count {
    uint32_t domid, nodes;
};

struct xs_tree {
    struct xs_node *root;
    uint64_t *gen;                  /* the server's counter */
    const struct xs_limits *limits;
    struct xs_owner_count *counts;
    uint32_t ncounts, ccap;
    xs_access_fn access;
    void *access_arg;
};

/* An empty tree: "/" owned by Domain 0, no access for others ("n0"). */
int xs_tree_init(struct xs_tree *t, uint64_t *gen, const struct xs_limits *limits);
void xs_tree_free(struct xs_tree *t);
/* A deep copy (generations kept, no access hook). */
int xs_tree_clone(const struct xs_tree *src, struct xs_tree *dst);

/* The node at an absolute path, or NULL. No permission check, no hook. */
struct xs_node *xs_tree_find(const struct xs_tree *t, const char *path);
/* Nodes owned by domid. */
uint32_t xs_tree_owned(const struct xs_tree *t, uint32_t domid);
/* The access w has to n (XS_PERM_* bits, OWNER included). */
uint32_t xs_perm_of(const struct xs_perms *p, const struct xs_who *w);

/* Operations; paths are canonical (xs_path_canonical). 0 or -errno:
 * -ENOENT, -EACCES, -EINVAL, -ENOSPC, -EPERM. */
int xs_tree_read(struct xs_tree *t, const struct xs_who *w, const char *path,
                 const struct xs_node **out);
int xs_tree_write(struct xs_tree *t, const struct xs_who *w, const char *path, const void *value,
                  uint32_t len, struct xs_change *chg);
/* *created = 0 when the node existed already (nothing changed, no change). */
int xs_tree_mkdir(struct xs_tree *t, const struct xs_who *w, const char *path, int *created,
                  struct xs_change *chg);
/* *removed = 0 when the node was absent but its parent exists (OK in Xen). */
int xs_tree_rm(struct xs_tree *t, const struct xs_who *w, const char *path, int *removed,
               struct xs_change *chg);
int xs_tree_set_perms(struct xs_tree *t, const struct xs_who *w, const char *path,
                      const struct xs_perms *perms, struct xs_change *chg);

/* Permissions as strings ("r0", "b5"): parse argv[0..n) (-EINVAL on a bad
 * letter or domid, -ENOSPC beyond XS_PERMS_MAX), format one entry. */
int xs_perms_parse(const char *const *argv, unsigned n, struct xs_perms *out);
void xs_perm_format(const struct xs_perm *p, char out[16]);

/* Put a node back as it was (snapshot loading): its parent must exist
 * (parents come first), "/" updates the root. -EINVAL, -EEXIST, -ENOMEM. */
int xs_tree_restore(struct xs_tree *t, const char *path, const void *value, uint32_t len,
                    uint64_t gen, const struct xs_perms *perms);

/* Depth-first visit (parents before children); stops at a non-zero return. */
typedef int (*xs_visit_fn)(void *arg, const char *path, const struct xs_node *n);
int xs_tree_walk(const struct xs_tree *t, const char *path, xs_visit_fn fn, void *arg);

#endif
