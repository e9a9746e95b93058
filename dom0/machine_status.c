/*
 * machine_status.c - why a machine is in the state it is in, read from its
 * state directory only (works for any process, attached or not).
 *
 * Sources, in order of authority: qemu.exit (how QEMU ended, written once by
 * the supervisor), qemu.pid checked against /proc (pids are reused: a live
 * pid only counts if its command line names this directory's RAM file),
 * the hypervisor's own last words in hv.log ("*** PANIC", "FATAL TRAP",
 * "stopping the machine"), and the last line QEMU printed in qemu.log.
 * The one wait: between QEMU's death and the supervisor's record (a few
 * milliseconds), status waits up to RECORD_WAIT_MS for the record.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dom0_error.h"
#include "machine.h"
#include "machine_internal.h"
#include "machine_supervisor.h"
#include "process.h"
#include "statefile.h"

#define LOG_TAIL_BYTES 65536
#define LAST_WORDS_MAX 3
#define RECORD_WAIT_MS 1000
#define RECORD_POLL_US 5000

const char *machine_state_name(enum machine_state state)
{
    switch (state) {
    case MACHINE_NONE: return "none";
    case MACHINE_RUNNING: return "running";
    case MACHINE_EXITED: return "exited";
    case MACHINE_DIED: return "died";
    }
    return "unknown";
}

static int is_last_word(const char *line)
{
    return strstr(line, "*** PANIC") || strstr(line, "FATAL TRAP") ||
           strstr(line, "stopping the machine");
}

static int is_failure_word(const char *line)
{
    return strstr(line, "*** PANIC") || strstr(line, "FATAL TRAP") ||
           strstr(line, "stopping the machine: failure") ||
           strstr(line, "stopping the machine (failure)");
}

/* The hypervisor's last words (up to LAST_WORDS_MAX lines, " | "-joined)
 * into out; returns 1 if any of them reports a failure. */
static int hv_last_words(const char *dir, char *out, size_t outlen)
{
    char *buf = malloc(LOG_TAIL_BYTES), *line, *save = NULL;
    const char *found[LAST_WORDS_MAX];
    size_t nfound = 0, i, used = 0;
    int failure = 0;

    out[0] = '\0';
    if (!buf || state_read(dir, STATE_HV_LOG, buf, LOG_TAIL_BYTES, 1) < 0) {
        free(buf);
        return 0;
    }
    for (line = strtok_r(buf, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
        if (!is_last_word(line))
            continue;
        failure |= is_failure_word(line) != 0;
        if (nfound == LAST_WORDS_MAX) {
            memmove(found, found + 1, sizeof(found[0]) * (LAST_WORDS_MAX - 1));
            nfound--;
        }
        found[nfound++] = line;
    }
    for (i = 0; i < nfound && used < outlen; i++) {
        int n = snprintf(out + used, outlen - used, "%s%s", i ? " | " : "", found[i]);

        if (n < 0)
            break;
        used += (size_t)n;
    }
    free(buf);
    return failure;
}

/* Last non-empty line of qemu.log into out ("" if none). */
static void qemu_last_line(const char *dir, char *out, size_t outlen)
{
    char buf[1024], *nl;

    out[0] = '\0';
    if (state_read(dir, STATE_QEMU_LOG, buf, sizeof(buf), 1) <= 0)
        return;
    while ((nl = strrchr(buf, '\n')) && nl[1] == '\0')
        *nl = '\0';
    nl = strrchr(buf, '\n');
    dom0_format(out, outlen, "%s", nl ? nl + 1 : buf);
}

/* Parse qemu.exit into st (pid, exit_code or signal, exit_time). */
static int read_exit_record(const char *dir, struct machine_status *st)
{
    char buf[256], *line, *save = NULL;
    int have_how = 0;

    if (state_read(dir, STATE_QEMU_EXIT, buf, sizeof(buf), 0) < 0)
        return -ENOENT;
    for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        long long sec;
        long nsec;
        int v;

        if (sscanf(line, "pid=%d", &v) == 1) {
            st->qemu_pid = v;
        } else if (sscanf(line, "exited=%d", &v) == 1) {
            st->exit_code = v;
            have_how = 1;
        } else if (sscanf(line, "signal=%d", &v) == 1) {
            st->signal = v;
            have_how = 1;
        } else if (sscanf(line, "time=%lld.%ld", &sec, &nsec) == 2) {
            st->exit_time.tv_sec = (time_t)sec;
            st->exit_time.tv_nsec = nsec;
        }
    }
    return have_how ? 0 : -EINVAL;
}

