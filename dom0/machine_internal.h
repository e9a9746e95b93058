/*
 * machine_internal.h - shared between the launcher's files (machine.c,
 * machine_status.c, machine_monitor.c); not part of the library's API.
 */
#ifndef DOM0_MACHINE_INTERNAL_H
#define DOM0_MACHINE_INTERNAL_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#include "machine_layout.h"

/* An attached machine. Owns the RAM mapping, the doorbell socket and the
 * dom0.lock descriptor (whose flock marks this process as Domain 0). */
struct machine {
    char dir[PATH_MAX];         /* absolute, canonical */
    pid_t qemu_pid;
    int dom0_lock_fd;
    int doorbell_fd;
    void *ram;
    struct machine_layout layout;
};

/* QEMU option values double their commas. -ENAMETOOLONG if out is short. */
int qemu_opt_escape(const char *in, char *out, size_t outlen);

/* Is pid the QEMU of the machine in dir (its -object names dir's RAM file)? */
int machine_qemu_is_ours(const char *dir, pid_t pid);

/* Run one HMP command on dir's monitor socket (see machine_monitor). */
int monitor_command(const char *dir, const char *command, char *out, size_t outlen,
                    unsigned timeout_ms, char *err, size_t errlen);

/* Milliseconds on CLOCK_MONOTONIC. */
long long machine_now_ms(void);

#endif
