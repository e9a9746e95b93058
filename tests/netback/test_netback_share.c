/*
 * test_netback_share.c - weighted shares of a network's capacity
 * (dom0/netback_share.c) against the fake host (nb_fake.c): three senders
 * on one network flood it for 11 simulated seconds (10 ms steps, each
 * tx ring kept 32 deep); what each sent in seconds 1-11 is read from
 * netback_stats.
 */
#include "nb_fake.h"

#define NET "internal-s"

struct sender {
	uint32_t weight;
	uint64_t rate;
	int active;
};

static void add_sender(struct netback *nb, struct front *f, uint32_t domid, const struct sender *s)
{
	struct netback_vif_config c = { .domid = domid, .devid = 0, .mac = { 0x00, 0x16, 0x3e, 0, 1, (uint8_t)domid },
					.network = NET, .rate = s->rate, .weight = s->weight };
	char err[200];
	uint8_t *p;

	memset(f, 0, sizeof(*f));
	f->domid = domid;
	memcpy(f->mac, c.mac, 6);
	assert_int_equal(netback_vif_add(nb, &c, err, sizeof(err)), 0);
	connect_front(nb, f, 0);
	p = grant(domid, 300);
	memset(p, 0x42, 1000);
	memset(p, 0xff, 6);
	memcpy(p + 6, f->mac, 6);
}

static uint64_t sent(struct netback *nb, uint32_t domid)
{
	struct netback_vif_stats st[8];
	size_t n = netback_stats(nb, st, 8);

	for (size_t i = 0; i < n; i++)
		if (st[i].domid == domid)
			return st[i].tx_bytes;
	fail_msg("no vif of domain %u", domid);
	return 0;
}

/* bytes per second each sender sent in seconds 1-11 into got[] */
static void flood(uint64_t capacity, const struct sender s[3], uint64_t got[3])
{
	struct netback *nb = open_nb();
	struct front f[3];
	uint64_t at1[3] = { 0 };
	char err[200];

	assert_int_equal(netback_set_capacity(nb, NET, capacity, err, sizeof(err)), 0);
	for (int i = 0; i < 3; i++)
		add_sender(nb, &f[i], (uint32_t)i + 1, &s[i]);
	for (int step = 0; step < 1100; step++) {
		for (int i = 0; i < 3; i++)
			while (s[i].active && f[i].tx_prod - f[i].tx_rsp < 32)
				raw_tx(&f[i], (struct netif_tx_request){ .gref = 300, .id = (uint16_t)(f[i].tx_prod & 0xff),
									 .size = 1000 });
		F.now += 10;
		netback_poll(nb);
		for (int i = 0; i < 3; i++)
			while (tx_status(&f[i]) != -100)
				;
		if (step == 99)
			for (int i = 0; i < 3; i++)
				at1[i] = sent(nb, (uint32_t)i + 1);
	}
	for (int i = 0; i < 3; i++)
		got[i] = (sent(nb, (uint32_t)i + 1) - at1[i]) / 10;
	netback_close(nb);
}

static void test_weights_share_the_capacity(void **state)
{
	const struct sender s[3] = { { 1, 0, 1 }, { 2, 0, 1 }, { 4, 0, 1 } };
	uint64_t got[3], total;

	(void)state;
	flood(700000, s, got);
	total = got[0] + got[1] + got[2];
	assert_in_range(total, 686000, 714000);			/* the capacity within 2% */
	assert_in_range(got[0] * 1000 / total, 133, 153);	/* 1/7 within a point */
	assert_in_range(got[1] * 1000 / total, 276, 296);	/* 2/7 */
	assert_in_range(got[2] * 1000 / total, 561, 581);	/* 4/7 */
}

static void test_caps_under_the_capacity(void **state)
{
	const struct sender s[3] = { { 256, 50000, 1 }, { 256, 100000, 1 }, { 256, 150000, 1 } };
	uint64_t got[3];

	(void)state;
	flood(700000, s, got);
	assert_in_range(got[0], 48500, 51500);
	assert_in_range(got[1], 97000, 103000);
	assert_in_range(got[2], 145500, 154500);
}

