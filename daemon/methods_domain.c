/*
 * methods_domain.c - the domain.* methods and config.validate.
 *
 * Each handler: resolve and check everything (config, name, quota, MACs,
 * state), then make one store change (one transaction with its event-log
 * entry), then log it with the caller's identity and publish the event.
 * Nothing is changed when any check fails.
 *
 * A domain reference (DOM) is a UUID, a name, or a domid (of a running
 * domain). State, domid, memory, vCPUs and CPU time come from the
 * hypervisor (hv.c) while the domain exists there; otherwise the state is
 * "shut-off" and the figures are the config's.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../api/pvd_api.h"
#include "../dom0/netback.h"
#include "config.h"
#include "domain_cache.h"
#include "hv.h"
#include "image_dir.h"
#include "ids.h"
#include "log.h"
#include "net_host.h"
#include "methods.h"
#include "pool.h"
#include "pvd.h"
#include "rpc.h"
#include "store.h"

#define MAC_ATTEMPTS 64

/* ---- config params (define and validate) ---- */

json_object *method_report_data(const struct schema_report *rep)
{
	json_object *d = json_object_new_object(), *errs = json_object_new_array();

	for (int i = 0; i < rep->count && i < SCHEMA_MAX_ISSUES; i++) {
		json_object *e = json_object_new_object();
		json_object_object_add(e, "path", json_object_new_string(rep->issue[i].path));
		json_object_object_add(e, "message", json_object_new_string(rep->issue[i].message));
		json_object_array_add(errs, e);
	}
	json_object_object_add(d, "errors", errs);
	json_object_object_add(d, "count", json_object_new_int(rep->count));
	return d;
}

/* Validate params.config; *text gets the config as submitted (malloc'd). */
static json_object *config_from_params(struct rpc_req *req, json_object *params, enum config_format *fmt,
				       char **text)
{
	json_object *cfg = NULL, *f, *norm;
	struct schema_report rep;
	const char *t;
	size_t len;

	json_object_object_get_ex(params, "config", &cfg);
	if (json_object_is_type(cfg, json_type_object)) {
		t = json_object_to_json_string_ext(cfg, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
		*fmt = CONFIG_JSON;
	} else {
		t = json_object_get_string(cfg);
		*fmt = config_detect_format(t, strlen(t));
	}
	len = strlen(t);
	if (json_object_object_get_ex(params, "format", &f)) {
		config_format_parse(json_object_get_string(f), fmt);
		if (*fmt == CONFIG_XML && json_object_is_type(cfg, json_type_object)) {
			rpc_fail(req, PVD_ERR_INVALID_PARAMS, NULL,
				 "Invalid params: format is xml but config is a JSON object");
			return NULL;
		}
	}
	if (json_object_is_type(cfg, json_type_object))
		norm = config_check_object(req->pvd->checker, cfg, &rep);
	else
		norm = config_check_text(req->pvd->checker, t, len, *fmt, &rep);
	if (!norm) {
		rpc_fail(req, PVD_ERR_INVALID_PARAMS, method_report_data(&rep), "Invalid params: %s config: %s: %s%s",
			 config_format_name(*fmt), rep.issue[0].path, rep.issue[0].message,
			 rep.count > 1 ? " (and more, see data.errors)" : "");
		return NULL;
	}
	*text = strdup(t);
	if (!*text) {
		json_object_put(norm);
		rpc_fail(req, PVD_ERR_INTERNAL, NULL, "Internal error: out of memory");
		return NULL;
	}
	return norm;
}

/* With base_dir: the config's kernel and ramdisk, opened as a start opens
 * them (image_open). 0, or -32602 naming the field. */
static int check_files(struct rpc_req *req, json_object *params, json_object *norm)
{
	static const char *const keys[] = { "kernel", "ramdisk" };
	json_object *v, *f;
	char err[600];

	if (!json_object_object_get_ex(params, "base_dir", &v) || !json_object_get_string(v)[0])
		return 0;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		int fd;
		if (!json_object_object_get_ex(norm, keys[i], &f))
			continue;
		fd = image_open(&req->pvd->images, keys[i], json_object_get_string(v), json_object_get_string(f), err,
				sizeof(err));
		if (fd >= 0) {
			close(fd);
			continue;
		}
		json_object *data = json_object_new_object(), *errs = json_object_new_array(), *e = json_object_new_object();
		char path[16];
		snprintf(path, sizeof(path), "/%s", keys[i]);
		json_object_object_add(e, "path", json_object_new_string(path));
		json_object_object_add(e, "message", json_object_new_string(err));
		json_object_array_add(errs, e);
		json_object_object_add(data, "errors", errs);
		json_object_object_add(data, "count", json_object_new_int(1));
		return rpc_fail(req, PVD_ERR_INVALID_PARAMS, data, "Invalid params: configuration error: %s: %s", path, err);
	}
	return 0;
}

int method_config_validate(struct rpc_req *req, json_object *params, json_object **result)
{
	enum config_format fmt;
	char *text = NULL;
	json_object *norm = config_from_params(req, params, &fmt, &text);

	if (!norm)
		return -1;
	free(text);
	if (check_files(req, params, norm) != 0) {
		json_object_put(norm);
		return -1;
	}
	*result = norm;
	return 0;
}

