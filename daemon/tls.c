/*
 * tls.c - pvd's optional TCP listener with TLS (--tls-listen HOST:PORT).
 *
 * Owns the OpenSSL context and the connections still in their handshake.
 * Client certificates are required and must chain to --tls-ca; TLS 1.2 is
 * the minimum. A connection becomes a client of server.c only after its
 * handshake succeeded, with the certificate subject and peer address as its
 * identity ("tls:/CN=ops@127.0.0.1:40522") and the role --tls-roles gives
 * its subject's CN (none when unlisted). Handshakes that fail, or do
 * not finish within --frame-timeout seconds, are closed and logged; they
 * count against --max-clients so a flood cannot exhaust descriptors.
 */
#include "tls.h"

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "log.h"
#include "pvd.h"
#include "server.h"

struct tls_listener {
	struct pvd *pvd;
	SSL_CTX *ctx;
	struct evconnlistener *listener;
	int handshakes;		/* connections still negotiating */
};

struct handshake {
	struct tls_listener *t;
	char peer[64];
};

static void ssl_errors(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();

	snprintf(buf, len, "%s", e ? ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "TLS error"
				   : "connection closed");
	ERR_clear_error();
}

static void handshake_done(struct bufferevent *bev, short what, void *arg)
{
	struct handshake *h = arg;
	struct tls_listener *t = h->t;
	char caller[200], subject[88] = "?", cn[66], why[160], key[96];
	int have_cn = 0;

	t->handshakes--;
	if (what & BEV_EVENT_CONNECTED) {
		SSL *ssl = bufferevent_openssl_get_ssl(bev);
		X509 *cert = SSL_get1_peer_certificate(ssl);
		if (cert) {
			X509_NAME *name = X509_get_subject_name(cert);
			int n = X509_NAME_get_text_by_NID(name, NID_commonName, cn, sizeof(cn));
			/* OpenSSL truncates silently: a CN over 64 characters (X.509's
			 * limit), or one hiding a NUL, matches no --tls-roles line */
			have_cn = n > 0 && n <= 64 && strlen(cn) == (size_t)n;
			X509_NAME_oneline(name, subject, sizeof(subject));
			X509_free(cert);
		}
		snprintf(caller, sizeof(caller), "tls:%s@%s", subject, h->peer);
		free(h);
		bufferevent_set_timeouts(bev, NULL, NULL);
		snprintf(key, sizeof(key), "tls:%s", subject);
		server_adopt(t->pvd->server, bev, caller, roles_for_cert(&t->pvd->roles, have_cn ? cn : NULL), 1,
			     key);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		snprintf(why, sizeof(why), "handshake timed out");
	else
		ssl_errors(why, sizeof(why));
	log_info("TLS connection from %s refused: %s", h->peer, why);
	free(h);
	bufferevent_free(bev);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
	struct tls_listener *t = arg;
	struct handshake *h;
	struct bufferevent *bev;
	struct timeval tmo = { .tv_sec = t->pvd->opt.frame_timeout };
	SSL *ssl;

	(void)l;
	(void)salen;
	if (t->handshakes + server_client_count(t->pvd->server) >= t->pvd->opt.max_clients) {
		log_warn("TLS connection refused: --max-clients reached");
		evutil_closesocket(fd);
		return;
	}
	h = calloc(1, sizeof(*h));
	ssl = SSL_new(t->ctx);
	if (!h || !ssl) {
		free(h);
		SSL_free(ssl);
		evutil_closesocket(fd);
		return;
	}
	h->t = t;
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)sa;
		char ip[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		snprintf(h->peer, sizeof(h->peer), "%s:%u", ip, ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;
		char ip[INET6_ADDRSTRLEN];
		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		snprintf(h->peer, sizeof(h->peer), "[%s]:%u", ip, ntohs(in6->sin6_port));
	}
	bev = bufferevent_openssl_socket_new(t->pvd->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
					     BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		free(h);
		SSL_free(ssl);
		evutil_closesocket(fd);
		return;
	}
	t->handshakes++;
	bufferevent_setcb(bev, NULL, NULL, handshake_done, h);
	bufferevent_set_timeouts(bev, &tmo, &tmo);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

struct tls_listener *tls_listener_new(struct pvd *pvd, char *err, size_t errlen)
{
	struct tls_listener *t = calloc(1, sizeof(*t));
	struct sockaddr_storage ss;
	int sslen = sizeof(ss);
	const struct pvd_options *o = &pvd->opt;
	char why[160];

	if (!t) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->pvd = pvd;
	if (evutil_parse_sockaddr_port(o->tls_listen, (struct sockaddr *)&ss, &sslen) != 0) {
		snprintf(err, errlen, "--tls-listen %s: expected HOST:PORT (an IP address, [v6]:port)", o->tls_listen);
		goto fail;
	}
	t->ctx = SSL_CTX_new(TLS_server_method());
	if (!t->ctx) {
		snprintf(err, errlen, "cannot create a TLS context");
		goto fail;
	}
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate_chain_file(t->ctx, o->tls_cert) != 1) {
		ssl_errors(why, sizeof(why));
		snprintf(err, errlen, "--tls-cert %s: %s", o->tls_cert, why);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(t->ctx, o->tls_key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(t->ctx) != 1) {
		ssl_errors(why, sizeof(why));
		snprintf(err, errlen, "--tls-key %s: %s", o->tls_key, why);
		goto fail;
	}
	if (SSL_CTX_load_verify_locations(t->ctx, o->tls_ca, NULL) != 1) {
		ssl_errors(why, sizeof(why));
		snprintf(err, errlen, "--tls-ca %s: %s", o->tls_ca, why);
		goto fail;
	}
	SSL_CTX_set_client_CA_list(t->ctx, SSL_load_client_CA_file(o->tls_ca));
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	t->listener = evconnlistener_new_bind(pvd->base, on_accept, t,
					      LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE, 128,
					      (struct sockaddr *)&ss, sslen);
	if (!t->listener) {
		snprintf(err, errlen, "cannot listen on %s: %s", o->tls_listen,
			 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		goto fail;
	}
	return t;
fail:
	tls_listener_free(t);
	return NULL;
}

void tls_listener_free(struct tls_listener *t)
{
	if (!t)
		return;
	if (t->listener)
		evconnlistener_free(t->listener);
	SSL_CTX_free(t->ctx);
	free(t);
}
