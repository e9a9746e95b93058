/* The read-only xenstore of boot-loader domains: see hv/bootstore.h. The
 * checks follow cxenstored's order for a guest's request: the type first
 * (the toolstack's requests EACCES, unknown ones ENOSYS), then the
 * transaction id, then the arguments (EINVAL), then the node. */
#include "hv/bootstore.h"
#include "hv/lib.h"

static void add(struct bootstore *s, const char *path, const char *value)
{
    if (s->nr_nodes >= BOOTSTORE_MAX_NODES)
        return;
    strlcpy(s->nodes[s->nr_nodes].path, path, sizeof(s->nodes[0].path));
    strlcpy(s->nodes[s->nr_nodes].value, value, sizeof(s->nodes[0].value));
    s->nr_nodes++;
}

static void addu(struct bootstore *s, const char *path, uint64_t v)
{
    char str[sizeof(s->nodes[0].value)];
    snprintf(str, sizeof(str), "%lu", (unsigned long)v);
    add(s, path, str);
}

/* The keys a toolstack writes for the domain (daemon/xs_host.c's set,
 * less what needs a Domain 0: the /vm entry and the console's backend
 * type and output). */
void bootstore_init(struct bootstore *s, const struct bootstore_domain *dom)
{
    static const char *const dirs[] = {
        "control", "data", "drivers", "feature", "attr", "error", "device",
    };
    memset(s, 0, sizeof(*s));
    s->domid = dom->domid;
    s->next_tx = 1;
    add(s, "", "");
    add(s, "name", dom->name);
    addu(s, "domid", dom->domid);
    add(s, "memory", "");
    addu(s, "memory/target", dom->mem_kib);
    addu(s, "memory/static-max", dom->maxmem_kib ? dom->maxmem_kib : dom->mem_kib);
    add(s, "cpu", "");
    for (uint32_t i = 0; i < (dom->vcpus ? dom->vcpus : 1) && i < 8; i++) {
        char p[sizeof(s->nodes[0].path)];
        snprintf(p, sizeof(p), "cpu/%u", i);
        add(s, p, "");
        snprintf(p, sizeof(p), "cpu/%u/availability", i);
        add(s, p, "online");
    }
    for (unsigned int i = 0; i < ARRAY_SIZE(dirs); i++)
        add(s, dirs[i], "");
    add(s, "console", "");
    addu(s, "console/ring-ref", dom->console_mfn);
    addu(s, "console/port", dom->console_port);
    add(s, "store", "");
    addu(s, "store/ring-ref", dom->store_mfn);
    addu(s, "store/port", dom->store_port);
}

static const struct bootstore_node *find(const struct bootstore *s, const char *rel)
{
    for (unsigned int i = 0; i < s->nr_nodes; i++)
        if (!strcmp(s->nodes[i].path, rel))
            return &s->nodes[i];
    return NULL;
}

/* ---- Paths ----------------------------------------------------------- */

enum where { BAD, HOME, ELSEWHERE };

static bool valid_chars(const char *p)
{
    for (; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '@' || c == '/'))
            return false;
        if (c == '/' && p[1] == '/')
            return false;
    }
    return true;
}

/* Where path is: in the home (*rel then points to the part below it, ""
 * for the home itself), elsewhere, or not a valid node name (EINVAL), as
 * cxenstored's is_valid_nodename and its relative-path rule. */
static enum where locate(const struct bootstore *s, const char *path, const char **rel)
{
    size_t len = strlen(path);
    bool abs = path[0] == '/';

    if (!len || len > (abs ? XENSTORE_ABS_PATH_MAX : XENSTORE_REL_PATH_MAX) ||
        !valid_chars(path) || (len > 1 && path[len - 1] == '/') || path[0] == '@')
        return BAD;
    if (!abs) {
        *rel = path;
        return HOME;
    }
    char home[32];
    int n = snprintf(home, sizeof(home), "/local/domain/%u", s->domid);
    if (!strncmp(path, home, (size_t)n) && (path[n] == '\0' || path[n] == '/')) {
        *rel = path[n] ? path + n + 1 : path + n;
        return HOME;
    }
    return ELSEWHERE;
}

/* ---- Replies ----------------------------------------------------------- */

struct reply {
    uint8_t *out;
    size_t max, len;
};

