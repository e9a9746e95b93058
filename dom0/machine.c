/*
 * machine.c - starting, attaching to and stopping the machine (QEMU running
 * the pvcore hypervisor); its RAM and doorbell as seen from Domain 0.
 *
 * Invariants:
 * - One machine per state directory: machine.lock is flocked by the
 *   supervisor (and QEMU, which inherits it) for as long as either lives;
 *   machine_start takes it before touching anything and hands it over.
 * - One Domain 0 per machine: an attached struct machine holds the flock on
 *   dom0.lock; the kernel drops it when the process dies, so a restarted
 *   process can attach again.
 * - A pid from a pid file is trusted only when /proc/<pid>/cmdline names
 *   this directory's RAM file (machine_qemu_is_ours).
 * - machine_start either returns an attached machine whose QEMU has created
 *   its RAM file and sockets, or an error with nothing left running.
 * Start sequence: check config -> lock -> build ISO -> clear old records ->
 * fork supervisor (double fork + setsid) -> wait for its report -> wait
 * for QEMU's files -> attach. Failures unwind in reverse.
 */
#include "machine.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dom0_error.h"
#include "machine_internal.h"
#include "machine_iso.h"
#include "machine_supervisor.h"
#include "process.h"
#include "statefile.h"

#define QEMU_DEFAULT "qemu-system-x86_64"
#define MACHINE_MIN_RAM_MIB 16u
#define STOP_KILL_WAIT_MS 5000
#define STOP_RECORD_WAIT_MS 3000
#define POLL_INTERVAL_US 20000

/* QEMU's command line, with the storage its strings live in. */
struct qemu_cmd {
    char *argv[40];
    int argc;
    char machine_opt[64], ram_opt[PATH_MAX * 2 + 96], accel[8], smp[16];
    char serial_log[PATH_MAX + 8], doorbell_opt[PATH_MAX * 2 + 64];
    char monitor_opt[PATH_MAX * 2 + 32], iso[PATH_MAX];
};

int qemu_opt_escape(const char *in, char *out, size_t outlen)
{
    size_t used = 0;

    for (; *in; in++) {
        size_t need = *in == ',' ? 2 : 1;

        if (used + need >= outlen)
            return -ENAMETOOLONG;
        out[used++] = *in;
        if (*in == ',')
            out[used++] = ',';
    }
    out[used] = '\0';
    return 0;
}

/* "mem-path=<escaped dir/machine.ram>": what QEMU's command line must hold. */
static int ram_needle(const char *dir, char *out, size_t outlen)
{
    char path[PATH_MAX], esc[PATH_MAX * 2];

    if (state_path(path, sizeof(path), dir, STATE_RAM) < 0 ||
        qemu_opt_escape(path, esc, sizeof(esc)) < 0 ||
        (size_t)snprintf(out, outlen, "mem-path=%s", esc) >= outlen)
        return -ENAMETOOLONG;
    return 0;
}

int machine_qemu_is_ours(const char *dir, pid_t pid)
{
    char needle[PATH_MAX * 2 + 16];

    return pid > 0 && ram_needle(dir, needle, sizeof(needle)) == 0 &&
           process_cmdline_contains(pid, needle);
}

static int check_config(const struct machine_config *cfg, char *err, size_t errlen)
{
    if (!cfg->state_dir || !*cfg->state_dir)
        return dom0_fail(err, errlen, EINVAL, "machine config: state_dir is required");
    if (!cfg->iso == !cfg->hv_elf)
        return dom0_fail(err, errlen, EINVAL,
                         "machine config: give exactly one of iso and hv_elf");
    if (cfg->iso && (cfg->cmdline || cfg->nr_modules))
        return dom0_fail(err, errlen, EINVAL, "machine config: an ISO's command line and "
                         "modules are fixed; pass hv_elf to choose them");
    if (cfg->ram_mib && (cfg->ram_mib < MACHINE_MIN_RAM_MIB ||
                         cfg->ram_mib > MACHINE_MAX_RAM_MIB))
        return dom0_fail(err, errlen, ERANGE, "machine config: ram_mib %u is outside %u..%u",
                         cfg->ram_mib, MACHINE_MIN_RAM_MIB, MACHINE_MAX_RAM_MIB);
    if (cfg->cpus > MACHINE_MAX_CPUS)
        return dom0_fail(err, errlen, ERANGE, "machine config: cpus %u is outside 1..%u",
                         cfg->cpus, MACHINE_MAX_CPUS);
    if (cfg->accel != MACHINE_ACCEL_TCG && cfg->accel != MACHINE_ACCEL_KVM)
        return dom0_fail(err, errlen, EINVAL, "machine config: unknown accel %d",
                         (int)cfg->accel);
    return 0;
}

