/*
 * blk_fixture.c - the fake host and frontend blkback's unit tests share
 * (see blk_fixture.h).
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "blk_fixture.h"

/* The hypervisor's checks, per grant: each refused grant fails alone. */
static int fake_map_batch(void *arg, uint32_t domid, struct blkback_grant *g, unsigned n, char *err, size_t errlen)
{
	struct fixture *f = arg;
	int told = 0;

	assert_true(n >= 1 && n <= BLKBACK_GRANT_BATCH_MAX);
	f->map_calls++;
	for (unsigned i = 0; i < n; i++) {
		uint32_t gref = g[i].gref;
		if (domid != DOMID || gref == 0 || gref > NPAGES || (gref == READONLY_REF && !g[i].readonly)) {
			g[i].status = -EPERM;
			if (!told++)
				snprintf(err, errlen, "grant %u of domain %u refused", gref, domid);
			continue;
		}
		g[i].status = 0;
		g[i].page = f->pages + (size_t)(gref - 1) * 4096;
		g[i].frame = gref;
		g[i].handle = gref;
		f->maps++;
	}
	return 0;
}

static void *fake_frame_page(void *arg, uint64_t frame)
{
	struct fixture *f = arg;

	return frame >= 1 && frame <= NPAGES ? f->pages + (size_t)(frame - 1) * 4096 : NULL;
}

static void fake_unmap_batch(void *arg, const uint32_t *handles, unsigned n)
{
	struct fixture *f = arg;

	assert_true(n >= 1 && n <= BLKBACK_GRANT_BATCH_MAX);
	f->unmap_calls++;
	for (unsigned i = 0; i < n; i++) {
		assert_true(handles[i] >= 1 && handles[i] <= NPAGES);
		f->unmaps++;
	}
}

static int fake_bind(void *arg, uint32_t domid, uint32_t remote, uint32_t *port, char *err, size_t errlen)
{
	(void)arg;
	(void)err;
	(void)errlen;
	assert_int_equal(domid, DOMID);
	*port = remote + 100;
	((struct fixture *)arg)->binds++;
	return 0;
}

static void fake_close(void *arg, uint32_t port)
{
	(void)port;
	((struct fixture *)arg)->closes++;
}

static void fake_notify(void *arg, uint32_t port)
{
	struct fixture *f = arg;

	(void)port;
	f->notifies++;
}

static void fake_log(void *arg, int warn, const char *line)
{
	struct fixture *f = arg;

	(void)warn;
	snprintf(f->last_log, sizeof(f->last_log), "%s", line);
	if (strstr(line, "ring shut"))
		f->shut_logs++;
	if (strstr(line, "published from the journal"))
		snprintf(f->journal_log, sizeof(f->journal_log), "%s", line);
}

static void fake_quota_event(void *arg, const struct blkback_quota_event *q)
{
	struct fixture *f = arg;

	assert_int_equal(q->domid, DOMID);
	assert_string_equal(q->disk, "data");
	if (f->nev < 32) {
		snprintf(f->ev[f->nev].scope, sizeof(f->ev[0].scope), "%s", q->scope);
		f->ev[f->nev].level = q->level;
		f->ev[f->nev].allocated = q->allocated;
		f->ev[f->nev].quota = q->quota;
	}
	f->nev++;
}

void xs_put(struct fixture *f, const char *dir, const char *key, const char *v)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	assert_int_equal(xs_local_write(f->xs, path, v), 0);
}

long xs_get(struct fixture *f, const char *dir, const char *key)
{
	char path[160], v[64];
	uint32_t len = sizeof(v) - 1;

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	if (xs_local(f->xs, XS_READ, path, (uint32_t)strlen(path) + 1, v, &len) < 0)
		return -1;
	v[len] = '\0';
	return strtol(v, NULL, 10);
}

static int fake_map_start(void *arg, uint32_t domid, struct blkback_grant *g, unsigned n, void *cookie, char *err,
			  size_t errlen)
{
	struct fixture *f = arg;

	(void)err;
	(void)errlen;
	assert_true(f->ncalls < (int)(sizeof(f->call) / sizeof(f->call[0])));
	f->call[f->ncalls++] = (typeof(f->call[0])){ .cookie = cookie, .g = g, .n = n, .domid = domid };
	return 0;
}

