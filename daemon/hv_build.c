/*
 * hv_build.c - starting a domain without blocking the loop. Three steps:
 *
 *   loop     the stored config parsed, kernel and ramdisk opened from the
 *            allowed image directories (a configuration error is
 *            returned at once, never as a hypervisor error), the network
 *            checked, and a table entry marked `building` (so a second
 *            start of the same domain is refused, info shows "building");
 *   control  (hv_worker.c) the files read and checked, the machine's free
 *   thread   memory checked (a domain too big says asked/free/size), the
 *            domain built paused (dom0/build.c);
 *   loop     its xenstore tree, vifs, console record and disks set up,
 *            then on the control thread again: unpaused (and paused again
 *            if it is to stay paused) and its info read; the entry stops
 *            being `building` (no destroy or other start meanwhile) and
 *            the caller's callback runs.
 *
 * Owns: struct start_job. The callback runs exactly once, on the loop,
 * never from inside hv_start_domain.
 * Invariant: the console record is written before the unpause, so after
 * a SIGKILL a domain without one was never finished (hv_reconcile
 * destroys it and starts it again).
 */
#include "hv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../dom0/build.h"
#include "../dom0/ctl.h"

#include "blk_host.h"
#include "config.h"
#include "hv_internal.h"
#include "log.h"
#include "net_host.h"
#include "pvd.h"
#include "store.h"
#include "xs_host.h"

struct start_job {
	struct hv_job j;
	/* the request */
	char uuid[37], name[PVCTL_NAME_LEN], kernel[256], ramdisk[256];
	uint64_t build_id;
	int kfd, rfd;
	int paused;
	json_object *norm;		/* the stored config: cfg's strings live in it */
	struct domain_config cfg;
	struct build_config bc;
	hv_started_fn fn;
	void *arg;
	/* the answer */
	struct build_result res;
	struct pvctl_domain_info info;
	int stage;			/* 1: build, 2: unpause and info */
	int config_error;		/* the files, not the machine, were wrong */
	int too_big;
};

static void job_free(struct start_job *s)
{
	if (s->kfd >= 0)
		close(s->kfd);
	if (s->rfd >= 0)
		close(s->rfd);
	json_object_put(s->norm);
	free(s);
}

/* The entry of this build, if it is still there. */
static struct hv_dom *entry_of(struct pvd *pvd, const struct start_job *s)
{
	if (!pvd->hv)
		return NULL;
	for (int i = 0; i < HV_MAX_DOMS; i++) {
		struct hv_dom *e = &pvd->hv->dom[i];
		if (e->used && e->build_id == s->build_id && !strcmp(e->uuid, s->uuid))
			return e;
	}
	return NULL;
}

static void finish(struct pvd *pvd, struct start_job *s, int rc, const char *err)
{
	s->fn(pvd, s->arg, rc, rc == 0 ? s->res.domid : 0, err);
	job_free(s);
}

/* ---- the control thread ---- */

static void build_work(struct hv_job *j)
{
	struct start_job *s = (struct start_job *)j;
	struct build_image img;
	struct pvctl_machine_info mi;
	char berr[500];

	if (build_image_read_fd(&img, s->kfd, s->kernel, s->rfd, s->cfg.ramdisk ? s->ramdisk : NULL, berr,
				sizeof(berr)) != 0) {
		s->config_error = 1;
		j->rc = -EINVAL;
		snprintf(j->err, sizeof(j->err), "%s", berr);
		return;
	}
	/* Too big for what the machine has free: say how much, before building. */
	if (ctl_machine_info(j->c, &mi, berr, sizeof(berr)) == 0 && s->bc.mem_kib / 4 > mi.free_frames) {
		s->too_big = 1;
		j->rc = -ENOMEM;
		snprintf(j->err, sizeof(j->err), "it needs %" PRIu64 " MiB and the machine has %llu MiB free of "
			 "%llu MiB; stop another domain, give it less memory, or run pvd with a larger --machine-mem",
			 s->bc.mem_kib / 1024, (unsigned long long)(mi.free_frames / 256),
			 (unsigned long long)(mi.total_frames / 256));
		build_image_free(&img);
		return;
	}
	s->bc.image = &img;
	j->rc = build_domain(j->c, &s->bc, &s->res, j->err, sizeof(j->err));
	s->bc.image = NULL;
	build_image_free(&img);
}

