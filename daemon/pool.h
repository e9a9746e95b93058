/*
 * pool.h - the storage pool: the directory where pvd keeps the images of
 * disks that name no `path` (--pool DIR, default STATE/pool), and where
 * each disk's image is (pool.c).
 */
#ifndef PVD_POOL_H
#define PVD_POOL_H

#include <stddef.h>

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

#endif
