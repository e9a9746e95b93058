/*
 * hv_lifecycle.c - domains' lives in the hypervisor: building a domain from
 * its stored config, the operations the API asks for (start, destroy,
 * shutdown, reboot, pause, memory, scheduling), what happens when a domain
 * shuts down (on_poweroff / on_reboot / on_crash: destroy, restart,
 * preserve; an explicit domain.shutdown always ends in shut-off, an
 * explicit domain.reboot always restarts; a shutdown request not honoured
 * within its timeout is destroyed), and reconciliation of desired state
 * with the hypervisor's after pvd or the machine (re)starts. A domain is
 * unpaused only after its console record is written, so after a SIGKILL a
 * domain of pvd's without one was left half-built and is destroyed (and
 * started again if it should run), never adopted.
 * Building a domain (~20 ms) is done inline.
 */
#include "hv.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../dom0/build.h"
#include "../dom0/ctl.h"
#include <public/sched.h>

#include "config.h"
#include "events.h"
#include "hv_internal.h"
#include "log.h"
#include "pvd.h"
#include "store.h"
#include "net_host.h"
#include "xs_host.h"
#include "blk_host.h"

void hv_record(struct pvd *pvd, const char *type, const struct store_domain *d, const char *caller,
		   const char *detail)
{
	struct store_event ev;

	events_prepare(&ev, type, caller, d, detail);
	if (store_event_append(pvd->store, &ev) != 0)
		log_warn("event %s: %s", type, store_error(pvd->store));
	else
		events_publish(pvd, &ev);
}

static void set_desired(struct pvd *pvd, const struct store_domain *d, const char *state, const char *type,
			const char *caller, const char *detail)
{
	struct store_event ev;
	char now[32];

	store_now(now);
	events_prepare(&ev, type, caller, d, detail);
	if (store_domain_set_desired(pvd->store, d->uuid, state, now, &ev) != 0)
		log_warn("domain \"%s\": %s", d->name, store_error(pvd->store));
	else
		events_publish(pvd, &ev);
}

/* The domain stopped for good: shut-off, or removed when transient. */
static void domain_stopped(struct pvd *pvd, const char *uuid, const char *reason)
{
	struct store_domain d;
	struct store_event ev;
	char detail[160];

	if (store_domain_find(pvd->store, uuid, &d) != 0)
		return;
	snprintf(detail, sizeof(detail), "{\"reason\":\"%s\"}", reason);
	if (strcmp(d.desired_state, "shut-off"))
		set_desired(pvd, &d, "shut-off", "domain.stopped", "pvd", detail);
	else
		hv_record(pvd, "domain.stopped", &d, "pvd", detail);
	log_notice("domain \"%s\" (%s) stopped: %s", d.name, d.uuid, reason);
	if (d.transient) {
		events_prepare(&ev, "domain.undefined", "pvd", &d, "{\"reason\":\"transient\"}");
		if (store_domain_delete(pvd->store, d.uuid, &ev) != 0)
			log_warn("transient domain \"%s\": %s", d.name, store_error(pvd->store));
		else {
			log_notice("transient domain \"%s\" (%s) removed", d.name, d.uuid);
			events_publish(pvd, &ev);
			hv_console_forget(pvd, d.uuid);
		}
	}
	store_domain_clear(&d);
}

/* ---- restarts after crashes ---- */

/* The restart record of uuid; with create, a free (or the oldest idle)
 * slot is taken for it. */
static struct hv_restart *restart_slot(struct hv *hv, const char *uuid, int create)
{
	struct hv_restart *free_slot = NULL, *oldest = NULL;

	for (int i = 0; i < HV_MAX_DOMS; i++) {
		struct hv_restart *r = &hv->crash_restarts[i];
		if (!strcmp(r->uuid, uuid))
			return r;
		if (!r->uuid[0] && !free_slot)
			free_slot = r;
		if (r->uuid[0] && !r->due_ms && (!oldest || r->started_ms < oldest->started_ms))
			oldest = r;
	}
	if (!create)
		return NULL;
	if (!free_slot)
		free_slot = oldest ? oldest : &hv->crash_restarts[0];
	memset(free_slot, 0, sizeof(*free_slot));
	snprintf(free_slot->uuid, sizeof(free_slot->uuid), "%s", uuid);
	return free_slot;
}

