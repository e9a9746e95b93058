/*
 * test_console.c - the console backend (dom0/console.c) on a ring page in
 * plain memory: logging, wrap-around, line callback, corrupt indices, and
 * exactly-once output across a restart and across a crash between the
 * log write and the acknowledgement in the ring; the cap: rotation to
 * LOG.1 .. LOG.keep (nothing lost, nothing twice, nothing past the cap),
 * emptying with keep 0, a crash right after a rotation, and removal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "console.h"

struct fixture {
    char dir[64], log[128];
    struct xencons_interface *ring;
    struct console_identity id;
    char lines[64][CONSOLE_LINE_MAX + 1];
    size_t nr_lines;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    strcpy(f->dir, "/tmp/test_console.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->log, sizeof(f->log), "%s/console-7.log", f->dir);
    f->ring = aligned_alloc(4096, 4096);
    memset(f->ring, 0, 4096);
    f->id = (struct console_identity){ .boot_id = 0x1234, .domid = 7, .ring_mfn = 0x4321,
                                       .handle = { 1, 2, 3 } };
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
    free(f->ring);
    free(f);
    return 0;
}

/* The guest's side of the ring: all of s, which must fit. */
static void guest_write(struct xencons_interface *r, const char *s)
{
    size_t n = strlen(s);

    assert_true(n <= XENCONS_OUT_SIZE - (r->out_prod - r->out_cons));
    for (size_t i = 0; i < n; i++)
        r->out[MASK_XENCONS_IDX(r->out_prod + i, XENCONS_OUT_SIZE)] = s[i];
    r->out_prod += (XENCONS_RING_IDX)n;
}

static char *read_log(const char *path)
{
    static char buf[64 * 1024];
    FILE *fp = fopen(path, "r");

    assert_non_null(fp);
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    return buf;
}

static void on_line(void *arg, uint32_t domid, const char *line, size_t len)
{
    struct fixture *f = arg;

    assert_int_equal(domid, 7);
    assert_true(f->nr_lines < 64);
    memcpy(f->lines[f->nr_lines], line, len);
    f->lines[f->nr_lines++][len] = '\0';
}

static struct console *open_console(struct fixture *f)
{
    struct console *c;
    char err[256];

    assert_int_equal(console_open(&f->id, f->ring, f->log, &c, err, sizeof(err)), 0);
    return c;
}

static void logs_what_the_guest_wrote(void **state)
{
    struct fixture *f = *state;
    struct console *c = open_console(f);
    char err[256];

    console_set_line_fn(c, on_line, f);
    assert_int_equal(console_poll(c, err, sizeof(err)), 0);
    guest_write(f->ring, "tick 1\ntick 2\npart");
    assert_int_equal(console_poll(c, err, sizeof(err)), 18);
    assert_int_equal(f->ring->out_cons, f->ring->out_prod);
    assert_string_equal(read_log(f->log), "tick 1\ntick 2\npart");
    assert_int_equal(f->nr_lines, 2);
    assert_string_equal(f->lines[0], "tick 1");
    assert_string_equal(f->lines[1], "tick 2");
    guest_write(f->ring, "ial\n");
    assert_int_equal(console_poll(c, err, sizeof(err)), 4);
    assert_int_equal(f->nr_lines, 3);
    assert_string_equal(f->lines[2], "partial");
    assert_int_equal(console_bytes_logged(c), 22);
    console_close(c);
}

static void output_wraps_around_the_ring(void **state)
{
    struct fixture *f = *state;
    struct console *c = open_console(f);
    static char a[1501], b[1501], want[3001];
    char err[256];

    memset(a, 'a', 1499);
    a[1499] = '\n';
    memset(b, 'b', 1499);
    b[1499] = '\n';
    f->ring->out_prod = f->ring->out_cons = UINT32_MAX - 100;   /* indices wrap too */
    guest_write(f->ring, a);
    assert_int_equal(console_poll(c, err, sizeof(err)), 1500);
    guest_write(f->ring, b);
    assert_int_equal(console_poll(c, err, sizeof(err)), 1500);
    snprintf(want, sizeof(want), "%s%s", a, b);
    assert_string_equal(read_log(f->log), want);
    console_close(c);
}

static void long_lines_reach_the_callback_in_pieces(void **state)
{
    struct fixture *f = *state;
    struct console *c = open_console(f);
    static char line[CONSOLE_LINE_MAX + 11];
    char err[256];

    console_set_line_fn(c, on_line, f);
    memset(line, 'x', CONSOLE_LINE_MAX + 9);
    line[CONSOLE_LINE_MAX + 9] = '\n';
    guest_write(f->ring, line);
    assert_int_equal(console_poll(c, err, sizeof(err)), CONSOLE_LINE_MAX + 10);
    assert_int_equal(f->nr_lines, 2);
    assert_int_equal(strlen(f->lines[0]), CONSOLE_LINE_MAX);
    assert_string_equal(f->lines[1], "xxxxxxxxx");
    console_close(c);
}

