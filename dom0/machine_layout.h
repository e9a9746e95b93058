/*
 * machine_layout.h - where the RAM file's bytes appear in the machine's
 * physical address space (QEMU 7.2, `-machine pc`, no max-ram-below-4g).
 *
 * QEMU's pc_init1 keeps all RAM below 4 GiB while it is smaller than
 * 0xe0000000 (3.5 GiB); from 3.5 GiB on it splits at 3 GiB (gigabyte
 * alignment) and maps the rest at 4 GiB, leaving the PCI hole between:
 *
 *   RAM file [0, low)        -> physical [0, low)
 *   RAM file [low, size)     -> physical [4 GiB, 4 GiB + size - low)
 *
 * (Checked against `info mtree` of QEMU 7.2: 3583 MiB -> all low;
 * 3584 MiB -> 3072 MiB low + 512 MiB at 4 GiB.) The legacy VGA/BIOS window
 * 0xa0000-0xfffff is RAM in the file but shadowed for the guest.
 */
#ifndef DOM0_MACHINE_LAYOUT_H
#define DOM0_MACHINE_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#define MACHINE_PCI_SPLIT_THRESHOLD 0xe0000000ull   /* RAM from here on is split */
#define MACHINE_LOWMEM_SPLIT        0xc0000000ull   /* low RAM when split */
#define MACHINE_HIGHMEM_BASE        0x100000000ull  /* where the rest appears */

struct machine_layout {
    uint64_t ram_size;          /* bytes in the RAM file */
    uint64_t below_4g;          /* bytes at physical 0 */
    uint64_t above_4g;          /* bytes at physical 4 GiB */
};

void machine_layout_init(struct machine_layout *l, uint64_t ram_size);

/* RAM-file offset of [paddr, paddr + len): 0 and *offset, or -ERANGE when
 * len is 0 or any byte is not RAM (a range may not straddle the hole). */
int machine_layout_offset(const struct machine_layout *l, uint64_t paddr, uint64_t len,
                          uint64_t *offset);

#endif
