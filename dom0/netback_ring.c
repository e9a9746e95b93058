/*
 * netback_ring.c - the tx and rx rings of a connected vif: requests read
 * from the shared page, copied and validated before use; responses
 * written and published.
 *
 * Owns: the back-ring indices of each vif (req_cons, rsp_prod_pvt).
 * Invariants: a request is copied out of the shared page once and only
 * the copy is used (the frontend may rewrite the slot meanwhile); the
 * indices the frontend publishes are checked against the ring size before
 * anything is read; every consumed tx slot gets exactly one response
 * (extra-info slots XEN_NETIF_RSP_NULL), so responses never overtake
 * requests. A packet whose chain is not complete yet is left on the ring.
 * What breaks the protocol (indices, a chain over NB_MAX_TX_SLOTS, a slot
 * crossing its page, an unknown extra type) shuts the vif; what is merely
 * a bad packet (sizes) drops that packet.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "netback_internal.h"

static uint32_t load_acquire(const RING_IDX *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void fatal(struct netback *nb, struct nb_vif *v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fatal(struct netback *nb, struct nb_vif *v, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	nb_vif_fatal(nb, v, why);
}

static void drop(struct nb_tx_packet *p, const char *why)
{
	if (!p->drop) {
		p->drop = 1;
		p->why = why;
	}
}

/* The extra-info slots after the first request: from index *idx. */
static int take_extras(struct netback *nb, struct nb_vif *v, struct nb_tx_packet *p, RING_IDX *idx,
		       RING_IDX prod)
{
	struct netif_extra_info ex;

	do {
		if (*idx == prod)
			return 0;
		if (p->nextra == NB_MAX_TX_SLOTS) {
			fatal(nb, v, "tx ring: more than %u extra-info slots", NB_MAX_TX_SLOTS);
			return -1;
		}
		memcpy(&ex, &RING_GET_REQUEST(&v->tx, *idx)->extra, sizeof(ex));
		(*idx)++;
		if (ex.type == XEN_NETIF_EXTRA_TYPE_NONE || ex.type >= XEN_NETIF_EXTRA_TYPE_MAX) {
			fatal(nb, v, "tx ring: extra-info slot of unknown type %u", ex.type);
			return -1;
		}
		if (ex.type == XEN_NETIF_EXTRA_TYPE_GSO)
			drop(p, "GSO requested but feature-gso-* is not offered");
		p->nextra++;
	} while (ex.flags & XEN_NETIF_EXTRA_FLAG_MORE);
	return 1;
}

int nb_tx_take(struct netback *nb, struct nb_vif *v, struct nb_tx_packet *p)
{
	RING_IDX prod = load_acquire(&v->tx.sring->req_prod), idx = v->tx.req_cons;
	uint32_t avail = prod - idx, rest = 0;
	struct netif_tx_request r;
	int rc;

	if (avail > RING_SIZE(&v->tx)) {
		fatal(nb, v, "tx ring: req_prod is %u requests ahead (ring of %u)", avail, RING_SIZE(&v->tx));
		return -1;
	}
	if (avail == 0)
		return 0;
	p->nslots = p->nextra = 0;
	p->drop = 0;
	p->why = NULL;
	memcpy(&r, &RING_GET_REQUEST(&v->tx, idx)->req, sizeof(r));
	idx++;
	p->slot[p->nslots++] = r;
	p->flags = r.flags;
	p->total = r.size;
	if (r.flags & XEN_NETTXF_extra_info) {
		rc = take_extras(nb, v, p, &idx, prod);
		if (rc <= 0)
			goto incomplete;
	}
	while (r.flags & XEN_NETTXF_more_data) {
		if (idx == prod)
			goto incomplete_rc0;
		if (p->nslots == NB_MAX_TX_SLOTS) {
			fatal(nb, v, "tx ring: a packet of more than %u slots", NB_MAX_TX_SLOTS);
			return -1;
		}
		memcpy(&r, &RING_GET_REQUEST(&v->tx, idx)->req, sizeof(r));
		idx++;
		p->slot[p->nslots++] = r;
		rest += r.size;
	}
	/* the first slot holds what its fragments do not */
	if (rest > p->total)
		drop(p, "its fragments are larger than the packet");
	else
		p->slot[0].size = (uint16_t)(p->total - rest);
	for (unsigned int i = p->drop ? 1 : 0; i < p->nslots; i++)
		if ((uint32_t)p->slot[i].offset + p->slot[i].size > XEN_RING_PAGE_SIZE) {
			fatal(nb, v, "tx ring: a slot of %u bytes at offset %u crosses its page",
			      p->slot[i].size, p->slot[i].offset);
			return -1;
		}
	if (p->total < NB_ETH_HLEN)
		drop(p, "shorter than an Ethernet header");
	if (p->total > NB_MAX_FRAME)
		drop(p, "larger than the MTU (1500)");
	v->tx.req_cons = idx;
	return 1;

incomplete_rc0:
	rc = 0;
incomplete:
	if (rc == 0 && avail == RING_SIZE(&v->tx)) {
		fatal(nb, v, "tx ring: full of an incomplete packet (%u slots, ring of %u)", avail,
		      RING_SIZE(&v->tx));
		return -1;
	}
	return rc;
}

static void tx_response(struct nb_vif *v, uint16_t id, int16_t status)
{
	struct netif_tx_response *rsp = RING_GET_RESPONSE(&v->tx, v->tx.rsp_prod_pvt);

	rsp->id = id;
	rsp->status = status;
	v->tx.rsp_prod_pvt++;
}

void nb_tx_answer(struct nb_vif *v, const struct nb_tx_packet *p, int16_t status)
{
	tx_response(v, p->slot[0].id, status);
	for (unsigned int i = 0; i < p->nextra; i++)
		tx_response(v, 0, XEN_NETIF_RSP_NULL);
	for (unsigned int i = 1; i < p->nslots; i++)
		tx_response(v, p->slot[i].id, status);
}

int nb_rx_take(struct netback *nb, struct nb_vif *v, struct netif_rx_request *req)
{
	RING_IDX prod = load_acquire(&v->rx.sring->req_prod);
	uint32_t avail = prod - v->rx.req_cons;

	if (avail > RING_SIZE(&v->rx)) {
		fatal(nb, v, "rx ring: req_prod is %u requests ahead (ring of %u)", avail, RING_SIZE(&v->rx));
		return 0;
	}
	if (avail == 0)
		return 0;
	memcpy(req, RING_GET_REQUEST(&v->rx, v->rx.req_cons), sizeof(*req));
	v->rx.req_cons++;
	return 1;
}

void nb_rx_answer(struct nb_vif *v, uint16_t id, uint16_t flags, int16_t status)
{
	struct netif_rx_response *rsp = RING_GET_RESPONSE(&v->rx, v->rx.rsp_prod_pvt);

	rsp->id = id;
	rsp->offset = 0;
	rsp->flags = flags;
	rsp->status = status;
	v->rx.rsp_prod_pvt++;
}

int nb_rings_push(struct nb_vif *v)
{
	int ntx, nrx;

	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&v->tx, ntx);
	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&v->rx, nrx);
	/* ask for a kick at the next request on either ring */
	v->tx.sring->req_event = v->tx.req_cons + 1;
	v->rx.sring->req_event = v->rx.req_cons + 1;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return ntx || nrx;
}

uint32_t nb_rx_avail(struct nb_vif *v)
{
	uint32_t avail = load_acquire(&v->rx.sring->req_prod) - v->rx.req_cons;

	return avail > RING_SIZE(&v->rx) ? 1 : avail;	/* so that nb_rx_take reports it */
}

