/*
 * fuzz_blkif.c - libFuzzer target: a hostile blkif frontend against blkback
 * (dom0/blkback*.c) with the real xenstore server (dom0/xs_*.c), a real
 * image file and real worker threads; the guest's "grants" are pages of
 * this process (refs 1..NPAGES, ref READONLY_REF only read-only).
 *
 * Input: byte 0 picks the disk (read-only or not, a quota or none) and
 * whether the frontend asks for persistent grants; then commands, each one
 * byte and its operands:
 *   0, 1  a request: the next 112 bytes as struct blkif_request, put in the
 *         next ring slot and pushed
 *   2     serve: the backend polls until its I/O in flight is done; the
 *         frontend takes every response
 *   3     the next 4 bytes as the ring's req_prod (hostile indices)
 *   4     the frontend closes (state 6), starts again (1) and reconnects
 *   5     two bytes: a byte of the ring page (offset / 16) and the value
 *         the frontend scribbles there while requests wait
 * Checked beside the sanitizers: every response status is one blkif
 * defines; the image never grows past the disk's size; at the end, with
 * the domain gone, every grant the backend mapped is unmapped.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <public/io/blkif.h>
#include <public/io/xs_wire.h>

#include "blkback.h"
#include "xenstore.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NPAGES 16
#define READONLY_REF 9
#define SECTORS 256		/* a 128 KiB disk */
#define DOMID 5

struct frontend {
	struct xs_server *xs;
	struct blkback *b;
	uint8_t *pages;		/* page r-1 is grant ref r */
	long maps, unmaps;
	struct blkif_front_ring ring;
	char fpath[64], bpath[96];
	int hostile;		/* the frontend broke the ring (commands 3, 5): responses are its problem */
};

static char image[64];
static int image_fd = -1;

static void remove_image(void)
{
	unlink(image);
}

/* The hypervisor's checks, per grant: each refused grant fails alone. */
static int grant_map_batch(void *arg, uint32_t domid, struct blkback_grant *g, unsigned n, char *err, size_t errlen)
{
	struct frontend *f = arg;
	int told = 0;

	if (n < 1 || n > BLKBACK_GRANT_BATCH_MAX)
		abort();	/* blkback broke the hook's bound */
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

static void *frame_page(void *arg, uint64_t frame)
{
	struct frontend *f = arg;

	return frame >= 1 && frame <= NPAGES ? f->pages + (size_t)(frame - 1) * 4096 : NULL;
}

static void grant_unmap_batch(void *arg, const uint32_t *handles, unsigned n)
{
	struct frontend *f = arg;

	if (n < 1 || n > BLKBACK_GRANT_BATCH_MAX)
		abort();	/* blkback broke the hook's bound */
	for (unsigned i = 0; i < n; i++) {
		if (handles[i] < 1 || handles[i] > NPAGES)
			abort();	/* a handle this host never gave out */
		f->unmaps++;
	}
}

static int evtchn_bind(void *arg, uint32_t domid, uint32_t remote, uint32_t *port, char *err, size_t errlen)
{
	*port = remote + 100;
	return 0;
}

static void evtchn_close(void *arg, uint32_t port)
{
}

static void notify(void *arg, uint32_t port)
{
}

static void log_line(void *arg, int warn, const char *line)
{
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	snprintf(image, sizeof(image), "/tmp/pvcore-fuzz-blkif.XXXXXX");
	image_fd = mkstemp(image);
	if (image_fd < 0 || ftruncate(image_fd, SECTORS * 512) != 0)
		abort();
	atexit(remove_image);
	return 0;
}

static void fe_write(struct frontend *f, const char *key, const char *v)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%s", f->fpath, key);
	if (xs_local_write(f->xs, path, v) != 0)
		abort();
}

static void fe_connect(struct frontend *f, int persistent)
{
	struct blkif_sring *s = (struct blkif_sring *)f->pages;

	memset(f->pages, 0, 4096);
	SHARED_RING_INIT(s);
	FRONT_RING_INIT(&f->ring, s, 4096);
	if (persistent)
		fe_write(f, "feature-persistent", "1");
	fe_write(f, "ring-ref", "1");
	fe_write(f, "event-channel", "3");
	fe_write(f, "protocol", "x86_64-abi");
	fe_write(f, "state", "3");
	blkback_poll(f->b);
}

