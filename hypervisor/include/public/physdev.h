/*
 * pvcore public ABI: physical device operations (HYPERVISOR_physdev_op).
 *
 * Owns: the PHYSDEVOP_* commands a PV kernel uses for I/O privilege and
 * interrupt acknowledgement, with their structures. PCI/MSI management
 * ops are listed by number only.
 */
#ifndef PVCORE_PUBLIC_PHYSDEV_H
#define PVCORE_PUBLIC_PHYSDEV_H

#include "xen.h"

#define PHYSDEVOP_irq_status_query   5
#define PHYSDEVOP_set_iopl           6
#define PHYSDEVOP_set_iobitmap       7
#define PHYSDEVOP_apic_read          8
#define PHYSDEVOP_apic_write         9
#define PHYSDEVOP_alloc_irq_vector  10
#define PHYSDEVOP_free_irq_vector   11
#define PHYSDEVOP_eoi               12
#define PHYSDEVOP_map_pirq          13
#define PHYSDEVOP_unmap_pirq        14
#define PHYSDEVOP_setup_gsi         21
#define PHYSDEVOP_get_free_pirq     23

#define XENIRQSTAT_needs_eoi   (1u << 0)
#define XENIRQSTAT_shared      (1u << 1)

#ifndef __ASSEMBLY__

/* Virtual IOPL the guest kernel runs at (0-3). */
struct physdev_set_iopl {
    uint32_t iopl;
};

struct physdev_set_iobitmap {
    uint64_t bitmap;                /* guest address of the bitmap        */
    uint32_t nr_ports;
    uint32_t _pad;
};
_Static_assert(sizeof(struct physdev_set_iobitmap) == 16, "set_iobitmap");

struct physdev_eoi {
    uint32_t irq;
};

struct physdev_irq_status_query {
    uint32_t irq;                   /* IN                                 */
    uint32_t flags;                 /* OUT: XENIRQSTAT_*                  */
};

#endif /* !__ASSEMBLY__ */
#endif /* PVCORE_PUBLIC_PHYSDEV_H */
