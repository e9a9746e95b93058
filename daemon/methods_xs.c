/*
 * methods_xs.c - the xs.* methods: xenstore for operators, as Domain 0
 * (xenstore-ls, -read, -write, -rm, and watches polled by the client).
 *
 * Each: check the machine (-32006: xenstore is served with it), make the
 * request(s) through the server's local connection (dom0/xenstore.h), map
 * a xenstore error to -32007 with Xen's name and the path. Values that are
 * not printable ASCII read as '?' (as domain.console does).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../dom0/xenstore.h"
#include "../dom0/xs_wire.h"

#include "methods.h"
#include "pvd.h"
#include "xs_host.h"

#define XS_ERROR_CODE  -32007
#define XS_LS_MAX      10000           /* nodes in one xs.ls answer */

static struct xs_server *server(struct rpc_req *req)
{
	struct xs_server *s = xs_host_server(req->pvd);

	if (!s)
		rpc_fail(req, -32006, json_object_new_object(),
			 "Hypervisor error: no machine (xenstore is served with the machine)");
	return s;
}

static int xs_fail(struct rpc_req *req, int rc, const char *path)
{
	json_object *data = json_object_new_object();
	const char *name = xs_error_name(-rc);

	json_object_object_add(data, "path", json_object_new_string(path));
	json_object_object_add(data, "error", json_object_new_string(name));
	return rpc_fail(req, XS_ERROR_CODE, data, "Xenstore error: %s: %s", path, name);
}

static const char *param_str(json_object *params, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(params, key, &v) ? json_object_get_string(v) : NULL;
}

static json_object *printable(const char *v, uint32_t len)
{
	char buf[XENSTORE_PAYLOAD_MAX + 1];

	for (uint32_t i = 0; i < len; i++)
		buf[i] = (v[i] >= 0x20 && v[i] < 0x7f) || v[i] == '\n' || v[i] == '\t' ? v[i] : '?';
	return json_object_new_string_len(buf, (int)len);
}

/* One request as Domain 0 with a path argument (NUL included). */
static int path_request(struct xs_server *s, uint32_t type, const char *path, char *reply, uint32_t *len)
{
	return xs_local(s, type, path, (uint32_t)strlen(path) + 1, reply, len);
}

int method_xs_read(struct rpc_req *req, json_object *params, json_object **result)
{
	struct xs_server *s = server(req);
	const char *path = param_str(params, "path");
	char reply[XS_MSG_MAX];
	uint32_t len = sizeof(reply);
	int rc;

	if (!s)
		return -1;
	rc = path_request(s, XS_READ, path, reply, &len);
	if (rc < 0)
		return xs_fail(req, rc, path);
	*result = json_object_new_object();
	json_object_object_add(*result, "path", json_object_new_string(path));
	json_object_object_add(*result, "value", printable(reply, len));
	return 0;
}

int method_xs_write(struct rpc_req *req, json_object *params, json_object **result)
{
	struct xs_server *s = server(req);
	const char *path = param_str(params, "path"), *value = param_str(params, "value");
	int rc;

	if (!s)
		return -1;
	rc = xs_local_write(s, path, value);
	if (rc < 0)
		return xs_fail(req, rc, path);
	*result = json_object_new_object();
	json_object_object_add(*result, "path", json_object_new_string(path));
	return 0;
}

int method_xs_rm(struct rpc_req *req, json_object *params, json_object **result)
{
	struct xs_server *s = server(req);
	const char *path = param_str(params, "path");
	int rc;

	if (!s)
		return -1;
	rc = xs_local_rm(s, path);
	if (rc < 0)
		return xs_fail(req, rc, path);
	*result = json_object_new_object();
	json_object_object_add(*result, "path", json_object_new_string(path));
	return 0;
}

