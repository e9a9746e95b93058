/*
 * blk_host.c - pvd's glue to the block backend (see blk_host.h).
 *
 * Owns: struct pvd_blk (the backend, the loop event on its completion
 * fd, the machine and control client it borrows from hv.c). Each disk's
 * image is opened here beneath the allowed directories (pool.c) and
 * handed to blkback; blkback's quota events become event-log rows of the
 * domain and notifications; live quota and limit changes and counters
 * reach blkback through here (methods_disk.c).
 * A request's grant map and unmap are asynchronous control calls
 * (ctl_submit, struct blk_call on x->calls until their done): the loop
 * never waits for them; their done runs in ctl_async_poll (hv.c) and
 * hands the result to blkback (blkback_call_done). A device's connect
 * is asynchronous the same way: its ring's map (grant_map_start) and its
 * port's bind (evtchn_bind_start, done in blkback_bind_done); its
 * disconnect's unmaps (grant_unmap_start, no cookie) and port close are
 * started and never awaited (their done only logs a failure). The
 * synchronous hooks remain for a call that cannot be started (out of
 * memory; the machine gone: then they return at once).
 * The rings' publication journals (dom0/blkback.h) are files of
 * STATE/machine/blk-journal named after the machine's boot.
 * Invariants: the backend is closed (its grants unmapped) before the
 * control client and the machine it maps through; no blk_call outlives
 * x: blk_host_close cancels those still under way (hv.c lets them finish
 * first at pvd's exit), and on a lost machine hv.c fails them all
 * (ctl_async_fail_all) after blk_host_machine_gone and before the close.
 */
#include "blk_host.h"

#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <public/grant_table.h>

#include "../dom0/blkback.h"
#include "../dom0/ctl.h"
#include "../dom0/machine.h"

#include "config.h"
#include "events.h"
#include "hv.h"
#include "hv_internal.h"
#include "log.h"
#include "pool.h"
#include "pvd.h"
#include "store.h"
#include "xs_host.h"

struct pvd_blk {
	struct pvd *pvd;
	struct blkback *b;
	struct event *done;
	struct machine *m;
	struct ctl *c;		/* NULL once the machine is gone */
	unsigned calls;		/* synchronous control calls during this round of blk_host_poll */
	struct blk_call *async;	/* async control calls under way */
	char journal_dir[PATH_MAX], journal_prefix[32];
};

/* One async grant map or unmap batch of a request; the entries follow it. */
struct blk_call {
	struct ctl_bulk_call k;		/* first: done gets it */
	struct pvd_blk *x;
	struct blk_call *prev, *next;
	void *cookie;			/* blkback's request; NULL: nobody waits (a stray unmap) */
	struct blkback_grant *g;	/* a map's grants (blkback's, until blkback_call_done) */
	unsigned n;
	uint32_t domid;
};

_Static_assert(BLKBACK_GRANT_BATCH_MAX <= PVCTL_GRANT_BATCH_MAX, "blkback's batches fit the control op's");

static void *frame_page(void *arg, uint64_t mfn)
{
	struct pvd_blk *x = arg;

	return mfn <= (UINT64_MAX >> 12) ? machine_phys(x->m, mfn << 12, 4096) : NULL;
}

static void grant_unmap_batch(void *arg, const uint32_t *handles, unsigned n)
{
	struct pvctl_grant_unmap_entry e[BLKBACK_GRANT_BATCH_MAX];
	struct pvd_blk *x = arg;
	char err[300];

	x->calls++;
	if (!x->c)
		return;		/* the machine is gone, its grants with it */
	for (unsigned i = 0; i < n; i++)
		e[i] = (struct pvctl_grant_unmap_entry){ .handle = handles[i] };
	if (ctl_grant_unmap_batch(x->c, e, n, err, sizeof(err)) < 0) {
		log_warn("blkback: %s", err);
		return;
	}
	for (unsigned i = 0; i < n; i++)
		if (e[i].status)
			log_warn("blkback: unmap grant handle %u: %s", e[i].handle, strerror(-e[i].status));
}

/* One GRANT_MAP_BATCH; a granted frame that is not machine RAM fails its
 * entry alone (-EFAULT) and is unmapped again in one more call. */
