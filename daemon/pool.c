/*
 * pool.c - the storage pool and where disk images may be (see pool.h).
 *
 * Owns: the pool directory and the names of the images in it (a
 * domain's `<uuid>-<disk>.img`, an operator's volumes by name), and the
 * list of directories a disk's image may be opened in (the pool and
 * every --disk-dir), always beneath one of them without following a
 * symbolic link (image_dir.c's openat2 rules). An image is a sparse raw
 * file (ftruncate: no block is allocated until the guest writes). Runs on
 * the loop: creating, growing or unlinking a sparse file does not write
 * data, so it does not wait on the disk.
 */
#include "pool.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>

#include "config.h"
#include "image_dir.h"
#include "log.h"
#include "pvd.h"

const char *pool_dir(const struct pvd *pvd, char *buf, size_t len)
{
	if (pvd->opt.pool)
		snprintf(buf, len, "%s", pvd->opt.pool);
	else
		snprintf(buf, len, "%s/pool", pvd->opt.state_dir);
	return buf;
}

int pool_image_path(const struct pvd *pvd, const char *uuid, const char *base_dir, const struct disk_config *d,
		    char *out, size_t len)
{
	char dir[PATH_MAX], cwd[PATH_MAX];
	int n;

	if (d->path && d->path[0] == '/')
		n = snprintf(out, len, "%s", d->path);
	else if (d->path) {
		if (!base_dir && !(base_dir = getcwd(cwd, sizeof(cwd))))
			return -1;
		n = snprintf(out, len, "%s/%s", base_dir, d->path);
	} else
		n = snprintf(out, len, "%s/%s-%s.img", pool_dir(pvd, dir, sizeof(dir)), uuid, d->name);
	return n >= 0 && (size_t)n < len ? 0 : -1;
}

int pool_create_images(const struct pvd *pvd, const char *uuid, const struct domain_config *cfg, char *err,
		       size_t errlen)
{
	char dir[PATH_MAX], path[PATH_MAX + 64];

	pool_dir(pvd, dir, sizeof(dir));
	for (int i = 0; i < cfg->ndisks; i++) {
		const struct disk_config *d = &cfg->disks[i];
		off_t size = (off_t)d->size_mib << 20;
		struct stat st;
		int fd;

		if (d->path)
			continue;
		if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "storage pool %s: %s", dir, strerror(errno));
			return -1;
		}
		if (pool_image_path(pvd, uuid, NULL, d, path, sizeof(path)) != 0) {
			snprintf(err, errlen, "disk \"%s\": the pool path is too long", d->name);
			return -1;
		}
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
		if (fd < 0) {
			snprintf(err, errlen, "disk \"%s\": image %s: %s", d->name, path, strerror(errno));
			return -1;
		}
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			snprintf(err, errlen, "disk \"%s\": image %s is not a regular file", d->name, path);
			close(fd);
			return -1;
		}
		if (st.st_size < size && ftruncate(fd, size) != 0) {
			snprintf(err, errlen, "disk \"%s\": image %s: %s", d->name, path, strerror(errno));
			close(fd);
			return -1;
		}
		close(fd);
		log_info("disk \"%s\": sparse image %s (%lld MiB)", d->name, path, d->size_mib);
	}
	return 0;
}

int pool_dirs_init(struct pvd *pvd, char *err, size_t errlen)
{
	char dir[PATH_MAX];

	memset(&pvd->disk_dirs, 0, sizeof(pvd->disk_dirs));
	for (int i = 0; i < pvd->opt.disk_dirs.n; i++)
		if (image_dirs_add(&pvd->disk_dirs, pvd->opt.disk_dirs.v[i], 1, err, errlen) != 0) {
			image_dirs_free(&pvd->disk_dirs);
			return -1;
		}
	if (image_dirs_add(&pvd->disk_dirs, pool_dir(pvd, dir, sizeof(dir)), 0, err, errlen) != 0) {
		image_dirs_free(&pvd->disk_dirs);
		return -1;
	}
	return 0;
}

int pool_open_image(const struct pvd *pvd, const char *uuid, const char *base_dir, const struct disk_config *d,
		    char *err, size_t errlen)
{
	char image[PATH_MAX + 64], what[64];

	if (pool_image_path(pvd, uuid, base_dir, d, image, sizeof(image)) != 0) {
		snprintf(err, errlen, "disk \"%s\": image path too long", d->name);
		return -1;
	}
	snprintf(what, sizeof(what), "disk \"%s\": image", d->name);
	return image_open_beneath(&pvd->disk_dirs, what, NULL, image, !d->readonly,
				  "not in an allowed disk directory (the pool or a --disk-dir)", err, errlen);
}

