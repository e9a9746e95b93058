/*
 * Test kernel: guest descriptor tables, forced-emulation cpuid and the
 * `int $0x82` gate.
 *
 * set_gdt: one GDT frame (flat 64-bit DPL-3 code, DPL-3 data, DPL-3 data
 * with a 32-bit base), mapped read-only first; selectors with RPL 3 are
 * loaded into %es and %fs and used (in 64-bit mode `mov` to %fs takes the
 * FS base from the descriptor's low 32 bits). update_descriptor rewrites
 * an entry through its machine address and the change is seen after a
 * reload. Refusals shared by Xen 4.17 and pvcore (-EINVAL): system
 * descriptors (TSS, LDT), a misaligned update_descriptor address, set_gdt
 * with more than 14 pages of entries, set_gdt of a frame still mapped
 * writable; and a frame in use as GDT cannot be mapped writable (-EBUSY).
 * DPL fix-up (Xen's check_descriptor, shared by pvcore): a DPL-0 code or
 * data descriptor is accepted with its DPL raised to 3 (in the GDT frame
 * itself for set_gdt, whose frames are checked whole: a TSS in an entry
 * beyond the GDT's limit still refuses the frame, the entries before it
 * staying fixed up); a call gate is
 * accepted with DPL 0 and the given DPL (raised to 3) in the target
 * selector's RPL, so an lcall through it faults; a gate to a hypervisor
 * selector, with a reserved bit set, and interrupt / trap gates are
 * refused; a present type-0 system descriptor (a gate's upper half) is
 * stored as given.
 * Forced emulation (`ud2a; .ascii "xen"; cpuid`): leaf 0x40000000 is the
 * "XenVMMXenVMM" signature with at least leaves up to 0x40000002; leaf 1
 * has the hypervisor bit (ecx bit 31).
 *
 * `int $0x82` from guest kernel mode: a hypercall on pvcore (same result
 * as the hypercall page), a #GP on 64-bit Xen (the gate is for 32-bit PV
 * guests; error code 0x82*8+2, or 0x82*16+2 under QEMU TCG, with #OF made
 * DPL 0 so that Xen's misread vector does not become an `into`). pvcore is
 * recognised by "pvcore" in XENVER_extraversion.
 */
#include "lib.h"

const char test_name[] = "descriptors";

#define LOW_VA        0x0000000040000000ul  /* below 4 GiB: a 32-bit base */
#define FS_BASE_A     (LOW_VA + 0x120)
#define FS_BASE_B     (LOW_VA + 0x240)
#define GDT_ENTRIES   16

/* GDT slots */
#define GDT_CODE      1
#define GDT_DATA      2
#define GDT_BASED     3
#define GDT_UPDATE    4
#define GDT_SCRATCH   5
#define GDT_GATE      6                     /* 16 bytes: 6 and 7 */
#define SEL(i)        ((uint16_t)(((i) << 3) | 3))   /* TI=0, RPL 3 */

#define DESC_P        (1ul << 47)

/* A code/data/system descriptor: limit in 4 KiB units when G is set. */
static uint64_t desc(uint32_t base, uint32_t limit, unsigned int type,
                     bool s, unsigned int dpl, bool l, bool db, bool g)
{
    return (limit & 0xffffull) | ((uint64_t)(base & 0xffffff) << 16) |
           ((uint64_t)(type & 0xf) << 40) | ((uint64_t)s << 44) |
           ((uint64_t)(dpl & 3) << 45) | DESC_P |
           ((uint64_t)((limit >> 16) & 0xf) << 48) | ((uint64_t)l << 53) |
           ((uint64_t)db << 54) | ((uint64_t)g << 55) |
           ((uint64_t)(base >> 24) << 56);
}

/* Accessed bits set so the CPU never has to write the (read-only) GDT. */
static uint64_t code64(unsigned int dpl)
{
    return desc(0, 0xfffff, 0xb, true, dpl, true, false, true);
}
static uint64_t data(uint32_t base, unsigned int dpl)
{
    return desc(base, 0xfffff, 0x3, true, dpl, false, true, true);
}

