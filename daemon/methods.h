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
int method_config_validate(struct rpc_req *req, json_object *params, json_object **result);

int method_domain_define(struct rpc_req *req, json_object *params, json_object **result);
int method_domain_undefine(struct rpc_req *req, json_object *params, json_object **result);
int method_domain_list(struct rpc_req *req, json_object *params, json_object **result);
int method_domain_info(struct rpc_req *req, json_object *params, json_object **result);
int method_domain_get_config(struct rpc_req *req, json_object *params, json_object **result);
int method_domain_autostart(struct rpc_req *req, json_object *params, json_object **result);

#endif