static int grant_map_batch(void *arg, uint32_t domid, struct blkback_grant *g, unsigned n, char *err, size_t errlen)
{
	struct pvctl_grant_map_entry e[BLKBACK_GRANT_BATCH_MAX];
	uint32_t stray[BLKBACK_GRANT_BATCH_MAX];
	struct pvd_blk *x = arg;
	unsigned nstray = 0;
	int told = 0;
	int rc;

	x->calls++;
	for (unsigned i = 0; i < n; i++)
		e[i] = (struct pvctl_grant_map_entry){ .domid = domid, .gref = g[i].gref,
						       .flags = g[i].readonly ? GNTMAP_readonly : 0 };
	rc = ctl_grant_map_batch(x->c, e, n, err, errlen);
	if (rc < 0)
		return rc;
	for (unsigned i = 0; i < n; i++) {
		g[i].status = e[i].status;
		if (!g[i].status) {
			g[i].frame = e[i].mfn;
			g[i].handle = e[i].handle;
			g[i].page = frame_page(x, e[i].mfn);
			if (!g[i].page) {
				g[i].status = -EFAULT;
				stray[nstray++] = e[i].handle;
				if (!told++)
					snprintf(err, errlen, "granted frame %#llx is not machine RAM",
						 (unsigned long long)e[i].mfn);
			}
		} else if (!told++) {
			snprintf(err, errlen, "map grant %u of domain %u%s: %s", e[i].gref, domid,
				 e[i].flags & GNTMAP_readonly ? " read-only" : "", strerror(-e[i].status));
		}
	}
	if (nstray)
		grant_unmap_batch(x, stray, nstray);
	return 0;
}

/* ---- asynchronous grant maps and unmaps (a request's) ---- */

static struct blk_call *call_new(struct pvd_blk *x, unsigned n, void *cookie)
{
	struct blk_call *k = calloc(1, sizeof(*k) + n * sizeof(struct pvctl_grant_map_entry));

	if (!k)
		return NULL;
	k->x = x;
	k->cookie = cookie;
	k->n = n;
	k->next = x->async;
	if (x->async)
		x->async->prev = k;
	x->async = k;
	return k;
}

static void call_free(struct blk_call *k)
{
	struct pvd_blk *x = k->x;

	if (k->prev)
		k->prev->next = k->next;
	else
		x->async = k->next;
	if (k->next)
		k->next->prev = k->prev;
	free(k);
}

static void unmap_call_done(struct ctl_bulk_call *kc, int rc, const char *err)
{
	struct blk_call *k = (struct blk_call *)kc;
	struct pvctl_grant_unmap_entry *e = (void *)(k + 1);

	if (rc < 0)
		log_warn("blkback: %s", err);
	else
		for (unsigned i = 0; i < k->n; i++)
			if (e[i].status)
				log_warn("blkback: unmap grant handle %u: %s", e[i].handle, strerror(-e[i].status));
	if (k->cookie)
		blkback_call_done(k->x->b, k->cookie, rc, err);
	call_free(k);
}

/* A new call record for n entries, or NULL with *rc and err. */
static struct blk_call *call_start(struct pvd_blk *x, unsigned n, void *cookie, int *rc, char *err, size_t errlen)
{
	struct blk_call *k;

	if (!x->c) {
		snprintf(err, errlen, "the machine is gone");
		*rc = -EPIPE;
		return NULL;
	}
	k = call_new(x, n, cookie);
	if (!k) {
		snprintf(err, errlen, "out of memory");
		*rc = -ENOMEM;
	}
	return k;
}

static int grant_unmap_start(void *arg, const uint32_t *handles, unsigned n, void *cookie, char *err, size_t errlen)
{
	struct pvd_blk *x = arg;
	struct pvctl_grant_unmap_entry *e;
	struct blk_call *k;
	int rc;

	if (!(k = call_start(x, n, cookie, &rc, err, errlen)))
		return rc;
	e = (void *)(k + 1);
	for (unsigned i = 0; i < n; i++)
		e[i] = (struct pvctl_grant_unmap_entry){ .handle = handles[i] };
	k->k.done = unmap_call_done;
	rc = ctl_submit_grant_unmap_batch(x->c, &k->k, e, n, err, errlen);
	if (rc < 0)
		call_free(k);
	return rc;
}

