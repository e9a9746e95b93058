/*
 * methods_lifecycle.c - the domain.* methods that act on the hypervisor:
 * start, create, destroy, shutdown, reboot, pause, resume, set_memory,
 * set_sched, console.
 *
 * Each: resolve the domain, check the machine (-32006 "Hypervisor error:
 * no machine ..." without one) and the state (-32003 naming the domain and
 * its state), call the hypervisor (hv.c; a refusal is -32006 with the
 * cause), then record the desired state and the event in one store
 * transaction and publish it. The result is the domain's info.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../api/pvd_api.h"
#include "config.h"
#include "hv.h"
#include "log.h"
#include "methods.h"
#include "pvd.h"
#include "roles.h"
#include "schema.h"
#include "store.h"

#define CONSOLE_READ_MAX (256 * 1024)

static json_object *dom_data(const struct store_domain *d, const char *state)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "domain", json_object_new_string(d->name));
	json_object_object_add(o, "uuid", json_object_new_string(d->uuid));
	if (state)
		json_object_object_add(o, "state", json_object_new_string(state));
	return o;
}

static int no_machine(struct rpc_req *req, const struct store_domain *d)
{
	const char *why = hv_unavailable(req->pvd);
	json_object *data;

	if (!why)
		return 0;
	data = dom_data(d, NULL);
	json_object_object_add(data, "cause", json_object_new_string(why));
	return rpc_fail(req, PVD_ERR_HYPERVISOR, data, "Hypervisor error: %s", why);
}

static int hv_failed(struct rpc_req *req, const struct store_domain *d, const char *err)
{
	json_object *data = dom_data(d, NULL);

	json_object_object_add(data, "cause", json_object_new_string(err));
	return rpc_fail(req, PVD_ERR_HYPERVISOR, data, "Hypervisor error: %s", err);
}

static int not_running(struct rpc_req *req, const struct store_domain *d, const char *state, const char *what)
{
	return rpc_fail(req, PVD_ERR_INVALID_STATE, dom_data(d, state), "Invalid state: domain \"%s\" is %s; %s",
			d->name, !strcmp(state, "shut-off") ? "not running" : state, what);
}

/* The domain's desired state and the event, in one transaction. */
static int commit(struct rpc_req *req, struct store_domain *d, const char *desired, const char *type,
		  const char *detail)
{
	struct store_event ev;
	char now[32];
	int rc;

	store_now(now);
	events_prepare(&ev, type, req->caller, d, detail);
	if (desired)
		rc = store_domain_set_desired(req->pvd->store, d->uuid, desired, now, &ev);
	else
		rc = store_event_append(req->pvd->store, &ev);
	if (rc != 0) {
		log_err("domain \"%s\": %s: %s", d->name, type, store_error(req->pvd->store));
		return rpc_fail(req, PVD_ERR_INTERNAL, NULL, "Internal error: %s (the hypervisor did act)",
				store_error(req->pvd->store));
	}
	if (desired)
		snprintf(d->desired_state, sizeof(d->desired_state), "%s", desired);
	log_notice("domain \"%s\" (%s): %s by %s", d->name, d->uuid, type, req->caller);
	events_publish(req->pvd, &ev);
	return 0;
}

static int finish(struct rpc_req *req, struct store_domain *d, json_object **result)
{
	struct store_domain fresh;
	int rc;

	if (store_domain_find(req->pvd->store, d->uuid, &fresh) != 0) {
		/* a transient domain that already went away */
		rc = method_domain_result(req, d, result);
	} else {
		rc = method_domain_result(req, &fresh, result);
		store_domain_clear(&fresh);
	}
	store_domain_clear(d);
	return rc;
}

/* A start under way on the control thread: its answer is deferred. */
struct start_call {
	struct rpc_pending *p;
	char uuid[37];
	char type[32];
	int create;		/* domain.create: a failed start forgets the definition */
};

/* A failed start's error: a configuration error (the kernel is missing,
 * not an ELF...) is one of the config's, -32602 naming /kernel as config
 * validation does; the rest are the machine's. */
