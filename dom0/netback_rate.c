/*
 * netback_rate.c - per-vif token buckets: `rate` bytes per second with a
 * depth of `burst` bytes (0: one second of rate), for what a vif sends
 * (its tx packets stay on its ring until the bucket has tokens again:
 * shaping, the guest's queue fills and its stack slows down) and for
 * what it receives (frames beyond the bucket are dropped: policing, as a
 * full NIC queue drops them).
 *
 * Owns: struct nb_bucket. Invariants: tokens <= depth; a packet is let
 * through while tokens > 0 and then charged in full, so tokens may go
 * negative by at most one frame and the long-run rate is exact (the debt
 * is paid before the next packet). Time comes from the host (ms).
 */
#include "netback_internal.h"

void nb_bucket_init(struct nb_bucket *b, uint64_t rate, uint64_t burst, uint64_t now)
{
	b->rate = rate;
	b->depth = rate ? (int64_t)(burst ? burst : rate) : 0;
	if (b->depth < NB_MAX_FRAME && rate)
		b->depth = NB_MAX_FRAME;	/* a frame must always fit */
	b->tokens = b->depth;
	b->last_ms = now;
	b->frac = 0;
}

static void refill(struct nb_bucket *b, uint64_t now)
{
	uint64_t ms = now > b->last_ms ? now - b->last_ms : 0;
	/* rate * ms / 1000, the remainder kept so that nothing is lost */
	uint64_t milli = b->rate * ms + b->frac;

	b->last_ms = now;
	b->frac = milli % 1000;
	if (milli / 1000 >= (uint64_t)(b->depth - b->tokens))
		b->tokens = b->depth;
	else
		b->tokens += (int64_t)(milli / 1000);
}

int nb_bucket_allows(struct nb_bucket *b, uint64_t now)
{
	if (!b->rate)
		return 1;
	refill(b, now);
	return b->tokens > 0;
}

void nb_bucket_charge(struct nb_bucket *b, uint32_t bytes)
{
	if (b->rate)
		b->tokens -= bytes;
}
