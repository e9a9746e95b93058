/* Control registers, debug registers and MSRs as a PV guest sees them.
 *
 * Owns: the guest-visible values of CR0/CR2/CR3/CR4, the guest's debug
 * registers (v->dr[], dr6, dr7; loaded into the CPU while the vCPU runs
 * with any DR7 enable bit set) and the MSRs a 64-bit PV guest may read or
 * write. Used by pv/emulate.c (mov to/from %crN / %drN, rdmsr, wrmsr,
 * xsetbv after their #GP) and by the set_debugreg / get_debugreg
 * hypercalls. What is allowed follows Xen 4.17 for a PV domU (measured on
 * Xen 4.17 by guests/kernels/cpuregs.c):
 *  - CR0 reads the CPU's CR0 with the guest's virtual TS; a write may only
 *    change TS (fpu_taskswitch), anything else is #GP(0);
 *  - CR4 reads PAE/MCE/OSFXSR/OSXMMEXCPT as the hypervisor runs with them,
 *    plus the guest-controlled TSD and DE; every other bit written is
 *    ignored, not refused (Xen also lets FSGSBASE and OSXSAVE through when
 *    its CPU policy has them: pvcore's has neither). The guest's TSD is in
 *    the CPU's CR4 while the vCPU runs: rdtsc/rdtscp then fault, and are
 *    carried out for the guest kernel (pv_emulate_rdtsc) and stay a #GP for
 *    its user mode, as on hardware at CPL 0 and 3;
 *  - DR0-3 take guest addresses only (-EPERM), DR6/DR7 32-bit values
 *    (-EINVAL) with their fixed bits forced, DR7.GD and I/O breakpoints
 *    without CR4.DE are -EPERM; DR4/DR5 alias DR6/DR7 unless CR4.DE
 *    (-ENODEV); other numbers -ENODEV; I/O breakpoints (with CR4.DE) are
 *    kept apart (dr7_io) and raise #DB after an emulated port access
 *    they cover, as Xen;
 *  - MSRs: FS/GS/shadow GS bases, EFER (read), TSC (read), the virtual
 *    machine-check MSRs of a 2-bank vMCE, and a few constants Xen gives
 *    (APIC base, microcode revision, PLATFORM_INFO, MISC_ENABLE, PAT,
 *    PERF_CAPABILITIES, TSC_AUX, AMD HWCR and DE_CFG); anything else,
 *    read or write, is #GP(0).
 * Locking: the vCPU's own state, changed only by the vCPU itself. */
#include "asm/cpu.h"
#include "asm/page.h"
#include "hv/guest_access.h"
#include "hv/hypercall.h"
#include "hv/lib.h"
#include "hv/mm.h"
#include "hv/pagetype.h"
#include "hv/pv.h"

#define X86_CR0_ET          (1UL << 4)
#define X86_CR4_TSD         (1UL << 2)
#define X86_CR4_DE          (1UL << 3)
#define X86_CR4_MCE         (1UL << 6)
#define X86_CR4_OSXMMEXCPT  (1UL << 10)
#define CR4_GUEST_VISIBLE   (X86_CR4_PAE | X86_CR4_MCE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT)
#define CR4_GUEST_CONTROL   (X86_CR4_TSD | X86_CR4_DE)

#define DR6_DEFAULT         0xffff0ff0UL
#define DR6_ZEROS           (1UL << 12)
#define DR7_DEFAULT         0x400UL
#define DR7_ZEROS           ((1UL << 11) | (1UL << 12) | (1UL << 14) | (1UL << 15))
#define DR7_GD              (1UL << 13)
#define DR7_ACTIVE_MASK     0xffUL

#define MSR_IA32_TSC            0x10
#define MSR_IA32_UCODE_REV      0x8b
#define MSR_PLATFORM_INFO       0xce
#define MSR_MISC_FEATURES       0x140
#define MSR_IA32_MCG_CAP        0x179
#define MSR_IA32_MCG_STATUS     0x17a
#define MSR_IA32_MCG_CTL        0x17b
#define MSR_IA32_MISC_ENABLE    0x1a0
#define MSR_IA32_CR_PAT         0x277
#define MSR_IA32_MC0_CTL2       0x280
#define MSR_IA32_PERF_CAPS      0x345
#define MSR_IA32_MC0_CTL        0x400
#define MSR_TSC_AUX             0xc0000103
#define MSR_AMD_HWCR            0xc0010015
#define MSR_AMD_DE_CFG          0xc0011029
#define MSR_HYPERVISOR_BASE     0x40000000
#define VMCE_BANKS              2
/* MISC_ENABLE as Xen shows it: fast strings, BTS and PEBS unavailable,
 * xTPR messages disabled. */
