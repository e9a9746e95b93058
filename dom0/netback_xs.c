/*
 * netback_xs.c - the xenstore side of a vif: its backend and frontend
 * directories and the XenbusState handshake, as Xen's toolstack and
 * netback do it.
 *
 *   backend  /local/domain/0/backend/vif/<domid>/<n>  (Domain 0's, the guest
 *            reads): frontend, frontend-id, online, state, handle, mac,
 *            bridge, feature-rx-copy=1, feature-rx-flip=0, feature-sg=1
 *   frontend /local/domain/<domid>/device/vif/<n>     (the guest's):
 *            backend, backend-id, handle, mac, state
 *
 * Owns: each vif's state (NB_WAITING -> NB_CONNECTING -> NB_CONNECTED ->
 * NB_CLOSED, or NB_BROKEN), its ring mappings and its event channel, and
 * the records of connects under way (struct nb_connect).
 * Handshake: the backend waits in InitWait; when the frontend is
 * Initialised or Connected, its keys are read and checked (tx-ring-ref,
 * rx-ring-ref, event-channel, request-rx-copy=1) before anything is
 * mapped; then the vif is NB_CONNECTING: both rings are mapped (one host
 * call), the event channel bound (another), and on the bind's answer the
 * backend goes Connected. With an asynchronous host (map_grants_start,
 * bind_start) those calls are started and the connect goes on in
 * netback_map_done / netback_bind_done; a failure undoes what succeeded
 * and shuts the vif with a log line. A vif that goes, is disconnected or
 * whose frontend leaves meanwhile no longer owns the connect (v->connecting
 * cleared): its completion unmaps the late rings and closes the late
 * port. A disconnect's unmap and unbind are never awaited. A frontend going Closing/Closed disconnects the
 * vif (backend Closed); one going back to Initialising (a driver reload)
 * finds the backend in InitWait again. A vif the frontend broke stays
 * shut (NB_BROKEN, backend Closing) until the frontend closes it. A hot
 * unplug (netback.c) asks the frontend to close by going Closing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netback_internal.h"

static int put(struct netback *nb, const char *dir, const char *key, const char *value, const char *perms)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	return nb->host.xs_write(nb->host.arg, path, value, perms);
}

static void set_state(struct netback *nb, struct nb_vif *v, int state)
{
	char s[4];

	snprintf(s, sizeof(s), "%d", state);
	put(nb, v->be_path, "state", s, NULL);
}

void nb_xs_paths(struct nb_vif *v)
{
	snprintf(v->be_path, sizeof(v->be_path), "/local/domain/0/backend/vif/%u/%u", v->domid, v->devid);
	snprintf(v->fe_path, sizeof(v->fe_path), "/local/domain/%u/device/vif/%u", v->domid, v->devid);
	snprintf(v->rs_path, sizeof(v->rs_path), "/local/domain/0/netback/vif/%u/%u", v->domid, v->devid);
}

int nb_xs_publish(struct netback *nb, struct nb_vif *v, char *err, size_t errlen)
{
	char be_perms[32], fe_perms[32], mac[18], n[16], domid[16];
	int rc = 0;

	nb_xs_paths(v);
	snprintf(be_perms, sizeof(be_perms), "n0 r%u", v->domid);
	snprintf(fe_perms, sizeof(fe_perms), "n%u r0", v->domid);
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", v->mac[0], v->mac[1], v->mac[2], v->mac[3],
		 v->mac[4], v->mac[5]);
	snprintf(n, sizeof(n), "%u", v->devid);
	snprintf(domid, sizeof(domid), "%u", v->domid);
	nb->host.xs_rm(nb->host.arg, v->be_path);
	nb->host.xs_rm(nb->host.arg, v->fe_path);
	/* the backend first: a frontend seeing its directory finds the backend */
	rc |= nb->host.xs_write(nb->host.arg, v->be_path, "", be_perms);
	rc |= put(nb, v->be_path, "frontend", v->fe_path, be_perms);
	rc |= put(nb, v->be_path, "frontend-id", domid, be_perms);
	rc |= put(nb, v->be_path, "online", "1", be_perms);
	rc |= put(nb, v->be_path, "handle", n, be_perms);
	rc |= put(nb, v->be_path, "mac", mac, be_perms);
	rc |= put(nb, v->be_path, "bridge", v->network, be_perms);
	rc |= put(nb, v->be_path, "feature-rx-copy", "1", be_perms);
	rc |= put(nb, v->be_path, "feature-sg", "1", be_perms);	/* tx chains of slots */
	rc |= put(nb, v->be_path, "feature-rx-flip", "0", be_perms);
	rc |= put(nb, v->be_path, "state", "2", be_perms);	/* InitWait */
	rc |= nb->host.xs_write(nb->host.arg, v->fe_path, "", fe_perms);
	rc |= put(nb, v->fe_path, "backend", v->be_path, fe_perms);
	rc |= put(nb, v->fe_path, "backend-id", "0", fe_perms);
	rc |= put(nb, v->fe_path, "handle", n, fe_perms);
	rc |= put(nb, v->fe_path, "mac", mac, fe_perms);
	rc |= put(nb, v->fe_path, "state", "1", fe_perms);	/* Initialising */
	if (rc) {
		snprintf(err, errlen, "vif %u of domain %u: cannot write its xenstore directories", v->devid,
			 v->domid);
		return -EIO;
	}
	v->state = NB_WAITING;
	v->fe_state = XB_INITIALISING;
	return 0;
}

