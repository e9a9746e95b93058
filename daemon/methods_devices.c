/*
 * methods_devices.c - hot plug: domain.block_attach, domain.block_detach,
 * domain.net_attach, domain.net_detach, domain.net_limit (pvctl
 * block-attach, block-detach, net-attach, net-detach, net-limit).
 *
 * Each edits a defined domain's config (the change is persisted, as
 * `virsh attach-disk --live --config`) and, when the domain runs, its
 * devices in the backends (blk_host.c, net_host.c). The config change
 * goes first (method_domain_reconfigure: validated like a new config, one
 * store change with its event); a device the backend then refuses undoes
 * it. Device numbers are fixed in the config (disks' "device", vifs'
 * "devid") whenever a device is added or removed, so that no device is
 * renumbered under a running guest or at its next start.
 *
 * A detach asks the guest's frontend to close the device; the device goes
 * when it did (at once with force). Until then the detach is pending:
 * the config no longer has the device, and this file remembers it
 * (pending[], by domain UUID and domid) so that asking again tells
 * "detaching" (with the frontend's reason, if it gave one) or "detached".
 * The table is this process's: after a restart of pvd a pending detach
 * reads as done. Everything runs on the loop thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../api/pvd_api.h"
#include "../dom0/blkback.h"
#include "../dom0/netback.h"
#include "blk_host.h"
#include "config.h"
#include "hv.h"
#include "ids.h"
#include "log.h"
#include "methods.h"
#include "net_host.h"
#include "pvd.h"
#include "store.h"

#define MAX_PENDING 64

/* A detach the guest has not completed yet. */
struct pending {
	int used;
	int vif;		/* 0: a disk (name), 1: a vif (devid, mac) */
	char uuid[37];
	uint32_t domid;
	char name[40];
	char mac[18];
	int devid;		/* the disk's device index, or the vif's device number */
};

static struct pending pending[MAX_PENDING];

/* The running domain's domid, or -1 when it does not run (or is dying). */
static long live_domid(struct pvd *pvd, const char *uuid)
{
	struct hv_status st;

	if (hv_unavailable(pvd) || hv_status(pvd, uuid, &st) != 0 || !st.present || !strcmp(st.state, "dying") ||
	    !strcmp(st.state, "building"))
		return -1;
	return (long)st.domid;
}

/* Is the device of p gone from the backend? */
static int pending_done(struct pvd *pvd, const struct pending *p)
{
	return p->vif ? net_host_vif_state(pvd, p->domid, p->devid) == NETBACK_VIF_NONE
		      : blk_host_disk_state(pvd, p->domid, p->name, NULL, 0) == BLKBACK_DEV_NONE;
}

/* Drop pending detaches whose domain stopped (or whose device went, once
 * the table is full). One that completed stays until asked about once
 * (detach_progress), so that a caller waiting for it reads "detached". */
static void pending_expire(struct pvd *pvd)
{
	int used = 0;

	for (int i = 0; i < MAX_PENDING; i++) {
		struct pending *p = &pending[i];
		if (p->used && live_domid(pvd, p->uuid) != (long)p->domid)
			p->used = 0;
		used += p->used;
	}
	for (int i = 0; i < MAX_PENDING && used == MAX_PENDING; i++)
		if (pending_done(pvd, &pending[i]))
			pending[i].used = 0;
}

/* Forget uuid's completed detaches of one kind: a device attached now may
 * have the same name or MAC. */
static void pending_forget_done(struct pvd *pvd, const char *uuid, int vif)
{
	for (int i = 0; i < MAX_PENDING; i++)
		if (pending[i].used && pending[i].vif == vif && !strcmp(pending[i].uuid, uuid) &&
		    pending_done(pvd, &pending[i]))
			pending[i].used = 0;
}

static struct pending *pending_find(const char *uuid, int vif, const char *key)
{
	for (int i = 0; i < MAX_PENDING; i++) {
		struct pending *p = &pending[i];
		if (p->used && p->vif == vif && !strcmp(p->uuid, uuid) &&
		    !strcasecmp(vif ? p->mac : p->name, key))
			return p;
	}
	return NULL;
}

