/* Copying to and from guest virtual memory (arch/x86_64/usercopy.S).
 *
 * Hypercalls run on the calling vCPU's page tables, so a guest pointer is
 * an address in the current address space. Every access:
 *  - refuses ranges that wrap or touch the hypervisor's reserved L4 slots
 *    (a guest can never make the hypervisor read or write its own memory);
 *  - survives a fault: a page fault inside the copy is caught through the
 *    exception fixup table and turned into -EFAULT.
 * They return 0 or -EFAULT. guest_store_u64/guest_load are the same
 * guarded access for one word (or less), the range checked by the caller. */
#ifndef HV_GUEST_ACCESS_H
#define HV_GUEST_ACCESS_H

#include "asm/config.h"
#include "hv/errno.h"
#include "hv/types.h"

/* Raw copy with fault fixup: returns the number of bytes NOT copied. */
size_t copy_raw_with_fixup(void *dst, const void *src, size_t n);

static __force_inline bool guest_range_ok(uint64_t va, size_t len)
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

/* One 8-byte access to guest memory as a single guarded mov, for the hot
 * paths (the bounce frame, the iret hypercall's frame): under QEMU TCG a
 * call of copy_raw_with_fixup and its rep movs iterations cost several
 * times as much. The caller has checked the range with guest_range_ok();
 * a fault resumes at the C label `fault` (the .extable entry names it),
 * with every register as it was at the mov. */
#if __STDC_HOSTED__
/* Host unit tests and fuzzers fake copy_raw_with_fixup (and its faults). */
#define guest_store_u64(addr, val, fault)                                        \
    do {                                                                         \
        uint64_t guest_store_val_ = (val);                                       \
        if (copy_raw_with_fixup((void *)(addr), &guest_store_val_, 8))           \
            goto fault;                                                          \
    } while (0)
#define guest_load(var, addr, fault)                                             \
    do {                                                                         \
        if (copy_raw_with_fixup(&(var), (const void *)(addr), sizeof(var)))      \
            goto fault;                                                          \
    } while (0)
#else
#define GUEST_EXTABLE_ENTRY(insn, fixup) \
    ".pushsection .extable, \"a\"\n\t.balign 8\n\t.quad " insn ", " fixup "\n\t.popsection\n\t"
#define guest_store_u64(addr, val, fault)                                        \
    __asm__ goto("1: movq %1, %0\n\t" GUEST_EXTABLE_ENTRY("1b", "%l[" #fault "]") \
                 : : "m"(*(volatile uint64_t *)(addr)), "r"((uint64_t)(val))       \
                 : "memory" : fault)
/* var: an integer variable of 1, 2, 4 or 8 bytes, read at its size. */
#define guest_load(var, addr, fault)                                             \
    __asm__ goto("1: mov %1, %0\n\t" GUEST_EXTABLE_ENTRY("1b", "%l[" #fault "]")  \
                 : "=r"(var) : "m"(*(const volatile __typeof__(var) *)(addr)) : : fault)
#endif

/* Exception fixups: if a fault hits at `insn`, resume at `fixup`. */
struct extable_entry {
    uint64_t insn, fixup;
};
/* Returns the fixup address for a faulting RIP, or 0. */
uint64_t search_extable(uint64_t rip);

#endif