static int start_failed(struct rpc_req *req, const struct store_domain *d, int rc, const char *err)
{
	if (rc == HV_START_CONFIG) {
		json_object *data = json_object_new_object(), *errs = json_object_new_array(),
			    *e = json_object_new_object();
		const char *path = strstr(err, "ramdisk") ? "/ramdisk" : "/kernel";
		json_object_object_add(e, "path", json_object_new_string(path));
		json_object_object_add(e, "message", json_object_new_string(err));
		json_object_array_add(errs, e);
		json_object_object_add(data, "errors", errs);
		json_object_object_add(data, "domain", json_object_new_string(d->name));
		return rpc_fail(req, PVD_ERR_INVALID_PARAMS, data, "Invalid params: configuration error: %s: %s "
				"(fix the config: pvctl check FILE)", path, err);
	}
	return hv_failed(req, d, err);
}

/* create is all or nothing: forget the definition made for it. */
static void forget_created(struct rpc_req *req, struct store_domain *d)
{
	struct store_event ev;

	events_prepare(&ev, "domain.undefined", req->caller, d, "{\"reason\":\"create failed\"}");
	if (store_domain_delete(req->pvd->store, d->uuid, &ev) == 0) {
		events_publish(req->pvd, &ev);
		hv_console_forget(req->pvd, d->uuid);
	}
}

static void started(struct pvd *pvd, void *arg, int rc, uint32_t domid, const char *err)
{
	struct start_call *sc = arg;
	struct rpc_req *req = rpc_pending_req(sc->p);
	struct store_domain d;
	json_object *result = NULL;
	char detail[64];

	if (store_domain_find(pvd->store, sc->uuid, &d) != 0) {
		rpc_fail(req, PVD_ERR_NO_SUCH_DOMAIN, NULL, "No such domain: %s was undefined while it was being "
			 "started", sc->uuid);
	} else if (rc != 0) {
		start_failed(req, &d, rc, err);
		if (sc->create)
			forget_created(req, &d);
		store_domain_clear(&d);
	} else {
		snprintf(detail, sizeof(detail), "{\"domid\":%u}", domid);
		if (commit(req, &d, "running", sc->type, detail) != 0)
			store_domain_clear(&d);
		else
			finish(req, &d, &result);
	}
	rpc_finish(sc->p, result);
	free(sc);
}

/* Start d (resolved, shut off): RPC_DEFERRED once the build is under way
 * (the answer comes with it), or -1 with the error. */
static int start_resolved(struct rpc_req *req, struct store_domain *d, const char *type, int create)
{
	struct hv_status st;
	struct start_call *sc;
	char err[700];
	int rc;

	if (no_machine(req, d))
		return -1;
	hv_status(req->pvd, d->uuid, &st);
	if (st.present)
		return rpc_fail(req, PVD_ERR_INVALID_STATE, dom_data(d, st.state), "Invalid state: domain \"%s\" is "
				"already %s", d->name, !strcmp(st.state, "running") ? "running" : st.state);
	sc = calloc(1, sizeof(*sc));
	if (!sc)
		return rpc_fail(req, PVD_ERR_INTERNAL, NULL, "Internal error: out of memory");
	snprintf(sc->uuid, sizeof(sc->uuid), "%s", d->uuid);
	snprintf(sc->type, sizeof(sc->type), "%s", type);
	sc->create = create;
	rc = hv_start_domain(req->pvd, d, 0, started, sc, err, sizeof(err));
	if (rc != 0) {
		free(sc);
		return start_failed(req, d, rc, err);
	}
	sc->p = rpc_defer(req);
	if (!sc->p) {	/* cannot happen but by running out of memory: the start goes on unanswered */
		log_err("domain \"%s\": out of memory deferring the answer", d->name);
		abort();
	}
	return RPC_DEFERRED;
}

int method_domain_start(struct rpc_req *req, json_object *params, json_object **result)
{
	struct store_domain d;
	int rc;

	(void)result;
	if (method_resolve(req, params, &d) != 0)
		return -1;
	rc = start_resolved(req, &d, "domain.started", 0);
	store_domain_clear(&d);
	return rc;
}

