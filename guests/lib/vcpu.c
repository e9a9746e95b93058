/*
 * Secondary vCPUs for the PV test kernels: VCPUOP_initialise / up with a
 * stack of their own and the kernel's L4, which vCPU runs (told by the
 * stack: vCPU 0 runs on boot_stack), and runstate queries.
 */
#include "evtime.h"

#define VCPU_STACK_SIZE (4 * PAGE_SIZE)

extern char boot_stack[], boot_stack_top[];
extern char entry_event[], entry_failsafe[], entry_syscall[];

static uint8_t vcpu_stacks[LIB_MAX_VCPUS][VCPU_STACK_SIZE] ALIGNED(PAGE_SIZE);
static vcpu_fn_t vcpu_fns[LIB_MAX_VCPUS];
static volatile bool vcpu_started[LIB_MAX_VCPUS], vcpu_done[LIB_MAX_VCPUS];
static vcpu_guest_context_t ctxt;   /* Xen copies it during the hypercall */

unsigned int this_vcpu_id(void)
{
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);

    for (unsigned int i = 1; i < LIB_MAX_VCPUS; i++)
        if (vcpu_started[i] && sp >= (uintptr_t)vcpu_stacks[i] &&
            sp < (uintptr_t)vcpu_stacks[i] + VCPU_STACK_SIZE)
            return i;
    return 0;
}

/* Where each vCPU's vcpu_info lives: shared_info's slot until
 * VCPUOP_register_vcpu_info moves it. */
static vcpu_info_t *registered_info[LIB_MAX_VCPUS];

static vcpu_info_t *vcpu_info_of(unsigned int id)
{
    return registered_info[id] ? registered_info[id] : &shared_info->vcpu_info[id];
}

vcpu_info_t *vcpu_info_self(void)
{
    return vcpu_info_of(this_vcpu_id());
}

long vcpu_register_info(unsigned int id, vcpu_info_t *where)
{
    struct vcpu_register_vcpu_info r = {
        .mfn = virt_to_mfn(where),
        .offset = (uint32_t)((uintptr_t)where & (PAGE_SIZE - 1)),
    };
    long rc;

    if (id >= LIB_MAX_VCPUS)
        return -XEN_EINVAL;
    rc = hypercall_vcpu_op(VCPUOP_register_vcpu_info, id, &r);
    if (!rc)
        registered_info[id] = where;
    return rc;
}

NORETURN void vcpu_entry(unsigned int id);
void vcpu_entry(unsigned int id)
{
    long rc = traps_install();          /* trap table and callbacks: per vCPU */

    if (rc)
        test_abort("vCPU %u: set_trap_table/callbacks failed: %ld", id, rc);
    vcpu_fns[id](id);
    __atomic_store_n(&vcpu_done[id], true, __ATOMIC_SEQ_CST);
    for (;;) {
        rc = hypercall_vcpu_op(VCPUOP_down, id, NULL);
        if (rc)
            test_abort("vCPU %u: VCPUOP_down of itself failed: %ld", id, rc);
    }
}

long vcpu_start(unsigned int id, vcpu_fn_t fn)
{
    uint64_t top = (uint64_t)(vcpu_stacks[id < LIB_MAX_VCPUS ? id : 0] +
                              VCPU_STACK_SIZE);
    long rc;

    if (id == 0 || id >= LIB_MAX_VCPUS)
        return -XEN_EINVAL;
    memset(&ctxt, 0, sizeof(ctxt));
    ctxt.flags = VGCF_in_kernel;
    ctxt.user_regs.rip = (uint64_t)vcpu_entry;
    ctxt.user_regs.rsp = top - 8;       /* as if called: rsp+8 16-aligned */
    ctxt.user_regs.rdi = id;
    ctxt.user_regs.cs = FLAT_KERNEL_CS;
    ctxt.user_regs.ss = FLAT_KERNEL_SS;
    ctxt.user_regs.ds = ctxt.user_regs.es = FLAT_KERNEL_DS;
    ctxt.user_regs.rflags = 0x202;      /* IF: events per the upcall mask */
    ctxt.kernel_ss = FLAT_KERNEL_SS;
    ctxt.kernel_sp = top;
    ctxt.ctrlreg[3] = kernel_l4_mfn() << PAGE_SHIFT;
    ctxt.event_callback_eip = (uint64_t)entry_event;
    ctxt.failsafe_callback_eip = (uint64_t)entry_failsafe;
    ctxt.syscall_callback_eip = (uint64_t)entry_syscall;

    vcpu_fns[id] = fn;
    vcpu_done[id] = false;
    vcpu_info_of(id)->evtchn_upcall_mask = 1;
    vcpu_started[id] = true;
    rc = hypercall_vcpu_op(VCPUOP_initialise, id, &ctxt);
    if (!rc)
        rc = hypercall_vcpu_op(VCPUOP_up, id, NULL);
    if (rc)
        vcpu_started[id] = false;
    return rc;
}

bool vcpu_finished(unsigned int id)
{
    return id < LIB_MAX_VCPUS && __atomic_load_n(&vcpu_done[id], __ATOMIC_SEQ_CST);
}

long vcpu_runstate(unsigned int id, struct vcpu_runstate_info *rs)
{
    memset(rs, 0, sizeof(*rs));
    return hypercall_vcpu_op(VCPUOP_get_runstate_info, id, rs);
}

static void vcpu_parked(void)
{
    for (;;)
        hypercall_sched_op(SCHEDOP_block, NULL);
}

void vcpu_parked_context(vcpu_guest_context_t *c, uint64_t stack_top, uint64_t gdt_mfn)
{
    memset(c, 0, sizeof(*c));
    c->flags = VGCF_in_kernel;
    c->user_regs.rip = (uint64_t)vcpu_parked;
    c->user_regs.rsp = stack_top;
    c->user_regs.cs = FLAT_KERNEL_CS;
    c->user_regs.ss = FLAT_KERNEL_SS;
    c->user_regs.rflags = 0x202;
    c->kernel_ss = FLAT_KERNEL_SS;
    c->ctrlreg[3] = kernel_l4_mfn() << PAGE_SHIFT;
    c->gdt_frames[0] = gdt_mfn;
    c->gdt_ents = gdt_mfn ? 512 : 0;
}
