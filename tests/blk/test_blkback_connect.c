/*
 * test_blkback_connect.c - a blkback device's connect and disconnect
 * with an asynchronous host (cmocka, blk_fixture.c's setup_async_connect):
 * the ring's map and the port's bind are started and answered later, as
 * pvd's control calls are, and blkback_poll never waits for them.
 *
 *  - a connect: the ring mapped, then the port bound, Connected only
 *    after both answers;
 *  - a bind refused: the ring is unmapped again, the device is not
 *    connected (ring shut), a log line names domain, disk and cause;
 *  - the domain going, a detach or the frontend closing while the map
 *    or the bind is under way: the device ends cleanly, the ring mapped
 *    late is unmapped and a port bound late closed (nothing leaks; ASan
 *    sees no use after free);
 *  - a disconnect: the ring's unmap is started, nobody waits for it, and
 *    the device goes on (or goes) while it is in flight.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "blk_fixture.h"

static int connected(struct fixture *f)
{
	struct blkback_stats st;

	assert_int_equal(blkback_stats(f->b, DOMID, "data", &st), 0);
	return st.connected;
}

static void test_connect_waits_for_map_and_bind(void **state)
{
	struct fixture *f = *state;

	front_init(f);
	assert_int_equal(f->ncalls, 1);		/* the ring's map, started */
	assert_false(f->call[0].unmap || f->call[0].bind);
	assert_int_equal(blkback_host_calls(f->b), 1);
	for (int i = 0; i < 5; i++)
		blkback_poll(f->b);		/* polls go on, nothing started twice */
	assert_int_equal(f->ncalls, 1);
	assert_int_equal(xs_get(f, f->bpath, "state"), XenbusStateInitWait);
	assert_int_equal(answer_calls(f), 1);
	assert_int_equal(f->ncalls, 1);		/* then the port's bind */
	assert_true(f->call[0].bind);
	assert_int_equal(f->call[0].remote, 3);
	blkback_poll(f->b);
	assert_int_equal(xs_get(f, f->bpath, "state"), XenbusStateInitWait);
	assert_false(connected(f));
	assert_int_equal(answer_calls(f), 1);
	assert_int_equal(xs_get(f, f->bpath, "state"), XenbusStateConnected);
	assert_true(connected(f));
	assert_int_equal(blkback_host_calls(f->b), 0);
	assert_int_equal(f->binds, 1);
	assert_int_equal(f->maps, 1);
}

static void test_bind_refused(void **state)
{
	struct fixture *f = *state;

	front_init(f);
	f->bind_fail = 1;
	assert_int_equal(answer_calls(f), 1);	/* the map */
	assert_int_equal(answer_calls(f), 1);	/* the bind, refused */
	assert_int_equal(xs_get(f, f->bpath, "state"), XenbusStateClosing);
	assert_false(connected(f));
	assert_int_equal(f->shut_logs, 1);
	assert_non_null(strstr(f->last_log, "domain 5 disk data"));
	assert_non_null(strstr(f->last_log, "event-channel 3: bind refused"));
	assert_int_equal(f->ncalls, 1);		/* the ring's unmap, started */
	assert_true(f->call[0].unmap);
	assert_null(f->call[0].cookie);
	assert_int_equal(answer_calls(f), 1);
	assert_int_equal(f->unmaps, f->maps);
	assert_int_equal(blkback_host_calls(f->b), 0);
	for (int i = 0; i < 3; i++)
		blkback_poll(f->b);
	assert_int_equal(f->ncalls, 0);		/* a shut ring is not mapped again */
}

static void test_domain_gone_while_mapping_the_ring(void **state)
{
	struct fixture *f = *state;
	struct blkback_stats st;

	front_init(f);
	blkback_domain_gone(f->b, DOMID);
	blkback_poll(f->b);
	assert_false(blkback_has_domain(f->b, DOMID));
	assert_int_equal(answer_calls(f), 1);	/* the late map: unmapped again, no bind */
	assert_int_equal(f->ncalls, 1);
	assert_true(f->call[0].unmap);
	assert_int_equal(answer_calls(f), 1);
	assert_int_equal(f->unmaps, f->maps);
	assert_int_equal(f->binds, 0);
	assert_int_equal(blkback_stats(f->b, DOMID, "data", &st), -ENOENT);
	assert_int_equal(blkback_host_calls(f->b), 0);
}

