/* Xenstore for boot-loader domains: there is none. A domain started from a
 * GRUB module line has no Domain 0 to run a xenstore server, but a guest
 * written for Xen (Debian's Linux, for one) finds a xenstore ring and port
 * in start_info and waits for its first answer. The hypervisor answers
 * every request on that ring at once with the error ENOSYS, as a xenstore
 * that offers nothing would, so the guest's xenbus gives up cleanly and
 * the guest runs without devices.
 *
 * Owns: d->store_mfn (a reference on the ring page, taken by the boot-loader
 * builder, dropped when the domain is destroyed) and the hypervisor's ends
 * of the ring's indices. Called from the reaper (bootdomains.c) on the CPU
 * that runs it; nothing else touches the ring from the hypervisor side.
 * Invariants: the guest's indices are read once per pass and checked; a
 * request that does not fit the ring, or indices that run past each other,
 * close the ring for that domain (connection state ERROR, no more replies). */
#include <public/io/xs_wire.h>
#include "hv/bootdomains.h"
#include "hv/domain.h"
#include "hv/event.h"
#include "hv/lib.h"
#include "hv/mm.h"
#include "hv/printk.h"

static const char answer[] = "ENOSYS";

/* Copy n bytes out of the request ring from index at. */
static void ring_read(const struct xenstore_domain_interface *x, XENSTORE_RING_IDX at, void *out,
                      size_t n)
{
    for (size_t i = 0; i < n; i++)
        ((char *)out)[i] = x->req[MASK_XENSTORE_IDX(at + i)];
}

static void ring_write(struct xenstore_domain_interface *x, XENSTORE_RING_IDX at, const void *in,
                       size_t n)
{
    for (size_t i = 0; i < n; i++)
        x->rsp[MASK_XENSTORE_IDX(at + i)] = ((const char *)in)[i];
}

static void close_ring(struct domain *d, struct xenstore_domain_interface *x, const char *why)
{
    pr_warn("domain %u (%s): xenstore ring closed: %s", d->id, d->name, why);
    __atomic_store_n(&x->error, XENSTORE_ERROR_RINGIDX, __ATOMIC_RELEASE);
    d->store_closed = true;
}

void xenstore_absent_serve(struct domain *d)
{
    if (!d->store_mfn || d->store_closed)
        return;
    struct xenstore_domain_interface *x = mfn_to_virt(d->store_mfn);
    XENSTORE_RING_IDX cons = x->req_cons;
    XENSTORE_RING_IDX prod = __atomic_load_n(&x->req_prod, __ATOMIC_ACQUIRE);
    XENSTORE_RING_IDX rsp_prod = x->rsp_prod;
    bool answered = false;

    if (prod - cons > XENSTORE_RING_SIZE) {
        close_ring(d, x, "request indices past each other");
        return;
    }
    while (prod - cons >= sizeof(struct xsd_sockmsg)) {
        struct xsd_sockmsg in, out;
        ring_read(x, cons, &in, sizeof(in));
        if (in.len > XENSTORE_PAYLOAD_MAX) {
            close_ring(d, x, "a request longer than the payload limit");
            return;
        }
        if (prod - cons < sizeof(in) + in.len)
            break;                      /* the rest is still being written */
        XENSTORE_RING_IDX rsp_cons = __atomic_load_n(&x->rsp_cons, __ATOMIC_ACQUIRE);
        if (rsp_prod - rsp_cons > XENSTORE_RING_SIZE) {
            close_ring(d, x, "response indices past each other");
            return;
        }
        if (XENSTORE_RING_SIZE - (rsp_prod - rsp_cons) < sizeof(out) + sizeof(answer))
            break;                      /* the guest has not read the answers yet */
        out = (struct xsd_sockmsg){ .type = XS_ERROR, .req_id = in.req_id, .tx_id = in.tx_id,
                                    .len = sizeof(answer) };
        ring_write(x, rsp_prod, &out, sizeof(out));
        ring_write(x, rsp_prod + sizeof(out), answer, sizeof(answer));
        rsp_prod += sizeof(out) + sizeof(answer);
        cons += sizeof(in) + in.len;
        answered = true;
    }
    if (!answered)
        return;
    __atomic_store_n(&x->req_cons, cons, __ATOMIC_RELEASE);
    __atomic_store_n(&x->rsp_prod, rsp_prod, __ATOMIC_RELEASE);
    evtchn_notify(d, d->store_port);
}
