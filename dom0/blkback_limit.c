/*
 * blkback_limit.c - per-disk I/O rate limits: token buckets for bytes/s
 * and operations/s (a disk's `bps` and `iops`), each holding at most its
 * burst (`burst` bytes for bps; one second of the rate otherwise).
 *
 * Owns: struct blk_bucket's arithmetic. A request takes its cost from
 * every bucket of its disk, or waits in the ring (not taken) until all
 * have enough; one larger than the burst goes when the bucket is full
 * and leaves it in debt, so the long-run rate holds whatever the sizes.
 * Runs on the loop thread only (the ring's serving).
 */
#include "blkback_internal.h"

#include <time.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void blk_bucket_init(struct blk_bucket *k, uint64_t rate, uint64_t burst)
{
	k->rate = rate;
	k->burst = burst ? (double)burst : (double)rate;
	k->tokens = k->burst;		/* starts full */
	k->last_ns = now_ns();
}

static void refill(struct blk_bucket *k, uint64_t now)
{
	double burst = k->burst;

	if (now > k->last_ns)
		k->tokens += (double)k->rate * (double)(now - k->last_ns) / 1e9;
	if (k->tokens > burst)
		k->tokens = burst;
	k->last_ns = now;
}

static int can_take(const struct blk_bucket *k, uint64_t cost)
{
	return !k->rate || k->tokens >= (double)cost || k->tokens >= k->burst;
}

int blk_limit_take(struct blk_dev *d, uint64_t bytes)
{
	uint64_t now = now_ns();

	if (!d->bps.rate && !d->iops.rate)
		return 1;
	refill(&d->bps, now);
	refill(&d->iops, now);
	if (!can_take(&d->bps, bytes) || !can_take(&d->iops, 1)) {
		d->st.throttled++;
		return 0;
	}
	if (d->bps.rate)
		d->bps.tokens -= (double)bytes;
	if (d->iops.rate)
		d->iops.tokens -= 1.0;
	return 1;
}
