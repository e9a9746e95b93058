/*
 * netback.h - the network backend (Xen's netif protocol, public/io/netif.h)
 * for pvd: virtual interfaces of guest domains joined by an internal L2
 * learning switch.
 *
 * The host (pvd, or a test) gives netback its xenstore, grant, event
 * channel and grant-copy operations (struct netback_host) and a copy
 * window: memory Domain 0 can read and write that grant copies may name
 * as their local side (the control block's bulk area, whose first
 * NETBACK_OPS_BYTES hold the copy operations themselves).
 *
 *   netback_vif_add     writes the backend and frontend directories of a
 *                       vif (state InitWait) and serves it from then on
 *   netback_poll        on every kick and tick: the XenbusState handshake
 *                       of every vif, then the packets of every connected
 *                       vif, in batches (one copy in, one copy out per
 *                       batch, never one call per packet)
 *   netback_domain_gone disconnects and forgets a domain's vifs (and
 *                       removes their TAP devices)
 *
 * A host with asynchronous control calls (pvd) gives grant_copy_start:
 * a batch's copies are then started, and the batch goes on in
 * netback_copy_done; the window is netback's until netback_busy is 0.
 * With map_grants_start and bind_start, a vif's connect (rings mapped,
 * then the port bound) goes on in netback_map_done / netback_bind_done
 * and its disconnect's unmap and unbind are never awaited.
 *
 * Errors: negative errno + one line in err. A misbehaving frontend never
 * fails a call: its packet is dropped or its vif shut, with a log line
 * naming the domain, the vif and the cause.
 */
#ifndef DOM0_NETBACK_H
#define DOM0_NETBACK_H

#include <stddef.h>
#include <stdint.h>

#include <public/grant_table.h>

struct netback;

#define NETBACK_MAP_MAX 2

struct netback_host {
	void *arg;
	/* value of path, NUL-terminated; -ENOENT when absent */
	int (*xs_read)(void *arg, const char *path, char *buf, size_t len);
	/* write (creating it) with perms when not NULL ("n0 r5") */
	int (*xs_write)(void *arg, const char *path, const char *value, const char *perms);
	int (*xs_rm)(void *arg, const char *path);
	/* map the granted pages grefs[0..n) (n <= NETBACK_MAP_MAX: a vif's
	 * two rings) writable, in one go: pages[i] (machine frame mfns[i])
	 * until unmap_grants(handles[i]). All or none: -errno with *bad the
	 * first refused index and nothing left mapped. */
	int (*map_grants)(void *arg, uint32_t domid, const uint32_t *grefs, unsigned n, void **pages,
			  uint32_t *handles, uint64_t *mfns, unsigned *bad);
	/* Domain 0's view of a frame it still has mapped (after a restart) */
	void *(*map_frame)(void *arg, uint64_t mfn);
	/* unmap handles[0..n) in one go (n <= NETBACK_MAP_MAX) */
	void (*unmap_grants)(void *arg, const uint32_t *handles, unsigned n);
	int (*bind)(void *arg, uint32_t domid, uint32_t remote_port, uint32_t *port);
	void (*unbind)(void *arg, uint32_t port);
	void (*notify)(void *arg, uint32_t port);
	/* run ops[0..n) (n <= NETBACK_COPY_OPS); status of each filled in */
	int (*grant_copy)(void *arg, struct gnttab_copy *ops, size_t n);
	/* The same, asynchronous (NULL: grant_copy is used): 0 once started,
	 * and the host calls netback_copy_done(nb, rc) later on the loop
	 * thread (never from inside the start), the statuses filled; ops stay
	 * untouched by netback until then. -errno: nothing was started. */
	int (*grant_copy_start)(void *arg, struct gnttab_copy *ops, size_t n);
	/* Asynchronous forms of a connect's map_grants and bind (both or
	 * neither; NULL: the calls above). 0: started, and the host calls
	 * netback_map_done(nb, cookie, rc, bad) / netback_bind_done(nb,
	 * cookie, rc, port) later on the loop thread (never from inside the
	 * start), pages, handles and mfns filled as map_grants fills them
	 * (untouched by netback until then); -errno: nothing was started. A
	 * host that gives them must not wait in unmap_grants and unbind
	 * either (nobody waits for their answers). */
	int (*map_grants_start)(void *arg, uint32_t domid, const uint32_t *grefs, unsigned n, void **pages,
				uint32_t *handles, uint64_t *mfns, void *cookie);
	int (*bind_start)(void *arg, uint32_t domid, uint32_t remote_port, void *cookie);
	void (*log)(void *arg, int warn, const char *line);
	uint64_t (*now_ms)(void *arg);
	/* a TAP device ifname on Linux bridge `bridge` (netback_tap.h), its
	 * descriptor watched for input (a readable one: call netback_poll) */
	int (*tap_open)(void *arg, const char *ifname, const char *bridge, int *fd, char *err, size_t errlen);
	void (*tap_close)(void *arg, int fd);
};

