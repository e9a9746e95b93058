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
 * (overflow-safe), writes to a read-only disk. An indirect request's
 * segments are copied out of its indirect pages (mapped read-only, or
 * kept) first, then checked the same way; it is answered with its
 * indirect_op. A WRITE_BARRIER is taken only when nothing is in flight,
 * and nothing after it is taken until it is done (written and synced).
 * Responses are written here and published by blk_ring_push, once per
 * ring per poll. A bad request is answered
 * BLKIF_RSP_ERROR (an unknown operation BLKIF_RSP_EOPNOTSUPP) with a log
 * line naming the domain, the disk and the cause; a producer index more
 * than a ring ahead shuts this device's ring alone (blk_shut).
 * Guest data is reached only through the grants named in the request,
 * mapped by the host (the hypervisor checks each grant). A request's
 * grants that are not kept are mapped in one batch of the host's (an
 * indirect request: one for its indirect pages, then one for the
 * segments they list) and its own mappings unmapped in one batch when it
 * is answered; a grant that does not map fails the request, with its own
 * mappings unmapped. With persistent grants (the frontend wrote
 * feature-persistent) a grant is mapped writable the first time it is
 * named (in the same batch) and kept until the connection ends (at most
 * BLK_MAX_PGRANTS; beyond, per request).
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

/* A response into the ring, published later by blk_ring_push: one push
 * and at most one event per device per poll, however many answers. */
static void respond(struct blk_dev *d, uint64_t id, uint8_t op, int16_t status)
{
	struct blkif_response *r;

	if (!d->ring_page || d->conn != BLK_CONNECTED)
		return;		/* the frontend went away: nobody to answer */
	r = RING_GET_RESPONSE(&d->ring, d->ring.rsp_prod_pvt);
	r->id = id;
	r->operation = op;
	r->pad = 0;
	r->status = status;
	r->pad2 = 0;
	d->ring.rsp_prod_pvt++;
}

void blk_ring_push(struct blkback *b, struct blk_dev *d)
{
	int notify;

	if (!d->ring_page || d->conn != BLK_CONNECTED || d->ring.rsp_prod_pvt == d->ring.sring->rsp_prod)
		return;
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
	/* an indirect request is answered with its indirect_op, as Xen's blkback does */
	respond(d, req->id, req->operation == BLKIF_OP_INDIRECT ?
		((const struct blkif_request_indirect *)req)->indirect_op : req->operation, status);
}

/* A request's grants: the ones it names that are not kept yet, each once
 * (a gref named twice is mapped once), mapped in one host call. A grant
 * is kept when there is room (persistent grants, mapped writable), else
 * it is this request's own (read-only when the data goes to the disk)
 * and goes on io->unmap. pages[i]: the page of grefs[i]. 0, or -1 with
 * err and *bad: the first index refused (n: the whole call failed). What
 * was kept stays kept; the request's own mappings stay on io->unmap for
 * the caller to unmap with the rest. */
static int map_grants(struct blkback *b, struct blk_dev *d, const uint32_t *grefs, unsigned n, int to_disk,
		      struct blk_io *io, void **pages, unsigned *bad, char *err, size_t errlen)
{
	struct blkback_grant g[BLK_MAX_SEGS];
	unsigned at[BLK_MAX_SEGS], ng = 0, room = blk_pg_room(d);
	int rc;

