/*
 * methods_disk.c - the disk methods: domain.set_disk_quota,
 * domain.set_disk_limit, and the disks of domain.info.
 *
 * A change is checked by validating the domain's whole config with it
 * (the schema's rules: a disk's quota within its size, ranges), stored
 * (method_domain_reconfigure: the config, now its normalized JSON, and
 * the event-log row in one transaction), and then, when the domain runs, applied to its disks in
 * blkback at once: a raised quota lets the guest's next write in. Nothing
 * is changed when a check or the store fails.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../api/pvd_api.h"
#include "../dom0/blkback.h"
#include "blk_host.h"
#include "config.h"
#include "log.h"
#include "methods.h"
#include "pool.h"
#include "pvd.h"
#include "schema.h"
#include "store.h"

/* ---- domain.info's disks ---- */

static json_object *disk_stats(const struct blkback_stats *s)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "reads", json_object_new_int64((int64_t)s->reads));
	json_object_object_add(o, "writes", json_object_new_int64((int64_t)s->writes));
	json_object_object_add(o, "flushes", json_object_new_int64((int64_t)s->flushes));
	json_object_object_add(o, "discards", json_object_new_int64((int64_t)s->discards));
	json_object_object_add(o, "errors", json_object_new_int64((int64_t)s->errors));
	json_object_object_add(o, "bytes_read", json_object_new_int64((int64_t)s->bytes_read));
	json_object_object_add(o, "bytes_written", json_object_new_int64((int64_t)s->bytes_written));
	json_object_object_add(o, "quota_refusals", json_object_new_int64((int64_t)s->quota_refusals));
	json_object_object_add(o, "throttled", json_object_new_int64((int64_t)s->throttled));
	json_object_object_add(o, "mapped_requests", json_object_new_int64((int64_t)s->mapped_requests));
	json_object_object_add(o, "map_calls", json_object_new_int64((int64_t)s->map_calls));
	json_object_object_add(o, "unmap_calls", json_object_new_int64((int64_t)s->unmap_calls));
	json_object_object_add(o, "grants_mapped", json_object_new_int64((int64_t)s->grants_mapped));
	json_object_object_add(o, "in_flight", json_object_new_int64(s->in_flight));
	json_object_object_add(o, "connected", json_object_new_boolean(s->connected));
	json_object_object_add(o, "shut", json_object_new_boolean(s->shut));
	return o;
}

json_object *method_disks_json(struct pvd *pvd, const struct store_domain *d, const struct domain_config *cfg,
			       uint64_t *domain_allocated)
{
	json_object *a = json_object_new_array();

	*domain_allocated = 0;
	for (int i = 0; i < cfg->ndisks; i++) {
		const struct disk_config *dc = &cfg->disks[i];
		json_object *o = json_object_new_object();
		struct blkback_stats bs;
		char image[PATH_MAX + 64];
		struct stat st;

		json_object_object_add(o, "name", json_object_new_string(dc->name));
		json_object_object_add(o, "device", json_object_new_string((char[]){ 'x', 'v', 'd',
									   (char)('a' + (dc->index & 15)), 0 }));
		json_object_object_add(o, "size_mib", json_object_new_int64(dc->size_mib));
		json_object_object_add(o, "path", dc->path ? json_object_new_string(dc->path) : NULL);
		json_object_object_add(o, "readonly", json_object_new_boolean(dc->readonly));
		json_object_object_add(o, "quota_mib", json_object_new_int64(dc->quota_mib));
		json_object_object_add(o, "iops", json_object_new_int64(dc->iops));
		json_object_object_add(o, "bps", json_object_new_int64(dc->bps));
		json_object_object_add(o, "burst", json_object_new_int64(dc->burst));
		/* the image and the bytes it has allocated on the host (what a quota counts) */
		if (pool_image_path(pvd, d->uuid, d->base_dir, dc, image, sizeof(image)) == 0) {
			int have = stat(image, &st) == 0;
			json_object_object_add(o, "image", json_object_new_string(image));
			json_object_object_add(o, "allocated_bytes", have ?
						json_object_new_int64((int64_t)st.st_blocks * 512) : NULL);
			if (have && !dc->readonly)
				*domain_allocated += (uint64_t)st.st_blocks * 512;
		}
		if (blk_host_stats(pvd, d->uuid, dc->name, &bs) == 0)
			json_object_object_add(o, "stats", disk_stats(&bs));
		json_object_array_add(a, o);
	}
	return a;
}

