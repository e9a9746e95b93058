/*
 * pvd_api.h - constants of the pvd JSON-RPC contract shared by pvd and its
 * clients: error codes, the default socket, the notification name.
 *
 * api/pvd.openrpc.json is the contract; tests/api checks that every code
 * here matches the document (components.errors).
 */
#ifndef PVD_API_H
#define PVD_API_H

#define PVD_VERSION            "0.1.0"
#define PVD_DEFAULT_SOCKET     "/run/pvd/pvd.sock"
#define PVD_NOTIFY_EVENT       "events.event"

enum pvd_rpc_error {
	/* JSON-RPC 2.0 */
	PVD_ERR_PARSE            = -32700,
	PVD_ERR_INVALID_REQUEST  = -32600,
	PVD_ERR_METHOD_NOT_FOUND = -32601,
	PVD_ERR_INVALID_PARAMS   = -32602,
	PVD_ERR_INTERNAL         = -32603,
	/* application */
	PVD_ERR_NO_SUCH_DOMAIN   = -32001,
	PVD_ERR_ALREADY_EXISTS   = -32002,
	PVD_ERR_INVALID_STATE    = -32003,
	PVD_ERR_QUOTA_EXCEEDED   = -32004,
	PVD_ERR_OUT_OF_MEMORY    = -32005,
	PVD_ERR_HYPERVISOR       = -32006,
	PVD_ERR_XENSTORE         = -32007,
	PVD_ERR_PERMISSION_DENIED = -32008,
};

#endif
