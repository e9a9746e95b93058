/*
 * test_machine.c - the machine launcher (dom0/machine.h) against the real
 * QEMU and the real hypervisor. TAP on stdout.
 *
 * Machines (each in its own state directory under one temp dir):
 *   main     build/pvcore.iso, started by a child process that then exits;
 *            attached from new processes, killed with SIGKILL, restarted,
 *            stopped with machine_stop; restarted, its supervisor killed
 *   poweroff the hypervisor ELF with "selftest=boot": powers off by ACPI
 *   fault    the hypervisor ELF with "selftest=fault-ud": a fatal trap
 *   kvm      build/pvcore.iso with -accel kvm and 2 CPUs (or the error
 *            QEMU gives where the host has no /dev/kvm)
 * Inputs: $PVCORE_ISO (default $BUILD/pvcore.iso), $PVCORE_HV_ELF (default
 * $BUILD/hypervisor/pvcore.elf). Every QEMU started is killed at exit, also
 * on failure or SIGTERM/SIGINT.
 */
#include "../lib/tap.h"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "machine.h"
#include "statefile.h"

#define MB2_HEADER_MAGIC 0xe85250d6u
#define HV_LOAD_ADDR 0x200000u
#define SCRATCH_PADDR 0x7000u       /* low memory the idle hypervisor does not use */
#define BOOT_TIMEOUT_MS 30000
#define MAIN_RAM_MIB 256u

/* The test's own bookkeeping, for cleanup from atexit and signals. */
static struct {
    char root[64];
    char main[128], poweroff[128], fault[128], synth[128], kvm[128];
    const char *iso, *hv_elf;
    unsigned int failures;
    pid_t pid;                      /* the test's main process */
} t;

#define report(ok, what, ...) tap_report((ok), (what), &t.failures, __VA_ARGS__)

