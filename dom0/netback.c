/*
 * netback.c - netback's vif table and packet path (see netback.h).
 *
 * Owns: struct netback (its vifs, the copy window) and the batches.
 * A poll runs up to NB_ROUNDS rounds; each round
 *   1. takes validated tx packets from the connected vifs in turn (the
 *      starting vif rotates; a vif whose network has a capacity only
 *      while netback_share.c's deficit round robin lets it), as many as
 *      the window holds, and copies
 *      them all into the window with one grant-copy call;
 *   2. answers their tx requests, checks each frame's source MAC (and,
 *      for a vif with addresses, its IPv4 or ARP source) against its
 *      vif's (anti-spoofing, netback_filter.c), learns the MAC, and looks up the destination
 *      on the vif's internal network (broadcast, multicast and unknown
 *      destinations are flooded to the network's other vifs);
 *   3. copies each frame from the window into an rx buffer of each
 *      destination with one grant-copy call (more when the operations
 *      overflow), answers those rx requests and kicks each frontend whose
 *      rings ask for it, once.
 * A frame copied into the window costs two copies by the hypervisor (in
 * and out); Domain 0 reads only its header. Invariants: nothing is read
 * from the window before the copy's status says it was written; a tx
 * request is answered exactly once; an rx buffer is answered exactly once.
 * The rounds are steps (enum nb_step, drive): with a host whose grant
 * copy is asynchronous (grant_copy_start) a step that copies ends the
 * poll with the copy under way (nb->copying: polls meanwhile do the
 * handshakes alone) and netback_copy_done goes on from the next step;
 * the switch (forward) stops where the batch has no room and goes on
 * there after that copy. A held frame and a delivery name their vif's
 * connection (nb_vif.gen): one gone or connected again meanwhile is
 * neither answered nor delivered to.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netback_internal.h"

#define NB_ROUNDS        8
#define NB_PAGE          4096u

/* A packet in the window. */
struct nb_held {
	int vif;
	uint32_t gen;			/* its vif's connection */
	size_t off;			/* in the window */
	uint16_t len, flags;
	uint32_t first_op, nops;
	struct nb_tx_packet pkt;	/* answered once its copy is done */
};

/* A frame on its way into one rx buffer. */
struct nb_delivery {
	int vif;
	uint32_t gen;			/* its vif's connection */
	uint16_t id, len, flags;
	uint32_t first_op, nops;
};

/* The steps of a poll's data path (drive): a step that copies ends with
 * the copy under way, and the next step goes on when it is done. */
enum nb_step {
	NB_S_TAP,		/* a round of TAP frames into the window */
	NB_S_TAP_COPIED,	/* ... copied into rx buffers: answered */
	NB_S_TX,		/* a round of tx packets taken, copied into the window */
	NB_S_TX_COPIED,		/* ... their copies done */
	NB_S_FWD,		/* the switch (forward), until done or out of room */
	NB_S_FWD_COPIED,	/* ... its rx copies done, the switch goes on */
	NB_S_FWD_DONE,		/* ... its last rx copies done: the next tx round */
};

struct nb_batch {
	struct nb_held held[64];
	unsigned int nheld;
	struct nb_delivery out[NETBACK_COPY_OPS];
	unsigned int nout;
	struct gnttab_copy ops[NETBACK_COPY_OPS];
	unsigned int nops;
	struct gnttab_copy in_status[NETBACK_COPY_OPS];	/* phase 1's, kept */
	unsigned int start;		/* vif to take from first */
	/* where the poll's work is (drive): its step, rounds, the last copy's
	 * result, and where the switch stopped for room (forward) */
	enum nb_step step;
	unsigned int tap_round, tx_round;
	int rc, failed;
	unsigned int fwd_k, fwd_i;
	int fwd_begun, fwd_to;
};

void nb_log(struct netback *nb, int warn, const char *fmt, ...)
{
	char line[400];
	va_list ap;
	int n = snprintf(line, sizeof(line), "netback: ");

	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	nb->host.log(nb->host.arg, warn, line);
}