	for (unsigned i = 0; i < n; i++) {
		pages[i] = blk_pg_find(d, grefs[i]);
		if (pages[i])
			continue;
		for (at[i] = 0; at[i] < ng && g[at[i]].gref != grefs[i]; at[i]++)
			;
		if (at[i] < ng)
			continue;
		/* the first `room` new grants are kept: mapped writable */
		g[ng] = (struct blkback_grant){ .gref = grefs[i], .readonly = ng < room ? 0 : to_disk };
		ng++;
	}
	*bad = n;
	if (!ng)
		return 0;
	d->st.map_calls++;
	rc = b->host.grant_map_batch(b->host.arg, d->domid, g, ng, err, errlen);
	if (rc < 0)
		return -1;
	for (unsigned j = 0; j < ng; j++) {
		if (g[j].status < 0)
			continue;
		d->st.grants_mapped++;
		if (j < room)
			blk_pg_add(d, g[j].gref, g[j].handle, g[j].page);
		else
			io->unmap[io->nunmap++] = g[j].handle;
	}
	for (unsigned i = 0; i < n; i++) {
		if (pages[i])
			continue;
		if (g[at[i]].status < 0) {
			*bad = i;
			return -1;
		}
		pages[i] = g[at[i]].page;
	}
	return 0;
}

/* The request's own mappings, in one host call (nothing when it has none). */
static void unmap_own(struct blkback *b, struct blk_io *io)
{
	if (!io->nunmap)
		return;
	io->dev->st.unmap_calls++;
	blk_grants_unmap(b, io->unmap, io->nunmap);
	io->nunmap = 0;
}

/* The segments (a private copy) of a read/write/flush request: checked,
 * then mapped. 0 or the response status (answered here). */
static int16_t map_segments(struct blkback *b, struct blk_dev *d, const struct blkif_request *req,
			    const struct blkif_request_segment *seg, unsigned nseg, uint8_t op, uint64_t sector,
			    struct blk_io *io)
{
	uint32_t grefs[BLK_MAX_SEGS];
	void *pages[BLK_MAX_SEGS];
	uint64_t total = 0;
	unsigned bad;
	char err[200];

	for (unsigned i = 0; i < nseg; i++) {
		const struct blkif_request_segment *s = &seg[i];
		if (s->first_sect > s->last_sect || s->last_sect >= BLKIF_SECTORS_PER_PAGE) {
			bad_request(b, d, req, BLKIF_RSP_ERROR, "segment %u: sectors %u..%u of a page (0..7, first <= last)",
				    i, s->first_sect, s->last_sect);
			return BLKIF_RSP_ERROR;
		}
		total += (uint64_t)(s->last_sect - s->first_sect + 1);
		grefs[i] = s->gref;
	}
	if (sector > d->sectors || total > d->sectors - sector) {
		bad_request(b, d, req, BLKIF_RSP_ERROR, "sectors %" PRIu64 "..+%" PRIu64 " beyond the end (%" PRIu64
			    " sectors)", sector, total, d->sectors);
		return BLKIF_RSP_ERROR;
	}
	if (map_grants(b, d, grefs, nseg, op != BLKIF_OP_READ, io, pages, &bad, err, sizeof(err)) < 0) {
		if (bad < nseg)
			bad_request(b, d, req, BLKIF_RSP_ERROR, "segment %u: grant ref %u: %s", bad, grefs[bad], err);
		else
			bad_request(b, d, req, BLKIF_RSP_ERROR, "mapping %u segments: %s", nseg, err);
		return BLKIF_RSP_ERROR;
	}
	for (unsigned i = 0; i < nseg; i++) {
		io->iov[i].iov_base = (char *)pages[i] + (size_t)seg[i].first_sect * SECTOR;
		io->iov[i].iov_len = (size_t)(seg[i].last_sect - seg[i].first_sect + 1) * SECTOR;
	}
	io->nseg = nseg;
	io->offset = sector * SECTOR;
	io->len = total * SECTOR;
	return BLKIF_RSP_OKAY;
}

/* An indirect request's segments, copied out of its indirect pages into
 * seg (the pages mapped in one call, read-only, or kept; the request's
 * own stay mapped on io->unmap until it is done). 0 or the response
 * status (answered here). */
