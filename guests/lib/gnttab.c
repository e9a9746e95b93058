/* Grant-table helpers for the PV test kernels (see gnttab.h). */
#include "gnttab.h"

struct gnttab_map_grant_ref gnttab_map1(grant_ref_t ref, domid_t dom, uint32_t flags,
                                        uint64_t va)
{
    struct gnttab_map_grant_ref op = { .host_addr = va, .flags = flags, .ref = ref,
                                       .dom = dom, .status = 99 };

    test_eq(hypercall_grant_table_op(GNTTABOP_map_grant_ref, &op, 1), 0,
            "map_grant_ref call (ref %u of domain %u, flags %#x)", ref, dom, flags);
    return op;
}

/* Run one unmap-like op; its status field is at status. */
static int16_t unmap_like(unsigned int cmd, void *op, const int16_t *status, const char *what,
                          grant_handle_t handle)
{
    test_eq(hypercall_grant_table_op(cmd, op, 1), 0, "%s call (handle %u)", what, handle);
    return *status;
}

int16_t gnttab_unmap1(grant_handle_t handle, uint64_t host_addr, uint64_t dev_bus_addr)
{
    struct gnttab_unmap_grant_ref op = { .host_addr = host_addr, .dev_bus_addr = dev_bus_addr,
                                         .handle = handle, .status = 99 };

    return unmap_like(GNTTABOP_unmap_grant_ref, &op, &op.status, "unmap_grant_ref", handle);
}

int16_t gnttab_unmap_and_replace1(grant_handle_t handle, uint64_t host_addr, uint64_t new_addr)
{
    struct gnttab_unmap_and_replace op = { .host_addr = host_addr, .new_addr = new_addr,
                                           .handle = handle, .status = 99 };

    return unmap_like(GNTTABOP_unmap_and_replace, &op, &op.status, "unmap_and_replace", handle);
}

struct gnttab_copy gnttab_copy_op(uint16_t flags, uint64_t src, domid_t sdom, uint16_t soff,
                                  uint64_t dst, domid_t ddom, uint16_t doff, uint16_t len)
{
    struct gnttab_copy op = { .len = len, .flags = flags, .status = 99 };

    op.source.u.gmfn = src;
    op.source.domid = sdom;
    op.source.offset = soff;
    op.dest.u.gmfn = dst;
    op.dest.domid = ddom;
    op.dest.offset = doff;
    return op;
}

void gnttab_map_frame(uint64_t va, uint64_t mfn)
{
    long rc = hypercall_update_va_mapping(va, mfn ? (mfn << PAGE_SHIFT) | PTE_PAGE : 0,
                                          UVMF_INVLPG);
    if (rc)
        test_abort("update_va_mapping(%#lx, mfn %#lx): %ld", (unsigned long)va,
                   (unsigned long)mfn, rc);
}
