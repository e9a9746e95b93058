/* ids.h - domain UUIDs and vif MAC addresses (see ids.c). */
#ifndef PVD_IDS_H
#define PVD_IDS_H

/* A random version-4 UUID, lower case. 0 or -1 (no randomness). */
int ids_new_uuid(char out[37]);

/*
 * The MAC for vif idx of domain uuid: 00:16:3e (the Xen OUI) followed by
 * three bytes derived from (uuid, idx, attempt), so the same inputs always
 * give the same address; callers bump attempt on a collision.
 */
void ids_vif_mac(const char *uuid, int idx, int attempt, char out[18]);

/* 1 when ref is written as a UUID: 36 characters, hex digits (any case)
 * with dashes after the 8th, 12th, 16th and 20th. */
int ids_is_uuid(const char *ref);

/* Lower-case copy of a MAC as stored. */
void ids_mac_normalize(const char *mac, char out[18]);

#endif
