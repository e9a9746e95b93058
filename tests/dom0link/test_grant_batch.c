/*
 * test_grant_batch.c - GRANT_MAP_BATCH and GRANT_UNMAP_BATCH through the
 * Domain 0 link against a real machine (QEMU, build/pvcore.iso). TAP.
 *
 * The grant_dom0 guest in batch mode grants BATCH_N pages read/write
 * (refs BATCH_FIRST..) and one read-only (BATCH_RO). Domain 0 then:
 *  1. maps them in one batch beside refused entries (a ref never granted,
 *     a ref beyond the table, the read-only grant mapped writable, a
 *     domain that does not exist, an unknown flag): each good entry maps
 *     its own page, each bad one fails alone with exactly the errno the
 *     single GRANT_MAP gives for it;
 *  2. writes through every writable mapping (the guest sees each write,
 *     and cannot end access while they are mapped);
 *  3. the bound: PVCTL_GRANT_BATCH_MAX entries map and unmap; one more,
 *     or none, is refused by the hypervisor (-E2BIG, -EINVAL) without an
 *     entry done, and by the wrapper before it is sent;
 *  4. unmaps in one batch with a stale handle (unmapped before) and a
 *     handle named twice: those fail alone, with the single GRANT_UNMAP's
 *     errno, the others are unmapped and the guest can end access.
 */
#include "../lib/tap.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "link_harness.h"

#define RAM_MIB 256u
#define DOM_KIB (8 * 1024u)
#define WAIT_MS 30000u
/* as guests/kernels/grant_dom0.c */
#define BATCH_FIRST 8u
#define BATCH_N 6u
#define BATCH_RO 20u
#define REPLY_OFF 2048
#define DOM0_TEXT "written by domain 0"
#define UNUSED_REF 300u                 /* inside the guest's table, never granted */
#define BEYOND_REF 5000u                /* past the guest's one-frame table */
#define NO_DOMAIN 0x7fe0u

static struct {
    struct link l;
    unsigned int failures;
} t;

#define report(ok, what, ...) tap_report((ok), (what), &t.failures, __VA_ARGS__)

static void cleanup(void)
{
    link_cleanup(&t.l, t.failures != 0);
}

static void on_signal(int sig)
{
    cleanup();
    _exit(128 + sig);
}

struct lines {
    char line[16][128];
    unsigned int n;
};

static void collect_line(void *arg, uint32_t domid, const char *line, size_t len)
{
    struct lines *ls = arg;

    if (ls->n < 16)
        snprintf(ls->line[ls->n++], sizeof(ls->line[0]), "%.*s", (int)len, line);
}

/* Pump d's console until the line want (1) or a "grant: FAIL" line (0)
 * comes, or WAIT_MS pass (0); reported as what. */
static int expect_line(struct link_domain *d, struct lines *ls, const char *want, const char *what)
{
    char err[1024] = "";

    for (unsigned int waited = 0; waited < WAIT_MS; waited += 50) {
        for (unsigned int i = 0; i < ls->n; i++) {
            if (!strcmp(ls->line[i], want)) {
                report(1, what, "%s", "");
                return 1;
            }
            if (!strncmp(ls->line[i], "grant: FAIL", 11))
                waited = WAIT_MS;
        }
        if (link_pump(&t.l, d, 1, 50, err, sizeof(err)))
            break;
    }
    report(0, what, "wanted \"%s\" on the console; last line: %s %s", want,
           ls->n ? ls->line[ls->n - 1] : "(nothing)", err);
    return 0;
}

/* The page an entry mapped, or NULL. */
static char *page_of(const struct pvctl_grant_map_entry *e)
{
    return e->status ? NULL : machine_phys(t.l.m, e->mfn << 12, 4096);
}

/* A refused entry of a batch against the single GRANT_MAP of the same
 * grant: both refuse it, with the same errno. */
static void refused_as_single(const struct pvctl_grant_map_entry *e, const char *what)
{
    uint64_t mfn = 0;
    uint32_t handle = 0;
    char err[1024] = "";
    int rc = ctl_grant_map(t.l.c, e->domid, e->gref, e->flags, &mfn, &handle, err, sizeof(err));

    report(e->status < 0 && e->status == rc && rc != -ETIMEDOUT, what,
           "batch entry status %d, GRANT_MAP of the same %d (%s)", e->status, rc, err);
    if (rc == 0)
        ctl_grant_unmap(t.l.c, handle, err, sizeof(err));
}