static int fake_unmap_start(void *arg, const uint32_t *handles, unsigned n, void *cookie, char *err, size_t errlen)
{
	struct fixture *f = arg;

	(void)err;
	(void)errlen;
	assert_true(f->ncalls < (int)(sizeof(f->call) / sizeof(f->call[0])));
	f->call[f->ncalls] = (typeof(f->call[0])){ .unmap = 1, .cookie = cookie, .handles = handles, .n = n };
	if (!cookie) {	/* nobody waits: the handles are the host's to copy */
		assert_true(n <= 64);
		memcpy(f->call[f->ncalls].own, handles, n * sizeof(*handles));
		f->call[f->ncalls].handles = f->call[f->ncalls].own;
	}
	f->ncalls++;
	return 0;
}

static int fake_bind_start(void *arg, uint32_t domid, uint32_t remote, void *cookie, char *err, size_t errlen)
{
	struct fixture *f = arg;

	(void)err;
	(void)errlen;
	assert_true(f->ncalls < (int)(sizeof(f->call) / sizeof(f->call[0])));
	f->call[f->ncalls++] = (typeof(f->call[0])){ .bind = 1, .cookie = cookie, .domid = domid, .remote = remote };
	return 0;
}

void answer_call(struct fixture *f, int i)
{
	typeof(f->call[0]) c = f->call[i];
	char err[200] = "";

	assert_true(i < f->ncalls);
	assert_false(c.bind);
	memmove(&f->call[i], &f->call[i + 1], (size_t)(f->ncalls - i - 1) * sizeof(f->call[0]));
	f->ncalls--;
	if (c.unmap)
		fake_unmap_batch(f, c.handles, c.n);
	else
		fake_map_batch(f, c.domid, c.g, c.n, err, sizeof(err));
	blkback_call_done(f->b, c.cookie, 0, err);
}

int answer_calls(struct fixture *f)
{
	typeof(f->call[0]) calls[sizeof(f->call) / sizeof(f->call[0])];
	int n = f->ncalls;
	char err[200] = "";

	memcpy(calls, f->call, sizeof(calls));
	f->ncalls = 0;	/* a done may start the request's next call */
	for (int i = 0; i < n; i++) {
		uint32_t port = 0;
		if (calls[i].bind) {
			if (f->bind_fail) {
				blkback_bind_done(f->b, calls[i].cookie, -EINVAL, 0, "bind refused");
				continue;
			}
			fake_bind(f, calls[i].domid, calls[i].remote, &port, err, sizeof(err));
			blkback_bind_done(f->b, calls[i].cookie, 0, port, "");
			continue;
		}
		if (calls[i].unmap)
			fake_unmap_batch(f, calls[i].handles, calls[i].n);
		else
			fake_map_batch(f, calls[i].domid, calls[i].g, calls[i].n, err, sizeof(err));
		blkback_call_done(f->b, calls[i].cookie, 0, err);
	}
	return n;
}

static int setup_host(void **state, int async);

int setup_async_connect(void **state)
{
	return setup_host(state, 2);
}

int setup(void **state)
{
	return setup_host(state, 0);
}

int setup_async(void **state)
{
	return setup_host(state, 1);
}

static int setup_host(void **state, int async)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct blkback_host h = { .grant_map_batch = fake_map_batch, .frame_page = fake_frame_page,
				  .grant_unmap_batch = fake_unmap_batch, .evtchn_bind = fake_bind,
				  .evtchn_close = fake_close, .notify = fake_notify, .log = fake_log,
				  .quota_event = fake_quota_event };
	struct blkback_disk d = { .name = "data", .size_bytes = SECTORS * 512ull, .index = 0 };
	struct xs_host xh = { 0 };
	char err[300];

	assert_non_null(f);
	if (async) {
		h.grant_map_start = fake_map_start;
		h.grant_unmap_start = fake_unmap_start;
	}
	if (async > 1)
		h.evtchn_bind_start = fake_bind_start;
	snprintf(f->jdir, sizeof(f->jdir), "/tmp/test_blkback_jr.XXXXXX");
	assert_non_null(mkdtemp(f->jdir));
	h.journal_dir = f->jdir;
	h.arg = f;
	f->host = h;
	snprintf(f->image, sizeof(f->image), "/tmp/test_blkback.XXXXXX");
	f->fd = mkstemp(f->image);
	assert_true(f->fd >= 0);
	assert_int_equal(ftruncate(f->fd, SECTORS * 512), 0);
	/* shared, as the machine's RAM is: a multi-page ring is mapped again, contiguous */
	f->pages = mmap(NULL, NPAGES * 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(f->pages != MAP_FAILED);
	assert_int_equal(xs_open(NULL, NULL, &xh, &f->xs, err, sizeof(err)), 0);
	assert_int_equal(blkback_open(&h, f->xs, 2, &f->b, err, sizeof(err)), 0);
	d.image = f->image;
	assert_int_equal(blkback_add(f->b, DOMID, &d, err, sizeof(err)), 0);
	snprintf(f->fpath, sizeof(f->fpath), "/local/domain/%u/device/vbd/%u", DOMID, XVD_DEVID(0));
	snprintf(f->bpath, sizeof(f->bpath), "/local/domain/0/backend/vbd/%u/%u", DOMID, XVD_DEVID(0));
	*state = f;
	return 0;
}

