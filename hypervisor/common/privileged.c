/* The privileged hypercalls: platform_op, sysctl, domctl, kexec_op and
 * hypfs_op.
 *
 * Owns: what an unprivileged domain gets from them. No pvcore domain is
 * privileged (Domain 0 manages the machine through the control interface,
 * common/control.c), so each call makes the checks Xen 4.17 makes before
 * its XSM privilege check, in Xen's order, and then fails with -EPERM:
 *  - platform_op, sysctl: the structure is copied in (-EFAULT), a wrong
 *    interface_version is -EACCES, then -EPERM;
 *  - domctl: the same, then the target domain must exist (-ESRCH; not
 *    for the commands Xen does not look one up for), then -EPERM;
 *  - kexec_op, hypfs_op: -EPERM before anything is read.
 * Nothing changes state. */
#include <public/privileged.h>
#include "hv/domain.h"
#include "hv/errno.h"
#include "hv/guest_access.h"
#include "hv/hypercall.h"
#include "hv/lib.h"

/* Copy the whole operation in and check its interface version (each
 * structure has it at offset 4, after cmd). */
static long copy_versioned_op(uint64_t arg, void *op, size_t size, uint32_t version)
{
    uint32_t hdr[2];

    if (copy_from_guest(op, arg, size))
        return -EFAULT;
    memcpy(hdr, op, sizeof(hdr));
    return hdr[1] == version ? 0 : -EACCES;
}

long do_platform_op(uint64_t arg)
{
    struct xen_platform_op op;
    long rc = copy_versioned_op(arg, &op, sizeof(op), XENPF_INTERFACE_VERSION);
    return rc ? rc : -EPERM;
}

long do_sysctl(uint64_t arg)
{
    struct xen_sysctl op;
    long rc = copy_versioned_op(arg, &op, sizeof(op), XEN_SYSCTL_INTERFACE_VERSION);
    return rc ? rc : -EPERM;
}

long do_domctl(uint64_t arg)
{
    struct xen_domctl op;
    long rc = copy_versioned_op(arg, &op, sizeof(op), XEN_DOMCTL_INTERFACE_VERSION);
    if (rc)
        return rc;
    switch (op.cmd) {
    case XEN_DOMCTL_createdomain:       /* no target domain looked up */
    case XEN_DOMCTL_getdomaininfo:
    case XEN_DOMCTL_test_assign_device:
    case XEN_DOMCTL_gdbsx_guestmemio:
        break;
    default:
        if (!domain_exists(op.domain))
            return -ESRCH;
    }
    return -EPERM;
}

long do_kexec_op(void)
{
    return -EPERM;
}

long do_hypfs_op(void)
{
    return -EPERM;
}
