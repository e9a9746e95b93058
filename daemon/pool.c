/*
 * pool.c - the storage pool (see pool.h).
 *
 * Owns: the pool directory and the names of the images in it. An image
 * is a sparse raw file (ftruncate: no block is allocated until the guest
 * writes). Runs on the loop at define time: creating a sparse file does
 * not write data, so it does not wait on the disk.
 */
#include "pool.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
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
