/*
 * pvcore public ABI: hypervisor version queries (HYPERVISOR_xen_version).
 *
 * Owns: XENVER_* commands and their result buffers. XENVER_version returns
 * (major << 16) | minor and XENVER_pagesize returns the page size; the
 * other commands return 0 and fill their buffer.
 */
#ifndef PVCORE_PUBLIC_VERSION_H
#define PVCORE_PUBLIC_VERSION_H

#include "xen.h"

#define XENVER_version              0
#define XENVER_extraversion         1
#define XENVER_compile_info         2
#define XENVER_capabilities         3
#define XENVER_changeset            4
#define XENVER_platform_parameters  5
#define XENVER_get_features         6
#define XENVER_pagesize             7
#define XENVER_guest_handle         8
#define XENVER_commandline          9
#define XENVER_build_id            10

#define XEN_EXTRAVERSION_LEN       16
#define XEN_CAPABILITIES_INFO_LEN  1024
#define XEN_CHANGESET_INFO_LEN     64
#define XEN_COMMANDLINE_LEN        1024

#ifndef __ASSEMBLY__

typedef char xen_extraversion_t[XEN_EXTRAVERSION_LEN];
typedef char xen_capabilities_info_t[XEN_CAPABILITIES_INFO_LEN];
typedef char xen_changeset_info_t[XEN_CHANGESET_INFO_LEN];
typedef char xen_commandline_t[XEN_COMMANDLINE_LEN];

struct xen_compile_info {
    char compiler[64];
    char compile_by[16];
    char compile_domain[32];
    char compile_date[32];
};
_Static_assert(sizeof(struct xen_compile_info) == 144, "compile_info");

struct xen_platform_parameters {
    xen_ulong_t virt_start;         /* lowest address of the Xen hole     */
};

struct xen_feature_info {
    uint32_t submap_idx;            /* IN: which 32-bit word              */
    uint32_t submap;                /* OUT: XENFEAT_* bits of that word   */
};
_Static_assert(sizeof(struct xen_feature_info) == 8, "feature_info");

struct xen_build_id {
    uint32_t len;                   /* IN: size of buf                    */
    uint8_t  buf[];
};

#endif /* !__ASSEMBLY__ */
#endif /* PVCORE_PUBLIC_VERSION_H */
