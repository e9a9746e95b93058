/*
 * xs_fake_guest.h - the guest's side of a xenstore ring page in plain
 * memory, for the server tests: send a request, take a reply or a watch
 * event, and the host callbacks (map_ring from a table of fake rings,
 * notify counted, log lines kept).
 */
#ifndef TESTS_XS_FAKE_GUEST_H
#define TESTS_XS_FAKE_GUEST_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "xenstore.h"
#include "xs_wire.h"

#define FAKE_RINGS 8

struct fake_host {
    struct xenstore_domain_interface *ring[FAKE_RINGS];   /* by mfn */
    unsigned kicks[FAKE_RINGS];
    char log[64][512];
    unsigned nlog;
    char events[64][256];               /* local watch events: "path token" */
    unsigned nevents;
};

static inline struct xenstore_domain_interface *fake_map(void *arg, uint32_t domid, uint64_t mfn)
{
    struct fake_host *h = arg;
    (void)domid;
    return mfn < FAKE_RINGS ? h->ring[mfn] : NULL;
}

static inline void fake_notify(void *arg, uint32_t domid, uint32_t port)
{
    struct fake_host *h = arg;
    (void)domid;
    if (port < FAKE_RINGS)
        h->kicks[port]++;
}

static inline void fake_log(void *arg, enum xs_log_level level, const char *line)
{
    struct fake_host *h = arg;
    (void)level;
    if (h->nlog < 64)
        snprintf(h->log[h->nlog++], 512, "%s", line);
}

static inline void fake_event(void *arg, const char *path, const char *token)
{
    struct fake_host *h = arg;
    if (h->nevents < 64)
        snprintf(h->events[h->nevents++], 256, "%.120s %.120s", path, token);
}

static inline struct xs_host fake_host_ops(struct fake_host *h)
{
    struct xs_host ops = { h, fake_map, fake_notify, fake_log, fake_event };
    return ops;
}

static inline int fake_logged(const struct fake_host *h, const char *needle)
{
    for (unsigned i = 0; i < h->nlog; i++)
        if (strstr(h->log[i], needle))
            return 1;
    return 0;
}

/* Put raw bytes on the request ring; 0 if they do not fit now. */
static inline int guest_put(struct xenstore_domain_interface *r, const void *d, uint32_t len)
{
    uint32_t prod = r->req_prod;
    if (XENSTORE_RING_SIZE - (prod - r->req_cons) < len)
        return 0;
    for (uint32_t i = 0; i < len; i++)
        r->req[MASK_XENSTORE_IDX(prod + i)] = ((const char *)d)[i];
    __atomic_store_n(&r->req_prod, prod + len, __ATOMIC_RELEASE);
    return 1;
}

static inline int guest_send(struct xenstore_domain_interface *r, uint32_t type, uint32_t req_id,
                             uint32_t tx_id, const void *payload, uint32_t len)
{
    struct xsd_sockmsg h = { type, req_id, tx_id, len };
    return guest_put(r, &h, sizeof(h)) && (len == 0 || guest_put(r, payload, len));
}

/* A request whose payload is NUL-separated strings given as one string
 * with '|' for each NUL ("path|token|"). */
static inline int guest_req(struct xenstore_domain_interface *r, uint32_t type, uint32_t req_id,
                            uint32_t tx_id, const char *bars)
{
    char buf[XENSTORE_PAYLOAD_MAX];
    uint32_t len = (uint32_t)strlen(bars);
    for (uint32_t i = 0; i < len; i++)
        buf[i] = bars[i] == '|' ? '\0' : bars[i];
    return guest_send(r, type, req_id, tx_id, buf, len);
}

/* Take one whole message off the response ring: 1, or 0 if none yet. */
static inline int guest_recv(struct xenstore_domain_interface *r, struct xsd_sockmsg *h,
                             char *payload /* XENSTORE_PAYLOAD_MAX + 1 */)
{
    uint32_t cons = r->rsp_cons, avail = r->rsp_prod - cons;
    if (avail < sizeof(*h))
        return 0;
    for (uint32_t i = 0; i < sizeof(*h); i++)
        ((char *)h)[i] = r->rsp[MASK_XENSTORE_IDX(cons + i)];
    if (avail < sizeof(*h) + h->len || h->len > XENSTORE_PAYLOAD_MAX)
        return 0;
    for (uint32_t i = 0; i < h->len; i++)
        payload[i] = r->rsp[MASK_XENSTORE_IDX(cons + (uint32_t)sizeof(*h) + i)];
    payload[h->len] = '\0';
    __atomic_store_n(&r->rsp_cons, cons + (uint32_t)sizeof(*h) + h->len, __ATOMIC_RELEASE);
    return 1;
}

/* The payload with NULs shown as '|'. */
static inline const char *bars(const char *payload, uint32_t len, char *out)
{
    for (uint32_t i = 0; i < len; i++)
        out[i] = payload[i] ? payload[i] : '|';
    out[len] = '\0';
    return out;
}

#endif
