/*
 * ipv4.c - the test kernels' tiny IPv4 stack (see ipv4.h).
 *
 * Owns: this interface's address and MAC, the ARP cache (ARP_ENTRIES,
 * replaced round robin), the echo reply awaited (identifier and sequence)
 * and the UDP handler. Frames are built in a local buffer and handed to
 * netfront_send; received ones are checked (Ethernet type, IPv4 version
 * and header length, header checksum, lengths, destination) before any
 * field is used, and dropped (counted) when they fail.
 */
#include "ipv4.h"
#include "evtime.h"
#include "netfront.h"
#include "xenbus.h"

#define ETH_HLEN     14
#define ETH_P_IP     0x0800
#define ETH_P_ARP    0x0806
#define IP_HLEN      20
#define ARP_ENTRIES  8
#define ECHO_ID      0x5076          /* "Pv" */

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static uint8_t my_mac[6];
static uint32_t my_ip;
static struct { uint32_t ip; uint8_t mac[6]; } arp[ARP_ENTRIES];
static unsigned int arp_next;
static uint16_t echo_wait_seq;
static bool echo_seen;
static uint16_t ip_id;
static udp_fn udp_handler;
static void *udp_arg;
static struct ip_stats stats;

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }

static uint16_t csum(const uint8_t *p, uint32_t len)
{
    uint32_t sum = 0;

    for (uint32_t i = 0; i + 1 < len; i += 2)
        sum += get16(p + i);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

const struct ip_stats *ip_stats(void) { return &stats; }
const uint8_t *ip_mac(void) { return my_mac; }

uint32_t ip_parse(const char *s)
{
    uint32_t a = 0;

    for (int i = 0; i < 4; i++) {
        uint32_t b = 0;
        int digits = 0;
        while (*s >= '0' && *s <= '9' && digits < 4) {
            b = b * 10 + (uint32_t)(*s++ - '0');
            digits++;
        }
        if (!digits || b > 255 || (i < 3 && *s++ != '.'))
            return 0;
        a = a << 8 | b;
    }
    return *s ? 0 : a;
}

long ip_init(uint32_t index, uint32_t addr)
{
    my_ip = addr;
    return netfront_init(index, my_mac);
}

static const uint8_t *arp_lookup(uint32_t ip)
{
    for (unsigned int i = 0; i < ARP_ENTRIES; i++)
        if (arp[i].ip == ip && ip)
            return arp[i].mac;
    return NULL;
}

static void arp_learn(uint32_t ip, const uint8_t mac[6])
{
    for (unsigned int i = 0; i < ARP_ENTRIES; i++)
        if (arp[i].ip == ip) {
            memcpy(arp[i].mac, mac, 6);
            return;
        }
    arp[arp_next].ip = ip;
    memcpy(arp[arp_next].mac, mac, 6);
    arp_next = (arp_next + 1) % ARP_ENTRIES;
}

static void eth_header(uint8_t *f, const uint8_t dst[6], uint16_t type)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, my_mac, 6);
    put16(f + 12, type);
}

static unsigned int polling;        /* ip_poll calls under way */

/* A frame is sent when the tx ring has room within a second; an answer
 * sent from within ip_poll (ARP, echo) is tried once, never waited for,
 * so that answers do not nest. */
static long send_frame(const uint8_t *f, uint32_t len)
{
    uint64_t end = system_time() + NSEC_PER_SEC;
    long rc;

    while ((rc = netfront_send(f, len)) == -XB_EAGAIN && !polling && system_time() < end)
        ip_poll(system_time() + NSEC_PER_MSEC);
    return rc;
}

static void arp_send(uint16_t op, const uint8_t dst_mac[6], uint32_t dst_ip)
{
    uint8_t f[ETH_HLEN + 28];

    eth_header(f, op == 1 ? bcast : dst_mac, ETH_P_ARP);
    put16(f + 14, 1);                   /* Ethernet */
    put16(f + 16, ETH_P_IP);
    f[18] = 6;
    f[19] = 4;
    put16(f + 20, op);
    memcpy(f + 22, my_mac, 6);
    put32(f + 28, my_ip);
    memcpy(f + 32, op == 1 ? (const uint8_t[6]){ 0 } : dst_mac, 6);
    put32(f + 38, dst_ip);
    send_frame(f, sizeof(f));
}

/* The IPv4 header for payload bytes of proto to addr (MAC dst) at f. */
static uint32_t ip_header(uint8_t *f, const uint8_t dst[6], uint32_t addr, uint8_t proto, uint32_t payload)
{
    uint8_t *ip = f + ETH_HLEN;

    eth_header(f, dst, ETH_P_IP);
    memset(ip, 0, IP_HLEN);
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)(IP_HLEN + payload));
    put16(ip + 4, ip_id++);
    ip[8] = 64;
    ip[9] = proto;
    put32(ip + 12, my_ip);
    put32(ip + 16, addr);
    put16(ip + 10, csum(ip, IP_HLEN));
    return ETH_HLEN + IP_HLEN + payload;
}

static void on_arp(const uint8_t *f, uint32_t len)
{
    uint16_t op;
    uint32_t sip, tip;

    if (len < ETH_HLEN + 28 || get16(f + 14) != 1 || get16(f + 16) != ETH_P_IP || f[18] != 6 || f[19] != 4) {
        stats.bad_frames++;
        return;
    }
    op = get16(f + 20);
    sip = get32(f + 28);
    tip = get32(f + 38);
    if (tip != my_ip)
        return;
    arp_learn(sip, f + 22);
    if (op == 1) {
        stats.arp_requests_answered++;
        arp_send(2, f + 22, sip);
    }
}