static void pending_add(const char *uuid, uint32_t domid, int vif, const char *name, const char *mac, int devid)
{
	for (int i = 0; i < MAX_PENDING; i++) {
		struct pending *p = &pending[i];
		if (p->used)
			continue;
		memset(p, 0, sizeof(*p));
		p->used = 1;
		p->vif = vif;
		snprintf(p->uuid, sizeof(p->uuid), "%s", uuid);
		p->domid = domid;
		snprintf(p->name, sizeof(p->name), "%s", name ? name : "");
		snprintf(p->mac, sizeof(p->mac), "%s", mac ? mac : "");
		p->devid = devid;
		return;
	}
	log_warn("hot plug: more than %d detaches pending; domain %s's is not followed", MAX_PENDING, uuid);
}

/* Device numbers still held by uuid's pending detaches of one kind (a bit each). */
static unsigned pending_used(struct pvd *pvd, const char *uuid, int vif)
{
	unsigned used = 0;

	for (int i = 0; i < MAX_PENDING; i++)
		if (pending[i].used && pending[i].vif == vif && !strcmp(pending[i].uuid, uuid) &&
		    !pending_done(pvd, &pending[i]))
			used |= 1u << pending[i].devid;
	return used;
}

/* d's config as a tree to edit, and as a struct (borrowing from *norm). */
static json_object *current_config(struct rpc_req *req, const struct store_domain *d, struct domain_config *cfg,
				   json_object **norm)
{
	json_object *copy = NULL;

	*norm = json_tokener_parse(d->normalized);
	if (!*norm || domain_config_read(*norm, cfg) != 0 || json_object_deep_copy(*norm, &copy, NULL) != 0) {
		json_object_put(*norm);
		*norm = NULL;
		rpc_fail(req, PVD_ERR_INTERNAL, NULL, "Internal error: domain \"%s\"'s stored config does not parse",
			 d->name);
		return NULL;
	}
	return copy;
}

/* The config's device array `key` ("disks", "vifs"), created when absent. */
static json_object *device_array(json_object *config, const char *key)
{
	json_object *a;

	if (!json_object_object_get_ex(config, key, &a)) {
		a = json_object_new_array();
		json_object_object_add(config, key, a);
	}
	return a;
}

/* Fix every device number in config as cfg (read from the same config) has them. */
static void pin_devices(json_object *config, const struct domain_config *cfg)
{
	json_object *disks = device_array(config, "disks"), *vifs = device_array(config, "vifs");
	char dev[8];

	for (int i = 0; i < cfg->ndisks; i++) {
		snprintf(dev, sizeof(dev), "xvd%c", 'a' + cfg->disks[i].index);
		json_object_object_add(json_object_array_get_idx(disks, (size_t)i), "device",
				       json_object_new_string(dev));
	}
	for (int i = 0; i < cfg->nvifs; i++)
		json_object_object_add(json_object_array_get_idx(vifs, (size_t)i), "devid",
				       json_object_new_int(cfg->vifs[i].devid));
}

static json_object *dom_data(const struct store_domain *d)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "domain", json_object_new_string(d->name));
	json_object_object_add(o, "uuid", json_object_new_string(d->uuid));
	return o;
}

/* The backend refused: -32006 naming the domain and the cause. */
static int backend_refused(struct rpc_req *req, const struct store_domain *d, const char *err)
{
	json_object *data = dom_data(d);

	json_object_object_add(data, "cause", json_object_new_string(err));
	return rpc_fail(req, PVD_ERR_HYPERVISOR, data, "Hypervisor error: domain \"%s\": %s", d->name, err);
}

static int bad_param(struct rpc_req *req, const struct store_domain *d, const char *fmt, const char *a,
		     const char *b)
{
	return rpc_fail(req, PVD_ERR_INVALID_PARAMS, dom_data(d), fmt, a, b);
}

/* The lowest device number free in config and pending detaches. */
static int free_device(unsigned used, int max)
{
	for (int k = 0; k < max; k++)
		if (!(used & (1u << k)))
			return k;
	return -1;
}

/* Store config as d's, then, when d runs, apply(arg) to its backends; a
 * refusal there puts the old config back. */