static void emit(struct reply *r, uint32_t type, uint32_t req_id, uint32_t tx_id,
                 const void *payload, size_t len)
{
    struct xsd_sockmsg h = { .type = type, .req_id = req_id, .tx_id = tx_id, .len = (uint32_t)len };
    if (r->len + sizeof(h) + len > r->max)
        return;
    memcpy(r->out + r->len, &h, sizeof(h));
    memcpy(r->out + r->len + sizeof(h), payload, len);
    r->len += sizeof(h) + len;
}

static void error(struct reply *r, const struct xsd_sockmsg *hdr, const char *name)
{
    emit(r, XS_ERROR, hdr->req_id, hdr->tx_id, name, strlen(name) + 1);
}

static void ok(struct reply *r, const struct xsd_sockmsg *hdr)
{
    emit(r, hdr->type, hdr->req_id, hdr->tx_id, "OK", 3);
}

static bool has_nul(const char *p, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++)
        if (!p[i])
            return true;
    return false;
}

/* The payload as NUL-terminated strings: how many (0 when it does not end
 * with a NUL). */
static unsigned int split(const char *p, uint32_t len, const char **str, unsigned int max)
{
    unsigned int n = 0;
    if (!len || p[len - 1] != '\0')
        return 0;
    for (uint32_t off = 0; off < len && n < max; off += (uint32_t)strlen(p + off) + 1)
        str[n++] = p + off;
    return n;
}

/* The children of rel, each followed by a NUL, into buf; its length. */
static size_t children(const struct bootstore *s, const char *rel, char *buf, size_t max)
{
    size_t len = 0, rl = strlen(rel);
    for (unsigned int i = 0; i < s->nr_nodes; i++) {
        const char *p = s->nodes[i].path;
        if (!p[0] || (rl && (strncmp(p, rel, rl) || p[rl] != '/')))
            continue;
        const char *c = rl ? p + rl + 1 : p;
        if (strchr(c, '/'))
            continue;                   /* a grandchild */
        size_t cl = strlen(c) + 1;
        if (len + cl > max)
            break;
        memcpy(buf + len, c, cl);
        len += cl;
    }
    return len;
}

static bool watch_exists(const struct bootstore *s, const char *w, size_t wl, unsigned int *at)
{
    for (unsigned int i = 0; i < s->nr_watches; i++)
        if (!memcmp(s->watches[i], w, wl)) {
            *at = i;
            return true;
        }
    return false;
}