/* ---- domain references and views ---- */

static int is_domid(json_object *ref)
{
	const char *s;

	if (json_object_is_type(ref, json_type_int))
		return 1;
	s = json_object_get_string(ref);
	return s[0] && strspn(s, "0123456789") == strlen(s);
}

/*
 * The name or UUID to look params.domain up by (a domid becomes its running
 * domain's UUID, copied into uuid). NULL with -32001 recorded when no
 * running domain has the domid; *data is what a not-found error carries.
 */
static const char *reference_of(struct rpc_req *req, json_object *params, char uuid[37], json_object **data)
{
	json_object *ref = NULL;
	const char *r;

	json_object_object_get_ex(params, "domain", &ref);
	r = json_object_get_string(ref);
	*data = json_object_new_object();
	json_object_object_add(*data, "domain", json_object_get(ref));
	if (is_domid(ref)) {
		long long id = strtoll(r, NULL, 10);
		if (id < 0 || id > 65535 || hv_uuid_of_domid(req->pvd, (uint32_t)id, uuid) != 0) {
			rpc_fail(req, PVD_ERR_NO_SUCH_DOMAIN, *data, "No such domain: no running domain has domid %s "
				 "(a defined domain gets a domid when it starts)", r);
			*data = NULL;
			return NULL;
		}
		r = uuid;
	}
	return r;
}

static int no_such_domain(struct rpc_req *req, json_object *data, const char *r)
{
	return rpc_fail(req, PVD_ERR_NO_SUCH_DOMAIN, data, "No such domain: no domain has the name or UUID \"%s\"", r);
}

int method_resolve(struct rpc_req *req, json_object *params, struct store_domain *d)
{
	json_object *data;
	char uuid[37];
	const char *r = reference_of(req, params, uuid, &data);
	int rc;

	if (!r)
		return -1;
	rc = store_domain_find(req->pvd->store, r, d);
	if (rc == 0) {
		json_object_put(data);
		return 0;
	}
	if (rc == 1)
		return no_such_domain(req, data, r);
	json_object_put(data);
	return rpc_fail(req, PVD_ERR_INTERNAL, NULL, "Internal error: %s", store_error(req->pvd->store));
}

/* The domain cache brought up to date; -1 with -32603 recorded. */
static int cache_sync(struct rpc_req *req)
{
	if (domain_cache_sync(req->pvd->domains, req->pvd->store) == 0)
		return 0;
	return rpc_fail(req, PVD_ERR_INTERNAL, NULL, "Internal error: %s", store_error(req->pvd->store));
}

/* As method_resolve, from the domain cache (valid until its next sync). */
static struct domain_entry *resolve_cached(struct rpc_req *req, json_object *params)
{
	struct domain_entry *e;
	json_object *data;
	char uuid[37];
	const char *r = reference_of(req, params, uuid, &data);

	if (!r || cache_sync(req) != 0) {
		json_object_put(data);
		return NULL;
	}
	e = domain_cache_find(req->pvd->domains, r);
	if (!e) {
		no_such_domain(req, data, r);
		return NULL;
	}
	json_object_put(data);
	return e;
}

/* The fields domain.list shows, with st the hypervisor's view of d; info
 * adds to them. */
static json_object *summary_of(struct pvd *pvd, const struct store_domain *d, const struct domain_config *cfg,
			       const struct hv_status *st)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "uuid", json_object_new_string(d->uuid));
	json_object_object_add(o, "name", json_object_new_string(d->name));
	json_object_object_add(o, "domid", st->present ? json_object_new_int64(st->domid) : NULL);
	json_object_object_add(o, "state", json_object_new_string(st->state));
	json_object_object_add(o, "desired_state", json_object_new_string(d->desired_state));
	json_object_object_add(o, "autostart", json_object_new_boolean(d->autostart));
	json_object_object_add(o, "transient", json_object_new_boolean(d->transient));
	json_object_object_add(o, "managed", json_object_new_boolean(1));
	if (st->present) {
		json_object_object_add(o, "memory_mib", json_object_new_int64((int64_t)(st->mem_kib / 1024)));
		json_object_object_add(o, "maxmem_mib", json_object_new_int64((int64_t)(st->maxmem_kib / 1024)));
		uint64_t target_kib;
		if (hv_get_target(pvd, d->uuid, &target_kib) == 0)
			json_object_object_add(o, "target_mib", json_object_new_int64((int64_t)(target_kib / 1024)));
		json_object_object_add(o, "vcpus", json_object_new_int((int)st->vcpus));
		json_object_object_add(o, "cpu_time_ns", json_object_new_int64((int64_t)st->cpu_time_ns));
	} else {
		json_object_object_add(o, "memory_mib", json_object_new_int64(cfg->memory_mib));
		json_object_object_add(o, "maxmem_mib", json_object_new_int64(cfg->maxmem_mib));
		json_object_object_add(o, "vcpus", json_object_new_int(cfg->vcpus));
		json_object_object_add(o, "cpu_time_ns", NULL);
	}
	return o;
}

/* summary_of for a stored row, whose config is parsed into cfg (*norm,
 * which cfg points into, is the caller's to put). */
