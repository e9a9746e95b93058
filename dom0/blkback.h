/*
 * blkback.h - the virtual block device backend (Xen's blkif protocol,
 * public/io/blkif.h), a library driven by pvd's event loop.
 *
 *   blkback.c       devices, the XenbusState handshake in xenstore, polling
 *   blkback_grant.c a device's guest pages: its ring (multi-page rings
 *                   mapped contiguous) and its persistent grants
 *   blkback_ring.c  the shared ring: requests (direct and indirect) copied
 *                   and validated, grants mapped, responses
 *   blkback_io.c    the I/O engine: worker threads doing the file I/O
 *   blkback_limit.c I/O limits: token buckets for bytes/s and ops/s
 *   blkback_quota.c disk quotas per disk and per domain, their events
 *
 * The library never blocks the loop on file I/O: requests go to worker
 * threads that read and write straight between the image file and the
 * guest's granted frames (mapped through the host's grant_map_batch,
 * never a frame the guest did not grant); a completion makes
 * blkback_event_fd() readable, and blkback_poll() then answers the guest.
 * Grant map/unmap (batched: one map call for a request's grants, one
 * unmap call when it is done) and event-channel calls go through the
 * host callbacks, on the loop thread only. A host with asynchronous
 * control calls (pvd) gives grant_map_start / grant_unmap_start: a
 * request then waits for its grants' mapping (and its answer for its
 * own grants' unmapping) without the loop waiting, and goes on in
 * blkback_call_done. With evtchn_bind_start too, a device's connect
 * (ring map, then port bind) and disconnect (ring and kept grants
 * unmapped, port closed: started, nobody waits) never wait either. Errors are negative errno values with one line in err.
 */
#ifndef DOM0_BLKBACK_H
#define DOM0_BLKBACK_H

#include <stddef.h>
#include <stdint.h>

struct xs_server;

/* A quota of a disk ("disk") or of its domain's disks ("domain") reached
 * level 80 or 95 (% of it allocated) or 100 (full: one more filesystem
 * block would not fit), or (level 0) refused a write of disk. */
struct blkback_quota_event {
	uint32_t domid;
	const char *disk;
	const char *scope;
	int level;
	uint64_t allocated, quota;	/* bytes, of the disk or of the domain's disks */
};

/* One grant of a batch: gref and readonly in (set by blkback); status,
 * page, frame and handle out (set by the host's grant_map_batch). */
struct blkback_grant {
	uint32_t gref;
	int readonly;
	int status;		/* 0: mapped; else -errno, this grant alone refused */
	void *page;		/* valid until its handle is unmapped */
	uint64_t frame;		/* names the page for frame_page */
	uint32_t handle;
};

/* At most this many grants in one grant_map_batch / grant_unmap_batch:
 * a request's 256 segments and its indirect page fit in one. */
#define BLKBACK_GRANT_BATCH_MAX 512

/* What the host (pvd) does for the backend. All called on the loop thread. */
struct blkback_host {
	void *arg;
	/* A directory for the rings' publication journals (files named
	 * <journal_prefix><domid>-<devid>), kept across a restart of the
	 * host so that the next process completes an answer cut short (NULL:
	 * none; a SIGKILL between an answer's write and its publication then
	 * leaves that answer to chance). */
	const char *journal_dir, *journal_prefix;
	/* Map the pages domid granted as g[0..n) (1 <= n <= BLKBACK_GRANT_BATCH_MAX;
	 * read-only where readonly) in one go, each checked on its own: its
	 * status, and when 0 its page, frame and handle. Returns 0 when every
	 * entry has its status (err: why the first refused one was refused),
	 * or -errno with err when none was mapped. */
	int (*grant_map_batch)(void *arg, uint32_t domid, struct blkback_grant *g, unsigned n, char *err,
			       size_t errlen);
	/* The page of a frame mapped by an earlier process (a ring kept
	 * across a restart of the host), NULL if it is not RAM. */
	void *(*frame_page)(void *arg, uint64_t frame);
	/* Unmap handles[0..n) (1 <= n <= BLKBACK_GRANT_BATCH_MAX) in one go;
	 * the host logs a handle it could not unmap. */
	void (*grant_unmap_batch)(void *arg, const uint32_t *handles, unsigned n);
	/* Bind a Domain 0 port to the domain's remote_port. */
	int (*evtchn_bind)(void *arg, uint32_t domid, uint32_t remote_port, uint32_t *port, char *err,
			   size_t errlen);
	void (*evtchn_close)(void *arg, uint32_t port);
	void (*notify)(void *arg, uint32_t port);
	/* One log line; warn: a guest's fault or a failure, else a notice. */
	void (*log)(void *arg, int warn, const char *line);
	/* A quota reached a level or refused a write (NULL: not told). */
	void (*quota_event)(void *arg, const struct blkback_quota_event *ev);
	/* Asynchronous forms of a request's grant map and unmap (both or
	 * neither; NULL: the calls above, which finish before they return).
	 * 0: started, and the host calls blkback_call_done(b, cookie, rc,
	 * err) later on the loop thread (never from inside the start), g
	 * filled as grant_map_batch fills it; g and handles stay untouched
	 * by blkback until then. -errno with err: nothing was started. */
	int (*grant_map_start)(void *arg, uint32_t domid, struct blkback_grant *g, unsigned n, void *cookie,
			       char *err, size_t errlen);
	int (*grant_unmap_start)(void *arg, const uint32_t *handles, unsigned n, void *cookie, char *err,
				 size_t errlen);
	/* The asynchronous form of evtchn_bind, for a device's connect (NULL:
	 * evtchn_bind). 0: started, and the host calls blkback_bind_done(b,
	 * cookie, rc, port, err) later on the loop thread; -errno with err:
	 * nothing was started. With it, a connect's ring map goes through
	 * grant_map_start too, and every unmap of the ring and of kept
	 * grants through grant_unmap_start with a NULL cookie (nobody waits
	 * for it; its done is then a no-op). */
	int (*evtchn_bind_start)(void *arg, uint32_t domid, uint32_t remote_port, void *cookie, char *err,
				 size_t errlen);
};

