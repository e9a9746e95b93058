/*
 * statefile.c - atomic small files and pid files in a machine state
 * directory (see statefile.h for the invariant).
 */
#include "statefile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int state_path(char *out, size_t outlen, const char *dir, const char *name)
{
    int n = snprintf(out, outlen, "%s/%s", dir, name);

    return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int state_write_atomic(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX], tmp[PATH_MAX + 8];
    int fd, rc;

    if (state_path(path, sizeof(path), dir, name) < 0)
        return -ENAMETOOLONG;
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    rc = write_all(fd, text, strlen(text));
    if (rc == 0 && fsync(fd) < 0)
        rc = -errno;
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -errno;
    if (rc < 0)
        unlink(tmp);
    return rc;
}

ssize_t state_read(const char *dir, const char *name, char *buf, size_t buflen, int tail)
{
    char path[PATH_MAX];
    size_t got = 0;
    int fd;

    if (buflen == 0)
        return -EINVAL;
    if (state_path(path, sizeof(path), dir, name) < 0)
        return -ENAMETOOLONG;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (tail) {
        struct stat sb;

        if (fstat(fd, &sb) == 0 && (size_t)sb.st_size > buflen - 1)
            lseek(fd, sb.st_size - (off_t)(buflen - 1), SEEK_SET);
    }
    while (got < buflen - 1) {
        ssize_t n = read(fd, buf + got, buflen - 1 - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;

            close(fd);
            return -e;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    return (ssize_t)got;
}

int state_read_pid(const char *dir, const char *name, pid_t *pid)
{
    char buf[32], *end;
    ssize_t n = state_read(dir, name, buf, sizeof(buf), 0);
    long v;

    if (n < 0)
        return (int)n;
    errno = 0;
    v = strtol(buf, &end, 10);
    if (errno || end == buf || (*end && *end != '\n') || v <= 0 || v > INT_MAX)
        return -EINVAL;
    *pid = (pid_t)v;
    return 0;
}

int state_write_pid(const char *dir, const char *name, pid_t pid)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "%d\n", (int)pid);
    return state_write_atomic(dir, name, buf);
}

void state_remove(const char *dir, const char *name)
{
    char path[PATH_MAX];

    if (state_path(path, sizeof(path), dir, name) == 0)
        unlink(path);
}

void state_remove_ram(const char *dir)
{
    char path[PATH_MAX], target[PATH_MAX];
    struct stat sb;
    ssize_t n;

    if (state_path(path, sizeof(path), dir, STATE_RAM) < 0 || lstat(path, &sb) < 0)
        return;
    if (S_ISLNK(sb.st_mode) && (n = readlink(path, target, sizeof(target) - 1)) > 0) {
        const char *base;
        target[n] = '\0';
        base = strrchr(target, '/');
        base = base ? base + 1 : target;
        if (target[0] == '/' && !strncmp(base, STATE_RAM_PREFIX, strlen(STATE_RAM_PREFIX)))
            unlink(target);
    }
    unlink(path);
}

int state_exists(const char *dir, const char *name)
{
    char path[PATH_MAX];

    return state_path(path, sizeof(path), dir, name) == 0 && access(path, F_OK) == 0;
}

int state_lock(const char *dir, const char *name)
{
    char path[PATH_MAX];
    int fd, e;

    if (state_path(path, sizeof(path), dir, name) < 0)
        return -ENAMETOOLONG;
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    if (flock(fd, LOCK_EX | LOCK_NB) == 0)
        return fd;
    e = errno;
    close(fd);
    return e == EWOULDBLOCK ? -EWOULDBLOCK : -e;
}
