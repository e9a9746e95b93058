/*
 * blk_fixture.h - what blkback's unit tests share (test_blkback.c,
 * test_blkback_batch.c): a fake host whose "grants" are pages of this
 * process (refs 1..NPAGES, READONLY_REF read-only; each grant of a batch
 * checked on its own, calls and grants counted), an in-memory xenstore
 * server, an image in a temporary file, one disk "data" of domain DOMID,
 * and the frontend's side: the handshake, requests pushed and answered.
 */
#ifndef TESTS_BLK_FIXTURE_H
#define TESTS_BLK_FIXTURE_H

#include <stdint.h>

#include <public/io/blkif.h>
#include <public/io/xs_wire.h>

#include "blkback.h"
#include "xenstore.h"

#define NPAGES 40
#define READONLY_REF 9
#define SECTORS 2048		/* a 1 MiB disk */
#define DOMID 5

struct fixture {
	struct xs_server *xs;
	struct blkback *b;
	struct blkback_host host;
	char image[64];
	int fd;
	uint8_t *pages;		/* page r-1 is grant ref r */
	int maps, unmaps, notifies, shut_logs;
	int map_calls, unmap_calls;	/* host calls (batches) */
	struct blkif_front_ring ring;
	char fpath[64], bpath[96];
	uint64_t next_id;
	uint8_t last_op;	/* the operation of the last response */
	struct { char scope[8]; int level; uint64_t allocated, quota; } ev[32];	/* quota events */
	int nev;
	/* the asynchronous host (setup_async): calls started, not yet answered */
	struct { int unmap, bind; void *cookie; struct blkback_grant *g; const uint32_t *handles; unsigned n;
		 uint32_t domid, remote; uint32_t own[64]; } call[16];
	int ncalls;
	/* ports bound and closed; bind_fail: the next binds are refused */
	int binds, closes, bind_fail;
	char last_log[400];
	char journal_log[200];	/* the last "published from the journal" line */
	char jdir[40];		/* the rings' journals (host.journal_dir) */
};

/* cmocka setup/teardown: the fixture with the disk added (teardown checks
 * every grant mapped was unmapped). */
int setup(void **state);
int teardown(void **state);
/* What teardown frees after blkback is closed. */
void fixture_free(struct fixture *f);
/* The same with an asynchronous host (grant_map_start / grant_unmap_start):
 * a request's calls wait in f->call until answer_calls. */
int setup_async(void **state);
/* The same, the connect's calls asynchronous too (evtchn_bind_start):
 * the disk's ring map and port bind wait in f->call, and the unmaps of a
 * disconnect are started with no cookie. */
int setup_async_connect(void **state);
/* The "hypervisor" answers every call started so far (the fake's checks,
 * then blkback_call_done); how many it answered. */
int answer_calls(struct fixture *f);
/* The same for call i alone (the others stay, in order). */
void answer_call(struct fixture *f, int i);
void xs_put(struct fixture *f, const char *dir, const char *key, const char *v);
long xs_get(struct fixture *f, const char *dir, const char *key);
/* The frontend's half of the handshake: ring on grant ref 1. */
void front_connect(struct fixture *f);
/* The same without the checks: its keys written (port 3), state
 * Initialised, one poll (an asynchronous connect only starts there). */
void front_init(struct fixture *f);
/* The frontend closes and connects again, now with persistent grants. */
void reconnect_persistent(struct fixture *f);
/* Push req, run the backend until it answers (at most 5 s): the status,
 * or 99 when no answer came. */
int submit(struct fixture *f, struct blkif_request *req);
/* One segment: sectors first..last of the page of gref. */
struct blkif_request rw(uint8_t op, uint64_t sector, uint32_t gref, uint8_t first, uint8_t last);
/* An indirect request of nseg segments listed in the page of iref. */
struct blkif_request indirect(uint8_t op, uint64_t sector, uint16_t nseg, uint32_t iref);

#endif
