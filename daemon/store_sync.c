/*
 * store_sync.c - pvd's store made durable off the loop, and what pvd says
 * about a change held until it is.
 *
 * Once pvd starts the syncer (store_sync_new), the store commits with
 * synchronous=NORMAL (store_defer_sync): a commit writes its WAL frames
 * and returns without waiting for the disk, and tells this file its
 * sequence number. The syncer thread then fdatasyncs the WAL; one
 * fdatasync covers every commit written before it started (group commit),
 * so a burst of commits costs one wait for the disk, and that wait is
 * never the loop's. The syncer also checkpoints the WAL into the database
 * from a connection of its own once the WAL passes SYNC_CHECKPOINT_BYTES
 * (sqlite syncs both files around a checkpoint; the loop's connection has
 * wal_autocheckpoint off, so it never checkpoints).
 *
 * Every frame pvd sends to a client goes through store_sync_send. One that
 * reports a change (the answer to a request that committed, a deferred
 * answer, an event notification) is held until every commit made so far
 * is durable; one that does not (the answer to a read) leaves at once,
 * unless frames to the same client are held, which it then follows. So an
 * answer still means the change is on disk, as it did when each commit
 * waited for the disk on the loop, a reader is not slowed by another
 * client's writes, and each client sees its frames in the order pvd made
 * them. (A read may show a change whose commit is not durable yet, as
 * one made a moment before the disk answered.)
 *
 * Owns: the syncer thread and its connection, the WAL's file descriptor,
 * the held frames and the eventfd the syncer wakes the loop with.
 * Invariants: done <= want <= the store's committed count; held frames
 * are in the order they were made, with nondecreasing seq; a frame leaves
 * only when done >= its seq.
 * Locking: `lock` (a leaf) guards want, done, stop and sync_errors between
 * the loop and the syncer; the held frames and everything else are the
 * loop's.
 */
#include "store_sync.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "pvd.h"
#include "server.h"
#include "store.h"

#define SYNC_CHECKPOINT_BYTES (4 << 20)

struct held {
	struct held *next;
	uint64_t seq;		/* the commits that must be durable first */
	uint64_t client;	/* 0: a broadcast to subscribers of mask */
	uint64_t mask;
	char *frame;
};

struct store_sync {
	struct pvd *pvd;
	char wal_path[4200], db_path[4100];
	int wal_fd;		/* the syncer's; -1 until the WAL exists */
	int efd;		/* the syncer -> the loop */
	struct event *ev;
	sqlite3 *ckpt;		/* the syncer's connection, for checkpoints */
	pthread_t thread;
	int started, hooked;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t want, done;	/* commits asked to be durable, made durable */
	unsigned sync_errors;
	int stop;
	uint64_t released;	/* done as the loop last saw it */
	struct held *head, **tail;
};

static int sync_wal(struct store_sync *y)
{
	if (y->wal_fd < 0)
		y->wal_fd = open(y->wal_path, O_RDONLY | O_CLOEXEC);
	if (y->wal_fd < 0)
		return errno == ENOENT ? 0 : -errno;	/* no WAL: nothing written yet */
	return fdatasync(y->wal_fd) == 0 ? 0 : -errno;
}

static void checkpoint_if_large(struct store_sync *y)
{
	struct stat st;
	int log_frames, done_frames;

	if (y->wal_fd < 0 || fstat(y->wal_fd, &st) != 0 || st.st_size < SYNC_CHECKPOINT_BYTES)
		return;
	if (!y->ckpt && sqlite3_open_v2(y->db_path, &y->ckpt, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
					NULL) != SQLITE_OK) {
		log_warn("store: checkpoint connection to %s: %s", y->db_path,
			 y->ckpt ? sqlite3_errmsg(y->ckpt) : "cannot open");
		sqlite3_close(y->ckpt);
		y->ckpt = NULL;
		return;
	}
	/* PASSIVE: never waits for the loop's connection; what it cannot
	 * copy now is copied at the next one */
	if (sqlite3_wal_checkpoint_v2(y->ckpt, NULL, SQLITE_CHECKPOINT_PASSIVE, &log_frames, &done_frames) !=
	    SQLITE_OK && sqlite3_errcode(y->ckpt) != SQLITE_BUSY)
		log_warn("store: checkpoint: %s", sqlite3_errmsg(y->ckpt));
}

