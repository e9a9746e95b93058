/*
 * Grant-table helpers for the PV test kernels (include after lib.h): one
 * operation per call, the hypercall's own result checked as a test
 * (it must be 0), the operation's GNTST_* status returned for the kernel
 * to judge.
 */
#ifndef GUEST_GNTTAB_H
#define GUEST_GNTTAB_H

#include "lib.h"

/* GNTTABOP_map_grant_ref of dom's ref at va: the op as the hypervisor
 * left it (status, handle, dev_bus_addr). */
struct gnttab_map_grant_ref gnttab_map1(grant_ref_t ref, domid_t dom, uint32_t flags,
                                        uint64_t va);
/* GNTTABOP_unmap_grant_ref: the parts host_addr / dev_bus_addr name. */
int16_t gnttab_unmap1(grant_handle_t handle, uint64_t host_addr, uint64_t dev_bus_addr);
/* GNTTABOP_unmap_and_replace. */
int16_t gnttab_unmap_and_replace1(grant_handle_t handle, uint64_t host_addr, uint64_t new_addr);

/* Map a grant table or status frame at va (an L1 must cover it) writable,
 * or unmap va with mfn 0; aborts the test on failure. */
void gnttab_map_frame(uint64_t va, uint64_t mfn);

/* One GNTTABOP_copy operation: flags (GNTCOPY_*), source and destination
 * (a grant ref or, without its GNTCOPY_*_gref flag, a frame; domid;
 * offset), length; status 99 until the hypervisor writes it. */
struct gnttab_copy gnttab_copy_op(uint16_t flags, uint64_t src, domid_t sdom, uint16_t soff,
                                  uint64_t dst, domid_t ddom, uint16_t doff, uint16_t len);

/* ---- granting (grant_access.c): this guest's own table, shared by the
 * frontends ---- */
/* Set the table up (once; later calls do nothing): 0 or -EINVAL. */
long grant_table_init(void);
/* A grant of page (page-aligned) to Domain 0; readonly: Domain 0 may only
 * read it. The ref, or 0 when the table is full. */
grant_ref_t grant_access(void *page, bool readonly);
/* End access; a ref Domain 0 still has mapped is left alone for good. */
void grant_end(grant_ref_t ref);
/* Refs left alone so far (a backend died with them mapped). */
uint32_t grant_stuck(void);

#endif /* GUEST_GNTTAB_H */
