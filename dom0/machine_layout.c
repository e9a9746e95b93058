/*
 * machine_layout.c - physical address -> RAM file offset for QEMU's pc
 * machine (see machine_layout.h for the rule and where it comes from).
 * Pure arithmetic; every range check is overflow-safe.
 */
#include "machine_layout.h"

#include <errno.h>

void machine_layout_init(struct machine_layout *l, uint64_t ram_size)
{
    l->ram_size = ram_size;
    if (ram_size >= MACHINE_PCI_SPLIT_THRESHOLD) {
        l->below_4g = MACHINE_LOWMEM_SPLIT;
        l->above_4g = ram_size - MACHINE_LOWMEM_SPLIT;
    } else {
        l->below_4g = ram_size;
        l->above_4g = 0;
    }
}

/* Is [start, start + len) inside [base, base + size)? (len > 0) */
static int range_within(uint64_t start, uint64_t len, uint64_t base, uint64_t size)
{
    return start >= base && start - base <= size && len <= size - (start - base);
}

int machine_layout_offset(const struct machine_layout *l, uint64_t paddr, uint64_t len,
                          uint64_t *offset)
{
    if (len == 0)
        return -ERANGE;
    if (range_within(paddr, len, 0, l->below_4g)) {
        *offset = paddr;
        return 0;
    }
    if (l->above_4g && range_within(paddr, len, MACHINE_HIGHMEM_BASE, l->above_4g)) {
        *offset = l->below_4g + (paddr - MACHINE_HIGHMEM_BASE);
        return 0;
    }
    return -ERANGE;
}
