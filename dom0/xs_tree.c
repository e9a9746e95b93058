/*
 * xs_tree.c - the xenstore tree and its operations (see xs_tree.h).
 *
 * Owns: every node reachable from t->root and the per-owner node counts.
 * Invariants: counts[] holds, for each owner, exactly the nodes whose
 * perms.p[0].domid is that owner; every node's name is a valid component;
 * kids[] of a node are distinct names. Operations validate everything and
 * allocate what they need before the first change.
 * No locking: one server, one thread (pvd's loop).
 */
#include "xs_tree.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- counts ---- */

static struct xs_owner_count *count_slot(struct xs_tree *t, uint32_t domid, int create)
{
    struct xs_owner_count *c;

    for (uint32_t i = 0; i < t->ncounts; i++)
        if (t->counts[i].domid == domid)
            return &t->counts[i];
    if (!create)
        return NULL;
    if (t->ncounts == t->ccap) {
        uint32_t cap = t->ccap ? t->ccap * 2 : 8;
        c = realloc(t->counts, cap * sizeof(*c));
        if (!c)
            return NULL;
        t->counts = c;
        t->ccap = cap;
    }
    c = &t->counts[t->ncounts++];
    c->domid = domid;
    c->nodes = 0;
    return c;
}

uint32_t xs_tree_owned(const struct xs_tree *t, uint32_t domid)
{
    for (uint32_t i = 0; i < t->ncounts; i++)
        if (t->counts[i].domid == domid)
            return t->counts[i].nodes;
    return 0;
}

static void count_add(struct xs_tree *t, uint32_t domid, int delta)
{
    struct xs_owner_count *c = count_slot(t, domid, 0);

    /* Slots are reserved (count_reserve) before any node is created. */
    if (c)
        c->nodes = (uint32_t)((int64_t)c->nodes + delta);
}

static int count_reserve(struct xs_tree *t, uint32_t domid)
{
    return count_slot(t, domid, 1) ? 0 : -ENOMEM;
}

/* ---- nodes ---- */

static struct xs_node *node_new(const char *name, size_t namelen)
{
    struct xs_node *n = calloc(1, sizeof(*n));

    if (!n)
        return NULL;
    n->name = strndup(name, namelen);
    if (!n->name) {
        free(n);
        return NULL;
    }
    return n;
}

static void node_free(struct xs_node *n)
{
    if (!n)
        return;
    for (uint32_t i = 0; i < n->nkids; i++)
        node_free(n->kids[i]);
    free(n->kids);
    free(n->value);
    free(n->name);
    free(n);
}

static int kids_reserve(struct xs_node *n, uint32_t extra)
{
    struct xs_node **k;
    uint32_t cap;

    if (n->nkids + extra <= n->kcap)
        return 0;
    cap = n->kcap ? n->kcap : 4;
    while (cap < n->nkids + extra)
        cap *= 2;
    k = realloc(n->kids, cap * sizeof(*k));
    if (!k)
        return -ENOMEM;
    n->kids = k;
    n->kcap = cap;
    return 0;
}

static struct xs_node *kid_find(const struct xs_node *n, const char *name, size_t len)
{
    for (uint32_t i = 0; i < n->nkids; i++)
        if (strlen(n->kids[i]->name) == len && !memcmp(n->kids[i]->name, name, len))
            return n->kids[i];
    return NULL;
}

static void kid_remove(struct xs_node *parent, struct xs_node *kid)
{
    for (uint32_t i = 0; i < parent->nkids; i++)
        if (parent->kids[i] == kid) {
            memmove(&parent->kids[i], &parent->kids[i + 1],
                    (parent->nkids - i - 1) * sizeof(parent->kids[0]));
            parent->nkids--;
            return;
        }
}

static uint64_t next_gen(struct xs_tree *t)
{
    return ++*t->gen;
}

int xs_tree_init(struct xs_tree *t, uint64_t *gen, const struct xs_limits *limits)
{
    memset(t, 0, sizeof(*t));
    t->gen = gen;
    t->limits = limits;
    t->root = node_new("", 0);
    if (!t->root || count_reserve(t, 0) < 0) {
        xs_tree_free(t);
        return -ENOMEM;
    }
    t->root->perms.n = 1;
    t->root->perms.p[0].domid = 0;
    t->root->perms.p[0].perm = XS_PERM_NONE;
    t->root->gen = next_gen(t);
    count_add(t, 0, 1);
    return 0;
}

void xs_tree_free(struct xs_tree *t)
{
    node_free(t->root);
    free(t->counts);
    t->root = NULL;
    t->counts = NULL;
    t->ncounts = t->ccap = 0;
}

static struct xs_node *node_clone(const struct xs_node *src, struct xs_node *parent)
{
    struct xs_node *n = node_new(src->name, strlen(src->name));

