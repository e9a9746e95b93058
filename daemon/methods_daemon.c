/*
 * methods_daemon.c - methods about pvd itself: rpc.discover (the OpenRPC
 * document pvd was built with) and daemon.version. No state changes.
 */
#include <event2/event.h>
#include <json-c/json.h>
#include <libxml/xmlversion.h>
#include <openssl/crypto.h>
#include <sqlite3.h>

#include "../api/pvd_api.h"
#include "methods.h"
#include "pvd.h"
#include "store.h"

int method_rpc_discover(struct rpc_req *req, json_object *params, json_object **result)
{
	(void)params;
	*result = json_object_get(rpc_document(req->pvd->rpc));
	return 0;
}

int method_daemon_version(struct rpc_req *req, json_object *params, json_object **result)
{
	json_object *v = json_object_new_object(), *libs = json_object_new_object(), *info, *api = NULL;

	(void)params;
	if (json_object_object_get_ex(rpc_document(req->pvd->rpc), "info", &info))
		json_object_object_get_ex(info, "version", &api);
	json_object_object_add(v, "pvd", json_object_new_string(PVD_VERSION));
	json_object_object_add(v, "api", json_object_new_string(api ? json_object_get_string(api) : "?"));
	json_object_object_add(v, "store_schema", json_object_new_int(store_schema_version(req->pvd->store)));
	json_object_object_add(libs, "libevent", json_object_new_string(event_get_version()));
	json_object_object_add(libs, "json-c", json_object_new_string(json_c_version()));
	json_object_object_add(libs, "sqlite", json_object_new_string(sqlite3_libversion()));
	json_object_object_add(libs, "libxml2", json_object_new_string(LIBXML_DOTTED_VERSION));
	json_object_object_add(libs, "openssl", json_object_new_string(OpenSSL_version(OPENSSL_VERSION)));
	json_object_object_add(v, "libraries", libs);
	*result = v;
	return 0;
}
