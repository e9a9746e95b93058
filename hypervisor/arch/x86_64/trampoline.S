/* Application-processor start-up: copied to TRAMPOLINE_PHYS (below 1 MiB)
 * and entered by the SIPI in real mode. Goes to protected mode, loads the
 * trampoline page tables (identity map of the first GiB plus the
 * hypervisor's L4 slots; below 4 GiB so a 32-bit CR3 can hold them),
 * enables long mode and jumps to ap_start at its link address on the stack
 * the boot CPU prepared. The boot CPU fills tr_cr3, tr_nx, tr_stack and
 * tr_entry in the copy before each SIPI. */
#include "asm/config.h"

#define TR(x) ((x) - trampoline_start + TRAMPOLINE_PHYS)

    .section .rodata
    .balign 16
    .globl trampoline_start, trampoline_end, tr_cr3, tr_nx, tr_stack, tr_entry
    .code16
trampoline_start:
    cli
    cld
    xorw %ax, %ax
    movw %ax, %ds
    lgdtl TR(tr_gdt_ptr)
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl $0x08, $TR(tr_pm32)

    .code32
tr_pm32:
    movl $0x10, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    movl %cr4, %eax
    orl $0x20, %eax                 /* PAE */
    movl %eax, %cr4
    movl TR(tr_cr3), %eax
    movl %eax, %cr3
    movl $0xc0000080, %ecx          /* EFER: LME, NXE if the BSP has it */
    rdmsr
    orl $0x100, %eax
    testl $1, TR(tr_nx)
    jz 1f
    orl $0x800, %eax
1:  wrmsr
    movl %cr0, %eax
    orl $0x80010001, %eax           /* PG, WP, PE */
    movl %eax, %cr0
    ljmp $0x18, $TR(tr_lm64)

    .code64
tr_lm64:
    movq TR(tr_stack), %rsp
    movq TR(tr_entry), %rax
    xorl %ebp, %ebp
    jmp *%rax

    .balign 8
tr_gdt:
    .quad 0
    .quad 0x00cf9a000000ffff        /* 0x08: 32-bit code */
    .quad 0x00cf92000000ffff        /* 0x10: data */
    .quad 0x00af9a000000ffff        /* 0x18: 64-bit code */
tr_gdt_ptr:
    .short tr_gdt_ptr - tr_gdt - 1
    .long TR(tr_gdt)
    .balign 8
tr_cr3:   .long 0
tr_nx:    .long 0
tr_stack: .quad 0
tr_entry: .quad 0
trampoline_end:
