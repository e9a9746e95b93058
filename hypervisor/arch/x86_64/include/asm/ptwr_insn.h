/* Decoding and executing the instructions a PV guest kernel uses to write
 * a page-table entry directly (writable page-table emulation, pv/ptwr.c).
 *
 * The decoder knows exactly the memory-writing forms Xen's emulator
 * commits to a page table for Linux and other PV kernels: mov, xchg,
 * cmpxchg, cmpxchg8b, or/and/xor and bts/btr, of 1 to 8 bytes, with
 * lock, the segment prefixes (26/2e/36/3e are no-ops in 64-bit mode, so
 * the 3e that Linux puts in place of lock on one CPU decodes like none;
 * 64/65 add the FS/GS base), 66 and REX. Everything else (other opcodes,
 * rep, 67, register destinations, cmpxchg16b, which Xen does not commit
 * to a page table either) is -EOPNOTSUPP and the caller bounces the fault.
 *
 * Pure functions of their inputs: no hypervisor state, so the host unit
 * test runs them against the real CPU (tests/unit/ptwr/). */
#ifndef ASM_PTWR_INSN_H
#define ASM_PTWR_INSN_H

#include "hv/types.h"

/* The register state the instruction sees and may change. gpr[] is in
 * encoding order: rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8 ... r15. */
struct ptwr_regs {
    uint64_t gpr[16];
    uint64_t rflags;
    uint64_t rip;
    uint64_t fs_base, gs_base;
};

enum ptwr_op {
    PTWR_MOV,
    PTWR_XCHG,
    PTWR_CMPXCHG,
    PTWR_CMPXCHG8B,
    PTWR_OR,
    PTWR_AND,
    PTWR_XOR,
    PTWR_BTS,
    PTWR_BTR,
};

struct ptwr_insn {
    enum ptwr_op op;
    unsigned int len;       /* bytes, prefixes and immediate included */
    unsigned int width;     /* operand bytes: 1, 2, 4 or 8 */
    uint64_t addr;          /* linear address of the operand written */
    uint64_t src;           /* source operand (register or immediate),
                             * truncated to width; cmpxchg8b: ecx:ebx */
    unsigned int reg;       /* register operand (gpr index) */
    bool high_byte;         /* reg is ah/ch/dh/bh (width 1, no REX) */
    unsigned int bit;       /* bts/btr: bit number inside the operand */
    bool lock;
};

#define PTWR_MAX_INSN 15

/* Decode the instruction in code[0..avail) executed with regs. 0, or
 * -EOPNOTSUPP for a form not emulated, -EFAULT when it needs more than
 * avail bytes. */
int ptwr_decode(const uint8_t *code, unsigned int avail, const struct ptwr_regs *regs,
                struct ptwr_insn *insn);

/* Execute insn on the operand's current value cur (width bytes): sets
 * *val to the value to store and returns true, or returns false when
 * nothing is stored (a cmpxchg that found another value). regs gets the
 * instruction's register and flag results; rip is left to the caller. */
bool ptwr_execute(const struct ptwr_insn *insn, uint64_t cur, uint64_t *val,
                  struct ptwr_regs *regs);

#endif