    if (!n)
        return NULL;
    n->parent = parent;
    n->gen = src->gen;
    n->perms = src->perms;
    n->len = src->len;
    if (src->len) {
        n->value = malloc(src->len);
        if (!n->value)
            goto fail;
        memcpy(n->value, src->value, src->len);
    }
    if (kids_reserve(n, src->nkids) < 0)
        goto fail;
    for (uint32_t i = 0; i < src->nkids; i++) {
        n->kids[i] = node_clone(src->kids[i], n);
        if (!n->kids[i])
            goto fail;
        n->nkids++;
    }
    return n;
fail:
    node_free(n);
    return NULL;
}

int xs_tree_clone(const struct xs_tree *src, struct xs_tree *dst)
{
    memset(dst, 0, sizeof(*dst));
    dst->gen = src->gen;
    dst->limits = src->limits;
    dst->root = node_clone(src->root, NULL);
    dst->counts = malloc((src->ccap ? src->ccap : 1) * sizeof(*dst->counts));
    if (!dst->root || !dst->counts) {
        xs_tree_free(dst);
        return -ENOMEM;
    }
    memcpy(dst->counts, src->counts, src->ncounts * sizeof(*dst->counts));
    dst->ncounts = src->ncounts;
    dst->ccap = src->ccap ? src->ccap : 1;
    return 0;
}

/* Walk path as far as it exists: the deepest existing node, and in
 * *rest the offset of the first missing component (or the path length). */
static struct xs_node *walk(const struct xs_tree *t, const char *path, size_t *rest)
{
    struct xs_node *n = t->root, *k;
    size_t i = 1, len = strlen(path);

    while (i < len) {
        size_t j = i;
        while (j < len && path[j] != '/')
            j++;
        k = kid_find(n, path + i, j - i);
        if (!k)
            break;
        n = k;
        i = j + 1;
    }
    *rest = i < len ? i : len;
    return n;
}

struct xs_node *xs_tree_find(const struct xs_tree *t, const char *path)
{
    size_t rest;
    struct xs_node *n;

    if (path[0] != '/')
        return NULL;
    n = walk(t, path, &rest);
    return rest == strlen(path) ? n : NULL;
}

static void touch(struct xs_tree *t, const char *path, size_t len, uint64_t gen)
{
    char buf[XENSTORE_ABS_PATH_MAX + 1];

    if (!t->access)
        return;
    if (len == 0)
        len = 1;            /* the root */
    if (len > XENSTORE_ABS_PATH_MAX)
        return;
    memcpy(buf, path, len);
    buf[len] = '\0';
    t->access(t->access_arg, buf, gen);
}

uint32_t xs_perm_of(const struct xs_perms *p, const struct xs_who *w)
{
    if (w->priv || p->p[0].domid == w->domid)
        return XS_PERM_BOTH | XS_PERM_OWNER;
    for (uint32_t i = 1; i < p->n; i++)
        if (p->p[i].domid == w->domid)
            return p->p[i].perm;
    return p->p[0].perm;
}

static void change_fill(struct xs_change *chg, const char *path, int recursive,
                        const struct xs_perms *perms)
{
    if (!chg)
        return;
    snprintf(chg->path, sizeof(chg->path), "%s", path);
    chg->recursive = recursive;
    chg->perms = *perms;
    chg->new_perms.n = 0;
}

int xs_tree_read(struct xs_tree *t, const struct xs_who *w, const char *path,
                 const struct xs_node **out)
{
    struct xs_node *n = xs_tree_find(t, path);

    touch(t, path, strlen(path), n ? n->gen : 0);
    if (!n)
        return -ENOENT;
    if (!(xs_perm_of(&n->perms, w) & XS_PERM_READ))
        return -EACCES;
    *out = n;
    return 0;
}

/* Create the missing components of path below parent (path[rest..]).
 * Checks permission on parent and the owner's quota, then allocates the
 * whole chain, then links it: nothing changes on failure. */
