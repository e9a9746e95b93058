/*
 * net_host.c - pvd's glue to netback (see net_host.h).
 *
 * Owns: pvd->net (the backend) and its host operations: xenstore through
 * the server xs_host.c hosts (as Domain 0), grant maps, event channels
 * and grant copies through the control client hv.c owns. The copy window
 * is the control block's bulk area after NETBACK_OPS_BYTES (the copy
 * operations themselves go at its start): ctl_grant_copy writes them
 * there and netback's frames stay untouched behind them (an async bulk
 * op of the block backend, a grant map or unmap batch, uses at most
 * NETBACK_OPS_BYTES of it). The area is taken without waiting
 * (ctl_bulk_try_hold): a poll that cannot have it serves netback on the
 * next wake. A batch's grant copies are asynchronous (host_copy_start:
 * ctl_submit_grant_copy, completed by copy_done in ctl_async_poll), and
 * the area stays held from the batch's first step until netback is no
 * longer busy. A vif's connect is asynchronous too: its rings' map
 * (host_map_start) and its port's bind (host_bind_start), struct
 * net_call on n->calls until their done hands the result to netback
 * (netback_map_done / netback_bind_done); a disconnect's unmap and close
 * are started and never awaited (their done logs). The synchronous map
 * and bind remain for the hooks' fallback (tests, fuzzing).
 * Invariant: no copy or call outlives n: net_host_close cancels those
 * under way (hv.c lets them finish first at pvd's exit); on a lost
 * machine hv.c fails them after net_host_machine_gone.
 * Invariant: a domain's vifs' unmaps and port closes are submitted before
 * hv.c destroys it (ctl may push them after the destroy: the hypervisor
 * then only drops the frame references, grant_table.c).
 */
#include "net_host.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "../dom0/ctl.h"
#include "../dom0/machine.h"
#include "../dom0/netback.h"
#include "../dom0/netback_tap.h"
#include "../dom0/xenstore.h"

#include "config.h"
#include "hv_internal.h"
#include "log.h"
#include "pvd.h"
#include "store.h"
#include "xs_host.h"

_Static_assert(PVCTL_GRANT_BATCH_MAX * sizeof(struct pvctl_grant_map_entry) <= NETBACK_OPS_BYTES,
	       "an async grant batch stays clear of netback's copy window");

struct pvd_net {
	struct pvd *pvd;
	struct machine *m;
	struct ctl *c;
	struct netback *nb;
	int gone;			/* the machine is lost: no more calls go out */
	int holding;			/* the bulk area is held for netback's batch */
	int copying;			/* copy is submitted, its done not yet run */
	struct ctl_bulk_call copy;	/* a batch's grant copy (one at a time) */
	struct net_call *calls;		/* connect and disconnect calls under way */
	struct { int fd; struct event *ev; } tap[NETBACK_MAX_VIFS];	/* fd -1: free */
};

static int host_xs_read(void *arg, const char *path, char *buf, size_t len)
{
	struct pvd_net *n = arg;
	struct xs_server *s = xs_host_server(n->pvd);

	return s ? xs_local_read(s, path, buf, len) : -ENODEV;
}

static int host_xs_write(void *arg, const char *path, const char *value, const char *perms)
{
	struct pvd_net *n = arg;
	struct xs_server *s = xs_host_server(n->pvd);
	int rc;

	if (!s)
		return -ENODEV;
	rc = value[0] || !perms ? xs_local_write(s, path, value) : xs_local_mkdir(s, path);
	if (rc == 0 && perms)
		rc = xs_local_set_perms(s, path, perms);
	return rc;
}

static int host_xs_rm(void *arg, const char *path)
{
	struct pvd_net *n = arg;
	struct xs_server *s = xs_host_server(n->pvd);

	return s ? xs_local_rm(s, path) : -ENODEV;
}

static void *host_map_frame(void *arg, uint64_t mfn)
{
	struct pvd_net *n = arg;

	return mfn <= (UINT64_MAX >> 12) ? machine_phys(n->m, mfn << 12, 4096) : NULL;
}

