/* tls.h - optional JSON-RPC over TLS with client certificates (see tls.c). */
#ifndef PVD_TLS_H
#define PVD_TLS_H

#include <stddef.h>

struct pvd;
struct tls_listener;

struct tls_listener *tls_listener_new(struct pvd *pvd, char *err, size_t errlen);
void tls_listener_free(struct tls_listener *t);

#endif
