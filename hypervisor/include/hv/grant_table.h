/* Grant tables, v1 and v2 (common/grant_*.c).
 *
 * Every domain has a grant table: frames of grant entries that the
 * hypervisor allocates and shares with the domain (it maps them writable,
 * like shared_info, and fills in grants: GTF_permit_access, the domid
 * allowed, a frame it owns), GNTTAB_DEFAULT_FRAMES at creation, grown up
 * to GNTTAB_MAX_FRAMES by GNTTABOP_setup_table; and a maptrack: the grants
 * it has mapped itself, by handle. The table starts as v1
 * (grant_entry_v1); GNTTABOP_set_version switches it to v2
 * (grant_entry_v2, with status frames that hold GTF_reading/GTF_writing)
 * and back while its grants are unused.
 *
 * A mapping holds, until it is unmapped or the mapping domain is
 * destroyed, per part (GNTMAP_host_map, GNTMAP_device_map; each is
 * unmapped on its own): a general reference on the granted frame (plus
 * PGT_writable when writable) and a pin on the granter's entry that keeps
 * GTF_reading (GTF_writing) set, so the granter cannot end access
 * meanwhile (its cmpxchg of the flags to 0 fails). The frame stays
 * allocated while mapped even if its owner gives it back or is destroyed.
 */
#ifndef HV_GRANT_TABLE_H
#define HV_GRANT_TABLE_H

#include <public/grant_table.h>
#include "hv/domain.h"

#define GNTTAB_DEFAULT_FRAMES  1      /* Xen's guests ask for more with setup_table */
#define GNTTAB_MAX_FRAMES      32
/* Copies one control-interface request may carry (gnttab_copy_for; the
 * guests' batches have no bound: they continue, hv/batch.h). */
#define GNTTAB_MAX_OPS         8192

/* Give d its grant table (at domain creation, also for Domain 0).
 * 0, -ENOMEM, -EINVAL (domid out of range), -EEXIST (d has one). */
int gnttab_init(struct domain *d);
/* Release everything d has mapped and free d's table (at destruction, with
 * none of d's vCPUs running). Frames d granted that others still map stay
 * allocated through those mappings. No-op if d has no table. */
void gnttab_destroy(struct domain *d);

/* HYPERVISOR_grant_table_op (also declared with the other handlers in
 * hv/hypercall.h). */
long do_grant_table_op(uint64_t cmd, uint64_t uop, uint64_t count);

/* Domain 0's access through the control interface (mapper / caller is
 * Domain 0; any domain with a table works). No page-table entry is
 * written: the caller learns the machine frame and reaches it itself.
 * Errors are -errno, translated from the GNTST_* a guest would get:
 *   -ESRCH  no such granting domain (GNTST_bad_domain)
 *   -ENOENT map: grant reference beyond the granter's table
 *           (GNTST_bad_gntref); unmap: no mapping with that handle
 *           (GNTST_bad_handle)
 *   -EPERM  the entry does not grant access to the mapper, or not
 *           writable access, or the frame cannot be mapped writable
 *           (GNTST_general_error)
 *   -ENXIO  the granted frame is not the granter's (GNTST_bad_page)
 *   -ENOSPC the mapper's maptrack is full (GNTST_no_device_space)
 *   -EINVAL flags other than GNTMAP_readonly.
 * gnttab_copy_for runs n gnttab_copy operations (n <= GNTTAB_MAX_OPS,
 * else -EINVAL) exactly as GNTTABOP_copy does for a guest, each one's
 * GNTST_* in its status; a DOMID_SELF side means the caller (for Domain
 * 0: a frame of its window, see below). */
int gnttab_map_for(struct domain *mapper, domid_t granter, uint32_t gref, uint32_t flags,
                   uint64_t *mfn, uint32_t *handle);
int gnttab_unmap_for(struct domain *mapper, uint32_t handle);
long gnttab_copy_for(struct domain *caller, struct gnttab_copy *ops, unsigned int n);

/* Domain 0 owns no machine frames: its local side of a copy (DOMID_SELF,
 * a gmfn) may name only a frame of this window, the control block's bulk
 * area [paddr, paddr + bytes), set once at boot by control_init. There a
 * copy touches only the bytes inside the window; no frame references are
 * taken (the block is the hypervisor's and never freed). */
void gnttab_set_dom0_window(struct domain *dom0, uint64_t paddr, uint64_t bytes);

#endif
