/*
 * test_blkback_async.c - blkback with an asynchronous host (cmocka, on
 * the fixture of blk_fixture.c, setup_async): the host's grant map and
 * unmap of a request are started and answered later, as pvd's control
 * calls are, and blkback_poll never waits for them.
 *
 *  - a request waits for its grants' map, then for its I/O, then for
 *    the unmap of its own grants, and only then is it answered;
 *  - an indirect request goes through two maps (its page, its segments);
 *  - the domain going while a request's map is under way: the device
 *    stays until the request is over, nothing is answered, everything
 *    the late map mapped is unmapped (ASan sees no use after free);
 *  - the host closing with a call under way frees the waiting request;
 *  - requests finished out of order are answered in ring order (a later
 *    one waits for an earlier one), so that after a restart of the host
 *    the next process serves exactly the unanswered ones: each answered
 *    once, none lost;
 *  - an answer written into its slot but not published when the process
 *    died (rsp_prod not moved) is published from the journal by the next
 *    one, not taken as a request.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "blk_fixture.h"

static void push(struct fixture *f, struct blkif_request req)
{
	int notify;

	req.id = ++f->next_id;
	*RING_GET_REQUEST(&f->ring, f->ring.req_prod_pvt) = req;
	f->ring.req_prod_pvt++;
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&f->ring, notify);
	(void)notify;
}

static int answered(struct fixture *f)
{
	return f->ring.rsp_cons != f->ring.sring->rsp_prod;
}

/* Poll (the I/O workers may take a while) until cond or 5 s. */
static int poll_until(struct fixture *f, int (*cond)(struct fixture *))
{
	for (int i = 0; i < 500 && !cond(f); i++) {
		struct pollfd p = { .fd = blkback_event_fd(f->b), .events = POLLIN };
		blkback_poll(f->b);
		if (!cond(f))
			poll(&p, 1, 10);
	}
	return cond(f);
}

static int a_call_started(struct fixture *f)
{
	return f->ncalls > 0;
}

static int16_t take_answer(struct fixture *f, uint64_t id)
{
	struct blkif_response r = *RING_GET_RESPONSE(&f->ring, f->ring.rsp_cons);

	f->ring.rsp_cons++;
	assert_int_equal(r.id, id);
	return r.status;
}

static void test_request_waits_for_its_calls(void **state)
{
	struct fixture *f = *state;

	int maps0, unmaps0;

	front_connect(f);
	maps0 = f->maps;	/* the ring's */
	unmaps0 = f->unmaps;
	memset(f->pages + 4 * 4096, 0xab, 4096);
	push(f, rw(BLKIF_OP_WRITE, 8, 5, 0, 7));
	blkback_poll(f->b);
	assert_int_equal(f->ncalls, 1);		/* its map, started */
	assert_int_equal(f->call[0].unmap, 0);
	assert_int_equal(blkback_host_calls(f->b), 1);
	for (int i = 0; i < 5; i++)
		blkback_poll(f->b);		/* polls go on without waiting */
	assert_false(answered(f));
	assert_int_equal(f->maps, maps0);
	assert_int_equal(answer_calls(f), 1);	/* the map is answered: on to the I/O */
	assert_int_equal(blkback_host_calls(f->b), 0);
	assert_true(poll_until(f, a_call_started));
	assert_int_equal(f->call[0].unmap, 1);	/* the I/O is done: its grant's unmap */
	blkback_poll(f->b);
	assert_false(answered(f));		/* not answered before its grant is unmapped */
	assert_int_equal(answer_calls(f), 1);
	blkback_poll(f->b);
	assert_true(answered(f));
	assert_int_equal(take_answer(f, f->next_id), BLKIF_RSP_OKAY);
	assert_int_equal(f->maps, maps0 + 1);
	assert_int_equal(f->unmaps, unmaps0 + 1);
}