static json_object *domain_summary(struct pvd *pvd, const struct store_domain *d, struct domain_config *cfg,
				   json_object **norm)
{
	struct hv_status st;

	*norm = json_tokener_parse(d->normalized);
	if (!*norm || domain_config_read(*norm, cfg) != 0) {
		json_object_put(*norm);
		*norm = NULL;
		return NULL;
	}
	hv_status(pvd, d->uuid, &st);
	return summary_of(pvd, d, cfg, &st);
}

/* One of domain.info's vifs: f as stored, with the backend's counters
 * while the domain runs (domid >= 0). */
static json_object *iface_json(struct pvd *pvd, const struct store_iface *f, int64_t domid)
{
	json_object *o = json_object_new_object();
	struct netback_vif_stats ns;

	json_object_object_add(o, "mac", json_object_new_string(f->mac));
	json_object_object_add(o, "devid", json_object_new_int(f->idx));
	json_object_object_add(o, "bridge", json_object_new_string(f->bridge));
	json_object_object_add(o, "rate", json_object_new_int64(f->rate));
	json_object_object_add(o, "burst", json_object_new_int64(f->burst));
	json_object_object_add(o, "weight", json_object_new_int(f->weight));
	if (domid >= 0 && net_host_vif_stats(pvd, (uint32_t)domid, (uint32_t)f->idx, &ns) == 0) {
		json_object *st = json_object_new_object();
		json_object_object_add(st, "connected", json_object_new_boolean(ns.connected));
		json_object_object_add(st, "tx_packets", json_object_new_int64((int64_t)ns.tx_packets));
		json_object_object_add(st, "tx_bytes", json_object_new_int64((int64_t)ns.tx_bytes));
		json_object_object_add(st, "tx_dropped", json_object_new_int64((int64_t)ns.tx_dropped));
		json_object_object_add(st, "rx_packets", json_object_new_int64((int64_t)ns.rx_packets));
		json_object_object_add(st, "rx_bytes", json_object_new_int64((int64_t)ns.rx_bytes));
		json_object_object_add(st, "rx_dropped", json_object_new_int64((int64_t)ns.rx_dropped));
		json_object_object_add(o, "stats", st);
	}
	return o;
}

/* domain.info's answer for d, whose config is cfg and stored interfaces
 * ifaces[0..nifaces), with st the hypervisor's view of it. */
static json_object *info_of(struct rpc_req *req, const struct store_domain *d, const struct domain_config *cfg,
			    const struct hv_status *st, const struct store_iface *ifaces, int nifaces)
{
	json_object *o, *cpu, *disks, *vifs;
	uint64_t disk_allocated;
	char path[4200];

	o = summary_of(req->pvd, d, cfg, st);
	json_object_object_add(o, "kernel", json_object_new_string(cfg->kernel));
	if (cfg->ramdisk)
		json_object_object_add(o, "ramdisk", json_object_new_string(cfg->ramdisk));
	json_object_object_add(o, "cmdline", json_object_new_string(cfg->cmdline ? cfg->cmdline : ""));
	cpu = json_object_new_object();
	json_object_object_add(cpu, "weight", json_object_new_int(st->present ? (int)st->weight : cfg->weight));
	json_object_object_add(cpu, "cap", json_object_new_int(st->present ? (int)st->cap : cfg->cap));
	json_object_object_add(o, "cpu", cpu);
	json_object_object_add(o, "on_poweroff", json_object_new_string(cfg->on_poweroff));
	json_object_object_add(o, "on_reboot", json_object_new_string(cfg->on_reboot));
	json_object_object_add(o, "on_crash", json_object_new_string(cfg->on_crash));
	disks = method_disks_json(req->pvd, d, cfg, &disk_allocated);
	json_object_object_add(o, "disk_quota_mib", json_object_new_int64(cfg->disk_quota_mib));
	json_object_object_add(o, "disk_allocated_bytes", json_object_new_int64((int64_t)disk_allocated));
	vifs = json_object_new_array();
	json_object_object_add(o, "disks", disks);
	json_object_object_add(o, "vifs", vifs);
	if (d->base_dir)
		json_object_object_add(o, "base_dir", json_object_new_string(d->base_dir));
	hv_console_path(req->pvd, d->uuid, path, sizeof(path));
	json_object_object_add(o, "console_log", json_object_new_string(path));
	json_object_object_add(o, "created", json_object_new_string(d->created));
	json_object_object_add(o, "updated", json_object_new_string(d->updated));
	for (int i = 0; i < nifaces; i++)
		json_object_array_add(vifs, iface_json(req->pvd, &ifaces[i], st->present ? (int64_t)st->domid : -1));
	return o;
}

static int unparsable(struct rpc_req *req, const struct store_domain *d)
{
	return rpc_fail(req, PVD_ERR_INTERNAL, NULL, "Internal error: stored config of domain \"%s\" does not parse",
			d->name);
}

int method_domain_result(struct rpc_req *req, const struct store_domain *d, json_object **result)
{
	struct domain_entry e = { .row = *d };
	struct hv_status st;
	int rc = 0;

	e.norm = json_tokener_parse(d->normalized);
	if (!e.norm || domain_config_read(e.norm, &e.cfg) != 0) {
		json_object_put(e.norm);
		return unparsable(req, d);
	}
	if (domain_cache_ifaces(req->pvd->store, &e) != 0)
		rc = rpc_fail(req, PVD_ERR_INTERNAL, NULL, "Internal error: %s", store_error(req->pvd->store));
	else {
		hv_status(req->pvd, d->uuid, &st);
		*result = info_of(req, d, &e.cfg, &st, e.ifaces, e.nifaces);
	}
	free(e.ifaces);
	json_object_put(e.norm);
	return rc;
}

