/*
 * pvcore public ABI: grant tables (HYPERVISOR_grant_table_op).
 *
 * Owns: grant entry formats (v1 and v2), GTF_* entry flags, GNTTABOP_*
 * commands with their argument structures, GNTMAP_* / GNTCOPY_* flags and
 * the per-op GNTST_* status codes (written into each op's status field).
 */
#ifndef PVCORE_PUBLIC_GRANT_TABLE_H
#define PVCORE_PUBLIC_GRANT_TABLE_H

#include "xen.h"

/* grant entry flags: type in bits 0-1 */
#define GTF_invalid              0
#define GTF_permit_access        1
#define GTF_accept_transfer      2
#define GTF_transitive           3
#define GTF_type_mask            3
#define GTF_readonly             (1 << 2)   /* permit_access: no writes    */
#define GTF_reading              (1 << 3)   /* set by Xen while mapped/copying */
#define GTF_writing              (1 << 4)
#define GTF_PWT                  (1 << 5)
#define GTF_PCD                  (1 << 6)
#define GTF_PAT                  (1 << 7)
#define GTF_sub_page             (1 << 8)
#define GTF_transfer_committed   (1 << 2)
#define GTF_transfer_completed   (1 << 3)

#define GNTTABOP_map_grant_ref        0
#define GNTTABOP_unmap_grant_ref      1
#define GNTTABOP_setup_table          2
#define GNTTABOP_dump_table           3
#define GNTTABOP_transfer             4
#define GNTTABOP_copy                 5
#define GNTTABOP_query_size           6
#define GNTTABOP_unmap_and_replace    7
#define GNTTABOP_set_version          8
#define GNTTABOP_get_status_frames    9
#define GNTTABOP_get_version         10
#define GNTTABOP_swap_grant_ref      11
#define GNTTABOP_cache_flush         12

#define GNTMAP_device_map        (1 << 0)
#define GNTMAP_host_map          (1 << 1)
#define GNTMAP_readonly          (1 << 2)
#define GNTMAP_application_map   (1 << 3)
#define GNTMAP_contains_pte      (1 << 4)
#define GNTMAP_guest_avail0      (1 << 16)

#define GNTCOPY_source_gref      (1 << 0)
#define GNTCOPY_dest_gref        (1 << 1)

#define GNTST_okay                  0
#define GNTST_general_error        (-1)
#define GNTST_bad_domain           (-2)
#define GNTST_bad_gntref           (-3)
#define GNTST_bad_handle           (-4)
#define GNTST_bad_virt_addr        (-5)
#define GNTST_bad_dev_addr         (-6)
#define GNTST_no_device_space      (-7)
#define GNTST_permission_denied    (-8)
#define GNTST_bad_page             (-9)
#define GNTST_bad_copy_arg        (-10)
#define GNTST_address_too_big     (-11)
#define GNTST_eagain              (-12)
#define GNTST_no_space            (-13)

#ifndef __ASSEMBLY__

typedef uint32_t grant_ref_t;
typedef uint32_t grant_handle_t;

struct grant_entry_v1 {
    uint16_t flags;             /* GTF_*                                  */
    domid_t  domid;             /* domain allowed to use the grant        */
    uint32_t frame;             /* granted frame (GFN)                    */
};
typedef struct grant_entry_v1 grant_entry_v1_t;
_Static_assert(sizeof(struct grant_entry_v1) == 8, "grant_entry_v1");
_Static_assert(offsetof(struct grant_entry_v1, frame) == 4, "gnt_v1.frame");

struct grant_entry_header {
    uint16_t flags;
    domid_t  domid;
};

union grant_entry_v2 {
    struct grant_entry_header hdr;
    struct {
        struct grant_entry_header hdr;
        uint32_t pad0;
        uint64_t frame;
    } full_page;
    struct {
        struct grant_entry_header hdr;
        uint16_t page_off;
        uint16_t length;
        uint64_t frame;
    } sub_page;
    struct {
        struct grant_entry_header hdr;
        domid_t  trans_domid;
        uint16_t pad0;
        grant_ref_t gref;
    } transitive;
    uint32_t _spacer[4];
};
_Static_assert(sizeof(union grant_entry_v2) == 16, "grant_entry_v2");

typedef uint16_t grant_status_t;

