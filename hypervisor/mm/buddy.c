/* Buddy allocator for machine frames.
 *
 * Owns: the free lists of `struct buddy` and the PGF_FREE/PGF_ALLOC_HEAD
 * flags and `order` of the frame-table entries it manages.
 *
 * Invariants:
 *  - a free block of order k starts at an mfn aligned to 2^k, its head frame
 *    has PGF_FREE set and order == k, and it is on free_list[k]; the other
 *    frames of the block carry no flag;
 *  - two free buddies of the same order never coexist: freeing merges them;
 *  - an allocated block's head has PGF_ALLOC_HEAD and its order, so a free
 *    that does not match an allocation exactly is refused;
 *  - nr_free is the sum of the sizes of all free blocks.
 *
 * Locking: none here; mm/frame.c holds the heap lock around every call.
 * The code is plain C with no hypervisor dependencies so that tests/unit can
 * compile it on the host.
 */
#include "hv/buddy.h"
#include "hv/errno.h"

#define PGF_BLOCK_HEAD_MASK (PGF_FREE | PGF_ALLOC_HEAD)

void buddy_init(struct buddy *b, struct page_info *frames, uint64_t nr_frames)
{
    b->frames = frames;
    b->nr_frames = nr_frames;
    b->nr_free = 0;
    b->nr_managed = 0;
    for (unsigned int i = 0; i <= BUDDY_MAX_ORDER; i++)
        list_init(&b->free_list[i]);
}

static void push_free_block(struct buddy *b, mfn_t mfn, unsigned int order)
{
    struct page_info *pg = &b->frames[mfn];

    pg->flags = (pg->flags & ~PGF_BLOCK_HEAD_MASK) | PGF_FREE;
    pg->order = order;
    pg->owner = OWNER_NONE;
    list_add(&pg->list, &b->free_list[order]);
}

static void pop_free_block(struct buddy *b, mfn_t mfn)
{
    struct page_info *pg = &b->frames[mfn];

    list_del(&pg->list);
    pg->flags &= ~PGF_FREE;
}

/* Put a block back, merging with its buddy as long as the buddy is free. */
static void free_block(struct buddy *b, mfn_t mfn, unsigned int order)
{
    b->nr_free += 1ULL << order;
    while (order < BUDDY_MAX_ORDER) {
        mfn_t buddy = mfn ^ (1ULL << order);
        if (buddy >= b->nr_frames)
            break;
        struct page_info *bp = &b->frames[buddy];
        if (!(bp->flags & PGF_FREE) || bp->order != order)
            break;
        pop_free_block(b, buddy);
        mfn &= ~(1ULL << order);
        order++;
    }
    push_free_block(b, mfn, order);
}

int buddy_add_range(struct buddy *b, mfn_t start, mfn_t end)
{
    if (start > end || end > b->nr_frames)
        return -EINVAL;
    for (mfn_t m = start; m < end; m++)
        if (b->frames[m].flags & (PGF_MANAGED | PGF_RESERVED))
            return -EINVAL;
    for (mfn_t m = start; m < end; m++)
        b->frames[m].flags |= PGF_MANAGED;

    mfn_t mfn = start;
    while (mfn < end) {
        unsigned int order = 0;
        /* Largest naturally aligned block that starts here and fits. */
        while (order < BUDDY_MAX_ORDER &&
               !(mfn & ((2ULL << order) - 1)) &&
               mfn + (2ULL << order) <= end)
            order++;
        free_block(b, mfn, order);
        b->nr_managed += 1ULL << order;
        mfn += 1ULL << order;
    }
    return 0;
}

int64_t buddy_alloc(struct buddy *b, unsigned int order)
{
    if (order > BUDDY_MAX_ORDER)
        return -EINVAL;

    unsigned int k = order;
    while (k <= BUDDY_MAX_ORDER && list_empty(&b->free_list[k]))
        k++;
    if (k > BUDDY_MAX_ORDER)
        return -ENOMEM;

    struct page_info *pg = list_entry(b->free_list[k].next, struct page_info, list);
    mfn_t mfn = (mfn_t)(pg - b->frames);
    pop_free_block(b, mfn);

    /* Split: keep the lower half, give back the upper halves. */
    while (k > order) {
        k--;
        push_free_block(b, mfn + (1ULL << k), k);
    }

    pg->flags |= PGF_ALLOC_HEAD;
    pg->order = order;
    b->nr_free -= 1ULL << order;
    return (int64_t)mfn;
}

int buddy_free(struct buddy *b, mfn_t mfn, unsigned int order)
{
    if (order > BUDDY_MAX_ORDER || mfn >= b->nr_frames ||
        (mfn & ((1ULL << order) - 1)))
        return -EINVAL;

    struct page_info *pg = &b->frames[mfn];
    if (!(pg->flags & PGF_ALLOC_HEAD) || pg->order != order)
        return -EINVAL;

    pg->flags &= ~PGF_ALLOC_HEAD;
    free_block(b, mfn, order);
    return 0;
}

uint64_t buddy_count_free_blocks(const struct buddy *b, unsigned int order)
{
    uint64_t n = 0;
    const struct list_head *pos;

    if (order > BUDDY_MAX_ORDER)
        return 0;
    list_for_each(pos, &b->free_list[order])
        n++;
    return n;
}
