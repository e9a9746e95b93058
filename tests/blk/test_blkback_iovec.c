/*
 * test_blkback_iovec.c - a request's segments as iovecs (cmocka):
 * blk_io_iovecs merges segments whose bytes follow each other in memory
 * (adjacent pages, partial first and last pages, two segments of one
 * page) and keeps the others apart (a gap, a partial page in the middle,
 * pages out of order); and on the fixture of blk_fixture.c (whose grants
 * are adjacent pages: ref r is page r-1), writes and reads through blkback
 * over such segments, direct and indirect, put exactly the bytes of each
 * segment, in segment order, in the image and back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "blk_fixture.h"
#include "blkback_internal.h"

#define PG 4096u

static struct blkif_request_segment sg(uint8_t first, uint8_t last)
{
	return (struct blkif_request_segment){ .gref = 1, .first_sect = first, .last_sect = last };
}

/* blk_io_iovecs alone, on addresses of a plain buffer. */
static void test_merge_rules(void **state)
{
	static uint8_t mem[16 * PG];
	struct blkif_request_segment seg[8];
	void *page[8];
	struct iovec iov[8];
	unsigned n;

	(void)state;
	/* four whole adjacent pages: one entry */
	for (unsigned i = 0; i < 4; i++) {
		page[i] = mem + i * PG;
		seg[i] = sg(0, 7);
	}
	n = blk_io_iovecs(iov, page, seg, 4);
	assert_int_equal(n, 1);
	assert_ptr_equal(iov[0].iov_base, mem);
	assert_int_equal(iov[0].iov_len, 4 * PG);

	/* partial first and last pages (sectors 3..7, whole, 0..2): one entry */
	seg[0] = sg(3, 7);
	seg[3] = sg(0, 2);
	n = blk_io_iovecs(iov, page, seg, 4);
	assert_int_equal(n, 1);
	assert_ptr_equal(iov[0].iov_base, mem + 3 * 512);
	assert_int_equal(iov[0].iov_len, (5 + 8 + 8 + 3) * 512);

	/* a partial page in the middle (sectors 0..5 of page 1) leaves a gap */
	seg[0] = sg(0, 7);
	seg[1] = sg(0, 5);
	seg[3] = sg(0, 7);
	n = blk_io_iovecs(iov, page, seg, 4);
	assert_int_equal(n, 2);
	assert_ptr_equal(iov[0].iov_base, mem);
	assert_int_equal(iov[0].iov_len, PG + 6 * 512);
	assert_ptr_equal(iov[1].iov_base, mem + 2 * PG);
	assert_int_equal(iov[1].iov_len, 2 * PG);

	/* a segment starting past sector 0 after a whole page leaves a gap too */
	seg[1] = sg(1, 7);
	n = blk_io_iovecs(iov, page, seg, 4);
	assert_int_equal(n, 2);
	assert_int_equal(iov[0].iov_len, PG);
	assert_ptr_equal(iov[1].iov_base, mem + PG + 512);
	assert_int_equal(iov[1].iov_len, 7 * 512 + 2 * PG);

	/* two segments of one page, sectors 0..3 then 4..7: one entry */
	page[0] = page[1] = mem + 5 * PG;
	seg[0] = sg(0, 3);
	seg[1] = sg(4, 7);
	n = blk_io_iovecs(iov, page, seg, 2);
	assert_int_equal(n, 1);
	assert_ptr_equal(iov[0].iov_base, mem + 5 * PG);
	assert_int_equal(iov[0].iov_len, PG);
	/* ... but not the same sectors twice, nor backwards */
	seg[1] = sg(0, 3);
	assert_int_equal(blk_io_iovecs(iov, page, seg, 2), 2);
	seg[0] = sg(4, 7);
	assert_int_equal(blk_io_iovecs(iov, page, seg, 2), 2);

	/* crossing non-contiguous pages: 8, 9 | 2, 3 | 7 (before 8: apart) | 8 */
	page[0] = mem + 8 * PG;
	page[1] = mem + 9 * PG;
	page[2] = mem + 2 * PG;
	page[3] = mem + 3 * PG;
	page[4] = mem + 7 * PG;
	page[5] = mem + 8 * PG;
	for (unsigned i = 0; i < 6; i++)
		seg[i] = sg(0, 7);
	n = blk_io_iovecs(iov, page, seg, 6);
	assert_int_equal(n, 3);
	assert_ptr_equal(iov[0].iov_base, mem + 8 * PG);
	assert_int_equal(iov[0].iov_len, 2 * PG);
	assert_ptr_equal(iov[1].iov_base, mem + 2 * PG);
	assert_int_equal(iov[1].iov_len, 2 * PG);
	assert_ptr_equal(iov[2].iov_base, mem + 7 * PG);
	assert_int_equal(iov[2].iov_len, 2 * PG);	/* 7 then 8: adjacent again */

	/* one segment of one sector */
	page[0] = mem;
	seg[0] = sg(7, 7);
	n = blk_io_iovecs(iov, page, seg, 1);
	assert_int_equal(n, 1);
	assert_ptr_equal(iov[0].iov_base, mem + 7 * 512);
	assert_int_equal(iov[0].iov_len, 512);
}

/* The segments used end to end: refs 20, 21, 22 (adjacent; sectors 3..7,
 * whole, 0..2), 30, 31 (adjacent to each other, not to 22), 25 sectors
 * 2..5 (before them), 26 sectors 0..5 then 27 whole (a gap between), and
 * 28 sectors 1..7 after 27 (a gap at its start). */
