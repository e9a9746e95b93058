/* Machine memory at boot, the frame table and the heap.
 *
 * Owns: the list of reserved physical ranges, the early boot pool (frame
 * table and the first page tables, carved from RAM below 4 GiB that the
 * boot page tables already map), frame_table[], and the buddy heap with
 * its lock.
 * Invariants: a frame is in the heap iff it is usable RAM (multiboot2 type
 * 1) outside every reserved range; reserved frames carry PGF_RESERVED and
 * owner OWNER_HV. A free frame with PGF_SCRUBBED is all zero: only
 * free_frame_scrubbed sets it, after zeroing the frame; every allocation
 * clears it on the frames it hands out and free_frames clears it (its
 * caller may have written them); the buddy allocator leaves it alone when
 * it splits and merges blocks. So alloc_zeroed_frame may trust it and
 * skip the scrub: guest frames are scrubbed when they are freed (domain
 * teardown, balloon-out), as Xen does, off the path of the next domain's
 * creation, and no guest ever reads what another left in a frame (the
 * debug build checks each trusted frame is zero). Boot memory starts
 * unscrubbed and is zeroed at its first allocation. Domain 0 reaches RAM
 * directly (rings): it must stop writing a domain's frames before it
 * destroys the domain, as pvd does (hv_destroy_entry closes the backends
 * first); a late write is what the debug check would catch.
 * Locking: heap_lock (irq-safe, a leaf lock) around every buddy call. */
#include "asm/page.h"
#include "hv/bootinfo.h"
#include "hv/buddy.h"
#include "hv/errno.h"
#include "hv/lib.h"
#include "hv/mm.h"
#include "hv/printk.h"
#include "hv/spinlock.h"

struct page_info *frame_table;
uint64_t max_mfn;

static struct buddy heap;
static spinlock_t heap_lock = SPINLOCK_INIT;
static uint64_t ram_bytes;

#define MAX_RESERVED 48
struct phys_range {
    paddr_t start, end;      /* [start, end), page aligned */
    const char *what;
};
static struct phys_range reserved[MAX_RESERVED];
static unsigned int nr_reserved;

static paddr_t pool_start, pool_next, pool_end;

static void reserve(paddr_t start, paddr_t end, const char *what)
{
    if (nr_reserved == MAX_RESERVED)
        panic("mm: more than %u reserved ranges", MAX_RESERVED);
    reserved[nr_reserved++] = (struct phys_range){
        ALIGN_DOWN(start, PAGE_SIZE), ALIGN_UP(end, PAGE_SIZE), what };
    pr_debug("mm: reserved %#lx-%#lx %s", start, end, what);
}

/* First reserved range overlapping [s, e), or NULL. */
static const struct phys_range *overlap(paddr_t s, paddr_t e)
{
    const struct phys_range *best = NULL;
    for (unsigned int i = 0; i < nr_reserved; i++) {
        const struct phys_range *r = &reserved[i];
        if (r->start < e && s < r->end && (!best || r->start < best->start))
            best = r;
    }
    return best;
}

static const char *mem_type_name(uint32_t t)
{
    switch (t) {
    case MEM_RAM: return "usable";
    case MEM_RESERVED: return "reserved";
    case MEM_ACPI: return "ACPI data";
    case MEM_NVS: return "ACPI NVS";
    case MEM_BAD: return "bad";
    default: return "other";
    }
}

static void scan_memory_map(void)
{
    paddr_t top = 0;
    unsigned int nr_ram = 0;

    if (!boot_info.nr_mmap)
        panic("mm: the boot loader gave no memory map");
    pr_info("memory map (from %s):", boot_info.loader[0] ? boot_info.loader : "the loader");
    for (unsigned int i = 0; i < boot_info.nr_mmap; i++) {
        const struct mem_range *r = &boot_info.mmap[i];
        pr_info("  %016lx-%016lx %s", r->start, r->start + r->len, mem_type_name(r->type));
        if (r->type != MEM_RAM)
            continue;
        ram_bytes += r->len;
        nr_ram++;
        top = MAX(top, r->start + r->len);
    }
    max_mfn = top >> PAGE_SHIFT;
    pr_info("memory: %lu KiB (%lu MiB) usable RAM in %u ranges, highest address %#lx",
            ram_bytes >> 10, ram_bytes >> 20, nr_ram, top);
}