static int create_chain(struct xs_tree *t, const struct xs_who *w, struct xs_node *parent,
                        const char *path, size_t rest, struct xs_node **leaf)
{
    struct xs_node *top = NULL, *cur = NULL, *n;
    size_t i = rest, len = strlen(path);
    uint32_t count = 0, owner;
    struct xs_perms perms = parent->perms;

    if (!(xs_perm_of(&parent->perms, w) & XS_PERM_WRITE))
        return -EACCES;
    if (!w->priv)
        perms.p[0].domid = w->domid;
    owner = perms.p[0].domid;
    for (size_t j = rest; j <= len; j++)
        if (j == len || path[j] == '/')
            count++;
    if (!w->priv && t->limits && t->limits->nodes &&
        xs_tree_owned(t, owner) + count > t->limits->nodes)
        return -ENOSPC;
    if (count_reserve(t, owner) < 0 || kids_reserve(parent, 1) < 0)
        return -ENOMEM;
    while (i < len) {
        size_t j = i;
        while (j < len && path[j] != '/')
            j++;
        n = node_new(path + i, j - i);
        if (!n || (cur && kids_reserve(cur, 1) < 0)) {
            node_free(n);
            node_free(top);
            return -ENOMEM;
        }
        n->perms = perms;
        if (cur) {
            n->parent = cur;
            cur->kids[cur->nkids++] = n;
        } else {
            top = n;
        }
        cur = n;
        i = j + 1;
    }
    /* link: every new node and the parent get fresh generations */
    top->parent = parent;
    parent->kids[parent->nkids++] = top;
    parent->gen = next_gen(t);
    for (n = top; n; n = n->nkids ? n->kids[0] : NULL)
        n->gen = next_gen(t);
    count_add(t, owner, (int)count);
    *leaf = cur;
    return 0;
}

static int lookup_for_change(struct xs_tree *t, const char *path, struct xs_node **n,
                             size_t *rest)
{
    *n = walk(t, path, rest);
    if (*rest == strlen(path)) {
        touch(t, path, *rest, (*n)->gen);
        return 1;
    }
    /* absent: the path and each missing ancestor read as absent, the
     * nearest existing ancestor with its generation */
    for (size_t i = *rest, len = strlen(path); i <= len; i++)
        if (i == len || path[i] == '/')
            touch(t, path, i, 0);
    touch(t, path, *rest ? *rest - 1 : 0, (*n)->gen);
    return 0;
}

int xs_tree_write(struct xs_tree *t, const struct xs_who *w, const char *path, const void *value,
                  uint32_t len, struct xs_change *chg)
{
    struct xs_node *n;
    size_t rest;
    char *copy = NULL;
    int rc;

    if (path[0] != '/')
        return -EINVAL;
    if (!w->priv && t->limits && t->limits->entry_size && len > t->limits->entry_size)
        return -ENOSPC;
    if (len) {
        copy = malloc(len);
        if (!copy)
            return -ENOMEM;
        memcpy(copy, value, len);
    }
    if (lookup_for_change(t, path, &n, &rest)) {
        if (!(xs_perm_of(&n->perms, w) & XS_PERM_WRITE)) {
            free(copy);
            return -EACCES;
        }
    } else {
        rc = create_chain(t, w, n, path, rest, &n);
        if (rc < 0) {
            free(copy);
            return rc;
        }
    }
    free(n->value);
    n->value = copy;
    n->len = len;
    n->gen = next_gen(t);
    change_fill(chg, path, 0, &n->perms);
    return 0;
}

int xs_tree_mkdir(struct xs_tree *t, const struct xs_who *w, const char *path, int *created,
                  struct xs_change *chg)
{
    struct xs_node *n;
    size_t rest;
    int rc;

    *created = 0;
    if (path[0] != '/')
        return -EINVAL;
    if (lookup_for_change(t, path, &n, &rest))
        return (xs_perm_of(&n->perms, w) & XS_PERM_WRITE) ? 0 : -EACCES;
    rc = create_chain(t, w, n, path, rest, &n);
    if (rc < 0)
        return rc;
    *created = 1;
    change_fill(chg, path, 0, &n->perms);
    return 0;
}

static void uncount(struct xs_tree *t, const struct xs_node *n)
{
    for (uint32_t i = 0; i < n->nkids; i++)
        uncount(t, n->kids[i]);
    count_add(t, n->perms.p[0].domid, -1);
}

int xs_tree_rm(struct xs_tree *t, const struct xs_who *w, const char *path, int *removed,
               struct xs_change *chg)
{
    struct xs_node *n, *parent;
    size_t rest;

    *removed = 0;
    if (path[0] != '/' || !strcmp(path, "/"))
        return -EINVAL;
    if (!lookup_for_change(t, path, &n, &rest)) {
        /* absent: fine if its parent exists (Xen), else ENOENT */
        const char *slash = strrchr(path, '/');
        return (size_t)(slash - path) <= (rest ? rest - 1 : 0) ? 0 : -ENOENT;
    }
    if (!(xs_perm_of(&n->perms, w) & XS_PERM_WRITE))
        return -EACCES;
    parent = n->parent;
    touch(t, path, (size_t)(strrchr(path, '/') - path), parent->gen);
    change_fill(chg, path, 1, &n->perms);
    kid_remove(parent, n);
    parent->gen = next_gen(t);
    uncount(t, n);
    node_free(n);
    *removed = 1;
    return 0;
}