#define GUEST_MISC_ENABLE       0x801801UL

/* ---- control registers ---- */

uint64_t pv_cr4(const struct vcpu *v)
{
    return (read_cr4() & CR4_GUEST_VISIBLE) | (v->cr4_guest & CR4_GUEST_CONTROL);
}

bool pv_read_cr(struct vcpu *v, unsigned int n, uint64_t *val)
{
    switch (n) {
    case 0:
        *val = (read_cr0() & ~X86_CR0_TS) | (v->fpu_ts ? X86_CR0_TS : 0);
        return true;
    case 2:
        *val = v->vcpu_info->arch.cr2;
        return true;
    case 3:
        *val = (v->kernel_mode ? v->guest_table : v->guest_table_user) << PAGE_SHIFT;
        return true;
    case 4:
        *val = pv_cr4(v);
        return true;
    default:
        return false;
    }
}

bool pv_write_cr(struct vcpu *v, unsigned int n, uint64_t val)
{
    uint64_t cr0;

    switch (n) {
    case 0:
        pv_read_cr(v, 0, &cr0);
        if ((val ^ cr0) & ~X86_CR0_TS)
            return false;
        do_fpu_taskswitch(!!(val & X86_CR0_TS));
        return true;
    case 2:
        v->vcpu_info->arch.cr2 = val;
        return true;
    case 3:
        if (vcpu_set_guest_table(v, val >> PAGE_SHIFT, false))
            return false;
        load_guest_cr3(v);
        return true;
    case 4:
        v->cr4_guest = val & CR4_GUEST_CONTROL;
        pv_load_cr4(v);
        return true;
    default:
        return false;
    }
}

void pv_load_cr4(const struct vcpu *v)
{
    uint64_t cr4 = read_cr4();
    uint64_t want = v && (v->cr4_guest & X86_CR4_TSD) ? cr4 | X86_CR4_TSD : cr4 & ~X86_CR4_TSD;
    if (want != cr4)
        write_cr4(want);
}

bool pv_emulate_rdtsc(struct vcpu *v, struct cpu_regs *regs, bool rdtscp)
{
    if (!v->kernel_mode)
        return false;
    uint64_t tsc = rdtsc();
    regs->rax = (uint32_t)tsc;
    regs->rdx = tsc >> 32;
    if (rdtscp)
        regs->rcx = 0;                  /* TSC_AUX, as the MSR reads */
    return true;
}

/* ---- debug registers ---- */

static inline void write_dr(unsigned int n, uint64_t val)
{
    switch (n) {
    case 0: __asm__ volatile("mov %0, %%db0" :: "r"(val)); break;
    case 1: __asm__ volatile("mov %0, %%db1" :: "r"(val)); break;
    case 2: __asm__ volatile("mov %0, %%db2" :: "r"(val)); break;
    case 3: __asm__ volatile("mov %0, %%db3" :: "r"(val)); break;
    case 6: __asm__ volatile("mov %0, %%db6" :: "r"(val)); break;
    default: __asm__ volatile("mov %0, %%db7" :: "r"(val)); break;
    }
}

static inline uint64_t read_dr6(void)
{
    uint64_t v;
    __asm__ volatile("mov %%db6, %0" : "=r"(v));
    return v;
}

void pv_load_debugregs(struct vcpu *v)
{
    if (!(v->dr7 & DR7_ACTIVE_MASK))
        return;
    for (unsigned int i = 0; i < 4; i++)
        write_dr(i, v->dr[i]);
    write_dr(6, v->dr6);
    write_dr(7, v->dr7);
}

void pv_save_debugregs(struct vcpu *v)
{
    if (!(v->dr7 & DR7_ACTIVE_MASK))
        return;
    write_dr(7, DR7_DEFAULT);           /* breakpoints off in the hypervisor */
}

