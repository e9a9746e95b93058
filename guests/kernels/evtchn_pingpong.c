/*
 * Test kernel: event channels (pvcore only: the pair needs two domains).
 *
 * `role=server peer=<domid>` / `role=client peer=<domid>`: the server
 * allocates an unbound port for the peer; the client finds it by trying
 * EVTCHNOP_bind_interdomain on server ports 1..16 until one binds (there
 * is no xenstore). Then PINGPONG_ROUNDS round trips: the client sends and
 * blocks (SCHEDOP_block + upcall, a set_timer_op watchdog), the server
 * polls (SCHEDOP_poll with a timeout), clears the port and sends back.
 * Lost event: a wait times out. Spurious event: one seen when none was
 * due (client: its port pending or counted before it asked; server: its
 * port pending before it replied; either: anything after the last round).
 * Then the client streams sends while the server takes CLOSE_AFTER of
 * them and closes its end: the client must see EVTCHNSTAT_unbound (or
 * closed), send must return cleanly and a poll with a timeout must
 * return without an event.
 *
 * No role (or `role=single`): one-domain checks: bind_ipi + send to self
 * (coalescing, delivery through the upcall), port mask / EVTCHNOP_unmask
 * re-notification, bind_virq(VIRQ_TIMER) twice -> -XEN_EEXIST, status, close
 * of free / reserved / out-of-range ports -> -XEN_EINVAL, a loopback
 * interdomain channel, poll timeouts, the per-domain port limit (alloc
 * until -XEN_ENOSPC: 1024 ports, port 0 reserved) and EVTCHNOP_reset.
 *
 * `fifo=1` (any role): switch to the FIFO ABI first (init_control, one
 * event-array page with every port unmasked); the event helpers then
 * work on event words. Not for role=single, whose checks are 2-level.
 */
#include "evtime.h"

const char test_name[] = "evtchn_pingpong";

#define PINGPONG_ROUNDS 10000
#define CLOSE_AFTER     64
#define FIND_PORTS      16
#define WAIT_NS         (5 * NSEC_PER_SEC)
#define PORT_LIMIT      1024

static domid_t peer_domid(void)
{
    uint64_t peer = cmdline_u64("peer", 0);

    if (!peer || peer >= DOMID_SELF)
        test_abort("cmdline needs peer=<domid>, got \"%s\"",
                   (const char *)start_info->cmd_line);
    return (domid_t)peer;
}

/* Poll until port is pending or deadline; true if pending. */
static bool poll_port(evtchn_port_t port, uint64_t deadline)
{
    while (!event_channel_pending(port) && system_time() < deadline) {
        long rc = sched_poll(&port, 1, deadline);

        if (rc)
            test_abort("SCHEDOP_poll on port %u: %ld", port, rc);
    }
    return event_channel_pending(port);
}

