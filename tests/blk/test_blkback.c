/*
 * test_blkback.c - blkback (dom0/blkback*.c) on a ring in plain memory:
 * a fake host whose "grants" are pages of this process (refs 1..NPAGES,
 * some read-only), an in-memory xenstore server, an image in a temporary
 * file. The frontend's side is played here: the handshake, good requests
 * (data checked in the file), every kind of bad request (answered
 * BLKIF_RSP_ERROR or EOPNOTSUPP, the file unchanged), garbage ring
 * indices (the ring shut, nothing more answered), the close, and every
 * grant mapped unmapped at the end; multi-page rings (and their takeover by
 * a new blkback), indirect requests, write barriers in order. The fake
 * host and the frontend's helpers are in blk_fixture.c; batched grant
 * maps are test_blkback_batch.c's.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "blk_fixture.h"

static void test_io(void **state)
{
	struct fixture *f = *state;
	uint8_t *page2 = f->pages + 4096, *page3 = f->pages + 2 * 4096, file[4096];
	struct blkif_request r;

	front_connect(f);
	for (int i = 0; i < 4096; i++)
		page2[i] = (uint8_t)(i * 13 + 1);
	r = rw(BLKIF_OP_WRITE, 10, 2, 0, 7);
	assert_int_equal(submit(f, &r), BLKIF_RSP_OKAY);
	assert_int_equal(pread(f->fd, file, 4096, 10 * 512), 4096);
	assert_memory_equal(file, page2, 4096);
	r = rw(BLKIF_OP_READ, 11, 3, 2, 3);	/* sectors 11, 12 into sectors 2, 3 of page 3 */
	assert_int_equal(submit(f, &r), BLKIF_RSP_OKAY);
	assert_memory_equal(page3 + 1024, page2 + 512, 1024);
	assert_int_equal(page3[0], 0);
	/* a read-only grant is fine for a write (the backend only reads it) */
	r = rw(BLKIF_OP_WRITE, 100, READONLY_REF, 0, 0);
	assert_int_equal(submit(f, &r), BLKIF_RSP_OKAY);
	r = (struct blkif_request){ .operation = BLKIF_OP_FLUSH_DISKCACHE };
	assert_int_equal(submit(f, &r), BLKIF_RSP_OKAY);
	{
		struct blkif_request_discard d = { .operation = BLKIF_OP_DISCARD, .sector_number = 8,
						   .nr_sectors = 8 };
		assert_int_equal(submit(f, (struct blkif_request *)&d), BLKIF_RSP_OKAY);
		assert_int_equal(pread(f->fd, file, 4096, 8 * 512), 4096);
		for (int i = 0; i < 4096; i++)
			assert_int_equal(file[i], 0);
	}
	assert_true(f->notifies > 0);
}

