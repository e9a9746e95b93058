/*
 * blkback_ring.c - one device's blkif ring: requests in, responses out.
 *
 * Owns: the back ring's private indices (req_cons, rsp_prod_pvt) and the
 * life of a struct blk_io from its request to its response.
 *
 * Every request is copied out of the shared page before it is looked at
 * (the guest may change the slot meanwhile) and fully validated before
 * anything is mapped or submitted: the operation, the segment count, each
 * segment's first/last sector, the sector range against the disk's size
 * (overflow-safe), writes to a read-only disk. A bad request is answered
 * BLKIF_RSP_ERROR (an unknown operation BLKIF_RSP_EOPNOTSUPP) with a log
 * line naming the domain, the disk and the cause; a producer index more
 * than a ring ahead shuts this device's ring alone (blk_shut).
 * Guest data is reached only through the grants named in the request,
 * mapped by the host (the hypervisor checks each grant); a grant that
 * does not map fails the request, with every page mapped so far unmapped.
 * With persistent grants (the frontend wrote feature-persistent) a grant
 * is mapped writable the first time it is named and kept until the
 * connection ends (at most BLK_MAX_PGRANTS; beyond, per request).
 * Runs on the loop thread only.
 */
#include "blkback_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECTOR 512u
#define BAD_REQUEST_LOG_LINES 20	/* per device; then every 1000th */

static void respond(struct blkback *b, struct blk_dev *d, uint64_t id, uint8_t op, int16_t status)
{
	struct blkif_response *r;
	int notify;

	if (!d->ring_page || d->conn != BLK_CONNECTED)
		return;		/* the frontend went away: nobody to answer */
	r = RING_GET_RESPONSE(&d->ring, d->ring.rsp_prod_pvt);
	r->id = id;
	r->operation = op;
	r->pad = 0;
	r->status = status;
	r->pad2 = 0;
	d->ring.rsp_prod_pvt++;
	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&d->ring, notify);
	if (notify)
		b->host.notify(b->host.arg, d->port);
}