/* Create (one level) and canonicalise the state directory; check that its
 * socket paths fit a sockaddr_un. */
static int prepare_state_dir(const char *state_dir, char *dir, char *err, size_t errlen)
{
    struct sockaddr_un sa;
    char sock[PATH_MAX];

    if (mkdir(state_dir, 0700) < 0 && errno != EEXIST)
        return dom0_fail(err, errlen, errno, "cannot create state directory %s: %s",
                         state_dir, strerror(errno));
    if (!realpath(state_dir, dir))
        return dom0_fail(err, errlen, errno, "state directory %s: %s", state_dir,
                         strerror(errno));
    if (state_path(sock, sizeof(sock), dir, STATE_DOORBELL) < 0 ||
        strlen(sock) >= sizeof(sa.sun_path))
        return dom0_fail(err, errlen, ENAMETOOLONG,
                         "state directory %s is too long for its sockets (max %zu bytes)",
                         dir, sizeof(sa.sun_path) - 1 - strlen("/" STATE_DOORBELL));
    return 0;
}

static int build_qemu_cmd(struct qemu_cmd *c, const struct machine_config *cfg,
                          const char *dir, const char *qemu_path, const char *iso)
{
    char path[PATH_MAX], esc[PATH_MAX * 2];
    size_t i;

    memset(c, 0, sizeof(*c));
    snprintf(c->machine_opt, sizeof(c->machine_opt), "pc,memory-backend=ram");
    state_path(path, sizeof(path), dir, STATE_RAM);
    if (qemu_opt_escape(path, esc, sizeof(esc)) < 0)
        return -ENAMETOOLONG;
    snprintf(c->ram_opt, sizeof(c->ram_opt),
             "memory-backend-file,id=ram,size=%uM,mem-path=%s,share=on%s",
             cfg->ram_mib ? cfg->ram_mib : MACHINE_DEFAULT_RAM_MIB, esc, cfg->prealloc ? ",prealloc=on" : "");
    snprintf(c->accel, sizeof(c->accel), "%s", cfg->accel == MACHINE_ACCEL_KVM ? "kvm" : "tcg");
    snprintf(c->smp, sizeof(c->smp), "%u", cfg->cpus ? cfg->cpus : 1);
    state_path(path, sizeof(path), dir, STATE_HV_LOG);
    snprintf(c->serial_log, sizeof(c->serial_log), "file:%s", path);
    state_path(path, sizeof(path), dir, STATE_DOORBELL);
    qemu_opt_escape(path, esc, sizeof(esc));
    snprintf(c->doorbell_opt, sizeof(c->doorbell_opt),
             "socket,id=db,path=%s,server=on,wait=off", esc);
    state_path(path, sizeof(path), dir, STATE_MONITOR);
    qemu_opt_escape(path, esc, sizeof(esc));
    snprintf(c->monitor_opt, sizeof(c->monitor_opt), "unix:%s,server,nowait", esc);
    snprintf(c->iso, sizeof(c->iso), "%s", iso);

    {
        char *fixed[] = {
            (char *)qemu_path, "-machine", c->machine_opt, "-object", c->ram_opt,
            "-accel", c->accel, "-smp", c->smp, "-cdrom", c->iso,
            "-serial", c->serial_log, "-chardev", c->doorbell_opt, "-serial", "chardev:db",
            "-monitor", c->monitor_opt, "-display", "none", "-no-reboot",
        };

        for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
            c->argv[c->argc++] = fixed[i];
    }
    for (i = 0; cfg->qemu_args && cfg->qemu_args[i]; i++) {
        if ((size_t)c->argc + 1 >= sizeof(c->argv) / sizeof(c->argv[0]))
            return -E2BIG;
        c->argv[c->argc++] = (char *)cfg->qemu_args[i];
    }
    c->argv[c->argc] = NULL;
    return 0;
}