/* Find `size` bytes of RAM below 4 GiB, clear of reserved ranges, as high
 * as possible (low memory stays free for things that need it). */
static paddr_t find_pool(uint64_t size)
{
    paddr_t best = 0;

    for (unsigned int i = 0; i < boot_info.nr_mmap; i++) {
        const struct mem_range *r = &boot_info.mmap[i];
        if (r->type != MEM_RAM)
            continue;
        paddr_t lo = ALIGN_UP(r->start, PAGE_SIZE);
        paddr_t hi = ALIGN_DOWN(MIN(r->start + r->len, GiB(4)), PAGE_SIZE);
        while (hi >= lo + size) {
            const struct phys_range *o = overlap(hi - size, hi);
            if (!o) {
                best = MAX(best, hi - size);
                break;
            }
            hi = ALIGN_DOWN(o->start, PAGE_SIZE);
        }
    }
    return best;
}

static void *pool_alloc_page(void)
{
    if (pool_next + PAGE_SIZE > pool_end)
        return NULL;
    void *p = __va(pool_next);
    pool_next += PAGE_SIZE;
    memset(p, 0, PAGE_SIZE);
    return p;
}

/* Add [s, e) minus reserved ranges to the heap. */
static void heap_add(paddr_t s, paddr_t e)
{
    s = ALIGN_UP(s, PAGE_SIZE);
    e = ALIGN_DOWN(e, PAGE_SIZE);
    while (s < e) {
        const struct phys_range *o = overlap(s, e);
        paddr_t piece_end = o ? MAX(o->start, s) : e;
        if (piece_end > s && buddy_add_range(&heap, s >> PAGE_SHIFT, piece_end >> PAGE_SHIFT))
            panic("mm: cannot add %#lx-%#lx to the heap", s, piece_end);
        if (!o)
            break;
        s = MAX(s, o->end);
    }
}

void mm_init(void)
{
    scan_memory_map();

    reserve(0, MiB(1), "low memory (BIOS, real-mode structures)");
    reserve(__pa(_start), __pa(_end), "hypervisor image");
    for (unsigned int i = 0; i < boot_info.nr_modules; i++)
        reserve(boot_info.modules[i].start, boot_info.modules[i].end, "boot module");

    /* Frame table plus page tables for the direct map and the image. */
    uint64_t ft_bytes = ALIGN_UP(max_mfn * sizeof(struct page_info), PAGE_SIZE);
    uint64_t pt_pages = (max_mfn >> (30 - PAGE_SHIFT)) + 1 + 16 + 8;
    uint64_t pool_size = ft_bytes + pt_pages * PAGE_SIZE;
    pool_start = find_pool(pool_size);
    if (!pool_start)
        panic("mm: no %lu KiB of RAM below 4 GiB for the frame table", pool_size >> 10);
    pool_next = pool_start + ft_bytes;
    pool_end = pool_start + pool_size;
    reserve(pool_start, pool_end, "boot pool (frame table, page tables)");

    paging_init(pool_alloc_page);

    frame_table = __va(pool_start);
    memset(frame_table, 0, ft_bytes);
    for (uint64_t m = 0; m < max_mfn; m++)
        frame_table[m].owner = OWNER_HV;

    /* Give back the unused tail of the pool, then build the heap. */
    reserved[nr_reserved - 1].end = ALIGN_UP(pool_next, PAGE_SIZE);
    for (unsigned int i = 0; i < nr_reserved; i++)
        for (paddr_t p = reserved[i].start; p < reserved[i].end && (p >> PAGE_SHIFT) < max_mfn;
             p += PAGE_SIZE)
            frame_table[p >> PAGE_SHIFT].flags |= PGF_RESERVED;

    buddy_init(&heap, frame_table, max_mfn);
    for (unsigned int i = 0; i < boot_info.nr_mmap; i++)
        if (boot_info.mmap[i].type == MEM_RAM)
            heap_add(boot_info.mmap[i].start, boot_info.mmap[i].start + boot_info.mmap[i].len);
    paging_set_table_allocator(alloc_hv_page);

    pr_info("mm: frame table %lu KiB for %lu frames; heap %lu KiB free, %lu KiB reserved",
            ft_bytes >> 10, max_mfn, heap.nr_free << 2,
            (ram_bytes >> 10) - (heap.nr_managed << 2));
}

