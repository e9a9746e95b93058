/*
 * server.c - pvd's JSON-RPC connections.
 *
 * Owns the unix socket (created mode 0660, group from --socket-group, a
 * stale socket replaced, a live one refused) and every client: its
 * bufferevent, frame reader, identity and subscription. Connections adopted
 * from tls.c are served the same way.
 *
 * Nothing a client does can stall the loop or another client:
 * - all I/O is non-blocking through libevent (an answer to a plain socket
 *   with nothing queued before it is written at once with MSG_DONTWAIT, the
 *   rest queued); frames over --max-request are answered with -32600 and
 *   dropped as they arrive (rpc_framing.c);
 * - a frame left incomplete --frame-timeout seconds after its first byte
 *   closes the client (more bytes do not extend it), and so does no request
 *   for --idle-timeout seconds (subscribers excepted);
 * - at most --max-clients-per-uid connections per non-root uid (per
 *   certificate subject over TLS);
 * - accept errors (EMFILE) pause the listener with a back-off instead of
 *   spinning;
 * - a client that does not read its responses is paused (no more requests
 *   read) once CLIENT_PAUSE_BYTES are queued, and dropped when
 *   --max-output bytes are queued (notifications to a silent subscriber);
 * - at most --max-clients connections; the next one gets an error and is
 *   closed.
 * Clients are freed only from the reaper event, never inside their own
 * callbacks, so a broadcast may drop any client safely.
 * Identity comes from SO_PEERCRED (uid, gid, pid) and SO_PEERGROUPS, never
 * from a request; it fixes the connection's role (roles.c) at accept.
 */
#include "server.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "../api/pvd_api.h"
#include "log.h"
#include "pvd.h"
#include "rpc.h"
#include "roles.h"
#include "rpc_framing.h"
#include "store.h"
#include "store_sync.h"

#define CLIENT_PAUSE_BYTES (1u << 20)
#define PEER_GROUPS_INLINE 64
#define ACCEPT_BACKOFF_MIN_MS 10
#define ACCEPT_BACKOFF_MAX_MS 1000

struct client {
	struct server *server;
	struct bufferevent *bev;
	struct frame_reader reader;
	char caller[160];
	char limit_key[96];	/* --max-clients-per-uid counts by this; "" = exempt */
	int role;		/* enum pvd_role, fixed at accept */
	int tls;
	struct event *timer;	/* frame deadline, else idle deadline */
	int in_frame;		/* a partial frame is pending: the timer is its deadline */
	uint64_t subscription;	/* a bit per event type (events.c) */
	int paused;		/* reading stopped until output drains */
	int dead;		/* waiting for the reaper */
	uint64_t id;		/* unique for pvd's life: a deferred answer finds its client by it */
	struct client *next, *prev;
};

struct server {
	struct pvd *pvd;
	struct evconnlistener *listener;
	struct event *reaper;
	struct event *accept_retry;	/* re-enables the listener after an accept error */
	int accept_delay_ms;		/* 0: accepting; else the current back-off */
	unsigned long accept_failures;	/* in this back-off episode */
	struct client *clients;	/* live */
	struct client *graveyard;	/* dead, freed by the reaper */
	int nclients, nsubscribers;
	uint64_t next_client_id;
	char path[108];
};

static void list_remove(struct client **head, struct client *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		*head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->next = c->prev = NULL;
}

static void list_push(struct client **head, struct client *c)
{
	c->prev = NULL;
	c->next = *head;
	if (*head)
		(*head)->prev = c;
	*head = c;
}

static void client_kill(struct client *c, const char *why)
{
	struct server *s = c->server;

	if (c->dead)
		return;
	if (why)
		log_info("client %s: %s, closing", c->caller, why);
	else
		log_debug("client %s disconnected", c->caller);
	c->dead = 1;
	if (c->timer)
		evtimer_del(c->timer);
	if (c->subscription)
		s->nsubscribers--;
	c->subscription = 0;
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	list_remove(&s->clients, c);
	s->nclients--;
	list_push(&s->graveyard, c);
	event_active(s->reaper, EV_TIMEOUT, 0);
}