static int reconfigure_live(struct rpc_req *req, struct store_domain *d, json_object *config, json_object *old,
			    const char *type, const char *detail,
			    int (*apply)(struct rpc_req *req, struct store_domain *fresh, uint32_t domid, void *arg,
					 char *err, size_t errlen),
			    void *arg, json_object **result)
{
	struct store_domain fresh;
	char err[600];
	long domid = live_domid(req->pvd, d->uuid);
	int rc;

	if (method_domain_reconfigure(req, d, config, type, detail) != 0)
		return -1;
	if (store_domain_find(req->pvd->store, d->uuid, &fresh) != 0)
		return rpc_fail(req, PVD_ERR_INTERNAL, NULL, "Internal error: %s", store_error(req->pvd->store));
	if (domid >= 0 && apply(req, &fresh, (uint32_t)domid, arg, err, sizeof(err)) != 0) {
		log_warn("domain \"%s\": %s refused by the backend, config put back: %s", d->name, type, err);
		if (method_domain_reconfigure(req, &fresh, old, "domain.redefined",
					      "{\"reason\":\"the device was refused\"}") != 0)
			log_err("domain \"%s\": the config before %s could not be put back", d->name, type);
		store_domain_clear(&fresh);
		return backend_refused(req, d, err);
	}
	rc = method_domain_result(req, &fresh, result);
	store_domain_clear(&fresh);
	return rc;
}

/* ---- block devices ---- */

static int apply_disk(struct rpc_req *req, struct store_domain *fresh, uint32_t domid, void *arg, char *err,
		      size_t errlen)
{
	struct domain_config cfg;
	json_object *norm = json_tokener_parse(fresh->normalized);
	int rc = -1;

	if (norm && domain_config_read(norm, &cfg) == 0)
		rc = blk_host_attach(req->pvd, domid, fresh, &cfg, arg, err, errlen);
	else
		snprintf(err, errlen, "the stored config does not parse");
	json_object_put(norm);
	return rc;
}

int method_domain_block_attach(struct rpc_req *req, json_object *params, json_object **result)
{
	struct store_domain d;
	struct domain_config cfg;
	json_object *norm = NULL, *config, *old = NULL, *disk = NULL, *v;
	const char *name;
	unsigned used;
	char dev[8], detail[160];
	int rc = -1, index;

	json_object_object_get_ex(params, "disk", &disk);
	if (!json_object_object_get_ex(disk, "name", &v) || !json_object_is_type(v, json_type_string))
		return rpc_fail(req, PVD_ERR_INVALID_PARAMS, NULL, "Invalid params: disk: a disk needs a name "
				"(and a size), as in a config's disks");
	name = json_object_get_string(v);
	if (method_resolve(req, params, &d) != 0)
		return -1;
	pending_expire(req->pvd);
	config = current_config(req, &d, &cfg, &norm);
	if (!config)
		goto out;
	used = pending_used(req->pvd, d.uuid, 0);
	for (int i = 0; i < cfg.ndisks; i++) {
		if (!strcmp(cfg.disks[i].name, name)) {
			bad_param(req, &d, "Invalid params: disk: domain \"%s\" has a disk named \"%s\" already", d.name,
				  name);
			goto out;
		}
		used |= 1u << cfg.disks[i].index;
	}
	pending_forget_done(req->pvd, d.uuid, 0);
	if (pending_find(d.uuid, 0, name)) {
		bad_param(req, &d, "Invalid params: disk: domain \"%s\"'s disk \"%s\" is still being detached "
			  "(its guest has not closed it)", d.name, name);
		goto out;
	}
	if (json_object_object_get_ex(disk, "device", &v)) {
		const char *want = json_object_get_string(v);
		index = strlen(want) == 4 && !strncmp(want, "xvd", 3) ? want[3] - 'a' : -1;
		if (index >= 0 && index < CONFIG_MAX_DISKS && (used & (1u << index))) {
			bad_param(req, &d, "Invalid params: disk: device %s of domain \"%s\" is taken", want, d.name);
			goto out;
		}	/* anything else the schema names */
	} else {
		index = free_device(used, CONFIG_MAX_DISKS);
		if (index < 0) {
			bad_param(req, &d, "Invalid params: disk: domain \"%s\" has %s disks, the most it may have",
				  d.name, "16");
			goto out;
		}
		snprintf(dev, sizeof(dev), "xvd%c", 'a' + index);
		json_object_object_add(disk, "device", json_object_new_string(dev));
	}
	pin_devices(config, &cfg);
	json_object_deep_copy(config, &old, NULL);
	json_object_array_add(device_array(config, "disks"), json_object_get(disk));
	snprintf(detail, sizeof(detail), "{\"disk\":\"%s\"}", name);
	rc = reconfigure_live(req, &d, config, old, "domain.block_attached", detail, apply_disk, (void *)name,
			      result);
out:
	json_object_put(config);
	json_object_put(old);
	json_object_put(norm);
	store_domain_clear(&d);
	return rc;
}