size_t bootstore_request(struct bootstore *s, const struct xsd_sockmsg *hdr,
                         const char *payload, uint8_t *out, size_t outmax)
{
    struct reply r = { out, outmax, 0 };
    const char *str[3] = { NULL, NULL, NULL };
    unsigned int nstr = split(payload, hdr->len, str, 3);
    const char *rel = NULL;
    char *buf = s->scratch[0], *names = s->scratch[1];
    const size_t bufmax = sizeof(s->scratch[0]);

    switch (hdr->type) {
    case XS_CONTROL: case XS_INTRODUCE: case XS_RELEASE: case XS_IS_DOMAIN_INTRODUCED:
    case XS_RESUME:
        error(&r, hdr, "EACCES");
        return r.len;
    case XS_DIRECTORY: case XS_READ: case XS_GET_PERMS: case XS_WATCH: case XS_UNWATCH:
    case XS_TRANSACTION_START: case XS_TRANSACTION_END: case XS_GET_DOMAIN_PATH:
    case XS_WRITE: case XS_MKDIR: case XS_RM: case XS_SET_PERMS: case XS_RESET_WATCHES:
    case XS_DIRECTORY_PART:
        break;
    default:
        error(&r, hdr, "ENOSYS");
        return r.len;
    }
    if (hdr->tx_id && hdr->type != XS_WATCH && hdr->type != XS_UNWATCH &&
        hdr->type != XS_RESET_WATCHES && hdr->tx_id >= s->next_tx) {
        error(&r, hdr, "ENOENT");
        return r.len;
    }

    switch (hdr->type) {
    case XS_READ: case XS_DIRECTORY: case XS_GET_PERMS: case XS_WRITE: case XS_MKDIR:
    case XS_RM: case XS_SET_PERMS: case XS_DIRECTORY_PART: {
        /* WRITE's value and SET_PERMS's list follow the path; the first
         * string is the path for all of them. */
        bool one = hdr->type == XS_READ || hdr->type == XS_DIRECTORY ||
                   hdr->type == XS_GET_PERMS || hdr->type == XS_MKDIR || hdr->type == XS_RM;
        const char *path = hdr->type == XS_WRITE ? (has_nul(payload, hdr->len) ? payload : NULL)
                                                 : nstr && (!one || nstr == 1) ? str[0] : NULL;
        if (!path || (hdr->type == XS_DIRECTORY_PART && nstr != 2)) {
            error(&r, hdr, "EINVAL");
            return r.len;
        }
        enum where w = locate(s, path, &rel);
        if (w == BAD) {
            error(&r, hdr, "EINVAL");
            return r.len;
        }
        if (w == ELSEWHERE || hdr->type == XS_WRITE || hdr->type == XS_MKDIR ||
            hdr->type == XS_RM || hdr->type == XS_SET_PERMS) {
            error(&r, hdr, "EACCES");       /* Domain 0's nodes: the guest only reads */
            return r.len;
        }
        const struct bootstore_node *nd = find(s, rel);
        if (!nd) {
            error(&r, hdr, "ENOENT");
            return r.len;
        }
        if (hdr->type == XS_READ) {
            emit(&r, XS_READ, hdr->req_id, hdr->tx_id, nd->value, strlen(nd->value));
        } else if (hdr->type == XS_GET_PERMS) {
            int n = snprintf(buf, bufmax, "n0%cr%u", 0, s->domid);
            emit(&r, XS_GET_PERMS, hdr->req_id, hdr->tx_id, buf, (size_t)n + 1);
        } else if (hdr->type == XS_DIRECTORY) {
            size_t n = children(s, rel, buf, bufmax);
            emit(&r, XS_DIRECTORY, hdr->req_id, hdr->tx_id, buf, n);
        } else {
            /* DIRECTORY_PART: the generation, the names from the byte
             * offset on, and an empty string once the list is complete. */
            uint64_t off;
            const char *end;
            if (!parse_u64(str[1], &end, &off) || *end) {
                error(&r, hdr, "EINVAL");
                return r.len;
            }
            size_t n = children(s, rel, names, bufmax - 4);
            size_t len = (size_t)snprintf(buf, bufmax, "0") + 1;
            if (off > n) {
                error(&r, hdr, "EINVAL");
                return r.len;
            }
            memcpy(buf + len, names + off, n - off);
            len += n - off;
            buf[len++] = '\0';
            emit(&r, XS_DIRECTORY_PART, hdr->req_id, hdr->tx_id, buf, len);
        }
        return r.len;
    }
    case XS_WATCH: case XS_UNWATCH: {
        if (nstr != 2) {
            error(&r, hdr, "EINVAL");
            return r.len;
        }
        bool special = !strcmp(str[0], "@introduceDomain") || !strcmp(str[0], "@releaseDomain");
        if (!special && locate(s, str[0], &rel) == BAD) {
            error(&r, hdr, "EINVAL");
            return r.len;
        }
        size_t wl = strlen(str[0]) + 1 + strlen(str[1]) + 1;
        unsigned int at;
        bool exists = wl <= BOOTSTORE_WATCH_MAX && watch_exists(s, str[0], wl, &at);
        if (hdr->type == XS_UNWATCH) {
            if (!exists) {
                error(&r, hdr, "ENOENT");
                return r.len;
            }
            s->nr_watches--;
            memmove(s->watches[at], s->watches[at + 1],
                    (s->nr_watches - at) * sizeof(s->watches[0]));
            ok(&r, hdr);
            return r.len;
        }
        if (exists) {
            error(&r, hdr, "EEXIST");
            return r.len;
        }
        if (wl > BOOTSTORE_WATCH_MAX || s->nr_watches >= BOOTSTORE_MAX_WATCHES) {
            error(&r, hdr, "E2BIG");        /* this store's watch quota */
            return r.len;
        }
        memcpy(s->watches[s->nr_watches++], str[0], wl);
        ok(&r, hdr);
        /* Fired once as it is set, as xenstored does. */
        emit(&r, XS_WATCH_EVENT, 0, 0, str[0], wl);
        return r.len;
    }
    case XS_RESET_WATCHES:
        s->nr_watches = 0;
        ok(&r, hdr);
        return r.len;
    case XS_TRANSACTION_START: {
        if (hdr->tx_id) {
            error(&r, hdr, "EBUSY");
            return r.len;
        }
        int n = snprintf(buf, bufmax, "%u", s->next_tx++);
        emit(&r, XS_TRANSACTION_START, hdr->req_id, 0, buf, (size_t)n + 1);
        return r.len;
    }
    case XS_TRANSACTION_END:
        if (!hdr->tx_id) {
            error(&r, hdr, "ENOENT");
        } else if (nstr != 1 || (strcmp(str[0], "T") && strcmp(str[0], "F"))) {
            error(&r, hdr, "EINVAL");
        } else {
            ok(&r, hdr);                /* nothing was written: nothing conflicts */
        }
        return r.len;
    case XS_GET_DOMAIN_PATH: {
        uint64_t id;
        const char *end;
        if (nstr != 1 || !parse_u64(str[0], &end, &id) || *end || id > 0xffff) {
            error(&r, hdr, "EINVAL");
            return r.len;
        }
        int n = snprintf(buf, bufmax, "/local/domain/%lu", (unsigned long)id);
        emit(&r, XS_GET_DOMAIN_PATH, hdr->req_id, hdr->tx_id, buf, (size_t)n + 1);
        return r.len;
    }
    }
    error(&r, hdr, "ENOSYS");
    return r.len;
}

