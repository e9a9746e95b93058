/*
 * link_harness.h - what the Domain 0 link's integration test and the
 * create-latency benchmark share: a real machine (QEMU + build/pvcore.iso
 * through dom0/machine.h) in a temporary state directory, the control
 * client on it, and domains built from build/guests/<name>.elf with their
 * consoles read into log files in that directory.
 *
 * Inputs: $PVCORE_ISO (default $BUILD/pvcore.iso), $BUILD (default build).
 * Owns: the temp directory (removed by link_cleanup, which also kills the
 * machine's QEMU if it still runs).
 */
#ifndef LINK_HARNESS_H
#define LINK_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "build.h"
#include "console.h"
#include "ctl.h"
#include "machine.h"

#define LINK_BOOT_TIMEOUT_MS 60000u

struct link {
    char root[64], state[128];
    struct machine *m;
    struct ctl *c;
    int build_paused;               /* link_build leaves domains paused (ctl_unpause) */
};

/* A domain the test built, with its console. */
struct link_domain {
    char name[32], log[256];
    struct build_result b;
    struct console *cons;
    unsigned int events;            /* pending events seen on b.console_port */
};

/* Make the temp dir and start a machine with ram_mib of RAM; attach. */
int link_start(struct link *l, unsigned int ram_mib, char *err, size_t errlen);
/* Attach to the machine in l->state (from a new process). */
int link_attach(struct link *l, char *err, size_t errlen);
/* Close the control client and detach; the machine keeps running. */
void link_detach(struct link *l);
/* Kill QEMU, print the tail of hv.log as TAP comments when show_logs. */
void link_cleanup(struct link *l, int show_logs);

/* link_cleanup(l, *failures != 0) at exit and on SIGTERM / SIGINT. */
void link_cleanup_at_exit(struct link *l, const unsigned int *failures);

const char *link_guest(const char *name);

/* Build `name` from guest `elf` with cmdline and open its console log
 * (<state>/console-<name>.log). */
int link_build(struct link *l, struct link_domain *d, const char *name, const char *elf,
               const char *cmdline, uint64_t mem_kib, char *err, size_t errlen);
/* Re-open the console of a running domain from its log's record. */
int link_reopen_console(struct link *l, struct link_domain *d, const char *name,
                        char *err, size_t errlen);
/* Poll every open console in d[0..n) every 10 ms for ms milliseconds,
 * taking Domain 0's pending event-channel ports and counting those that
 * are a domain's console port. */
int link_pump(struct link *l, struct link_domain *d, size_t n, unsigned int ms,
              char *err, size_t errlen);

/* Lines "tick N" in the log: how many, and whether N runs 1, 2, 3, ...
 * without a gap or repetition (*first_bad: the first line that breaks it). */
int link_ticks(const char *log, unsigned int *count, unsigned int *first_bad);

uint64_t link_now_ns(void);

#endif
