/*
 * methods_adopt.c - domain.adopt: a domain running in the hypervisor that
 * pvd does not know (domain.list with all shows it managed: false; its
 * store was lost, or another toolstack made it) becomes one of pvd's.
 *
 * pvd records a config made from what the hypervisor reports (its name,
 * or the name given; memory and maximum memory, vCPUs, weight and cap)
 * under the domain's own UUID, with desired state running, then manages
 * it as any other: info, shutdown, reboot, destroy, pause, memory,
 * scheduling, and its console when pvd has the console's record (a
 * domain of an earlier pvd of the same state directory). The hypervisor
 * does not say which kernel the domain runs: the config names the kernel
 * given (`kernel`), else a placeholder that a later start reports as a
 * configuration error until `define --replace` gives a real one.
 * Order of checks: params, the machine (-32006), the name (-32002 when a
 * defined domain has it), the UUID (-32001 when no unmanaged domain has
 * it), the quota and the store (as domain.define).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "../api/pvd_api.h"
#include "hv.h"
#include "log.h"
#include "methods.h"
#include "pvd.h"
#include "store.h"

#define ADOPTED_KERNEL "(unknown: adopted from the hypervisor; define --replace with a kernel to start it again)"

/* The hypervisor's name of the domain as a domain name, if it is one. */
static int name_ok(const char *n)
{
	size_t len = strlen(n);

	if (len == 0 || len > 63 || !isalpha((unsigned char)n[0]))
		return 0;
	for (size_t i = 1; i < len; i++)
		if (!isalnum((unsigned char)n[i]) && !strchr("_.-", n[i]))
			return 0;
	return 1;
}

int method_domain_adopt(struct rpc_req *req, json_object *params, json_object **result)
{
	struct hv_unmanaged u;
	struct store_domain d;
	json_object *v, *cfg, *cpu, *def, *defined = NULL;
	const char *uuid, *name = NULL, *kernel = ADOPTED_KERNEL, *why = hv_unavailable(req->pvd);
	char err[400];
	int console = 0, rc;

	json_object_object_get_ex(params, "uuid", &v);
	uuid = json_object_get_string(v);
	if (json_object_object_get_ex(params, "name", &v))
		name = json_object_get_string(v);
	if (json_object_object_get_ex(params, "kernel", &v))
		kernel = json_object_get_string(v);
	if (why) {
		json_object *data = json_object_new_object();
		json_object_object_add(data, "cause", json_object_new_string(why));
		return rpc_fail(req, PVD_ERR_HYPERVISOR, data, "Hypervisor error: %s", why);
	}
	if (name && store_domain_find(req->pvd->store, name, &d) == 0) {
		json_object *data = json_object_new_object();
		json_object_object_add(data, "name", json_object_new_string(d.name));
		json_object_object_add(data, "uuid", json_object_new_string(d.uuid));
		store_domain_clear(&d);
		return rpc_fail(req, PVD_ERR_ALREADY_EXISTS, data, "Domain already exists: a domain named \"%s\" is "
				"defined; give the adopted one another name", name);
	}
	if (!hv_find_unmanaged(req->pvd, uuid, &u)) {
		json_object *data = json_object_new_object();
		json_object_object_add(data, "domain", json_object_new_string(uuid));
		return rpc_fail(req, PVD_ERR_NO_SUCH_DOMAIN, data, "No such domain: no unmanaged domain %s in the "
				"hypervisor (pvctl list --all shows them)", uuid);
	}
	if (!name && !name_ok(u.name))
		return rpc_fail(req, PVD_ERR_INVALID_PARAMS, NULL, "Invalid params: name: the hypervisor calls domain "
				"%u \"%s\", which is not a domain name; give one", u.domid, u.name);
	if (!name)
		name = u.name;
	cfg = json_object_new_object();
	json_object_object_add(cfg, "name", json_object_new_string(name));
	json_object_object_add(cfg, "kernel", json_object_new_string(kernel));
	json_object_object_add(cfg, "memory", json_object_new_int64((int64_t)(u.st.mem_kib / 1024 ? u.st.mem_kib / 1024 : 4)));
	if (u.st.maxmem_kib / 1024 > u.st.mem_kib / 1024)
		json_object_object_add(cfg, "maxmem", json_object_new_int64((int64_t)(u.st.maxmem_kib / 1024)));
	json_object_object_add(cfg, "vcpus", json_object_new_int64(u.st.vcpus ? u.st.vcpus : 1));
	cpu = json_object_new_object();
	if (u.st.weight)
		json_object_object_add(cpu, "weight", json_object_new_int64(u.st.weight));
	json_object_object_add(cpu, "cap", json_object_new_int64(u.st.cap));
	json_object_object_add(cfg, "cpu", cpu);
	def = json_object_new_object();
	json_object_object_add(def, "config", cfg);
	rc = method_define_uuid(req, def, u.uuid, &defined);
	json_object_put(def);
	json_object_put(defined);
	if (rc != 0)
		return -1;
	if (hv_adopt(req->pvd, u.uuid, &console, err, sizeof(err)) != 0 ||
	    store_domain_find(req->pvd->store, u.uuid, &d) != 0) {
		log_err("adopting domain %u (%s): %s", u.domid, u.uuid, err);
		return rpc_fail(req, PVD_ERR_HYPERVISOR, NULL, "Hypervisor error: domain %u (%s): %s", u.domid, u.uuid,
				err);
	}
	{
		struct store_event ev;
		char now[32], detail[160];
		snprintf(detail, sizeof(detail), "{\"reason\":\"adopted\",\"domid\":%u,\"console\":%s}", u.domid,
			 console ? "true" : "false");
		store_now(now);
		events_prepare(&ev, "domain.reconciled", req->caller, &d, detail);
		if (store_domain_set_desired(req->pvd->store, d.uuid, u.st.state && !strcmp(u.st.state, "paused") ?
					     "paused" : "running", now, &ev) != 0) {
			store_domain_clear(&d);
			return rpc_fail(req, PVD_ERR_INTERNAL, NULL, "Internal error: %s", store_error(req->pvd->store));
		}
		events_publish(req->pvd, &ev);
	}
	log_notice("domain %u (\"%s\", %s) adopted as \"%s\" by %s%s", u.domid, u.name, u.uuid, name, req->caller,
		   console ? "" : " (no console)");
	store_domain_clear(&d);
	if (store_domain_find(req->pvd->store, u.uuid, &d) != 0)
		return rpc_fail(req, PVD_ERR_INTERNAL, NULL, "Internal error: %s", store_error(req->pvd->store));
	rc = method_domain_result(req, &d, result);
	store_domain_clear(&d);
	return rc;
}