static void restart_uuid(struct pvd *pvd, const char *uuid, const char *reason);

/* A domain that is gone is to be started again: at once, or, when it
 * crashed soon after each of its last starts, after a back-off. */
static void restart_or_delay(struct pvd *pvd, const char *uuid, const char *reason)
{
	struct hv_restart *r = restart_slot(pvd->hv, uuid, 1);
	int crashed = !strcmp(reason, "crash") || !strcmp(reason, "watchdog");
	uint64_t now = hv_now_ms(), delay = 0;
	struct store_domain d;
	char detail[160];

	if (crashed && r->started_ms && now - r->started_ms < HV_QUICK_CRASH_MS)
		r->quick_crashes++;
	else
		r->quick_crashes = 0;
	if (r->quick_crashes >= 2) {		/* the first quick crash restarts at once */
		unsigned shift = r->quick_crashes - 2 < 16 ? r->quick_crashes - 2 : 16;
		delay = (uint64_t)1000u << shift;
		if (delay > HV_CRASH_BACKOFF_MAX_MS)
			delay = HV_CRASH_BACKOFF_MAX_MS;
	}
	if (!delay) {
		restart_uuid(pvd, uuid, reason);
		return;
	}
	r->due_ms = now + delay;
	snprintf(r->reason, sizeof(r->reason), "%.31s", reason);
	if (store_domain_find(pvd->store, uuid, &d) == 0) {
		log_notice("domain \"%s\" crashed %u times in a row within %u s of its start: starting it again in "
			   "%" PRIu64 " ms", d.name, r->quick_crashes, HV_QUICK_CRASH_MS / 1000, delay);
		snprintf(detail, sizeof(detail), "{\"reason\":\"%.31s\",\"quick_crashes\":%u,\"delay_ms\":%" PRIu64 "}",
			 reason, r->quick_crashes, delay);
		hv_record(pvd, "domain.restart_delayed", &d, "pvd", detail);
		store_domain_clear(&d);
	}
}

/* Delayed restarts that are due (every tick). */
static void run_due_restarts(struct pvd *pvd)
{
	uint64_t now = hv_now_ms();
	char uuid[37], reason[32];

	for (int i = 0; i < HV_MAX_DOMS; i++) {
		struct hv_restart *r = &pvd->hv->crash_restarts[i];
		if (!r->uuid[0] || !r->due_ms || r->due_ms > now)
			continue;
		r->due_ms = 0;
		snprintf(uuid, sizeof(uuid), "%s", r->uuid);
		snprintf(reason, sizeof(reason), "%s", r->reason);
		restart_uuid(pvd, uuid, reason);
		if (hv_unavailable(pvd))
			return;
	}
}

int hv_cancel_restart(struct pvd *pvd, const char *uuid)
{
	struct hv_restart *r;

	if (!pvd->hv || !(r = restart_slot(pvd->hv, uuid, 0)) || !r->due_ms)
		return 0;
	r->due_ms = 0;
	r->quick_crashes = 0;
	return 1;
}

int hv_restart_pending(struct pvd *pvd, const char *uuid, uint64_t *in_ms)
{
	struct hv_restart *r;
	uint64_t now = hv_now_ms();

	if (!pvd->hv || !(r = restart_slot(pvd->hv, uuid, 0)) || !r->due_ms)
		return 0;
	*in_ms = r->due_ms > now ? r->due_ms - now : 0;
	return 1;
}

void hv_note_started(struct pvd *pvd, const char *uuid)
{
	restart_slot(pvd->hv, uuid, 1)->started_ms = hv_now_ms();
}

/* A restart's or an autostart's start, answered on the loop. */
struct restart_ctx {
	char uuid[37];
	char reason[32];
	int autostart;
};

