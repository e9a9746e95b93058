/*
 * blkback_internal.h - what the three parts of blkback share (blkback.h
 * lists them). Not for users of the library.
 *
 * Ownership: struct blk_dev lives in blkback.c's table; a slot is reused
 * only when its device is gone and nothing of it is in flight (a request
 * is in flight from its take to its answer: d->in_flight, its host calls
 * included). A struct blk_io belongs to the loop thread until
 * blk_io_submit, to one worker until it is on the done list, and to the
 * loop thread again after blk_io_take_done; while a host call of its is
 * under way (b->waiting) its g[] and unmap[] are the host's to fill or
 * read, and nothing else of it is touched until blkback_call_done. Workers touch only the io (its fd, offset and iovecs
 * over mapped guest frames) and, for a quota'd disk or domain, the
 * device's quota_lock and its domain's struct blk_dquota (both alive while
 * the device has I/O in flight).
 */
#ifndef DOM0_BLKBACK_INTERNAL_H
#define DOM0_BLKBACK_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <sys/uio.h>

#include <public/io/blkif.h>

#include "blkback.h"

/* The connection with the frontend. */
enum blk_conn {
	BLK_WAITING,		/* backend InitWait: the frontend has not connected */
	BLK_CONNECTING,		/* the ring's map or the port's bind under way (d->connecting) */
	BLK_CONNECTED,		/* ring mapped, port bound */
	BLK_CLOSED,		/* the frontend closed; waiting for it to start again */
};

/* A token bucket (blkback_limit.c): rate per second, 0 = unlimited. */
struct blk_bucket {
	uint64_t rate;
	double burst;			/* what the bucket holds: `burst`, or one second of rate */
	double tokens;
	uint64_t last_ns;
};

/* A grant kept mapped for the life of the connection (persistent
 * grants, negotiated with feature-persistent), in an open-addressing
 * table keyed by gref (page NULL: a free slot). */
struct blk_pgrant {
	uint32_t gref, handle;
	void *page;
};
/* Kept grants per connection, Linux blkback's default (4 MiB of the
 * guest's): Domain 0's maptrack (8192 mappings for every guest) is shared. */
#define BLK_MAX_PGRANTS 1056
#define BLK_PGRANT_SLOTS (2 * BLK_MAX_PGRANTS)

/* Offered to the frontend: rings of up to 2^4 pages (512 requests),
 * indirect requests of up to 256 segments (1 MiB) in one indirect page. */
#define BLK_MAX_RING_ORDER 4
#define BLK_MAX_RING_PAGES (1u << BLK_MAX_RING_ORDER)
#define BLK_MAX_SEGS 256
/* Indirect pages of a request of BLK_MAX_SEGS segments. */
#define BLK_MAX_INDIRECT_PAGES ((BLK_MAX_SEGS + BLKIF_SEGS_PER_INDIRECT_FRAME - 1) / BLKIF_SEGS_PER_INDIRECT_FRAME)
/* A request's own mappings (its indirect pages and segments) are unmapped in one call. */
_Static_assert(BLK_MAX_SEGS + BLK_MAX_INDIRECT_PAGES <= BLKBACK_GRANT_BATCH_MAX, "a request's grants fit a batch");

#define BLK_DQUOTA_MAX_DISKS 16
#define BLK_IO_SPARE 128
#define BLK_SECTOR 512u

/* A domain's disk_quota, shared by its devices (blkback_quota.c). */
struct blk_dquota {
	pthread_mutex_t lock;		/* a worker holds it from the check to the end of the write */
	uint64_t quota;			/* bytes; 0: none (written under lock) */
	int fd[BLK_DQUOTA_MAX_DISKS];	/* the writable disks' images (under lock) */
	unsigned nfd;
	uint32_t domid;
	unsigned members;		/* devices in the group (loop thread) */
	int level;			/* the last level reported: 0, 80, 95, 100 */
	int gone;			/* the domain is gone */
	struct blk_dquota *next;
};

/* A device's ios in the I/O engine (blkback_io.c), under its lock: what
 * tells the loop of completions (see blk_io_take_done). */
struct blk_io_count {
	unsigned pending;		/* submitted, not yet done */
	unsigned done;			/* done, not yet taken by the loop */
	unsigned peak;			/* most in the engine (pending + done) since it last had none */
};

