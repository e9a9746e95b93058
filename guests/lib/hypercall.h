/*
 * Hypercall layer for pvcore PV test kernels.
 *
 * Owns: the raw hypercall primitive (call hypercall_page + nr * 32 with
 * args in rdi, rsi, rdx, r10, r8) and one typed wrapper per hypercall the
 * suite uses. Wrappers return Xen's result (0 / positive or -errno).
 */
#ifndef GUEST_HYPERCALL_H
#define GUEST_HYPERCALL_H

#include <public/xen.h>
#include <public/sched.h>
#include <public/vcpu.h>
#include <public/memory.h>
#include <public/version.h>
#include <public/callback.h>
#include <public/physdev.h>
#include <public/grant_table.h>
#include <public/event_channel.h>
#include <public/errno.h>
#include <public/features.h>

extern char hypercall_page[4096];

/* Any hypercall number (the page has 128 stubs), up to five arguments. */
static inline long hypercall5(unsigned int nr, uint64_t a1, uint64_t a2,
                              uint64_t a3, uint64_t a4, uint64_t a5)
{
    register uint64_t rdi __asm__("rdi") = a1;
    register uint64_t rsi __asm__("rsi") = a2;
    register uint64_t rdx __asm__("rdx") = a3;
    register uint64_t r10 __asm__("r10") = a4;
    register uint64_t r8 __asm__("r8") = a5;
    uint64_t rax = (uint64_t)hypercall_page + (uint64_t)(nr & 127) * 32;

    __asm__ volatile("call *%%rax"
                     : "+a"(rax), "+r"(rdi), "+r"(rsi), "+r"(rdx), "+r"(r10),
                       "+r"(r8)
                     :
                     : "memory", "rcx", "r11", "r9");
    return (long)rax;
}

#define HC(p) ((uint64_t)(uintptr_t)(p))

static inline long hypercall_console_io(int cmd, unsigned int count,
                                        const void *buf)
{
    return hypercall5(__HYPERVISOR_console_io, cmd, count, HC(buf), 0, 0);
}
static inline long hypercall_xen_version(int cmd, void *arg)
{
    return hypercall5(__HYPERVISOR_xen_version, cmd, HC(arg), 0, 0, 0);
}
static inline long hypercall_memory_op(unsigned int cmd, void *arg)
{
    return hypercall5(__HYPERVISOR_memory_op, cmd, HC(arg), 0, 0, 0);
}
static inline long hypercall_sched_op(int cmd, void *arg)
{
    return hypercall5(__HYPERVISOR_sched_op, cmd, HC(arg), 0, 0, 0);
}
static inline long hypercall_vcpu_op(int cmd, unsigned int vcpu, void *arg)
{
    return hypercall5(__HYPERVISOR_vcpu_op, cmd, vcpu, HC(arg), 0, 0);
}
static inline long hypercall_mmu_update(const mmu_update_t *req,
                                        unsigned int count,
                                        unsigned int *done, unsigned int dom)
{
    return hypercall5(__HYPERVISOR_mmu_update, HC(req), count, HC(done), dom, 0);
}
static inline long hypercall_mmuext_op(const struct mmuext_op *op,
                                       unsigned int count,
                                       unsigned int *done, unsigned int dom)
{
    return hypercall5(__HYPERVISOR_mmuext_op, HC(op), count, HC(done), dom, 0);
}
static inline long hypercall_update_va_mapping(uint64_t va, uint64_t pte,
                                               uint64_t flags)
{
    return hypercall5(__HYPERVISOR_update_va_mapping, va, pte, flags, 0, 0);
}
static inline long hypercall_set_trap_table(const trap_info_t *table)
{
    return hypercall5(__HYPERVISOR_set_trap_table, HC(table), 0, 0, 0, 0);
}
static inline long hypercall_multicall(multicall_entry_t *calls,
                                       unsigned int nr)
{
    return hypercall5(__HYPERVISOR_multicall, HC(calls), nr, 0, 0, 0);
}
static inline long hypercall_vm_assist(unsigned int cmd, unsigned int type)
{
    return hypercall5(__HYPERVISOR_vm_assist, cmd, type, 0, 0, 0);
}
static inline long hypercall_callback_op(int cmd, const void *arg)
{
    return hypercall5(__HYPERVISOR_callback_op, cmd, HC(arg), 0, 0, 0);
}
static inline long hypercall_physdev_op(int cmd, void *arg)
{
    return hypercall5(__HYPERVISOR_physdev_op, cmd, HC(arg), 0, 0, 0);
}
static inline long hypercall_event_channel_op(int cmd, void *arg)
{
    return hypercall5(__HYPERVISOR_event_channel_op, cmd, HC(arg), 0, 0, 0);
}
static inline long hypercall_grant_table_op(unsigned int cmd, void *arg,
                                            unsigned int count)
{
    return hypercall5(__HYPERVISOR_grant_table_op, cmd, HC(arg), count, 0, 0);
}
static inline long hypercall_set_segment_base(unsigned int which,
                                              uint64_t base)
{
    return hypercall5(__HYPERVISOR_set_segment_base, which, base, 0, 0, 0);
}
static inline long hypercall_stack_switch(uint64_t ss, uint64_t sp)
{
    return hypercall5(__HYPERVISOR_stack_switch, ss, sp, 0, 0, 0);
}
static inline long hypercall_fpu_taskswitch(int set)
{
    return hypercall5(__HYPERVISOR_fpu_taskswitch, set, 0, 0, 0, 0);
}
static inline long hypercall_set_timer_op(uint64_t timeout_abs_ns)
{
    return hypercall5(__HYPERVISOR_set_timer_op, timeout_abs_ns, 0, 0, 0, 0);
}
static inline long hypercall_update_descriptor(uint64_t maddr, uint64_t desc)
{
    return hypercall5(__HYPERVISOR_update_descriptor, maddr, desc, 0, 0, 0);
}
static inline long hypercall_set_gdt(const xen_pfn_t *frames,
                                     unsigned int entries)
{
    return hypercall5(__HYPERVISOR_set_gdt, HC(frames), entries, 0, 0, 0);
}
static inline long hypercall_set_callbacks(uint64_t event, uint64_t failsafe,
                                           uint64_t syscall)
{
    return hypercall5(__HYPERVISOR_set_callbacks, event, failsafe, syscall,
                      0, 0);
}

#endif /* GUEST_HYPERCALL_H */
