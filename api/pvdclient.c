/*
 * pvdclient.c - libpvdclient: one connection to pvd, blocking calls.
 *
 * Owns the connection (a unix socket here, or TLS through pvdclient_tls.c,
 * both behind struct pvdc_io), a read buffer holding at most one partial
 * frame, and a FIFO of notifications received while a call waited for its
 * response.
 * Each call sends one request with a fresh integer id and reads frames until
 * the response with that id arrives; frames without an id member are
 * notifications. A connection is used by one thread at a time.
 *
 * A call's request is written as text into a buffer the connection keeps
 * (no json-c object for the envelope), and answers are parsed with the
 * connection's own json_tokener, reset per frame. Waiting for an answer
 * stays a poll before each recv: a thread blocked in recv on a unix
 * socket is also woken each time pvd reads the client's earlier bytes
 * (the kernel's write-space wake-up, which poll filters out), which cost
 * more than the poll it saved.
 */
#include "pvdclient.h"
#include "pvdc_io.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define PVDC_MAX_FRAME (64u << 20)

struct note {
	json_object *msg;
	struct note *next;
};

struct pvdc {
	int fd;
	const struct pvdc_io *io;
	void *ctx;		/* the transport's state */
	long long next_id;
	int timeout_ms;
	char *buf;
	size_t len, cap;
	char *out;		/* the request being sent, kept for the next one */
	size_t out_cap;
	json_tokener *tok;	/* parses each frame; reset before each */
	struct note *head, *tail;
};