/* Take lock_name in dir. When it is held: -EBUSY, "<busy> <dir> (<holder>
 * pid N)" with N from holder_file. */
static int take_lock(const char *dir, const char *lock_name, const char *holder_file,
                     const char *busy, const char *holder, char *err, size_t errlen)
{
    char path[PATH_MAX];
    pid_t pid;
    int fd = state_lock(dir, lock_name);

    if (fd >= 0)
        return fd;
    state_path(path, sizeof(path), dir, lock_name);
    if (fd != -EWOULDBLOCK)
        return dom0_fail(err, errlen, -fd, "cannot lock %s: %s", path, strerror(-fd));
    if (state_read_pid(dir, holder_file, &pid) == 0)
        return dom0_fail(err, errlen, EBUSY, "%s %s (%s pid %d)", busy, dir, holder, (int)pid);
    return dom0_fail(err, errlen, EBUSY, "%s %s (%s is locked)", busy, dir, path);
}

/* Take machine.lock for dir (close-on-exec until the supervisor clears it).
 * -EBUSY names the running machine. */
static int lock_state_dir(const char *dir, char *err, size_t errlen)
{
    pid_t pid;
    int fd = take_lock(dir, STATE_LOCK, STATE_QEMU_PID, "a machine is already running in",
                       "QEMU", err, errlen);

    if (fd < 0)
        return fd;
    /* Unlocked but a QEMU of ours alive: started by hand, or its supervisor
     * and lock were lost. Its RAM file must not be taken from under it. */
    if (state_read_pid(dir, STATE_QEMU_PID, &pid) == 0 && machine_qemu_is_ours(dir, pid)) {
        close(fd);
        return dom0_fail(err, errlen, EBUSY, "%s/%s is in use by pid %d", dir, STATE_RAM,
                         (int)pid);
    }
    return fd;
}

static void clear_old_records(const char *dir)
{
    static const char *const names[] = {
        STATE_QEMU_EXIT, STATE_QEMU_PID, STATE_SUPERVISOR_PID, STATE_DOORBELL, STATE_MONITOR,
        STATE_STOP_REQUESTED, STATE_RAM, STATE_HV_LOG, STATE_QEMU_LOG,
    };
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        state_remove(dir, names[i]);
    state_remove_ram(dir);
}

/* The RAM file in cfg->ram_dir, STATE/machine.ram a link to it for QEMU
 * and every later attach; nothing when the RAM stays in the state
 * directory. The file is made here (0600, a fresh name), QEMU sizes it,
 * and the supervisor removes it when QEMU has ended. */
static int place_ram(const struct machine_config *cfg, const char *dir, char file[PATH_MAX],
                     char *err, size_t errlen)
{
    const char *rdir = cfg->ram_dir;
    char link[PATH_MAX];
    int fd;

    file[0] = '\0';
    if (!rdir || !*rdir)
        return 0;
    if (rdir[0] != '/')
        return dom0_fail(err, errlen, EINVAL, "RAM directory %s: not an absolute path", rdir);
    if ((size_t)snprintf(file, PATH_MAX, "%s/" STATE_RAM_PREFIX "XXXXXX", rdir) >= PATH_MAX ||
        state_path(link, sizeof(link), dir, STATE_RAM) < 0) {
        file[0] = '\0';
        return dom0_fail(err, errlen, ENAMETOOLONG, "RAM directory %s: path too long", rdir);
    }
    fd = mkstemp(file);
    if (fd < 0) {
        int e = errno;
        file[0] = '\0';
        return dom0_fail(err, errlen, e, "cannot make the machine's RAM file in %s: %s", rdir,
                         strerror(e));
    }
    close(fd);
    if (symlink(file, link) < 0) {
        int e = errno;
        unlink(file);
        dom0_fail(err, errlen, e, "cannot link %s to the RAM file %s: %s", link, file, strerror(e));
        file[0] = '\0';
        return -e;
    }
    return 0;
}