static int store_failed(struct rpc_req *req)
{
	json_object *d = json_object_new_object();

	json_object_object_add(d, "cause", json_object_new_string(store_error(req->pvd->store)));
	return rpc_fail(req, PVD_ERR_INTERNAL, d, "Internal error: nothing was changed: %s",
			store_error(req->pvd->store));
}

/* ---- domain.define ---- */

struct old_macs {
	char mac[CONFIG_MAX_VIFS][18];
	int n;
};

static int collect_mac(void *arg, const struct store_iface *f)
{
	struct old_macs *m = arg;

	if (f->idx >= 0 && f->idx < CONFIG_MAX_VIFS) {
		snprintf(m->mac[f->idx], 18, "%s", f->mac);
		if (f->idx + 1 > m->n)
			m->n = f->idx + 1;
	}
	return 0;
}

static int mac_taken(struct rpc_req *req, struct store_put *p, int upto, const char *mac, char owner[64])
{
	for (int j = 0; j < upto; j++)
		if (!strcmp(p->macs[j], mac)) {
			snprintf(owner, 64, "%s", p->domain->name);
			return 1;
		}
	return store_mac_owner(req->pvd->store, mac, p->domain->uuid, owner);
}

/* Final MAC of every vif: configured, else kept from before, else derived. */
static int assign_macs(struct rpc_req *req, struct store_put *p, const struct old_macs *old)
{
	const struct domain_config *c = p->config;
	char owner[64];

	for (int i = 0; i < c->nvifs; i++) {
		int rc, dev;
		if (c->vifs[i].mac) {
			ids_mac_normalize(c->vifs[i].mac, p->macs[i]);
			rc = mac_taken(req, p, i, p->macs[i], owner);
			if (rc == 1) {
				json_object *d = json_object_new_object(), *errs = json_object_new_array(), *e;
				char path[40];
				snprintf(path, sizeof(path), "/vifs/%d/mac", i);
				e = json_object_new_object();
				json_object_object_add(e, "path", json_object_new_string(path));
				json_object_object_add(e, "message", json_object_new_string("MAC already in use"));
				json_object_array_add(errs, e);
				json_object_object_add(d, "errors", errs);
				json_object_object_add(d, "owner", json_object_new_string(owner));
				return rpc_fail(req, PVD_ERR_INVALID_PARAMS, d,
						"Invalid params: config: %s: MAC %s is already used by domain \"%s\"",
						path, p->macs[i], owner);
			}
			if (rc < 0)
				return store_failed(req);
			continue;
		}
		dev = c->vifs[i].devid;		/* MACs are kept per device number */
		if (dev < old->n && old->mac[dev][0] && mac_taken(req, p, i, old->mac[dev], owner) == 0) {
			snprintf(p->macs[i], 18, "%s", old->mac[dev]);
			continue;
		}
		for (int attempt = 0;; attempt++) {
			if (attempt == MAC_ATTEMPTS)
				return rpc_fail(req, PVD_ERR_INTERNAL, NULL, "Internal error: no free MAC for vif %d "
						"after %d attempts", i, MAC_ATTEMPTS);
			ids_vif_mac(p->domain->uuid, dev, attempt, p->macs[i]);
			rc = mac_taken(req, p, i, p->macs[i], owner);
			if (rc < 0)
				return store_failed(req);
			if (rc == 0)
				break;
		}
	}
	return 0;
}

static int check_define_target(struct rpc_req *req, const char *name, int replace, struct store_domain *old,
			       int *exists)
{
	int rc = store_domain_find(req->pvd->store, name, old), count;
	json_object *d;

	if (rc < 0)
		return store_failed(req);
	*exists = rc == 0;
	if (*exists && !replace) {
		d = json_object_new_object();
		json_object_object_add(d, "name", json_object_new_string(old->name));
		json_object_object_add(d, "uuid", json_object_new_string(old->uuid));
		return rpc_fail(req, PVD_ERR_ALREADY_EXISTS, d, "Domain already exists: \"%s\" is defined with UUID %s "
				"(use replace to update its config)", old->name, old->uuid);
	}
	if (!*exists && replace) {
		d = json_object_new_object();
		json_object_object_add(d, "domain", json_object_new_string(name));
		return rpc_fail(req, PVD_ERR_NO_SUCH_DOMAIN, d, "No such domain: cannot replace \"%s\": it is not "
				"defined", name);
	}
	if (*exists && strcmp(old->desired_state, "shut-off")) {
		d = json_object_new_object();
		json_object_object_add(d, "domain", json_object_new_string(old->name));
		json_object_object_add(d, "state", json_object_new_string(old->desired_state));
		return rpc_fail(req, PVD_ERR_INVALID_STATE, d, "Invalid state: domain \"%s\" is %s; its config can "
				"be replaced only while it is shut off", old->name, old->desired_state);
	}
	if (*exists)
		return 0;
	if (store_domain_count(req->pvd->store, &count) != 0)
		return store_failed(req);
	if (count >= req->pvd->opt.max_domains) {
		d = json_object_new_object();
		json_object_object_add(d, "quota", json_object_new_string("domains"));
		json_object_object_add(d, "limit", json_object_new_int64(req->pvd->opt.max_domains));
		json_object_object_add(d, "current", json_object_new_int(count));
		return rpc_fail(req, PVD_ERR_QUOTA_EXCEEDED, d, "Quota exceeded: cannot define \"%s\": %d domains are "
				"defined and the limit (--max-domains) is %ld", name, count, req->pvd->opt.max_domains);
	}
	return 0;
}

