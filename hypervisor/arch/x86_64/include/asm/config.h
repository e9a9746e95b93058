/* The hypervisor's virtual memory layout and fixed sizes. Usable from C,
 * assembly and the linker script.
 *
 * The hypervisor lives in the L4 slots Xen reserves on x86-64
 * (0xffff800000000000 - 0xffff87ffffffffff, slots 256-271), so guest
 * kernels built for Xen fit around it:
 *   slot 256      0xffff800000000000  read-only machine-to-phys table (guests)
 *   slot 261      0xffff82c000000000  ioremap window (uncached MMIO)
 *                 0xffff82d080000000  hypervisor image (loaded at 2 MiB)
 *   slots 262-271 0xffff830000000000  direct map of all RAM (5 TiB)
 */
#ifndef ASM_CONFIG_H
#define ASM_CONFIG_H

#ifdef __ASSEMBLER__
#define _UL(x) x
#else
#define _UL(x) x##UL
#endif

#define HV_RESERVED_START   _UL(0xffff800000000000)
#define HV_RESERVED_END     _UL(0xffff880000000000)
#define HV_FIRST_L4_SLOT    256
#define HV_LAST_L4_SLOT     271

#define RO_MPT_VIRT_START   _UL(0xffff800000000000)
#define RO_MPT_VIRT_END     _UL(0xffff808000000000)
#define IOREMAP_VIRT_START  _UL(0xffff82c000000000)
#define IOREMAP_VIRT_END    _UL(0xffff82c040000000)
#define HV_VIRT_BASE        _UL(0xffff82d080000000)
#define HV_LOAD_PHYS        _UL(0x200000)
#define DIRECTMAP_START     _UL(0xffff830000000000)
#define DIRECTMAP_END       _UL(0xffff880000000000)

#define NR_CPUS             8
/* Per-CPU stack block: pages 0-2 are IST stacks (#DF, NMI, #MC), page 3 is
 * unused, pages 4-7 the primary stack with struct cpu_info at its top.
 * The block is aligned to its size so the top is found from %rsp. */
#define STACK_ORDER         3
#define STACK_SIZE          (4096 << STACK_ORDER)
#define IST_STACK_SIZE      4096
/* Bytes at the top of a primary stack kept for struct cpu_info. */
#define CPU_INFO_RESERVE    256

/* Selectors, as Xen lays out its reserved GDT entries from 0xe000 on. */
#define HV_GDT_FIRST_ENTRY  0x1c00
#define HV_GDT_ENTRIES      0x1c10
#define HV_CS64             0xe008
#define HV_DS               0xe010
#define RING3_CS32          0xe023
#define RING3_DS            0xe02b
#define RING3_CS64          0xe033
#define HV_TSS_SEL          0xe040
#define HV_LDT_SEL          0xe050

/* `int $0x82` from guest kernel mode is a hypercall, like SYSCALL. */
#define HYPERCALL_VECTOR    0x82

/* Where the AP start-up code is copied (a page below 1 MiB). */
#define TRAMPOLINE_PHYS     0x7000

#endif