/* Fork the supervisor detached from this process (double fork, setsid) and
 * wait for its report. */
static int launch_supervisor(const struct supervisor_args *tmpl, unsigned timeout_ms,
                             pid_t *qemu_pid, char *err, size_t errlen)
{
    struct supervisor_report r;
    struct supervisor_args a = *tmpl;
    int pipefd[2], status;
    pid_t child = process_fork_piped(pipefd);
    ssize_t n;

    if (child < 0)
        return dom0_fail(err, errlen, -child, "fork: %s", strerror(-child));
    if (child == 0) {
        close(pipefd[0]);
        if (setsid() < 0)
            _exit(1);
        child = fork();
        if (child < 0)
            _exit(1);
        if (child > 0)
            _exit(0);
        a.report_fd = pipefd[1];
        supervisor_run(&a);
    }
    close(pipefd[1]);
    status = process_wait(child);
    if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        close(pipefd[0]);
        return dom0_fail(err, errlen, ECHILD, "could not detach the machine supervisor");
    }
    {
        struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };

        if (poll(&pfd, 1, (int)timeout_ms) <= 0) {
            close(pipefd[0]);
            return dom0_fail(err, errlen, ETIMEDOUT, "the machine supervisor did not report");
        }
    }
    n = read(pipefd[0], &r, sizeof(r));
    close(pipefd[0]);
    if (n != (ssize_t)sizeof(r))
        return dom0_fail(err, errlen, EIO, "the machine supervisor died before reporting");
    if (r.err < 0)
        return dom0_fail(err, errlen, -r.err, "%s", r.msg);
    *qemu_pid = r.qemu_pid;
    return 0;
}

static int file_size_is(const char *dir, const char *name, off_t size)
{
    char path[PATH_MAX];
    struct stat sb;

    return state_path(path, sizeof(path), dir, name) == 0 && stat(path, &sb) == 0 &&
           sb.st_size == size;
}

/* Wait until QEMU has made its RAM file and sockets, or has ended. */
static int wait_machine_ready(const char *dir, pid_t qemu_pid, off_t ram_size,
                              unsigned timeout_ms, char *err, size_t errlen)
{
    long long deadline = machine_now_ms() + timeout_ms;
    struct machine_status st;

    for (;;) {
        if (file_size_is(dir, STATE_RAM, ram_size) && state_exists(dir, STATE_DOORBELL) &&
            state_exists(dir, STATE_MONITOR))
            return 0;
        machine_status_dir(dir, &st);
        if (st.state != MACHINE_RUNNING)
            return dom0_fail(err, errlen, EIO, "machine in %s ended while starting: %s", dir,
                             st.reason);
        if (machine_now_ms() > deadline) {
            kill(qemu_pid, SIGKILL);
            return dom0_fail(err, errlen, ETIMEDOUT,
                             "QEMU (pid %d) did not create its RAM file and sockets in %u ms",
                             (int)qemu_pid, timeout_ms);
        }
        usleep(POLL_INTERVAL_US);
    }
}

