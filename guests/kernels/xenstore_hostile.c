/*
 * xenstore_hostile test kernel: a guest that abuses its xenstore ring, to
 * show it is cut off alone (the ring's error field says why) while pvd and
 * other guests go on. cmdline mode=:
 *   badlen   garbage of a valid length first (ENOSYS, still served), then a
 *            header claiming 5000 payload bytes: XENSTORE_ERROR_PROTO
 *   badidx   req_prod far beyond req_cons: XENSTORE_ERROR_RINGIDX
 *   nocons   32 watches, then writes without ever taking a reply or event
 *            off the ring: the server stops reading it after the
 *            outstanding-request quota and cuts it off once its queued
 *            output passes output-bytes: XENSTORE_ERROR_COMM
 * After the cut-off no request is answered.
 */
#include "evtime.h"
#include "xenbus.h"

const char test_name[] = "xenstore_hostile";

static bool wait_error(uint32_t want, uint64_t timeout_ns)
{
    struct xenstore_domain_interface *r = xenbus_ring();
    uint64_t deadline = system_time() + timeout_ns;

    while (system_time() < deadline) {
        if (__atomic_load_n(&r->error, __ATOMIC_ACQUIRE) == want)
            return true;
        sleep_until(system_time() + NSEC_PER_MSEC);
    }
    return false;
}

static void send_raw(uint32_t type, uint32_t len, const void *payload, uint32_t plen)
{
    struct xsd_sockmsg h = { type, 999, 0, len };

    xenbus_put_raw(&h, sizeof(h));
    if (plen)
        xenbus_put_raw(payload, plen);
    xenbus_notify();
}

void test_main(void)
{
    struct xenstore_domain_interface *r;
    char mode[16], v[32];

    if (!cmdline_str("mode", mode, sizeof(mode)))
        test_abort("no mode= on the command line");
    if (!test_ok(xenbus_init() == 0, "xenbus_init"))
        return;
    r = xenbus_ring();
    test_ok(r->server_features & XENSTORE_SERVER_FEATURE_ERROR, "the server offers the error field");
    test_eq(xenbus_read(0, "domid", v, sizeof(v)), 0, "served before the abuse");
    if (!strncmp(mode, "badlen", 7)) {
        test_eq(xenbus_request(0xdead, 0, "xyz", 3, NULL, NULL), -XB_ENOSYS, "garbage type: ENOSYS");
        test_eq(xenbus_read(0, "domid", v, sizeof(v)), 0, "still served after garbage");
        send_raw(XS_WRITE, 5000, NULL, 0);
        test_ok(wait_error(XENSTORE_ERROR_PROTO, 5 * NSEC_PER_SEC), "cut off: XENSTORE_ERROR_PROTO");
    } else if (!strncmp(mode, "badidx", 7)) {
        r->req_prod = r->req_cons + 5000;
        xenbus_notify();
        test_ok(wait_error(XENSTORE_ERROR_RINGIDX, 5 * NSEC_PER_SEC), "cut off: XENSTORE_ERROR_RINGIDX");
    } else if (!strncmp(mode, "nocons", 7)) {
        static const char req[] = "data/flood\0x";
        char token[8];
        for (int i = 0; i < 32; i++) {
            snprintf(token, sizeof(token), "t%d", i);
            test_eq(xenbus_watch("data/flood", token), 0, "watch %d", i);
        }
        /* writes whose replies and events are never read */
        for (int i = 0; i < 200 && !r->error; i++) {
            if (!xenbus_put_raw(&(struct xsd_sockmsg){ XS_WRITE, 5000u + (uint32_t)i, 0, sizeof(req) - 1 },
                                sizeof(struct xsd_sockmsg)) ||
                !xenbus_put_raw(req, sizeof(req) - 1)) {
                xenbus_notify();
                sleep_until(system_time() + 5 * NSEC_PER_MSEC);
                continue;
            }
            xenbus_notify();
        }
        test_ok(wait_error(XENSTORE_ERROR_COMM, 10 * NSEC_PER_SEC), "cut off: XENSTORE_ERROR_COMM (error %u)",
                r->error);
    } else {
        test_abort("unknown mode %s", mode);
    }
    /* nothing is served any more */
    {
        uint32_t prod = r->rsp_prod;
        send_raw(XS_READ, 6, "domid", 6);
        sleep_until(system_time() + 300 * NSEC_PER_MSEC);
        test_eq(r->rsp_prod, prod, "no reply after the cut-off");
    }
}
