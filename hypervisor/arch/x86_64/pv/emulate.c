/* Emulation of the privileged instructions PV kernels execute in ring 3.
 *
 * Owns: the guest-visible CPUID policy and the decoding of the privileged
 * instructions a PV kernel executes; the registers they reach are
 * pv/cpuregs.c's, the ports pv/ioport.c's. Handled:
 *  - the forced-emulation prefix `ud2a; .ascii "xen"; cpuid` (#UD);
 *  - from #GP(0), after any prefixes: port I/O, cli, sti (any guest mode,
 *    under the virtual IOPL); rdtsc/rdtscp under the guest's CR4.TSD
 *    (guest kernel only); rdmsr, wrmsr, mov to/from %crN and %drN,
 *    xsetbv (#UD: the guest's CR4.OSXSAVE is never set) in guest kernel
 *    mode;
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

/* The CPUID policy: the host's features minus what a PV guest cannot use
 * here. As Xen 4.17's default PV policy: VME, PSE, PGE, MTRR, PSE36, DS,
 * PBE, DTES64, DS_CPL, PDCM, MONITOR, VMX, SMX, SVM, x2APIC, 1 GiB pages
 * and the local APIC hidden (MCE/MCA stay: the vMCE of pv/cpuregs.c
 * answers their MSRs). Beyond Xen's: everything that needs XSAVE state
 * (XSAVE itself, AVX, FMA, F16C, AVX2, AVX-512, MPX, PKU, AMX, XOP, FMA4)
 * because pvcore switches only the FXSAVE image; FSGSBASE because guests
 * cannot set CR4.FSGSBASE here; PCID/INVPCID, SEP (no SYSENTER), ACPI,
 * TM/TM2/EST (no thermal or power MSRs), SMEP/SMAP. */
#define BIT(n) (1u << (n))
#define CPUID1_EDX_HIDDEN (BIT(1) | BIT(3) | BIT(9) | BIT(11) | BIT(12) | BIT(13) | BIT(17) | \
                           BIT(21) | BIT(22) | BIT(29) | BIT(31))
#define CPUID1_ECX_HIDDEN (BIT(2) | BIT(3) | BIT(4) | BIT(5) | BIT(6) | BIT(7) | BIT(8) | \
                           BIT(12) | BIT(15) | BIT(17) | BIT(21) | BIT(26) | BIT(27) | \
                           BIT(28) | BIT(29))
#define CPUID7_EBX_HIDDEN (BIT(0) | BIT(5) | BIT(7) | BIT(10) | BIT(14) | BIT(16) | BIT(17) | \
                           BIT(20) | BIT(21) | BIT(26) | BIT(27) | BIT(28) | BIT(30) | BIT(31))
#define CPUID7_ECX_HIDDEN (BIT(1) | BIT(3) | BIT(4) | BIT(6) | BIT(9) | BIT(10) | BIT(11) | \
                           BIT(12) | BIT(14))
#define CPUID7_EDX_HIDDEN (BIT(2) | BIT(3) | BIT(8) | BIT(22) | BIT(23) | BIT(24) | BIT(25))
#define CPUIDX1_ECX_HIDDEN (BIT(2) | BIT(11) | BIT(16))
#define CPUIDX1_EDX_HIDDEN BIT(26)

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
    switch (leaf) {
    case 0:
        r[0] = MIN(r[0], 0xdu);
        break;
    case 1:
        r[1] &= 0x00ffffffu;        /* no initial APIC id */
        r[2] &= ~CPUID1_ECX_HIDDEN;
        r[2] |= 1u << 31;           /* running on a hypervisor */
        r[3] &= ~CPUID1_EDX_HIDDEN;
        break;
    case 6:                         /* thermal and power: the hypervisor's */
    case 0xd:                       /* no XSAVE for guests */
        memset(r, 0, 16);
        break;
    case 7:
        if (sub == 0) {
            r[1] &= ~CPUID7_EBX_HIDDEN;
            r[2] &= ~CPUID7_ECX_HIDDEN;
            r[3] &= ~CPUID7_EDX_HIDDEN;
        } else {
            memset(r, 0, 16);
        }
        break;
    case 0x80000001:
        r[2] &= ~CPUIDX1_ECX_HIDDEN;
        r[3] &= ~CPUIDX1_EDX_HIDDEN;
        break;
    }
}

/* The forced-emulation cpuid (off the hot pages: rarely used). */
static __attribute__((noinline)) bool emulate_forced_cpuid(struct cpu_regs *regs)
{
    uint32_t r[4];
    guest_cpuid((uint32_t)regs->rax, (uint32_t)regs->rcx, r);
    regs->rax = r[0];
    regs->rbx = r[1];
    regs->rcx = r[2];
    regs->rdx = r[3];
    regs->rip += 7;
    return true;
}