static void server(void)
{
    domid_t peer = peer_domid();
    struct evtchn_status st;
    evtchn_port_t port;
    unsigned int rounds, spurious = 0, got;
    uint64_t deadline, t0;
    long rc;

    rc = evtchn_alloc_unbound(peer, &port);
    if (!test_eq(rc, 0, "alloc_unbound for domain %u", peer))
        return;
    test_ok(port <= FIND_PORTS, "server port %u beyond the %u the client tries",
            port, FIND_PORTS);
    printk("server: port %u is unbound for domain %u\n", port, peer);

    deadline = system_time() + 10 * NSEC_PER_SEC;
    do {
        sleep_until(system_time() + NSEC_PER_MSEC);
        test_eq(evtchn_status(port, &st), 0, "status of port %u", port);
    } while (st.status == EVTCHNSTAT_unbound && system_time() < deadline);
    if (!test_eq(st.status, EVTCHNSTAT_interdomain,
                 "status of port %u while waiting for the client", port))
        return;
    test_eq(st.u.interdomain.dom, peer, "port %u connected to domain", port);
    printk("server: connected to domain %u port %u\n", st.u.interdomain.dom,
           st.u.interdomain.port);

    t0 = system_time();
    for (rounds = 0; rounds < PINGPONG_ROUNDS; rounds++) {
        if (!poll_port(port, system_time() + WAIT_NS)) {
            test_ok(false, "round %u: lost: no event from the client in 5 s",
                    rounds + 1);
            return;
        }
        event_channel_clear(port);
        /* The client waits for our reply: nothing may be pending now. */
        if (event_channel_pending(port))
            spurious++;
        rc = evtchn_send(port);
        if (!test_eq(rc, 0, "round %u: send", rounds + 1))
            return;
    }
    test_eq(spurious, 0, "server: events pending before its reply (spurious)");
    printk("server: %u round trips in %lu ms, %u spurious\n", rounds,
           (unsigned long)((system_time() - t0) / NSEC_PER_MSEC), spurious);

    /* The client streams now; close our end in the middle of it. */
    for (got = 0; got < CLOSE_AFTER; got++) {
        if (!poll_port(port, system_time() + WAIT_NS))
            break;
        event_channel_clear(port);
    }
    test_eq(got, CLOSE_AFTER, "server: events of the client's stream");
    rc = evtchn_close(port);
    test_eq(rc, 0, "server: close of port %u mid-stream", port);
    test_eq(evtchn_status(port, &st), 0, "status of the closed port");
    test_eq(st.status, EVTCHNSTAT_closed, "status of port %u after close", port);
    test_eq(evtchn_send(port), -XEN_EINVAL, "send on the closed port %u", port);
    printk("server: closed port %u after %u streamed events\n", port, got);
}

static evtchn_port_t client_bind(domid_t peer)
{
    uint64_t deadline = system_time() + 10 * NSEC_PER_SEC;
    evtchn_port_t local;
    unsigned int tries = 0;
    long rc = 0;

    while (system_time() < deadline) {
        for (evtchn_port_t p = 1; p <= FIND_PORTS; p++) {
            tries++;
            rc = evtchn_bind_interdomain(peer, p, &local);
            if (!rc) {
                printk("client: bound local port %u to domain %u port %u "
                       "(%u tries)\n", local, peer, p, tries);
                return local;
            }
        }
        sleep_until(system_time() + NSEC_PER_MSEC);
    }
    test_abort("client: no port of domain %u in 1..%u would bind in 10 s "
               "(last error %ld)", peer, FIND_PORTS, rc);
}

