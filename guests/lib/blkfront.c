/*
 * blkfront.c - the test kernels' blkif frontend (see blkfront.h).
 *
 * Owns: the shared ring page and the front ring's indices, the event channel to
 * Domain 0, and with persistent grants the 11 pages granted once that
 * blkfront_io copies data through. One request in flight at a time (the kernels are
 * single-threaded); the response is awaited by polling rsp_prod, so no
 * upcall handler is needed.
 */
#include "blkfront.h"
#include "gnttab.h"
#include "evtime.h"
#include "xenbus.h"

#define CONNECT_NS      (20 * NSEC_PER_SEC)
#define POLL_NS         (200 * NSEC_PER_USEC)

static struct blkif_front_ring ring;
static grant_ref_t ring_ref;
static evtchn_port_t port;
static char fpath[64], bpath[96];
static uint64_t next_id = 1;
static uint32_t stray;

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
    struct blkif_sring *sring;
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
    sring = page_alloc();
    SHARED_RING_INIT(sring);
    FRONT_RING_INIT(&ring, sring, PAGE_SIZE);
    ring_ref = grant_access(sring, false);
    if (!ring_ref)
        return -XB_ENOSPC;
    if ((rc = evtchn_alloc_unbound(0, &port)) < 0)
        return rc;
    if (xenbus_printf(fpath, "ring-ref", "%u", ring_ref) || xenbus_printf(fpath, "event-channel", "%u", port) ||
        xenbus_printf(fpath, "protocol", "x86_64-abi"))
        return -XB_EIO;
    persistent = want && !xenbus_read_key(bpath, "feature-persistent", v, sizeof(v)) && v[0] == '1';
    for (unsigned i = 0; persistent && i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++) {
        if (!ppage[i])
            ppage[i] = page_alloc();
        pref[i] = grant_access(ppage[i], false);
    }
    if ((persistent && xenbus_printf(fpath, "feature-persistent", "1")) || xenbus_printf(fpath, "state", "%d", XenbusStateInitialised))
        return -XB_EIO;
    if ((rc = wait_backend(XenbusStateConnected)) < 0)
        return rc;
    if (xenbus_read_key(bpath, "sectors", v, sizeof(v)))
        return -XB_EIO;
    info->sectors = xenbus_parse_u64(v);
    info->sector_size = xenbus_read_key(bpath, "sector-size", v, sizeof(v)) ? 0 : (uint32_t)xenbus_parse_u64(v);
    info->info = xenbus_read_key(bpath, "info", v, sizeof(v)) ? 0 : (uint32_t)xenbus_parse_u64(v);
    info->flush = !xenbus_read_key(bpath, "feature-flush-cache", v, sizeof(v)) && v[0] == '1';
    info->discard = !xenbus_read_key(bpath, "feature-discard", v, sizeof(v)) && v[0] == '1';
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
    grant_end(ring_ref);
    return rc;
}

int16_t blkfront_submit(struct blkif_request *req, uint64_t timeout_ns)
{
    uint64_t end = system_time() + timeout_ns;
    int notify;

    req->id = next_id++;
    memcpy(RING_GET_REQUEST(&ring, ring.req_prod_pvt), req, sizeof(*req));
    ring.req_prod_pvt++;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&ring, notify);
    if (notify)
        evtchn_send(port);
    for (;;) {
        while (ring.rsp_cons != __atomic_load_n(&ring.sring->rsp_prod, __ATOMIC_ACQUIRE)) {
            struct blkif_response rsp = *RING_GET_RESPONSE(&ring, ring.rsp_cons);
            ring.rsp_cons++;
            if (rsp.id == req->id)
                return rsp.status;
            stray++;
        }
        ring.sring->rsp_event = ring.rsp_cons + 1;
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (ring.rsp_cons != ring.sring->rsp_prod)
            continue;
        if (system_time() > end)
            return 99;
        sleep_until(system_time() + POLL_NS);
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