static void reap(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;

	(void)fd;
	(void)what;
	while (s->graveyard) {
		struct client *c = s->graveyard;
		list_remove(&s->graveyard, c);
		bufferevent_free(c->bev);
		if (c->timer)
			event_free(c->timer);
		free(c);
	}
}

/* Write frame and its newline to a plain socket now, without blocking:
 * the bytes the socket took (0 on any error; the queued write that
 * follows meets it again and closes the client). */
static size_t write_now(int fd, const char *frame, size_t len)
{
	struct iovec iov[2] = { { (void *)frame, len }, { "\n", 1 } };
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t w;

	do
		w = sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	return w > 0 ? (size_t)w : 0;
}

/*
 * Send one frame plus its newline; drop the client if it reads too little.
 * With nothing queued for a plain socket, the frame is written at once
 * (no round through the loop waiting for the socket to be writable); what
 * the socket does not take, and every frame over TLS or behind queued
 * ones, is queued for the bufferevent to write in order.
 */
static void client_send(struct client *c, const char *frame, size_t len)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t sent = 0;

	if (c->dead)
		return;
	if (evbuffer_get_length(out) + len + 1 > (size_t)c->server->pvd->opt.max_output) {
		client_kill(c, "too much unread output (client does not read)");
		return;
	}
	if (!c->tls && evbuffer_get_length(out) == 0)
		sent = write_now(bufferevent_getfd(c->bev), frame, len);
	if (sent < len)
		evbuffer_add(out, frame + sent, len - sent);
	if (sent <= len)
		evbuffer_add(out, "\n", 1);
}

/* Every frame to a client leaves through the store's syncer, which holds
 * one reporting a change (after_commits) until the changes committed
 * before it are on disk (store_sync.c). */
static void send_text_after(struct client *c, int after_commits, char *frame)
{
	if (frame)
		store_sync_send(c->server->pvd->sync, c->server, c->id, 0, after_commits, frame);
}

static void send_text(struct client *c, char *frame)
{
	send_text_after(c, 1, frame);
}

/*
 * The client's one deadline. A partial frame (or one being dropped) must
 * end within --frame-timeout of its first byte: later bytes do not move
 * the deadline, so a byte every few seconds cannot keep a connection. With
 * no partial frame, a connection that sends no request for --idle-timeout
 * is closed, unless it is subscribed to events (it waits for them).
 * got_frame: a request (or an oversize frame) was just taken.
 */
static void client_arm(struct client *c, int got_frame)
{
	const struct pvd_options *o = &c->server->pvd->opt;
	int partial = evbuffer_get_length(bufferevent_get_input(c->bev)) > 0 || c->reader.discarding;
	struct timeval tv = { 0 };

	if (partial) {
		if (c->in_frame && !got_frame)
			return;		/* the same frame: its deadline stands */
		c->in_frame = 1;
		tv.tv_sec = o->frame_timeout;
		evtimer_add(c->timer, &tv);
		return;
	}
	if (!c->in_frame && !got_frame)
		return;			/* blank lines or nothing: the idle deadline stands */
	c->in_frame = 0;
	if (c->subscription || !o->idle_timeout) {
		evtimer_del(c->timer);
		return;
	}
	tv.tv_sec = o->idle_timeout;
	evtimer_add(c->timer, &tv);
}

static void client_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;

	(void)fd;
	(void)what;
	client_kill(c, c->in_frame ? "frame left incomplete past --frame-timeout" :
		    "no request within --idle-timeout");
}

static void client_read(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;
	struct pvd *pvd = c->server->pvd;
	struct evbuffer *in = bufferevent_get_input(bev);

	int got_frame = 0;

	while (!c->dead) {
		char *frame;
		size_t len;
		enum frame_status st;

		if (evbuffer_get_length(bufferevent_get_output(bev)) > CLIENT_PAUSE_BYTES) {
			c->paused = 1;
			bufferevent_disable(bev, EV_READ);
			break;
		}
		st = frame_next(&c->reader, in, &frame, &len);
		if (st == FRAME_NEED_MORE)
			break;
		got_frame = 1;
		if (st == FRAME_OVERSIZE) {
			char msg[160];
			json_object *d = json_object_new_object();
			json_object_object_add(d, "limit", json_object_new_int64(pvd->opt.max_request));
			snprintf(msg, sizeof(msg), "Invalid Request: frame exceeds the size limit of %ld bytes "
				 "(pvd --max-request)", pvd->opt.max_request);
			log_info("client %s: oversize frame dropped", c->caller);
			send_text(c, rpc_error_frame(PVD_ERR_INVALID_REQUEST, msg, d));
			continue;
		}
		uint64_t before = store_committed(pvd->store);
		char *answer = rpc_handle_frame(pvd->rpc, pvd, c, c->caller, frame, len);
		/* a read's answer need not wait for another client's commits */
		send_text_after(c, store_committed(pvd->store) != before, answer);
		free(frame);
	}
	if (!c->dead)
		client_arm(c, got_frame);
}

