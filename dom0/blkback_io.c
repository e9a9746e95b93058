/*
 * blkback_io.c - blkback's I/O engine: a pool of worker threads that do
 * the file I/O of validated requests, so that pvd's loop never waits on
 * a disk.
 *
 * Owns: the queue of submitted ios, the done list, the eventfd that tells
 * the loop about completions, the threads. A worker reads or writes
 * straight between the image file and the iovecs (granted guest frames,
 * mapped by the loop thread before submission): no bounce copy.
 * Segments whose bytes follow each other in this process's address space
 * share one iovec (blk_io_iovecs): a guest's contiguous buffer, mapped
 * page after page in the machine's RAM, is one entry, not one per page.
 *
 * The loop is told of completions in batches (blk_io_take_done): once a
 * quarter of what a device has had in the engine is done, or the
 * device's last io is. Each telling wakes pvd's loop (and, when a worker
 * holds both CPUs, the loop waits for one): for a guest's deep queue of
 * 1 MiB reads this is a handful of wake-ups per 256 requests, not one
 * per completion, while a device with a lone request is answered at once.
 *
 * Invariants: an io is on exactly one of: the queue, a worker, the done
 * list. Workers never touch a device, only the io and its device's
 * struct blk_io_count (under e->lock; and, for a write under a quota, the
 * locks and fds it names: blkback_quota.c). A count's pending + done is
 * the device's ios in the engine; its peak returns to 0 when both do.
 * Lock order: the one mutex e->lock; no other lock is held with it.
 */
#include "blkback_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLK_IO_MAX_WORKERS 32

struct blk_io_engine {
	pthread_mutex_t lock;
	pthread_cond_t work;
	struct blk_io *queue, **queue_tail;
	struct blk_io *done, **done_tail;
	int stopping;
	int efd;
	int told;			/* efd written since the loop last took the done list */
	unsigned nthreads;
	pthread_t th[BLK_IO_MAX_WORKERS];
};

/* preadv/pwritev until all of len is done; a read past the end of the
 * file gives zeros (an image shorter than its disk). 0 or -errno. */
int blk_io_transfer(int fd, int write, struct iovec *iov, unsigned n, uint64_t offset)
{
	while (n) {
		ssize_t r = write ? pwritev(fd, iov, (int)n, (off_t)offset) : preadv(fd, iov, (int)n, (off_t)offset);
		size_t done;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0) {
			if (write)
				return -EIO;
			for (unsigned i = 0; i < n; i++)
				memset(iov[i].iov_base, 0, iov[i].iov_len);
			return 0;
		}
		done = (size_t)r;
		offset += done;
		while (n && done >= iov->iov_len) {
			done -= iov->iov_len;
			iov++;
			n--;
		}
		if (n) {
			iov->iov_base = (char *)iov->iov_base + done;
			iov->iov_len -= done;
		}
	}
	return 0;
}

unsigned blk_io_iovecs(struct iovec *iov, void *const *page, const struct blkif_request_segment *seg, unsigned n)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++) {
		char *base = (char *)page[i] + (size_t)seg[i].first_sect * BLK_SECTOR;
		size_t len = (size_t)(seg[i].last_sect - seg[i].first_sect + 1) * BLK_SECTOR;
		if (k && (char *)iov[k - 1].iov_base + iov[k - 1].iov_len == base) {
			iov[k - 1].iov_len += len;	/* its bytes follow the previous entry's */
			continue;
		}
		iov[k].iov_base = base;
		iov[k].iov_len = len;
		k++;
	}
	return k;
}

static void perform(struct blk_io *io)
{
	struct iovec iov[BLK_MAX_SEGS];
	int rc = 0;

	memcpy(iov, io->iov, io->nseg * sizeof(iov[0]));	/* blk_io_transfer() advances its copy */
	switch (io->op) {
	case BLKIF_OP_READ:
		rc = blk_io_transfer(io->fd, 0, iov, io->nseg, io->offset);
		break;
	case BLKIF_OP_WRITE:
		rc = blk_quota_write(io, iov);
		break;
	case BLKIF_OP_FLUSH_DISKCACHE:	/* its data, if any, then the flush */
	case BLKIF_OP_WRITE_BARRIER:	/* the same (blkback_ring.c orders it) */
		rc = io->nseg ? blk_quota_write(io, iov) : 0;
		if (rc == 0 && fdatasync(io->fd) < 0)
			rc = -errno;
		break;
	case BLKIF_OP_DISCARD:
		if (fallocate(io->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)io->offset,
			      (off_t)io->len) < 0)
			rc = -errno;
		break;
	default:
		rc = -EOPNOTSUPP;
	}
	io->status = rc == 0 ? BLKIF_RSP_OKAY : rc == -EOPNOTSUPP ? BLKIF_RSP_EOPNOTSUPP : BLKIF_RSP_ERROR;
}