int xs_tree_set_perms(struct xs_tree *t, const struct xs_who *w, const char *path,
                      const struct xs_perms *perms, struct xs_change *chg)
{
    struct xs_node *n;
    size_t rest;
    uint32_t have;

    if (path[0] != '/' || perms->n < 1 || perms->n > XS_PERMS_MAX)
        return -EINVAL;
    if (!lookup_for_change(t, path, &n, &rest))
        return -ENOENT;
    have = xs_perm_of(&n->perms, w);
    if ((have & (XS_PERM_WRITE | XS_PERM_OWNER)) != (XS_PERM_WRITE | XS_PERM_OWNER))
        return -EACCES;
    if (!w->priv) {
        if (perms->p[0].domid != n->perms.p[0].domid)
            return -EPERM;
        if (t->limits && t->limits->perms && perms->n - 1 > t->limits->perms)
            return -ENOSPC;
    }
    if (count_reserve(t, perms->p[0].domid) < 0)
        return -ENOMEM;
    change_fill(chg, path, 0, &n->perms);
    if (chg)
        chg->new_perms = *perms;
    count_add(t, n->perms.p[0].domid, -1);
    count_add(t, perms->p[0].domid, 1);
    n->perms = *perms;
    n->gen = next_gen(t);
    return 0;
}

int xs_perms_parse(const char *const *argv, unsigned n, struct xs_perms *out)
{
    if (n < 1)
        return -EINVAL;
    if (n > XS_PERMS_MAX)
        return -ENOSPC;
    out->n = n;
    for (unsigned i = 0; i < n; i++) {
        const char *s = argv[i];
        switch (s[0]) {
        case 'n': out->p[i].perm = XS_PERM_NONE; break;
        case 'r': out->p[i].perm = XS_PERM_READ; break;
        case 'w': out->p[i].perm = XS_PERM_WRITE; break;
        case 'b': out->p[i].perm = XS_PERM_BOTH; break;
        default: return -EINVAL;
        }
        if (xs_parse_domid(s + 1, &out->p[i].domid) < 0)
            return -EINVAL;
    }
    return 0;
}

void xs_perm_format(const struct xs_perm *p, char out[16])
{
    static const char letters[4] = { 'n', 'r', 'w', 'b' };

    snprintf(out, 16, "%c%u", letters[p->perm & 3], p->domid);
}

static int walk_node(const struct xs_node *n, char *path, size_t len, xs_visit_fn fn, void *arg)
{
    int rc = fn(arg, len ? path : "/", n);

    for (uint32_t i = 0; !rc && i < n->nkids; i++) {
        size_t nl = strlen(n->kids[i]->name);
        if (len + 1 + nl > XENSTORE_ABS_PATH_MAX)
            continue;
        path[len] = '/';
        memcpy(path + len + 1, n->kids[i]->name, nl + 1);
        rc = walk_node(n->kids[i], path, len + 1 + nl, fn, arg);
        path[len] = '\0';
    }
    return rc;
}

int xs_tree_walk(const struct xs_tree *t, const char *path, xs_visit_fn fn, void *arg)
{
    char buf[XENSTORE_ABS_PATH_MAX + 1];
    const struct xs_node *n = xs_tree_find(t, path);
    size_t len;

    if (!n)
        return -ENOENT;
    len = strcmp(path, "/") ? strlen(path) : 0;
    memcpy(buf, path, len);
    buf[len] = '\0';
    return walk_node(n, buf, len, fn, arg);
}

int xs_tree_restore(struct xs_tree *t, const char *path, const void *value, uint32_t len,
                    uint64_t gen, const struct xs_perms *perms)
{
    struct xs_node *n, *parent;
    const char *slash = strrchr(path, '/');
    char *copy = NULL;
    size_t rest;

    if (path[0] != '/' || perms->n < 1 || perms->n > XS_PERMS_MAX)
        return -EINVAL;
    if (len && !(copy = malloc(len)))
        return -ENOMEM;
    if (len)
        memcpy(copy, value, len);
    if (count_reserve(t, perms->p[0].domid) < 0)
        goto nomem;
    if (!strcmp(path, "/")) {
        n = t->root;
    } else {
        parent = walk(t, path, &rest);
        if (rest != (size_t)(slash - path) + 1 || !slash[1]) {
            free(copy);
            return rest == strlen(path) ? -EEXIST : -EINVAL;
        }
        if (kids_reserve(parent, 1) < 0)
            goto nomem;
        n = node_new(slash + 1, strlen(slash + 1));
        if (!n)
            goto nomem;
        n->parent = parent;
        parent->kids[parent->nkids++] = n;
        n->perms.n = 1;
        n->perms.p[0].domid = 0;
        count_add(t, 0, 1);     /* moved to the real owner below */
    }
    count_add(t, n->perms.p[0].domid, -1);
    count_add(t, perms->p[0].domid, 1);
    free(n->value);
    n->value = copy;
    n->len = len;
    n->gen = gen;
    n->perms = *perms;
    return 0;
nomem:
    free(copy);
    return -ENOMEM;
}