int machine_start(const struct machine_config *cfg, struct machine **out, char *err,
                  size_t errlen)
{
    char dir[PATH_MAX], qemu_path[PATH_MAX], iso[PATH_MAX], ram_file[PATH_MAX] = "";
    struct supervisor_args sa;
    struct qemu_cmd *cmd;
    unsigned timeout_ms;
    pid_t qemu_pid = 0;
    int lock_fd, rc;

    *out = NULL;
    if ((rc = check_config(cfg, err, errlen)) < 0 ||
        (rc = prepare_state_dir(cfg->state_dir, dir, err, errlen)) < 0)
        return rc;
    if (process_find_program(cfg->qemu ? cfg->qemu : QEMU_DEFAULT, qemu_path,
                             sizeof(qemu_path)) < 0)
        return dom0_fail(err, errlen, ENOENT, "%s not found%s (Debian package qemu-system-x86)",
                         cfg->qemu ? cfg->qemu : QEMU_DEFAULT,
                         cfg->qemu && strchr(cfg->qemu, '/') ? "" : " in PATH");
    if (cfg->iso && !realpath(cfg->iso, iso))
        return dom0_fail(err, errlen, errno, "ISO %s: %s", cfg->iso, strerror(errno));
    if (cfg->hv_elf && cfg->cmdline &&
        (rc = machine_iso_check_args("cmdline", cfg->cmdline, err, errlen)) < 0)
        return rc;

    lock_fd = lock_state_dir(dir, err, errlen);
    if (lock_fd < 0)
        return lock_fd;
    if (cfg->hv_elf) {
        rc = machine_iso_build(dir, cfg->hv_elf, cfg->cmdline, cfg->modules, cfg->nr_modules,
                               err, errlen);
        if (rc < 0)
            goto out_unlock;
        state_path(iso, sizeof(iso), dir, STATE_ISO);
    }
    clear_old_records(dir);
    rc = place_ram(cfg, dir, ram_file, err, errlen);
    if (rc < 0)
        goto out_unlock;

    cmd = malloc(sizeof(*cmd));
    if (!cmd) {
        rc = dom0_fail(err, errlen, ENOMEM, "out of memory");
        goto out_unlock;
    }
    if (build_qemu_cmd(cmd, cfg, dir, qemu_path, iso) < 0) {
        rc = dom0_fail(err, errlen, E2BIG, "QEMU command line too long (qemu_args?)");
        goto out_free;
    }
    timeout_ms = cfg->start_timeout_ms ? cfg->start_timeout_ms
                                       : MACHINE_DEFAULT_START_TIMEOUT_MS;
    sa = (struct supervisor_args){ .state_dir = dir, .qemu_path = qemu_path,
                                   .qemu_argv = cmd->argv, .lock_fd = lock_fd,
                                   .ram_file = ram_file };
    rc = launch_supervisor(&sa, timeout_ms, &qemu_pid, err, errlen);
    if (rc < 0)
        goto out_free;
    rc = wait_machine_ready(dir, qemu_pid,
                            (off_t)(cfg->ram_mib ? cfg->ram_mib : MACHINE_DEFAULT_RAM_MIB) << 20,
                            timeout_ms, err, errlen);
    if (rc == 0) {
        rc = machine_attach(dir, out, err, errlen);
        if (rc < 0 && machine_qemu_is_ours(dir, qemu_pid))
            kill(qemu_pid, SIGKILL);    /* nothing is left running on failure */
    }
out_free:
    free(cmd);
out_unlock:
    close(lock_fd);             /* the supervisor and QEMU keep the lock */
    return rc;
}

/* Hold dom0.lock for this process, with its pid inside. */
static int lock_dom0(const char *dir, char *err, size_t errlen)
{
    char text[32];
    int fd = take_lock(dir, STATE_DOM0_LOCK, STATE_DOM0_LOCK,
                       "another process is attached to the machine in", "Domain 0", err,
                       errlen);
    int len;

    if (fd < 0)
        return fd;
    len = snprintf(text, sizeof(text), "%d\n", (int)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, text, (size_t)len, 0) != len) {
        int e = errno;

        close(fd);
        return dom0_fail(err, errlen, e, "cannot write %s/%s: %s", dir, STATE_DOM0_LOCK,
                         strerror(e));
    }
    return fd;
}

