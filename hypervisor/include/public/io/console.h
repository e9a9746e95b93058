/*
 * pvcore public ABI: the PV console ring page shared with a domU.
 *
 * Owns: struct xencons_interface. "in" carries bytes to the guest, "out"
 * bytes from it; indices run freely and are reduced modulo the ring size.
 */
#ifndef PVCORE_PUBLIC_IO_CONSOLE_H
#define PVCORE_PUBLIC_IO_CONSOLE_H

#include <stdint.h>
#include <stddef.h>

typedef uint32_t XENCONS_RING_IDX;

#define XENCONS_IN_SIZE    1024
#define XENCONS_OUT_SIZE   2048
#define MASK_XENCONS_IDX(idx, size)  ((idx) & ((size) - 1))

struct xencons_interface {
    char in[XENCONS_IN_SIZE];
    char out[XENCONS_OUT_SIZE];
    XENCONS_RING_IDX in_cons, in_prod;
    XENCONS_RING_IDX out_cons, out_prod;
};
_Static_assert(sizeof(struct xencons_interface) == 3088, "xencons_interface");
_Static_assert(offsetof(struct xencons_interface, out) == 1024, "cons.out");
_Static_assert(offsetof(struct xencons_interface, in_cons) == 3072, "cons.ic");
_Static_assert(offsetof(struct xencons_interface, out_prod) == 3084, "cons.op");

#endif /* PVCORE_PUBLIC_IO_CONSOLE_H */
