/*
 * test_netback.c - netback (dom0/netback*.c) against a fake host: an
 * in-memory xenstore, guest pages named by (domid, gref), a grant copy
 * done in plain memory the way the hypervisor does it (a DOMID_SELF side
 * names a frame of the window), and the test acting as each frontend.
 */

#include "nb_fake.h"

static void test_handshake_keys(void **state)
{
	struct netback *nb = open_nb();
	struct front a;

	(void)state;
	add_vif(nb, &a, 5, 1, "internal");
	assert_string_equal(be_key(5, "state"), "2");
	assert_string_equal(be_key(5, "feature-rx-copy"), "1");
	assert_string_equal(be_key(5, "mac"), "00:16:3e:00:00:01");
	assert_string_equal(be_key(5, "frontend"), "/local/domain/5/device/vif/0");
	assert_int_equal(find_key("/local/domain/5/device/vif/0/backend") >= 0, 1);
	/* request-rx-copy missing: the vif is shut, not served */
	grant(5, 1);
	grant(5, 2);
	fe_key(5, "tx-ring-ref", "1");
	fe_key(5, "rx-ring-ref", "2");
	fe_key(5, "event-channel", "7");
	fe_key(5, "state", "3");
	netback_poll(nb);
	assert_string_equal(be_key(5, "state"), "5");
	assert_true(logged("domain 5 vif 0: shut: request-rx-copy is not 1"));
	netback_domain_gone(nb, 5);
	assert_int_equal(find_key("/local/domain/0/backend/vif/5/0/state"), -1);
	netback_close(nb);
}

static void test_two_guests_and_learning(void **state)
{
	struct netback *nb = open_nb();
	struct front a, b, c;
	const uint8_t *data = NULL;

	(void)state;
	add_vif(nb, &a, 1, 1, "internal");
	add_vif(nb, &b, 2, 2, "internal");
	add_vif(nb, &c, 3, 3, "internal");
	connect_front(nb, &a, 8);
	connect_front(nb, &b, 8);
	connect_front(nb, &c, 8);
	/* a broadcast from a reaches b and c, not a */
	send_frame(&a, NULL, 60, 0x11);
	netback_poll(nb);
	assert_int_equal(tx_status(&a), XEN_NETIF_RSP_OKAY);
	assert_int_equal(rx_next(&b, &data), 60);
	assert_memory_equal(data + 6, a.mac, 6);
	assert_int_equal(data[20], 0x11);
	assert_int_equal(rx_next(&c, NULL), 60);
	assert_int_equal(rx_next(&a, NULL), -100);
	/* b answers a: a is learnt, so c does not get it */
	send_frame(&b, a.mac, 1514, 0x22);
	netback_poll(nb);
	assert_int_equal(tx_status(&b), XEN_NETIF_RSP_OKAY);
	assert_int_equal(rx_next(&a, &data), 1514);
	assert_int_equal(data[1513], 0x22);
	assert_int_equal(rx_next(&c, NULL), -100);
	/* after the aging time a is unknown again: flooded */
	F.now += 400000;
	send_frame(&b, a.mac, 100, 0x33);
	netback_poll(nb);
	assert_int_equal(rx_next(&a, NULL), 100);
	assert_int_equal(rx_next(&c, NULL), 100);
	assert_true(F.notifies > 0);
	for (uint32_t d = 1; d <= 3; d++)
		netback_domain_gone(nb, d);
	assert_int_equal(F.unbinds, 3);
	assert_int_equal(F.unmaps, 6);
	/* each vif's two rings were mapped in one host call and unmapped in one */
	assert_int_equal(F.maps, 6);
	assert_int_equal(F.map_calls, 3);
	assert_int_equal(F.unmap_calls, 3);
	netback_close(nb);
}

static void test_networks_isolated(void **state)
{
	struct netback *nb = open_nb();
	struct front a, b;

	(void)state;
	add_vif(nb, &a, 1, 1, "internal");
	add_vif(nb, &b, 2, 2, "internal-lab");
	connect_front(nb, &a, 4);
	connect_front(nb, &b, 4);
	send_frame(&a, NULL, 60, 1);
	send_frame(&a, b.mac, 60, 1);
	netback_poll(nb);
	assert_int_equal(rx_next(&b, NULL), -100);
	netback_close(nb);
}