/* As grant_map_batch, for the batch whose answer came. */
static void map_call_done(struct ctl_bulk_call *kc, int rc, const char *err)
{
	struct blk_call *k = (struct blk_call *)kc;
	struct pvctl_grant_map_entry *e = (void *)(k + 1);
	uint32_t stray[BLKBACK_GRANT_BATCH_MAX];
	struct pvd_blk *x = k->x;
	char why[300] = "", uerr[200];
	unsigned nstray = 0;
	int told = 0;

	if (rc < 0)
		snprintf(why, sizeof(why), "%s", err);
	for (unsigned i = 0; rc == 0 && i < k->n; i++) {
		struct blkback_grant *g = &k->g[i];
		g->status = e[i].status;
		if (!g->status) {
			g->frame = e[i].mfn;
			g->handle = e[i].handle;
			g->page = frame_page(x, e[i].mfn);
			if (!g->page) {
				g->status = -EFAULT;
				stray[nstray++] = e[i].handle;
				if (!told++)
					snprintf(why, sizeof(why), "granted frame %#llx is not machine RAM",
						 (unsigned long long)e[i].mfn);
			}
		} else if (!told++) {
			snprintf(why, sizeof(why), "map grant %u of domain %u%s: %s", e[i].gref, k->domid,
				 e[i].flags & GNTMAP_readonly ? " read-only" : "", strerror(-e[i].status));
		}
	}
	if (nstray && grant_unmap_start(x, stray, nstray, NULL, uerr, sizeof(uerr)) < 0)
		log_warn("blkback: %s", uerr);
	blkback_call_done(x->b, k->cookie, rc, why);
	call_free(k);
}

static int grant_map_start(void *arg, uint32_t domid, struct blkback_grant *g, unsigned n, void *cookie, char *err,
			   size_t errlen)
{
	struct pvd_blk *x = arg;
	struct pvctl_grant_map_entry *e;
	struct blk_call *k;
	int rc;

	if (!(k = call_start(x, n, cookie, &rc, err, errlen)))
		return rc;
	e = (void *)(k + 1);
	for (unsigned i = 0; i < n; i++)
		e[i] = (struct pvctl_grant_map_entry){ .domid = domid, .gref = g[i].gref,
						       .flags = g[i].readonly ? GNTMAP_readonly : 0 };
	k->g = g;
	k->domid = domid;
	k->k.done = map_call_done;
	rc = ctl_submit_grant_map_batch(x->c, &k->k, e, n, err, errlen);
	if (rc < 0)
		call_free(k);
	return rc;
}

/* ---- a device's connect and disconnect: the port's bind and close ---- */

static int evtchn_bind(void *arg, uint32_t domid, uint32_t remote_port, uint32_t *port, char *err, size_t errlen)
{
	struct pvd_blk *x = arg;

	x->calls++;
	return ctl_evtchn_bind_interdomain(x->c, domid, remote_port, port, err, errlen);
}

static void bind_call_done(struct ctl_bulk_call *kc, int rc, const char *err)
{
	struct blk_call *k = (struct blk_call *)kc;

	blkback_bind_done(k->x->b, k->cookie, rc, kc->port, err);
	call_free(k);
}

static int evtchn_bind_start(void *arg, uint32_t domid, uint32_t remote_port, void *cookie, char *err, size_t errlen)
{
	struct pvd_blk *x = arg;
	struct blk_call *k;
	int rc;

	if (!(k = call_start(x, 0, cookie, &rc, err, errlen)))
		return rc;
	k->k.done = bind_call_done;
	rc = ctl_submit_evtchn_bind_interdomain(x->c, &k->k, domid, remote_port, err, errlen);
	if (rc < 0)
		call_free(k);
	return rc;
}

static void close_call_done(struct ctl_bulk_call *kc, int rc, const char *err)
{
	if (rc < 0)
		log_info("blkback: %s", err);
	call_free((struct blk_call *)kc);
}

/* Started, nobody waits for it (a disconnect's, or an abandoned connect's). */
static void evtchn_close(void *arg, uint32_t port)
{
	struct pvd_blk *x = arg;
	struct blk_call *k;
	char err[200];
	int rc;

	if (!(k = call_start(x, 0, NULL, &rc, err, sizeof(err))))
		return;		/* the machine is gone, its ports with it */
	k->k.done = close_call_done;
	if (ctl_submit_evtchn_close(x->c, &k->k, port, err, sizeof(err)) < 0) {
		log_info("blkback: %s", err);
		call_free(k);
	}
}