int method_domain_create(struct rpc_req *req, json_object *params, json_object **result)
{
	struct store_domain d;
	json_object *defined = NULL, *name, *ref;
	const char *why = hv_unavailable(req->pvd);
	int rc;

	(void)result;
	if (why) {
		json_object *data = json_object_new_object();
		json_object_object_add(data, "cause", json_object_new_string(why));
		return rpc_fail(req, PVD_ERR_HYPERVISOR, data, "Hypervisor error: %s; nothing was defined", why);
	}
	if (method_domain_define(req, params, &defined) != 0)
		return -1;
	json_object_object_get_ex(defined, "name", &name);
	ref = json_object_new_object();
	json_object_object_add(ref, "domain", json_object_get(name));
	json_object_put(defined);
	rc = method_resolve(req, ref, &d);
	json_object_put(ref);
	if (rc != 0)
		return -1;
	rc = start_resolved(req, &d, "domain.started", 1);
	if (rc < 0)
		forget_created(req, &d);
	store_domain_clear(&d);
	return rc;
}

/* Resolve and require the domain to exist in the hypervisor. */
static int resolve_live(struct rpc_req *req, json_object *params, struct store_domain *d, struct hv_status *st,
			const char *what)
{
	if (method_resolve(req, params, d) != 0)
		return -1;
	if (no_machine(req, d))
		goto fail;
	hv_status(req->pvd, d->uuid, st);
	if (!st->present || !strcmp(st->state, "dying")) {
		not_running(req, d, st->present ? st->state : "shut-off", what);
		goto fail;
	}
	return 0;
fail:
	store_domain_clear(d);
	return -1;
}

/* Destroy a domain pvd does not manage, named by its UUID (list --all). */
static int destroy_unmanaged(struct rpc_req *req, const struct hv_unmanaged *u, json_object **result)
{
	char err[600];

	if (hv_destroy_domain(req->pvd, u->uuid, err, sizeof(err)) != 0)
		return rpc_fail(req, PVD_ERR_HYPERVISOR, NULL, "Hypervisor error: unmanaged domain %u (%s): %s",
				u->domid, u->uuid, err);
	log_notice("unmanaged domain %u (\"%s\", %s) destroyed by %s", u->domid, u->name, u->uuid, req->caller);
	*result = json_object_new_object();
	json_object_object_add(*result, "uuid", json_object_new_string(u->uuid));
	json_object_object_add(*result, "domid", json_object_new_int64(u->domid));
	json_object_object_add(*result, "state", json_object_new_string("dying"));
	json_object_object_add(*result, "managed", json_object_new_boolean(0));
	return 0;
}

int method_domain_destroy(struct rpc_req *req, json_object *params, json_object **result)
{
	struct store_domain d;
	struct hv_status st;
	struct hv_unmanaged u;
	json_object *ref;
	char err[600];

	uint64_t in_ms;

	if (json_object_object_get_ex(params, "domain", &ref) && json_object_is_type(ref, json_type_string) &&
	    hv_find_unmanaged(req->pvd, json_object_get_string(ref), &u))
		return destroy_unmanaged(req, &u, result);
	/* A crash-looping domain waiting for its delayed restart: destroy ends
	 * the loop. */
	if (method_resolve(req, params, &d) != 0)
		return -1;
	if (hv_restart_pending(req->pvd, d.uuid, &in_ms) && hv_cancel_restart(req->pvd, d.uuid)) {
		if (commit(req, &d, "shut-off", "domain.stopped", "{\"reason\":\"destroy\",\"restart\":\"cancelled\"}")) {
			store_domain_clear(&d);
			return -1;
		}
		return finish(req, &d, result);
	}
	store_domain_clear(&d);
	if (resolve_live(req, params, &d, &st, "there is nothing to destroy") != 0)
		return -1;
	if (hv_destroy_domain(req->pvd, d.uuid, err, sizeof(err)) != 0) {
		hv_failed(req, &d, err);
		store_domain_clear(&d);
		return -1;
	}
	if (commit(req, &d, "shut-off", "domain.stopped", "{\"reason\":\"destroy\"}") != 0) {
		store_domain_clear(&d);
		return -1;
	}
	if (d.transient) {
		struct store_event ev;
		events_prepare(&ev, "domain.undefined", req->caller, &d, "{\"reason\":\"transient\"}");
		if (store_domain_delete(req->pvd->store, d.uuid, &ev) == 0) {
			events_publish(req->pvd, &ev);
			hv_console_forget(req->pvd, d.uuid);
		}
	}
	return finish(req, &d, result);
}