struct gnttab_map_grant_ref {
    uint64_t host_addr;         /* IN: VA (or PTE MA with contains_pte)   */
    uint32_t flags;             /* IN: GNTMAP_*                           */
    grant_ref_t ref;            /* IN                                     */
    domid_t  dom;               /* IN: granting domain                    */
    int16_t  status;            /* OUT: GNTST_*                           */
    grant_handle_t handle;      /* OUT                                    */
    uint64_t dev_bus_addr;      /* OUT                                    */
};
_Static_assert(sizeof(struct gnttab_map_grant_ref) == 32, "map_grant_ref");
_Static_assert(offsetof(struct gnttab_map_grant_ref, status) == 18, "map.st");
_Static_assert(offsetof(struct gnttab_map_grant_ref, handle) == 20, "map.h");

struct gnttab_unmap_grant_ref {
    uint64_t host_addr;         /* IN                                     */
    uint64_t dev_bus_addr;      /* IN                                     */
    grant_handle_t handle;      /* IN                                     */
    int16_t  status;            /* OUT                                    */
};
_Static_assert(sizeof(struct gnttab_unmap_grant_ref) == 24, "unmap_grant_ref");

struct gnttab_setup_table {
    domid_t  dom;               /* IN                                     */
    uint32_t nr_frames;         /* IN: frames wanted                      */
    int16_t  status;            /* OUT                                    */
    uint64_t frame_list;        /* IN: guest address of xen_pfn_t[]       */
};
_Static_assert(sizeof(struct gnttab_setup_table) == 24, "setup_table");
_Static_assert(offsetof(struct gnttab_setup_table, frame_list) == 16, "st.fl");

struct gnttab_dump_table {
    domid_t dom;
    int16_t status;
};

struct gnttab_transfer {
    xen_pfn_t mfn;
    domid_t  domid;
    grant_ref_t ref;
    int16_t  status;
};
_Static_assert(sizeof(struct gnttab_transfer) == 24, "gnttab_transfer");

struct gnttab_copy_ptr {
    union {
        grant_ref_t ref;        /* with GNTCOPY_*_gref                    */
        xen_pfn_t gmfn;         /* otherwise: caller's own frame          */
    } u;
    domid_t  domid;
    uint16_t offset;
};

struct gnttab_copy {
    struct gnttab_copy_ptr source, dest;
    uint16_t len;
    uint16_t flags;             /* GNTCOPY_*                              */
    int16_t  status;            /* OUT                                    */
};
_Static_assert(sizeof(struct gnttab_copy) == 40, "gnttab_copy");
_Static_assert(offsetof(struct gnttab_copy, dest) == 16, "gnttab_copy.dest");
_Static_assert(offsetof(struct gnttab_copy, status) == 36, "gnttab_copy.st");

struct gnttab_query_size {
    domid_t  dom;               /* IN                                     */
    uint32_t nr_frames;         /* OUT                                    */
    uint32_t max_nr_frames;     /* OUT                                    */
    int16_t  status;            /* OUT                                    */
};
_Static_assert(sizeof(struct gnttab_query_size) == 16, "query_size");

struct gnttab_unmap_and_replace {
    uint64_t host_addr;         /* IN: the grant mapping's address        */
    uint64_t new_addr;          /* IN: its PTE moves to host_addr; 0: none */
    grant_handle_t handle;      /* IN                                     */
    int16_t  status;            /* OUT                                    */
};
_Static_assert(sizeof(struct gnttab_unmap_and_replace) == 24, "unmap_and_replace");
_Static_assert(offsetof(struct gnttab_unmap_and_replace, status) == 20, "uar.st");

struct gnttab_set_version {
    uint32_t version;           /* IN: 1 or 2; OUT: version in force      */
};

struct gnttab_get_version {
    domid_t  dom;
    uint16_t pad;
    uint32_t version;
};

struct gnttab_get_status_frames {
    uint32_t nr_frames;
    domid_t  dom;
    int16_t  status;
    uint64_t frame_list;        /* guest address of uint64_t[]            */
};
_Static_assert(sizeof(struct gnttab_get_status_frames) == 16, "get_status_frames");
_Static_assert(offsetof(struct gnttab_get_status_frames, frame_list) == 8, "gsf.fl");

#endif /* !__ASSEMBLY__ */
#endif /* PVCORE_PUBLIC_GRANT_TABLE_H */
