/*
 * methods_vol.c - the vol.* methods: the storage pool's volumes (its
 * regular files, by name) listed, created, deleted and resized, as
 * virsh vol-list / vol-create-as / vol-delete / vol-resize do.
 *
 * A volume some defined domain's disk uses (its pool image, or a path
 * naming the volume) is neither deleted nor resized (its disk's size in
 * the config says how big it is). Each change is logged and recorded in
 * the event log (vol.created, vol.deleted, vol.resized); when the row
 * cannot be written the change is undone or not made. Pool files are
 * made and changed by pool.c.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../api/pvd_api.h"
#include "config.h"
#include "hv.h"
#include "log.h"
#include "methods.h"
#include "pool.h"
#include "pvd.h"
#include "schema.h"
#include "store.h"

/* Who uses the file path: the first domain (and its disk) whose image it is. */
struct vol_user {
	struct pvd *pvd;
	const char *path;
	char domain[64], disk[40];
	int found, running;
};

static int find_user(void *arg, const struct store_domain *d)
{
	struct vol_user *u = arg;
	struct domain_config cfg;
	json_object *norm = json_tokener_parse(d->normalized);
	char image[PATH_MAX + 64];

	if (norm && domain_config_read(norm, &cfg) == 0)
		for (int i = 0; i < cfg.ndisks && !u->found; i++) {
			char *real = NULL;
			if (pool_image_path(u->pvd, d->uuid, d->base_dir, &cfg.disks[i], image, sizeof(image)) != 0)
				continue;
			real = realpath(image, NULL);
			if (!strcmp(image, u->path) || (real && !strcmp(real, u->path))) {
				struct hv_status st;
				u->found = 1;
				snprintf(u->domain, sizeof(u->domain), "%s", d->name);
				snprintf(u->disk, sizeof(u->disk), "%s", cfg.disks[i].name);
				u->running = hv_status(u->pvd, d->uuid, &st) == 0 && st.present;
			}
			free(real);
		}
	json_object_put(norm);
	return u->found;
}

/* 0 with u filled (found or not), or -1 with the error sent. */
static int vol_user(struct rpc_req *req, const char *name, struct vol_user *u, char *path, size_t len)
{
	char *real;

	memset(u, 0, sizeof(*u));
	u->pvd = req->pvd;
	if (pool_vol_path(req->pvd, name, path, len) != 0)
		return rpc_fail(req, PVD_ERR_INVALID_PARAMS, NULL, "Invalid params: name: the pool path is too long");
	real = realpath(path, NULL);
	u->path = path;
	if (store_domain_list(req->pvd->store, find_user, u) < 0 && !u->found) {	/* -1 also when find_user stops it */
		free(real);
		return rpc_fail(req, PVD_ERR_INTERNAL, NULL, "Internal error: %s", store_error(req->pvd->store));
	}
	if (!u->found && real) {
		u->path = real;
		store_domain_list(req->pvd->store, find_user, u);
	}
	u->path = NULL;
	free(real);
	return 0;
}

static int name_param(struct rpc_req *req, json_object *params, const char **name)
{
	json_object *v = NULL;
	char why[300];

	json_object_object_get_ex(params, "name", &v);
	*name = json_object_get_string(v);
	if (pool_vol_name_ok(*name, why, sizeof(why)) != 0)
		return rpc_fail(req, PVD_ERR_INVALID_PARAMS, NULL, "Invalid params: name: %s", why);
	return 0;
}

static int size_param(struct rpc_req *req, json_object *params, long long *mib)
{
	json_object *v = NULL;
	char why[200];

	json_object_object_get_ex(params, "size", &v);
	if (json_object_is_type(v, json_type_int))
		*mib = json_object_get_int64(v);
	else if (schema_parse_size(json_object_get_string(v), 1, mib, why, sizeof(why)) != 0)
		return rpc_fail(req, PVD_ERR_INVALID_PARAMS, NULL, "Invalid params: size: %s (MiB as an integer, or a "
				"string with a K/M/G/T suffix that is a whole number of MiB)", why);
	if (*mib < 1 || *mib > 16777216)
		return rpc_fail(req, PVD_ERR_INVALID_PARAMS, NULL, "Invalid params: size: %lld MiB is not from 1 MiB "
				"to 16 TiB", *mib);
	return 0;
}

static int pool_failed(struct rpc_req *req, const char *why)
{
	json_object *d = json_object_new_object();

	json_object_object_add(d, "cause", json_object_new_string(why));
	return rpc_fail(req, PVD_ERR_INTERNAL, d, "Internal error: %s", why);
}

/* The change's event-log row: 0, or -1 with InternalError sent (the
 * caller undoes the change or does not make it: nothing changed). */
static int record(struct rpc_req *req, const char *type, const char *name, long long size)
{
	struct store_event ev;
	char detail[300];

	snprintf(detail, sizeof(detail), "{\"name\":\"%s\",\"size_bytes\":%lld}", name, size);
	events_prepare(&ev, type, req->caller, NULL, detail);
	if (store_event_append(req->pvd->store, &ev) != 0) {
		json_object *d = json_object_new_object();
		json_object_object_add(d, "cause", json_object_new_string(store_error(req->pvd->store)));
		return rpc_fail(req, PVD_ERR_INTERNAL, d, "Internal error: nothing was changed: the event log: %s",
				store_error(req->pvd->store));
	}
	events_publish(req->pvd, &ev);
	log_notice("%s \"%s\" (%lld bytes) by %s", type, name, size, req->caller);
	return 0;
}