/* A decimal key of the frontend in [0, max]; -1 when absent or bad. */
static int64_t fe_number(struct netback *nb, struct nb_vif *v, const char *key, uint64_t max)
{
	char path[160], buf[32], *end;
	unsigned long long x;

	snprintf(path, sizeof(path), "%s/%s", v->fe_path, key);
	if (nb->host.xs_read(nb->host.arg, path, buf, sizeof(buf)) < 0 || !buf[0])
		return -1;
	errno = 0;
	x = strtoull(buf, &end, 10);
	if (errno || *end || buf[0] == '-' || x > max)
		return -1;
	return (int64_t)x;
}

/* Both rings in one host call. */
static void unmap_rings(struct netback *nb, struct nb_vif *v)
{
	uint32_t handles[NETBACK_MAP_MAX];
	unsigned n = 0;

	if (v->tx.sring)
		handles[n++] = v->tx_handle;
	if (v->rx.sring)
		handles[n++] = v->rx_handle;
	if (n)
		nb->host.unmap_grants(nb->host.arg, handles, n);
	v->tx.sring = NULL;
	v->rx.sring = NULL;
}

/* What a later host needs to resume the connected vif: mappings and port. */
static void record(struct netback *nb, struct nb_vif *v)
{
	char rec[128];

	snprintf(rec, sizeof(rec), "%u %u %" PRIu64 " %" PRIu64 " %u", v->tx_handle, v->rx_handle, v->tx_mfn,
		 v->rx_mfn, v->port);
	nb->host.xs_write(nb->host.arg, v->rs_path, rec, "n0");
}

