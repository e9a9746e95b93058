/*
 * xenbus.c - the test kernels' xenstore client (see xenbus.h).
 *
 * Owns: the ring pointer, the local event channel port, the request id
 * counter and a small queue of watch events that arrived while a reply
 * was awaited. One request at a time (the kernels are single-threaded).
 * The ring is shared with Domain 0: indices are read once per step and
 * checked; replies larger than the caller's buffer are truncated.
 */
#include "xenbus.h"
#include "evtime.h"

#define XB_TIMEOUT_NS   (10ull * NSEC_PER_SEC)
#define XB_EVENTS       32
#define XB_EVENT_MAX    256

static struct xenstore_domain_interface *ring;
static evtchn_port_t port;
static uint32_t next_req_id = 1;
static char events[XB_EVENTS][XB_EVENT_MAX];
static uint32_t event_len[XB_EVENTS];
static unsigned ev_head, ev_count;

static const struct {
    const char *name;
    long err;
} error_names[] = {
    { "EINVAL", XB_EINVAL }, { "EACCES", XB_EACCES }, { "EEXIST", XB_EEXIST },
    { "EISDIR", XB_EISDIR }, { "ENOENT", XB_ENOENT }, { "ENOMEM", XB_ENOMEM },
    { "ENOSPC", XB_ENOSPC }, { "EIO", XB_EIO }, { "ENOTEMPTY", XB_ENOTEMPTY },
    { "ENOSYS", XB_ENOSYS }, { "EROFS", XB_EROFS }, { "EBUSY", XB_EBUSY },
    { "EAGAIN", XB_EAGAIN }, { "EISCONN", XB_EISCONN }, { "E2BIG", XB_E2BIG },
    { "EPERM", XB_EPERM },
};

long xenbus_init(void)
{
    uint64_t mfn = start_info->store_mfn;

    for (uint64_t pfn = 0; pfn < mm_mapped_pfns() && !ring; pfn++)
        if (pfn_to_mfn(pfn) == mfn)
            ring = pfn_to_virt(pfn);
    if (!ring)
        return -XB_EINVAL;
    /* start_info's port is our own, already bound to Domain 0 (as in Xen) */
    port = start_info->store_evtchn;
    if (!port)
        return -XB_EINVAL;
    return 0;
}

struct xenstore_domain_interface *xenbus_ring(void)
{
    return ring;
}

void xenbus_notify(void)
{
    evtchn_send(port);
}

bool xenbus_put_raw(const void *bytes, uint32_t len)
{
    XENSTORE_RING_IDX cons = __atomic_load_n(&ring->req_cons, __ATOMIC_ACQUIRE);
    XENSTORE_RING_IDX prod = ring->req_prod;

    if (XENSTORE_RING_SIZE - (prod - cons) < len)
        return false;
    for (uint32_t i = 0; i < len; i++)
        ring->req[MASK_XENSTORE_IDX(prod + i)] = ((const char *)bytes)[i];
    __atomic_store_n(&ring->req_prod, prod + len, __ATOMIC_RELEASE);
    return true;
}

/* Put all of len bytes on the ring, waiting for room. */
static long put_all(const void *bytes, uint32_t len, uint64_t deadline)
{
    const char *p = bytes;

    while (len) {
        XENSTORE_RING_IDX cons = __atomic_load_n(&ring->req_cons, __ATOMIC_ACQUIRE);
        uint32_t room = XENSTORE_RING_SIZE - (ring->req_prod - cons), n = len < room ? len : room;
        if (ring->error)
            return -XB_EPROTO;
        if (n) {
            xenbus_put_raw(p, n);
            p += n;
            len -= n;
            xenbus_notify();
            continue;
        }
        if (system_time() > deadline)
            return -XB_ETIMEDOUT;
        sched_poll(&port, 1, system_time() + NSEC_PER_MSEC);
        event_channel_clear(port);
    }
    return 0;
}