void nb_vif_log(struct netback *nb, struct nb_vif *v, const char *fmt, ...)
{
	char line[300];
	va_list ap;

	if (v->log_budget == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	v->log_budget--;
	nb_log(nb, 1, "domain %u vif %u: %s%s", v->domid, v->devid, line,
	       v->log_budget ? "" : " (further drops of this vif are not logged)");
}

int netback_is_internal(const char *network)
{
	return !strncmp(network, "internal", 8) &&
	       (network[8] == '\0' || network[8] == '-' || network[8] == '.' || network[8] == '_');
}

int netback_open(const struct netback_host *host, const struct netback_window *win, struct netback **out,
		 char *err, size_t errlen)
{
	struct netback *nb;

	if (win->bytes < NB_MAX_FRAME + NB_PAGE || (win->maddr & (NB_PAGE - 1))) {
		snprintf(err, errlen, "netback: the copy window (%zu bytes at %#llx) is too small or not "
			 "page-aligned", win->bytes, (unsigned long long)win->maddr);
		return -EINVAL;
	}
	nb = calloc(1, sizeof(*nb));
	if (!nb) {
		snprintf(err, errlen, "netback: out of memory");
		return -ENOMEM;
	}
	nb->batch = calloc(1, sizeof(*nb->batch));
	if (!nb->batch) {
		free(nb);
		snprintf(err, errlen, "netback: out of memory");
		return -ENOMEM;
	}
	nb->host = *host;
	nb->win = *win;
	nb_fdb_init(nb);
	*out = nb;
	return 0;
}

static void close_tap(struct netback *nb, struct nb_vif *v)
{
	if (v->tap_fd >= 0)
		nb->host.tap_close(nb->host.arg, v->tap_fd);
	v->tap_fd = -1;
}

void netback_close(struct netback *nb)
{
	if (!nb)
		return;
	/* connected vifs stay mapped and bound: a later host resumes them */
	for (int i = 0; i < NETBACK_MAX_VIFS; i++)
		if (nb->vif[i].used)
			close_tap(nb, &nb->vif[i]);
	while (nb->connects) {	/* their calls were cancelled by the host */
		struct nb_connect *k = nb->connects;
		nb->connects = k->next;
		free(k);
	}
	free(nb->batch);
	free(nb);
}

static int vif_start(struct netback *nb, const struct netback_vif_config *cfg, int resume, char *err,
		     size_t errlen)
{
	struct nb_vif *v = NULL;
	int rc;

	if (strlen(cfg->network) >= NB_NETWORK_LEN || !cfg->network[0]) {
		snprintf(err, errlen, "vif %u of domain %u: network name \"%s\" is empty or too long", cfg->devid,
			 cfg->domid, cfg->network);
		return -EINVAL;
	}
	for (int i = 0; i < NETBACK_MAX_VIFS; i++) {
		if (nb->vif[i].used && nb->vif[i].domid == cfg->domid && nb->vif[i].devid == cfg->devid) {
			snprintf(err, errlen, "vif %u of domain %u exists already", cfg->devid, cfg->domid);
			return -EEXIST;
		}
		if (!nb->vif[i].used && !v)
			v = &nb->vif[i];
	}
	if (!v) {
		snprintf(err, errlen, "vif %u of domain %u: netback serves at most %d vifs", cfg->devid,
			 cfg->domid, NETBACK_MAX_VIFS);
		return -ENOSPC;
	}
	memset(v, 0, sizeof(*v));
	v->domid = cfg->domid;
	v->devid = cfg->devid;
	v->tap_fd = -1;
	memcpy(v->mac, cfg->mac, 6);
	v->nips = cfg->nips < NETBACK_MAX_IPS ? cfg->nips : NETBACK_MAX_IPS;
	memcpy(v->ips, cfg->ips, v->nips * sizeof(v->ips[0]));
	nb_bucket_init(&v->tx_bucket, cfg->rate, cfg->burst, nb->host.now_ms(nb->host.arg));
	nb_bucket_init(&v->rx_bucket, cfg->rate, cfg->burst, nb->host.now_ms(nb->host.arg));
	snprintf(v->network, sizeof(v->network), "%s", cfg->network);
	v->weight = cfg->weight ? cfg->weight : 256;
	nb_share_attach(nb, v);
	if (!netback_is_internal(cfg->network)) {
		char ifname[16], terr[240];
		snprintf(ifname, sizeof(ifname), "vif%u.%u", cfg->domid, cfg->devid);
		rc = nb->host.tap_open(nb->host.arg, ifname, cfg->network, &v->tap_fd, terr, sizeof(terr));
		if (rc < 0) {
			snprintf(err, errlen, "vif %u of domain %u: %s", cfg->devid, cfg->domid, terr);
			return rc;
		}
	}
	rc = resume ? nb_xs_resume(nb, v, err, errlen) : nb_xs_publish(nb, v, err, errlen);
	if (rc < 0) {
		close_tap(nb, v);
		return rc;
	}
	v->used = 1;
	return 0;
}

int netback_vif_add(struct netback *nb, const struct netback_vif_config *cfg, char *err, size_t errlen)
{
	return vif_start(nb, cfg, 0, err, errlen);
}

int netback_vif_resume(struct netback *nb, const struct netback_vif_config *cfg, char *err, size_t errlen)
{
	return vif_start(nb, cfg, 1, err, errlen);
}

void netback_domain_gone(struct netback *nb, uint32_t domid)
{
	for (int i = 0; i < NETBACK_MAX_VIFS; i++)
		if (nb->vif[i].used && nb->vif[i].domid == domid) {
			nb_xs_remove(nb, &nb->vif[i]);
			close_tap(nb, &nb->vif[i]);
			nb->vif[i].used = 0;
		}
}

static struct nb_vif *find_vif(const struct netback *nb, uint32_t domid, uint32_t devid)
{
	for (int i = 0; i < NETBACK_MAX_VIFS; i++)
		if (nb->vif[i].used && nb->vif[i].domid == domid && nb->vif[i].devid == devid)
			return (struct nb_vif *)&nb->vif[i];
	return NULL;
}

/* A detached vif: disconnected, its directories and TAP device gone. */
static void vif_detached(struct netback *nb, struct nb_vif *v)
{
	nb_xs_remove(nb, v);
	nb->host.xs_rm(nb->host.arg, v->fe_path);
	close_tap(nb, v);
	nb_log(nb, 0, "domain %u vif %u: detached", v->domid, v->devid);
	v->used = 0;
}

int netback_vif_detach(struct netback *nb, uint32_t domid, uint32_t devid, int force, char *err, size_t errlen)
{
	struct nb_vif *v = find_vif(nb, domid, devid);

	if (!v) {
		snprintf(err, errlen, "domain %u has no vif %u in netback", domid, devid);
		return -ENOENT;
	}
	v->detaching = 1;
	if (force || v->state != NB_CONNECTED) {
		vif_detached(nb, v);
		return 0;
	}
	nb_xs_request_close(nb, v);
	nb_log(nb, 0, "domain %u vif %u: detaching", domid, devid);
	return 1;
}

int netback_vif_state(const struct netback *nb, uint32_t domid, uint32_t devid)
{
	const struct nb_vif *v = find_vif(nb, domid, devid);

	return !v ? NETBACK_VIF_NONE : v->detaching ? NETBACK_VIF_DETACHING : NETBACK_VIF_ATTACHED;
}

int netback_vif_set_rate(struct netback *nb, uint32_t domid, uint32_t devid, uint64_t rate, uint64_t burst,
			 char *err, size_t errlen)
{
	struct nb_vif *v = find_vif(nb, domid, devid);
	uint64_t now = nb->host.now_ms(nb->host.arg);

	if (!v) {
		snprintf(err, errlen, "domain %u has no vif %u in netback", domid, devid);
		return -ENOENT;
	}
	nb_bucket_init(&v->tx_bucket, rate, burst, now);
	nb_bucket_init(&v->rx_bucket, rate, burst, now);
	return 0;
}

size_t netback_stats(const struct netback *nb, struct netback_vif_stats *out, size_t max)
{
	size_t n = 0;

	for (int i = 0; i < NETBACK_MAX_VIFS && n < max; i++) {
		const struct nb_vif *v = &nb->vif[i];
		if (!v->used)
			continue;
		out[n++] = (struct netback_vif_stats){ .domid = v->domid, .devid = v->devid,
			.connected = v->state == NB_CONNECTED, .tx_packets = v->tx_packets,
			.tx_bytes = v->tx_bytes, .rx_packets = v->rx_packets, .rx_bytes = v->rx_bytes,
			.tx_dropped = v->tx_dropped, .rx_dropped = v->rx_dropped };
	}
	return n;
}

/* Ops copying [off, off + len) of the window from or to one granted page
 * (gref at goff): split where the window's pages end. */
static void add_window_ops(struct netback *nb, struct nb_batch *b, int to_window, uint32_t domid, uint32_t gref,
			   uint16_t goff, size_t off, uint16_t len)
{
	while (len) {
		uint64_t maddr = nb->win.maddr + off;
		uint16_t in_page = (uint16_t)(NB_PAGE - (maddr & (NB_PAGE - 1)));
		uint16_t n = len < in_page ? len : in_page;
		struct gnttab_copy *op = &b->ops[b->nops++];
		struct gnttab_copy_ptr mine = { .u.gmfn = maddr >> 12, .domid = DOMID_SELF,
						.offset = (uint16_t)(maddr & (NB_PAGE - 1)) };
		struct gnttab_copy_ptr theirs = { .u.ref = gref, .domid = (domid_t)domid, .offset = goff };

		memset(op, 0, sizeof(*op));
		op->source = to_window ? theirs : mine;
		op->dest = to_window ? mine : theirs;
		op->flags = to_window ? GNTCOPY_source_gref : GNTCOPY_dest_gref;
		op->len = n;
		off += n;
		goff = (uint16_t)(goff + n);
		len = (uint16_t)(len - n);
	}
}

/* The batch's copies: done at once with a synchronous host (0, b->rc
 * set), or started (1: the batch goes on in netback_copy_done). */
static int copy_start(struct netback *nb, struct nb_batch *b)
{
	int rc;

	b->rc = 0;
	if (!b->nops)
		return 0;
	if (nb->host.grant_copy_start) {
		rc = nb->host.grant_copy_start(nb->host.arg, b->ops, b->nops);
		if (rc == 0) {
			nb->copying = 1;
			return 1;
		}
	} else {
		rc = nb->host.grant_copy(nb->host.arg, b->ops, b->nops);
	}
	b->rc = rc;
	return 0;
}

static int copies_failed(struct netback *nb, struct nb_batch *b)
{
	if (b->rc < 0)
		nb_log(nb, 1, "grant copy of %u operations failed (%d): the batch is dropped", b->nops, b->rc);
	return b->rc < 0;
}

static int ops_ok(const struct nb_batch *b, uint32_t first, uint32_t n, int16_t *bad)
{
	for (uint32_t i = first; i < first + n; i++)
		if (b->ops[i].status != GNTST_okay) {
			*bad = b->ops[i].status;
			return 0;
		}
	return 1;
}

/* Phase 1: packets of the connected vifs into the window. */
static void take_tx(struct netback *nb, struct nb_batch *b)
{
	uint64_t now = nb->host.now_ms(nb->host.arg);
	size_t off = 0;
	int progress = 1, quanta = 0;

	b->nheld = 0;
	b->nops = 0;
	nb_share_round_start(nb);
	while (progress) {
		progress = 0;
		for (unsigned int k = 0; k < NETBACK_MAX_VIFS; k++) {
			int i = (int)((b->start + k) % NETBACK_MAX_VIFS);
			struct nb_vif *v = &nb->vif[i];
			struct nb_held *h;
			size_t pos;
			if (!v->used || v->state != NB_CONNECTED)
				continue;
			if (b->nheld == sizeof(b->held) / sizeof(b->held[0]) || off + NB_MAX_FRAME > nb->win.bytes ||
			    b->nops + 2 * NB_MAX_TX_SLOTS > NETBACK_COPY_OPS)
				return;
			h = &b->held[b->nheld];
			if (!nb_bucket_allows(&v->tx_bucket, now) || !nb_share_allows(nb, v, now))
				continue;
			if (nb_tx_take(nb, v, &h->pkt) <= 0) {
				nb_share_idle(v);
				continue;
			}
			nb_bucket_charge(&v->tx_bucket, h->pkt.total);
			nb_share_charge(nb, v, h->pkt.total);
			progress = 1;
			v->need_notify = 1;
			if (h->pkt.drop) {
				nb_vif_log(nb, v, "tx packet of %u bytes dropped: %s", h->pkt.total, h->pkt.why);
				nb_tx_answer(v, &h->pkt, XEN_NETIF_RSP_ERROR);
				v->tx_dropped++;
				continue;
			}
			b->nheld++;
			h->vif = i;
			h->gen = v->gen;
			h->off = off;
			h->len = h->pkt.total;
			h->flags = h->pkt.flags;
			h->first_op = b->nops;
			pos = off;
			for (unsigned int s = 0; s < h->pkt.nslots; s++) {
				add_window_ops(nb, b, 1, v->domid, h->pkt.slot[s].gref, h->pkt.slot[s].offset, pos,
					       h->pkt.slot[s].size);
				pos += h->pkt.slot[s].size;
			}
			h->nops = b->nops - h->first_op;
			off += (h->len + 63u) & ~63u;
		}
		/* vifs held back by their deficit alone: the next DRR round */
		if (!progress && quanta++ < NETBACK_MAX_VIFS)
			progress = nb_share_replenish(nb, now);
	}
}

/* The rx buffers the batch's copies filled are answered. */
static void deliver_answers(struct netback *nb, struct nb_batch *b)
{
	int failed = copies_failed(nb, b);

	for (unsigned int i = 0; i < b->nout; i++) {
		struct nb_delivery *d = &b->out[i];
		struct nb_vif *v = &nb->vif[d->vif];
		int16_t bad = 0;
		if (!v->used || v->state != NB_CONNECTED || v->gen != d->gen)
			continue;	/* gone or connected again meanwhile */
		if (failed || !ops_ok(b, d->first_op, d->nops, &bad)) {
			nb_vif_log(nb, v, "rx buffer %u: grant copy status %d; frame dropped", d->id, bad);
			nb_rx_answer(v, d->id, 0, XEN_NETIF_RSP_ERROR);
			v->rx_dropped++;
		} else {
			nb_rx_answer(v, d->id, d->flags, (int16_t)d->len);
			v->rx_packets++;
			v->rx_bytes += d->len;
		}
		v->need_notify = 1;
	}
	b->nout = 0;
	b->nops = 0;
}

/* The batch has room for one more delivery. */
static int room(const struct nb_batch *b)
{
	return b->nops + 4 <= NETBACK_COPY_OPS && b->nout < NETBACK_COPY_OPS;
}

/* A frame into one rx buffer of vif `to`: 0, or -1 when the batch has no
 * room (copy what it has, then deliver again). */
static int deliver_one(struct netback *nb, struct nb_batch *b, const struct nb_held *h, int to)
{
	struct nb_vif *v = &nb->vif[to];
	struct netif_rx_request rq;
	uint16_t flags = 0;

	if (!v->used || v->state != NB_CONNECTED)
		return 0;
	if (!nb_bucket_allows(&v->rx_bucket, nb->host.now_ms(nb->host.arg))) {
		v->rx_dropped++;		/* over its rate: policed */
		return 0;
	}
	if (!room(b))
		return -1;
	if (!nb_rx_take(nb, v, &rq)) {
		v->rx_dropped++;		/* no buffer posted: as a full NIC queue */
		return 0;
	}
	if (h->flags & XEN_NETTXF_csum_blank)
		flags = XEN_NETRXF_csum_blank | XEN_NETRXF_data_validated;
	else if (h->flags & XEN_NETTXF_data_validated)
		flags = XEN_NETRXF_data_validated;
	nb_bucket_charge(&v->rx_bucket, h->len);
	b->out[b->nout] = (struct nb_delivery){ .vif = to, .gen = v->gen, .id = rq.id, .len = h->len,
						.flags = flags, .first_op = b->nops };
	add_window_ops(nb, b, 0, v->domid, rq.gref, 0, h->off, h->len);
	b->out[b->nout].nops = b->nops - b->out[b->nout].first_op;
	b->nout++;
	return 0;
}

/* A frame of a vif on a Linux bridge out through its TAP device (whose
 * descriptor does not block: a full queue drops the frame). */
static void tap_send(struct netback *nb, struct nb_vif *v, uint8_t *frame, const struct nb_held *h)
{
	ssize_t n;

	if (h->flags & XEN_NETTXF_csum_blank)
		nb_csum_fill(frame, h->len);
	n = write(v->tap_fd, frame, h->len);
	if (n != (ssize_t)h->len) {
		v->tx_dropped++;
		if (n < 0 && errno != EAGAIN)
			nb_vif_log(nb, v, "TAP device: %s", strerror(errno));
	}
}

/* A TAP device whose vif cannot take its frames (not connected, or no rx
 * buffer posted) is drained: the frames are dropped as a full NIC queue
 * drops them, so that its descriptor does not stay readable and spin the
 * loop. */
static void tap_drain(struct nb_vif *v)
{
	uint8_t scratch[NB_MAX_FRAME];

	for (int k = 0; k < 64 && read(v->tap_fd, scratch, sizeof(scratch)) >= 0; k++)
		v->rx_dropped++;
}

/* Frames waiting on the TAP devices, read into the window while it and
 * the batch have room and their vif has rx buffers (to be copied into
 * those buffers). */
static unsigned int take_from_taps(struct netback *nb, struct nb_batch *b)
{
	size_t off = 0;
	unsigned int frames = 0;

	b->nops = 0;
	b->nout = 0;
	for (int i = 0; i < NETBACK_MAX_VIFS; i++) {
		struct nb_vif *v = &nb->vif[i];
		uint32_t avail;
		if (!v->used || v->tap_fd < 0)
			continue;
		if (v->state != NB_CONNECTED || nb_rx_avail(v) == 0) {
			tap_drain(v);
			continue;
		}
		for (avail = nb_rx_avail(v); avail > 0 && off + NB_MAX_FRAME <= nb->win.bytes && room(b); avail--) {
			struct nb_held h = { .vif = -1, .off = off };
			ssize_t n = read(v->tap_fd, nb->win.data + off, NB_MAX_FRAME);
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				nb_vif_log(nb, v, "TAP device: %s", strerror(errno));
			if (n <= 0)
				break;
			if (n < NB_ETH_HLEN)
				continue;
			h.len = (uint16_t)n;
			frames++;
			deliver_one(nb, b, &h, i);	/* room was checked */
			off += ((size_t)n + 63u) & ~(size_t)63u;
		}
	}
	return frames;
}

/* Phase 2: the switch, from held packet fwd_k (and, for a broadcast,
 * target fwd_i) on: 1 when it stopped because the batch is out of room
 * (copy, answer, then call it again: it goes on where it stopped), 0 once
 * every held packet is through. A packet is answered, filtered and
 * learnt from once (fwd_begun). */
static int forward(struct netback *nb, struct nb_batch *b)
{
	const struct gnttab_copy *in_status = b->in_status;
	uint64_t now = nb->host.now_ms(nb->host.arg);

	for (; b->fwd_k < b->nheld; b->fwd_k++, b->fwd_i = 0, b->fwd_begun = 0) {
		const struct nb_held *h = &b->held[b->fwd_k];
		struct nb_vif *v = &nb->vif[h->vif];
		const uint8_t *frame = nb->win.data + h->off;
		int16_t bad = 0;
		char why[120];

		if (!b->fwd_begun) {
			b->fwd_begun = 1;
			b->fwd_to = -2;		/* nowhere */
			if (v->state != NB_CONNECTED || v->gen != h->gen)
				continue;	/* shut meanwhile: its rings are gone */
			for (uint32_t i = h->first_op; !b->failed && i < h->first_op + h->nops && !bad; i++)
				bad = in_status[i].status;
			nb_tx_answer(v, &h->pkt, b->failed || bad ? XEN_NETIF_RSP_ERROR : XEN_NETIF_RSP_OKAY);
			v->need_notify = 1;	/* (its copy may have ended a later poll) */
			if (b->failed || bad) {
				nb_vif_log(nb, v, "tx packet of %u bytes dropped: grant copy status %d", h->len, bad);
				v->tx_dropped++;
				continue;
			}
			switch (nb_filter_tx(v, frame, h->len, why, sizeof(why))) {
			case NB_FILTER_SPOOF:
				nb_vif_log(nb, v, "tx frame dropped: %s", why);
				v->tx_dropped++;
				continue;
			case NB_FILTER_POLICY:	/* not hostile: said once, counted always */
				if (!v->told_policy)
					nb_log(nb, 0, "domain %u vif %u: tx frames dropped: %s", v->domid, v->devid, why);
				v->told_policy = 1;
				v->tx_dropped++;
				continue;
			}
			v->tx_packets++;
			v->tx_bytes += h->len;
			if (v->tap_fd >= 0) {
				tap_send(nb, v, nb->win.data + h->off, h);
				continue;
			}
			nb_fdb_learn(nb, h->vif, v->mac, now);
			b->fwd_to = (frame[0] & 1) ? -1 : nb_fdb_lookup(nb, v->network, frame, now);
			if (b->fwd_to == h->vif)
				b->fwd_to = -2;		/* to itself: a switch does not send back */
		}
		if (b->fwd_to == -2)
			continue;
		if (b->fwd_to >= 0) {
			if (deliver_one(nb, b, h, b->fwd_to) < 0)
				return 1;
			continue;
		}
		for (; b->fwd_i < NETBACK_MAX_VIFS; b->fwd_i++) {
			int i = (int)b->fwd_i;
			if (i != h->vif && nb->vif[i].used && nb->vif[i].tap_fd < 0 &&
			    !strcmp(nb->vif[i].network, v->network) && deliver_one(nb, b, h, i) < 0)
				return 1;
		}
	}
	return 0;
}

/* The poll's data path from where it is: 1 when a copy is under way (it
 * goes on in netback_copy_done), 0 when this poll's work is done. With a
 * synchronous host every copy is done at once and this runs through. */
static int drive(struct netback *nb)
{
	struct nb_batch *b = nb->batch;

	for (;;) {
		switch (b->step) {
		case NB_S_TAP:
			if (b->tap_round >= NB_ROUNDS || !take_from_taps(nb, b)) {
				b->step = NB_S_TX;
				break;
			}
			b->tap_round++;
			b->step = NB_S_TAP_COPIED;
			if (copy_start(nb, b))
				return 1;
			break;
		case NB_S_TAP_COPIED:
			deliver_answers(nb, b);
			b->step = NB_S_TAP;
			break;
		case NB_S_TX:
			if (b->tx_round >= NB_ROUNDS) {
				b->step = NB_S_TAP;	/* done: the next poll starts over */
				b->tap_round = b->tx_round = 0;
				return 0;
			}
			b->tx_round++;
			take_tx(nb, b);
			b->start = (b->start + 1) % NETBACK_MAX_VIFS;
			if (!b->nheld) {
				b->tx_round = NB_ROUNDS;
				break;
			}
			b->step = NB_S_TX_COPIED;
			if (copy_start(nb, b))
				return 1;
			break;
		case NB_S_TX_COPIED:
			b->failed = copies_failed(nb, b);
			memcpy(b->in_status, b->ops, b->nops * sizeof(b->ops[0]));
			b->nout = 0;
			b->nops = 0;
			b->fwd_k = b->fwd_i = 0;
			b->fwd_begun = 0;
			b->step = NB_S_FWD;
			break;
		case NB_S_FWD:
			b->step = forward(nb, b) ? NB_S_FWD_COPIED : NB_S_FWD_DONE;
			if (copy_start(nb, b))
				return 1;
			break;
		case NB_S_FWD_COPIED:
			deliver_answers(nb, b);
			b->step = NB_S_FWD;
			break;
		case NB_S_FWD_DONE:
			deliver_answers(nb, b);
			b->step = NB_S_TX;
			break;
		}
	}
}

static void notify_vifs(struct netback *nb)
{
	for (int i = 0; i < NETBACK_MAX_VIFS; i++) {
		struct nb_vif *v = &nb->vif[i];
		if (!v->used || v->state != NB_CONNECTED || !v->need_notify)
			continue;
		v->need_notify = 0;
		if (nb_rings_push(v))
			nb->host.notify(nb->host.arg, v->port);
	}
}

void netback_copy_done(struct netback *nb, int rc)
{
	nb->copying = 0;
	nb->batch->rc = rc;
	drive(nb);
	notify_vifs(nb);
}

int netback_busy(const struct netback *nb)
{
	return nb->copying;
}

void netback_poll(struct netback *nb)
{
	for (int i = 0; i < NETBACK_MAX_VIFS; i++) {
		if (!nb->vif[i].used)
			continue;
		nb_xs_poll(nb, &nb->vif[i]);
		if (nb->vif[i].detaching && nb->vif[i].state != NB_CONNECTED)
			vif_detached(nb, &nb->vif[i]);
	}
	if (!nb->copying)	/* else the batch goes on when its copy is done */
		drive(nb);
	notify_vifs(nb);
}