static json_object *vol_json(struct rpc_req *req, const struct pool_vol *v)
{
	json_object *o = json_object_new_object();
	char path[PATH_MAX + 160];
	struct vol_user u;

	json_object_object_add(o, "name", json_object_new_string(v->name));
	if (pool_vol_path(req->pvd, v->name, path, sizeof(path)) == 0)
		json_object_object_add(o, "path", json_object_new_string(path));
	json_object_object_add(o, "size_bytes", json_object_new_int64((int64_t)v->size));
	json_object_object_add(o, "allocated_bytes", json_object_new_int64((int64_t)v->allocated));
	if (vol_user(req, v->name, &u, path, sizeof(path)) == 0 && u.found) {
		json_object_object_add(o, "domain", json_object_new_string(u.domain));
		json_object_object_add(o, "disk", json_object_new_string(u.disk));
	} else {
		json_object_object_add(o, "domain", NULL);
		json_object_object_add(o, "disk", NULL);
	}
	return o;
}

struct list_ctx {
	struct rpc_req *req;
	json_object *a;
};

static int add_vol(void *arg, const struct pool_vol *v)
{
	struct list_ctx *c = arg;

	json_object_array_add(c->a, vol_json(c->req, v));
	return 0;
}

int method_vol_list(struct rpc_req *req, json_object *params, json_object **result)
{
	struct list_ctx c = { req, json_object_new_array() };
	char err[600];

	(void)params;
	if (pool_vol_list(req->pvd, add_vol, &c, err, sizeof(err)) < 0) {
		json_object_put(c.a);
		return pool_failed(req, err);
	}
	*result = c.a;
	return 0;
}

/* The volume's row after a change. */
static int vol_result(struct rpc_req *req, const char *name, json_object **result)
{
	struct pool_vol v = { .name = name };
	char path[PATH_MAX + 160];
	struct stat st;

	if (pool_vol_path(req->pvd, name, path, sizeof(path)) != 0 || stat(path, &st) != 0)
		return pool_failed(req, "the volume is gone");
	v.size = (uint64_t)st.st_size;
	v.allocated = (uint64_t)st.st_blocks * 512;
	*result = vol_json(req, &v);
	return 0;
}

int method_vol_create(struct rpc_req *req, json_object *params, json_object **result)
{
	const char *name;
	long long mib;
	char err[600];
	int rc;

	if (name_param(req, params, &name) != 0 || size_param(req, params, &mib) != 0)
		return -1;
	rc = pool_vol_create(req->pvd, name, (uint64_t)mib << 20, err, sizeof(err));
	if (rc == -EEXIST) {
		json_object *d = json_object_new_object();
		json_object_object_add(d, "name", json_object_new_string(name));
		return rpc_fail(req, PVD_ERR_ALREADY_EXISTS, d, "Already exists: the pool has a volume \"%s\"", name);
	}
	if (rc < 0)
		return pool_failed(req, err);
	if (record(req, "vol.created", name, mib << 20) != 0) {
		pool_vol_delete(req->pvd, name, err, sizeof(err));
		return -1;
	}
	return vol_result(req, name, result);
}

static int in_use(struct rpc_req *req, const struct vol_user *u, const char *name, const char *what)
{
	json_object *d = json_object_new_object();

	json_object_object_add(d, "domain", json_object_new_string(u->domain));
	json_object_object_add(d, "state", json_object_new_string(u->running ? "running" : "shut-off"));
	return rpc_fail(req, PVD_ERR_INVALID_STATE, d, "Invalid state: volume \"%s\" is disk \"%s\" of domain \"%s\"%s; "
			"%s", name, u->disk, u->domain, u->running ? ", which runs" : "", what);
}

int method_vol_delete(struct rpc_req *req, json_object *params, json_object **result)
{
	struct vol_user u;
	const char *name;
	char path[PATH_MAX + 160], err[600];
	struct stat st;
	int rc;

	if (name_param(req, params, &name) != 0 || vol_user(req, name, &u, path, sizeof(path)) != 0)
		return -1;
	if (u.found)
		return in_use(req, &u, name, "undefine the domain (--remove-storage) or change its config first");
	if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return rpc_fail(req, PVD_ERR_INVALID_PARAMS, NULL, "Invalid params: name: volume \"%s\": no such "
				"volume in the pool", name);
	if (record(req, "vol.deleted", name, (long long)st.st_size) != 0)
		return -1;
	rc = pool_vol_delete(req->pvd, name, err, sizeof(err));
	if (rc < 0)
		return pool_failed(req, err);
	*result = json_object_new_object();
	json_object_object_add(*result, "name", json_object_new_string(name));
	json_object_object_add(*result, "deleted", json_object_new_boolean(1));
	return 0;
}

int method_vol_resize(struct rpc_req *req, json_object *params, json_object **result)
{
	struct vol_user u;
	json_object *v;
	const char *name;
	char path[PATH_MAX + 160], err[600];
	long long mib;
	uint64_t old;
	int shrink = 0, rc;

	if (json_object_object_get_ex(params, "shrink", &v))
		shrink = json_object_get_boolean(v);
	if (name_param(req, params, &name) != 0 || size_param(req, params, &mib) != 0 ||
	    vol_user(req, name, &u, path, sizeof(path)) != 0)
		return -1;
	if (u.found)
		return in_use(req, &u, name, "change that disk's size in its config instead (the image grows at "
			      "the domain's next start)");
	rc = pool_vol_resize(req->pvd, name, (uint64_t)mib << 20, shrink, &old, err, sizeof(err));
	if (rc == -ENOENT || rc == -EINVAL)
		return rpc_fail(req, PVD_ERR_INVALID_PARAMS, NULL, "Invalid params: %s", err);
	if (rc < 0)
		return pool_failed(req, err);
	if (record(req, "vol.resized", name, mib << 20) != 0) {
		pool_vol_resize(req->pvd, name, old, 1, &old, err, sizeof(err));	/* back as it was */
		return -1;
	}
	return vol_result(req, name, result);
}
