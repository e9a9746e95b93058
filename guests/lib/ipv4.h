/*
 * ipv4.h - the test kernels' tiny IPv4 stack over netfront (ipv4.c):
 * ARP (answers, a small cache, resolution with retries), ICMP echo (answers
 * requests, sends them and matches replies), UDP (sends datagrams, hands
 * received ones to a handler). One interface, no routing, no fragments.
 * Addresses are in host byte order (10.0.0.1 = 0x0a000001).
 */
#ifndef GUEST_IPV4_H
#define GUEST_IPV4_H

#include "lib.h"

/* The stack on vif `index` with address addr: netfront_init and then
 * this interface's MAC and address. 0 or -errno. */
long ip_init(uint32_t index, uint32_t addr);
const uint8_t *ip_mac(void);
/* "a.b.c.d" or 0 when it is not one. */
uint32_t ip_parse(const char *s);

/* Take what arrived (answering ARP and echo requests, handing UDP to the
 * handler) and the tx answers; if nothing came, wait for the backend
 * until deadline. */
void ip_poll(uint64_t deadline);

/* The MAC of addr, asking by ARP every 500 ms until timeout_ns: 0 or
 * -XB_ETIMEDOUT. */
long ip_resolve(uint32_t addr, uint8_t mac[6], uint64_t timeout_ns);
/* One echo request to addr (resolved first) and its reply: the round trip
 * in ns, or -1 when none came within timeout_ns. */
int64_t ip_ping(uint32_t addr, uint16_t seq, uint64_t timeout_ns);

/* Hostile tests: the echo request ip_ping would send (addr resolved
 * first), built at f (room for 98 bytes) and awaited from now on: its
 * length, or 0 when addr does not answer ARP. ip_echo_seen: its reply
 * came (taken by ip_poll). */
uint32_t ip_echo_frame(uint8_t *f, uint32_t addr, uint16_t seq);
bool ip_echo_seen(void);

/* Received datagrams: src address, ports, payload, and the whole frame's
 * length (Ethernet header included). */
typedef void (*udp_fn)(uint32_t src, uint16_t sport, uint16_t dport, const uint8_t *data, uint32_t len,
                       uint32_t frame_len, void *arg);
void udp_set_handler(udp_fn fn, void *arg);
/* One datagram of len bytes (at most 1472) to addr (resolved already,
 * with ip_resolve, or resolved here): 0, -XB_EAGAIN when the tx ring is
 * full, or -XB_ETIMEDOUT when addr does not answer ARP. */
long udp_send(uint32_t addr, uint16_t sport, uint16_t dport, const void *data, uint32_t len);

struct ip_stats {
    uint64_t arp_requests_answered, echo_requests_answered;
    uint64_t bad_frames;        /* not ours or malformed: ignored */
};
const struct ip_stats *ip_stats(void);

#endif