static void bad_request(struct blkback *b, struct blk_dev *d, const struct blkif_request *req, int16_t status,
			const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void bad_request(struct blkback *b, struct blk_dev *d, const struct blkif_request *req, int16_t status,
			const char *fmt, ...)
{
	char why[200];
	va_list ap;

	d->st.errors++;
	if (d->st.errors <= BAD_REQUEST_LOG_LINES || d->st.errors % 1000 == 0) {
		va_start(ap, fmt);
		vsnprintf(why, sizeof(why), fmt, ap);
		va_end(ap);
		blk_log(b, 1, "blkback: domain %u disk %s: request %#" PRIx64 " (op %u) refused: %s%s", d->domid,
			d->name, req->id, req->operation, why,
			d->st.errors == BAD_REQUEST_LOG_LINES ? " (further refusals logged every 1000th)" : "");
	}
	respond(b, d, req->id, req->operation, status);
}

/* The kept mapping of gref, NULL if there is none. */
static void *persistent_page(const struct blk_dev *d, uint32_t gref)
{
	for (uint32_t i = 0; i < d->npg; i++)
		if (d->pg[i].gref == gref)
			return d->pg[i].page;
	return NULL;
}

/* Segments of a read/write/flush request: checked, then mapped. 0 or the
 * response status. */
static int16_t map_segments(struct blkback *b, struct blk_dev *d, const struct blkif_request *req, struct blk_io *io)
{
	uint64_t total = 0;
	int to_disk = req->operation != BLKIF_OP_READ;
	char err[200];

	for (unsigned i = 0; i < req->nr_segments; i++) {
		const struct blkif_request_segment *s = &req->seg[i];
		if (s->first_sect > s->last_sect || s->last_sect >= BLKIF_SECTORS_PER_PAGE) {
			bad_request(b, d, req, BLKIF_RSP_ERROR, "segment %u: sectors %u..%u of a page (0..7, first <= last)",
				    i, s->first_sect, s->last_sect);
			return BLKIF_RSP_ERROR;
		}
		total += (uint64_t)(s->last_sect - s->first_sect + 1);
	}
	if (req->sector_number > d->sectors || total > d->sectors - req->sector_number) {
		bad_request(b, d, req, BLKIF_RSP_ERROR, "sectors %" PRIu64 "..+%" PRIu64 " beyond the end (%" PRIu64
			    " sectors)", req->sector_number, total, d->sectors);
		return BLKIF_RSP_ERROR;
	}
	for (unsigned i = 0; i < req->nr_segments; i++) {
		const struct blkif_request_segment *s = &req->seg[i];
		void *page = persistent_page(d, s->gref);
		uint64_t frame;
		int rc = 0;
		if (!page) {
			/* persistent grants are mapped writable once, kept for the connection */
			int keep = d->persistent && d->npg < BLK_MAX_PGRANTS;
			rc = b->host.grant_map(b->host.arg, d->domid, s->gref, keep ? 0 : to_disk, &page, &frame,
					       &io->handles[i], err, sizeof(err));
			if (rc == 0 && keep)
				d->pg[d->npg++] = (struct blk_pgrant){ s->gref, io->handles[i], page };
			else if (rc == 0)
				io->unmap_mask |= 1u << i;
		}
		if (rc < 0) {
			for (unsigned k = 0; k < i; k++)
				if (io->unmap_mask & (1u << k))
					b->host.grant_unmap(b->host.arg, io->handles[k]);
			bad_request(b, d, req, BLKIF_RSP_ERROR, "segment %u: grant ref %u: %s", i, s->gref, err);
			return BLKIF_RSP_ERROR;
		}
		io->iov[i].iov_base = (char *)page + (size_t)s->first_sect * SECTOR;
		io->iov[i].iov_len = (size_t)(s->last_sect - s->first_sect + 1) * SECTOR;
	}
	io->nseg = req->nr_segments;
	io->offset = req->sector_number * SECTOR;
	io->len = total * SECTOR;
	return BLKIF_RSP_OKAY;
}

/* Validate one request (already copied) and submit it. */
static void take_request(struct blkback *b, struct blk_dev *d, const struct blkif_request *req)
{
	const struct blkif_request_discard *dr = (const struct blkif_request_discard *)req;
	struct blk_io *io;

	switch (req->operation) {
	case BLKIF_OP_READ:
	case BLKIF_OP_WRITE:
		if (req->nr_segments == 0 || req->nr_segments > BLKIF_MAX_SEGMENTS_PER_REQUEST) {
			bad_request(b, d, req, BLKIF_RSP_ERROR, "%u segments (1..%d)", req->nr_segments,
				    BLKIF_MAX_SEGMENTS_PER_REQUEST);
			return;
		}
		break;
	case BLKIF_OP_FLUSH_DISKCACHE:	/* may carry data to write first */
		if (req->nr_segments > BLKIF_MAX_SEGMENTS_PER_REQUEST) {
			bad_request(b, d, req, BLKIF_RSP_ERROR, "%u segments (0..%d)", req->nr_segments,
				    BLKIF_MAX_SEGMENTS_PER_REQUEST);
			return;
		}
		break;
	case BLKIF_OP_DISCARD:
		if (dr->sector_number > d->sectors || dr->nr_sectors > d->sectors - dr->sector_number) {
			bad_request(b, d, req, BLKIF_RSP_ERROR, "discard of sectors %" PRIu64 "..+%" PRIu64
				    " beyond the end (%" PRIu64 " sectors)", dr->sector_number, dr->nr_sectors,
				    d->sectors);
			return;
		}
		break;
	default:
		bad_request(b, d, req, BLKIF_RSP_EOPNOTSUPP, "operation %u is not offered", req->operation);
		return;
	}
	if (d->readonly && (req->operation == BLKIF_OP_WRITE || req->operation == BLKIF_OP_DISCARD ||
			    (req->operation == BLKIF_OP_FLUSH_DISKCACHE && req->nr_segments))) {
		bad_request(b, d, req, BLKIF_RSP_ERROR, "the disk is read-only");
		return;
	}
	io = calloc(1, sizeof(*io));
	if (!io) {
		bad_request(b, d, req, BLKIF_RSP_ERROR, "out of memory");
		return;
	}
	io->dev = d;
	io->id = req->id;
	io->op = req->operation;
	io->fd = d->fd;
	io->quota = d->quota;
	io->quota_lock = &d->quota_lock;
	io->dq = d->dq;
	if (req->operation == BLKIF_OP_DISCARD) {
		io->offset = dr->sector_number * SECTOR;
		io->len = dr->nr_sectors * SECTOR;
	} else if (req->nr_segments && map_segments(b, d, req, io) != BLKIF_RSP_OKAY) {
		free(io);
		return;
	}
	d->in_flight++;
	blk_io_submit(b->io, io);
}

/* The data a request moves, for the I/O limits (taken from the copy; an
 * invalid request costs what it claims and is refused later). */
static uint64_t request_bytes(const struct blkif_request *req)
{
	uint64_t n = 0;

	if (req->operation != BLKIF_OP_READ && req->operation != BLKIF_OP_WRITE &&
	    req->operation != BLKIF_OP_FLUSH_DISKCACHE)
		return 0;
	for (unsigned i = 0; i < req->nr_segments && i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++)
		if (req->seg[i].last_sect >= req->seg[i].first_sect)
			n += (uint64_t)(req->seg[i].last_sect - req->seg[i].first_sect + 1) * 512;
	return n;
}

void blk_ring_serve(struct blkback *b, struct blk_dev *d, unsigned max)
{
	unsigned taken = 0;

	if (!d->ring_page || d->conn != BLK_CONNECTED || d->shut || d->gone)
		return;
	for (;;) {
		RING_IDX prod = __atomic_load_n(&d->ring.sring->req_prod, __ATOMIC_ACQUIRE);
		int more;

		if (prod - d->ring.req_cons > RING_SIZE(&d->ring)) {
			char why[120];
			snprintf(why, sizeof(why), "req_prod %u is more than a ring (%u) ahead of req_cons %u", prod,
				 RING_SIZE(&d->ring), d->ring.req_cons);
			blk_shut(b, d, why);
			return;
		}
		while (d->ring.req_cons != prod && taken < max) {
			struct blkif_request req;
			/* every request slot in flight has a response slot to come */
			if (d->ring.req_cons - d->ring.rsp_prod_pvt >= RING_SIZE(&d->ring))
				return;
			memcpy(&req, RING_GET_REQUEST(&d->ring, d->ring.req_cons), sizeof(req));
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if (!blk_limit_take(d, request_bytes(&req)))
				return;		/* it stays in the ring until the limits allow it */
			d->ring.req_cons++;
			taken++;
			take_request(b, d, &req);
			if (d->shut || d->conn != BLK_CONNECTED)
				return;
		}
		if (taken >= max)
			return;		/* the next poll goes on: others get their turn */
		RING_FINAL_CHECK_FOR_REQUESTS(&d->ring, more);
		if (!more)
			return;
	}
}

void blk_ring_complete(struct blkback *b, struct blk_io *io)
{
	struct blk_dev *d = io->dev;

	for (unsigned i = 0; i < io->nseg; i++)
		if (io->unmap_mask & (1u << i))
			b->host.grant_unmap(b->host.arg, io->handles[i]);
	d->in_flight--;
	blk_quota_after(b, io);		/* counts a refusal, reports the quotas' levels */
	if (io->status != BLKIF_RSP_OKAY) {
		if (!io->over_quota) {
			d->st.errors++;
			blk_log(b, 1, "blkback: domain %u disk %s: I/O error (op %u, %" PRIu64 " bytes at %" PRIu64
				")", d->domid, d->name, io->op, io->len, io->offset);
		}
	} else if (io->op == BLKIF_OP_READ) {
		d->st.reads++;
		d->st.bytes_read += io->len;
	} else if (io->op == BLKIF_OP_WRITE) {
		d->st.writes++;
		d->st.bytes_written += io->len;
	} else if (io->op == BLKIF_OP_FLUSH_DISKCACHE) {
		d->st.flushes++;
		d->st.bytes_written += io->len;
	} else if (io->op == BLKIF_OP_DISCARD) {
		d->st.discards++;
	}
	if (!d->gone && !d->shut)
		respond(b, d, io->id, io->op, io->status);
	free(io);
}