static void test_refusals(void **state)
{
	struct fixture *f = *state;
	uint8_t before[SECTORS * 512 / 8], after[sizeof(before)];
	struct blkif_request r;

	front_connect(f);
	assert_int_equal(pread(f->fd, before, sizeof(before), 0), (ssize_t)sizeof(before));
	r = rw(BLKIF_OP_WRITE, SECTORS - 1, 2, 0, 1);
	assert_int_equal(submit(f, &r), BLKIF_RSP_ERROR);		/* past the end */
	r = rw(BLKIF_OP_WRITE, UINT64_MAX - 3, 2, 0, 7);
	assert_int_equal(submit(f, &r), BLKIF_RSP_ERROR);		/* wraps around */
	r = rw(BLKIF_OP_WRITE, 0, 2, 4, 3);
	assert_int_equal(submit(f, &r), BLKIF_RSP_ERROR);		/* first > last */
	r = rw(BLKIF_OP_WRITE, 0, 2, 0, 8);
	assert_int_equal(submit(f, &r), BLKIF_RSP_ERROR);		/* last_sect 8 */
	r = rw(BLKIF_OP_WRITE, 0, 2, 0, 7);
	r.nr_segments = 0;
	assert_int_equal(submit(f, &r), BLKIF_RSP_ERROR);
	r.nr_segments = 12;
	assert_int_equal(submit(f, &r), BLKIF_RSP_ERROR);
	r = rw(BLKIF_OP_WRITE, 0, NPAGES + 1, 0, 7);
	assert_int_equal(submit(f, &r), BLKIF_RSP_ERROR);		/* never granted */
	r = rw(BLKIF_OP_READ, 0, READONLY_REF, 0, 7);
	assert_int_equal(submit(f, &r), BLKIF_RSP_ERROR);		/* read into a read-only grant */
	r = rw(BLKIF_OP_WRITE, 0, 2, 0, 7);
	r.nr_segments = 2;
	r.seg[1] = (struct blkif_request_segment){ .gref = 0, .first_sect = 0, .last_sect = 7 };
	assert_int_equal(submit(f, &r), BLKIF_RSP_ERROR);		/* second grant bad: first unmapped */
	r = rw(7, 0, 2, 0, 7);
	assert_int_equal(submit(f, &r), BLKIF_RSP_EOPNOTSUPP);
	r = rw(BLKIF_OP_INDIRECT, 0, 2, 0, 7);		/* read as indirect: 0 segments */
	assert_int_equal(submit(f, &r), BLKIF_RSP_ERROR);
	{
		struct blkif_request_discard d = { .operation = BLKIF_OP_DISCARD, .sector_number = SECTORS - 1,
						   .nr_sectors = 2 };
		assert_int_equal(submit(f, (struct blkif_request *)&d), BLKIF_RSP_ERROR);
	}
	assert_int_equal(pread(f->fd, after, sizeof(after), 0), (ssize_t)sizeof(after));
	assert_memory_equal(before, after, sizeof(before));
	assert_int_equal(f->maps, f->unmaps + 1);		/* only the ring is mapped */
	r = rw(BLKIF_OP_WRITE, 0, 2, 0, 7);
	assert_int_equal(submit(f, &r), BLKIF_RSP_OKAY);	/* and the ring still works */
}

static void test_hostile_indices_and_close(void **state)
{
	struct fixture *f = *state;
	struct blkif_request r = rw(BLKIF_OP_WRITE, 0, 2, 0, 7);
	RING_IDX rsp;

	front_connect(f);
	assert_int_equal(submit(f, &r), BLKIF_RSP_OKAY);
	rsp = f->ring.sring->rsp_prod;
	f->ring.sring->req_prod = f->ring.req_prod_pvt + 1000;
	blkback_poll(f->b);
	assert_int_equal(f->shut_logs, 1);
	assert_int_equal(xs_get(f, f->bpath, "state"), XenbusStateClosing);
	blkback_poll(f->b);
	assert_int_equal(f->ring.sring->rsp_prod, rsp);		/* nothing more answered */
	assert_int_equal(f->shut_logs, 1);
	/* the frontend closes: the backend follows, the ring is unmapped */
	xs_put(f, f->fpath, "state", "6");
	blkback_poll(f->b);
	assert_int_equal(xs_get(f, f->bpath, "state"), XenbusStateClosed);
	assert_int_equal(f->maps, f->unmaps);
	/* and it may start again */
	xs_put(f, f->fpath, "state", "1");
	blkback_poll(f->b);
	assert_int_equal(xs_get(f, f->bpath, "state"), XenbusStateInitWait);
	memset(f->pages, 0, 4096);
	front_connect(f);
	r = rw(BLKIF_OP_READ, 0, 3, 0, 7);
	f->next_id = 0;
	assert_int_equal(submit(f, &r), BLKIF_RSP_OKAY);
}

