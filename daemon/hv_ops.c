/*
 * hv_ops.c - the operations the API asks of a running domain: destroy,
 * shutdown / reboot, pause / resume, maximum memory, scheduling, and the
 * balloon target. The control call of each runs on the control thread
 * (hv_worker.c); the caller's callback runs on the loop when it is done.
 *
 * Owns: struct op_job. What the loop knows changes when the hypervisor
 * has acted (pause state, ceiling, weight/cap), except a destroy: its
 * backends are torn down and its intent set at once, as no other
 * operation may start on a domain being destroyed (a refused destroy puts
 * the intent back). Every change bumps the entry's seq, so a listing
 * asked for before it does not undo it.
 */
#include "hv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../dom0/ctl.h"
#include <public/sched.h>

#include "blk_host.h"
#include "hv_internal.h"
#include "log.h"
#include "net_host.h"
#include "pvd.h"
#include "xs_host.h"

enum op_kind { OP_DESTROY, OP_SHUTDOWN, OP_PAUSE, OP_UNPAUSE, OP_MAXMEM, OP_SCHED };

struct op_job {
	struct hv_job j;
	enum op_kind kind;
	uint32_t domid;
	char uuid[37];
	uint32_t a, b;			/* reason; pages; weight, cap */
	enum intent old_intent;
	hv_op_fn fn;
	void *arg;
};

static struct hv_dom *live(struct pvd *pvd, const char *uuid, char *err, size_t errlen)
{
	const char *why = hv_unavailable(pvd);
	struct hv_dom *e;

	if (why) {
		snprintf(err, errlen, "%s", why);
		return NULL;
	}
	e = hv_by_uuid(pvd->hv, uuid);
	if (!e || e->intent == INTENT_DESTROY) {
		snprintf(err, errlen, "domain %s is not running in the hypervisor", uuid);
		return NULL;
	}
	if (e->building) {
		snprintf(err, errlen, "domain %s is being built; try again once its start has answered", uuid);
		return NULL;
	}
	return e;
}

static void op_work(struct hv_job *j)
{
	struct op_job *o = (struct op_job *)j;
	char *err = j->err;
	size_t len = sizeof(j->err);

	switch (o->kind) {
	case OP_DESTROY: j->rc = ctl_destroy(j->c, o->domid, err, len); break;
	case OP_SHUTDOWN: j->rc = ctl_shutdown(j->c, o->domid, o->a, err, len); break;
	case OP_PAUSE: j->rc = ctl_pause(j->c, o->domid, err, len); break;
	case OP_UNPAUSE: j->rc = ctl_unpause(j->c, o->domid, err, len); break;
	case OP_MAXMEM: j->rc = ctl_set_max_mem(j->c, o->domid, o->a, err, len); break;
	case OP_SCHED: j->rc = ctl_set_sched(j->c, o->domid, o->a, o->b, err, len); break;
	}
}

static void op_done(struct pvd *pvd, struct hv_job *j)
{
	struct op_job *o = (struct op_job *)j;
	struct hv_dom *e = NULL;
	int rc = j->rc;

	if (!hv_job_current(pvd, j)) {
		o->fn(pvd, o->arg, -1, hv_unavailable(pvd) ? hv_unavailable(pvd) : "the machine was lost");
		free(o);
		return;
	}
	e = hv_by_domain(pvd->hv, o->domid, o->uuid);
	if ((o->kind == OP_DESTROY && rc == -ESRCH) || (o->kind == OP_SHUTDOWN && rc == -EALREADY) ||
	    ((o->kind == OP_PAUSE || o->kind == OP_UNPAUSE) && rc == -EALREADY))
		rc = 0;	/* already as asked (pvd's view was a tick old): done */
	if (rc < 0 && rc != -EBUSY)
		hv_control_failed(pvd, rc, j->err);
	if (e) {
		if (rc == 0) {
			switch (o->kind) {
			case OP_DESTROY: e->restart = 0; break;
			case OP_SHUTDOWN: break;
			case OP_PAUSE: e->info.state = PVCTL_DOM_PAUSED; break;
			case OP_UNPAUSE: e->info.state = PVCTL_DOM_RUNNING; break;
			case OP_MAXMEM: e->info.max_pages = o->a; break;
			case OP_SCHED: e->info.weight = o->a; e->info.cap = o->b; break;
			}
		} else if (o->kind == OP_DESTROY || o->kind == OP_SHUTDOWN) {
			e->intent = o->old_intent;
		}
		e->seq = ++pvd->hv->seq;	/* a listing under way is older */
	}
	o->fn(pvd, o->arg, rc == -EBUSY ? -EBUSY : rc < 0 ? -1 : 0, rc == -EBUSY ? "it is shutting down" : j->err);
	free(o);
}

