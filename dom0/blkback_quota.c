/*
 * blkback_quota.c - disk quotas: bytes the images have allocated on the
 * host (st_blocks), bounded per disk (`quota`) and per domain
 * (`disk_quota`: the total of the domain's writable disks), and the
 * events when they fill (80 %, 95 %, full) or refuse a write.
 *
 * Owns: struct blk_dquota (one per domain with a disk here: its quota,
 * the image fds of its writable disks, the last level reported), the
 * quota check a worker makes before a write, the levels computed on the
 * loop thread after each write, discard or refusal.
 *
 * Invariants: a write that would allocate past a quota is refused
 * (-EDQUOT) before a byte is written; the check and the write happen
 * under the quota's lock, so two writes cannot both take the last room
 * and the images never pass the quota by even one filesystem block.
 * "Full" (level 100) means another block would not fit. A group lives
 * while any of its domain's devices does (a device with I/O in flight
 * is not released), so a worker's io->dq is always alive.
 *
 * Lock order: a disk's quota_lock, then its domain's dq->lock. dq->fd
 * and dq->quota change only under dq->lock (loop thread); workers read
 * them under it. Levels, refusal counts and the group list: loop thread.
 */
#include "blkback_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define REFUSAL_REPORTS 20	/* refusals reported per disk, then every 1000th */

/* Bytes a write of [offset, offset + len) would newly allocate: the holes
 * it covers, in whole filesystem blocks. -errno if the file cannot say. */
static int64_t bytes_to_allocate(int fd, uint64_t offset, uint64_t len, uint64_t blk)
{
	uint64_t pos = offset / blk * blk, end = (offset + len + blk - 1) / blk * blk, need = 0;

	while (pos < end) {
		off_t data = lseek(fd, (off_t)pos, SEEK_DATA), hole;
		if (data < 0 && errno != ENXIO)
			return -errno;
		if (data < 0 || (uint64_t)data > end)
			data = (off_t)end;		/* a hole to the end (or past EOF) */
		need += (uint64_t)data - pos;
		if ((uint64_t)data >= end)
			break;
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0)
			return -errno;
		pos = (uint64_t)hole;
	}
	return (int64_t)need;
}

static uint64_t allocated_of(int fd, uint64_t *blksize)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return 0;
	if (blksize)
		*blksize = st.st_blksize > 0 ? (uint64_t)st.st_blksize : 4096;
	return (uint64_t)st.st_blocks * 512;
}

/* The group's images together (under dq->lock or on the loop thread). */
static uint64_t group_allocated(const struct blk_dquota *dq)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < dq->nfd; i++)
		sum += allocated_of(dq->fd[i], NULL);
	return sum;
}

int blk_quota_write(struct blk_io *io, struct iovec *iov)
{
	struct blk_dquota *dq = io->dq;
	uint64_t blk = 4096, mine;
	int64_t need = 0;
	int rc, dlocked = 0;

	if (!io->quota && !(dq && __atomic_load_n(&dq->quota, __ATOMIC_RELAXED)))
		return blk_io_transfer(io->fd, 1, iov, io->nseg, io->offset);
	pthread_mutex_lock(io->quota_lock);
	if (dq) {
		pthread_mutex_lock(&dq->lock);
		dlocked = 1;
	}
	mine = allocated_of(io->fd, &blk);
	need = bytes_to_allocate(io->fd, io->offset, io->len, blk);
	if (need < 0) {
		rc = (int)need;
	} else if (io->quota && mine + (uint64_t)need > io->quota) {
		io->over_quota = BLK_OVER_DISK;
		rc = -EDQUOT;
	} else if (dq && dq->quota && group_allocated(dq) + (uint64_t)need > dq->quota) {
		io->over_quota = BLK_OVER_DOMAIN;
		rc = -EDQUOT;
	} else {
		rc = blk_io_transfer(io->fd, 1, iov, io->nseg, io->offset);
	}
	if (dlocked)
		pthread_mutex_unlock(&dq->lock);
	pthread_mutex_unlock(io->quota_lock);
	return rc;
}

/* ---- the domain groups (loop thread) ---- */

static struct blk_dquota *group_find(struct blkback *b, uint32_t domid)
{
	for (struct blk_dquota *dq = b->dquotas; dq; dq = dq->next)
		if (dq->domid == domid && !dq->gone)
			return dq;
	return NULL;
}

