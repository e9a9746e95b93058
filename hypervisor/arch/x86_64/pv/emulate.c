/* Emulation of the privileged instructions PV kernels execute in ring 3.
 *
 * Owns: the guest-visible CPUID (filtered), CR0/CR2/CR3/CR4 reads, the MSRs
 * a PV guest may touch (FS/GS bases; EFER and the APIC base read-only).
 * Handled:
 *  - the forced-emulation prefix `ud2a; .ascii "xen"; cpuid` (#UD);
 *  - from #GP(0): rdmsr, wrmsr, mov from %crN, mov to %cr3 (guest kernel),
 *    and port I/O / cli / sti (pv/ioport.c), after any prefixes;
 * everything else is bounced to the guest as the fault it was.
 * Instruction bytes are copied from the guest with copy_from_guest. */
#include "asm/cpu.h"
#include "asm/page.h"
#include "hv/guest_access.h"
#include "hv/lib.h"
#include "hv/mm.h"
#include "hv/pagetype.h"
#include "hv/printk.h"
#include "hv/pv.h"

#define XEN_CPUID_BASE 0x40000000u

static void guest_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    if (leaf >= XEN_CPUID_BASE && leaf < XEN_CPUID_BASE + 0x100) {
        memset(r, 0, 16);
        switch (leaf - XEN_CPUID_BASE) {
        case 0:
            r[0] = XEN_CPUID_BASE + 2;
            memcpy(&r[1], "XenV", 4);
            memcpy(&r[2], "MMXe", 4);
            memcpy(&r[3], "nVMM", 4);
            break;
        case 1:
            r[0] = (4u << 16) | 17u;            /* the Xen ABI level we implement */
            break;
        case 2:
            r[0] = 1;                           /* one hypercall page */
            r[1] = XEN_CPUID_BASE;              /* (no hypercall MSR for PV) */
            break;
        }
        return;
    }
    uint32_t max_basic;
    cpuid(0, 0, &max_basic, &r[1], &r[2], &r[3]);
    if (leaf > max_basic && leaf < 0x80000000u) {
        memset(r, 0, 16);
        return;
    }
    cpuid(leaf, sub, &r[0], &r[1], &r[2], &r[3]);
    if (leaf == 0) {
        r[0] = MIN(r[0], 0xdu);
    } else if (leaf == 1) {
        r[2] &= ~((1u << 3) |   /* MONITOR */
                  (1u << 5) |   /* VMX */
                  (1u << 6) |   /* SMX */
                  (1u << 21) |  /* x2APIC */
                  (1u << 26) |  /* XSAVE */
                  (1u << 27));  /* OSXSAVE */
        r[2] |= 1u << 31;       /* running on a hypervisor */
        r[3] &= ~((1u << 9) |   /* APIC */
                  (1u << 22) |  /* ACPI thermal */
                  (1u << 29));  /* TM */
    } else if (leaf == 7 && sub == 0) {
        r[1] &= ~((1u << 7) |   /* SMEP */
                  (1u << 20));  /* SMAP */
    } else if (leaf == 0xd) {
        memset(r, 0, 16);       /* no XSAVE for guests */
    }
}

bool pv_emulate_forced(struct vcpu *v, struct cpu_regs *regs)
{
    static const uint8_t sig[5] = { 0x0f, 0x0b, 'x', 'e', 'n' };
    uint8_t insn[7];

    if (copy_from_guest(insn, regs->rip, sizeof(insn)) || memcmp(insn, sig, 5))
        return false;
    if (insn[5] != 0x0f || insn[6] != 0xa2)     /* only cpuid is emulated */
        return false;
    uint32_t r[4];
    guest_cpuid((uint32_t)regs->rax, (uint32_t)regs->rcx, r);
    regs->rax = r[0];
    regs->rbx = r[1];
    regs->rcx = r[2];
    regs->rdx = r[3];
    regs->rip += sizeof(insn);
    return true;
}

static uint64_t *gpr(struct cpu_regs *regs, unsigned int n)
{
    switch (n) {
    case 0: return &regs->rax;
    case 1: return &regs->rcx;
    case 2: return &regs->rdx;
    case 3: return &regs->rbx;
    case 4: return &regs->rsp;
    case 5: return &regs->rbp;
    case 6: return &regs->rsi;
    case 7: return &regs->rdi;
    case 8: return &regs->r8;
    case 9: return &regs->r9;
    case 10: return &regs->r10;
    case 11: return &regs->r11;
    case 12: return &regs->r12;
    case 13: return &regs->r13;
    case 14: return &regs->r14;
    default: return &regs->r15;
    }
}