static int16_t indirect_segments(struct blkback *b, struct blk_dev *d, const struct blkif_request *req,
				 struct blkif_request_segment *seg, struct blk_io *io)
{
	const struct blkif_request_indirect *ir = (const struct blkif_request_indirect *)req;
	unsigned nseg = ir->nr_segments, npages = (nseg + BLKIF_SEGS_PER_INDIRECT_FRAME - 1) /
						 BLKIF_SEGS_PER_INDIRECT_FRAME;
	void *pages[BLK_MAX_INDIRECT_PAGES];
	unsigned bad;
	char err[200];

	if (ir->indirect_op != BLKIF_OP_READ && ir->indirect_op != BLKIF_OP_WRITE) {
		bad_request(b, d, req, BLKIF_RSP_ERROR, "indirect operation %u (READ or WRITE only)", ir->indirect_op);
		return BLKIF_RSP_ERROR;
	}
	if (nseg == 0 || nseg > BLK_MAX_SEGS) {
		bad_request(b, d, req, BLKIF_RSP_ERROR, "%u indirect segments (1..%d)", nseg, BLK_MAX_SEGS);
		return BLKIF_RSP_ERROR;
	}
	if (map_grants(b, d, ir->indirect_grefs, npages, 1, io, pages, &bad, err, sizeof(err)) < 0) {
		if (bad < npages)
			bad_request(b, d, req, BLKIF_RSP_ERROR, "indirect page %u: grant ref %u: %s", bad,
				    ir->indirect_grefs[bad], err);
		else
			bad_request(b, d, req, BLKIF_RSP_ERROR, "mapping %u indirect pages: %s", npages, err);
		return BLKIF_RSP_ERROR;
	}
	for (unsigned p = 0; p < npages; p++) {
		unsigned n = nseg - p * BLKIF_SEGS_PER_INDIRECT_FRAME;
		if (n > BLKIF_SEGS_PER_INDIRECT_FRAME)
			n = BLKIF_SEGS_PER_INDIRECT_FRAME;
		/* copied before anything in it is looked at: the guest may change it */
		memcpy(seg + p * BLKIF_SEGS_PER_INDIRECT_FRAME, pages[p], n * sizeof(*seg));
	}
	return BLKIF_RSP_OKAY;
}

/* Validate one request (already copied) and submit it; a refused one is
 * answered, its own mappings unmapped in one call. */