/* ---- The ring ------------------------------------------------------------ */

static void stop(struct bootstore *s, const char **why, const char *what)
{
    s->broken = true;
    *why = what;
}

bool bootstore_serve(struct bootstore *s, struct xenstore_domain_interface *intf,
                     const char **why)
{
    bool moved = false;

    *why = NULL;
    if (s->broken)
        return false;
    for (;;) {
        if (s->out_done < s->out_len) {
            XENSTORE_RING_IDX cons = __atomic_load_n(&intf->rsp_cons, __ATOMIC_ACQUIRE);
            XENSTORE_RING_IDX prod = intf->rsp_prod;
            if (prod - cons > XENSTORE_RING_SIZE)
            {
                stop(s, why, "response ring indices corrupt");
                return moved;
            }
            uint32_t n = MIN(XENSTORE_RING_SIZE - (prod - cons), s->out_len - s->out_done);
            for (uint32_t i = 0; i < n; i++)
                intf->rsp[MASK_XENSTORE_IDX(prod + i)] = (char)s->out[s->out_done + i];
            __atomic_store_n(&intf->rsp_prod, prod + n, __ATOMIC_RELEASE);
            s->out_done += n;
            moved |= n != 0;
            if (s->out_done < s->out_len)
                return moved;           /* the guest has to read first */
            s->out_len = s->out_done = 0;
        }
        XENSTORE_RING_IDX prod = __atomic_load_n(&intf->req_prod, __ATOMIC_ACQUIRE);
        XENSTORE_RING_IDX cons = intf->req_cons;
        if (prod - cons > XENSTORE_RING_SIZE)
        {
            stop(s, why, "request ring indices corrupt");
            return moved;
        }
        const struct xsd_sockmsg *hdr = (const struct xsd_sockmsg *)s->in;
        uint32_t want = s->in_len < sizeof(*hdr) ? (uint32_t)sizeof(*hdr) - s->in_len
                                                 : (uint32_t)sizeof(*hdr) + hdr->len - s->in_len;
        uint32_t n = MIN(prod - cons, want);
        for (uint32_t i = 0; i < n; i++)
            s->in[s->in_len + i] = (uint8_t)intf->req[MASK_XENSTORE_IDX(cons + i)];
        __atomic_store_n(&intf->req_cons, cons + n, __ATOMIC_RELEASE);
        s->in_len += n;
        moved |= n != 0;
        if (s->in_len >= sizeof(*hdr) && hdr->len > XENSTORE_PAYLOAD_MAX)
        {
            stop(s, why, "a request longer than XENSTORE_PAYLOAD_MAX");
            return moved;
        }
        if (s->in_len < sizeof(*hdr) || s->in_len < sizeof(*hdr) + hdr->len) {
            if (n == prod - cons)
                return moved;           /* the rest comes later */
            continue;                   /* the header is in: now its payload */
        }
        struct xsd_sockmsg h = *hdr;
        s->out_len = (uint32_t)bootstore_request(s, &h, (const char *)s->in + sizeof(h),
                                                 s->out, sizeof(s->out));
        s->out_done = 0;
        s->in_len = 0;
    }
}
