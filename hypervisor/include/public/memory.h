/*
 * pvcore public ABI: memory reservation and layout (HYPERVISOR_memory_op).
 *
 * Owns: XENMEM_* commands, reservation / exchange / physmap structures,
 * the machphys (M2P) mapping description, the pseudo-physical memory map
 * and its e820 entry format.
 */
#ifndef PVCORE_PUBLIC_MEMORY_H
#define PVCORE_PUBLIC_MEMORY_H

#include "xen.h"

#define XENMEM_increase_reservation      0
#define XENMEM_decrease_reservation      1
#define XENMEM_maximum_ram_page          2   /* arg NULL: highest MFN      */
#define XENMEM_current_reservation       3   /* arg &domid_t: pages held   */
#define XENMEM_maximum_reservation       4   /* arg &domid_t: page limit   */
#define XENMEM_machphys_mfn_list         5
#define XENMEM_populate_physmap          6
#define XENMEM_add_to_physmap            7
#define XENMEM_memory_map                9
#define XENMEM_machine_memory_map       10
#define XENMEM_exchange                 11
#define XENMEM_machphys_mapping         12
#define XENMEM_set_memory_map           13
#define XENMEM_maximum_gpfn             14
#define XENMEM_remove_from_physmap      15
#define XENMEM_add_to_physmap_batch     23
#define XENMEM_claim_pages              24
#define XENMEM_machphys_compat_mfn_list 25
#define XENMEM_get_vnumainfo            26
#define XENMEM_acquire_resource         28

/* Command word: low bits command, the rest a continuation index. */
#define MEMOP_EXTENT_SHIFT   6
#define MEMOP_CMD_MASK       ((1 << MEMOP_EXTENT_SHIFT) - 1)

/* xen_memory_reservation.mem_flags */
#define XENMEMF_address_bits(x)       (x)
#define XENMEMF_get_address_bits(x)   ((x) & 0xffu)
#define XENMEMF_node(x)               (((x) + 1) << 8)
#define XENMEMF_populate_on_demand    (1 << 16)
#define XENMEMF_exact_node_request    (1 << 17)
#define XENMEMF_vnode                 (1 << 18)

/* xen_add_to_physmap.space */
#define XENMAPSPACE_shared_info    0
#define XENMAPSPACE_grant_table    1
#define XENMAPSPACE_gmfn           2
#define XENMAPSPACE_gmfn_range     3
#define XENMAPSPACE_gmfn_foreign   4
#define XENMAPSPACE_dev_mmio       5
#define XENMAPIDX_grant_table_status 0x80000000u

/* e820 entry types */
#define E820_RAM        1
#define E820_RESERVED   2
#define E820_ACPI       3
#define E820_NVS        4
#define E820_UNUSABLE   5

#ifndef __ASSEMBLY__

/*
 * increase/decrease_reservation, populate_physmap: nr_extents extents of
 * 2^extent_order pages. extent_start lists GPFNs (populate, decrease) or
 * receives MFNs (increase). The return value is the number of extents done.
 */
struct xen_memory_reservation {
    uint64_t extent_start;          /* guest address of xen_pfn_t[]       */
    xen_ulong_t nr_extents;
    uint32_t extent_order;
    uint32_t mem_flags;             /* XENMEMF_*                          */
    domid_t  domid;
    uint16_t _pad[3];
};
typedef struct xen_memory_reservation xen_memory_reservation_t;
_Static_assert(sizeof(struct xen_memory_reservation) == 32, "reservation");
_Static_assert(offsetof(struct xen_memory_reservation, extent_order) == 16,
               "reservation.extent_order");
_Static_assert(offsetof(struct xen_memory_reservation, domid) == 24, "res.dom");

struct xen_memory_exchange {
    struct xen_memory_reservation in;
    struct xen_memory_reservation out;
    xen_ulong_t nr_exchanged;       /* OUT                                */
};
_Static_assert(sizeof(struct xen_memory_exchange) == 72, "memory_exchange");

struct xen_machphys_mfn_list {
    uint32_t max_extents;
    uint32_t _pad;
    uint64_t extent_start;          /* guest address of xen_pfn_t[]       */
    uint32_t nr_extents;            /* OUT                                */
    uint32_t _pad2;
};
_Static_assert(sizeof(struct xen_machphys_mfn_list) == 24, "machphys_mfn_list");

/* Where the read-only M2P table is mapped for this guest. */
struct xen_machphys_mapping {
    xen_ulong_t v_start, v_end;     /* virtual range [v_start, v_end)     */
    xen_ulong_t max_mfn;            /* highest MFN the table covers       */
};
_Static_assert(sizeof(struct xen_machphys_mapping) == 24, "machphys_mapping");

struct xen_add_to_physmap {
    domid_t  domid;
    uint16_t size;                  /* gmfn_range only                    */
    uint32_t space;                 /* XENMAPSPACE_*                      */
    xen_ulong_t idx;
    xen_pfn_t gpfn;
};
_Static_assert(sizeof(struct xen_add_to_physmap) == 24, "add_to_physmap");

struct xen_remove_from_physmap {
    domid_t  domid;
    uint16_t _pad[3];
    xen_pfn_t gpfn;
};

/*
 * memory_map / machine_memory_map / set_memory_map: nr_entries is the
 * buffer's capacity on entry and the count written on return.
 */
struct xen_memory_map {
    uint32_t nr_entries;
    uint32_t _pad;
    uint64_t buffer;                /* guest address of e820_entry[]      */
};
typedef struct xen_memory_map xen_memory_map_t;
_Static_assert(sizeof(struct xen_memory_map) == 16, "xen_memory_map");
_Static_assert(offsetof(struct xen_memory_map, buffer) == 8, "memory_map.buf");

struct xen_foreign_memory_map {
    domid_t  domid;
    uint16_t _pad[3];
    struct xen_memory_map map;
};

/* The BIOS e820 format: packed, 20 bytes an entry. */
struct e820_entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;                  /* E820_*                             */
} __attribute__((packed));
_Static_assert(sizeof(struct e820_entry) == 20, "e820_entry");

#endif /* !__ASSEMBLY__ */
#endif /* PVCORE_PUBLIC_MEMORY_H */