/* Store dom (filled in but for its MACs) with config cfg (read from
 * norm) as one change with its event, log and publish it: the tail of
 * domain.define and of every method that changes a defined domain's
 * config (methods_devices.c). MACs configured are checked, others kept
 * per device number or made; pool images are created. 0 or an error sent. */
static int put_config(struct rpc_req *req, struct store_domain *dom, const struct domain_config *cfg,
		      json_object *norm, int exists, const char *type, const char *detail)
{
	struct store_put put = { .domain = dom, .config = cfg, .replace = exists };
	struct old_macs macs = { .n = 0 };
	struct store_event ev;
	char perr[600];

	if (exists && store_ifaces(req->pvd->store, dom->uuid, collect_mac, &macs) != 0)
		return store_failed(req);
	dom->normalized = (char *)json_object_to_json_string_ext(norm, JSON_C_TO_STRING_PLAIN);
	dom->autostart = cfg->autostart;
	if (assign_macs(req, &put, &macs) != 0)
		return -1;
	if (pool_create_images(req->pvd, dom->uuid, cfg, perr, sizeof(perr)) != 0)
		return rpc_fail(req, PVD_ERR_INTERNAL, NULL, "Internal error: %s", perr);
	events_prepare(&ev, type, req->caller, dom, detail);
	if (store_domain_put(req->pvd->store, &put, &ev) != 0)
		return store_failed(req);
	log_notice("domain \"%s\" (%s) %s by %s", dom->name, dom->uuid, type, req->caller);
	events_publish(req->pvd, &ev);
	return 0;
}

/* Every disk that names a path names an existing image the pool or a
 * --disk-dir holds (checked again when the domain starts): 0, or
 * InvalidParams naming /disks/N/path and why. */
static int disk_paths_allowed(struct rpc_req *req, const struct store_domain *dom, const struct domain_config *cfg)
{
	char err[600], path[40];

	for (int i = 0; i < cfg->ndisks; i++) {
		json_object *d, *errs, *e;
		int fd;
		if (!cfg->disks[i].path)
			continue;
		fd = pool_open_image(req->pvd, dom->uuid, dom->base_dir, &cfg->disks[i], err, sizeof(err));
		if (fd >= 0) {
			close(fd);
			continue;
		}
		snprintf(path, sizeof(path), "/disks/%d/path", i);
		d = json_object_new_object();
		errs = json_object_new_array();
		e = json_object_new_object();
		json_object_object_add(e, "path", json_object_new_string(path));
		json_object_object_add(e, "message", json_object_new_string(err));
		json_object_array_add(errs, e);
		json_object_object_add(d, "errors", errs);
		json_object_object_add(d, "count", json_object_new_int(1));
		return rpc_fail(req, PVD_ERR_INVALID_PARAMS, d, "Invalid params: config: %s: %s", path, err);
	}
	return 0;
}

int method_domain_define(struct rpc_req *req, json_object *params, json_object **result)
{
	return method_define_uuid(req, params, NULL, result);
}