static bool emulate_rdmsr(struct vcpu *v, struct cpu_regs *regs)
{
    uint64_t val;
    switch ((uint32_t)regs->rcx) {
    case MSR_FS_BASE:
        val = rdmsr(MSR_FS_BASE);
        break;
    case MSR_GS_BASE:
        val = rdmsr(MSR_GS_BASE);
        break;
    case MSR_KERNEL_GS_BASE:
        val = v->kernel_mode ? v->gs_base_user : v->gs_base_kernel;
        break;
    case MSR_EFER:
        val = EFER_LME | (1UL << 10) /* LMA */ | EFER_SCE | (cpu_has_nx() ? EFER_NXE : 0);
        break;
    default:
        return false;
    }
    regs->rax = (uint32_t)val;
    regs->rdx = val >> 32;
    return true;
}

static bool canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

static bool emulate_wrmsr(struct vcpu *v, struct cpu_regs *regs)
{
    uint64_t val = ((uint64_t)(uint32_t)regs->rdx << 32) | (uint32_t)regs->rax;
    if (!v->kernel_mode)
        return false;
    switch ((uint32_t)regs->rcx) {
    case MSR_FS_BASE:
        if (!canonical(val))
            return false;
        wrmsr(MSR_FS_BASE, val);
        return true;
    case MSR_GS_BASE:
        if (!canonical(val))
            return false;
        wrmsr(MSR_GS_BASE, val);
        return true;
    case MSR_KERNEL_GS_BASE:
        if (!canonical(val))
            return false;
        v->gs_base_user = val;
        return true;
    default:
        return false;
    }
}

static uint64_t guest_cr(struct vcpu *v, unsigned int n)
{
    switch (n) {
    case 0:
        return X86_CR0_PE | X86_CR0_PG | X86_CR0_WP | (1UL << 4) /* ET */ |
               (1UL << 1) /* MP */ | (v->fpu_ts ? X86_CR0_TS : 0);
    case 2:
        return v->vcpu_info->arch.cr2;
    case 3:
        return (v->kernel_mode ? v->guest_table : v->guest_table_user) << PAGE_SHIFT;
    default:
        return X86_CR4_PAE | X86_CR4_OSFXSR | (1UL << 10);
    }
}

/* Fetch up to max instruction bytes at rip (fewer where the mapping
 * ends); returns how many could be read. */
static unsigned int fetch_insn(uint64_t rip, uint8_t *b, unsigned int max)
{
    unsigned int n = 0;
    while (n < max && !copy_from_guest(&b[n], rip + n, 1))
        n++;
    return n;
}

static bool is_legacy_prefix(uint8_t p)
{
    return p == 0x66 || p == 0x67 || p == 0x2e || p == 0x3e || p == 0x26 || p == 0x36 ||
           p == 0x64 || p == 0x65 || p == 0xf2 || p == 0xf3;
}

bool pv_emulate_gp(struct vcpu *v, struct cpu_regs *regs)
{
    uint8_t b[16] = { 0 };
    unsigned int rex = 0, len = 0;
    bool opsize16 = false;
    unsigned int got = fetch_insn(regs->rip, b, 15);

    while (len < got && is_legacy_prefix(b[len]))
        opsize16 |= b[len++] == 0x66;
    if (len < got && (b[len] & 0xf0) == 0x40)   /* REX prefix, last */
        rex = b[len++];
    if (len >= got)
        return false;
    if (b[len] != 0x0f) {
        unsigned int n = pv_emulate_io(v, regs, b, len, opsize16);
        if (n > got)
            return false;
        regs->rip += n;
        return n != 0;
    }
    if (got < len + 2)
        return false;

    switch (b[len + 1]) {
    case 0x32:                               /* rdmsr */
        if (!v->kernel_mode || !emulate_rdmsr(v, regs))
            return false;
        regs->rip += len + 2;
        return true;
    case 0x30:                               /* wrmsr */
        if (!emulate_wrmsr(v, regs))
            return false;
        regs->rip += len + 2;
        return true;
    case 0x20: {                             /* mov %crN, %reg */
        uint8_t modrm = b[len + 2];
        unsigned int cr = ((modrm >> 3) & 7) | (rex & 4 ? 8 : 0);
        unsigned int reg = (modrm & 7) | (rex & 1 ? 8 : 0);
        if (!v->kernel_mode || (modrm >> 6) != 3 || (cr != 0 && cr != 2 && cr != 3 && cr != 4))
            return false;
        *gpr(regs, reg) = guest_cr(v, cr);
        regs->rip += len + 3;
        return true;
    }
    case 0x22: {                             /* mov %reg, %cr3 */
        uint8_t modrm = b[len + 2];
        unsigned int cr = ((modrm >> 3) & 7) | (rex & 4 ? 8 : 0);
        unsigned int reg = (modrm & 7) | (rex & 1 ? 8 : 0);
        if (!v->kernel_mode || (modrm >> 6) != 3 || cr != 3)
            return false;
        if (vcpu_set_guest_table(v, *gpr(regs, reg) >> PAGE_SHIFT, false))
            return false;
        load_guest_cr3(v);
        regs->rip += len + 3;
        return true;
    }
    default:
        return false;
    }
}