static void client(void)
{
    domid_t peer = peer_domid();
    struct evtchn_status st;
    evtchn_port_t local, timer;
    unsigned int i, sent, spurious = 0;
    uint32_t base;
    uint64_t t0, deadline;
    long rc, send_rc = 0;
    bool bind_event;

    evtchn_upcall_init();
    hypercall_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL);
    if (!test_eq(evtchn_bind_virq(VIRQ_TIMER, 0, &timer), 0,
                 "bind VIRQ_TIMER (watchdog)"))
        return;
    local = client_bind(peer);
    /* Binding notifies the new local port once (Xen does it too). */
    bind_event = event_channel_pending(local);
    event_channel_clear(local);
    printk("client: bind notified the local port: %s\n",
           bind_event ? "yes" : "no");

    base = evtchn_seen[local];
    t0 = system_time();
    for (i = 1; i <= PINGPONG_ROUNDS; i++) {
        if (evtchn_seen[local] != base + i - 1 || event_channel_pending(local))
            spurious++;
        rc = evtchn_send(local);
        if (!test_eq(rc, 0, "round %u: send", i))
            return;
        deadline = system_time() + WAIT_NS;
        hypercall_set_timer_op(deadline);
        while (evtchn_seen[local] < base + i && system_time() < deadline)
            event_block();
        if (evtchn_seen[local] < base + i) {
            test_ok(false, "round %u: lost: no reply from the server in 5 s", i);
            hypercall_set_timer_op(0);
            return;
        }
    }
    hypercall_set_timer_op(0);
    test_eq(evtchn_seen[local] - base, PINGPONG_ROUNDS,
            "client: replies counted");
    test_eq(spurious, 0, "client: events seen before it asked (spurious)");
    printk("client: %u round trips in %lu ms, %u spurious\n", i - 1,
           (unsigned long)((system_time() - t0) / NSEC_PER_MSEC), spurious);

    /* Nothing more is due: 20 ms of quiet. */
    sleep_until(system_time() + 20 * NSEC_PER_MSEC);
    test_ok(!event_channel_pending(local),
            "client: an event after the last round trip (spurious)");

    /* Stream until the server closes its end. */
    deadline = system_time() + 10 * NSEC_PER_SEC;
    for (sent = 0; system_time() < deadline; sent++) {
        send_rc = evtchn_send(local);
        if (!test_eq(evtchn_status(local, &st), 0, "status while streaming"))
            return;
        if (st.status != EVTCHNSTAT_interdomain)
            break;
        if (!test_eq(send_rc, 0, "send %u while connected", sent))
            return;
        hypercall_sched_op(SCHEDOP_yield, NULL);
    }
    printk("client: after %u sends the port is %s (dom %u); last send rc %ld\n",
           sent, evtchn_status_name(st.status), st.u.unbound.dom, send_rc);
    if (!test_ok(st.status == EVTCHNSTAT_unbound || st.status == EVTCHNSTAT_closed,
                 "client port %u after the server's close is %s, want unbound "
                 "or closed", local, evtchn_status_name(st.status)))
        return;
    if (st.status == EVTCHNSTAT_unbound)
        test_eq(st.u.unbound.dom, peer, "unbound port waits for domain");

    test_ok(!event_channel_pending(local),
            "client: port %u pending although the server never replied to "
            "the stream", local);
    event_channel_clear(local);
    t0 = system_time();
    rc = sched_poll(&local, 1, t0 + 50 * NSEC_PER_MSEC);
    test_eq(rc, 0, "poll with timeout on the orphaned port");
    test_ok(!event_channel_pending(local), "orphaned port %u got an event", local);
    test_ok(system_time() - t0 >= 50 * NSEC_PER_MSEC - 100 * NSEC_PER_USEC,
            "poll on the orphaned port returned after %lu us, before its "
            "50 ms timeout", (unsigned long)((system_time() - t0) / 1000));
    send_rc = evtchn_send(local);
    test_eq(send_rc, st.status == EVTCHNSTAT_unbound ? 0 : -XEN_EINVAL,
            "send on the %s port", evtchn_status_name(st.status));
    sleep_until(system_time() + 10 * NSEC_PER_MSEC);
    test_ok(!event_channel_pending(local), "send on the orphaned port "
            "came back to it");
    printk("client: orphaned port: poll timed out after %lu us without an "
           "event, send rc %ld\n",
           (unsigned long)((system_time() - t0) / 1000), send_rc);
    if (st.status != EVTCHNSTAT_closed) {
        test_eq(evtchn_close(local), 0, "close of the orphaned port");
        test_eq(evtchn_status(local, &st), 0, "status after close");
        test_eq(st.status, EVTCHNSTAT_closed, "port %u after close", local);
    }
}

/* ---- one domain ---- */

static void check_status(evtchn_port_t port, uint32_t want, const char *what)
{
    struct evtchn_status st;

    if (test_eq(evtchn_status(port, &st), 0, "status of %s port %u", what, port))
        test_eq(st.status, want, "status of %s port %u (%s)", what, port,
                evtchn_status_name(st.status));
}