/* Take len bytes off the response ring, waiting for them. */
static long get_all(void *bytes, uint32_t len, uint64_t deadline)
{
    char *p = bytes;

    while (len) {
        XENSTORE_RING_IDX prod = __atomic_load_n(&ring->rsp_prod, __ATOMIC_ACQUIRE);
        XENSTORE_RING_IDX cons = ring->rsp_cons;
        uint32_t avail = prod - cons, n = len < avail ? len : avail;
        if (avail > XENSTORE_RING_SIZE)
            return -XB_EPROTO;
        if (n) {
            for (uint32_t i = 0; i < n; i++)
                p[i] = ring->rsp[MASK_XENSTORE_IDX(cons + i)];
            __atomic_store_n(&ring->rsp_cons, cons + n, __ATOMIC_RELEASE);
            p += n;
            len -= n;
            xenbus_notify();
            continue;
        }
        if (ring->error)
            return -XB_EPROTO;
        if (system_time() > deadline)
            return -XB_ETIMEDOUT;
        sched_poll(&port, 1, system_time() + NSEC_PER_MSEC);
        event_channel_clear(port);
    }
    return 0;
}

/* Read one message; payload into buf (at most size bytes kept). */
static long get_message(struct xsd_sockmsg *h, char *buf, uint32_t size, uint64_t deadline)
{
    char skip[64];
    long rc = get_all(h, sizeof(*h), deadline);

    if (rc < 0)
        return rc;
    if (h->len > XENSTORE_PAYLOAD_MAX)
        return -XB_EPROTO;
    if (h->len <= size)
        return get_all(buf, h->len, deadline);
    rc = get_all(buf, size, deadline);
    for (uint32_t left = h->len - size; rc == 0 && left;) {
        uint32_t n = left < sizeof(skip) ? left : sizeof(skip);
        rc = get_all(skip, n, deadline);
        left -= n;
    }
    return rc;
}

static void queue_event(const char *payload, uint32_t len)
{
    unsigned at;

    if (ev_count == XB_EVENTS)
        return;
    if (len > XB_EVENT_MAX - 1)
        len = XB_EVENT_MAX - 1;
    at = (ev_head + ev_count++) % XB_EVENTS;
    memcpy(events[at], payload, len);
    events[at][len] = '\0';
    event_len[at] = len;
}

static long error_code(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(error_names); i++)
        if (!strncmp(name, error_names[i].name, 16) && strlen(name) == strlen(error_names[i].name))
            return -error_names[i].err;
    return -XB_EIO;
}

long xenbus_request(uint32_t type, uint32_t tx, const void *payload, uint32_t len,
                    char *reply, uint32_t *reply_len)
{
    struct xsd_sockmsg h = { type, next_req_id++, tx, len };
    uint64_t deadline = system_time() + XB_TIMEOUT_NS;
    char buf[XENSTORE_PAYLOAD_MAX + 1];
    long rc;

    if (!ring)
        return -XB_EINVAL;
    rc = put_all(&h, sizeof(h), deadline);
    if (rc == 0 && len)
        rc = put_all(payload, len, deadline);
    while (rc == 0) {
        struct xsd_sockmsg r;
        rc = get_message(&r, buf, XENSTORE_PAYLOAD_MAX, deadline);
        if (rc < 0)
            break;
        buf[r.len] = '\0';
        if (r.type == XS_WATCH_EVENT) {
            queue_event(buf, r.len);
            continue;
        }
        if (r.req_id != h.req_id)
            return -XB_EPROTO;
        if (r.type == XS_ERROR)
            return error_code(buf);
        if (r.type != type)
            return -XB_EPROTO;
        if (reply && reply_len) {
            uint32_t n = r.len < *reply_len ? r.len : *reply_len;
            memcpy(reply, buf, n);
            if (n < *reply_len)
                reply[n] = '\0';
            *reply_len = r.len;
        }
        return 0;
    }
    return rc;
}