static void notify(void *arg, uint32_t port)
{
	struct pvd_blk *x = arg;
	char err[200];

	/* posted, not waiting for the hypervisor's answer (unless its ring is
	 * full: then a call, which drains the doorbell, so counted all the same) */
	x->calls++;
	if (ctl_evtchn_notify(x->c, port, err, sizeof(err)) < 0)
		log_info("blkback: kick: %s", err);
}

static void log_line(void *arg, int warn, const char *line)
{
	(void)arg;
	if (warn)
		log_warn("%s", line);
	else
		log_notice("%s", line);
}

/* A quota's level or refusal: an event-log row of the domain and a
 * notification to subscribers (blkback limits how often a refusal is
 * reported). */
static void quota_event(void *arg, const struct blkback_quota_event *q)
{
	struct pvd *pvd = ((struct pvd_blk *)arg)->pvd;
	struct store_domain d;
	struct store_event ev;
	char uuid[37], detail[400];

	if (hv_uuid_of_domid(pvd, q->domid, uuid) != 0 || store_domain_find(pvd->store, uuid, &d) != 0)
		return;
	snprintf(detail, sizeof(detail), "{\"disk\":\"%s\",\"scope\":\"%s\",\"level\":%d,\"allocated\":%llu,"
		 "\"quota\":%llu}", q->disk, q->scope, q->level, (unsigned long long)q->allocated,
		 (unsigned long long)q->quota);
	events_prepare(&ev, q->level ? "disk.quota" : "disk.quota_refused", "pvd", &d, detail);
	if (store_event_append(pvd->store, &ev) == 0)
		events_publish(pvd, &ev);
	else
		log_warn("event log: %s", store_error(pvd->store));
	store_domain_clear(&d);
}

/* The rings' journals: STATE/machine/blk-journal, files named after
 * this boot of the machine; those of earlier boots are removed. */
static void journal_setup(struct pvd_blk *x, struct ctl *c)
{
	size_t plen;
	struct dirent *e;
	DIR *dir;

	snprintf(x->journal_dir, sizeof(x->journal_dir), "%s/blk-journal", machine_state_dir(x->m));
	snprintf(x->journal_prefix, sizeof(x->journal_prefix), "%" PRIx64 "-", ctl_boot_id(c));
	plen = strlen(x->journal_prefix);
	if (mkdir(x->journal_dir, 0700) < 0 && errno != EEXIST)
		log_warn("blkback: %s: %s (answers cut short by a kill of pvd may be lost)", x->journal_dir,
			 strerror(errno));
	if (!(dir = opendir(x->journal_dir)))
		return;
	while ((e = readdir(dir)))
		if (e->d_name[0] != '.' && strncmp(e->d_name, x->journal_prefix, plen))
			unlinkat(dirfd(dir), e->d_name, 0);
	closedir(dir);
}

static void on_done(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	blk_host_poll(arg);
}

int blk_host_open(struct pvd *pvd, struct machine *m, struct ctl *c, char *err, size_t errlen)
{
	struct pvd_blk *x = calloc(1, sizeof(*x));
	struct blkback_host host = { .grant_map_batch = grant_map_batch, .frame_page = frame_page,
				     .grant_unmap_batch = grant_unmap_batch,
				     .evtchn_bind = evtchn_bind, .evtchn_close = evtchn_close, .notify = notify,
				     .log = log_line, .quota_event = quota_event,
				     .grant_map_start = grant_map_start, .grant_unmap_start = grant_unmap_start,
				     .evtchn_bind_start = evtchn_bind_start };
	struct xs_server *xs = xs_host_server(pvd);
	char berr[300];

	if (!x || !xs) {
		snprintf(err, errlen, x ? "blkback: no xenstore server" : "out of memory");
		free(x);
		return -1;
	}
	x->pvd = pvd;
	x->m = m;
	x->c = c;
	host.arg = x;
	journal_setup(x, c);
	host.journal_dir = x->journal_dir;
	host.journal_prefix = x->journal_prefix;
	if (blkback_open(&host, xs, BLKBACK_DEFAULT_WORKERS, &x->b, berr, sizeof(berr)) < 0) {
		snprintf(err, errlen, "%s", berr);
		free(x);
		return -1;
	}
	x->done = event_new(pvd->base, blkback_event_fd(x->b), EV_READ | EV_PERSIST, on_done, pvd);
	if (!x->done || event_add(x->done, NULL) != 0) {
		snprintf(err, errlen, "blkback: cannot add its completions to the event loop");
		if (x->done)
			event_free(x->done);
		blkback_close(x->b);
		free(x);
		return -1;
	}
	pvd->blk = x;
	return 0;
}