static void single_ipi(void)
{
    vcpu_info_t *vi = vcpu_info_self();
    evtchn_port_t p;
    uint32_t base;

    if (!test_eq(evtchn_bind_ipi(0, &p), 0, "bind_ipi vCPU 0"))
        return;
    check_status(p, EVTCHNSTAT_ipi, "IPI");
    base = evtchn_seen[p];
    test_eq(evtchn_send(p), 0, "send on IPI port %u", p);
    test_ok(event_channel_pending(p), "IPI port %u not pending after send", p);
    test_eq(vi->evtchn_upcall_pending, 1, "upcall pending after the IPI");
    test_eq(evtchn_send(p), 0, "second send before delivery");
    event_block();                      /* pending: returns at once */
    test_eq(evtchn_seen[p] - base, 1, "two sends before delivery coalesce");
    test_ok(!event_channel_pending(p), "IPI port still pending after upcall");

    /* A masked port: pending, but no upcall until EVTCHNOP_unmask. */
    event_channel_mask(p);
    evtchn_upcall_clear();
    test_eq(evtchn_send(p), 0, "send on masked port");
    test_ok(event_channel_pending(p), "masked port %u not pending", p);
    test_eq(vi->evtchn_upcall_pending, 0, "upcall pending for a masked port");
    test_eq(evtchn_unmask(p), 0, "EVTCHNOP_unmask");
    test_eq(vi->evtchn_upcall_pending, 1, "upcall pending after unmasking a "
            "pending port");
    event_block();
    test_eq(evtchn_seen[p] - base, 2, "masked event delivered after unmask");

    /* Poll: satisfied at once by a pending port, else up to the timeout. */
    uint64_t t0 = system_time();
    test_eq(evtchn_send(p), 0, "send before poll");
    test_eq(sched_poll(&p, 1, t0 + NSEC_PER_SEC), 0, "poll on pending port");
    test_ok(system_time() - t0 < 100 * NSEC_PER_MSEC,
            "poll on a pending port took %lu us",
            (unsigned long)((system_time() - t0) / 1000));
    event_channel_clear(p);
    evtchn_upcall_clear();
    t0 = system_time();
    test_eq(sched_poll(&p, 1, t0 + 20 * NSEC_PER_MSEC), 0, "poll with timeout");
    test_ok(system_time() - t0 >= 20 * NSEC_PER_MSEC - 100 * NSEC_PER_USEC,
            "poll timed out after %lu us, before its 20 ms",
            (unsigned long)((system_time() - t0) / 1000));
    test_ok(!event_channel_pending(p), "idle IPI port pending after poll");
    test_eq(evtchn_close(p), 0, "close IPI port");
    check_status(p, EVTCHNSTAT_closed, "closed IPI");
}

static void single_virq_and_close(void)
{
    struct evtchn_status st;
    evtchn_port_t p, p2;

    if (!test_eq(evtchn_bind_virq(VIRQ_TIMER, 0, &p), 0, "bind VIRQ_TIMER"))
        return;
    test_eq(evtchn_bind_virq(VIRQ_TIMER, 0, &p2), -XEN_EEXIST,
            "bind VIRQ_TIMER a second time");
    if (test_eq(evtchn_status(p, &st), 0, "status of VIRQ port")) {
        test_eq(st.status, EVTCHNSTAT_virq, "VIRQ port status");
        test_eq(st.u.virq, VIRQ_TIMER, "VIRQ port's virq");
    }
    test_eq(evtchn_bind_virq(VIRQ_TIMER, 99, &p2), -XEN_ENOENT,
            "bind VIRQ_TIMER to vCPU 99");
    test_eq(evtchn_close(p), 0, "close VIRQ port");
    test_eq(evtchn_bind_virq(VIRQ_TIMER, 0, &p2), 0, "rebind after close");
    test_eq(evtchn_close(p2), 0, "close rebound VIRQ port");

    test_eq(evtchn_close(PORT_LIMIT - 24), -XEN_EINVAL, "close of a free port");
    test_eq(evtchn_close(0), -XEN_EINVAL, "close of reserved port 0");
    test_eq(evtchn_close(5000), -XEN_EINVAL, "close of port 5000 (beyond limit)");
    test_eq(evtchn_send(PORT_LIMIT - 24), -XEN_EINVAL, "send on a free port");
    test_eq(evtchn_status(5000, &st), -XEN_EINVAL, "status of port 5000");
}

