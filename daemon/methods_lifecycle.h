/*
 * methods_lifecycle.h - what the methods acting on the hypervisor share
 * (methods_lifecycle.c: start, create, console; methods_ops.c: the
 * operations on running domains). Each takes the call's request (or a
 * deferred call's, rpc_pending_req) and records errors with rpc_fail.
 */
#ifndef PVD_METHODS_LIFECYCLE_H
#define PVD_METHODS_LIFECYCLE_H

#include <json-c/json.h>

#include "rpc.h"

struct store_domain;

/* {"domain", "uuid"[, "state"]}: the data of a domain's error. */
json_object *lc_dom_data(const struct store_domain *d, const char *state);
/* -32006 when the machine cannot be used (-1), else 0. */
int lc_no_machine(struct rpc_req *req, const struct store_domain *d);
/* -32006 with the hypervisor's or builder's cause; -1. */
int lc_hv_failed(struct rpc_req *req, const struct store_domain *d, const char *err);
/* -32003 naming the state and what to do instead; -1. */
int lc_not_running(struct rpc_req *req, const struct store_domain *d, const char *state, const char *what);
/* The desired state (NULL: unchanged) and the event, in one transaction. */
int lc_commit(struct rpc_req *req, struct store_domain *d, const char *desired, const char *type,
	      const char *detail);
/* The domain.info result; d is cleared. */
int lc_finish(struct rpc_req *req, struct store_domain *d, json_object **result);

#endif