static void a_restart_continues_where_the_last_reader_stopped(void **state)
{
    struct fixture *f = *state;
    struct console *c = open_console(f);
    struct console_identity id;
    char err[256];

    guest_write(f->ring, "tick 1\n");
    assert_int_equal(console_poll(c, err, sizeof(err)), 7);
    console_close(c);
    guest_write(f->ring, "tick 2\n");           /* while no Domain 0 runs */

    assert_int_equal(console_read_identity(f->log, &id, err, sizeof(err)), 0);
    assert_int_equal(id.ring_mfn, 0x4321);
    assert_int_equal(id.domid, 7);
    assert_int_equal(id.boot_id, 0x1234);
    c = open_console(f);
    guest_write(f->ring, "tick 3\n");
    assert_int_equal(console_poll(c, err, sizeof(err)), 14);
    assert_string_equal(read_log(f->log), "tick 1\ntick 2\ntick 3\n");
    console_close(c);
}

/* The reader dies after appending a chunk but before storing out_cons: the
 * next reader must log the chunk once, not twice. */
static void a_crash_before_the_acknowledgement_logs_nothing_twice(void **state)
{
    struct fixture *f = *state;
    struct console *c = open_console(f);
    char err[256];

    guest_write(f->ring, "tick 1\n");
    assert_int_equal(console_poll(c, err, sizeof(err)), 7);
    guest_write(f->ring, "tick 2\n");
    XENCONS_RING_IDX before = f->ring->out_cons;
    assert_int_equal(console_poll(c, err, sizeof(err)), 7);
    console_close(c);
    f->ring->out_cons = before;                 /* the store that never happened */
    assert_string_equal(read_log(f->log), "tick 1\ntick 2\n");

    c = open_console(f);
    assert_string_equal(read_log(f->log), "tick 1\n");
    guest_write(f->ring, "tick 3\n");
    assert_int_equal(console_poll(c, err, sizeof(err)), 14);
    assert_string_equal(read_log(f->log), "tick 1\ntick 2\ntick 3\n");
    console_close(c);
}