static void test_persistent_grants(void **state)
{
	struct fixture *f = *state;
	uint8_t *page2 = f->pages + 4096, file[4096];
	struct blkif_request r;
	int maps;

	assert_int_equal(xs_get(f, f->bpath, "feature-persistent"), 1);
	xs_put(f, f->fpath, "feature-persistent", "1");
	front_connect(f);
	maps = f->maps;					/* the ring */
	for (int round = 0; round < 3; round++) {
		memset(page2, 0x40 + round, 4096);
		r = rw(BLKIF_OP_WRITE, 40, 2, 0, 7);
		assert_int_equal(submit(f, &r), BLKIF_RSP_OKAY);
		assert_int_equal(pread(f->fd, file, 4096, 40 * 512), 4096);
		assert_memory_equal(file, page2, 4096);
		r = rw(BLKIF_OP_READ, 40, 3, 0, 7);
		assert_int_equal(submit(f, &r), BLKIF_RSP_OKAY);
		assert_memory_equal(f->pages + 2 * 4096, page2, 4096);
	}
	assert_int_equal(f->maps, maps + 2);		/* refs 2 and 3 mapped once each, kept */
	assert_int_equal(f->unmaps, 0);
	/* a read-only grant cannot be kept writable: refused, nothing kept */
	r = rw(BLKIF_OP_WRITE, 40, READONLY_REF, 0, 7);
	assert_int_equal(submit(f, &r), BLKIF_RSP_ERROR);
	xs_put(f, f->fpath, "state", "6");
	blkback_poll(f->b);
	assert_int_equal(xs_get(f, f->bpath, "state"), XenbusStateClosed);
	assert_int_equal(f->maps, f->unmaps);		/* the kept ones went with the connection */
}

/* A multi-page ring: ring-page-order 2, refs 1..4; requests in every
 * slot of the 128-slot ring (several times round); a pvd restart takes
 * it over from its pvcore-ring record. Orders beyond the offer and a
 * missing ring-refN shut the ring. */
static void connect_order(struct fixture *f, unsigned order)
{
	struct blkif_sring *s = (struct blkif_sring *)f->pages;
	char v[16], key[24];

	SHARED_RING_INIT(s);
	FRONT_RING_INIT(&f->ring, s, 4096u << order);
	snprintf(v, sizeof(v), "%u", order);
	xs_put(f, f->fpath, "ring-page-order", v);
	for (unsigned i = 0; i < 1u << order; i++) {
		snprintf(key, sizeof(key), "ring-ref%u", i);
		snprintf(v, sizeof(v), "%u", i + 1);
		xs_put(f, f->fpath, key, v);
	}
	xs_put(f, f->fpath, "event-channel", "3");
	xs_put(f, f->fpath, "state", "3");
	blkback_poll(f->b);
}