/* The low 8 bytes of a 64-bit gate (the upper 8 hold offset bits 63:32). */
static uint64_t gate(uint64_t target, uint16_t sel, unsigned int type, unsigned int dpl)
{
    return (target & 0xffff) | ((uint64_t)sel << 16) | ((uint64_t)(type & 0xf) << 40) |
           ((uint64_t)(dpl & 3) << 45) | DESC_P | (((target >> 16) & 0xffff) << 48);
}

static uint64_t *gdt;          /* the GDT frame (read-only after setup) */
static uint64_t gdt_mfn;
static uint8_t *low_page;      /* the page mapped at LOW_VA */
static bool on_pvcore;

static uint64_t entry_maddr(unsigned int i)
{
    return (gdt_mfn << PAGE_SHIFT) + i * 8;
}

static uint16_t read_es(void)
{
    uint16_t s;
    __asm__ volatile("mov %%es, %0" : "=r"(s));
    return s;
}
static uint16_t read_fs(void)
{
    uint16_t s;
    __asm__ volatile("mov %%fs, %0" : "=r"(s));
    return s;
}

static void detect_hypervisor(void)
{
    xen_extraversion_t extra;

    memset(extra, 0, sizeof(extra));
    test_eq(hypercall_xen_version(XENVER_extraversion, extra), 0,
            "XENVER_extraversion");
    extra[sizeof(extra) - 1] = 0;
    on_pvcore = strstr(extra, "pvcore") != NULL;
    printk("descriptors: extraversion \"%s\": running on %s\n", extra,
           on_pvcore ? "pvcore" : "Xen");
}

static void setup_low_page(void)
{
    low_page = page_alloc();
    for (unsigned int i = 0; i < PAGE_SIZE; i++)
        low_page[i] = (uint8_t)(i * 7 + 3);
    test_eq(mm_ensure_l1(LOW_VA), 0, "L1 table for the low page");
    test_eq(hypercall_update_va_mapping(LOW_VA,
                (virt_to_mfn(low_page) << PAGE_SHIFT) | PTE_PAGE | PTE_US,
                UVMF_INVLPG), 0, "map the low page at %#lx",
            (unsigned long)LOW_VA);
}

/* A 64-bit TSS descriptor in entry 500 (beyond the GDT's 16 entries)
 * refuses the frame; the entry is then cleared again through a writable
 * mapping (the frame is not a GDT yet). */
static void gdt_mfn_tss_probe(xen_pfn_t *frames)
{
    test_eq(page_set_writable(gdt, true), 0, "GDT frame writable again");
    gdt[500] = desc(0x1000, 0x67, 0x9, false, 3, false, false, false);
    test_eq(page_set_writable(gdt, false), 0, "GDT frame read-only");
    test_eq(hypercall_set_gdt(frames, GDT_ENTRIES), -XEN_EINVAL,
            "set_gdt of a frame with a TSS descriptor in entry 500");
    /* As Xen: entries checked before the refused one stay fixed up. */
    test_eq(gdt[GDT_CODE], code64(3), "refused set_gdt: entries before entry 500 fixed up");
    test_eq(gdt[GDT_DATA], data(0, 3), "refused set_gdt: data entry fixed up");
    test_eq(page_set_writable(gdt, true), 0, "GDT frame writable again");
    gdt[500] = 0;
    test_eq(page_set_writable(gdt, false), 0, "GDT frame read-only");
}