static void restarted(struct pvd *pvd, void *arg, int rc, uint32_t domid, const char *err)
{
	struct restart_ctx *r = arg;
	struct store_domain d;
	char detail[160];

	if (store_domain_find(pvd->store, r->uuid, &d) != 0) {
		free(r);
		return;
	}
	if (r->autostart) {
		if (rc != 0) {
			log_err("autostart: %s", err);
		} else {
			snprintf(detail, sizeof(detail), "{\"reason\":\"autostart\",\"domid\":%u}", domid);
			set_desired(pvd, &d, "running", "domain.started", "pvd (autostart)", detail);
		}
	} else if (rc != 0) {
		log_err("%s", err);
		snprintf(detail, sizeof(detail), "{\"reason\":\"%s\",\"error\":\"start failed\"}", r->reason);
		set_desired(pvd, &d, "shut-off", "domain.stopped", "pvd", detail);
	} else {
		snprintf(detail, sizeof(detail), "{\"reason\":\"%s\",\"domid\":%u}", r->reason, domid);
		if (!strcmp(d.desired_state, "paused") || !strcmp(d.desired_state, "running"))
			hv_record(pvd, "domain.restarted", &d, "pvd", detail);
		else
			set_desired(pvd, &d, "running", "domain.restarted", "pvd", detail);
	}
	store_domain_clear(&d);
	free(r);
}

/* Start uuid on the control thread; what happened is recorded when it is done. */
static void start_async(struct pvd *pvd, const struct store_domain *d, const char *reason, int autostart)
{
	struct restart_ctx *r = calloc(1, sizeof(*r));
	char err[700], detail[160];
	int rc;

	if (!r)
		return;
	snprintf(r->uuid, sizeof(r->uuid), "%s", d->uuid);
	snprintf(r->reason, sizeof(r->reason), "%.31s", reason);
	r->autostart = autostart;
	rc = hv_start_domain(pvd, d, !autostart && !strcmp(d->desired_state, "paused"), restarted, r, err,
			     sizeof(err));
	if (rc == 0)
		return;
	free(r);
	if (rc == HV_START_BUSY) {	/* someone started it meanwhile: nothing to do */
		log_notice("%s: %s", reason, err);
		return;
	}
	if (autostart) {
		log_err("autostart: %s", err);
		return;
	}
	log_err("%s", err);
	snprintf(detail, sizeof(detail), "{\"reason\":\"%s\",\"error\":\"start failed\"}", reason);
	set_desired(pvd, d, "shut-off", "domain.stopped", "pvd", detail);
}

/* Start again (restart action, or missing at reconciliation). */
static void restart_uuid(struct pvd *pvd, const char *uuid, const char *reason)
{
	struct store_domain d;

	if (store_domain_find(pvd->store, uuid, &d) != 0)
		return;
	start_async(pvd, &d, reason, 0);
	store_domain_clear(&d);
}

struct destroy_job {
	struct hv_job j;
	uint32_t domid;
};

static void destroy_work(struct hv_job *j)
{
	struct destroy_job *dj = (struct destroy_job *)j;

	j->rc = ctl_destroy(j->c, dj->domid, j->err, sizeof(j->err));
}

static void destroy_done(struct pvd *pvd, struct hv_job *j)
{
	struct destroy_job *dj = (struct destroy_job *)j;

	if (hv_job_current(pvd, j) && j->rc < 0 && j->rc != -ESRCH) {
		log_err("destroying domain %u: %s", dj->domid, j->err);
		hv_control_failed(pvd, j->rc, j->err);
	}
	free(dj);
}

void hv_destroy_entry(struct pvd *pvd, struct hv_dom *e)
{
	struct destroy_job *dj = calloc(1, sizeof(*dj));

	hv_close_console(pvd, e);
	net_host_domain_gone(pvd, e->domid);
	xs_host_domain_gone(pvd, e->domid, e->uuid);
	blk_host_domain_gone(pvd, e->domid);
	e->intent = INTENT_DESTROY;
	e->seq = ++pvd->hv->seq;
	if (!dj) {
		log_err("destroying domain %u: out of memory", e->domid);
		return;
	}
	dj->domid = e->domid;
	dj->j.work = destroy_work;
	dj->j.done = destroy_done;
	hv_submit(pvd, &dj->j);	/* after every earlier job: a build's own destroy comes after it */
}