static int shutdown_common(struct rpc_req *req, json_object *params, json_object **result, int reboot)
{
	struct store_domain d;
	struct hv_status st;
	json_object *v;
	char err[600], detail[96];
	long timeout = 60;
	int force = 0, asked = 0;

	if (json_object_object_get_ex(params, "timeout", &v))
		timeout = (long)json_object_get_int64(v);
	if (json_object_object_get_ex(params, "force", &v))
		force = json_object_get_boolean(v);
	if (resolve_live(req, params, &d, &st, reboot ? "start it instead" : "it is already off") != 0)
		return -1;
	if (strcmp(st.state, "running") && strcmp(st.state, "paused")) {
		not_running(req, &d, st.state, reboot ? "destroy it and start it" : "destroy it instead");
		store_domain_clear(&d);
		return -1;
	}
	if (hv_shutdown_domain(req->pvd, d.uuid, reboot, force, (unsigned)timeout, &asked, err, sizeof(err)) != 0) {
		hv_failed(req, &d, err);
		store_domain_clear(&d);
		return -1;
	}
	snprintf(detail, sizeof(detail), "{\"reason\":\"%s\",\"timeout\":%ld,\"how\":\"%s\"}",
		 reboot ? "reboot" : "poweroff", timeout, asked ? "guest" : "hypervisor");
	if (commit(req, &d, NULL, reboot ? "domain.reboot" : "domain.shutdown", detail) != 0) {
		store_domain_clear(&d);
		return -1;
	}
	if (finish(req, &d, result) != 0)
		return -1;
	/* how it is being done: the guest asked through xenstore, or the hypervisor */
	json_object_object_add(*result, "shutdown_by", json_object_new_string(asked ? "guest" : "hypervisor"));
	return 0;
}

int method_domain_shutdown(struct rpc_req *req, json_object *params, json_object **result)
{
	return shutdown_common(req, params, result, 0);
}

int method_domain_reboot(struct rpc_req *req, json_object *params, json_object **result)
{
	return shutdown_common(req, params, result, 1);
}

static int pause_common(struct rpc_req *req, json_object *params, json_object **result, int pause)
{
	struct store_domain d;
	struct hv_status st;
	char err[600];

	if (resolve_live(req, params, &d, &st, pause ? "start it first" : "start it instead") != 0)
		return -1;
	if (strcmp(st.state, pause ? "running" : "paused")) {
		if (!strcmp(st.state, pause ? "paused" : "running"))
			rpc_fail(req, PVD_ERR_INVALID_STATE, dom_data(&d, st.state), "Invalid state: domain \"%s\" is "
				 "already %s", d.name, st.state);
		else
			not_running(req, &d, st.state, pause ? "only a running domain can be paused"
							      : "only a paused domain can be resumed");
		store_domain_clear(&d);
		return -1;
	}
	int rc = hv_pause_domain(req->pvd, d.uuid, pause, err, sizeof(err));
	if (rc == -EBUSY) {
		not_running(req, &d, "shut-down", pause ? "it shut down as it was asked to pause"
							 : "it shut down as it was asked to resume");
		store_domain_clear(&d);
		return -1;
	}
	if (rc != 0) {
		hv_failed(req, &d, err);
		store_domain_clear(&d);
		return -1;
	}
	if (commit(req, &d, pause ? "paused" : "running", pause ? "domain.paused" : "domain.resumed", NULL) != 0) {
		store_domain_clear(&d);
		return -1;
	}
	return finish(req, &d, result);
}

int method_domain_pause(struct rpc_req *req, json_object *params, json_object **result)
{
	return pause_common(req, params, result, 1);
}

