/*
 * test_xs_persist.c - xenstore state across restarts and SIGKILLs of the
 * process that hosts the server (dom0/xs_persist.c): the tree, watches,
 * open transactions and queued output survive a clean restart; a torn
 * journal record is dropped; and with two guests running request loops
 * (rings in shared memory, the guests in this process, the server in a
 * child) the server is killed 20 times at random moments: no reply is
 * lost or repeated, no watch event is missed, and the tree holds every
 * acknowledged write.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "xs_fake_guest.h"

struct fixture {
    char dir[64];
    struct fake_host host;
    struct xs_host ops;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    strcpy(f->dir, "/tmp/test_xs_persist.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    for (int i = 1; i <= 2; i++) {
        f->host.ring[i] = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                               -1, 0);
        assert_true(f->host.ring[i] != MAP_FAILED);
    }
    f->ops = fake_host_ops(&f->host);
    *state = f;
    return 0;
}

static int rm_entry(const char *p, const struct stat *s, int flag, struct FTW *ftw)
{
    return remove(p);
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    for (int i = 1; i <= 2; i++)
        munmap(f->host.ring[i], 4096);
    free(f);
    return 0;
}

static struct xs_server *open_server(struct fixture *f)
{
    struct xs_server *s = NULL;
    char err[256];

    if (xs_open(f->dir, NULL, &f->ops, &s, err, sizeof(err)) < 0)
        fail_msg("xs_open: %s", err);
    for (uint32_t i = 1; i <= 2; i++)
        if (!xs_is_introduced(s, i)) {
            char home[32], perms[32];
            assert_int_equal(xs_introduce(s, i, i, i, err, sizeof(err)), 0);
            snprintf(home, sizeof(home), "/local/domain/%u", i);
            snprintf(perms, sizeof(perms), "n%u", i);
            assert_int_equal(xs_local_mkdir(s, home), 0);
            assert_int_equal(xs_local_set_perms(s, home, perms), 0);
        }
    return s;
}

/* The next whole message on guest i's ring, waiting up to ~2 s. */
static void recv_msg(struct fixture *f, struct xs_server *s, int i, struct xsd_sockmsg *h,
                     char *payload)
{
    for (int n = 0; n < 2000; n++) {
        if (guest_recv(f->host.ring[i], h, payload))
            return;
        if (s)
            xs_poll_all(s);
        else
            usleep(1000);
    }
    fail_msg("guest %d: no message", i);
}

static void test_state_survives_a_clean_restart(void **state)
{
    struct fixture *f = *state;
    struct xs_server *s = open_server(f);
    struct xenstore_domain_interface *r1 = f->host.ring[1];
    struct xsd_sockmsg h;
    char p[XENSTORE_PAYLOAD_MAX + 1], b[XENSTORE_PAYLOAD_MAX + 1];
    uint32_t tx;

    assert_int_equal(xs_local_write(s, "/local/domain/1/data/x", "0"), 0);
    assert_true(guest_req(r1, XS_WATCH, 1, 0, "data|w|"));
    assert_true(guest_req(r1, XS_TRANSACTION_START, 2, 0, "|"));
    xs_poll_all(s);
    recv_msg(f, s, 1, &h, p);                       /* OK */
    recv_msg(f, s, 1, &h, p);                       /* the first event */
    assert_string_equal(bars(p, h.len, b), "data|w|");
    recv_msg(f, s, 1, &h, p);
    tx = (uint32_t)strtoul(p, NULL, 10);
    assert_true(guest_req(r1, XS_WRITE, 3, tx, "data/t|in-tx"));
    xs_poll_all(s);
    recv_msg(f, s, 1, &h, p);
    assert_int_equal(h.req_id, 3);
    assert_int_equal(xs_local_write(s, "/local/domain/1/data/x", "1"), 0);
    xs_close(s);

    s = open_server(f);
    /* the event of the write before the restart is there */
    recv_msg(f, s, 1, &h, p);
    assert_string_equal(bars(p, h.len, b), "data/x|w|");
    /* the transaction is still open, and commits */
    assert_true(guest_req(r1, XS_TRANSACTION_END, 4, tx, "T|"));
    xs_poll_all(s);
    recv_msg(f, s, 1, &h, p);
    assert_int_equal(h.type, XS_WATCH_EVENT);
    assert_string_equal(bars(p, h.len, b), "data/t|w|");
    recv_msg(f, s, 1, &h, p);
    assert_int_equal(h.req_id, 4);
    assert_string_equal(bars(p, h.len, b), "OK|");
    {
        char reply[XS_MSG_MAX];
        uint32_t len = sizeof(reply);
        assert_int_equal(xs_local(s, XS_READ, "/local/domain/1/data/t", 23, reply, &len), 0);
        assert_int_equal(len, 5);
        assert_memory_equal(reply, "in-tx", 5);
    }
    xs_close(s);
}

