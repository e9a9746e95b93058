/* Hypercall handlers (one dispatch table: arch/x86_64/pv/hypercall.c).
 * Every handler takes its raw register arguments, copies guest structures
 * in with copy_from_guest, checks everything, acts, and returns 0/a value
 * or a negative errno. They run on the calling vCPU (current). */
#ifndef HV_HYPERCALL_H
#define HV_HYPERCALL_H

#include "hv/types.h"
#include "asm/regs.h"

typedef long (*hypercall_fn)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);

/* Run hypercall nr with args; used by the syscall/int 0x82 paths and by
 * multicall. */
long hypercall_dispatch(unsigned long nr, const uint64_t args[6]);
/* The hypercall in regs (rax, then rdi, rsi, rdx, r10, r8, r9) from
 * guest kernel mode, its result in rax, then the return to the guest. */
void pv_hypercall(struct cpu_regs *regs) __noreturn;

/* An operation pvcore does not implement: hypercall nr, or its
 * sub-operation subop (HC_NO_SUBOP for the hypercall itself). Logged once
 * per domain and (nr, subop); returns -ENOSYS for the handler to return. */
#define HC_NO_SUBOP (~0UL)
long hypercall_unimplemented(unsigned long nr, uint64_t subop);

long do_set_trap_table(uint64_t traps);
long do_set_gdt(uint64_t frame_list, uint64_t entries);
long do_stack_switch(uint64_t ss, uint64_t sp);
long do_set_callbacks(uint64_t event, uint64_t failsafe, uint64_t syscall);
long do_fpu_taskswitch(uint64_t set);
long do_set_debugreg(uint64_t reg, uint64_t value);
long do_get_debugreg(uint64_t reg);
long do_update_descriptor(uint64_t maddr, uint64_t desc);
long do_multicall(uint64_t calls, uint64_t nr);
long do_set_timer_op(uint64_t timeout);
long do_xen_version(uint64_t cmd, uint64_t arg);
long do_console_io(uint64_t cmd, uint64_t count, uint64_t buffer);
long do_vm_assist(uint64_t cmd, uint64_t type);
long do_iret(void);
long do_vcpu_op(uint64_t cmd, uint64_t vcpuid, uint64_t arg);
long do_set_segment_base(uint64_t which, uint64_t base);
long do_sched_op(uint64_t cmd, uint64_t arg);
long do_callback_op(uint64_t cmd, uint64_t arg);
long do_nmi_op(uint64_t cmd, uint64_t arg);
long do_physdev_op(uint64_t cmd, uint64_t arg);
long do_event_channel_op(uint64_t cmd, uint64_t arg);
long do_grant_table_op(uint64_t cmd, uint64_t uop, uint64_t count);
/* Privileged hypercalls (common/privileged.c): -EPERM for every domain
 * after the checks Xen makes first. */
long do_platform_op(uint64_t op);
long do_sysctl(uint64_t op);
long do_domctl(uint64_t op);
long do_kexec_op(void);
long do_hypfs_op(void);

#endif