/* The rings mapped and the port bound: the vif is Connected. */
static void connected(struct netback *nb, struct nb_vif *v, const struct nb_connect *k, uint32_t port)
{
	char path[160];

	v->tx_handle = k->handles[0];
	v->tx_mfn = k->mfns[0];
	v->rx_handle = k->handles[1];
	v->rx_mfn = k->mfns[1];
	v->port = port;
	BACK_RING_INIT(&v->tx, (struct netif_tx_sring *)k->pages[0], XEN_RING_PAGE_SIZE);
	BACK_RING_INIT(&v->rx, (struct netif_rx_sring *)k->pages[1], XEN_RING_PAGE_SIZE);
	/* a reconnect starts from the frontend's freshly initialised rings */
	v->tx.req_cons = v->tx.rsp_prod_pvt = __atomic_load_n(&v->tx.sring->rsp_prod, __ATOMIC_ACQUIRE);
	v->rx.req_cons = v->rx.rsp_prod_pvt = __atomic_load_n(&v->rx.sring->rsp_prod, __ATOMIC_ACQUIRE);
	v->state = NB_CONNECTED;
	v->gen = ++nb->gen_next;	/* what was held for an earlier connection is not for this one */
	v->log_budget = 20;
	record(nb, v);
	snprintf(path, sizeof(path), "%s/error", v->be_path);
	nb->host.xs_rm(nb->host.arg, path);	/* the cause of an earlier shut */
	set_state(nb, v, XB_CONNECTED);
	nb_log(nb, 0, "domain %u vif %u: connected (network %s)", v->domid, v->devid, v->network);
	v->need_notify = 1;
}

/* The connect's record goes; the vif, when it still wants it, leaves
 * NB_CONNECTING. 1 when the vif still wanted it. */
static int connect_end(struct netback *nb, struct nb_connect *k)
{
	struct nb_connect **pp = &nb->connects;
	struct nb_vif *v = k->vif;
	int wanted = v->used && v->connecting == k;

	while (*pp && *pp != k)
		pp = &(*pp)->next;
	if (*pp) {
		*pp = k->next;
		nb->nconnects--;
	}
	free(k);
	if (wanted) {
		v->connecting = NULL;
		v->state = NB_WAITING;
	}
	return wanted;
}

static int connect_wanted(const struct nb_connect *k)
{
	return k->vif->used && k->vif->connecting == k;
}

static struct nb_connect *find_connect(struct netback *nb, void *cookie)
{
	struct nb_connect *k = nb->connects;

	while (k && k != cookie)
		k = k->next;
	return k;
}

static void connect_bound(struct netback *nb, struct nb_connect *k, int rc, uint32_t port)
{
	struct nb_vif *v = k->vif;

	if (rc == 0 && connect_wanted(k)) {
		connected(nb, v, k, port);
		v->connecting = NULL;
		connect_end(nb, k);
		return;
	}
	if (rc == 0)
		nb->host.unbind(nb->host.arg, port);	/* bound late: the vif went */
	nb->host.unmap_grants(nb->host.arg, k->handles, NETBACK_MAP_MAX);
	if (connect_end(nb, k))
		nb_vif_fatal(nb, v, "event-channel cannot be bound");
}

/* Both rings mapped (or not): bind the port next. */
static void connect_mapped(struct netback *nb, struct nb_connect *k, int rc, unsigned bad)
{
	struct nb_vif *v = k->vif;
	uint32_t port = 0;

	if (rc < 0) {		/* all or none: nothing is left mapped */
		if (connect_end(nb, k))
			nb_vif_fatal(nb, v, bad ? "rx-ring-ref cannot be mapped" : "tx-ring-ref cannot be mapped");
		return;
	}
	if (!connect_wanted(k)) {
		nb->host.unmap_grants(nb->host.arg, k->handles, NETBACK_MAP_MAX);
		connect_end(nb, k);
		return;
	}
	if (nb->host.bind_start) {
		rc = nb->host.bind_start(nb->host.arg, v->domid, k->remote_port, k);
		if (rc == 0)
			return;		/* netback_bind_done */
	} else {
		rc = nb->host.bind(nb->host.arg, v->domid, k->remote_port, &port);
	}
	connect_bound(nb, k, rc, port);
}

void netback_map_done(struct netback *nb, void *cookie, int rc, unsigned bad)
{
	struct nb_connect *k = find_connect(nb, cookie);

	if (k)
		connect_mapped(nb, k, rc, bad);
}

void netback_bind_done(struct netback *nb, void *cookie, int rc, uint32_t port)
{
	struct nb_connect *k = find_connect(nb, cookie);

	if (k)
		connect_bound(nb, k, rc, port);
}