static void *syncer(void *arg)
{
	struct store_sync *y = arg;

	for (;;) {
		pthread_mutex_lock(&y->lock);
		while (!y->stop && y->want == y->done)
			pthread_cond_wait(&y->cond, &y->lock);
		if (y->want == y->done) {	/* stopping, nothing left */
			pthread_mutex_unlock(&y->lock);
			break;
		}
		uint64_t target = y->want;
		pthread_mutex_unlock(&y->lock);

		int rc = sync_wal(y);	/* covers every commit up to target */
		if (rc == 0)
			checkpoint_if_large(y);
		pthread_mutex_lock(&y->lock);
		y->done = target;
		if (rc < 0)
			y->sync_errors++;
		pthread_mutex_unlock(&y->lock);
		if (rc < 0)
			log_err("store: fdatasync of %s failed: %s (changes answered since may not be on disk)",
				y->wal_path, strerror(-rc));
		uint64_t one = 1;
		if (write(y->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			log_warn("store: waking the loop: %s", strerror(errno));
	}
	return NULL;
}

/* The store committed its seq-th change (loop thread). */
static void on_commit(void *arg, uint64_t seq)
{
	struct store_sync *y = arg;

	pthread_mutex_lock(&y->lock);
	if (seq > y->want)
		y->want = seq;
	pthread_cond_signal(&y->cond);
	pthread_mutex_unlock(&y->lock);
}

static void release(struct store_sync *y)
{
	pthread_mutex_lock(&y->lock);
	y->released = y->done;
	pthread_mutex_unlock(&y->lock);
	while (y->head && y->head->seq <= y->released) {
		struct held *h = y->head;
		y->head = h->next;
		if (!y->head)
			y->tail = &y->head;
		server_deliver(y->pvd->server, h->client, h->mask, h->frame);
		free(h);
	}
}

static void on_durable(evutil_socket_t fd, short what, void *arg)
{
	uint64_t n;

	(void)what;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("store: reading the syncer's eventfd: %s", strerror(errno));
	release(arg);
}

struct store_sync *store_sync_new(struct pvd *pvd, const char *db_path, char *err, size_t errlen)
{
	struct store_sync *y = calloc(1, sizeof(*y));

	if (!y) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	y->pvd = pvd;
	y->wal_fd = -1;
	y->efd = -1;
	y->tail = &y->head;
	snprintf(y->db_path, sizeof(y->db_path), "%s", db_path);
	snprintf(y->wal_path, sizeof(y->wal_path), "%s-wal", db_path);
	pthread_mutex_init(&y->lock, NULL);
	pthread_cond_init(&y->cond, NULL);
	y->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (y->efd < 0) {
		snprintf(err, errlen, "store syncer: eventfd: %s", strerror(errno));
		goto fail;
	}
	y->ev = event_new(pvd->base, y->efd, EV_READ | EV_PERSIST, on_durable, y);
	if (!y->ev || event_add(y->ev, NULL) != 0) {
		snprintf(err, errlen, "store syncer: cannot watch its eventfd");
		goto fail;
	}
	if (store_defer_sync(pvd->store, on_commit, y) != 0) {
		snprintf(err, errlen, "store: %s", store_error(pvd->store));
		goto fail;
	}
	y->hooked = 1;
	y->done = y->want = y->released = store_committed(pvd->store);
	if (pthread_create(&y->thread, NULL, syncer, y) != 0) {
		snprintf(err, errlen, "store syncer: cannot start its thread");
		goto fail;
	}
	y->started = 1;
	return y;
fail:
	store_sync_free(y);
	return NULL;
}

static int client_has_held(const struct store_sync *y, uint64_t client)
{
	for (const struct held *h = y->head; client && h; h = h->next)
		if (h->client == client)
			return 1;
	return 0;
}

void store_sync_send(struct store_sync *y, struct server *s, uint64_t client, uint64_t mask, int after_commits,
		     char *frame)
{
	struct held *h;
	uint64_t seq;

	if (!frame)
		return;
	seq = y && after_commits ? store_committed(y->pvd->store) : 0;
	if (!y || (seq <= y->released && !client_has_held(y, client))) {
		server_deliver(s, client, mask, frame);
		return;
	}
	h = malloc(sizeof(*h));
	if (!h) {	/* cannot hold it: better late durability than a lost answer */
		server_deliver(s, client, mask, frame);
		return;
	}
	*h = (struct held){ .seq = seq, .client = client, .mask = mask, .frame = frame };
	*y->tail = h;
	y->tail = &h->next;
}

unsigned store_sync_errors(struct store_sync *y)
{
	unsigned n;

	if (!y)
		return 0;
	pthread_mutex_lock(&y->lock);
	n = y->sync_errors;
	pthread_mutex_unlock(&y->lock);
	return n;
}

void store_sync_free(struct store_sync *y)
{
	if (!y)
		return;
	if (y->started) {
		pthread_mutex_lock(&y->lock);
		y->stop = 1;
		pthread_cond_signal(&y->cond);
		pthread_mutex_unlock(&y->lock);
		pthread_join(y->thread, NULL);	/* it syncs what was asked first */
		release(y);
	}
	if (y->hooked && store_defer_sync(y->pvd->store, NULL, NULL) != 0)
		log_warn("store: back to synchronous commits: %s", store_error(y->pvd->store));
	while (y->head) {	/* not started: nothing was held */
		struct held *h = y->head;
		y->head = h->next;
		free(h->frame);
		free(h);
	}
	if (y->ev)
		event_free(y->ev);
	if (y->efd >= 0)
		close(y->efd);
	if (y->wal_fd >= 0)
		close(y->wal_fd);
	sqlite3_close(y->ckpt);
	pthread_cond_destroy(&y->cond);
	pthread_mutex_destroy(&y->lock);
	free(y);
}
