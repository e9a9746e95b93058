/*
 * test_ports.c - the event channels the builder hands a guest, through the
 * Domain 0 link against a real machine (QEMU, build/pvcore.iso). TAP.
 *
 *  1. the "ports" guest checks from inside that start_info's console and
 *     xenstore ports are its own, bound interdomain to Domain 0, and do
 *     not collide with the ports it allocates next; it says so on its
 *     console ring, and Domain 0 gets the event on its own end;
 *  2. start/destroy cycles: LEAK_CYCLES domains (more than the ~500 starts
 *     after which leaked Domain 0 ports used to run out, twice over) are
 *     built, started and destroyed, BATCH at a time; Domain 0's count of
 *     ports in use (MACHINE_INFO) is two per running domain, back to its
 *     start value after each batch is gone, and so are the free frames at
 *     the end.
 * LEAK_CYCLES can be lowered with $PVCORE_PORT_CYCLES (not below 1100 in
 * `make test`).
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
#define LEAK_CYCLES 1100u
#define GONE_WAIT_MS 10000u
#define BATCH 16u
#define CYCLE_KIB (4 * 1024u)          /* the smallest the ticker fits in */

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

static int machine_info(struct pvctl_machine_info *mi)
{
    char err[1024];
    int rc = ctl_machine_info(t.l.c, mi, err, sizeof(err));

    if (rc)
        printf("# MACHINE_INFO: %s\n", err);
    return rc;
}

/* Wait until domid is gone; 0 or -ETIMEDOUT. */
static int wait_gone(uint32_t domid)
{
    uint64_t end = link_now_ns() + GONE_WAIT_MS * 1000000ull;
    struct pvctl_domain_info info;
    char err[1024];

    while (ctl_get_info(t.l.c, domid, &info, err, sizeof(err)) != -ESRCH) {
        if (link_now_ns() > end)
            return -ETIMEDOUT;
        usleep(1000);
    }
    return 0;
}

struct lines {
    char last[256];
    int verdict;                    /* 1 ok, -1 FAIL, 0 none yet */
};

static void on_line(void *arg, uint32_t domid, const char *line, size_t len)
{
    struct lines *ls = arg;

    snprintf(ls->last, sizeof(ls->last), "%.*s", (int)len, line);
    if (!strncmp(ls->last, "ports: ", 7))
        ls->verdict = strstr(ls->last, ": ok") ? 1 : strstr(ls->last, "FAIL") ? -1 : 0;
}

static void the_guest_gets_its_own_bound_ports(unsigned int dom0_ports)
{
    struct link_domain d;
    struct lines ls = { .verdict = 0 };
    char err[1024];
    int rc = link_build(&t.l, &d, "ports", "ports", "", DOM_KIB, err, sizeof(err));

    report(rc == 0, "the ports guest is built", "%s", err);
    if (rc)
        return;
    report(d.b.guest_console_port && d.b.guest_store_port &&
           d.b.guest_console_port != d.b.guest_store_port,
           "start_info names two different non-zero ports of the guest",
           "console %u, store %u", d.b.guest_console_port, d.b.guest_store_port);
    struct pvctl_machine_info mi;
    report(!machine_info(&mi) && mi.dom0_ports == dom0_ports + 2,
           "Domain 0 holds the other end of each (two ports more)", "%u in use, %u before",
           mi.dom0_ports, dom0_ports);
    console_set_line_fn(d.cons, on_line, &ls);
    for (unsigned int waited = 0; waited < 30000 && !ls.verdict; waited += 50)
        link_pump(&t.l, &d, 1, 50, err, sizeof(err));
    report(ls.verdict == 1, "the guest finds its console and xenstore ports bound, its own, "
           "and apart from the ports it allocates", "last line: %s",
           ls.last[0] ? ls.last : "(none)");
    report(d.events > 0, "Domain 0 gets the guest's console events on its end",
           "none on port %u", d.b.console_port);
    console_close(d.cons);
    rc = ctl_destroy(t.l.c, d.b.domid, err, sizeof(err));
    report(rc == 0 && wait_gone(d.b.domid) == 0, "the ports guest is destroyed", "%s", err);
    report(!machine_info(&mi) && mi.dom0_ports == dom0_ports,
           "Domain 0's ends are closed with the domain", "%u in use, %u before",
           mi.dom0_ports, dom0_ports);
}

