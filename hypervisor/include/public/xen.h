/*
 * pvcore public ABI: the core of the Xen x86-64 PV guest interface.
 *
 * Owns: hypercall numbers, VIRQ numbers, domain ids, mmu_update and
 * mmuext_op requests, update_va_mapping flags, console_io and vm_assist
 * commands, multicall entries, the shared_info / vcpu_info / time pages and
 * start_info. Everything here is a fact of the Xen x86_64 PV ABI: values and
 * layouts must not change. Usable freestanding, on the host, and (constants
 * only) from assembly with __ASSEMBLY__ defined.
 *
 * Include as <public/xen.h> with -Ihypervisor/include.
 */
#ifndef PVCORE_PUBLIC_XEN_H
#define PVCORE_PUBLIC_XEN_H

#include "arch-x86/xen.h"

/* ---- Hypercall numbers (RAX; call hypercall_page + nr * 32) ---------- */
#define __HYPERVISOR_set_trap_table             0
#define __HYPERVISOR_mmu_update                 1
#define __HYPERVISOR_set_gdt                    2
#define __HYPERVISOR_stack_switch               3
#define __HYPERVISOR_set_callbacks              4
#define __HYPERVISOR_fpu_taskswitch             5
#define __HYPERVISOR_sched_op_compat            6
#define __HYPERVISOR_platform_op                7
#define __HYPERVISOR_set_debugreg               8
#define __HYPERVISOR_get_debugreg               9
#define __HYPERVISOR_update_descriptor         10
#define __HYPERVISOR_memory_op                 12
#define __HYPERVISOR_multicall                 13
#define __HYPERVISOR_update_va_mapping         14
#define __HYPERVISOR_set_timer_op              15
#define __HYPERVISOR_event_channel_op_compat   16
#define __HYPERVISOR_xen_version               17
#define __HYPERVISOR_console_io                18
#define __HYPERVISOR_physdev_op_compat         19
#define __HYPERVISOR_grant_table_op            20
#define __HYPERVISOR_vm_assist                 21
#define __HYPERVISOR_update_va_mapping_otherdomain 22
#define __HYPERVISOR_iret                      23
#define __HYPERVISOR_vcpu_op                   24
#define __HYPERVISOR_set_segment_base          25
#define __HYPERVISOR_mmuext_op                 26
#define __HYPERVISOR_xsm_op                    27
#define __HYPERVISOR_nmi_op                    28
#define __HYPERVISOR_sched_op                  29
#define __HYPERVISOR_callback_op               30
#define __HYPERVISOR_xenoprof_op               31
#define __HYPERVISOR_event_channel_op          32
#define __HYPERVISOR_physdev_op                33
#define __HYPERVISOR_hvm_op                    34
#define __HYPERVISOR_sysctl                    35
#define __HYPERVISOR_domctl                    36
#define __HYPERVISOR_kexec_op                  37
#define __HYPERVISOR_tmem_op                   38
#define __HYPERVISOR_argo_op                   39
#define __HYPERVISOR_xenpmu_op                 40
#define __HYPERVISOR_dm_op                     41
#define __HYPERVISOR_hypfs_op                  42
#define __HYPERVISOR_arch_0                    48
#define __HYPERVISOR_arch_1                    49
#define __HYPERVISOR_arch_7                    55
/* The hypercall page is one 4 KiB page of 32-byte stubs. */
#define XEN_HYPERCALL_STUB_SIZE                32
#define XEN_HYPERCALL_PAGE_ENTRIES             128

/* ---- Virtual interrupts (EVTCHNOP_bind_virq) --------------------------
 * Per-vCPU: TIMER, DEBUG, XENOPROF, XENPMU. The rest are global. */
#define VIRQ_TIMER         0
#define VIRQ_DEBUG         1
#define VIRQ_CONSOLE       2
#define VIRQ_DOM_EXC       3
#define VIRQ_TBUF          4
#define VIRQ_DEBUGGER      6
#define VIRQ_XENOPROF      7
#define VIRQ_CON_RING      8
#define VIRQ_PCPU_STATE    9
#define VIRQ_MEM_EVENT    10
#define VIRQ_ARGO         11
#define VIRQ_ENOMEM       12
#define VIRQ_XENPMU       13
#define VIRQ_ARCH_0       16
#define NR_VIRQS          24

