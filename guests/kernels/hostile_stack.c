/*
 * Hostile test kernel: kernel stack overflow.
 *
 * Runs a deep recursion on a stack whose next-lower page is unmapped. The
 * overflow write faults, and the hypervisor cannot push the #PF bounce
 * frame onto the same (unmapped) stack, so it must crash the domain.
 * Expected outcome: Xen reports "Hardware Dom0 crashed" and no
 * "Test result:" line is ever printed. Reaching the end of test_main is a
 * FAILURE.
 */
#include "lib.h"

const char test_name[] = "hostile_stack";

static unsigned int depth;
static volatile unsigned int max_depth = ~0u;   /* never reached */

static __attribute__((noinline)) uint64_t recurse(uint64_t n)
{
    volatile uint8_t frame[512];

    frame[0] = (uint8_t)n;
    frame[511] = (uint8_t)(n >> 8);
    if (++depth >= max_depth)
        return frame[0];
    return recurse(n + 1) + frame[0] + frame[511];
}

void run_on_stack(uint64_t top, uint64_t (*fn)(uint64_t));
__asm__(".text\n"
        "run_on_stack:\n"
        "    mov %rdi, %rsp\n"
        "    xor %edi, %edi\n"
        "    call *%rsi\n"
        "    ud2\n");

void test_main(void)
{
    uint8_t *guard = page_alloc();
    uint8_t *stack = page_alloc();

    test_ok(stack == guard + PAGE_SIZE, "stack page follows the guard page");
    test_eq(hypercall_update_va_mapping((uint64_t)guard, 0, UVMF_INVLPG), 0,
            "unmap the guard page below the stack");
    printk("hostile_stack: recursing on a %lu-byte stack above an unmapped "
           "page; the domain must be crashed by the hypervisor\n",
           (unsigned long)PAGE_SIZE);
    run_on_stack((uint64_t)stack + PAGE_SIZE, recurse);
    test_abort("stack overflow returned after %u frames", depth);
}