static void test_spoofed_source_dropped(void **state)
{
	struct netback *nb = open_nb();
	struct front a, b;

	(void)state;
	connected_pair(nb, &a, &b);
	a.mac[5] = 2;			/* pretends to be b */
	send_frame(&a, NULL, 60, 1);
	netback_poll(nb);
	assert_int_equal(rx_next(&b, NULL), -100);
	assert_true(logged("domain 1 vif 0: tx frame dropped: source MAC 00:16:3e:00:00:02 is not the vif's"));
	netback_close(nb);
}

/* A frame of len bytes from f with ethertype type, its L3 bytes from l3. */
static void send_l3(struct front *f, uint16_t type, const uint8_t *l3, size_t l3len)
{
	uint32_t gref = f->next_gref++;
	uint8_t *p = grant(f->domid, gref);
	struct netif_tx_request *r = &f->tx->ring[f->tx_prod % NETIF_TX_RING_SIZE].req.req;
	uint16_t len = (uint16_t)(14 + l3len < 60 ? 60 : 14 + l3len);

	memset(p + 64, 0, len);
	memset(p + 64, 0xff, 6);
	memcpy(p + 70, f->mac, 6);
	p[76] = (uint8_t)(type >> 8);
	p[77] = (uint8_t)type;
	memcpy(p + 78, l3, l3len);
	*r = (struct netif_tx_request){ .gref = gref, .offset = 64, .id = (uint16_t)f->tx_prod, .size = len };
	f->tx_prod++;
	f->tx->req_prod = f->tx_prod;
}

static void ipv4(uint8_t *h, const uint8_t src[4], uint8_t proto, uint16_t dport)
{
	memset(h, 0, 28);
	h[0] = 0x45;
	h[9] = proto;
	memcpy(h + 12, src, 4);
	h[22] = (uint8_t)(dport >> 8);
	h[23] = (uint8_t)dport;
}

static void arp(uint8_t *a, const uint8_t sha[6], const uint8_t spa[4])
{
	memset(a, 0, 28);
	a[1] = 1; a[2] = 8; a[4] = 6; a[5] = 4; a[7] = 1;
	memcpy(a + 8, sha, 6);
	memcpy(a + 14, spa, 4);
}

static void test_ip_spoofing_dropped(void **state)
{
	struct netback *nb = open_nb();
	struct netback_vif_config c = { .domid = 1, .devid = 0, .mac = { 0x00, 0x16, 0x3e, 0, 0, 1 },
					.network = "internal", .ips = { 0x0a000001 }, .nips = 1 };
	static const uint8_t mine[4] = { 10, 0, 0, 1 }, other[4] = { 10, 0, 0, 2 }, none[4] = { 0 };
	struct front a, b;
	uint8_t l3[28];
	char err[200];

	(void)state;
	memset(&a, 0, sizeof(a));
	a.domid = 1;
	memcpy(a.mac, c.mac, 6);
	a.next_gref = 100;
	assert_int_equal(netback_vif_add(nb, &c, err, sizeof(err)), 0);
	add_vif(nb, &b, 2, 2, "internal");
	connect_front(nb, &a, 8);
	connect_front(nb, &b, 8);
	/* its own address: through */
	ipv4(l3, mine, 17, 53);
	send_l3(&a, 0x0800, l3, 28);
	arp(l3, a.mac, mine);
	send_l3(&a, 0x0806, l3, 28);
	/* DHCP before it has an address, an ARP probe: through */
	ipv4(l3, none, 17, 67);
	send_l3(&a, 0x0800, l3, 28);
	arp(l3, a.mac, none);
	send_l3(&a, 0x0806, l3, 28);
	netback_poll(nb);
	for (int i = 0; i < 4; i++)
		assert_int_equal(rx_next(&b, NULL), 60);
	/* another address, ARP for another address or with another MAC, 0.0.0.0 not to DHCP, IPv6: dropped */
	ipv4(l3, other, 17, 53);
	send_l3(&a, 0x0800, l3, 28);
	arp(l3, a.mac, other);
	send_l3(&a, 0x0806, l3, 28);
	arp(l3, b.mac, mine);
	send_l3(&a, 0x0806, l3, 28);
	ipv4(l3, none, 17, 53);
	send_l3(&a, 0x0800, l3, 28);
	memset(l3, 0, sizeof(l3));
	l3[0] = 0x60;
	send_l3(&a, 0x86dd, l3, 28);
	netback_poll(nb);
	assert_int_equal(rx_next(&b, NULL), -100);
	assert_true(logged("domain 1 vif 0: tx frame dropped: source IPv4 10.0.0.2 is not one of the vif's"));
	assert_true(logged("ARP sender IPv4 10.0.0.2 is not one of the vif's"));
	assert_true(logged("ARP sender MAC 00:16:3e:00:00:02 is not the vif's"));
	assert_true(logged("source IPv4 0.0.0.0 is not one of the vif's"));
	assert_true(logged("domain 1 vif 0: tx frames dropped: ethertype 0x86dd: a vif with IPv4 addresses sends only "
			   "IPv4 and ARP"));
	/* b has no addresses configured: anything from its own MAC goes */
	ipv4(l3, other, 6, 80);
	send_l3(&b, 0x0800, l3, 28);
	netback_poll(nb);
	assert_int_equal(rx_next(&a, NULL), 60);
	netback_close(nb);
}

