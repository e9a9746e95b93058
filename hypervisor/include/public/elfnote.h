/*
 * pvcore public ABI: Xen ELF notes in a PV kernel image.
 *
 * Owns: XEN_ELFNOTE_* note types. Notes live in a PT_NOTE segment with
 * name "Xen"; numeric notes are 4 or 8 bytes, string notes are ASCIZ.
 * Constants only: usable from C and assembly.
 */
#ifndef PVCORE_PUBLIC_ELFNOTE_H
#define PVCORE_PUBLIC_ELFNOTE_H

#define XEN_ELFNOTE_INFO                0   /* NAME=VALUE (string)         */
#define XEN_ELFNOTE_ENTRY               1   /* entry point VA              */
#define XEN_ELFNOTE_HYPERCALL_PAGE      2   /* hypercall page VA           */
#define XEN_ELFNOTE_VIRT_BASE           3   /* VA the image is mapped at   */
#define XEN_ELFNOTE_PADDR_OFFSET        4   /* p_paddr bias                */
#define XEN_ELFNOTE_XEN_VERSION         5   /* e.g. "xen-3.0"              */
#define XEN_ELFNOTE_GUEST_OS            6
#define XEN_ELFNOTE_GUEST_VERSION       7
#define XEN_ELFNOTE_LOADER              8   /* "generic"                   */
#define XEN_ELFNOTE_PAE_MODE            9   /* "yes" (x86_32 meaning)      */
#define XEN_ELFNOTE_FEATURES           10   /* "feat|!required_feat"       */
#define XEN_ELFNOTE_BSD_SYMTAB         11
#define XEN_ELFNOTE_HV_START_LOW       12
#define XEN_ELFNOTE_L1_MFN_VALID       13
#define XEN_ELFNOTE_SUSPEND_CANCEL     14
#define XEN_ELFNOTE_INIT_P2M           15
#define XEN_ELFNOTE_MOD_START_PFN      16
#define XEN_ELFNOTE_SUPPORTED_FEATURES 17   /* bitmap of XENFEAT_*         */
#define XEN_ELFNOTE_PHYS32_ENTRY       18   /* PVH entry (unused by PV)    */
#define XEN_ELFNOTE_MAX                XEN_ELFNOTE_PHYS32_ENTRY

#define XEN_ELFNOTE_CRASH_INFO          0x1000001
#define XEN_ELFNOTE_CRASH_REGS          0x1000002
#define XEN_ELFNOTE_DUMPCORE_NONE       0x2000000
#define XEN_ELFNOTE_DUMPCORE_HEADER     0x2000001
#define XEN_ELFNOTE_DUMPCORE_XEN_VERSION 0x2000002
#define XEN_ELFNOTE_DUMPCORE_FORMAT_VERSION 0x2000003

#endif /* PVCORE_PUBLIC_ELFNOTE_H */
