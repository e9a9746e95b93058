/*
 * blkfront.c - the test kernels' blkif frontend (see blkfront.h).
 *
 * Owns: the shared ring (one page, or 2^ring_order pages granted
 * as ring-ref0..N when the backend offers max-ring-page-order), the front
 * ring's indices, the event channel to Domain 0, the table of requests in
 * flight (up to BLKFRONT_MAX_INFLIGHT, each with its own indirect page,
 * granted once, for requests of more than 11 segments when the backend
 * offers feature-max-indirect-segments), and with persistent grants the
 * 11 pages granted once that blkfront_io copies data through.
 * A request's id is (sequence << 8) | its slot in the table: a response
 * whose id is not in flight (never sent, or answered already) is counted
 * as stray, so a backend that loses or repeats an answer is seen.
 * Responses are awaited by polling rsp_prod (the kernels are
 * single-threaded), so no upcall handler is needed.
 */
#include "blkfront.h"
#include "gnttab.h"
#include "evtime.h"
#include "xenbus.h"

#define MAX_RING_ORDER  4
#define CONNECT_NS      (20 * NSEC_PER_SEC)
#define POLL_NS         (10 * NSEC_PER_MSEC)     /* the event ends a poll sooner */

static uint8_t ring_area[(PAGE_SIZE << MAX_RING_ORDER)] ALIGNED(PAGE_SIZE);
static uint8_t indirect_page[BLKFRONT_MAX_INFLIGHT][PAGE_SIZE] ALIGNED(PAGE_SIZE);
static struct blkif_front_ring ring;
static grant_ref_t ring_ref[1u << MAX_RING_ORDER], indirect_ref[BLKFRONT_MAX_INFLIGHT];
static uint32_t nring, max_indirect;
static evtchn_port_t port;
static char fpath[64], bpath[96];
static uint64_t next_seq = 1;
static uint32_t stray;

/* Requests in flight: slot i holds the id of its request, 0 when free. */
static uint64_t inflight[BLKFRONT_MAX_INFLIGHT];
_Static_assert(BLKFRONT_MAX_INFLIGHT <= 256, "a request's slot is the low 8 bits of its id");
static uint32_t ninflight;
static uint32_t event_batch = 1;     /* responses per event asked for while waiting */

long blkfront_backend_state(void)
{
    return xenbus_state_of(bpath);
}

static long wait_backend(long state)
{
    return xenbus_wait_state(bpath, state, CONNECT_NS);
}

/* Persistent grants (when asked for and the backend offers them): pages
 * granted once, data copied through them as Linux's blkfront does. */
static bool persistent;
static uint8_t *ppage[BLKIF_MAX_SEGMENTS_PER_REQUEST];
static grant_ref_t pref[BLKIF_MAX_SEGMENTS_PER_REQUEST];

long blkfront_init(uint32_t index, struct blkfront_info *info)
{
    return blkfront_init_persistent(index, false, info);
}

long blkfront_init_persistent(uint32_t index, bool want, struct blkfront_info *info)
{
    struct blkfront_opts o = { .persistent = want };

    return blkfront_init_opts(index, &o, info);
}

/* The backend's node as a number, 0 when it is absent. */
static uint64_t backend_u64(const char *key)
{
    char v[32];

    return xenbus_read_key(bpath, key, v, sizeof(v)) ? 0 : xenbus_parse_u64(v);
}

