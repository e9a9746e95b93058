/*
 * blkback_grant.c - the guest pages one blkback device reaches: its ring
 * (one page, or 2^n pages mapped one after the other into one virtually
 * contiguous area) and its persistent grants.
 *
 * Owns: d->ring_page / ring_area / ring_handle[] / ring_frame[] / nring,
 * and d->pg, the table of kept grants (open addressing on the gref,
 * BLK_PGRANT_SLOTS slots, at most BLK_MAX_PGRANTS used).
 *
 * A multi-page ring: each ref is mapped through the host (the hypervisor
 * checks the grant), which gives a page inside the machine's RAM mapping
 * (a shared mapping); mremap(old_size 0) makes a second mapping of that
 * same page at its place in an area reserved for the ring, so the ring's
 * slots can be addressed as one array. The area is this process's only:
 * after a restart it is built again from the frames recorded in
 * pvcore-ring (blk_ring_adopt).
 *
 * The ring's pages are mapped in one batch of the host's (started by
 * blkback.c's connect for an asynchronous host, finished here by
 * blk_ring_mapped), and unmapped with the kept grants in as few batches
 * as the bound allows (started, never awaited, by an asynchronous host).
 * Invariants: nring pages are mapped and their handles recorded; a kept
 * grant stays mapped until blk_ring_unmap (the end of the connection).
 * Runs on the loop thread only.
 */
#include "blkback_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define PAGE 4096u

/* The pages (one per frame) into one area: d->ring_page. */
static int build_area(struct blk_dev *d, void *const *pages, uint32_t n, char *err, size_t errlen)
{
	char *area;

	if (n == 1) {
		d->ring_page = pages[0];
		return 0;
	}
	area = mmap(NULL, (size_t)n * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED) {
		snprintf(err, errlen, "reserving %u pages for the ring: %s", n, strerror(errno));
		return -errno;
	}
	for (uint32_t i = 0; i < n; i++) {
		void *at = mremap(pages[i], 0, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, area + (size_t)i * PAGE);
		if (at == MAP_FAILED) {
			int rc = -errno;
			snprintf(err, errlen, "mapping ring page %u next to the others: %s", i, strerror(errno));
			munmap(area, (size_t)n * PAGE);
			return rc;
		}
	}
	d->ring_area = area;
	d->ring_page = area;
	return 0;
}

int blk_ring_map(struct blkback *b, struct blk_dev *d, const uint32_t *refs, uint32_t n, char *err, size_t errlen)
{
	struct blkback_grant g[BLK_MAX_RING_PAGES];
	char gerr[200] = "";
	int rc;

	for (uint32_t i = 0; i < n; i++)
		g[i] = (struct blkback_grant){ .gref = refs[i] };
	rc = b->host.grant_map_batch(b->host.arg, d->domid, g, n, gerr, sizeof(gerr));
	return blk_ring_mapped(b, d, refs, g, n, rc, gerr, err, errlen);
}

int blk_ring_mapped(struct blkback *b, struct blk_dev *d, const uint32_t *refs, struct blkback_grant *g, uint32_t n,
		    int rc, const char *gerr, char *err, size_t errlen)
{
	void *pages[BLK_MAX_RING_PAGES];
	uint32_t bad = n;

	d->nring = 0;
	if (rc < 0) {
		snprintf(err, errlen, "ring-ref%s: %s", n > 1 ? "s" : "", gerr);
		return rc;
	}
	for (uint32_t i = 0; i < n; i++) {
		if (g[i].status < 0) {
			if (bad == n)
				bad = i;
			continue;
		}
		pages[d->nring] = g[i].page;
		d->ring_frame[d->nring] = g[i].frame;
		d->ring_handle[d->nring++] = g[i].handle;
	}
	if (bad < n) {
		rc = g[bad].status;
		if (n > 1)
			snprintf(err, errlen, "ring-ref%u %u: %s", bad, refs[bad], gerr);
		else
			snprintf(err, errlen, "ring-ref %u: %s", refs[bad], gerr);
	} else {
		rc = build_area(d, pages, n, err, errlen);
	}
	if (rc < 0) {
		blk_grants_unmap(b, d->ring_handle, d->nring);
		d->nring = 0;
	}
	return rc;
}