static long long file_size(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* 4000 lines "line NNNN\n" (10 bytes each) through a log capped at 4096
 * bytes with 2 rotated files: no file past the cap, LOG.3 never made, and
 * LOG.2, LOG.1, LOG in order are exactly the last lines written. */
static void the_log_is_rotated_at_its_cap(void **state)
{
    struct fixture *f = *state;
    struct console *c = open_console(f);
    char err[256], line[32], path[160], all[3 * 4096 + 1] = "";
    static char want[40001];
    size_t wlen = 0;

    console_set_log_limit(c, 4096, 2);
    for (int i = 0; i < 4000; i++) {
        snprintf(line, sizeof(line), "line %04d\n", i);
        guest_write(f->ring, line);
        memcpy(want + wlen, line, 10);
        wlen += 10;
        if (i % 37 == 36)       /* chunks of 370 bytes: not a divisor of the cap */
            assert_true(console_poll(c, err, sizeof(err)) > 0);
        assert_true(file_size(f->log) <= 4096);
    }
    assert_true(console_poll(c, err, sizeof(err)) > 0);
    want[wlen] = '\0';
    assert_true(console_rotations(c) >= 9);        /* 40000 bytes, 11 chunks a file */
    for (int k = 2; k >= 0; k--) {
        if (k)
            snprintf(path, sizeof(path), "%s.%d", f->log, k);
        else
            snprintf(path, sizeof(path), "%s", f->log);
        assert_true(file_size(path) > 0 && file_size(path) <= 4096);
        strcat(all, read_log(path));
    }
    snprintf(path, sizeof(path), "%s.3", f->log);
    assert_int_equal(file_size(path), -1);
    assert_string_equal(all, want + wlen - strlen(all));
    assert_int_equal(all[0], 'l');     /* rotated between chunks: whole lines */
    console_close(c);

    assert_int_equal(console_remove_logs(f->log, err, sizeof(err)), 0);
    for (int k = 1; k <= 2; k++) {
        snprintf(path, sizeof(path), "%s.%d", f->log, k);
        assert_int_equal(file_size(path), -1);
    }
    assert_int_equal(file_size(f->log), -1);
    snprintf(path, sizeof(path), "%s.pos", f->log);
    assert_int_equal(file_size(path), -1);
}

/* keep 0: the log is emptied instead; and a crash between a rotation and
 * the acknowledgement of the chunk after it loses nothing, logs nothing
 * twice. */
static void keep_zero_empties_and_a_crash_after_a_rotation_is_undone(void **state)
{
    struct fixture *f = *state;
    struct console *c = open_console(f);
    char err[256], big[2001], path[160];

    memset(big, 'x', 2000);
    big[1999] = '\n';
    big[2000] = '\0';
    console_set_log_limit(c, 4096, 0);
    for (int i = 0; i < 5; i++) {
        guest_write(f->ring, big);
        assert_int_equal(console_poll(c, err, sizeof(err)), 2000);
        assert_true(file_size(f->log) <= 4096);
    }
    assert_int_equal(file_size(f->log), 2000);     /* 4000, emptied, 2000 */
    snprintf(path, sizeof(path), "%s.1", f->log);
    assert_int_equal(file_size(path), -1);
    console_close(c);

    /* rotate with keep 1, then "crash" before the ring is acknowledged */
    c = open_console(f);
    console_set_log_limit(c, 4096, 1);
    guest_write(f->ring, "tail 1\n");
    assert_int_equal(console_poll(c, err, sizeof(err)), 7);        /* 2007 */
    guest_write(f->ring, big);
    assert_int_equal(console_poll(c, err, sizeof(err)), 2000);     /* 4007 */
    guest_write(f->ring, big);
    XENCONS_RING_IDX before = f->ring->out_cons;
    assert_int_equal(console_poll(c, err, sizeof(err)), 2000);     /* rotated first */
    console_close(c);
    f->ring->out_cons = before;
    assert_int_equal(file_size(path), 4007);
    assert_int_equal(file_size(f->log), 2000);
    c = open_console(f);                                            /* the chunk undone */
    assert_int_equal(file_size(f->log), 0);
    console_set_log_limit(c, 4096, 1);
    assert_int_equal(console_poll(c, err, sizeof(err)), 2000);     /* and logged once */
    assert_int_equal(file_size(f->log), 2000);
    assert_int_equal(file_size(path), 4007);
    console_close(c);
}

/* A record from another ring (a reused domid after a reboot) must not cut
 * the log. */
static void a_record_of_another_ring_is_not_applied(void **state)
{
    struct fixture *f = *state;
    struct console *c = open_console(f);
    char err[256];

    guest_write(f->ring, "old boot\n");
    assert_int_equal(console_poll(c, err, sizeof(err)), 9);
    console_close(c);
    f->ring->out_cons = f->ring->out_prod = 0;  /* a new domain's fresh ring */
    f->id.boot_id = 0x9999;
    c = open_console(f);
    guest_write(f->ring, "new boot\n");
    assert_int_equal(console_poll(c, err, sizeof(err)), 9);
    assert_string_equal(read_log(f->log), "old boot\nnew boot\n");
    console_close(c);
}

static void corrupt_indices_are_skipped_and_reported(void **state)
{
    struct fixture *f = *state;
    struct console *c = open_console(f);
    char err[256];

    f->ring->out_prod = f->ring->out_cons + XENCONS_OUT_SIZE + 1;
    assert_int_equal(console_poll(c, err, sizeof(err)), -EPROTO);
    assert_non_null(strstr(err, "corrupt"));
    assert_int_equal(f->ring->out_cons, f->ring->out_prod);
    assert_int_equal(console_poll(c, err, sizeof(err)), 0);
    guest_write(f->ring, "fine\n");
    assert_int_equal(console_poll(c, err, sizeof(err)), 5);
    assert_string_equal(read_log(f->log), "fine\n");
    console_close(c);
}

static void open_errors_name_the_domain_and_the_file(void **state)
{
    struct fixture *f = *state;
    struct console *c;
    char err[256];

    assert_int_equal(console_open(&f->id, f->ring, "/nonexistent/dir/log", &c, err,
                                  sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "domain 7"));
    assert_non_null(strstr(err, "/nonexistent/dir/log"));
    assert_int_equal(console_open(&f->id, NULL, f->log, &c, err, sizeof(err)), -EINVAL);
    assert_int_equal(console_read_identity("/nonexistent/log", &f->id, err, sizeof(err)),
                     -ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(logs_what_the_guest_wrote, setup, teardown),
        cmocka_unit_test_setup_teardown(output_wraps_around_the_ring, setup, teardown),
        cmocka_unit_test_setup_teardown(long_lines_reach_the_callback_in_pieces, setup, teardown),
        cmocka_unit_test_setup_teardown(a_restart_continues_where_the_last_reader_stopped,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(a_crash_before_the_acknowledgement_logs_nothing_twice,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(a_record_of_another_ring_is_not_applied, setup, teardown),
        cmocka_unit_test_setup_teardown(the_log_is_rotated_at_its_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(keep_zero_empties_and_a_crash_after_a_rotation_is_undone,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(corrupt_indices_are_skipped_and_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(open_errors_name_the_domain_and_the_file, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