long blkfront_init_opts(uint32_t index, const struct blkfront_opts *o, struct blkfront_info *info)
{
    struct blkif_sring *sring = (struct blkif_sring *)ring_area;
    uint32_t order = o->ring_order;
    char v[64];
    long rc;

    memset(info, 0, sizeof(*info));
    info->devid = XVD_DEVID(index);
    snprintf(fpath, sizeof(fpath), "device/vbd/%u", info->devid);
    if ((rc = grant_table_init()) < 0)
        return rc;
    if ((rc = xenbus_read_key(fpath, "backend", bpath, sizeof(bpath))) < 0)
        return rc;
    if ((rc = wait_backend(XenbusStateInitWait)) < 0)
        return rc;
    if (order > MAX_RING_ORDER)
        order = MAX_RING_ORDER;
    if (order > backend_u64("max-ring-page-order"))
        order = (uint32_t)backend_u64("max-ring-page-order");
    nring = 1u << order;
    memset(ring_area, 0, sizeof(ring_area));
    SHARED_RING_INIT(sring);
    FRONT_RING_INIT(&ring, sring, PAGE_SIZE << order);
    for (uint32_t i = 0; i < nring; i++) {
        char key[16];
        ring_ref[i] = grant_access(ring_area + i * PAGE_SIZE, false);
        if (!ring_ref[i])
            return -XB_ENOSPC;
        snprintf(key, sizeof(key), order ? "ring-ref%u" : "ring-ref", i);
        if (xenbus_printf(fpath, key, "%u", ring_ref[i]))
            return -XB_EIO;
    }
    if (order && xenbus_printf(fpath, "ring-page-order", "%u", order))
        return -XB_EIO;
    if ((rc = evtchn_alloc_unbound(0, &port)) < 0)
        return rc;
    if (xenbus_printf(fpath, "event-channel", "%u", port) || xenbus_printf(fpath, "protocol", "x86_64-abi"))
        return -XB_EIO;
    persistent = o->persistent && backend_u64("feature-persistent") == 1;
    for (unsigned i = 0; persistent && i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++) {
        if (!ppage[i])
            ppage[i] = page_alloc();
        pref[i] = grant_access(ppage[i], false);
    }
    max_indirect = o->indirect ? (uint32_t)backend_u64("feature-max-indirect-segments") : 0;
    if (max_indirect > BLKIF_SEGS_PER_INDIRECT_FRAME)
        max_indirect = BLKIF_SEGS_PER_INDIRECT_FRAME;     /* one indirect page per request here */
    for (unsigned i = 0; max_indirect && i < BLKFRONT_MAX_INFLIGHT; i++)
        if (!(indirect_ref[i] = grant_access(indirect_page[i], false)))
            return -XB_ENOSPC;
    memset(inflight, 0, sizeof(inflight));
    ninflight = 0;
    if ((persistent && xenbus_printf(fpath, "feature-persistent", "1")) || xenbus_printf(fpath, "state", "%d", XenbusStateInitialised))
        return -XB_EIO;
    if ((rc = wait_backend(XenbusStateConnected)) < 0)
        return rc;
    if (xenbus_read_key(bpath, "sectors", v, sizeof(v)))
        return -XB_EIO;
    info->sectors = xenbus_parse_u64(v);
    info->sector_size = (uint32_t)backend_u64("sector-size");
    info->info = (uint32_t)backend_u64("info");
    info->flush = backend_u64("feature-flush-cache") == 1;
    info->discard = backend_u64("feature-discard") == 1;
    info->barrier = backend_u64("feature-barrier") == 1;
    info->ring_slots = RING_SIZE(&ring);
    info->ring_order = order;
    info->max_indirect = max_indirect;
    info->persistent = persistent;
    return xenbus_printf(fpath, "state", "%d", XenbusStateConnected) ? -XB_EIO : 0;
}

long blkfront_close(void)
{
    long rc = xenbus_printf(fpath, "state", "%d", XenbusStateClosing);

    if (!rc)
        rc = wait_backend(XenbusStateClosed);
    if (!rc)
        rc = xenbus_printf(fpath, "state", "%d", XenbusStateClosed);
    evtchn_close(port);
    for (uint32_t i = 0; i < nring; i++)
        grant_end(ring_ref[i]);
    for (unsigned i = 0; max_indirect && i < BLKFRONT_MAX_INFLIGHT; i++)
        grant_end(indirect_ref[i]);
    return rc;
}

/* A free slot of the in-flight table, or -1. */
static int free_slot(void)
{
    for (int i = 0; i < BLKFRONT_MAX_INFLIGHT; i++)
        if (!inflight[i])
            return i;
    return -1;
}

/* req (its id set here) into the ring, not yet published. */
static uint64_t put_request(struct blkif_request *req, int slot)
{
    req->id = (next_seq++ << 8) | (uint64_t)slot;
    inflight[slot] = req->id;
    ninflight++;
    memcpy(RING_GET_REQUEST(&ring, ring.req_prod_pvt), req, sizeof(*req));
    ring.req_prod_pvt++;
    return req->id;
}

long blkfront_post(uint8_t op, uint64_t sector, const struct blkif_request_segment *seg, uint32_t nseg,
                   uint64_t *id)
{
    struct blkif_request req = { .operation = op, .nr_segments = (uint8_t)nseg, .sector_number = sector };
    int slot = free_slot();

    if (slot < 0 || RING_FULL(&ring))
        return -XB_ENOSPC;
    if (nseg > BLKIF_MAX_SEGMENTS_PER_REQUEST) {
        struct blkif_request_indirect *ir = (struct blkif_request_indirect *)&req;
        if (nseg > max_indirect || (op != BLKIF_OP_READ && op != BLKIF_OP_WRITE))
            return -XB_EINVAL;
        memcpy(indirect_page[slot], seg, nseg * sizeof(*seg));
        memset(&req, 0, sizeof(req));
        ir->operation = BLKIF_OP_INDIRECT;
        ir->indirect_op = op;
        ir->nr_segments = (uint16_t)nseg;
        ir->sector_number = sector;
        ir->indirect_grefs[0] = indirect_ref[slot];
    } else {
        memcpy(req.seg, seg, nseg * sizeof(*seg));
    }
    *id = put_request(&req, slot);
    return 0;
}

