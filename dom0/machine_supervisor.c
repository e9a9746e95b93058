/*
 * machine_supervisor.c - runs in the supervisor process (see
 * machine_supervisor.h). Order of its records, which readers rely on:
 * qemu.pid and supervisor.pid exist before the starter hears "started";
 * qemu.exit is complete before qemu.pid is removed.
 */
#include "machine_supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "process.h"
#include "statefile.h"

static void report(int fd, int err, pid_t qemu_pid, const char *msg)
{
    struct supervisor_report r;

    memset(&r, 0, sizeof(r));
    r.err = err;
    r.qemu_pid = qemu_pid;
    snprintf(r.msg, sizeof(r.msg), "%s", msg);
    if (write(fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
        return;                 /* the starter is gone; nothing to tell */
}

static void record_exit(const char *dir, pid_t pid, int status)
{
    struct timespec now;
    char text[128];

    clock_gettime(CLOCK_REALTIME, &now);
    if (WIFSIGNALED(status))
        snprintf(text, sizeof(text), "pid=%d\nsignal=%d\ntime=%lld.%09ld\n", (int)pid,
                 WTERMSIG(status), (long long)now.tv_sec, now.tv_nsec);
    else
        snprintf(text, sizeof(text), "pid=%d\nexited=%d\ntime=%lld.%09ld\n", (int)pid,
                 WEXITSTATUS(status), (long long)now.tv_sec, now.tv_nsec);
    state_write_atomic(dir, STATE_QEMU_EXIT, text);
}

void supervisor_run(const struct supervisor_args *a)
{
    char log[4096], msg[256];
    pid_t qemu;
    int null_fd, status, rc;

    prctl(PR_SET_NAME, SUPERVISOR_COMM, 0, 0, 0);
    process_reset_signals();
    null_fd = open("/dev/null", O_RDWR);
    if (null_fd >= 0) {
        dup2(null_fd, 0);
        dup2(null_fd, 1);
        dup2(null_fd, 2);
    }
    process_close_fds_except(a->lock_fd, a->report_fd);
    if (chdir("/") < 0)
        _exit(1);

    state_path(log, sizeof(log), a->state_dir, STATE_QEMU_LOG);
    rc = process_spawn(a->qemu_path, a->qemu_argv, log, a->lock_fd, &qemu, msg, sizeof(msg));
    if (rc < 0) {
        report(a->report_fd, rc, 0, msg);
        _exit(1);
    }
    if ((rc = state_write_pid(a->state_dir, STATE_QEMU_PID, qemu)) < 0 ||
        (rc = state_write_pid(a->state_dir, STATE_SUPERVISOR_PID, getpid())) < 0) {
        snprintf(msg, sizeof(msg), "cannot write pid files in %s: %s", a->state_dir,
                 strerror(-rc));
        kill(qemu, SIGKILL);
        status = process_wait(qemu);
        record_exit(a->state_dir, qemu, status < 0 ? 0 : status);
        report(a->report_fd, rc, 0, msg);
        _exit(1);
    }
    report(a->report_fd, 0, qemu, "");
    close(a->report_fd);

    status = process_wait(qemu);
    record_exit(a->state_dir, qemu, status < 0 ? 0 : status);
    state_remove(a->state_dir, STATE_QEMU_PID);
    state_remove(a->state_dir, STATE_DOORBELL);
    state_remove(a->state_dir, STATE_MONITOR);
    /* a process still mapping it keeps its pages; the file named at the
     * start, even if the state directory is gone by now */
    if (a->ram_file && a->ram_file[0])
        unlink(a->ram_file);
    state_remove_ram(a->state_dir);
    state_remove(a->state_dir, STATE_SUPERVISOR_PID);
    _exit(0);
}
