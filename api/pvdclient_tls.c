/*
 * pvdclient_tls.c - libpvdclient's TLS transport: the client side of pvd's
 * --tls-listen (daemon/tls.c).
 *
 * Owns the TCP socket, the OpenSSL context and connection. TLS 1.2 or
 * later; the client presents its certificate (pvd requires one) and
 * verifies pvd's against the given CA and against the host name or IP
 * address it connected to. After the handshake the socket is non-blocking:
 * pvdclient.c polls it, and a read that finds no complete record yet
 * answers "poll again" rather than blocking past the caller's timeout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <fcntl.h>

#include "pvdc_io.h"

#define TLS_CONNECT_TIMEOUT_MS 15000

struct tls_conn {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
};

/* The first queued OpenSSL error (or a verify result) as text. */
static void ssl_why(SSL *ssl, char *why, size_t len)
{
	unsigned long e = ERR_get_error();
	long v = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;

	if (v != X509_V_OK)
		snprintf(why, len, "pvd's certificate: %s", X509_verify_cert_error_string(v));
	else if (e)
		snprintf(why, len, "%s", ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "TLS error");
	else
		snprintf(why, len, "%s", errno ? strerror(errno) : "connection closed");
	ERR_clear_error();
}

/* Wait until fd is ready for what SSL asked (rc its return); 0 ok, -1 timed out. */
static int wait_ssl(struct tls_conn *t, int rc, int timeout_ms)
{
	struct pollfd p = { .fd = t->fd };
	int e = SSL_get_error(t->ssl, rc);

	if (e == SSL_ERROR_WANT_READ)
		p.events = POLLIN;
	else if (e == SSL_ERROR_WANT_WRITE)
		p.events = POLLOUT;
	else
		return -2;
	return poll(&p, 1, timeout_ms) > 0 ? 0 : -1;
}

static int tls_send_all(void *ctx, const char *data, size_t len, char *why, size_t whylen)
{
	struct tls_conn *t = ctx;

	while (len) {
		int n = SSL_write(t->ssl, data, len > 1 << 30 ? 1 << 30 : (int)len);
		if (n > 0) {
			data += n;
			len -= (size_t)n;
			continue;
		}
		int w = wait_ssl(t, n, 30000);
		if (w == 0)
			continue;
		if (w == -1)
			snprintf(why, whylen, "timed out");
		else
			ssl_why(NULL, why, whylen);
		return -1;
	}
	return 0;
}

static ssize_t tls_recv(void *ctx, char *buf, size_t len, char *why, size_t whylen)
{
	struct tls_conn *t = ctx;
	int n = SSL_read(t->ssl, buf, len > 1 << 30 ? 1 << 30 : (int)len);

	if (n > 0)
		return n;
	switch (SSL_get_error(t->ssl, n)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return -2;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	default:
		ssl_why(NULL, why, whylen);
		return -1;
	}
}

static int tls_pending(void *ctx)
{
	struct tls_conn *t = ctx;

	return SSL_pending(t->ssl) > 0;
}

static void tls_close(void *ctx)
{
	struct tls_conn *t = ctx;

	if (!t)
		return;
	if (t->ssl) {
		SSL_shutdown(t->ssl);
		SSL_free(t->ssl);
	}
	SSL_CTX_free(t->ctx);
	if (t->fd >= 0)
		close(t->fd);
	free(t);
}

static const struct pvdc_io tls_io = { tls_send_all, tls_recv, tls_pending, tls_close };

/* A TCP connection to host:port (the first address that answers). */
static int tcp_connect(const char *host, const char *port, struct pvdc_error *err)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res, *ai;
	int rc = getaddrinfo(host, port, &hints, &res), fd = -1, saved = 0;

	if (rc != 0) {
		snprintf(err->message, sizeof(err->message), "cannot resolve %s: %s", host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		saved = errno;
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(err->message, sizeof(err->message), "cannot connect to %s port %s: %s (is pvd listening "
			 "there with --tls-listen?)", host, port, strerror(saved));
	return fd;
}

static int fail(struct pvdc_error *err, struct tls_conn *t, const char *step, const char *what)
{
	char why[256];

	ssl_why(t->ssl, why, sizeof(why));
	snprintf(err->message, sizeof(err->message), "TLS: %s %s: %s", step, what, why);
	tls_close(t);
	return -1;
}

int pvdc_tls_connect(const char *host, const char *port, const struct pvdc_tls_options *opts, int *fd,
		     void **ctx, const struct pvdc_io **io, struct pvdc_error *err)
{
	struct tls_conn *t = calloc(1, sizeof(*t));
	unsigned char addr[16];
	int is_ip, rc;

	err->code = PVDC_TRANSPORT;
	err->data = NULL;
	if (!t) {
		snprintf(err->message, sizeof(err->message), "out of memory");
		return -1;
	}
	t->fd = -1;
	t->ctx = SSL_CTX_new(TLS_client_method());
	if (!t->ctx)
		return fail(err, t, "creating", "a context");
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate_chain_file(t->ctx, opts->cert) != 1)
		return fail(err, t, "--cert", opts->cert);
	if (SSL_CTX_use_PrivateKey_file(t->ctx, opts->key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(t->ctx) != 1)
		return fail(err, t, "--key", opts->key);
	if (SSL_CTX_load_verify_locations(t->ctx, opts->ca, NULL) != 1)
		return fail(err, t, "--ca", opts->ca);
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
	t->ssl = SSL_new(t->ctx);
	if (!t->ssl)
		return fail(err, t, "creating", "a connection");
	/* pvd's certificate must name what we connected to */
	is_ip = inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
	if (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), host) != 1
		  : SSL_set1_host(t->ssl, host) != 1 || SSL_set_tlsext_host_name(t->ssl, host) != 1)
		return fail(err, t, "checking for", host);
	t->fd = tcp_connect(host, port, err);
	if (t->fd < 0) {
		tls_close(t);
		return -1;
	}
	if (fcntl(t->fd, F_SETFL, fcntl(t->fd, F_GETFL) | O_NONBLOCK) != 0 || SSL_set_fd(t->ssl, t->fd) != 1)
		return fail(err, t, "setting up", "the socket");
	while ((rc = SSL_connect(t->ssl)) != 1) {
		int w = wait_ssl(t, rc, TLS_CONNECT_TIMEOUT_MS);
		if (w == -1) {
			errno = ETIMEDOUT;
			return fail(err, t, "handshake with", host);
		}
		if (w != 0)
			return fail(err, t, "handshake with", host);
	}
	*fd = t->fd;
	*ctx = t;
	*io = &tls_io;
	return 0;
}
