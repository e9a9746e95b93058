/*
 * methods.h - the RPC method handlers; the table binding them to names is
 * rpc_methods.c, checked against api/pvd.openrpc.json by rpc_new.
 * A handler gets params already validated against the document (defaults
 * filled), checks everything else before changing anything, and either
 * sets *result or returns rpc_fail(...).
 */
#ifndef PVD_METHODS_H
#define PVD_METHODS_H

#include "events.h"
#include "rpc.h"

int method_rpc_discover(struct rpc_req *req, json_object *params, json_object **result);
int method_daemon_version(struct rpc_req *req, json_object *params, json_object **result);
int method_host_info(struct rpc_req *req, json_object *params, json_object **result);
int method_host_dmesg(struct rpc_req *req, json_object *params, json_object **result);
int method_config_validate(struct rpc_req *req, json_object *params, json_object **result);

int method_domain_define(struct rpc_req *req, json_object *params, json_object **result);
int method_domain_undefine(struct rpc_req *req, json_object *params, json_object **result);
int method_domain_list(struct rpc_req *req, json_object *params, json_object **result);
int method_domain_info(struct rpc_req *req, json_object *params, json_object **result);
int method_domain_get_config(struct rpc_req *req, json_object *params, json_object **result);
int method_domain_autostart(struct rpc_req *req, json_object *params, json_object **result);

/* methods_lifecycle.c: the domain.* methods that act on the hypervisor */
int method_domain_start(struct rpc_req *req, json_object *params, json_object **result);
int method_domain_create(struct rpc_req *req, json_object *params, json_object **result);
int method_domain_destroy(struct rpc_req *req, json_object *params, json_object **result);
int method_domain_shutdown(struct rpc_req *req, json_object *params, json_object **result);
int method_domain_reboot(struct rpc_req *req, json_object *params, json_object **result);
int method_domain_pause(struct rpc_req *req, json_object *params, json_object **result);
int method_domain_resume(struct rpc_req *req, json_object *params, json_object **result);
int method_domain_set_memory(struct rpc_req *req, json_object *params, json_object **result);
int method_domain_set_maxmem(struct rpc_req *req, json_object *params, json_object **result);
int method_domain_set_sched(struct rpc_req *req, json_object *params, json_object **result);
int method_domain_console(struct rpc_req *req, json_object *params, json_object **result);
/* methods_adopt.c */
int method_domain_adopt(struct rpc_req *req, json_object *params, json_object **result);

/* methods_disk.c: disk quotas and limits */
int method_domain_set_disk_quota(struct rpc_req *req, json_object *params, json_object **result);
int method_domain_set_disk_limit(struct rpc_req *req, json_object *params, json_object **result);

/* methods_vol.c: the storage pool's volumes */
int method_vol_list(struct rpc_req *req, json_object *params, json_object **result);
int method_vol_create(struct rpc_req *req, json_object *params, json_object **result);
int method_vol_delete(struct rpc_req *req, json_object *params, json_object **result);
int method_vol_resize(struct rpc_req *req, json_object *params, json_object **result);
/* methods_devices.c: hot plug of disks and vifs */
int method_domain_block_attach(struct rpc_req *req, json_object *params, json_object **result);
int method_domain_block_detach(struct rpc_req *req, json_object *params, json_object **result);
int method_domain_net_attach(struct rpc_req *req, json_object *params, json_object **result);
int method_domain_net_detach(struct rpc_req *req, json_object *params, json_object **result);
int method_domain_net_limit(struct rpc_req *req, json_object *params, json_object **result);

/* methods_xs.c: xenstore for operators */
int method_xs_ls(struct rpc_req *req, json_object *params, json_object **result);
int method_xs_read(struct rpc_req *req, json_object *params, json_object **result);
int method_xs_write(struct rpc_req *req, json_object *params, json_object **result);
int method_xs_rm(struct rpc_req *req, json_object *params, json_object **result);
int method_xs_watch(struct rpc_req *req, json_object *params, json_object **result);

/* Shared by the domain methods (methods_domain.c). */
struct store_domain;
/* params.domain (name, UUID or domid of a running domain) -> d, or an error. */
int method_resolve(struct rpc_req *req, json_object *params, struct store_domain *d);
/* domain.info's disks of d (config cfg): size, image, allocated bytes,
 * quota, limits, and while it runs blkback's counters;
 * *domain_allocated: its writable disks' allocated bytes together. */
struct domain_config;
struct pvd;
json_object *method_disks_json(struct pvd *pvd, const struct store_domain *d, const struct domain_config *cfg,
			       uint64_t *domain_allocated);
/* domain.define with the UUID given (NULL: a new one): domain.adopt. */
int method_define_uuid(struct rpc_req *req, json_object *params, const char *uuid, json_object **result);
/* data.errors/count of a validator report, as config.validate gives it. */
struct schema_report;
json_object *method_report_data(const struct schema_report *rep);
/* Store config (a config object, validated here) as d's new config, with
 * an event of type: the store change of the methods that edit a defined
 * domain's config (pvctl block-attach ...). 0 or an error sent. */
int method_domain_reconfigure(struct rpc_req *req, const struct store_domain *d, json_object *config,
			      const char *type, const char *detail);
/* The domain.info result for d. */
int method_domain_result(struct rpc_req *req, const struct store_domain *d, json_object **result);

#endif