struct blk_dev {
	int used;
	/* Held by a worker from the quota check to the end of the write, so
	 * that two writes cannot both fit in what is left (quota'd disks). */
	pthread_mutex_t quota_lock;
	uint64_t quota;			/* bytes; 0: none */
	int qlevel;			/* the last level of quota reported: 0, 80, 95, 100 */
	struct blk_dquota *dq;		/* its domain's group */
	uint32_t domid, devid, index;
	char name[40];
	int fd;
	uint64_t sectors;
	int readonly;
	char bpath[96], fpath[96];	/* backend and frontend xenstore dirs */
	enum blk_conn conn;
	int gone;			/* the domain is gone: finish and free */
	int shut;			/* the ring is shut (a hostile request) */
	int detaching;			/* blkback_detach: gone once the frontend closed */
	int force_detach;		/* ... or at once, once the I/O in flight is answered */
	void *ring_page;		/* the ring: one page, or ring_area for several */
	void *ring_area;		/* a multi-page ring's contiguous mapping (blkback_ring_map) */
	uint32_t nring;			/* ring pages mapped (handles in ring_handle[]) */
	uint32_t ring_handle[BLK_MAX_RING_PAGES], port;
	uint64_t ring_frame[BLK_MAX_RING_PAGES];
	struct blkif_back_ring ring;
	/* Answers wait here, by slot, until every earlier request is
	 * answered: the ring's answers are always those of its first
	 * requests, in order (blkback_ring.c), RING_SIZE entries. */
	struct blk_answer *pend;
	struct blk_journal *jr;		/* the answer being published (a mapped file), or NULL */
	RING_IDX notified;		/* rsp_prod when the frontend was last considered for an event */
	uint32_t in_flight;		/* requests taken, and a connect under way */
	struct blk_connect *connecting;	/* BLK_CONNECTING: the connect's record */
	int persistent;			/* the frontend uses persistent grants */
	int barrier;			/* a WRITE_BARRIER in flight: nothing after it is taken */
	struct blk_pgrant *pg;		/* BLK_PGRANT_SLOTS when persistent; npg used */
	uint32_t npg;
	struct blk_bucket bps, iops;	/* I/O limits (blkback_limit.c) */
	struct blkback_stats st;
	struct blk_io_count ioc;	/* the I/O engine's (its lock) */
};

/* An answer waiting for the earlier requests' (blkback_ring.c). */
struct blk_answer {
	uint64_t id;
	int16_t status;
	uint8_t op;
	uint8_t set;
};

/* The publication journal of a device, one page of a file that outlives
 * the process (STATE/machine/blk-journal): the answer being written into
 * the ring, so that a process killed between the answer's write and the
 * producer index's can be completed by the next one (blkback_ring.c). */
struct blk_journal {
	uint32_t magic;			/* BLK_JOURNAL_MAGIC */
	RING_IDX slot;			/* the answer written (or being written) last */
	uint64_t frame;			/* the ring's first frame: the journal is this ring's */
	uint64_t id;			/* the answer in slot */
	int16_t status;
	uint8_t op;
};
#define BLK_JOURNAL_MAGIC 0x6a6b6c62u

/* Where a request is (blkback_ring.c): its grants being mapped (the
 * indirect pages, then the segments), its I/O with a worker, its own
 * grants being unmapped before it is answered. */
enum blk_stage { BLK_S_NEW, BLK_S_MAP_INDIRECT, BLK_S_MAP_SEGS, BLK_S_IO, BLK_S_UNMAP };