static int map_ram(struct machine *m, char *err, size_t errlen)
{
    char path[PATH_MAX];
    struct stat sb;
    int fd, rc = 0;

    state_path(path, sizeof(path), m->dir, STATE_RAM);
    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return dom0_fail(err, errlen, errno, "cannot open %s: %s", path, strerror(errno));
    if (fstat(fd, &sb) < 0)
        rc = dom0_fail(err, errlen, errno, "stat %s: %s", path, strerror(errno));
    else if (sb.st_size <= 0 || (sb.st_size & ((1 << 20) - 1)))
        rc = dom0_fail(err, errlen, EINVAL, "%s has size %lld, not a whole number of MiB",
                       path, (long long)sb.st_size);
    if (rc == 0) {
        m->ram = mmap(NULL, (size_t)sb.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (m->ram == MAP_FAILED) {
            m->ram = NULL;
            rc = dom0_fail(err, errlen, errno, "cannot map %s: %s", path, strerror(errno));
        } else {
            machine_layout_init(&m->layout, (uint64_t)sb.st_size);
        }
    }
    close(fd);
    return rc;
}

static int connect_doorbell(const char *dir, char *err, size_t errlen)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd;

    if (state_path(sa.sun_path, sizeof(sa.sun_path), dir, STATE_DOORBELL) < 0)
        return dom0_fail(err, errlen, ENAMETOOLONG, "doorbell path in %s is too long", dir);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return dom0_fail(err, errlen, errno, "socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
        int e = errno;

        close(fd);
        return dom0_fail(err, errlen, e, "cannot connect to the doorbell %s: %s",
                         sa.sun_path, strerror(e));
    }
    return fd;
}

int machine_attach(const char *state_dir, struct machine **out, char *err, size_t errlen)
{
    struct machine_status st;
    struct machine *m;
    int rc;

    *out = NULL;
    m = calloc(1, sizeof(*m));
    if (!m)
        return dom0_fail(err, errlen, ENOMEM, "out of memory");
    m->dom0_lock_fd = -1;
    m->doorbell_fd = -1;
    if (!realpath(state_dir, m->dir)) {
        rc = dom0_fail(err, errlen, errno, "state directory %s: %s", state_dir,
                       strerror(errno));
        goto fail;
    }
    machine_status_dir(m->dir, &st);
    if (st.state != MACHINE_RUNNING) {
        rc = dom0_fail(err, errlen, ESRCH, "no machine is running in %s: %s", m->dir,
                       st.reason);
        goto fail;
    }
    m->qemu_pid = st.qemu_pid;
    if ((rc = m->dom0_lock_fd = lock_dom0(m->dir, err, errlen)) < 0 ||
        (rc = map_ram(m, err, errlen)) < 0 ||
        (rc = m->doorbell_fd = connect_doorbell(m->dir, err, errlen)) < 0)
        goto fail;
    *out = m;
    return 0;
fail:
    machine_close(m);
    return rc;
}

int machine_open(const struct machine_config *cfg, struct machine **out, char *err,
                 size_t errlen)
{
    struct machine_status st;
    int rc;

    if (!cfg->state_dir)
        return check_config(cfg, err, errlen);
    machine_status_dir(cfg->state_dir, &st);
    if (st.state == MACHINE_RUNNING)
        return machine_attach(cfg->state_dir, out, err, errlen);
    rc = machine_start(cfg, out, err, errlen);
    if (rc == -EBUSY) {         /* someone else started it meanwhile */
        machine_status_dir(cfg->state_dir, &st);
        if (st.state == MACHINE_RUNNING)
            rc = machine_attach(cfg->state_dir, out, err, errlen);
    }
    return rc;
}

void machine_close(struct machine *m)
{
    if (!m)
        return;
    if (m->ram)
        munmap(m->ram, (size_t)m->layout.ram_size);
    if (m->doorbell_fd >= 0)
        close(m->doorbell_fd);
    if (m->dom0_lock_fd >= 0)
        close(m->dom0_lock_fd);
    free(m);
}

/* Wait up to timeout_ms for QEMU to be gone; 1 if it is. */
static int wait_qemu_gone(const struct machine *m, unsigned timeout_ms)
{
    long long deadline = machine_now_ms() + timeout_ms;

    while (machine_qemu_is_ours(m->dir, m->qemu_pid)) {
        if (machine_now_ms() > deadline)
            return 0;
        usleep(POLL_INTERVAL_US);
    }
    return 1;
}