unsigned netback_connects(const struct netback *nb)
{
	return nb->nconnects;
}

static void connect(struct netback *nb, struct nb_vif *v)
{
	int64_t tx_ref = fe_number(nb, v, "tx-ring-ref", UINT32_MAX);
	int64_t rx_ref = fe_number(nb, v, "rx-ring-ref", UINT32_MAX);
	int64_t port = fe_number(nb, v, "event-channel", UINT32_MAX);
	int64_t copy = fe_number(nb, v, "request-rx-copy", 1);
	struct nb_connect *k;
	const char *why = NULL;
	unsigned bad = 0;
	int rc;

	if (tx_ref < 0 || rx_ref < 0)
		why = "tx-ring-ref or rx-ring-ref is missing or not a number";
	else if (port < 0)
		why = "event-channel is missing or not a number (split event channels are not offered)";
	else if (copy != 1)
		why = "request-rx-copy is not 1 (only feature-rx-copy is offered)";
	else if (!(k = calloc(1, sizeof(*k))))
		why = "out of memory";
	if (why) {
		nb_vif_fatal(nb, v, why);
		return;
	}
	k->vif = v;
	k->grefs[0] = (uint32_t)tx_ref;
	k->grefs[1] = (uint32_t)rx_ref;
	k->remote_port = (uint32_t)port;
	k->next = nb->connects;
	nb->connects = k;
	nb->nconnects++;
	v->connecting = k;
	v->state = NB_CONNECTING;
	/* both rings in one host call, then the port */
	if (nb->host.map_grants_start) {
		rc = nb->host.map_grants_start(nb->host.arg, v->domid, k->grefs, 2, k->pages, k->handles, k->mfns, k);
		if (rc == 0)
			return;		/* netback_map_done */
	} else {
		rc = nb->host.map_grants(nb->host.arg, v->domid, k->grefs, 2, k->pages, k->handles, k->mfns, &bad);
	}
	connect_mapped(nb, k, rc, bad);
}

void nb_xs_disconnect(struct netback *nb, struct nb_vif *v)
{
	v->connecting = NULL;	/* a connect under way is undone by its completion */
	nb->host.xs_rm(nb->host.arg, v->rs_path);
	if (v->state == NB_CONNECTED)
		nb->host.unbind(nb->host.arg, v->port);
	unmap_rings(nb, v);
	nb_fdb_forget_vif(nb, (int)(v - nb->vif));
	if (v->state == NB_CONNECTED)
		v->state = NB_CLOSED;
}

void nb_vif_fatal(struct netback *nb, struct nb_vif *v, const char *why)
{
	char path[160];

	nb_log(nb, 1, "domain %u vif %u: shut: %s", v->domid, v->devid, why);
	nb_xs_disconnect(nb, v);
	v->state = NB_BROKEN;
	snprintf(path, sizeof(path), "%s/error", v->be_path);
	nb->host.xs_write(nb->host.arg, path, why, NULL);
	set_state(nb, v, XB_CLOSING);
}

