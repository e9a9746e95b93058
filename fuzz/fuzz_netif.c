/*
 * fuzz_netif.c - libFuzzer target: a hostile netif frontend (domain 1)
 * against netback (dom0/netback*.c) with the real xenstore server
 * (dom0/xs_*.c) and a well-behaved receiver (domain 2) on the same
 * internal switch. Grants are pages of this process (domain d's ref r,
 * 1 <= r <= NPAGES: the tx ring is ref 1, the rx ring ref 2); grant copies
 * are done in plain memory, as the hypervisor does them, against these
 * pages and the copy window.
 *
 * Input: byte 0: bit 0 puts a rate limit on domain 1's vif; then commands,
 * each one byte and its operands:
 *   0, 1  a tx slot: the next 12 bytes (a request or extra info) pushed
 *   2     netback polls; both frontends take their responses, domain 2
 *         posts its rx buffers again
 *   3     16 bytes written into one of domain 1's pages (1 byte: page,
 *         1 byte: offset / 16, then the bytes): frame contents
 *   4     the next 4 bytes as domain 1's tx req_prod (hostile indices)
 *   5     an rx request of domain 1: the next 8 bytes, pushed
 *   6     the clock moves on (1 byte: tens of milliseconds)
 *   7     domain 1 closes its vif and connects again
 *   8     domain 2 sends a broadcast frame (1 byte: (length - 60) / 5), which
 *         domain 1 receives into the buffers of its own rx requests
 * Domain 1's data pages (refs 3 .. RX_FIRST - 1) start as frames from its
 * MAC (broadcast, IPv4, UDP with a blank checksum), so a request naming
 * one carries a frame the switch takes; command 3 changes them.
 * Checked beside the sanitizers: no grant copy crosses a page or leaves
 * the window; every frame domain 2 receives was sent by domain 1 with
 * domain 1's MAC as its source (anti-spoofing); response statuses are
 * the protocol's; at the end, with both domains gone, every grant mapped
 * is unmapped.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <public/io/netif.h>
#include <public/io/xs_wire.h>

#include "netback.h"
#include "xenstore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NPAGES     24
#define RX_FIRST   8		/* domain 2's rx buffers: refs RX_FIRST .. NPAGES */
#define WIN_MADDR  0x100000ull
#define WIN_BYTES  (48u * 1024u)

struct frontend {
	uint32_t domid;
	struct netif_tx_sring *tx;
	struct netif_rx_sring *rx;
	RING_IDX tx_prod, rx_prod, tx_rsp, rx_rsp;
	int hostile;
};

struct host {
	struct xs_server *xs;
	uint8_t (*page[3])[4096];	/* by domid 1, 2 */
	uint8_t *window;
	long maps, unmaps;
	uint64_t now;
};

static struct host H;
static const uint8_t mac1[6] = { 0x00, 0x16, 0x3e, 0, 0, 1 };

static int xs_read_cb(void *arg, const char *path, char *buf, size_t len)
{
	return xs_local_read(H.xs, path, buf, len);
}

static int xs_write_cb(void *arg, const char *path, const char *value, const char *perms)
{
	int rc = value[0] || !perms ? xs_local_write(H.xs, path, value) : xs_local_mkdir(H.xs, path);

	return rc == 0 && perms ? xs_local_set_perms(H.xs, path, perms) : rc;
}

static int xs_rm_cb(void *arg, const char *path)
{
	return xs_local_rm(H.xs, path);
}

static uint8_t *page_of(uint32_t domid, uint32_t gref)
{
	return (domid == 1 || domid == 2) && gref >= 1 && gref <= NPAGES ? H.page[domid][gref - 1] : NULL;
}

