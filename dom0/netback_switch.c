/*
 * netback_switch.c - the forwarding database of pvd's internal switches:
 * which vif a source MAC was last seen on, per internal network.
 *
 * Owns: netback.fdb. An entry is (network, MAC) -> vif, refreshed by every
 * frame the vif sends and forgotten NB_FDB_AGE_MS after the last one, or
 * at once when its vif goes. Networks are isolated: a lookup only finds
 * entries of its own network. When the table is full the oldest entry is
 * replaced. Only source MACs that passed the anti-spoofing check (the
 * vif's own) are learnt, so a guest cannot steal another's entry.
 */
#include <string.h>

#include "netback_internal.h"

void nb_fdb_init(struct netback *nb)
{
	for (int i = 0; i < NB_FDB_SIZE; i++)
		nb->fdb[i].vif = -1;
}

static int fresh(const struct nb_fdb_entry *e, uint64_t now)
{
	return e->vif >= 0 && now - e->seen_ms < NB_FDB_AGE_MS;
}

void nb_fdb_learn(struct netback *nb, int vif, const uint8_t mac[6], uint64_t now)
{
	const char *network = nb->vif[vif].network;
	struct nb_fdb_entry *slot = NULL, *oldest = &nb->fdb[0];

	for (int i = 0; i < NB_FDB_SIZE && !slot; i++) {
		struct nb_fdb_entry *e = &nb->fdb[i];
		if (e->vif >= 0 && !memcmp(e->mac, mac, 6) && !strcmp(e->network, network))
			slot = e;
	}
	for (int i = 0; i < NB_FDB_SIZE && !slot; i++) {
		struct nb_fdb_entry *e = &nb->fdb[i];
		if (!fresh(e, now))
			slot = e;
		else if (e->seen_ms < oldest->seen_ms)
			oldest = e;
	}
	if (!slot)
		slot = oldest;
	memcpy(slot->mac, mac, 6);
	memcpy(slot->network, network, sizeof(slot->network));
	slot->vif = (int16_t)vif;
	slot->domid = nb->vif[vif].domid;
	slot->seen_ms = now;
}

int nb_fdb_lookup(struct netback *nb, const char *network, const uint8_t mac[6], uint64_t now)
{
	for (int i = 0; i < NB_FDB_SIZE; i++) {
		const struct nb_fdb_entry *e = &nb->fdb[i];
		if (fresh(e, now) && !memcmp(e->mac, mac, 6) && !strcmp(e->network, network))
			return e->vif;
	}
	return -1;
}

void nb_fdb_forget_vif(struct netback *nb, int vif)
{
	for (int i = 0; i < NB_FDB_SIZE; i++)
		if (nb->fdb[i].vif == vif)
			nb->fdb[i].vif = -1;
}