static void on_shut_down(struct pvd *pvd, struct hv_dom *e)
{
	struct store_domain d;
	struct domain_config cfg;
	json_object *norm = NULL;
	const char *reason = shutdown_reason_name(e->info.shutdown_reason), *action = "destroy";
	char detail[200];

	e->handled = 1;
	if (!e->known || store_domain_find(pvd->store, e->uuid, &d) != 0) {
		log_notice("domain %u (not pvd's) shut down: %s; left as it is", e->domid, reason);
		return;
	}
	if (e->intent == INTENT_REBOOT)
		action = "restart";
	else if (e->intent == INTENT_SHUTDOWN)
		action = "destroy";
	else if ((norm = json_tokener_parse(d.normalized)) && domain_config_read(norm, &cfg) == 0) {
		if (e->info.shutdown_reason == SHUTDOWN_reboot)
			action = cfg.on_reboot;
		else if (e->info.shutdown_reason == SHUTDOWN_crash || e->info.shutdown_reason == SHUTDOWN_watchdog)
			action = cfg.on_crash;
		else
			action = cfg.on_poweroff;
	}
	log_notice("domain \"%s\" (domid %u) shut down: %s; action %s", d.name, e->domid, reason, action);
	if (!strcmp(action, "restart")) {
		snprintf(detail, sizeof(detail), "{\"reason\":\"%s\",\"action\":\"restart\"}", reason);
		hv_record(pvd, "domain.shutdown", &d, "pvd", detail);
		e->restart = 1;
		snprintf(e->restart_reason, sizeof(e->restart_reason), "%s", reason);
		hv_destroy_entry(pvd, e);
	} else if (!strcmp(action, "preserve")) {
		snprintf(detail, sizeof(detail), "{\"reason\":\"%s\",\"action\":\"preserve\"}", reason);
		hv_record(pvd, "domain.shutdown", &d, "pvd", detail);
	} else {
		snprintf(detail, sizeof(detail), "{\"reason\":\"%s\",\"action\":\"destroy\"}", reason);
		hv_record(pvd, "domain.shutdown", &d, "pvd", detail);
		hv_destroy_entry(pvd, e);
		domain_stopped(pvd, e->uuid, reason);
	}
	json_object_put(norm);
	store_domain_clear(&d);
}

/* Act on a listing of the hypervisor's domains taken when hv->seq was
 * `seq`: entries the loop changed since (a build finished, a destroy
 * asked for) are newer than the listing and are left as they are. */
static void apply_list(struct pvd *pvd, const struct pvctl_domain_info *list, size_t n, uint64_t seq)
{
	struct hv *hv = pvd->hv;
	char uuid[37], restarts[HV_MAX_DOMS][37], reasons[HV_MAX_DOMS][32];
	int nrestart = 0;

	hv_control_answered(pvd);
	if (n > HV_MAX_DOMS)
		n = HV_MAX_DOMS;
	int seen[HV_MAX_DOMS] = { 0 };
	for (size_t k = 0; k < n; k++) {
		const struct pvctl_domain_info *in = &list[k];
		struct hv_dom *e;
		if (in->domid == 0)
			continue;
		hv_uuid_format(in->handle, uuid);
		e = hv_by_domain(hv, in->domid, uuid);
		if (!e && hv_building(hv, uuid))
			continue;	/* its build has not come back yet: its entry is made then */
		if (e && e->seq > seq) {
			seen[e - hv->dom] = 1;
			continue;
		}
		if (!e) {
			struct store_domain d;
			e = hv_new_entry(hv, in->domid, uuid);
			if (!e)
				continue;
			e->known = store_domain_find(pvd->store, uuid, &d) == 0;
			if (e->known)
				store_domain_clear(&d);
			else
				log_warn("domain %u (\"%.31s\", handle %s) is not in pvd's store; left alone", in->domid,
					 in->name, uuid);
		}
		e->info = *in;
		seen[e - hv->dom] = 1;
	}
	for (int i = 0; i < HV_MAX_DOMS; i++) {
		struct hv_dom *e = &hv->dom[i];
		if (!e->used || seen[i] || e->building || e->seq > seq)
			continue;
		/* gone */
		hv_close_console(pvd, e);
		net_host_domain_gone(pvd, e->domid);
		xs_host_domain_gone(pvd, e->domid, e->uuid);
		blk_host_domain_gone(pvd, e->domid);
		if (e->restart && nrestart < HV_MAX_DOMS) {
			snprintf(restarts[nrestart], 37, "%s", e->uuid);
			snprintf(reasons[nrestart++], 32, "%s", e->restart_reason);
		} else if (e->known && e->intent != INTENT_DESTROY) {
			domain_stopped(pvd, e->uuid, "vanished");
		}
		e->used = 0;
	}
	for (int i = 0; i < HV_MAX_DOMS; i++) {
		struct hv_dom *e = &hv->dom[i];
		if (!e->used || e->intent == INTENT_DESTROY)
			continue;
		if (e->info.state == PVCTL_DOM_SHUTDOWN && !e->handled)
			on_shut_down(pvd, e);
		else if (e->intent == INTENT_SHUTDOWN && e->info.state != PVCTL_DOM_SHUTDOWN &&
			 hv_now_ms() > e->deadline_ms) {
			log_notice("domain %u did not shut down in time: destroying it", e->domid);
			hv_destroy_entry(pvd, e);
			domain_stopped(pvd, e->uuid, "shutdown timeout");
		} else if (e->intent == INTENT_REBOOT && e->deadline_ms && e->info.state != PVCTL_DOM_SHUTDOWN &&
			   hv_now_ms() > e->deadline_ms) {
			log_notice("domain %u did not reboot in time: destroying it and starting it again", e->domid);
			e->restart = 1;
			snprintf(e->restart_reason, sizeof(e->restart_reason), "reboot timeout");
			hv_destroy_entry(pvd, e);
		}
	}
	for (int i = 0; i < nrestart; i++)
		restart_or_delay(pvd, restarts[i], reasons[i]);
	if (!hv_unavailable(pvd))
		run_due_restarts(pvd);
}