static void *worker(void *arg)
{
	struct blk_io_engine *e = arg;
	uint64_t one = 1;

	pthread_mutex_lock(&e->lock);
	for (;;) {
		struct blk_io *io;
		struct blk_io_count *c;
		int first;
		while (!e->queue && !e->stopping)
			pthread_cond_wait(&e->work, &e->lock);
		if (!e->queue)
			break;
		io = e->queue;
		e->queue = io->next;
		if (!e->queue)
			e->queue_tail = &e->queue;
		pthread_mutex_unlock(&e->lock);

		perform(io);

		pthread_mutex_lock(&e->lock);
		io->next = NULL;
		*e->done_tail = io;
		e->done_tail = &io->next;
		c = io->count;
		c->pending--;
		c->done++;
		/* the loop is told once per batch (see blk_io_take_done): an io
		 * added behind others is taken with them, and the worker that
		 * set `told` writes (or has written) the eventfd after adding
		 * its own */
		first = !e->told && (c->pending == 0 || 4 * c->done >= c->peak);
		if (first)
			e->told = 1;
		pthread_mutex_unlock(&e->lock);
		if (first && write(e->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			abort();	/* an eventfd write fails only on overflow */
		pthread_mutex_lock(&e->lock);
	}
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

int blk_io_start(unsigned workers, struct blk_io_engine **out, char *err, size_t errlen)
{
	struct blk_io_engine *e;
	int rc;

	if (workers == 0 || workers > BLK_IO_MAX_WORKERS) {
		snprintf(err, errlen, "blkback: %u I/O workers (1..%d)", workers, BLK_IO_MAX_WORKERS);
		return -EINVAL;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		snprintf(err, errlen, "blkback: out of memory");
		return -ENOMEM;
	}
	e->queue_tail = &e->queue;
	e->done_tail = &e->done;
	e->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (e->efd < 0) {
		rc = -errno;
		snprintf(err, errlen, "blkback: eventfd: %s", strerror(errno));
		free(e);
		return rc;
	}
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->work, NULL);
	for (; e->nthreads < workers; e->nthreads++) {
		rc = pthread_create(&e->th[e->nthreads], NULL, worker, e);
		if (rc) {
			snprintf(err, errlen, "blkback: starting an I/O worker: %s", strerror(rc));
			blk_io_stop(e);
			return -rc;
		}
	}
	*out = e;
	return 0;
}

void blk_io_stop(struct blk_io_engine *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	e->stopping = 1;
	pthread_cond_broadcast(&e->work);
	pthread_mutex_unlock(&e->lock);
	for (unsigned i = 0; i < e->nthreads; i++)
		pthread_join(e->th[i], NULL);
	pthread_mutex_destroy(&e->lock);
	pthread_cond_destroy(&e->work);
	close(e->efd);
	free(e);
}

int blk_io_event_fd(const struct blk_io_engine *e)
{
	return e->efd;
}

void blk_io_submit(struct blk_io_engine *e, struct blk_io *io, struct blk_io_count *count)
{
	io->next = NULL;
	io->count = count;
	pthread_mutex_lock(&e->lock);
	count->pending++;
	if (count->pending + count->done > count->peak)
		count->peak = count->pending + count->done;
	*e->queue_tail = io;
	e->queue_tail = &io->next;
	pthread_mutex_unlock(&e->lock);
	pthread_cond_signal(&e->work);	/* after the unlock: the worker woken does not block on it */
}

struct blk_io *blk_io_take_done(struct blk_io_engine *e)
{
	struct blk_io *list;
	uint64_t v;

	pthread_mutex_lock(&e->lock);
	if (read(e->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		v = 0;	/* nothing to clear */
	list = e->done;
	e->done = NULL;
	e->done_tail = &e->done;
	e->told = 0;
	for (struct blk_io *io = list; io; io = io->next)
		if (--io->count->done == 0 && io->count->pending == 0)
			io->count->peak = 0;	/* idle: the next batch sets it */
	pthread_mutex_unlock(&e->lock);
	return list;
}