/* ---- mmu_update(reqs, count, done, foreigndom) ------------------------
 * ptr[1:0] selects the command, ptr[63:2] is a machine address. */
#define MMU_NORMAL_PT_UPDATE        0   /* checked *ptr = val        */
#define MMU_MACHPHYS_UPDATE         1   /* m2p[ptr >> 12] = val      */
#define MMU_PT_UPDATE_PRESERVE_AD   2   /* as NORMAL, keep A/D bits  */
#define MMU_PT_UPDATE_NO_TRANSLATE  3   /* ptr is an MFN-based MA    */
#define MMU_UPDATE_CMD_MASK         3

/* ---- mmuext_op(ops, count, done, foreigndom) -------------------------- */
#define MMUEXT_PIN_L1_TABLE         0
#define MMUEXT_PIN_L2_TABLE         1
#define MMUEXT_PIN_L3_TABLE         2
#define MMUEXT_PIN_L4_TABLE         3
#define MMUEXT_UNPIN_TABLE          4
#define MMUEXT_NEW_BASEPTR          5
#define MMUEXT_TLB_FLUSH_LOCAL      6
#define MMUEXT_INVLPG_LOCAL         7
#define MMUEXT_TLB_FLUSH_MULTI      8
#define MMUEXT_INVLPG_MULTI         9
#define MMUEXT_TLB_FLUSH_ALL       10
#define MMUEXT_INVLPG_ALL          11
#define MMUEXT_FLUSH_CACHE         12
#define MMUEXT_SET_LDT             13
#define MMUEXT_NEW_USER_BASEPTR    15
#define MMUEXT_CLEAR_PAGE          16
#define MMUEXT_COPY_PAGE           17
#define MMUEXT_FLUSH_CACHE_GLOBAL  18
#define MMUEXT_MARK_SUPER          19
#define MMUEXT_UNMARK_SUPER        20

/* ---- update_va_mapping(va, pte, flags) flags --------------------------
 * Low two bits: flush type. Bit 2: all vCPUs. For UVMF_MULTI the caller
 * ORs in the (8-byte aligned) address of a vCPU bitmap. */
#define UVMF_NONE            0x0
#define UVMF_TLB_FLUSH       0x1
#define UVMF_INVLPG          0x2
#define UVMF_FLUSHTYPE_MASK  0x3
#define UVMF_MULTI           0x0
#define UVMF_LOCAL           0x0
#define UVMF_ALL             0x4

/* ---- console_io(cmd, count, buffer) ----------------------------------- */
#define CONSOLEIO_write      0
#define CONSOLEIO_read       1

/* ---- vm_assist(cmd, type) --------------------------------------------- */
#define VMASST_CMD_enable                 0
#define VMASST_CMD_disable                1
#define VMASST_TYPE_4gb_segments          0   /* 32-bit guests only */
#define VMASST_TYPE_4gb_segments_notify   1   /* 32-bit guests only */
#define VMASST_TYPE_writable_pagetables   2
#define VMASST_TYPE_pae_extended_cr3      3   /* 32-bit guests only */
#define VMASST_TYPE_architectural_iopl    4
#define VMASST_TYPE_runstate_update_flag  5
#define VMASST_TYPE_m2p_strict           32

/* ---- Domain ids ------------------------------------------------------- */
#define DOMID_FIRST_RESERVED  0x7FF0
#define DOMID_SELF            0x7FF0
#define DOMID_IO              0x7FF1
#define DOMID_XEN             0x7FF2
#define DOMID_COW             0x7FF3
#define DOMID_INVALID         0x7FF4
#define DOMID_IDLE            0x7FFF

/* ---- start_info.flags ------------------------------------------------- */
#define SIF_PRIVILEGED        (1 << 0)
#define SIF_INITDOMAIN        (1 << 1)
#define SIF_MULTIBOOT_MOD     (1 << 2)
#define SIF_MOD_START_PFN     (1 << 3)
#define SIF_VIRT_P2M_4TOOLS   (1 << 4)
#define SIF_PM_MASK           (0xFF << 8)

#define MAX_GUEST_CMDLINE     1024
/* Event channels in the 2-level ABI: 64 words of 64 bits. */
#define EVTCHN_2L_NR_CHANNELS 4096