int machine_stop(struct machine *m, unsigned timeout_ms, char *err, size_t errlen)
{
    char reply[256];
    pid_t supervisor;

    if (machine_qemu_is_ours(m->dir, m->qemu_pid)) {
        long long deadline = machine_now_ms() + timeout_ms, left;

        state_write_pid(m->dir, STATE_STOP_REQUESTED, getpid());
        if (monitor_command(m->dir, "quit", reply, sizeof(reply), timeout_ms, NULL, 0) < 0)
            kill(m->qemu_pid, SIGTERM);     /* QEMU quits cleanly on SIGTERM too */
        left = deadline - machine_now_ms();
        if (!wait_qemu_gone(m, left > 0 ? (unsigned)left : 0)) {
            kill(m->qemu_pid, SIGKILL);
            if (!wait_qemu_gone(m, STOP_KILL_WAIT_MS))
                return dom0_fail(err, errlen, ETIMEDOUT,
                                 "QEMU (pid %d) survived SIGKILL for %d ms", (int)m->qemu_pid,
                                 STOP_KILL_WAIT_MS);
        }
    }
    /* The supervisor records the exit and removes its files; if it is gone
     * too, clean up after it. */
    {
        long long deadline = machine_now_ms() + STOP_RECORD_WAIT_MS;

        while (!state_exists(m->dir, STATE_QEMU_EXIT) && machine_now_ms() < deadline)
            usleep(POLL_INTERVAL_US);
    }
    /* The supervisor holds machine.lock until it exits, right after the
     * record: wait for that too, so that a start that follows at once is
     * not refused as "already running" (seen under host load). */
    {
        long long deadline = machine_now_ms() + STOP_RECORD_WAIT_MS;
        int fd;

        while ((fd = state_lock(m->dir, STATE_LOCK)) == -EWOULDBLOCK && machine_now_ms() < deadline)
            usleep(POLL_INTERVAL_US / 4);
        if (fd >= 0)
            close(fd);
    }
    if (state_read_pid(m->dir, STATE_SUPERVISOR_PID, &supervisor) == 0 &&
        process_comm_is(supervisor, SUPERVISOR_COMM))
        return 0;
    state_remove(m->dir, STATE_QEMU_PID);
    state_remove(m->dir, STATE_SUPERVISOR_PID);
    state_remove(m->dir, STATE_DOORBELL);
    state_remove(m->dir, STATE_MONITOR);
    state_remove_ram(m->dir);
    return 0;
}

void machine_status(const struct machine *m, struct machine_status *st)
{
    machine_status_dir(m->dir, st);
}

void *machine_phys(const struct machine *m, uint64_t paddr, size_t len)
{
    uint64_t offset;

    if (!m->ram || machine_layout_offset(&m->layout, paddr, len, &offset) < 0)
        return NULL;
    return (char *)m->ram + offset;
}

const struct machine_layout *machine_ram_layout(const struct machine *m)
{
    return &m->layout;
}

int machine_doorbell_fd(const struct machine *m)
{
    return m->doorbell_fd;
}

int machine_kick(struct machine *m, char *err, size_t errlen)
{
    static const char kick = 'k';

    for (;;) {
        ssize_t n = send(m->doorbell_fd, &kick, 1, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n == 1 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)))
            return 0;
        if (n < 0 && errno == EINTR)
            continue;
        return dom0_fail(err, errlen, EPIPE, "doorbell of the machine in %s is closed: %s",
                         m->dir, n < 0 ? strerror(errno) : "short write");
    }
}

int machine_drain_kicks(struct machine *m, char *err, size_t errlen)
{
    char buf[256];
    int kicks = 0;

    for (;;) {
        ssize_t n = recv(m->doorbell_fd, buf, sizeof(buf), MSG_DONTWAIT);

        if (n > 0) {
            kicks += (int)n;
            if (kicks > INT_MAX - (int)sizeof(buf))
                return kicks;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return kicks;
        if (kicks)
            return kicks;   /* report the EOF on the next call */
        return dom0_fail(err, errlen, EPIPE, "doorbell of the machine in %s is closed: %s",
                         m->dir, n < 0 ? strerror(errno) : "QEMU hung up");
    }
}

int machine_monitor(struct machine *m, const char *command, char *out, size_t outlen,
                    char *err, size_t errlen)
{
    return monitor_command(m->dir, command, out, outlen, 5000, err, errlen);
}

const char *machine_state_dir(const struct machine *m)
{
    return m->dir;
}

pid_t machine_qemu_pid(const struct machine *m)
{
    return m->qemu_pid;
}