int pool_remove_images(const struct pvd *pvd, const char *uuid, const struct domain_config *cfg)
{
	char path[PATH_MAX + 64];
	int n = 0;

	for (int i = 0; i < cfg->ndisks; i++) {
		const struct disk_config *d = &cfg->disks[i];
		if (d->path || pool_image_path(pvd, uuid, NULL, d, path, sizeof(path)) != 0)
			continue;
		if (unlink(path) == 0) {
			log_notice("disk \"%s\": pool image %s deleted", d->name, path);
			n++;
		} else if (errno != ENOENT) {
			log_warn("disk \"%s\": deleting pool image %s: %s", d->name, path, strerror(errno));
		}
	}
	return n;
}

/* ---- volumes ---- */

int pool_vol_name_ok(const char *name, char *err, size_t errlen)
{
	size_t n = strlen(name);

	if (n == 0 || n > 128 || !((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') ||
				   (name[0] >= '0' && name[0] <= '9')) ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != n) {
		snprintf(err, errlen, "volume name \"%.200s\": a letter or digit, then letters, digits, '_', '.', "
			 "'-'; at most 128 characters", name);
		return -1;
	}
	return 0;
}

int pool_vol_path(const struct pvd *pvd, const char *name, char *out, size_t len)
{
	char dir[PATH_MAX];
	int n = snprintf(out, len, "%s/%s", pool_dir(pvd, dir, sizeof(dir)), name);

	return n >= 0 && (size_t)n < len ? 0 : -1;
}

int pool_vol_list(const struct pvd *pvd, int (*cb)(void *arg, const struct pool_vol *v), void *arg, char *err,
		  size_t errlen)
{
	char dir[PATH_MAX];
	struct dirent *e;
	DIR *dp;
	int dfd, rc = 0;

	pool_dir(pvd, dir, sizeof(dir));
	dp = opendir(dir);
	if (!dp) {
		if (errno == ENOENT)
			return 0;	/* made at the first define */
		rc = -errno;
		snprintf(err, errlen, "storage pool %s: %s", dir, strerror(errno));
		return rc;
	}
	dfd = dirfd(dp);
	while ((e = readdir(dp))) {
		struct stat st;
		struct pool_vol v = { .name = e->d_name };
		if (e->d_name[0] == '.' || fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		v.size = (uint64_t)st.st_size;
		v.allocated = (uint64_t)st.st_blocks * 512;
		if (cb(arg, &v))
			break;
	}
	closedir(dp);
	return rc;
}

int pool_vol_create(const struct pvd *pvd, const char *name, uint64_t size, char *err, size_t errlen)
{
	char dir[PATH_MAX], path[PATH_MAX + 160];
	int fd, rc;

	pool_dir(pvd, dir, sizeof(dir));
	if (pool_vol_path(pvd, name, path, sizeof(path)) != 0) {
		snprintf(err, errlen, "volume \"%s\": the pool path is too long", name);
		return -ENAMETOOLONG;
	}
	if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "storage pool %s: %s", dir, strerror(errno));
		return rc;
	}
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "volume \"%s\": %s: %s", name, path, strerror(errno));
		return rc;
	}
	if (ftruncate(fd, (off_t)size) != 0) {
		rc = -errno;
		snprintf(err, errlen, "volume \"%s\": %s: %s", name, path, strerror(errno));
		close(fd);
		unlink(path);
		return rc;
	}
	close(fd);
	log_info("volume \"%s\": sparse image %s (%llu bytes)", name, path, (unsigned long long)size);
	return 0;
}

int pool_vol_delete(const struct pvd *pvd, const char *name, char *err, size_t errlen)
{
	char path[PATH_MAX + 160];
	struct stat st;
	int rc;

	if (pool_vol_path(pvd, name, path, sizeof(path)) != 0 || lstat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "volume \"%s\": no such volume in the pool", name);
		return -ENOENT;
	}
	if (unlink(path) != 0) {
		rc = -errno;
		snprintf(err, errlen, "volume \"%s\": %s: %s", name, path, strerror(errno));
		return rc;
	}
	return 0;
}

int pool_vol_resize(const struct pvd *pvd, const char *name, uint64_t size, int allow_shrink, uint64_t *old,
		    char *err, size_t errlen)
{
	char path[PATH_MAX + 160];
	struct stat st;
	int fd, rc = 0;

	if (pool_vol_path(pvd, name, path, sizeof(path)) != 0 ||
	    (fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)) < 0) {
		snprintf(err, errlen, "volume \"%s\": no such volume in the pool", name);
		return -ENOENT;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "volume \"%s\": no such volume in the pool", name);
		close(fd);
		return -ENOENT;
	}
	*old = (uint64_t)st.st_size;
	if (size < *old && !allow_shrink) {
		snprintf(err, errlen, "volume \"%s\": %llu bytes is smaller than its %llu (shrinking loses data: "
			 "give shrink)", name, (unsigned long long)size, (unsigned long long)*old);
		rc = -EINVAL;
	} else if (ftruncate(fd, (off_t)size) != 0) {
		rc = -errno;
		snprintf(err, errlen, "volume \"%s\": %s: %s", name, path, strerror(errno));
	}
	close(fd);
	return rc;
}