__hot_path bool pv_emulate_forced(struct vcpu *v, struct cpu_regs *regs)
{
    /* ud2; 'xen'; cpuid (only cpuid is emulated): 0f 0b 78 65 6e 0f a2,
     * read as the two overlapping words at bytes 0-3 and 3-6, never a
     * byte beyond (checked on every #UD: two loads, not a copy routine
     * and a memcmp). */
    uint32_t head, tail;

    if (!guest_range_ok(regs->rip, 7))
        return false;
    guest_load(head, regs->rip, not_forced);
    if (head != 0x65780b0fu)
        return false;
    guest_load(tail, regs->rip + 3, not_forced);
    if (tail != 0xa20f6e65u)
        return false;
    return emulate_forced_cpuid(regs);
not_forced:
    return false;
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
    struct insn_prefixes pfx = { 0 };
    unsigned int got = fetch_insn(regs->rip, b, 15);

    for (; len < got && is_legacy_prefix(b[len]); len++) {
        pfx.opsize16 |= b[len] == 0x66;
        pfx.addr32 |= b[len] == 0x67;
        pfx.rep |= b[len] == 0xf3 || b[len] == 0xf2;
        if (b[len] == 0x26 || b[len] == 0x2e || b[len] == 0x36 || b[len] == 0x3e ||
            b[len] == 0x64 || b[len] == 0x65)
            pfx.seg = b[len];
    }
    if (len < got && (b[len] & 0xf0) == 0x40)   /* REX prefix, last */
        rex = b[len++];
    if (len >= got)
        return false;
    if (b[len] != 0x0f)
        return pv_emulate_io(v, regs, b, len, got, &pfx);
    if (got < len + 2)
        return false;

    uint8_t modrm = got > len + 2 ? b[len + 2] : 0;
    unsigned int crdr = ((modrm >> 3) & 7) | (rex & 4 ? 8 : 0);
    uint64_t *reg = gpr(regs, (modrm & 7) | (rex & 1 ? 8 : 0));
    uint64_t val;

    if (b[len + 1] == 0x31) {                /* rdtsc, under the guest's CR4.TSD */
        if (!pv_emulate_rdtsc(v, regs, false))
            return false;
        regs->rip += len + 2;
        return true;
    }
    if (b[len + 1] == 0x01 && modrm == 0xf9) {   /* rdtscp */
        if (!pv_emulate_rdtsc(v, regs, true))
            return false;
        regs->rip += len + 3;
        return true;
    }
    /* Everything below is for the guest kernel only (user mode: #GP). */
    if (!v->kernel_mode)
        return false;
    switch (b[len + 1]) {
    case 0x32:                               /* rdmsr */
        if (!pv_read_msr(v, (uint32_t)regs->rcx, &val))
            return false;
        regs->rax = (uint32_t)val;
        regs->rdx = val >> 32;
        regs->rip += len + 2;
        return true;
    case 0x30:                               /* wrmsr */
        val = ((uint64_t)(uint32_t)regs->rdx << 32) | (uint32_t)regs->rax;
        if (!pv_write_msr(v, (uint32_t)regs->rcx, val))
            return false;
        regs->rip += len + 2;
        return true;
    case 0x20:                               /* mov %crN, %reg */
        if ((modrm >> 6) != 3 || !pv_read_cr(v, crdr, &val))
            return false;
        *reg = val;
        regs->rip += len + 3;
        return true;
    case 0x22:                               /* mov %reg, %crN */
        if ((modrm >> 6) != 3 || !pv_write_cr(v, crdr, *reg))
            return false;
        regs->rip += len + 3;
        return true;
    case 0x21:                               /* mov %drN, %reg */
    case 0x23:                               /* mov %reg, %drN */
        /* As the CPU: DR8-15, and DR4/DR5 with CR4.DE, are #UD. */
        if (crdr > 7 || ((crdr == 4 || crdr == 5) && (pv_cr4(v) & (1UL << 3)))) {
            pv_inject_trap(v, regs, 6, false, 0);
            return true;
        }
        if ((modrm >> 6) != 3)
            return false;
        if (b[len + 1] == 0x21) {
            if (pv_get_debugreg(v, crdr, &val))
                return false;
            *reg = val;
        } else if (pv_set_debugreg(v, crdr, *reg)) {
            return false;
        }
        regs->rip += len + 3;
        return true;
    case 0x01:                               /* xsetbv: #UD while CR4.OSXSAVE */
        if (modrm != 0xd1)                   /* is clear, which it always is */
            return false;
        pv_inject_trap(v, regs, 6, false, 0);
        return true;
    default:
        return false;
    }
}
