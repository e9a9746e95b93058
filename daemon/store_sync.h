/*
 * store_sync.h - the store made durable off pvd's loop; frames held until
 * the changes before them are on disk (see store_sync.c).
 */
#ifndef PVD_STORE_SYNC_H
#define PVD_STORE_SYNC_H

#include <stddef.h>
#include <stdint.h>

struct pvd;
struct server;
struct store_sync;

/* Start the syncer for pvd->store (the database at db_path) on pvd->base:
 * from now on commits do not wait for the disk on the loop. */
struct store_sync *store_sync_new(struct pvd *pvd, const char *db_path, char *err, size_t errlen);
/* Send frame (owned from here) to a client (client != 0) or to the
 * subscribers of mask, through server s. after_commits: not before every
 * commit made so far is durable (a frame reporting a change); else at once
 * unless frames to that client are held (it follows them). y may be NULL
 * (sent at once). Held frames go through pvd->server when released. */
void store_sync_send(struct store_sync *y, struct server *s, uint64_t client, uint64_t mask, int after_commits,
		     char *frame);
/* How many fdatasyncs of the WAL failed. */
unsigned store_sync_errors(struct store_sync *y);
/* Stop the syncer after a last sync, send what was held, and commit
 * synchronously again. */
void store_sync_free(struct store_sync *y);

#endif
