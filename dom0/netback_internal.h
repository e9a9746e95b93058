/*
 * netback_internal.h - netback's state, shared by its files:
 *   netback_xs.c      the XenbusState handshake (xenstore side)
 *   netback_ring.c    the tx and rx rings: requests read, validated, answered
 *   netback_switch.c  the forwarding database of the internal switches
 *   netback_share.c   weighted shares of a network's capacity (DRR)
 *   netback.c         the packet path: batches of grant copies
 * Single-threaded (pvd's loop): no locks.
 */
#ifndef DOM0_NETBACK_INTERNAL_H
#define DOM0_NETBACK_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <public/io/netif.h>

#include "netback.h"

#define NB_ETH_HLEN        14
#define NB_MAX_FRAME       (NB_ETH_HLEN + 4 + 1500)	/* a VLAN tag, MTU 1500 */
#define NB_MAX_TX_SLOTS    18				/* Xen's XEN_NETBK_LEGACY_SLOTS_MAX */
#define NB_FDB_SIZE        1024
#define NB_FDB_AGE_MS      300000u
#define NB_NETWORK_LEN     16
#define NB_MAX_SHARES      16			/* networks with a capacity */

/* XenbusState */
enum { XB_UNKNOWN, XB_INITIALISING, XB_INITWAIT, XB_INITIALISED, XB_CONNECTED, XB_CLOSING, XB_CLOSED };

/* NB_CONNECTING: the rings' map or the port's bind under way (v->connecting) */
enum nb_state { NB_WAITING, NB_CONNECTING, NB_CONNECTED, NB_CLOSED, NB_BROKEN };

/* A connect under way (netback_xs.c): its host calls' results. The vif
 * wants it while v->used and v->connecting == this; else (the vif went,
 * was disconnected or its slot reused) its completion undoes it. On
 * netback.connects until its calls are over. */
struct nb_vif;
struct nb_connect {
	struct nb_vif *vif;
	uint32_t grefs[NETBACK_MAP_MAX], handles[NETBACK_MAP_MAX], remote_port;
	void *pages[NETBACK_MAP_MAX];
	uint64_t mfns[NETBACK_MAP_MAX];
	struct nb_connect *next;
};

/* A token bucket (netback_rate.c); rate 0: unlimited. */
struct nb_bucket {
	uint64_t rate;			/* bytes per second */
	int64_t depth, tokens;		/* bytes */
	uint64_t last_ms, frac;		/* frac: byte-milliseconds not yet credited */
};

/* One tx packet as read and validated from the ring. */
struct nb_tx_packet {
	uint16_t total;			/* bytes of the frame */
	uint16_t flags;			/* the first request's XEN_NETTXF_* */
	uint16_t nslots;		/* requests (fragments) */
	uint16_t nextra;		/* extra-info slots after the first */
	struct netif_tx_request slot[NB_MAX_TX_SLOTS];	/* slot[0].size: its own bytes */
	uint16_t extra_id[NB_MAX_TX_SLOTS];
	int drop;			/* answered XEN_NETIF_RSP_ERROR, not forwarded */
	const char *why;		/* of drop */
};

struct nb_vif {
	int used;
	uint32_t domid, devid;
	uint8_t mac[6];
	uint32_t ips[NETBACK_MAX_IPS];	/* host byte order; nips 0: any address */
	unsigned nips;
	char network[NB_NETWORK_LEN];
	enum nb_state state;
	int fe_state;			/* last frontend state seen */
	char fe_path[64], be_path[80];
	int tap_fd;			/* a Linux bridge's port; -1: internal switch */
	int detaching;			/* netback_vif_detach: gone once disconnected */
	int told_policy;		/* a protocol its ips do not allow was logged once */
	/* connected: */
	struct netif_tx_back_ring tx;
	struct netif_rx_back_ring rx;
	uint32_t tx_handle, rx_handle, port;
	uint64_t tx_mfn, rx_mfn;
	char rs_path[80];		/* Domain 0's private record for a resume */
	int need_notify;
	unsigned int log_budget;	/* drop lines left before going quiet */
	struct nb_bucket tx_bucket, rx_bucket;	/* what it sends, what it receives */
	uint64_t tx_packets, tx_bytes, rx_packets, rx_bytes, tx_dropped, rx_dropped;
	/* netback_share.c: its network's capacity shared by weight */
	uint32_t weight;
	int share;			/* index in netback.share, -1: none */
	int64_t deficit;		/* bytes it may still send this round */
	int held, idle;			/* in this take: held back by its deficit; found empty */
	uint32_t gen;			/* its connection (netback.gen_next when it connected) */
	struct nb_connect *connecting;	/* NB_CONNECTING: its connect */
};

/* A network with a capacity (netback_share.c). */
struct nb_share {
	int used;
	char network[NB_NETWORK_LEN];
	struct nb_bucket bucket;
};

