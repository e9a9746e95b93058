/* Copying to and from guest virtual memory (arch/x86_64/usercopy.S).
 *
 * Hypercalls run on the calling vCPU's page tables, so a guest pointer is
 * an address in the current address space. Every access:
 *  - refuses ranges that wrap or touch the hypervisor's reserved L4 slots
 *    (a guest can never make the hypervisor read or write its own memory);
 *  - survives a fault: a page fault inside the copy is caught through the
 *    exception fixup table and turned into -EFAULT.
 * They return 0 or -EFAULT. */
#ifndef HV_GUEST_ACCESS_H
#define HV_GUEST_ACCESS_H

#include "asm/config.h"
#include "hv/errno.h"
#include "hv/types.h"

/* Raw copy with fault fixup: returns the number of bytes NOT copied. */
size_t copy_raw_with_fixup(void *dst, const void *src, size_t n);

static inline bool guest_range_ok(uint64_t va, size_t len)
{
    uint64_t end = va + len;
    if (end < va)
        return false;
    /* Non-canonical addresses fault with #GP, not #PF: refuse them here. */
    if (va < 0x0000800000000000UL && end > 0x0000800000000000UL)
        return false;
    if (va >= 0x0000800000000000UL && va < 0xffff800000000000UL)
        return false;
    return end <= HV_RESERVED_START || va >= HV_RESERVED_END;
}

static inline int copy_from_guest(void *dst, uint64_t guest_va, size_t len)
{
    if (!guest_range_ok(guest_va, len))
        return -EFAULT;
    return copy_raw_with_fixup(dst, (const void *)guest_va, len) ? -EFAULT : 0;
}

static inline int copy_to_guest(uint64_t guest_va, const void *src, size_t len)
{
    if (!guest_range_ok(guest_va, len))
        return -EFAULT;
    return copy_raw_with_fixup((void *)guest_va, src, len) ? -EFAULT : 0;
}

/* Exception fixups: if a fault hits at `insn`, resume at `fixup`. */
struct extable_entry {
    uint64_t insn, fixup;
};
/* Returns the fixup address for a faulting RIP, or 0. */
uint64_t search_extable(uint64_t rip);

#endif