static void test_torn_record_is_dropped(void **state)
{
    struct fixture *f = *state;
    struct xs_server *s = open_server(f);
    char path[128], reply[XS_MSG_MAX];
    uint32_t len = sizeof(reply);
    int fd;

    assert_int_equal(xs_local_write(s, "/tool/a", "kept"), 0);
    /* a crash: no xs_close, then half a record at the end of the journal */
    snprintf(path, sizeof(path), "%s/xenstore.journal", f->dir);
    fd = open(path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "\x02\0\0\0\x40\0\0\0garbage", 15), 15);
    close(fd);
    {
        /* the old server object is abandoned as a killed process's would be */
        struct xs_server *s2 = open_server(f);
        assert_int_equal(xs_local(s2, XS_READ, "/tool/a", 8, reply, &len), 0);
        assert_memory_equal(reply, "kept", 4);
        assert_true(fake_logged(&f->host, "dropped a torn last record"));
        xs_close(s2);
    }
    /* s shares nothing but the directory; free it without a snapshot */
    xs_close(s);
}

/* ---- the SIGKILL test ---- */

#define KEYS 8

struct guest_loop {
    int i;
    uint32_t next_id, acked_id;     /* requests sent, replies received (FIFO) */
    uint32_t expect_type[256];
    char expect[256][32];            /* expected reply payload as bars */
    char value[KEYS][32];            /* last value written per key, acknowledged or not */
    char acked[KEYS][32];            /* last acknowledged value per key */
    int pending_key[256];
    uint32_t events, replies;
    int last_event_key;              /* the key of the last watch event */
    uint32_t round;
};

static void guest_step(struct fixture *f, struct guest_loop *g)
{
    struct xenstore_domain_interface *r = f->host.ring[g->i];
    struct xsd_sockmsg h;
    char p[XENSTORE_PAYLOAD_MAX + 1], b[XENSTORE_PAYLOAD_MAX + 1];

    while (guest_recv(r, &h, p)) {
        bars(p, h.len, b);
        if (h.type == XS_WATCH_EVENT) {
            int k = -1;
            g->events++;
            if (sscanf(b, "data/k%d|", &k) == 1)
                g->last_event_key = k;
            continue;
        }
        g->acked_id++;
        if (h.req_id != g->acked_id)
            fail_msg("guest %d: reply to request %u, expected %u (lost or repeated)", g->i,
                     h.req_id, g->acked_id);
        if (h.type != g->expect_type[h.req_id % 256] || strcmp(b, g->expect[h.req_id % 256]))
            fail_msg("guest %d: request %u: reply %s %s, expected %s %s", g->i, h.req_id,
                     xs_type_name(h.type), b, xs_type_name(g->expect_type[h.req_id % 256]),
                     g->expect[h.req_id % 256]);
        if (h.type == XS_WRITE) {
            int k = g->pending_key[h.req_id % 256];
            /* the watch event of a write comes before its reply */
            if (g->last_event_key != k)
                fail_msg("guest %d: reply to write of k%d without its watch event", g->i, k);
            g->last_event_key = -1;
            memcpy(g->acked[k], g->value[k], sizeof(g->acked[k]));
        }
        g->replies++;
    }
    /* keep up to 4 requests in flight: a write, then a read of the key */
    while (g->next_id - g->acked_id < 4) {
        uint32_t id = ++g->next_id;
        int k = (int)(g->round % KEYS), ok;
        char req[96];
        if (id % 2) {
            snprintf(g->value[k], sizeof(g->value[k]), "v%u-%u", g->i, g->round);
            snprintf(req, sizeof(req), "data/k%d|%s", k, g->value[k]);
            g->expect_type[id % 256] = XS_WRITE;
            snprintf(g->expect[id % 256], 32, "OK|");
            g->pending_key[id % 256] = k;
            ok = guest_req(r, XS_WRITE, id, 0, req);
        } else {
            snprintf(req, sizeof(req), "data/k%d|", k);
            g->expect_type[id % 256] = XS_READ;
            memcpy(g->expect[id % 256], g->value[k], 32);
            ok = guest_req(r, XS_READ, id, 0, req);
            g->round++;
        }
        if (!ok) {
            g->next_id--;
            break;
        }
    }
}

