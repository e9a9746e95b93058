/*
 * xs_host.h - pvd hosts the xenstore server (dom0/xenstore.h): its state
 * in STATE/xenstore, rings mapped from machine RAM, kicks through the
 * control interface, served from the loop (doorbell and tick), and each
 * domain's tree populated and removed the way a Xen toolstack does.
 *
 * hv.c calls: xs_host_open when the machine is attached, xs_host_poll on a
 * doorbell kick and on the tick, xs_host_domain_started after a build,
 * xs_host_domain_gone before a domain is destroyed (its ring page goes back
 * to the hypervisor) or when it has vanished, xs_host_close at the end.
 */
#ifndef PVD_XS_HOST_H
#define PVD_XS_HOST_H

#include <stddef.h>
#include <stdint.h>

struct pvd;
struct machine;
struct ctl;
struct xs_server;

/* What the toolstack writes for a new domain. */
struct xs_host_domain {
	uint32_t domid;
	const char *name, *uuid;
	uint64_t mem_kib, maxmem_kib;
	uint32_t vcpus;
	uint64_t store_mfn, console_mfn;
	uint32_t store_port, console_port;	/* Domain 0's ends (kicks) */
	uint32_t guest_store_port, guest_console_port;	/* the guest's (start_info, the tree) */
};

/* Open the server (replaying its journal); after a machine reboot the old
 * state is dropped; domains that no longer exist are released. */
int xs_host_open(struct pvd *pvd, struct machine *m, struct ctl *c, char *err, size_t errlen);
void xs_host_close(struct pvd *pvd);
void xs_host_poll(struct pvd *pvd);
void xs_host_domain_started(struct pvd *pvd, const struct xs_host_domain *d);
void xs_host_domain_gone(struct pvd *pvd, uint32_t domid, const char *uuid);

/* Ask a domain to shut down the cooperative way (as xl does): when the
 * guest advertises control/feature-<reason> ("poweroff", "reboot") write
 * <reason> to its control/shutdown and return 1; 0 when it does not (the
 * caller shuts it down through the hypervisor), -errno on failure. */
int xs_host_request_shutdown(struct pvd *pvd, uint32_t domid, const char *reason);

/* The balloon target (memory/target, KiB), as xl mem-set writes it; the
 * guest's balloon driver follows it. 0 or -errno (-ESRCH: no xenstore for
 * that domain). */
int xs_host_set_target(struct pvd *pvd, uint32_t domid, uint64_t kib);
int xs_host_get_target(struct pvd *pvd, uint32_t domid, uint64_t *kib);

/* The server, for the xs.* methods; NULL without a machine. */
struct xs_server *xs_host_server(struct pvd *pvd);

/* Watches for API clients (xs.watch): the first poll of a path sets a
 * local watch; its events are kept (the last XS_HOST_EVENTS, numbered)
 * until polled; a watch not polled for XS_HOST_WATCH_IDLE_S goes away.
 * Events with a number > after go to fn; returns the number to continue
 * from, or -errno (-ENOSPC: too many watched paths; or the xenstore
 * error of the WATCH). */
#define XS_HOST_WATCHES      32
#define XS_HOST_EVENTS       256
#define XS_HOST_WATCH_IDLE_S 60
typedef void (*xs_host_event_fn)(void *arg, int64_t seq, const char *path);
int64_t xs_host_watch_poll(struct pvd *pvd, const char *path, int64_t after, xs_host_event_fn fn, void *arg);

#endif
