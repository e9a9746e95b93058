/*
 * console.c - the minimal console backend (see console.h for the
 * exactly-once protocol between the ring, the log and <log>.pos).
 *
 * Owns: struct console (the log and .pos descriptors, the log offset, the
 * partial line for the callback) and the log's rotated files. The ring
 * page is borrowed.
 * Invariants: log_off is the log's size; the .pos record always describes
 * the last chunk started (written before the chunk's bytes reach the log).
 * With a limit (console_set_log_limit), the log never passes max_bytes:
 * before a chunk that would take it past, the log is rotated (LOG.k-1 ->
 * LOG.k for k = keep .. 2, LOG -> LOG.1, a new empty LOG; LOG.keep
 * falls off) or, with keep 0, emptied. A rotation happens between chunks,
 * when the last one is acknowledged, so a crash anywhere in it leaves the
 * record naming an acknowledged chunk: nothing to undo, nothing lost.
 */
#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dom0_error.h"

#define POS_MAGIC "PVCONS2"    /* 2: the identity carries the backend port */

/* The .pos record, written in place with one pwrite. */
struct console_pos {
    char magic[8];
    struct console_identity id;
    uint64_t log_size;              /* log size before the chunk */
    uint32_t cons_before, cons_after;   /* the chunk: ring [before, after) */
};

struct console {
    struct console_identity id;
    struct xencons_interface *ring;
    int log_fd, pos_fd;
    char *log_path;
    uint64_t log_off, logged;
    uint64_t max_bytes;             /* 0: no limit */
    unsigned int keep;              /* rotated files kept */
    uint64_t rotations;
    console_line_fn line_fn;
    void *line_arg;
    size_t line_len;
    char line[CONSOLE_LINE_MAX];
};

static int pos_path(const char *log_path, char *buf, size_t len, char *err, size_t errlen)
{
    if ((size_t)snprintf(buf, len, "%s.pos", log_path) >= len)
        return dom0_fail(err, errlen, ENAMETOOLONG, "console log path '%s' is too long",
                         log_path);
    return 0;
}

static int identity_equal(const struct console_identity *a, const struct console_identity *b)
{
    return a->boot_id == b->boot_id && a->domid == b->domid && a->ring_mfn == b->ring_mfn &&
           a->backend_port == b->backend_port &&
           !memcmp(a->handle, b->handle, sizeof(a->handle));
}

static int read_pos(int fd, struct console_pos *pos)
{
    return pread(fd, pos, sizeof(*pos), 0) == (ssize_t)sizeof(*pos) &&
           !memcmp(pos->magic, POS_MAGIC, sizeof(POS_MAGIC));
}

static int write_pos(struct console *c, uint32_t before, uint32_t after, char *err, size_t errlen)
{
    struct console_pos pos;

    memset(&pos, 0, sizeof(pos));
    memcpy(pos.magic, POS_MAGIC, sizeof(POS_MAGIC));
    pos.id = c->id;
    pos.log_size = c->log_off;
    pos.cons_before = before;
    pos.cons_after = after;
    if (pwrite(c->pos_fd, &pos, sizeof(pos), 0) != (ssize_t)sizeof(pos))
        return dom0_fail(err, errlen, errno ? errno : EIO, "console of domain %u: writing "
                         "%s.pos: %s", c->id.domid, c->log_path, strerror(errno ? errno : EIO));
    return 0;
}

int console_read_identity(const char *log_path, struct console_identity *id,
                          char *err, size_t errlen)
{
    char path[4096];
    struct console_pos pos;
    int rc = pos_path(log_path, path, sizeof(path), err, errlen);

    if (rc)
        return rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return dom0_fail(err, errlen, errno, "console record %s: %s", path, strerror(errno));
    rc = read_pos(fd, &pos);
    close(fd);
    if (!rc)
        return dom0_fail(err, errlen, EPROTO, "console record %s: not a console record", path);
    *id = pos.id;
    return 0;
}

