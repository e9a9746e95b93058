/*
 * create_latency.c - `make bench-create`: how long Domain 0 takes from the
 * CREATE_DOMAIN request to the new domain's first console line, step by
 * step, on a real machine (QEMU with build/pvcore.iso, TCG unless
 * PVCORE_ACCEL=kvm) with the ticker guest.
 *
 * Each run: build_domain left paused (read the ELF, CREATE_DOMAIN, frames,
 * event channels, load, page tables, console, pin, vCPU context), then
 * UNPAUSE, then poll the console ring every 0.1 ms until its first byte
 * and until "tick 1" is in the log; then destroy it and wait until the
 * machine's free-frame count is back where it was. The control client's
 * own counters (dom0/ctl.h ctl_stats) split the build into its control
 * round trips, per op, and the local work between them. Before the runs,
 * NOP round trips measure the bare transport (push, doorbell kick to the
 * hypervisor, its answer and kick back) that every control call pays.
 * Before the unpause it also counts, frame-exact, what the hypervisor
 * took from its heap for the domain beyond the domain's own pages.
 * Prints medians per step and per op; asserts nothing (a benchmark).
 * Usage: create_latency [runs]   (default 20)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "link_harness.h"

#define DOM_KIB (8 * 1024u)
#define FIRST_LINE_TIMEOUT_NS (10ull * 1000000000ull)
#define MAX_RUNS 200
#define NOPS 200

struct run {
    uint64_t build, unpause, first_byte, line;   /* ns, each from the end of the one before */
    uint64_t ctl_ns, ctl_calls, kicks;           /* the build's control calls */
    int64_t hv_frames;                           /* heap frames taken beyond its own pages */
    struct ctl_op_stats op[PVCTL_OP_MAX];
};

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_u64);
    return n ? v[n / 2] : 0;
}

/* 0, or -ETIMEDOUT / a negative errno with err set. */
static int time_one(struct link *l, unsigned int i, struct run *r, char *err, size_t errlen)
{
    struct link_domain d;
    struct pvctl_machine_info before, now;
    struct ctl_op_stats st[PVCTL_OP_MAX];
    char name[32];
    unsigned int count = 0, bad;
    int rc, seen = 0;

    if ((rc = ctl_machine_info(l->c, &before, err, errlen)))
        return rc;
    snprintf(name, sizeof(name), "bench-%u", i);
    ctl_stats_reset(l->c);
    uint64_t t0 = link_now_ns();
    if ((rc = link_build(l, &d, name, "ticker", "period_ms=1000", DOM_KIB, err, errlen)))
        return rc;
    uint64_t t1 = link_now_ns();
    ctl_stats(l->c, st);
    memcpy(r->op, st, sizeof(st));
    for (unsigned int op = 0; op < PVCTL_OP_MAX; op++) {
        r->ctl_ns += st[op].ns;
        r->ctl_calls += st[op].calls;
        r->kicks += st[op].kicks;
    }
    /* What the hypervisor took from its heap beyond the domain's own pages,
     * exactly (frames), before the guest runs and can change either. */
    struct pvctl_machine_info built;
    struct pvctl_domain_info info;
    if ((rc = ctl_machine_info(l->c, &built, err, errlen)) ||
        (rc = ctl_get_info(l->c, d.b.domid, &info, err, errlen))) {
        console_close(d.cons);
        ctl_destroy(l->c, d.b.domid, NULL, 0);
        return rc;
    }
    r->hv_frames = (int64_t)(before.free_frames - built.free_frames) - (int64_t)info.tot_pages;
    rc = ctl_unpause(l->c, d.b.domid, err, errlen);
    uint64_t t2 = link_now_ns(), t3 = 0;
    while (!rc && !count && link_now_ns() - t1 < FIRST_LINE_TIMEOUT_NS) {
        if ((rc = console_poll(d.cons, err, errlen)) < 0)
            break;
        if (rc > 0) {
            if (!seen++)
                t3 = link_now_ns();
            link_ticks(d.log, &count, &bad);
        } else {
            usleep(100);
        }
        rc = 0;
    }
    uint64_t t4 = link_now_ns();
    console_close(d.cons);
    int drc = ctl_destroy(l->c, d.b.domid, err, errlen);
    if (rc < 0)
        return rc;
    if (!count)
        return -ETIMEDOUT;
    r->build = t1 - t0;
    r->unpause = t2 - t1;
    r->first_byte = t3 - t2;
    r->line = t4 - t3;
    /* The next run starts on a quiet machine: the frames are back. */
    uint64_t end = link_now_ns() + FIRST_LINE_TIMEOUT_NS;
    while (!drc && !(drc = ctl_machine_info(l->c, &now, err, errlen)) &&
           now.free_frames != before.free_frames && link_now_ns() < end)
        usleep(1000);
    return drc;
}

static void print_ops(const struct run *runs, unsigned int n, uint64_t nop_ns)
{
    static uint64_t v[MAX_RUNS];

    printf("\n| control op in the build | calls | median ms (all calls) | beyond a NOP |\n"
           "|---|---:|---:|---:|\n");
    for (unsigned int op = 0; op < PVCTL_OP_MAX; op++) {
        if (!runs[0].op[op].calls)
            continue;
        for (unsigned int i = 0; i < n; i++)
            v[i] = runs[i].op[op].ns;
        uint64_t m = median(v, n);
        uint64_t calls = runs[0].op[op].calls;
        printf("| %s | %llu | %.2f | %.2f |\n", ctl_op_name(op), (unsigned long long)calls, m / 1e6,
               (double)((int64_t)m - (int64_t)(calls * nop_ns)) / 1e6);
    }
}

