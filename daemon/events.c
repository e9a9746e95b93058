/*
 * events.c - pvd's event bus and the events.* methods.
 *
 * An event is born as an event-log row written in the same store
 * transaction as the change it reports (store.c); once committed,
 * events_publish sends it as a JSON-RPC notification
 *   {"jsonrpc":"2.0","method":"events.event","params":{"event":{...}}}
 * to every connection subscribed to its type. The text is built once per
 * event, whatever the number of subscribers. Subscribers that stop reading
 * are dropped by server.c, never waited for. Event types are the EventType
 * enum of api/pvd.openrpc.json; the list below must match it (checked by
 * tests/api).
 */
#include "events.h"
#include "json_strict.h"

#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "../api/pvd_api.h"
#include "log.h"
#include "pvd.h"
#include "server.h"

static const char *const event_types[] = {
	"domain.defined", "domain.redefined", "domain.undefined", "domain.autostart",
	"domain.started", "domain.stopped", "domain.restarted", "domain.restart_delayed", "domain.shutdown", "domain.reboot",
	"domain.paused", "domain.resumed", "domain.memory", "domain.sched", "domain.reconciled",
	"domain.block_attached", "domain.block_detached", "domain.net_attached", "domain.net_detached",
	"domain.net_limit", "machine.lost", "machine.restarted", "daemon.started", "daemon.stopped",
	"domain.disk_quota", "domain.disk_limit", "disk.quota", "disk.quota_refused", "vol.created", "vol.deleted",
	"vol.resized", NULL
};

/* one bit each in a subscription's mask */
_Static_assert(sizeof(event_types) / sizeof(event_types[0]) - 1 <= 64, "more event types than mask bits");

static uint64_t type_bit(const char *type)
{
	for (int i = 0; event_types[i]; i++)
		if (!strcmp(event_types[i], type))
			return 1ull << i;
	return 0;
}

void events_prepare(struct store_event *ev, const char *type, const char *caller,
		    const struct store_domain *d, const char *detail)
{
	memset(ev, 0, sizeof(*ev));
	snprintf(ev->type, sizeof(ev->type), "%s", type);
	snprintf(ev->caller, sizeof(ev->caller), "%s", caller ? caller : "pvd");
	if (d) {
		snprintf(ev->domain_uuid, sizeof(ev->domain_uuid), "%s", d->uuid);
		snprintf(ev->domain_name, sizeof(ev->domain_name), "%s", d->name);
	}
	ev->detail = detail ? detail : "{}";
}

json_object *events_to_json(const struct store_event *ev)
{
	json_object *o = json_object_new_object(), *detail;

	json_object_object_add(o, "id", json_object_new_int64(ev->id));
	json_object_object_add(o, "at", json_object_new_string(ev->at));
	json_object_object_add(o, "type", json_object_new_string(ev->type));
	if (ev->domain_uuid[0]) {
		json_object *d = json_object_new_object();
		json_object_object_add(d, "uuid", json_object_new_string(ev->domain_uuid));
		json_object_object_add(d, "name", json_object_new_string(ev->domain_name));
		json_object_object_add(o, "domain", d);
	} else {
		json_object_object_add(o, "domain", NULL);
	}
	json_object_object_add(o, "caller", json_object_new_string(ev->caller));
	detail = ev->detail ? json_tokener_parse(ev->detail) : NULL;
	json_object_object_add(o, "detail", detail ? detail : json_object_new_object());
	return o;
}