static void seterr(struct pvdc_error *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seterr(struct pvdc_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	err->data = NULL;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

void pvdc_error_clear(struct pvdc_error *err)
{
	json_object_put(err->data);
	memset(err, 0, sizeof(*err));
}

const char *pvdc_default_socket(void)
{
	const char *env = getenv("PVD_SOCKET");

	return env && *env ? env : PVD_DEFAULT_SOCKET;
}

/* ---- the unix socket transport ---- */

static int unix_send_all(void *ctx, const char *data, size_t len, char *why, size_t whylen)
{
	int fd = (int)(intptr_t)ctx;

	while (len) {
		ssize_t w = send(fd, data, len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			snprintf(why, whylen, "%s", strerror(errno));
			return -1;
		}
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

static ssize_t unix_recv(void *ctx, char *buf, size_t len, char *why, size_t whylen)
{
	ssize_t r;

	do
		r = recv((int)(intptr_t)ctx, buf, len, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		snprintf(why, whylen, "%s", strerror(errno));
	return r;
}

static int unix_pending(void *ctx)
{
	(void)ctx;
	return 0;
}

static void unix_close(void *ctx)
{
	close((int)(intptr_t)ctx);
}

static const struct pvdc_io unix_io = { unix_send_all, unix_recv, unix_pending, unix_close };

struct pvdc *pvdc_open_io(int fd, const struct pvdc_io *io, void *ctx, struct pvdc_error *err)
{
	struct pvdc *c = calloc(1, sizeof(*c));

	if (!c) {
		io->close(ctx);
		seterr(err, PVDC_TRANSPORT, "out of memory");
		return NULL;
	}
	c->fd = fd;
	c->io = io;
	c->ctx = ctx;
	c->next_id = 1;
	c->timeout_ms = 30000;
	c->tok = json_tokener_new();
	if (!c->tok) {
		io->close(ctx);
		free(c);
		seterr(err, PVDC_TRANSPORT, "out of memory");
		return NULL;
	}
	return c;
}

struct pvdc *pvdc_connect(const char *path, struct pvdc_error *err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		seterr(err, PVDC_TRANSPORT, "socket path %s is too long", path);
		return NULL;
	}
	memcpy(sun.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		seterr(err, PVDC_TRANSPORT, "cannot connect to %s: %s (is pvd running? see --socket / PVD_SOCKET)",
		       path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	return pvdc_open_io(fd, &unix_io, (void *)(intptr_t)fd, err);
}

struct pvdc *pvdc_connect_uri(const char *uri, const struct pvdc_tls_options *tls, struct pvdc_error *err)
{
	char host[256], port[16];
	const char *hp, *colon, *end;
	const struct pvdc_io *io;
	void *ctx;
	int fd;

	if (!strncmp(uri, "unix://", 7))
		return pvdc_connect(uri + 7, err);
	if (strncmp(uri, "tls://", 6))
		return pvdc_connect(uri, err);
	hp = uri + 6;
	end = hp + strcspn(hp, "/");
	if (*hp == '[') {	/* [v6]:port */
		const char *rb = memchr(hp, ']', (size_t)(end - hp));
		colon = rb && rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
		if (colon)
			snprintf(host, sizeof(host), "%.*s", (int)(rb - hp - 1), hp + 1);
	} else {
		colon = memchr(hp, ':', (size_t)(end - hp));
		if (colon)
			snprintf(host, sizeof(host), "%.*s", (int)(colon - hp), hp);
	}
	if (!colon || colon == hp || colon + 1 == end || (size_t)(end - colon - 1) >= sizeof(port) ||
	    strspn(colon + 1, "0123456789") != (size_t)(end - colon - 1) || (*end && end[1])) {
		seterr(err, PVDC_TRANSPORT, "%s: expected tls://HOST:PORT", uri);
		return NULL;
	}
	snprintf(port, sizeof(port), "%.*s", (int)(end - colon - 1), colon + 1);
	if (!tls || !tls->cert || !tls->key || !tls->ca) {
		seterr(err, PVDC_TRANSPORT, "%s: TLS needs a client certificate, its key and the CA of pvd's "
		       "certificate (--cert, --key, --ca)", uri);
		return NULL;
	}
	if (pvdc_tls_connect(host, port, tls, &fd, &ctx, &io, err) != 0)
		return NULL;
	return pvdc_open_io(fd, io, ctx, err);
}

void pvdc_close(struct pvdc *c)
{
	if (!c)
		return;
	while (c->head) {
		struct note *n = c->head;
		c->head = n->next;
		json_object_put(n->msg);
		free(n);
	}
	c->io->close(c->ctx);
	json_tokener_free(c->tok);
	free(c->buf);
	free(c->out);
	free(c);
}

void pvdc_set_timeout(struct pvdc *c, int timeout_ms)
{
	c->timeout_ms = timeout_ms;
}

static int send_all(struct pvdc *c, const char *data, size_t len, struct pvdc_error *err)
{
	char why[256] = "";

	if (c->io->send_all(c->ctx, data, len, why, sizeof(why)) == 0)
		return 0;
	seterr(err, PVDC_TRANSPORT, "sending to pvd: %s", why);
	return -1;
}

/* Room for n more bytes after len in c->out. */
static int out_room(struct pvdc *c, size_t len, size_t n)
{
	size_t cap = c->out_cap ? c->out_cap : 256;
	char *nb;

	if (len + n <= c->out_cap)
		return 0;
	while (cap < len + n)
		cap *= 2;
	nb = realloc(c->out, cap);
	if (!nb)
		return -1;
	c->out = nb;
	c->out_cap = cap;
	return 0;
}

static int out_add(struct pvdc *c, size_t *len, const char *text, size_t n)
{
	if (out_room(c, *len, n) != 0)
		return -1;
	memcpy(c->out + *len, text, n);
	*len += n;
	return 0;
}

/*
 * The request's frame and its newline, sent in one write (one segment, one
 * TLS record: pvd is not woken for a frame without its end). The text is
 * what json-c writes for {"jsonrpc", "id", "method", "params"} in that
 * order (JSON_C_TO_STRING_PLAIN), without building that object: the
 * method's name is escaped by json-c unless it is plain ASCII.
 */
static int send_request(struct pvdc *c, long long id, const char *method, json_object *params,
			struct pvdc_error *err)
{
	char head[64];
	size_t len = 0, mlen = strlen(method);
	const char *m = method;
	json_object *quoted = NULL;
	int rc = -1;

	if (strspn(method, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != mlen) {
		quoted = json_object_new_string(method);
		m = quoted ? json_object_to_json_string_ext(quoted, JSON_C_TO_STRING_PLAIN) : NULL;
		mlen = m ? strlen(m) : 0;
	}
	if (m) {
		int hl = snprintf(head, sizeof(head), "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"method\":", id);
		const char *p = params ? json_object_to_json_string_ext(params, JSON_C_TO_STRING_PLAIN) : NULL;
		rc = out_add(c, &len, head, (size_t)hl);
		if (rc == 0 && !quoted)
			rc = out_add(c, &len, "\"", 1);
		if (rc == 0)
			rc = out_add(c, &len, m, mlen);
		if (rc == 0 && !quoted)
			rc = out_add(c, &len, "\"", 1);
		if (rc == 0 && p) {
			rc = out_add(c, &len, ",\"params\":", 10);
			if (rc == 0)
				rc = out_add(c, &len, p, strlen(p));
		}
		if (rc == 0)
			rc = out_add(c, &len, "}\n", 2);
	}
	json_object_put(quoted);
	if (rc != 0) {
		seterr(err, PVDC_TRANSPORT, "out of memory");
		return -1;
	}
	return send_all(c, c->out, len, err);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Next frame as JSON. 0 ok, 1 timeout, -1 error. */
static int read_frame(struct pvdc *c, int timeout_ms, json_object **out, struct pvdc_error *err)
{
	long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;

	for (;;) {
		char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
		if (nl) {
			size_t n = (size_t)(nl - c->buf);
			*nl = '\0';
			json_tokener_reset(c->tok);	/* the NUL ends a bare number, as json_tokener_parse's */
			*out = json_tokener_parse_ex(c->tok, c->buf, (int)n + 1);
			if (*out && json_tokener_get_error(c->tok) != json_tokener_success) {
				json_object_put(*out);
				*out = NULL;
			}
			memmove(c->buf, nl + 1, c->len - n - 1);
			c->len -= n + 1;
			if (!*out) {
				seterr(err, PVDC_TRANSPORT, "pvd sent a frame that is not JSON");
				return -1;
			}
			return 0;
		}
		if (c->cap - c->len < 65536) {
			size_t ncap = c->cap ? c->cap * 2 : 65536;
			char *nb;
			if (ncap > PVDC_MAX_FRAME) {
				seterr(err, PVDC_TRANSPORT, "pvd sent a frame larger than %u bytes", PVDC_MAX_FRAME);
				return -1;
			}
			nb = realloc(c->buf, ncap);
			if (!nb) {
				seterr(err, PVDC_TRANSPORT, "out of memory");
				return -1;
			}
			c->buf = nb;
			c->cap = ncap;
		}
		if (!c->io->pending(c->ctx)) {
			struct pollfd p = { .fd = c->fd, .events = POLLIN };
			int wait = deadline < 0 ? -1 : (int)(deadline - now_ms());
			if (deadline >= 0 && wait <= 0)
				return 1;
			int pr = poll(&p, 1, wait);
			if (pr < 0 && errno == EINTR)
				continue;
			if (pr < 0) {
				seterr(err, PVDC_TRANSPORT, "waiting for pvd: %s", strerror(errno));
				return -1;
			}
			if (pr == 0)
				return 1;
		}
		char why[256] = "";
		ssize_t r = c->io->recv(c->ctx, c->buf + c->len, c->cap - c->len, why, sizeof(why));
		if (r == -2)
			continue;
		if (r <= 0) {
			seterr(err, PVDC_TRANSPORT, "pvd closed the connection%s%s", r < 0 ? ": " : "", why);
			return -1;
		}
		c->len += (size_t)r;
	}
}

static void queue_note(struct pvdc *c, json_object *msg)
{
	struct note *n = malloc(sizeof(*n));

	if (!n) {
		json_object_put(msg);
		return;
	}
	n->msg = msg;
	n->next = NULL;
	if (c->tail)
		c->tail->next = n;
	else
		c->head = n;
	c->tail = n;
}

int pvdc_call(struct pvdc *c, const char *method, json_object *params, json_object **result,
	      struct pvdc_error *err)
{
	json_object *resp, *id, *e, *v;
	long long my_id = c->next_id++;
	int rc;

	*result = NULL;
	memset(err, 0, sizeof(*err));
	rc = send_request(c, my_id, method, params, err);
	json_object_put(params);	/* taken over, as always */
	if (rc != 0)
		return -1;
	for (;;) {
		rc = read_frame(c, c->timeout_ms, &resp, err);
		if (rc == 1) {
			seterr(err, PVDC_TRANSPORT, "no answer from pvd to %s within %d ms", method, c->timeout_ms);
			return -1;
		}
		if (rc < 0)
			return -1;
		if (!json_object_object_get_ex(resp, "id", &id)) {
			queue_note(c, resp);
			continue;
		}
		if (!json_object_is_type(id, json_type_int) || json_object_get_int64(id) != my_id) {
			json_object_put(resp);
			continue;	/* a late answer to an abandoned call */
		}
		break;
	}
	if (json_object_object_get_ex(resp, "error", &e)) {
		err->code = json_object_object_get_ex(e, "code", &v) ? json_object_get_int(v) : PVD_ERR_INTERNAL;
		snprintf(err->message, sizeof(err->message), "%s",
			 json_object_object_get_ex(e, "message", &v) ? json_object_get_string(v) : "error");
		if (json_object_object_get_ex(e, "data", &v))
			err->data = json_object_get(v);
		json_object_put(resp);
		return -1;
	}
	if (json_object_object_get_ex(resp, "result", &v))
		*result = json_object_get(v);
	json_object_put(resp);
	return 0;
}

int pvdc_next_notification(struct pvdc *c, int timeout_ms, json_object **note, struct pvdc_error *err)
{
	json_object *msg;
	int rc;

	memset(err, 0, sizeof(*err));
	for (;;) {
		if (c->head) {
			struct note *n = c->head;
			c->head = n->next;
			if (!c->head)
				c->tail = NULL;
			*note = n->msg;
			free(n);
			return 0;
		}
		rc = read_frame(c, timeout_ms, &msg, err);
		if (rc != 0)
			return rc;
		if (json_object_object_get_ex(msg, "id", NULL)) {
			json_object_put(msg);
			continue;
		}
		*note = msg;
		return 0;
	}
}