static void host_unmap(void *arg, const uint32_t *handles, unsigned n)
{
	struct pvctl_grant_unmap_entry e[NETBACK_MAP_MAX];
	struct pvd_net *net = arg;
	char err[300];

	for (unsigned i = 0; i < n; i++)
		e[i] = (struct pvctl_grant_unmap_entry){ .handle = handles[i] };
	if (ctl_grant_unmap_batch(net->c, e, n, err, sizeof(err)) < 0) {
		log_warn("netback: %s", err);
		return;
	}
	for (unsigned i = 0; i < n; i++)
		if (e[i].status)
			log_warn("netback: unmap grant handle %u: %s", e[i].handle, strerror(-e[i].status));
}

/* One GRANT_MAP_BATCH; all or none: what did map is unmapped again (one
 * more call) when another entry was refused or is not machine RAM. */
static int host_map(void *arg, uint32_t domid, const uint32_t *grefs, unsigned n, void **pages, uint32_t *handles,
		    uint64_t *mfns, unsigned *bad)
{
	struct pvctl_grant_map_entry e[NETBACK_MAP_MAX];
	uint32_t mapped[NETBACK_MAP_MAX];
	struct pvd_net *net = arg;
	unsigned nmapped = 0;
	char err[300];
	int rc;

	*bad = n;
	for (unsigned i = 0; i < n; i++)
		e[i] = (struct pvctl_grant_map_entry){ .domid = domid, .gref = grefs[i] };
	rc = ctl_grant_map_batch(net->c, e, n, err, sizeof(err));
	if (rc < 0) {
		*bad = 0;
		log_warn("netback: %s", err);
		return rc;
	}
	for (unsigned i = 0; i < n; i++) {
		if (e[i].status == 0) {
			mapped[nmapped++] = e[i].handle;
			pages[i] = host_map_frame(net, e[i].mfn);
			handles[i] = e[i].handle;
			mfns[i] = e[i].mfn;
			if (!pages[i])
				e[i].status = -EFAULT;
		}
		if (e[i].status && *bad == n) {
			*bad = i;
			rc = e[i].status;
			log_warn("netback: map grant %u of domain %u: %s", grefs[i], domid,
				 rc == -EFAULT ? "not machine RAM" : strerror(-rc));
		}
	}
	if (*bad < n && nmapped)
		host_unmap(net, mapped, nmapped);
	return *bad < n ? rc : 0;
}

static int host_bind(void *arg, uint32_t domid, uint32_t remote_port, uint32_t *port)
{
	struct pvd_net *n = arg;
	char err[300];
	int rc = ctl_evtchn_bind_interdomain(n->c, domid, remote_port, port, err, sizeof(err));

	if (rc < 0)
		log_warn("netback: %s", err);
	return rc;
}

/* ---- a vif's connect and disconnect, asynchronous: the rings' map and
 * the port's bind go on in netback_map_done / netback_bind_done; an
 * unmap or a close is started and never awaited (its done logs) ---- */

/* One call under way; a map's entries follow it. */
struct net_call {
	struct ctl_bulk_call k;		/* first: done gets it */
	struct pvd_net *n;
	struct net_call *prev, *next;
	void *cookie;			/* netback's connect; NULL: nobody waits */
	uint32_t domid;
	void **pages;			/* a map's results (netback's, until netback_map_done) */
	uint32_t *handles;
	uint64_t *mfns;
	struct pvctl_grant_map_entry e[NETBACK_MAP_MAX];	/* or unmap entries */
};

static struct net_call *net_call_new(struct pvd_net *n, void *cookie)
{
	struct net_call *k;

	if (n->gone || !(k = calloc(1, sizeof(*k))))
		return NULL;
	k->n = n;
	k->cookie = cookie;
	k->next = n->calls;
	if (n->calls)
		n->calls->prev = k;
	n->calls = k;
	return k;
}

static void net_call_free(struct net_call *k)
{
	if (k->prev)
		k->prev->next = k->next;
	else
		k->n->calls = k->next;
	if (k->next)
		k->next->prev = k->prev;
	free(k);
}