/* Queue op kind on the live domain uuid: 0, or -1 with err (fn not called). */
static int submit(struct pvd *pvd, const char *uuid, enum op_kind kind, uint32_t a, uint32_t b, hv_op_fn fn,
		  void *arg, char *err, size_t errlen)
{
	struct hv_dom *e = live(pvd, uuid, err, errlen);
	struct op_job *o;

	if (!e)
		return -1;
	o = calloc(1, sizeof(*o));
	if (!o) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	o->kind = kind;
	o->domid = e->domid;
	snprintf(o->uuid, sizeof(o->uuid), "%s", e->uuid);
	o->a = a;
	o->b = b;
	o->fn = fn;
	o->arg = arg;
	o->old_intent = e->intent;
	o->j.work = op_work;
	o->j.done = op_done;
	if (kind == OP_DESTROY) {
		hv_close_console(pvd, e);
		net_host_domain_gone(pvd, e->domid);
		xs_host_domain_gone(pvd, e->domid, e->uuid);
		blk_host_domain_gone(pvd, e->domid);
		e->intent = INTENT_DESTROY;
		e->seq = ++pvd->hv->seq;
	}
	hv_submit(pvd, &o->j);
	return 0;
}

int hv_destroy_domain(struct pvd *pvd, const char *uuid, hv_op_fn fn, void *arg, char *err, size_t errlen)
{
	return submit(pvd, uuid, OP_DESTROY, 0, 0, fn, arg, err, errlen);
}

int hv_shutdown_domain(struct pvd *pvd, const char *uuid, int reboot, int force, unsigned timeout_s, int *asked,
		       hv_op_fn fn, void *arg, char *err, size_t errlen)
{
	struct hv_dom *e = live(pvd, uuid, err, errlen);
	int rc = 0;

	if (!e)
		return -1;
	/* a guest that watches control/shutdown is asked (unless forced);
	 * others are shut down by the hypervisor at once */
	*asked = !force && xs_host_request_shutdown(pvd, e->domid, reboot ? "reboot" : "poweroff") > 0;
	if (*asked) {
		log_notice("domain %u: asked to %s through xenstore (control/shutdown), %u s to comply", e->domid,
			   reboot ? "reboot" : "power off", timeout_s);
	} else {
		log_notice("domain %u: %s by the hypervisor (%s)", e->domid, reboot ? "rebooted" : "shut down",
			   force ? "forced" : reboot ? "no control/feature-reboot" : "no control/feature-poweroff");
		rc = submit(pvd, uuid, OP_SHUTDOWN, reboot ? SHUTDOWN_reboot : SHUTDOWN_poweroff, 0, fn, arg, err,
			    errlen);
		if (rc < 0)
			return -1;
	}
	e->intent = reboot ? INTENT_REBOOT : INTENT_SHUTDOWN;
	e->deadline_ms = hv_now_ms() + (uint64_t)timeout_s * 1000u;
	e->seq = ++pvd->hv->seq;
	return *asked ? 0 : 1;
}

int hv_pause_domain(struct pvd *pvd, const char *uuid, int pause, hv_op_fn fn, void *arg, char *err, size_t errlen)
{
	return submit(pvd, uuid, pause ? OP_PAUSE : OP_UNPAUSE, 0, 0, fn, arg, err, errlen);
}

int hv_set_maxmem(struct pvd *pvd, const char *uuid, uint64_t mib, hv_op_fn fn, void *arg, char *err,
		  size_t errlen)
{
	return submit(pvd, uuid, OP_MAXMEM, (uint32_t)(mib * 256u), 0, fn, arg, err, errlen);
}

int hv_set_sched(struct pvd *pvd, const char *uuid, uint32_t weight, uint32_t cap, hv_op_fn fn, void *arg,
		 char *err, size_t errlen)
{
	return submit(pvd, uuid, OP_SCHED, weight, cap, fn, arg, err, errlen);
}

int hv_set_target(struct pvd *pvd, const char *uuid, uint64_t mib, char *err, size_t errlen)
{
	struct hv_dom *e = live(pvd, uuid, err, errlen);
	int rc;

	if (!e)
		return -1;
	rc = xs_host_set_target(pvd, e->domid, mib * 1024u);
	if (rc == 0)
		return 0;
	snprintf(err, errlen, "domain %u: writing memory/target: %s", e->domid,
		 rc == -ESRCH ? "it has no xenstore" : strerror(-rc));
	return -1;
}

int hv_get_target(struct pvd *pvd, const char *uuid, uint64_t *kib)
{
	struct hv_dom *e;

	if (hv_unavailable(pvd) || !(e = hv_by_uuid(pvd->hv, uuid)))
		return -1;
	return xs_host_get_target(pvd, e->domid, kib) == 0 ? 0 : -1;
}