/* The result of a detach: where the device is. */
static json_object *detach_result(const struct store_domain *d, const char *kind, const char *id,
				  int pending_now, const char *why)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "uuid", json_object_new_string(d->uuid));
	json_object_object_add(o, "name", json_object_new_string(d->name));
	json_object_object_add(o, kind, json_object_new_string(id));
	json_object_object_add(o, "state", json_object_new_string(pending_now ? "detaching" : "detached"));
	if (pending_now)
		json_object_object_add(o, "reason", json_object_new_string(why && why[0] ? why :
					"the guest has not closed the device yet"));
	return o;
}

/* Whether domain domid's device (a vif by devid, a disk by name) is still
 * with its backend; why says what a disk waits for. */
static int device_live(struct pvd *pvd, uint32_t domid, int vif, const char *name, int devid, char *why,
		       size_t whylen)
{
	return vif ? net_host_vif_state(pvd, domid, devid) != NETBACK_VIF_NONE
		   : blk_host_disk_state(pvd, domid, name, why, whylen) != BLKBACK_DEV_NONE;
}

/* Ask the backend to let the device go: 0 gone, 1 the guest has to close
 * it first, -1 refused (err). */
static int device_let_go(struct pvd *pvd, uint32_t domid, int vif, const char *name, int devid, int force,
			 char *err, size_t errlen)
{
	return vif ? net_host_detach(pvd, domid, devid, force, err, errlen)
		   : blk_host_detach(pvd, domid, name, force, err, errlen);
}

/* A detach named again while the guest has not finished it: how far it got. */
static int detach_progress(struct rpc_req *req, const struct store_domain *d, struct pending *p, int force,
			   json_object **result)
{
	char why[300] = "", err[300];
	int state;

	if (force && device_let_go(req->pvd, p->domid, p->vif, p->name, p->devid, 1, err, sizeof(err)) < 0)
		log_warn("domain \"%s\": forced detach: %s", d->name, err);
	state = device_live(req->pvd, p->domid, p->vif, p->name, p->devid, why, sizeof(why));
	*result = detach_result(d, p->vif ? "mac" : "disk", p->vif ? p->mac : p->name, state, why);
	if (!state)
		p->used = 0;
	return 0;
}

static int vif_by_mac(struct rpc_req *req, const struct store_domain *d, const char *mac);
static int vif_index(const struct domain_config *cfg, int devid);

/* domain.block_detach (vif 0: the disk "name") and domain.net_detach (vif 1:
 * the vif "mac"): out of the config, and out of the running domain (at
 * once, or "detaching" until its guest closes the device). */
