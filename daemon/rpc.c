/*
 * rpc.c - JSON-RPC 2.0 for pvd: one frame in, one response frame out.
 *
 * Owns the OpenRPC document (embedded api/pvd.openrpc.json), the dispatch
 * table's binding to it, and one params schema per method built from the
 * document's "params" list. Every call goes through the same steps, in this
 * order, and stops at the first failure with the matching error code:
 *   parse (-32700) -> request shape (-32600) -> method lookup (-32601) ->
 *   the caller's role against the method's "x-role" (-32008, logged) ->
 *   params against the documented schemas (-32602, path of the bad param)
 *   -> handler (its documented errors).
 * Batches are handled element by element; notifications (no "id") run but
 * get no response. A handler may defer its answer (rpc_defer/rpc_finish):
 * it is then sent on its own, or with the rest of its batch once the
 * batch's last deferred call is answered. Invariant: rpc_new succeeds only when the dispatch table
 * and the document name exactly the same methods, so the document cannot
 * drift from what pvd serves.
 */
#include "rpc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../api/pvd_api.h"
#include "embedded.h"
#include "json_strict.h"
#include "log.h"
#include "pvd.h"
#include "roles.h"
#include "schema.h"
#include "server.h"

#define RPC_JSON_DEPTH 64
#define RPC_MAX_BATCH  1000
#define BATCH_REFUSAL_BYTES 128	/* the most one refused batch request's answer takes */

struct rpc_binding {
	const struct rpc_method *method;
	enum pvd_role needed;		/* the method's "x-role" (admin when absent) */
	json_object *params_schema;	/* object schema built from the document */
	json_object *param_names;	/* array of names, for by-position params */
};

struct rpc {
	struct schema *doc;
	struct rpc_binding *bindings;
	size_t nbindings;
};

/* A batch with deferred calls: its answers so far, sent when the last
 * deferred one is in. */
struct rpc_batch {
	char *buf;
	size_t len, cap;
	size_t outstanding;	/* deferred calls not yet answered */
	int running;		/* run_batch has not returned yet */
};

struct rpc_pending {
	struct rpc_req req;
	char caller[160], method[128];
	json_object *id;	/* NULL: a notification, nothing is sent */
	int has_id;
	uint64_t client;	/* client_id; 0: in-process */
	struct rpc_batch *batch;
};

static char *to_text(json_object *o);
static json_object *error_response(json_object *id, int code, const char *message, json_object *data);
static int batch_append(struct rpc_batch *b, const char *t);
static char *batch_close(struct rpc_batch *b);

struct rpc_pending *rpc_defer(struct rpc_req *req)
{
	struct rpc_pending *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	snprintf(p->caller, sizeof(p->caller), "%s", req->caller);
	snprintf(p->method, sizeof(p->method), "%s", req->method);
	p->req.pvd = req->pvd;
	p->req.caller = p->caller;
	p->req.method = p->method;
	p->client = client_id(req->client);
	req->pending = p;
	return p;
}

struct rpc_req *rpc_pending_req(struct rpc_pending *p)
{
	return &p->req;
}

void rpc_finish(struct rpc_pending *p, json_object *result)
{
	json_object *resp = NULL;
	char *text = NULL;

	if (p->has_id) {
		if (p->req.err_code) {
			resp = error_response(p->id, p->req.err_code, p->req.err_msg, p->req.err_data);
			p->req.err_data = NULL;
			json_object_put(result);
		} else {
			resp = json_object_new_object();
			json_object_object_add(resp, "jsonrpc", json_object_new_string("2.0"));
			json_object_object_add(resp, "result", result);
			json_object_object_add(resp, "id", json_object_get(p->id));
		}
		text = to_text(resp);
	} else {
		json_object_put(result);
		json_object_put(p->req.err_data);
	}
	if (p->batch) {
		struct rpc_batch *b = p->batch;
		if (text)
			batch_append(b, text);
		free(text);
		text = NULL;
		if (--b->outstanding == 0 && !b->running)
			text = batch_close(b);
	}
	if (text && p->client)
		server_send_to(p->req.pvd->server, p->client, text);
	else
		free(text);
	json_object_put(p->id);
	free(p);
}