static void client_write(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;

	if (c->paused && !c->dead) {
		c->paused = 0;
		bufferevent_enable(bev, EV_READ);
		client_read(bev, c);	/* requests already buffered */
	}
}

static void client_event(struct bufferevent *bev, short what, void *arg)
{
	struct client *c = arg;

	(void)bev;
	if (what & BEV_EVENT_TIMEOUT)
		client_kill(c, "frame left incomplete past --frame-timeout");
	else if (what & BEV_EVENT_ERROR)
		client_kill(c, evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	else if (what & BEV_EVENT_EOF)
		client_kill(c, NULL);
}

/* Connections already open under key (--max-clients-per-uid). */
static int clients_with_key(const struct server *s, const char *key)
{
	int n = 0;

	for (const struct client *c = s->clients; c; c = c->next)
		n += !strcmp(c->limit_key, key);
	return n;
}

int server_adopt(struct server *s, struct bufferevent *bev, const char *caller, int role, int tls,
		 const char *limit_key)
{
	struct client *c;

	if (s->nclients >= s->pvd->opt.max_clients) {
		log_warn("refused %s: %d clients already (--max-clients)", caller, s->nclients);
		bufferevent_free(bev);
		return -1;
	}
	if (limit_key[0] && clients_with_key(s, limit_key) >= s->pvd->opt.max_clients_per_uid) {
		log_warn("refused %s: %s has %ld connections already (--max-clients-per-uid)", caller, limit_key,
			 s->pvd->opt.max_clients_per_uid);
		bufferevent_free(bev);
		return -1;
	}
	c = calloc(1, sizeof(*c));
	if (c)
		c->timer = evtimer_new(s->pvd->base, client_deadline, c);
	if (!c || !c->timer) {
		free(c);
		bufferevent_free(bev);
		return -1;
	}
	c->server = s;
	c->bev = bev;
	c->id = ++s->next_client_id;
	snprintf(c->caller, sizeof(c->caller), "%s", caller);
	c->role = role;
	c->tls = tls;
	snprintf(c->limit_key, sizeof(c->limit_key), "%s", limit_key);
	frame_reader_init(&c->reader, (size_t)s->pvd->opt.max_request);
	list_push(&s->clients, c);
	s->nclients++;
	bufferevent_setcb(bev, client_read, client_write, client_event, c);
	bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	client_arm(c, 1);	/* the idle deadline starts now */
	log_debug("client %s connected, role %s (%d clients)", c->caller, role_name(role), s->nclients);
	return 0;
}

/* The peer's supplementary groups into *groups (*n entries of room);
 * a larger list is malloc'd (the caller frees it when it is not the
 * buffer it passed). */
static int peer_groups(int fd, gid_t **groups, int *n)
{
	socklen_t len = (socklen_t)((size_t)*n * sizeof(gid_t));

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, *groups, &len) == 0) {
		*n = (int)(len / sizeof(gid_t));
		return 0;
	}
	if (errno != ERANGE || !(*groups = malloc(len)))
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, *groups, &len) != 0) {
		int e = errno;
		free(*groups);
		errno = e;
		return -1;
	}
	*n = (int)(len / sizeof(gid_t));
	return 0;
}

