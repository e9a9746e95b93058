/*
 * Test kernel: the event channels start_info hands a guest.
 *
 * console.domU.evtchn and store_evtchn must be the guest's own ports,
 * already bound interdomain to the backend (Domain 0, or the hypervisor's
 * console in boot-loader mode): never 0, never the same, EVTCHNSTAT_
 * interdomain in EVTCHNOP_status, usable with EVTCHNOP_send at once. The
 * ports the guest allocates next (VIRQ, IPI, unbound) must not collide
 * with them. The result also goes to the PV console ring as
 * "ports: ... ok" / "ports: FAIL ...", for Domain 0's test to read.
 * As Xen's dom0 (make test-xen) there are no such ports: skipped.
 */
#include "evtime.h"
#include "pvconsole.h"

const char test_name[] = "ports";

static void check_bound(evtchn_port_t port, const char *what, uint32_t *peer_dom)
{
    struct evtchn_status st;
    long rc = evtchn_status(port, &st);

    test_eq(rc, 0, "EVTCHNOP_status of the %s port %u", what, port);
    test_eq(st.status, EVTCHNSTAT_interdomain, "the %s port %u is bound interdomain "
            "(status %s)", what, port, evtchn_status_name(st.status));
    *peer_dom = st.u.interdomain.dom;
    printk("ports: %s port %u: %s to domain %#x port %u\n", what, port,
           evtchn_status_name(st.status), st.u.interdomain.dom, st.u.interdomain.port);
}

void test_main(void)
{
    evtchn_port_t con = start_info->console.domU.evtchn, store = start_info->store_evtchn;

    if (start_info->flags & SIF_INITDOMAIN) {
        /* Xen's dom0 (make test-xen): its console is Xen's own and no
         * xenstore runs yet, so start_info names no xenstore port */
        printk("ports: running as the initial domain: no console/xenstore ports to check\n");
        test_eq(store, 0, "the initial domain's start_info names no xenstore port");
        return;
    }
    test_ok(con != 0, "console.domU.evtchn is not 0");
    test_ok(store != 0, "store_evtchn is not 0");
    test_ok(con != store, "the console and xenstore ports differ (%u, %u)", con, store);
    uint32_t con_peer = 0, store_peer = 0;
    check_bound(con, "console", &con_peer);
    check_bound(store, "xenstore", &store_peer);
    test_eq(con_peer, store_peer, "both ports go to the same backend");
    test_eq(evtchn_send(con), 0, "send on the console port");
    test_eq(evtchn_send(store), 0, "send on the xenstore port");

    /* The guest's next ports: none of them may be start_info's. */
    evtchn_port_t mine[4];
    test_eq(evtchn_bind_virq(VIRQ_TIMER, 0, &mine[0]), 0, "bind VIRQ_TIMER");
    test_eq(evtchn_bind_ipi(0, &mine[1]), 0, "bind an IPI");
    test_eq(evtchn_alloc_unbound(DOMID_SELF, &mine[2]), 0, "alloc an unbound port");
    test_eq(evtchn_bind_virq(VIRQ_DEBUG, 0, &mine[3]), 0, "bind VIRQ_DEBUG");
    for (unsigned int i = 0; i < 4; i++) {
        test_ok(mine[i] != 0 && mine[i] != con && mine[i] != store,
                "allocated port %u collides with neither %u nor %u", mine[i], con, store);
        for (unsigned int j = 0; j < i; j++)
            test_ok(mine[i] != mine[j], "allocated ports %u and %u differ", mine[i], mine[j]);
    }
    /* Still bound after the guest's own allocations. */
    check_bound(con, "console", &con_peer);
    for (unsigned int i = 0; i < 4; i++)
        test_eq(evtchn_close(mine[i]), 0, "close port %u", mine[i]);

    pvconsole_init();
    if (test_failures())
        pvconsole_printf("ports: FAIL console %u store %u\n", con, store);
    else
        pvconsole_printf("ports: console %u store %u bound to domain %#x; next %u %u %u %u: ok\n",
                         con, store, con_peer, mine[0], mine[1], mine[2], mine[3]);
}
