/*
 * test_netback_async.c - netback with an asynchronous grant copy (cmocka,
 * on nb_fake.c's open_nb_async): a batch's copy is started and answered
 * later, as pvd's control calls are, and netback_poll never waits for it.
 *
 *  - a frame goes through two copies (into the window, into the rx
 *    buffer), each answered later; a poll meanwhile starts nothing more;
 *    the sender is answered once its copy is done, the receiver once its;
 *  - the sender's domain going while its frame is being copied in: the
 *    frame goes nowhere; the receiver's going while the copy into its
 *    buffer is under way: nothing is answered into its gone ring (ASan).
 */
#include "nb_fake.h"

static void test_frame_waits_for_its_copies(void **state)
{
	struct netback *nb = open_nb_async();
	struct front a, b;
	const uint8_t *data = NULL;

	(void)state;
	connected_pair(nb, &a, &b);
	send_frame(&a, b.mac, 100, 0x5a);
	netback_poll(nb);
	assert_non_null(F.pending);		/* the copy into the window */
	assert_true(netback_busy(nb));
	netback_poll(nb);
	netback_poll(nb);
	assert_int_equal(F.starts, 1);		/* polls go on, nothing more started */
	assert_int_equal(tx_status(&a), -100);
	assert_int_equal(answer_copy(nb), 1);	/* in the window: a answered, the copy out started */
	assert_int_equal(F.starts, 2);
	assert_int_equal(tx_status(&a), XEN_NETIF_RSP_OKAY);
	assert_int_equal(rx_next(&b, NULL), -100);
	assert_int_equal(answer_copy(nb), 1);
	assert_false(netback_busy(nb));
	assert_int_equal(rx_next(&b, &data), 100);
	assert_int_equal(data[50], 0x5a);
	netback_close(nb);
}

/* a and b connected, a frame from a to b taken: its copy in under way */
static struct netback *frame_copying_in(struct front *a, struct front *b)
{
	struct netback *nb = open_nb_async();

	connected_pair(nb, a, b);
	send_frame(a, b->mac, 100, 1);
	netback_poll(nb);
	assert_non_null(F.pending);
	return nb;
}

static void test_sender_gone_while_copying_in(void **state)
{
	struct front a, b;
	struct netback *nb = frame_copying_in(&a, &b);

	(void)state;
	netback_domain_gone(nb, a.domid);
	netback_poll(nb);
	while (answer_copy(nb))
		;
	assert_int_equal(rx_next(&b, NULL), -100);
	netback_close(nb);
}

static void test_receiver_gone_while_copying_out(void **state)
{
	struct front a, b;
	struct netback *nb = frame_copying_in(&a, &b);

	(void)state;
	assert_int_equal(answer_copy(nb), 1);	/* the copy out is under way */
	assert_non_null(F.pending);
	netback_domain_gone(nb, b.domid);
	assert_int_equal(answer_copy(nb), 1);	/* nothing answered into b's gone ring */
	assert_false(netback_busy(nb));
	netback_close(nb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_waits_for_its_copies),
		cmocka_unit_test(test_sender_gone_while_copying_in),
		cmocka_unit_test(test_receiver_gone_while_copying_out),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