/* mfn: domid * 256 + gref; all or none, as the host's batch */
static int map_grants(void *arg, uint32_t domid, const uint32_t *grefs, unsigned n, void **pages, uint32_t *handles,
		      uint64_t *mfns, unsigned *bad)
{
	if (n < 1 || n > NETBACK_MAP_MAX)
		abort();	/* netback broke the hook's bound */
	for (unsigned i = 0; i < n; i++) {
		if (!page_of(domid, grefs[i])) {
			*bad = i;
			return -EINVAL;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		pages[i] = page_of(domid, grefs[i]);
		mfns[i] = domid * 256u + grefs[i];
		handles[i] = domid * 256u + grefs[i];
		H.maps++;
	}
	return 0;
}

static void *map_frame(void *arg, uint64_t mfn)
{
	return page_of((uint32_t)(mfn / 256), (uint32_t)(mfn % 256));
}

static void unmap_grants(void *arg, const uint32_t *handles, unsigned n)
{
	if (n < 1 || n > NETBACK_MAP_MAX)
		abort();	/* netback broke the hook's bound */
	for (unsigned i = 0; i < n; i++) {
		if (!page_of(handles[i] / 256, handles[i] % 256))
			abort();	/* a handle never given out */
		H.unmaps++;
	}
}

static int bind(void *arg, uint32_t domid, uint32_t remote_port, uint32_t *port)
{
	*port = domid * 100 + remote_port;
	return 0;
}

static void unbind(void *arg, uint32_t port)
{
}

static void notify(void *arg, uint32_t port)
{
}

/* One side of a copy: a granted page, or a frame of the window. */
static uint8_t *copy_side(const struct gnttab_copy_ptr *p, int by_gref, uint16_t len)
{
	uint64_t a;

	if (p->offset + (uint32_t)len > 4096) {
		fprintf(stderr, "fuzz_netif: a copy of %u bytes at offset %u crosses its page\n", len, p->offset);
		abort();
	}
	if (by_gref)
		return page_of(p->domid, p->u.ref) ? page_of(p->domid, p->u.ref) + p->offset : NULL;
	a = (p->u.gmfn << 12) + p->offset;
	if (p->domid != DOMID_SELF || a < WIN_MADDR || a + len > WIN_MADDR + WIN_BYTES) {
		fprintf(stderr, "fuzz_netif: a copy names frame %#llx, outside the window\n",
			(unsigned long long)p->u.gmfn);
		abort();
	}
	return H.window + (a - WIN_MADDR);
}

static int grant_copy(void *arg, struct gnttab_copy *ops, size_t n)
{
	if (n > NETBACK_COPY_OPS)
		abort();
	for (size_t i = 0; i < n; i++) {
		uint8_t *s = copy_side(&ops[i].source, ops[i].flags & GNTCOPY_source_gref, ops[i].len);
		uint8_t *d = copy_side(&ops[i].dest, ops[i].flags & GNTCOPY_dest_gref, ops[i].len);

		if (!s || !d) {
			ops[i].status = GNTST_bad_gntref;
			continue;
		}
		memmove(d, s, ops[i].len);
		ops[i].status = GNTST_okay;
	}
	return 0;
}

static void log_line(void *arg, int warn, const char *line)
{
}

static uint64_t now_ms(void *arg)
{
	return H.now;
}

static int tap_open(void *arg, const char *ifname, const char *bridge, int *fd, char *err, size_t errlen)
{
	snprintf(err, errlen, "bridge \"%s\" does not exist", bridge);
	return -ENODEV;
}

static void tap_close(void *arg, int fd)
{
	abort();	/* never opened */
}

static void fe_key(uint32_t domid, const char *key, const char *value)
{
	char path[128];

	snprintf(path, sizeof(path), "/local/domain/%u/device/vif/0/%s", domid, key);
	if (xs_local_write(H.xs, path, value) != 0)
		abort();
}

/* A broadcast IPv4/UDP frame from mac, its UDP checksum left blank. */
static void fill_frame(uint8_t *p, const uint8_t mac[6], uint16_t len)
{
	memset(p, 0xff, 6);
	memcpy(p + 6, mac, 6);
	p[12] = 0x08;
	p[13] = 0x00;
	p[14] = 0x45;
	p[16] = (uint8_t)((len - 14) >> 8);
	p[17] = (uint8_t)(len - 14);
	p[22] = 64;
	p[23] = 17;
	memcpy(p + 26, (const uint8_t[]){ 10, 0, 0, 1, 10, 0, 0, 2 }, 8);
	p[38] = (uint8_t)((len - 34) >> 8);
	p[39] = (uint8_t)(len - 34);
}

/* Domain 2 sends a frame of len bytes from ref 3 (one slot). */
static void peer_send(struct frontend *b, uint16_t len)
{
	static const uint8_t mac2[6] = { 0x00, 0x16, 0x3e, 0, 0, 2 };

	fill_frame(page_of(2, 3), mac2, len);
	b->tx->ring[b->tx_prod % NETIF_TX_RING_SIZE].req.req =
		(struct netif_tx_request){ .gref = 3, .offset = 0, .flags = XEN_NETTXF_csum_blank, .id = (uint16_t)b->tx_prod,
					   .size = len };
	b->tx_prod++;
	b->tx->req_prod = b->tx_prod;
}

static void post_rx(struct frontend *f)
{
	while (f->rx_prod - f->rx_rsp < NETIF_RX_RING_SIZE) {
		struct netif_rx_request *r = &f->rx->ring[f->rx_prod % NETIF_RX_RING_SIZE].req;

		r->id = (uint16_t)f->rx_prod;
		r->gref = RX_FIRST + f->rx_prod % (NPAGES - RX_FIRST + 1);
		f->rx_prod++;
	}
	f->rx->req_prod = f->rx_prod;
}

static void fe_connect(struct netback *nb, struct frontend *f)
{
	f->tx = (struct netif_tx_sring *)page_of(f->domid, 1);
	f->rx = (struct netif_rx_sring *)page_of(f->domid, 2);
	memset(f->tx, 0, 4096);
	memset(f->rx, 0, 4096);
	SHARED_RING_INIT(f->tx);
	SHARED_RING_INIT(f->rx);
	f->tx_prod = f->rx_prod = f->tx_rsp = f->rx_rsp = 0;
	f->hostile = 0;
	fe_key(f->domid, "tx-ring-ref", "1");
	fe_key(f->domid, "rx-ring-ref", "2");
	fe_key(f->domid, "event-channel", "7");
	fe_key(f->domid, "request-rx-copy", "1");
	fe_key(f->domid, "state", "4");
	netback_poll(nb);
}

/* The responses a frontend has: checked (unless it broke its rings). */
static void take_responses(struct frontend *f)
{
	if (f->tx->rsp_prod - f->tx_rsp > NETIF_TX_RING_SIZE || f->rx->rsp_prod - f->rx_rsp > NETIF_RX_RING_SIZE) {
		if (!f->hostile) {
			fprintf(stderr, "fuzz_netif: more responses than the rings hold (domain %u: tx %u/%u/%u rx %u/%u/%u)\n", f->domid, f->tx->rsp_prod, f->tx_rsp, f->tx_prod, f->rx->rsp_prod, f->rx_rsp, f->rx_prod);
			abort();
		}
		f->tx_rsp = f->tx->rsp_prod;	/* it wrote over its own indices */
		f->rx_rsp = f->rx->rsp_prod;
	}
	while (f->tx->rsp_prod != f->tx_rsp) {
		struct netif_tx_response r = f->tx->ring[f->tx_rsp % NETIF_TX_RING_SIZE].rsp;

		f->tx_rsp++;
		if (!f->hostile && (r.status < XEN_NETIF_RSP_DROPPED || r.status > XEN_NETIF_RSP_NULL)) {
			fprintf(stderr, "fuzz_netif: tx response status %d\n", r.status);
			abort();
		}
	}
	while (f->rx->rsp_prod != f->rx_rsp) {
		struct netif_rx_response r = f->rx->ring[f->rx_rsp % NETIF_RX_RING_SIZE].rsp;
		uint8_t *p;

		f->rx_rsp++;
		if (f->domid != 2 || r.status <= 0)
			continue;
		p = page_of(2, RX_FIRST + r.id % (NPAGES - RX_FIRST + 1));
		if (r.offset + (uint32_t)r.status > 4096) {
			fprintf(stderr, "fuzz_netif: rx response of %d bytes at offset %u\n", r.status, r.offset);
			abort();
		}
		if (r.status >= 12 && memcmp(p + r.offset + 6, mac1, 6)) {
			fprintf(stderr, "fuzz_netif: domain 2 received a frame whose source is not domain 1's MAC\n");
			abort();
		}
	}
	if (f->domid == 2)
		post_rx(f);
}

static int add_vif(struct netback *nb, uint32_t domid, uint64_t rate)
{
	struct netback_vif_config c = { .domid = domid, .devid = 0, .mac = { 0x00, 0x16, 0x3e, 0, 0, (uint8_t)domid },
					.network = "internal", .rate = rate };
	char err[200];

	return netback_vif_add(nb, &c, err, sizeof(err));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct netback_host host = { .xs_read = xs_read_cb, .xs_write = xs_write_cb, .xs_rm = xs_rm_cb,
		.map_grants = map_grants, .map_frame = map_frame, .unmap_grants = unmap_grants, .bind = bind,
		.unbind = unbind, .notify = notify, .grant_copy = grant_copy, .log = log_line, .now_ms = now_ms,
		.tap_open = tap_open, .tap_close = tap_close };
	struct netback_window w;
	struct xs_host xh = { 0 };
	struct frontend a = { .domid = 1 }, b = { .domid = 2 };
	struct netback *nb;
	char err[300];
	size_t at = 1;
	uint32_t v;

	if (size < 1)
		return 0;
	memset(&H, 0, sizeof(H));
	H.now = 1000;
	H.page[1] = calloc(NPAGES, 4096);
	H.page[2] = calloc(NPAGES, 4096);
	H.window = aligned_alloc(4096, WIN_BYTES);
	if (!H.page[1] || !H.page[2] || !H.window)
		abort();
	w = (struct netback_window){ .data = H.window, .maddr = WIN_MADDR, .bytes = WIN_BYTES };
	if (xs_open(NULL, NULL, &xh, &H.xs, err, sizeof(err)) != 0 || netback_open(&host, &w, &nb, err, sizeof(err)) != 0 ||
	    add_vif(nb, 1, data[0] & 1 ? 20000 : 0) != 0 || add_vif(nb, 2, 0) != 0)
		abort();
	for (uint32_t r = 3; r < RX_FIRST; r++)
		fill_frame(page_of(1, r), mac1, 1000);
	fe_connect(nb, &a);
	fe_connect(nb, &b);
	post_rx(&b);
	while (at < size) {
		uint8_t cmd = data[at++] % 9;

		switch (cmd) {
		case 0:
		case 1:
			if (size - at < 12) {
				at = size;
				break;
			}
			if (a.tx_prod - a.tx_rsp >= NETIF_TX_RING_SIZE)
				a.hostile = 1;	/* over a request not answered yet */
			memcpy(&a.tx->ring[a.tx_prod % NETIF_TX_RING_SIZE].req, data + at, 12);
			at += 12;
			a.tx_prod++;
			a.tx->req_prod = a.tx_prod;
			if (a.tx_prod - a.tx_rsp >= NETIF_TX_RING_SIZE) {
				netback_poll(nb);
				take_responses(&a);
				take_responses(&b);
			}
			break;
		case 2:
			netback_poll(nb);
			take_responses(&a);
			take_responses(&b);
			break;
		case 3:
			if (size - at < 18) {
				at = size;
				break;
			}
			memcpy(H.page[1][data[at] % NPAGES] + data[at + 1] * 16u, data + at + 2, 16);
			if (data[at] % NPAGES < 2)
				a.hostile = 1;	/* it wrote over its rings */
			at += 18;
			break;
		case 4:
			if (size - at < 4) {
				at = size;
				break;
			}
			memcpy(&v, data + at, 4);
			at += 4;
			a.tx->req_prod = v;
			a.hostile = 1;
			netback_poll(nb);
			break;
		case 5:
			if (size - at < 8) {
				at = size;
				break;
			}
			memcpy(&a.rx->ring[a.rx_prod % NETIF_RX_RING_SIZE].req, data + at, 8);
			if (a.rx_prod - a.rx_rsp >= NETIF_RX_RING_SIZE ||
			    a.rx->ring[a.rx_prod % NETIF_RX_RING_SIZE].req.gref <= 2)
				a.hostile = 1;	/* over an unanswered request, or a ring page as a buffer */
			at += 8;
			a.rx_prod++;
			a.rx->req_prod = a.rx_prod;
			break;
		case 6:
			if (at < size)
				H.now += data[at++] * 10u;
			break;
		case 8:
			if (at < size && b.tx_prod - b.tx_rsp < NETIF_TX_RING_SIZE)
				peer_send(&b, (uint16_t)(60 + data[at] * 5u));	/* 60 .. 1335 */
			at++;
			break;
		default:
			fe_key(1, "state", "5");
			netback_poll(nb);
			fe_key(1, "state", "6");
			netback_poll(nb);
			fe_key(1, "state", "1");
			netback_poll(nb);
			fe_connect(nb, &a);
			break;
		}
	}
	netback_poll(nb);
	take_responses(&a);
	take_responses(&b);
	netback_domain_gone(nb, 1);
	netback_domain_gone(nb, 2);
	netback_close(nb);
	if (H.maps != H.unmaps) {
		fprintf(stderr, "fuzz_netif: %ld grants mapped, %ld unmapped\n", H.maps, H.unmaps);
		abort();
	}
	xs_close(H.xs);
	free(H.page[1]);
	free(H.page[2]);
	free(H.window);
	return 0;
}