struct nb_fdb_entry {
	uint8_t mac[6];
	int16_t vif;			/* index in netback.vif, -1: free */
	uint32_t domid;
	char network[NB_NETWORK_LEN];
	uint64_t seen_ms;
};

struct nb_batch;			/* netback.c */

struct netback {
	struct netback_host host;
	struct nb_batch *batch;
	struct netback_window win;
	struct nb_vif vif[NETBACK_MAX_VIFS];
	struct nb_fdb_entry fdb[NB_FDB_SIZE];
	struct nb_share share[NB_MAX_SHARES];
	uint32_t gen_next;		/* connections so far (nb_vif.gen) */
	int copying;			/* a batch's grant copy is under way (grant_copy_start) */
	struct nb_connect *connects;	/* connects with a host call under way */
	unsigned nconnects;
};

/* log through the host, prefixed "netback: " */
void nb_log(struct netback *nb, int warn, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* a dropped packet or rejected request of vif v: rate-limited */
void nb_vif_log(struct netback *nb, struct nb_vif *v, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* netback_xs.c */
int nb_xs_publish(struct netback *nb, struct nb_vif *v, char *err, size_t errlen);
void nb_xs_poll(struct netback *nb, struct nb_vif *v);
void nb_xs_disconnect(struct netback *nb, struct nb_vif *v);
void nb_xs_remove(struct netback *nb, struct nb_vif *v);
/* netback_filter.c: may v send frame (len >= NB_ETH_HLEN)? When not, the
 * cause is written in why. */
enum { NB_FILTER_PASS, NB_FILTER_SPOOF, NB_FILTER_POLICY };
int nb_filter_tx(const struct nb_vif *v, const uint8_t *frame, size_t len, char *why, size_t whylen);
/* Hot unplug: the backend goes Closing (the frontend then closes). */
void nb_xs_request_close(struct netback *nb, struct nb_vif *v);
/* a vif of a domain that kept running (netback_vif_resume); 0 or -errno */
int nb_xs_resume(struct netback *nb, struct nb_vif *v, char *err, size_t errlen);
void nb_xs_paths(struct nb_vif *v);
/* shut a vif whose frontend broke the protocol */
void nb_vif_fatal(struct netback *nb, struct nb_vif *v, const char *why);

/* netback_ring.c */
/* 1: *p holds the next packet (maybe to drop); 0: no complete packet;
 * -1: the ring is corrupt (the vif was shut). */
int nb_tx_take(struct netback *nb, struct nb_vif *v, struct nb_tx_packet *p);
void nb_tx_answer(struct nb_vif *v, const struct nb_tx_packet *p, int16_t status);
/* the next rx request, or 0 when the frontend posted none */
int nb_rx_take(struct netback *nb, struct nb_vif *v, struct netif_rx_request *req);
void nb_rx_answer(struct nb_vif *v, uint16_t id, uint16_t flags, int16_t status);
/* publish responses, re-arm the event indices; 1: notify the frontend */
int nb_rings_push(struct nb_vif *v);
/* rx buffers the frontend has posted and netback not taken yet */
uint32_t nb_rx_avail(struct nb_vif *v);

/* netback_csum.c: fill in a blank TCP/UDP checksum; -1: left as it was */
int nb_csum_fill(uint8_t *frame, size_t len);

/* netback_rate.c */
void nb_bucket_init(struct nb_bucket *b, uint64_t rate, uint64_t burst, uint64_t now);
/* 1: a packet may go now (then charge it) */
int nb_bucket_allows(struct nb_bucket *b, uint64_t now);
void nb_bucket_charge(struct nb_bucket *b, uint32_t bytes);

/* netback_share.c: deficit round robin over a network's capacity */
void nb_share_attach(struct netback *nb, struct nb_vif *v);
/* forget the held/idle marks: a new take begins */
void nb_share_round_start(struct netback *nb);
/* 1: v may send a packet now as far as its network's share goes */
int nb_share_allows(struct netback *nb, struct nb_vif *v, uint64_t now);
void nb_share_charge(struct netback *nb, struct nb_vif *v, uint32_t bytes);
/* v had nothing to send */
void nb_share_idle(struct nb_vif *v);
/* quanta for the networks whose vifs were held back: 1 if any */
int nb_share_replenish(struct netback *nb, uint64_t now);

/* netback_switch.c */
void nb_fdb_init(struct netback *nb);
void nb_fdb_learn(struct netback *nb, int vif, const uint8_t mac[6], uint64_t now);
/* the vif index mac was learnt on within network, or -1 */
int nb_fdb_lookup(struct netback *nb, const char *network, const uint8_t mac[6], uint64_t now);
void nb_fdb_forget_vif(struct netback *nb, int vif);

#endif