void blk_host_close(struct pvd *pvd, int machine_lost)
{
	struct pvd_blk *x = pvd->blk;

	if (!x)
		return;
	if (machine_lost)
		x->c = NULL;	/* its grants and ports went with the machine */
	while (x->async) {	/* blkback frees the requests that wait for them */
		if (x->c)
			ctl_async_cancel(x->c, x->async->k.ticket);
		call_free(x->async);
	}
	event_free(x->done);
	blkback_close(x->b);
	free(x);
	pvd->blk = NULL;
}

void blk_host_machine_gone(struct pvd *pvd)
{
	if (pvd->blk)
		pvd->blk->c = NULL;
}

unsigned blk_host_calls_under_way(struct pvd *pvd)
{
	return pvd->blk ? blkback_host_calls(pvd->blk->b) : 0;
}

/* Serve every ring and completion. A control call (a grant map, a kick
 * of the guest) drains the doorbell (dom0/ctl.h): a guest's kick that
 * came meanwhile rang for nothing, so poll again while a round made
 * calls, a bounded number of times (completions and the tick are the
 * safety net); Domain 0's pending bits are cleared first each round, so
 * that the guest's next kick rings the doorbell again (as xs_host_poll). */
void blk_host_poll(struct pvd *pvd)
{
	struct pvd_blk *x = pvd->blk;

	if (!x)
		return;
	for (int round = 0; round < 16; round++) {
		if (x->c)
			hv_drain_ports(pvd);
		x->calls = 0;
		blkback_poll(x->b);
		if (!x->calls)
			break;
	}
}

/* Every disk of the domain, added (a new domain) or resumed (one that
 * kept running while pvd restarted). */
static int each_disk(struct pvd *pvd, uint32_t domid, const struct store_domain *d, const struct domain_config *cfg,
		     int resume, const char *only, char *err, size_t errlen)
{
	char image[PATH_MAX + 64], berr[400];

	if (!cfg->ndisks)
		return 0;
	if (!pvd->blk) {
		snprintf(err, errlen, "domain \"%s\" has disks but no block backend runs", d->name);
		return -1;
	}
	if (!resume && pool_create_images(pvd, d->uuid, cfg, berr, sizeof(berr)) != 0) {	/* defined before the pool */
		snprintf(err, errlen, "domain \"%s\": %s", d->name, berr);
		return -1;
	}
	for (int i = 0; i < cfg->ndisks; i++) {
		const struct disk_config *dc = &cfg->disks[i];
		struct blkback_disk disk = { .name = dc->name, .image = image,
					     .size_bytes = (uint64_t)dc->size_mib << 20, .readonly = dc->readonly,
					     .index = (uint32_t)dc->index, .quota_bytes = (uint64_t)dc->quota_mib << 20,
					     .bps = (uint64_t)dc->bps, .iops = (uint64_t)dc->iops,
					     .burst = (uint64_t)dc->burst };
		int rc;
		if (only && strcmp(dc->name, only))
			continue;
		if (pool_image_path(pvd, d->uuid, d->base_dir, dc, image, sizeof(image)) != 0) {
			snprintf(err, errlen, "domain \"%s\": disk \"%s\": image path too long", d->name, dc->name);
			rc = -1;
		} else if ((disk.image_fd = pool_open_image(pvd, d->uuid, d->base_dir, dc, berr, sizeof(berr))) < 0) {
			snprintf(err, errlen, "domain \"%s\": %s", d->name, berr);
			rc = -1;
		} else {
			rc = resume ? blkback_resume(pvd->blk->b, domid, &disk, berr, sizeof(berr))
				    : blkback_add(pvd->blk->b, domid, &disk, berr, sizeof(berr));
			if (rc < 0)
				snprintf(err, errlen, "domain \"%s\": %s", d->name, berr);
		}
		if (rc < 0 && only)
			return -1;
		if (rc < 0 && !resume) {
			blkback_domain_gone(pvd->blk->b, domid);
			return -1;
		}
		if (rc < 0)
			log_warn("%s", err);
	}
	blkback_set_domain_quota(pvd->blk->b, domid, (uint64_t)cfg->disk_quota_mib << 20);
	return 0;
}

