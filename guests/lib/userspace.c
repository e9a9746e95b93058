/*
 * A minimal guest user address space for the PV test kernels.
 *
 * Owns: user_space_init(), which builds one user L4 / L3 / L2 / L1 from
 * the page pool mapping a code page (user, read-only, executable) and a
 * stack page (user, writable, NX) in one 2 MiB region of the first GiB,
 * maps the tables read-only,
 * pins the L4, installs it with MMUEXT_NEW_USER_BASEPTR and registers the
 * kernel stack that traps from user mode run on (stack_switch); and
 * user_enter() / user_resume_kernel(), a call into 64-bit user mode
 * through the iret hypercall that a trap handler ends by resuming the
 * kernel where user_enter() was called (one user excursion at a time).
 */
#include "lib.h"

long user_space_init(const void *code_page, uint64_t code_va, uint64_t stack_va,
                     const void *kernel_stack_top)
{
    uint64_t *l4 = page_alloc(), *l3 = page_alloc(), *l2 = page_alloc(), *l1 = page_alloc();
    uint64_t *tables[] = { l1, l2, l3, l4 };
    void *stack = page_alloc();
    long rc;

    if ((code_va | stack_va) >= (1ul << 30) || (code_va >> 21) != (stack_va >> 21) ||
        ((code_va | stack_va) & (PAGE_SIZE - 1)) || code_va == stack_va)
        return -XEN_EINVAL;
    l4[0] = (virt_to_mfn(l3) << PAGE_SHIFT) | PTE_TABLE;
    l3[0] = (virt_to_mfn(l2) << PAGE_SHIFT) | PTE_TABLE;
    l2[code_va >> 21] = (virt_to_mfn(l1) << PAGE_SHIFT) | PTE_TABLE;
    l1[(code_va >> PAGE_SHIFT) & 511] = (virt_to_mfn(code_page) << PAGE_SHIFT) | PTE_P | PTE_US | PTE_A;
    l1[(stack_va >> PAGE_SHIFT) & 511] = (virt_to_mfn(stack) << PAGE_SHIFT) | PTE_P | PTE_RW | PTE_US |
                                 PTE_A | PTE_D | PTE_NX;
    for (unsigned int i = 0; i < ARRAY_SIZE(tables); i++)
        if ((rc = page_set_writable(tables[i], false)))
            return rc;
    if ((rc = mmuext1(MMUEXT_PIN_L4_TABLE, virt_to_mfn(l4), 0)) ||
        (rc = mmuext1(MMUEXT_NEW_USER_BASEPTR, virt_to_mfn(l4), 0)))
        return rc;
    return hypercall_stack_switch(FLAT_KERNEL_SS, (uint64_t)(uintptr_t)kernel_stack_top);
}

uint64_t user_kernel_rsp;     /* the kernel stack user_enter() left */

__asm__(
    ".text\n"
    ".globl user_enter\n"
    "user_enter:\n"
    "    push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
    "    mov %rsp, user_kernel_rsp(%rip)\n"
    "    mov %rdx, %rbx\n"
    "    pushq $0xe02b\n"                 /* FLAT_USER_SS */
    "    push %rsi\n"
    "    pushq $0x202\n"                  /* IF: events on in user mode */
    "    pushq $0xe033\n"                 /* FLAT_USER_CS */
    "    push %rdi\n"
    "    pushq $0\n"                      /* iret flags */
    "    jmp hypercall_page + 23 * 32\n"  /* __HYPERVISOR_iret */
    ".globl user_resume_kernel\n"
    "user_resume_kernel:\n"
    "    mov user_kernel_rsp(%rip), %rsp\n"
    "    mov %rdi, %rax\n"
    "    pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
    "    ret\n");