/* A raw GRANT_MAP_BATCH with count entries claimed: the hypervisor's answer. */
static int raw_map_batch(uint32_t count)
{
    struct pvctl_request req;
    struct pvctl_response rsp;
    char err[1024];

    memset(&req, 0, sizeof(req));
    req.op = PVCTL_OP_GRANT_MAP_BATCH;
    req.size = sizeof(struct pvctl_grant_batch);
    req.u.grant_batch.count = count;
    return ctl_call(t.l.c, &req, &rsp, ctl_timeout(t.l.c), err, sizeof(err));
}

static void the_bound(uint32_t domid)
{
    static struct pvctl_grant_map_entry e[PVCTL_GRANT_BATCH_MAX + 1];
    static struct pvctl_grant_unmap_entry u[PVCTL_GRANT_BATCH_MAX];
    struct pvctl_grant_map_entry *bulk = ctl_bulk(t.l.c);
    unsigned int bad = 0, n = PVCTL_GRANT_BATCH_MAX;
    char err[1024] = "";
    int rc;

    for (unsigned int i = 0; i <= n; i++)
        e[i] = (struct pvctl_grant_map_entry){ .domid = domid, .gref = BATCH_FIRST + i % BATCH_N,
                                               .flags = GNTMAP_readonly };
    rc = ctl_grant_map_batch(t.l.c, e, n + 1, err, sizeof(err));
    report(rc == -E2BIG, "the wrapper refuses a batch of PVCTL_GRANT_BATCH_MAX + 1 entries",
           "got %d (%s)", rc, err);
    /* the bulk area full of good entries: the hypervisor must not do one */
    ctl_bulk_hold(t.l.c);
    memcpy(bulk, e, (n + 1) * sizeof(*e));
    rc = raw_map_batch(n + 1);
    for (unsigned int i = 0; i <= n; i++)
        bad += bulk[i].status != 0 || bulk[i].handle != 0;
    ctl_bulk_release(t.l.c);
    report(rc == -E2BIG && !bad, "the hypervisor refuses PVCTL_GRANT_BATCH_MAX + 1 entries with "
           "-E2BIG, doing none", "got %d, %u entries touched", rc, bad);
    rc = raw_map_batch(0);
    report(rc == -EINVAL, "the hypervisor refuses a batch of 0 entries with -EINVAL", "got %d", rc);

    rc = ctl_grant_map_batch(t.l.c, e, n, err, sizeof(err));
    for (unsigned int i = 0; i < n; i++) {
        bad += e[i].status != 0;
        u[i] = (struct pvctl_grant_unmap_entry){ .handle = e[i].handle };
    }
    report(rc == 0 && !bad, "a batch of PVCTL_GRANT_BATCH_MAX maps is done whole",
           "%d (%s), %u entries refused (the first: %d)", rc, err, bad, e[0].status);
    if (rc)
        return;
    rc = ctl_grant_unmap_batch(t.l.c, u, n, err, sizeof(err));
    for (unsigned int i = 0; i < n; i++)
        bad += u[i].status != 0;
    report(rc == 0 && !bad, "a batch of PVCTL_GRANT_BATCH_MAX unmaps is done whole",
           "%d (%s), %u entries refused", rc, err, bad);
}

