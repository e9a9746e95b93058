/*
 * hv_table.c - the table of the hypervisor's domains as pvd last saw them
 * (struct hv_dom in struct hv), and the queries the API makes on it.
 *
 * Invariants: an entry is one domain: its domid and its handle (UUID)
 * together; an entry with intent DESTROY stays until the hypervisor no
 * longer lists that domid with that handle; entries whose UUID is not in
 * the store are unmanaged: listed, never acted on unasked.
 */
#include "hv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <public/sched.h>

#include "hv_internal.h"
#include "log.h"
#include "pvd.h"

void hv_uuid_format(const uint8_t h[16], char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", h[0], h[1],
		 h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]);
}

int hv_uuid_parse(const char *s, uint8_t h[16])
{
	int n = 0;

	for (const char *p = s; *p && n < 32; p++) {
		int v;
		if (*p == '-')
			continue;
		if (*p >= '0' && *p <= '9')
			v = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			v = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			v = *p - 'A' + 10;
		else
			return -1;
		if (n % 2 == 0)
			h[n / 2] = (uint8_t)(v << 4);
		else
			h[n / 2] |= (uint8_t)v;
		n++;
	}
	return n == 32 ? 0 : -1;
}

/* A domain in the hypervisor is its domid AND its handle: a domid alone
 * may name a domain that replaced one pvd still tracks. */
struct hv_dom *hv_by_domain(struct hv *hv, uint32_t domid, const char *uuid)
{
	for (int i = 0; i < hv->dom_end; i++)
		if (hv->dom[i].used && !hv->dom[i].building && hv->dom[i].domid == domid &&
		    !strcmp(hv->dom[i].uuid, uuid))
			return &hv->dom[i];
	return NULL;
}

/* The entry of domid that is not on its way out. */
static struct hv_dom *by_domid(struct hv *hv, uint32_t domid)
{
	for (int i = 0; i < hv->dom_end; i++) {
		struct hv_dom *e = &hv->dom[i];
		if (e->used && !e->building && e->domid == domid && e->intent != INTENT_DESTROY &&
		    e->info.state != PVCTL_DOM_DYING)
			return e;
	}
	return NULL;
}

/* The live entry of uuid: one that is not on its way out, else any. */
struct hv_dom *hv_by_uuid(struct hv *hv, const char *uuid)
{
	struct hv_dom *any = NULL;

	for (int i = 0; i < hv->dom_end; i++) {
		struct hv_dom *e = &hv->dom[i];
		if (!e->used || strcmp(e->uuid, uuid))
			continue;
		if (e->intent != INTENT_DESTROY && e->info.state != PVCTL_DOM_DYING)
			return e;
		any = e;
	}
	return any;
}

struct hv_dom *hv_building(struct hv *hv, const char *uuid)
{
	for (int i = 0; i < hv->dom_end; i++)
		if (hv->dom[i].used && hv->dom[i].building && !strcmp(hv->dom[i].uuid, uuid))
			return &hv->dom[i];
	return NULL;
}

struct hv_dom *hv_new_entry(struct hv *hv, uint32_t domid, const char *uuid)
{
	for (int i = 0; i < HV_MAX_DOMS; i++)
		if (!hv->dom[i].used) {
			struct hv_dom *e = &hv->dom[i];
			memset(e, 0, sizeof(*e));
			e->used = 1;
			e->domid = domid;
			if (i >= hv->dom_end)
				hv->dom_end = i + 1;
			snprintf(e->uuid, sizeof(e->uuid), "%s", uuid);
			return e;
		}
	return NULL;
}

static const char *state_name(const struct pvctl_domain_info *i)
{
	switch (i->state) {
	case PVCTL_DOM_BUILDING: return "building";
	case PVCTL_DOM_RUNNING: return "running";
	case PVCTL_DOM_PAUSED: return "paused";
	case PVCTL_DOM_SHUTDOWN:
		return i->shutdown_reason == SHUTDOWN_crash || i->shutdown_reason == SHUTDOWN_watchdog ? "crashed"
												   : "shut-down";
	case PVCTL_DOM_DYING: return "dying";
	default: return "unknown";
	}
}

static void fill_status(const struct hv_dom *e, struct hv_status *st)
{
	st->present = 1;
	st->domid = e->domid;
	st->state = e->building ? "building" : e->intent == INTENT_DESTROY ? "dying" : state_name(&e->info);
	st->mem_kib = e->info.tot_pages * 4;
	st->maxmem_kib = e->info.max_pages * 4;
	st->vcpus = e->info.vcpus;
	st->weight = e->info.weight;
	st->cap = e->info.cap;
	st->cpu_time_ns = e->info.cpu_time_ns;
}

/* An entry being destroyed stays until a listing shows it gone; ask for
 * one now (on the control thread), so that a start right after a destroy
 * is refused for "dying" only while the domain really is. */
static void forget_if_gone(struct pvd *pvd, struct hv_dom *e)
{
	if (e->intent == INTENT_DESTROY && !e->restart)
		hv_refresh_soon(pvd);
}

