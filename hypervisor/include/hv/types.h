/* Basic freestanding types and helpers shared by all hypervisor code.
 * Works both in the freestanding hypervisor build and in host unit tests. */
#ifndef HV_TYPES_H
#define HV_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t paddr_t;
typedef uint64_t mfn_t;          /* machine frame number */

#define PAGE_SHIFT   12
#define PAGE_SIZE    (1UL << PAGE_SHIFT)
#define PAGE_MASK    (~(PAGE_SIZE - 1))

#define ARRAY_SIZE(a)        (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a)       (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a)     ((x) & ~((__typeof__(x))(a) - 1))
#define MIN(a, b)            ((a) < (b) ? (a) : (b))
#define MAX(a, b)            ((a) > (b) ? (a) : (b))
#define container_of(p, type, member) \
    ((type *)((char *)(p) - offsetof(type, member)))

#define __unused             __attribute__((unused))
#define __noreturn           __attribute__((noreturn))
#define __packed             __attribute__((packed))
#define __aligned(n)         __attribute__((aligned(n)))
#define __section(s)         __attribute__((section(s)))
#define __force_inline      inline __attribute__((always_inline))
/* The guest entry and exit path: arch/x86_64/linker.ld puts .text.hot on
 * pages of its own. Under QEMU TCG a jump or call to another page is
 * never chained (each one a lookup), and after a CR3 load every page
 * touched is a TLB refill. */
#define __hot_path           __attribute__((section(".text.hot")))
#define __printf(a, b)       __attribute__((format(printf, a, b)))
#define likely(x)            __builtin_expect(!!(x), 1)
#define unlikely(x)          __builtin_expect(!!(x), 0)

#define KiB(x) ((uint64_t)(x) << 10)
#define MiB(x) ((uint64_t)(x) << 20)
#define GiB(x) ((uint64_t)(x) << 30)

#endif