/* Clear PGF_SCRUBBED on the 2^order frames from mfn: whoever has them
 * now may write them. heap_lock held. */
static void unmark_scrubbed(mfn_t mfn, unsigned int order)
{
    for (uint64_t i = 0; i < (1ULL << order); i++)
        frame_table[mfn + i].flags &= ~PGF_SCRUBBED;
}

int64_t alloc_frames(unsigned int order)
{
    uint64_t f = spin_lock_irqsave(&heap_lock);
    int64_t mfn = buddy_alloc(&heap, order);
    if (mfn >= 0)
        unmark_scrubbed((mfn_t)mfn, order);
    spin_unlock_irqrestore(&heap_lock, f);
    return mfn;
}

#ifdef HV_DEBUG
static bool frame_is_zero(mfn_t mfn)
{
    const uint64_t *p = mfn_to_virt(mfn);
    for (unsigned int i = 0; i < PAGE_SIZE / sizeof(*p); i++)
        if (p[i])
            return false;
    return true;
}
#endif

int64_t alloc_zeroed_frame(void)
{
    uint64_t f = spin_lock_irqsave(&heap_lock);
    int64_t mfn = buddy_alloc(&heap, 0);
    bool scrubbed = false;
    if (mfn >= 0) {
        scrubbed = frame_table[mfn].flags & PGF_SCRUBBED;
        unmark_scrubbed((mfn_t)mfn, 0);
    }
    spin_unlock_irqrestore(&heap_lock, f);
    if (mfn < 0)
        return mfn;
    if (!scrubbed)
        memset(mfn_to_virt((mfn_t)mfn), 0, PAGE_SIZE);
#ifdef HV_DEBUG
    else if (!frame_is_zero((mfn_t)mfn))
        panic("mm: mfn %#lx was written after it was scrubbed and freed", mfn);
#endif
    return mfn;
}

void free_frame_scrubbed(mfn_t mfn)
{
    if (mfn < max_mfn)
        memset(mfn_to_virt(mfn), 0, PAGE_SIZE);
    uint64_t f = spin_lock_irqsave(&heap_lock);
    int rc = buddy_free(&heap, mfn, 0);
    if (!rc)
        frame_table[mfn].flags |= PGF_SCRUBBED;
    spin_unlock_irqrestore(&heap_lock, f);
    if (rc)
        panic("mm: free of mfn %#lx order 0 does not match an allocation", mfn);
}

/* The debug build fills every freed frame with this: a use after free
 * reads pointers into the non-canonical hole (a #GP) and counts far from
 * any limit, instead of what was there before. */
#define FREE_POISON 0xa5

void free_frames(mfn_t mfn, unsigned int order)
{
#ifdef HV_DEBUG
    if (mfn < max_mfn)
        memset(mfn_to_virt(mfn), FREE_POISON, PAGE_SIZE << order);
#endif
    uint64_t f = spin_lock_irqsave(&heap_lock);
    int rc = buddy_free(&heap, mfn, order);
    if (!rc)
        unmark_scrubbed(mfn, order);
    spin_unlock_irqrestore(&heap_lock, f);
    if (rc)
        panic("mm: free of mfn %#lx order %u does not match an allocation", mfn, order);
}

void *alloc_hv_page(void)
{
    int64_t mfn = alloc_zeroed_frame();
    return mfn < 0 ? NULL : mfn_to_virt((mfn_t)mfn);
}

void free_hv_page(void *va)
{
    free_frames(virt_to_mfn(va), 0);
}

uint64_t frames_free(void)
{
    return heap.nr_free;
}

uint64_t frames_managed(void)
{
    return heap.nr_managed;
}

uint64_t ram_total_bytes(void)
{
    return ram_bytes;
}

uint64_t frames_free_blocks(unsigned int order)
{
    uint64_t f = spin_lock_irqsave(&heap_lock);
    uint64_t n = buddy_count_free_blocks(&heap, order);
    spin_unlock_irqrestore(&heap_lock, f);
    return n;
}