static void test_domain_gone_while_binding(void **state)
{
	struct fixture *f = *state;

	front_init(f);
	assert_int_equal(answer_calls(f), 1);	/* mapped; the bind under way */
	blkback_domain_gone(f->b, DOMID);
	blkback_poll(f->b);
	assert_int_equal(answer_calls(f), 1);	/* the late bind: its port closed, the ring unmapped */
	assert_int_equal(f->binds, 1);
	assert_int_equal(f->closes, 1);
	assert_int_equal(answer_calls(f), 1);
	assert_int_equal(f->unmaps, f->maps);
	assert_int_equal(blkback_host_calls(f->b), 0);
}

static void test_detach_while_connecting(void **state)
{
	struct fixture *f = *state;
	char err[200];

	front_init(f);
	assert_int_equal(blkback_detach(f->b, DOMID, "data", 0, err, sizeof(err)), 1);	/* pending */
	assert_int_equal(blkback_device_state(f->b, DOMID, "data", NULL, 0), BLKBACK_DEV_DETACHING);
	assert_int_equal(answer_calls(f), 1);	/* the late map */
	assert_int_equal(blkback_device_state(f->b, DOMID, "data", NULL, 0), BLKBACK_DEV_NONE);
	assert_int_equal(xs_get(f, f->bpath, "state"), -1);	/* its directories went */
	assert_int_equal(answer_calls(f), 1);
	assert_int_equal(f->unmaps, f->maps);
	assert_int_equal(f->binds, 0);
}

static void test_frontend_closes_while_binding(void **state)
{
	struct fixture *f = *state;

	front_init(f);
	assert_int_equal(answer_calls(f), 1);
	xs_put(f, f->fpath, "state", "6");	/* Closed */
	blkback_poll(f->b);
	assert_int_equal(answer_calls(f), 1);	/* the bind: not wanted any more */
	assert_int_equal(f->closes, 1);
	assert_int_equal(xs_get(f, f->bpath, "state"), XenbusStateClosed);
	assert_int_equal(answer_calls(f), 1);
	assert_int_equal(f->unmaps, f->maps);
	/* the frontend starts again: a new connect */
	xs_put(f, f->fpath, "state", "1");
	blkback_poll(f->b);
	assert_int_equal(xs_get(f, f->bpath, "state"), XenbusStateInitWait);
	front_init(f);
	assert_int_equal(answer_calls(f), 1);
	assert_int_equal(answer_calls(f), 1);
	assert_true(connected(f));
}

static void test_disconnect_with_unmap_in_flight(void **state)
{
	struct fixture *f = *state;

	front_init(f);
	answer_calls(f);
	answer_calls(f);
	assert_true(connected(f));
	xs_put(f, f->fpath, "state", "5");	/* Closing */
	blkback_poll(f->b);
	assert_int_equal(xs_get(f, f->bpath, "state"), XenbusStateClosed);
	assert_false(connected(f));
	assert_int_equal(f->closes, 1);
	assert_int_equal(f->ncalls, 1);		/* the ring's unmap, in flight */
	assert_true(f->call[0].unmap);
	assert_null(f->call[0].cookie);
	assert_int_equal(f->unmaps, 0);
	/* the device goes while it is in flight: its slot owes it nothing */
	blkback_domain_gone(f->b, DOMID);
	blkback_poll(f->b);
	assert_false(blkback_has_domain(f->b, DOMID));
	assert_int_equal(answer_calls(f), 1);
	assert_int_equal(f->unmaps, f->maps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_connect_waits_for_map_and_bind, setup_async_connect, teardown),
		cmocka_unit_test_setup_teardown(test_bind_refused, setup_async_connect, teardown),
		cmocka_unit_test_setup_teardown(test_domain_gone_while_mapping_the_ring, setup_async_connect, teardown),
		cmocka_unit_test_setup_teardown(test_domain_gone_while_binding, setup_async_connect, teardown),
		cmocka_unit_test_setup_teardown(test_detach_while_connecting, setup_async_connect, teardown),
		cmocka_unit_test_setup_teardown(test_frontend_closes_while_binding, setup_async_connect, teardown),
		cmocka_unit_test_setup_teardown(test_disconnect_with_unmap_in_flight, setup_async_connect, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