int hv_status(struct pvd *pvd, const char *uuid, struct hv_status *st)
{
	struct hv_dom *e;

	memset(st, 0, sizeof(*st));
	st->state = "shut-off";
	if (pvd->hv && pvd->hv->lost[0])
		st->state = "machine-down";	/* not "shut-off": nobody knows */
	if (hv_unavailable(pvd))
		return 0;
	e = hv_by_uuid(pvd->hv, uuid);
	if (e) {
		forget_if_gone(pvd, e);
		e = hv_unavailable(pvd) ? NULL : hv_by_uuid(pvd->hv, uuid);
	}
	if (!e)
		return 0;
	fill_status(e, st);
	return 0;
}

static void fill_unmanaged(const struct hv_dom *e, struct hv_unmanaged *u)
{
	memset(u, 0, sizeof(*u));
	u->domid = e->domid;
	snprintf(u->uuid, sizeof(u->uuid), "%s", e->uuid);
	snprintf(u->name, sizeof(u->name), "%.*s", (int)sizeof(e->info.name), e->info.name);
	fill_status(e, &u->st);
}

void hv_for_each_unmanaged(struct pvd *pvd, void (*fn)(void *arg, const struct hv_unmanaged *u), void *arg)
{
	struct hv_unmanaged u;

	if (hv_unavailable(pvd))
		return;
	for (int i = 0; i < HV_MAX_DOMS; i++) {
		struct hv_dom *e = &pvd->hv->dom[i];
		if (!e->used || e->known || e->intent == INTENT_DESTROY)
			continue;
		fill_unmanaged(e, &u);
		fn(arg, &u);
	}
}

int hv_find_unmanaged(struct pvd *pvd, const char *uuid, struct hv_unmanaged *u)
{
	if (hv_unavailable(pvd))
		return 0;
	for (int i = 0; i < HV_MAX_DOMS; i++) {
		struct hv_dom *e = &pvd->hv->dom[i];
		if (e->used && !e->known && e->intent != INTENT_DESTROY && !strcasecmp(e->uuid, uuid)) {
			fill_unmanaged(e, u);
			return 1;
		}
	}
	return 0;
}

int hv_uuid_of_domid(struct pvd *pvd, uint32_t domid, char uuid[37])
{
	struct hv_dom *e;

	if (hv_unavailable(pvd) || !(e = by_domid(pvd->hv, domid)) || !e->known)
		return 1;
	snprintf(uuid, 37, "%s", e->uuid);
	return 0;
}

int hv_adopt(struct pvd *pvd, const char *uuid, int *console, char *err, size_t errlen)
{
	if (hv_unavailable(pvd)) {
		snprintf(err, errlen, "%s", hv_unavailable(pvd));
		return -1;
	}
	for (int i = 0; i < HV_MAX_DOMS; i++) {
		struct hv_dom *e = &pvd->hv->dom[i];
		if (e->used && !e->known && e->intent != INTENT_DESTROY && !strcasecmp(e->uuid, uuid)) {
			e->known = 1;
			e->handled = 0;
			e->seq = ++pvd->hv->seq;
			*console = hv_adopt_console(pvd, e);
			return 0;
		}
	}
	snprintf(err, errlen, "no unmanaged domain %s in the hypervisor", uuid);
	return -1;
}

/* Has a domain being destroyed gone? Asked of the hypervisor on the control
 * thread, so that a start right after a destroy is refused for "dying"
 * only while the domain really is. */
struct gone_job {
	struct hv_job j;
	uint32_t domid;
	char uuid[37];
	struct pvctl_domain_info info;
	hv_op_fn fn;
	void *arg;
};

static void gone_work(struct hv_job *j)
{
	struct gone_job *g = (struct gone_job *)j;

	j->rc = ctl_get_info(j->c, g->domid, &g->info, j->err, sizeof(j->err));
}

static void gone_done(struct pvd *pvd, struct hv_job *j)
{
	struct gone_job *g = (struct gone_job *)j;
	char uuid[37] = "";
	int gone;

	if (!hv_job_current(pvd, j)) {
		g->fn(pvd, g->arg, -1, hv_unavailable(pvd) ? hv_unavailable(pvd) : "the machine was lost");
		free(g);
		return;
	}
	if (j->rc == 0)
		hv_uuid_format(g->info.handle, uuid);
	gone = j->rc == -ESRCH || (j->rc == 0 && strcmp(uuid, g->uuid));
	if (gone) {
		struct hv_dom *e = hv_by_domain(pvd->hv, g->domid, g->uuid);
		if (e && e->intent == INTENT_DESTROY && !e->restart) {
			hv_close_console(pvd, e);
			e->used = 0;
		}
	} else if (j->rc < 0) {
		hv_control_failed(pvd, j->rc, j->err);
	}
	g->fn(pvd, g->arg, gone ? 0 : -1, j->err);
	free(g);
}

int hv_check_gone(struct pvd *pvd, const char *uuid, hv_op_fn fn, void *arg)
{
	struct hv_dom *e;
	struct gone_job *g;

	if (hv_unavailable(pvd) || !(e = hv_by_uuid(pvd->hv, uuid)) || e->intent != INTENT_DESTROY || e->restart ||
	    !(g = calloc(1, sizeof(*g))))
		return -1;
	g->domid = e->domid;
	snprintf(g->uuid, sizeof(g->uuid), "%s", e->uuid);
	g->fn = fn;
	g->arg = arg;
	g->j.work = gone_work;
	g->j.done = gone_done;
	hv_submit(pvd, &g->j);
	return 0;
}