static void test_bad_packets_dropped(void **state)
{
	struct netback *nb = open_nb();
	struct front a, b;

	(void)state;
	connected_pair(nb, &a, &b);
	/* a grant that does not exist */
	raw_tx(&a, (struct netif_tx_request){ .gref = 9999, .offset = 0, .id = 1, .size = 60 });
	/* larger than the MTU: two slots of 1000 */
	grant(1, 500);
	grant(1, 501);
	raw_tx(&a, (struct netif_tx_request){ .gref = 500, .id = 2, .size = 2000, .flags = XEN_NETTXF_more_data });
	raw_tx(&a, (struct netif_tx_request){ .gref = 501, .id = 3, .size = 1000 });
	/* shorter than an Ethernet header */
	raw_tx(&a, (struct netif_tx_request){ .gref = 500, .id = 4, .size = 10 });
	netback_poll(nb);
	assert_int_equal(tx_status(&a), XEN_NETIF_RSP_ERROR);	/* 2 (answered at once) */
	assert_int_equal(tx_status(&a), XEN_NETIF_RSP_ERROR);	/* 3 */
	assert_int_equal(tx_status(&a), XEN_NETIF_RSP_ERROR);	/* 4 */
	assert_int_equal(tx_status(&a), XEN_NETIF_RSP_ERROR);	/* 1: after its copy failed */
	assert_true(logged("larger than the MTU"));
	assert_true(logged("shorter than an Ethernet header"));
	assert_true(logged("grant copy status"));
	assert_int_equal(rx_next(&b, NULL), -100);
	/* the vif still works */
	send_frame(&a, NULL, 60, 1);
	netback_poll(nb);
	assert_int_equal(rx_next(&b, NULL), 60);
	netback_close(nb);
}

static void test_fragments_joined(void **state)
{
	struct netback *nb = open_nb();
	struct front a, b;
	const uint8_t *data = NULL;
	uint8_t *p1, *p2;

	(void)state;
	connected_pair(nb, &a, &b);
	p1 = grant(1, 600);
	p2 = grant(1, 601);
	memset(p1 + 4000, 0xaa, 96);
	memset(p1 + 4000, 0xff, 6);
	memcpy(p1 + 4006, a.mac, 6);
	memset(p2, 0xbb, 200);
	raw_tx(&a, (struct netif_tx_request){ .gref = 600, .offset = 4000, .id = 1, .size = 296,
					      .flags = XEN_NETTXF_more_data });
	raw_tx(&a, (struct netif_tx_request){ .gref = 601, .offset = 0, .id = 2, .size = 200 });
	netback_poll(nb);
	assert_int_equal(tx_status(&a), XEN_NETIF_RSP_OKAY);
	assert_int_equal(tx_status(&a), XEN_NETIF_RSP_OKAY);
	assert_int_equal(rx_next(&b, &data), 296);
	assert_int_equal(data[95], 0xaa);
	assert_int_equal(data[96], 0xbb);
	assert_int_equal(data[295], 0xbb);
	netback_close(nb);
}