static void on_icmp(const uint8_t *f, const uint8_t *ip, uint32_t hlen, uint32_t total)
{
    const uint8_t *icmp = ip + hlen;
    uint32_t ilen = total - hlen;
    uint8_t out[ETH_HLEN + 1500];

    if (ilen < 8 || csum(icmp, ilen) != 0) {
        stats.bad_frames++;
        return;
    }
    if (icmp[0] == 8 && ilen <= 1500 - IP_HLEN) {          /* echo request: answer */
        uint32_t n = ip_header(out, f + 6, get32(ip + 12), 1, ilen);
        uint8_t *r = out + ETH_HLEN + IP_HLEN;
        memcpy(r, icmp, ilen);
        r[0] = 0;
        put16(r + 2, 0);
        put16(r + 2, csum(r, ilen));
        stats.echo_requests_answered++;
        send_frame(out, n);
    } else if (icmp[0] == 0 && get16(icmp + 4) == ECHO_ID && get16(icmp + 6) == echo_wait_seq) {
        echo_seen = true;
    }
}

static void on_frame(const uint8_t *f, uint32_t len, void *arg)
{
    const uint8_t *ip = f + ETH_HLEN;
    uint32_t hlen, total;

    (void)arg;
    if (len < ETH_HLEN)
        return;
    if (get16(f + 12) == ETH_P_ARP) {
        on_arp(f, len);
        return;
    }
    if (get16(f + 12) != ETH_P_IP)
        return;
    hlen = (uint32_t)(ip[0] & 15) * 4;
    if (len < ETH_HLEN + IP_HLEN || (ip[0] >> 4) != 4 || hlen < IP_HLEN || len < ETH_HLEN + hlen ||
        csum(ip, hlen) != 0 || (total = get16(ip + 2)) < hlen || ETH_HLEN + total > len ||
        (get16(ip + 6) & 0x3fff)) {             /* fragments are not ours to reassemble */
        stats.bad_frames++;
        return;
    }
    if (get32(ip + 16) != my_ip)
        return;
    if (ip[9] == 1) {
        on_icmp(f, ip, hlen, total);
    } else if (ip[9] == 17) {
        const uint8_t *u = ip + hlen;
        if (total - hlen < 8 || get16(u + 4) < 8 || get16(u + 4) > total - hlen) {
            stats.bad_frames++;
            return;
        }
        if (udp_handler)
            udp_handler(get32(ip + 12), get16(u), get16(u + 2), u + 8, get16(u + 4) - 8u, len, udp_arg);
    }
}

void ip_poll(uint64_t deadline)
{
    unsigned int n;

    polling++;
    n = netfront_poll(on_frame, NULL);
    polling--;
    if (n == 0 && system_time() < deadline)
        netfront_wait(deadline);
}

long ip_resolve(uint32_t addr, uint8_t mac[6], uint64_t timeout_ns)
{
    uint64_t end = system_time() + timeout_ns;

    while (!arp_lookup(addr)) {
        uint64_t next = system_time() + 500 * NSEC_PER_MSEC;
        if (system_time() > end)
            return -XB_ETIMEDOUT;
        arp_send(1, bcast, addr);
        while (!arp_lookup(addr) && system_time() < next)
            ip_poll(next);
    }
    memcpy(mac, arp_lookup(addr), 6);
    return 0;
}

uint32_t ip_echo_frame(uint8_t *f, uint32_t addr, uint16_t seq)
{
    uint8_t mac[6], *icmp = f + ETH_HLEN + IP_HLEN;
    uint32_t n;

    if (ip_resolve(addr, mac, 10 * NSEC_PER_SEC) < 0)
        return 0;
    n = ip_header(f, mac, addr, 1, 64);
    memset(icmp, 0, 64);
    icmp[0] = 8;
    put16(icmp + 4, ECHO_ID);
    put16(icmp + 6, seq);
    for (int i = 8; i < 64; i++)
        icmp[i] = (uint8_t)i;
    put16(icmp + 2, csum(icmp, 64));
    echo_wait_seq = seq;
    echo_seen = false;
    return n;
}

bool ip_echo_seen(void)
{
    return echo_seen;
}

int64_t ip_ping(uint32_t addr, uint16_t seq, uint64_t timeout_ns)
{
    uint8_t f[ETH_HLEN + IP_HLEN + 64];
    uint64_t start = system_time(), end = start + timeout_ns;
    uint32_t n = ip_echo_frame(f, addr, seq);

    if (!n)
        return -1;
    start = system_time();
    if (send_frame(f, n) < 0)
        return -1;
    while (!echo_seen && system_time() < end)
        ip_poll(end);
    return echo_seen ? (int64_t)(system_time() - start) : -1;
}

void udp_set_handler(udp_fn fn, void *arg)
{
    udp_handler = fn;
    udp_arg = arg;
}

long udp_send(uint32_t addr, uint16_t sport, uint16_t dport, const void *data, uint32_t len)
{
    uint8_t f[ETH_HLEN + 1500], mac[6], *u = f + ETH_HLEN + IP_HLEN;
    uint32_t n;
    long rc;

    if (len > 1500 - IP_HLEN - 8)
        return -XB_EINVAL;
    if (!arp_lookup(addr) && (rc = ip_resolve(addr, mac, 10 * NSEC_PER_SEC)) < 0)
        return rc;
    n = ip_header(f, arp_lookup(addr), addr, 17, 8 + len);
    put16(u, sport);
    put16(u + 2, dport);
    put16(u + 4, (uint16_t)(8 + len));
    put16(u + 6, 0);                    /* no checksum (allowed over IPv4) */
    memcpy(u + 8, data, len);
    return netfront_send(f, n);
}