static void start_destroy_cycles_leak_no_port(unsigned int dom0_ports, uint64_t free_frames,
                                              unsigned int cycles)
{
    struct build_config cfg = { .kernel_path = link_guest("ticker"), .cmdline = "period_ms=1000",
                                .mem_kib = CYCLE_KIB };
    struct pvctl_machine_info mi;
    char err[1024], name[32];
    unsigned int done = 0, leaked_at = 0, leaked = 0, failed = 0;
    uint64_t t0 = link_now_ns();

    /* Batches of BATCH domains alive at once (destruction is asynchronous:
     * waiting for each one alone would take minutes). */
    while (done < cycles && !failed) {
        uint32_t ids[BATCH];
        unsigned int n = 0;
        for (; n < BATCH && done + n < cycles; n++) {
            struct build_result res;
            snprintf(name, sizeof(name), "cycle-%u", done + n);
            cfg.name = name;
            if (build_domain(t.l.c, &cfg, &res, err, sizeof(err))) {
                report(0, "start/destroy cycles", "start %u failed: %s", done + n + 1, err);
                failed = 1;
                break;
            }
            ids[n] = res.domid;
        }
        if (!failed && (machine_info(&mi) || mi.dom0_ports != dom0_ports + 2 * n)) {
            report(0, "Domain 0 holds two ports per running domain", "%u in use with %u "
                   "domains, %u at the start", mi.dom0_ports, n, dom0_ports);
            failed = 1;
        }
        for (unsigned int i = 0; i < n; i++) {
            int rc = ctl_destroy(t.l.c, ids[i], err, sizeof(err));
            if (rc) {
                report(0, "start/destroy cycles", "destroy of domain %u: %s", ids[i], err);
                failed = 1;
            }
        }
        for (unsigned int i = 0; i < n; i++)
            if (wait_gone(ids[i])) {
                report(0, "start/destroy cycles", "domain %u is not gone after %u ms", ids[i],
                       GONE_WAIT_MS);
                failed = 1;
            }
        if (failed || machine_info(&mi))
            break;
        done += n;
        if (mi.dom0_ports != dom0_ports && !leaked_at) {
            leaked_at = done;
            leaked = mi.dom0_ports;
        }
        if (done % 100 < BATCH)
            printf("# %u cycles, %.1f s, Domain 0 ports in use %u\n", done,
                   (link_now_ns() - t0) / 1e9, mi.dom0_ports);
    }
    report(done == cycles, "domains started and destroyed through the Domain 0 link",
           "%u of %u", done, cycles);
    report(done && !leaked_at, "Domain 0's ports in use are back to their start value "
           "after every batch of destroys", "after cycle %u: %u in use, %u at the start",
           leaked_at, leaked, dom0_ports);
    uint64_t end = link_now_ns() + GONE_WAIT_MS * 1000000ull;
    while (!machine_info(&mi) && mi.free_frames != free_frames && link_now_ns() < end)
        usleep(50 * 1000);
    report(mi.free_frames == free_frames, "free frames are back after the cycles",
           "%llu free, %llu at the start", (unsigned long long)mi.free_frames,
           (unsigned long long)free_frames);
}

int main(void)
{
    char err[1024];
    struct pvctl_machine_info mi;
    const char *env = getenv("PVCORE_PORT_CYCLES");
    unsigned int cycles = env && atoi(env) > 0 ? (unsigned int)atoi(env) : LEAK_CYCLES;

    setvbuf(stdout, NULL, _IOLBF, 0);
    atexit(cleanup);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    if (link_start(&t.l, RAM_MIB, err, sizeof(err))) {
        report(0, "the machine boots", "%s", err);
        return 1;
    }
    if (machine_info(&mi))
        return 1;
    printf("# Domain 0 ports in use at the start: %u\n", mi.dom0_ports);
    the_guest_gets_its_own_bound_ports(mi.dom0_ports);
    start_destroy_cycles_leak_no_port(mi.dom0_ports, mi.free_frames, cycles);
    return t.failures != 0;
}