static void unpause_work(struct hv_job *j)
{
	struct start_job *s = (struct start_job *)j;
	char err[300];

	/* a domain to stay paused is unpaused and paused again: the
	 * hypervisor keeps a never-unpaused one "building" */
	j->rc = ctl_unpause(j->c, s->res.domid, j->err, sizeof(j->err));
	if (j->rc == 0 && s->paused)
		j->rc = ctl_pause(j->c, s->res.domid, j->err, sizeof(j->err));
	if (j->rc == 0 && ctl_get_info(j->c, s->res.domid, &s->info, err, sizeof(err)) < 0) {
		s->info.domid = s->res.domid;
		s->info.state = s->paused ? PVCTL_DOM_PAUSED : PVCTL_DOM_RUNNING;
		memcpy(s->info.handle, s->bc.handle, 16);
	}
}

/* ---- the loop ---- */

static void start_done(struct pvd *pvd, struct hv_job *j);

/* The build failed or the domain could not be served: no entry stays
 * (one whose domain exists has it destroyed). */
static void fail(struct pvd *pvd, struct start_job *s, struct hv_dom *e, const char *why)
{
	char err[900];

	if (e && e->domid) {
		e->building = 0;
		hv_destroy_entry(pvd, e);
	} else if (e) {
		e->used = 0;
	}
	snprintf(err, sizeof(err), "cannot start domain \"%s\": %s", s->name, why);
	finish(pvd, s, s->config_error ? HV_START_CONFIG : s->too_big ? HV_START_TOO_BIG : -1, err);
}

static void serve(struct pvd *pvd, struct start_job *s, struct hv_dom *e)
{
	char berr[400];
	int rc;

	e->domid = s->res.domid;	/* still `building` until the start answers */
	e->seq = ++pvd->hv->seq;
	xs_host_domain_started(pvd, &(struct xs_host_domain){ .domid = s->res.domid, .name = s->name,
		.uuid = s->uuid, .mem_kib = s->bc.mem_kib, .maxmem_kib = s->bc.max_mem_kib, .vcpus = s->bc.vcpus,
		.store_mfn = s->res.store_mfn, .console_mfn = s->res.console_mfn, .store_port = s->res.store_port,
		.console_port = s->res.console_port, .guest_store_port = s->res.guest_store_port,
		.guest_console_port = s->res.guest_console_port });
	if (net_host_domain_started(pvd, s->res.domid, s->uuid, berr, sizeof(berr)) < 0) {
		fail(pvd, s, e, berr);
		return;
	}
	/* the console record is written before the unpause (see the top) */
	memcpy(e->info.handle, s->bc.handle, 16);
	e->info.domid = s->res.domid;
	e->info.state = PVCTL_DOM_PAUSED;
	hv_open_console(pvd, e, s->res.console_mfn, s->res.console_port);
	struct store_domain d;
	if (store_domain_find(pvd->store, s->uuid, &d) != 0) {
		fail(pvd, s, e, "it was undefined while it was being built");
		return;
	}
	rc = blk_host_domain_started(pvd, s->res.domid, &d, &s->cfg, berr, sizeof(berr));
	store_domain_clear(&d);
	if (rc < 0) {
		fail(pvd, s, e, berr);
		return;
	}
	s->stage = 2;
	s->j.work = unpause_work;
	s->j.rc = 0;
	s->j.err[0] = '\0';
	hv_submit(pvd, &s->j);
}

static void start_done(struct pvd *pvd, struct hv_job *j)
{
	struct start_job *s = (struct start_job *)j;
	struct hv_dom *e = entry_of(pvd, s);

	if (!hv_job_current(pvd, j)) {
		finish(pvd, s, -1, hv_unavailable(pvd) ? hv_unavailable(pvd) : "the machine was lost during the build");
		return;
	}
	if (j->rc < 0) {
		if (!s->config_error && !s->too_big)
			hv_control_failed(pvd, j->rc, j->err);
		if (s->stage == 2)
			log_err("domain \"%s\": unpause: %s", s->name, j->err);
		fail(pvd, s, e, j->err);
		return;
	}
	if (s->stage == 1) {
		hv_control_answered(pvd);
		if (!e) {	/* the machine's entries were dropped meanwhile: do not keep it */
			ctl_destroy(pvd->hv->c, s->res.domid, NULL, 0);
			finish(pvd, s, -1, "its entry went while it was being built");
			return;
		}
		serve(pvd, s, e);
		return;
	}
	if (!e) {	/* the machine's entries were dropped meanwhile */
		finish(pvd, s, -1, "its entry went while it was being started");
		return;
	}
	e->building = 0;
	e->info = s->info;
	e->seq = ++pvd->hv->seq;
	hv_note_started(pvd, s->uuid);
	log_notice("domain \"%s\" (%s) started as domid %u: %s, %" PRIu64 " MiB, %" PRIu32 " vCPU(s)%s", s->name,
		   s->uuid, s->res.domid, s->kernel, s->bc.mem_kib / 1024, s->bc.vcpus, s->paused ? ", paused" : "");
	finish(pvd, s, 0, NULL);
}