static void test_indirect_request_two_maps(void **state)
{
	struct fixture *f = *state;
	struct blkif_request_segment *seg = (struct blkif_request_segment *)(f->pages + 10 * 4096);
	int maps0, unmaps0;

	front_connect(f);
	maps0 = f->maps;
	unmaps0 = f->unmaps;
	for (int i = 0; i < 3; i++)
		seg[i] = (struct blkif_request_segment){ .gref = 12 + (uint32_t)i, .first_sect = 0, .last_sect = 7 };
	push(f, indirect(BLKIF_OP_READ, 0, 3, 11));
	blkback_poll(f->b);
	assert_int_equal(f->ncalls, 1);
	assert_int_equal(f->call[0].n, 1);	/* the indirect page */
	assert_int_equal(answer_calls(f), 1);
	assert_int_equal(f->ncalls, 1);		/* then its three segments */
	assert_int_equal(f->call[0].n, 3);
	assert_int_equal(answer_calls(f), 1);
	assert_true(poll_until(f, a_call_started));
	assert_int_equal(f->call[0].unmap, 1);
	assert_int_equal(f->call[0].n, 4);	/* page and segments in one unmap */
	assert_int_equal(answer_calls(f), 1);
	blkback_poll(f->b);
	assert_true(answered(f));
	assert_int_equal(take_answer(f, f->next_id), BLKIF_RSP_OKAY);
	assert_int_equal(f->maps - maps0, 4);
	assert_int_equal(f->unmaps - unmaps0, 4);
}

static void test_domain_gone_while_mapping(void **state)
{
	struct fixture *f = *state;
	struct blkback_stats st;
	int maps0;

	front_connect(f);
	maps0 = f->maps;
	push(f, rw(BLKIF_OP_READ, 0, 5, 0, 7));
	blkback_poll(f->b);
	assert_int_equal(f->ncalls, 1);
	blkback_domain_gone(f->b, DOMID);
	blkback_poll(f->b);
	assert_false(blkback_has_domain(f->b, DOMID));
	assert_int_equal(answer_calls(f), 1);	/* the late map: its grant is unmapped again */
	assert_int_equal(f->ncalls, 1);
	assert_int_equal(f->call[0].unmap, 1);
	assert_int_equal(answer_calls(f), 1);
	blkback_poll(f->b);			/* the device's slot goes now */
	assert_int_equal(blkback_stats(f->b, DOMID, "data", &st), -ENOENT);
	assert_false(answered(f));
	assert_int_equal(f->maps, maps0 + 1);
	assert_int_equal(f->unmaps, f->maps);	/* the ring's too, with the device */
}

static void test_close_with_a_call_under_way(void **state)
{
	struct fixture *f = *state;

	front_connect(f);
	push(f, rw(BLKIF_OP_READ, 0, 5, 0, 7));
	blkback_poll(f->b);
	assert_int_equal(blkback_host_calls(f->b), 1);
	/* the host cancels its call and closes (pvd's close): the waiting
	 * request is freed (ASan: no leak), the ring stays mapped for the
	 * next process */
	f->ncalls = 0;
	blkback_close(f->b);
	f->b = NULL;
}

/* The process dies (its host cancels what is under way), another takes over. */
static void restart(struct fixture *f)
{
	struct blkback_disk d = { .name = "data", .image = f->image, .size_bytes = SECTORS * 512ull };
	char err[300];

	f->ncalls = 0;
	blkback_close(f->b);
	assert_int_equal(blkback_open(&f->host, f->xs, 2, &f->b, err, sizeof(err)), 0);
	assert_int_equal(blkback_resume(f->b, DOMID, &d, err, sizeof(err)), 0);
}

static unsigned want_answers;

/* The host answers every call; want_answers are in the ring. */
static int enough_answered(struct fixture *f)
{
	if (f->ncalls)
		answer_calls(f);
	return f->ring.sring->rsp_prod - f->ring.rsp_cons >= want_answers;
}

