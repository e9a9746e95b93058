/* PV guest execution (arch/x86_64/pv/): entering and leaving guests,
 * bouncing traps into them, switching their two address spaces. */
#ifndef HV_PV_H
#define HV_PV_H

#include "asm/cpu.h"
#include "asm/page.h"
#include "hv/domain.h"
#include "hv/mm.h"

/* Trap-bounce flags, as Xen's create_bounce_frame understands them. */
#define TBF_EXCEPTION          1
#define TBF_EXCEPTION_ERRCODE  2
#define TBF_INTERRUPT          8   /* mask events on delivery */
#define TBF_FAILSAFE          16   /* push DS/ES/FS/GS too */

struct trap_bounce {
    uint64_t eip;
    uint32_t error_code;
    uint8_t flags;
};

/* Handle a trap, interrupt or SYSCALL taken from ring 3, then return to a
 * guest (maybe another one). Never returns. */
void do_guest_trap(struct cpu_regs *regs) __noreturn;
/* Leave the hypervisor for the current vCPU, scheduling first if needed.
 * Runs on this CPU's stack; discards the hypervisor frames below. */
void return_to_guest(void) __noreturn;
void restore_guest_frame(struct cpu_regs *regs) __noreturn;

/* Build the exception frame on the guest kernel stack and point regs at
 * the handler. Returns false (domain crashed) if that is impossible. */
bool bounce_to_guest(struct vcpu *v, struct cpu_regs *regs, const struct trap_bounce *tb);
/* Deliver exception/interrupt `vector` through the guest's virtual IDT. */
void pv_inject_trap(struct vcpu *v, struct cpu_regs *regs, unsigned int vector,
                    bool has_error_code, uint32_t error_code);

/* Load v's page table for its current mode into CR3 (or idle_l4). */
static __force_inline void load_guest_cr3(struct vcpu *v)
{
    mfn_t mfn = v->kernel_mode ? v->guest_table : v->guest_table_user;
    write_cr3(mfn ? mfn << PAGE_SHIFT : __pa(idle_l4()));
}

/* Switch a vCPU between guest kernel and guest user mode (page table and
 * GS base). Must be called with v running on this CPU. While v is loaded,
 * MSR_GS_BASE holds the GS base of its current mode and
 * MSR_KERNEL_GS_BASE the other mode's, so the switch is one swapgs (a
 * wrmsr also ends the translated block under QEMU TCG, back to its main
 * loop). Inline, as load_guest_cr3: under TCG the CR3 load empties the
 * translation-block jump cache, and each return after it would be a slow
 * lookup. */
static __force_inline void toggle_guest_mode(struct vcpu *v)
{
    __asm__ volatile("swapgs" ::: "memory");
    v->kernel_mode = !v->kernel_mode;
    load_guest_cr3(v);
}

/* Save prev's CPU state, load next's (either may be NULL = idle). */
void context_switch(struct vcpu *prev, struct vcpu *next);
/* Reload the guest GDT/LDT descriptors of the running vCPU. */
void load_guest_descriptors(struct vcpu *v);

/* Privileged instruction emulation (pv/emulate.c). Return true when the
 * fault was handled (regs advanced), false to bounce it to the guest. */
bool pv_emulate_gp(struct vcpu *v, struct cpu_regs *regs);
bool pv_emulate_forced(struct vcpu *v, struct cpu_regs *regs);
/* Control/debug registers and MSRs (pv/cpuregs.c). The read/write
 * functions return false where the instruction stays a #GP(0); the
 * debug-register ones return 0 or -errno, as the hypercalls. */
uint64_t pv_cr4(const struct vcpu *v);
/* Put v's CR4.TSD into the CPU (v NULL: the hypervisor's, TSD clear). */
void pv_load_cr4(const struct vcpu *v);
/* rdtsc/rdtscp that faulted because of the guest's CR4.TSD: carried out
 * in guest kernel mode (true), a #GP in user mode (false). */
bool pv_emulate_rdtsc(struct vcpu *v, struct cpu_regs *regs, bool rdtscp);
bool pv_read_cr(struct vcpu *v, unsigned int n, uint64_t *val);
bool pv_write_cr(struct vcpu *v, unsigned int n, uint64_t val);
bool pv_read_msr(struct vcpu *v, uint32_t msr, uint64_t *val);
bool pv_write_msr(struct vcpu *v, uint32_t msr, uint64_t val);
long pv_set_debugreg(struct vcpu *v, unsigned int reg, uint64_t val);
long pv_get_debugreg(struct vcpu *v, unsigned int reg, uint64_t *val);
void pv_init_debugregs(struct vcpu *v);
/* Load v's debug registers into the CPU (if any breakpoint is enabled),
 * switch them off when v leaves it, and take in a #DB's DR6. */
void pv_load_debugregs(struct vcpu *v);
void pv_save_debugregs(struct vcpu *v);
void pv_debug_trap(struct vcpu *v);
/* Which enabled I/O breakpoints cover [port, port + bytes) (a DR6 Bn
 * mask), and deliver the #DB for a match after the access. */
uint32_t pv_io_breakpoints(const struct vcpu *v, unsigned int port, unsigned int bytes);
void pv_io_breakpoint_hit(struct vcpu *v, struct cpu_regs *regs, uint32_t match);

/* Port I/O and cli/sti (pv/ioport.c): may the vCPU's current mode do I/O
 * (virtual IOPL)? Emulate the instruction whose opcode is insn[op] (after
 * the prefixes described by p; got bytes fetched): true when carried out
 * (rip advanced or a fault delivered), false to leave it a #GP(0). */
struct insn_prefixes {
    bool opsize16, addr32, rep;
    uint8_t seg;                    /* segment override prefix, 0 = none */
};
bool pv_iopl_ok(const struct vcpu *v);
bool pv_emulate_io(struct vcpu *v, struct cpu_regs *regs, const uint8_t *insn,
                   unsigned int op, unsigned int got, const struct insn_prefixes *p);

/* Drop the references a vCPU holds on its domain's frames (GDT frames,
 * a registered vcpu_info page) before the domain's memory is released. */
void vcpu_release_frames(struct vcpu *v);
void pv_release_gdt(struct vcpu *v);
/* Install a GDT of `entries` descriptors from frames (checked first). */
long pv_set_gdt(struct vcpu *v, const uint64_t *frames, uint64_t entries);

/* Write v's runstate to the area it registered (v's page tables loaded):
 * running, or about to be unloaded. */
void vcpu_update_runstate_area(struct vcpu *v, bool running);

/* Register a vCPU's starting state (the builder's, or VCPUOP_initialise). */
void vcpu_set_start_state(struct vcpu *v, uint64_t rip, uint64_t rsp, uint64_t rsi);

#endif