static void test_multipage_ring(void **state)
{
	struct fixture *f = *state;
	uint8_t *data = f->pages + 20 * 4096, file[4096];
	struct blkif_request r;
	char err[300];

	assert_int_equal(xs_get(f, f->bpath, "max-ring-page-order"), 4);
	connect_order(f, 2);
	assert_int_equal(xs_get(f, f->bpath, "state"), XenbusStateConnected);
	assert_int_equal(RING_SIZE(&f->ring), 128);
	for (int i = 0; i < 300; i++) {
		memset(data, i & 0xff, 4096);
		r = rw(BLKIF_OP_WRITE, (uint64_t)(i % 64) * 8, 21, 0, 7);
		assert_int_equal(submit(f, &r), BLKIF_RSP_OKAY);
	}
	assert_int_equal(pread(f->fd, file, 4096, 43 * 8 * 512), 4096);
	assert_int_equal(file[0], 299 & 0xff);
	/* a restart of pvd with a request in the ring the old one never took */
	memset(data, 0x5a, 4096);
	r = rw(BLKIF_OP_WRITE, 8, 21, 0, 7);
	r.id = ++f->next_id;
	*RING_GET_REQUEST(&f->ring, f->ring.req_prod_pvt) = r;
	f->ring.req_prod_pvt++;
	f->ring.sring->req_prod = f->ring.req_prod_pvt;
	blkback_close(f->b);
	assert_int_equal(blkback_open(&f->host, f->xs, 2, &f->b, err, sizeof(err)), 0);
	{
		struct blkback_disk d = { .name = "data", .image = f->image, .size_bytes = SECTORS * 512ull };
		assert_int_equal(blkback_resume(f->b, DOMID, &d, err, sizeof(err)), 0);
	}
	for (int i = 0; i < 500 && f->ring.sring->rsp_prod == f->ring.rsp_cons; i++) {
		struct pollfd p = { .fd = blkback_event_fd(f->b), .events = POLLIN };
		blkback_poll(f->b);
		poll(&p, 1, 10);
	}
	assert_int_equal(f->ring.sring->rsp_prod, f->ring.rsp_cons + 1);
	assert_int_equal(RING_GET_RESPONSE(&f->ring, f->ring.rsp_cons)->id, r.id);
	f->ring.rsp_cons++;
	assert_int_equal(pread(f->fd, file, 4096, 8 * 512), 4096);
	assert_int_equal(file[100], 0x5a);
	r = rw(BLKIF_OP_READ, 8, 22, 0, 7);
	assert_int_equal(submit(f, &r), BLKIF_RSP_OKAY);		/* the ring goes on */
	assert_memory_equal(f->pages + 21 * 4096, data, 4096);
	/* the frontend closes: every ring page unmapped */
	xs_put(f, f->fpath, "state", "6");
	blkback_poll(f->b);
	assert_int_equal(xs_get(f, f->bpath, "state"), XenbusStateClosed);
	assert_int_equal(f->maps, f->unmaps);
	/* an order beyond the offer, then a missing ring-ref2: shut */
	xs_put(f, f->fpath, "state", "1");
	blkback_poll(f->b);
	connect_order(f, 5);
	assert_int_equal(xs_get(f, f->bpath, "state"), XenbusStateClosing);
	assert_int_equal(f->shut_logs, 1);
	xs_put(f, f->fpath, "state", "6");
	blkback_poll(f->b);
	xs_put(f, f->fpath, "state", "1");
	blkback_poll(f->b);
	assert_int_equal(xs_get(f, f->bpath, "state"), XenbusStateInitWait);
	{
		char path[160];
		snprintf(path, sizeof(path), "%s/ring-ref2", f->fpath);
		xs_local_rm(f->xs, path);
		xs_put(f, f->fpath, "ring-page-order", "2");
		xs_put(f, f->fpath, "state", "3");
		blkback_poll(f->b);
	}
	assert_int_equal(xs_get(f, f->bpath, "state"), XenbusStateClosing);
	assert_int_equal(f->shut_logs, 2);
	assert_int_equal(f->maps, f->unmaps);
}

