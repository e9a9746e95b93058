/* The register frame the trap entry code saves (arch/x86_64/entry.S).
 * Same layout as the guest-visible struct cpu_user_regs of the Xen x86_64
 * ABI up to `ss`, so a guest's frame can be copied without reshuffling. */
#ifndef ASM_REGS_H
#define ASM_REGS_H

#ifndef __ASSEMBLER__
#include "hv/types.h"

struct cpu_regs {
    uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
    uint64_t rax, rcx, rdx, rsi, rdi;
    uint32_t error_code;
    uint32_t entry_vector;
    uint64_t rip;
    uint16_t cs, _pad0[1];
    uint8_t  saved_upcall_mask;
    uint8_t  _pad1[3];
    uint64_t rflags;
    uint64_t rsp;
    uint16_t ss, _pad2[3];
};
_Static_assert(sizeof(struct cpu_regs) == 21 * 8, "cpu_regs layout");
_Static_assert(__builtin_offsetof(struct cpu_regs, r11) == 6 * 8 &&
               __builtin_offsetof(struct cpu_regs, rcx) == 11 * 8 &&
               __builtin_offsetof(struct cpu_regs, rip) == 16 * 8 &&
               __builtin_offsetof(struct cpu_regs, cs) == 17 * 8 &&
               __builtin_offsetof(struct cpu_regs, rflags) == 18 * 8 &&
               __builtin_offsetof(struct cpu_regs, rsp) == 19 * 8 &&
               __builtin_offsetof(struct cpu_regs, ss) == 20 * 8, "cpu_regs offsets of entry.S");

static inline bool regs_from_guest(const struct cpu_regs *r) { return (r->cs & 3) != 0; }

/* A whole frame copied with 21 plain moves: a structure assignment is a
 * `rep movsq`, which QEMU TCG runs as one translated block per qword (a
 * vCPU switch saves one frame and loads another). */
static __force_inline void cpu_regs_copy(struct cpu_regs *dst, const struct cpu_regs *src)
{
    typedef uint64_t __attribute__((may_alias)) word_t;
    word_t *d = (word_t *)dst;
    const word_t *s = (const word_t *)src;

#pragma GCC unroll 21
    for (unsigned int i = 0; i < sizeof(*dst) / sizeof(word_t); i++)
        d[i] = s[i];
}
#endif

/* entry_vector of a frame built by the SYSCALL entry stubs. */
#define TRAP_SYSCALL 256

/* Offsets for entry.S. */
#define REGS_R15 0
#define REGS_ERROR_CODE (15 * 8)
#define REGS_R11 (6 * 8)
#define REGS_RCX (11 * 8)
#define REGS_RIP (16 * 8)
#define REGS_CS (17 * 8)
#define REGS_RFLAGS (18 * 8)
#define REGS_RSP (19 * 8)
#define REGS_SS (20 * 8)
#define REGS_SIZE (21 * 8)

#endif