void hv_refresh_now(struct pvd *pvd)
{
	struct hv *hv = pvd->hv;
	char err[300];
	size_t n = 0;
	int rc;

	if (hv_unavailable(pvd))
		return;
	rc = ctl_list_domains(hv->c, hv->list, HV_MAX_DOMS, &n, err, sizeof(err));
	if (rc < 0 && rc != -ENOSPC) {
		log_warn("listing domains: %s", err);
		hv_control_failed(pvd, rc, err);
		return;
	}
	apply_list(pvd, hv->list, n, hv->seq);
	if (!hv_unavailable(pvd) && ctl_machine_info(hv->c, &hv->mi, err, sizeof(err)) == 0)
		hv->mi_valid = 1;
}

struct list_job {
	struct hv_job j;
	uint64_t seq;
	struct pvctl_machine_info mi;
	int mi_ok;
	size_t n;
	struct pvctl_domain_info list[HV_MAX_DOMS];
};

static void list_work(struct hv_job *j)
{
	struct list_job *l = (struct list_job *)j;

	char err[300];

	j->rc = ctl_list_domains(j->c, l->list, HV_MAX_DOMS, &l->n, j->err, sizeof(j->err));
	if (j->rc == -ENOSPC)
		j->rc = 0;
	/* the machine's size and free memory, for host.info without a call of its own */
	l->mi_ok = j->rc == 0 && ctl_machine_info(j->c, &l->mi, err, sizeof(err)) == 0;
}

static void reconcile_rest(struct pvd *pvd);

static void list_done(struct pvd *pvd, struct hv_job *j)
{
	struct list_job *l = (struct list_job *)j;

	if (hv_job_current(pvd, j)) {
		pvd->hv->listing = 0;
		if (j->rc < 0) {
			log_warn("listing domains: %s", j->err);
			hv_control_failed(pvd, j->rc, j->err);
		} else {
			apply_list(pvd, l->list, l->n, l->seq);
			if (l->mi_ok) {
				pvd->hv->mi = l->mi;
				pvd->hv->mi_valid = 1;
			}
			if (pvd->hv->reconcile_pending && !hv_unavailable(pvd)) {
				pvd->hv->reconcile_pending = 0;
				reconcile_rest(pvd);
			}
		}
		if (pvd->hv->list_again && !hv_unavailable(pvd)) {
			pvd->hv->list_again = 0;
			hv_refresh(pvd);
		}
	}
	free(l);
}

void hv_refresh_soon(struct pvd *pvd)
{
	if (pvd->hv->listing)
		pvd->hv->list_again = 1;
	else
		hv_refresh(pvd);
}