static void test_indirect(void **state)
{
	struct fixture *f = *state;
	struct blkif_request_segment *seg = (struct blkif_request_segment *)(f->pages + 10 * 4096);
	uint8_t *data = f->pages + 11 * 4096, file[4 * 4096], before[SECTORS * 512 / 4], after[sizeof(before)];
	struct blkif_request r;
	int maps;

	assert_int_equal(xs_get(f, f->bpath, "feature-max-indirect-segments"), 256);
	front_connect(f);
	for (int i = 0; i < 4 * 4096; i++)
		data[i] = (uint8_t)(i * 7 + (i >> 12));
	for (int i = 0; i < 4; i++)
		seg[i] = (struct blkif_request_segment){ .gref = 12 + (uint32_t)i, .first_sect = 0, .last_sect = 7 };
	seg[3].last_sect = 3;				/* 3.5 pages: 28 sectors */
	r = indirect(BLKIF_OP_WRITE, 64, 4, 11);
	assert_int_equal(submit(f, &r), BLKIF_RSP_OKAY);
	assert_int_equal(f->last_op, BLKIF_OP_WRITE);	/* answered with its indirect_op */
	assert_int_equal(pread(f->fd, file, sizeof(file), 64 * 512), (ssize_t)sizeof(file));
	assert_memory_equal(file, data, 28 * 512);
	for (int i = 28 * 512; i < 32 * 512; i++)
		assert_int_equal(file[i], 0);
	/* read it back into refs 16..19 */
	for (int i = 0; i < 4; i++)
		seg[i].gref = 16 + (uint32_t)i;
	r = indirect(BLKIF_OP_READ, 64, 4, 11);
	assert_int_equal(submit(f, &r), BLKIF_RSP_OKAY);
	assert_int_equal(f->last_op, BLKIF_OP_READ);
	assert_memory_equal(f->pages + 15 * 4096, data, 28 * 512);
	/* 256 segments (1 MiB, the largest offered) of one page each */
	for (int i = 0; i < 256; i++)
		seg[i] = (struct blkif_request_segment){ .gref = 12 + (uint32_t)(i % 8), .first_sect = 0, .last_sect = 7 };
	r = indirect(BLKIF_OP_WRITE, 0, 256, 11);
	assert_int_equal(submit(f, &r), BLKIF_RSP_OKAY);
	assert_int_equal(f->maps, f->unmaps + 1);	/* only the ring stays mapped */

	/* refusals: the file unchanged, nothing left mapped */
	assert_int_equal(pread(f->fd, before, sizeof(before), 0), (ssize_t)sizeof(before));
	maps = f->maps;
	r = indirect(BLKIF_OP_FLUSH_DISKCACHE, 0, 1, 11);
	assert_int_equal(submit(f, &r), BLKIF_RSP_ERROR);
	r = indirect(BLKIF_OP_INDIRECT, 0, 1, 11);
	assert_int_equal(submit(f, &r), BLKIF_RSP_ERROR);
	r = indirect(BLKIF_OP_WRITE, 0, 0, 11);
	assert_int_equal(submit(f, &r), BLKIF_RSP_ERROR);		/* 0 segments */
	r = indirect(BLKIF_OP_WRITE, 0, 257, 11);
	assert_int_equal(submit(f, &r), BLKIF_RSP_ERROR);		/* more than offered */
	assert_int_equal(f->maps, maps);				/* none of these mapped anything */
	r = indirect(BLKIF_OP_WRITE, 0, 2, NPAGES + 1);
	assert_int_equal(submit(f, &r), BLKIF_RSP_ERROR);		/* indirect page never granted */
	assert_int_equal(f->last_op, BLKIF_OP_WRITE);
	seg[1].last_sect = 8;
	r = indirect(BLKIF_OP_WRITE, 0, 2, 11);
	assert_int_equal(submit(f, &r), BLKIF_RSP_ERROR);		/* a bad segment in the page */
	seg[1] = (struct blkif_request_segment){ .gref = 5, .first_sect = 4, .last_sect = 3 };
	assert_int_equal(submit(f, &r), BLKIF_RSP_ERROR);		/* first > last */
	seg[1] = (struct blkif_request_segment){ .gref = NPAGES + 1, .first_sect = 0, .last_sect = 7 };
	assert_int_equal(submit(f, &r), BLKIF_RSP_ERROR);		/* a data grant never made */
	seg[1] = (struct blkif_request_segment){ .gref = 12, .first_sect = 0, .last_sect = 7 };
	r = indirect(BLKIF_OP_WRITE, SECTORS - 15, 2, 11);
	assert_int_equal(submit(f, &r), BLKIF_RSP_ERROR);		/* 16 sectors past the end */
	r = indirect(BLKIF_OP_WRITE, UINT64_MAX - 7, 2, 11);
	assert_int_equal(submit(f, &r), BLKIF_RSP_ERROR);		/* wraps around */
	seg[0].gref = READONLY_REF;
	r = indirect(BLKIF_OP_READ, 0, 2, 11);
	assert_int_equal(submit(f, &r), BLKIF_RSP_ERROR);		/* a read into a read-only grant */
	assert_int_equal(pread(f->fd, after, sizeof(after), 0), (ssize_t)sizeof(after));
	assert_memory_equal(before, after, sizeof(before));
	assert_int_equal(f->maps, f->unmaps + 1);
	/* the indirect page may itself be read-only: the backend only reads it */
	memcpy(f->pages + (READONLY_REF - 1) * 4096, seg, 2 * sizeof(*seg));
	((struct blkif_request_segment *)(f->pages + (READONLY_REF - 1) * 4096))[0].gref = 12;
	r = indirect(BLKIF_OP_READ, 0, 2, READONLY_REF);
	assert_int_equal(submit(f, &r), BLKIF_RSP_OKAY);
	/* persistent grants: the indirect page and the data pages kept */
	reconnect_persistent(f);
	maps = f->maps;
	for (int i = 0; i < 4; i++)
		seg[i] = (struct blkif_request_segment){ .gref = 12 + (uint32_t)i, .first_sect = 0, .last_sect = 7 };
	for (int round = 0; round < 3; round++) {
		r = indirect(round == 1 ? BLKIF_OP_READ : BLKIF_OP_WRITE, 200, 4, 11);
		assert_int_equal(submit(f, &r), BLKIF_RSP_OKAY);
	}
	assert_int_equal(f->maps, maps + 5);		/* 1 indirect page + 4 data pages, mapped once */
	xs_put(f, f->fpath, "state", "6");
	blkback_poll(f->b);
	assert_int_equal(f->maps, f->unmaps);
}