struct blk_io {
	struct blk_dev *dev;
	RING_IDX slot;			/* where its request was in the ring: its answer goes there */
	uint64_t id;
	uint8_t op;
	enum blk_stage stage;
	int waiting;			/* a host call of its is under way (on b->waiting) */
	int counted;			/* counted in st.mapped_requests */
	struct blkif_request req;	/* the copy taken from the ring */
	unsigned nsegs;			/* segments to map (seg) */
	uint64_t sector;
	unsigned ng, room, nmap;	/* the batch being mapped (g, at, page below) */
	struct blk_io *wnext;		/* b->waiting */
	int16_t status;			/* BLKIF_RSP_* set by the worker */
	int fd;
	uint64_t quota;			/* the disk's, bytes (0: none) */
	pthread_mutex_t *quota_lock;	/* the disk's */
	struct blk_dquota *dq;		/* the domain's quota */
	int over_quota;			/* set by the worker (BLK_OVER_*): refused, nothing written */
	uint64_t offset, len;		/* bytes */
	unsigned nseg;			/* entries of iov (adjacent segments share one) */
	unsigned nunmap;		/* entries of unmap */
	struct blk_io *next;
	struct blk_io_count *count;	/* its device's, for the I/O engine */
	/* The arrays, from here to the end: each entry is written before it
	 * is read (up to nsegs, ng, nmap, nunmap, nseg), so a spare io is
	 * zeroed only up to here (io_new): 1 MiB requests come one after the
	 * other, and the whole io is ~20 KiB. */
	struct blkif_request_segment seg[BLK_MAX_SEGS];	/* the segments (an indirect request's, copied) */
	/* g[j] for grefs not kept; at[i] = its index in g for segment (or
	 * indirect page) i, or -1 when kept (page[i]) */
	struct blkback_grant g[BLK_MAX_SEGS];
	int at[BLK_MAX_SEGS];
	void *page[BLK_MAX_SEGS];
	/* this request's own mappings (not kept grants): unmapped together when it is done */
	uint32_t unmap[BLK_MAX_SEGS + BLK_MAX_INDIRECT_PAGES];
	struct iovec iov[BLK_MAX_SEGS];
};

enum { BLK_OVER_DISK = 1, BLK_OVER_DOMAIN = 2 };

/* A connect under way (blkback.c): its ring map, then its port bind,
 * host calls of the loop's; it counts in d->in_flight, so that the slot
 * outlives it, and is on b->connects until its calls are over. */
struct blk_connect {
	struct blk_dev *dev;
	uint32_t refs[BLK_MAX_RING_PAGES], n, order, remote_port;
	struct blkback_grant g[BLK_MAX_RING_PAGES];
	int binding;			/* the bind is under way (else the map) */
	struct blk_connect *next;
};

struct blkback {
	struct blkback_host host;
	struct blk_dquota *dquotas;	/* one per domain with a device */
	struct xs_server *xs;
	struct blk_io_engine *io;
	struct blk_dev dev[BLKBACK_MAX_DEVICES];
	uint32_t rr;			/* round-robin start of the next poll */
	struct blk_io *waiting;		/* requests with a host call under way */
	unsigned nwaiting;
	/* ios answered, kept for the next requests (up to BLK_IO_SPARE):
	 * a 1 MiB request's io is ~20 KiB, which malloc would give back to
	 * the system and fault in again request after request */
	struct blk_io *spare;
	unsigned nspare;
	struct blk_connect *connects;	/* connects with a host call under way */
	unsigned nconnects;
};

