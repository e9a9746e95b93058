/*
 * pvdc_io.h - libpvdclient's transports, internal to the library: how
 * pvdclient.c moves bytes over a unix socket (plain send/recv) or TLS
 * (pvdclient_tls.c, OpenSSL). pvdclient.c owns framing and calls; a
 * transport owns only its connection.
 */
#ifndef PVDC_IO_H
#define PVDC_IO_H

#include <stddef.h>
#include <sys/types.h>

#include "pvdclient.h"

struct pvdc_io {
	/* All of len, or -1 (errno set, or *why filled). */
	int (*send_all)(void *ctx, const char *data, size_t len, char *why, size_t whylen);
	/* Bytes read, 0 at end of stream, -1 error (why filled), or -2: nothing
	 * yet, poll the fd again (a TLS record not complete). */
	ssize_t (*recv)(void *ctx, char *buf, size_t len, char *why, size_t whylen);
	/* Whether bytes are already buffered inside the transport (poll would not see them). */
	int (*pending)(void *ctx);
	void (*close)(void *ctx);
};

/* A connection over an open stream fd with a transport (ctx is its state). */
struct pvdc *pvdc_open_io(int fd, const struct pvdc_io *io, void *ctx, struct pvdc_error *err);

/* Connect to HOST:PORT over TLS with opts; *fd and *ctx for pvdc_open_io.
 * 0, or -1 with err naming the step that failed. */
int pvdc_tls_connect(const char *host, const char *port, const struct pvdc_tls_options *opts, int *fd,
		     void **ctx, const struct pvdc_io **io, struct pvdc_error *err);

#endif