/* Answer a connection that is not taken with one error line, and close it. */
static void refuse(evutil_socket_t fd, const char *caller, const char *msg)
{
	char *f = rpc_error_frame(PVD_ERR_QUOTA_EXCEEDED, msg, NULL);

	if (f) {
		/* best effort on a fresh socket: one short line fits its buffer */
		if (send(fd, f, strlen(f), MSG_DONTWAIT | MSG_NOSIGNAL) > 0)
			send(fd, "\n", 1, MSG_DONTWAIT | MSG_NOSIGNAL);
		free(f);
	}
	log_warn("refused %s: %s", caller, msg);
	evutil_closesocket(fd);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
	struct server *s = arg;
	struct bufferevent *bev;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	char caller[160];
	gid_t group_buf[PEER_GROUPS_INLINE], *groups = group_buf;
	int ngroups = PEER_GROUPS_INLINE;
	enum pvd_role role;
	char key[96] = "", msg[200];

	(void)l;
	(void)sa;
	(void)salen;
	if (s->accept_delay_ms) {
		log_notice("accepting connections again after %lu failed accepts", s->accept_failures);
		s->accept_delay_ms = 0;
		s->accept_failures = 0;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0) {
		log_warn("SO_PEERCRED failed: %s; connection refused", strerror(errno));
		evutil_closesocket(fd);
		return;
	}
	snprintf(caller, sizeof(caller), "unix:uid=%u,gid=%u,pid=%d", (unsigned)cred.uid, (unsigned)cred.gid,
		 (int)cred.pid);
	if (peer_groups(fd, &groups, &ngroups) != 0) {
		log_warn("refused %s: SO_PEERGROUPS failed: %s", caller, strerror(errno));
		evutil_closesocket(fd);
		return;
	}
	role = roles_for_peer(&s->pvd->roles, cred.uid, cred.gid, groups, ngroups);
	if (groups != group_buf)
		free(groups);
	/* uid 0 and pvd's own uid are not limited per uid */
	if (cred.uid != 0 && cred.uid != geteuid())
		snprintf(key, sizeof(key), "uid=%u", (unsigned)cred.uid);
	if (s->nclients >= s->pvd->opt.max_clients) {
		snprintf(msg, sizeof(msg), "Quota exceeded: pvd already serves %d clients (--max-clients)",
			 s->nclients);
		refuse(fd, caller, msg);
		return;
	}
	if (key[0] && clients_with_key(s, key) >= s->pvd->opt.max_clients_per_uid) {
		snprintf(msg, sizeof(msg), "Quota exceeded: %s has %ld connections already (--max-clients-per-uid)",
			 key, s->pvd->opt.max_clients_per_uid);
		refuse(fd, caller, msg);
		return;
	}
	bev = bufferevent_socket_new(s->pvd->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		evutil_closesocket(fd);
		return;
	}
	server_adopt(s, bev, caller, role, 0, key);
}

/*
 * accept() failed (EMFILE, ENFILE, ENOBUFS...): the pending connection
 * stays queued, so retrying at once would spin. Stop listening for a
 * while (10 ms, doubling to 1 s while it keeps failing), keep serving the
 * clients there are, and log once per episode.
 */
static void on_accept_error(struct evconnlistener *l, void *arg)
{
	struct server *s = arg;
	int err = EVUTIL_SOCKET_ERROR();
	struct timeval tv;

	evconnlistener_disable(l);
	s->accept_failures++;
	if (!s->accept_delay_ms) {
		s->accept_delay_ms = ACCEPT_BACKOFF_MIN_MS;
		log_err("accept on the control socket failed: %s; pausing accepts (%d ms, doubling to %d ms) "
			"until it works again", evutil_socket_error_to_string(err), ACCEPT_BACKOFF_MIN_MS,
			ACCEPT_BACKOFF_MAX_MS);
	} else if (s->accept_delay_ms < ACCEPT_BACKOFF_MAX_MS) {
		s->accept_delay_ms *= 2;
		if (s->accept_delay_ms > ACCEPT_BACKOFF_MAX_MS)
			s->accept_delay_ms = ACCEPT_BACKOFF_MAX_MS;
	}
	tv.tv_sec = s->accept_delay_ms / 1000;
	tv.tv_usec = (s->accept_delay_ms % 1000) * 1000;
	evtimer_add(s->accept_retry, &tv);
}

static void accept_again(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;

	(void)fd;
	(void)what;
	evconnlistener_enable(s->listener);
}