long xenbus_request_bars(uint32_t type, uint32_t tx, const char *bars, char *reply,
                         uint32_t *reply_len)
{
    char buf[XENSTORE_PAYLOAD_MAX];
    uint32_t len = (uint32_t)strlen(bars);

    if (len > sizeof(buf))
        return -XB_E2BIG;
    for (uint32_t i = 0; i < len; i++)
        buf[i] = bars[i] == '|' ? '\0' : bars[i];
    return xenbus_request(type, tx, buf, len, reply, reply_len);
}

long xenbus_read(uint32_t tx, const char *path, char *buf, uint32_t size)
{
    uint32_t len = size ? size - 1 : 0;
    long rc = xenbus_request(XS_READ, tx, path, (uint32_t)strlen(path) + 1, buf, &len);

    if (rc == 0 && size)
        buf[len < size ? len : size - 1] = '\0';
    return rc;
}

long xenbus_write(uint32_t tx, const char *path, const char *value)
{
    char buf[XENSTORE_PAYLOAD_MAX];
    size_t pl = strlen(path) + 1, vl = strlen(value);

    if (pl + vl > sizeof(buf))
        return -XB_E2BIG;
    memcpy(buf, path, pl);
    memcpy(buf + pl, value, vl);
    return xenbus_request(XS_WRITE, tx, buf, (uint32_t)(pl + vl), NULL, NULL);
}

long xenbus_rm(uint32_t tx, const char *path)
{
    return xenbus_request(XS_RM, tx, path, (uint32_t)strlen(path) + 1, NULL, NULL);
}

static long two_strings(uint32_t type, const char *a, const char *b)
{
    char buf[XENSTORE_PAYLOAD_MAX];
    size_t al = strlen(a) + 1, bl = strlen(b) + 1;

    if (al + bl > sizeof(buf))
        return -XB_E2BIG;
    memcpy(buf, a, al);
    memcpy(buf + al, b, bl);
    return xenbus_request(type, 0, buf, (uint32_t)(al + bl), NULL, NULL);
}

long xenbus_watch(const char *path, const char *token)
{
    return two_strings(XS_WATCH, path, token);
}

long xenbus_unwatch(const char *path, const char *token)
{
    return two_strings(XS_UNWATCH, path, token);
}

long xenbus_transaction_start(uint32_t *tx)
{
    char buf[16];
    uint32_t len = sizeof(buf) - 1, v = 0;
    long rc = xenbus_request(XS_TRANSACTION_START, 0, "", 1, buf, &len);

    if (rc < 0)
        return rc;
    for (uint32_t i = 0; i < len && buf[i] >= '0' && buf[i] <= '9'; i++)
        v = v * 10 + (uint32_t)(buf[i] - '0');
    *tx = v;
    return 0;
}

long xenbus_transaction_end(uint32_t tx, bool commit)
{
    return xenbus_request(XS_TRANSACTION_END, tx, commit ? "T" : "F", 2, NULL, NULL);
}

long xenbus_wait_event(char *path, uint32_t path_size, char *token, uint32_t token_size,
                       uint64_t timeout_ns)
{
    uint64_t deadline = system_time() + timeout_ns;
    char buf[XENSTORE_PAYLOAD_MAX + 1];

    while (!ev_count) {
        struct xsd_sockmsg r;
        long rc = get_message(&r, buf, XENSTORE_PAYLOAD_MAX, deadline);
        if (rc < 0)
            return rc;
        buf[r.len] = '\0';
        if (r.type == XS_WATCH_EVENT)
            queue_event(buf, r.len);
    }
    {
        const char *e = events[ev_head];
        uint32_t len = event_len[ev_head];
        size_t pl = strnlen(e, len);
        snprintf(path, path_size, "%s", e);
        snprintf(token, token_size, "%s", pl + 1 < len ? e + pl + 1 : "");
        ev_head = (ev_head + 1) % XB_EVENTS;
        ev_count--;
    }
    return 0;
}

void xenbus_drop_events(void)
{
    ev_count = 0;
}