/* After a submit: rc, the record gone (and err logged) when it failed. */
static int net_call_submitted(struct net_call *k, int rc, const char *err)
{
	if (rc < 0) {
		log_warn("netback: %s", err);
		net_call_free(k);
	}
	return rc;
}

static void unmap_call_done(struct ctl_bulk_call *kc, int rc, const char *err)
{
	struct net_call *k = (struct net_call *)kc;
	struct pvctl_grant_unmap_entry *e = (void *)k->e;

	if (rc < 0)
		log_warn("netback: %s", err);
	else
		for (size_t i = 0; i < kc->n; i++)
			if (e[i].status)
				log_warn("netback: unmap grant handle %u: %s", e[i].handle, strerror(-e[i].status));
	net_call_free(k);
}

/* Started (nobody waits); the machine gone: nothing to unmap. */
static void host_unmap_start(void *arg, const uint32_t *handles, unsigned nh)
{
	struct pvd_net *n = arg;
	struct pvctl_grant_unmap_entry *e;
	struct net_call *k = net_call_new(n, NULL);
	char err[300];

	if (!k) {
		if (!n->gone)
			host_unmap(n, handles, nh);	/* out of memory: the slow way */
		return;
	}
	e = (void *)k->e;
	for (unsigned i = 0; i < nh; i++)
		e[i] = (struct pvctl_grant_unmap_entry){ .handle = handles[i] };
	k->k.done = unmap_call_done;
	net_call_submitted(k, ctl_submit_grant_unmap_batch(n->c, &k->k, e, nh, err, sizeof(err)), err);
}

/* As host_map, for the batch whose answer came. */
static void map_call_done(struct ctl_bulk_call *kc, int rc, const char *err)
{
	struct net_call *k = (struct net_call *)kc;
	struct pvd_net *n = k->n;
	uint32_t mapped[NETBACK_MAP_MAX];
	unsigned bad = (unsigned)kc->n, nmapped = 0;

	if (rc < 0) {
		log_warn("netback: %s", err);
		bad = 0;
	}
	for (unsigned i = 0; rc == 0 && i < kc->n; i++) {
		struct pvctl_grant_map_entry *e = &k->e[i];
		if (e->status == 0) {
			mapped[nmapped++] = e->handle;
			k->pages[i] = host_map_frame(n, e->mfn);
			k->handles[i] = e->handle;
			k->mfns[i] = e->mfn;
			if (!k->pages[i])
				e->status = -EFAULT;
		}
		if (e->status && bad == kc->n) {
			bad = i;
			log_warn("netback: map grant %u of domain %u: %s", e->gref, k->domid,
				 e->status == -EFAULT ? "not machine RAM" : strerror(-e->status));
		}
	}
	if (rc == 0 && bad < kc->n) {
		rc = k->e[bad].status;
		if (nmapped)
			host_unmap_start(n, mapped, nmapped);
	}
	netback_map_done(n->nb, k->cookie, rc, bad);
	net_call_free(k);
}

/* A record for a call netback waits for, done set; NULL: -EPIPE (the
 * machine is gone) or -ENOMEM. */
static int net_call_start(struct pvd_net *n, void *cookie, void (*done)(struct ctl_bulk_call *, int, const char *),
			  struct net_call **out)
{
	struct net_call *k = net_call_new(n, cookie);

	if (!k)
		return n->gone ? -EPIPE : -ENOMEM;
	k->k.done = done;
	*out = k;
	return 0;
}

static int host_map_start(void *arg, uint32_t domid, const uint32_t *grefs, unsigned nr, void **pages,
			  uint32_t *handles, uint64_t *mfns, void *cookie)
{
	struct pvd_net *n = arg;
	struct net_call *k;
	char err[300];
	int rc = net_call_start(n, cookie, map_call_done, &k);

	if (rc < 0)
		return rc;
	for (unsigned i = 0; i < nr; i++)
		k->e[i] = (struct pvctl_grant_map_entry){ .domid = domid, .gref = grefs[i] };
	k->domid = domid;
	k->pages = pages;
	k->handles = handles;
	k->mfns = mfns;
	rc = ctl_submit_grant_map_batch(n->c, &k->k, k->e, nr, err, sizeof(err));
	return net_call_submitted(k, rc, err);
}

