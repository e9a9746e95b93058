/*
 * nb_fake.h - the fake host netback's unit tests run against (nb_fake.c):
 * an in-memory xenstore, guest pages named by (domid, gref), a grant copy
 * done in plain memory the way the hypervisor does it (a DOMID_SELF side
 * names a frame of the window), TAP devices as datagram socket pairs, and
 * the test acting as each frontend (struct front).
 */
#ifndef TESTS_NB_FAKE_H
#define TESTS_NB_FAKE_H
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include <public/io/netif.h>

#include "netback.h"

#define PAGES      64
#define WIN_MADDR  0x100000ull
#define WIN_BYTES  (48u * 1024u)

struct fake {
	char keys[256][96], vals[256][96];
	int nkeys;
	struct { uint32_t domid, gref; uint8_t page[4096]; int used; } pg[PAGES];
	uint8_t window[WIN_BYTES] __attribute__((aligned(4096)));
	int maps, unmaps, binds, unbinds, notifies, copies;
	int map_calls, unmap_calls;	/* host calls: a vif's two rings go in one each way */
	char log[64][300];
	int nlog;
	uint64_t now;
	int tap_peer, tap_fd, tap_closed;	/* the test's end of the last TAP, netback's */
	char tap_name[16], tap_bridge[16];
	/* the asynchronous host (open_nb_async): the copy started, not yet answered */
	struct gnttab_copy *pending;
	size_t npending;
	int starts;
	/* the asynchronous connect (open_nb_async_connect): maps, binds,
	 * unmaps and unbinds started, not yet answered; bind_fail: refused */
	struct { int kind; void *cookie; uint32_t domid, grefs[NETBACK_MAP_MAX], remote, port; unsigned n;
		 void **pages; uint32_t *handles; uint64_t *mfns; } call[16];
	int ncalls, bind_fail;
};
enum { FX_MAP = 1, FX_BIND, FX_UNMAP, FX_UNBIND };

extern struct fake F;
extern const struct netback_host HOST;

/* ---- a frontend, played by the test ---- */
struct front {
	uint32_t domid;
	uint8_t mac[6];
	struct netif_tx_sring *tx;
	struct netif_rx_sring *rx;
	RING_IDX tx_prod, rx_prod, tx_rsp, rx_rsp;
	uint32_t next_gref;
};

int find_key(const char *path);
uint8_t *page_of(uint32_t domid, uint32_t gref);
/* a fresh zeroed page of domid under gref */
uint8_t *grant(uint32_t domid, uint32_t gref);
/* a log line containing what */
int logged(const char *what);
void fe_key(uint32_t domid, const char *key, const char *value);
const char *be_key(uint32_t domid, const char *key);
void add_vif_rate(struct netback *nb, struct front *f, uint32_t domid, uint8_t last, const char *network,
		  uint64_t rate);
void add_vif(struct netback *nb, struct front *f, uint32_t domid, uint8_t last, const char *network);
/* The frontend's keys (rings on grefs 1 and 2, port 7) and state
 * Connected, then one poll (an asynchronous connect only starts there). */
void front_init(struct netback *nb, struct front *f);
/* The frontend's side of the handshake; posts n rx buffers. */
void connect_front(struct netback *nb, struct front *f, int nrx);
/* Two connected vifs on "internal" (domains 1 and 2), 4 rx buffers each. */
void connected_pair(struct netback *nb, struct front *a, struct front *b);
/* A frame from f to dst (NULL: broadcast) of len bytes, in one slot. */
void send_frame(struct front *f, const uint8_t *dst, uint16_t len, uint8_t fill);
void raw_tx(struct front *f, struct netif_tx_request r);
/* The next rx response of f: its status (-100: none); *data its bytes. */
int rx_next(struct front *f, const uint8_t **data);
int tx_status(struct front *f);
/* A fresh fake (F) and a netback on it. */
struct netback *open_nb(void);
/* The same with an asynchronous grant copy (grant_copy_start): a copy
 * waits in F.pending until answer_copy does it and tells netback. */
struct netback *open_nb_async(void);
/* The same, the connect's calls asynchronous too (map_grants_start,
 * bind_start) and the disconnect's unmap and unbind answered later: they
 * wait in F.call until answer_calls. */
struct netback *open_nb_async_connect(void);
/* The "hypervisor" answers the calls started so far (each done may
 * start more); how many. */
int answer_calls(struct netback *nb);
/* The "hypervisor" does the pending copy and netback goes on; 0 when
 * none was pending. */
int answer_copy(struct netback *nb);

#endif