int blk_host_domain_started(struct pvd *pvd, uint32_t domid, const struct store_domain *d,
			    const struct domain_config *cfg, char *err, size_t errlen)
{
	return each_disk(pvd, domid, d, cfg, 0, NULL, err, errlen);
}

int blk_host_attach(struct pvd *pvd, uint32_t domid, const struct store_domain *d, const struct domain_config *cfg,
		    const char *name, char *err, size_t errlen)
{
	return each_disk(pvd, domid, d, cfg, 0, name, err, errlen);
}

int blk_host_detach(struct pvd *pvd, uint32_t domid, const char *name, int force, char *err, size_t errlen)
{
	if (!pvd->blk) {
		snprintf(err, errlen, "no block backend runs");
		return -ENODEV;
	}
	return blkback_detach(pvd->blk->b, domid, name, force, err, errlen);
}

int blk_host_disk_state(struct pvd *pvd, uint32_t domid, const char *name, char *why, size_t whylen)
{
	if (whylen)
		why[0] = '\0';
	return pvd->blk ? blkback_device_state(pvd->blk->b, domid, name, why, whylen) : BLKBACK_DEV_NONE;
}

void blk_host_reattach(struct pvd *pvd)
{
	struct hv *hv = pvd->hv;
	char err[600];

	if (!pvd->blk)
		return;
	for (int i = 0; i < HV_MAX_DOMS; i++) {
		struct hv_dom *e = &hv->dom[i];
		struct store_domain d;
		struct domain_config cfg;
		json_object *norm;
		if (!e->used || !e->known || e->info.state == PVCTL_DOM_DYING || blkback_has_domain(pvd->blk->b, e->domid))
			continue;
		if (store_domain_find(pvd->store, e->uuid, &d) != 0)
			continue;
		norm = json_tokener_parse(d.normalized);
		if (norm && domain_config_read(norm, &cfg) == 0)
			each_disk(pvd, e->domid, &d, &cfg, 1, NULL, err, sizeof(err));
		json_object_put(norm);
		store_domain_clear(&d);
	}
}

void blk_host_domain_gone(struct pvd *pvd, uint32_t domid)
{
	if (pvd->blk)
		blkback_domain_gone(pvd->blk->b, domid);
}

/* ---- live changes and counters (methods_disk.c) ---- */

/* The running domain's domid, or -ENOENT: it is not running here. */
static int running_domid(struct pvd *pvd, const char *uuid, uint32_t *domid)
{
	struct hv_status st;

	if (!pvd->blk || hv_status(pvd, uuid, &st) != 0 || !st.present)
		return -ENOENT;
	*domid = st.domid;
	return 0;
}

int blk_host_set_quota(struct pvd *pvd, const char *uuid, const char *disk, uint64_t bytes)
{
	uint32_t domid;

	if (running_domid(pvd, uuid, &domid) != 0)
		return -ENOENT;
	return disk ? blkback_set_quota(pvd->blk->b, domid, disk, bytes)
		    : blkback_set_domain_quota(pvd->blk->b, domid, bytes);
}

int blk_host_set_limits(struct pvd *pvd, const char *uuid, const char *disk, uint64_t bps, uint64_t iops,
			uint64_t burst)
{
	uint32_t domid;

	if (running_domid(pvd, uuid, &domid) != 0)
		return -ENOENT;
	return blkback_set_limits(pvd->blk->b, domid, disk, bps, iops, burst);
}

int blk_host_stats(struct pvd *pvd, const char *uuid, const char *disk, struct blkback_stats *st)
{
	uint32_t domid;

	if (running_domid(pvd, uuid, &domid) != 0)
		return -ENOENT;
	return blkback_stats(pvd->blk->b, domid, disk, st);
}