int blk_quota_join(struct blkback *b, struct blk_dev *d)
{
	struct blk_dquota *dq = group_find(b, d->domid);

	if (!dq) {
		dq = calloc(1, sizeof(*dq));
		if (!dq)
			return -ENOMEM;
		pthread_mutex_init(&dq->lock, NULL);
		dq->domid = d->domid;
		dq->next = b->dquotas;
		b->dquotas = dq;
	}
	if (!d->readonly) {
		pthread_mutex_lock(&dq->lock);
		if (dq->nfd < BLK_DQUOTA_MAX_DISKS)
			dq->fd[dq->nfd++] = d->fd;
		pthread_mutex_unlock(&dq->lock);
	}
	dq->members++;
	d->dq = dq;
	return 0;
}

static void group_free(struct blkback *b, struct blk_dquota *dq)
{
	for (struct blk_dquota **p = &b->dquotas; *p; p = &(*p)->next)
		if (*p == dq) {
			*p = dq->next;
			break;
		}
	pthread_mutex_destroy(&dq->lock);
	free(dq);
}

void blk_quota_leave(struct blkback *b, struct blk_dev *d)
{
	struct blk_dquota *dq = d->dq;

	if (!dq)
		return;
	pthread_mutex_lock(&dq->lock);
	for (unsigned i = 0; i < dq->nfd; i++)
		if (dq->fd[i] == d->fd) {
			dq->fd[i] = dq->fd[--dq->nfd];
			break;
		}
	pthread_mutex_unlock(&dq->lock);
	d->dq = NULL;
	if (--dq->members == 0)
		group_free(b, dq);
}

void blk_quota_free_all(struct blkback *b)
{
	while (b->dquotas)
		group_free(b, b->dquotas);
}

void blk_quota_domain_gone(struct blkback *b, uint32_t domid)
{
	struct blk_dquota *dq = group_find(b, domid);

	if (dq)
		dq->gone = 1;	/* a new domain with this id gets a group of its own */
}

/* ---- levels and events (loop thread) ---- */

/* 100: another block would not fit; 95, 80: that share reached; else 0. */
static int level_of(uint64_t allocated, uint64_t quota, uint64_t blk)
{
	if (!quota)
		return 0;
	if (allocated + blk > quota)
		return 100;
	if (allocated * 100 >= quota * 95)
		return 95;
	if (allocated * 100 >= quota * 80)
		return 80;
	return 0;
}

static void report(struct blkback *b, const struct blk_dev *d, const char *scope, int level, uint64_t allocated,
		   uint64_t quota)
{
	struct blkback_quota_event ev = { .domid = d->domid, .disk = d->name, .scope = scope, .level = level,
					  .allocated = allocated, .quota = quota };

	if (level)
		blk_log(b, level == 100, "blkback: domain %u disk %s: %s quota %s: %" PRIu64 " of %" PRIu64
			" bytes allocated", d->domid, d->name, scope, level == 100 ? "full" : level == 95 ? "at 95%" :
			"at 80%", allocated, quota);
	if (b->host.quota_event)
		b->host.quota_event(b->host.arg, &ev);
}

/* Report every threshold passed upwards. A level falls (so that its
 * thresholds report again) only once the allocation is 5 % of the quota
 * below it: a guest discarding and writing around a threshold does not
 * fill the event log. quiet: take the level as it is, report nothing. */
static void step(struct blkback *b, const struct blk_dev *d, const char *scope, int *last, uint64_t allocated,
		 uint64_t quota, uint64_t blk, int quiet)
{
	static const int thresholds[] = { 80, 95, 100 };
	int now = level_of(allocated, quota, blk), rearmed = level_of(allocated + quota / 20, quota, blk);

	if (quiet) {
		*last = now;
		return;
	}
	for (unsigned i = 0; i < sizeof(thresholds) / sizeof(thresholds[0]); i++)
		if (thresholds[i] > *last && thresholds[i] <= now)
			report(b, d, scope, thresholds[i], allocated, quota);
	if (now > *last || rearmed < *last)
		*last = now > *last ? now : rearmed;
}

static void levels(struct blkback *b, struct blk_dev *d, int quiet)
{
	uint64_t blk = 4096, mine;

	if (d->fd < 0)
		return;
	mine = allocated_of(d->fd, &blk);
	step(b, d, "disk", &d->qlevel, mine, d->quota, blk, quiet);
	if (d->dq && !d->readonly)
		step(b, d, "domain", &d->dq->level, group_allocated(d->dq), d->dq->quota, blk, quiet);
}

