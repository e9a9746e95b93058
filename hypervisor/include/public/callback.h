/*
 * pvcore public ABI: guest callbacks (HYPERVISOR_callback_op).
 *
 * Owns: CALLBACKTYPE_* entry points Xen bounces into, CALLBACKOP_*
 * commands and their structures.
 */
#ifndef PVCORE_PUBLIC_CALLBACK_H
#define PVCORE_PUBLIC_CALLBACK_H

#include "xen.h"

#define CALLBACKTYPE_event                0   /* event upcall             */
#define CALLBACKTYPE_failsafe             1   /* bad segment on return    */
#define CALLBACKTYPE_syscall              2   /* 64-bit SYSCALL from user */
#define CALLBACKTYPE_sysenter_deprecated  3
#define CALLBACKTYPE_nmi                  4
#define CALLBACKTYPE_sysenter             5
#define CALLBACKTYPE_syscall32            7

#define CALLBACKF_mask_events   (1u << 0)   /* mask events on entry      */

#define CALLBACKOP_register     0
#define CALLBACKOP_unregister   1

#ifndef __ASSEMBLY__

struct callback_register {
    uint16_t type;                  /* CALLBACKTYPE_*                     */
    uint16_t flags;                 /* CALLBACKF_*                        */
    uint32_t _pad;
    xen_callback_t address;
};
_Static_assert(sizeof(struct callback_register) == 16, "callback_register");
_Static_assert(offsetof(struct callback_register, address) == 8, "cb.address");

struct callback_unregister {
    uint16_t type;
    uint16_t _unused;
};

/* HYPERVISOR_nmi_op: the older interface to the NMI callback. */
#define XENNMI_register_callback   0
#define XENNMI_unregister_callback 1
struct xennmi_callback {
    uint64_t handler_address;
    uint64_t pad;
};
_Static_assert(sizeof(struct xennmi_callback) == 16, "xennmi_callback");

#endif /* !__ASSEMBLY__ */
#endif /* PVCORE_PUBLIC_CALLBACK_H */
