/*
 * methods_ops.c - the domain.* methods on a running domain: destroy,
 * shutdown, reboot, pause, resume, set_memory, set_maxmem, set_sched.
 *
 * Each resolves the domain and checks its state (-32003), checks the
 * values as config validation does (live_check: the stored config with
 * the change must pass the validator; its messages, -32602), has the
 * hypervisor act (hv_ops.c: on the control thread; the answer is deferred
 * until it is done, op_answered), then records the desired state and the
 * event (methods_lifecycle.h). set_memory writes xenstore only and
 * answers at once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../api/pvd_api.h"
#include "config.h"
#include "hv.h"
#include "log.h"
#include "methods.h"
#include "methods_lifecycle.h"
#include "pvd.h"
#include "schema.h"
#include "store.h"

enum opc { OPC_DESTROY, OPC_UNMANAGED, OPC_SHUTDOWN, OPC_PAUSE, OPC_OTHER };

/* An operation under way on the control thread: its answer is deferred. */
struct op_call {
	struct rpc_pending *p;
	enum opc kind;
	char uuid[37];
	char desired[16];	/* "": unchanged */
	char type[32];
	char detail[160];
	int asked, reboot, pause;
	uint32_t domid;		/* OPC_UNMANAGED */
	char name[32];
};

static struct op_call *op_new(enum opc kind, const char *uuid, const char *desired, const char *type,
			      const char *detail)
{
	struct op_call *oc = calloc(1, sizeof(*oc));

	if (!oc)
		return NULL;
	oc->kind = kind;
	snprintf(oc->uuid, sizeof(oc->uuid), "%s", uuid);
	snprintf(oc->desired, sizeof(oc->desired), "%s", desired ? desired : "");
	snprintf(oc->type, sizeof(oc->type), "%s", type ? type : "");
	snprintf(oc->detail, sizeof(oc->detail), "%s", detail ? detail : "");
	return oc;
}

static json_object *unmanaged_result(const struct op_call *oc)
{
	json_object *r = json_object_new_object();

	json_object_object_add(r, "uuid", json_object_new_string(oc->uuid));
	json_object_object_add(r, "domid", json_object_new_int64(oc->domid));
	json_object_object_add(r, "state", json_object_new_string("dying"));
	json_object_object_add(r, "managed", json_object_new_boolean(0));
	return r;
}

/* The hypervisor has acted (or refused): record it and answer. */
static void op_answered(struct pvd *pvd, void *arg, int rc, const char *err)
{
	struct op_call *oc = arg;
	struct rpc_req *req = rpc_pending_req(oc->p);
	struct store_domain d;
	json_object *result = NULL;

	if (oc->kind == OPC_UNMANAGED) {
		if (rc != 0) {
			rpc_fail(req, PVD_ERR_HYPERVISOR, NULL, "Hypervisor error: unmanaged domain %u (%s): %s",
				 oc->domid, oc->uuid, err);
		} else {
			log_notice("unmanaged domain %u (\"%s\", %s) destroyed by %s", oc->domid, oc->name, oc->uuid,
				   req->caller);
			result = unmanaged_result(oc);
		}
	} else if (store_domain_find(pvd->store, oc->uuid, &d) != 0) {
		rpc_fail(req, PVD_ERR_NO_SUCH_DOMAIN, NULL, "No such domain: %s was undefined meanwhile", oc->uuid);
	} else if (rc == -EBUSY) {
		lc_not_running(req, &d, "shut-down", oc->pause ? "it shut down as it was asked to pause"
							   : "it shut down as it was asked to resume");
		store_domain_clear(&d);
	} else if (rc != 0) {
		lc_hv_failed(req, &d, err);
		store_domain_clear(&d);
	} else if (lc_commit(req, &d, oc->desired[0] ? oc->desired : NULL, oc->type, oc->detail) != 0) {
		store_domain_clear(&d);
	} else {
		if (oc->kind == OPC_DESTROY && d.transient) {
			struct store_event ev;
			events_prepare(&ev, "domain.undefined", req->caller, &d, "{\"reason\":\"transient\"}");
			if (store_domain_delete(pvd->store, d.uuid, &ev) == 0) {
				events_publish(pvd, &ev);
				hv_console_forget(pvd, d.uuid);
			}
		}
		if (lc_finish(req, &d, &result) == 0 && oc->kind == OPC_SHUTDOWN)
			/* how it is being done: the guest asked through xenstore, or the hypervisor */
			json_object_object_add(result, "shutdown_by",
					       json_object_new_string(oc->asked ? "guest" : "hypervisor"));
	}
	rpc_finish(oc->p, result);
	free(oc);
}