void blk_quota_settle(struct blkback *b, struct blk_dev *d)
{
	levels(b, d, 1);
}

void blk_quota_after(struct blkback *b, struct blk_io *io)
{
	struct blk_dev *d = io->dev;

	if (io->over_quota) {
		int domain = io->over_quota == BLK_OVER_DOMAIN;
		uint64_t quota = domain ? d->dq->quota : d->quota;
		uint64_t allocated = domain ? group_allocated(d->dq) : allocated_of(d->fd, NULL);
		d->st.errors++;
		d->st.quota_refusals++;
		if (d->st.quota_refusals <= REFUSAL_REPORTS || d->st.quota_refusals % 1000 == 0) {
			blk_log(b, 1, "blkback: domain %u disk %s: write of %" PRIu64 " bytes at %" PRIu64 " refused: "
				"it would take %s past its %s of %" PRIu64 " bytes%s", d->domid, d->name, io->len,
				io->offset, domain ? "the domain's disks" : "the image", domain ? "disk_quota" : "quota",
				quota, d->st.quota_refusals == REFUSAL_REPORTS ? " (further refusals reported every "
				"1000th)" : "");
			report(b, d, domain ? "domain" : "disk", 0, allocated, quota);
		}
	}
	if (io->over_quota || (io->status == BLKIF_RSP_OKAY && (io->op == BLKIF_OP_WRITE || io->op == BLKIF_OP_DISCARD ||
							       ((io->op == BLKIF_OP_FLUSH_DISKCACHE ||
								 io->op == BLKIF_OP_WRITE_BARRIER) && io->nseg))))
		if (d->quota || (d->dq && d->dq->quota))
			levels(b, d, 0);
}

/* ---- live changes ---- */

static struct blk_dev *find_dev(struct blkback *b, uint32_t domid, const char *name)
{
	for (int i = 0; i < BLKBACK_MAX_DEVICES; i++) {
		struct blk_dev *d = &b->dev[i];
		if (d->used && !d->gone && d->domid == domid && !strcmp(d->name, name))
			return d;
	}
	return NULL;
}

int blkback_set_quota(struct blkback *b, uint32_t domid, const char *name, uint64_t quota_bytes)
{
	struct blk_dev *d = find_dev(b, domid, name);

	if (!d)
		return -ENOENT;
	pthread_mutex_lock(&d->quota_lock);
	d->quota = quota_bytes;		/* requests taken from now on */
	pthread_mutex_unlock(&d->quota_lock);
	d->qlevel = 0;
	levels(b, d, 1);
	return 0;
}

int blkback_set_domain_quota(struct blkback *b, uint32_t domid, uint64_t quota_bytes)
{
	struct blk_dquota *dq = group_find(b, domid);

	if (!dq)
		return -ENOENT;
	pthread_mutex_lock(&dq->lock);
	__atomic_store_n(&dq->quota, quota_bytes, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&dq->lock);
	dq->level = 0;
	for (int i = 0; i < BLKBACK_MAX_DEVICES; i++)
		if (b->dev[i].used && b->dev[i].dq == dq && !b->dev[i].readonly) {
			levels(b, &b->dev[i], 1);	/* the level as it is now, reported when it rises */
			break;
		}
	return 0;
}

int blkback_set_limits(struct blkback *b, uint32_t domid, const char *name, uint64_t bps, uint64_t iops,
		       uint64_t burst)
{
	struct blk_dev *d = find_dev(b, domid, name);

	if (!d)
		return -ENOENT;
	blk_bucket_init(&d->bps, bps, burst);
	blk_bucket_init(&d->iops, iops, 0);
	return 0;
}

void blk_quota_fill_stats(const struct blk_dev *d, struct blkback_stats *st)
{
	st->size_bytes = d->sectors * 512;
	st->allocated = d->fd >= 0 ? allocated_of(d->fd, NULL) : 0;
	st->quota = d->quota;
	st->domain_quota = d->dq ? d->dq->quota : 0;
	st->domain_allocated = d->dq ? group_allocated(d->dq) : 0;
	st->bps = d->bps.rate;
	st->iops = d->iops.rate;
	st->burst = (uint64_t)d->bps.burst;
}