int method_domain_resume(struct rpc_req *req, json_object *params, json_object **result)
{
	return pause_common(req, params, result, 0);
}

/*
 * A live change checked as config validation checks a config, with its
 * messages: the stored config with the change applied (members of change
 * replace the config's; an object member is merged one level down) must
 * pass the validator, e.g. "/cpu/cap: 201 is more than 100 x /vcpus (2)".
 * change is taken over. 0, or -1 with -32602 naming the field.
 */
static int live_check(struct rpc_req *req, const struct store_domain *d, json_object *change)
{
	json_object *cfg = json_tokener_parse(d->normalized), *norm, *sub;
	struct schema_report rep;

	if (!cfg) {
		json_object_put(change);
		return rpc_fail(req, PVD_ERR_INTERNAL, NULL, "Internal error: stored config of \"%s\" does not parse",
				d->name);
	}
	json_object_object_foreach(change, key, val) {
		if (json_object_is_type(val, json_type_object) && json_object_object_get_ex(cfg, key, &sub) &&
		    json_object_is_type(sub, json_type_object)) {
			json_object_object_foreach(val, k2, v2)
				json_object_object_add(sub, k2, json_object_get(v2));
		} else {
			json_object_object_add(cfg, key, json_object_get(val));
		}
	}
	json_object_put(change);
	norm = config_check_object(req->pvd->checker, cfg, &rep);
	json_object_put(cfg);
	if (norm) {
		json_object_put(norm);
		return 0;
	}
	return rpc_fail(req, PVD_ERR_INVALID_PARAMS, method_report_data(&rep), "Invalid params: domain \"%s\": %s: %s%s",
			d->name, rep.issue[0].path, rep.issue[0].message, rep.count > 1 ? " (and more, see data.errors)" : "");
}

static json_object *pair(const char *k1, json_object *v1, const char *k2, json_object *v2)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, k1, v1);
	if (k2)
		json_object_object_add(o, k2, v2);
	return o;
}

/* An integer (MiB) or a string with a K/M/G/T suffix that is a whole
 * number of MiB: the config's own size parser (no overflow). */
static int parse_mib(json_object *v, long long *mib, char *why, size_t whylen)
{
	if (json_object_is_type(v, json_type_int)) {
		*mib = json_object_get_int64(v);
	} else if (schema_parse_size(json_object_get_string(v), 1, mib, why, whylen) != 0) {
		return -1;
	}
	if (*mib <= 0 || *mib > 1024 * 1024) {
		snprintf(why, whylen, "\"%s\" is not from 1 MiB to 1 TiB", json_object_get_string(v));
		return -1;
	}
	return 0;
}

/* The size argument of set_memory / set_maxmem, in MiB; 0 or an error sent. */
static int memory_param(struct rpc_req *req, json_object *params, const char *key, long long *mib)
{
	json_object *v = NULL;
	char why[200];

	json_object_object_get_ex(params, key, &v);
	if (parse_mib(v, mib, why, sizeof(why)) != 0)
		return rpc_fail(req, PVD_ERR_INVALID_PARAMS, NULL, "Invalid params: %s: %s (MiB as an integer, "
				"or a string with a K/M/G/T suffix that is a whole number of MiB)", key, why);
	return 0;
}

#define MIN_TARGET_MIB 16

/* mem-set, as xl mem-set: the balloon target (memory/target) the guest's
 * balloon driver follows, within what the hypervisor lets it have. */