int rpc_fail(struct rpc_req *req, int code, json_object *data, const char *fmt, ...)
{
	va_list ap;

	req->err_code = code;
	va_start(ap, fmt);
	vsnprintf(req->err_msg, sizeof(req->err_msg), fmt, ap);
	va_end(ap);
	json_object_put(req->err_data);
	req->err_data = data;
	return -1;
}

json_object *rpc_document(struct rpc *r)
{
	return schema_document(r->doc);
}

/* ---- binding the table to the document ---- */

static json_object *params_schema_of(json_object *method, json_object **names)
{
	json_object *params, *schema, *props, *required;

	schema = json_object_new_object();
	props = json_object_new_object();
	required = json_object_new_array();
	*names = json_object_new_array();
	json_object_object_add(schema, "type", json_object_new_string("object"));
	json_object_object_add(schema, "additionalProperties", json_object_new_boolean(0));
	if (json_object_object_get_ex(method, "params", &params)) {
		for (size_t i = 0; i < json_object_array_length(params); i++) {
			json_object *p = json_object_array_get_idx(params, i), *name, *ps, *req;
			if (!json_object_object_get_ex(p, "name", &name) ||
			    !json_object_object_get_ex(p, "schema", &ps))
				continue;
			json_object_object_add(props, json_object_get_string(name), json_object_get(ps));
			json_object_array_add(*names, json_object_get(name));
			if (json_object_object_get_ex(p, "required", &req) && json_object_get_boolean(req))
				json_object_array_add(required, json_object_get(name));
		}
	}
	json_object_object_add(schema, "properties", props);
	json_object_object_add(schema, "required", required);
	return schema;
}

struct rpc *rpc_new(char *err, size_t errlen)
{
	struct rpc *r = calloc(1, sizeof(*r));
	json_object *methods;
	size_t ntable = 0, ndoc;

	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->doc = schema_load((const char *)embedded_openrpc.data, embedded_openrpc.len, err, errlen);
	if (!r->doc)
		goto fail;
	if (!json_object_object_get_ex(schema_document(r->doc), "methods", &methods) ||
	    !json_object_is_type(methods, json_type_array)) {
		snprintf(err, errlen, "api/pvd.openrpc.json has no methods array");
		goto fail;
	}
	for (const struct rpc_method *m = rpc_methods; m->name; m++)
		ntable++;
	ndoc = json_object_array_length(methods);
	r->bindings = calloc(ndoc ? ndoc : 1, sizeof(*r->bindings));
	if (!r->bindings) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < ndoc; i++) {
		json_object *m = json_object_array_get_idx(methods, i), *name, *role;
		const char *n;
		const struct rpc_method *found = NULL;
		if (!json_object_object_get_ex(m, "name", &name)) {
			snprintf(err, errlen, "api/pvd.openrpc.json: method %zu has no name", i);
			goto fail;
		}
		n = json_object_get_string(name);
		for (const struct rpc_method *t = rpc_methods; t->name; t++)
			if (!strcmp(t->name, n))
				found = t;
		if (!found) {
			snprintf(err, errlen, "api/pvd.openrpc.json documents \"%s\" but pvd's dispatch table "
				 "has no handler for it", n);
			goto fail;
		}
		r->bindings[r->nbindings].method = found;
		r->bindings[r->nbindings].needed = PVD_ROLE_ADMIN;
		if (json_object_object_get_ex(m, "x-role", &role) &&
		    (!json_object_is_type(role, json_type_string) ||
		     role_parse(json_object_get_string(role), &r->bindings[r->nbindings].needed) != 0)) {
			snprintf(err, errlen, "api/pvd.openrpc.json: \"%s\" has an x-role other than any, reader "
				 "or admin", n);
			goto fail;
		}
		r->bindings[r->nbindings].params_schema = params_schema_of(m, &r->bindings[r->nbindings].param_names);
		if (schema_compile(r->doc, r->bindings[r->nbindings].params_schema, err, errlen) != 0)
			goto fail;
		r->nbindings++;
	}
	for (const struct rpc_method *t = rpc_methods; t->name; t++) {
		int documented = 0;
		for (size_t i = 0; i < r->nbindings; i++)
			documented |= r->bindings[i].method == t;
		if (!documented) {
			snprintf(err, errlen, "pvd's dispatch table has \"%s\", which api/pvd.openrpc.json "
				 "does not document", t->name);
			goto fail;
		}
	}
	if (ntable != r->nbindings) {
		snprintf(err, errlen, "api/pvd.openrpc.json documents a method twice");
		goto fail;
	}
	return r;
