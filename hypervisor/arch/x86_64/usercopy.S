/* Copies that may fault: guest memory accessed on the guest's page tables.
 * A fault inside one of them resumes at its fixup (the .extable section,
 * searched by the trap handler) instead of being fatal. */
#include "asm/config.h"

#define EXTABLE(insn, fixup) \
    .pushsection .extable, "a"; .balign 8; .quad insn, fixup; .popsection

    .text
/* size_t copy_raw_with_fixup(void *dst, const void *src, size_t n):
 * returns the number of bytes not copied (0 on success). */
    .globl copy_raw_with_fixup
copy_raw_with_fixup:
    movq %rdx, %rcx
1:  rep movsb
    xorl %eax, %eax
    ret
2:  movq %rcx, %rax             /* bytes left when the fault hit */
    ret
    EXTABLE(1b, 2b)
