/*
 * blkback.c - the block backend's devices and their XenbusState handshake
 * (see blkback.h).
 *
 * Owns: struct blkback and its table of devices, the xenstore nodes of
 * each device:
 *   /local/domain/0/backend/vbd/<domid>/<devid>   Domain 0's (the guest reads)
 *     frontend, frontend-id, online, removable, bootable, dev, type, mode,
 *     params, sectors, sector-size, physical-sector-size, info,
 *     feature-flush-cache, feature-barrier, feature-persistent, max-ring-page-order,
 *     feature-max-indirect-segments, feature-discard, discard-granularity,
 *     discard-alignment, discard-secure, state, pvcore-ring (the connected
 *     ring's frames, grant handles and port, for the next process)
 *   /local/domain/<domid>/device/vbd/<devid>        the guest's
 *     backend, backend-id, virtual-device, device-type, state
 *     (the frontend adds ring-ref or ring-page-order and ring-ref0..N,
 *     event-channel, protocol, feature-persistent)
 * devid is Linux's xvd number: 51712 for xvda, +16 per disk.
 *
 * The handshake, polled (pvd polls on every doorbell kick and tick):
 * backend InitWait; frontend Initialised or Connected with its ring-ref
 * and event-channel -> the ring is mapped, the port bound, backend
 * Connected; frontend Closing/Closed -> no new requests, and once the
 * I/O in flight is answered the ring is unmapped, backend Closed; a
 * frontend that starts again (Initialising) finds the backend in
 * InitWait. A shut ring (blkback_ring.c) stays shut until the frontend
 * closes and starts again.
 * Detach (hot unplug, as xl block-detach): the backend goes Closing; once
 * the frontend closed (or at once with force, once the I/O in flight is
 * answered) the ring is unmapped, the port closed, both directories
 * removed and the slot freed. A frontend that does not close keeps the
 * device; blkback_device_state says so, with the frontend's error node.
 *
 * The connect is a small state machine (struct blk_connect, on
 * b->connects): the device goes BLK_CONNECTING, the ring's map is
 * started (an asynchronous host's grant_map_start) and, once mapped, the
 * port's bind (evtchn_bind_start); on the bind's answer the backend
 * writes Connected. A failed map or bind undoes what succeeded (the ring
 * unmapped again) and shuts the device with a log line naming domain,
 * disk and cause. A device whose domain went, that is being detached or
 * whose frontend left Initialised/Connected while its connect was under
 * way is not connected: the completion unmaps the late ring, closes the
 * late port and lets the device go on (or go). A synchronous host's
 * calls run the same steps at once. Disconnects start their unmaps and
 * the port's close and wait for neither (blkback_grant.c).
 *
 * Invariants: a device's ring and grants stay mapped while any of its
 * requests is in flight (taken and not answered: waiting for its grants'
 * map, its I/O or its own grants' unmap); a connect under way counts in
 * d->in_flight too; a slot is freed only when the device is gone and
 * nothing is in flight. A call nobody waits for (an unmap or a close)
 * carries no pointer into a device. Everything here runs on the loop
 * thread.
 */
#include "blkback_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <public/io/xs_wire.h>

#include "xenstore.h"

#define SERVE_PER_POLL 32	/* requests taken from one ring per poll */
#define DISCARD_GRANULARITY 4096