void nb_xs_poll(struct netback *nb, struct nb_vif *v)
{
	int64_t fe = fe_number(nb, v, "state", XB_CLOSED);

	if (fe < 0)
		fe = XB_UNKNOWN;
	if (fe == v->fe_state && v->state != NB_WAITING)
		return;
	v->fe_state = (int)fe;
	switch (v->state) {
	case NB_WAITING:
		if (fe == XB_INITIALISED || fe == XB_CONNECTED)
			connect(nb, v);
		break;
	case NB_CONNECTING:	/* the frontend went back or closed: not connected after all */
		if (fe == XB_INITIALISED || fe == XB_CONNECTED)
			break;
		nb_log(nb, 0, "domain %u vif %u: the frontend left while it was connecting", v->domid, v->devid);
		nb_xs_disconnect(nb, v);
		v->state = fe == XB_INITIALISING ? NB_WAITING : NB_CLOSED;
		if (v->state == NB_CLOSED)
			set_state(nb, v, XB_CLOSED);
		break;
	case NB_CONNECTED:
		if (fe == XB_CLOSING || fe == XB_CLOSED || fe == XB_UNKNOWN) {
			nb_log(nb, 0, "domain %u vif %u: the frontend closed it", v->domid, v->devid);
			nb_xs_disconnect(nb, v);
			set_state(nb, v, XB_CLOSED);
		}
		break;
	case NB_BROKEN:
	case NB_CLOSED:
		if (fe == XB_CLOSING || fe == XB_CLOSED) {
			v->state = NB_CLOSED;
			set_state(nb, v, XB_CLOSED);
		} else if (fe == XB_INITIALISING && v->state == NB_CLOSED) {
			v->state = NB_WAITING;
			set_state(nb, v, XB_INITWAIT);
		}
		break;
	}
}

int nb_xs_resume(struct netback *nb, struct nb_vif *v, char *err, size_t errlen)
{
	char path[160], be[8], rec[128];
	unsigned int txh, rxh, port;
	uint64_t txm, rxm;
	void *tx, *rx;

	nb_xs_paths(v);
	snprintf(path, sizeof(path), "%s/state", v->be_path);
	if (nb->host.xs_read(nb->host.arg, path, be, sizeof(be)) < 0)
		return nb_xs_publish(nb, v, err, errlen);	/* never published: a fresh start */
	v->fe_state = XB_UNKNOWN;
	v->state = NB_WAITING;
	if (strcmp(be, "4") || nb->host.xs_read(nb->host.arg, v->rs_path, rec, sizeof(rec)) < 0 ||
	    sscanf(rec, "%u %u %" SCNu64 " %" SCNu64 " %u", &txh, &rxh, &txm, &rxm, &port) != 5 ||
	    !(tx = nb->host.map_frame(nb->host.arg, txm)) || !(rx = nb->host.map_frame(nb->host.arg, rxm))) {
		/* not connected when the last host went: the handshake goes on */
		if (!strcmp(be, "4"))
			set_state(nb, v, XB_CLOSING);	/* connected without a record: start over */
		else if (strcmp(be, "2"))
			set_state(nb, v, XB_INITWAIT);
		return 0;
	}
	v->tx_handle = txh;
	v->rx_handle = rxh;
	v->tx_mfn = txm;
	v->rx_mfn = rxm;
	v->port = port;
	BACK_RING_INIT(&v->tx, (struct netif_tx_sring *)tx, XEN_RING_PAGE_SIZE);
	BACK_RING_INIT(&v->rx, (struct netif_rx_sring *)rx, XEN_RING_PAGE_SIZE);
	/* requests taken but not answered when the last host went are taken again */
	v->tx.req_cons = v->tx.rsp_prod_pvt = __atomic_load_n(&v->tx.sring->rsp_prod, __ATOMIC_ACQUIRE);
	v->rx.req_cons = v->rx.rsp_prod_pvt = __atomic_load_n(&v->rx.sring->rsp_prod, __ATOMIC_ACQUIRE);
	v->state = NB_CONNECTED;
	v->gen = ++nb->gen_next;	/* what was held for an earlier connection is not for this one */
	v->fe_state = XB_CONNECTED;
	v->log_budget = 20;
	v->need_notify = 1;
	nb_log(nb, 0, "domain %u vif %u: resumed (network %s)", v->domid, v->devid, v->network);
	return 0;
}

void nb_xs_request_close(struct netback *nb, struct nb_vif *v)
{
	set_state(nb, v, XB_CLOSING);
}

void nb_xs_remove(struct netback *nb, struct nb_vif *v)
{
	nb_xs_disconnect(nb, v);
	nb->host.xs_rm(nb->host.arg, v->be_path);
}
