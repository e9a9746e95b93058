/*
 * statefile.h - small files in a machine state directory: path building,
 * atomic replacement, whole-file reads, pid files.
 *
 * Invariant: a file written with state_write_atomic is either absent or
 * complete (written to NAME.tmp, fsynced, renamed), so readers in other
 * processes never see half of one.
 */
#ifndef DOM0_STATEFILE_H
#define DOM0_STATEFILE_H

#include <stddef.h>
#include <sys/types.h>

/* Names of the state directory's files (see machine.h). */
#define STATE_LOCK           "machine.lock"
#define STATE_DOM0_LOCK      "dom0.lock"
#define STATE_RAM            "machine.ram"
#define STATE_RAM_PREFIX     "pvcore-ram."
#define STATE_ISO            "machine.iso"
#define STATE_ISO_ROOT       "iso.root"
#define STATE_ISO_LOG        "iso.log"
#define STATE_HV_LOG         "hv.log"
#define STATE_QEMU_LOG       "qemu.log"
#define STATE_DOORBELL       "doorbell.sock"
#define STATE_MONITOR        "monitor.sock"
#define STATE_QEMU_PID       "qemu.pid"
#define STATE_SUPERVISOR_PID "supervisor.pid"
#define STATE_QEMU_EXIT      "qemu.exit"
#define STATE_STOP_REQUESTED "stop-requested"

/* dir/name into out; -ENAMETOOLONG if it does not fit. */
int state_path(char *out, size_t outlen, const char *dir, const char *name);

/* Replace dir/name with text atomically. */
int state_write_atomic(const char *dir, const char *name, const char *text);

/* Read at most buflen - 1 bytes of dir/name (the last ones if tail is set),
 * NUL-terminated. Returns the length or -errno (-ENOENT if absent). */
ssize_t state_read(const char *dir, const char *name, char *buf, size_t buflen, int tail);

/* A pid file: one decimal pid. -ENOENT if absent, -EINVAL if garbled. */
int state_read_pid(const char *dir, const char *name, pid_t *pid);
int state_write_pid(const char *dir, const char *name, pid_t pid);

/* Remove dir/name; absent is fine. */
void state_remove(const char *dir, const char *name);
/* Remove the machine's RAM file: when STATE_RAM is a symbolic link to a
 * file made by machine_start in a RAM directory (a name beginning
 * STATE_RAM_PREFIX), that file too. */
void state_remove_ram(const char *dir);

/* Open dir/name (created 0600) and flock it exclusively without waiting:
 * the close-on-exec descriptor, -EWOULDBLOCK if another holds it, -errno. */
int state_lock(const char *dir, const char *name);

int state_exists(const char *dir, const char *name);

#endif
