/*
 * ids.c - identifiers pvd hands out: domain UUIDs (random, version 4) and
 * vif MACs (derived from the domain UUID and the vif's position, stored at
 * define time and kept from then on, so a domain's MACs never change while
 * it exists). No state.
 */
#include "ids.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

int ids_new_uuid(char out[37])
{
	unsigned char b[16];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return -1;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
		 b[14], b[15]);
	return 0;
}

void ids_vif_mac(const char *uuid, int idx, int attempt, char out[18])
{
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a */

	for (const char *p = uuid; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	h = (h ^ (unsigned)idx) * 0x100000001b3ULL;
	h = (h ^ (unsigned)attempt) * 0x100000001b3ULL;
	h ^= h >> 29;
	snprintf(out, 18, "00:16:3e:%02x:%02x:%02x", (unsigned)(h & 0x7f), (unsigned)((h >> 8) & 0xff),
		 (unsigned)((h >> 16) & 0xff));
}

void ids_mac_normalize(const char *mac, char out[18])
{
	int i;

	for (i = 0; i < 17 && mac[i]; i++)
		out[i] = (char)tolower((unsigned char)mac[i]);
	out[i] = '\0';
}

int ids_is_uuid(const char *ref)
{
	if (strlen(ref) != 36)
		return 0;
	for (int i = 0; i < 36; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? ref[i] != '-' : !strchr("0123456789abcdefABCDEF", ref[i]))
			return 0;
	}
	return 1;
}
