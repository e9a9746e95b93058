/*
 * Test kernel: control and debug registers, MSRs and CPUID as a 64-bit PV
 * kernel sees them. The expected values were measured on Xen 4.17 (this
 * kernel as its dom0 under QEMU) and are what pvcore gives a domU:
 *
 * CPUID (forced emulation): VME, PSE, PGE, PSE36, DS, PBE, TM, DTES64,
 * DS_CPL, MONITOR, VMX, SMX, x2APIC, SVM, 1 GiB pages hidden, the
 * hypervisor bit set, MCE and MCA shown (with the vMCE MSRs below); MTRR
 * and APIC hidden unless privileged (Xen's dom0 sees them); on pvcore
 * also XSAVE/OSXSAVE/AVX (no XSAVE state) and ACPI. FSGSBASE and XSAVE
 * are shown exactly when CR4.FSGSBASE / CR4.OSXSAVE can be set.
 *
 * CR0: the TS bit follows writes (and fpu_taskswitch); changing any other
 * bit is #GP(0). CR4: PAE, OSFXSR, OSXMMEXCPT set; TSD (the kernel's
 * rdtsc/rdtscp keep working; usermode checks the user side) and DE
 * settable; PGE and
 * clearing PAE ignored, not refused. xsetbv with CR4.OSXSAVE clear: #UD.
 *
 * Debug registers (hypercalls and mov): DR6/DR7 start 0xffff0ff0/0x400,
 * DR4/DR5 alias them, numbers above 7 -ENODEV; DR0-3 take guest
 * addresses (hypervisor or non-canonical: -EPERM); DR6/DR7 above 32 bits
 * -EINVAL; DR7.GD and I/O breakpoints without CR4.DE -EPERM (mov: #GP);
 * with CR4.DE, DR4/DR5 are -ENODEV (mov: #UD, as the CPU);
 * a data breakpoint on a guest variable fires (#DB, DR6.B0); with CR4.DE
 * an I/O breakpoint on an emulated port fires after the access (DR6.B1);
 * the hypervisor writing a watched word for a hypercall goes on unharmed.
 *
 * MSRs: the values Xen 4.17 gives (vMCE with 2 banks, APIC base, EFER,
 * PLATFORM_INFO, MISC_ENABLE, PERF_CAPABILITIES, TSC_AUX, AMD HWCR and
 * DE_CFG, the hypervisor MSR base), #GP for the others Linux probes
 * (PLATFORM_ID, FEATURE_CONTROL, DEBUGCTL, MTRRs, STAR, ...), writes to
 * vMCE MSRs accepted, to DEBUGCTL / PAT / unknown MSRs #GP.
 */
#include "lib.h"

const char test_name[] = "cpuregs";

#define NONE          TRAP_NONE
#define GP            13ul
#define BIT(n)        (1u << (n))
#define CR0_TS        (1ul << 3)
#define CR0_WP        (1ul << 16)
#define CR4_TSD       (1ul << 2)
#define CR4_DE        (1ul << 3)
#define CR4_PAE       (1ul << 5)
#define CR4_PGE       (1ul << 7)
#define CR4_OSFXSR    (1ul << 9)
#define CR4_OSXMMEXCPT (1ul << 10)
#define CR4_FSGSBASE  (1ul << 16)
#define CR4_OSXSAVE   (1ul << 18)

static bool privileged, on_pvcore;

static void forced_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    uint32_t a = leaf, b = 0, c = sub, d = 0;

    probe_reset();
    __asm__ volatile(PROBE_ASM(".byte 0x0f, 0x0b\n .ascii \"xen\"\n cpuid")
                     : "+a"(a), "+b"(b), "+c"(c), "=d"(d) : : "memory");
    r[0] = a; r[1] = b; r[2] = c; r[3] = d;
}

static uint64_t rdmsr_probe(uint32_t msr)
{
    uint32_t lo = 0, hi = 0;
    probe_reset();
    __asm__ volatile(PROBE_ASM("rdmsr") : "=a"(lo), "=d"(hi) : "c"(msr) : "memory");
    return ((uint64_t)hi << 32) | lo;
}