static void bind_call_done(struct ctl_bulk_call *kc, int rc, const char *err)
{
	struct net_call *k = (struct net_call *)kc;

	if (rc < 0)
		log_warn("netback: %s", err);
	netback_bind_done(k->n->nb, k->cookie, rc, kc->port);
	net_call_free(k);
}

static int host_bind_start(void *arg, uint32_t domid, uint32_t remote_port, void *cookie)
{
	struct pvd_net *n = arg;
	struct net_call *k;
	char err[300];
	int rc = net_call_start(n, cookie, bind_call_done, &k);

	if (rc < 0)
		return rc;
	rc = ctl_submit_evtchn_bind_interdomain(n->c, &k->k, domid, remote_port, err, sizeof(err));
	return net_call_submitted(k, rc, err);
}

static void close_call_done(struct ctl_bulk_call *kc, int rc, const char *err)
{
	(void)rc;
	(void)err;	/* fails when the domain is gone already: the hypervisor closed it */
	net_call_free((struct net_call *)kc);
}

static void host_unbind_start(void *arg, uint32_t port)
{
	struct pvd_net *n = arg;
	struct net_call *k = net_call_new(n, NULL);
	char err[300];

	if (!k)
		return;
	k->k.done = close_call_done;
	if (ctl_submit_evtchn_close(n->c, &k->k, port, err, sizeof(err)) < 0)
		net_call_free(k);
}

static void host_notify(void *arg, uint32_t port)
{
	struct pvd_net *n = arg;
	char err[300];

	if (ctl_evtchn_notify(n->c, port, err, sizeof(err)) < 0)
		log_info("netback: %s", err);
}

static int host_copy(void *arg, struct gnttab_copy *ops, size_t nops)
{
	struct pvd_net *n = arg;
	char err[300];
	int rc = ctl_grant_copy(n->c, ops, nops, err, sizeof(err));

	if (rc < 0)
		log_warn("netback: %s", err);
	return rc;
}

/* The batch is over: the copy window is free again. */
static void window_done(struct pvd_net *n)
{
	if (n->holding && !netback_busy(n->nb)) {
		n->holding = 0;
		ctl_bulk_release(n->c);
	}
}

static void copy_done(struct ctl_bulk_call *k, int rc, const char *err)
{
	struct pvd_net *n = k->arg;

	if (rc < 0)
		log_warn("netback: %s", err);
	n->copying = 0;
	netback_copy_done(n->nb, rc);	/* the batch goes on (it may copy again) */
	window_done(n);
}

/* A batch's grant copy, asynchronous: the window stays held until the
 * batch is over (net_host_poll, copy_done). */
static int host_copy_start(void *arg, struct gnttab_copy *ops, size_t nops)
{
	struct pvd_net *n = arg;
	char err[300];
	int rc;

	if (n->gone)
		return -EPIPE;
	n->copy.done = copy_done;
	n->copy.arg = n;
	rc = ctl_submit_grant_copy(n->c, &n->copy, ops, nops, err, sizeof(err));
	if (rc < 0)
		log_warn("netback: %s", err);
	else
		n->copying = 1;
	return rc;
}

static void on_tap(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	net_host_poll(arg);
}

static int host_tap_open(void *arg, const char *ifname, const char *bridge, int *fd, char *err, size_t errlen)
{
	struct pvd_net *n = arg;
	int slot = -1, rc;

	for (int i = 0; i < NETBACK_MAX_VIFS && slot < 0; i++)
		if (n->tap[i].fd < 0)
			slot = i;
	if (slot < 0) {
		snprintf(err, errlen, "too many TAP devices");
		return -ENOSPC;
	}
	rc = nb_tap_open(ifname, bridge, fd, err, errlen);
	if (rc < 0)
		return rc;
	n->tap[slot].ev = event_new(n->pvd->base, *fd, EV_READ | EV_PERSIST, on_tap, n->pvd);
	if (!n->tap[slot].ev || event_add(n->tap[slot].ev, NULL) != 0) {
		if (n->tap[slot].ev)
			event_free(n->tap[slot].ev);
		close(*fd);
		snprintf(err, errlen, "cannot add TAP device %s to the event loop", ifname);
		return -ENOMEM;
	}
	n->tap[slot].fd = *fd;
	log_notice("netback: TAP device %s on bridge %s", ifname, bridge);
	return 0;
}

