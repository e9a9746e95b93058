/*
 * netback_filter.c - what a vif may send (anti-spoofing, as Xen's vif
 * scripts and libvirt's clean-traffic filter do).
 *
 * Every frame a vif sends must carry its own source MAC. A vif configured
 * with IPv4 addresses (netback_vif_config.ips) may in addition send only
 *   IPv4 from one of them (or from 0.0.0.0 to UDP port 67: a DHCP client
 *     asking for its address),
 *   ARP whose sender hardware address is the vif's MAC and whose sender
 *     protocol address is one of them (or 0.0.0.0: an address probe),
 * and nothing else (no IPv6, no VLAN tags, no other protocol): the vif's
 * guest can neither claim another guest's address nor poison a
 * neighbour's ARP cache with it.
 *
 * Owns nothing: a pure check of the frame (its first len bytes, len >= 14
 * checked by the caller) that names the cause when it refuses: a spoof
 * (another guest's MAC or address), or just a protocol the vif may not
 * send (IPv6 from a guest that has it on by default: not hostile).
 */
#include <stdio.h>
#include <string.h>

#include "netback_internal.h"

#define ETH_P_IPV4 0x0800
#define ETH_P_ARP  0x0806

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int has_ip(const struct nb_vif *v, uint32_t ip)
{
	for (unsigned i = 0; i < v->nips; i++)
		if (v->ips[i] == ip)
			return 1;
	return 0;
}

static void ip_text(uint32_t ip, char out[16])
{
	snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

int nb_filter_tx(const struct nb_vif *v, const uint8_t *frame, size_t len, char *why, size_t whylen)
{
	const uint8_t *l3 = frame + NB_ETH_HLEN;
	uint16_t type = (uint16_t)(frame[12] << 8 | frame[13]);
	char a[16];

	if (memcmp(frame + 6, v->mac, 6)) {
		snprintf(why, whylen, "source MAC %02x:%02x:%02x:%02x:%02x:%02x is not the vif's", frame[6],
			 frame[7], frame[8], frame[9], frame[10], frame[11]);
		return NB_FILTER_SPOOF;
	}
	if (!v->nips)
		return NB_FILTER_PASS;
	if (type == ETH_P_IPV4) {
		uint32_t src;
		if (len < NB_ETH_HLEN + 20 || (l3[0] >> 4) != 4) {
			snprintf(why, whylen, "IPv4 frame of %zu bytes without a whole IPv4 header", len);
			return NB_FILTER_SPOOF;
		}
		src = be32(l3 + 12);
		if (has_ip(v, src))
			return NB_FILTER_PASS;
		if (src == 0 && l3[9] == 17 && len >= NB_ETH_HLEN + (size_t)(l3[0] & 15) * 4 + 4 &&
		    (l3[(l3[0] & 15) * 4 + 2] << 8 | l3[(l3[0] & 15) * 4 + 3]) == 67)
			return NB_FILTER_PASS;	/* a DHCP client before it has an address */
		ip_text(src, a);
		snprintf(why, whylen, "source IPv4 %s is not one of the vif's", a);
		return NB_FILTER_SPOOF;
	}
	if (type == ETH_P_ARP) {
		uint32_t spa;
		if (len < NB_ETH_HLEN + 28) {
			snprintf(why, whylen, "ARP frame of %zu bytes is too short", len);
			return NB_FILTER_SPOOF;
		}
		if (memcmp(l3 + 8, v->mac, 6)) {
			snprintf(why, whylen, "ARP sender MAC %02x:%02x:%02x:%02x:%02x:%02x is not the vif's", l3[8],
				 l3[9], l3[10], l3[11], l3[12], l3[13]);
			return NB_FILTER_SPOOF;
		}
		spa = be32(l3 + 14);
		if (spa == 0 || has_ip(v, spa))
			return NB_FILTER_PASS;
		ip_text(spa, a);
		snprintf(why, whylen, "ARP sender IPv4 %s is not one of the vif's", a);
		return NB_FILTER_SPOOF;
	}
	snprintf(why, whylen, "ethertype 0x%04x: a vif with IPv4 addresses sends only IPv4 and ARP", type);
	return NB_FILTER_POLICY;
}