fail:
	rpc_free(r);
	return NULL;
}

void rpc_free(struct rpc *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nbindings; i++) {
		json_object_put(r->bindings[i].params_schema);
		json_object_put(r->bindings[i].param_names);
	}
	free(r->bindings);
	schema_free(r->doc);
	free(r);
}

/* ---- responses ---- */

static json_object *error_response(json_object *id, int code, const char *message, json_object *data)
{
	json_object *resp = json_object_new_object(), *e = json_object_new_object();

	json_object_object_add(resp, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(e, "code", json_object_new_int(code));
	json_object_object_add(e, "message", json_object_new_string(message));
	if (data)
		json_object_object_add(e, "data", data);
	json_object_object_add(resp, "error", e);
	json_object_object_add(resp, "id", id ? json_object_get(id) : NULL);
	return resp;
}

/* The frame to send: valid UTF-8 whatever a string held (a guest's
 * console bytes, a message cut short), bad sequences become U+FFFD. */
static char *to_text(json_object *o)
{
	char *s = utf8_repair(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));

	json_object_put(o);
	return s;
}

json_object *rpc_text_result(char *text)
{
	json_object *o = json_object_new_array();

	if (!o) {
		free(text);
		return NULL;
	}
	json_object_set_serializer(o, json_object_userdata_to_json_string, text, json_object_free_userdata);
	return o;
}

char *rpc_error_frame(int code, const char *message, json_object *data)
{
	return to_text(error_response(NULL, code, message, data));
}

