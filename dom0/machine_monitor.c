/*
 * machine_monitor.c - a client of QEMU's human monitor (HMP) on
 * $STATE/monitor.sock: connect, wait for the "(qemu) " prompt, send one
 * command, read up to the next prompt (or EOF, which is how `quit`
 * answers). The monitor serves one client at a time; every wait is bounded.
 *
 * The monitor echoes the command with line-editing escapes; the output is
 * what follows the echo's "\r\n", with "\r\n" turned into "\n".
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "dom0_error.h"
#include "machine.h"
#include "machine_internal.h"
#include "statefile.h"

#define PROMPT "(qemu) "
#define MONITOR_REPLY_MAX 65536

long long machine_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int ends_with_prompt(const char *buf, size_t len)
{
    size_t plen = strlen(PROMPT);

    return len >= plen && memcmp(buf + len - plen, PROMPT, plen) == 0;
}

/* Read into buf until the prompt ends it or EOF; 1 on prompt, 0 on EOF. */
static int read_to_prompt(int fd, char *buf, size_t buflen, size_t *len, long long deadline,
                          char *err, size_t errlen)
{
    *len = 0;
    for (;;) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        long long left = deadline - machine_now_ms();
        ssize_t n;

        if (left <= 0)
            return dom0_fail(err, errlen, ETIMEDOUT, "QEMU monitor did not answer in time");
        if (poll(&pfd, 1, (int)left) < 0) {
            if (errno == EINTR)
                continue;
            return dom0_fail(err, errlen, errno, "poll on QEMU monitor: %s", strerror(errno));
        }
        if (!pfd.revents)
            continue;
        n = read(fd, buf + *len, buflen - 1 - *len);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            if (errno == ECONNRESET)
                return 0;
            return dom0_fail(err, errlen, errno, "reading QEMU monitor: %s", strerror(errno));
        }
        if (n == 0)
            return 0;
        *len += (size_t)n;
        buf[*len] = '\0';
        if (ends_with_prompt(buf, *len))
            return 1;
        if (*len == buflen - 1)
            return dom0_fail(err, errlen, EMSGSIZE, "QEMU monitor reply exceeds %zu bytes",
                             buflen - 1);
    }
}

/* Copy the reply body (after the echo line, before the prompt) to out. */
static int extract_output(const char *reply, size_t len, int prompt, char *out, size_t outlen)
{
    const char *body = strstr(reply, "\r\n");
    const char *end = reply + len - (prompt ? strlen(PROMPT) : 0);
    size_t used = 0;

    body = body ? body + 2 : end;
    for (; body < end && used + 1 < outlen; body++) {
        if (*body != '\r')
            out[used++] = *body;
    }
    if (outlen)
        out[used] = '\0';
    return (int)used;
}

static int connect_monitor(const char *dir, char *err, size_t errlen)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd;

    if (state_path(sa.sun_path, sizeof(sa.sun_path), dir, STATE_MONITOR) < 0)
        return dom0_fail(err, errlen, ENAMETOOLONG, "monitor socket path in %s is too long",
                         dir);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return dom0_fail(err, errlen, errno, "socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = errno;

        close(fd);
        return dom0_fail(err, errlen, e, "cannot connect to QEMU monitor %s: %s",
                         sa.sun_path, strerror(e));
    }
    return fd;
}

int monitor_command(const char *dir, const char *command, char *out, size_t outlen,
                    unsigned timeout_ms, char *err, size_t errlen)
{
    char line[512], buf[MONITOR_REPLY_MAX];
    long long deadline = machine_now_ms() + timeout_ms;
    size_t len;
    int fd, rc, n;

    if (strchr(command, '\n') || strchr(command, '\r'))
        return dom0_fail(err, errlen, EINVAL, "monitor command must be one line");
    n = snprintf(line, sizeof(line), "%s\n", command);
    if (n < 0 || (size_t)n >= sizeof(line))
        return dom0_fail(err, errlen, E2BIG, "monitor command is too long");
    fd = connect_monitor(dir, err, errlen);
    if (fd < 0)
        return fd;
    rc = read_to_prompt(fd, buf, sizeof(buf), &len, deadline, err, errlen);
    if (rc == 0)
        rc = dom0_fail(err, errlen, ECONNRESET, "QEMU monitor closed before its prompt");
    if (rc > 0 && send(fd, line, (size_t)n, MSG_NOSIGNAL) != n)
        rc = dom0_fail(err, errlen, errno, "writing to QEMU monitor: %s", strerror(errno));
    if (rc > 0)
        rc = read_to_prompt(fd, buf, sizeof(buf), &len, deadline, err, errlen);
    close(fd);
    if (rc < 0)
        return rc;
    return extract_output(buf, len, rc, out, outlen);
}