/* A #DB from the guest: merge the CPU's DR6 into the guest's (as Xen:
 * sticky status bits accumulate, the default-one bits follow the CPU). */
void pv_debug_trap(struct vcpu *v)
{
    uint64_t dr6 = read_dr6();
    v->dr6 |= dr6 & ~DR6_DEFAULT;
    v->dr6 &= dr6 | ~DR6_DEFAULT;
    write_dr(6, DR6_DEFAULT);
}

long pv_set_debugreg(struct vcpu *v, unsigned int reg, uint64_t val)
{
    bool de = v->cr4_guest & X86_CR4_DE;

    switch (reg) {
    case 0: case 1: case 2: case 3:
        if (!guest_range_ok(val, sizeof(uint64_t)))
            return -EPERM;
        v->dr[reg] = val;
        if (v == current && (v->dr7 & DR7_ACTIVE_MASK))
            write_dr(reg, val);
        return 0;
    case 4:
        if (de)
            return -ENODEV;
        /* fall through */
    case 6:
        if (val != (uint32_t)val)
            return -EINVAL;
        v->dr6 = (val | DR6_DEFAULT) & ~DR6_ZEROS;
        if (v == current && (v->dr7 & DR7_ACTIVE_MASK))
            write_dr(6, v->dr6);
        return 0;
    case 5:
        if (de)
            return -ENODEV;
        /* fall through */
    case 7:
        if (val != (uint32_t)val)
            return -EINVAL;
        val = (val | DR7_DEFAULT) & ~DR7_ZEROS;
        if (val & DR7_GD)
            return -EPERM;
        /* I/O breakpoints (R/W 10b) need CR4.DE; they are emulated on
         * the guest's emulated port I/O, never armed in the CPU. */
        uint32_t io = 0;
        if (val & DR7_ACTIVE_MASK)
            for (unsigned int i = 0; i < 4; i++)
                if (((val >> (16 + 4 * i)) & 3) == 2) {
                    if (!de)
                        return -EPERM;
                    io |= (uint32_t)val & (3u << (2 * i));
                }
        val &= ~(uint64_t)io;
        bool was_active = v->dr7 & DR7_ACTIVE_MASK;
        v->dr7_io = io;
        v->dr7 = val;
        if (v == current) {
            if (!was_active)
                pv_load_debugregs(v);
            write_dr(7, val);
        }
        return 0;
    default:
        return -ENODEV;
    }
}

long pv_get_debugreg(struct vcpu *v, unsigned int reg, uint64_t *val)
{
    bool de = v->cr4_guest & X86_CR4_DE;

    switch (reg) {
    case 0: case 1: case 2: case 3:
        *val = v->dr[reg];
        return 0;
    case 4:
        if (de)
            return -ENODEV;
        /* fall through */
    case 6:
        *val = v->dr6;
        return 0;
    case 5:
        if (de)
            return -ENODEV;
        /* fall through */
    case 7:
        *val = v->dr7 | v->dr7_io;
        return 0;
    default:
        return -ENODEV;
    }
}

uint32_t pv_io_breakpoints(const struct vcpu *v, unsigned int port, unsigned int bytes)
{
    uint32_t match = 0;

    if (!v->dr7_io || !(v->cr4_guest & X86_CR4_DE))
        return 0;
    for (unsigned int i = 0; i < 4; i++) {
        if (!(v->dr7_io & (3u << (2 * i))))
            continue;
        static const unsigned int width[4] = { 1, 2, 8, 4 };    /* LEN 00, 01, 10, 11 */
        uint64_t start = v->dr[i];
        unsigned int w = width[(v->dr7 >> (18 + 4 * i)) & 3];
        if (start < port + bytes && start + w > port)
            match |= 1u << i;
    }
    return match;
}

void pv_io_breakpoint_hit(struct vcpu *v, struct cpu_regs *regs, uint32_t match)
{
    v->dr6 |= match;
    pv_inject_trap(v, regs, 1, false, 0);
}

long do_set_debugreg(uint64_t reg, uint64_t value)
{
    return pv_set_debugreg(current, reg > 7 ? 8 : (unsigned int)reg, value);
}

