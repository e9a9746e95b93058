/* The frame table: one struct page_info per machine frame.
 *
 * Every frame of RAM the hypervisor manages has an entry. While a frame is
 * free it belongs to the buddy allocator (list links it into a free list,
 * PGF_FREE marks the head of a free block, order its size). While it is
 * allocated, list links it into its owner's page list and owner/type/counts
 * describe its use (the page-type rules of the memory subsystem).
 * frame_table[] is indexed by machine frame number. */
#ifndef HV_PAGE_H
#define HV_PAGE_H

#include "hv/list.h"
#include "hv/types.h"

#define PGF_FREE        (1u << 0)   /* head of a free buddy block */
#define PGF_ALLOC_HEAD  (1u << 1)   /* head of an allocated block of `order` */
#define PGF_RESERVED    (1u << 2)   /* never handed to the allocator */
#define PGF_MANAGED     (1u << 3)   /* handed to the allocator once */

#define PGF_ALLOCATED   (1u << 4)   /* owner holds its allocation reference */
#define PGF_SCRUBBED    (1u << 5)   /* free and all zero since its last owner
                                     * (mm/frame.c); cleared when allocated */

#define OWNER_NONE      0xffffu     /* free frame */
#define OWNER_HV        0x7ff2u     /* the hypervisor (DOMID_XEN) */

struct page_info {
    struct list_head list;
    uint32_t flags;         /* PGF_* */
    uint32_t order;         /* block order, valid with PGF_FREE/PGF_ALLOC_HEAD */
    uint64_t type_info;     /* PGT_* type, flags and type reference count */
    uint32_t count;         /* general references (PGF_ALLOCATED holds one) */
    uint16_t owner;         /* owning domain id, OWNER_NONE when free */
    int16_t linear_count;   /* page tables: linear entries it holds (> 0)
                             * or that map it (< 0), arch/x86_64/mm_linear.c */
};

#endif