static void check_set_gdt(void)
{
    xen_pfn_t frames[1];
    uint64_t v = 0, want;
    uint16_t es = read_es();

    gdt = page_alloc();
    gdt[GDT_CODE] = code64(0);              /* fixed up to DPL 3 */
    gdt[GDT_DATA] = data(0, 1);             /* fixed up to DPL 3 */
    gdt[GDT_BASED] = data((uint32_t)FS_BASE_A, 3);
    gdt[GDT_UPDATE] = data((uint32_t)FS_BASE_A, 3);
    gdt_mfn = virt_to_mfn(gdt);
    frames[0] = gdt_mfn;

    /* Still mapped writable: the frame cannot become a descriptor page. */
    test_eq(hypercall_set_gdt(frames, GDT_ENTRIES), -XEN_EINVAL,
            "set_gdt of a frame mapped writable");
    test_eq(page_set_writable(gdt, false), 0, "map the GDT frame read-only");
    test_eq(hypercall_set_gdt(frames, 14 * 512 + 1), -XEN_EINVAL,
            "set_gdt with 14*512+1 entries");
    /* Every entry of the frame is checked, not only the first GDT_ENTRIES. */
    gdt_mfn_tss_probe(frames);
    test_eq(hypercall_set_gdt(frames, GDT_ENTRIES), 0,
            "set_gdt: one frame, %u entries", GDT_ENTRIES);
    test_eq(gdt[GDT_CODE], code64(3), "set_gdt raised the DPL-0 code descriptor to DPL 3");
    test_eq(gdt[GDT_DATA], data(0, 3), "set_gdt raised the DPL-1 data descriptor to DPL 3");
    {
        long rc = page_set_writable(gdt, true);
        printk("descriptors: writable mapping of the GDT frame = %ld\n", rc);
        test_eq(rc, -XEN_EBUSY,
                "a frame in use as GDT cannot be mapped writable");
        if (rc == 0)
            page_set_writable(gdt, false);
    }

    /* %es through the flat DPL-3 data descriptor. */
    probe_reset();
    __asm__ volatile("mov %w2, %%es\n" PROBE_ASM("movq %%es:(%1), %0")
                     "mov %w3, %%es\n"
                     : "=&r"(v) : "r"(low_page + 64), "r"(SEL(GDT_DATA)),
                       "r"(es) : "memory");
    test_eq(last_trap.vector, TRAP_NONE, "load %%es with %#x and read",
            SEL(GDT_DATA));
    test_eq(v, *(uint64_t *)(low_page + 64), "read through %%es = %#x",
            SEL(GDT_DATA));

    /* %fs through the based descriptor: base = low 32 bits. */
    probe_reset();
    __asm__ volatile("mov %w1, %%fs\n" PROBE_ASM("movq %%fs:0, %0")
                     : "=&r"(v) : "r"(SEL(GDT_BASED)) : "memory");
    test_eq(last_trap.vector, TRAP_NONE, "mov %#x to %%fs and read %%fs:0",
            SEL(GDT_BASED));
    want = *(uint64_t *)(low_page + (FS_BASE_A - LOW_VA));
    test_eq(v, want, "%%fs:0 reads the memory at the descriptor base %#lx",
            (unsigned long)FS_BASE_A);
    test_eq(read_fs(), SEL(GDT_BASED), "%%fs holds the selector");
}

