/*
 * netback_share.c - weighted shares of a network's capacity: each
 * internal network or Linux bridge given a capacity (bytes per second,
 * netback_set_capacity) has a token bucket, and the vifs on it are served
 * by deficit round robin in proportion to their weights while their
 * demand exceeds it.
 *
 * Owns: netback.share[] and each vif's deficit. What is shared is what the
 * vifs send (their tx packets, taken from their rings); a vif's own
 * `rate` still caps it, and what a capped or idle vif leaves goes to the
 * others (work-conserving: with no contention one vif gets the whole
 * capacity).
 * DRR here: netback takes one packet per visit of a vif (netback.c's
 * take_tx), only while the network's bucket has tokens and the vif's
 * deficit is positive, and charges the packet to both. When no vif of a
 * network could go but some were held back by their deficit alone, every
 * backlogged vif of that network gets its quantum: weight / (the smallest
 * backlogged weight) frames of NB_MAX_FRAME bytes, so that the lightest
 * sends at least one frame a round. A vif found with nothing to send
 * loses its deficit (DRR's empty queue). Invariants: deficit <= quantum;
 * a vif without a share is never held back here.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "netback_internal.h"

static int share_index(const struct netback *nb, const char *network)
{
	for (int i = 0; i < NB_MAX_SHARES; i++)
		if (nb->share[i].used && !strcmp(nb->share[i].network, network))
			return i;
	return -1;
}

int netback_set_capacity(struct netback *nb, const char *network, uint64_t bytes_per_s, char *err,
			 size_t errlen)
{
	int s = share_index(nb, network);

	if (!network[0] || strlen(network) >= NB_NETWORK_LEN) {
		snprintf(err, errlen, "network name \"%s\" is empty or longer than %d bytes", network,
			 NB_NETWORK_LEN - 1);
		return -EINVAL;
	}
	if (bytes_per_s && bytes_per_s < NB_MAX_FRAME) {
		snprintf(err, errlen, "capacity of network \"%s\": %llu bytes/s is less than one frame (%d bytes)",
			 network, (unsigned long long)bytes_per_s, NB_MAX_FRAME);
		return -EINVAL;
	}
	for (int i = 0; s < 0 && bytes_per_s && i < NB_MAX_SHARES; i++)
		if (!nb->share[i].used)
			s = i;
	if (s < 0 && bytes_per_s) {
		snprintf(err, errlen, "capacity of network \"%s\": at most %d networks have one", network,
			 NB_MAX_SHARES);
		return -ENOSPC;
	}
	if (s < 0)
		return 0;
	nb->share[s].used = bytes_per_s != 0;
	snprintf(nb->share[s].network, sizeof(nb->share[s].network), "%s", network);
	nb_bucket_init(&nb->share[s].bucket, bytes_per_s, bytes_per_s / 2, nb->host.now_ms(nb->host.arg));
	for (int i = 0; i < NETBACK_MAX_VIFS; i++)
		if (nb->vif[i].used && !strcmp(nb->vif[i].network, network)) {
			nb->vif[i].share = nb->share[s].used ? s : -1;
			nb->vif[i].deficit = 0;
		}
	return 0;
}

void nb_share_attach(struct netback *nb, struct nb_vif *v)
{
	v->share = share_index(nb, v->network);
	v->deficit = 0;
}

int nb_share_allows(struct netback *nb, struct nb_vif *v, uint64_t now)
{
	if (v->share < 0)
		return 1;
	if (!nb_bucket_allows(&nb->share[v->share].bucket, now))
		return 0;
	if (v->deficit > 0)
		return 1;
	v->held = 1;
	return 0;
}

void nb_share_charge(struct netback *nb, struct nb_vif *v, uint32_t bytes)
{
	if (v->share < 0)
		return;
	nb_bucket_charge(&nb->share[v->share].bucket, bytes);
	v->deficit -= bytes;
}

void nb_share_idle(struct nb_vif *v)
{
	v->idle = 1;
	v->deficit = 0;
}

int nb_share_replenish(struct netback *nb, uint64_t now)
{
	int any = 0;

	for (int s = 0; s < NB_MAX_SHARES; s++) {
		uint32_t minw = 0;
		if (!nb->share[s].used || !nb_bucket_allows(&nb->share[s].bucket, now))
			continue;
		for (int i = 0; i < NETBACK_MAX_VIFS; i++) {
			struct nb_vif *v = &nb->vif[i];
			if (v->used && v->share == s && v->held && !v->idle && (!minw || v->weight < minw))
				minw = v->weight;
		}
		if (!minw)
			continue;		/* nobody held back by a deficit */
		for (int i = 0; i < NETBACK_MAX_VIFS; i++) {
			struct nb_vif *v = &nb->vif[i];
			int64_t quantum;
			if (!v->used || v->share != s || v->state != NB_CONNECTED)
				continue;
			quantum = (int64_t)v->weight * NB_MAX_FRAME / minw;
			v->deficit = v->idle ? 0 : (v->deficit + quantum > quantum ? quantum : v->deficit + quantum);
			v->held = 0;
		}
		any = 1;
	}
	return any;
}

void nb_share_round_start(struct netback *nb)
{
	for (int i = 0; i < NETBACK_MAX_VIFS; i++)
		nb->vif[i].held = nb->vif[i].idle = 0;
}
