/*
 * test_netback.c - netback (dom0/netback*.c) against a fake host: an
 * in-memory xenstore, guest pages named by (domid, gref), a grant copy
 * done in plain memory the way the hypervisor does it (a DOMID_SELF side
 * names a frame of the window), and the test acting as each frontend.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include <public/io/netif.h>

#include "netback.h"

#define PAGES      64
#define WIN_MADDR  0x100000ull
#define WIN_BYTES  (48u * 1024u)

struct fake {
	char keys[256][96], vals[256][96];
	int nkeys;
	struct { uint32_t domid, gref; uint8_t page[4096]; int used; } pg[PAGES];
	uint8_t window[WIN_BYTES] __attribute__((aligned(4096)));
	int maps, unmaps, binds, unbinds, notifies, copies;
	char log[64][300];
	int nlog;
	uint64_t now;
	int tap_peer, tap_fd, tap_closed;	/* the test's end of the last TAP, netback's */
	char tap_name[16], tap_bridge[16];
};

static struct fake F;

static int find_key(const char *path)
{
	for (int i = 0; i < F.nkeys; i++)
		if (!strcmp(F.keys[i], path))
			return i;
	return -1;
}

static int fx_read(void *arg, const char *path, char *buf, size_t len)
{
	int i = find_key(path);

	(void)arg;
	if (i < 0)
		return -ENOENT;
	snprintf(buf, len, "%s", F.vals[i]);
	return 0;
}

static int fx_write(void *arg, const char *path, const char *value, const char *perms)
{
	int i = find_key(path);

	(void)arg;
	(void)perms;
	if (i < 0) {
		assert_true(F.nkeys < 256);
		i = F.nkeys++;
		snprintf(F.keys[i], sizeof(F.keys[i]), "%s", path);
	}
	snprintf(F.vals[i], sizeof(F.vals[i]), "%s", value);
	return 0;
}

static int fx_rm(void *arg, const char *path)
{
	size_t n = strlen(path);

	(void)arg;
	for (int i = 0; i < F.nkeys; i++)
		if (!strncmp(F.keys[i], path, n) && (F.keys[i][n] == '\0' || F.keys[i][n] == '/')) {
			F.nkeys--;
			memcpy(F.keys[i], F.keys[F.nkeys], sizeof(F.keys[i]));
			memcpy(F.vals[i], F.vals[F.nkeys], sizeof(F.vals[i]));
			i--;
		}
	return 0;
}

static uint8_t *page_of(uint32_t domid, uint32_t gref)
{
	for (int i = 0; i < PAGES; i++)
		if (F.pg[i].used && F.pg[i].domid == domid && F.pg[i].gref == gref)
			return F.pg[i].page;
	return NULL;
}

static uint8_t *grant(uint32_t domid, uint32_t gref)
{
	for (int i = 0; i < PAGES; i++)
		if (!F.pg[i].used) {
			F.pg[i].used = 1;
			F.pg[i].domid = domid;
			F.pg[i].gref = gref;
			memset(F.pg[i].page, 0, 4096);
			return F.pg[i].page;
		}
	fail_msg("out of fake pages");
	return NULL;
}

static void *fx_map_frame(void *arg, uint64_t mfn)
{
	(void)arg;
	return mfn < PAGES && F.pg[mfn].used ? F.pg[mfn].page : NULL;
}

static int fx_map(void *arg, uint32_t domid, uint32_t gref, void **page, uint32_t *handle, uint64_t *mfn)
{
	(void)arg;
	*page = page_of(domid, gref);
	if (!*page)
		return -EINVAL;
	*mfn = (uint64_t)((uint8_t *)*page - F.pg[0].page) / sizeof(F.pg[0]);
	*handle = gref;
	F.maps++;
	return 0;
}

static void fx_unmap(void *arg, uint32_t handle)
{
	(void)arg;
	(void)handle;
	F.unmaps++;
}

static int fx_bind(void *arg, uint32_t domid, uint32_t remote_port, uint32_t *port)
{
	(void)arg;
	*port = domid * 100 + remote_port;
	F.binds++;
	return 0;
}

static void fx_unbind(void *arg, uint32_t port)
{
	(void)arg;
	(void)port;
	F.unbinds++;
}

static void fx_notify(void *arg, uint32_t port)
{
	(void)arg;
	(void)port;
	F.notifies++;
}