/* WRITE_BARRIER (feature-barrier): its data written and synced; taken
 * only once what is before it is done, and nothing after it before it is
 * done: pushed together with a write before and one after, one poll takes
 * only the first; the answers come in order. 12 segments are refused. */
static void test_barrier(void **state)
{
	struct fixture *f = *state;
	uint8_t *page2 = f->pages + 4096, *page3 = f->pages + 2 * 4096, file[4096];
	struct blkif_request r[3];
	struct blkback_stats st;
	uint64_t ids[3];

	assert_int_equal(xs_get(f, f->bpath, "feature-barrier"), 1);
	front_connect(f);
	memset(page2, 0x61, 4096);
	memset(page3, 0x62, 4096);
	r[0] = rw(BLKIF_OP_WRITE_BARRIER, 300, 2, 0, 7);
	assert_int_equal(submit(f, &r[0]), BLKIF_RSP_OKAY);
	assert_int_equal(f->last_op, BLKIF_OP_WRITE_BARRIER);
	assert_int_equal(pread(f->fd, file, 4096, 300 * 512), 4096);
	assert_memory_equal(file, page2, 4096);
	r[0] = (struct blkif_request){ .operation = BLKIF_OP_WRITE_BARRIER };
	assert_int_equal(submit(f, &r[0]), BLKIF_RSP_OKAY);	/* without data: a sync */
	r[0] = rw(BLKIF_OP_WRITE_BARRIER, 300, 2, 0, 7);
	r[0].nr_segments = 12;
	assert_int_equal(submit(f, &r[0]), BLKIF_RSP_ERROR);
	/* a write, a barrier, a write: in order */
	r[0] = rw(BLKIF_OP_WRITE, 400, 2, 0, 7);
	r[1] = rw(BLKIF_OP_WRITE_BARRIER, 408, 3, 0, 7);
	r[2] = rw(BLKIF_OP_WRITE, 416, 2, 0, 7);
	for (int i = 0; i < 3; i++) {
		r[i].id = ids[i] = ++f->next_id;
		*RING_GET_REQUEST(&f->ring, f->ring.req_prod_pvt) = r[i];
		f->ring.req_prod_pvt++;
	}
	f->ring.sring->req_prod = f->ring.req_prod_pvt;
	blkback_poll(f->b);
	assert_int_equal(blkback_stats(f->b, DOMID, "data", &st), 0);
	assert_int_equal(st.in_flight, 1);		/* the write; the barrier waits for it */
	for (int i = 0; i < 500 && f->ring.sring->rsp_prod - f->ring.rsp_cons < 3; i++) {
		struct pollfd p = { .fd = blkback_event_fd(f->b), .events = POLLIN };
		blkback_poll(f->b);
		poll(&p, 1, 10);
	}
	assert_int_equal(f->ring.sring->rsp_prod - f->ring.rsp_cons, 3);
	for (int i = 0; i < 3; i++) {
		struct blkif_response *rsp = RING_GET_RESPONSE(&f->ring, f->ring.rsp_cons);
		assert_int_equal(rsp->id, ids[i]);
		assert_int_equal(rsp->status, BLKIF_RSP_OKAY);
		f->ring.rsp_cons++;
	}
	assert_int_equal(pread(f->fd, file, 4096, 408 * 512), 4096);
	assert_memory_equal(file, page3, 4096);
}