int method_define_uuid(struct rpc_req *req, json_object *params, const char *uuid, json_object **result)
{
	struct store_domain old = { 0 }, dom = { 0 };
	struct domain_config cfg;
	enum config_format fmt;
	json_object *norm, *v;
	char *text = NULL, detail[160];
	const char *base_dir = NULL;
	int replace = 0, exists = 0, rc = -1;

	if (json_object_object_get_ex(params, "replace", &v))
		replace = json_object_get_boolean(v);
	if (json_object_object_get_ex(params, "transient", &v))
		dom.transient = json_object_get_boolean(v);
	if (json_object_object_get_ex(params, "base_dir", &v) && json_object_get_string(v)[0]) {
		if (json_object_get_string(v)[0] != '/')
			return rpc_fail(req, PVD_ERR_INVALID_PARAMS, NULL, "Invalid params: base_dir \"%s\" is not "
					"an absolute path", json_object_get_string(v));
		base_dir = json_object_get_string(v);
	}
	norm = config_from_params(req, params, &fmt, &text);
	if (!norm)
		return -1;
	if (domain_config_read(norm, &cfg) != 0) {
		rpc_fail(req, PVD_ERR_INTERNAL, NULL, "Internal error: validated config lacks a required field");
		goto out;
	}
	if (check_define_target(req, cfg.name, replace, &old, &exists) != 0)
		goto out;
	store_now(dom.updated);
	if (exists) {
		memcpy(dom.uuid, old.uuid, sizeof(dom.uuid));
		memcpy(dom.created, old.created, sizeof(dom.created));
		memcpy(dom.desired_state, old.desired_state, sizeof(dom.desired_state));
	} else if (uuid) {
		snprintf(dom.uuid, sizeof(dom.uuid), "%s", uuid);
		memcpy(dom.created, dom.updated, sizeof(dom.created));
		snprintf(dom.desired_state, sizeof(dom.desired_state), "shut-off");
	} else {
		if (ids_new_uuid(dom.uuid) != 0) {
			rpc_fail(req, PVD_ERR_INTERNAL, NULL, "Internal error: no randomness for a UUID");
			goto out;
		}
		memcpy(dom.created, dom.updated, sizeof(dom.created));
		snprintf(dom.desired_state, sizeof(dom.desired_state), "shut-off");
	}
	snprintf(dom.name, sizeof(dom.name), "%s", cfg.name);
	snprintf(dom.config_format, sizeof(dom.config_format), "%s", config_format_name(fmt));
	dom.config = text;
	dom.base_dir = (char *)base_dir;
	snprintf(detail, sizeof(detail), "{\"format\":\"%s\",\"memory_mib\":%lld,\"vcpus\":%d}",
		 dom.config_format, cfg.memory_mib, cfg.vcpus);
	if (disk_paths_allowed(req, &dom, &cfg) != 0)
		goto out;
	if (put_config(req, &dom, &cfg, norm, exists, exists ? "domain.redefined" : "domain.defined", detail) != 0)
		goto out;
	dom.config = NULL;
	dom.normalized = NULL;
	dom.base_dir = NULL;
	if (store_domain_find(req->pvd->store, dom.uuid, &dom) != 0) {
		store_failed(req);
		goto out;
	}
	rc = method_domain_result(req, &dom, result);
	store_domain_clear(&dom);
out:
	store_domain_clear(&old);
	free(text);
	json_object_put(norm);
	return rc;
}

int method_domain_reconfigure(struct rpc_req *req, const struct store_domain *d, json_object *config,
			      const char *type, const char *detail)
{
	struct store_domain dom = *d;
	struct domain_config cfg;
	struct schema_report rep;
	json_object *norm = config_check_object(req->pvd->checker, config, &rep);
	int rc;

	if (!norm)
		return rpc_fail(req, PVD_ERR_INVALID_PARAMS, method_report_data(&rep), "Invalid params: the changed config: "
				"%s: %s%s", rep.issue[0].path, rep.issue[0].message,
				rep.count > 1 ? " (and more, see data.errors)" : "");
	if (domain_config_read(norm, &cfg) != 0) {
		json_object_put(norm);
		return rpc_fail(req, PVD_ERR_INTERNAL, NULL, "Internal error: validated config lacks a required field");
	}
	store_now(dom.updated);
	snprintf(dom.config_format, sizeof(dom.config_format), "json");
	dom.config = (char *)json_object_to_json_string_ext(config, JSON_C_TO_STRING_PRETTY |
							    JSON_C_TO_STRING_NOSLASHESCAPE);
	rc = put_config(req, &dom, &cfg, norm, 1, type, detail);
	json_object_put(norm);
	return rc;
}

/* ---- the others ---- */

int method_domain_undefine(struct rpc_req *req, json_object *params, json_object **result)
{
	struct store_domain d;
	struct store_event ev;
	struct domain_config cfg;
	json_object *norm, *v;
	int remove_storage = 0, removed = 0;

	if (json_object_object_get_ex(params, "remove_storage", &v))
		remove_storage = json_object_get_boolean(v);
	if (method_resolve(req, params, &d) != 0)
		return -1;
	if (strcmp(d.desired_state, "shut-off")) {
		json_object *data = json_object_new_object();
		json_object_object_add(data, "domain", json_object_new_string(d.name));
		json_object_object_add(data, "state", json_object_new_string(d.desired_state));
		rpc_fail(req, PVD_ERR_INVALID_STATE, data, "Invalid state: domain \"%s\" is %s; undefine it after "
			 "it is shut off", d.name, d.desired_state);
		store_domain_clear(&d);
		return -1;
	}
	{	/* still in the hypervisor (being built, or dying after a destroy): not yet */
		struct hv_status st;
		hv_status(req->pvd, d.uuid, &st);
		if (st.present) {
			json_object *data = json_object_new_object();
			json_object_object_add(data, "domain", json_object_new_string(d.name));
			json_object_object_add(data, "state", json_object_new_string(st.state));
			rpc_fail(req, PVD_ERR_INVALID_STATE, data, "Invalid state: domain \"%s\" is still %s in the "
				 "hypervisor; undefine it once it is gone", d.name, st.state);
			store_domain_clear(&d);
			return -1;
		}
	}
	events_prepare(&ev, "domain.undefined", req->caller, &d, NULL);
	if (store_domain_delete(req->pvd->store, d.uuid, &ev) != 0) {
		store_domain_clear(&d);
		return store_failed(req);
	}
	log_notice("domain \"%s\" (%s) undefined by %s", d.name, d.uuid, req->caller);
	hv_console_forget(req->pvd, d.uuid);
	events_publish(req->pvd, &ev);
	*result = domain_summary(req->pvd, &d, &cfg, &norm);
	if (*result && remove_storage)	/* the pool's images of its disks; images named by path stay */
		removed = pool_remove_images(req->pvd, d.uuid, &cfg);
	if (*result)
		json_object_object_add(*result, "removed_images", json_object_new_int(removed));
	json_object_put(norm);
	store_domain_clear(&d);
	return *result ? 0 : rpc_fail(req, PVD_ERR_INTERNAL, NULL, "Internal error: stored config does not parse");
}