void blkfront_kick(void)
{
    int notify;

    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&ring, notify);
    if (notify)
        evtchn_send(port);
}

long blkfront_reap(uint64_t *id, int16_t *status, uint64_t timeout_ns)
{
    uint64_t end = system_time() + timeout_ns;

    for (;;) {
        while (ring.rsp_cons != __atomic_load_n(&ring.sring->rsp_prod, __ATOMIC_ACQUIRE)) {
            struct blkif_response rsp = *RING_GET_RESPONSE(&ring, ring.rsp_cons);
            uint32_t slot = (uint32_t)(rsp.id & 0xff);
            ring.rsp_cons++;
            if (slot >= BLKFRONT_MAX_INFLIGHT || !rsp.id || inflight[slot] != rsp.id) {
                stray++;        /* never sent, or answered already */
                continue;
            }
            inflight[slot] = 0;
            ninflight--;
            *id = rsp.id;
            *status = rsp.status;
            return 0;
        }
        /* ask for an event, look once more, then wait for the event (a
         * cleared pending bit first, so that a new one ends the poll) */
        event_channel_clear(port);
        ring.sring->rsp_event = ring.rsp_cons + (event_batch < ninflight ? event_batch : ninflight ? ninflight : 1);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (ring.rsp_cons != ring.sring->rsp_prod)
            continue;
        if (system_time() > end)
            return -XB_ETIMEDOUT;
        sched_poll(&port, 1, system_time() + POLL_NS);
    }
}

void blkfront_event_batch(uint32_t n)
{
    event_batch = n ? n : 1;
}

uint32_t blkfront_in_flight(void)
{
    return ninflight;
}

int16_t blkfront_submit(struct blkif_request *req, uint64_t timeout_ns)
{
    uint64_t end = system_time() + timeout_ns, id, got;
    int slot = free_slot();
    int16_t status;

    if (slot < 0)
        return 99;
    id = put_request(req, slot);
    blkfront_kick();
    for (;;) {
        uint64_t now = system_time();
        if (blkfront_reap(&got, &status, now < end ? end - now : 0) < 0)
            return 99;
        if (got == id)
            return status;
    }
}

int16_t blkfront_io(uint8_t op, uint64_t sector, void *buf, uint32_t bytes)
{
    struct blkif_request req = { .operation = op, .sector_number = sector };
    uint64_t va = (uint64_t)buf;
    int16_t st;

    while (bytes && req.nr_segments < BLKIF_MAX_SEGMENTS_PER_REQUEST) {
        uint64_t page = va & ~(PAGE_SIZE - 1);
        uint32_t first = (uint32_t)(va - page) / 512;
        uint32_t n = 8 - first;
        struct blkif_request_segment *s = &req.seg[req.nr_segments++];

        if (n * 512 > bytes)
            n = bytes / 512;
        if (persistent) {
            s->gref = pref[req.nr_segments - 1];
            if (op != BLKIF_OP_READ)
                memcpy(ppage[req.nr_segments - 1] + first * 512, (void *)va, n * 512);
        } else {
            s->gref = grant_access((void *)page, op != BLKIF_OP_READ);
        }
        s->first_sect = (uint8_t)first;
        s->last_sect = (uint8_t)(first + n - 1);
        va += n * 512;
        bytes -= n * 512;
    }
    st = bytes ? BLKIF_RSP_ERROR : blkfront_submit(&req, 30 * NSEC_PER_SEC);
    if (persistent) {
        va = (uint64_t)buf;
        for (unsigned i = 0; op == BLKIF_OP_READ && st == BLKIF_RSP_OKAY && i < req.nr_segments; i++) {
            uint32_t first = req.seg[i].first_sect, n = req.seg[i].last_sect - first + 1u;
            memcpy((void *)va, ppage[i] + first * 512, n * 512);
            va += n * 512;
        }
        return st;
    }
    for (unsigned i = 0; i < req.nr_segments; i++)
        grant_end(req.seg[i].gref);
    return st;
}

uint32_t blkfront_stray_responses(void)
{
    return stray;
}

void blkfront_bump_req_prod(uint32_t ahead)
{
    __atomic_store_n(&ring.sring->req_prod, ring.req_prod_pvt + ahead, __ATOMIC_RELEASE);
    evtchn_send(port);
}