/* Refuse to steal the socket of a running pvd; remove a stale one. */
static int clear_stale_socket(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, live;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : (snprintf(err, errlen, "%s: %s", path, strerror(errno)), -1);
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket", path);
		return -1;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	live = fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	if (fd >= 0)
		close(fd);
	if (live) {
		snprintf(err, errlen, "%s is in use by another running pvd", path);
		return -1;
	}
	if (unlink(path) != 0) {
		snprintf(err, errlen, "cannot remove stale socket %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

struct server *server_new(struct pvd *pvd, char *err, size_t errlen)
{
	struct server *s = calloc(1, sizeof(*s));
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *path = pvd->opt.socket_path;
	mode_t old;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->pvd = pvd;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "socket path %s is longer than %zu bytes", path, sizeof(sun.sun_path) - 1);
		free(s);
		return NULL;
	}
	if (clear_stale_socket(path, err, errlen) != 0) {
		free(s);
		return NULL;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	s->reaper = event_new(pvd->base, -1, 0, reap, s);
	s->accept_retry = evtimer_new(pvd->base, accept_again, s);
	old = umask(0117);	/* the socket is born 0660, never wider */
	s->listener = evconnlistener_new_bind(pvd->base, on_accept, s,
					      LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 1024,
					      (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (!s->listener || !s->reaper || !s->accept_retry) {
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
		goto fail;
	}
	snprintf(s->path, sizeof(s->path), "%s", path);
	evconnlistener_set_error_cb(s->listener, on_accept_error);
	if (chmod(path, 0660) != 0) {
		snprintf(err, errlen, "chmod %s: %s", path, strerror(errno));
		goto fail;
	}
	if (pvd->opt.socket_group) {
		struct group *g = getgrnam(pvd->opt.socket_group);
		if (!g) {
			snprintf(err, errlen, "--socket-group %s: no such group", pvd->opt.socket_group);
			goto fail;
		}
		if (chown(path, (uid_t)-1, g->gr_gid) != 0) {
			snprintf(err, errlen, "chown %s to group %s: %s", path, pvd->opt.socket_group, strerror(errno));
			goto fail;
		}
	}
	return s;
fail:
	server_free(s);
	return NULL;
}

void server_free(struct server *s)
{
	if (!s)
		return;
	while (s->clients)
		client_kill(s->clients, NULL);
	if (s->reaper)
		reap(-1, 0, s);
	if (s->listener) {
		evconnlistener_free(s->listener);
		unlink(s->path);
	}
	if (s->reaper)
		event_free(s->reaper);
	if (s->accept_retry)
		event_free(s->accept_retry);
	free(s);
}

void server_broadcast(struct server *s, uint64_t type_bit, const char *frame, size_t len)
{
	char *copy = malloc(len + 1);

	if (!copy)
		return;
	memcpy(copy, frame, len);
	copy[len] = '\0';
	store_sync_send(s->pvd->sync, s, 0, type_bit, 1, copy);
}

void server_deliver(struct server *s, uint64_t client, uint64_t mask, char *frame)
{
	struct client *c = s ? s->clients : NULL, *next;
	size_t len = strlen(frame);

	for (; c; c = next) {
		next = c->next;	/* client_send may move c to the graveyard */
		if (c->dead)
			continue;
		if (client ? c->id == client : (c->subscription & mask) != 0)
			client_send(c, frame, len);
		if (client && c->id == client)
			break;
	}
	free(frame);
}

int server_client_count(struct server *s)
{
	return s->nclients;
}

int server_subscriber_count(struct server *s)
{
	return s->nsubscribers;
}

void client_set_subscription(struct client *c, uint64_t mask)
{
	if (c->dead)
		return;
	c->server->nsubscribers += (mask != 0) - (c->subscription != 0);
	c->subscription = mask;
	client_arm(c, 1);	/* a subscriber has no idle deadline */
}

uint64_t client_subscription(const struct client *c)
{
	return c->subscription;
}

int client_role(const struct client *c)
{
	return c->role;
}

int client_is_tls(const struct client *c)
{
	return c->tls;
}

uint64_t client_id(const struct client *c)
{
	return c ? c->id : 0;
}

int server_send_to(struct server *s, uint64_t id, char *frame)
{
	for (struct client *c = s ? s->clients : NULL; c; c = c->next)
		if (c->id == id && !c->dead) {
			send_text(c, frame);
			return 0;
		}
	free(frame);
	return -1;
}