int method_domain_set_memory(struct rpc_req *req, json_object *params, json_object **result)
{
	struct store_domain d;
	struct hv_status st;
	long long mib;
	char err[600], detail[64];

	if (memory_param(req, params, "memory", &mib) != 0)
		return -1;
	if (resolve_live(req, params, &d, &st, "start it first (its config's memory applies at start)") != 0)
		return -1;
	if (live_check(req, &d, pair("memory", json_object_new_int64(mib), NULL, NULL)) != 0) {
		store_domain_clear(&d);
		return -1;
	}
	if ((unsigned long long)mib * 1024 > st.maxmem_kib || mib < MIN_TARGET_MIB) {
		rpc_fail(req, PVD_ERR_INVALID_STATE, dom_data(&d, st.state), "Invalid state: domain \"%s\": a target "
			 "of %lld MiB is %s (its maximum is %llu MiB; raise that with mem-max first)", d.name, mib,
			 mib < MIN_TARGET_MIB ? "below the 16 MiB a guest needs" : "above its maximum",
			 (unsigned long long)(st.maxmem_kib / 1024));
		store_domain_clear(&d);
		return -1;
	}
	if (hv_set_target(req->pvd, d.uuid, (uint64_t)mib, err, sizeof(err)) != 0) {
		hv_failed(req, &d, err);
		store_domain_clear(&d);
		return -1;
	}
	snprintf(detail, sizeof(detail), "{\"target_mib\":%lld}", mib);
	if (commit(req, &d, NULL, "domain.memory", detail) != 0) {
		store_domain_clear(&d);
		return -1;
	}
	return finish(req, &d, result);
}

/* mem-max, as xl mem-max: the hypervisor's ceiling; not below what the
 * domain has nor below its balloon target. */
int method_domain_set_maxmem(struct rpc_req *req, json_object *params, json_object **result)
{
	struct store_domain d;
	struct hv_status st;
	long long mib;
	uint64_t target_kib = 0;
	char err[600], detail[64];

	if (memory_param(req, params, "maxmem", &mib) != 0)
		return -1;
	if (resolve_live(req, params, &d, &st, "start it first (its config's maxmem applies at start)") != 0)
		return -1;
	hv_get_target(req->pvd, d.uuid, &target_kib);
	{	/* the validator's rule maxmem >= memory, against what it has now */
		long long now_mib = (long long)((target_kib > st.mem_kib ? target_kib : st.mem_kib) / 1024);
		if (live_check(req, &d, pair("maxmem", json_object_new_int64(mib), "memory",
					     json_object_new_int64(now_mib < 4 ? 4 : now_mib))) != 0) {
			store_domain_clear(&d);
			return -1;
		}
	}
	if ((unsigned long long)mib * 1024 < st.mem_kib || (unsigned long long)mib * 1024 < target_kib) {
		rpc_fail(req, PVD_ERR_INVALID_STATE, dom_data(&d, st.state), "Invalid state: domain \"%s\" has "
			 "%llu MiB with a target of %llu MiB; its maximum cannot go below those (%lld MiB)", d.name,
			 (unsigned long long)(st.mem_kib / 1024), (unsigned long long)(target_kib / 1024), mib);
		store_domain_clear(&d);
		return -1;
	}
	if (hv_set_maxmem(req->pvd, d.uuid, (uint64_t)mib, err, sizeof(err)) != 0) {
		hv_failed(req, &d, err);
		store_domain_clear(&d);
		return -1;
	}
	snprintf(detail, sizeof(detail), "{\"maxmem_mib\":%lld}", mib);
	if (commit(req, &d, NULL, "domain.memory", detail) != 0) {
		store_domain_clear(&d);
		return -1;
	}
	return finish(req, &d, result);
}

int method_domain_set_sched(struct rpc_req *req, json_object *params, json_object **result)
{
	struct store_domain d;
	struct hv_status st;
	json_object *v;
	long long weight = -1, cap = -1;
	char err[600], detail[64];

	if (json_object_object_get_ex(params, "weight", &v))
		weight = json_object_get_int64(v);
	if (json_object_object_get_ex(params, "cap", &v))
		cap = json_object_get_int64(v);
	if (resolve_live(req, params, &d, &st, "its config's cpu.weight and cpu.cap apply at start") != 0)
		return -1;
	if (weight < 0)
		weight = st.weight;
	if (cap < 0)
		cap = st.cap;
	if (live_check(req, &d, pair("cpu", pair("weight", json_object_new_int64(weight), "cap",
						 json_object_new_int64(cap)), "vcpus", json_object_new_int64(st.vcpus))) != 0) {
		store_domain_clear(&d);
		return -1;
	}
	if (hv_set_sched(req->pvd, d.uuid, (uint32_t)weight, (uint32_t)cap, err, sizeof(err)) != 0) {
		hv_failed(req, &d, err);
		store_domain_clear(&d);
		return -1;
	}
	snprintf(detail, sizeof(detail), "{\"weight\":%lld,\"cap\":%lld}", weight, cap);
	if (commit(req, &d, NULL, "domain.sched", detail) != 0) {
		store_domain_clear(&d);
		return -1;
	}
	return finish(req, &d, result);
}

