/*
 * create_latency.c - how long Domain 0 takes from the CREATE_DOMAIN request
 * to the new domain's first console line, on a real machine (QEMU with
 * build/pvcore.iso, TCG unless PVCORE_ACCEL=kvm) with the ticker guest.
 *
 * Each run: build_domain (create, frames, ports, load, console, context,
 * unpause), then poll the console ring every 0.2 ms until "tick 1" is in
 * the log; then destroy it and wait until the machine's free-frame count is
 * back where it was before the run. Prints per-run figures and min / median / max;
 * asserts nothing (the target, under 50 ms, is for reading).
 * Usage: create_latency [runs]   (default 10)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "link_harness.h"

#define DOM_KIB (8 * 1024u)
#define FIRST_LINE_TIMEOUT_NS (10ull * 1000000000ull)

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* 0 and *ns, or -ETIMEDOUT. */
static int time_one(struct link *l, unsigned int run, uint64_t *build_ns, uint64_t *line_ns,
                    char *err, size_t errlen)
{
    struct link_domain d;
    char name[32];
    unsigned int count = 0, bad;
    int rc;

    struct pvctl_machine_info before, now;
    if ((rc = ctl_machine_info(l->c, &before, err, errlen)))
        return rc;
    snprintf(name, sizeof(name), "bench-%u", run);
    uint64_t t0 = link_now_ns();
    if ((rc = link_build(l, &d, name, "ticker", "period_ms=1000", DOM_KIB, err, errlen)))
        return rc;
    *build_ns = link_now_ns() - t0;
    while (!count && link_now_ns() - t0 < FIRST_LINE_TIMEOUT_NS) {
        if ((rc = console_poll(d.cons, err, errlen)) < 0)
            break;
        if (rc > 0)
            link_ticks(d.log, &count, &bad);
        else
            usleep(200);
    }
    *line_ns = link_now_ns() - t0;
    console_close(d.cons);
    int drc = ctl_destroy(l->c, d.b.domid, err, errlen);
    if (rc < 0)
        return rc;
    if (!count)
        return -ETIMEDOUT;
    /* The next run starts on a quiet machine: the frames are back. */
    uint64_t end = link_now_ns() + FIRST_LINE_TIMEOUT_NS;
    while (!drc && !(drc = ctl_machine_info(l->c, &now, err, errlen)) &&
           now.free_frames != before.free_frames && link_now_ns() < end)
        usleep(1000);
    return drc;
}

int main(int argc, char **argv)
{
    unsigned int runs = argc > 1 ? (unsigned int)atoi(argv[1]) : 10;
    struct link l;
    char err[1024];
    uint64_t build[64], line[64];

    if (!runs || runs > 64) {
        fprintf(stderr, "usage: %s [runs 1-64]\n", argv[0]);
        return 2;
    }
    if (link_start(&l, 256, err, sizeof(err))) {
        fprintf(stderr, "create_latency: %s\n", err);
        link_cleanup(&l, 1);
        return 1;
    }
    for (unsigned int i = 0; i < runs; i++) {
        int rc = time_one(&l, i, &build[i], &line[i], err, sizeof(err));
        if (rc) {
            fprintf(stderr, "create_latency: run %u: %s\n", i, rc == -ETIMEDOUT ?
                    "no console line within 10 s" : err);
            link_cleanup(&l, 1);
            return 1;
        }
        printf("run %2u: built in %6.2f ms, first console line after %6.2f ms\n", i,
               build[i] / 1e6, line[i] / 1e6);
    }
    qsort(build, runs, sizeof(build[0]), cmp_u64);
    qsort(line, runs, sizeof(line[0]), cmp_u64);
    printf("create_latency (TCG, ticker guest, %u MiB, %u runs): CREATE_DOMAIN to first console "
           "line: min %.2f ms, median %.2f ms, max %.2f ms (build alone: median %.2f ms)\n",
           DOM_KIB / 1024, runs, line[0] / 1e6, line[runs / 2] / 1e6, line[runs - 1] / 1e6,
           build[runs / 2] / 1e6);
    link_cleanup(&l, 0);
    return 0;
}