/* work-conserving: what a capped or idle sender leaves goes to the others */
static void test_work_conserving(void **state)
{
	const struct sender capped[3] = { { 1, 0, 1 }, { 1, 0, 1 }, { 1, 50000, 1 } };
	const struct sender alone[3] = { { 1, 0, 1 }, { 2, 0, 0 }, { 4, 0, 0 } };
	uint64_t got[3];

	(void)state;
	flood(700000, capped, got);
	assert_in_range(got[2], 48500, 51500);
	assert_in_range(got[0], 315000, 335000);		/* (700000 - 50000) / 2 */
	assert_in_range(got[1], 315000, 335000);
	flood(700000, alone, got);
	assert_in_range(got[0], 686000, 714000);
	assert_int_equal(got[1] + got[2], 0);
}

/* A Linux bridge's uplink: a vif with a TAP device on br-test, its
 * frames read off the other end; it alone gets the bridge's capacity. */
static void test_bridge_uplink(void **state)
{
	struct netback *nb = open_nb();
	struct netback_vif_config c = { .domid = 5, .devid = 0, .mac = { 0x00, 0x16, 0x3e, 0, 1, 5 },
					.network = "br-test", .weight = 3 };
	struct front f = { .domid = 5, .mac = { 0x00, 0x16, 0x3e, 0, 1, 5 } };
	uint64_t at1 = 0, taps = 0;
	uint8_t frame[2048], *p;
	char err[200];

	(void)state;
	assert_int_equal(netback_set_capacity(nb, "br-test", 300000, err, sizeof(err)), 0);
	assert_int_equal(netback_vif_add(nb, &c, err, sizeof(err)), 0);
	connect_front(nb, &f, 0);
	p = grant(5, 300);
	memset(p, 0x42, 1000);
	memset(p, 0xff, 6);
	memcpy(p + 6, f.mac, 6);
	for (int step = 0; step < 1100; step++) {
		while (f.tx_prod - f.tx_rsp < 32)
			raw_tx(&f, (struct netif_tx_request){ .gref = 300, .id = (uint16_t)(f.tx_prod & 0xff),
							      .size = 1000 });
		F.now += 10;
		netback_poll(nb);
		while (tx_status(&f) != -100)
			;
		while (recv(F.tap_peer, frame, sizeof(frame), MSG_DONTWAIT) == 1000)
			taps += step >= 100;
		if (step == 99)
			at1 = sent(nb, 5);
	}
	assert_in_range((sent(nb, 5) - at1) / 10, 294000, 306000);
	assert_in_range(taps * 100, 294000, 306000);		/* frames of 1000 bytes out, per second */
	netback_close(nb);
	close(F.tap_peer);
}

static void test_capacity_errors(void **state)
{
	struct netback *nb = open_nb();
	char err[200], name[32];

	(void)state;
	assert_int_equal(netback_set_capacity(nb, NET, 1000, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "capacity of network \"internal-s\": 1000 bytes/s is less than one frame"));
	assert_int_equal(netback_set_capacity(nb, "", 100000, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "network name \"\" is empty"));
	for (int i = 0; i < 16; i++) {
		snprintf(name, sizeof(name), "internal-%d", i);
		assert_int_equal(netback_set_capacity(nb, name, 100000, err, sizeof(err)), 0);
	}
	assert_int_equal(netback_set_capacity(nb, "br-17", 100000, err, sizeof(err)), -ENOSPC);
	assert_non_null(strstr(err, "at most 16 networks"));
	/* 0 removes a capacity, which makes room again */
	assert_int_equal(netback_set_capacity(nb, "internal-3", 0, err, sizeof(err)), 0);
	assert_int_equal(netback_set_capacity(nb, "br-17", 100000, err, sizeof(err)), 0);
	netback_close(nb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_weights_share_the_capacity),
		cmocka_unit_test(test_caps_under_the_capacity),
		cmocka_unit_test(test_work_conserving),
		cmocka_unit_test(test_bridge_uplink),
		cmocka_unit_test(test_capacity_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
