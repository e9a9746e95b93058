/*
 * pvdclient.h - libpvdclient: a small blocking client for pvd's JSON-RPC
 * API over its unix socket or over TLS with a client certificate (see
 * pvdclient.c, pvdclient_tls.c). Used by pvctl and the bench. Link with
 * json-c and OpenSSL (libssl, libcrypto).
 */
#ifndef PVDCLIENT_H
#define PVDCLIENT_H

#include <json-c/json.h>
#include <stddef.h>

#include "pvd_api.h"

struct pvdc;

#define PVDC_TRANSPORT 1	/* err.code when the failure is not a JSON-RPC error */

struct pvdc_error {
	int code;		/* JSON-RPC error code, or PVDC_TRANSPORT */
	char message[512];
	json_object *data;	/* the error's data member, or NULL; freed by pvdc_error_clear */
};

/* $PVD_SOCKET, else PVD_DEFAULT_SOCKET. */
const char *pvdc_default_socket(void);

struct pvdc *pvdc_connect(const char *path, struct pvdc_error *err);

/* The client side of pvd's --tls-listen: this client's certificate and
 * key (PEM) and the CA that signed pvd's certificate. pvd's certificate
 * must match the host name or IP address connected to. */
struct pvdc_tls_options {
	const char *cert, *key, *ca;
};

/*
 * Connect to a URI: "unix:///path/to/pvd.sock" (or a plain path), or
 * "tls://HOST:PORT" (HOST a name, an IPv4 address or [IPv6]) with tls.
 */
struct pvdc *pvdc_connect_uri(const char *uri, const struct pvdc_tls_options *tls, struct pvdc_error *err);
void pvdc_close(struct pvdc *c);

/* How long pvdc_call waits for its response (default 30000 ms; <0 = forever). */
void pvdc_set_timeout(struct pvdc *c, int timeout_ms);

/*
 * Call method with params (an object or NULL; taken over by the call).
 * 0: *result holds the result (caller owns it). -1: err says why.
 * Notifications that arrive meanwhile are queued for pvdc_next_notification.
 */
int pvdc_call(struct pvdc *c, const char *method, json_object *params, json_object **result,
	      struct pvdc_error *err);

/*
 * Next queued or arriving notification; waits up to timeout_ms (<0 = forever).
 * 0: *note holds it. 1: timed out. -1: err says why (e.g. pvd went away).
 */
int pvdc_next_notification(struct pvdc *c, int timeout_ms, json_object **note, struct pvdc_error *err);

void pvdc_error_clear(struct pvdc_error *err);

#endif