/* ---- changing a disk's settings ---- */

static int store_failed(struct rpc_req *req)
{
	json_object *d = json_object_new_object();

	json_object_object_add(d, "cause", json_object_new_string(store_error(req->pvd->store)));
	return rpc_fail(req, PVD_ERR_INTERNAL, d, "Internal error: nothing was changed: %s",
			store_error(req->pvd->store));
}

/* The disk named params.disk in the normalized tree, or an error sent. */
static json_object *disk_node(struct rpc_req *req, json_object *norm, const char *domain, const char *name,
			      int *index)
{
	json_object *disks;

	if (json_object_object_get_ex(norm, "disks", &disks))
		for (size_t i = 0; i < json_object_array_length(disks); i++) {
			json_object *d = json_object_array_get_idx(disks, i), *n;
			if (json_object_object_get_ex(d, "name", &n) && !strcmp(json_object_get_string(n), name)) {
				*index = (int)i;
				return d;
			}
		}
	rpc_fail(req, PVD_ERR_INVALID_PARAMS, NULL, "Invalid params: disk: domain \"%s\" has no disk \"%s\"",
		 domain, name);
	return NULL;
}

/* A size parameter, in MiB (unit_mib) or bytes: an integer or a string
 * with a K/M/G/T suffix ("16M"); 0 or an error sent. */
static int size_param(struct rpc_req *req, json_object *v, const char *key, int unit_mib, long long *out)
{
	char why[200];

	if (json_object_is_type(v, json_type_int)) {
		*out = json_object_get_int64(v);
		return 0;
	}
	if (schema_parse_size(json_object_get_string(v), unit_mib, out, why, sizeof(why)) != 0)
		return rpc_fail(req, PVD_ERR_INVALID_PARAMS, NULL, "Invalid params: %s: %s (%s as an integer, or a "
				"string with a K/M/G/T suffix%s)", key, why, unit_mib ? "MiB" : "bytes",
				unit_mib ? " that is a whole number of MiB" : "");
	return 0;
}

static int mib_param(struct rpc_req *req, json_object *v, const char *key, long long *mib)
{
	return size_param(req, v, key, 1, mib);
}

static int bytes_param(struct rpc_req *req, json_object *v, const char *key, long long *n)
{
	return size_param(req, v, key, 0, n);
}

/* domain.info's answer for d as now stored. */
static int result_again(struct rpc_req *req, struct store_domain *d, json_object **result)
{
	char uuid[37];

	memcpy(uuid, d->uuid, sizeof(uuid));
	store_domain_clear(d);
	if (store_domain_find(req->pvd->store, uuid, d) != 0)
		return store_failed(req);
	return method_domain_result(req, d, result);
}

/* A live change that blkback did not take: logged (the stored config
 * applies at the next start). */
static void applied(struct rpc_req *req, const struct store_domain *d, const char *what, int rc)
{
	if (rc == 0)
		log_notice("domain \"%s\" (%s): %s by %s, in force now", d->name, d->uuid, what, req->caller);
	else
		log_notice("domain \"%s\" (%s): %s by %s, from its next start", d->name, d->uuid, what, req->caller);
}