/* After a successful submit: the answer comes with op_answered. */
static int deferred(struct rpc_req *req, struct op_call *oc)
{
	oc->p = rpc_defer(req);
	if (!oc->p) {	/* only out of memory; the operation goes on unanswered */
		log_err("%s: out of memory deferring the answer", req->method);
		abort();
	}
	return RPC_DEFERRED;
}

/* Resolve and require the domain to exist in the hypervisor. */
static int resolve_live(struct rpc_req *req, json_object *params, struct store_domain *d, struct hv_status *st,
			const char *what)
{
	if (method_resolve(req, params, d) != 0)
		return -1;
	if (lc_no_machine(req, d))
		goto fail;
	hv_status(req->pvd, d->uuid, st);
	if (!st->present || !strcmp(st->state, "dying") || !strcmp(st->state, "building")) {
		lc_not_running(req, d, st->present ? st->state : "shut-off", what);
		goto fail;
	}
	return 0;
fail:
	store_domain_clear(d);
	return -1;
}

/* Destroy a domain pvd does not manage, named by its UUID (list --all). */
static int destroy_unmanaged(struct rpc_req *req, const struct hv_unmanaged *u)
{
	struct op_call *oc = op_new(OPC_UNMANAGED, u->uuid, NULL, NULL, NULL);
	char err[600];

	if (!oc)
		return rpc_fail(req, PVD_ERR_INTERNAL, NULL, "Internal error: out of memory");
	oc->domid = u->domid;
	snprintf(oc->name, sizeof(oc->name), "%s", u->name);
	if (hv_destroy_domain(req->pvd, u->uuid, op_answered, oc, err, sizeof(err)) != 0) {
		free(oc);
		return rpc_fail(req, PVD_ERR_HYPERVISOR, NULL, "Hypervisor error: unmanaged domain %u (%s): %s",
				u->domid, u->uuid, err);
	}
	return deferred(req, oc);
}

int method_domain_destroy(struct rpc_req *req, json_object *params, json_object **result)
{
	struct store_domain d;
	struct hv_status st;
	struct hv_unmanaged u;
	struct op_call *oc;
	json_object *ref;
	char err[600];
	uint64_t in_ms;

	if (json_object_object_get_ex(params, "domain", &ref) && json_object_is_type(ref, json_type_string) &&
	    hv_find_unmanaged(req->pvd, json_object_get_string(ref), &u))
		return destroy_unmanaged(req, &u);
	/* A crash-looping domain waiting for its delayed restart: destroy ends
	 * the loop. */
	if (method_resolve(req, params, &d) != 0)
		return -1;
	if (hv_restart_pending(req->pvd, d.uuid, &in_ms) && hv_cancel_restart(req->pvd, d.uuid)) {
		if (lc_commit(req, &d, "shut-off", "domain.stopped", "{\"reason\":\"destroy\",\"restart\":\"cancelled\"}")) {
			store_domain_clear(&d);
			return -1;
		}
		return lc_finish(req, &d, result);
	}
	store_domain_clear(&d);
	if (resolve_live(req, params, &d, &st, "there is nothing to destroy") != 0)
		return -1;
	oc = op_new(OPC_DESTROY, d.uuid, "shut-off", "domain.stopped", "{\"reason\":\"destroy\"}");
	if (!oc || hv_destroy_domain(req->pvd, d.uuid, op_answered, oc, err, sizeof(err)) != 0) {
		if (oc)
			lc_hv_failed(req, &d, err);
		else
			rpc_fail(req, PVD_ERR_INTERNAL, NULL, "Internal error: out of memory");
		free(oc);
		store_domain_clear(&d);
		return -1;
	}
	store_domain_clear(&d);
	return deferred(req, oc);
}

