/*
 * net test kernel: a virtual network interface end to end through pvd's
 * netback, from a guest (guests/lib/netfront.c, guests/lib/ipv4.c). The
 * vif is device/vif/0 with address ip= (a.b.c.d).
 *
 * mode=ping peer=B count=N: N echo requests to B answered (each tried
 *  up to 10 times), round trips reported ("net: ping ... rtt avg"); then
 *  answers whatever comes for linger= seconds (default 5).
 * mode=ping peer=B seconds=S [interval=MS]: echo requests every MS ms
 *  (default 50) for S seconds; passes when at least half were answered
 *  and some in the last 5 s (pvd may be killed meanwhile: the vif must
 *  carry traffic again without this guest re-initialising), the backend
 *  still Connected; reports the longest gap.
 * mode=udpsend peer=B seconds=S [size=1472] [port=9000]: UDP datagrams
 *  to B as fast as the tx ring takes them for S seconds.
 * mode=udprecv expect=K seconds=S [port=9000]: once K sources have sent
 *  (within wait= seconds, default 120) and 2 s more, counts the frame
 *  bytes of each source's datagrams for S seconds: "net: udp from A:
 *  BYTES bytes, RATE bytes/s, share P permille" per source and the total.
 * mode=hostile peer=B: a netfront that breaks the protocol, each time
 *  checking that B still answers: a grant never given, an oversize frame,
 *  a runt, fragments larger than their packet (each answered ERROR, the
 *  vif still up), a spoofed source MAC (its echo request never answered);
 *  then garbage tx ring indices (the fresh rx ring after it starts with
 *  a buffer of a grant never given: answered ERROR), garbage rx ring
 *  indices, a chain of 19 slots, an extra-info slot of an
 *  unknown type (each shuts the vif: backend Closing with an error node;
 *  reconnected each time); then floods broadcast frames for flood=
 *  seconds (default 5).
 *
 * Run by tests/netback/net_guests.sh and bench/net_bench.sh through pvd.
 */
#include "evtime.h"
#include "ipv4.h"
#include "netfront.h"
#include "xenbus.h"

const char test_name[] = "net";

#define MAX_SRC 8

static uint32_t my_ip, peer_ip;

static uint32_t cmdline_ip(const char *key)
{
    char v[20];

    return cmdline_str(key, v, sizeof(v)) ? ip_parse(v) : 0;
}