/* Printable text for JSON: bytes that are not printable ASCII, '\n' or '\t' become '?'. */
static void sanitize(char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c != '\n' && c != '\t' && (c < 0x20 || c > 0x7e))
			s[i] = '?';
	}
}

int method_domain_console(struct rpc_req *req, json_object *params, json_object **result)
{
	struct store_domain d;
	struct hv_status st;
	struct stat sb;
	json_object *v, *o;
	long long offset = -1, max = 65536, size = 0, from;
	int written = -1;
	char path[4200], *buf;
	ssize_t got = 0;
	int fd;

	if (json_object_object_get_ex(params, "offset", &v))
		offset = json_object_get_int64(v);
	if (json_object_object_get_ex(params, "max", &v))
		max = json_object_get_int64(v);
	if (max > CONSOLE_READ_MAX)
		max = CONSOLE_READ_MAX;
	if (method_resolve(req, params, &d) != 0)
		return -1;
	/* Console input first: keystrokes for the guest, up to what its ring takes.
	 * Reading is a reader's; typing into a guest is an admin's. */
	if (json_object_object_get_ex(params, "input", &v)) {
		char err[400];
		if (rpc_require_role(req, PVD_ROLE_ADMIN, "domain.console with input") != 0) {
			store_domain_clear(&d);
			return -1;
		}
		written = hv_console_input(req->pvd, d.uuid, json_object_get_string(v),
					   (size_t)json_object_get_string_len(v), err, sizeof(err));
		if (written < 0) {
			rpc_fail(req, PVD_ERR_INVALID_STATE, dom_data(&d, "shut-off"), "Invalid state: domain \"%s\": "
				 "%s", d.name, err);
			store_domain_clear(&d);
			return -1;
		}
	}
	hv_console_path(req->pvd, d.uuid, path, sizeof(path));
	hv_status(req->pvd, d.uuid, &st);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &sb) == 0)
		size = sb.st_size;
	/* offset < 0: the last max bytes, from a line start when there is one */
	from = offset < 0 ? (size > max ? size - max : 0) : (offset > size ? size : offset);
	buf = malloc((size_t)max + 1);
	if (!buf) {
		if (fd >= 0)
			close(fd);
		store_domain_clear(&d);
		return rpc_fail(req, PVD_ERR_INTERNAL, NULL, "Internal error: out of memory");
	}
	if (fd >= 0) {
		got = pread(fd, buf, (size_t)(size - from < max ? size - from : max), from);
		close(fd);
		if (got < 0)
			got = 0;
	}
	if (offset < 0 && from > 0) {
		char *nl = memchr(buf, '\n', (size_t)got);
		if (nl) {
			size_t skip = (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, (size_t)got - skip);
			got -= (ssize_t)skip;
			from += (long long)skip;
		}
	}
	sanitize(buf, (size_t)got);
	o = json_object_new_object();
	json_object_object_add(o, "uuid", json_object_new_string(d.uuid));
	json_object_object_add(o, "name", json_object_new_string(d.name));
	json_object_object_add(o, "state", json_object_new_string(st.state));
	json_object_object_add(o, "log", json_object_new_string(path));
	json_object_object_add(o, "offset", json_object_new_int64(from));
	json_object_object_add(o, "next", json_object_new_int64(from + got));
	json_object_object_add(o, "size", json_object_new_int64(size));
	json_object_object_add(o, "data", json_object_new_string_len(buf, (int)got));
	if (written >= 0)
		json_object_object_add(o, "written", json_object_new_int(written));
	free(buf);
	store_domain_clear(&d);
	*result = o;
	return 0;
}