static int shutdown_common(struct rpc_req *req, json_object *params, json_object **result, int reboot)
{
	struct store_domain d;
	struct hv_status st;
	struct op_call *oc;
	json_object *v;
	char err[600], detail[96];
	long timeout = 60;
	int force = 0, asked = 0, rc;

	if (json_object_object_get_ex(params, "timeout", &v))
		timeout = (long)json_object_get_int64(v);
	if (json_object_object_get_ex(params, "force", &v))
		force = json_object_get_boolean(v);
	if (resolve_live(req, params, &d, &st, reboot ? "start it instead" : "it is already off") != 0)
		return -1;
	if (strcmp(st.state, "running") && strcmp(st.state, "paused")) {
		lc_not_running(req, &d, st.state, reboot ? "destroy it and start it" : "destroy it instead");
		store_domain_clear(&d);
		return -1;
	}
	oc = op_new(OPC_SHUTDOWN, d.uuid, NULL, reboot ? "domain.reboot" : "domain.shutdown", NULL);
	if (!oc) {
		store_domain_clear(&d);
		return rpc_fail(req, PVD_ERR_INTERNAL, NULL, "Internal error: out of memory");
	}
	rc = hv_shutdown_domain(req->pvd, d.uuid, reboot, force, (unsigned)timeout, &asked, op_answered, oc, err,
				sizeof(err));
	if (rc < 0) {
		lc_hv_failed(req, &d, err);
		store_domain_clear(&d);
		free(oc);
		return -1;
	}
	snprintf(detail, sizeof(detail), "{\"reason\":\"%s\",\"timeout\":%ld,\"how\":\"%s\"}",
		 reboot ? "reboot" : "poweroff", timeout, asked ? "guest" : "hypervisor");
	if (rc == 1) {		/* the hypervisor shuts it down: answered when it has */
		snprintf(oc->detail, sizeof(oc->detail), "%s", detail);
		oc->asked = asked;
		store_domain_clear(&d);
		return deferred(req, oc);
	}
	free(oc);
	if (lc_commit(req, &d, NULL, reboot ? "domain.reboot" : "domain.shutdown", detail) != 0) {
		store_domain_clear(&d);
		return -1;
	}
	if (lc_finish(req, &d, result) != 0)
		return -1;
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

static int pause_common(struct rpc_req *req, json_object *params, int pause)
{
	struct store_domain d;
	struct hv_status st;
	struct op_call *oc;
	char err[600];

	if (resolve_live(req, params, &d, &st, pause ? "start it first" : "start it instead") != 0)
		return -1;
	if (strcmp(st.state, pause ? "running" : "paused")) {
		if (!strcmp(st.state, pause ? "paused" : "running"))
			rpc_fail(req, PVD_ERR_INVALID_STATE, lc_dom_data(&d, st.state), "Invalid state: domain \"%s\" is "
				 "already %s", d.name, st.state);
		else
			lc_not_running(req, &d, st.state, pause ? "only a running domain can be paused"
								 : "only a paused domain can be resumed");
		store_domain_clear(&d);
		return -1;
	}
	oc = op_new(OPC_PAUSE, d.uuid, pause ? "paused" : "running", pause ? "domain.paused" : "domain.resumed", NULL);
	if (!oc || hv_pause_domain(req->pvd, d.uuid, pause, op_answered, oc, err, sizeof(err)) != 0) {
		if (oc)
			lc_hv_failed(req, &d, err);
		else
			rpc_fail(req, PVD_ERR_INTERNAL, NULL, "Internal error: out of memory");
		free(oc);
		store_domain_clear(&d);
		return -1;
	}
	oc->pause = pause;
	store_domain_clear(&d);
	return deferred(req, oc);
}

int method_domain_pause(struct rpc_req *req, json_object *params, json_object **result)
{
	(void)result;
	return pause_common(req, params, 1);
}

int method_domain_resume(struct rpc_req *req, json_object *params, json_object **result)
{
	(void)result;
	return pause_common(req, params, 0);
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
		rpc_fail(req, PVD_ERR_INVALID_STATE, lc_dom_data(&d, st.state), "Invalid state: domain \"%s\": a target "
			 "of %lld MiB is %s (its maximum is %llu MiB; raise that with mem-max first)", d.name, mib,
			 mib < MIN_TARGET_MIB ? "below the 16 MiB a guest needs" : "above its maximum",
			 (unsigned long long)(st.maxmem_kib / 1024));
		store_domain_clear(&d);
		return -1;
	}
	if (hv_set_target(req->pvd, d.uuid, (uint64_t)mib, err, sizeof(err)) != 0) {
		lc_hv_failed(req, &d, err);
		store_domain_clear(&d);
		return -1;
	}
	snprintf(detail, sizeof(detail), "{\"target_mib\":%lld}", mib);
	if (lc_commit(req, &d, NULL, "domain.memory", detail) != 0) {
		store_domain_clear(&d);
		return -1;
	}
	return lc_finish(req, &d, result);
}