/* Poll until no I/O is in flight (at most ~2 s), take the responses. */
static void serve(struct frontend *f, const char *disk)
{
	struct blkback_stats st;

	for (int i = 0; i < 200; i++) {
		struct pollfd p = { .fd = blkback_event_fd(f->b), .events = POLLIN };

		blkback_poll(f->b);
		if (blkback_stats(f->b, DOMID, disk, &st) != 0 || st.in_flight == 0)
			break;
		poll(&p, 1, 10);
	}
	while (f->ring.rsp_cons != f->ring.sring->rsp_prod) {
		struct blkif_response r = *RING_GET_RESPONSE(&f->ring, f->ring.rsp_cons);

		f->ring.rsp_cons++;
		if (f->hostile)
			continue;
		if (r.status != BLKIF_RSP_OKAY && r.status != BLKIF_RSP_ERROR && r.status != BLKIF_RSP_EOPNOTSUPP) {
			fprintf(stderr, "fuzz_blkif: response status %d\n", r.status);
			abort();
		}
		if (f->ring.sring->rsp_prod - f->ring.rsp_cons > BLKIF_RING_SLOTS)
			abort();	/* more responses than the ring holds */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct blkback_host h = { .grant_map_batch = grant_map_batch, .frame_page = frame_page,
				  .grant_unmap_batch = grant_unmap_batch,
				  .evtchn_bind = evtchn_bind, .evtchn_close = evtchn_close, .notify = notify,
				  .log = log_line };
	struct blkback_disk d = { .name = "data", .image = image, .size_bytes = SECTORS * 512ull, .index = 0 };
	struct xs_host xh = { 0 };
	struct frontend f;
	struct stat st;
	char err[300];
	size_t at = 1;
	int persistent;

	if (size < 1)
		return 0;
	memset(&f, 0, sizeof(f));
	d.readonly = data[0] & 1;
	d.quota_bytes = data[0] & 2 ? 64 * 1024 : 0;
	persistent = !!(data[0] & 4);
	h.arg = &f;
	if (posix_memalign((void **)&f.pages, 4096, NPAGES * 4096) != 0)
		abort();
	memset(f.pages, 0, NPAGES * 4096);
	if (xs_open(NULL, NULL, &xh, &f.xs, err, sizeof(err)) != 0 ||
	    blkback_open(&h, f.xs, 1, &f.b, err, sizeof(err)) != 0 || blkback_add(f.b, DOMID, &d, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_blkif: setup: %s\n", err);
		abort();
	}
	snprintf(f.fpath, sizeof(f.fpath), "/local/domain/%u/device/vbd/%u", DOMID, XVD_DEVID(0));
	snprintf(f.bpath, sizeof(f.bpath), "/local/domain/0/backend/vbd/%u/%u", DOMID, XVD_DEVID(0));
	fe_connect(&f, persistent);
	while (at < size) {
		uint8_t cmd = data[at++] % 6;
		uint32_t v;
		int notify_needed;

		switch (cmd) {
		case 0:
		case 1:
			if (size - at < sizeof(struct blkif_request))
				at = size;
			else {
				memcpy(RING_GET_REQUEST(&f.ring, f.ring.req_prod_pvt), data + at,
				       sizeof(struct blkif_request));
				at += sizeof(struct blkif_request);
				f.ring.req_prod_pvt++;
				RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&f.ring, notify_needed);
				(void)notify_needed;
				if (RING_FULL(&f.ring))
					serve(&f, d.name);
			}
			break;
		case 2:
			serve(&f, d.name);
			break;
		case 3:
			if (size - at < 4) {
				at = size;
				break;
			}
			memcpy(&v, data + at, 4);
			at += 4;
			f.hostile = 1;
			f.ring.sring->req_prod = v;
			blkback_poll(f.b);
			break;
		case 4:
			serve(&f, d.name);
			fe_write(&f, "state", "6");
			blkback_poll(f.b);
			fe_write(&f, "state", "1");
			blkback_poll(f.b);
			fe_connect(&f, persistent);
			f.hostile = 0;
			break;
		default:
			if (size - at < 2) {
				at = size;
				break;
			}
			((uint8_t *)f.ring.sring)[data[at] * 16u] = data[at + 1];
			f.hostile = 1;
			at += 2;
			break;
		}
	}
	serve(&f, d.name);
	blkback_domain_gone(f.b, DOMID);
	blkback_poll(f.b);
	blkback_close(f.b);
	if (f.maps != f.unmaps) {
		fprintf(stderr, "fuzz_blkif: %ld grants mapped, %ld unmapped\n", f.maps, f.unmaps);
		abort();
	}
	xs_close(f.xs);
	free(f.pages);
	if (fstat(image_fd, &st) != 0 || st.st_size != SECTORS * 512) {
		fprintf(stderr, "fuzz_blkif: the image is %lld bytes, the disk %d\n", (long long)st.st_size,
			SECTORS * 512);
		abort();
	}
	return 0;
}
