/*
 * test_xs_server.c - the xenstore server through its rings (dom0/xenstore.c,
 * xs_conn.c, xs_ops.c) with two fake guests in plain memory: every message
 * type, error replies, permissions between domains, watches, transactions
 * and conflicts, quotas and hostile guests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "xs_fake_guest.h"

struct guest {
    struct xenstore_domain_interface *ring;
    uint32_t domid;
    char events[64][256];               /* "path|token|" */
    unsigned nevents;
};

struct fixture {
    struct fake_host host;
    struct xs_server *s;
    struct guest g[3];                  /* g[1] domain 1, g[2] domain 2 */
    uint32_t req_id;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct xs_host ops;
    char err[256];

    assert_non_null(f);
    for (int i = 1; i <= 2; i++) {
        f->g[i].ring = calloc(1, 4096);
        f->g[i].domid = (uint32_t)i;
        f->host.ring[i] = f->g[i].ring;
    }
    ops = fake_host_ops(&f->host);
    assert_int_equal(xs_open(NULL, NULL, &ops, &f->s, err, sizeof(err)), 0);
    for (int i = 1; i <= 2; i++) {
        char home[64];
        assert_int_equal(xs_introduce(f->s, (uint32_t)i, (uint64_t)i, (uint32_t)i, err,
                                      sizeof(err)), 0);
        snprintf(home, sizeof(home), "/local/domain/%d", i);
        assert_int_equal(xs_local_mkdir(f->s, home), 0);
        snprintf(home + strlen(home), 16, "%s", "");
        {
            char perms[32];
            snprintf(perms, sizeof(perms), "n0 r%d", i);
            assert_int_equal(xs_local_set_perms(f->s, home, perms), 0);
            snprintf(home + strlen(home), 16, "/data");
            snprintf(perms, sizeof(perms), "n%d", i);
            assert_int_equal(xs_local_mkdir(f->s, home), 0);
            assert_int_equal(xs_local_set_perms(f->s, home, perms), 0);
        }
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    xs_close(f->s);
    free(f->g[1].ring);
    free(f->g[2].ring);
    free(f);
    return 0;
}

/* Take everything off g's ring: watch events are kept, the reply to
 * req_id is returned in out (as bars) with its type. -1 if no reply. */
static int drain(struct guest *g, uint32_t req_id, char *out)
{
    struct xsd_sockmsg h;
    char payload[XENSTORE_PAYLOAD_MAX + 1], b[XENSTORE_PAYLOAD_MAX + 1];
    int type = -1;

    while (guest_recv(g->ring, &h, payload)) {
        if (h.type == XS_WATCH_EVENT) {
            if (g->nevents < 64)
                snprintf(g->events[g->nevents++], 256, "%.255s", bars(payload, h.len, b));
            continue;
        }
        assert_int_equal(h.req_id, req_id);
        if (out)
            bars(payload, h.len, out);
        type = (int)h.type;
    }
    return type;
}

/* One request from guest i, the server polled, the reply as bars in out.
 * Returns the reply's type. */
static int call_tx(struct fixture *f, int i, uint32_t type, uint32_t tx, const char *req, char *out)
{
    uint32_t id = ++f->req_id;

    assert_true(guest_req(f->g[i].ring, type, id, tx, req));
    xs_poll(f->s, (uint32_t)i);
    return drain(&f->g[i], id, out);
}

static int call(struct fixture *f, int i, uint32_t type, const char *req, char *out)
{
    return call_tx(f, i, type, 0, req, out);
}

/* Expect an XS_ERROR reply naming err. */
static void expect_error(struct fixture *f, int i, uint32_t type, uint32_t tx, const char *req,
                         const char *err)
{
    char out[XENSTORE_PAYLOAD_MAX + 1], want[32];

    assert_int_equal(call_tx(f, i, type, tx, req, out), XS_ERROR);
    snprintf(want, sizeof(want), "%s|", err);
    assert_string_equal(out, want);
}

static void expect_ok(struct fixture *f, int i, uint32_t type, uint32_t tx, const char *req)
{
    char out[XENSTORE_PAYLOAD_MAX + 1];
    int got = call_tx(f, i, type, tx, req, out);

    if (got != (int)type)
        fail_msg("%s %s: expected OK, got %s", xs_type_name(type), req, out);
    assert_string_equal(out, "OK|");
}

static void test_read_write_mkdir_rm_directory(void **state)
{
    struct fixture *f = *state;
    char out[XENSTORE_PAYLOAD_MAX + 1];

    expect_ok(f, 1, XS_WRITE, 0, "data/a|hello");
    assert_int_equal(call(f, 1, XS_READ, "data/a|", out), XS_READ);
    assert_string_equal(out, "hello");
    assert_int_equal(call(f, 1, XS_READ, "/local/domain/1/data/a|", out), XS_READ);
    assert_string_equal(out, "hello");
    expect_ok(f, 1, XS_WRITE, 0, "data/empty|");
    assert_int_equal(call(f, 1, XS_READ, "data/empty|", out), XS_READ);
    assert_string_equal(out, "");
    expect_ok(f, 1, XS_MKDIR, 0, "data/d/e/f|");
    expect_ok(f, 1, XS_MKDIR, 0, "data/d/e/f|");          /* exists: fine */
    assert_int_equal(call(f, 1, XS_DIRECTORY, "data|", out), XS_DIRECTORY);
    assert_string_equal(out, "a|empty|d|");
    assert_int_equal(call(f, 1, XS_DIRECTORY, "data/a|", out), XS_DIRECTORY);
    assert_string_equal(out, "");
    expect_ok(f, 1, XS_RM, 0, "data/d|");
    expect_error(f, 1, XS_READ, 0, "data/d/e|", "ENOENT");
    expect_ok(f, 1, XS_RM, 0, "data/d|");                  /* absent, parent there: OK */
    expect_error(f, 1, XS_RM, 0, "data/x/y|", "ENOENT");
    expect_error(f, 1, XS_READ, 0, "data/nothing|", "ENOENT");
}

static void test_directory_part(void **state)
{
    struct fixture *f = *state;
    char out[XENSTORE_PAYLOAD_MAX + 1], req[64], *gen;

    expect_ok(f, 1, XS_WRITE, 0, "data/p/one|1");
    expect_ok(f, 1, XS_WRITE, 0, "data/p/two|2");
    assert_int_equal(call(f, 1, XS_DIRECTORY_PART, "data/p|0|", out), XS_DIRECTORY_PART);
    gen = strchr(out, '|');
    assert_non_null(gen);
    assert_string_equal(gen, "|one|two||");
    assert_int_equal(call(f, 1, XS_DIRECTORY_PART, "data/p|4|", out), XS_DIRECTORY_PART);
    assert_string_equal(strchr(out, '|'), "|two||");
    snprintf(req, sizeof(req), "data/p|%d|", 100);
    assert_int_equal(call(f, 1, XS_DIRECTORY_PART, req, out), XS_DIRECTORY_PART);
    assert_string_equal(strchr(out, '|'), "||");
    expect_error(f, 1, XS_DIRECTORY_PART, 0, "data/p|x|", "EINVAL");
}

static void test_domain_path_and_privileged_ops(void **state)
{
    struct fixture *f = *state;
    char out[XENSTORE_PAYLOAD_MAX + 1];

    assert_int_equal(call(f, 1, XS_GET_DOMAIN_PATH, "7|", out), XS_GET_DOMAIN_PATH);
    assert_string_equal(out, "/local/domain/7|");
    expect_error(f, 1, XS_GET_DOMAIN_PATH, 0, "-1|", "EINVAL");
    /* guests are not privileged */
    expect_error(f, 1, XS_INTRODUCE, 0, "3|3|3|", "EACCES");
    expect_error(f, 1, XS_RELEASE, 0, "2|", "EACCES");
    expect_error(f, 1, XS_IS_DOMAIN_INTRODUCED, 0, "2|", "EACCES");
    expect_error(f, 1, XS_RESUME, 0, "2|", "EACCES");
    expect_error(f, 1, XS_CONTROL, 0, "print|hi|", "EACCES");
    expect_error(f, 1, XS_SET_TARGET, 0, "2|1|", "ENOSYS");
    expect_error(f, 1, XS_WATCH_EVENT, 0, "a|b|", "ENOSYS");
    expect_error(f, 1, 999, 0, "a|", "ENOSYS");
    /* the toolstack is */
    {
        char reply[XS_MSG_MAX];
        uint32_t len = sizeof(reply);
        assert_int_equal(xs_local(f->s, XS_IS_DOMAIN_INTRODUCED, "2", 2, reply, &len), 0);
        assert_int_equal(len, 2);
        assert_string_equal(reply, "T");
        len = sizeof(reply);
        assert_int_equal(xs_local(f->s, XS_IS_DOMAIN_INTRODUCED, "5", 2, reply, &len), 0);
        assert_string_equal(reply, "F");
        assert_int_equal(xs_local(f->s, XS_RESUME, "5", 2, NULL, NULL), -ENOENT);
        assert_int_equal(xs_local(f->s, XS_CONTROL, "print\0hello", 12, NULL, NULL), 0);
        assert_true(fake_logged(&f->host, "xenstore: hello"));
    }
}

static void test_malformed_payloads(void **state)
{
    struct fixture *f = *state;
    char out[XENSTORE_PAYLOAD_MAX + 1];

    expect_error(f, 1, XS_READ, 0, "data/a", "EINVAL");          /* unterminated */
    expect_error(f, 1, XS_READ, 0, "", "EINVAL");                /* empty */
    expect_error(f, 1, XS_READ, 0, "data/a|b|", "EINVAL");       /* two strings */
    expect_error(f, 1, XS_WRITE, 0, "no-nul-at-all", "EINVAL");
    expect_error(f, 1, XS_WRITE, 0, "data//x|v", "EINVAL");
    expect_error(f, 1, XS_WRITE, 0, "data/x/|v", "EINVAL");
    expect_error(f, 1, XS_WRITE, 0, "data/a b|v", "EINVAL");
    expect_error(f, 1, XS_WATCH, 0, "data|", "EINVAL");          /* no token */
    expect_error(f, 1, XS_TRANSACTION_END, 0, "T|", "ENOENT");   /* no transaction */
    /* the connection still works */
    expect_ok(f, 1, XS_WRITE, 0, "data/ok|1");
    assert_int_equal(call(f, 1, XS_READ, "data/ok|", out), XS_READ);
}

static void test_permissions_between_domains(void **state)
{
    struct fixture *f = *state;
    char out[XENSTORE_PAYLOAD_MAX + 1];

    expect_ok(f, 1, XS_WRITE, 0, "data/secret|s");
    expect_error(f, 2, XS_READ, 0, "/local/domain/1/data/secret|", "EACCES");
    expect_error(f, 2, XS_WRITE, 0, "/local/domain/1/data/secret|x", "EACCES");
    expect_error(f, 2, XS_WRITE, 0, "/local/domain/1/data/new|x", "EACCES");
    expect_error(f, 2, XS_RM, 0, "/local/domain/1/data/secret|", "EACCES");
    /* domain 1 grants 2 read access */
    expect_ok(f, 1, XS_SET_PERMS, 0, "data/secret|n1|r2|");
    assert_int_equal(call(f, 1, XS_GET_PERMS, "data/secret|", out), XS_GET_PERMS);
    assert_string_equal(out, "n1|r2|");
    assert_int_equal(call(f, 2, XS_READ, "/local/domain/1/data/secret|", out), XS_READ);
    assert_string_equal(out, "s");
    expect_error(f, 2, XS_WRITE, 0, "/local/domain/1/data/secret|x", "EACCES");
    /* a guest may not give its node away, nor change another's */
    expect_error(f, 1, XS_SET_PERMS, 0, "data/secret|n2|", "EPERM");
    expect_error(f, 2, XS_SET_PERMS, 0, "/local/domain/1/data/secret|n2|", "EACCES");
    expect_error(f, 1, XS_SET_PERMS, 0, "data/secret|x1|", "EINVAL");
    /* write access for 2 (w) lets it write, not read */
    expect_ok(f, 1, XS_SET_PERMS, 0, "data/secret|n1|w2|");
    expect_ok(f, 2, XS_WRITE, 0, "/local/domain/1/data/secret|from2");
    expect_error(f, 2, XS_READ, 0, "/local/domain/1/data/secret|", "EACCES");
    /* the owner of a node created by a guest is the guest */
    expect_ok(f, 1, XS_WRITE, 0, "data/mine|1");
    assert_int_equal(call(f, 1, XS_GET_PERMS, "data/mine|", out), XS_GET_PERMS);
    assert_string_equal(out, "n1|");
    /* the home directory is read-only for its guest */
    expect_error(f, 1, XS_WRITE, 0, "name|x", "EACCES");
    expect_error(f, 1, XS_WRITE, 0, "/tool/x|x", "EACCES");
    /* the toolstack (Domain 0) can do everything */
    {
        char reply[XS_MSG_MAX];
        uint32_t len = sizeof(reply);
        assert_int_equal(xs_local(f->s, XS_READ, "/local/domain/1/data/secret", 28, reply, &len), 0);
        assert_int_equal(len, 5);
        assert_memory_equal(reply, "from2", 5);
    }
}

static int has_event(struct guest *g, const char *ev)
{
    for (unsigned i = 0; i < g->nevents; i++)
        if (!strcmp(g->events[i], ev))
            return 1;
    return 0;
}

static unsigned count_event(struct guest *g, const char *ev)
{
    unsigned n = 0;

    for (unsigned i = 0; i < g->nevents; i++)
        n += !strcmp(g->events[i], ev);
    return n;
}

static void test_watches(void **state)
{
    struct fixture *f = *state;

    expect_ok(f, 1, XS_WATCH, 0, "data/w|tok|");
    assert_int_equal(count_event(&f->g[1], "data/w|tok|"), 1);     /* fires once at once */
    f->g[1].nevents = 0;
    expect_error(f, 1, XS_WATCH, 0, "data/w|tok|", "EEXIST");
    expect_ok(f, 1, XS_WRITE, 0, "data/w|1");
    assert_int_equal(count_event(&f->g[1], "data/w|tok|"), 1);
    expect_ok(f, 1, XS_WRITE, 0, "data/w/child/deep|1");           /* parent watch, child change */
    assert_int_equal(count_event(&f->g[1], "data/w/child/deep|tok|"), 1);
    expect_ok(f, 1, XS_WRITE, 0, "data/other|1");                  /* not under the watch */
    assert_false(has_event(&f->g[1], "data/other|tok|"));
    /* an absolute watch reports absolute paths */
    expect_ok(f, 1, XS_WATCH, 0, "/local/domain/1/data/abs|t2|");
    f->g[1].nevents = 0;
    expect_ok(f, 1, XS_WRITE, 0, "data/abs|x");
    assert_int_equal(count_event(&f->g[1], "/local/domain/1/data/abs|t2|"), 1);
    /* removal fires the watches below the removed node with their own path */
    f->g[1].nevents = 0;
    expect_ok(f, 1, XS_RM, 0, "data|");
    assert_int_equal(count_event(&f->g[1], "data|tok|"), 0);
    assert_int_equal(count_event(&f->g[1], "data/w|tok|"), 1);
    assert_int_equal(count_event(&f->g[1], "/local/domain/1/data/abs|t2|"), 1);
    /* unwatch */
    expect_ok(f, 1, XS_UNWATCH, 0, "data/w|tok|");
    expect_error(f, 1, XS_UNWATCH, 0, "data/w|tok|", "ENOENT");
    f->g[1].nevents = 0;
    xs_local_write(f->s, "/local/domain/1/data/w", "again");
    drain(&f->g[1], 0, NULL);
    assert_int_equal(count_event(&f->g[1], "data/w|tok|"), 0);
}

static void test_watch_needs_read_permission(void **state)
{
    struct fixture *f = *state;

    expect_ok(f, 2, XS_WATCH, 0, "/local/domain/1/data|spy|");
    f->g[2].nevents = 0;
    expect_ok(f, 1, XS_WRITE, 0, "data/private|1");
    drain(&f->g[2], 0, NULL);
    assert_int_equal(f->g[2].nevents, 0);
    expect_ok(f, 1, XS_WRITE, 0, "data/shared|1");
    expect_ok(f, 1, XS_SET_PERMS, 0, "data/shared|n1|r2|");
    drain(&f->g[2], 0, NULL);
    assert_int_equal(count_event(&f->g[2], "/local/domain/1/data/shared|spy|"), 1);
}

static void test_special_watches(void **state)
{
    struct fixture *f = *state;
    char err[256];
    static char ring3[4096];

    assert_int_equal(xs_local_watch(f->s, "@introduceDomain", "in", 1), 0);
    assert_int_equal(xs_local_watch(f->s, "@releaseDomain", "out", 1), 0);
    f->host.nevents = 0;
    f->host.ring[3] = (struct xenstore_domain_interface *)ring3;
    assert_int_equal(xs_introduce(f->s, 3, 3, 3, err, sizeof(err)), 0);
    assert_int_equal(f->host.nevents, 1);
    assert_string_equal(f->host.events[0], "@introduceDomain in");
    assert_int_equal(xs_introduce(f->s, 3, 3, 3, err, sizeof(err)), 0);   /* same: no-op */
    assert_int_equal(xs_introduce(f->s, 3, 4, 3, err, sizeof(err)), -EEXIST);
    assert_int_equal(xs_release(f->s, 3), 0);
    assert_int_equal(f->host.nevents, 2);
    assert_string_equal(f->host.events[1], "@releaseDomain out");
    assert_int_equal(xs_release(f->s, 3), -ENOENT);
    /* a guest's special watch does not fire: Domain 0 only */
    expect_ok(f, 1, XS_WATCH, 0, "@releaseDomain|r|");
    f->g[1].nevents = 0;
    assert_int_equal(xs_introduce(f->s, 3, 3, 3, err, sizeof(err)), 0);
    assert_int_equal(xs_release(f->s, 3), 0);
    drain(&f->g[1], 0, NULL);
    assert_int_equal(f->g[1].nevents, 0);
}

static uint32_t start_tx(struct fixture *f, int i)
{
    char out[XENSTORE_PAYLOAD_MAX + 1];

    assert_int_equal(call(f, i, XS_TRANSACTION_START, "|", out), XS_TRANSACTION_START);
    return (uint32_t)strtoul(out, NULL, 10);
}

static void test_transactions(void **state)
{
    struct fixture *f = *state;
    char out[XENSTORE_PAYLOAD_MAX + 1];
    uint32_t t1, t2;

    expect_ok(f, 1, XS_WATCH, 0, "data/t|w|");
    f->g[1].nevents = 0;
    t1 = start_tx(f, 1);
    assert_true(t1 != 0);
    expect_ok(f, 1, XS_WRITE, t1, "data/t/a|1");
    expect_ok(f, 1, XS_WRITE, t1, "data/t/b|2");
    /* inside: visible; outside: not yet, no watch yet */
    assert_int_equal(call_tx(f, 1, XS_READ, t1, "data/t/a|", out), XS_READ);
    assert_string_equal(out, "1");
    expect_error(f, 1, XS_READ, 0, "data/t/a|", "ENOENT");
    assert_int_equal(f->g[1].nevents, 0);
    /* nested start: EBUSY; unknown id: ENOENT; bad end argument: EINVAL */
    expect_error(f, 1, XS_TRANSACTION_START, t1, "|", "EBUSY");
    expect_error(f, 1, XS_READ, t1 + 100, "data/t/a|", "ENOENT");
    expect_error(f, 1, XS_TRANSACTION_END, t1, "X|", "EINVAL");
    /* a failed request inside does not end it */
    expect_error(f, 1, XS_READ, t1, "data/none|", "ENOENT");
    expect_ok(f, 1, XS_TRANSACTION_END, t1, "T|");
    assert_int_equal(call(f, 1, XS_READ, "data/t/b|", out), XS_READ);
    assert_string_equal(out, "2");
    assert_int_equal(count_event(&f->g[1], "data/t/a|w|"), 1);
    assert_int_equal(count_event(&f->g[1], "data/t/b|w|"), 1);
    expect_error(f, 1, XS_TRANSACTION_END, t1, "T|", "ENOENT");     /* gone */
    /* abort */
    t2 = start_tx(f, 1);
    expect_ok(f, 1, XS_WRITE, t2, "data/t/c|3");
    expect_ok(f, 1, XS_TRANSACTION_END, t2, "F|");
    expect_error(f, 1, XS_READ, 0, "data/t/c|", "ENOENT");
}

static void test_transaction_conflicts(void **state)
{
    struct fixture *f = *state;
    char out[XENSTORE_PAYLOAD_MAX + 1];
    uint32_t t1, t2;

    expect_ok(f, 1, XS_WRITE, 0, "data/counter|0");
    expect_ok(f, 1, XS_SET_PERMS, 0, "data/counter|n1|b2|");
    /* both read the counter in a transaction and write it back */
    t1 = start_tx(f, 1);
    t2 = start_tx(f, 2);
    assert_int_equal(call_tx(f, 1, XS_READ, t1, "data/counter|", out), XS_READ);
    assert_int_equal(call_tx(f, 2, XS_READ, t2, "/local/domain/1/data/counter|", out), XS_READ);
    expect_ok(f, 1, XS_WRITE, t1, "data/counter|1");
    expect_ok(f, 2, XS_WRITE, t2, "/local/domain/1/data/counter|1");
    expect_ok(f, 1, XS_TRANSACTION_END, t1, "T|");
    expect_error(f, 2, XS_TRANSACTION_END, t2, "T|", "EAGAIN");
    assert_int_equal(call(f, 1, XS_READ, "data/counter|", out), XS_READ);
    assert_string_equal(out, "1");
    /* a write outside any transaction conflicts too */
    t1 = start_tx(f, 1);
    assert_int_equal(call_tx(f, 1, XS_READ, t1, "data/counter|", out), XS_READ);
    expect_ok(f, 2, XS_WRITE, 0, "/local/domain/1/data/counter|9");
    expect_ok(f, 1, XS_WRITE, t1, "data/counter|2");
    expect_error(f, 1, XS_TRANSACTION_END, t1, "T|", "EAGAIN");
    assert_int_equal(call(f, 1, XS_READ, "data/counter|", out), XS_READ);
    assert_string_equal(out, "9");
    /* disjoint transactions both commit */
    t1 = start_tx(f, 1);
    t2 = start_tx(f, 1);
    expect_ok(f, 1, XS_WRITE, t1, "data/x1|1");
    expect_ok(f, 1, XS_WRITE, t2, "data/x2|2");
    expect_ok(f, 1, XS_TRANSACTION_END, t1, "T|");
    /* t2 created a node under data, whose list of children t1 changed
     * meanwhile: a conflict, as in xenstored */
    expect_error(f, 1, XS_TRANSACTION_END, t2, "T|", "EAGAIN");
    /* transactions on different directories both commit */
    expect_ok(f, 1, XS_MKDIR, 0, "data/d1|");
    expect_ok(f, 1, XS_MKDIR, 0, "data/d2|");
    t1 = start_tx(f, 1);
    t2 = start_tx(f, 1);
    expect_ok(f, 1, XS_WRITE, t1, "data/d1/v|1");
    expect_ok(f, 1, XS_WRITE, t2, "data/d2/v|2");
    expect_ok(f, 1, XS_TRANSACTION_END, t1, "T|");
    expect_ok(f, 1, XS_TRANSACTION_END, t2, "T|");
    /* an absent node created concurrently conflicts */
    t1 = start_tx(f, 1);
    expect_error(f, 1, XS_READ, t1, "data/late|", "ENOENT");
    expect_ok(f, 1, XS_WRITE, 0, "data/late|x");
    expect_ok(f, 1, XS_WRITE, t1, "data/other|y");
    expect_error(f, 1, XS_TRANSACTION_END, t1, "T|", "EAGAIN");
}

static void test_quotas(void **state)
{
    struct fixture *f = *state;
    char out[XENSTORE_PAYLOAD_MAX + 1], req[XENSTORE_PAYLOAD_MAX];
    uint32_t t;
    int i;

    assert_int_equal(xs_set_quota(f->s, "nodes", 5), 0);
    assert_int_equal(xs_set_quota(f->s, "watches", 3), 0);
    assert_int_equal(xs_set_quota(f->s, "transactions", 2), 0);
    assert_int_equal(xs_set_quota(f->s, "entry-size", 16), 0);
    assert_int_equal(xs_set_quota(f->s, "bogus", 1), -EINVAL);
    /* domain 1 owns data (1 node) */
    for (i = 0; i < 4; i++) {
        snprintf(req, sizeof(req), "data/n%d|v", i);
        expect_ok(f, 1, XS_WRITE, 0, req);
    }
    expect_error(f, 1, XS_WRITE, 0, "data/n4|v", "ENOSPC");
    assert_true(fake_logged(&f->host, "domain 1 hit its quota nodes = 5"));
    expect_ok(f, 1, XS_WRITE, 0, "data/n0|0123456789abcdef");
    expect_error(f, 1, XS_WRITE, 0, "data/n0|0123456789abcdefX", "ENOSPC");
    assert_true(fake_logged(&f->host, "domain 1 hit its quota entry-size = 16"));
    /* the other domain is not affected */
    expect_ok(f, 2, XS_WRITE, 0, "data/fine|v");
    /* watches */
    expect_ok(f, 1, XS_WATCH, 0, "data|a|");
    expect_ok(f, 1, XS_WATCH, 0, "data|b|");
    expect_ok(f, 1, XS_WATCH, 0, "data|c|");
    expect_error(f, 1, XS_WATCH, 0, "data|d|", "E2BIG");
    assert_true(fake_logged(&f->host, "domain 1 hit its quota watches = 3"));
    /* transactions */
    t = start_tx(f, 1);
    start_tx(f, 1);
    expect_error(f, 1, XS_TRANSACTION_START, 0, "|", "ENOSPC");
    assert_true(fake_logged(&f->host, "domain 1 hit its quota transactions = 2"));
    expect_ok(f, 1, XS_TRANSACTION_END, t, "F|");
    start_tx(f, 1);
    /* reset_watches drops watches and transactions */
    expect_ok(f, 1, XS_RESET_WATCHES, 0, "|");
    start_tx(f, 1);
    expect_ok(f, 1, XS_WATCH, 0, "data|d|");
    /* removing nodes gives the quota back */
    expect_ok(f, 1, XS_RM, 0, "data/n1|");
    expect_ok(f, 1, XS_WRITE, 0, "data/n4|v");
    /* permissions per node */
    assert_int_equal(xs_set_quota(f->s, "perms", 2), 0);
    expect_error(f, 1, XS_SET_PERMS, 0, "data/n4|n1|r2|r3|r4|", "ENOSPC");
    expect_ok(f, 1, XS_SET_PERMS, 0, "data/n4|n1|r2|r3|");
    (void)out;
}

static void test_outstanding_requests_flow_control(void **state)
{
    struct fixture *f = *state;
    struct xenstore_domain_interface *r = f->g[1].ring;
    char out[XENSTORE_PAYLOAD_MAX + 1];
    struct xsd_sockmsg h;
    int n = 0;

    assert_int_equal(xs_set_quota(f->s, "outstanding", 3), 0);
    /* fill the ring with requests, take no reply */
    while (guest_req(r, XS_GET_DOMAIN_PATH, 1000u + (uint32_t)n, 0, "1|"))
        n++;
    xs_poll(f->s, 1);
    /* only 3 replies may be outstanding: the server stopped reading */
    {
        int got = 0;
        uint32_t saved_cons = r->rsp_cons;
        while (guest_recv(r, &h, out))
            got++;
        r->rsp_cons = saved_cons;
        assert_int_equal(got, 3);
    }
    assert_true(fake_logged(&f->host, "domain 1 reached its quota of 3 outstanding requests"));
    /* taking the replies lets it go on until all are answered */
    for (int got = 0; got < n;) {
        while (guest_recv(r, &h, out)) {
            assert_int_equal(h.req_id, 1000u + (uint32_t)got);
            got++;
        }
        xs_poll(f->s, 1);
    }
}

static void test_hostile_header_cuts_off_that_guest_only(void **state)
{
    struct fixture *f = *state;
    struct xsd_sockmsg h = { XS_WRITE, 1, 0, XENSTORE_PAYLOAD_MAX + 1 };
    const char *why;

    assert_true(guest_put(f->g[1].ring, &h, sizeof(h)));
    xs_poll(f->s, 1);
    assert_int_equal(f->g[1].ring->error, XENSTORE_ERROR_PROTO);
    assert_true(xs_is_cut_off(f->s, 1, &why));
    assert_non_null(strstr(why, "4097 payload bytes"));
    assert_true(fake_logged(&f->host, "domain 1 cut off"));
    /* domain 2 is served */
    expect_ok(f, 2, XS_WRITE, 0, "data/alive|1");
    /* domain 1 is not, whatever it sends */
    assert_true(guest_req(f->g[1].ring, XS_READ, 5, 0, "data/a|"));
    xs_poll(f->s, 1);
    assert_int_equal(drain(&f->g[1], 5, NULL), -1);
}

static void test_hostile_ring_indices(void **state)
{
    struct fixture *f = *state;

    f->g[1].ring->req_prod = f->g[1].ring->req_cons + XENSTORE_RING_SIZE + 7;
    xs_poll(f->s, 1);
    assert_int_equal(f->g[1].ring->error, XENSTORE_ERROR_RINGIDX);
    assert_true(xs_is_cut_off(f->s, 1, NULL));
    /* bad rsp_cons on the other guest, with output to deliver */
    f->g[2].ring->rsp_cons = f->g[2].ring->rsp_prod + 5000;
    assert_true(guest_req(f->g[2].ring, XS_GET_DOMAIN_PATH, 1, 0, "2|"));
    xs_poll(f->s, 2);
    assert_int_equal(f->g[2].ring->error, XENSTORE_ERROR_RINGIDX);
}

static void test_guest_that_never_reads_is_cut_off(void **state)
{
    struct fixture *f = *state;
    char v[16];

    assert_int_equal(xs_set_quota(f->s, "output-bytes", 4096), 0);
    expect_ok(f, 1, XS_WATCH, 0, "data|flood|");
    expect_ok(f, 2, XS_WATCH, 0, "data|mine|");
    /* watch events pile up for domain 1, which takes nothing off its ring */
    for (int i = 0; i < 400 && !xs_is_cut_off(f->s, 1, NULL); i++) {
        snprintf(v, sizeof(v), "%d", i);
        assert_int_equal(xs_local_write(f->s, "/local/domain/1/data/x", v), 0);
    }
    assert_true(xs_is_cut_off(f->s, 1, NULL));
    assert_true(fake_logged(&f->host, "does not take its replies and watch events"));
    assert_int_equal(f->g[1].ring->error, XENSTORE_ERROR_COMM);
    expect_ok(f, 2, XS_WRITE, 0, "data/y|1");
    assert_true(has_event(&f->g[2], "data/y|mine|"));
}

static void test_split_messages_and_wrap(void **state)
{
    struct fixture *f = *state;
    struct xenstore_domain_interface *r = f->g[1].ring;
    char big[3000], out[XENSTORE_PAYLOAD_MAX + 1];
    struct xsd_sockmsg h = { XS_WRITE, 77, 0, 0 };
    uint32_t sent = 0, len;

    assert_int_equal(xs_set_quota(f->s, "entry-size", 4096), 0);
    memset(big, 'v', sizeof(big));
    memcpy(big, "data/big", 9);
    len = sizeof(big);
    h.len = len;
    assert_true(guest_put(r, &h, sizeof(h)));
    /* a payload bigger than the ring arrives in pieces */
    while (sent < len) {
        uint32_t n = len - sent > 500 ? 500 : len - sent;
        assert_true(guest_put(r, big + sent, n));
        sent += n;
        xs_poll(f->s, 1);
    }
    assert_int_equal(drain(&f->g[1], 77, out), XS_WRITE);
    {
        char reply[XS_MSG_MAX];
        uint32_t rlen = sizeof(reply);
        assert_int_equal(xs_local(f->s, XS_READ, "/local/domain/1/data/big", 25, reply, &rlen), 0);
        assert_int_equal(rlen, sizeof(big) - 9);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read_write_mkdir_rm_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_directory_part, setup, teardown),
        cmocka_unit_test_setup_teardown(test_domain_path_and_privileged_ops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_payloads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_permissions_between_domains, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_needs_read_permission, setup, teardown),
        cmocka_unit_test_setup_teardown(test_special_watches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transaction_conflicts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quotas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outstanding_requests_flow_control, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_header_cuts_off_that_guest_only, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_hostile_ring_indices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_guest_that_never_reads_is_cut_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_messages_and_wrap, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