static void check_update_descriptor(void)
{
    uint64_t v = 0, nd = data((uint32_t)FS_BASE_B, 3);

    test_eq(hypercall_update_descriptor(entry_maddr(GDT_UPDATE), nd), 0,
            "update_descriptor: entry %u to base %#lx", GDT_UPDATE,
            (unsigned long)FS_BASE_B);
    test_eq(gdt[GDT_UPDATE], nd, "updated entry in the GDT frame");
    probe_reset();
    __asm__ volatile("mov %w1, %%fs\n" PROBE_ASM("movq %%fs:0, %0")
                     : "=&r"(v) : "r"(SEL(GDT_UPDATE)) : "memory");
    test_eq(last_trap.vector, TRAP_NONE, "reload %%fs with %#x",
            SEL(GDT_UPDATE));
    test_eq(v, *(uint64_t *)(low_page + (FS_BASE_B - LOW_VA)),
            "%%fs:0 after update_descriptor reads at the new base %#lx",
            (unsigned long)FS_BASE_B);
    /* Back to the null selector before touching more entries. */
    __asm__ volatile("mov %w0, %%fs" : : "r"(0));
    test_eq(hypercall_set_segment_base(SEGBASE_FS, 0), 0, "FS base back to 0");

    /* Not present: always accepted; then a fresh DPL-3 data descriptor. */
    test_eq(hypercall_update_descriptor(entry_maddr(GDT_SCRATCH), 0), 0,
            "update_descriptor: not-present entry");
    test_eq(hypercall_update_descriptor(entry_maddr(GDT_SCRATCH), data(0, 3)),
            0, "update_descriptor: DPL-3 data");

    /* Misaligned address. */
    test_eq(hypercall_update_descriptor(entry_maddr(GDT_SCRATCH) + 4,
                                        data(0, 3)), -XEN_EINVAL,
            "update_descriptor at a misaligned address");
    test_eq(hypercall_update_descriptor(entry_maddr(GDT_SCRATCH) + 1,
                                        data(0, 3)), -XEN_EINVAL,
            "update_descriptor at maddr+1");
    test_eq(gdt[GDT_SCRATCH], data(0, 3), "scratch entry unchanged");

    /* System descriptors: 64-bit TSS (type 9) and LDT (type 2), DPL 0/3. */
    static const unsigned int sys_types[] = { 0x9, 0xb, 0x2 };
    for (unsigned int i = 0; i < ARRAY_SIZE(sys_types); i++)
        for (unsigned int dpl = 0; dpl <= 3; dpl += 3) {
            uint64_t d = desc(0x1000, 0x67, sys_types[i], false, dpl, false,
                              false, false);
            test_eq(hypercall_update_descriptor(entry_maddr(GDT_SCRATCH), d),
                    -XEN_EINVAL, "update_descriptor: system type %#x DPL %u",
                    sys_types[i], dpl);
        }
    test_eq(gdt[GDT_SCRATCH], data(0, 3),
            "scratch entry unchanged after system descriptors");

    /* DPL-0 code and DPL-1 data: accepted with the DPL raised to 3. */
    test_eq(hypercall_update_descriptor(entry_maddr(GDT_SCRATCH), code64(0)), 0,
            "update_descriptor: DPL-0 code");
    test_eq(gdt[GDT_SCRATCH], code64(3), "DPL-0 code stored as DPL 3");
    test_eq(hypercall_update_descriptor(entry_maddr(GDT_SCRATCH), data(0, 1)), 0,
            "update_descriptor: DPL-1 data");
    test_eq(gdt[GDT_SCRATCH], data(0, 3), "DPL-1 data stored as DPL 3");

    /* A present type-0 system descriptor: stored as given. */
    {
        uint64_t t0 = DESC_P | 0x1234;
        test_eq(hypercall_update_descriptor(entry_maddr(GDT_SCRATCH), t0), 0,
                "update_descriptor: present type-0 system descriptor");
        test_eq(gdt[GDT_SCRATCH], t0, "type-0 descriptor stored unchanged");
    }

    /* 64-bit call gates to FLAT_KERNEL_CS. */
    {
        uint64_t target = (uint64_t)&check_update_descriptor;
        uint64_t hi = target >> 32;
        struct { uint64_t off; uint16_t sel; } __attribute__((packed)) far =
            { 0, SEL(GDT_GATE) };

        test_eq(hypercall_update_descriptor(entry_maddr(GDT_GATE + 1), hi), 0,
                "update_descriptor: upper half of a call gate (type 0)");
        /* Refused: a hypervisor selector, FLAT_KERNEL_CS with RPL 0, a
         * reserved bit, interrupt and trap gates. */
        test_eq(hypercall_update_descriptor(entry_maddr(GDT_GATE),
                                            gate(target, 0xe008, 0xc, 3)),
                -XEN_EINVAL, "call gate to the hypervisor's 0xe008");
        test_eq(hypercall_update_descriptor(entry_maddr(GDT_GATE),
                                            gate(target, FLAT_KERNEL_CS & ~3, 0xc, 3)),
                -XEN_EINVAL, "call gate to FLAT_KERNEL_CS with RPL 0");
        test_eq(hypercall_update_descriptor(entry_maddr(GDT_GATE),
                                            gate(target, FLAT_KERNEL_CS, 0xc, 3) | (1ul << 32)),
                -XEN_EINVAL, "call gate with a reserved bit (IST) set");
        test_eq(hypercall_update_descriptor(entry_maddr(GDT_GATE),
                                            gate(target, FLAT_KERNEL_CS, 0xe, 3)),
                -XEN_EINVAL, "interrupt gate in the GDT");
        test_eq(hypercall_update_descriptor(entry_maddr(GDT_GATE),
                                            gate(target, FLAT_KERNEL_CS, 0xf, 3)),
                -XEN_EINVAL, "trap gate in the GDT");
        test_eq(gdt[GDT_GATE], 0, "refused gates left the entry");

        /* Accepted: DPL forced to 0, the DPL (3) kept in the selector RPL. */
        test_eq(hypercall_update_descriptor(entry_maddr(GDT_GATE),
                                            gate(target, FLAT_KERNEL_CS & ~3u, 0xc, 3) |
                                            ((uint64_t)FLAT_KERNEL_CS << 16)), 0,
                "update_descriptor: call gate DPL 3 to FLAT_KERNEL_CS");
        printk("descriptors: call gate stored as %#lx\n", (unsigned long)gdt[GDT_GATE]);
        test_eq(gdt[GDT_GATE], gate(target, FLAT_KERNEL_CS, 0xc, 0),
                "call gate stored with DPL 0, target %#x", FLAT_KERNEL_CS);
        /* A gate given DPL 0 to a guest selector: its RPL becomes 3. */
        test_eq(hypercall_update_descriptor(entry_maddr(GDT_SCRATCH),
                                            gate(target, SEL(GDT_CODE) & ~3u, 0xc, 0)), 0,
                "update_descriptor: call gate DPL 0 to guest selector %#x",
                SEL(GDT_CODE) & ~3u);
        test_eq(gdt[GDT_SCRATCH], gate(target, SEL(GDT_CODE), 0xc, 0),
                "gate's target selector RPL raised to 3");
        test_eq(hypercall_update_descriptor(entry_maddr(GDT_SCRATCH), data(0, 3)), 0,
                "scratch entry back to data");

        probe_reset();
        __asm__ volatile(PROBE_ASM("rex64 lcall *(%0)")
                         : : "r"(&far) : "memory");
        test_eq(last_trap.vector, 13,
                "lcall through the gate selector %#x is a #GP (got %s, error %#lx)",
                SEL(GDT_GATE), trap_name(last_trap.vector),
                (unsigned long)last_trap.error_code);
        test_eq(last_trap.error_code, SEL(GDT_GATE) & ~3u,
                "#GP error code names the gate");
    }

    /* The GDT still works after all the refusals. */
    {
        uint16_t es = read_es();
        uint64_t v2 = 0;

        probe_reset();
        __asm__ volatile("mov %w2, %%es\n" PROBE_ASM("movq %%es:(%1), %0")
                         "mov %w3, %%es\n"
                         : "=&r"(v2) : "r"(low_page), "r"(SEL(GDT_DATA)),
                           "r"(es) : "memory");
        test_eq(last_trap.vector, TRAP_NONE, "%%es = %#x still loads",
                SEL(GDT_DATA));
        test_eq(v2, *(uint64_t *)low_page, "read through %%es again");
    }
}