#ifndef __ASSEMBLY__

typedef uint16_t domid_t;

struct mmu_update {
    uint64_t ptr;               /* machine address of the PTE | MMU_* cmd */
    uint64_t val;               /* new PTE value                          */
};
typedef struct mmu_update mmu_update_t;
_Static_assert(sizeof(struct mmu_update) == 16, "mmu_update");

struct mmuext_op {
    uint32_t cmd;               /* MMUEXT_*                               */
    uint32_t _pad;
    union {
        xen_pfn_t mfn;          /* pin/unpin, baseptr, clear/copy, super  */
        uint64_t linear_addr;   /* invlpg, set_ldt                        */
    } arg1;
    union {
        uint32_t nr_ents;       /* set_ldt                                */
        uint64_t vcpumask;      /* *_MULTI: guest address of a bitmap     */
        xen_pfn_t src_mfn;      /* copy_page                              */
    } arg2;
};
typedef struct mmuext_op mmuext_op_t;
_Static_assert(sizeof(struct mmuext_op) == 24, "mmuext_op");
_Static_assert(offsetof(struct mmuext_op, arg1) == 8, "mmuext_op.arg1");
_Static_assert(offsetof(struct mmuext_op, arg2) == 16, "mmuext_op.arg2");

struct multicall_entry {
    xen_ulong_t op;             /* hypercall number                       */
    xen_ulong_t result;         /* OUT: the call's return value           */
    xen_ulong_t args[6];
};
typedef struct multicall_entry multicall_entry_t;
_Static_assert(sizeof(struct multicall_entry) == 64, "multicall_entry");
_Static_assert(offsetof(struct multicall_entry, args) == 16, "multicall.args");

/*
 * Per-vCPU time: version is odd while Xen updates the record. System time
 * now = system_time + (((tsc - tsc_timestamp) << tsc_shift) * mul >> 32),
 * with a negative tsc_shift meaning a right shift.
 */
struct vcpu_time_info {
    uint32_t version;
    uint32_t pad0;
    uint64_t tsc_timestamp;
    uint64_t system_time;       /* ns since boot                          */
    uint32_t tsc_to_system_mul;
    int8_t   tsc_shift;
#define XEN_PVCLOCK_TSC_STABLE_BIT (1 << 0)
#define XEN_PVCLOCK_GUEST_STOPPED  (1 << 1)
    uint8_t  flags;
    uint8_t  pad1[2];
};
typedef struct vcpu_time_info vcpu_time_info_t;
_Static_assert(sizeof(struct vcpu_time_info) == 32, "vcpu_time_info");
_Static_assert(offsetof(struct vcpu_time_info, system_time) == 16, "vti.st");
_Static_assert(offsetof(struct vcpu_time_info, tsc_shift) == 28, "vti.shift");

struct vcpu_info {
    uint8_t  evtchn_upcall_pending;  /* set by Xen, cleared by the guest  */
    uint8_t  evtchn_upcall_mask;     /* guest's "interrupts disabled"     */
    uint8_t  _pad[6];
    xen_ulong_t evtchn_pending_sel;  /* one bit per evtchn_pending word   */
    struct arch_vcpu_info arch;
    struct vcpu_time_info time;
};
typedef struct vcpu_info vcpu_info_t;
_Static_assert(sizeof(struct vcpu_info) == 64, "vcpu_info");
_Static_assert(offsetof(struct vcpu_info, evtchn_upcall_mask) == 1, "vi.mask");
_Static_assert(offsetof(struct vcpu_info, evtchn_pending_sel) == 8, "vi.sel");
_Static_assert(offsetof(struct vcpu_info, arch) == 16, "vi.arch");
_Static_assert(offsetof(struct vcpu_info, time) == 32, "vi.time");