static void host_tap_close(void *arg, int fd)
{
	struct pvd_net *n = arg;

	for (int i = 0; i < NETBACK_MAX_VIFS; i++)
		if (n->tap[i].fd == fd) {
			event_free(n->tap[i].ev);
			n->tap[i].fd = -1;
		}
	close(fd);
}

static void host_log(void *arg, int warn, const char *line)
{
	(void)arg;
	if (warn)
		log_warn("%s", line);
	else
		log_notice("%s", line);
}

static uint64_t host_now(void *arg)
{
	(void)arg;
	return hv_now_ms();
}

int net_host_parse_capacity(const char *spec, char *network, size_t netlen, uint64_t *bytes, char *err,
			    size_t errlen)
{
	const char *eq = strchr(spec, '=');
	char *end;
	unsigned long long v;

	if (!eq || eq == spec || (size_t)(eq - spec) >= netlen) {
		snprintf(err, errlen, "--net-capacity \"%s\": not NETWORK=BYTES (a network name of 1 to %zu bytes)",
			 spec, netlen - 1);
		return -1;
	}
	errno = 0;
	v = strtoull(eq + 1, &end, 10);
	if (errno || end == eq + 1 || *end || eq[1] == '-' || v == 0) {
		snprintf(err, errlen, "--net-capacity \"%s\": the capacity must be a positive integer of bytes per "
			 "second", spec);
		return -1;
	}
	memcpy(network, spec, (size_t)(eq - spec));
	network[eq - spec] = '\0';
	*bytes = v;
	return 0;
}

int net_host_check_options(struct pvd *pvd, char *err, size_t errlen)
{
	char network[64];
	uint64_t bytes;

	for (int i = 0; i < pvd->opt.net_capacity.n; i++)
		if (net_host_parse_capacity(pvd->opt.net_capacity.v[i], network, 16, &bytes, err, errlen) < 0)
			return -1;
	return 0;
}

/* --net-capacity applied to a new netback. */
static int set_capacities(struct pvd_net *n, char *err, size_t errlen)
{
	char network[64], why[200];
	uint64_t bytes;

	for (int i = 0; i < n->pvd->opt.net_capacity.n; i++) {
		const char *spec = n->pvd->opt.net_capacity.v[i];
		if (net_host_parse_capacity(spec, network, 16, &bytes, err, errlen) < 0)
			return -1;
		if (netback_set_capacity(n->nb, network, bytes, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "--net-capacity \"%s\": %s", spec, why);
			return -1;
		}
		log_notice("netback: network %s: capacity %llu bytes/s, shared by weight", network,
			   (unsigned long long)bytes);
	}
	return 0;
}

int net_host_open(struct pvd *pvd, struct machine *m, struct ctl *c, char *err, size_t errlen)
{
	struct pvd_net *n = calloc(1, sizeof(*n));
	struct netback_host host = { .xs_read = host_xs_read, .xs_write = host_xs_write, .xs_rm = host_xs_rm,
				     .map_grants = host_map, .map_frame = host_map_frame,
				     .unmap_grants = host_unmap_start, .bind = host_bind,
				     .unbind = host_unbind_start, .notify = host_notify, .grant_copy = host_copy,
				     .grant_copy_start = host_copy_start, .map_grants_start = host_map_start,
				     .bind_start = host_bind_start,
				     .log = host_log, .now_ms = host_now, .tap_open = host_tap_open,
				     .tap_close = host_tap_close };
	struct netback_window win = { .data = (uint8_t *)ctl_bulk(c) + NETBACK_OPS_BYTES,
				      .maddr = ctl_bulk_maddr(c) + NETBACK_OPS_BYTES,
				      .bytes = PVCTL_BULK_SIZE - NETBACK_OPS_BYTES };

	if (!n) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	n->pvd = pvd;
	n->m = m;
	n->c = c;
	for (int i = 0; i < NETBACK_MAX_VIFS; i++)
		n->tap[i].fd = -1;
	host.arg = n;
	if (netback_open(&host, &win, &n->nb, err, errlen) < 0) {
		free(n);
		return -1;
	}
	if (set_capacities(n, err, errlen) < 0) {
		netback_close(n->nb);
		free(n);
		return -1;
	}
	pvd->net = n;
	return 0;
}