static int device_detach(struct rpc_req *req, json_object *params, json_object **result, int vif)
{
	struct store_domain d;
	struct domain_config cfg;
	json_object *norm = NULL, *config = NULL, *v;
	struct pending *p;
	const char *name = "", *key;
	char mac[18] = "", err[600], why[300] = "", detail[160];
	int rc = -1, force = 0, at = -1, devid = -1, state = 0;
	long domid;

	if (json_object_object_get_ex(params, vif ? "mac" : "name", &v)) {
		if (vif)
			ids_mac_normalize(json_object_get_string(v), mac);
		else
			name = json_object_get_string(v);
	}
	key = vif ? mac : name;
	if (json_object_object_get_ex(params, "force", &v))
		force = json_object_get_boolean(v);
	if (method_resolve(req, params, &d) != 0)
		return -1;
	pending_expire(req->pvd);
	p = pending_find(d.uuid, vif, key);
	if (p) {
		rc = detach_progress(req, &d, p, force, result);
		goto out;
	}
	config = current_config(req, &d, &cfg, &norm);
	if (!config)
		goto out;
	if (vif) {
		devid = vif_by_mac(req, &d, mac);
		at = devid >= 0 ? vif_index(&cfg, devid) : -1;
	} else {
		for (int i = 0; i < cfg.ndisks; i++)
			if (!strcmp(cfg.disks[i].name, name))
				at = i;
		devid = at >= 0 ? cfg.disks[at].index : -1;
	}
	if (at < 0) {
		bad_param(req, &d, vif ? "Invalid params: mac: domain \"%s\" has no vif with MAC %s"
				       : "Invalid params: name: domain \"%s\" has no disk named \"%s\"", d.name, key);
		goto out;
	}
	domid = live_domid(req->pvd, d.uuid);
	if (domid >= 0 && device_live(req->pvd, (uint32_t)domid, vif, name, devid, NULL, 0)) {
		state = device_let_go(req->pvd, (uint32_t)domid, vif, name, devid, force, err, sizeof(err));
		if (state < 0) {
			backend_refused(req, &d, err);
			goto out;
		}
		if (state == 1) {
			pending_add(d.uuid, (uint32_t)domid, vif, vif ? NULL : name, vif ? mac : NULL, devid);
			device_live(req->pvd, (uint32_t)domid, vif, name, devid, why, sizeof(why));
		}
	}
	pin_devices(config, &cfg);
	json_object_array_del_idx(device_array(config, vif ? "vifs" : "disks"), (size_t)at, 1);
	snprintf(detail, sizeof(detail), "{\"%s\":\"%s\",\"live\":%s}", vif ? "mac" : "disk", key,
		 domid >= 0 ? "true" : "false");
	if (method_domain_reconfigure(req, &d, config, vif ? "domain.net_detached" : "domain.block_detached",
				      detail) != 0)
		goto out;
	*result = detach_result(&d, vif ? "mac" : "disk", key, state == 1, why);
	rc = 0;
out:
	json_object_put(config);
	json_object_put(norm);
	store_domain_clear(&d);
	return rc;
}

int method_domain_block_detach(struct rpc_req *req, json_object *params, json_object **result)
{
	return device_detach(req, params, result, 0);
}

/* ---- network interfaces ---- */

struct mac_lookup {
	char mac[18];
	int devid;
};

static int find_mac(void *arg, const struct store_iface *f)
{
	struct mac_lookup *m = arg;

	if (!strcasecmp(f->mac, m->mac))
		m->devid = f->idx;
	return 0;
}

/* The device number of d's vif with MAC mac (stored MACs), -1 if none. */
static int vif_by_mac(struct rpc_req *req, const struct store_domain *d, const char *mac)
{
	struct mac_lookup m = { .devid = -1 };

	snprintf(m.mac, sizeof(m.mac), "%s", mac);
	if (store_ifaces(req->pvd->store, d->uuid, find_mac, &m) != 0)
		return -1;
	return m.devid;
}

static int apply_vif(struct rpc_req *req, struct store_domain *fresh, uint32_t domid, void *arg, char *err,
		     size_t errlen)
{
	return net_host_attach(req->pvd, domid, fresh->uuid, *(int *)arg, err, errlen);
}

