/*
 * pool.h - the storage pool: the directory where pvd keeps the images of
 * disks that name no `path` (--pool DIR, default STATE/pool), and where
 * each disk's image is (pool.c).
 */
#ifndef PVD_POOL_H
#define PVD_POOL_H

#include <stddef.h>
#include <stdint.h>

struct pvd;
struct disk_config;
struct domain_config;

/* The pool directory (--pool, else STATE/pool). */
const char *pool_dir(const struct pvd *pvd, char *buf, size_t len);

/* The image of disk d of the domain uuid: d->path (relative to base_dir,
 * else pvd's cwd) or POOL/<uuid>-<disk name>.img. 0, or -1 if too long. */
int pool_image_path(const struct pvd *pvd, const char *uuid, const char *base_dir, const struct disk_config *d,
		    char *out, size_t len);

/* At define time: a sparse raw file of the disk's size for every disk
 * without a path that has no image yet (an existing image smaller than
 * its disk is extended; a larger one is left alone). 0, or -1 with err. */
int pool_create_images(const struct pvd *pvd, const char *uuid, const struct domain_config *cfg, char *err,
		       size_t errlen);

/* At start-up: pvd->disk_dirs = every --disk-dir (must exist), then the
 * pool (need not exist yet). 0, or -1 with err. */
int pool_dirs_init(struct pvd *pvd, char *err, size_t errlen);

/* Open disk d's image (pool_image_path) beneath the allowed disk
 * directories (no symbolic link followed, a regular file only),
 * read-write unless the disk is read-only: an fd, or -1 with err. */
int pool_open_image(const struct pvd *pvd, const char *uuid, const char *base_dir, const struct disk_config *d,
		    char *err, size_t errlen);

/* undefine --remove-storage: delete the pool images of the disks without
 * a path (images named by path are the operator's, never deleted).
 * Returns how many were deleted; a failure is logged. */
int pool_remove_images(const struct pvd *pvd, const char *uuid, const struct domain_config *cfg);

/* ---- volumes: the pool's files, by name ---- */

/* ^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$, not "." or "..": 0, or -1 with err. */
int pool_vol_name_ok(const char *name, char *err, size_t errlen);
struct pool_vol {
	const char *name;
	uint64_t size, allocated;	/* bytes: the file's size and st_blocks * 512 */
};
/* Every regular file in the pool, by name; cb's non-zero stops. 0, or -errno
 * with err (the pool unreadable; a pool not made yet has no volumes). */
int pool_vol_list(const struct pvd *pvd, int (*cb)(void *arg, const struct pool_vol *v), void *arg, char *err,
		  size_t errlen);
/* A sparse file of size bytes: -EEXIST if the name is taken; -errno with err. */
int pool_vol_create(const struct pvd *pvd, const char *name, uint64_t size, char *err, size_t errlen);
/* -ENOENT if there is no such volume; -errno with err. */
int pool_vol_delete(const struct pvd *pvd, const char *name, char *err, size_t errlen);
/* Grow (ftruncate, sparse) or shrink (-EINVAL unless allow_shrink) a volume; *old gets its size. */
int pool_vol_resize(const struct pvd *pvd, const char *name, uint64_t size, int allow_shrink, uint64_t *old,
		    char *err, size_t errlen);
/* The full path of volume name in the pool; 0, or -1 if too long. */
int pool_vol_path(const struct pvd *pvd, const char *name, char *out, size_t len);

#endif
