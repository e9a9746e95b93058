/*
 * blkfront.h - the test kernels' virtual block device frontend
 * (blkfront.c): the blkif handshake in xenstore, a shared ring of one
 * or (max-ring-page-order) several pages, grants to Domain 0
 * (grant_access.c) for the ring and the data pages, indirect requests
 * (feature-max-indirect-segments), up to BLKFRONT_MAX_INFLIGHT requests in
 * flight. Include after lib.h.
 */
#ifndef GUEST_BLKFRONT_H
#define GUEST_BLKFRONT_H

#include "lib.h"
#include <public/io/blkif.h>

struct blkfront_info {
    uint32_t devid;
    uint64_t sectors;           /* 512-byte sectors */
    uint32_t sector_size;
    uint32_t info;              /* VDISK_* */
    bool flush, discard, barrier;
    uint32_t ring_slots;        /* requests the ring holds */
    uint32_t ring_order;        /* its pages: 2^ring_order */
    uint32_t max_indirect;      /* segments of an indirect request (0: not used) */
    bool persistent;            /* persistent grants negotiated */
};

/* What the frontend asks for (each only as far as the backend offers). */
struct blkfront_opts {
    bool persistent;            /* feature-persistent: blkfront_io copies through pages granted once */
    uint32_t ring_order;        /* ring-page-order */
    bool indirect;              /* requests of more than 11 segments (up to 512) */
};

/* what a ring of 8 pages holds; a request's id keeps its slot in 8 bits */
#define BLKFRONT_MAX_INFLIGHT 256

/* Connect to disk `index` (0 = xvda): xenbus_init must have run. 0, or
 * -errno (-XB_ETIMEDOUT when the backend never connects). */
long blkfront_init(uint32_t index, struct blkfront_info *info);
/* The same, with persistent grants when want and the backend offers them:
 * blkfront_io then copies through 11 pages granted once. */
long blkfront_init_persistent(uint32_t index, bool want, struct blkfront_info *info);
/* Connect with the options o. */
long blkfront_init_opts(uint32_t index, const struct blkfront_opts *o, struct blkfront_info *info);
/* Close the connection (frontend Closed; the backend follows). */
long blkfront_close(void);

/* Put req (its id is set here) on the ring, kick, and wait up to
 * timeout_ns for its response: the response's status, or 99 when none
 * came in time. */
int16_t blkfront_submit(struct blkif_request *req, uint64_t timeout_ns);

/* Asynchronous requests, many in flight. blkfront_post puts a READ or
 * WRITE of the nseg segments (indirect when more than 11) into the ring
 * without publishing it: 0 and its *id, -XB_ENOSPC when the ring or the
 * table of requests in flight is full, -XB_EINVAL for more segments than
 * negotiated. blkfront_kick publishes what was put (and notifies when the
 * backend asked). blkfront_reap waits up to timeout_ns for one response
 * of a request in flight: 0 with its id and status, or -XB_ETIMEDOUT.
 * When it has to wait it asks the backend for an event after
 * blkfront_event_batch responses (default 1; never more than are in
 * flight): fewer events when many requests are in flight. */
void blkfront_event_batch(uint32_t n);
long blkfront_post(uint8_t op, uint64_t sector, const struct blkif_request_segment *seg, uint32_t nseg,
                   uint64_t *id);
void blkfront_kick(void);
long blkfront_reap(uint64_t *id, int16_t *status, uint64_t timeout_ns);
uint32_t blkfront_in_flight(void);

/* Read or write bytes (a multiple of 512) at sector from/into buf, which
 * must start at a 512-byte boundary and span at most 11 pages; the pages
 * are granted for the request only. The response's status. */
int16_t blkfront_io(uint8_t op, uint64_t sector, void *buf, uint32_t bytes);

/* Hostile tests: publish req_prod `ahead` past the requests really put
 * (whatever the slots hold) and kick. */
void blkfront_bump_req_prod(uint32_t ahead);
/* The backend's XenbusState, -1 if it cannot be read. */
long blkfront_backend_state(void);

/* Responses taken that matched no request (should stay 0). */
uint32_t blkfront_stray_responses(void);

#endif
