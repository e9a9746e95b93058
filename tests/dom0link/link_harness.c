/*
 * link_harness.c - the real machine and the domains of the Domain 0 link
 * tests (see link_harness.h).
 */
#include "link_harness.h"

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dom0_error.h"

uint64_t link_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static const char *build_dir(void)
{
    const char *b = getenv("BUILD");

    return b && *b ? b : "build";
}

const char *link_guest(const char *name)
{
    static char path[4][512];
    static unsigned int next;
    char *p = path[next++ % 4];

    snprintf(p, sizeof(path[0]), "%s/guests/%s.elf", build_dir(), name);
    return p;
}

int link_start(struct link *l, unsigned int ram_mib, char *err, size_t errlen)
{
    static char iso[512];
    const char *env = getenv("PVCORE_ISO");
    int rc;

    memset(l, 0, sizeof(*l));
    snprintf(iso, sizeof(iso), "%s", env && *env ? env : "");
    if (!iso[0])
        snprintf(iso, sizeof(iso), "%s/pvcore.iso", build_dir());
    if (access(iso, R_OK))
        return dom0_fail(err, errlen, ENOENT, "boot image %s: %s", iso, strerror(errno));
    strcpy(l->root, "/tmp/pvcore-link.XXXXXX");
    if (!mkdtemp(l->root))
        return dom0_fail(err, errlen, errno, "mkdtemp: %s", strerror(errno));
    snprintf(l->state, sizeof(l->state), "%s/machine", l->root);
    struct machine_config cfg = {
        .state_dir = l->state, .iso = iso, .ram_mib = ram_mib, .cpus = 2,
        .accel = MACHINE_ACCEL_TCG, .start_timeout_ms = LINK_BOOT_TIMEOUT_MS,
    };
    if ((rc = machine_start(&cfg, &l->m, err, errlen)))
        return rc;
    return ctl_attach(l->m, LINK_BOOT_TIMEOUT_MS, &l->c, err, errlen);
}

int link_attach(struct link *l, char *err, size_t errlen)
{
    int rc = machine_attach(l->state, &l->m, err, errlen);

    if (rc)
        return rc;
    return ctl_attach(l->m, LINK_BOOT_TIMEOUT_MS, &l->c, err, errlen);
}

void link_detach(struct link *l)
{
    ctl_close(l->c);
    machine_close(l->m);
    l->c = NULL;
    l->m = NULL;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

void link_cleanup(struct link *l, int show_logs)
{
    struct machine_status st;
    char path[512], line[512];

    if (!l->root[0])
        return;
    if (show_logs) {
        snprintf(path, sizeof(path), "%s/hv.log", l->state);
        FILE *fp = fopen(path, "r");
        long size = 0;
        if (fp && !fseek(fp, 0, SEEK_END) && (size = ftell(fp)) > 6000)
            fseek(fp, size - 6000, SEEK_SET);
        else if (fp)
            rewind(fp);
        printf("# --- %s (tail)\n", path);
        while (fp && fgets(line, sizeof(line), fp))
            printf("# %s", line);
        if (fp)
            fclose(fp);
    }
    link_detach(l);
    machine_status_dir(l->state, &st);
    if (st.state == MACHINE_RUNNING && st.qemu_pid > 0)
        kill(st.qemu_pid, SIGKILL);
    usleep(200 * 1000);
    nftw(l->root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    l->root[0] = '\0';
}

static struct link *exit_link;
static const unsigned int *exit_failures;

static void exit_cleanup(void)
{
    if (exit_link)
        link_cleanup(exit_link, *exit_failures != 0);
}

static void exit_on_signal(int sig)
{
    exit_cleanup();
    _exit(128 + sig);
}

void link_cleanup_at_exit(struct link *l, const unsigned int *failures)
{
    exit_link = l;
    exit_failures = failures;
    atexit(exit_cleanup);
    signal(SIGTERM, exit_on_signal);
    signal(SIGINT, exit_on_signal);
}

static int open_console(struct link *l, struct link_domain *d, const struct console_identity *id,
                        char *err, size_t errlen)
{
    struct xencons_interface *ring = machine_phys(l->m, id->ring_mfn << 12, 4096);

    return console_open(id, ring, d->log, &d->cons, err, errlen);
}

int link_build(struct link *l, struct link_domain *d, const char *name, const char *elf,
               const char *cmdline, uint64_t mem_kib, char *err, size_t errlen)
{
    struct build_config cfg = {
        .name = name, .kernel_path = link_guest(elf), .cmdline = cmdline, .mem_kib = mem_kib,
        .paused = l->build_paused,
    };
    int rc;

    memset(d, 0, sizeof(*d));
    snprintf(d->name, sizeof(d->name), "%s", name);
    snprintf(d->log, sizeof(d->log), "%s/console-%s.log", l->root, name);
    for (size_t i = 0; name[i] && i < sizeof(cfg.handle); i++)
        cfg.handle[i] = (uint8_t)name[i];
    if ((rc = build_domain(l->c, &cfg, &d->b, err, errlen)))
        return rc;
    struct console_identity id = { .boot_id = ctl_boot_id(l->c), .domid = d->b.domid,
                                   .ring_mfn = d->b.console_mfn };
    memcpy(id.handle, cfg.handle, sizeof(id.handle));
    return open_console(l, d, &id, err, errlen);
}

int link_reopen_console(struct link *l, struct link_domain *d, const char *name,
                        char *err, size_t errlen)
{
    struct console_identity id;
    int rc;

    memset(d, 0, sizeof(*d));
    snprintf(d->name, sizeof(d->name), "%s", name);
    snprintf(d->log, sizeof(d->log), "%s/console-%s.log", l->root, name);
    if ((rc = console_read_identity(d->log, &id, err, errlen)))
        return rc;
    if (id.boot_id != ctl_boot_id(l->c))
        return dom0_fail(err, errlen, ESTALE, "console of '%s' belongs to another boot", name);
    d->b.domid = id.domid;
    d->b.console_mfn = id.ring_mfn;
    return open_console(l, d, &id, err, errlen);
}

int link_pump(struct link *l, struct link_domain *d, size_t n, unsigned int ms,
              char *err, size_t errlen)
{
    uint64_t end = link_now_ns() + (uint64_t)ms * 1000000ull;

    do {
        for (size_t i = 0; i < n; i++) {
            if (!d[i].cons)
                continue;
            int rc = console_poll(d[i].cons, err, errlen);
            if (rc < 0)
                return rc;
        }
        uint32_t ports[64];
        size_t np = ctl_pending_ports(l->c, ports, 64);
        for (size_t k = 0; k < np; k++)
            for (size_t i = 0; i < n; i++)
                d[i].events += d[i].cons && d[i].b.console_port &&
                               ports[k] == d[i].b.console_port;
        usleep(10 * 1000);
    } while (link_now_ns() < end);
    return 0;
}

int link_ticks(const char *log, unsigned int *count, unsigned int *first_bad)
{
    FILE *fp = fopen(log, "r");
    char line[256];
    unsigned int n = 0;

    *count = 0;
    *first_bad = 0;
    if (!fp)
        return -errno;
    while (fgets(line, sizeof(line), fp)) {
        unsigned int v;
        if (sscanf(line, "tick %u", &v) != 1)
            continue;
        if (v != n + 1 && !*first_bad)
            *first_bad = n + 1;
        n = v;
        (*count)++;
    }
    fclose(fp);
    return 0;
}
