/*
 * netfront.c - the test kernels' netif frontend (see netfront.h).
 *
 * Owns: the tx and rx shared ring pages and the front rings' indices,
 * the event channel to Domain 0, NF_TX_BUFS tx pages (granted read-only
 * once; a frame is copied into one, its request id is the buffer's
 * index) and NF_RX_BUFS rx pages (granted writable once; posted with the
 * buffer's index as id and posted again once their frame is handed on).
 * Single-threaded, events polled (no upcall handler): the pending bit of
 * the port is cleared before the rings are looked at.
 * Invariants: a tx buffer is in flight from its request until a response
 * with its id (not XEN_NETIF_RSP_NULL); every rx buffer is posted or
 * being handed to the caller.
 */
#include "netfront.h"
#include "evtime.h"
#include "gnttab.h"
#include "xenbus.h"

#define CONNECT_NS   (20 * NSEC_PER_SEC)
#define NF_MAX_FRAME 1514u

static struct netif_tx_front_ring tx;
static struct netif_rx_front_ring rx;
static grant_ref_t tx_ring_ref, rx_ring_ref;
static evtchn_port_t port;
static char fpath[64], bpath[96];
static uint32_t devid;

static uint8_t tx_page[NF_TX_BUFS][PAGE_SIZE] ALIGNED(PAGE_SIZE);
static uint8_t rx_page[NF_RX_BUFS][PAGE_SIZE] ALIGNED(PAGE_SIZE);
static grant_ref_t tx_ref[NF_TX_BUFS], rx_ref[NF_RX_BUFS];
static bool tx_busy[NF_TX_BUFS];
static uint16_t tx_free_list[NF_TX_BUFS];
static unsigned int tx_nfree;
static struct netfront_stats stats;

long netfront_backend_state(void)
{
    return xenbus_state_of(bpath);
}

long netfront_backend_error(char *buf, uint32_t size)
{
    return xenbus_read_key(bpath, "error", buf, size);
}

const struct netfront_stats *netfront_stats(void)
{
    return &stats;
}

unsigned int netfront_tx_free(void)
{
    return tx_nfree;
}

static void kick(void)
{
    evtchn_send(port);
}

static void post_rx(uint16_t id)
{
    struct netif_rx_request *r = RING_GET_REQUEST(&rx, rx.req_prod_pvt);

    r->id = id;
    r->pad = 0;
    r->gref = rx_ref[id];
    rx.req_prod_pvt++;
}

static void push_rx(void)
{
    int notify;

    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&rx, notify);
    if (notify)
        kick();
}

/* Fresh rings, granted and announced; the buffers' grants are kept. */
static long rings_up(grant_ref_t raw_rx_gref)
{
    struct netif_tx_sring *ts = page_alloc();
    struct netif_rx_sring *rs = page_alloc();
    long rc;

    SHARED_RING_INIT(ts);
    FRONT_RING_INIT(&tx, ts, PAGE_SIZE);
    SHARED_RING_INIT(rs);
    FRONT_RING_INIT(&rx, rs, PAGE_SIZE);
    tx_ring_ref = grant_access(ts, false);
    rx_ring_ref = grant_access(rs, false);
    if (!tx_ring_ref || !rx_ring_ref)
        return -XB_ENOSPC;
    tx_nfree = 0;
    for (unsigned int i = 0; i < NF_TX_BUFS; i++) {
        tx_busy[i] = false;
        tx_free_list[tx_nfree++] = (uint16_t)(NF_TX_BUFS - 1 - i);
    }
    if (raw_rx_gref) {
        struct netif_rx_request *r = RING_GET_REQUEST(&rx, rx.req_prod_pvt++);
        *r = (struct netif_rx_request){ .id = NF_RX_BUFS, .gref = raw_rx_gref };
    }
    for (uint16_t i = 0; i < NF_RX_BUFS; i++)
        post_rx(i);
    rx.sring->req_prod = rx.req_prod_pvt;
    if ((rc = evtchn_alloc_unbound(0, &port)) < 0)
        return rc;
    if (xenbus_printf(fpath, "tx-ring-ref", "%u", tx_ring_ref) ||
        xenbus_printf(fpath, "rx-ring-ref", "%u", rx_ring_ref) ||
        xenbus_printf(fpath, "event-channel", "%u", port) ||
        xenbus_printf(fpath, "request-rx-copy", "1") ||
        xenbus_printf(fpath, "state", "%d", XenbusStateInitialised))
        return -XB_EIO;
    if ((rc = xenbus_wait_state(bpath, XenbusStateConnected, CONNECT_NS)) < 0)
        return rc;
    return xenbus_printf(fpath, "state", "%d", XenbusStateConnected) ? -XB_EIO : 0;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
    for (int i = 0; i < 6; i++) {
        unsigned int b = 0;
        for (int k = 0; k < 2; k++, s++) {
            char c = *s;
            b = b * 16 + (unsigned int)(c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
                                        c >= 'A' && c <= 'F' ? c - 'A' + 10 : 99);
        }
        if (b > 255 || (i < 5 && *s++ != ':'))
            return -1;
        mac[i] = (uint8_t)b;
    }
    return 0;
}

