/*
 * image_dir.c - the directories kernels and ramdisks may come from, and
 * the one way pvd opens such a file (see image_dir.h).
 *
 * A config's path (absolute, or relative to its base_dir) is made absolute
 * and normalized by name ("." and ".." folded, no file system access);
 * the result must lie strictly inside an allowed directory, compared with
 * the directory as configured and as realpath() resolved it at start-up.
 * The rest of the path is then opened beneath that directory with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS),
 * O_NONBLOCK (a FIFO must not block pvd's loop), and fstat() must show a
 * regular file. A path outside every allowed directory gets one message
 * whatever is there, so errors tell a client nothing about the rest of
 * the host's files. The same rules serve disk images (pool.c: the pool
 * and --disk-dir), opened read-write unless the disk is read-only.
 * Invariant: lexical[i] and real[i] are absolute and normalized, without
 * a trailing '/'. No locks (pvd's one thread).
 */
#include "image_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NOT_ALLOWED "not in an allowed image directory"

/* base + "/" + p (p absolute: p alone), then "." and ".." folded and
 * repeated '/' dropped, into out. -1 if it does not fit. */
static int normalize(const char *base, const char *p, char *out, size_t len)
{
	char joined[PATH_MAX * 2], cwd[PATH_MAX];
	size_t o = 0;
	const char *s;

	if (p[0] != '/') {
		if (!base) {
			if (!getcwd(cwd, sizeof(cwd)))
				return -1;
			base = cwd;
		}
		if (snprintf(joined, sizeof(joined), "%s/%s", base, p) >= (int)sizeof(joined))
			return -1;
	} else if (snprintf(joined, sizeof(joined), "%s", p) >= (int)sizeof(joined))
		return -1;
	if (joined[0] != '/' || len < 2)
		return -1;
	for (s = joined; *s;) {
		const char *e;
		size_t n;

		while (*s == '/')
			s++;
		e = s + strcspn(s, "/");
		n = (size_t)(e - s);
		if (n == 0 || (n == 1 && s[0] == '.')) {
			/* nothing */
		} else if (n == 2 && s[0] == '.' && s[1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;	/* the '/' before the dropped component */
		} else {
			if (o + 1 + n >= len)
				return -1;
			out[o++] = '/';
			memcpy(out + o, s, n);
			o += n;
		}
		s = e;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return 0;
}

/* The part of path below dir ("" if path is dir itself or elsewhere). */
static const char *below(const char *dir, const char *path)
{
	size_t n = strlen(dir);

	if (n == 1)	/* "/" */
		return path + 1;
	if (strncmp(dir, path, n) || path[n] != '/')
		return "";
	return path + n + 1;
}

int image_dirs_add(struct image_dirs *dirs, const char *dir, int must_exist, char *err, size_t errlen)
{
	char lex[PATH_MAX], *real;
	struct stat st;

	if (normalize(NULL, dir, lex, sizeof(lex)) != 0) {
		snprintf(err, errlen, "image dir %.300s: path too long", dir);
		return -1;
	}
	real = realpath(lex, NULL);
	if (!real || stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
		free(real);
		if (!must_exist)
			real = strdup(lex);
		else {
			snprintf(err, errlen, "image dir %.300s: not an existing directory", dir);
			return -1;
		}
	}
	dirs->lexical[dirs->n] = strdup(lex);
	dirs->real[dirs->n] = real;
	if (!dirs->lexical[dirs->n] || !real) {
		free(dirs->lexical[dirs->n]);
		free(real);
		snprintf(err, errlen, "image dir %.300s: out of memory", dir);
		return -1;
	}
	dirs->n++;
	return 0;
}

int image_dirs_init(struct image_dirs *dirs, const struct pvd_str_list *list, char *err, size_t errlen)
{
	struct stat st;

	memset(dirs, 0, sizeof(*dirs));
	for (int i = 0; i < list->n; i++)
		if (image_dirs_add(dirs, list->v[i], 1, err, errlen) != 0)
			goto fail;
	if (list->n)
		return 0;
	if (image_dirs_add(dirs, "/boot", 0, err, errlen) != 0 || image_dirs_add(dirs, PVD_INSTALL_GUEST_DIR, 0, err, errlen) != 0)
		goto fail;
	if (stat("build/guests", &st) == 0 && S_ISDIR(st.st_mode) && image_dirs_add(dirs, "build/guests", 0, err, errlen) != 0)
		goto fail;
	return 0;
fail:
	image_dirs_free(dirs);
	return -1;
}

void image_dirs_free(struct image_dirs *dirs)
{
	for (int i = 0; i < dirs->n; i++) {
		free(dirs->lexical[i]);
		free(dirs->real[i]);
	}
	memset(dirs, 0, sizeof(*dirs));
}

void image_dirs_describe(const struct image_dirs *dirs, char *out, size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	for (int i = 0; i < dirs->n && o < len; i++) {
		int n = snprintf(out + o, len - o, "%s%s", i ? ", " : "", dirs->lexical[i]);
		if (n < 0)
			break;
		o += (size_t)n;
	}
}

/* path's rest below dir, opened as image_open says; -errno. */
static int open_beneath(const char *dir, const char *rest, int writable)
{
	struct open_how how = {
		.flags = (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NONBLOCK | O_NOCTTY,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	struct stat st;
	int dfd, fd;

	dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	fd = (int)syscall(SYS_openat2, dfd, rest, &how, sizeof(how));
	if (fd < 0) {
		int e = errno;
		close(dfd);
		return -e;
	}
	close(dfd);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

int image_open(const struct image_dirs *dirs, const char *what, const char *base_dir, const char *path,
	       char *err, size_t errlen)
{
	return image_open_beneath(dirs, what, base_dir, path, 0, NOT_ALLOWED, err, errlen);
}

int image_open_beneath(const struct image_dirs *dirs, const char *what, const char *base_dir, const char *path,
		       int writable, const char *not_allowed, char *err, size_t errlen)
{
	char abs[PATH_MAX];
	int rc = -EACCES, tried = 0;

	if (normalize(base_dir, path, abs, sizeof(abs)) != 0) {
		snprintf(err, errlen, "%s \"%.300s\": path too long", what, path);
		return -1;
	}
	for (int i = 0; i < dirs->n; i++) {
		const char *rest = below(dirs->lexical[i], abs);
		if (!*rest)
			rest = below(dirs->real[i], abs);
		if (!*rest)
			continue;
		tried = 1;
		rc = open_beneath(dirs->real[i], rest, writable);
		if (rc >= 0)
			return rc;
	}
	if (!tried)
		snprintf(err, errlen, "%s \"%.300s\": %s", what, path, not_allowed);
	else if (rc == -ELOOP || rc == -EXDEV)
		snprintf(err, errlen, "%s \"%.300s\": a symbolic link on the way (not followed)", what, path);
	else if (rc == -EINVAL)
		snprintf(err, errlen, "%s \"%.300s\": not a regular file", what, path);
	else if (rc == -ENOSYS)
		snprintf(err, errlen, "%s \"%.300s\": openat2 is not available (Linux 5.6 or later)", what, path);
	else
		snprintf(err, errlen, "%s \"%.300s\": %s", what, path, strerror(-rc));
	return -1;
}
