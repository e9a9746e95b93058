/* Copies that may fault: guest memory accessed on the guest's page tables.
 * A fault inside one of them resumes at its fixup (the .extable section,
 * searched by the trap handler) instead of being fatal.
 *
 * The bulk moves 8 bytes at a time (rep movsq, aligned when the source
 * is: a leading rep movsb of up to 7 bytes aligns copies of 16 bytes or
 * more) and the tail one byte at a time: under QEMU TCG, and on CPUs
 * without fast short rep movsb, a byte-at-a-time copy of a bounce frame or
 * a multicall entry is several times slower. Short copies (a multicall
 * result, an 8-byte argument) take qwords too, and an empty head or tail
 * is skipped (under TCG even a rep with a zero count is a block of its
 * own). Callers only test the result for zero, so after a
 * fault the count of bytes not copied may be rounded up to the qword. */
#include "asm/config.h"

#define EXTABLE(insn, fixup) \
    .pushsection .extable, "a"; .balign 8; .quad insn, fixup; .popsection

    .text
/* size_t copy_raw_with_fixup(void *dst, const void *src, size_t n):
 * returns the number of bytes not copied (0 on success). */
    .globl copy_raw_with_fixup
copy_raw_with_fixup:
    cmpq $16, %rdx
    jb 5f                       /* short: no alignment head */
    movl %esi, %ecx             /* head: bytes to the source's alignment */
    negl %ecx
    andl $7, %ecx
    jz 5f
    subq %rcx, %rdx
1:  rep movsb
5:  movq %rdx, %rcx
    shrq $3, %rcx
    andl $7, %edx               /* tail bytes, left for the last step */
2:  rep movsq
    testl %edx, %edx
    jz 9f
    movq %rdx, %rcx
3:  rep movsb
9:  xorl %eax, %eax
    ret
6:  addq %rdx, %rcx             /* fault in the head: head left + the rest */
    movq %rcx, %rax
    ret
7:  leaq (%rdx, %rcx, 8), %rax  /* fault in the qwords: qwords + tail left */
    ret
8:  movq %rcx, %rax             /* fault in the tail (or a short copy) */
    ret
    EXTABLE(1b, 6b)
    EXTABLE(2b, 7b)
    EXTABLE(3b, 8b)