static void kill_machine(const char *dir)
{
    struct machine_status st;

    if (!dir[0])
        return;
    machine_status_dir(dir, &st);
    if (st.state == MACHINE_RUNNING && st.qemu_pid > 0)
        kill(st.qemu_pid, SIGKILL);
    state_remove_ram(dir);      /* its supervisor may be gone (test_supervisor_killed) */
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void show_logs(const char *dir)
{
    static const char *const logs[] = { STATE_HV_LOG, STATE_QEMU_LOG, STATE_ISO_LOG };
    char buf[2048], *line, *save = NULL;
    size_t i;

    for (i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
        if (state_read(dir, logs[i], buf, sizeof(buf), 1) <= 0)
            continue;
        printf("# --- %s/%s (tail)\n", dir, logs[i]);
        for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
            printf("# %s\n", line);
    }
}

static void cleanup(void)
{
    if (getpid() != t.pid || !t.root[0])
        return;
    kill_machine(t.main);
    kill_machine(t.poweroff);
    kill_machine(t.fault);
    kill_machine(t.kvm);
    if (t.failures) {
        show_logs(t.main);
        show_logs(t.poweroff);
        show_logs(t.fault);
        show_logs(t.kvm);
    }
    usleep(200000);                 /* let the supervisors record and exit */
    nftw(t.root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    t.root[0] = '\0';
    fflush(stdout);
}

static void on_signal(int sig)
{
    cleanup();
    _exit(128 + sig);
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Poll until the machine in dir is no longer running (or timeout). */
static void wait_not_running(const char *dir, int timeout_ms, struct machine_status *st)
{
    long long deadline = now_ms() + timeout_ms;

    for (;;) {
        machine_status_dir(dir, st);
        if (st->state != MACHINE_RUNNING || now_ms() > deadline)
            return;
        usleep(50000);
    }
}

static int wait_log(const char *dir, const char *needle, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    char buf[65536];

    do {
        if (state_read(dir, STATE_HV_LOG, buf, sizeof(buf), 0) > 0 && strstr(buf, needle))
            return 1;
        usleep(50000);
    } while (now_ms() < deadline);
    return 0;
}

/* The main machine's RAM is in a tmpfs (ram_dir). */
#define TEST_RAM_DIR "/dev/shm"

static struct machine_config iso_config(const char *dir)
{
    return (struct machine_config){ .state_dir = dir, .iso = t.iso, .ram_mib = MAIN_RAM_MIB,
                                    .ram_dir = TEST_RAM_DIR };
}

static struct machine_config elf_config(const char *dir, const char *cmdline)
{
    return (struct machine_config){ .state_dir = dir, .hv_elf = t.hv_elf, .cmdline = cmdline,
                                    .ram_mib = 128 };
}

/* ---- no QEMU needed -------------------------------------------------- */

static void test_layout(void)
{
    struct machine_layout l;
    uint64_t off = 0;
    int ok;

    machine_layout_init(&l, 3583ull << 20);
    report(l.below_4g == 3583ull << 20 && l.above_4g == 0,
           "layout: 3583 MiB stays below 4 GiB", "expected below=3583 MiB above=0, got "
           "below=%" PRIu64 " above=%" PRIu64, l.below_4g >> 20, l.above_4g >> 20);
    machine_layout_init(&l, 3584ull << 20);
    report(l.below_4g == 3072ull << 20 && l.above_4g == 512ull << 20,
           "layout: 3584 MiB splits 3072 MiB low + 512 MiB at 4 GiB",
           "got below=%" PRIu64 " MiB above=%" PRIu64 " MiB", l.below_4g >> 20,
           l.above_4g >> 20);

    machine_layout_init(&l, 4096ull << 20);
    ok = machine_layout_offset(&l, 0x100001000ull, 8, &off) == 0 && off == 0xc0001000ull;
    report(ok, "layout: 4 GiB + 4 KiB maps to file offset 3 GiB + 4 KiB",
           "expected 0xc0001000, got %#" PRIx64, off);
    report(machine_layout_offset(&l, 0xc0000000ull, 1, &off) == -ERANGE,
           "layout: the PCI hole is refused", "expected -ERANGE at 0xc0000000");
    report(machine_layout_offset(&l, 0xbfffffffull, 2, &off) == -ERANGE,
           "layout: a range straddling the hole is refused", "expected -ERANGE");
    report(machine_layout_offset(&l, 0x13fffffffull, 1, &off) == 0 &&
           machine_layout_offset(&l, 0x140000000ull, 1, &off) == -ERANGE,
           "layout: the last byte above 4 GiB is RAM, the next is not", "wrong bounds");
    report(machine_layout_offset(&l, UINT64_MAX, 2, &off) == -ERANGE &&
           machine_layout_offset(&l, 0, 0, &off) == -ERANGE,
           "layout: wrapping ranges and empty ranges are refused", "expected -ERANGE");
}

static void test_config_errors(void)
{
    struct machine_config cfg = iso_config(t.main);
    struct machine *m = NULL;
    char err[512] = "";
    int rc;

    cfg.qemu = "/nonexistent/qemu-system-x86_64";
    rc = machine_start(&cfg, &m, err, sizeof(err));
    report(rc == -ENOENT && strstr(err, "/nonexistent/qemu-system-x86_64 not found"),
           "a missing QEMU binary is named", "expected -ENOENT '... not found', got %d '%s'",
           rc, err);
    cfg.qemu = "no-such-qemu-binary";
    rc = machine_start(&cfg, &m, err, sizeof(err));
    report(rc == -ENOENT && strstr(err, "not found in PATH"),
           "a QEMU missing from PATH is reported so", "got %d '%s'", rc, err);

    cfg = elf_config(t.main, "loglevel=info; reboot");
    rc = machine_start(&cfg, &m, err, sizeof(err));
    report(rc == -EINVAL && strstr(err, "cmdline") && strstr(err, "0x3b"),
           "a command line with a GRUB special character is refused",
           "expected -EINVAL naming cmdline and 0x3b, got %d '%s'", rc, err);
    cfg = elf_config(t.main, "loglevel=info");
    cfg.modules = &(struct machine_module){ .path = "/tmp/guest kernel.elf" };
    cfg.nr_modules = 1;
    rc = machine_start(&cfg, &m, err, sizeof(err));
    report(rc == -EINVAL && strstr(err, "guest kernel.elf"),
           "a module file name with a space is refused", "got %d '%s'", rc, err);
    cfg = iso_config(t.main);
    cfg.hv_elf = t.hv_elf;
    rc = machine_start(&cfg, &m, err, sizeof(err));
    report(rc == -EINVAL, "iso and hv_elf together are refused", "got %d '%s'", rc, err);
    cfg = iso_config(t.main);
    cfg.ram_mib = 1;
    rc = machine_start(&cfg, &m, err, sizeof(err));
    report(rc == -ERANGE && strstr(err, "ram_mib 1"), "1 MiB of RAM is refused",
           "got %d '%s'", rc, err);
    report(m == NULL, "failed starts return no machine", "got %p", (void *)m);
}

static void test_status_records(void)
{
    struct machine_status st;
    char err[256];
    int rc;

    machine_status_dir(t.synth, &st);
    report(st.state == MACHINE_NONE, "an empty state directory has no machine",
           "expected none, got %s (%s)", machine_state_name(st.state), st.reason);
    state_write_atomic(t.synth, STATE_QEMU_EXIT, "pid=4242\nexited=0\ntime=1700000000.5\n");
    state_write_atomic(t.synth, STATE_HV_LOG,
                       "[    0.1] pvcore: ready\r\n[    0.2] *** PANIC: frame table corrupt\r\n"
                       "[    0.2] *** stopping the machine: failure\r\n");
    machine_status_dir(t.synth, &st);
    report(st.state == MACHINE_DIED && strstr(st.reason, "*** PANIC: frame table corrupt") &&
           st.exit_code == 0 && st.qemu_pid == 4242,
           "a hypervisor panic makes a clean QEMU exit a death, with the panic line",
           "got %s, code %d, pid %d: %s", machine_state_name(st.state), st.exit_code,
           (int)st.qemu_pid, st.reason);
    rc = machine_attach(t.synth, &(struct machine *){ NULL }, err, sizeof(err));
    report(rc == -ESRCH && strstr(err, "PANIC"), "attach to a dead machine says why",
           "expected -ESRCH with the panic, got %d '%s'", rc, err);
}

/* ---- the real machine ------------------------------------------------ */

/* In a child: start the main machine and exit without stopping it. */
static void start_main_in_child(void)
{
    struct machine_config cfg = iso_config(t.main);
    struct machine *m;
    char err[512];
    pid_t child;
    int status;

    fflush(stdout);
    child = fork();
    if (child == 0) {
        int rc = machine_start(&cfg, &m, err, sizeof(err));

        if (rc < 0)
            printf("# child: machine_start: %d %s\n", rc, err);
        fflush(stdout);
        _exit(rc < 0 ? 1 : 0);
    }
    status = -1;
    waitpid(child, &status, 0);
    report(WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "a child process starts the machine and exits", "child status %#x", status);
}

static void test_survives_starter(void)
{
    struct machine_status st;

    machine_status_dir(t.main, &st);
    report(st.state == MACHINE_RUNNING,
           "the machine keeps running after its starter exited",
           "expected running, got %s (%s)", machine_state_name(st.state), st.reason);
    report(st.qemu_pid > 0 && getsid(st.qemu_pid) != getsid(0),
           "QEMU runs in a session of its own", "QEMU session %d, ours %d",
           (int)getsid(st.qemu_pid), (int)getsid(0));
    report(wait_log(t.main, "pvcore: ready", BOOT_TIMEOUT_MS),
           "the hypervisor log shows 'pvcore: ready'", "not in %s/hv.log after %d ms", t.main,
           BOOT_TIMEOUT_MS);
}

static void test_second_start_refused(void)
{
    struct machine_config cfg = iso_config(t.main);
    struct machine_status st;
    struct machine *m = NULL;
    char err[512] = "", pidtext[32];
    int rc;

    machine_status_dir(t.main, &st);
    snprintf(pidtext, sizeof(pidtext), "pid %d", (int)st.qemu_pid);
    rc = machine_start(&cfg, &m, err, sizeof(err));
    report(rc == -EBUSY && strstr(err, "already running") && strstr(err, pidtext),
           "a second start for the same state directory is refused",
           "expected -EBUSY naming QEMU %s, got %d '%s'", pidtext, rc, err);
    machine_close(m);
}

/* Read one 32-bit word through the QEMU monitor (guest physical). */
static int monitor_word(struct machine *m, uint64_t paddr, uint32_t *value)
{
    char cmd[64], out[256], err[256];
    unsigned v;

    snprintf(cmd, sizeof(cmd), "xp /1wx %#" PRIx64, paddr);
    if (machine_monitor(m, cmd, out, sizeof(out), err, sizeof(err)) < 0 ||
        sscanf(out, "%*[0-9a-f]: 0x%x", &v) != 1) {
        printf("# monitor '%s': %s%s\n", cmd, out, err);
        return -1;
    }
    *value = v;
    return 0;
}

/* In an attached process: the mapping is the machine's memory, both ways. */
static void check_memory(struct machine *m, const char *who)
{
    char what[128];
    uint32_t word = 0, seen = 0, saved;
    volatile uint32_t *p = machine_phys(m, HV_LOAD_ADDR, 4);

    if (p)
        word = *p;
    snprintf(what, sizeof(what), "%s: the multiboot2 magic is at 0x200000 in mapped RAM", who);
    report(p && word == MB2_HEADER_MAGIC, what, "expected %#x, got %#x", MB2_HEADER_MAGIC,
           word);
    snprintf(what, sizeof(what), "%s: QEMU's monitor sees the same word at 0x200000", who);
    report(monitor_word(m, HV_LOAD_ADDR, &seen) == 0 && seen == word, what,
           "mapped %#x, monitor %#x", word, seen);

    p = machine_phys(m, SCRATCH_PADDR, 4);
    if (!p) {
        report(0, who, "machine_phys(%#x) refused", SCRATCH_PADDR);
        return;
    }
    saved = *p;
    *p = 0x5eed1234u ^ (uint32_t)getpid();
    seen = 0;
    monitor_word(m, SCRATCH_PADDR, &seen);
    snprintf(what, sizeof(what), "%s: a write through the mapping is seen by the machine", who);
    report(seen == (0x5eed1234u ^ (uint32_t)getpid()), what, "wrote %#x, monitor read %#x",
           0x5eed1234u ^ (uint32_t)getpid(), seen);
    *p = saved;
}

static void check_doorbell(struct machine *m, const char *who)
{
    char out[1024] = "", err[256] = "", what[128];
    int rc;

    machine_monitor(m, "info chardev", out, sizeof(out), err, sizeof(err));
    snprintf(what, sizeof(what), "%s: QEMU has accepted the doorbell connection", who);
    report(strstr(out, "db: filename=unix:") != NULL, what,
           "expected 'db: filename=unix:' in info chardev, got '%s' %s", out, err);
    rc = machine_kick(m, err, sizeof(err));
    snprintf(what, sizeof(what), "%s: a kick is sent", who);
    report(rc == 0, what, "expected 0, got %d '%s'", rc, err);
    rc = machine_drain_kicks(m, err, sizeof(err));
    snprintf(what, sizeof(what), "%s: no kicks from an idle hypervisor", who);
    report(rc == 0, what, "expected 0, got %d '%s'", rc, err);
}

static void check_bounds(struct machine *m)
{
    uint64_t ram = (uint64_t)MAIN_RAM_MIB << 20;

    report(machine_phys(m, ram - 4096, 4096) != NULL, "machine_phys: the last page is RAM",
           "got NULL");
    report(machine_phys(m, ram, 1) == NULL && machine_phys(m, ram - 1, 2) == NULL &&
           machine_phys(m, 0x100000000ull, 1) == NULL && machine_phys(m, 0, 0) == NULL &&
           machine_phys(m, UINT64_MAX, 2) == NULL,
           "machine_phys: ranges past the end, across it, above 4 GiB or empty are refused",
           "a pointer was returned");
    report(machine_ram_layout(m)->ram_size == ram, "the mapping has the configured size",
           "expected %" PRIu64 ", got %" PRIu64, ram, machine_ram_layout(m)->ram_size);
}

/* Attach from a new process; while it is attached, another attach must be
 * refused (tried by the parent between the child's two pipe messages). */
static void test_attach_from_new_process(const char *who, int check_concurrent)
{
    int to_parent[2], to_child[2], status = -1, rc;
    struct machine *m = NULL;
    char err[512] = "", c = 0;
    pid_t child;

    if (pipe(to_parent) < 0 || pipe(to_child) < 0)
        abort();
    fflush(stdout);
    child = fork();
    if (child == 0) {
        rc = machine_attach(t.main, &m, err, sizeof(err));
        report(rc == 0, who, "machine_attach: %d '%s'", rc, err);
        if (write(to_parent[1], "a", 1) != 1 || read(to_child[0], &c, 1) != 1)
            _exit(2);
        if (rc == 0) {
            check_memory(m, who);
            check_doorbell(m, who);
            if (check_concurrent)
                check_bounds(m);
        }
        machine_close(m);
        fflush(stdout);
        _exit(t.failures ? 1 : 0);
    }
    if (read(to_parent[0], &c, 1) == 1 && check_concurrent) {
        char pidtext[32];

        snprintf(pidtext, sizeof(pidtext), "pid %d", (int)child);
        rc = machine_attach(t.main, &m, err, sizeof(err));
        report(rc == -EBUSY && strstr(err, pidtext),
               "a second process cannot attach while one is attached",
               "expected -EBUSY naming %s, got %d '%s'", pidtext, rc, err);
        machine_close(m);
    }
    if (write(to_child[1], "g", 1) != 1)
        report(0, "child runs", "cannot write to the child");
    waitpid(child, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        t.failures++;               /* the child reported its own "not ok" lines */
    close(to_parent[0]);
    close(to_parent[1]);
    close(to_child[0]);
    close(to_child[1]);
}

static void test_kill_and_restart(void)
{
    struct machine_config cfg = iso_config(t.main);
    struct machine_status st;
    struct machine *m = NULL;
    char err[512] = "";
    pid_t qemu;
    int rc;

    rc = machine_open(&cfg, &m, err, sizeof(err));
    report(rc == 0, "machine_open attaches to the running machine", "%d '%s'", rc, err);
    if (rc < 0)
        return;
    qemu = machine_qemu_pid(m);
    /* started with ram_dir /dev/shm (iso_config): machine.ram links there */
    char link[PATH_MAX], ram[PATH_MAX] = "";
    struct stat sb;
    snprintf(link, sizeof(link), "%s/%s", t.main, STATE_RAM);
    ssize_t n = readlink(link, ram, sizeof(ram) - 1);
    ram[n > 0 ? n : 0] = '\0';
    report(n > 0 && !strncmp(ram, TEST_RAM_DIR "/" STATE_RAM_PREFIX, strlen(TEST_RAM_DIR "/" STATE_RAM_PREFIX)) &&
           stat(link, &sb) == 0 && sb.st_size == (off_t)MAIN_RAM_MIB << 20,
           "ram_dir " TEST_RAM_DIR ": the RAM file is there, machine.ram links to it", "machine.ram -> '%s'", ram);
    kill(qemu, SIGKILL);
    wait_not_running(t.main, 10000, &st);
    report(st.state == MACHINE_DIED && st.signal == SIGKILL && strstr(st.reason, "signal 9"),
           "kill -9 of QEMU: status says died, killed by signal 9",
           "got %s, signal %d: %s", machine_state_name(st.state), st.signal, st.reason);
    usleep(100000);
    rc = machine_drain_kicks(m, err, sizeof(err));
    report(rc == -EPIPE, "the doorbell reports the hang-up", "expected -EPIPE, got %d", rc);
    report(!state_exists(t.main, STATE_QEMU_PID) && !state_exists(t.main, STATE_DOORBELL),
           "the supervisor removed qemu.pid and doorbell.sock", "they are still there");
    report(!state_exists(t.main, STATE_RAM) && (!ram[0] || access(ram, F_OK) != 0),
           "the supervisor removed the RAM file and its link", "machine.ram -> '%s' left", ram);
    machine_close(m);
    m = NULL;

    cfg.ram_dir = "";       /* RAM in the state directory */
    cfg.prealloc = 1;
    rc = machine_open(&cfg, &m, err, sizeof(err));
    report(rc == 0 && lstat(link, &sb) == 0 && S_ISREG(sb.st_mode),
           "ram_dir \"\": the RAM file is machine.ram in the state directory", "%d '%s'", rc, err);
    /* (QEMU faults it in before its vCPUs start, perhaps after machine_open returned) */
    for (int i = 0; rc == 0 && i < 100 && stat(link, &sb) == 0 &&
                    (uint64_t)sb.st_blocks * 512 < (uint64_t)MAIN_RAM_MIB << 20; i++)
        usleep(100000);
    report(rc == 0 && (uint64_t)sb.st_blocks * 512 >= (uint64_t)MAIN_RAM_MIB << 20,
           "prealloc: every page of the RAM file is allocated at boot",
           "%llu of %u MiB allocated", (unsigned long long)sb.st_blocks * 512 >> 20, MAIN_RAM_MIB);
    cfg.prealloc = 0;
    report(rc == 0 && machine_qemu_pid(m) != qemu,
           "machine_open starts a new machine in the dead one's directory",
           "%d '%s'", rc, err);
    if (rc < 0)
        return;
    rc = machine_stop(m, 5000, err, sizeof(err));
    machine_status(m, &st);
    report(rc == 0 && st.state == MACHINE_EXITED && st.exit_code == 0 &&
           strstr(st.reason, "on request"),
           "machine_stop: QEMU quits, status exited 0 on request",
           "rc %d '%s', got %s code %d: %s", rc, err, machine_state_name(st.state),
           st.exit_code, st.reason);
    report(!state_exists(t.main, STATE_MONITOR) && !state_exists(t.main, STATE_SUPERVISOR_PID) &&
           !state_exists(t.main, STATE_RAM),
           "after stop the sockets, pid files and RAM file are gone",
           "monitor.sock, supervisor.pid or machine.ram left");
    machine_close(m);
}

/* QEMU holds the directory's lock too: losing the supervisor neither stops
 * the machine nor lets a second one start. */
static void test_supervisor_killed(void)
{
    struct machine_config cfg = iso_config(t.main);
    struct machine_status st;
    struct machine *m = NULL, *second = NULL;
    char err[512] = "";
    pid_t supervisor = 0;
    int rc;

    rc = machine_start(&cfg, &m, err, sizeof(err));
    report(rc == 0, "start the machine again", "%d '%s'", rc, err);
    if (rc < 0)
        return;
    state_read_pid(t.main, STATE_SUPERVISOR_PID, &supervisor);
    report(supervisor > 0 && kill(supervisor, SIGKILL) == 0, "kill -9 the supervisor",
           "supervisor.pid %d", (int)supervisor);
    usleep(200000);
    machine_status(m, &st);
    report(st.state == MACHINE_RUNNING, "the machine runs on without its supervisor",
           "got %s: %s", machine_state_name(st.state), st.reason);
    rc = machine_start(&cfg, &second, err, sizeof(err));
    report(rc == -EBUSY && strstr(err, "already running"),
           "without the supervisor a second start is still refused (QEMU holds the lock)",
           "expected -EBUSY 'already running', got %d '%s'", rc, err);
    machine_close(second);
    kill(machine_qemu_pid(m), SIGKILL);
    wait_not_running(t.main, 10000, &st);
    report(st.state == MACHINE_DIED && strstr(st.reason, "supervisor recorded no exit"),
           "QEMU dying with no supervisor: status died, saying nothing recorded the exit",
           "got %s: %s", machine_state_name(st.state), st.reason);
    machine_close(m);
}

/* KVM where the host has it (with 2 vCPUs, seen by QEMU's monitor); where
 * it has not, the start fails with QEMU's own reason. */
static void test_kvm_and_cpus(void)
{
    struct machine_config cfg = iso_config(t.kvm);
    struct machine_status st;
    struct machine *m = NULL;
    char err[512] = "", out[1024] = "";
    int kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC), rc;

    cfg.accel = MACHINE_ACCEL_KVM;
    cfg.cpus = 2;
    rc = machine_start(&cfg, &m, err, sizeof(err));
    if (kvm_fd < 0) {
        report(rc == -EIO && strstr(err, "KVM"),
               "without /dev/kvm, a KVM start fails with QEMU's reason",
               "expected -EIO naming KVM, got %d '%s'", rc, err);
        return;
    }
    close(kvm_fd);
    report(rc == 0, "a KVM machine with 2 CPUs starts", "%d '%s'", rc, err);
    if (rc < 0)
        return;
    /* Whether the hypervisor boots under this host's KVM is its own
     * concern; the launcher's is that QEMU runs with KVM. */
    machine_monitor(m, "info kvm", out, sizeof(out), err, sizeof(err));
    report(strstr(out, "kvm support: enabled") != NULL, "QEMU runs the machine with KVM",
           "info kvm: '%s' %s", out, err);
    machine_monitor(m, "info cpus", out, sizeof(out), err, sizeof(err));
    report(strstr(out, "CPU #1") && !strstr(out, "CPU #2"), "QEMU gives the machine 2 CPUs",
           "info cpus: '%s'", out);
    machine_stop(m, 5000, err, sizeof(err));
    machine_status(m, &st);
    report(st.state == MACHINE_EXITED, "the KVM machine stops",
           "got %s: %s", machine_state_name(st.state), st.reason);
    machine_close(m);
}

static struct machine *start_elf_machine(const char *dir, const char *cmdline)
{
    struct machine_config cfg = elf_config(dir, cmdline);
    struct machine *m = NULL;
    char err[512] = "", what[128];
    int rc = machine_start(&cfg, &m, err, sizeof(err));

    snprintf(what, sizeof(what), "start a machine built with cmdline '%s'", cmdline);
    report(rc == 0, what, "%d '%s'", rc, err);
    return m;
}

static void test_self_stopping_machines(int poweroff, int fault)
{
    struct machine_status st;

    if (poweroff) {
        wait_not_running(t.poweroff, BOOT_TIMEOUT_MS, &st);
        report(st.state == MACHINE_EXITED && st.exit_code == 0 &&
               strstr(st.reason, "stopping the machine (success)"),
               "a hypervisor that powers off: status exited with QEMU's status 0",
               "got %s code %d: %s", machine_state_name(st.state), st.exit_code, st.reason);
        report(st.exit_time.tv_sec > 1700000000, "the exit time is recorded",
               "got %lld", (long long)st.exit_time.tv_sec);
    }
    if (fault) {
        wait_not_running(t.fault, BOOT_TIMEOUT_MS, &st);
        report(st.state == MACHINE_DIED && strstr(st.reason, "FATAL TRAP: vector 6"),
               "a hypervisor fatal trap: status died, naming the trap",
               "got %s: %s", machine_state_name(st.state), st.reason);
    }
}

int main(void)
{
    const char *build = getenv("BUILD") ? getenv("BUILD") : "build";
    static char iso[512], elf[512];
    struct machine *m;
    int poweroff, fault;

    t.pid = getpid();
    snprintf(iso, sizeof(iso), "%s/pvcore.iso", build);
    snprintf(elf, sizeof(elf), "%s/hypervisor/pvcore.elf", build);
    t.iso = getenv("PVCORE_ISO") ? getenv("PVCORE_ISO") : iso;
    t.hv_elf = getenv("PVCORE_HV_ELF") ? getenv("PVCORE_HV_ELF") : elf;
    if (access(t.iso, R_OK) != 0 || access(t.hv_elf, R_OK) != 0) {
        report(0, "test inputs exist", "expected %s and %s, one is missing", t.iso, t.hv_elf);
        return 1;
    }
    snprintf(t.root, sizeof(t.root), "/tmp/pvcore-dom0.XXXXXX");
    if (!mkdtemp(t.root)) {
        report(0, "make a temp dir", "%s", strerror(errno));
        return 1;
    }
    snprintf(t.main, sizeof(t.main), "%s/main", t.root);
    snprintf(t.poweroff, sizeof(t.poweroff), "%s/poweroff", t.root);
    snprintf(t.fault, sizeof(t.fault), "%s/fault", t.root);
    snprintf(t.synth, sizeof(t.synth), "%s/synth", t.root);
    snprintf(t.kvm, sizeof(t.kvm), "%s/kvm", t.root);
    mkdir(t.synth, 0700);
    atexit(cleanup);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);

    test_layout();
    test_config_errors();
    test_status_records();

    /* Machines that stop by themselves boot meanwhile. */
    m = start_elf_machine(t.poweroff, "selftest=boot");
    poweroff = m != NULL;
    machine_close(m);
    m = start_elf_machine(t.fault, "selftest=fault-ud");
    fault = m != NULL;
    machine_close(m);

    start_main_in_child();
    test_survives_starter();
    test_second_start_refused();
    test_attach_from_new_process("attach from a new process", 1);
    test_attach_from_new_process("attach again from another new process", 0);
    test_kill_and_restart();
    test_supervisor_killed();
    test_self_stopping_machines(poweroff, fault);
    test_kvm_and_cpus();
    return t.failures ? 1 : 0;
}