long do_get_debugreg(uint64_t reg)
{
    uint64_t val;
    long rc = pv_get_debugreg(current, reg > 7 ? 8 : (unsigned int)reg, &val);
    return rc ? rc : (long)val;
}

void pv_init_debugregs(struct vcpu *v)
{
    memset(v->dr, 0, sizeof(v->dr));
    v->dr7_io = 0;
    v->dr6 = DR6_DEFAULT;
    v->dr7 = DR7_DEFAULT;
}

/* ---- MSRs ---- */

static bool canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

static bool cpu_is_amd(void)
{
    uint32_t a, b, c, d;
    cpuid(0, 0, &a, &b, &c, &d);
    return b == 0x68747541u;            /* "Auth"enticAMD */
}

/* The 2-bank vMCE Xen gives PV guests: MCi_CTL all ones, the rest 0;
 * banks beyond the count and MCi_CTL2 read 0. */
static bool vmce_msr(uint32_t msr, uint64_t *val)
{
    if (msr >= MSR_IA32_MC0_CTL && msr < MSR_IA32_MC0_CTL + 4 * 32) {
        unsigned int bank = (msr - MSR_IA32_MC0_CTL) / 4;
        *val = bank < VMCE_BANKS && (msr & 3) == 0 ? ~0UL : 0;
        return true;
    }
    if (msr >= MSR_IA32_MC0_CTL2 && msr < MSR_IA32_MC0_CTL2 + 32) {
        *val = 0;
        return true;
    }
    switch (msr) {
    case MSR_IA32_MCG_CAP:
        *val = VMCE_BANKS;
        return true;
    case MSR_IA32_MCG_STATUS:
    case MSR_IA32_MCG_CTL:
        *val = 0;
        return true;
    default:
        return false;
    }
}

bool pv_read_msr(struct vcpu *v, uint32_t msr, uint64_t *val)
{
    if (vmce_msr(msr, val))
        return true;
    switch (msr) {
    case MSR_FS_BASE:
    case MSR_GS_BASE:
        *val = rdmsr(msr);
        return true;
    case MSR_KERNEL_GS_BASE:            /* the other mode's (toggle_guest_mode) */
        *val = rdmsr(MSR_KERNEL_GS_BASE);
        return true;
    case MSR_EFER:
        *val = EFER_LME | (1UL << 10) /* LMA */ | EFER_SCE | (cpu_has_nx() ? EFER_NXE : 0);
        return true;
    case MSR_IA32_TSC:
        *val = rdtsc();
        return true;
    case MSR_IA32_APIC_BASE:
        *val = 0xfee00000UL | (1UL << 11) /* enabled */ | (v->id == 0 ? 1UL << 8 : 0);
        return true;
    case MSR_IA32_UCODE_REV:            /* the CPU's microcode revision, as Xen */
        *val = rdmsr(MSR_IA32_UCODE_REV);
        return true;
    case MSR_PLATFORM_INFO:
    case MSR_MISC_FEATURES:
    case MSR_IA32_PERF_CAPS:
    case MSR_TSC_AUX:
    case MSR_HYPERVISOR_BASE:
        *val = 0;
        return true;
    case MSR_IA32_MISC_ENABLE:
        *val = GUEST_MISC_ENABLE;
        return true;
    case MSR_IA32_CR_PAT:
        *val = rdmsr(MSR_IA32_CR_PAT);
        return true;
    case MSR_AMD_HWCR:
        *val = 0;
        return cpu_is_amd();
    case MSR_AMD_DE_CFG:
        *val = 1UL << 1;                /* LFENCE serialising */
        return cpu_is_amd();
    default:
        return false;
    }
}

bool pv_write_msr(struct vcpu *v, uint32_t msr, uint64_t val)
{
    uint64_t ignored;

    if (vmce_msr(msr, &ignored))
        return true;                    /* vMCE writes are accepted and dropped */
    switch (msr) {
    case MSR_FS_BASE:
    case MSR_GS_BASE:
        if (!canonical(val))
            return false;
        wrmsr(msr, val);
        return true;
    case MSR_KERNEL_GS_BASE:            /* only from guest kernel mode */
        if (!canonical(val))
            return false;
        wrmsr(MSR_KERNEL_GS_BASE, val);
        return true;
    default:
        return false;
    }
}