/* Undo the previous reader's unacknowledged chunk, or start a new record. */
static int recover(struct console *c, char *err, size_t errlen)
{
    struct console_pos pos;
    uint32_t cons = __atomic_load_n(&c->ring->out_cons, __ATOMIC_ACQUIRE);
    struct stat st;

    if (read_pos(c->pos_fd, &pos) && identity_equal(&pos.id, &c->id) &&
        cons == pos.cons_before && cons != pos.cons_after) {
        if (ftruncate(c->log_fd, (off_t)pos.log_size) < 0)
            return dom0_fail(err, errlen, errno, "console of domain %u: cutting %s back to "
                             "%llu bytes: %s", c->id.domid, c->log_path,
                             (unsigned long long)pos.log_size, strerror(errno));
    }
    if (fstat(c->log_fd, &st) < 0)
        return dom0_fail(err, errlen, errno, "console of domain %u: %s: %s", c->id.domid,
                         c->log_path, strerror(errno));
    c->log_off = (uint64_t)st.st_size;
    return write_pos(c, cons, cons, err, errlen);
}

int console_open(const struct console_identity *id, struct xencons_interface *ring,
                 const char *log_path, struct console **out, char *err, size_t errlen)
{
    char path[4096];
    struct console *c;
    int rc = pos_path(log_path, path, sizeof(path), err, errlen);

    if (rc)
        return rc;
    if (!ring)
        return dom0_fail(err, errlen, EINVAL, "console of domain %u: ring mfn %#llx is not "
                         "mapped", id->domid, (unsigned long long)id->ring_mfn);
    c = calloc(1, sizeof(*c));
    if (!c || !(c->log_path = strdup(log_path))) {
        free(c);
        return dom0_fail(err, errlen, ENOMEM, "console of domain %u: out of memory", id->domid);
    }
    c->id = *id;
    c->ring = ring;
    c->pos_fd = -1;
    c->log_fd = open(log_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
    if (c->log_fd < 0) {
        rc = dom0_fail(err, errlen, errno, "console of domain %u: log %s: %s", id->domid,
                       log_path, strerror(errno));
        goto fail;
    }
    c->pos_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (c->pos_fd < 0) {
        rc = dom0_fail(err, errlen, errno, "console of domain %u: record %s: %s", id->domid,
                       path, strerror(errno));
        goto fail;
    }
    if ((rc = recover(c, err, errlen)))
        goto fail;
    *out = c;
    return 0;
fail:
    console_close(c);
    return rc;
}

int console_input(struct console *c, const char *p, size_t n)
{
    struct xencons_interface *r = c->ring;
    XENCONS_RING_IDX cons = __atomic_load_n(&r->in_cons, __ATOMIC_ACQUIRE);
    XENCONS_RING_IDX prod = r->in_prod;
    size_t room, k;

    if ((XENCONS_RING_IDX)(prod - cons) > sizeof(r->in))
        return -EPROTO;
    room = sizeof(r->in) - (XENCONS_RING_IDX)(prod - cons);
    for (k = 0; k < n && k < room; k++)
        r->in[(prod + k) % sizeof(r->in)] = p[k];
    __atomic_store_n(&r->in_prod, prod + (XENCONS_RING_IDX)k, __ATOMIC_RELEASE);
    return (int)k;
}

uint32_t console_backend_port(const struct console *c)
{
    return c->id.backend_port;
}

void console_set_line_fn(struct console *c, console_line_fn fn, void *arg)
{
    c->line_fn = fn;
    c->line_arg = arg;
}

static void feed_lines(struct console *c, const char *p, size_t n)
{
    if (!c->line_fn)
        return;
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '\n')
            c->line[c->line_len++] = p[i];
        if (p[i] == '\n' || c->line_len == sizeof(c->line)) {
            c->line_fn(c->line_arg, c->id.domid, c->line, c->line_len);
            c->line_len = 0;
        }
    }
}

static int append_log(struct console *c, const char *p, size_t n, char *err, size_t errlen)
{
    size_t done = 0;

    while (done < n) {
        ssize_t w = pwrite(c->log_fd, p + done, n - done, (off_t)(c->log_off + done));

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : EIO;
            /* Leave the log as the record says: the chunk is read again. */
            if (ftruncate(c->log_fd, (off_t)c->log_off) < 0)
                e = errno;
            return dom0_fail(err, errlen, e, "console of domain %u: writing %s: %s",
                             c->id.domid, c->log_path, strerror(e));
        }
        done += (size_t)w;
    }
    return 0;
}

void console_set_log_limit(struct console *c, uint64_t max_bytes, unsigned int keep)
{
    c->max_bytes = max_bytes;
    c->keep = keep;
}

