/*
 * test_blkback_batch.c - blkback's grant maps in batches (cmocka, on the
 * fixture of blk_fixture.c): a request's grants are mapped in one host
 * call and unmapped in one; an indirect request's page first, then the
 * segments it lists; a ref named twice once; a bad ref fails the request
 * alone; persistent misses in one call; and blkback_stats counts the same.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "blk_fixture.h"

/* The host's calls, what blkback counts of them and the grants they map
 * since the last look. */
struct calls_seen {
	int map_calls, unmap_calls, maps, unmaps;
	uint64_t st_requests, st_map_calls, st_unmap_calls, st_grants;
};

static void calls_since(struct fixture *f, struct calls_seen *last, struct calls_seen *delta)
{
	struct blkback_stats st;
	struct calls_seen now = { f->map_calls, f->unmap_calls, f->maps, f->unmaps, 0, 0, 0, 0 };

	assert_int_equal(blkback_stats(f->b, DOMID, "data", &st), 0);
	now.st_requests = st.mapped_requests;
	now.st_map_calls = st.map_calls;
	now.st_unmap_calls = st.unmap_calls;
	now.st_grants = st.grants_mapped;
	*delta = (struct calls_seen){ now.map_calls - last->map_calls, now.unmap_calls - last->unmap_calls,
				      now.maps - last->maps, now.unmaps - last->unmaps,
				      now.st_requests - last->st_requests, now.st_map_calls - last->st_map_calls,
				      now.st_unmap_calls - last->st_unmap_calls, now.st_grants - last->st_grants };
	*last = now;
}

/* 11 segments on refs first, first+1, ... */
static struct blkif_request eleven(uint8_t op, uint64_t sector, uint32_t first)
{
	struct blkif_request r = { .operation = op, .nr_segments = 11, .sector_number = sector };

	for (int i = 0; i < 11; i++)
		r.seg[i] = (struct blkif_request_segment){ .gref = first + (uint32_t)i, .first_sect = 0, .last_sect = 7 };
	return r;
}

/* A request's grants are mapped in one host call and unmapped in one
 * when it is answered (an indirect one: its page, then its segments);
 * a bad grant in the middle fails the request, the others unmapped in
 * one call; with persistent grants a request's misses are mapped in one
 * call and nothing is unmapped. blkback's counters say the same. */
static void test_batched_maps(void **state)
{
	struct fixture *f = *state;
	struct blkif_request_segment *seg = (struct blkif_request_segment *)(f->pages + 10 * 4096);
	struct calls_seen last = { 0 }, d;
	struct blkif_request r;

	front_connect(f);
	calls_since(f, &last, &d);
	r = eleven(BLKIF_OP_WRITE, 0, 2);
	assert_int_equal(submit(f, &r), BLKIF_RSP_OKAY);
	calls_since(f, &last, &d);
	assert_int_equal(d.map_calls, 1);			/* 11 grants, one call */
	assert_int_equal(d.maps, 11);
	assert_int_equal(d.unmap_calls, 1);
	assert_int_equal(d.unmaps, 11);
	assert_int_equal(d.st_requests, 1);
	assert_int_equal(d.st_map_calls, 1);
	assert_int_equal(d.st_unmap_calls, 1);
	assert_int_equal(d.st_grants, 11);
	/* a ref named twice is mapped once */
	r = eleven(BLKIF_OP_READ, 0, 12);
	r.seg[10].gref = 12;
	assert_int_equal(submit(f, &r), BLKIF_RSP_OKAY);
	calls_since(f, &last, &d);
	assert_int_equal(d.map_calls, 1);
	assert_int_equal(d.maps, 10);
	assert_int_equal(d.unmaps, 10);
	/* indirect, 256 segments over refs 12..31 and the indirect page (11) */
	for (int i = 0; i < 256; i++)
		seg[i] = (struct blkif_request_segment){ .gref = 12 + (uint32_t)(i % 20), .first_sect = 0, .last_sect = 7 };
	r = indirect(BLKIF_OP_WRITE, 0, 256, 11);
	assert_int_equal(submit(f, &r), BLKIF_RSP_OKAY);
	calls_since(f, &last, &d);
	assert_int_equal(d.map_calls, 2);			/* the page, then what it lists */
	assert_int_equal(d.maps, 21);
	assert_int_equal(d.unmap_calls, 1);			/* all 21 together when done */
	assert_int_equal(d.unmaps, 21);
	assert_int_equal(d.st_requests, 1);
	assert_int_equal(d.st_map_calls, 2);
	/* a bad ref in the middle: the request fails, the ten others are unmapped in one call */
	r = eleven(BLKIF_OP_WRITE, 0, 2);
	r.seg[5].gref = NPAGES + 1;
	assert_int_equal(submit(f, &r), BLKIF_RSP_ERROR);
	calls_since(f, &last, &d);
	assert_int_equal(d.map_calls, 1);
	assert_int_equal(d.maps, 10);
	assert_int_equal(d.unmap_calls, 1);
	assert_int_equal(d.unmaps, 10);
	assert_int_equal(d.st_grants, 10);
	/* persistent grants: a request's misses in one call, the hits in none */
	reconnect_persistent(f);
	calls_since(f, &last, &d);
	r = eleven(BLKIF_OP_WRITE, 0, 10);			/* refs 10..20 */
	assert_int_equal(submit(f, &r), BLKIF_RSP_OKAY);
	calls_since(f, &last, &d);
	assert_int_equal(d.map_calls, 1);
	assert_int_equal(d.maps, 11);
	assert_int_equal(d.unmap_calls, 0);			/* kept */
	r = eleven(BLKIF_OP_READ, 0, 10);
	assert_int_equal(submit(f, &r), BLKIF_RSP_OKAY);
	calls_since(f, &last, &d);
	assert_int_equal(d.map_calls, 0);			/* all kept already */
	r = eleven(BLKIF_OP_WRITE, 0, 4);			/* refs 4..14: 4..9 are new */
	assert_int_equal(submit(f, &r), BLKIF_RSP_ERROR);	/* 9 is read-only: cannot be kept writable */
	calls_since(f, &last, &d);
	assert_int_equal(d.map_calls, 1);
	assert_int_equal(d.maps, 5);				/* 4..8 mapped and kept */
	assert_int_equal(d.unmap_calls, 0);
	r = eleven(BLKIF_OP_WRITE, 0, 15);			/* refs 15..25: 21..25 are new */
	assert_int_equal(submit(f, &r), BLKIF_RSP_OKAY);
	calls_since(f, &last, &d);
	assert_int_equal(d.map_calls, 1);
	assert_int_equal(d.maps, 5);
	xs_put(f, f->fpath, "state", "6");
	blkback_poll(f->b);
	calls_since(f, &last, &d);
	assert_int_equal(d.unmap_calls, 1);			/* the ring and 21 kept grants in one call */
	assert_int_equal(d.unmaps, 22);
	assert_int_equal(f->maps, f->unmaps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_batched_maps, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
