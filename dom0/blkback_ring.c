/*
 * blkback_ring.c - one device's blkif ring: requests in, responses out.
 *
 * Owns: the back ring's private indices (req_cons, rsp_prod_pvt), the
 * life of a struct blk_io from its request to its response, and the ios
 * kept for later requests (b->spare, up to BLK_IO_SPARE).
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
 * Answers are published in ring order, each through the journal (see
 * "answers" below); blk_ring_push sends at most one event per ring per
 * poll. A bad request is answered
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
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SECTOR 512u
#define JOURNAL_BYTES 4096u
#define BAD_REQUEST_LOG_LINES 20	/* per device; then every 1000th */

/* ---- answers: in ring order, through the journal ----
 *
 * Requests finish in any order (workers, host calls), but an answer is
 * written into the ring only once every earlier request is answered; the
 * others wait in d->pend. So the ring's answers are always those of its
 * first requests: the request in a slot is answered in that slot, and a
 * process that takes the ring over after its predecessor died
 * (blk_ring_begin, resume) serves exactly the slots from rsp_prod on —
 * none answered twice, none lost. Each answer is published alone: the
 * journal names it (its slot last), then it is written into the slot
 * (overwriting that slot's request), then rsp_prod passes it. A process
 * killed between the two finds the journal naming slot == rsp_prod and
 * writes that answer again instead of taking the slot as a request. */

static void journal_path(const struct blkback *b, const struct blk_dev *d, char *out, size_t len)
{
	snprintf(out, len, "%s/%s%u-%u", b->host.journal_dir, b->host.journal_prefix ? b->host.journal_prefix : "",
		 d->domid, d->devid);
}

/* The device's journal file mapped (created: a new connection). */
static struct blk_journal *journal_open(struct blkback *b, struct blk_dev *d, int create)
{
	char path[PATH_MAX];
	struct blk_journal *j;
	int fd;

