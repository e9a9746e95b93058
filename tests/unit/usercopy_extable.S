/* The hypervisor's guest copy routine (hypervisor/arch/x86_64/usercopy.S)
 * assembled for the host, with symbols around its exception table so that
 * test_usercopy.c can resume a faulting copy at its fixup as the
 * hypervisor's trap handler does. */
    .section .extable, "a"
    .balign 8
    .globl test_extable_start
test_extable_start:
    .previous
#include "../../hypervisor/arch/x86_64/usercopy.S"
    .section .extable, "a"
    .globl test_extable_end
test_extable_end:
    .previous
    .section .note.GNU-stack, "", @progbits