/* o serialized as every response is (rpc.c: plain, no slash escapes);
 * o is put. NULL when out of memory. */
static char *serialized(json_object *o)
{
	char *t = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));

	json_object_put(o);
	return t;
}

static int append(struct printbuf *pb, const char *text)
{
	if (!text)
		return -1;
	if (pb->bpos > 1)
		printbuf_memappend(pb, ",", 1);
	printbuf_memappend(pb, text, (int)strlen(text));
	return 0;
}

/*
 * domain.list's fields: the members an entry may carry, in the order
 * summary_of and add_unmanaged write them; bit i of a field mask stands
 * for list_fields[i]. The API document's enum for the param is the same
 * list (check_params has refused any other name before the handler runs).
 */
static const char *const list_fields[] = {
	"uuid", "name", "domid", "state", "desired_state", "autostart", "transient", "managed",
	"memory_mib", "maxmem_mib", "target_mib", "vcpus", "cpu_time_ns",
};
#define NLIST_FIELDS (sizeof(list_fields) / sizeof(list_fields[0]))
#define LIST_FIELDS_ALL ((1u << NLIST_FIELDS) - 1)

/* The mask params' fields asks for (every field without it); 0 after a
 * failure, with the error set: a name the document allows and this table
 * lacks (the two drifted apart) is refused rather than ignored. */
static unsigned list_field_mask(struct rpc_req *req, json_object *params)
{
	json_object *fields;
	unsigned mask = 0;

	if (!json_object_object_get_ex(params, "fields", &fields))
		return LIST_FIELDS_ALL;
	for (size_t i = 0; i < json_object_array_length(fields); i++) {
		const char *f = json_object_get_string(json_object_array_get_idx(fields, i));
		size_t k = 0;
		while (k < NLIST_FIELDS && strcmp(list_fields[k], f))
			k++;
		if (k == NLIST_FIELDS) {
			rpc_fail(req, PVD_ERR_INVALID_PARAMS, NULL, "Invalid params: domain.list: fields: \"%.64s\" "
				 "is not a member of a domain's entry", f);
			return 0;
		}
		mask |= 1u << k;
	}
	return mask;
}

/* o (put) with only the members in mask, in list_fields' order. */
static json_object *only_fields(json_object *o, unsigned mask)
{
	json_object *sel, *v;

	if (mask == LIST_FIELDS_ALL || !o)
		return o;
	sel = json_object_new_object();
	for (size_t i = 0; i < NLIST_FIELDS; i++)
		if ((mask & (1u << i)) && json_object_object_get_ex(o, list_fields[i], &v))
			json_object_object_add(sel, list_fields[i], json_object_get(v));
	json_object_put(o);
	return sel;
}

struct list_out {
	struct printbuf *pb;
	unsigned mask;
};

/* With all: the hypervisor's domains that pvd does not have, marked. */
static void add_unmanaged(void *arg, const struct hv_unmanaged *u)
{
	struct list_out *out = arg;
	json_object *o = json_object_new_object();
	char *t;

	json_object_object_add(o, "uuid", json_object_new_string(u->uuid));
	json_object_object_add(o, "name", json_object_new_string(u->name));
	json_object_object_add(o, "domid", json_object_new_int64(u->domid));
	json_object_object_add(o, "state", json_object_new_string(u->st.state));
	json_object_object_add(o, "managed", json_object_new_boolean(0));
	json_object_object_add(o, "memory_mib", json_object_new_int64((int64_t)(u->st.mem_kib / 1024)));
	json_object_object_add(o, "maxmem_mib", json_object_new_int64((int64_t)(u->st.maxmem_kib / 1024)));
	json_object_object_add(o, "vcpus", json_object_new_int((int)u->st.vcpus));
	json_object_object_add(o, "cpu_time_ns", json_object_new_int64((int64_t)u->st.cpu_time_ns));
	t = serialized(only_fields(o, out->mask));
	append(out->pb, t);
	free(t);
}

/* Whether the hypervisor has nothing to add to d's stored figures: it has
 * no such domain and is not down (then the state is "machine-down"). */
static int only_stored(const struct hv_status *st)
{
	return !st->present && !strcmp(st->state, "shut-off");
}

/*
 * The answer is written as text, each domain's entry after the other in
 * the store's order, each with the members fields asks for. A domain the
 * hypervisor does not have shows only stored figures: its entry is
 * serialized once and kept in the cache until the store changes (the full
 * one, and the last selection of fields asked for with its mask). Running
 * domains' figures move (CPU time, memory): theirs are built on each call.
 */
