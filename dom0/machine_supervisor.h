/*
 * machine_supervisor.h - the process that owns a running QEMU.
 *
 * machine_start forks twice; the grandchild, in its own session with
 * default signals and only the descriptors below, is the supervisor. It
 * starts QEMU, records qemu.pid and supervisor.pid, reports to the starter
 * through report_fd, waits for QEMU, writes qemu.exit (atomic), removes the
 * pid files and sockets, and exits. lock_fd (machine.lock, flocked) is held
 * by the supervisor and inherited by QEMU, so the directory stays locked as
 * long as either lives.
 */
#ifndef DOM0_MACHINE_SUPERVISOR_H
#define DOM0_MACHINE_SUPERVISOR_H

#include <sys/types.h>

/* The supervisor's name in /proc/<pid>/comm, which identifies it. */
#define SUPERVISOR_COMM "pvcore-machine"

/* What the supervisor tells the starter: err 0 and the QEMU pid, or a
 * negative errno and a message. */
struct supervisor_report {
    int err;
    pid_t qemu_pid;
    char msg[256];
};

struct supervisor_args {
    const char *state_dir;      /* absolute */
    const char *qemu_path;
    char *const *qemu_argv;
    int lock_fd;
    int report_fd;
    const char *ram_file;       /* the RAM file in a RAM directory, or "" */
};

/* Format of qemu.exit: "pid=N\nexited=CODE\n" or "pid=N\nsignal=SIG\n",
 * then "time=SEC.NSEC\n" (CLOCK_REALTIME). */
void supervisor_run(const struct supervisor_args *a) __attribute__((noreturn));

#endif