/* one side: a granted page, or a frame of the window */
static uint8_t *side(const struct gnttab_copy_ptr *p, int by_gref, uint16_t len)
{
	uint64_t a;

	if (by_gref)
		return page_of(p->domid, p->u.ref) ? page_of(p->domid, p->u.ref) + p->offset : NULL;
	a = (p->u.gmfn << 12) + p->offset;
	if (p->domid != DOMID_SELF || a < WIN_MADDR || a + len > WIN_MADDR + WIN_BYTES)
		return NULL;
	return F.window + (a - WIN_MADDR);
}

static int fx_copy(void *arg, struct gnttab_copy *ops, size_t n)
{
	(void)arg;
	assert_true(n <= NETBACK_COPY_OPS);
	F.copies++;
	for (size_t i = 0; i < n; i++) {
		uint8_t *s = side(&ops[i].source, ops[i].flags & GNTCOPY_source_gref, ops[i].len);
		uint8_t *d = side(&ops[i].dest, ops[i].flags & GNTCOPY_dest_gref, ops[i].len);
		assert_true(ops[i].source.offset + ops[i].len <= 4096 && ops[i].dest.offset + ops[i].len <= 4096);
		if (!s || !d) {
			ops[i].status = GNTST_bad_gntref;
			continue;
		}
		memmove(d, s, ops[i].len);
		ops[i].status = GNTST_okay;
	}
	return 0;
}

static void fx_log(void *arg, int warn, const char *line)
{
	(void)arg;
	(void)warn;
	if (F.nlog < 64)
		snprintf(F.log[F.nlog++], sizeof(F.log[0]), "%s", line);
}

static uint64_t fx_now(void *arg)
{
	(void)arg;
	return F.now;
}

/* A TAP device is a datagram socket pair here: one frame per message. */
static int fx_tap_open(void *arg, const char *ifname, const char *bridge, int *fd, char *err, size_t errlen)
{
	int sv[2];

	(void)arg;
	if (strcmp(bridge, "br-test")) {
		snprintf(err, errlen, "bridge \"%s\" does not exist", bridge);
		return -ENODEV;
	}
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv), 0);
	snprintf(F.tap_name, sizeof(F.tap_name), "%s", ifname);
	snprintf(F.tap_bridge, sizeof(F.tap_bridge), "%s", bridge);
	F.tap_peer = sv[1];
	F.tap_fd = sv[0];
	*fd = sv[0];
	return 0;
}

static void fx_tap_close(void *arg, int fd)
{
	(void)arg;
	assert_int_equal(fd, F.tap_fd);
	F.tap_closed++;
	close(fd);
}

static int logged(const char *what)
{
	for (int i = 0; i < F.nlog; i++)
		if (strstr(F.log[i], what))
			return 1;
	return 0;
}

static const struct netback_host HOST = { .xs_read = fx_read, .xs_write = fx_write, .xs_rm = fx_rm,
	.map_grant = fx_map, .map_frame = fx_map_frame, .unmap_grant = fx_unmap, .bind = fx_bind, .unbind = fx_unbind,
	.notify = fx_notify, .grant_copy = fx_copy, .log = fx_log, .now_ms = fx_now,
	.tap_open = fx_tap_open, .tap_close = fx_tap_close };

/* ---- a frontend, played by the test ---- */
struct front {
	uint32_t domid;
	uint8_t mac[6];
	struct netif_tx_sring *tx;
	struct netif_rx_sring *rx;
	RING_IDX tx_prod, rx_prod, tx_rsp, rx_rsp;
	uint32_t next_gref;
};

static void fe_key(uint32_t domid, const char *key, const char *value)
{
	char path[128];

	snprintf(path, sizeof(path), "/local/domain/%u/device/vif/0/%s", domid, key);
	fx_write(NULL, path, value, NULL);
}

static const char *be_key(uint32_t domid, const char *key)
{
	char path[128];
	int i;

	snprintf(path, sizeof(path), "/local/domain/0/backend/vif/%u/0/%s", domid, key);
	i = find_key(path);
	return i < 0 ? "" : F.vals[i];
}

