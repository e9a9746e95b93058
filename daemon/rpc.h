/*
 * rpc.h - the JSON-RPC 2.0 protocol layer of pvd (see rpc.c): frames in,
 * responses out, methods dispatched through one table checked against
 * api/pvd.openrpc.json.
 */
#ifndef PVD_RPC_H
#define PVD_RPC_H

#include <json-c/json.h>
#include <stddef.h>

struct pvd;
struct client;
struct rpc;
struct rpc_pending;

/* One call as a handler sees it. */
struct rpc_req {
	struct pvd *pvd;
	struct client *client;	/* the connection; NULL when called in-process */
	const char *caller;	/* identity for logs and the event log */
	const char *method;
	/* set by rpc_fail */
	int err_code;
	char err_msg[512];
	json_object *err_data;
	struct rpc_pending *pending;	/* set by rpc_defer */
};

/* A handler's return when its answer comes later (rpc_defer). */
#define RPC_DEFERRED 1

typedef int (*rpc_handler)(struct rpc_req *req, json_object *params, json_object **result);

struct rpc_method {
	const char *name;
	rpc_handler handler;
};

/* The dispatch table (rpc_methods.c), NULL-terminated. */
extern const struct rpc_method rpc_methods[];

/*
 * Build the protocol layer from the embedded OpenRPC document. Fails when
 * the dispatch table and the document do not list exactly the same methods.
 */
struct rpc *rpc_new(char *err, size_t errlen);
void rpc_free(struct rpc *r);
json_object *rpc_document(struct rpc *r);

/*
 * Handle one frame (a JSON value without its newline, NUL-terminated). Returns the response
 * frame (malloc'd, no newline) or NULL when nothing is to be sent (only
 * notifications). Never fails: every problem becomes a JSON-RPC error.
 */
char *rpc_handle_frame(struct rpc *r, struct pvd *pvd, struct client *client, const char *caller,
		       const char *frame, size_t len);

/* A standalone error response (id null), e.g. for an oversize frame. */
char *rpc_error_frame(int code, const char *message, json_object *data);

/* For handlers whose params raise the role a call needs (what names the
 * use, e.g. "domain.console with input"): 0 when the caller has needed
 * (an enum pvd_role), else -32008 recorded and logged as for a method,
 * and -1. */
int rpc_require_role(struct rpc_req *req, int needed, const char *what);

/*
 * For handlers whose work finishes later (a domain build in hv's worker):
 * the call's answer is given by rpc_finish, exactly once, and the handler
 * returns RPC_DEFERRED. The returned token carries a request of its own
 * (the same pvd, caller and method; client NULL) for rpc_fail and the
 * helpers that take one. The connection keeps being served meanwhile;
 * the answer goes to it if it is still open (in a batch, the batch's
 * frame is sent once its last deferred call is answered: JSON-RPC lets
 * a batch's answers come in any order).
 */
struct rpc_pending *rpc_defer(struct rpc_req *req);
struct rpc_req *rpc_pending_req(struct rpc_pending *p);
/* result (taken over) when the token's request has no error recorded. */
void rpc_finish(struct rpc_pending *p, json_object *result);

/*
 * For handlers that write their result as JSON text (domain.list): a
 * result that serializes to exactly text (malloc'd, taken over; valid JSON,
 * written with the flags responses use: plain, no slash escapes). It is an
 * empty array to anything that walks it rather than serializing it.
 */
json_object *rpc_text_result(char *text);

/* For handlers: record an error (data is taken over) and return -1. */
int rpc_fail(struct rpc_req *req, int code, json_object *data, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