int main(int argc, char **argv)
{
    unsigned int n = argc > 1 ? (unsigned int)atoi(argv[1]) : 20;
    static struct run runs[MAX_RUNS];
    static uint64_t v[MAX_RUNS > NOPS ? MAX_RUNS : NOPS];
    struct link l;
    char err[1024];
    FILE *la = fopen("/proc/loadavg", "r");
    char load[64] = "?";

    if (!n || n > MAX_RUNS) {
        fprintf(stderr, "usage: %s [runs 1-%u]\n", argv[0], MAX_RUNS);
        return 2;
    }
    if (la && fgets(load, sizeof(load), la))
        load[strcspn(load, "\n")] = '\0';
    if (la)
        fclose(la);
    if (link_start(&l, 256, err, sizeof(err))) {
        fprintf(stderr, "create_latency: %s\n", err);
        link_cleanup(&l, 1);
        return 1;
    }
    l.build_paused = 1;
    for (unsigned int i = 0; i < NOPS; i++) {
        uint64_t t = link_now_ns();
        if (ctl_nop(l.c, err, sizeof(err))) {
            fprintf(stderr, "create_latency: NOP: %s\n", err);
            link_cleanup(&l, 1);
            return 1;
        }
        v[i] = link_now_ns() - t;
    }
    uint64_t nop_ns = median(v, NOPS), nop_min = v[0], nop_p99 = v[NOPS * 99 / 100];
    for (unsigned int i = 0; i < n; i++) {
        int rc = time_one(&l, i, &runs[i], err, sizeof(err));
        if (rc) {
            fprintf(stderr, "create_latency: run %u: %s\n", i, rc == -ETIMEDOUT ?
                    "no console line within 10 s" : err);
            link_cleanup(&l, 1);
            return 1;
        }
    }
    printf("bench-create: CREATE_DOMAIN to the first console line (QEMU %s, ticker guest, "
           "%u MiB, 1 vCPU), %u runs; load average %s\n",
           getenv("PVCORE_ACCEL") ? getenv("PVCORE_ACCEL") : "TCG", DOM_KIB / 1024, n, load);
    printf("control round trip (NOP, %u calls): min %.3f ms, median %.3f ms, p99 %.3f ms\n",
           NOPS, nop_min / 1e6, nop_ns / 1e6, nop_p99 / 1e6);
    uint64_t b[MAX_RUNS], c[MAX_RUNS], u[MAX_RUNS], f[MAX_RUNS], t[MAX_RUNS], total[MAX_RUNS];
    for (unsigned int i = 0; i < n; i++) {
        b[i] = runs[i].build - runs[i].ctl_ns;
        c[i] = runs[i].ctl_ns;
        u[i] = runs[i].unpause;
        f[i] = runs[i].first_byte;
        t[i] = runs[i].line;
        total[i] = runs[i].build + runs[i].unpause + runs[i].first_byte + runs[i].line;
    }
    uint64_t calls = runs[0].ctl_calls, kicks = runs[0].kicks;
    uint64_t mt = median(total, n);
    printf("\n| step | median ms | share of the median total |\n|---|---:|---:|\n");
    uint64_t mc = median(c, n), mb = median(b, n), mu = median(u, n), mf = median(f, n),
             ml = median(t, n);
    printf("| build: %llu control round trips (%llu kicks) | %.2f | %.0f %% |\n",
           (unsigned long long)calls, (unsigned long long)kicks, mc / 1e6, 100.0 * mc / mt);
    printf("| build: local work (ELF, page tables, start_info, in Domain 0) | %.2f | %.0f %% |\n",
           mb / 1e6, 100.0 * mb / mt);
    printf("| unpause (one round trip) | %.2f | %.0f %% |\n", mu / 1e6, 100.0 * mu / mt);
    printf("| unpause to the first console byte (guest boot) | %.2f | %.0f %% |\n", mf / 1e6,
           100.0 * mf / mt);
    printf("| first byte to the whole line | %.2f | %.0f %% |\n", ml / 1e6, 100.0 * ml / mt);
    printf("| **total** (min %.2f, max %.2f) | **%.2f** | |\n", total[0] / 1e6,
           total[n - 1] / 1e6, mt / 1e6);
    printf("\nthe bare transport (%llu x the median NOP) is %.2f ms of the %.2f ms of control calls\n",
           (unsigned long long)(calls + 1), (calls + 1) * nop_ns / 1e6, (mc + mu) / 1e6);
    print_ops(runs, n, nop_ns);
    int64_t lo = runs[0].hv_frames, hi = runs[0].hv_frames;
    for (unsigned int i = 1; i < n; i++) {
        lo = runs[i].hv_frames < lo ? runs[i].hv_frames : lo;
        hi = runs[i].hv_frames > hi ? runs[i].hv_frames : hi;
    }
    printf("\nhypervisor memory per domain beyond its own pages (free frames before and after "
           "the build, less its tot_pages): %lld-%lld frames = %lld-%lld KiB\n", (long long)lo,
           (long long)hi, (long long)lo * 4, (long long)hi * 4);
    link_cleanup(&l, 0);
    return 0;
}
