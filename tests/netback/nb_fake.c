/*
 * nb_fake.c - the fake host of netback's unit tests (see nb_fake.h).
 * Owns F, the one fake: tests are run one after another.
 */
#include "nb_fake.h"

struct fake F;

int find_key(const char *path)
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

uint8_t *page_of(uint32_t domid, uint32_t gref)
{
	for (int i = 0; i < PAGES; i++)
		if (F.pg[i].used && F.pg[i].domid == domid && F.pg[i].gref == gref)
			return F.pg[i].page;
	return NULL;
}

uint8_t *grant(uint32_t domid, uint32_t gref)
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

/* All or none, as the host's batch: every ref checked before any maps. */
static int fx_map(void *arg, uint32_t domid, const uint32_t *grefs, unsigned n, void **pages, uint32_t *handles,
		  uint64_t *mfns, unsigned *bad)
{
	(void)arg;
	F.map_calls++;
	for (unsigned i = 0; i < n; i++) {
		if (!page_of(domid, grefs[i])) {
			*bad = i;
			return -EINVAL;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		pages[i] = page_of(domid, grefs[i]);
		mfns[i] = (uint64_t)((uint8_t *)pages[i] - F.pg[0].page) / sizeof(F.pg[0]);
		handles[i] = grefs[i];
		F.maps++;
	}
	return 0;
}

static void fx_unmap(void *arg, const uint32_t *handles, unsigned n)
{
	(void)arg;
	(void)handles;
	F.unmap_calls++;
	F.unmaps += (int)n;
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

int logged(const char *what)
{
	for (int i = 0; i < F.nlog; i++)
		if (strstr(F.log[i], what))
			return 1;
	return 0;
}

const struct netback_host HOST = { .xs_read = fx_read, .xs_write = fx_write, .xs_rm = fx_rm,
	.map_grants = fx_map, .map_frame = fx_map_frame, .unmap_grants = fx_unmap, .bind = fx_bind, .unbind = fx_unbind,
	.notify = fx_notify, .grant_copy = fx_copy, .log = fx_log, .now_ms = fx_now,
	.tap_open = fx_tap_open, .tap_close = fx_tap_close };



void fe_key(uint32_t domid, const char *key, const char *value)
{
	char path[128];

	snprintf(path, sizeof(path), "/local/domain/%u/device/vif/0/%s", domid, key);
	fx_write(NULL, path, value, NULL);
}

const char *be_key(uint32_t domid, const char *key)
{
	char path[128];
	int i;

	snprintf(path, sizeof(path), "/local/domain/0/backend/vif/%u/0/%s", domid, key);
	i = find_key(path);
	return i < 0 ? "" : F.vals[i];
}

void add_vif_rate(struct netback *nb, struct front *f, uint32_t domid, uint8_t last,
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

void add_vif(struct netback *nb, struct front *f, uint32_t domid, uint8_t last, const char *network)
{
	add_vif_rate(nb, f, domid, last, network, 0);
}

void front_init(struct netback *nb, struct front *f)
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
}

/* The frontend's side of the handshake; posts n rx buffers. */
void connect_front(struct netback *nb, struct front *f, int nrx)
{
	front_init(nb, f);
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
void connected_pair(struct netback *nb, struct front *a, struct front *b)
{
	add_vif(nb, a, 1, 1, "internal");
	add_vif(nb, b, 2, 2, "internal");
	connect_front(nb, a, 4);
	connect_front(nb, b, 4);
}

/* A frame from f to dst (NULL: broadcast) of len bytes, in one slot. */
void send_frame(struct front *f, const uint8_t *dst, uint16_t len, uint8_t fill)
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

void raw_tx(struct front *f, struct netif_tx_request r)
{
	f->tx->ring[f->tx_prod % NETIF_TX_RING_SIZE].req.req = r;
	f->tx_prod++;
	f->tx->req_prod = f->tx_prod;
}

/* The next rx response of f: its status; *data its bytes. */
int rx_next(struct front *f, const uint8_t **data)
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

int tx_status(struct front *f)
{
	struct netif_tx_response *r;

	if (f->tx->rsp_prod == f->tx_rsp)
		return -100;
	r = &f->tx->ring[f->tx_rsp % NETIF_TX_RING_SIZE].rsp;
	f->tx_rsp++;
	return r->status;
}

static int fx_copy_start(void *arg, struct gnttab_copy *ops, size_t n)
{
	(void)arg;
	assert_null(F.pending);		/* one copy at a time */
	F.pending = ops;
	F.npending = n;
	F.starts++;
	return 0;
}

int answer_copy(struct netback *nb)
{
	struct gnttab_copy *ops = F.pending;

	if (!ops)
		return 0;
	F.pending = NULL;
	fx_copy(NULL, ops, F.npending);
	netback_copy_done(nb, 0);
	return 1;
}

static struct netback *open_with(const struct netback_host *host)
{
	struct netback_window w = { .data = F.window, .maddr = WIN_MADDR, .bytes = WIN_BYTES };
	struct netback *nb;
	char err[200];

	memset(&F, 0, sizeof(F));
	F.now = 1000;
	assert_int_equal(netback_open(host, &w, &nb, err, sizeof(err)), 0);
	return nb;
}

struct netback *open_nb(void)
{
	return open_with(&HOST);
}

struct netback *open_nb_async(void)
{
	static struct netback_host async;

	async = HOST;
	async.grant_copy_start = fx_copy_start;
	return open_with(&async);
}

/* ---- the asynchronous connect ---- */

static void *fx_call(int kind)
{
	assert_true(F.ncalls < (int)(sizeof(F.call) / sizeof(F.call[0])));
	memset(&F.call[F.ncalls], 0, sizeof(F.call[0]));
	F.call[F.ncalls].kind = kind;
	return &F.call[F.ncalls++];
}

static int fx_map_start(void *arg, uint32_t domid, const uint32_t *grefs, unsigned n, void **pages,
			uint32_t *handles, uint64_t *mfns, void *cookie)
{
	typeof(F.call[0]) *c = fx_call(FX_MAP);

	(void)arg;
	c->cookie = cookie;
	c->domid = domid;
	c->n = n;
	memcpy(c->grefs, grefs, n * sizeof(*grefs));
	c->pages = pages;
	c->handles = handles;
	c->mfns = mfns;
	return 0;
}

static int fx_bind_start(void *arg, uint32_t domid, uint32_t remote_port, void *cookie)
{
	typeof(F.call[0]) *c = fx_call(FX_BIND);

	(void)arg;
	c->cookie = cookie;
	c->domid = domid;
	c->remote = remote_port;
	return 0;
}

static void fx_unmap_start(void *arg, const uint32_t *handles, unsigned n)
{
	typeof(F.call[0]) *c = fx_call(FX_UNMAP);

	(void)arg;
	c->n = n;
	memcpy(c->grefs, handles, n * sizeof(*handles));
}

static void fx_unbind_start(void *arg, uint32_t port)
{
	typeof(F.call[0]) *c = fx_call(FX_UNBIND);

	(void)arg;
	c->port = port;
}

int answer_calls(struct netback *nb)
{
	typeof(F.call[0]) calls[sizeof(F.call) / sizeof(F.call[0])];
	int n = F.ncalls;

	memcpy(calls, F.call, sizeof(calls));
	F.ncalls = 0;	/* a done may start the connect's next call */
	for (int i = 0; i < n; i++) {
		typeof(F.call[0]) *c = &calls[i];
		unsigned bad = 0;
		uint32_t port = 0;
		int rc;
		switch (c->kind) {
		case FX_MAP:
			rc = fx_map(NULL, c->domid, c->grefs, c->n, c->pages, c->handles, c->mfns, &bad);
			netback_map_done(nb, c->cookie, rc, bad);
			break;
		case FX_BIND:
			rc = F.bind_fail ? -EINVAL : fx_bind(NULL, c->domid, c->remote, &port);
			netback_bind_done(nb, c->cookie, rc, port);
			break;
		case FX_UNMAP:
			fx_unmap(NULL, c->grefs, c->n);
			break;
		case FX_UNBIND:
			fx_unbind(NULL, c->port);
			break;
		}
	}
	return n;
}

struct netback *open_nb_async_connect(void)
{
	static struct netback_host async;

	async = HOST;
	async.grant_copy_start = fx_copy_start;
	async.map_grants_start = fx_map_start;
	async.bind_start = fx_bind_start;
	async.unmap_grants = fx_unmap_start;
	async.unbind = fx_unbind_start;
	return open_with(&async);
}