static void single_loopback(void)
{
    struct evtchn_status st;
    evtchn_port_t a, b;

    if (!test_eq(evtchn_alloc_unbound(DOMID_SELF, &a), 0, "alloc_unbound self"))
        return;
    if (!test_eq(evtchn_bind_interdomain(DOMID_SELF, a, &b), 0,
                 "bind_interdomain to own port %u", a))
        return;
    event_channel_clear(b);             /* the bind's notification */
    test_eq(evtchn_send(b), 0, "send b->a");
    test_ok(event_channel_pending(a) && !event_channel_pending(b),
            "loopback send b->a: pending a %d b %d", event_channel_pending(a),
            event_channel_pending(b));
    event_channel_clear(a);
    test_eq(evtchn_send(a), 0, "send a->b");
    test_ok(event_channel_pending(b) && !event_channel_pending(a),
            "loopback send a->b: pending a %d b %d", event_channel_pending(a),
            event_channel_pending(b));
    event_channel_clear(b);
    test_eq(evtchn_close(a), 0, "close one end of loopback");
    if (test_eq(evtchn_status(b, &st), 0, "status of other end"))
        test_eq(st.status, EVTCHNSTAT_unbound, "other end after close");
    test_eq(evtchn_send(b), 0, "send on the now unbound end");
    test_ok(!event_channel_pending(a) && !event_channel_pending(b),
            "send on an unbound port notified someone");
    test_eq(evtchn_close(b), 0, "close the other end");
}

static void single_port_limit(void)
{
    static evtchn_port_t ports[PORT_LIMIT + 8];
    struct evtchn_status st;
    unsigned int n = 0, in_use = 0;
    evtchn_port_t highest = 0;
    long rc = 0;

    for (evtchn_port_t p = 1; p < PORT_LIMIT; p++)
        if (!evtchn_status(p, &st) && st.status != EVTCHNSTAT_closed)
            in_use++;
    rc = evtchn_alloc_many(ports, ARRAY_SIZE(ports), &n, &highest);
    printk("single: %u ports allocated (%u in use before), highest %u, then %ld\n",
           n, in_use, highest, rc);
    test_eq(rc, -XEN_ENOSPC, "alloc_unbound past the port limit");
    test_eq(n + in_use, PORT_LIMIT - 1, "usable ports (1..limit-1)");
    test_eq(highest, PORT_LIMIT - 1, "highest port");
    for (unsigned int i = 0; i < n; i++)
        if (!test_eq(evtchn_close(ports[i]), 0, "close allocated port %u",
                     ports[i]))
            break;
    test_eq(evtchn_alloc_unbound(DOMID_SELF, &ports[0]), 0,
            "alloc_unbound after freeing");
    test_eq(evtchn_close(ports[0]), 0, "close it");
}

static void single_reset(void)
{
    evtchn_port_t a, b;

    test_eq(evtchn_bind_ipi(0, &a), 0, "bind_ipi before reset");
    test_eq(evtchn_alloc_unbound(DOMID_SELF, &b), 0, "alloc before reset");
    test_eq(evtchn_reset_self(), 0, "EVTCHNOP_reset");
    check_status(a, EVTCHNSTAT_closed, "reset IPI");
    check_status(b, EVTCHNSTAT_closed, "reset unbound");
}

static void single(void)
{
    evtchn_upcall_init();
    hypercall_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL);
    single_ipi();
    single_virq_and_close();
    single_loopback();
    single_port_limit();
    single_reset();
    printk("single: %u upcalls taken\n", evtchn_upcalls);
}

void test_main(void)
{
    char role[16];

    /* fifo=1: the same checks over the FIFO ABI (one unmasked page). */
    if (cmdline_u64("fifo", 0)) {
        long rc = evtchn_fifo_setup(1);

        if (rc)
            test_abort("fifo=1: FIFO setup failed: %ld", rc);
        printk("using the FIFO event channel ABI\n");
    }

    if (!cmdline_str("role", role, sizeof(role)) || !strncmp(role, "single", 7))
        single();
    else if (!strncmp(role, "server", 7))
        server();
    else if (!strncmp(role, "client", 7))
        client();
    else
        test_abort("unknown role=%s", role);
}
