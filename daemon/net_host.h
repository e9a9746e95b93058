/*
 * net_host.h - pvd hosts netback (dom0/netback.h): vifs of the domains it
 * starts, served from the loop (doorbell and tick), copies through the
 * control interface with the bulk area as the copy window.
 *
 * hv.c calls net_host_open once the machine and the xenstore server are
 * up, net_host_poll on a doorbell kick and on the tick, net_host_close at
 * the end; hv_lifecycle.c calls net_host_domain_started after
 * xs_host_domain_started (before the unpause) and net_host_domain_gone
 * before xs_host_domain_gone.
 */
#ifndef PVD_NET_HOST_H
#define PVD_NET_HOST_H

#include <stdint.h>
#include <stddef.h>

struct pvd;
struct machine;
struct ctl;

/* One --net-capacity value "NETWORK=BYTES" (bytes/s, a plain integer):
 * 0, or -1 with err naming the option and the cause. */
int net_host_parse_capacity(const char *spec, char *network, size_t netlen, uint64_t *bytes, char *err,
			    size_t errlen);
/* Every --net-capacity value of pvd's options checked (at start-up). */
int net_host_check_options(struct pvd *pvd, char *err, size_t errlen);

int net_host_open(struct pvd *pvd, struct machine *m, struct ctl *c, char *err, size_t errlen);
/* The machine is gone: no more control calls go out. */
void net_host_machine_gone(struct pvd *pvd);
void net_host_close(struct pvd *pvd);
void net_host_poll(struct pvd *pvd);
/* Before anything is built: every Linux bridge the domain's vifs name
 * exists; else -1 with err ("vif 0: bridge \"br9\" does not exist ..."). */
int net_host_check(struct pvd *pvd, const char *uuid, char *err, size_t errlen);
/* The domain's vifs as stored (uuid): on an internal network, or a TAP
 * device on a Linux bridge. -1 with err (a missing bridge) when one cannot
 * be created; the caller destroys the domain (net_host_domain_gone). */
int net_host_domain_started(struct pvd *pvd, uint32_t domid, const char *uuid, char *err, size_t errlen);
/* The counters of vif devid of domain domid (tx: what the guest sent):
 * 0, or -1 when netback does not serve it. */
struct netback_vif_stats;
int net_host_vif_stats(struct pvd *pvd, uint32_t domid, uint32_t devid, struct netback_vif_stats *out);
void net_host_domain_gone(struct pvd *pvd, uint32_t domid);
/* At reconciliation: the vifs of the domains that kept running across a
 * restart of pvd, resumed (netback_vif_resume); those served already are
 * left as they are. */
void net_host_reattach(struct pvd *pvd);
/* Hot plug (pvctl net-attach/net-detach/net-limit) on the running domain
 * domid, by device number: attach the stored vif devid of domain uuid;
 * detach begins the unplug (0 gone, 1 pending, <0 with err); the state is
 * NETBACK_VIF_NONE / _ATTACHED / _DETACHING (dom0/netback.h). */
int net_host_attach(struct pvd *pvd, uint32_t domid, const char *uuid, int devid, char *err, size_t errlen);
int net_host_detach(struct pvd *pvd, uint32_t domid, int devid, int force, char *err, size_t errlen);
int net_host_vif_state(struct pvd *pvd, uint32_t domid, int devid);
int net_host_set_rate(struct pvd *pvd, uint32_t domid, int devid, uint64_t rate, uint64_t burst, char *err,
		      size_t errlen);

#endif
