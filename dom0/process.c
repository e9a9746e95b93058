/*
 * process.c - spawning and recognising the launcher's child processes
 * (see process.h). Exec failures are reported through a close-on-exec pipe,
 * so "spawned" always means "the program is running".
 */
#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dom0_error.h"

int process_find_program(const char *name, char *out, size_t outlen)
{
    const char *path = getenv("PATH");
    const char *p;

    if (strchr(name, '/')) {
        if (access(name, X_OK) != 0 || (size_t)snprintf(out, outlen, "%s", name) >= outlen)
            return -ENOENT;
        return 0;
    }
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (p = path; *p;) {
        size_t len = strcspn(p, ":");
        int n = snprintf(out, outlen, "%.*s/%s", (int)len, len ? p : ".", name);

        if (n > 0 && (size_t)n < outlen && access(out, X_OK) == 0)
            return 0;
        p += len;
        if (*p == ':')
            p++;
    }
    return -ENOENT;
}

void process_reset_signals(void)
{
    sigset_t none;
    int sig;

    for (sig = 1; sig < NSIG; sig++)
        signal(sig, SIG_DFL);       /* fails harmlessly for KILL, STOP, RT */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

static void close_between(int lo, int hi)   /* [lo, hi], hi may be INT_MAX */
{
    if (lo <= hi)
        close_range((unsigned)lo, (unsigned)hi, 0);
}

void process_close_fds_except(int keep_a, int keep_b)
{
    int lo = keep_a < keep_b ? keep_a : keep_b;
    int hi = keep_a < keep_b ? keep_b : keep_a;

    if (lo < 3)                     /* at most one descriptor to keep */
        lo = hi;
    if (hi < 3) {
        close_between(3, INT_MAX);
        return;
    }
    close_between(3, lo - 1);
    if (lo != hi)
        close_between(lo + 1, hi - 1);
    close_between(hi + 1, INT_MAX);
}

/* In the child: set up stdio, descriptors, signals; exec; on failure send
 * errno through status_fd. */
static void __attribute__((noreturn))
spawn_child(const char *path, char *const argv[], const char *log_path, int keep_fd,
            int status_fd)
{
    int null_fd = open("/dev/null", O_RDONLY);
    int log_fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
    int e;

    if (null_fd < 0 || log_fd < 0 || dup2(null_fd, 0) < 0 || dup2(log_fd, 1) < 0 ||
        dup2(log_fd, 2) < 0)
        goto fail;
    process_close_fds_except(keep_fd, status_fd);
    if (keep_fd >= 0 && fcntl(keep_fd, F_SETFD, 0) < 0)   /* survive the exec */
        goto fail;
    process_reset_signals();
    execv(path, argv);
fail:
    e = errno;
    if (write(status_fd, &e, sizeof(e)) < 0)
        _exit(127);
    _exit(127);
}

pid_t process_fork_piped(int pipefd[2])
{
    pid_t child;
    int e;

    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return -errno;
    child = fork();
    if (child >= 0)
        return child;
    e = errno;
    close(pipefd[0]);
    close(pipefd[1]);
    return -e;
}

int process_spawn(const char *path, char *const argv[], const char *log_path, int keep_fd,
                  pid_t *pid, char *err, size_t errlen)
{
    int pipefd[2], child_errno = 0;
    ssize_t n;
    pid_t child = process_fork_piped(pipefd);

    if (child < 0)
        return dom0_fail(err, errlen, -child, "fork for %s: %s", path, strerror(-child));
    if (child == 0)
        spawn_child(path, argv, log_path, keep_fd, pipefd[1]);
    close(pipefd[1]);
    do
        n = read(pipefd[0], &child_errno, sizeof(child_errno));
    while (n < 0 && errno == EINTR);
    close(pipefd[0]);
    if (n == (ssize_t)sizeof(child_errno)) {
        process_wait(child);
        return dom0_fail(err, errlen, child_errno, "cannot run %s (log %s): %s", path,
                         log_path, strerror(child_errno));
    }
    *pid = child;
    return 0;
}

int process_wait(pid_t pid)
{
    int status;

    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return -errno;
    }
    return status;
}

/* Read /proc/<pid>/<name> into buf (not terminated); length or -1. */
static ssize_t read_proc_file(pid_t pid, const char *name, char *buf, size_t buflen)
{
    char path[64];
    size_t got = 0;
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    while (got < buflen && (n = read(fd, buf + got, buflen - got)) > 0)
        got += (size_t)n;
    close(fd);
    return (ssize_t)got;
}

int process_cmdline_contains(pid_t pid, const char *needle)
{
    char buf[16384];
    size_t nlen = strlen(needle);
    ssize_t got = read_proc_file(pid, "cmdline", buf, sizeof(buf));

    /* A zombie's command line is empty: it does not count as running. */
    return got > 0 && nlen && memmem(buf, (size_t)got, needle, nlen) != NULL;
}

int process_comm_is(pid_t pid, const char *name)
{
    char stat[512], *open_paren, *close_paren;
    ssize_t n = read_proc_file(pid, "stat", stat, sizeof(stat) - 1);

    if (n <= 0)
        return 0;
    stat[n] = '\0';
    /* "pid (comm) state ...": comm may hold anything, so take the last ')'. */
    open_paren = strchr(stat, '(');
    close_paren = strrchr(stat, ')');
    if (!open_paren || !close_paren || close_paren < open_paren || close_paren[1] != ' ')
        return 0;
    *close_paren = '\0';
    return strcmp(open_paren + 1, name) == 0 && close_paren[2] != 'Z' && close_paren[2] != 'X';
}