int method_domain_net_attach(struct rpc_req *req, json_object *params, json_object **result)
{
	struct store_domain d;
	struct domain_config cfg;
	json_object *norm = NULL, *config, *old = NULL, *vif = NULL, *v;
	unsigned used;
	char detail[64];
	int rc = -1, devid;

	json_object_object_get_ex(params, "vif", &vif);
	if (!json_object_is_type(vif, json_type_object))
		return rpc_fail(req, PVD_ERR_INVALID_PARAMS, NULL, "Invalid params: vif: an object, as in a "
				"config's vifs");
	if (method_resolve(req, params, &d) != 0)
		return -1;
	pending_expire(req->pvd);
	config = current_config(req, &d, &cfg, &norm);
	if (!config)
		goto out;
	pending_forget_done(req->pvd, d.uuid, 1);
	used = pending_used(req->pvd, d.uuid, 1);
	for (int i = 0; i < cfg.nvifs; i++)
		used |= 1u << cfg.vifs[i].devid;
	if (json_object_object_get_ex(vif, "devid", &v)) {
		devid = json_object_get_int(v);
		if (json_object_is_type(v, json_type_int) && devid >= 0 && devid < CONFIG_MAX_VIFS &&
		    (used & (1u << devid))) {
			char n[16];
			snprintf(n, sizeof(n), "%d", devid);
			bad_param(req, &d, "Invalid params: vif: device number %s of domain \"%s\" is taken", n,
				  d.name);
			goto out;
		}	/* anything else the schema names */
	} else {
		devid = free_device(used, CONFIG_MAX_VIFS);
		if (devid < 0) {
			bad_param(req, &d, "Invalid params: vif: domain \"%s\" has %s vifs, the most it may have",
				  d.name, "8");
			goto out;
		}
		json_object_object_add(vif, "devid", json_object_new_int(devid));
	}
	pin_devices(config, &cfg);
	json_object_deep_copy(config, &old, NULL);
	json_object_array_add(device_array(config, "vifs"), json_object_get(vif));
	snprintf(detail, sizeof(detail), "{\"devid\":%d}", devid);
	rc = reconfigure_live(req, &d, config, old, "domain.net_attached", detail, apply_vif, &devid, result);
out:
	json_object_put(config);
	json_object_put(old);
	json_object_put(norm);
	store_domain_clear(&d);
	return rc;
}

/* d's config vif with device number devid: its index in cfg, or -1. */
static int vif_index(const struct domain_config *cfg, int devid)
{
	for (int i = 0; i < cfg->nvifs; i++)
		if (cfg->vifs[i].devid == devid)
			return i;
	return -1;
}

int method_domain_net_detach(struct rpc_req *req, json_object *params, json_object **result)
{
	return device_detach(req, params, result, 1);
}

static int apply_rate(struct rpc_req *req, struct store_domain *fresh, uint32_t domid, void *arg, char *err,
		      size_t errlen)
{
	struct domain_config cfg;
	json_object *norm = json_tokener_parse(fresh->normalized);
	int devid = *(int *)arg, at, rc = -1;

	if (norm && domain_config_read(norm, &cfg) == 0 && (at = vif_index(&cfg, devid)) >= 0)
		rc = net_host_set_rate(req->pvd, domid, devid, (uint64_t)cfg.vifs[at].rate,
				       (uint64_t)cfg.vifs[at].burst, err, errlen);
	else
		snprintf(err, errlen, "the stored config lost vif %d", devid);
	json_object_put(norm);
	return rc == -ENOENT ? 0 : rc < 0 ? -1 : 0;	/* a vif not served now gets it when it is */
}

int method_domain_net_limit(struct rpc_req *req, json_object *params, json_object **result)
{
	struct store_domain d;
	struct domain_config cfg;
	json_object *norm = NULL, *config, *old = NULL, *v, *entry;
	char mac[18] = "", detail[96];
	int rc = -1, at, devid;

	if (json_object_object_get_ex(params, "mac", &v))
		ids_mac_normalize(json_object_get_string(v), mac);
	if (method_resolve(req, params, &d) != 0)
		return -1;
	config = current_config(req, &d, &cfg, &norm);
	if (!config)
		goto out;
	devid = vif_by_mac(req, &d, mac);
	at = devid >= 0 ? vif_index(&cfg, devid) : -1;
	if (at < 0) {
		bad_param(req, &d, "Invalid params: mac: domain \"%s\" has no vif with MAC %s", d.name, mac);
		goto out;
	}
	json_object_deep_copy(config, &old, NULL);
	entry = json_object_array_get_idx(device_array(config, "vifs"), (size_t)at);
	if (json_object_object_get_ex(params, "rate", &v))
		json_object_object_add(entry, "rate", json_object_get(v));
	if (json_object_object_get_ex(params, "burst", &v))
		json_object_object_add(entry, "burst", json_object_get(v));
	snprintf(detail, sizeof(detail), "{\"mac\":\"%s\"}", mac);
	rc = reconfigure_live(req, &d, config, old, "domain.net_limit", detail, apply_rate, &devid, result);
out:
	json_object_put(config);
	json_object_put(old);
	json_object_put(norm);
	store_domain_clear(&d);
	return rc;
}