static uint64_t allocated(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return (uint64_t)st.st_blocks * 512;
}

/* A 4 KiB write of page 2 at block blk (8 sectors each). */
static int write_block(struct fixture *f, uint64_t blk)
{
	struct blkif_request r = rw(BLKIF_OP_WRITE, blk * 8, 2, 0, 7);

	return submit(f, &r);
}

static int discard_block(struct fixture *f, uint64_t blk)
{
	struct blkif_request_discard d = { .operation = BLKIF_OP_DISCARD, .sector_number = blk * 8, .nr_sectors = 8 };

	return submit(f, (struct blkif_request *)&d);
}

/*
 * The domain's disk_quota counts every writable disk of the domain: a
 * second disk ("more", its image already holding 16 KiB) leaves "data"
 * 16 KiB of a 32 KiB domain quota. Writes fill it block by block, the
 * levels 80, 95 and full are reported once each, the write past it is
 * refused (nothing written, the images together never over the quota, a
 * refusal reported), a rewrite of an allocated block still works, a
 * discard gives a block back, and a raised quota lets the write in at
 * once. Then the disk's own quota, set live, refuses in its turn.
 */
static void test_domain_quota(void **state)
{
	struct fixture *f = *state;
	struct blkback_disk more = { .name = "more", .size_bytes = SECTORS * 512ull, .index = 1 };
	char image[64] = "/tmp/test_blkback_more.XXXXXX", err[300];
	uint8_t file[4096], zero[4096] = { 0 };
	struct blkback_stats st;
	int fd = mkstemp(image), full, refused;

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, SECTORS * 512), 0);
	memset(file, 0x5a, sizeof(file));
	for (int i = 0; i < 4; i++)
		assert_int_equal(pwrite(fd, file, 4096, i * 8192), 4096);
	assert_int_equal(fsync(fd), 0);
	if (allocated(fd) != 16384 || allocated(f->fd) != 0) {
		close(fd);
		unlink(image);
		skip();		/* a filesystem that allocates other than by 4 KiB blocks */
	}
	more.image = image;
	assert_int_equal(blkback_add(f->b, DOMID, &more, err, sizeof(err)), 0);
	assert_int_equal(blkback_set_domain_quota(f->b, DOMID, 32768), 0);
	assert_int_equal(blkback_set_domain_quota(f->b, DOMID + 1, 32768), -ENOENT);
	front_connect(f);
	memset(f->pages + 4096, 0xa5, 4096);
	for (int blk = 0; blk < 4; blk++)
		assert_int_equal(write_block(f, (uint64_t)blk * 2), BLKIF_RSP_OKAY);
	assert_int_equal(allocated(f->fd) + allocated(fd), 32768);
	/* 80 % at 28 KiB (7 blocks), 95 % and full at 32 KiB: each once */
	assert_int_equal(f->nev, 3);
	assert_string_equal(f->ev[0].scope, "domain");
	assert_int_equal(f->ev[0].level, 80);
	assert_int_equal(f->ev[0].allocated, 28672);
	assert_int_equal(f->ev[1].level, 95);
	assert_int_equal(f->ev[2].level, 100);
	assert_int_equal(f->ev[2].allocated, 32768);
	assert_int_equal(f->ev[2].quota, 32768);
	/* the next block would pass it: refused, nothing written */
	assert_int_equal(write_block(f, 100), BLKIF_RSP_ERROR);
	assert_int_equal(pread(f->fd, file, 4096, 100 * 4096), 4096);
	assert_memory_equal(file, zero, 4096);
	assert_int_equal(allocated(f->fd) + allocated(fd), 32768);
	assert_int_equal(f->nev, 4);
	assert_int_equal(f->ev[3].level, 0);
	assert_string_equal(f->ev[3].scope, "domain");
	/* a rewrite of an allocated block goes on at a full quota */
	memset(f->pages + 4096, 0x3c, 4096);
	assert_int_equal(write_block(f, 2), BLKIF_RSP_OKAY);
	assert_int_equal(pread(f->fd, file, 4096, 2 * 4096), 4096);
	assert_memory_equal(file, f->pages + 4096, 4096);
	/* a discard gives blocks back: the refused write goes in; the level
	 * fell more than 5 % of the quota below 80 % (re-armed), so 80, 95
	 * and full report again as it fills */
	assert_int_equal(discard_block(f, 4), BLKIF_RSP_OKAY);
	assert_int_equal(discard_block(f, 6), BLKIF_RSP_OKAY);
	assert_int_equal(allocated(f->fd) + allocated(fd), 24576);
	assert_int_equal(write_block(f, 100), BLKIF_RSP_OKAY);
	assert_int_equal(f->nev, 5);
	assert_int_equal(f->ev[4].level, 80);
	assert_int_equal(write_block(f, 101), BLKIF_RSP_OKAY);
	full = f->nev;
	assert_int_equal(full, 7);
	assert_int_equal(f->ev[5].level, 95);
	assert_int_equal(f->ev[6].level, 100);
	/* a block discarded and written again at full: no new report */
	assert_int_equal(discard_block(f, 101), BLKIF_RSP_OKAY);
	assert_int_equal(write_block(f, 101), BLKIF_RSP_OKAY);
	assert_int_equal(f->nev, full);
	assert_int_equal(write_block(f, 102), BLKIF_RSP_ERROR);
	/* a raised quota lets it in at once */
	assert_int_equal(blkback_set_domain_quota(f->b, DOMID, 65536), 0);
	assert_int_equal(write_block(f, 102), BLKIF_RSP_OKAY);
	/* the disk's own quota, set live: 20 KiB, what it has */
	assert_int_equal(blkback_set_quota(f->b, DOMID, "data", 20480), 0);
	assert_int_equal(blkback_set_quota(f->b, DOMID, "none", 20480), -ENOENT);
	refused = f->nev;
	assert_int_equal(write_block(f, 103), BLKIF_RSP_ERROR);
	assert_int_equal(f->nev, refused + 1);
	assert_string_equal(f->ev[refused].scope, "disk");
	assert_int_equal(f->ev[refused].level, 0);
	assert_int_equal(f->ev[refused].quota, 20480);
	assert_int_equal(blkback_stats(f->b, DOMID, "data", &st), 0);
	assert_int_equal(st.quota_refusals, 3);
	assert_int_equal(st.allocated, 20480);
	assert_int_equal(st.quota, 20480);
	assert_int_equal(st.domain_quota, 65536);
	assert_int_equal(st.domain_allocated, 20480 + 16384);
	assert_int_equal(st.size_bytes, SECTORS * 512ull);
	close(fd);
	unlink(image);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_io, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_indices_and_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_persistent_grants, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multipage_ring, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_barrier, setup, teardown),
		cmocka_unit_test_setup_teardown(test_domain_quota, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