int method_domain_list(struct rpc_req *req, json_object *params, json_object **result)
{
	struct domain_cache *c = req->pvd->domains;
	struct list_out out;
	json_object *v;
	int all = 0, rc = 0;
	char *text;

	if (json_object_object_get_ex(params, "all", &v))
		all = json_object_get_boolean(v);
	out.mask = list_field_mask(req, params);
	if (!out.mask)
		return -1;
	if (cache_sync(req) != 0)
		return -1;
	out.pb = printbuf_new();
	if (!out.pb)
		return rpc_fail(req, PVD_ERR_INTERNAL, NULL, "Internal error: out of memory");
	printbuf_memappend(out.pb, "[", 1);
	for (size_t i = 0; i < domain_cache_count(c) && rc == 0; i++) {
		struct domain_entry *e = domain_cache_at(c, i);
		struct hv_status st;
		hv_status(req->pvd, e->row.uuid, &st);
		/* without all, only domains that are not shut off */
		if ((!all && !strcmp(st.state, "shut-off")) || !e->norm)
			continue;
		if (only_stored(&st) && out.mask == LIST_FIELDS_ALL) {
			if (!e->list_text)
				domain_cache_keep(&e->list_text, serialized(summary_of(req->pvd, &e->row, &e->cfg, &st)));
			rc = append(out.pb, e->list_text);
		} else if (only_stored(&st)) {
			if (!e->list_fields_text || e->list_fields_mask != out.mask) {
				domain_cache_keep(&e->list_fields_text,
						  serialized(only_fields(summary_of(req->pvd, &e->row, &e->cfg, &st), out.mask)));
				e->list_fields_mask = out.mask;
			}
			rc = append(out.pb, e->list_fields_text);
		} else {
			char *t = serialized(only_fields(summary_of(req->pvd, &e->row, &e->cfg, &st), out.mask));
			rc = append(out.pb, t);
			free(t);
		}
	}
	if (all && rc == 0)
		hv_for_each_unmanaged(req->pvd, add_unmanaged, &out);
	printbuf_memappend(out.pb, "]", 1);
	text = rc == 0 ? strdup(out.pb->buf) : NULL;
	printbuf_free(out.pb);
	*result = text ? rpc_text_result(text) : NULL;
	return *result ? 0 : rpc_fail(req, PVD_ERR_INTERNAL, NULL, "Internal error: out of memory");
}

/* A domain without disks that the hypervisor does not have: its answer
 * is kept in the cache (a disk's image size and counters move). */
int method_domain_info(struct rpc_req *req, json_object *params, json_object **result)
{
	struct domain_entry *e = resolve_cached(req, params);
	struct hv_status st;
	char *t;

	if (!e)
		return -1;
	if (!e->norm)
		return unparsable(req, &e->row);
	if (domain_cache_ifaces(req->pvd->store, e) != 0)
		return rpc_fail(req, PVD_ERR_INTERNAL, NULL, "Internal error: %s", store_error(req->pvd->store));
	hv_status(req->pvd, e->row.uuid, &st);
	if (!only_stored(&st) || e->cfg.ndisks) {
		*result = info_of(req, &e->row, &e->cfg, &st, e->ifaces, e->nifaces);
		return 0;
	}
	if (!e->info_text)
		domain_cache_keep(&e->info_text, serialized(info_of(req, &e->row, &e->cfg, &st, e->ifaces, e->nifaces)));
	t = e->info_text ? strdup(e->info_text) : NULL;
	*result = t ? rpc_text_result(t) : NULL;
	return *result ? 0 : rpc_fail(req, PVD_ERR_INTERNAL, NULL, "Internal error: out of memory");
}

int method_domain_get_config(struct rpc_req *req, json_object *params, json_object **result)
{
	struct store_domain d;
	json_object *o;

	if (method_resolve(req, params, &d) != 0)
		return -1;
	o = json_object_new_object();
	json_object_object_add(o, "format", json_object_new_string(d.config_format));
	json_object_object_add(o, "submitted", json_object_new_string(d.config));
	json_object_object_add(o, "normalized", json_tokener_parse(d.normalized));
	store_domain_clear(&d);
	*result = o;
	return 0;
}

int method_domain_autostart(struct rpc_req *req, json_object *params, json_object **result)
{
	struct store_domain d;
	struct store_event ev;
	json_object *v;
	char now[32];
	int on = 0, changed;

	if (json_object_object_get_ex(params, "enabled", &v))
		on = json_object_get_boolean(v);
	if (method_resolve(req, params, &d) != 0)
		return -1;
	changed = d.autostart != on;
	if (changed) {
		store_now(now);
		events_prepare(&ev, "domain.autostart", req->caller, &d, on ? "{\"autostart\":true}" :
			       "{\"autostart\":false}");
		if (store_domain_set_autostart(req->pvd->store, d.uuid, on, now, &ev) != 0) {
			store_domain_clear(&d);
			return store_failed(req);
		}
		log_notice("domain \"%s\" (%s) autostart %s by %s", d.name, d.uuid, on ? "on" : "off", req->caller);
		events_publish(req->pvd, &ev);
	}
	*result = json_object_new_object();
	json_object_object_add(*result, "uuid", json_object_new_string(d.uuid));
	json_object_object_add(*result, "name", json_object_new_string(d.name));
	json_object_object_add(*result, "autostart", json_object_new_boolean(on));
	json_object_object_add(*result, "changed", json_object_new_boolean(changed));
	store_domain_clear(&d);
	return 0;
}
