/*
 * test_blkback_engine.c - blkback's I/O engine (blkback_io.c) on its own
 * (cmocka): when it tells the loop of completions. One worker; a "gate"
 * (a write under a quota whose lock the test holds) keeps the worker
 * waiting while a batch is queued behind it, so that what the engine
 * sees is fixed before the worker starts on the batch. The test plays the
 * loop: it spins on the event fd and takes the done list each time it
 * becomes readable.
 *
 * - a deep queue of one device (64 reads) is told in batches: every take
 *   but the last holds at least a quarter of the 64 (a take per
 *   completion before: 64 wake-ups of pvd's loop for 64 requests);
 * - a device whose last io in the engine is done is told at once, while
 *   another device still has ios pending (they wait behind a second gate
 *   here, so nothing else could tell the loop).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "blkback_internal.h"

#define CHUNK (1024u * 1024u)	/* a read: long enough that the test takes between two */
#define NREADS 64

struct engine_fixture {
	struct blk_io_engine *e;
	char path[64];
	int fd;
	uint8_t *buf;
};

static int setup(void **state)
{
	struct engine_fixture *f = calloc(1, sizeof(*f));
	char err[200];

	assert_non_null(f);
	strcpy(f->path, "/tmp/blk-engine.XXXXXX");
	f->fd = mkstemp(f->path);
	assert_true(f->fd >= 0);
	f->buf = malloc(CHUNK);
	assert_non_null(f->buf);
	memset(f->buf, 0x5a, CHUNK);
	for (unsigned i = 0; i < 8; i++)	/* data, not a hole: each read copies a MiB */
		assert_int_equal(pwrite(f->fd, f->buf, CHUNK, (off_t)i * CHUNK), (ssize_t)CHUNK);
	assert_int_equal(blk_io_start(1, &f->e, err, sizeof(err)), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct engine_fixture *f = *state;

	blk_io_stop(f->e);
	close(f->fd);
	unlink(f->path);
	free(f->buf);
	free(f);
	return 0;
}

static struct blk_io *read_io(struct engine_fixture *f, unsigned i)
{
	struct blk_io *io = calloc(1, sizeof(*io));

	assert_non_null(io);
	io->op = BLKIF_OP_READ;
	io->id = i;
	io->fd = f->fd;
	io->offset = (uint64_t)(i % 8) * CHUNK;
	io->len = CHUNK;
	io->nseg = 1;
	io->iov[0] = (struct iovec){ .iov_base = f->buf, .iov_len = CHUNK };	/* all into one buffer */
	return io;
}

/* A write the worker performs only once *lock is unlocked (its quota
 * check takes it first). */
static struct blk_io *gate_io(struct engine_fixture *f, pthread_mutex_t *lock)
{
	struct blk_io *io = read_io(f, 1000);

	io->op = BLKIF_OP_WRITE;
	io->len = 512;
	io->iov[0].iov_len = 512;
	io->quota = 1ull << 40;
	io->quota_lock = lock;
	return io;
}

/* Wait up to ms for the event fd, then take the done list (NULL on a timeout). */
static struct blk_io *take(struct engine_fixture *f, int ms)
{
	struct pollfd p = { .fd = blk_io_event_fd(f->e), .events = POLLIN };
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (poll(&p, 1, 0) == 1)
			return blk_io_take_done(f->e);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > ms)
			return NULL;
	}
}

/* Count (and free) the ios of list whose count is c; *others: the rest. */
static unsigned count_of(struct blk_io *list, const struct blk_io_count *c, unsigned *others, int *b_seen)
{
	unsigned n = 0;

	while (list) {
		struct blk_io *next = list->next;
		assert_int_equal(list->status, BLKIF_RSP_OKAY);
		if (list->count == c)
			n++;
		else if (others)
			(*others)++;
		if (b_seen && list->id == 999)
			*b_seen = 1;
		free(list);
		list = next;
	}
	return n;
}

static void test_deep_queue_is_told_in_batches(void **state)
{
	struct engine_fixture *f = *state;
	pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
	struct blk_io_count g = { 0 }, a = { 0 };
	unsigned got = 0, takes = 0, sizes[NREADS + 1];

	pthread_mutex_lock(&gate);
	blk_io_submit(f->e, gate_io(f, &gate), &g);
	for (unsigned i = 0; i < NREADS; i++)
		blk_io_submit(f->e, read_io(f, i), &a);
	pthread_mutex_unlock(&gate);
	while (got < NREADS) {
		struct blk_io *list = take(f, 5000);
		unsigned n;
		assert_non_null(list);	/* every batch is told within 5 s */
		n = count_of(list, &a, NULL, NULL);
		if (!n)
			continue;	/* the gate's own */
		sizes[takes++] = n;
		got += n;
	}
	assert_int_equal(got, NREADS);
	for (unsigned i = 0; i + 1 < takes; i++) {
		if (sizes[i] < NREADS / 4)
			fail_msg("take %u of %u held %u of the %u reads (a quarter at least but the last)", i + 1,
				 takes, sizes[i], NREADS);
	}
	assert_true(takes <= 5);
	assert_int_equal(a.pending, 0);
	assert_int_equal(a.done, 0);
	assert_int_equal(a.peak, 0);	/* the device is idle again: the next batch starts afresh */
}

static void test_lone_io_is_told_while_another_device_waits(void **state)
{
	struct engine_fixture *f = *state;
	pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER, gate2 = PTHREAD_MUTEX_INITIALIZER;
	struct blk_io_count g = { 0 }, g2 = { 0 }, a = { 0 }, b = { 0 };
	struct blk_io *lone;
	unsigned got = 0;
	int b_seen = 0;

	pthread_mutex_lock(&gate);
	pthread_mutex_lock(&gate2);
	blk_io_submit(f->e, gate_io(f, &gate), &g);
	for (unsigned i = 0; i < 5; i++)
		blk_io_submit(f->e, read_io(f, i), &a);
	lone = read_io(f, 999);
	blk_io_submit(f->e, lone, &b);
	blk_io_submit(f->e, gate_io(f, &gate2), &g2);
	for (unsigned i = 5; i < NREADS; i++)
		blk_io_submit(f->e, read_io(f, i), &a);
	pthread_mutex_unlock(&gate);
	/* the worker stops at gate2 after B's read: A has 59 reads pending
	 * and 5 done (fewer than a quarter of its 64), so only B's own
	 * "nothing more of mine in the engine" can tell the loop */
	while (!b_seen) {
		struct blk_io *list = take(f, 5000);
		if (!list)
			fail_msg("B's lone read was not told while A's reads wait (%u of A's taken)", got);
		got += count_of(list, &a, NULL, &b_seen);
	}
	assert_int_equal(got, 5);
	pthread_mutex_unlock(&gate2);
	while (got < NREADS) {
		struct blk_io *list = take(f, 5000);
		assert_non_null(list);
		got += count_of(list, &a, NULL, NULL);
	}
	assert_int_equal(a.pending + a.done + b.pending + b.done, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_deep_queue_is_told_in_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lone_io_is_told_while_another_device_waits, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
