/* xen_version: what the hypervisor tells guests about itself.
 * pvcore implements the Xen 4.17 PV ABI level, so it reports 4.17; the
 * feature bits are those of public/pvcore_features.h. */
#include <public/pvcore_features.h>
#include <public/version.h>
#include <public/xen.h>
#include "hv/domain.h"
#include "hv/guest_access.h"
#include "hv/hypercall.h"
#include "hv/lib.h"

#define ABI_MAJOR 4
#define ABI_MINOR 17

static long copy_string_out(uint64_t arg, const char *s, size_t size)
{
    char buf[XEN_CAPABILITIES_INFO_LEN];
    memset(buf, 0, size);
    strlcpy(buf, s, size);
    return copy_to_guest(arg, buf, size);
}

/* XENVER_get_features submap 0 for d. */
static uint32_t features_of(const struct domain *d)
{
    bool extcr3 = d->vm_assist & (1UL << VMASST_TYPE_pae_extended_cr3);
    uint32_t map = 0;

#define FEATURE_BIT(name, when)                                               \
    if ((when) == PVCORE_FEAT_ALWAYS || ((when) == PVCORE_FEAT_WITH_EXTCR3 && extcr3)) \
        map |= 1u << XENFEAT_##name;
    PVCORE_FEATURES(FEATURE_BIT)
#undef FEATURE_BIT
    return map;
}

long do_xen_version(uint64_t cmd, uint64_t arg)
{
    switch (cmd) {
    case XENVER_version:
        return (ABI_MAJOR << 16) | ABI_MINOR;
    case XENVER_extraversion:
        return copy_string_out(arg, ".0-pvcore", XEN_EXTRAVERSION_LEN);
    case XENVER_capabilities:
        return copy_string_out(arg, "xen-3.0-x86_64 ", XEN_CAPABILITIES_INFO_LEN);
    case XENVER_changeset:
        return copy_string_out(arg, "pvcore", XEN_CHANGESET_INFO_LEN);
    case XENVER_compile_info: {
        struct xen_compile_info ci;
        memset(&ci, 0, sizeof(ci));
        strlcpy(ci.compiler, "gcc", sizeof(ci.compiler));
        strlcpy(ci.compile_by, "pvcore", sizeof(ci.compile_by));
        strlcpy(ci.compile_domain, "pvcore", sizeof(ci.compile_domain));
        strlcpy(ci.compile_date, __DATE__, sizeof(ci.compile_date));
        return copy_to_guest(arg, &ci, sizeof(ci));
    }
    case XENVER_platform_parameters: {
        struct xen_platform_parameters pp = { .virt_start = HYPERVISOR_VIRT_START };
        return copy_to_guest(arg, &pp, sizeof(pp));
    }
    case XENVER_get_features: {
        struct xen_feature_info fi;
        if (copy_from_guest(&fi, arg, sizeof(fi)))
            return -EFAULT;
        if (fi.submap_idx >= XENFEAT_NR_SUBMAPS)
            return -EINVAL;
        fi.submap = features_of(current->domain);
        return copy_to_guest(arg, &fi, sizeof(fi));
    }
    case XENVER_pagesize:
        return 4096;
    case XENVER_guest_handle: {
        xen_domain_handle_t h;
        memset(h, 0, sizeof(h));
        return copy_to_guest(arg, h, sizeof(h));
    }
    default:
        return hypercall_unimplemented(__HYPERVISOR_xen_version, cmd);
    }
}
