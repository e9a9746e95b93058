/*
 * pvcore public ABI: the XENFEAT_* features pvcore provides to a 64-bit
 * PV guest. The one list of them, for XENVER_get_features
 * (hypervisor/common/version.c) and for the builder's check of the
 * features a kernel requires ('!name' in its XEN_ELFNOTE_FEATURES).
 *
 * PVCORE_FEATURES(X) expands X(name, when) once per feature provided:
 * XENFEAT_##name is its bit (public/features.h), #name its word in the
 * FEATURES note, and `when` says when XENVER_get_features reports it, as
 * Xen 4.17 does for a 64-bit PV domU:
 *   PVCORE_FEAT_ALWAYS        always;
 *   PVCORE_FEAT_WITH_EXTCR3   while the domain has VMASST_TYPE_pae_extended_cr3;
 *   PVCORE_FEAT_NOT_REPORTED  never: provided by other means (Xen reports
 *                             writable_page_tables only to translated guests;
 *                             a PV guest has it through the vm_assist).
 * A kernel may require any feature listed; one not listed is not provided.
 * Xen 4.17 also reports memory_op_vnode_supported, whose XENMEM_get_vnumainfo
 * pvcore does not implement, and dom0 to its hardware domain, which no
 * pvcore guest is.
 */
#ifndef PVCORE_PUBLIC_PVCORE_FEATURES_H
#define PVCORE_PUBLIC_PVCORE_FEATURES_H

#include "features.h"

#define PVCORE_FEAT_ALWAYS        0
#define PVCORE_FEAT_WITH_EXTCR3   1
#define PVCORE_FEAT_NOT_REPORTED  2

#define PVCORE_FEATURES(X)                                                    \
    /* direct writes to L1 tables (arch/x86_64/pv/ptwr.c) */                   \
    X(writable_page_tables,      PVCORE_FEAT_NOT_REPORTED)                    \
    /* any frame may be a page directory (64-bit: nothing to restrict) */      \
    X(pae_pgdir_above_4gb,       PVCORE_FEAT_WITH_EXTCR3)                     \
    /* MMU_PT_UPDATE_PRESERVE_AD (pv/mmu.c) */                                 \
    X(mmu_pt_update_preserve_ad, PVCORE_FEAT_ALWAYS)                          \
    /* MMUEXT_CLEAR_PAGE and MMUEXT_COPY_PAGE (pv/mmu.c) */                    \
    X(highmem_assist,            PVCORE_FEAT_ALWAYS)                          \
    /* GNTMAP_guest_avail0.. flags land in PTE bits 9-11 (common/grant_table.c) */ \
    X(gnttab_map_avail_bits,     PVCORE_FEAT_ALWAYS)

/* For a list of the note words: { PVCORE_FEATURES(PVCORE_FEATURE_NAME) }. */
#define PVCORE_FEATURE_NAME(name, when) #name,

#endif /* PVCORE_PUBLIC_PVCORE_FEATURES_H */