/* blkback.c */
void blk_log(struct blkback *b, int warn, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Shut the device's ring for a hostile request: log, backend Closing. */
void blk_shut(struct blkback *b, struct blk_dev *d, const char *why);

/* blkback_grant.c */
/* Map the frontend's ring pages (refs[0..n-1], n a power of two up to
 * BLK_MAX_RING_PAGES) into d->ring_page, contiguous. 0 or -errno with err. */
int blk_ring_map(struct blkback *b, struct blk_dev *d, const uint32_t *refs, uint32_t n, char *err, size_t errlen);
/* The second half of blk_ring_map, for g[0..n) as the host's map filled
 * them (rc, gerr: what it returned). */
int blk_ring_mapped(struct blkback *b, struct blk_dev *d, const uint32_t *refs, struct blkback_grant *g, uint32_t n,
		    int rc, const char *gerr, char *err, size_t errlen);
/* The same for the pages of a ring an earlier process mapped (frames
 * and handles recorded in pvcore-ring). */
int blk_ring_adopt(struct blkback *b, struct blk_dev *d, const uint64_t *frames, const uint32_t *handles,
		   uint32_t n, char *err, size_t errlen);
/* Unmap the ring's pages and the kept grants. */
void blk_ring_unmap(struct blkback *b, struct blk_dev *d);
/* Drop this process's view of the ring (the grants stay mapped). */
void blk_ring_forget(struct blk_dev *d);
/* Kept grants: the page of gref or NULL; how many more may be kept; keep one. */
void *blk_pg_find(const struct blk_dev *d, uint32_t gref);
unsigned blk_pg_room(const struct blk_dev *d);
void blk_pg_add(struct blk_dev *d, uint32_t gref, uint32_t handle, void *page);
/* Unmap handles[0..n) (any n) in as few host calls as the batch bound allows. */
void blk_grants_unmap(struct blkback *b, const uint32_t *handles, unsigned n);

/* blkback_ring.c */
/* The ring of bytes at d->ring_page set up: a new connection's (its
 * journal created), or (resume) the one a dead process served, taken
 * over where its answers end: an answer the journal says was being
 * written when it died is written again. 0, or -ENOMEM. */
int blk_ring_begin(struct blkback *b, struct blk_dev *d, size_t bytes, int resume);
/* The ring's answers and journal dropped; keep_journal: for the next
 * process (this one exits), else the file is removed (the connection ends). */
void blk_ring_end(struct blkback *b, struct blk_dev *d, int keep_journal);
/* Take up to max requests from the ring (validate, map, submit). */
void blk_ring_serve(struct blkback *b, struct blk_dev *d, unsigned max);
/* The event for the answers published since the last push, when the
 * frontend asked for it (rsp_event). */
void blk_ring_push(struct blkback *b, struct blk_dev *d);
/* A finished io: unmap its grants, answer it, free it. */
void blk_ring_complete(struct blkback *b, struct blk_io *io);
/* The ios kept for later requests freed (blkback_close). */
void blk_ring_free_spares(struct blkback *b);
/* A request's host call is over (blkback_call_done). */
void blk_ring_call_done(struct blkback *b, struct blk_io *io, int rc, const char *err);

/* blkback_limit.c */
/* burst: what the bucket holds (0: one second of rate). */
void blk_bucket_init(struct blk_bucket *k, uint64_t rate, uint64_t burst);
/* 1: a request of `bytes` may go now (its cost taken); 0: it waits. */
int blk_limit_take(struct blk_dev *d, uint64_t bytes);

/* blkback_quota.c */
/* A worker's write under the disk's and the domain's quotas: -EDQUOT
 * (io->over_quota set), nothing written, when it would pass one. */
int blk_quota_write(struct blk_io *io, struct iovec *iov);
/* The device joins (its image counted if writable) or leaves its domain's group. */
int blk_quota_join(struct blkback *b, struct blk_dev *d);
void blk_quota_leave(struct blkback *b, struct blk_dev *d);
void blk_quota_domain_gone(struct blkback *b, uint32_t domid);
void blk_quota_free_all(struct blkback *b);
/* A new device's level as it is (reported only when it rises later: a
 * restart of pvd does not report again what its predecessor did). */
void blk_quota_settle(struct blkback *b, struct blk_dev *d);
/* After a write, discard or refusal is done: counters, levels, events. */
void blk_quota_after(struct blkback *b, struct blk_io *io);
void blk_quota_fill_stats(const struct blk_dev *d, struct blkback_stats *st);

/* blkback_io.c */
/* The iovecs of n segments over their mapped pages (page[i], the bytes
 * first_sect..last_sect of each): a segment whose bytes start where the
 * previous entry's end extends it. Returns the entries written (<= n). */
unsigned blk_io_iovecs(struct iovec *iov, void *const *page, const struct blkif_request_segment *seg, unsigned n);
/* preadv/pwritev all of the iovecs (a read past EOF gives zeros). 0 or -errno. */
int blk_io_transfer(int fd, int write, struct iovec *iov, unsigned n, uint64_t offset);
struct blk_io_engine;
int blk_io_start(unsigned workers, struct blk_io_engine **out, char *err, size_t errlen);
/* Joins the workers after the queue is empty. */
void blk_io_stop(struct blk_io_engine *e);
int blk_io_event_fd(const struct blk_io_engine *e);
/* io to a worker; count: its device's ios in the engine (alive until
 * every io of the device is taken done). */
void blk_io_submit(struct blk_io_engine *e, struct blk_io *io, struct blk_io_count *count);
/* The done list (oldest first), emptied; clears the event fd. The fd is
 * made readable once per batch of completions: when a device's last io
 * in the engine is done, or when a quarter of the most it has had in the
 * engine since it last had none are done and not yet taken. So a deep
 * queue (a guest's 256 reads of 1 MiB) wakes the loop four times, not
 * per completion, while a device with nothing more in the engine is
 * answered at once, whatever other devices have queued. */
struct blk_io *blk_io_take_done(struct blk_io_engine *e);

#endif