/* An asynchronous host (evtchn_bind_start) gets the unmaps started, with
 * no cookie: nobody waits for them (the host copies the handles); one
 * it cannot start is done the synchronous way. */
void blk_grants_unmap(struct blkback *b, const uint32_t *handles, unsigned n)
{
	char err[200];

	for (unsigned at = 0; at < n; at += BLKBACK_GRANT_BATCH_MAX) {
		unsigned k = n - at < BLKBACK_GRANT_BATCH_MAX ? n - at : BLKBACK_GRANT_BATCH_MAX;
		if (b->host.evtchn_bind_start && b->host.grant_unmap_start &&
		    b->host.grant_unmap_start(b->host.arg, handles + at, k, NULL, err, sizeof(err)) == 0)
			continue;
		b->host.grant_unmap_batch(b->host.arg, handles + at, k);
	}
}

int blk_ring_adopt(struct blkback *b, struct blk_dev *d, const uint64_t *frames, const uint32_t *handles,
		   uint32_t n, char *err, size_t errlen)
{
	void *pages[BLK_MAX_RING_PAGES];

	for (uint32_t i = 0; i < n; i++) {
		pages[i] = b->host.frame_page(b->host.arg, frames[i]);
		if (!pages[i]) {
			snprintf(err, errlen, "ring frame %#llx is not machine RAM", (unsigned long long)frames[i]);
			return -EFAULT;
		}
		d->ring_frame[i] = frames[i];
		d->ring_handle[i] = handles[i];
	}
	if (build_area(d, pages, n, err, errlen) < 0)
		return -EFAULT;
	d->nring = n;
	return 0;
}

/* Slot of gref in the table: where it is, or the free slot it would go in. */
static uint32_t pg_slot(const struct blk_dev *d, uint32_t gref)
{
	uint32_t i = (gref * 2654435761u) % BLK_PGRANT_SLOTS;

	while (d->pg[i].page && d->pg[i].gref != gref)
		i = (i + 1) % BLK_PGRANT_SLOTS;
	return i;
}

void *blk_pg_find(const struct blk_dev *d, uint32_t gref)
{
	return d->pg ? d->pg[pg_slot(d, gref)].page : NULL;
}

unsigned blk_pg_room(const struct blk_dev *d)
{
	return d->pg ? BLK_MAX_PGRANTS - d->npg : 0;
}

void blk_pg_add(struct blk_dev *d, uint32_t gref, uint32_t handle, void *page)
{
	d->pg[pg_slot(d, gref)] = (struct blk_pgrant){ gref, handle, page };
	d->npg++;
}

void blk_ring_unmap(struct blkback *b, struct blk_dev *d)
{
	uint32_t handles[BLK_MAX_PGRANTS + BLK_MAX_RING_PAGES];
	unsigned n = 0;

	for (uint32_t i = 0; d->pg && i < BLK_PGRANT_SLOTS; i++)
		if (d->pg[i].page)
			handles[n++] = d->pg[i].handle;
	free(d->pg);
	d->pg = NULL;
	d->npg = 0;
	d->persistent = 0;
	for (uint32_t i = 0; i < d->nring; i++)
		handles[n++] = d->ring_handle[i];
	blk_grants_unmap(b, handles, n);
	blk_ring_forget(d);
}

void blk_ring_forget(struct blk_dev *d)
{
	if (d->ring_area)
		munmap(d->ring_area, (size_t)d->nring * PAGE);
	d->ring_area = NULL;
	d->ring_page = NULL;
	d->nring = 0;
}