static void map_write_unmap(void)
{
    struct link_domain d;
    struct lines ls = { .n = 0 };
    char err[1024] = "";
    int rc = link_build(&t.l, &d, "grant-batch", "grant_dom0", "batch=1", DOM_KIB, err, sizeof(err));

    report(rc == 0, "the grant guest is built in batch mode", "%s", err);
    if (rc)
        return;
    console_set_line_fn(d.cons, collect_line, &ls);
    if (!expect_line(&d, &ls, "grant: batch ready", "the guest grants six pages and a read-only one"))
        return;

    /* 1. one batch: good entries around refused ones */
    uint32_t id = d.b.domid;
    struct pvctl_grant_map_entry e[] = {
        { .domid = id, .gref = BATCH_FIRST },
        { .domid = id, .gref = BATCH_FIRST + 1 },
        { .domid = id, .gref = UNUSED_REF },                    /* 2 */
        { .domid = id, .gref = BATCH_FIRST + 2 },
        { .domid = id, .gref = BEYOND_REF },                    /* 4 */
        { .domid = id, .gref = BATCH_FIRST + 3 },
        { .domid = id, .gref = BATCH_RO, .flags = GNTMAP_readonly },
        { .domid = id, .gref = BATCH_RO },                      /* 7: read-only as writable */
        { .domid = id, .gref = BATCH_FIRST + 4 },
        { .domid = NO_DOMAIN, .gref = BATCH_FIRST },            /* 9 */
        { .domid = id, .gref = BATCH_FIRST + 5 },
        { .domid = id, .gref = BATCH_FIRST, .flags = 0x100 },   /* 11: an unknown flag */
    };
    const unsigned int good[BATCH_N] = { 0, 1, 3, 5, 8, 10 };
    const size_t n = sizeof(e) / sizeof(e[0]);
    rc = ctl_grant_map_batch(t.l.c, e, n, err, sizeof(err));
    report(rc == 0, "GRANT_MAP_BATCH of 12 entries, 5 of them bad, is answered", "%d: %s", rc, err);
    if (rc)
        return;
    unsigned int wrong = 0;
    for (unsigned int i = 0; i < BATCH_N; i++) {
        char want[32], *page = page_of(&e[good[i]]);
        snprintf(want, sizeof(want), "granted page %u", i);
        if (!page || strcmp(page, want)) {
            printf("# entry %u (ref %u): status %d, %s\n", good[i], e[good[i]].gref, e[good[i]].status,
                   page ? page : "no page");
            wrong++;
        }
    }
    report(!wrong, "every good entry maps its own granted page", "%u wrong", wrong);
    char *ro = page_of(&e[6]);
    report(ro && !strcmp(ro, "read-only page"), "the read-only grant maps read-only",
           "status %d, %s", e[6].status, ro ? ro : "no page");
    refused_as_single(&e[2], "a ref never granted fails alone, as GRANT_MAP fails it");
    refused_as_single(&e[4], "a ref beyond the table fails alone, as GRANT_MAP fails it");
    refused_as_single(&e[7], "the read-only grant mapped writable is refused, as by GRANT_MAP");
    refused_as_single(&e[9], "a domain that does not exist fails alone, as GRANT_MAP fails it");
    refused_as_single(&e[11], "an unknown flag fails alone, as GRANT_MAP fails it");
    report(e[9].status == -ESRCH, "the missing domain's entry is -ESRCH", "got %d", e[9].status);

    /* 2. written through every writable mapping */
    for (unsigned int i = 0; i < BATCH_N; i++) {
        char *page = page_of(&e[good[i]]);
        if (page)
            snprintf(page + REPLY_OFF, 64, "%s %u", DOM0_TEXT, i);
    }
    expect_line(&d, &ls, "grant: batch written", "the guest sees Domain 0's writes through each mapping");
    expect_line(&d, &ls, "grant: batch end while mapped: refused",
                "the guest cannot end access while they are mapped");

    /* 3. the bound */
    the_bound(id);

    /* 4. one unmap batch: a stale handle and one named twice fail alone */
    rc = ctl_grant_unmap(t.l.c, e[good[0]].handle, err, sizeof(err));
    report(rc == 0, "the first mapping is unmapped by GRANT_UNMAP", "%s", err);
    struct pvctl_grant_unmap_entry u[] = {
        { .handle = e[good[1]].handle }, { .handle = e[good[0]].handle },   /* 1: stale */
        { .handle = e[good[2]].handle }, { .handle = e[good[3]].handle },
        { .handle = e[good[1]].handle },                                    /* 4: twice */
        { .handle = e[good[4]].handle }, { .handle = e[good[5]].handle }, { .handle = e[6].handle },
    };
    const size_t nu = sizeof(u) / sizeof(u[0]);
    rc = ctl_grant_unmap_batch(t.l.c, u, nu, err, sizeof(err));
    report(rc == 0, "GRANT_UNMAP_BATCH of 8 handles, 2 of them stale, is answered", "%d: %s", rc, err);
    wrong = 0;
    for (size_t i = 0; i < nu; i++)
        wrong += (i == 1 || i == 4) ? 0 : u[i].status != 0;
    report(!rc && !wrong, "every live handle is unmapped", "%u refused", wrong);
    int single = ctl_grant_unmap(t.l.c, e[good[0]].handle, err, sizeof(err));
    report(!rc && u[1].status < 0 && u[1].status == single, "the stale handle fails alone, as GRANT_UNMAP "
           "fails it", "batch %d, GRANT_UNMAP %d", u[1].status, single);
    single = ctl_grant_unmap(t.l.c, e[good[1]].handle, err, sizeof(err));
    report(!rc && u[4].status < 0 && u[4].status == single, "a handle named twice is unmapped once, the "
           "second fails as GRANT_UNMAP fails it", "batch %d, GRANT_UNMAP %d", u[4].status, single);
    expect_line(&d, &ls, "grant: batch end after unmap: ok", "after the unmaps the guest ends access to each");
    console_close(d.cons);
    rc = ctl_destroy(t.l.c, d.b.domid, err, sizeof(err));
    report(rc == 0, "the grant guest is destroyed", "%s", err);
}

int main(void)
{
    char err[1024];

    setvbuf(stdout, NULL, _IOLBF, 0);
    atexit(cleanup);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    if (link_start(&t.l, RAM_MIB, err, sizeof(err))) {
        report(0, "the machine boots", "%s", err);
        return 1;
    }
    map_write_unmap();
    return t.failures != 0;
}