/* Depth-first: path's value and permissions, then its children. */
static int list_node(struct xs_server *s, const char *path, json_object *nodes, int *truncated)
{
	char reply[XS_MSG_MAX], child[XENSTORE_ABS_PATH_MAX + 2];
	uint32_t len = sizeof(reply);
	json_object *node, *perms;
	int rc;

	if (json_object_array_length(nodes) >= XS_LS_MAX) {
		*truncated = 1;
		return 0;
	}
	rc = path_request(s, XS_READ, path, reply, &len);
	if (rc < 0)
		return rc;
	node = json_object_new_object();
	json_object_object_add(node, "path", json_object_new_string(path));
	json_object_object_add(node, "value", printable(reply, len));
	len = sizeof(reply);
	perms = json_object_new_array();
	if (path_request(s, XS_GET_PERMS, path, reply, &len) == 0)
		for (uint32_t at = 0; at < len; at += (uint32_t)strnlen(reply + at, len - at) + 1)
			json_object_array_add(perms, json_object_new_string_len(reply + at,
										   (int)strnlen(reply + at, len - at)));
	json_object_object_add(node, "perms", perms);
	json_object_array_add(nodes, node);
	len = sizeof(reply);
	rc = path_request(s, XS_DIRECTORY, path, reply, &len);
	if (rc < 0)
		return rc == -ENOENT ? 0 : rc;	/* removed meanwhile: nothing below */
	for (uint32_t at = 0; at < len;) {
		const char *name = reply + at;
		size_t nl = strnlen(name, len - at);
		char copy[XS_MSG_MAX];
		at += (uint32_t)nl + 1;
		snprintf(child, sizeof(child), "%s/%.*s", strcmp(path, "/") ? path : "", (int)nl, name);
		/* the reply buffer is reused by the recursion: keep the rest */
		memcpy(copy, reply, len);
		rc = list_node(s, child, nodes, truncated);
		memcpy(reply, copy, len);
		if (rc < 0 && rc != -ENOENT && rc != -EACCES)
			return rc;
	}
	return 0;
}

int method_xs_ls(struct rpc_req *req, json_object *params, json_object **result)
{
	struct xs_server *s = server(req);
	const char *path = param_str(params, "path");
	json_object *nodes;
	int truncated = 0, rc;

	if (!s)
		return -1;
	nodes = json_object_new_array();
	rc = list_node(s, path, nodes, &truncated);
	if (rc < 0) {
		json_object_put(nodes);
		return xs_fail(req, rc, path);
	}
	*result = json_object_new_object();
	json_object_object_add(*result, "path", json_object_new_string(path));
	json_object_object_add(*result, "nodes", nodes);
	json_object_object_add(*result, "truncated", json_object_new_boolean(truncated));
	return 0;
}

static void add_event(void *arg, int64_t seq, const char *path)
{
	json_object *e = json_object_new_object();

	json_object_object_add(e, "seq", json_object_new_int64(seq));
	json_object_object_add(e, "path", json_object_new_string(path));
	json_object_array_add(arg, e);
}

int method_xs_watch(struct rpc_req *req, json_object *params, json_object **result)
{
	struct xs_server *s = server(req);
	const char *path = param_str(params, "path");
	json_object *v, *events;
	int64_t after = -1, next;

	if (!s)
		return -1;
	if (json_object_object_get_ex(params, "after", &v))
		after = json_object_get_int64(v);
	events = json_object_new_array();
	next = xs_host_watch_poll(req->pvd, path, after, add_event, events);
	if (next == -ENOSPC) {
		json_object *data = json_object_new_object();
		json_object_put(events);
		json_object_object_add(data, "quota", json_object_new_string("watched paths"));
		json_object_object_add(data, "limit", json_object_new_int(XS_HOST_WATCHES));
		return rpc_fail(req, -32004, data, "Quota exceeded: at most %d paths are watched through the API",
				XS_HOST_WATCHES);
	}
	if (next < -1) {
		json_object_put(events);
		return xs_fail(req, (int)next, path);
	}
	*result = json_object_new_object();
	json_object_object_add(*result, "path", json_object_new_string(path));
	json_object_object_add(*result, "events", events);
	json_object_object_add(*result, "next", json_object_new_int64(next));
	return 0;
}