static void forced_cpuid(uint32_t leaf, uint32_t r[4])
{
    uint32_t a = leaf, b = 0, c = 0, d = 0;

    probe_reset();
    __asm__ volatile(PROBE_ASM(".byte 0x0f, 0x0b\n .ascii \"xen\"\n cpuid")
                     : "+a"(a), "+b"(b), "+c"(c), "=d"(d) : : "memory");
    r[0] = a; r[1] = b; r[2] = c; r[3] = d;
}

static void check_forced_cpuid(void)
{
    uint32_t r[4];
    char sig[13];

    forced_cpuid(0x40000000, r);
    test_eq(last_trap.vector, TRAP_NONE, "forced-emulation cpuid is emulated");
    memcpy(sig, &r[1], 4);
    memcpy(sig + 4, &r[2], 4);
    memcpy(sig + 8, &r[3], 4);
    sig[12] = 0;
    printk("descriptors: cpuid 0x40000000: eax %#x \"%s\"\n", r[0], sig);
    test_ok(memcmp(sig, "XenVMMXenVMM", 12) == 0,
            "leaf 0x40000000 signature is XenVMMXenVMM (got \"%s\")", sig);
    test_ok(r[0] >= 0x40000002u && r[0] < 0x40000100u,
            "leaf 0x40000000 eax >= 0x40000002 (got %#x)", r[0]);

    forced_cpuid(1, r);
    test_eq(last_trap.vector, TRAP_NONE, "forced-emulation cpuid leaf 1");
    test_ok(r[2] & (1u << 31), "leaf 1 ecx hypervisor bit (ecx %#x)", r[2]);
}