struct shared_info {
    struct vcpu_info vcpu_info[XEN_LEGACY_MAX_VCPUS];
    xen_ulong_t evtchn_pending[64];  /* 2-level event channel bitmaps     */
    xen_ulong_t evtchn_mask[64];
    uint32_t wc_version;             /* wall clock, seqlock as above      */
    uint32_t wc_sec;
    uint32_t wc_nsec;
    uint32_t wc_sec_hi;
    struct arch_shared_info arch;
};
typedef struct shared_info shared_info_t;
_Static_assert(offsetof(struct shared_info, evtchn_pending) == 2048, "si.pend");
_Static_assert(offsetof(struct shared_info, evtchn_mask) == 2560, "si.mask");
_Static_assert(offsetof(struct shared_info, wc_version) == 3072, "si.wc");
_Static_assert(offsetof(struct shared_info, arch) == 3088, "si.arch");
_Static_assert(sizeof(struct shared_info) == 3136, "shared_info");

/*
 * Handed to a PV guest in %rsi at entry. Addresses are guest-virtual
 * unless named MFN / machine address.
 */
struct start_info {
    char     magic[32];              /* "xen-<version>-x86_64"            */
    uint64_t nr_pages;               /* pages allocated to the domain     */
    uint64_t shared_info;            /* machine address of shared_info    */
    uint32_t flags;                  /* SIF_*                             */
    uint32_t _pad0;
    xen_pfn_t store_mfn;             /* xenstore ring page                */
    uint32_t store_evtchn;
    uint32_t _pad1;
    union {
        struct {
            xen_pfn_t mfn;           /* console ring page                 */
            uint32_t evtchn;
            uint32_t _pad;
        } domU;
        struct {
            uint32_t info_off;       /* offset of dom0_vga_console_info   */
            uint32_t info_size;
        } dom0;
    } console;
    uint64_t pt_base;                /* virtual address of the L4 table   */
    uint64_t nr_pt_frames;
    uint64_t mfn_list;               /* virtual address of the p2m array  */
    uint64_t mod_start;              /* initrd: virtual address (or PFN)  */
    uint64_t mod_len;
    int8_t   cmd_line[MAX_GUEST_CMDLINE];
    uint64_t first_p2m_pfn;
    uint64_t nr_p2m_frames;
};
typedef struct start_info start_info_t;
_Static_assert(offsetof(struct start_info, nr_pages) == 32, "start_info.nr");
_Static_assert(offsetof(struct start_info, shared_info) == 40, "start_info.si");
_Static_assert(offsetof(struct start_info, flags) == 48, "start_info.flags");
_Static_assert(offsetof(struct start_info, store_mfn) == 56, "start_info.st");
_Static_assert(offsetof(struct start_info, store_evtchn) == 64, "start_info.se");
_Static_assert(offsetof(struct start_info, console) == 72, "start_info.con");
_Static_assert(offsetof(struct start_info, pt_base) == 88, "start_info.pt");
_Static_assert(offsetof(struct start_info, mfn_list) == 104, "start_info.p2m");
_Static_assert(offsetof(struct start_info, cmd_line) == 128, "start_info.cmd");
_Static_assert(offsetof(struct start_info, first_p2m_pfn) == 1152, "si.fp2m");
_Static_assert(sizeof(struct start_info) == 1168, "start_info");

/* Dom0's console description at start_info + console.dom0.info_off. */
struct dom0_vga_console_info {
    uint8_t video_type;
#define XEN_VGATYPE_TEXT_MODE_3  0x03
#define XEN_VGATYPE_VESA_LFB     0x23
#define XEN_VGATYPE_EFI_LFB      0x70
    uint8_t _pad;
    union {
        struct {
            uint16_t font_height;
            uint16_t cursor_x, cursor_y;
            uint16_t rows, columns;
        } text_mode_3;
        struct {
            uint16_t width, height;
            uint16_t bytes_per_line;
            uint16_t bits_per_pixel;
            uint32_t lfb_base;
            uint32_t lfb_size;       /* in 64 KiB units                   */
            uint8_t  red_pos, red_size;
            uint8_t  green_pos, green_size;
            uint8_t  blue_pos, blue_size;
            uint8_t  rsvd_pos, rsvd_size;
            uint32_t gbl_caps;
            uint16_t mode_attrs;
            uint16_t pad;
            uint32_t ext_lfb_base;
        } vesa_lfb;
    } u;
};
_Static_assert(offsetof(struct dom0_vga_console_info, u) == 4, "vga.u");

typedef uint8_t xen_domain_handle_t[16];

#endif /* !__ASSEMBLY__ */
#endif /* PVCORE_PUBLIC_XEN_H */