	if (!b->host.journal_dir)
		return NULL;
	journal_path(b, d, path, sizeof(path));
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT | O_TRUNC : 0), 0600);
	if (fd < 0 || (create && ftruncate(fd, JOURNAL_BYTES) < 0)) {
		if (create || errno != ENOENT)
			blk_log(b, 1, "blkback: domain %u disk %s: journal %s: %s (answers cut short by a kill of "
				"pvd may be lost)", d->domid, d->name, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	j = mmap(NULL, JOURNAL_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (j == MAP_FAILED) {
		blk_log(b, 1, "blkback: domain %u disk %s: journal %s: mmap: %s", d->domid, d->name, path,
			strerror(errno));
		return NULL;
	}
	return j;
}

/* The answer into slot rsp_prod_pvt, and published. */
static void publish_one(struct blk_dev *d, uint64_t id, uint8_t op, int16_t status)
{
	RING_IDX i = d->ring.rsp_prod_pvt;
	struct blkif_response *r;

	if (d->jr) {
		d->jr->id = id;
		d->jr->op = op;
		d->jr->status = status;
		__atomic_store_n(&d->jr->slot, i, __ATOMIC_RELEASE);
	}
	r = RING_GET_RESPONSE(&d->ring, i);
	r->id = id;
	r->operation = op;
	r->pad = 0;
	r->status = status;
	r->pad2 = 0;
	d->ring.rsp_prod_pvt = i + 1;
	__atomic_store_n(&d->ring.sring->rsp_prod, i + 1, __ATOMIC_RELEASE);
}

/* The request of slot answered: now, with those waiting behind it, or
 * (an earlier one is still out) kept until its turn. */
static void respond(struct blk_dev *d, RING_IDX slot, uint64_t id, uint8_t op, int16_t status)
{
	uint32_t mask = RING_SIZE(&d->ring) - 1;

	if (!d->ring_page || d->conn != BLK_CONNECTED || !d->pend)
		return;		/* the frontend went away: nobody to answer */
	if (slot != d->ring.rsp_prod_pvt) {
		d->pend[slot & mask] = (struct blk_answer){ .id = id, .status = status, .op = op, .set = 1 };
		return;
	}
	publish_one(d, id, op, status);
	for (struct blk_answer *a = &d->pend[d->ring.rsp_prod_pvt & mask]; a->set;
	     a = &d->pend[d->ring.rsp_prod_pvt & mask]) {
		a->set = 0;
		publish_one(d, a->id, a->op, a->status);
	}
}

void blk_ring_push(struct blkback *b, struct blk_dev *d)
{
	RING_IDX old = d->notified, now = d->ring.rsp_prod_pvt;

	if (!d->ring_page || d->conn != BLK_CONNECTED || now == old)
		return;
	d->notified = now;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);	/* rsp_prod out before rsp_event is read */
	if ((RING_IDX)(now - __atomic_load_n(&d->ring.sring->rsp_event, __ATOMIC_RELAXED)) < (RING_IDX)(now - old))
		b->host.notify(b->host.arg, d->port);
}

int blk_ring_begin(struct blkback *b, struct blk_dev *d, size_t bytes, int resume)
{
	RING_IDX prod;

	BACK_RING_INIT(&d->ring, (struct blkif_sring *)d->ring_page, bytes);
	d->pend = calloc(RING_SIZE(&d->ring), sizeof(*d->pend));
	if (!d->pend)
		return -ENOMEM;
	/* a new ring starts at 0 (the frontend's SHARED_RING_INIT) */
	prod = resume ? __atomic_load_n(&d->ring.sring->rsp_prod, __ATOMIC_ACQUIRE) : 0;
	d->ring.rsp_prod_pvt = d->ring.req_cons = prod;
	d->jr = journal_open(b, d, !resume);
	if (resume && d->jr && d->jr->magic == BLK_JOURNAL_MAGIC && d->jr->frame == d->ring_frame[0] &&
	    __atomic_load_n(&d->jr->slot, __ATOMIC_ACQUIRE) == prod) {
		/* the dead process wrote this answer (over its request) but did not publish it */
		blk_log(b, 0, "blkback: domain %u disk %s: the answer to request %" PRIu64 " in slot %u, cut short "
			"by the previous process, published from the journal", d->domid, d->name, d->jr->id, prod);
		publish_one(d, d->jr->id, d->jr->op, d->jr->status);
		d->ring.req_cons = d->ring.rsp_prod_pvt;
	} else if (resume && !d->jr) {
		d->jr = journal_open(b, d, 1);
	}
	if (d->jr) {
		d->jr->frame = d->ring_frame[0];
		d->jr->slot = d->ring.rsp_prod_pvt - 1;	/* names no answer to come */
		__atomic_store_n(&d->jr->magic, BLK_JOURNAL_MAGIC, __ATOMIC_RELEASE);
	}
	d->notified = prod;
	return 0;
}

void blk_ring_end(struct blkback *b, struct blk_dev *d, int keep_journal)
{
	char path[PATH_MAX];

	free(d->pend);
	d->pend = NULL;
	if (d->jr) {
		munmap(d->jr, JOURNAL_BYTES);
		d->jr = NULL;
		if (!keep_journal) {
			journal_path(b, d, path, sizeof(path));
			unlink(path);
		}
	}
}

/* A refusal counted and logged (the first BAD_REQUEST_LOG_LINES of a
 * device, then every 1000th). */
static void log_refusal(struct blkback *b, struct blk_dev *d, const struct blkif_request *req, const char *fmt,
			va_list ap) __attribute__((format(printf, 4, 0)));
static void log_refusal(struct blkback *b, struct blk_dev *d, const struct blkif_request *req, const char *fmt,
			va_list ap)
{
	char why[200];

	d->st.errors++;
	if (d->st.errors <= BAD_REQUEST_LOG_LINES || d->st.errors % 1000 == 0) {
		vsnprintf(why, sizeof(why), fmt, ap);
		blk_log(b, 1, "blkback: domain %u disk %s: request %#" PRIx64 " (op %u) refused: %s%s", d->domid,
			d->name, req->id, req->operation, why,
			d->st.errors == BAD_REQUEST_LOG_LINES ? " (further refusals logged every 1000th)" : "");
	}
}

static void bad_request(struct blkback *b, struct blk_dev *d, RING_IDX slot, const struct blkif_request *req,
			int16_t status, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void bad_request(struct blkback *b, struct blk_dev *d, RING_IDX slot, const struct blkif_request *req,
			int16_t status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_refusal(b, d, req, fmt, ap);
	va_end(ap);
	/* an indirect request is answered with its indirect_op, as Xen's blkback does */
	respond(d, slot, req->id, req->operation == BLKIF_OP_INDIRECT ?
		((const struct blkif_request_indirect *)req)->indirect_op : req->operation, status);
}

/* ---- a request, from its copy to its answer ----
 *
 * take_request validates what the copy says, then the request goes
 * through its stages (enum blk_stage): its indirect pages mapped and its
 * segments copied out of them (indirect requests), its segments checked
 * and mapped, its I/O with a worker, its own grants unmapped, and only
 * then its answer. A stage's host call either finishes at once (a host
 * without grant_map_start) or is started, and the request waits on
 * b->waiting until blkback_call_done. From take to answer the request
 * counts in d->in_flight, so that its device keeps its ring, its kept
 * grants and its slot (blkback.c): a device that went (gone, shut,
 * disconnected) meanwhile gets no answer and keeps nothing it mapped. */

static void wait_on(struct blkback *b, struct blk_io *io)
{
	io->waiting = 1;
	io->wnext = b->waiting;
	b->waiting = io;
	b->nwaiting++;
}

static void wait_over(struct blkback *b, struct blk_io *io)
{
	struct blk_io **pp = &b->waiting;

	while (*pp && *pp != io)
		pp = &(*pp)->wnext;
	if (*pp) {
		*pp = io->wnext;
		b->nwaiting--;
	}
	io->waiting = 0;
}

/* A request refused after it was taken (its grants): logged as
 * bad_request logs, answered by finish once its own grants are unmapped. */
static void refuse(struct blkback *b, struct blk_io *io, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void refuse(struct blkback *b, struct blk_io *io, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_refusal(b, io->dev, &io->req, fmt, ap);
	va_end(ap);
}

/* A zeroed io: a spare one, or a new one (NULL: out of memory). */
static struct blk_io *io_new(struct blkback *b)
{
	struct blk_io *io = b->spare;

	if (!io)
		return calloc(1, sizeof(*io));
	b->spare = io->next;
	b->nspare--;
	memset(io, 0, offsetof(struct blk_io, seg));	/* the arrays: see struct blk_io */
	return io;
}

/* An answered io kept for the next request (or freed, beyond BLK_IO_SPARE). */
static void io_free(struct blkback *b, struct blk_io *io)
{
	if (b->nspare >= BLK_IO_SPARE) {
		free(io);
		return;
	}
	io->next = b->spare;
	b->spare = io;
	b->nspare++;
}

void blk_ring_free_spares(struct blkback *b)
{
	while (b->spare) {
		struct blk_io *io = b->spare;
		b->spare = io->next;
		free(io);
	}
	b->nspare = 0;
}

/* The last stage: the request's answer (unless its device went), and it is freed. */
static void end_request(struct blkback *b, struct blk_io *io)
{
	struct blk_dev *d = io->dev;

	d->in_flight--;
	if (io->req.operation == BLKIF_OP_WRITE_BARRIER)
		d->barrier = 0;
	if (!d->gone && !d->shut)
		respond(d, io->slot, io->id, io->op, io->status);
	io_free(b, io);
}

/* Unmap the request's own mappings (one host call), then end it with status. */
static void finish(struct blkback *b, struct blk_io *io, int16_t status)
{
	char err[200];

	io->status = status;
	io->stage = BLK_S_UNMAP;
	if (!io->nunmap) {
		end_request(b, io);
		return;
	}
	io->dev->st.unmap_calls++;
	if (b->host.grant_unmap_start) {
		if (b->host.grant_unmap_start(b->host.arg, io->unmap, io->nunmap, io, err, sizeof(err)) == 0) {
			wait_on(b, io);
			return;
		}
		blk_log(b, 1, "blkback: domain %u disk %s: %s (unmapped synchronously)", io->dev->domid,
			io->dev->name, err);
	}
	blk_grants_unmap(b, io->unmap, io->nunmap);
	io->nunmap = 0;
	end_request(b, io);
}

static void submit(struct blkback *b, struct blk_io *io)
{
	io->stage = BLK_S_IO;
	blk_io_submit(b->io, io, &io->dev->ioc);
}

/* The grants of this stage: the indirect pages' or the segments'. */
static uint32_t stage_gref(const struct blk_io *io, unsigned i)
{
	if (io->stage == BLK_S_MAP_INDIRECT)
		return ((const struct blkif_request_indirect *)&io->req)->indirect_grefs[i];
	return io->seg[i].gref;
}

/* The batch for this stage's n grants: the kept ones found (page[i]),
 * the others each once (a gref named twice is mapped once) in io->g. The
 * first `room` new grants are to be kept (mapped writable, persistent
 * grants); the others are the request's own (read-only when the data goes
 * to the disk). */
static void map_prepare(struct blk_dev *d, struct blk_io *io, unsigned n, int to_disk)
{
	io->ng = 0;
	io->nmap = n;
	io->room = blk_pg_room(d);
	for (unsigned i = 0; i < n; i++) {
		uint32_t gref = stage_gref(io, i);
		unsigned j;
		io->at[i] = -1;
		io->page[i] = blk_pg_find(d, gref);
		if (io->page[i])
			continue;
		for (j = 0; j < io->ng && io->g[j].gref != gref; j++)
			;
		io->at[i] = (int)j;
		if (j < io->ng)
			continue;
		io->g[io->ng] = (struct blkback_grant){ .gref = gref, .readonly = io->ng < io->room ? 0 : to_disk };
		io->ng++;
	}
}

/* The batch's results: a grant meant to be kept is kept while the device
 * serves and no other request kept it meanwhile, else it goes on
 * io->unmap with the request's own; page[i] for every i. 0, or -1 with
 * *bad the first index refused. */
static int map_apply(struct blk_dev *d, struct blk_io *io, int serving, unsigned *bad)
{
	for (unsigned j = 0; j < io->ng; j++) {
		struct blkback_grant *g = &io->g[j];
		if (g->status < 0)
			continue;
		d->st.grants_mapped++;
		if (serving && j < io->room && !blk_pg_find(d, g->gref) && blk_pg_room(d))
			blk_pg_add(d, g->gref, g->handle, g->page);
		else
			io->unmap[io->nunmap++] = g->handle;
	}
	*bad = io->nmap;
	for (unsigned i = 0; i < io->nmap; i++) {
		if (io->at[i] < 0)
			continue;
		if (io->g[io->at[i]].status < 0) {
			*bad = i;
			return -1;
		}
		io->page[i] = io->g[io->at[i]].page;
	}
	return 0;
}

static void map_done(struct blkback *b, struct blk_io *io, int rc, const char *err);

/* This stage's host call (none when every grant is kept). */
static void start_map(struct blkback *b, struct blk_io *io)
{
	struct blk_dev *d = io->dev;
	char err[200] = "";
	int rc;

	if (!io->ng) {
		map_done(b, io, 0, "");
		return;
	}
	d->st.map_calls++;
	if (!io->counted) {
		io->counted = 1;
		d->st.mapped_requests++;
	}
	if (b->host.grant_map_start) {
		rc = b->host.grant_map_start(b->host.arg, d->domid, io->g, io->ng, io, err, sizeof(err));
		if (rc == 0) {
			wait_on(b, io);
			return;
		}
	} else {
		rc = b->host.grant_map_batch(b->host.arg, d->domid, io->g, io->ng, err, sizeof(err));
	}
	map_done(b, io, rc, err);
}

/* The segments (io->seg, a private copy) of a read/write/flush request:
 * checked, then mapped. */
static void segments_ready(struct blkback *b, struct blk_io *io)
{
	struct blk_dev *d = io->dev;
	uint64_t total = 0;

	for (unsigned i = 0; i < io->nsegs; i++) {
		const struct blkif_request_segment *s = &io->seg[i];
		if (s->first_sect > s->last_sect || s->last_sect >= BLKIF_SECTORS_PER_PAGE) {
			refuse(b, io, "segment %u: sectors %u..%u of a page (0..7, first <= last)", i, s->first_sect,
			       s->last_sect);
			finish(b, io, BLKIF_RSP_ERROR);
			return;
		}
		total += (uint64_t)(s->last_sect - s->first_sect + 1);
	}
	if (io->sector > d->sectors || total > d->sectors - io->sector) {
		refuse(b, io, "sectors %" PRIu64 "..+%" PRIu64 " beyond the end (%" PRIu64 " sectors)", io->sector,
		       total, d->sectors);
		finish(b, io, BLKIF_RSP_ERROR);
		return;
	}
	io->offset = io->sector * SECTOR;
	io->len = total * SECTOR;
	if (!io->nsegs) {
		submit(b, io);
		return;
	}
	io->stage = BLK_S_MAP_SEGS;
	map_prepare(d, io, io->nsegs, io->op != BLKIF_OP_READ);
	start_map(b, io);
}

/* A stage's grants are mapped (or not): on to the next stage. */
static void map_done(struct blkback *b, struct blk_io *io, int rc, const char *err)
{
	struct blk_dev *d = io->dev;
	int serving = !d->gone && !d->shut && d->conn == BLK_CONNECTED;
	int indirect = io->stage == BLK_S_MAP_INDIRECT;
	unsigned bad;

	if (rc < 0) {
		for (unsigned j = 0; j < io->ng; j++)
			io->g[j].status = rc;	/* none was mapped */
	}
	if (map_apply(d, io, serving, &bad) < 0) {
		if (bad < io->nmap && rc >= 0)
			refuse(b, io, "%s %u: grant ref %u: %s", indirect ? "indirect page" : "segment", bad,
			       stage_gref(io, bad), err);
		else
			refuse(b, io, "mapping %u %s: %s", io->nmap, indirect ? "indirect pages" : "segments", err);
		finish(b, io, BLKIF_RSP_ERROR);
		return;
	}
	if (!serving) {
		finish(b, io, BLKIF_RSP_ERROR);	/* nobody to answer: its mappings go */
		return;
	}
	if (indirect) {
		for (unsigned p = 0; p < io->nmap; p++) {
			unsigned n = io->nsegs - p * BLKIF_SEGS_PER_INDIRECT_FRAME;
			if (n > BLKIF_SEGS_PER_INDIRECT_FRAME)
				n = BLKIF_SEGS_PER_INDIRECT_FRAME;
			/* copied before anything in it is looked at: the guest may change it */
			memcpy(io->seg + p * BLKIF_SEGS_PER_INDIRECT_FRAME, io->page[p], n * sizeof(io->seg[0]));
		}
		segments_ready(b, io);
		return;
	}
	io->nseg = blk_io_iovecs(io->iov, io->page, io->seg, io->nsegs);
	submit(b, io);
}

void blk_ring_call_done(struct blkback *b, struct blk_io *io, int rc, const char *err)
{
	wait_over(b, io);
	if (io->stage != BLK_S_UNMAP) {
		map_done(b, io, rc, err);
		return;
	}
	if (rc < 0)
		blk_log(b, 1, "blkback: domain %u disk %s: %s", io->dev->domid, io->dev->name, err);
	io->nunmap = 0;
	end_request(b, io);
}

/* Validate one request (already copied) and start it; a refused one is
 * answered at once (nothing of it is mapped yet). */
static void take_request(struct blkback *b, struct blk_dev *d, RING_IDX slot, const struct blkif_request *req)
{
	const struct blkif_request_discard *dr = (const struct blkif_request_discard *)req;
	const struct blkif_request_indirect *ir = (const struct blkif_request_indirect *)req;
	unsigned nseg = req->nr_segments;
	uint8_t op = req->operation;
	struct blk_io *io;

	switch (req->operation) {
	case BLKIF_OP_READ:
	case BLKIF_OP_WRITE:
		if (req->nr_segments == 0 || req->nr_segments > BLKIF_MAX_SEGMENTS_PER_REQUEST) {
			bad_request(b, d, slot, req, BLKIF_RSP_ERROR, "%u segments (1..%d)", req->nr_segments,
				    BLKIF_MAX_SEGMENTS_PER_REQUEST);
			return;
		}
		break;
	case BLKIF_OP_FLUSH_DISKCACHE:	/* may carry data to write first */
	case BLKIF_OP_WRITE_BARRIER:	/* the same, once everything before it is done */
		if (req->nr_segments > BLKIF_MAX_SEGMENTS_PER_REQUEST) {
			bad_request(b, d, slot, req, BLKIF_RSP_ERROR, "%u segments (0..%d)", req->nr_segments,
				    BLKIF_MAX_SEGMENTS_PER_REQUEST);
			return;
		}
		break;
	case BLKIF_OP_DISCARD:
		if (dr->sector_number > d->sectors || dr->nr_sectors > d->sectors - dr->sector_number) {
			bad_request(b, d, slot, req, BLKIF_RSP_ERROR, "discard of sectors %" PRIu64 "..+%" PRIu64
				    " beyond the end (%" PRIu64 " sectors)", dr->sector_number, dr->nr_sectors,
				    d->sectors);
			return;
		}
		break;
	case BLKIF_OP_INDIRECT:
		if (ir->indirect_op != BLKIF_OP_READ && ir->indirect_op != BLKIF_OP_WRITE) {
			bad_request(b, d, slot, req, BLKIF_RSP_ERROR, "indirect operation %u (READ or WRITE only)",
				    ir->indirect_op);
			return;
		}
		if (ir->nr_segments == 0 || ir->nr_segments > BLK_MAX_SEGS) {
			bad_request(b, d, slot, req, BLKIF_RSP_ERROR, "%u indirect segments (1..%d)", ir->nr_segments,
				    BLK_MAX_SEGS);
			return;
		}
		op = ir->indirect_op;
		nseg = ir->nr_segments;
		break;
	default:
		bad_request(b, d, slot, req, BLKIF_RSP_EOPNOTSUPP, "operation %u is not offered", req->operation);
		return;
	}
	if (d->readonly && (op == BLKIF_OP_WRITE || op == BLKIF_OP_DISCARD ||
			    ((op == BLKIF_OP_FLUSH_DISKCACHE || op == BLKIF_OP_WRITE_BARRIER) && nseg))) {
		bad_request(b, d, slot, req, BLKIF_RSP_ERROR, "the disk is read-only");
		return;
	}
	io = io_new(b);
	if (!io) {
		bad_request(b, d, slot, req, BLKIF_RSP_ERROR, "out of memory");
		return;
	}
	io->dev = d;
	io->slot = slot;
	io->req = *req;
	io->id = req->id;
	io->op = op;		/* an indirect request is answered with its indirect_op, as Xen's blkback does */
	io->fd = d->fd;
	io->quota = d->quota;
	io->quota_lock = &d->quota_lock;
	io->dq = d->dq;
	io->nsegs = nseg;
	d->in_flight++;
	if (req->operation == BLKIF_OP_WRITE_BARRIER)
		d->barrier = 1;		/* nothing after it until it is done */
	if (op == BLKIF_OP_DISCARD) {
		io->offset = dr->sector_number * SECTOR;
		io->len = dr->nr_sectors * SECTOR;
		submit(b, io);
	} else if (req->operation == BLKIF_OP_INDIRECT) {
		io->sector = ir->sector_number;
		io->stage = BLK_S_MAP_INDIRECT;
		/* its indirect pages, read-only (or kept) */
		map_prepare(d, io, (nseg + BLKIF_SEGS_PER_INDIRECT_FRAME - 1) / BLKIF_SEGS_PER_INDIRECT_FRAME, 1);
		start_map(b, io);
	} else {
		io->sector = req->sector_number;
		memcpy(io->seg, req->seg, nseg * sizeof(io->seg[0]));
		segments_ready(b, io);
	}
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
			take_request(b, d, d->ring.req_cons - 1, &req);
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
	finish(b, io, io->status);	/* its own grants unmapped, then answered */
}