extern char entry_of[];          /* guests/lib/entry.S */

static void check_int82(void)
{
    long page_rc = hypercall_xen_version(XENVER_version, NULL);
    uint64_t rax = __HYPERVISOR_xen_version, rdi = XENVER_version, rsi = 0;
    uint64_t rip;
    /* #OF to DPL 0 (the library gives it DPL 3 for `into`). Under QEMU
     * TCG the #GP for `int $0x82` carries 0x82*16+2 = 0x822 and Xen 4.17
     * takes (uint8_t)(0x822 >> 3) = 4 as the vector: with #OF at DPL 3 it
     * injects #OF instead of the #GP (docs/guests.md, "The QEMU int $N
     * quirk"). With DPL 0 the #GP is passed on as it is. */
    trap_info_t of[2] = {
        { .vector = 4, .flags = TI_IF_MASK, .cs = FLAT_KERNEL_CS,
          .address = (uint64_t)entry_of },
        { 0 },
    };

    test_eq(hypercall_set_trap_table(of), 0, "set_trap_table: #OF DPL 0");
    probe_reset();
    __asm__ volatile("lea 1f(%%rip), %0\n" PROBE_ASM("int $0x82")
                     : "=&r"(rip), "+a"(rax), "+D"(rdi), "+S"(rsi)
                     : : "memory", "rcx", "rdx", "r8", "r9", "r10", "r11");
    printk("descriptors: int $0x82 xen_version: rax %#lx, trap %s error "
           "%#lx (hypercall page: %#lx)\n", (unsigned long)rax,
           trap_name(last_trap.vector), (unsigned long)last_trap.error_code,
           (unsigned long)page_rc);
    test_ok(page_rc > 0, "xen_version(XENVER_version) through the page");
    if (on_pvcore) {
        test_eq(last_trap.vector, TRAP_NONE, "pvcore: int $0x82 does not trap");
        test_eq(rax, page_rc,
                "pvcore: int $0x82 xen_version = hypercall page result");
    } else {
        test_eq(last_trap.vector, 13, "Xen 64-bit: int $0x82 is a #GP");
        /* vector*8+2; QEMU TCG reports vector*16+2 (docs/guests.md). */
        test_ok(last_trap.error_code == 0x82 * 8 + 2 ||
                last_trap.error_code == 0x82 * 16 + 2,
                "#GP error code for int $0x82 (got %#lx)",
                (unsigned long)last_trap.error_code);
        test_eq(last_trap.rip, rip, "#GP points at the int $0x82");
        test_eq(rax, __HYPERVISOR_xen_version, "rax untouched by the #GP");
    }
}

void test_main(void)
{
    uint16_t es = read_es(), fs = read_fs();

    detect_hypervisor();
    setup_low_page();
    check_set_gdt();
    check_update_descriptor();
    __asm__ volatile("mov %w0, %%es\n mov %w1, %%fs" : : "r"(es), "r"(fs));
    check_forced_cpuid();
    check_int82();
}
