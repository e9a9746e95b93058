/*
 * test_netback_connect.c - a vif's connect and disconnect with an
 * asynchronous host (cmocka, nb_fake.c's open_nb_async_connect): the
 * rings' map and the port's bind are started and answered later, as
 * pvd's control calls are, and netback_poll never waits for them.
 *
 *  - a connect: both rings mapped, then the port bound, Connected only
 *    after both answers;
 *  - a bind refused: the rings are unmapped again, the vif is shut with a
 *    log line naming domain, vif and cause;
 *  - the domain going, a detach or the frontend closing while the map or
 *    the bind is under way: the late rings are unmapped, a late port
 *    closed, nothing is left (ASan: no use of a freed record);
 *  - a disconnect: its unmap and unbind are in flight while the vif goes.
 */
#include "nb_fake.h"

/* A netback with an asynchronous connect and vif 0 of domain 1
 * connecting: its frontend Connected, the rings' map started. */
static struct netback *connecting(struct front *f)
{
	struct netback *nb = open_nb_async_connect();

	add_vif(nb, f, 1, 1, "internal");
	front_init(nb, f);
	return nb;
}

static int connected(struct netback *nb)
{
	struct netback_vif_stats st[4];

	return netback_stats(nb, st, 4) == 1 && st[0].connected;
}

static void test_connect_waits_for_map_and_bind(void **state)
{
	struct front f;
	struct netback *nb = connecting(&f);

	(void)state;
	assert_int_equal(F.ncalls, 1);
	assert_int_equal(F.call[0].kind, FX_MAP);
	assert_int_equal(F.call[0].n, 2);		/* both rings in one call */
	assert_int_equal(netback_connects(nb), 1);
	for (int i = 0; i < 5; i++)
		netback_poll(nb);			/* nothing waits, nothing started twice */
	assert_int_equal(F.ncalls, 1);
	assert_string_equal(be_key(1, "state"), "2");
	assert_int_equal(answer_calls(nb), 1);
	assert_int_equal(F.ncalls, 1);
	assert_int_equal(F.call[0].kind, FX_BIND);
	assert_int_equal(F.call[0].remote, 7);
	netback_poll(nb);
	assert_string_equal(be_key(1, "state"), "2");
	assert_false(connected(nb));
	assert_int_equal(answer_calls(nb), 1);
	assert_string_equal(be_key(1, "state"), "4");
	assert_true(connected(nb));
	assert_int_equal(netback_connects(nb), 0);
	assert_int_equal(F.maps, 2);
	assert_int_equal(F.binds, 1);
	netback_close(nb);
}

static void test_bind_refused(void **state)
{
	struct front f;
	struct netback *nb = connecting(&f);

	(void)state;
	F.bind_fail = 1;
	answer_calls(nb);				/* the map */
	answer_calls(nb);				/* the bind, refused */
	assert_false(connected(nb));
	assert_string_equal(be_key(1, "state"), "5");	/* Closing: shut */
	assert_true(logged("domain 1 vif 0: shut: event-channel cannot be bound"));
	answer_calls(nb);				/* the rings' unmap */
	assert_int_equal(F.unmaps, F.maps);
	assert_int_equal(netback_connects(nb), 0);
	netback_close(nb);
}

static void test_domain_gone_while_mapping(void **state)
{
	struct front f;
	struct netback *nb = connecting(&f);

	(void)state;
	netback_domain_gone(nb, 1);
	assert_int_equal(netback_vif_state(nb, 1, 0), NETBACK_VIF_NONE);
	answer_calls(nb);				/* the late map: unmapped again, no bind */
	assert_int_equal(F.ncalls, 1);
	assert_int_equal(F.call[0].kind, FX_UNMAP);
	answer_calls(nb);
	assert_int_equal(F.maps, 2);
	assert_int_equal(F.unmaps, 2);
	assert_int_equal(F.binds, 0);
	assert_int_equal(netback_connects(nb), 0);
	netback_close(nb);
}

static void test_slot_reused_while_binding(void **state)
{
	struct front f, g;
	struct netback *nb = connecting(&f);

	(void)state;
	answer_calls(nb);				/* mapped; the bind under way */
	netback_domain_gone(nb, 1);
	add_vif(nb, &g, 2, 2, "internal");		/* the same slot, another vif */
	answer_calls(nb);				/* the late bind: closed, the rings unmapped */
	assert_int_equal(F.binds, 1);
	answer_calls(nb);
	assert_int_equal(F.unbinds, 1);
	assert_int_equal(F.unmaps, 2);
	assert_string_equal(be_key(2, "state"), "2");	/* the new vif untouched */
	assert_int_equal(netback_connects(nb), 0);
	netback_close(nb);
}

static void test_detach_while_connecting(void **state)
{
	struct front f;
	struct netback *nb = connecting(&f);
	char err[200];

	(void)state;
	assert_int_equal(netback_vif_detach(nb, 1, 0, 0, err, sizeof(err)), 0);	/* not connected: at once */
	assert_int_equal(netback_vif_state(nb, 1, 0), NETBACK_VIF_NONE);
	answer_calls(nb);
	answer_calls(nb);
	assert_int_equal(F.unmaps, F.maps);
	assert_int_equal(F.binds, 0);
	netback_close(nb);
}

static void test_frontend_closes_while_binding(void **state)
{
	struct front f;
	struct netback *nb = connecting(&f);

	(void)state;
	answer_calls(nb);
	fe_key(1, "state", "6");			/* Closed */
	netback_poll(nb);
	assert_string_equal(be_key(1, "state"), "6");
	answer_calls(nb);				/* the late bind: not wanted */
	answer_calls(nb);
	assert_int_equal(F.unbinds, 1);
	assert_int_equal(F.unmaps, 2);
	assert_false(connected(nb));
	/* the frontend starts again: a new connect */
	fe_key(1, "state", "1");
	netback_poll(nb);
	assert_string_equal(be_key(1, "state"), "2");
	front_init(nb, &f);
	answer_calls(nb);
	answer_calls(nb);
	assert_true(connected(nb));
	netback_close(nb);
}

static void test_disconnect_with_calls_in_flight(void **state)
{
	struct front f;
	struct netback *nb = connecting(&f);

	(void)state;
	answer_calls(nb);
	answer_calls(nb);
	assert_true(connected(nb));
	fe_key(1, "state", "5");			/* Closing */
	netback_poll(nb);
	assert_string_equal(be_key(1, "state"), "6");
	assert_int_equal(F.ncalls, 2);			/* unbind and unmap, in flight */
	assert_int_equal(F.unmaps, 0);
	netback_domain_gone(nb, 1);			/* the vif goes meanwhile */
	assert_int_equal(answer_calls(nb), 2);
	assert_int_equal(F.unmaps, 2);
	assert_int_equal(F.unbinds, 1);
	netback_close(nb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_waits_for_map_and_bind),
		cmocka_unit_test(test_bind_refused),
		cmocka_unit_test(test_domain_gone_while_mapping),
		cmocka_unit_test(test_slot_reused_while_binding),
		cmocka_unit_test(test_detach_while_connecting),
		cmocka_unit_test(test_frontend_closes_while_binding),
		cmocka_unit_test(test_disconnect_with_calls_in_flight),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
