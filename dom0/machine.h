/*
 * machine.h - the machine launcher: the QEMU process that runs the pvcore
 * hypervisor, its shared RAM file and its doorbell (ARCHITECTURE.md §2).
 *
 * A machine lives in a state directory:
 *   machine.lock    flock held by the supervisor (and inherited by QEMU)
 *                   while a machine runs: one machine per directory
 *   dom0.lock       flock held by the process attached to the machine (its
 *                   pid inside): one Domain 0 per machine
 *   machine.ram     the machine's RAM, shared by QEMU and Domain 0
 *   machine.iso     the per-machine boot image (when built from an ELF)
 *   hv.log          the hypervisor console (COM1)
 *   qemu.log        QEMU's own stdout/stderr
 *   doorbell.sock   the doorbell (COM2), a server QEMU listens on
 *   monitor.sock    QEMU's human monitor
 *   qemu.pid, supervisor.pid   while the machine runs
 *   qemu.exit       how and when QEMU ended (written once by the supervisor)
 *   stop-requested  present when machine_stop asked QEMU to quit
 *
 * QEMU is started by a supervisor process in its own session, so the machine
 * survives the process that started it; a later process re-attaches with
 * machine_attach. Errors are negative errno values with a message in err.
 */
#ifndef DOM0_MACHINE_H
#define DOM0_MACHINE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "machine_layout.h"

enum machine_accel {
    MACHINE_ACCEL_TCG,
    MACHINE_ACCEL_KVM,
};

/* A GRUB module2 for a per-machine image: the file and its command line. */
struct machine_module {
    const char *path;
    const char *args;           /* may be NULL */
};

struct machine_config {
    const char *state_dir;      /* created (0700) if missing */
    /* Boot image: either an ISO booted as it is, or the hypervisor ELF from
     * which $STATE/machine.iso is built with cmdline and modules. */
    const char *iso;
    const char *hv_elf;
    const char *cmdline;        /* hypervisor command line (hv_elf only) */
    const struct machine_module *modules;
    size_t nr_modules;
    unsigned ram_mib;           /* 0: MACHINE_DEFAULT_RAM_MIB */
    unsigned cpus;              /* 0: 1 */
    enum machine_accel accel;
    const char *qemu;           /* NULL: qemu-system-x86_64 from PATH */
    const char *const *qemu_args; /* extra QEMU arguments, NULL-terminated, or NULL */
    unsigned start_timeout_ms;  /* 0: MACHINE_DEFAULT_START_TIMEOUT_MS */
    /* Where the RAM file lives: NULL or "" the state directory, else this
     * directory (a tmpfs such as /dev/shm, or hugetlbfs: RAM in a disk
     * file is written back to the disk while the guests run); then
     * STATE/machine.ram links to a fresh file there, which the supervisor
     * removes when QEMU has ended (a machine whose supervisor was killed
     * leaves it until the next start in the same state directory). */
    const char *ram_dir;
    /* Fault every page of the RAM file in when QEMU starts (QEMU's
     * prealloc=on): the host's zeroing of fresh pages is paid once at
     * boot, not by whichever domain first touches them. */
    int prealloc;
};

#define MACHINE_DEFAULT_RAM_MIB 1024u
#define MACHINE_MAX_RAM_MIB (1024u * 1024u)
#define MACHINE_MAX_CPUS 255u
#define MACHINE_DEFAULT_START_TIMEOUT_MS 15000u

enum machine_state {
    MACHINE_NONE,               /* nothing was ever started in the directory */
    MACHINE_RUNNING,
    MACHINE_EXITED,             /* QEMU ended by itself or on request, cleanly */
    MACHINE_DIED,               /* killed, QEMU error, or hypervisor failure */
};

struct machine_status {
    enum machine_state state;
    pid_t qemu_pid;             /* 0 if unknown */
    int exit_code;              /* QEMU's exit status, -1 if it did not exit */
    int signal;                 /* the signal that killed QEMU, 0 if none */
    struct timespec exit_time;  /* when the supervisor saw QEMU end (realtime) */
    char reason[768];           /* one line: why it is in this state */
};

struct machine;

/* Start a machine in cfg->state_dir and attach to it. -EBUSY if a machine
 * runs there already. Returns once QEMU has created its RAM file and sockets. */
int machine_start(const struct machine_config *cfg, struct machine **out,
                  char *err, size_t errlen);

/* Attach to the machine running in state_dir: map its RAM, connect its
 * doorbell. -ESRCH if none runs (the message says why it ended), -EBUSY if
 * another process is attached. */
int machine_attach(const char *state_dir, struct machine **out, char *err, size_t errlen);

/* machine_attach if a machine runs in cfg->state_dir, else machine_start. */
int machine_open(const struct machine_config *cfg, struct machine **out,
                 char *err, size_t errlen);

/* Detach: unmap RAM, close the doorbell, drop dom0.lock. The machine keeps
 * running. NULL is accepted. */
void machine_close(struct machine *m);

/* Stop the machine: QEMU's monitor `quit`, then SIGKILL after timeout_ms.
 * Waits for the supervisor to record the exit. The handle stays open (for
 * machine_status); close it with machine_close. 0 if it was not running. */
int machine_stop(struct machine *m, unsigned timeout_ms, char *err, size_t errlen);

/* Where the machine is now and why. */
void machine_status(const struct machine *m, struct machine_status *st);
/* The same for a state directory, without attaching. */
void machine_status_dir(const char *state_dir, struct machine_status *st);
const char *machine_state_name(enum machine_state state);

/* Pointer to machine memory [paddr, paddr + len), or NULL if any byte of it
 * is not RAM (beyond the end, in the PCI hole, or len 0). */
void *machine_phys(const struct machine *m, uint64_t paddr, size_t len);
const struct machine_layout *machine_ram_layout(const struct machine *m);

/* Doorbell. machine_doorbell_fd is non-blocking, for an event loop.
 * machine_kick: 0 (a full socket buffer already holds a pending kick).
 * machine_drain_kicks: number of kicks received (0 if none), -EPIPE when
 * QEMU closed the doorbell. */
int machine_doorbell_fd(const struct machine *m);
int machine_kick(struct machine *m, char *err, size_t errlen);
int machine_drain_kicks(struct machine *m, char *err, size_t errlen);

/* Run one QEMU human-monitor command; its output (without echo and prompt,
 * "\n" line ends) goes to out. Returns the output length. */
int machine_monitor(struct machine *m, const char *command, char *out, size_t outlen,
                    char *err, size_t errlen);

const char *machine_state_dir(const struct machine *m);
pid_t machine_qemu_pid(const struct machine *m);

#endif