static void take_request(struct blkback *b, struct blk_dev *d, const struct blkif_request *req)
{
	const struct blkif_request_discard *dr = (const struct blkif_request_discard *)req;
	struct blkif_request_segment iseg[BLK_MAX_SEGS];
	const struct blkif_request_segment *seg = req->seg;
	unsigned nseg = req->nr_segments;
	uint8_t op = req->operation;
	uint64_t calls = d->st.map_calls;
	struct blk_io *io = calloc(1, sizeof(*io));

	if (!io) {
		bad_request(b, d, req, BLKIF_RSP_ERROR, "out of memory");
		return;
	}
	io->dev = d;
	switch (req->operation) {
	case BLKIF_OP_READ:
	case BLKIF_OP_WRITE:
		if (req->nr_segments == 0 || req->nr_segments > BLKIF_MAX_SEGMENTS_PER_REQUEST) {
			bad_request(b, d, req, BLKIF_RSP_ERROR, "%u segments (1..%d)", req->nr_segments,
				    BLKIF_MAX_SEGMENTS_PER_REQUEST);
			goto refused;
		}
		break;
	case BLKIF_OP_FLUSH_DISKCACHE:	/* may carry data to write first */
	case BLKIF_OP_WRITE_BARRIER:	/* the same, once everything before it is done */
		if (req->nr_segments > BLKIF_MAX_SEGMENTS_PER_REQUEST) {
			bad_request(b, d, req, BLKIF_RSP_ERROR, "%u segments (0..%d)", req->nr_segments,
				    BLKIF_MAX_SEGMENTS_PER_REQUEST);
			goto refused;
		}
		break;
	case BLKIF_OP_DISCARD:
		if (dr->sector_number > d->sectors || dr->nr_sectors > d->sectors - dr->sector_number) {
			bad_request(b, d, req, BLKIF_RSP_ERROR, "discard of sectors %" PRIu64 "..+%" PRIu64
				    " beyond the end (%" PRIu64 " sectors)", dr->sector_number, dr->nr_sectors,
				    d->sectors);
			goto refused;
		}
		break;
	case BLKIF_OP_INDIRECT:
		if (indirect_segments(b, d, req, iseg, io) != BLKIF_RSP_OKAY)
			goto refused;
		op = ((const struct blkif_request_indirect *)req)->indirect_op;
		nseg = ((const struct blkif_request_indirect *)req)->nr_segments;
		seg = iseg;
		break;
	default:
		bad_request(b, d, req, BLKIF_RSP_EOPNOTSUPP, "operation %u is not offered", req->operation);
		goto refused;
	}
	if (d->readonly && (op == BLKIF_OP_WRITE || op == BLKIF_OP_DISCARD ||
			    ((op == BLKIF_OP_FLUSH_DISKCACHE || op == BLKIF_OP_WRITE_BARRIER) && nseg))) {
		bad_request(b, d, req, BLKIF_RSP_ERROR, "the disk is read-only");
		goto refused;
	}
	io->id = req->id;
	io->op = op;		/* an indirect request is answered with its indirect_op, as Xen's blkback does */
	io->fd = d->fd;
	io->quota = d->quota;
	io->quota_lock = &d->quota_lock;
	io->dq = d->dq;
	if (op == BLKIF_OP_DISCARD) {
		io->offset = dr->sector_number * SECTOR;
		io->len = dr->nr_sectors * SECTOR;
	} else if (nseg && map_segments(b, d, req, seg, nseg, op, req->operation == BLKIF_OP_INDIRECT ?
					((const struct blkif_request_indirect *)req)->sector_number : req->sector_number,
					io) != BLKIF_RSP_OKAY) {
		goto refused;
	}
	d->st.mapped_requests += d->st.map_calls != calls;
	d->in_flight++;
	if (op == BLKIF_OP_WRITE_BARRIER)
		d->barrier = 1;		/* nothing after it until it is done */
	blk_io_submit(b->io, io);
	return;
refused:
	d->st.mapped_requests += d->st.map_calls != calls;
	unmap_own(b, io);
	free(io);
}

/* The data a request moves, for the I/O limits (taken from the copy; an
 * invalid request costs what it claims and is refused later; an indirect
 * one is counted as full pages, its segments being in guest memory). */
static uint64_t request_bytes(const struct blkif_request *req)
{
	uint64_t n = 0;

	if (req->operation == BLKIF_OP_INDIRECT)
		return (uint64_t)((const struct blkif_request_indirect *)req)->nr_segments * 4096;
	if (req->operation != BLKIF_OP_READ && req->operation != BLKIF_OP_WRITE &&
	    req->operation != BLKIF_OP_FLUSH_DISKCACHE && req->operation != BLKIF_OP_WRITE_BARRIER)
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
			if (d->barrier)
				return;		/* a barrier in flight: its completion polls again */
			memcpy(&req, RING_GET_REQUEST(&d->ring, d->ring.req_cons), sizeof(req));
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if (req.operation == BLKIF_OP_WRITE_BARRIER && d->in_flight)
				return;		/* everything before it first (it stays in the ring) */
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

	unmap_own(b, io);
	d->in_flight--;
	if (io->op == BLKIF_OP_WRITE_BARRIER)
		d->barrier = 0;
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
	} else if (io->op == BLKIF_OP_FLUSH_DISKCACHE || io->op == BLKIF_OP_WRITE_BARRIER) {
		d->st.flushes++;
		d->st.bytes_written += io->len;
	} else if (io->op == BLKIF_OP_DISCARD) {
		d->st.discards++;
	}
	if (!d->gone && !d->shut)
		respond(d, io->id, io->op, io->status);
	free(io);
}