long netfront_init(uint32_t index, uint8_t mac[6])
{
    char v[32];
    long rc;

    devid = index;
    snprintf(fpath, sizeof(fpath), "device/vif/%u", devid);
    if ((rc = grant_table_init()) < 0)
        return rc;
    if ((rc = xenbus_read_key(fpath, "backend", bpath, sizeof(bpath))) < 0)
        return rc;
    if ((rc = xenbus_read_key(fpath, "mac", v, sizeof(v))) < 0)
        return rc;
    if (parse_mac(v, mac) < 0)
        return -XB_EINVAL;
    if ((rc = xenbus_wait_state(bpath, XenbusStateInitWait, CONNECT_NS)) < 0)
        return rc;
    for (unsigned int i = 0; i < NF_TX_BUFS; i++)
        if (!(tx_ref[i] = grant_access(tx_page[i], true)))
            return -XB_ENOSPC;
    for (unsigned int i = 0; i < NF_RX_BUFS; i++)
        if (!(rx_ref[i] = grant_access(rx_page[i], false)))
            return -XB_ENOSPC;
    return rings_up(0);
}

long netfront_reconnect(grant_ref_t raw_rx_gref)
{
    long rc;

    if (xenbus_printf(fpath, "state", "%d", XenbusStateClosing))
        return -XB_EIO;
    if ((rc = xenbus_wait_state(bpath, XenbusStateClosed, CONNECT_NS)) < 0)
        return rc;
    evtchn_close(port);
    grant_end(tx_ring_ref);
    grant_end(rx_ring_ref);
    if (xenbus_printf(fpath, "state", "%d", XenbusStateClosed) ||
        xenbus_printf(fpath, "state", "%d", XenbusStateInitialising))
        return -XB_EIO;
    if ((rc = xenbus_wait_state(bpath, XenbusStateInitWait, CONNECT_NS)) < 0)
        return rc;
    return rings_up(raw_rx_gref);
}

/* Tx responses taken: how many. */
static unsigned int reap_tx(void)
{
    RING_IDX prod = __atomic_load_n(&tx.sring->rsp_prod, __ATOMIC_ACQUIRE);
    unsigned int n = prod - tx.rsp_cons;

    while (tx.rsp_cons != prod) {
        struct netif_tx_response r = *RING_GET_RESPONSE(&tx, tx.rsp_cons);
        tx.rsp_cons++;
        if (r.status == XEN_NETIF_RSP_NULL)
            continue;
        if (r.status != XEN_NETIF_RSP_OKAY)
            stats.tx_errors++;
        if (r.id < NF_TX_BUFS && tx_busy[r.id]) {
            tx_busy[r.id] = false;
            tx_free_list[tx_nfree++] = r.id;
        }
    }
    tx.sring->rsp_event = tx.rsp_cons + 1;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return n;
}

static int take_tx_buffer(void)
{
    int id;

    reap_tx();
    if (!tx_nfree || RING_FULL(&tx))
        return -1;
    id = tx_free_list[--tx_nfree];
    tx_busy[id] = true;
    return id;
}

