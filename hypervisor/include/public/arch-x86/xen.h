/*
 * pvcore public ABI: x86 part of the Xen PV guest interface.
 *
 * Owns: basic ABI scalar types (xen_pfn_t, xen_ulong_t), the reserved GDT
 * area, the virtual IDT entry (trap_info), the full vCPU context used by
 * VCPUOP_initialise (vcpu_guest_context) and arch_shared_info.
 * Included by <public/xen.h>; do not include directly.
 */
#ifndef PVCORE_PUBLIC_ARCH_X86_XEN_H
#define PVCORE_PUBLIC_ARCH_X86_XEN_H

#if !defined(__x86_64__)
#error "pvcore's public ABI headers describe the x86_64 PV ABI only"
#endif

#ifndef __ASSEMBLY__
#include <stdint.h>
#include <stddef.h>
typedef uint64_t xen_pfn_t;         /* a guest (or machine) frame number */
typedef uint64_t xen_ulong_t;       /* a natural register-sized value    */
typedef uint64_t xen_callback_t;    /* a callback's guest-virtual RIP    */
#endif

#include "xen-x86_64.h"

/* Xen owns GDT frames 14 and 15 (entries 0xe000/8 onwards). */
#define FIRST_RESERVED_GDT_PAGE   14
#define FIRST_RESERVED_GDT_BYTE   (FIRST_RESERVED_GDT_PAGE * 4096)
#define FIRST_RESERVED_GDT_ENTRY  (FIRST_RESERVED_GDT_BYTE / 8)

/* vCPUs that have a vcpu_info slot in shared_info. */
#define XEN_LEGACY_MAX_VCPUS      32

/*
 * trap_info.flags: bits 0-1 are the DPL a software `int` needs to reach the
 * entry (0: nobody, 1-2: kernel only, 3: everyone); bit 2 set makes the
 * bounce mask events, like an interrupt gate clearing IF.
 */
#define TI_DPL_MASK     3
#define TI_IF_MASK      4
#define TI_GET_DPL(ti)  ((ti)->flags & TI_DPL_MASK)
#define TI_GET_IF(ti)   ((ti)->flags & TI_IF_MASK)

/* vcpu_guest_context.flags */
#define VGCF_i387_valid                 (1 << 0)
#define VGCF_in_kernel                  (1 << 2)
#define VGCF_failsafe_disables_events   (1 << 3)
#define VGCF_syscall_disables_events    (1 << 4)
#define VGCF_online                     (1 << 5)

#ifndef __ASSEMBLY__

struct trap_info {
    uint8_t  vector;        /* exception / interrupt vector               */
    uint8_t  flags;         /* TI_DPL_MASK | TI_IF_MASK                   */
    uint16_t cs;            /* code selector (FLAT_KERNEL_CS)             */
    uint32_t _pad;
    uint64_t address;       /* handler; 0 terminates a set_trap_table list */
};
typedef struct trap_info trap_info_t;
_Static_assert(sizeof(struct trap_info) == 16, "trap_info");
_Static_assert(offsetof(struct trap_info, address) == 8, "trap_info.address");

/* Whole-vCPU state for VCPUOP_initialise (and the toolstack). */
struct vcpu_guest_context {
    uint8_t  fpu_ctxt[512];             /* FXSAVE image                   */
    uint64_t flags;                     /* VGCF_*                         */
    struct cpu_user_regs user_regs;
    struct trap_info trap_ctxt[256];    /* virtual IDT                    */
    uint64_t ldt_base, ldt_ents;
    uint64_t gdt_frames[16], gdt_ents;
    uint64_t kernel_ss, kernel_sp;      /* stack_switch values            */
    uint64_t ctrlreg[8];                /* ctrlreg[1] is the user L4 cr3  */
    uint64_t debugreg[8];
    uint64_t event_callback_eip;
    uint64_t failsafe_callback_eip;
    uint64_t syscall_callback_eip;
    uint64_t vm_assist;                 /* bitmap of VMASST_TYPE_*        */
    uint64_t fs_base;
    uint64_t gs_base_kernel;
    uint64_t gs_base_user;
};
typedef struct vcpu_guest_context vcpu_guest_context_t;
_Static_assert(offsetof(struct vcpu_guest_context, flags) == 512, "vgc.flags");
_Static_assert(offsetof(struct vcpu_guest_context, user_regs) == 520, "vgc.r");
_Static_assert(offsetof(struct vcpu_guest_context, trap_ctxt) == 720, "vgc.t");
_Static_assert(offsetof(struct vcpu_guest_context, ldt_base) == 4816, "vgc.ldt");
_Static_assert(offsetof(struct vcpu_guest_context, kernel_ss) == 4968, "vgc.ss");
_Static_assert(offsetof(struct vcpu_guest_context, ctrlreg) == 4984, "vgc.cr");
_Static_assert(offsetof(struct vcpu_guest_context, event_callback_eip) == 5112,
               "vgc.event_callback_eip");
_Static_assert(sizeof(struct vcpu_guest_context) == 5168, "vcpu_guest_context");

struct arch_shared_info {
    uint64_t max_pfn;                   /* entries in the p2m             */
    xen_pfn_t pfn_to_mfn_frame_list_list;
    uint64_t nmi_reason;
    uint64_t p2m_cr3;                   /* address space of p2m_vaddr     */
    uint64_t p2m_vaddr;                 /* linear p2m list                */
    uint64_t p2m_generation;
};
typedef struct arch_shared_info arch_shared_info_t;
_Static_assert(sizeof(struct arch_shared_info) == 48, "arch_shared_info");

#endif /* !__ASSEMBLY__ */
#endif /* PVCORE_PUBLIC_ARCH_X86_XEN_H */