struct blkback;

/* One disk of a domain. */
struct blkback_disk {
	const char *name;	/* the config's disk name (log lines) */
	const char *image;	/* the image file (xenstore's params; opened here without image_fd) */
	int image_fd;		/* > 0: the image, opened by the host (taken, closed on failure) */
	uint64_t size_bytes;	/* the virtual size (a multiple of 512) */
	int readonly;
	uint32_t index;		/* 0 = xvda, 1 = xvdb ... */
	uint64_t quota_bytes;	/* 0: none; else the image's allocated bytes may not pass it */
	uint64_t bps, iops;	/* I/O limits per second, 0 = unlimited */
	uint64_t burst;		/* bytes the bps bucket holds; 0: one second of bps */
};

struct blkback_stats {
	uint64_t reads, writes, flushes, discards, errors, bytes_read, bytes_written;
	uint64_t quota_refusals;	/* writes refused: they would have passed the quota */
	uint64_t throttled;		/* times a request waited for the I/O limits */
	/* Requests' grant maps (not the ring's): requests that mapped grants,
	 * the host's map and unmap calls for them, the grants they mapped. */
	uint64_t mapped_requests, map_calls, unmap_calls, grants_mapped;
	uint32_t in_flight;
	int connected, shut;
	uint64_t size_bytes, allocated;		/* the image's virtual size and st_blocks * 512 */
	uint64_t quota;				/* 0: none */
	uint64_t domain_quota, domain_allocated;	/* the domain's writable disks together */
	uint64_t bps, iops, burst;		/* the limits in force */
};

#define BLKBACK_MAX_DEVICES 256
#define BLKBACK_DEFAULT_WORKERS 4

int blkback_open(const struct blkback_host *host, struct xs_server *xs, unsigned workers,
		 struct blkback **out, char *err, size_t errlen);
/* A host call started with grant_map_start / grant_unmap_start is over:
 * rc 0 (each grant's status filled) or the call's error (err names it). */
void blkback_call_done(struct blkback *b, void *cookie, int rc, const char *err);
/* The bind started with evtchn_bind_start is over: rc 0 and the port
 * bound, or the call's error (err names it). */
void blkback_bind_done(struct blkback *b, void *cookie, int rc, uint32_t port, const char *err);
/* Requests and connects waiting for a host call (the host's close waits for none, or
 * cancels its calls first: blkback_close frees those requests). */
unsigned blkback_host_calls(const struct blkback *b);

/* Waits for the I/O in flight and frees this process's resources; the
 * rings and kept grants stay mapped for the next process (the guests
 * keep running: blkback_resume). NULL is accepted. */
void blkback_close(struct blkback *b);

/* Readable when I/O completed: call blkback_poll. */
int blkback_event_fd(const struct blkback *b);

/* Handshakes, rings and completions of every device. */
void blkback_poll(struct blkback *b);

/* A disk for domain domid: opens the image (read-only when the disk is),
 * writes the backend and frontend xenstore nodes, and waits for the
 * frontend. Call before the domain is unpaused. */
int blkback_add(struct blkback *b, uint32_t domid, const struct blkback_disk *d, char *err,
		size_t errlen);

/* After a restart of the host: a disk of a domain that kept running. Its
 * xenstore nodes are as the last process left them: a connected ring
 * (recorded in the backend's pvcore-ring node: frame, grant handle,
 * port) is taken over, and the requests the guest put that have no
 * response yet are served (again: a write the dead process did is
 * written once more, with the same data); otherwise the handshake goes
 * on from where it is. */
int blkback_resume(struct blkback *b, uint32_t domid, const struct blkback_disk *d, char *err,
		   size_t errlen);

/* The domain is gone (destroyed or dying): its devices stop; their
 * mappings are dropped as soon as their I/O in flight is done. */
void blkback_domain_gone(struct blkback *b, uint32_t domid);

/* Hot unplug of domid's disk `name`: the backend goes Closing and the
 * device goes when the frontend closed (force: once the I/O in flight is
 * answered, whatever the frontend does). 0 = gone already, 1 = pending
 * (blkback_device_state tells), -ENOENT with err. */
int blkback_detach(struct blkback *b, uint32_t domid, const char *name, int force, char *err, size_t errlen);

enum { BLKBACK_DEV_NONE, BLKBACK_DEV_ATTACHED, BLKBACK_DEV_DETACHING };
/* Where domid's disk `name` is; for one detaching, why = the frontend's
 * error node ("" when it wrote none). */
int blkback_device_state(const struct blkback *b, uint32_t domid, const char *name, char *why, size_t whylen);

/* Does domid have a disk here (not gone)? */
int blkback_has_domain(const struct blkback *b, uint32_t domid);

/* Live changes; -ENOENT if domid has no disk of that name (no disk at
 * all for set_domain_quota). A raised quota lets the next write in. */
int blkback_set_quota(struct blkback *b, uint32_t domid, const char *name, uint64_t quota_bytes);
int blkback_set_domain_quota(struct blkback *b, uint32_t domid, uint64_t quota_bytes);
int blkback_set_limits(struct blkback *b, uint32_t domid, const char *name, uint64_t bps, uint64_t iops,
		       uint64_t burst);

/* Counters of one disk; -ENOENT if domid has no disk of that name. */
int blkback_stats(const struct blkback *b, uint32_t domid, const char *name, struct blkback_stats *st);

#endif