uint8_t *netfront_tx_buffer(grant_ref_t *ref)
{
    reap_tx();
    if (!tx_nfree)
        return NULL;
    *ref = tx_ref[tx_free_list[tx_nfree - 1]];
    return tx_page[tx_free_list[tx_nfree - 1]];
}

static void push_tx(void)
{
    int notify;

    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&tx, notify);
    if (notify)
        kick();
}

long netfront_send(const void *frame, uint32_t len)
{
    struct netif_tx_request *r;
    int id;

    if (len < 14 || len > NF_MAX_FRAME)
        return -XB_EINVAL;
    if ((id = take_tx_buffer()) < 0)
        return -XB_EAGAIN;
    memcpy(tx_page[id], frame, len);
    r = &RING_GET_REQUEST(&tx, tx.req_prod_pvt)->req;
    *r = (struct netif_tx_request){ .gref = tx_ref[id], .offset = 0, .flags = 0, .id = (uint16_t)id,
                                    .size = (uint16_t)len };
    tx.req_prod_pvt++;
    stats.tx_frames++;
    stats.tx_bytes += len;
    push_tx();
    return 0;
}

long netfront_send_slots(union netif_tx_slot *slots, unsigned int n)
{
    unsigned int reqs = 0;

    reap_tx();
    for (unsigned int i = 0; i < n; i++)
        if (!(i && (slots[i - 1].req.flags & XEN_NETTXF_extra_info)))
            reqs++;
    if (reqs > tx_nfree || n > RING_FREE_REQUESTS(&tx))
        return -XB_EAGAIN;
    for (unsigned int i = 0; i < n; i++) {
        union netif_tx_slot *s = RING_GET_REQUEST(&tx, tx.req_prod_pvt);
        *s = slots[i];
        if (!(i && (slots[i - 1].req.flags & XEN_NETTXF_extra_info))) {
            int id = take_tx_buffer();
            s->req.id = (uint16_t)id;
        }
        tx.req_prod_pvt++;
    }
    push_tx();
    kick();
    return 0;
}

/* The private index moves too, so that a later push publishes the
 * garbage again rather than repairing it; netfront_reconnect resets both. */
void netfront_bump_tx_prod(uint32_t ahead)
{
    tx.req_prod_pvt += ahead;
    __atomic_store_n(&tx.sring->req_prod, tx.req_prod_pvt, __ATOMIC_RELEASE);
    kick();
}

void netfront_bump_rx_prod(uint32_t ahead)
{
    rx.req_prod_pvt += ahead;
    __atomic_store_n(&rx.sring->req_prod, rx.req_prod_pvt, __ATOMIC_RELEASE);
    kick();
}

unsigned int netfront_poll(netfront_rx_fn fn, void *arg)
{
    unsigned int frames = 0, answers;
    RING_IDX prod;

    event_channel_clear(port);
    answers = reap_tx();
    for (;;) {
        prod = __atomic_load_n(&rx.sring->rsp_prod, __ATOMIC_ACQUIRE);
        while (rx.rsp_cons != prod) {
            struct netif_rx_response r = *RING_GET_RESPONSE(&rx, rx.rsp_cons);
            rx.rsp_cons++;
            if (r.status < 0)
                stats.rx_errors++;
            if (r.id >= NF_RX_BUFS)
                continue;       /* a raw request's (netfront_reconnect) */
            if (r.status > 0 && r.offset + (uint32_t)r.status <= PAGE_SIZE) {
                stats.rx_frames++;
                stats.rx_bytes += (uint64_t)r.status;
                frames++;
                if (fn)
                    fn(rx_page[r.id] + r.offset, (uint32_t)r.status, arg);
            }
            post_rx(r.id);
        }
        push_rx();
        rx.sring->rsp_event = rx.rsp_cons + 1;
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (rx.rsp_cons == __atomic_load_n(&rx.sring->rsp_prod, __ATOMIC_ACQUIRE))
            return frames + answers;
    }
}

void netfront_wait(uint64_t deadline)
{
    if (event_channel_pending(port))
        return;
    sched_poll(&port, 1, deadline);
}