void events_publish(struct pvd *pvd, const struct store_event *ev)
{
	json_object *n, *params;
	char *text;

	if (!pvd->server || !server_subscriber_count(pvd->server))
		return;
	n = json_object_new_object();
	params = json_object_new_object();
	json_object_object_add(params, "event", events_to_json(ev));
	json_object_object_add(n, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(n, "method", json_object_new_string(PVD_NOTIFY_EVENT));
	json_object_object_add(n, "params", params);
	text = utf8_repair(json_object_to_json_string_ext(n, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	if (text)
		server_broadcast(pvd->server, type_bit(ev->type), text, strlen(text));
	free(text);
	json_object_put(n);
}

int events_record(struct pvd *pvd, const char *type, const char *detail)
{
	struct store_event ev;

	events_prepare(&ev, type, "pvd", NULL, detail);
	if (store_event_append(pvd->store, &ev) != 0) {
		log_warn("event log: %s", store_error(pvd->store));
		return -1;
	}
	events_publish(pvd, &ev);
	return 0;
}

/* ---- methods ---- */

int method_events_subscribe(struct rpc_req *req, json_object *params, json_object **result)
{
	json_object *types, *list = json_object_new_array();
	uint64_t mask = 0;
	long long last = 0;

	if (!req->client) {
		json_object_put(list);
		return rpc_fail(req, PVD_ERR_INTERNAL, NULL, "Internal error: events.subscribe needs a connection");
	}
	if (json_object_object_get_ex(params, "types", &types)) {
		for (size_t i = 0; i < json_object_array_length(types); i++) {
			const char *t = json_object_get_string(json_object_array_get_idx(types, i));
			mask |= type_bit(t);
			json_object_array_add(list, json_object_new_string(t));
		}
	}
	if (!mask) {
		for (int i = 0; event_types[i]; i++) {
			mask |= 1ull << i;
			json_object_array_add(list, json_object_new_string(event_types[i]));
		}
	}
	if (!client_subscription(req->client) &&
	    server_subscriber_count(req->pvd->server) >= req->pvd->opt.max_subscribers) {
		json_object *d = json_object_new_object();
		json_object_object_add(d, "quota", json_object_new_string("subscribers"));
		json_object_object_add(d, "limit", json_object_new_int64(req->pvd->opt.max_subscribers));
		json_object_object_add(d, "current", json_object_new_int(server_subscriber_count(req->pvd->server)));
		json_object_put(list);
		return rpc_fail(req, PVD_ERR_QUOTA_EXCEEDED, d,
				"Quota exceeded: %d connections are already subscribed to events, the limit "
				"(--max-subscribers) is %ld", server_subscriber_count(req->pvd->server),
				req->pvd->opt.max_subscribers);
	}
	store_last_event_id(req->pvd->store, &last);
	client_set_subscription(req->client, mask);
	log_debug("client %s subscribed to events", req->caller);
	*result = json_object_new_object();
	json_object_object_add(*result, "types", list);
	json_object_object_add(*result, "last_id", json_object_new_int64(last));
	return 0;
}

int method_events_unsubscribe(struct rpc_req *req, json_object *params, json_object **result)
{
	int was = req->client && client_subscription(req->client);

	(void)params;
	if (req->client)
		client_set_subscription(req->client, 0);
	*result = json_object_new_object();
	json_object_object_add(*result, "was_subscribed", json_object_new_boolean(was));
	return 0;
}

static int add_event(void *arg, const struct store_event *e)
{
	json_object_array_add(arg, events_to_json(e));
	return 0;
}

int method_events_list(struct rpc_req *req, json_object *params, json_object **result)
{
	json_object *v, *list = json_object_new_array();
	long long after = 0;
	int limit = 100;
	const char *domain = NULL;

	if (json_object_object_get_ex(params, "after", &v))
		after = json_object_get_int64(v);
	if (json_object_object_get_ex(params, "limit", &v))
		limit = json_object_get_int(v);
	if (json_object_object_get_ex(params, "domain", &v))
		domain = json_object_get_string(v);
	if (store_events(req->pvd->store, after, limit, domain, add_event, list) != 0) {
		json_object_put(list);
		return rpc_fail(req, PVD_ERR_INTERNAL, NULL, "Internal error: %s", store_error(req->pvd->store));
	}
	*result = list;
	return 0;
}