/* The tick's listing, on the control thread; one at a time. */
void hv_refresh(struct pvd *pvd)
{
	struct hv *hv = pvd->hv;
	struct list_job *l;

	if (hv_unavailable(pvd))
		return;
	if (hv->listing)
		return;
	l = calloc(1, sizeof(*l));
	if (!l)
		return;
	l->seq = hv->seq;
	l->j.work = list_work;
	l->j.done = list_done;
	hv->listing = 1;
	hv_submit(pvd, &l->j);
}

struct recon {
	struct pvd *pvd;
	char uuid[HV_MAX_DOMS][37];
	int n;
};

static int collect(void *arg, const struct store_domain *d)
{
	struct recon *r = arg;

	if (r->n < HV_MAX_DOMS)
		snprintf(r->uuid[r->n++], 37, "%s", d->uuid);
	return 0;
}

/* Start-up, before the loop serves anyone: the listing inline. */
void hv_reconcile(struct pvd *pvd)
{
	if (hv_unavailable(pvd))
		return;
	hv_refresh_now(pvd);
	if (!hv_unavailable(pvd))
		reconcile_rest(pvd);
}

/* A machine booted again while pvd serves: its listing on the control
 * thread like the tick's, the rest when it is back (list_done). */
void hv_reconcile_after_boot(struct pvd *pvd)
{
	pvd->hv->reconcile_pending = 1;
	hv_refresh_soon(pvd);
}

/* Reconciliation after the machine's listing has been applied. */
static void reconcile_rest(struct pvd *pvd)
{
	struct hv *hv = pvd->hv;
	struct recon *r;
	char path[4200], buf[64];
	int do_autostart;
	FILE *f;

	hv_reattach_consoles(pvd);
	blk_host_reattach(pvd);
	net_host_reattach(pvd);
	r = calloc(1, sizeof(*r));
	if (!r)
		return;
	r->pvd = pvd;
	if (store_domain_list(pvd->store, collect, r) != 0)
		log_warn("reconcile: %s", store_error(pvd->store));
	snprintf(path, sizeof(path), "%s/autostart.boot", pvd->opt.state_dir);
	snprintf(buf, sizeof(buf), "%#" PRIx64 "\n", ctl_boot_id(hv->c));
	{
		char old[64] = "";
		f = fopen(path, "re");
		if (f) {
			if (!fgets(old, sizeof(old), f))
				old[0] = '\0';
			fclose(f);
		}
		do_autostart = strcmp(old, buf) != 0;
	}
	for (int i = 0; i < r->n; i++) {
		struct store_domain d;
		struct hv_dom *e;
		if (store_domain_find(pvd->store, r->uuid[i], &d) != 0)
			continue;
		e = hv_by_uuid(hv, d.uuid);
		if (e && e->info.state != PVCTL_DOM_DYING && e->unfinished) {
			/* pvd was killed while building it: never adopt a half-built
			 * domain; start it again once it is gone if it should run */
			log_warn("domain \"%s\" (domid %u) was left half-built by a killed pvd: destroying it",
				 d.name, e->domid);
			hv_destroy_entry(pvd, e);
			if (strcmp(d.desired_state, "shut-off")) {
				e->restart = 1;
				snprintf(e->restart_reason, sizeof(e->restart_reason), "half-built");
			}
		} else if (e && e->info.state != PVCTL_DOM_DYING) {
			if (!strcmp(d.desired_state, "shut-off")) {
				set_desired(pvd, &d, e->info.state == PVCTL_DOM_PAUSED ? "paused" : "running",
					    "domain.reconciled", "pvd", "{\"found\":\"running\"}");
				log_notice("domain \"%s\" runs in the hypervisor: marked running", d.name);
			}
		} else if (d.transient) {
			domain_stopped(pvd, d.uuid, "missing after pvd restart");
		} else if (strcmp(d.desired_state, "shut-off")) {
			log_notice("domain \"%s\" should be %s but is missing: starting it", d.name, d.desired_state);
			restart_uuid(pvd, d.uuid, "missing");
		} else if (do_autostart && d.autostart) {
			start_async(pvd, &d, "autostart", 1);
		}
		store_domain_clear(&d);
	}
	free(r);
	if (do_autostart) {
		f = fopen(path, "we");
		if (f) {
			fputs(buf, f);
			fclose(f);
		}
	}
}
