/*
 * image_dir.h - where pvd may read kernels and ramdisks from (image_dir.c):
 * only files inside the directories the operator allowed (--image-dir),
 * opened without following symbolic links and only if regular files.
 */
#ifndef PVD_IMAGE_DIR_H
#define PVD_IMAGE_DIR_H

#include <stddef.h>

#include "options.h"

struct image_dirs {
	int n;
	char *lexical[PVD_MAX_IMAGE_DIRS + 3];	/* absolute, normalized as written */
	char *real[PVD_MAX_IMAGE_DIRS + 3];	/* the same through realpath() */
};

/* The operator's list, or without one the defaults: /boot,
 * PVD_INSTALL_GUEST_DIR and, if it exists, ./build/guests. A named
 * directory that does not exist is an error; a default one is kept
 * (it may appear later). */
int image_dirs_init(struct image_dirs *dirs, const struct pvd_str_list *list, char *err, size_t errlen);
void image_dirs_free(struct image_dirs *dirs);
/* One more directory (must_exist: else an error; otherwise kept as named). */
int image_dirs_add(struct image_dirs *dirs, const char *dir, int must_exist, char *err, size_t errlen);
/* "DIR, DIR, ..." for the start-up log line */
void image_dirs_describe(const struct image_dirs *dirs, char *out, size_t len);

/*
 * image_open: an fd (O_RDONLY, close-on-exec) on the regular file path
 * names, a path relative to base_dir (NULL: pvd's working directory);
 * what ("kernel", "ramdisk") labels errors. Fails with one message,
 * "not in an allowed image directory", for every path outside the allowed
 * directories, whether it exists or not; inside them, the cause.
 */
int image_open(const struct image_dirs *dirs, const char *what, const char *base_dir, const char *path,
	       char *err, size_t errlen);

/* The same with writable (O_RDWR) and the message for a path outside
 * every directory (disk images: "not in an allowed disk directory"). */
int image_open_beneath(const struct image_dirs *dirs, const char *what, const char *base_dir, const char *path,
		       int writable, const char *not_allowed, char *err, size_t errlen);

#endif