void net_host_machine_gone(struct pvd *pvd)
{
	if (pvd->net)
		pvd->net->gone = 1;
}

void net_host_close(struct pvd *pvd)
{
	struct pvd_net *n = pvd->net;

	if (!n)
		return;
	if (n->copying)		/* pvd's exit: its copy is dropped, the batch with it */
		ctl_async_cancel(n->c, n->copy.ticket);
	while (n->calls) {	/* netback frees the connects that wait for them */
		if (!n->gone)
			ctl_async_cancel(n->c, n->calls->k.ticket);
		net_call_free(n->calls);
	}
	if (n->holding)
		ctl_bulk_release(n->c);
	netback_close(pvd->net->nb);
	free(pvd->net);
	pvd->net = NULL;
}

void net_host_poll(struct pvd *pvd)
{
	struct pvd_net *n = pvd->net;

	if (!n)
		return;
	/* the copy window is in the bulk area: no other bulk call between a
	 * batch's copies in and out (dom0/ctl.h). Taken without waiting: when
	 * another thread has it, or an async bulk op (a disk's grant map) is
	 * in flight, netback's turn comes when it is free (the kick hook or
	 * that op's answer wakes the loop). */
	if (!n->holding) {
		if (!ctl_bulk_try_hold(n->c))
			return;
		n->holding = 1;
	}
	netback_poll(n->nb);	/* a batch waiting for its copy: the handshakes alone */
	window_done(n);
}

struct started {
	struct pvd *pvd;
	uint32_t domid;
	char *err;
	size_t errlen;
	int resume;
	int only;		/* >= 0: just the vif with this device number */
	const char *uuid;	/* the domain's */
};

/* The IPv4 addresses the config gives vif devid of domain uuid (its
 * anti-spoofing list, netback_filter.c); none when it gives none. */
