/*
 * methods_lifecycle.c - domain.start, domain.create and domain.console,
 * and the helpers every method acting on the hypervisor shares
 * (methods_lifecycle.h; the operations on running domains are
 * methods_ops.c).
 *
 * Each: resolve the domain, check the machine (-32006 "Hypervisor error:
 * no machine ..." without one) and the state (-32003 naming the domain and
 * its state), have the hypervisor act (hv.h; the work runs on the control
 * thread and the answer is deferred until it is done; a refusal is -32006
 * with the cause, a missing kernel -32602 naming /kernel), then record the
 * desired state and the event in one store transaction and publish it.
 * The result is the domain's info.
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
#include "methods_lifecycle.h"

#define CONSOLE_READ_MAX (256 * 1024)

json_object *lc_dom_data(const struct store_domain *d, const char *state)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "domain", json_object_new_string(d->name));
	json_object_object_add(o, "uuid", json_object_new_string(d->uuid));
	if (state)
		json_object_object_add(o, "state", json_object_new_string(state));
	return o;
}

int lc_no_machine(struct rpc_req *req, const struct store_domain *d)
{
	const char *why = hv_unavailable(req->pvd);
	json_object *data;

	if (!why)
		return 0;
	data = lc_dom_data(d, NULL);
	json_object_object_add(data, "cause", json_object_new_string(why));
	return rpc_fail(req, PVD_ERR_HYPERVISOR, data, "Hypervisor error: %s", why);
}

int lc_hv_failed(struct rpc_req *req, const struct store_domain *d, const char *err)
{
	json_object *data = lc_dom_data(d, NULL);

	json_object_object_add(data, "cause", json_object_new_string(err));
	return rpc_fail(req, PVD_ERR_HYPERVISOR, data, "Hypervisor error: %s", err);
}

int lc_not_running(struct rpc_req *req, const struct store_domain *d, const char *state, const char *what)
{
	return rpc_fail(req, PVD_ERR_INVALID_STATE, lc_dom_data(d, state), "Invalid state: domain \"%s\" is %s; %s",
			d->name, !strcmp(state, "shut-off") ? "not running" : state, what);
}

/* The domain's desired state and the event, in one transaction. */
int lc_commit(struct rpc_req *req, struct store_domain *d, const char *desired, const char *type,
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

int lc_finish(struct rpc_req *req, struct store_domain *d, json_object **result)
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
	if (rc == HV_START_BUSY)
		return rpc_fail(req, PVD_ERR_INVALID_STATE, lc_dom_data(d, "running"), "Invalid state: %s", err);
	return lc_hv_failed(req, d, err);
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
		if (lc_commit(req, &d, "running", sc->type, detail) != 0)
			store_domain_clear(&d);
		else
			lc_finish(req, &d, &result);
	}
	rpc_finish(sc->p, result);
	free(sc);
}

static int already(struct rpc_req *req, const struct store_domain *d, const char *state)
{
	return rpc_fail(req, PVD_ERR_INVALID_STATE, lc_dom_data(d, state), "Invalid state: domain \"%s\" is "
			"already %s", d->name, state);
}

/* A start that found the domain dying: has it gone meanwhile? */
static void gone_checked(struct pvd *pvd, void *arg, int rc, const char *err)
{
	struct start_call *sc = arg;
	struct rpc_req *req = rpc_pending_req(sc->p);
	struct store_domain d;
	char why[700];

	(void)err;
	if (store_domain_find(pvd->store, sc->uuid, &d) != 0) {
		rpc_fail(req, PVD_ERR_NO_SUCH_DOMAIN, NULL, "No such domain: %s was undefined meanwhile", sc->uuid);
		rpc_finish(sc->p, NULL);
		free(sc);
		return;
	}
	if (rc != 0) {
		already(req, &d, "dying");
	} else if ((rc = hv_start_domain(pvd, &d, 0, started, sc, why, sizeof(why))) == 0) {
		store_domain_clear(&d);
		return;		/* answered by started() */
	} else {
		start_failed(req, &d, rc, why);
		if (sc->create)
			forget_created(req, &d);
	}
	store_domain_clear(&d);
	rpc_finish(sc->p, NULL);
	free(sc);
}

/* Start d (resolved, shut off): RPC_DEFERRED once the build is under way
 * (the answer comes with it), or -1 with the error. A domain still dying
 * after a destroy is asked after first (on the control thread). */
static int start_resolved(struct rpc_req *req, struct store_domain *d, const char *type, int create)
{
	struct hv_status st;
	struct start_call *sc;
	char err[700];
	int rc;

	if (lc_no_machine(req, d))
		return -1;
	hv_status(req->pvd, d->uuid, &st);
	if (st.present && strcmp(st.state, "dying"))
		return already(req, d, st.state);
	sc = calloc(1, sizeof(*sc));
	if (!sc)
		return rpc_fail(req, PVD_ERR_INTERNAL, NULL, "Internal error: out of memory");
	snprintf(sc->uuid, sizeof(sc->uuid), "%s", d->uuid);
	snprintf(sc->type, sizeof(sc->type), "%s", type);
	sc->create = create;
	if (st.present) {
		if (hv_check_gone(req->pvd, d->uuid, gone_checked, sc) != 0) {
			free(sc);
			return already(req, d, "dying");
		}
	} else if ((rc = hv_start_domain(req->pvd, d, 0, started, sc, err, sizeof(err))) != 0) {
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
			rpc_fail(req, PVD_ERR_INVALID_STATE, lc_dom_data(&d, "shut-off"), "Invalid state: domain \"%s\": "
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
	/* offset < 0: the last max bytes, from a line start when there is one;
	 * an offset past the log's end: the log was rotated (--console-log-max)
	 * since, so the new one is read from its start */
	from = offset < 0 ? (size > max ? size - max : 0) : (offset > size ? 0 : offset);
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