/* File k of a log: the log itself (0) or its k-th rotated file. */
static int log_file(const char *log_path, unsigned int k, char *buf, size_t len)
{
    int n = k ? snprintf(buf, len, "%s.%u", log_path, k) : snprintf(buf, len, "%s", log_path);

    return n >= 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

/* The log is full: shift the rotated files, start an empty log. */
static int rotate(struct console *c, char *err, size_t errlen)
{
    char from[4200], to[4200];
    int fd;

    if (c->keep == 0) {
        if (ftruncate(c->log_fd, 0) < 0)
            return dom0_fail(err, errlen, errno, "console of domain %u: emptying %s: %s",
                             c->id.domid, c->log_path, strerror(errno));
        c->log_off = 0;
        c->rotations++;
        return 0;
    }
    for (unsigned int k = c->keep; k >= 1; k--) {
        if (log_file(c->log_path, k - 1, from, sizeof(from)) || log_file(c->log_path, k, to, sizeof(to)))
            return dom0_fail(err, errlen, ENAMETOOLONG, "console log path '%s' is too long",
                             c->log_path);
        if (rename(from, to) < 0 && errno != ENOENT)
            return dom0_fail(err, errlen, errno, "console of domain %u: rotating %s to %s: %s",
                             c->id.domid, from, to, strerror(errno));
    }
    fd = open(c->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        return dom0_fail(err, errlen, errno, "console of domain %u: new log %s: %s", c->id.domid,
                         c->log_path, strerror(errno));
    close(c->log_fd);
    c->log_fd = fd;
    c->log_off = 0;
    c->rotations++;
    return 0;
}

int console_remove_logs(const char *log_path, char *err, size_t errlen)
{
    char path[4200];
    int rc = 0;

    /* the log, its record, then LOG.1, LOG.2 ... up to the first missing
     * one past any keep in use (a smaller keep than before leaves none) */
    for (unsigned int k = 0, missing = 0; missing < 16; k++) {
        if (log_file(log_path, k, path, sizeof(path)))
            break;
        if (unlink(path) == 0)
            missing = 0;
        else if (errno == ENOENT)
            missing += k > 0;
        else if (!rc)
            rc = dom0_fail(err, errlen, errno, "console log %s: %s", path, strerror(errno));
    }
    if (pos_path(log_path, path, sizeof(path), err, errlen) == 0 && unlink(path) != 0 && errno != ENOENT && !rc)
        rc = dom0_fail(err, errlen, errno, "console record %s: %s", path, strerror(errno));
    return rc;
}

int console_poll(struct console *c, char *err, size_t errlen)
{
    struct xencons_interface *r = c->ring;
    XENCONS_RING_IDX cons = __atomic_load_n(&r->out_cons, __ATOMIC_ACQUIRE);
    XENCONS_RING_IDX prod = __atomic_load_n(&r->out_prod, __ATOMIC_ACQUIRE);
    XENCONS_RING_IDX avail = prod - cons;
    char buf[XENCONS_OUT_SIZE];
    int rc;

    if (avail > XENCONS_OUT_SIZE) {
        __atomic_store_n(&r->out_cons, prod, __ATOMIC_RELEASE);
        return dom0_fail(err, errlen, EPROTO, "console of domain %u: ring indices corrupt "
                         "(prod %u, cons %u); skipped to prod", c->id.domid, prod, cons);
    }
    if (!avail)
        return 0;
    for (XENCONS_RING_IDX i = 0; i < avail; i++)
        buf[i] = r->out[MASK_XENCONS_IDX(cons + i, XENCONS_OUT_SIZE)];
    if (c->max_bytes && c->log_off > 0 && c->log_off + avail > c->max_bytes &&
        (rc = rotate(c, err, errlen)))
        return rc;
    if ((rc = write_pos(c, cons, prod, err, errlen)))
        return rc;
    if ((rc = append_log(c, buf, avail, err, errlen)))
        return rc;
    c->log_off += avail;
    c->logged += avail;
    __atomic_store_n(&r->out_cons, prod, __ATOMIC_RELEASE);
    feed_lines(c, buf, avail);
    return (int)avail;
}

uint64_t console_bytes_logged(const struct console *c)
{
    return c->logged;
}

uint64_t console_log_size(const struct console *c)
{
    return c->log_off;
}

uint64_t console_rotations(const struct console *c)
{
    return c->rotations;
}

void console_close(struct console *c)
{
    if (!c)
        return;
    if (c->log_fd >= 0)
        close(c->log_fd);
    if (c->pos_fd >= 0)
        close(c->pos_fd);
    free(c->log_path);
    free(c);
}
