/*
 * pvcore public ABI: the privileged hypercalls (platform_op, sysctl,
 * domctl, kexec_op, hypfs_op).
 *
 * Owns: the parts of Xen 4.17's platform.h, sysctl.h, domctl.h, kexec.h
 * and hypfs.h a guest needs to tell these calls apart: the interface
 * versions Xen checks before privilege, the common header of each
 * operation structure (cmd, interface_version[, domain]) with its
 * 128-byte union, and a few harmless commands. No pvcore domain is
 * privileged: every call that gets past those checks is -EPERM.
 */
#ifndef PVCORE_PUBLIC_PRIVILEGED_H
#define PVCORE_PUBLIC_PRIVILEGED_H

#include "xen.h"

#define XENPF_INTERFACE_VERSION       0x03000001
#define XEN_SYSCTL_INTERFACE_VERSION  0x00000015
#define XEN_DOMCTL_INTERFACE_VERSION  0x00000015

#define XENPF_settime64               62
#define XEN_SYSCTL_sched_id           4
#define XEN_DOMCTL_createdomain       1
#define XEN_DOMCTL_pausedomain        3
#define XEN_DOMCTL_getdomaininfo      5
#define XEN_DOMCTL_test_assign_device 45
#define XEN_DOMCTL_gdbsx_guestmemio   1000
#define KEXEC_CMD_kexec_get_range     3
#define XEN_HYPFS_OP_get_version      0
#define XEN_HYPFS_VERSION             1

struct xen_platform_op {
    uint32_t cmd;
    uint32_t interface_version;
    union {
        uint64_t align;
        uint8_t pad[128];
    } u;
};

struct xen_sysctl {
    uint32_t cmd;
    uint32_t interface_version;
    union {
        uint32_t sched_id;                  /* XEN_SYSCTL_sched_id: OUT */
        uint64_t align;
        uint8_t pad[128];
    } u;
};

struct xen_domctl {
    uint32_t cmd;
    uint32_t interface_version;
    domid_t domain;
    uint16_t _pad[3];
    union {
        uint64_t align;
        uint8_t pad[128];
    } u;
};

_Static_assert(sizeof(struct xen_platform_op) == 136, "xen_platform_op layout");
_Static_assert(sizeof(struct xen_sysctl) == 136, "xen_sysctl layout");
_Static_assert(sizeof(struct xen_domctl) == 144, "xen_domctl layout");

#endif