static void add_vif_rate(struct netback *nb, struct front *f, uint32_t domid, uint8_t last,
			 const char *network, uint64_t rate)
{
	struct netback_vif_config c = { .domid = domid, .devid = 0, .mac = { 0x00, 0x16, 0x3e, 0, 0, last },
					.network = network, .rate = rate };
	char err[200];

	memset(f, 0, sizeof(*f));
	f->domid = domid;
	memcpy(f->mac, c.mac, 6);
	f->next_gref = 100;
	assert_int_equal(netback_vif_add(nb, &c, err, sizeof(err)), 0);
}

static void add_vif(struct netback *nb, struct front *f, uint32_t domid, uint8_t last, const char *network)
{
	add_vif_rate(nb, f, domid, last, network, 0);
}

/* The frontend's side of the handshake; posts n rx buffers. */
static void connect_front(struct netback *nb, struct front *f, int nrx)
{
	f->tx = (struct netif_tx_sring *)grant(f->domid, 1);
	f->rx = (struct netif_rx_sring *)grant(f->domid, 2);
	SHARED_RING_INIT(f->tx);
	SHARED_RING_INIT(f->rx);
	fe_key(f->domid, "tx-ring-ref", "1");
	fe_key(f->domid, "rx-ring-ref", "2");
	fe_key(f->domid, "event-channel", "7");
	fe_key(f->domid, "request-rx-copy", "1");
	fe_key(f->domid, "state", "4");
	netback_poll(nb);
	assert_string_equal(be_key(f->domid, "state"), "4");
	for (int i = 0; i < nrx; i++) {
		struct netif_rx_request *r = &f->rx->ring[f->rx_prod % NETIF_RX_RING_SIZE].req;
		r->id = (uint16_t)f->rx_prod;
		r->gref = 1000 + f->rx_prod;
		grant(f->domid, r->gref);
		f->rx_prod++;
	}
	f->rx->req_prod = f->rx_prod;
}

/* Two connected vifs on "internal" (domains 1 and 2), 4 rx buffers each. */
static void connected_pair(struct netback *nb, struct front *a, struct front *b)
{
	add_vif(nb, a, 1, 1, "internal");
	add_vif(nb, b, 2, 2, "internal");
	connect_front(nb, a, 4);
	connect_front(nb, b, 4);
}

/* A frame from f to dst (NULL: broadcast) of len bytes, in one slot. */
static void send_frame(struct front *f, const uint8_t *dst, uint16_t len, uint8_t fill)
{
	uint32_t gref = f->next_gref++;
	uint8_t *p = grant(f->domid, gref);
	struct netif_tx_request *r = &f->tx->ring[f->tx_prod % NETIF_TX_RING_SIZE].req.req;

	memset(p + 64, fill, len);
	memset(p + 64, 0xff, 6);
	if (dst)
		memcpy(p + 64, dst, 6);
	memcpy(p + 70, f->mac, 6);
	*r = (struct netif_tx_request){ .gref = gref, .offset = 64, .flags = 0, .id = (uint16_t)f->tx_prod,
					.size = len };
	f->tx_prod++;
	f->tx->req_prod = f->tx_prod;
}

static void raw_tx(struct front *f, struct netif_tx_request r)
{
	f->tx->ring[f->tx_prod % NETIF_TX_RING_SIZE].req.req = r;
	f->tx_prod++;
	f->tx->req_prod = f->tx_prod;
}

/* The next rx response of f: its status; *data its bytes. */
static int rx_next(struct front *f, const uint8_t **data)
{
	struct netif_rx_response *r;

	if (f->rx->rsp_prod == f->rx_rsp)
		return -100;
	r = &f->rx->ring[f->rx_rsp % NETIF_RX_RING_SIZE].rsp;
	f->rx_rsp++;
	if (data && r->status > 0)
		*data = page_of(f->domid, 1000 + r->id) + r->offset;
	return r->status;
}

static int tx_status(struct front *f)
{
	struct netif_tx_response *r;

	if (f->tx->rsp_prod == f->tx_rsp)
		return -100;
	r = &f->tx->ring[f->tx_rsp % NETIF_TX_RING_SIZE].rsp;
	f->tx_rsp++;
	return r->status;
}

static struct netback *open_nb(void)
{
	struct netback_window w = { .data = F.window, .maddr = WIN_MADDR, .bytes = WIN_BYTES };
	struct netback *nb;
	char err[200];

	memset(&F, 0, sizeof(F));
	F.now = 1000;
	assert_int_equal(netback_open(&HOST, &w, &nb, err, sizeof(err)), 0);
	return nb;
}

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