static void test_answers_in_ring_order_across_a_restart(void **state)
{
	struct fixture *f = *state;
	uint8_t file[4096];

	front_connect(f);
	for (int i = 0; i < 3; i++) {
		memset(f->pages + (4 + i) * 4096, 0x10 + i, 4096);
		push(f, rw(BLKIF_OP_WRITE, (uint64_t)i * 8, 5 + (uint32_t)i, 0, 7));
	}
	blkback_poll(f->b);
	assert_int_equal(f->ncalls, 3);		/* three maps under way */
	answer_call(f, 2);			/* the third's and the second's come first */
	answer_call(f, 1);
	for (int i = 0; i < 500 && f->ncalls < 3; i++) {	/* their I/O, then their unmaps */
		struct pollfd p = { .fd = blkback_event_fd(f->b), .events = POLLIN };
		blkback_poll(f->b);
		poll(&p, 1, 10);
	}
	assert_int_equal(f->ncalls, 3);
	answer_call(f, 2);
	answer_call(f, 1);
	blkback_poll(f->b);
	assert_int_equal(pread(f->fd, file, 4096, 16 * 512), 4096);
	assert_int_equal(file[0], 0x12);	/* the third is written */
	assert_false(answered(f));		/* but waits for the first's answer */
	/* the process dies with the first request's map under way */
	restart(f);
	want_answers = 3;
	assert_true(poll_until(f, enough_answered));
	for (uint64_t id = 1; id <= 3; id++)	/* each once, in order */
		assert_int_equal(take_answer(f, id), BLKIF_RSP_OKAY);
	assert_false(answered(f));
	assert_int_equal(pread(f->fd, file, 4096, 0), 4096);
	assert_int_equal(file[0], 0x10);
}

static void test_journal_completes_a_cut_short_answer(void **state)
{
	struct fixture *f = *state;
	struct blkif_response *r;

	front_connect(f);
	push(f, rw(BLKIF_OP_READ, 0, 5, 0, 7));
	push(f, rw(BLKIF_OP_READ, 8, 6, 0, 7));
	want_answers = 2;
	assert_true(poll_until(f, enough_answered));
	/* as if the process had died between the second answer's write and
	 * its publication: its request's slot holds the answer */
	f->ring.sring->rsp_prod = 1;
	restart(f);
	assert_string_equal(f->last_log, "blkback: domain 5 disk data resumed: ring (1 page) at response 2, "
			    "0 request(s) to serve");
	assert_string_equal(f->journal_log, "blkback: domain 5 disk data: the answer to request 2 in slot 1, cut short "
			    "by the previous process, published from the journal");
	for (int i = 0; i < 5; i++)
		blkback_poll(f->b);
	assert_int_equal(f->ncalls, 0);		/* nothing taken as a request */
	assert_int_equal(f->ring.sring->rsp_prod, 2);
	assert_int_equal(take_answer(f, 1), BLKIF_RSP_OKAY);
	r = RING_GET_RESPONSE(&f->ring, f->ring.rsp_cons);
	assert_int_equal(r->operation, BLKIF_OP_READ);
	assert_int_equal(take_answer(f, 2), BLKIF_RSP_OKAY);
	/* and the ring goes on */
	push(f, rw(BLKIF_OP_READ, 16, 7, 0, 7));
	want_answers = 1;
	assert_true(poll_until(f, enough_answered));
	assert_int_equal(take_answer(f, 3), BLKIF_RSP_OKAY);
}

static int teardown_closed(void **state)
{
	fixture_free(*state);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_request_waits_for_its_calls, setup_async, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_request_two_maps, setup_async, teardown),
		cmocka_unit_test_setup_teardown(test_domain_gone_while_mapping, setup_async, teardown),
		cmocka_unit_test_setup_teardown(test_close_with_a_call_under_way, setup_async, teardown_closed),
		cmocka_unit_test_setup_teardown(test_answers_in_ring_order_across_a_restart, setup_async, teardown),
		cmocka_unit_test_setup_teardown(test_journal_completes_a_cut_short_answer, setup_async, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