static void vif_ips(struct pvd *pvd, const char *uuid, int devid, struct netback_vif_config *vc)
{
	struct store_domain d;
	struct domain_config cfg;
	json_object *norm;

	vc->nips = 0;
	if (store_domain_find(pvd->store, uuid, &d) != 0)
		return;
	norm = json_tokener_parse(d.normalized);
	if (norm && domain_config_read(norm, &cfg) == 0)
		for (int i = 0; i < cfg.nvifs; i++)
			if (cfg.vifs[i].devid == devid) {
				vc->nips = (unsigned)cfg.vifs[i].nips;
				memcpy(vc->ips, cfg.vifs[i].ips, vc->nips * sizeof(vc->ips[0]));
			}
	json_object_put(norm);
	store_domain_clear(&d);
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

static int add_iface(void *arg, const struct store_iface *i)
{
	struct started *st = arg;
	struct netback_vif_config vc = { .domid = st->domid, .devid = (uint32_t)i->idx, .network = i->bridge,
					 .rate = (uint64_t)i->rate, .burst = (uint64_t)i->burst,
					 .weight = (uint32_t)i->weight };

	if (st->only >= 0 && i->idx != st->only)
		return 0;
	if (parse_mac(i->mac, vc.mac) < 0) {
		snprintf(st->err, st->errlen, "vif %d: stored MAC \"%s\" does not parse", i->idx, i->mac);
		return -1;
	}
	vif_ips(st->pvd, st->uuid, i->idx, &vc);
	if (st->resume) {
		if (netback_vif_resume(st->pvd->net->nb, &vc, st->err, st->errlen) < 0 && !strstr(st->err, "exists"))
			log_warn("netback: %s", st->err);
		return 0;
	}
	return netback_vif_add(st->pvd->net->nb, &vc, st->err, st->errlen) < 0 ? -1 : 0;
}

static int check_iface(void *arg, const struct store_iface *i)
{
	struct started *st = arg;
	char berr[240];

	if (netback_is_internal(i->bridge) || nb_bridge_check(i->bridge, berr, sizeof(berr)) == 0)
		return 0;
	snprintf(st->err, st->errlen, "vif %d: %s", i->idx, berr);
	return -1;
}

int net_host_check(struct pvd *pvd, const char *uuid, char *err, size_t errlen)
{
	struct started st = { pvd, 0, err, errlen, 0, -1, uuid };

	err[0] = '\0';
	if (store_ifaces(pvd->store, uuid, check_iface, &st) != 0) {
		if (!err[0])
			snprintf(err, errlen, "its interfaces cannot be read from the store");
		return -1;
	}
	return 0;
}

int net_host_domain_started(struct pvd *pvd, uint32_t domid, const char *uuid, char *err, size_t errlen)
{
	struct started st = { pvd, domid, err, errlen, 0, -1, uuid };

	if (!pvd->net)
		return 0;
	err[0] = '\0';
	if (store_ifaces(pvd->store, uuid, add_iface, &st) != 0) {
		if (!err[0])
			snprintf(err, errlen, "its interfaces cannot be read from the store");
		return -1;
	}
	return 0;
}

void net_host_reattach(struct pvd *pvd)
{
	struct hv *hv = pvd->hv;
	char err[300];

	if (!pvd->net || !hv)
		return;
	for (int i = 0; i < HV_MAX_DOMS; i++) {
		struct hv_dom *e = &hv->dom[i];
		struct started st = { pvd, e->domid, err, sizeof(err), 1, -1, e->uuid };
		if (!e->used || !e->known || e->info.state == PVCTL_DOM_DYING || e->intent == INTENT_DESTROY)
			continue;
		store_ifaces(pvd->store, e->uuid, add_iface, &st);
	}
}

int net_host_vif_stats(struct pvd *pvd, uint32_t domid, uint32_t devid, struct netback_vif_stats *out)
{
	struct netback_vif_stats all[NETBACK_MAX_VIFS];
	size_t n;

	if (!pvd->net)
		return -1;
	n = netback_stats(pvd->net->nb, all, NETBACK_MAX_VIFS);
	for (size_t i = 0; i < n; i++)
		if (all[i].domid == domid && all[i].devid == devid) {
			*out = all[i];
			return 0;
		}
	return -1;
}

void net_host_domain_gone(struct pvd *pvd, uint32_t domid)
{
	if (pvd->net)
		netback_domain_gone(pvd->net->nb, domid);
}

int net_host_attach(struct pvd *pvd, uint32_t domid, const char *uuid, int devid, char *err, size_t errlen)
{
	struct started st = { pvd, domid, err, errlen, 0, devid, uuid };

	if (!pvd->net) {
		snprintf(err, errlen, "no network backend runs");
		return -1;
	}
	err[0] = '\0';
	if (store_ifaces(pvd->store, uuid, check_iface, &st) != 0 ||
	    store_ifaces(pvd->store, uuid, add_iface, &st) != 0) {
		if (!err[0])
			snprintf(err, errlen, "its interfaces cannot be read from the store");
		return -1;
	}
	return 0;
}

int net_host_detach(struct pvd *pvd, uint32_t domid, int devid, int force, char *err, size_t errlen)
{
	if (!pvd->net) {
		snprintf(err, errlen, "no network backend runs");
		return -ENODEV;
	}
	return netback_vif_detach(pvd->net->nb, domid, (uint32_t)devid, force, err, errlen);
}

int net_host_vif_state(struct pvd *pvd, uint32_t domid, int devid)
{
	return pvd->net ? netback_vif_state(pvd->net->nb, domid, (uint32_t)devid) : NETBACK_VIF_NONE;
}

int net_host_set_rate(struct pvd *pvd, uint32_t domid, int devid, uint64_t rate, uint64_t burst, char *err,
		      size_t errlen)
{
	if (!pvd->net) {
		snprintf(err, errlen, "no network backend runs");
		return -ENODEV;
	}
	return netback_vif_set_rate(pvd->net->nb, domid, (uint32_t)devid, rate, burst, err, errlen);
}