/* QEMU has just ended: while its supervisor lives, give it up to
 * RECORD_WAIT_MS to reap QEMU and write qemu.exit. 1 if the record is there. */
static int wait_exit_record(const char *dir, struct machine_status *st)
{
    long long deadline = machine_now_ms() + RECORD_WAIT_MS;
    pid_t supervisor;

    for (;;) {
        st->exit_code = -1;
        if (read_exit_record(dir, st) == 0)
            return 1;
        if (state_read_pid(dir, STATE_SUPERVISOR_PID, &supervisor) < 0 ||
            !process_comm_is(supervisor, SUPERVISOR_COMM) || machine_now_ms() > deadline)
            return 0;
        usleep(RECORD_POLL_US);
    }
}

static void status_from_exit(const char *dir, struct machine_status *st)
{
    char words[512], qemu_line[256], how[96];
    int failure = hv_last_words(dir, words, sizeof(words));
    int requested = state_exists(dir, STATE_STOP_REQUESTED);

    if (st->signal)
        dom0_format(how, sizeof(how), "QEMU (pid %d) was killed by signal %d (%s)",
                 (int)st->qemu_pid, st->signal, strsignal(st->signal));
    else
        dom0_format(how, sizeof(how), "QEMU (pid %d) exited with status %d",
                 (int)st->qemu_pid, st->exit_code);
    if (st->signal == 0 && st->exit_code == 0 && !failure) {
        st->state = MACHINE_EXITED;
        dom0_format(st->reason, sizeof(st->reason), "%s%s%s%s", how,
                 requested ? " on request" : "", words[0] ? "; hypervisor: " : "", words);
        return;
    }
    st->state = MACHINE_DIED;
    if (failure) {
        dom0_format(st->reason, sizeof(st->reason), "hypervisor failure: %s; %s", words, how);
        return;
    }
    qemu_last_line(dir, qemu_line, sizeof(qemu_line));
    dom0_format(st->reason, sizeof(st->reason), "%s%s%s%s%s", how,
             requested && st->signal ? " after a stop request timed out" : "",
             qemu_line[0] ? ": " : "", qemu_line, words[0] ? "; hypervisor: " : "");
    if (words[0])
        dom0_format(st->reason + strlen(st->reason), sizeof(st->reason) - strlen(st->reason),
                 "%s", words);
}

void machine_status_dir(const char *state_dir, struct machine_status *st)
{
    char dir[PATH_MAX], words[512];
    pid_t pid;

    memset(st, 0, sizeof(*st));
    st->exit_code = -1;
    if (!realpath(state_dir, dir)) {
        st->state = MACHINE_NONE;
        dom0_format(st->reason, sizeof(st->reason), "state directory %s: %s", state_dir,
                 strerror(errno));
        return;
    }
    if (read_exit_record(dir, st) == 0) {
        status_from_exit(dir, st);
        return;
    }
    if (state_read_pid(dir, STATE_QEMU_PID, &pid) < 0) {
        st->state = MACHINE_NONE;
        dom0_format(st->reason, sizeof(st->reason), "no machine has run in %s", dir);
        return;
    }
    st->qemu_pid = pid;
    if (machine_qemu_is_ours(dir, pid)) {
        if (hv_last_words(dir, words, sizeof(words))) {
            st->state = MACHINE_DIED;
            dom0_format(st->reason, sizeof(st->reason),
                     "hypervisor failure while QEMU (pid %d) still runs: %s", (int)pid, words);
        } else {
            st->state = MACHINE_RUNNING;
            dom0_format(st->reason, sizeof(st->reason), "QEMU (pid %d) is running", (int)pid);
        }
        return;
    }
    /* QEMU is gone: its supervisor records that right after reaping it. */
    if (wait_exit_record(dir, st)) {
        status_from_exit(dir, st);
        return;
    }
    st->state = MACHINE_DIED;
    hv_last_words(dir, words, sizeof(words));
    dom0_format(st->reason, sizeof(st->reason),
             "QEMU (pid %d) is gone and its supervisor recorded no exit%s%s", (int)pid,
             words[0] ? "; hypervisor: " : "", words);
}
