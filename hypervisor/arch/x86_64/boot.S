/* Multiboot2 entry: from 32-bit protected mode (as GRUB leaves us) to 64-bit
 * long mode running at the hypervisor's link address.
 *
 * The 32-bit code runs at physical addresses (sym - HV_VIRT_BASE). Boot page
 * tables map the first 4 GiB twice - identity and at DIRECTMAP_START - and
 * the first 1 GiB at HV_VIRT_BASE, which covers the image (loaded at 2 MiB).
 * mm/paging.c replaces them with the final tables once memory is known. */
#include "asm/config.h"

#define PHYS(sym) ((sym) - HV_VIRT_BASE)
#define MB2_HEADER_MAGIC 0xe85250d6
#define MB2_ARCH_I386    0
#define MB2_HEADER_LEN   (mb2_header_end - mb2_header)

    .section .text.multiboot, "ax"
    .align 8
mb2_header:
    .long MB2_HEADER_MAGIC
    .long MB2_ARCH_I386
    .long MB2_HEADER_LEN
    .long -(MB2_HEADER_MAGIC + MB2_ARCH_I386 + MB2_HEADER_LEN)
    /* entry address tag: where to start, in 32-bit physical terms */
    .align 8
    .short 3, 0
    .long 12
    .long PHYS(start32)
    /* end tag */
    .align 8
    .short 0, 0
    .long 8
mb2_header_end:

    .section .text.boot, "ax"
    .code32
    .globl start32
start32:
    cli
    cld
    movl %eax, PHYS(boot_mb_magic)
    movl %ebx, PHYS(boot_mb_info)
    movl $PHYS(cpu0_stack + STACK_SIZE - CPU_INFO_RESERVE), %esp

    /* Long mode is required. */
    movl $0x80000000, %eax
    cpuid
    cmpl $0x80000001, %eax
    jb no_long_mode
    movl $0x80000001, %eax
    cpuid
    btl $29, %edx
    jnc no_long_mode
    /* Remember whether the CPU has NX (edx bit 20). */
    xorl %esi, %esi
    btl $20, %edx
    jnc 1f
    movl $1, %esi
1:  movl %esi, PHYS(boot_cpu_has_nx)

    /* Zero .bss (the boot stack and the per-CPU areas live there). */
    movl $PHYS(__bss_start), %edi
    movl $PHYS(__bss_end), %ecx
    subl %edi, %ecx
    xorl %eax, %eax
    rep stosb

    /* PAE on, boot page tables in CR3. */
    movl %cr4, %eax
    orl $0x20, %eax
    movl %eax, %cr4
    movl $PHYS(boot_pml4), %eax
    movl %eax, %cr3

    /* EFER: long mode, and NX when present. */
    movl $0xc0000080, %ecx
    rdmsr
    orl $0x100, %eax
    testl %esi, %esi
    jz 1f
    orl $0x800, %eax
1:  wrmsr

    /* Paging on (with write protection in ring 0). */
    movl %cr0, %eax
    orl $0x80010001, %eax
    movl %eax, %cr0

    lgdt PHYS(boot_gdt_ptr)
    ljmp $0x08, $PHYS(start64_low)

no_long_mode:
    movl $PHYS(msg_no_lm), %esi
1:  lodsb
    testb %al, %al
    jz 2f
    movw $0x3f8, %dx
    outb %al, %dx
    jmp 1b
2:  hlt
    jmp 2b

    .code64
start64_low:
    movabsq $start64, %rax
    jmp *%rax

    .text
start64:
    xorl %eax, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    movl %eax, %fs
    movl %eax, %gs
    /* Switch to the virtual address of the boot stack. */
    movabsq $(cpu0_stack + STACK_SIZE - CPU_INFO_RESERVE), %rsp
    xorl %ebp, %ebp
    movl boot_mb_magic(%rip), %edi
    movl boot_mb_info(%rip), %esi
    call hv_main
1:  cli
    hlt
    jmp 1b

    .section .rodata
msg_no_lm:
    .asciz "pvcore: this CPU has no 64-bit long mode; cannot boot\r\n"

    .data
    .globl boot_mb_magic, boot_mb_info, boot_cpu_has_nx
    .align 8
boot_mb_magic:    .long 0
boot_mb_info:     .long 0
boot_cpu_has_nx:  .long 0

    .align 16
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff    /* 0x08: 64-bit code */
    .quad 0x00cf92000000ffff    /* 0x10: data */
boot_gdt_end:
boot_gdt_ptr:
    .short boot_gdt_end - boot_gdt - 1
    .long PHYS(boot_gdt)

    /* Boot page tables (2 MiB pages). */
    .align 4096
    .globl boot_pml4
boot_pml4:
    .quad PHYS(boot_pdpt_low) + 3            /* slot 0: identity, first 4 GiB */
    .fill 260, 8, 0
    .quad PHYS(boot_pdpt_hv) + 3             /* slot 261: hypervisor image */
    .quad PHYS(boot_pdpt_low) + 3            /* slot 262: direct map, first 4 GiB */
    .fill 249, 8, 0

    .align 4096
boot_pdpt_low:
    .quad PHYS(boot_pd_low) + 0x0000 + 3
    .quad PHYS(boot_pd_low) + 0x1000 + 3
    .quad PHYS(boot_pd_low) + 0x2000 + 3
    .quad PHYS(boot_pd_low) + 0x3000 + 3
    .fill 508, 8, 0

    .align 4096
boot_pdpt_hv:
    .fill 322, 8, 0
    .quad PHYS(boot_pd_hv) + 3               /* 0xffff82d080000000 */
    .fill 189, 8, 0

    .align 4096
boot_pd_low:
    .set i, 0
    .rept 2048
    .quad (i << 21) + 0x83
    .set i, i + 1
    .endr

    .align 4096
boot_pd_hv:
    .set i, 0
    .rept 512
    .quad (i << 21) + 0x83
    .set i, i + 1
    .endr