static void test_protocol_errors_shut_one_vif(void **state)
{
	struct netback *nb = open_nb();
	struct front a, b, c;

	(void)state;
	add_vif(nb, &a, 1, 1, "internal");
	add_vif(nb, &b, 2, 2, "internal");
	add_vif(nb, &c, 3, 3, "internal");
	connect_front(nb, &a, 4);
	connect_front(nb, &b, 4);
	connect_front(nb, &c, 4);
	/* a: a slot crossing its page */
	grant(1, 700);
	raw_tx(&a, (struct netif_tx_request){ .gref = 700, .offset = 4000, .id = 1, .size = 200 });
	/* b: garbage indices */
	b.tx->req_prod = 5000;
	netback_poll(nb);
	assert_true(logged("domain 1 vif 0: shut: tx ring: a slot of 200 bytes at offset 4000 crosses its page"));
	assert_true(logged("domain 2 vif 0: shut: tx ring: req_prod is 5000 requests ahead"));
	assert_string_equal(be_key(1, "state"), "5");
	assert_string_equal(be_key(2, "state"), "5");
	/* c carries on; frames to the shut vifs go nowhere */
	send_frame(&c, NULL, 60, 1);
	netback_poll(nb);
	assert_int_equal(tx_status(&c), XEN_NETIF_RSP_OKAY);
	assert_int_equal(rx_next(&a, NULL), -100);
	/* a chain longer than 18 slots */
	for (int i = 0; i < 19; i++)
		raw_tx(&c, (struct netif_tx_request){ .gref = 100, .id = (uint16_t)i, .size = 10,
						      .flags = XEN_NETTXF_more_data });
	raw_tx(&c, (struct netif_tx_request){ .gref = 100, .id = 19, .size = 10 });
	netback_poll(nb);
	assert_true(logged("domain 3 vif 0: shut: tx ring: a packet of more than 18 slots"));
	netback_close(nb);
}

static void test_incomplete_chain_waits(void **state)
{
	struct netback *nb = open_nb();
	struct front a, b;

	(void)state;
	connected_pair(nb, &a, &b);
	uint8_t *p = grant(1, 800);
	memset(p, 0xff, 6);
	memcpy(p + 6, a.mac, 6);
	grant(1, 801);
	raw_tx(&a, (struct netif_tx_request){ .gref = 800, .id = 1, .size = 100, .flags = XEN_NETTXF_more_data });
	netback_poll(nb);
	assert_int_equal(tx_status(&a), -100);	/* not answered: the chain is not complete */
	raw_tx(&a, (struct netif_tx_request){ .gref = 801, .id = 2, .size = 40 });
	netback_poll(nb);
	assert_int_equal(tx_status(&a), XEN_NETIF_RSP_OKAY);
	assert_int_equal(rx_next(&b, NULL), 100);
	netback_close(nb);
}

/* An IPv4 UDP frame from a with its checksum blank (the pseudo-header sum
 * in the field, as Linux leaves it), of udp_len bytes of UDP. */
static void udp_frame(uint8_t *p, const uint8_t *src, uint16_t udp_len)
{
	uint32_t sum = 0;

	memset(p, 0xff, 6);
	memcpy(p + 6, src, 6);
	p[12] = 0x08;
	p[13] = 0x00;
	p[14] = 0x45;
	p[16] = (uint8_t)((20 + udp_len) >> 8);
	p[17] = (uint8_t)(20 + udp_len);
	p[22] = 64;
	p[23] = 17;
	memcpy(p + 26, (uint8_t[]){ 10, 0, 0, 1, 10, 0, 0, 2 }, 8);
	p[34] = 0x12;
	p[35] = 0x34;
	p[36] = 0x00;
	p[37] = 0x07;
	p[38] = (uint8_t)(udp_len >> 8);
	p[39] = (uint8_t)udp_len;
	for (int i = 42; i < 34 + udp_len; i++)
		p[i] = (uint8_t)(i * 7);
	/* pseudo header: addresses, protocol, UDP length */
	sum = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 17 + udp_len;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	p[40] = (uint8_t)(sum >> 8);
	p[41] = (uint8_t)sum;
}

/* The full UDP checksum check: pseudo header + segment sums to 0xffff. */
static int udp_sum_ok(const uint8_t *p, uint16_t udp_len)
{
	uint32_t sum = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 17 + udp_len;

	for (int i = 34; i < 34 + udp_len; i += 2)
		sum += (uint32_t)p[i] << 8 | (i + 1 < 34 + udp_len ? p[i + 1] : 0);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

static void test_tap_both_ways(void **state)
{
	struct netback *nb = open_nb();
	struct front a;
	struct netback_vif_config c = { .domid = 7, .devid = 0, .mac = { 0x00, 0x16, 0x3e, 0, 0, 7 },
					.network = "br-test" };
	uint8_t frame[2048], got[2048];
	const uint8_t *data = NULL;
	char err[200];
	uint8_t *p;

	(void)state;
	assert_int_equal(netback_vif_add(nb, &c, err, sizeof(err)), 0);
	assert_string_equal(F.tap_name, "vif7.0");
	assert_string_equal(F.tap_bridge, "br-test");
	memset(&a, 0, sizeof(a));
	a.domid = 7;
	memcpy(a.mac, c.mac, 6);
	/* before the frontend connects, frames on the TAP are drained (dropped) */
	memset(frame, 0x11, 64);
	assert_int_equal(send(F.tap_peer, frame, 64, 0), 64);
	netback_poll(nb);
	assert_int_equal(recv(F.tap_fd, got, sizeof(got), MSG_DONTWAIT), -1);
	connect_front(nb, &a, 4);
	/* guest -> bridge: the blank UDP checksum is filled in on the way out */
	p = grant(7, 300);
	udp_frame(p, a.mac, 101);
	raw_tx(&a, (struct netif_tx_request){ .gref = 300, .id = 1, .size = 34 + 101,
					      .flags = XEN_NETTXF_csum_blank | XEN_NETTXF_data_validated });
	netback_poll(nb);
	assert_int_equal(tx_status(&a), XEN_NETIF_RSP_OKAY);
	assert_int_equal(recv(F.tap_peer, got, sizeof(got), 0), 34 + 101);
	assert_memory_equal(got + 42, p + 42, 101 - 8);
	assert_true(udp_sum_ok(got, 101));
	/* bridge -> guest, in one poll; a runt is dropped */
	memset(frame, 0x5a, sizeof(frame));
	memcpy(frame, a.mac, 6);
	assert_int_equal(send(F.tap_peer, frame, 1514, 0), 1514);
	assert_int_equal(send(F.tap_peer, frame, 10, 0), 10);
	assert_int_equal(send(F.tap_peer, frame, 64, 0), 64);
	netback_poll(nb);
	assert_int_equal(rx_next(&a, &data), 1514);
	assert_int_equal(data[1513], 0x5a);
	assert_int_equal(rx_next(&a, NULL), 64);
	assert_int_equal(rx_next(&a, NULL), -100);
	/* the TAP goes with the domain */
	netback_domain_gone(nb, 7);
	assert_int_equal(F.tap_closed, 1);
	close(F.tap_peer);
	netback_close(nb);
}

static void test_missing_bridge_is_an_error(void **state)
{
	struct netback *nb = open_nb();
	struct netback_vif_config c = { .domid = 8, .devid = 1, .mac = { 0x00, 0x16, 0x3e, 0, 0, 8 },
					.network = "br-missing" };
	char err[200];

	(void)state;
	assert_int_equal(netback_vif_add(nb, &c, err, sizeof(err)), -ENODEV);
	assert_string_equal(err, "vif 1 of domain 8: bridge \"br-missing\" does not exist");
	assert_int_equal(find_key("/local/domain/0/backend/vif/8/1/state"), -1);
	netback_close(nb);
}

/* pvd killed and started again: a new netback resumes the connected vifs
 * on the old mappings and ports, the guests notice nothing. */
static void test_resume_after_restart(void **state)
{
	struct netback *nb = open_nb(), *nb2;
	struct netback_window w = { .data = F.window, .maddr = WIN_MADDR, .bytes = WIN_BYTES };
	struct netback_vif_config ca = { .domid = 1, .mac = { 0x00, 0x16, 0x3e, 0, 0, 1 }, .network = "internal" };
	struct netback_vif_config cb = { .domid = 2, .mac = { 0x00, 0x16, 0x3e, 0, 0, 2 }, .network = "internal" };
	struct front a, b;
	char err[200];
	int binds, maps;

	(void)state;
	connected_pair(nb, &a, &b);
	send_frame(&a, NULL, 60, 1);
	netback_poll(nb);
	assert_int_equal(rx_next(&b, NULL), 60);
	netback_close(nb);			/* as a SIGKILL: nothing unmapped */
	assert_int_equal(F.unbinds, 0);
	binds = F.binds;
	maps = F.maps;
	assert_int_equal(netback_open(&HOST, &w, &nb2, err, sizeof(err)), 0);
	assert_int_equal(netback_vif_resume(nb2, &ca, err, sizeof(err)), 0);
	assert_int_equal(netback_vif_resume(nb2, &cb, err, sizeof(err)), 0);
	assert_int_equal(netback_vif_resume(nb2, &cb, err, sizeof(err)), -EEXIST);
	assert_true(logged("domain 2 vif 0: resumed (network internal)"));
	send_frame(&a, NULL, 70, 2);
	netback_poll(nb2);
	assert_int_equal(tx_status(&a), XEN_NETIF_RSP_OKAY);
	assert_int_equal(tx_status(&a), XEN_NETIF_RSP_OKAY);
	assert_int_equal(rx_next(&b, NULL), 70);
	assert_string_equal(be_key(1, "state"), "4");
	assert_int_equal(F.binds, binds);		/* no new handshake */
	assert_int_equal(F.maps, maps);
	netback_domain_gone(nb2, 1);
	netback_domain_gone(nb2, 2);
	netback_close(nb2);
}

/* a floods b with 1000-byte frames for 11 simulated seconds (10 ms
 * steps), its tx ring kept 8 deep and b's 16 rx buffers re-posted. Returns
 * the bytes b got in [1 s, 11 s) (after the initial burst), and in the
 * first second. */
static uint64_t flood(uint64_t rate_a, uint64_t rate_b, uint64_t *in_first_second)
{
	struct netback *nb = open_nb();
	struct front a, b;
	uint64_t got = 0, got_1s = 0;
	uint8_t *p;

	add_vif_rate(nb, &a, 1, 1, "internal", rate_a);
	add_vif_rate(nb, &b, 2, 2, "internal", rate_b);
	connect_front(nb, &a, 4);
	connect_front(nb, &b, 16);
	p = grant(1, 300);
	memset(p, 0x42, 1000);
	memset(p, 0xff, 6);
	memcpy(p + 6, a.mac, 6);
	for (int step = 0; step < 1100; step++) {
		int st;
		while (a.tx_prod - a.tx_rsp < 8)
			raw_tx(&a, (struct netif_tx_request){ .gref = 300, .id = (uint16_t)(a.tx_prod & 0xff),
							      .size = 1000 });
		F.now += 10;
		netback_poll(nb);
		while (tx_status(&a) != -100)
			;
		while ((st = rx_next(&b, NULL)) != -100) {
			struct netif_rx_request *r = &b.rx->ring[b.rx_prod % NETIF_RX_RING_SIZE].req;
			if (st > 0)
				got += (uint64_t)st;
			r->id = (uint16_t)(b.rx_prod % 16);
			r->gref = 1000 + b.rx_prod % 16;
			b.rx_prod++;
			b.rx->req_prod = b.rx_prod;
		}
		if (step == 99)
			got_1s = got;
	}
	netback_close(nb);
	*in_first_second = got_1s;
	return got - got_1s;
}

static void test_rate_limits(void **state)
{
	uint64_t first, bytes;

	(void)state;
	/* the sender's cap */
	bytes = flood(100000, 0, &first);
	assert_in_range(bytes, 950000, 1050000);
	assert_in_range(first, 150000, 210000);		/* one second of rate, plus the burst */
	/* the receiver's cap */
	bytes = flood(0, 50000, &first);
	assert_in_range(bytes, 475000, 525000);
	/* no cap: 8 frames every 10 ms */
	bytes = flood(0, 0, &first);
	assert_int_equal(bytes, 8000u * 1000u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_keys),
		cmocka_unit_test(test_two_guests_and_learning),
		cmocka_unit_test(test_networks_isolated),
		cmocka_unit_test(test_spoofed_source_dropped),
		cmocka_unit_test(test_ip_spoofing_dropped),
		cmocka_unit_test(test_bad_packets_dropped),
		cmocka_unit_test(test_fragments_joined),
		cmocka_unit_test(test_protocol_errors_shut_one_vif),
		cmocka_unit_test(test_incomplete_chain_waits),
		cmocka_unit_test(test_tap_both_ways),
		cmocka_unit_test(test_missing_bridge_is_an_error),
		cmocka_unit_test(test_rate_limits),
		cmocka_unit_test(test_resume_after_restart),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