static void wrmsr_probe(uint32_t msr, uint64_t v)
{
    probe_reset();
    __asm__ volatile(PROBE_ASM("wrmsr") : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
                     : "memory");
}

static uint64_t read_cr(unsigned int n)
{
    uint64_t v = 0;
    probe_reset();
    switch (n) {
    case 0: __asm__ volatile(PROBE_ASM("mov %%cr0, %0") : "=r"(v) : : "memory"); break;
    case 4: __asm__ volatile(PROBE_ASM("mov %%cr4, %0") : "=r"(v) : : "memory"); break;
    }
    return v;
}

static void write_cr(unsigned int n, uint64_t v)
{
    probe_reset();
    switch (n) {
    case 0: __asm__ volatile(PROBE_ASM("mov %0, %%cr0") : : "r"(v) : "memory"); break;
    case 4: __asm__ volatile(PROBE_ASM("mov %0, %%cr4") : : "r"(v) : "memory"); break;
    }
}


static void check_cpuid(void)
{
    uint32_t r[4], vendor[4];

    forced_cpuid(0, 0, vendor);
    forced_cpuid(1, 0, r);
    printk("cpuregs: cpuid 1: ecx %08x edx %08x\n", r[2], r[3]);
    static const struct { unsigned int reg, bit; const char *name; } hidden[] = {
        { 3, 1, "VME" }, { 3, 3, "PSE" }, { 3, 13, "PGE" }, { 3, 17, "PSE36" },
        { 3, 21, "DS" }, { 3, 29, "TM" }, { 3, 31, "PBE" }, { 2, 2, "DTES64" },
        { 2, 3, "MONITOR" }, { 2, 4, "DS_CPL" }, { 2, 5, "VMX" }, { 2, 6, "SMX" },
        { 2, 21, "x2APIC" },
    };
    for (unsigned int i = 0; i < ARRAY_SIZE(hidden); i++)
        test_ok(!(r[hidden[i].reg] & BIT(hidden[i].bit)), "cpuid 1 hides %s", hidden[i].name);
    test_ok(r[2] & BIT(31), "cpuid 1 hypervisor bit");
    test_ok(r[3] & BIT(7), "cpuid 1 shows MCE");
    test_ok(r[3] & BIT(14), "cpuid 1 shows MCA");
    if (!privileged) {
        test_ok(!(r[3] & BIT(12)), "cpuid 1 hides MTRR (unprivileged)");
        test_ok(!(r[3] & BIT(9)), "cpuid 1 hides the APIC (unprivileged)");
    }
    if (on_pvcore) {
        test_ok(!(r[2] & (BIT(26) | BIT(27) | BIT(28))), "pvcore hides XSAVE, OSXSAVE, AVX");
        test_ok(!(r[3] & BIT(22)), "pvcore hides ACPI");
    }
    bool xsave = r[2] & BIT(26);

    forced_cpuid(0x80000001, 0, r);
    test_ok(!(r[3] & BIT(26)), "cpuid 0x80000001 hides 1 GiB pages");
    test_ok(!(r[2] & BIT(2)), "cpuid 0x80000001 hides SVM");

    /* FSGSBASE / XSAVE shown exactly when CR4 can take the bit. */
    uint64_t cr4 = read_cr(4);
    forced_cpuid(7, 0, r);
    bool fsgsbase = r[1] & BIT(0);
    write_cr(4, cr4 | CR4_FSGSBASE);
    test_eq(last_trap.vector, NONE, "write CR4.FSGSBASE does not trap");
    test_eq(!!(read_cr(4) & CR4_FSGSBASE), fsgsbase,
            "CR4.FSGSBASE settable exactly when cpuid 7 shows FSGSBASE (%u)", fsgsbase);
    write_cr(4, cr4 | CR4_OSXSAVE);
    test_eq(!!(read_cr(4) & CR4_OSXSAVE), xsave,
            "CR4.OSXSAVE settable exactly when cpuid 1 shows XSAVE (%u)", xsave);
    write_cr(4, cr4);
    test_eq(read_cr(4), cr4, "CR4 back");
}

