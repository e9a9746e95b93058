/*
 * PV kernel entry and Xen ELF notes.
 *
 * Owns: the XEN_ELFNOTE_* notes that let Xen (and pvcore) load us as a
 * 64-bit PV kernel (dom0 capable), the hypercall page, the boot stack, and
 * _start: %rsi holds start_info; we clear BSS (harmless if the loader
 * already did), switch to our own stack and call pv_start(start_info).
 */
#define __ASSEMBLY__
#include <public/elfnote.h>
#include <public/features.h>

#define BOOT_STACK_SIZE (16 * 4096)

.macro xen_note_begin type
    .pushsection .note.Xen, "a", @note
    .p2align 2
    .long 4                         /* namesz: "Xen\0" */
    .long 2f - 1f                   /* descsz */
    .long \type
    .asciz "Xen"
    .p2align 2
1:
.endm
.macro xen_note_end
2:  .p2align 2
    .popsection
.endm
.macro xen_note_str type, text
    xen_note_begin \type
    .asciz "\text"
    xen_note_end
.endm
.macro xen_note_quad type, value
    xen_note_begin \type
    .quad \value
    xen_note_end
.endm
.macro xen_note_long type, value
    xen_note_begin \type
    .long \value
    xen_note_end
.endm

xen_note_str  XEN_ELFNOTE_GUEST_OS,       "pvcore-test"
xen_note_str  XEN_ELFNOTE_GUEST_VERSION,  "1"
xen_note_str  XEN_ELFNOTE_XEN_VERSION,    "xen-3.0"
xen_note_str  XEN_ELFNOTE_LOADER,         "generic"
xen_note_quad XEN_ELFNOTE_VIRT_BASE,      0xffffffff80000000
xen_note_quad XEN_ELFNOTE_PADDR_OFFSET,   0
xen_note_quad XEN_ELFNOTE_ENTRY,          _start
xen_note_quad XEN_ELFNOTE_HYPERCALL_PAGE, hypercall_page
xen_note_str  XEN_ELFNOTE_FEATURES,       "pae_pgdir_above_4gb"
xen_note_long XEN_ELFNOTE_SUPPORTED_FEATURES, (1 << XENFEAT_dom0) | (1 << XENFEAT_pae_pgdir_above_4gb)
xen_note_str  XEN_ELFNOTE_PAE_MODE,       "yes"

    .section .text.head, "ax"
    .code64
    .globl _start
_start:
    cld
    mov   %rsi, %r12                /* start_info: keep across BSS clear */
    lea   _bss_start(%rip), %rdi
    lea   _bss_end(%rip), %rcx
    sub   %rdi, %rcx
    shr   $3, %rcx                  /* quadwords: BSS is page-aligned (kernel.ld) */
    xor   %eax, %eax
    rep stosq
    lea   boot_stack_top(%rip), %rsp
    xor   %ebp, %ebp
    mov   %r12, %rdi
    call  pv_start
    ud2                             /* pv_start never returns */

    /* Filled in by the loader: 128 stubs of 32 bytes. */
    .section .text.hypercall_page, "ax"
    .p2align 12
    .globl hypercall_page
hypercall_page:
    .fill 4096, 1, 0xcc

    .section .bss
    .p2align 12
    .globl boot_stack, boot_stack_top
boot_stack:
    .skip BOOT_STACK_SIZE
boot_stack_top:

    .section .note.GNU-stack, "", @progbits