static void fmt_ip(char *buf, size_t size, uint32_t a)
{
    snprintf(buf, size, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

static void linger(uint64_t seconds)
{
    uint64_t end = system_time() + seconds * NSEC_PER_SEC;

    while (system_time() < end)
        ip_poll(end);
}

static void mode_ping_count(uint64_t count)
{
    uint64_t ok = 0, sum = 0, min = ~0ull, max = 0;
    char p[20];

    fmt_ip(p, sizeof(p), peer_ip);
    for (uint64_t seq = 1; seq <= count; seq++)
        for (int tries = 0; tries < 10; tries++) {
            int64_t rtt = ip_ping(peer_ip, (uint16_t)seq, NSEC_PER_SEC);
            if (rtt < 0)
                continue;
            ok++;
            sum += (uint64_t)rtt;
            min = (uint64_t)rtt < min ? (uint64_t)rtt : min;
            max = (uint64_t)rtt > max ? (uint64_t)rtt : max;
            break;
        }
    test_eq(ok, count, "echo replies from %s", p);
    if (ok)
        printk("net: ping %s: %lu/%lu replies, rtt avg %lu us min %lu us max %lu us\n", p, (unsigned long)ok,
               (unsigned long)count, (unsigned long)(sum / ok / 1000), (unsigned long)(min / 1000),
               (unsigned long)(max / 1000));
    linger(cmdline_u64("linger", 5));
}

static void mode_ping_run(uint64_t seconds)
{
    uint64_t interval = cmdline_u64("interval", 50) * NSEC_PER_MSEC;
    uint64_t start = system_time(), end = start + seconds * NSEC_PER_SEC;
    uint64_t ok = 0, sent = 0, last = start, gap = 0, next_report = start + 5 * NSEC_PER_SEC;
    uint16_t seq = 1;
    char p[20];

    fmt_ip(p, sizeof(p), peer_ip);
    while (system_time() < end) {
        uint64_t t = system_time();
        int64_t rtt = ip_ping(peer_ip, seq++, NSEC_PER_SEC);
        sent++;
        if (rtt >= 0) {
            uint64_t now = system_time();
            ok++;
            if (now - last > gap)
                gap = now - last;
            last = now;
        }
        if (system_time() > next_report) {
            printk("net: ping %s: %lu/%lu replies after %lu s\n", p, (unsigned long)ok, (unsigned long)sent,
                   (unsigned long)((system_time() - start) / NSEC_PER_SEC));
            next_report += 5 * NSEC_PER_SEC;
        }
        while (system_time() < t + interval)
            ip_poll(t + interval);
    }
    printk("net: ping %s: %lu/%lu replies in %lu s, longest gap %lu ms, last reply %lu ms before the end\n", p,
           (unsigned long)ok, (unsigned long)sent, (unsigned long)seconds, (unsigned long)(gap / NSEC_PER_MSEC),
           (unsigned long)(last < end ? (end - last) / NSEC_PER_MSEC : 0));
    test_ok(ok * 2 >= sent, "at least half the echo requests to %s answered (%lu of %lu)", p, (unsigned long)ok,
            (unsigned long)sent);
    test_ok(last + 5 * NSEC_PER_SEC > end, "replies from %s in the last 5 s", p);
    test_eq(netfront_backend_state(), XenbusStateConnected, "the backend is still Connected");
    linger(cmdline_u64("linger", 5));
}

static void mode_udpsend(void)
{
    uint64_t seconds = cmdline_u64("seconds", 10), size = cmdline_u64("size", 1472);
    uint16_t port = (uint16_t)cmdline_u64("port", 9000);
    uint8_t payload[1472], mac[6];
    uint64_t start, end, frames = 0;
    long rc;

    if (size > sizeof(payload))
        size = sizeof(payload);
    for (unsigned int i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)i;
    test_eq(ip_resolve(peer_ip, mac, 120 * NSEC_PER_SEC), 0, "the receiver answers ARP");
    start = system_time();
    end = start + seconds * NSEC_PER_SEC;
    while (system_time() < end) {
        rc = udp_send(peer_ip, port, port, payload, (uint32_t)size);
        if (rc == 0) {
            frames++;
            continue;
        }
        if (rc != -XB_EAGAIN) {
            test_eq(rc, 0, "udp_send");
            break;
        }
        ip_poll(system_time() + 20 * NSEC_PER_MSEC);
    }
    printk("net: udp sent %lu frames, %lu bytes in %lu s (%lu bytes/s), tx errors %lu\n", (unsigned long)frames,
           (unsigned long)netfront_stats()->tx_bytes, (unsigned long)seconds,
           (unsigned long)(netfront_stats()->tx_bytes / (seconds ? seconds : 1)),
           (unsigned long)netfront_stats()->tx_errors);
    test_eq(netfront_stats()->tx_errors, 0, "no tx errors");
}

static struct src { uint32_t ip; uint64_t bytes, frames; } src[MAX_SRC];
static unsigned int nsrc;

static void count_udp(uint32_t from, uint16_t sport, uint16_t dport, const uint8_t *data, uint32_t len,
                      uint32_t frame_len, void *arg)
{
    uint16_t want = (uint16_t)(uintptr_t)arg;
    unsigned int i;

    (void)sport;
    (void)data;
    (void)len;
    if (dport != want)
        return;
    for (i = 0; i < nsrc && src[i].ip != from; i++)
        ;
    if (i == nsrc) {
        if (nsrc == MAX_SRC)
            return;
        src[nsrc++].ip = from;
    }
    src[i].bytes += frame_len;
    src[i].frames++;
}

static void mode_udprecv(void)
{
    uint64_t expect = cmdline_u64("expect", 1), seconds = cmdline_u64("seconds", 10);
    uint64_t wait_end = system_time() + cmdline_u64("wait", 120) * NSEC_PER_SEC, start, end, total = 0;
    uint16_t port = (uint16_t)cmdline_u64("port", 9000);

    udp_set_handler(count_udp, (void *)(uintptr_t)port);
    printk("net: udp receiver up, waiting for %lu sources\n", (unsigned long)expect);
    while (nsrc < expect && system_time() < wait_end)
        ip_poll(wait_end);
    if (!test_eq(nsrc, expect, "sources heard from"))
        return;
    linger(2);
    for (unsigned int i = 0; i < nsrc; i++)
        src[i].bytes = src[i].frames = 0;
    start = system_time();
    end = start + seconds * NSEC_PER_SEC;
    while (system_time() < end)
        ip_poll(end);
    end = system_time();
    for (unsigned int i = 0; i < nsrc; i++)
        total += src[i].bytes;
    for (unsigned int i = 0; i < nsrc; i++) {
        char a[20];
        fmt_ip(a, sizeof(a), src[i].ip);
        printk("net: udp from %s: %lu bytes, %lu frames, %lu bytes/s, share %lu permille\n", a,
               (unsigned long)src[i].bytes, (unsigned long)src[i].frames,
               (unsigned long)(src[i].bytes * NSEC_PER_SEC / (end - start)),
               (unsigned long)(total ? src[i].bytes * 1000 / total : 0));
        test_ok(src[i].bytes > 0, "datagrams from %s during the measurement", a);
    }
    printk("net: udp total %lu bytes/s from %u sources in %lu ms, rx errors %lu\n",
           (unsigned long)(total * NSEC_PER_SEC / (end - start)), nsrc,
           (unsigned long)((end - start) / NSEC_PER_MSEC), (unsigned long)netfront_stats()->rx_errors);
    linger(cmdline_u64("linger", 2));
}

/* ---- hostile ---- */

static void peer_answers(const char *after)
{
    bool ok = false;

    for (int tries = 0; tries < 10 && !ok; tries++)
        ok = ip_ping(peer_ip, (uint16_t)(100 + tries), NSEC_PER_SEC) >= 0;
    test_ok(ok, "the peer still answers after %s", after);
}

/* Raw slots answered with an error (count of error responses grows). */
static void expect_error(const char *what, union netif_tx_slot *slots, unsigned int n)
{
    uint64_t before = netfront_stats()->tx_errors, end = system_time() + 5 * NSEC_PER_SEC;

    test_eq(netfront_send_slots(slots, n), 0, "%s: slots queued", what);
    while (netfront_stats()->tx_errors == before && system_time() < end)
        ip_poll(end);
    test_ok(netfront_stats()->tx_errors > before, "%s: answered XEN_NETIF_RSP_ERROR", what);
    test_eq(netfront_backend_state(), XenbusStateConnected, "%s: the vif stays connected", what);
    peer_answers(what);
}

static void expect_shut(const char *what, grant_ref_t raw_rx_gref)
{
    uint64_t end = system_time() + 10 * NSEC_PER_SEC;
    char err[128];

    while (netfront_backend_state() != XenbusStateClosing && system_time() < end)
        ip_poll(system_time() + 10 * NSEC_PER_MSEC);
    test_eq(netfront_backend_state(), XenbusStateClosing, "%s: the backend shut the vif", what);
    if (netfront_backend_error(err, sizeof(err)) == 0)
        printk("net: %s: backend error \"%s\"\n", what, err);
    else
        test_ok(false, "%s: the backend's error node", what);
    test_eq(netfront_reconnect(raw_rx_gref), 0, "%s: reconnected", what);
    peer_answers(what);
}

static void mode_hostile(void)
{
    union netif_tx_slot s[20];
    uint8_t f[128];
    grant_ref_t ref;
    uint8_t *page = netfront_tx_buffer(&ref);
    uint32_t n;
    uint64_t flood_end, flooded = 0, before;

    peer_answers("start-up");
    if (!test_ok(page != NULL, "a tx buffer for the raw slots"))
        return;
    memset(page, 0, 64);
    memcpy(page, "\xff\xff\xff\xff\xff\xff", 6);
    memcpy(page + 6, ip_mac(), 6);
    page[12] = 0x88;
    page[13] = 0xb5;

    memset(s, 0, sizeof(s));
    s[0].req = (struct netif_tx_request){ .gref = 500, .size = 60 };
    expect_error("a grant ref never given", s, 1);

    s[0].req = (struct netif_tx_request){ .gref = ref, .size = 1600, .flags = XEN_NETTXF_more_data };
    s[1].req = (struct netif_tx_request){ .gref = ref, .size = 600 };
    expect_error("a frame of 1600 bytes", s, 2);

    s[0].req = (struct netif_tx_request){ .gref = ref, .size = 10 };
    expect_error("a runt of 10 bytes", s, 1);

    s[0].req = (struct netif_tx_request){ .gref = ref, .size = 100, .flags = XEN_NETTXF_more_data };
    s[1].req = (struct netif_tx_request){ .gref = ref, .size = 200 };
    expect_error("fragments larger than their packet", s, 2);

    /* a spoofed source MAC: the peer must never see (and answer) it */
    n = ip_echo_frame(f, peer_ip, 999);
    test_ok(n > 0, "echo request built");
    f[11] ^= 0x5a;
    test_eq(netfront_send(f, n), 0, "spoofed frame queued");
    linger(2);
    test_ok(!ip_echo_seen(), "the echo request with a spoofed source MAC was not answered");
    peer_answers("a spoofed source MAC");

    /* the fresh rx ring after this shut starts with a buffer whose grant
     * was never given: the frame meant for it (the peer's echo reply) is
     * answered ERROR */
    before = netfront_stats()->rx_errors;
    netfront_bump_tx_prod(1000);
    expect_shut("garbage ring indices", 501);
    test_ok(netfront_stats()->rx_errors > before, "the rx buffer of a grant never given: answered ERROR");

    netfront_bump_rx_prod(1000);
    (void)ip_ping(peer_ip, 77, NSEC_PER_SEC / 2);      /* a frame for us: the rx ring is looked at */
    expect_shut("garbage rx ring indices", 0);

    test_ok(netfront_tx_buffer(&ref) != NULL, "a tx buffer for the chain");
    for (unsigned int i = 0; i < 19; i++)
        s[i].req = (struct netif_tx_request){ .gref = ref, .size = i ? 60 : 19 * 60,
                                             .flags = i < 18 ? XEN_NETTXF_more_data : 0 };
    test_eq(netfront_send_slots(s, 19), 0, "chain of 19 slots queued");
    expect_shut("a chain of 19 slots", 0);

    test_ok(netfront_tx_buffer(&ref) != NULL, "a tx buffer for the extra-info slot");
    s[0].req = (struct netif_tx_request){ .gref = ref, .size = 60, .flags = XEN_NETTXF_extra_info };
    memset(&s[1], 0, sizeof(s[1]));
    s[1].extra.type = 9;
    test_eq(netfront_send_slots(s, 2), 0, "extra-info slot of type 9 queued");
    expect_shut("an extra-info slot of an unknown type", 0);

    /* flooding: broadcast frames as fast as the ring takes them */
    memset(f, 0, sizeof(f));
    memcpy(f, "\xff\xff\xff\xff\xff\xff", 6);
    memcpy(f + 6, ip_mac(), 6);
    f[12] = 0x88;
    f[13] = 0xb5;
    flood_end = system_time() + cmdline_u64("flood", 5) * NSEC_PER_SEC;
    while (system_time() < flood_end) {
        static uint8_t big[1514];
        memcpy(big, f, 14);
        if (netfront_send(big, sizeof(big)) == 0)
            flooded++;
        else
            ip_poll(system_time() + 5 * NSEC_PER_MSEC);
    }
    printk("net: flooded %lu broadcast frames of 1514 bytes\n", (unsigned long)flooded);
    peer_answers("flooding");
}

void test_main(void)
{
    char mode[16];
    long rc;

    if (!cmdline_str("mode", mode, sizeof(mode)))
        snprintf(mode, sizeof(mode), "ping");
    my_ip = cmdline_ip("ip");
    peer_ip = cmdline_ip("peer");
    test_ok(my_ip != 0, "ip= is an IPv4 address");
    test_eq(xenbus_init(), 0, "xenbus_init");
    rc = ip_init(0, my_ip);
    if (!test_eq(rc, 0, "netfront connects"))
        return;
    printk("net: vif 0 connected, MAC %02x:%02x:%02x:%02x:%02x:%02x\n", ip_mac()[0], ip_mac()[1], ip_mac()[2],
           ip_mac()[3], ip_mac()[4], ip_mac()[5]);
    if (!strncmp(mode, "ping", 5)) {
        test_ok(peer_ip != 0, "peer= is an IPv4 address");
        if (cmdline_u64("seconds", 0))
            mode_ping_run(cmdline_u64("seconds", 0));
        else
            mode_ping_count(cmdline_u64("count", 5));
    } else if (!strncmp(mode, "udpsend", 8)) {
        mode_udpsend();
    } else if (!strncmp(mode, "udprecv", 8)) {
        mode_udprecv();
    } else if (!strncmp(mode, "hostile", 8)) {
        mode_hostile();
    } else {
        test_ok(false, "mode=%s is not known", mode);
    }
}