void blk_log(struct blkback *b, int warn, const char *fmt, ...)
{
	char line[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	b->host.log(b->host.arg, warn, line);
}

static void put(struct blkback *b, const char *dir, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void put(struct blkback *b, const char *dir, const char *key, const char *fmt, ...)
{
	char path[160], value[600];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/%s", dir, key);
	rc = xs_local_write(b->xs, path, value);
	if (rc < 0)
		blk_log(b, 1, "blkback: writing %s: %s", path, strerror(-rc));
}

/* A node's value ("" terminated); -ENOENT when absent. */
static int get(struct blkback *b, const char *dir, const char *key, char *buf, uint32_t size)
{
	char path[160];
	uint32_t len = size - 1;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	rc = xs_local(b->xs, XS_READ, path, (uint32_t)strlen(path) + 1, buf, &len);
	if (rc < 0)
		return rc;
	buf[len < size ? len : size - 1] = '\0';
	return 0;
}

static int get_uint(struct blkback *b, const char *dir, const char *key, uint32_t *out)
{
	char v[32], *end;
	unsigned long n;
	int rc = get(b, dir, key, v, sizeof(v));

	if (rc < 0)
		return rc;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || end == v || *end || n > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)n;
	return 0;
}

static void set_state(struct blkback *b, struct blk_dev *d, enum xenbus_state s)
{
	put(b, d->bpath, "state", "%d", (int)s);
}

void blk_shut(struct blkback *b, struct blk_dev *d, const char *why)
{
	blk_log(b, 1, "blkback: domain %u disk %s: ring shut: %s", d->domid, d->name, why);
	d->shut = 1;
	d->st.shut = 1;
	put(b, d->bpath, "error", "ring shut: %s", why);
	set_state(b, d, XenbusStateClosing);
}

int blkback_open(const struct blkback_host *host, struct xs_server *xs, unsigned workers, struct blkback **out,
		 char *err, size_t errlen)
{
	struct blkback *b = calloc(1, sizeof(*b));
	int rc;

	if (!b) {
		snprintf(err, errlen, "blkback: out of memory");
		return -ENOMEM;
	}
	b->host = *host;
	b->xs = xs;
	rc = blk_io_start(workers, &b->io, err, errlen);
	if (rc < 0) {
		free(b);
		return rc;
	}
	*out = b;
	return 0;
}

static void unmap_ring(struct blkback *b, struct blk_dev *d, int close_port)
{
	if (d->ring_page && close_port)
		b->host.evtchn_close(b->host.arg, d->port);
	blk_ring_end(b, d, 0);
	blk_ring_unmap(b, d);
	d->st.connected = 0;
}

static void release(struct blkback *b, struct blk_dev *d)
{
	unmap_ring(b, d, 0);	/* the hypervisor closed the port with the domain */
	blk_quota_leave(b, d);
	if (d->fd >= 0)
		close(d->fd);
	pthread_mutex_destroy(&d->quota_lock);
	memset(d, 0, sizeof(*d));
}

static void complete_done(struct blkback *b)
{
	struct blk_io *io = blk_io_take_done(b->io), *next;

	for (; io; io = next) {
		next = io->next;
		blk_ring_complete(b, io);
	}
}

static struct blk_connect *find_connect(struct blkback *b, void *cookie)
{
	struct blk_connect *k = b->connects;

	while (k && k != cookie)
		k = k->next;
	return k;
}

static void connect_mapped(struct blkback *b, struct blk_connect *k, int rc, const char *gerr);
static void connect_bound(struct blkback *b, struct blk_connect *k, int rc, uint32_t port, const char *err);

void blkback_call_done(struct blkback *b, void *cookie, int rc, const char *err)
{
	struct blk_connect *k;

	if (!cookie)
		return;		/* an unmap nobody waits for */
	if ((k = find_connect(b, cookie)))
		connect_mapped(b, k, rc, err);
	else
		blk_ring_call_done(b, cookie, rc, err);
}

void blkback_bind_done(struct blkback *b, void *cookie, int rc, uint32_t port, const char *err)
{
	struct blk_connect *k = find_connect(b, cookie);

	if (k)
		connect_bound(b, k, rc, port, err);
}

unsigned blkback_host_calls(const struct blkback *b)
{
	return b->nwaiting + b->nconnects;
}

void blkback_close(struct blkback *b)
{
	if (!b)
		return;
	blk_io_stop(b->io);	/* the queue runs dry first */
	b->io = NULL;
	/* requests whose host call the host cancelled (it waits for none or
	 * cancels them first): what they mapped stays mapped, as kept grants do */
	while (b->waiting) {
		struct blk_io *io = b->waiting;
		b->waiting = io->wnext;
		free(io);
	}
	blk_ring_free_spares(b);
	while (b->connects) {	/* the same for connects */
		struct blk_connect *k = b->connects;
		b->connects = k->next;
		free(k);
	}
	/* The guests keep running: rings and kept grants stay mapped for the
	 * next process (blkback_resume), which also answers what the engine
	 * finished but nobody answered. Only this process's resources go. */
	for (int i = 0; i < BLKBACK_MAX_DEVICES; i++) {
		struct blk_dev *d = &b->dev[i];
		if (!d->used)
			continue;
		if (d->fd >= 0)
			close(d->fd);
		free(d->pg);
		blk_ring_end(b, d, 1);
		blk_ring_forget(d);
		pthread_mutex_destroy(&d->quota_lock);
	}
	blk_quota_free_all(b);
	free(b);
}

int blkback_event_fd(const struct blkback *b)
{
	return blk_io_event_fd(b->io);
}

/* feature-persistent: both ends offer it. */
static void use_persistent(struct blkback *b, struct blk_dev *d)
{
	uint32_t v = 0;

	if (get_uint(b, d->fpath, "feature-persistent", &v) == 0 && v == 1)
		d->pg = calloc(BLK_PGRANT_SLOTS, sizeof(*d->pg));
	d->persistent = d->pg != NULL;
}

/* The pvcore-ring record: "<frame> <handle> <port>", then "<frame>
 * <handle>" for each further page of a multi-page ring. */
static void record_ring(struct blkback *b, struct blk_dev *d)
{
	char rec[BLK_MAX_RING_PAGES * 34 + 40];
	int n = snprintf(rec, sizeof(rec), "%" PRIu64 " %u %u", d->ring_frame[0], d->ring_handle[0], d->port);

	for (uint32_t i = 1; i < d->nring && n > 0 && (size_t)n < sizeof(rec); i++)
		n += snprintf(rec + n, sizeof(rec) - (size_t)n, " %" PRIu64 " %u", d->ring_frame[i], d->ring_handle[i]);
	put(b, d->bpath, "pvcore-ring", "%s", rec);
}

/* The ring mapped and the port bound: the device is Connected. */
static void connected(struct blkback *b, struct blk_dev *d, const struct blk_connect *k, uint32_t port)
{
	d->port = port;
	use_persistent(b, d);
	d->conn = BLK_CONNECTED;
	if (blk_ring_begin(b, d, XEN_RING_PAGE_SIZE << k->order, 0) < 0) {
		blk_shut(b, d, "out of memory for the ring's answers");
		return;
	}
	d->st.connected = 1;
	record_ring(b, d);
	set_state(b, d, XenbusStateConnected);
	blk_log(b, 0, "blkback: domain %u disk %s (device %u) connected: ring ref %u (%u page%s, %u requests), "
		"port %u, %" PRIu64 " sectors%s%s", d->domid, d->name, d->devid, k->refs[0], k->n, k->n > 1 ? "s" : "",
		RING_SIZE(&d->ring), k->remote_port, d->sectors, d->readonly ? ", read-only" : "",
		d->persistent ? ", persistent grants" : "");
}

static void handshake(struct blkback *b, struct blk_dev *d);

/* Does the device still want the connect under way? Not when its domain
 * went, it is being detached, or the frontend left Initialised/Connected
 * meanwhile. */
static int connect_wanted(struct blkback *b, struct blk_dev *d)
{
	uint32_t fstate;

	if (d->gone || d->detaching || d->shut)
		return 0;
	return get_uint(b, d->fpath, "state", &fstate) == 0 &&
	       (fstate == XenbusStateInitialised || fstate == XenbusStateConnected);
}

/* A connect is over (connected, failed or abandoned): its record goes,
 * and the device goes on from where it is (released when its domain
 * went and nothing else is in flight). */
static void connect_end(struct blkback *b, struct blk_connect *k)
{
	struct blk_dev *d = k->dev;
	struct blk_connect **pp = &b->connects;

	while (*pp && *pp != k)
		pp = &(*pp)->next;
	if (*pp) {
		*pp = k->next;
		b->nconnects--;
	}
	free(k);
	d->connecting = NULL;
	d->in_flight--;
	if (d->conn == BLK_CONNECTING)
		d->conn = BLK_WAITING;
	if (d->gone) {
		if (!d->in_flight)
			release(b, d);
		return;
	}
	handshake(b, d);
}

/* The port is bound (rc 0) or could not be: the end of the connect. */
static void connect_bound(struct blkback *b, struct blk_connect *k, int rc, uint32_t port, const char *err)
{
	struct blk_dev *d = k->dev;
	char why[300];

	if (rc < 0) {
		blk_ring_unmap(b, d);
		if (connect_wanted(b, d)) {
			snprintf(why, sizeof(why), "event-channel %u: %s", k->remote_port, err);
			blk_shut(b, d, why);
		}
	} else if (!connect_wanted(b, d)) {
		b->host.evtchn_close(b->host.arg, port);
		blk_ring_unmap(b, d);
		blk_log(b, 0, "blkback: domain %u disk %s: connect abandoned (the device or the frontend went)",
			d->domid, d->name);
	} else {
		connected(b, d, k, port);
	}
	connect_end(b, k);
}

/* The ring's map is over: bind the port next (the map first: a ring
 * that cannot be mapped needs no port). */
static void connect_mapped(struct blkback *b, struct blk_connect *k, int rc, const char *gerr)
{
	struct blk_dev *d = k->dev;
	uint32_t port = 0;
	char err[300];

	rc = blk_ring_mapped(b, d, k->refs, k->g, k->n, rc, gerr, err, sizeof(err));
	if (rc < 0 || !connect_wanted(b, d)) {
		if (rc < 0 && connect_wanted(b, d))
			blk_shut(b, d, err);
		else if (rc == 0)
			blk_ring_unmap(b, d);
		connect_end(b, k);
		return;
	}
	k->binding = 1;
	if (b->host.evtchn_bind_start) {
		rc = b->host.evtchn_bind_start(b->host.arg, d->domid, k->remote_port, k, err, sizeof(err));
		if (rc == 0)
			return;		/* blkback_bind_done */
	} else {
		rc = b->host.evtchn_bind(b->host.arg, d->domid, k->remote_port, &port, err, sizeof(err));
	}
	connect_bound(b, k, rc, port, err);
}

static void connect_ring(struct blkback *b, struct blk_dev *d)
{
	uint32_t refs[BLK_MAX_RING_PAGES], remote_port, order = 0, n;
	char proto[32], err[200], why[300];
	struct blk_connect *k;
	int rc;

	if (get_uint(b, d->fpath, "ring-page-order", &order) == 0 && order > BLK_MAX_RING_ORDER) {
		snprintf(why, sizeof(why), "ring-page-order %u (max-ring-page-order is %d)", order, BLK_MAX_RING_ORDER);
		blk_shut(b, d, why);
		return;
	}
	n = 1u << order;
	for (uint32_t i = 0; i < n; i++) {
		char key[24];
		snprintf(key, sizeof(key), order ? "ring-ref%u" : "ring-ref", i);
		if (get_uint(b, d->fpath, key, &refs[i]) < 0) {
			snprintf(why, sizeof(why), "the frontend is Initialised without a valid %s (ring-page-order %u)",
				 key, order);
			blk_shut(b, d, why);
			return;
		}
	}
	if (get_uint(b, d->fpath, "event-channel", &remote_port) < 0) {
		blk_shut(b, d, "the frontend is Initialised without a valid event-channel");
		return;
	}
	if (get(b, d->fpath, "protocol", proto, sizeof(proto)) == 0 && strcmp(proto, "x86_64-abi")) {
		snprintf(why, sizeof(why), "protocol \"%s\" (only x86_64-abi)", proto);
		blk_shut(b, d, why);
		return;
	}
	k = calloc(1, sizeof(*k));
	if (!k) {
		blk_shut(b, d, "out of memory");
		return;
	}
	k->dev = d;
	memcpy(k->refs, refs, sizeof(refs));
	k->n = n;
	k->order = order;
	k->remote_port = remote_port;
	for (uint32_t i = 0; i < n; i++)
		k->g[i] = (struct blkback_grant){ .gref = refs[i] };
	k->next = b->connects;
	b->connects = k;
	b->nconnects++;
	d->connecting = k;
	d->conn = BLK_CONNECTING;
	d->in_flight++;
	if (b->host.evtchn_bind_start && b->host.grant_map_start) {
		rc = b->host.grant_map_start(b->host.arg, d->domid, k->g, n, k, err, sizeof(err));
		if (rc == 0)
			return;		/* blkback_call_done */
	} else {
		rc = b->host.grant_map_batch(b->host.arg, d->domid, k->g, n, err, sizeof(err));
	}
	connect_mapped(b, k, rc, err);
}

/* A detached device: its directories go, then the slot. */
static void detached(struct blkback *b, struct blk_dev *d)
{
	xs_local_rm(b->xs, d->fpath);
	xs_local_rm(b->xs, d->bpath);
	blk_log(b, 0, "blkback: domain %u disk %s detached", d->domid, d->name);
	release(b, d);
}

static void handshake(struct blkback *b, struct blk_dev *d)
{
	uint32_t fstate;

	if (get_uint(b, d->fpath, "state", &fstate) < 0)
		fstate = XenbusStateClosed;	/* removed or garbage: the frontend is gone */
	if (d->conn == BLK_CONNECTING)
		return;		/* its completion looks at the frontend again */
	if (d->detaching && d->force_detach && d->conn == BLK_CONNECTED)
		fstate = XenbusStateClosed;	/* forced: as if the frontend had closed */
	if (d->detaching && d->conn != BLK_CONNECTED) {
		detached(b, d);
		return;
	}
	switch (d->conn) {
	case BLK_WAITING:
		if (!d->shut && (fstate == XenbusStateInitialised || fstate == XenbusStateConnected))
			connect_ring(b, d);
		else if (fstate == XenbusStateClosing || fstate == XenbusStateClosed) {
			d->conn = BLK_CLOSED;
			set_state(b, d, XenbusStateClosed);
		}
		break;
	case BLK_CONNECTED:
		if (fstate != XenbusStateClosing && fstate != XenbusStateClosed && fstate != XenbusStateInitialising)
			break;
		if (d->in_flight)
			break;		/* their answers first */
		unmap_ring(b, d, 1);
		{
			char path[160];
			snprintf(path, sizeof(path), "%s/pvcore-ring", d->bpath);
			xs_local_rm(b->xs, path);
		}
		d->conn = BLK_CLOSED;
		set_state(b, d, XenbusStateClosed);
		blk_log(b, 0, "blkback: domain %u disk %s disconnected (grants of %" PRIu64 " requests: %" PRIu64
			" map calls, %" PRIu64 " unmap calls, %" PRIu64 " grants mapped)", d->domid, d->name,
			d->st.mapped_requests, d->st.map_calls, d->st.unmap_calls, d->st.grants_mapped);
		break;
	case BLK_CONNECTING:
		break;
	case BLK_CLOSED:
		if (fstate == XenbusStateInitialising || fstate == XenbusStateInitWait) {
			char path[160];
			snprintf(path, sizeof(path), "%s/error", d->bpath);
			xs_local_rm(b->xs, path);
			d->shut = 0;
			d->st.shut = 0;
			d->conn = BLK_WAITING;
			set_state(b, d, XenbusStateInitWait);
		}
		break;
	}
}

void blkback_poll(struct blkback *b)
{
	complete_done(b);
	for (int k = 0; k < BLKBACK_MAX_DEVICES; k++)
		if (b->dev[k].used)
			blk_ring_push(b, &b->dev[k]);	/* before a close unmaps the ring */
	for (int k = 0; k < BLKBACK_MAX_DEVICES; k++) {
		struct blk_dev *d = &b->dev[(b->rr + (uint32_t)k) % BLKBACK_MAX_DEVICES];
		if (!d->used)
			continue;
		if (d->gone) {
			if (!d->in_flight)
				release(b, d);
			continue;
		}
		handshake(b, d);
		if (d->used) {	/* (a detached one is gone) */
			blk_ring_serve(b, d, SERVE_PER_POLL);	/* connected, not shut: else nothing */
			blk_ring_push(b, d);			/* refusals answered while serving */
		}
	}
	b->rr++;
}

/* A slot for disk of domid, its image opened: the device, or NULL. */
static struct blk_dev *dev_init(struct blkback *b, uint32_t domid, const struct blkback_disk *disk, char *err,
				size_t errlen, int *rc)
{
	struct blk_dev *d = NULL;
	uint32_t devid;
	struct stat st;
	int fd;

	if (disk->index >= 16 || disk->size_bytes == 0 || disk->size_bytes % 512) {
		snprintf(err, errlen, "disk %s: index %u (0..15) or size %" PRIu64 " (a multiple of 512)", disk->name,
			 disk->index, disk->size_bytes);
		*rc = -EINVAL;
		if (disk->image_fd > 0)
			close(disk->image_fd);
		return NULL;
	}
	devid = XVD_DEVID(disk->index);
	for (int i = 0; i < BLKBACK_MAX_DEVICES; i++) {
		struct blk_dev *e = &b->dev[i];
		if (e->used && !e->gone && e->domid == domid && e->devid == devid) {
			snprintf(err, errlen, "disk %s: domain %u has a disk at device %u already", disk->name, domid,
				 devid);
			*rc = -EEXIST;
			if (disk->image_fd > 0)
				close(disk->image_fd);
			return NULL;
		}
		if (!e->used && !d)
			d = e;
	}
	if (!d) {
		snprintf(err, errlen, "disk %s: blkback serves at most %d disks", disk->name, BLKBACK_MAX_DEVICES);
		*rc = -ENOSPC;
		if (disk->image_fd > 0)
			close(disk->image_fd);
		return NULL;
	}
	fd = disk->image_fd > 0 ? disk->image_fd
			       : open(disk->image, (disk->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		*rc = -errno;
		snprintf(err, errlen, "disk %s: %s: %s", disk->name, disk->image, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "disk %s: %s is not a regular file", disk->name, disk->image);
		close(fd);
		*rc = -EINVAL;
		return NULL;
	}
	memset(d, 0, sizeof(*d));
	d->used = 1;
	d->domid = domid;
	d->devid = devid;
	d->index = disk->index;
	snprintf(d->name, sizeof(d->name), "%s", disk->name);
	d->fd = fd;
	d->sectors = disk->size_bytes / 512;
	d->readonly = disk->readonly;
	d->quota = disk->quota_bytes;
	pthread_mutex_init(&d->quota_lock, NULL);
	blk_bucket_init(&d->bps, disk->bps, disk->burst);
	blk_bucket_init(&d->iops, disk->iops, 0);
	d->conn = BLK_WAITING;
	snprintf(d->bpath, sizeof(d->bpath), "/local/domain/0/backend/vbd/%u/%u", domid, devid);
	snprintf(d->fpath, sizeof(d->fpath), "/local/domain/%u/device/vbd/%u", domid, devid);
	if (blk_quota_join(b, d) < 0) {
		snprintf(err, errlen, "disk %s: out of memory", disk->name);
		*rc = -ENOMEM;
		release(b, d);
		return NULL;
	}
	blk_quota_settle(b, d);
	return d;
}

int blkback_add(struct blkback *b, uint32_t domid, const struct blkback_disk *disk, char *err, size_t errlen)
{
	char dir[96];
	int rc = 0;
	struct blk_dev *d = dev_init(b, domid, disk, err, errlen, &rc);

	if (!d)
		return rc;
	/* the backend: Domain 0's, the guest may read */
	xs_local_rm(b->xs, d->bpath);
	xs_local_mkdir(b->xs, d->bpath);
	snprintf(dir, sizeof(dir), "n0 r%u", domid);
	xs_local_set_perms(b->xs, d->bpath, dir);
	put(b, d->bpath, "frontend", "%s", d->fpath);
	put(b, d->bpath, "frontend-id", "%u", domid);
	put(b, d->bpath, "online", "1");
	put(b, d->bpath, "removable", "0");
	put(b, d->bpath, "bootable", "1");
	put(b, d->bpath, "dev", "xvd%c", 'a' + disk->index);
	put(b, d->bpath, "type", "file");
	put(b, d->bpath, "mode", "%s", disk->readonly ? "r" : "w");
	put(b, d->bpath, "params", "%s", disk->image);
	put(b, d->bpath, "sectors", "%" PRIu64, d->sectors);
	put(b, d->bpath, "sector-size", "512");
	put(b, d->bpath, "physical-sector-size", "512");
	put(b, d->bpath, "info", "%u", disk->readonly ? VDISK_READONLY : 0u);
	put(b, d->bpath, "feature-flush-cache", "1");
	put(b, d->bpath, "feature-barrier", "1");
	put(b, d->bpath, "feature-persistent", "1");
	put(b, d->bpath, "max-ring-page-order", "%d", BLK_MAX_RING_ORDER);
	put(b, d->bpath, "feature-max-indirect-segments", "%d", BLK_MAX_SEGS);
	if (!disk->readonly) {
		put(b, d->bpath, "feature-discard", "1");
		put(b, d->bpath, "discard-granularity", "%u", DISCARD_GRANULARITY);
		put(b, d->bpath, "discard-alignment", "0");
		put(b, d->bpath, "discard-secure", "0");
	}
	/* the frontend: the guest's own */
	snprintf(dir, sizeof(dir), "/local/domain/%u/device/vbd", domid);
	if (xs_local_mkdir(b->xs, dir) == 0) {
		char perms[32];
		snprintf(perms, sizeof(perms), "n0 r%u", domid);
		xs_local_set_perms(b->xs, dir, perms);
	}
	xs_local_rm(b->xs, d->fpath);
	rc = xs_local_mkdir(b->xs, d->fpath);
	if (rc == 0) {
		char perms[32];
		snprintf(perms, sizeof(perms), "n%u r0", domid);
		rc = xs_local_set_perms(b->xs, d->fpath, perms);
	}
	if (rc < 0) {
		snprintf(err, errlen, "disk %s: xenstore %s: %s", disk->name, d->fpath, strerror(-rc));
		xs_local_rm(b->xs, d->bpath);
		release(b, d);
		return rc;
	}
	put(b, d->fpath, "backend", "%s", d->bpath);
	put(b, d->fpath, "backend-id", "0");
	put(b, d->fpath, "virtual-device", "%u", d->devid);
	put(b, d->fpath, "device-type", "disk");
	put(b, d->fpath, "state", "%d", XenbusStateInitialising);
	set_state(b, d, XenbusStateInitWait);
	return 0;
}

/* The pvcore-ring record (record_ring): pages found, 0 if it is not one. */
static uint32_t parse_ring_record(const char *rec, uint64_t *frames, uint32_t *handles, uint32_t *port)
{
	unsigned long long f;
	uint32_t n = 0;
	int used;

	if (sscanf(rec, "%llu %u %u%n", &f, &handles[0], port, &used) != 3)
		return 0;
	frames[n++] = f;
	rec += used;
	while (*rec && n < BLK_MAX_RING_PAGES && sscanf(rec, " %llu %u%n", &f, &handles[n], &used) == 2) {
		frames[n++] = f;
		rec += used;
	}
	return *rec || (n & (n - 1)) ? 0 : n;	/* all of it, a power of two */
}

int blkback_resume(struct blkback *b, uint32_t domid, const struct blkback_disk *disk, char *err, size_t errlen)
{
	char rec[BLK_MAX_RING_PAGES * 34 + 40], merr[200];
	uint64_t frames[BLK_MAX_RING_PAGES];
	uint32_t state, handles[BLK_MAX_RING_PAGES], port, n = 0;
	int rc = 0;
	struct blk_dev *d = dev_init(b, domid, disk, err, errlen, &rc);

	if (!d)
		return rc;
	if (get_uint(b, d->bpath, "state", &state) < 0) {
		snprintf(err, errlen, "disk %s: no backend node %s to resume", disk->name, d->bpath);
		release(b, d);
		return -ENOENT;
	}
	if (state != XenbusStateConnected) {
		d->conn = state == XenbusStateClosed ? BLK_CLOSED : BLK_WAITING;
		d->shut = state == XenbusStateClosing;	/* a shut ring stays shut */
		d->st.shut = d->shut;
		return 0;
	}
	if (get(b, d->bpath, "pvcore-ring", rec, sizeof(rec)) < 0 ||
	    !(n = parse_ring_record(rec, frames, handles, &port))) {
		snprintf(err, errlen, "disk %s: connected, but no usable pvcore-ring record in %s", disk->name, d->bpath);
		release(b, d);
		return -EPROTO;
	}
	if (blk_ring_adopt(b, d, frames, handles, n, merr, sizeof(merr)) < 0) {
		snprintf(err, errlen, "disk %s: taking over the ring: %s", disk->name, merr);
		release(b, d);
		return -EPROTO;
	}
	d->port = port;
	use_persistent(b, d);	/* the dead process's kept mappings stay; grants are mapped again */
	/* answers are in ring order: what has one is done, everything after it is taken again */
	if (blk_ring_begin(b, d, XEN_RING_PAGE_SIZE * n, 1) < 0) {
		snprintf(err, errlen, "disk %s: out of memory for the ring's answers", disk->name);
		release(b, d);
		return -ENOMEM;
	}
	d->conn = BLK_CONNECTED;
	d->st.connected = 1;
	blk_log(b, 0, "blkback: domain %u disk %s resumed: ring (%u page%s) at response %u, %u request(s) to serve",
		domid, d->name, n, n > 1 ? "s" : "", d->ring.rsp_prod_pvt, d->ring.sring->req_prod - d->ring.req_cons);
	b->host.notify(b->host.arg, d->port);
	return 0;
}

void blkback_domain_gone(struct blkback *b, uint32_t domid)
{
	char path[64];
	int any = 0;

	for (int i = 0; i < BLKBACK_MAX_DEVICES; i++) {
		struct blk_dev *d = &b->dev[i];
		if (!d->used || d->gone || d->domid != domid)
			continue;
		d->gone = 1;
		any = 1;
		if (!d->in_flight)
			release(b, d);
	}
	blk_quota_domain_gone(b, domid);
	if (any) {
		snprintf(path, sizeof(path), "/local/domain/0/backend/vbd/%u", domid);
		xs_local_rm(b->xs, path);
	}
}

static struct blk_dev *find_disk(const struct blkback *b, uint32_t domid, const char *name)
{
	for (int i = 0; i < BLKBACK_MAX_DEVICES; i++) {
		const struct blk_dev *d = &b->dev[i];
		if (d->used && !d->gone && d->domid == domid && !strcmp(d->name, name))
			return (struct blk_dev *)d;
	}
	return NULL;
}

int blkback_detach(struct blkback *b, uint32_t domid, const char *name, int force, char *err, size_t errlen)
{
	struct blk_dev *d = find_disk(b, domid, name);

	if (!d) {
		snprintf(err, errlen, "domain %u has no disk \"%s\" in the block backend", domid, name);
		return -ENOENT;
	}
	d->detaching = 1;
	d->force_detach |= force;
	if (force)
		d->shut = 1;	/* no new requests: those in flight are answered */
	set_state(b, d, XenbusStateClosing);
	blk_log(b, 0, "blkback: domain %u disk %s: detaching%s", domid, name, force ? " (forced)" : "");
	handshake(b, d);
	return find_disk(b, domid, name) ? 1 : 0;
}

int blkback_device_state(const struct blkback *b, uint32_t domid, const char *name, char *why, size_t whylen)
{
	const struct blk_dev *d = find_disk(b, domid, name);
	char path[160];
	uint32_t len;

	if (why && whylen)
		why[0] = '\0';
	if (!d)
		return BLKBACK_DEV_NONE;
	if (!d->detaching)
		return BLKBACK_DEV_ATTACHED;
	if (why && whylen > 1) {	/* what the frontend said (xenbus_dev_error), if anything */
		snprintf(path, sizeof(path), "/local/domain/%u/error/device/vbd/%u/error", domid, d->devid);
		len = (uint32_t)whylen - 1;
		if (xs_local(b->xs, XS_READ, path, (uint32_t)strlen(path) + 1, why, &len) == 0)
			why[len] = '\0';
		else
			why[0] = '\0';
	}
	return BLKBACK_DEV_DETACHING;
}

int blkback_has_domain(const struct blkback *b, uint32_t domid)
{
	for (int i = 0; i < BLKBACK_MAX_DEVICES; i++)
		if (b->dev[i].used && !b->dev[i].gone && b->dev[i].domid == domid)
			return 1;
	return 0;
}

int blkback_stats(const struct blkback *b, uint32_t domid, const char *name, struct blkback_stats *st)
{
	for (int i = 0; i < BLKBACK_MAX_DEVICES; i++) {
		const struct blk_dev *d = &b->dev[i];
		if (d->used && !d->gone && d->domid == domid && !strcmp(d->name, name)) {
			*st = d->st;
			st->in_flight = d->in_flight;
			blk_quota_fill_stats(d, st);
			return 0;
		}
	}
	return -ENOENT;
}