int method_domain_set_disk_quota(struct rpc_req *req, json_object *params, json_object **result)
{
	struct store_domain d;
	json_object *v = NULL, *norm = NULL, *node = NULL;
	const char *disk = NULL;
	long long mib;
	char detail[200], what[160];
	int index = -1, rc = -1;

	json_object_object_get_ex(params, "quota", &v);
	if (mib_param(req, v, "quota", &mib) != 0)
		return -1;
	if (json_object_object_get_ex(params, "disk", &v))
		disk = json_object_get_string(v);
	if (method_resolve(req, params, &d) != 0)
		return -1;
	norm = json_tokener_parse(d.normalized);
	if (!norm) {
		rpc_fail(req, PVD_ERR_INTERNAL, NULL, "Internal error: stored config of \"%s\" does not parse", d.name);
		goto out;
	}
	if (disk) {
		if (!(node = disk_node(req, norm, d.name, disk, &index)))
			goto out;
		json_object_object_add(node, "quota", json_object_new_int64(mib));
		snprintf(detail, sizeof(detail), "{\"disk\":\"%s\",\"quota_mib\":%lld}", disk, mib);
		snprintf(what, sizeof(what), "disk \"%s\" quota set to %lld MiB", disk, mib);
	} else {
		json_object_object_add(norm, "disk_quota", json_object_new_int64(mib));
		snprintf(detail, sizeof(detail), "{\"disk_quota_mib\":%lld}", mib);
		snprintf(what, sizeof(what), "disk_quota set to %lld MiB", mib);
	}
	if (method_domain_reconfigure(req, &d, norm, "domain.disk_quota", detail) != 0)
		goto out;
	applied(req, &d, what, blk_host_set_quota(req->pvd, d.uuid, disk, (uint64_t)mib << 20));
	rc = result_again(req, &d, result);
out:
	json_object_put(norm);
	store_domain_clear(&d);
	return rc;
}

int method_domain_set_disk_limit(struct rpc_req *req, json_object *params, json_object **result)
{
	struct store_domain d;
	json_object *v = NULL, *norm = NULL, *node, *cur;
	const char *disk;
	long long bps = -1, iops = -1, burst = -1;
	char detail[200], what[200];
	int index, rc = -1;

	json_object_object_get_ex(params, "disk", &v);
	disk = json_object_get_string(v);
	if (json_object_object_get_ex(params, "bps", &v) && bytes_param(req, v, "bps", &bps) != 0)
		return -1;
	if (json_object_object_get_ex(params, "burst", &v) && bytes_param(req, v, "burst", &burst) != 0)
		return -1;
	if (json_object_object_get_ex(params, "iops", &v))
		iops = json_object_get_int64(v);
	if (bps < 0 && iops < 0 && burst < 0)
		return rpc_fail(req, PVD_ERR_INVALID_PARAMS, NULL, "Invalid params: give bps, iops or burst");
	if (method_resolve(req, params, &d) != 0)
		return -1;
	norm = json_tokener_parse(d.normalized);
	if (!norm) {
		rpc_fail(req, PVD_ERR_INTERNAL, NULL, "Internal error: stored config of \"%s\" does not parse", d.name);
		goto out;
	}
	if (!(node = disk_node(req, norm, d.name, disk, &index)))
		goto out;
	if (bps >= 0)
		json_object_object_add(node, "bps", json_object_new_int64(bps));
	if (iops >= 0)
		json_object_object_add(node, "iops", json_object_new_int64(iops));
	if (burst >= 0)
		json_object_object_add(node, "burst", json_object_new_int64(burst));
	bps = json_object_object_get_ex(node, "bps", &cur) ? json_object_get_int64(cur) : 0;
	iops = json_object_object_get_ex(node, "iops", &cur) ? json_object_get_int64(cur) : 0;
	burst = json_object_object_get_ex(node, "burst", &cur) ? json_object_get_int64(cur) : 0;
	snprintf(detail, sizeof(detail), "{\"disk\":\"%s\",\"bps\":%lld,\"iops\":%lld,\"burst\":%lld}", disk, bps, iops,
		 burst);
	snprintf(what, sizeof(what), "disk \"%s\" limits set to bps %lld, iops %lld, burst %lld", disk, bps, iops,
		 burst);
	if (method_domain_reconfigure(req, &d, norm, "domain.disk_limit", detail) != 0)
		goto out;
	applied(req, &d, what, blk_host_set_limits(req->pvd, d.uuid, disk, (uint64_t)bps, (uint64_t)iops,
						   (uint64_t)burst));
	rc = result_again(req, &d, result);
out:
	json_object_put(norm);
	store_domain_clear(&d);
	return rc;
}