static const struct { uint32_t ref; uint8_t first, last; } shape[] = {
	{ 20, 3, 7 }, { 21, 0, 7 }, { 22, 0, 2 }, { 30, 0, 7 }, { 31, 0, 7 },
	{ 25, 2, 5 }, { 26, 0, 5 }, { 27, 0, 7 }, { 28, 1, 7 },
};
#define NSHAPE (sizeof(shape) / sizeof(shape[0]))

static unsigned shape_sectors(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < NSHAPE; i++)
		n += shape[i].last - shape[i].first + 1u;
	return n;
}

/* Each sector of each segment a pattern of its own; every other byte of
 * the pages 0xee. */
static void fill_shape(struct fixture *f, uint8_t seed)
{
	for (unsigned i = 0; i < NSHAPE; i++) {
		uint8_t *p = f->pages + (size_t)(shape[i].ref - 1) * PG;
		memset(p, 0xee, PG);
		for (unsigned s = shape[i].first; s <= shape[i].last; s++)
			memset(p + s * 512, (int)(uint8_t)(seed + i * 8 + s), 512);
	}
}

/* The image from sector `at` holds the segments' bytes in segment order. */
static void check_image(struct fixture *f, uint64_t at, uint8_t seed)
{
	uint8_t buf[512], want[512];
	uint64_t off = at * 512;

	for (unsigned i = 0; i < NSHAPE; i++)
		for (unsigned s = shape[i].first; s <= shape[i].last; s++, off += 512) {
			assert_int_equal(pread(f->fd, buf, 512, (off_t)off), 512);
			memset(want, (int)(uint8_t)(seed + i * 8 + s), 512);
			assert_memory_equal(buf, want, 512);
		}
}

/* After a read: the segments' sectors hold their patterns again, the
 * bytes outside them are untouched (0xee). */
static void check_pages(struct fixture *f, uint8_t seed)
{
	for (unsigned i = 0; i < NSHAPE; i++) {
		const uint8_t *p = f->pages + (size_t)(shape[i].ref - 1) * PG;
		for (unsigned s = 0; s < 8; s++) {
			int in = s >= shape[i].first && s <= shape[i].last;
			uint8_t want = in ? (uint8_t)(seed + i * 8 + s) : 0xee;
			for (unsigned k = 0; k < 512; k++)
				if (p[s * 512 + k] != want)
					fail_msg("segment %u (ref %u) sector %u byte %u: %#x, not %#x", i, shape[i].ref, s,
						 k, p[s * 512 + k], want);
		}
	}
}

/* Wipe the segments' sectors (0xee everywhere) before a read. */
static void wipe_shape(struct fixture *f)
{
	for (unsigned i = 0; i < NSHAPE; i++)
		memset(f->pages + (size_t)(shape[i].ref - 1) * PG, 0xee, PG);
}

static void direct_shape(struct blkif_request *r, uint8_t op, uint64_t sector)
{
	*r = (struct blkif_request){ .operation = op, .nr_segments = NSHAPE, .sector_number = sector };
	for (unsigned i = 0; i < NSHAPE; i++)
		r->seg[i] = (struct blkif_request_segment){ .gref = shape[i].ref, .first_sect = shape[i].first,
							    .last_sect = shape[i].last };
}

static void indirect_shape(struct fixture *f, struct blkif_request *r, uint8_t op, uint64_t sector)
{
	struct blkif_request_segment *seg = (struct blkif_request_segment *)(f->pages + 10 * PG);

	for (unsigned i = 0; i < NSHAPE; i++)
		seg[i] = (struct blkif_request_segment){ .gref = shape[i].ref, .first_sect = shape[i].first,
							 .last_sect = shape[i].last };
	*r = indirect(op, sector, NSHAPE, 11);
}

/* Writes and reads over merged and separate segments, direct and
 * indirect, without and with persistent grants: the image and the pages
 * hold exactly each segment's bytes. */
static void test_merged_segments_end_to_end(void **state)
{
	struct fixture *f = *state;
	struct blkif_request r;

	front_connect(f);
	for (int round = 0; round < 2; round++) {
		uint8_t seed = (uint8_t)(round * 100 + 1);
		fill_shape(f, seed);
		direct_shape(&r, BLKIF_OP_WRITE, 100);
		assert_int_equal(submit(f, &r), BLKIF_RSP_OKAY);
		check_image(f, 100, seed);
		wipe_shape(f);
		direct_shape(&r, BLKIF_OP_READ, 100);
		assert_int_equal(submit(f, &r), BLKIF_RSP_OKAY);
		check_pages(f, seed);

		seed = (uint8_t)(seed + 50);
		fill_shape(f, seed);
		indirect_shape(f, &r, BLKIF_OP_WRITE, 300);
		assert_int_equal(submit(f, &r), BLKIF_RSP_OKAY);
		check_image(f, 300, seed);
		/* the sectors around it are untouched */
		{
			uint8_t buf[512], zero[512] = { 0 };
			assert_int_equal(pread(f->fd, buf, 512, 299 * 512), 512);
			assert_memory_equal(buf, zero, 512);
			assert_int_equal(pread(f->fd, buf, 512, (off_t)(300 + shape_sectors()) * 512), 512);
			assert_memory_equal(buf, zero, 512);
		}
		wipe_shape(f);
		indirect_shape(f, &r, BLKIF_OP_READ, 300);
		assert_int_equal(submit(f, &r), BLKIF_RSP_OKAY);
		check_pages(f, seed);
		if (!round)
			reconnect_persistent(f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_rules),
		cmocka_unit_test_setup_teardown(test_merged_segments_end_to_end, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
