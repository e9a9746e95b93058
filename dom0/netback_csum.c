/*
 * netback_csum.c - the checksum a guest left blank (XEN_NETTXF_csum_blank:
 * Linux's CHECKSUM_PARTIAL) filled in, for frames that leave through a TAP
 * device, where no receiver takes the "blank" flag along.
 *
 * Owns: nothing. The frame is untrusted: every header length is checked
 * against len before it is used; a frame that is not IPv4/IPv6 TCP/UDP, or
 * is too short for what its headers claim, is left as it is.
 * The blank field holds the pseudo-header sum (as Linux leaves it); the
 * sum runs from the transport header to the end of the frame.
 */
#include <stddef.h>
#include <stdint.h>

#include "netback_internal.h"

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

int nb_csum_fill(uint8_t *frame, size_t len)
{
	size_t l3 = NB_ETH_HLEN, start, field;
	unsigned int type, proto;
	uint32_t sum;
	uint16_t csum;

	if (len < NB_ETH_HLEN)
		return -1;
	type = (unsigned int)frame[12] << 8 | frame[13];
	if (type == 0x8100 && len >= NB_ETH_HLEN + 4) {	/* one VLAN tag */
		type = (unsigned int)frame[16] << 8 | frame[17];
		l3 += 4;
	}
	if (type == 0x0800) {
		if (len < l3 + 20 || (frame[l3] >> 4) != 4)
			return -1;
		start = l3 + (size_t)(frame[l3] & 15) * 4;
		proto = frame[l3 + 9];
	} else if (type == 0x86dd) {
		if (len < l3 + 40)
			return -1;
		start = l3 + 40;
		proto = frame[l3 + 6];
	} else {
		return -1;
	}
	if (proto == 6)
		field = start + 16;
	else if (proto == 17)
		field = start + 6;
	else
		return -1;
	if (field + 2 > len || start < l3 + 20)
		return -1;
	sum = sum16(frame + start, len - start, 0);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	csum = (uint16_t)~sum;
	if (proto == 17 && csum == 0)
		csum = 0xffff;
	frame[field] = (uint8_t)(csum >> 8);
	frame[field + 1] = (uint8_t)csum;
	return 0;
}