int hv_start_domain(struct pvd *pvd, const struct store_domain *d, int paused, hv_started_fn fn, void *arg,
		    char *err, size_t errlen)
{
	struct hv *hv = pvd->hv;
	const char *why = hv_unavailable(pvd);
	struct start_job *s;
	struct hv_dom *e;
	char berr[400];

	if (why) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	e = hv_by_uuid(hv, d->uuid);
	if (e && (e->building || (e->intent != INTENT_DESTROY && e->info.state != PVCTL_DOM_DYING))) {
		snprintf(err, errlen, "domain \"%s\" is already %s", d->name, e->building ? "being started" : "running");
		return HV_START_BUSY;
	}
	hv_cancel_restart(pvd, d->uuid);	/* a start supersedes a delayed one */
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->kfd = s->rfd = -1;
	s->fn = fn;
	s->arg = arg;
	s->paused = paused;
	s->stage = 1;
	snprintf(s->uuid, sizeof(s->uuid), "%s", d->uuid);
	snprintf(s->name, sizeof(s->name), "%.*s", (int)sizeof(s->name) - 1, d->name);
	s->norm = json_tokener_parse(d->normalized);
	if (!s->norm || domain_config_read(s->norm, &s->cfg) != 0) {
		snprintf(err, errlen, "stored config of domain \"%s\" does not parse", d->name);
		job_free(s);
		return HV_START_CONFIG;
	}
	snprintf(s->kernel, sizeof(s->kernel), "%s", s->cfg.kernel);
	if (s->cfg.ramdisk)
		snprintf(s->ramdisk, sizeof(s->ramdisk), "%s", s->cfg.ramdisk);
	/* the files, opened here from the allowed directories only; read on the control thread */
	s->kfd = image_open(&pvd->images, "kernel", d->base_dir, s->cfg.kernel, berr, sizeof(berr));
	if (s->kfd >= 0 && s->cfg.ramdisk)
		s->rfd = image_open(&pvd->images, "ramdisk", d->base_dir, s->cfg.ramdisk, berr, sizeof(berr));
	if (s->kfd < 0 || (s->cfg.ramdisk && s->rfd < 0)) {
		snprintf(err, errlen, "cannot start domain \"%s\": %s", d->name, berr);
		job_free(s);
		return HV_START_CONFIG;
	}
	s->bc.name = s->name;
	if (hv_uuid_parse(d->uuid, s->bc.handle) != 0) {
		snprintf(err, errlen, "domain \"%s\": bad UUID %s", d->name, d->uuid);
		job_free(s);
		return -1;
	}
	s->bc.cmdline = s->cfg.cmdline;
	s->bc.mem_kib = (uint64_t)s->cfg.memory_mib * 1024u;
	s->bc.max_mem_kib = (uint64_t)s->cfg.maxmem_mib * 1024u;
	s->bc.vcpus = (uint32_t)s->cfg.vcpus;
	s->bc.weight = (uint32_t)s->cfg.weight;
	s->bc.cap = (uint32_t)s->cfg.cap;
	s->bc.paused = true;	/* unpaused once its xenstore ring is served */
	if (net_host_check(pvd, d->uuid, berr, sizeof(berr)) < 0) {
		snprintf(err, errlen, "cannot start domain \"%s\": %s", d->name, berr);
		job_free(s);
		return HV_START_CONFIG;
	}
	e = hv_new_entry(hv, 0, d->uuid);
	if (!e) {
		snprintf(err, errlen, "cannot start domain \"%s\": pvd tracks at most %d domains", d->name, HV_MAX_DOMS);
		job_free(s);
		return -1;
	}
	e->known = 1;
	e->building = 1;
	e->build_id = s->build_id = ++hv->next_build_id;
	e->seq = ++hv->seq;
	s->j.work = build_work;
	s->j.done = start_done;
	hv_submit(pvd, &s->j);
	return 0;
}