int teardown(void **state)
{
	struct fixture *f = *state;

	blkback_domain_gone(f->b, DOMID);
	if (f->host.evtchn_bind_start)
		while (answer_calls(f))	/* the unmaps the domain's going started */
			;
	blkback_close(f->b);
	assert_int_equal(f->maps, f->unmaps);	/* every grant mapped was unmapped */
	assert_int_equal(rmdir(f->jdir), 0);	/* the ring's journal went with its connection */
	fixture_free(f);
	return 0;
}

void fixture_free(struct fixture *f)
{
	char cmd[80];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->jdir);	/* (a test that left a device connected) */
	assert_int_equal(system(cmd), 0);
	xs_close(f->xs);
	close(f->fd);
	unlink(f->image);
	munmap(f->pages, NPAGES * 4096);
	free(f);
}

void front_init(struct fixture *f)
{
	struct blkif_sring *s = (struct blkif_sring *)f->pages;

	SHARED_RING_INIT(s);
	FRONT_RING_INIT(&f->ring, s, 4096);
	xs_put(f, f->fpath, "ring-ref", "1");
	xs_put(f, f->fpath, "event-channel", "3");
	xs_put(f, f->fpath, "protocol", "x86_64-abi");
	xs_put(f, f->fpath, "state", "3");
	blkback_poll(f->b);
}

/* The frontend's half of the handshake: ring on grant ref 1. */
void front_connect(struct fixture *f)
{
	assert_int_equal(xs_get(f, f->bpath, "state"), XenbusStateInitWait);
	assert_int_equal(xs_get(f, f->bpath, "sectors"), SECTORS);
	assert_int_equal(xs_get(f, f->bpath, "info"), 0);
	assert_int_equal(xs_get(f, f->bpath, "feature-discard"), 1);
	front_init(f);
	assert_int_equal(xs_get(f, f->bpath, "state"), XenbusStateConnected);
}

/* Push req, run the backend until it answers (at most 5 s): the status,
 * or 99 when no answer came. */
int submit(struct fixture *f, struct blkif_request *req)
{
	int notify;

	req->id = ++f->next_id;
	*RING_GET_REQUEST(&f->ring, f->ring.req_prod_pvt) = *req;
	f->ring.req_prod_pvt++;
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&f->ring, notify);
	(void)notify;
	for (int i = 0; i < 500; i++) {
		struct pollfd p = { .fd = blkback_event_fd(f->b), .events = POLLIN };
		blkback_poll(f->b);
		if (f->ring.rsp_cons != f->ring.sring->rsp_prod) {
			struct blkif_response r = *RING_GET_RESPONSE(&f->ring, f->ring.rsp_cons);
			f->ring.rsp_cons++;
			assert_int_equal(r.id, req->id);
			f->last_op = r.operation;
			return r.status;
		}
		poll(&p, 1, 10);
	}
	return 99;
}

struct blkif_request rw(uint8_t op, uint64_t sector, uint32_t gref, uint8_t first, uint8_t last)
{
	struct blkif_request r = { .operation = op, .nr_segments = 1, .sector_number = sector };

	r.seg[0] = (struct blkif_request_segment){ .gref = gref, .first_sect = first, .last_sect = last };
	return r;
}

/* An indirect request: its segments in page 10 (ref 11), data in refs
 * 12..15, some not whole pages. */
struct blkif_request indirect(uint8_t op, uint64_t sector, uint16_t nseg, uint32_t iref)
{
	struct blkif_request r = { 0 };
	struct blkif_request_indirect *ir = (struct blkif_request_indirect *)&r;

	ir->operation = BLKIF_OP_INDIRECT;
	ir->indirect_op = op;
	ir->nr_segments = nseg;
	ir->sector_number = sector;
	ir->indirect_grefs[0] = iref;
	return r;
}

/* The frontend closes and connects again, now with persistent grants. */
void reconnect_persistent(struct fixture *f)
{
	xs_put(f, f->fpath, "state", "6");
	blkback_poll(f->b);
	xs_put(f, f->fpath, "state", "1");
	blkback_poll(f->b);
	xs_put(f, f->fpath, "feature-persistent", "1");
	memset(f->pages, 0, 4096);
	f->next_id = 0;
	front_connect(f);
}