static json_object *data_cause(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_object *data_cause(const char *fmt, ...)
{
	json_object *d = json_object_new_object();
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_object_object_add(d, "cause", json_object_new_string(buf));
	return d;
}

/* ---- one request ---- */

static const struct rpc_binding *lookup(struct rpc *r, const char *name)
{
	for (size_t i = 0; i < r->nbindings; i++)
		if (!strcmp(r->bindings[i].method->name, name))
			return &r->bindings[i];
	return NULL;
}

/* By-position params become by-name ones, in the documented order. */
static json_object *params_by_name(const struct rpc_binding *b, json_object *params, struct rpc_req *req)
{
	json_object *named;
	size_t n, max = json_object_array_length(b->param_names);

	if (!params)
		return json_object_new_object();
	if (json_object_is_type(params, json_type_object))
		return json_object_get(params);
	n = json_object_array_length(params);
	if (n > max) {
		rpc_fail(req, PVD_ERR_INVALID_PARAMS, data_cause("%zu positional params given", n),
			 "Invalid params: %s takes at most %zu params, got %zu", b->method->name, max, n);
		return NULL;
	}
	named = json_object_new_object();
	for (size_t i = 0; i < n; i++)
		json_object_object_add(named, json_object_get_string(json_object_array_get_idx(b->param_names, i)),
				       json_object_get(json_object_array_get_idx(params, i)));
	return named;
}

static json_object *check_params(struct rpc *r, const struct rpc_binding *b, json_object *params,
				 struct rpc_req *req)
{
	struct schema_report rep;
	json_object *named = params_by_name(b, params, req), *norm, *errs, *data;
	char text[400];

	if (!named)
		return NULL;
	norm = schema_validate(r->doc, b->params_schema, named, SCHEMA_PATH_POINTER, &rep);
	json_object_put(named);
	if (norm)
		return norm;
	errs = json_object_new_array();
	for (int i = 0; i < rep.count && i < SCHEMA_MAX_ISSUES; i++) {
		json_object *e = json_object_new_object();
		json_object_object_add(e, "path", json_object_new_string(rep.issue[i].path));
		json_object_object_add(e, "message", json_object_new_string(rep.issue[i].message));
		json_object_array_add(errs, e);
	}
	data = json_object_new_object();
	json_object_object_add(data, "errors", errs);
	schema_report_format(&rep, text, sizeof(text));
	rpc_fail(req, PVD_ERR_INVALID_PARAMS, data, "Invalid params: %s: param %s", b->method->name, text + 1);
	return NULL;
}

/* Whether the connection's role may call b; if not, the refusal is
 * recorded in req (-32008) and logged with the caller. In-process calls
 * (no client) are pvd's own. */
static int role_allows(struct pvd *pvd, struct client *client, const char *caller, enum pvd_role needed,
		       const char *what, struct rpc_req *req)
{
	enum pvd_role role = client ? (enum pvd_role)client_role(client) : PVD_ROLE_ADMIN;
	json_object *d;
	char grant[200];

	if (role >= needed)
		return 1;
	roles_needed_text(&pvd->roles, needed, client_is_tls(client), grant, sizeof(grant));
	d = json_object_new_object();
	json_object_object_add(d, "method", json_object_new_string(req->method));
	json_object_object_add(d, "role", json_object_new_string(role_name(role)));
	json_object_object_add(d, "needed", json_object_new_string(role_name(needed)));
	json_object_object_add(d, "grant", json_object_new_string(grant));
	rpc_fail(req, PVD_ERR_PERMISSION_DENIED, d, "Permission denied: %s needs the %s role (%s); %s has the %s role",
		 what, role_name(needed), grant, caller, role_name(role));
	log_warn("denied %s to %s (role %s, needs %s)", what, caller, role_name(role), role_name(needed));
	return 0;
}

int rpc_require_role(struct rpc_req *req, int needed, const char *what)
{
	return role_allows(req->pvd, req->client, req->caller, (enum pvd_role)needed, what, req) ? 0 : -1;
}

/* JSON-RPC 2.0: a string, a number (fractions allowed) or null. */
static int valid_id(json_object *id)
{
	return !id || json_object_is_type(id, json_type_string) || json_object_is_type(id, json_type_int) ||
	       json_object_is_type(id, json_type_double);
}

/* Returns the response object, or NULL for a notification. */
static json_object *handle_request(struct rpc *r, struct pvd *pvd, struct client *client, const char *caller,
				   json_object *msg, struct rpc_pending **deferred)
{
	json_object *jv, *method, *id = NULL, *params = NULL, *norm, *result = NULL, *resp;
	struct rpc_req req = { .pvd = pvd, .client = client, .caller = caller };
	const struct rpc_binding *b;
	int has_id;

	if (!json_object_is_type(msg, json_type_object))
		return error_response(NULL, PVD_ERR_INVALID_REQUEST, "Invalid Request: a request must be a JSON object",
				      data_cause("got %s", json_type_to_name(json_object_get_type(msg))));
	has_id = json_object_object_get_ex(msg, "id", &id);
	if (has_id && !valid_id(id))
		return error_response(NULL, PVD_ERR_INVALID_REQUEST, "Invalid Request: id must be a string, a number or null",
				      data_cause("id is %s", json_type_to_name(json_object_get_type(id))));
	json_object_object_foreach(msg, key, val) {
		(void)val;
		if (strcmp(key, "jsonrpc") && strcmp(key, "method") && strcmp(key, "params") && strcmp(key, "id"))
			return error_response(id, PVD_ERR_INVALID_REQUEST, "Invalid Request: unknown member in the request",
					      data_cause("member \"%.64s\"", key));
	}
	if (!json_object_object_get_ex(msg, "jsonrpc", &jv) || !json_object_is_type(jv, json_type_string) ||
	    strcmp(json_object_get_string(jv), "2.0"))
		return error_response(id, PVD_ERR_INVALID_REQUEST, "Invalid Request: \"jsonrpc\" must be \"2.0\"",
				      data_cause("jsonrpc member missing or wrong"));
	if (!json_object_object_get_ex(msg, "method", &method) || !json_object_is_type(method, json_type_string))
		return error_response(id, PVD_ERR_INVALID_REQUEST, "Invalid Request: \"method\" must be a string",
				      data_cause("method member missing or not a string"));
	if (json_object_object_get_ex(msg, "params", &params) && params &&
	    !json_object_is_type(params, json_type_object) && !json_object_is_type(params, json_type_array))
		return error_response(id, PVD_ERR_INVALID_REQUEST, "Invalid Request: \"params\" must be an object or an array",
				      data_cause("params is %s", json_type_to_name(json_object_get_type(params))));
	req.method = json_object_get_string(method);
	b = lookup(r, req.method);
	if (!b) {
		json_object *d = json_object_new_object();
		char msgtext[200];
		json_object_object_add(d, "method", json_object_new_string(req.method));
		snprintf(msgtext, sizeof(msgtext), "Method not found: \"%.100s\" is not a pvd method (rpc.discover lists them)",
			 req.method);
		resp = has_id ? error_response(id, PVD_ERR_METHOD_NOT_FOUND, msgtext, d) : NULL;
		if (!resp)
			json_object_put(d);
		return resp;
	}
	if (!role_allows(pvd, client, caller, b->needed, req.method, &req))
		norm = NULL;
	else
		norm = check_params(r, b, params, &req);
	if (norm) {
		int rc = b->method->handler(&req, norm, &result);
		json_object_put(norm);
		if (rc == RPC_DEFERRED && req.pending) {
			req.pending->has_id = has_id;
			req.pending->id = has_id ? json_object_get(id) : NULL;
			*deferred = req.pending;
			return NULL;
		}
		if (rc != 0 && !req.err_code)
			rpc_fail(&req, PVD_ERR_INTERNAL, NULL, "Internal error: %s failed without a reason", req.method);
	}
	if (!has_id) {
		json_object_put(result);
		json_object_put(req.err_data);
		return NULL;
	}
	if (req.err_code)
		return error_response(id, req.err_code, req.err_msg, req.err_data);
	resp = json_object_new_object();
	json_object_object_add(resp, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(resp, "result", result);
	json_object_object_add(resp, "id", json_object_get(id));
	return resp;
}

/* A numeric id is echoed as the client wrote it: the parsed number is
 * replaced by one that serializes to the raw text (ids.v[i]). */
static void exact_id(json_object *req, const char *frame, const struct json_strict_ids *ids, size_t i)
{
	json_object *id;
	char raw[600];

	if (!json_object_is_type(req, json_type_object) || !json_object_object_get_ex(req, "id", &id) ||
	    !(json_object_is_type(id, json_type_int) || json_object_is_type(id, json_type_double)) ||
	    !ids->v[i].len || ids->v[i].len >= sizeof(raw))
		return;
	memcpy(raw, frame + ids->v[i].off, ids->v[i].len);
	raw[ids->v[i].len] = '\0';
	id = json_object_new_double_s(json_object_get_double(id), raw);
	if (id)
		json_object_object_add(req, "id", id);
}

/* The most a client may be sent for one frame: what it may leave unread
 * (--max-output); without options (in-process tests) no limit. */
static size_t response_limit(const struct pvd *pvd)
{
	return pvd && pvd->opt.max_output > 0 ? (size_t)pvd->opt.max_output : (size_t)-1;
}

/*
 * A batch's response, built from each response's text. Once the texts pass
 * the response limit, the requests left are not run: each with an id gets
 * -32004 instead, so a batch of 1000 big calls costs what one limit's
 * worth of output costs, not minutes and gigabytes.
 */
static int batch_append(struct rpc_batch *b, const char *t)
{
	size_t tl = strlen(t);

	if (b->len + tl + 2 > b->cap) {
		size_t cap = b->cap;
		char *nb;
		while (b->len + tl + 2 > cap)
			cap *= 2;
		nb = realloc(b->buf, cap);
		if (!nb)
			return -1;
		b->buf = nb;
		b->cap = cap;
	}
	if (b->len > 1)
		b->buf[b->len++] = ',';
	memcpy(b->buf + b->len, t, tl);
	b->len += tl;
	return 0;
}

/* The batch's frame (NULL: notifications only); b is freed. */
static char *batch_close(struct rpc_batch *b)
{
	char *buf = b->buf;

	if (b->len == 1) {
		free(buf);
		buf = NULL;
	} else {
		buf[b->len++] = ']';
		buf[b->len] = '\0';
	}
	free(b);
	return buf;
}

static char *run_batch(struct rpc *r, struct pvd *pvd, struct client *client, const char *caller,
		       json_object *msg, size_t n)
{
	size_t limit = response_limit(pvd);
	struct rpc_batch *b = calloc(1, sizeof(*b));
	int full = 0;		/* the limit was reached: run nothing more */

	/* room for every request's refusal stays free: answers of run requests
	 * get what is left (--max-output's minimum leaves room for a full batch) */
	limit = limit > n * BATCH_REFUSAL_BYTES ? limit - n * BATCH_REFUSAL_BYTES : 0;

	if (b) {
		b->cap = 4096;
		b->buf = malloc(b->cap);
	}
	if (!b || !b->buf) {
		free(b);
		return rpc_error_frame(PVD_ERR_INTERNAL, "Internal error: out of memory", NULL);
	}
	b->buf[0] = '[';
	b->len = 1;
	b->running = 1;
	for (size_t i = 0; i < n; i++) {
		json_object *req = json_object_array_get_idx(msg, i), *resp, *id = NULL;
		struct rpc_pending *deferred = NULL;
		char *t;
		if (!full && b->len <= limit)
			resp = handle_request(r, pvd, client, caller, req, &deferred);
		else if (json_object_is_type(req, json_type_object) && json_object_object_get_ex(req, "id", &id) &&
			 valid_id(id))
			resp = error_response(id, PVD_ERR_QUOTA_EXCEEDED, "Quota exceeded: not run (--max-output)",
					      NULL);
		else
			resp = NULL;
		if (deferred) {		/* answered into the batch later */
			deferred->batch = b;
			b->outstanding++;
			continue;
		}
		if (!resp || !(t = to_text(resp)))
			continue;
		if (b->len + strlen(t) + 2 > limit && id == NULL) {	/* this one would pass the limit */
			full = 1;
			json_object_object_get_ex(req, "id", &id);
			free(t);
			t = to_text(error_response(id, PVD_ERR_QUOTA_EXCEEDED, "Quota exceeded: the response "
						   "would pass --max-output; ask for less (limit, a domain)", NULL));
			if (!t)
				continue;
		}
		if (batch_append(b, t) != 0) {
			free(t);
			if (b->outstanding)	/* the deferred calls still point at it: answer without the rest */
				continue;
			free(b->buf);
			free(b);
			return rpc_error_frame(PVD_ERR_INTERNAL, "Internal error: out of memory", NULL);
		}
		free(t);
	}
	b->running = 0;
	if (b->outstanding)
		return NULL;	/* sent by the last rpc_finish */
	return batch_close(b);
}

char *rpc_handle_frame(struct rpc *r, struct pvd *pvd, struct client *client, const char *caller,
		       const char *frame, size_t len)
{
	json_object *msg, *out;
	struct json_strict_ids ids;
	char *text;
	char why[160];
	size_t at;

	msg = json_strict_parse_ids(frame, len, RPC_JSON_DEPTH, why, sizeof(why), &at, &ids);
	if (!msg)
		return rpc_error_frame(PVD_ERR_PARSE, "Parse error: the frame is not one JSON value",
				       data_cause("%s at byte %zu", why, at));
	if (json_object_is_type(msg, json_type_array))
		for (size_t i = 0; i < ids.n && i < JSON_STRICT_MAX_IDS; i++)
			exact_id(json_object_array_get_idx(msg, i), frame, &ids, i);
	else
		exact_id(msg, frame, &ids, 0);
	if (json_object_is_type(msg, json_type_array)) {
		size_t n = json_object_array_length(msg);
		if (n == 0) {
			json_object_put(msg);
			return rpc_error_frame(PVD_ERR_INVALID_REQUEST, "Invalid Request: empty batch",
					       data_cause("a batch needs at least one request"));
		}
		if (n > RPC_MAX_BATCH) {
			json_object_put(msg);
			return rpc_error_frame(PVD_ERR_INVALID_REQUEST, "Invalid Request: batch too large",
					       data_cause("%zu requests, the limit is %d", n, RPC_MAX_BATCH));
		}
		text = run_batch(r, pvd, client, caller, msg, n);
		json_object_put(msg);
		return text;
	}
	struct rpc_pending *deferred = NULL;
	out = handle_request(r, pvd, client, caller, msg, &deferred);
	json_object_put(msg);
	if (!out)
		return NULL;
	text = to_text(out);
	if (text && strlen(text) > response_limit(pvd)) {
		free(text);
		return rpc_error_frame(PVD_ERR_QUOTA_EXCEEDED, "Quota exceeded: the response is larger than "
				       "--max-output; ask for less (limit, a domain)", NULL);
	}
	return text;
}