static void check_crs(void)
{
    uint64_t cr0 = read_cr(0), cr4 = read_cr(4);

    printk("cpuregs: cr0 %#lx cr4 %#lx\n", (unsigned long)cr0, (unsigned long)cr4);
    test_eq(cr0 & (BIT(0) | BIT(4) | CR0_WP | BIT(31)), BIT(0) | BIT(4) | CR0_WP | BIT(31),
            "CR0 has PE, ET, WP, PG");
    test_eq(cr0 & CR0_TS, 0, "CR0.TS clear");
    write_cr(0, cr0 | CR0_TS);
    test_eq(last_trap.vector, NONE, "set CR0.TS");
    test_eq(read_cr(0), cr0 | CR0_TS, "CR0.TS reads back");
    write_cr(0, cr0);
    test_eq(read_cr(0), cr0, "CR0.TS cleared again");
    test_eq(hypercall_fpu_taskswitch(1), 0, "fpu_taskswitch(1)");
    test_eq(read_cr(0), cr0 | CR0_TS, "fpu_taskswitch shows in CR0.TS");
    test_eq(hypercall_fpu_taskswitch(0), 0, "fpu_taskswitch(0)");
    write_cr(0, cr0 & ~CR0_WP);
    test_eq(last_trap.vector, GP, "clearing CR0.WP is a #GP");
    test_eq(last_trap.error_code, 0, "#GP(0)");
    test_eq(read_cr(0), cr0, "CR0 unchanged");

    test_eq(cr4 & (CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT,
            "CR4 has PAE, OSFXSR, OSXMMEXCPT");
    test_eq(cr4 & (CR4_TSD | CR4_DE | CR4_PGE | CR4_FSGSBASE | CR4_OSXSAVE), 0,
            "CR4 starts without TSD, DE, PGE, FSGSBASE, OSXSAVE");
    write_cr(4, cr4 | CR4_DE);
    test_eq(read_cr(4), cr4 | CR4_DE, "CR4.DE settable");
    write_cr(4, cr4 | CR4_PGE);
    test_eq(last_trap.vector, NONE, "writing CR4.PGE does not trap");
    test_eq(read_cr(4), cr4, "CR4.PGE ignored (and DE cleared by the same write)");
    write_cr(4, cr4 & ~CR4_PAE);
    test_eq(read_cr(4), cr4, "clearing CR4.PAE ignored");

    /* CR4.TSD: the kernel's rdtsc (and rdtscp) still work. */
    write_cr(4, cr4 | CR4_TSD);
    test_eq(read_cr(4), cr4 | CR4_TSD, "CR4.TSD settable");
    {
        uint32_t lo = 0, hi = 0, r[4];
        probe_reset();
        __asm__ volatile(PROBE_ASM("rdtsc") : "=a"(lo), "=d"(hi) : : "memory");
        test_eq(last_trap.vector, NONE, "rdtsc in the kernel with CR4.TSD");
        test_ok(lo || hi, "rdtsc value with CR4.TSD");
        forced_cpuid(0x80000001, 0, r);
        if (r[3] & BIT(27)) {
            uint32_t aux = 0x55;
            probe_reset();
            __asm__ volatile(PROBE_ASM("rdtscp") : "=a"(lo), "=d"(hi), "=c"(aux) : : "memory");
            test_eq(last_trap.vector, NONE, "rdtscp in the kernel with CR4.TSD");
        }
    }
    write_cr(4, cr4);
    test_eq(read_cr(4), cr4, "CR4.TSD cleared");

    probe_reset();
    __asm__ volatile(PROBE_ASM("xsetbv") : : "a"(1), "d"(0), "c"(0) : "memory");
    test_eq(last_trap.vector, 6ul, "xsetbv with CR4.OSXSAVE clear is #UD");
}

static long set_dr(unsigned int n, uint64_t v)
{
    return hypercall5(__HYPERVISOR_set_debugreg, n, v, 0, 0, 0);
}
static long get_dr(unsigned int n)
{
    return hypercall5(__HYPERVISOR_get_debugreg, n, 0, 0, 0, 0);
}

/* The watched word is the first of a buffer large enough for a
 * hypercall's output. */
static uint64_t watched_buf[4] ALIGNED(16);
#define watched (*(volatile uint64_t *)&watched_buf[0])

static void check_drs(void)
{
    uint64_t v = 0;

    for (unsigned int i = 0; i < 4; i++)
        test_eq(get_dr(i), 0, "DR%u starts 0", i);
    test_eq(get_dr(6), 0xffff0ff0, "DR6 starts 0xffff0ff0");
    test_eq(get_dr(7), 0x400, "DR7 starts 0x400");
    test_eq(get_dr(4), 0xffff0ff0, "DR4 aliases DR6");
    test_eq(get_dr(5), 0x400, "DR5 aliases DR7");
    test_eq(get_dr(8), -XEN_ENODEV, "get_debugreg(8)");
    test_eq(set_dr(8, 0), -XEN_ENODEV, "set_debugreg(8)");
    test_eq(set_dr(0, 0xffff830000000000ul), -XEN_EPERM, "DR0 in hypervisor space");
    test_eq(set_dr(0, 0x0000800000000000ul), -XEN_EPERM, "DR0 non-canonical");
    test_eq(set_dr(0, (uint64_t)&watched), 0, "DR0 = a kernel address");
    test_eq(get_dr(0), (uint64_t)&watched, "DR0 reads back");
    test_eq(set_dr(6, 1ul << 32), -XEN_EINVAL, "DR6 above 32 bits");
    test_eq(set_dr(7, 1ul << 32), -XEN_EINVAL, "DR7 above 32 bits");
    test_eq(set_dr(6, 0), 0, "DR6 = 0");
    test_eq(get_dr(6), 0xffff0ff0, "DR6 keeps its fixed ones");
    test_eq(set_dr(7, 0x2400), -XEN_EPERM, "DR7.GD");
    test_eq(set_dr(7, 0x20401), -XEN_EPERM, "an I/O breakpoint without CR4.DE");
    test_eq(set_dr(7, 0), 0, "DR7 = 0");
    test_eq(get_dr(7), 0x400, "DR7 keeps bit 10");

    probe_reset();
    __asm__ volatile(PROBE_ASM("mov %%db0, %0") : "=r"(v) : : "memory");
    test_eq(last_trap.vector, NONE, "mov from DR0");
    test_eq(v, (uint64_t)&watched, "mov from DR0 value");
    probe_reset();
    __asm__ volatile(PROBE_ASM("mov %0, %%db1") : : "r"(0x2000ul) : "memory");
    test_eq(get_dr(1), 0x2000, "mov to DR1");
    probe_reset();
    __asm__ volatile(PROBE_ASM("mov %%db4, %0") : "=r"(v) : : "memory");
    test_eq(v, 0xffff0ff0, "mov from DR4 (alias of DR6)");
    probe_reset();
    __asm__ volatile(PROBE_ASM("mov %0, %%db7") : : "r"(0x2400ul) : "memory");
    test_eq(last_trap.vector, GP, "mov to DR7 with GD is #GP");

    /* DR4/DR5 with CR4.DE: -ENODEV, mov #UD. */
    uint64_t cr4 = read_cr(4);
    write_cr(4, cr4 | CR4_DE);
    test_eq(get_dr(4), -XEN_ENODEV, "DR4 with CR4.DE");
    test_eq(set_dr(5, 0x400), -XEN_ENODEV, "DR5 with CR4.DE");
    probe_reset();
    __asm__ volatile(PROBE_ASM("mov %%db5, %0") : "=r"(v) : : "memory");
    test_eq(last_trap.vector, 6ul, "mov from DR5 with CR4.DE is #UD");
    write_cr(4, cr4);

    /* An I/O breakpoint (CR4.DE, R/W 10b) on port 0x21, which the
     * hypervisor emulates: #DB after the inb, DR6.B1, DR7 reads back. */
    {
        struct physdev_set_iopl io = { .iopl = 1 };
        uint8_t al = 0;
        test_eq(hypercall_physdev_op(PHYSDEVOP_set_iopl, &io), 0, "set_iopl(1)");
        write_cr(4, cr4 | CR4_DE);
        test_eq(set_dr(1, 0x21), 0, "DR1 = port 0x21");
        uint64_t dr7 = 0x400 | (1ul << 2) | (2ul << 20);        /* L1, I/O, 1 byte */
        test_eq(set_dr(7, dr7), 0, "DR7: I/O breakpoint 1 with CR4.DE");
        test_eq(get_dr(7), dr7, "DR7 reads back the I/O breakpoint");
        probe_reset();
        __asm__ volatile(PROBE_ASM("inb $0x20, %%al") : "+a"(al) : : "memory");
        test_eq(last_trap.vector, NONE, "inb 0x20: not covered");
        probe_reset();
        __asm__ volatile(PROBE_ASM("inb $0x21, %%al") : "+a"(al) : : "memory");
        printk("cpuregs: inb 0x21 under an I/O breakpoint: %s, DR6 %#lx\n",
               trap_name(last_trap.vector), (unsigned long)get_dr(6));
        test_eq(last_trap.vector, 1ul, "inb 0x21 raises #DB");
        test_ok(get_dr(6) & 2, "DR6.B1 names breakpoint 1");
        test_eq(al, 0xff, "the inb itself was carried out");
        test_eq(set_dr(7, 0), 0, "breakpoints off");
        test_eq(set_dr(6, 0), 0, "DR6 cleared");
        write_cr(4, cr4);
        test_eq(set_dr(1, 0), 0, "DR1 = 0");
    }

    /* A data breakpoint: DR0 = &watched, L0, write, 8 bytes. */
    test_eq(set_dr(0, (uint64_t)&watched), 0, "DR0 = &watched");
    memset(watched_buf, 0, sizeof(watched_buf));
    test_eq(set_dr(7, 0x400 | 1 | (1ul << 16) | (2ul << 18)), 0, "DR7: L0, write, 8 bytes");
    probe_reset();
    __asm__ volatile(PROBE_ASM("movq $1, %0") : "=m"(watched) : : "memory");
    printk("cpuregs: write to the watched word: %s, DR6 %#lx\n", trap_name(last_trap.vector),
           (unsigned long)get_dr(6));
    test_eq(last_trap.vector, 1ul, "the watched write raises #DB");
    test_ok(get_dr(6) & 1, "DR6.B0 names breakpoint 0");
    test_eq(set_dr(6, 0), 0, "DR6 cleared");

    /* The hypervisor writing the watched word (a hypercall's output) hits
     * the guest's breakpoint in hypervisor context: the hypervisor goes
     * on, the hypercall works, no #DB reaches the guest. */
    probe_reset();
    long rc = hypercall_xen_version(XENVER_extraversion, (void *)watched_buf);
    printk("cpuregs: hypercall writing the watched word: rc %ld, %s, DR6 %#lx\n", rc,
           trap_name(last_trap.vector), (unsigned long)get_dr(6));
    test_eq(rc, 0, "xen_version(extraversion) into the watched word");
    test_eq(last_trap.vector, NONE, "no #DB for the hypervisor's own write");
    test_ok(((char *)watched_buf)[0] != 0, "the hypercall wrote its output");
    test_eq(set_dr(7, 0), 0, "breakpoints off");
    test_eq(set_dr(6, 0), 0, "DR6 cleared");
    probe_reset();
    watched = 2;
    test_eq(last_trap.vector, NONE, "no #DB once DR7 is off");
}

static void check_msrs(void)
{
    static const struct { uint32_t msr; bool gp; uint64_t val; bool check_val; } rd[] = {
        { 0x10, false, 0, false },              /* TSC */
        { 0x17, true, 0, false },               /* PLATFORM_ID */
        { 0x1b, false, 0xfee00900, true },      /* APIC base: BSP, enabled */
        { 0x3a, true, 0, false },               /* FEATURE_CONTROL */
        { 0x8b, false, 0, false },              /* microcode revision */
        { 0xce, false, 0, true },               /* PLATFORM_INFO */
        { 0xfe, true, 0, false },               /* MTRRcap */
        { 0x140, false, 0, true },              /* MISC_FEATURES_ENABLES */
        { 0x179, false, 2, true },              /* MCG_CAP: 2 banks */
        { 0x17a, false, 0, true },              /* MCG_STATUS */
        { 0x17b, false, 0, true },              /* MCG_CTL */
        { 0x1a0, false, 0x801801, true },       /* MISC_ENABLE */
        { 0x1d9, true, 0, false },              /* DEBUGCTL */
        { 0x277, false, 0, false },             /* PAT */
        { 0x280, false, 0, true },              /* MC0_CTL2 */
        { 0x2ff, true, 0, false },              /* MTRRdefType */
        { 0x345, false, 0, true },              /* PERF_CAPABILITIES */
        { 0x38d, true, 0, false },              /* FIXED_CTR_CTRL */
        { 0x400, false, ~0ul, true },           /* MC0_CTL */
        { 0x401, false, 0, true },              /* MC0_STATUS */
        { 0x404, false, ~0ul, true },           /* MC1_CTL */
        { 0x406, false, 0, true },              /* MC1_ADDR */
        { 0x408, false, 0, true },              /* MC2_CTL: beyond the banks */
        { 0x480, true, 0, false },              /* VMX_BASIC */
        { 0x600, true, 0, false },              /* DS_AREA */
        { 0x6e0, true, 0, false },              /* TSC_DEADLINE */
        { 0xc0000081, true, 0, false },         /* STAR */
        { 0xc0000103, false, 0, true },         /* TSC_AUX */
        { 0xc0010114, true, 0, false },         /* VM_CR */
        { 0x4b564d00, true, 0, false },         /* KVM's */
        { 0x40000000, false, 0, true },         /* hypervisor MSR base */
    };
    for (unsigned int i = 0; i < ARRAY_SIZE(rd); i++) {
        uint64_t v = rdmsr_probe(rd[i].msr);
        test_eq(last_trap.vector, rd[i].gp ? GP : NONE, "rdmsr %#x: %s", rd[i].msr,
                rd[i].gp ? "#GP" : "read");
        if (!rd[i].gp && rd[i].check_val)
            test_eq(v, rd[i].val, "rdmsr %#x value", rd[i].msr);
    }
    uint64_t efer = rdmsr_probe(0xc0000080);
    test_eq(efer & 0x501, 0x501, "EFER has SCE, LME, LMA");

    uint32_t r[4];
    forced_cpuid(0, 0, r);
    if (r[1] == 0x68747541u) {                  /* AuthenticAMD */
        test_eq(rdmsr_probe(0xc0010015), 0, "AMD HWCR");
        test_eq(rdmsr_probe(0xc0011029), 2, "AMD DE_CFG: LFENCE serialising");
    }

    static const struct { uint32_t msr; uint64_t val; bool gp; } wr[] = {
        { 0x179, 0, false }, { 0x17a, 0, false }, { 0x401, 0, false },
        { 0x1d9, 0, true }, { 0x277, 0x0007040600070406ul, true }, { 0x4b564d00, 0, true },
    };
    for (unsigned int i = 0; i < ARRAY_SIZE(wr); i++) {
        wrmsr_probe(wr[i].msr, wr[i].val);
        test_eq(last_trap.vector, wr[i].gp ? GP : NONE, "wrmsr %#x: %s", wr[i].msr,
                wr[i].gp ? "#GP" : "accepted");
    }
}

void test_main(void)
{
    xen_extraversion_t extra;

    memset(extra, 0, sizeof(extra));
    hypercall_xen_version(XENVER_extraversion, extra);
    on_pvcore = strstr(extra, "pvcore") != NULL;
    privileged = start_info->flags & SIF_PRIVILEGED;
    printk("cpuregs: on %s, %s\n", on_pvcore ? "pvcore" : "Xen",
           privileged ? "privileged" : "unprivileged");
    check_crs();
    check_cpuid();
    check_drs();
    check_msrs();
}
