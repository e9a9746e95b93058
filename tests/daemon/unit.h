/* unit.h - helpers shared by the daemon's cmocka tests. */
#ifndef PVD_TEST_UNIT_H
#define PVD_TEST_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A fresh temporary directory; removed (with its files) by rm_tmpdir. */
static inline void make_tmpdir(char *buf, size_t len)
{
	snprintf(buf, len, "%s/pvd-unit.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(buf));
}

static inline void rm_tmpdir(const char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

#endif
