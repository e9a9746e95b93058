/*
 * blk_host.h - pvd hosts the block backend (dom0/blkback.h): grants
 * mapped through the control interface and reached in machine RAM, kicks
 * through the control interface, completions of the I/O workers on the
 * loop (an event on blkback's event fd), each domain's disks added when
 * it is built and dropped when it goes.
 *
 * hv.c calls blk_host_open after xs_host_open (blkback writes its nodes
 * through the xenstore server), blk_host_poll on a doorbell kick and on
 * the tick, blk_host_close before xs_host_close; hv_lifecycle.c calls
 * blk_host_domain_started before the domain is unpaused and
 * blk_host_domain_gone wherever xs_host_domain_gone is called.
 */
#ifndef PVD_BLK_HOST_H
#define PVD_BLK_HOST_H

#include <stddef.h>
#include <stdint.h>

struct pvd;
struct machine;
struct ctl;
struct domain_config;
struct store_domain;
struct blkback_stats;

int blk_host_open(struct pvd *pvd, struct machine *m, struct ctl *c, char *err, size_t errlen);
/* machine_lost: its grants and ports are gone with it; nothing is unmapped. */
/* The machine is gone (before its control calls are failed): no more
 * calls go out; the answers that come are errors. */
void blk_host_machine_gone(struct pvd *pvd);
/* Requests waiting for an asynchronous control call. */
unsigned blk_host_calls_under_way(struct pvd *pvd);
void blk_host_close(struct pvd *pvd, int machine_lost);
void blk_host_poll(struct pvd *pvd);
/* Every disk of the domain; -1 with err naming the disk (the caller
 * destroys the domain). */
int blk_host_domain_started(struct pvd *pvd, uint32_t domid, const struct store_domain *d,
			    const struct domain_config *cfg, char *err, size_t errlen);
void blk_host_domain_gone(struct pvd *pvd, uint32_t domid);
/* Hot plug (pvctl block-attach/detach) of the running domain domid:
 * attach cfg's disk `name` (its image created); detach begins the
 * unplug: 0 gone, 1 pending, <0 with err (blkback_detach). */
int blk_host_attach(struct pvd *pvd, uint32_t domid, const struct store_domain *d, const struct domain_config *cfg,
		    const char *name, char *err, size_t errlen);
int blk_host_detach(struct pvd *pvd, uint32_t domid, const char *name, int force, char *err, size_t errlen);
/* BLKBACK_DEV_NONE / _ATTACHED / _DETACHING (dom0/blkback.h), why: the
 * frontend's error node while detaching. */
int blk_host_disk_state(struct pvd *pvd, uint32_t domid, const char *name, char *why, size_t whylen);
/* After a restart of pvd: the disks of the domains that kept running
 * (hv_lifecycle.c calls it with the consoles' re-attachment). */
void blk_host_reattach(struct pvd *pvd);

/* Live changes to the disks of a running domain (uuid): a disk's quota
 * (disk NULL: the domain's disk_quota) and I/O limits, in bytes; a
 * disk's counters. -ENOENT: not running here, or no such disk. */
int blk_host_set_quota(struct pvd *pvd, const char *uuid, const char *disk, uint64_t bytes);
int blk_host_set_limits(struct pvd *pvd, const char *uuid, const char *disk, uint64_t bps, uint64_t iops,
			uint64_t burst);
int blk_host_stats(struct pvd *pvd, const char *uuid, const char *disk, struct blkback_stats *st);

#endif
