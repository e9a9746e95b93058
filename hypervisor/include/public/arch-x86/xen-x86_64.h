/*
 * pvcore public ABI: x86_64-specific part of the Xen PV guest interface.
 *
 * Owns: hypercall register convention, the flat selectors Xen provides,
 * the hypervisor hole and M2P virtual ranges, set_segment_base selectors,
 * the iret hypercall frame, cpu_user_regs and arch_vcpu_info.
 * Included by <public/arch-x86/xen.h>; do not include directly.
 *
 * Hypercalls: RAX = number, args in RDI, RSI, RDX, R10, R8, R9; result in
 * RAX; RCX and R11 are clobbered. Call hypercall_page + number * 32.
 */
#ifndef PVCORE_PUBLIC_ARCH_X86_XEN_X86_64_H
#define PVCORE_PUBLIC_ARCH_X86_XEN_X86_64_H

/* Flat segments from Xen's reserved GDT area; the guest kernel runs in
 * ring 3 too, so kernel and user share them. */
#define FLAT_RING3_CS32   0xe023
#define FLAT_RING3_CS64   0xe033
#define FLAT_RING3_DS32   0xe02b
#define FLAT_RING3_DS64   0x0000
#define FLAT_RING3_SS32   0xe02b
#define FLAT_RING3_SS64   0xe02b
#define FLAT_KERNEL_CS    FLAT_RING3_CS64
#define FLAT_KERNEL_DS    FLAT_RING3_DS64
#define FLAT_KERNEL_SS    FLAT_RING3_SS64
#define FLAT_USER_CS      FLAT_RING3_CS64
#define FLAT_USER_DS      FLAT_RING3_DS64
#define FLAT_USER_SS      FLAT_RING3_SS64
#define FLAT_USER_CS32    FLAT_RING3_CS32

/* The hole Xen keeps in every address space: L4 slots 256-271. */
#ifdef __ASSEMBLY__
#define HYPERVISOR_VIRT_START   0xFFFF800000000000
#define HYPERVISOR_VIRT_END     0xFFFF880000000000
#define MACH2PHYS_VIRT_START    0xFFFF800000000000
#define MACH2PHYS_VIRT_END      0xFFFF804000000000
#else
#define HYPERVISOR_VIRT_START   0xFFFF800000000000ULL
#define HYPERVISOR_VIRT_END     0xFFFF880000000000ULL
#define MACH2PHYS_VIRT_START    0xFFFF800000000000ULL
#define MACH2PHYS_VIRT_END      0xFFFF804000000000ULL
#endif
#define MACH2PHYS_NR_ENTRIES    ((MACH2PHYS_VIRT_END - MACH2PHYS_VIRT_START) >> 3)
#define HYPERVISOR_L4_FIRST_SLOT 256
#define HYPERVISOR_L4_LAST_SLOT  271

/* set_segment_base(which, base) */
#define SEGBASE_FS            0
#define SEGBASE_GS_USER       1
#define SEGBASE_GS_KERNEL     2
#define SEGBASE_GS_USER_SEL   3   /* load user %gs selector base[15:0] */

/*
 * iret hypercall: the guest pushes an iret_context (rax at the lowest
 * address) and calls __HYPERVISOR_iret. With VGCF_in_syscall in flags only
 * RAX, RIP, RFLAGS and RSP are restored (sysret-style); otherwise RAX, R11,
 * RCX, CS:RIP, RFLAGS and SS:RSP. CS RPL 3 returns to user mode, RPL 0-2
 * to kernel mode.
 */
#define VGCF_in_syscall       (1 << 8)

/* Exception frames the PV kernel receives: a hardware-like frame (error
 * code only for vectors that have one) with RCX and R11 pushed on top. */

#ifndef __ASSEMBLY__

struct iret_context {
    uint64_t rax, r11, rcx, flags, rip, cs, rflags, rsp, ss;
};
_Static_assert(sizeof(struct iret_context) == 72, "iret_context");

struct cpu_user_regs {
    uint64_t r15;
    uint64_t r14;
    uint64_t r13;
    uint64_t r12;
    uint64_t rbp;
    uint64_t rbx;
    uint64_t r11;
    uint64_t r10;
    uint64_t r9;
    uint64_t r8;
    uint64_t rax;
    uint64_t rcx;
    uint64_t rdx;
    uint64_t rsi;
    uint64_t rdi;
    uint32_t error_code;        /* private to Xen */
    uint32_t entry_vector;      /* private to Xen */
    uint64_t rip;
    uint16_t cs, _pad0[1];
    uint8_t  saved_upcall_mask;
    uint8_t  _pad1[3];
    uint64_t rflags;            /* IF mirrors !evtchn_upcall_mask */
    uint64_t rsp;
    uint16_t ss, _pad2[3];
    uint16_t es, _pad3[3];
    uint16_t ds, _pad4[3];
    uint16_t fs, _pad5[3];
    uint16_t gs, _pad6[3];
};
typedef struct cpu_user_regs cpu_user_regs_t;
_Static_assert(offsetof(struct cpu_user_regs, rax) == 80, "cpu_user_regs.rax");
_Static_assert(offsetof(struct cpu_user_regs, error_code) == 120, "regs.ec");
_Static_assert(offsetof(struct cpu_user_regs, rip) == 128, "regs.rip");
_Static_assert(offsetof(struct cpu_user_regs, rflags) == 144, "regs.rflags");
_Static_assert(sizeof(struct cpu_user_regs) == 200, "cpu_user_regs");

struct arch_vcpu_info {
    uint64_t cr2;               /* faulting address of the last #PF */
    uint64_t pad;
};
typedef struct arch_vcpu_info arch_vcpu_info_t;

#define xen_pfn_to_cr3(pfn)   ((uint64_t)(pfn) << 12)
#define xen_cr3_to_pfn(cr3)   ((uint64_t)(cr3) >> 12)

#endif /* !__ASSEMBLY__ */
#endif /* PVCORE_PUBLIC_ARCH_X86_XEN_X86_64_H */
