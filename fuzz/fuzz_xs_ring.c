/*
 * fuzz_xs_ring.c - libFuzzer target: arbitrary bytes as one guest's
 * request stream on its xenstore ring (dom0/xs_conn.c, xs_ops.c and
 * below), fed in ring-sized pieces while the guest takes every reply, with
 * a second, well-behaved guest and the toolstack writing beside it. The
 * server must never crash, leak or touch memory out of bounds, and the
 * other guest must still be served afterwards.
 *
 * The first input byte picks the quotas (small ones reach the limits).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_fake_guest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct xenstore_domain_interface rings[3] __attribute__((aligned(4096)));

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fake_host host;
    struct xs_host ops;
    struct xs_quota q;
    struct xs_server *s;
    struct xsd_sockmsg h;
    char err[256], payload[XENSTORE_PAYLOAD_MAX + 1];
    size_t at = 1;

    if (size < 1)
        return 0;
    memset(&host, 0, sizeof(host));
    memset(rings, 0, sizeof(rings));
    host.ring[1] = &rings[1];
    host.ring[2] = &rings[2];
    ops = fake_host_ops(&host);
    xs_quota_defaults(&q);
    if (data[0] & 1) {
        q.nodes = 8;
        q.watches = 4;
        q.transactions = 2;
        q.outstanding = 2;
        q.trans_nodes = 16;
        q.out_bytes = 2048;
    }
    if (xs_open(NULL, &q, &ops, &s, err, sizeof(err)) < 0)
        abort();
    if (xs_introduce(s, 1, 1, 1, err, sizeof(err)) < 0 || xs_introduce(s, 2, 2, 2, err, sizeof(err)) < 0)
        abort();
    xs_local_mkdir(s, "/local/domain/1");
    xs_local_set_perms(s, "/local/domain/1", "n1");
    while (at < size && !xs_is_cut_off(s, 1, NULL)) {
        uint32_t room = XENSTORE_RING_SIZE - (rings[1].req_prod - rings[1].req_cons);
        size_t n = size - at < room ? size - at : room;
        if (n && guest_put(&rings[1], data + at, (uint32_t)n))
            at += n;
        xs_poll_all(s);
        while (guest_recv(&rings[1], &h, payload))
            ;
        xs_local_write(s, "/local/domain/1/data", "x");
        if (!n && rings[1].req_prod == rings[1].req_cons)
            break;
        if (!n) {       /* the server stopped reading (quota): drop the rest */
            xs_poll_all(s);
            while (guest_recv(&rings[1], &h, payload))
                ;
            if (rings[1].req_prod != rings[1].req_cons)
                break;
        }
    }
    /* the other guest is served */
    if (!guest_req(&rings[2], XS_GET_DOMAIN_PATH, 7, 0, "2|"))
        abort();
    xs_poll_all(s);
    if (!guest_recv(&rings[2], &h, payload) || h.req_id != 7 || h.type != XS_GET_DOMAIN_PATH)
        abort();
    xs_close(s);
    return 0;
}
