/* Buddy allocator over a frame table (mm/buddy.c). Not locked: the caller
 * serializes (the heap lock in mm/frame.c); host unit tests call it directly. */
#ifndef HV_BUDDY_H
#define HV_BUDDY_H

#include "hv/page.h"

#define BUDDY_MAX_ORDER 20          /* largest block: 2^20 frames = 4 GiB */

struct buddy {
    struct page_info *frames;       /* frame table, indexed by mfn */
    uint64_t nr_frames;             /* entries in frames[] */
    struct list_head free_list[BUDDY_MAX_ORDER + 1];
    uint64_t nr_free;               /* free frames */
    uint64_t nr_managed;            /* frames ever added with buddy_add_range */
};

void buddy_init(struct buddy *b, struct page_info *frames, uint64_t nr_frames);
/* Hand frames [start, end) to the allocator. Frames must be in the table and
 * not already managed; returns -EINVAL otherwise (and adds nothing). */
int buddy_add_range(struct buddy *b, mfn_t start, mfn_t end);
/* Allocate 2^order contiguous, naturally aligned frames: the first mfn, or
 * -ENOMEM when no block is large enough, -EINVAL for a bad order. */
int64_t buddy_alloc(struct buddy *b, unsigned int order);
/* Return a block from buddy_alloc. -EINVAL for anything that is not exactly
 * an allocated block of that order (double free, wrong order, bad mfn). */
int buddy_free(struct buddy *b, mfn_t mfn, unsigned int order);
/* Free blocks of exactly this order (statistics and tests). */
uint64_t buddy_count_free_blocks(const struct buddy *b, unsigned int order);

#endif
