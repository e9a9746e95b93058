/* Memory management: boot memory layout, the hypervisor's page tables and
 * the machine frame allocator (mm/frame.c, arch/x86_64/paging.c). */
#ifndef HV_MM_H
#define HV_MM_H

#include "hv/page.h"

extern struct page_info *frame_table;   /* indexed by mfn, max_mfn entries */
extern uint64_t max_mfn;

/* Set up everything above from boot_info: reserve the image, modules and
 * low memory, build the final page tables, the frame table and the heap. */
void mm_init(void);

/* Machine frames (2^order contiguous). Returns the first mfn or -ENOMEM. */
int64_t alloc_frames(unsigned int order);
/* Give back a block from alloc_frames; a mismatched free is a hypervisor bug. */
void free_frames(mfn_t mfn, unsigned int order);
/* One frame that is all zero: one scrubbed when it was freed if there is
 * one at hand, otherwise zeroed now. Returns its mfn or -ENOMEM. */
int64_t alloc_zeroed_frame(void);
/* Zero a frame a domain (or anyone) may have written and give it back as
 * scrubbed: the next alloc_zeroed_frame of it costs no scrub. Frames a
 * guest owned are freed this way, so the scrub is paid at teardown (or
 * balloon-out), off the path of the next domain's creation. */
void free_frame_scrubbed(mfn_t mfn);
/* One zeroed page for hypervisor use, as a direct-map pointer, or NULL. */
void *alloc_hv_page(void);
void free_hv_page(void *va);
uint64_t frames_free(void);        /* free frames in the heap */
uint64_t frames_managed(void);     /* frames the heap was given at boot */
uint64_t ram_total_bytes(void);    /* usable RAM reported by the loader */
/* Free blocks of one order, for the allocator self-test. */
uint64_t frames_free_blocks(unsigned int order);

/* --- arch/x86_64/paging.c --- */
/* Build and load the final page tables. pt_alloc returns zeroed pages
 * (direct-map pointers) for page tables while the heap does not exist. */
void paging_init(void *(*pt_alloc)(void));
/* Switch page-table allocation to the heap once it exists. */
void paging_set_table_allocator(void *(*pt_alloc)(void));
/* Map MMIO uncached into the ioremap window; panics if the window is full. */
void *ioremap(paddr_t pa, size_t size);
/* The hypervisor's own top-level page table (slots 256-271 are shared with
 * every guest L4). */
uint64_t *idle_l4(void);
bool cpu_has_nx(void);

#endif
