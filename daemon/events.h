/*
 * events.h - pvd's event bus (see events.c): event-log entries pushed as
 * events.event notifications to subscribed connections.
 */
#ifndef PVD_EVENTS_H
#define PVD_EVENTS_H

#include <json-c/json.h>

#include "rpc.h"
#include "store.h"

struct store_domain;

/* Fill ev for a change of domain d (or none) made by caller. */
void events_prepare(struct store_event *ev, const char *type, const char *caller,
		    const struct store_domain *d, const char *detail);

/* After the entry is committed: notify every subscriber of its type. */
void events_publish(struct pvd *pvd, const struct store_event *ev);

/* An entry that is not part of a domain change (daemon.started ...). */
int events_record(struct pvd *pvd, const char *type, const char *detail);

json_object *events_to_json(const struct store_event *ev);

/* RPC handlers (dispatch table in rpc_methods.c). */
int method_events_subscribe(struct rpc_req *req, json_object *params, json_object **result);
int method_events_unsubscribe(struct rpc_req *req, json_object *params, json_object **result);
int method_events_list(struct rpc_req *req, json_object *params, json_object **result);

#endif