/* The window: [data, data + bytes) of Domain 0's memory at machine
 * address maddr (page-aligned). */
struct netback_window {
	uint8_t *data;
	uint64_t maddr;
	size_t bytes;
};

#define NETBACK_OPS_BYTES  (16u * 1024u)
#define NETBACK_COPY_OPS   (NETBACK_OPS_BYTES / sizeof(struct gnttab_copy))
#define NETBACK_MAX_VIFS   64

#define NETBACK_MAX_IPS 4

struct netback_vif_config {
	uint32_t domid, devid;	/* devid: the n of device/vif/n */
	uint8_t mac[6];
	const char *network;	/* "internal", "internal-lab", ... or a Linux bridge */
	uint64_t rate, burst;	/* bytes/s each way (0: unlimited), bucket depth (0: 1 s of rate) */
	uint32_t weight;	/* share of its network's capacity (1-65535; 0: 256) */
	uint32_t ips[NETBACK_MAX_IPS];	/* IPv4 addresses it may send from (host order); nips 0: any */
	unsigned nips;
};


int netback_open(const struct netback_host *host, const struct netback_window *win,
		 struct netback **out, char *err, size_t errlen);
/* Frees netback and closes its TAP devices, but asks nothing of the
 * hypervisor: connected vifs stay mapped and bound (their record in
 * xenstore stays), so that the next host resumes them; the machine may be
 * gone, too. */
void netback_close(struct netback *nb);
int netback_vif_add(struct netback *nb, const struct netback_vif_config *cfg, char *err, size_t errlen);
/* After a restart of the host: serve a vif of a domain that kept running.
 * A vif that was connected resumes on the grant mappings and the event
 * channel the last host left (recorded in xenstore, in a directory only
 * Domain 0 reads), without the guest re-initialising; else it waits for
 * the frontend as after netback_vif_add. -EEXIST when served already. */
int netback_vif_resume(struct netback *nb, const struct netback_vif_config *cfg, char *err, size_t errlen);
void netback_domain_gone(struct netback *nb, uint32_t domid);
/* Hot unplug of vif devid: the backend goes Closing and the vif goes
 * (rings unmapped, port closed, directories and TAP device removed) once
 * the frontend closed it; at once when it is not connected or with
 * force. 0 = gone, 1 = pending (netback_vif_state), -ENOENT with err. */
int netback_vif_detach(struct netback *nb, uint32_t domid, uint32_t devid, int force, char *err, size_t errlen);
enum { NETBACK_VIF_NONE, NETBACK_VIF_ATTACHED, NETBACK_VIF_DETACHING };
int netback_vif_state(const struct netback *nb, uint32_t domid, uint32_t devid);
/* New token buckets (rate bytes/s each way, burst bytes; 0 = unlimited /
 * one second), from now on. */
int netback_vif_set_rate(struct netback *nb, uint32_t domid, uint32_t devid, uint64_t rate, uint64_t burst,
			 char *err, size_t errlen);
void netback_poll(struct netback *nb);
/* The copy started with grant_copy_start is over: rc 0 (each op's status
 * filled) or its error. The batch goes on from where it waited. */
void netback_copy_done(struct netback *nb, int rc);
/* A connect's map or bind started with map_grants_start / bind_start is
 * over: rc 0 or -errno (bad: the first refused grant); port: the Domain
 * 0 port bound. The vif connects, or is shut, or (gone or closed
 * meanwhile) what the call did is undone. */
void netback_map_done(struct netback *nb, void *cookie, int rc, unsigned bad);
void netback_bind_done(struct netback *nb, void *cookie, int rc, uint32_t port);
/* Connects under way (the host's close cancels their calls first:
 * netback_close frees them). */
unsigned netback_connects(const struct netback *nb);
/* A batch is under way (its copy window in use until it is done). */
int netback_busy(const struct netback *nb);

/* The capacity of a network (an internal one or a Linux bridge's
 * uplink), bytes per second (0: none, the default): while the vifs on it
 * want to send more, they are served in proportion to their weights
 * (netback_share.c). -EINVAL for a bad name or a capacity below one frame,
 * -ENOSPC past NB_MAX_SHARES networks. */
int netback_set_capacity(struct netback *nb, const char *network, uint64_t bytes_per_s, char *err,
			 size_t errlen);

/* A network name netback serves itself (an internal switch): "internal"
 * or "internal" followed by '-', '.' or '_' and more. Any other name is a
 * Linux bridge: the vif gets a TAP device vif<domid>.<n> on it, and
 * netback_vif_add fails when the bridge is missing. */
int netback_is_internal(const char *network);

struct netback_vif_stats {
	uint32_t domid, devid;
	int connected;
	uint64_t tx_packets, tx_bytes, rx_packets, rx_bytes, tx_dropped, rx_dropped;
};
/* Stats of up to max vifs; returns how many. */
size_t netback_stats(const struct netback *nb, struct netback_vif_stats *out, size_t max);

#endif