static pid_t start_server_process(struct fixture *f)
{
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        struct xs_server *s = open_server(f);
        for (;;) {
            xs_poll_all(s);
            usleep(200);
        }
    }
    return pid;
}

static void test_sigkill_at_random_moments(void **state)
{
    struct fixture *f = *state;
    struct guest_loop g[3];
    struct xs_server *s;
    unsigned seed = (unsigned)time(NULL);
    pid_t pid;
    int status;

    memset(g, 0, sizeof(g));
    /* set up both guests' watches with a first server */
    s = open_server(f);
    for (int i = 1; i <= 2; i++) {
        struct xsd_sockmsg h;
        char p[XENSTORE_PAYLOAD_MAX + 1];
        g[i].i = i;
        g[i].last_event_key = -1;
        assert_true(guest_req(f->host.ring[i], XS_WATCH, 0, 0, "data|w|"));
        xs_poll_all(s);
        recv_msg(f, s, i, &h, p);
        recv_msg(f, s, i, &h, p);
    }
    xs_close(s);
    print_message("seed %u\n", seed);
    srand(seed);
    for (int kill_no = 0; kill_no < 20; kill_no++) {
        struct timespec t0, t;
        long run_us = 2000 + rand() % 40000;
        pid = start_server_process(f);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        do {
            guest_step(f, &g[1]);
            guest_step(f, &g[2]);
            clock_gettime(CLOCK_MONOTONIC, &t);
        } while ((t.tv_sec - t0.tv_sec) * 1000000L + (t.tv_nsec - t0.tv_nsec) / 1000 < run_us);
        kill(pid, SIGKILL);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status));
    }
    /* a last server in this process answers everything outstanding */
    s = open_server(f);
    for (int n = 0; n < 2000 && (g[1].acked_id < g[1].next_id || g[2].acked_id < g[2].next_id);
         n++) {
        xs_poll_all(s);
        guest_step(f, &g[1]);
        guest_step(f, &g[2]);
        if (g[1].round > 100000)
            break;
    }
    /* stop sending: drain */
    for (int n = 0; n < 200; n++) {
        struct xsd_sockmsg h;
        char p[XENSTORE_PAYLOAD_MAX + 1];
        xs_poll_all(s);
        for (int i = 1; i <= 2; i++)
            while (guest_recv(f->host.ring[i], &h, p))
                if (h.type != XS_WATCH_EVENT) {
                    g[i].acked_id++;
                    assert_int_equal(h.req_id, g[i].acked_id);
                    if (h.type == XS_WRITE)
                        memcpy(g[i].acked[g[i].pending_key[h.req_id % 256]],
                               g[i].value[g[i].pending_key[h.req_id % 256]], 32);
                }
    }
    for (int i = 1; i <= 2; i++) {
        assert_int_equal(g[i].acked_id, g[i].next_id);
        assert_true(g[i].replies > 20);
        for (int k = 0; k < KEYS; k++) {
            char path[64], reply[XS_MSG_MAX];
            uint32_t len = sizeof(reply);
            if (!g[i].acked[k][0])
                continue;
            snprintf(path, sizeof(path), "/local/domain/%d/data/k%d", i, k);
            assert_int_equal(xs_local(s, XS_READ, path, (uint32_t)strlen(path) + 1, reply, &len),
                             0);
            reply[len] = '\0';
            assert_string_equal(reply, g[i].acked[k]);
        }
        print_message("guest %d: %u replies, %u watch events across 20 kills\n", i,
                      g[i].replies, g[i].events);
    }
    xs_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_state_survives_a_clean_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_record_is_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sigkill_at_random_moments, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