/* Queue an operation whose answer is the domain's info (set_maxmem,
 * set_sched): RPC_DEFERRED or -1. d is cleared. */
static int op_other(struct rpc_req *req, struct store_domain *d, int maxmem, uint64_t a, uint32_t b,
		    const char *detail)
{
	struct op_call *oc = op_new(OPC_OTHER, d->uuid, NULL, maxmem ? "domain.memory" : "domain.sched", detail);
	char err[600];
	int rc;

	if (!oc) {
		store_domain_clear(d);
		return rpc_fail(req, PVD_ERR_INTERNAL, NULL, "Internal error: out of memory");
	}
	rc = maxmem ? hv_set_maxmem(req->pvd, d->uuid, a, op_answered, oc, err, sizeof(err))
		    : hv_set_sched(req->pvd, d->uuid, (uint32_t)a, b, op_answered, oc, err, sizeof(err));
	if (rc != 0) {
		lc_hv_failed(req, d, err);
		store_domain_clear(d);
		free(oc);
		return -1;
	}
	store_domain_clear(d);
	return deferred(req, oc);
}

/* mem-max, as xl mem-max: the hypervisor's ceiling; not below what the
 * domain has nor below its balloon target. */
int method_domain_set_maxmem(struct rpc_req *req, json_object *params, json_object **result)
{
	struct store_domain d;
	struct hv_status st;
	long long mib, now_mib;
	uint64_t target_kib = 0;
	char detail[64];

	(void)result;
	if (memory_param(req, params, "maxmem", &mib) != 0)
		return -1;
	if (resolve_live(req, params, &d, &st, "start it first (its config's maxmem applies at start)") != 0)
		return -1;
	hv_get_target(req->pvd, d.uuid, &target_kib);
	/* the validator's rule maxmem >= memory, against what it has now */
	now_mib = (long long)((target_kib > st.mem_kib ? target_kib : st.mem_kib) / 1024);
	if (live_check(req, &d, pair("maxmem", json_object_new_int64(mib), "memory",
				     json_object_new_int64(now_mib < 4 ? 4 : now_mib))) != 0) {
		store_domain_clear(&d);
		return -1;
	}
	if ((unsigned long long)mib * 1024 < st.mem_kib || (unsigned long long)mib * 1024 < target_kib) {
		rpc_fail(req, PVD_ERR_INVALID_STATE, lc_dom_data(&d, st.state), "Invalid state: domain \"%s\" has "
			 "%llu MiB with a target of %llu MiB; its maximum cannot go below those (%lld MiB)", d.name,
			 (unsigned long long)(st.mem_kib / 1024), (unsigned long long)(target_kib / 1024), mib);
		store_domain_clear(&d);
		return -1;
	}
	snprintf(detail, sizeof(detail), "{\"maxmem_mib\":%lld}", mib);
	return op_other(req, &d, 1, (uint64_t)mib, 0, detail);
}

int method_domain_set_sched(struct rpc_req *req, json_object *params, json_object **result)
{
	struct store_domain d;
	struct hv_status st;
	json_object *v;
	long long weight = -1, cap = -1;
	char detail[64];

	(void)result;
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
	snprintf(detail, sizeof(detail), "{\"weight\":%lld,\"cap\":%lld}", weight, cap);
	return op_other(req, &d, 0, (uint64_t)weight, (uint32_t)cap, detail);
}
