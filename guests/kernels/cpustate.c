/*
 * Test kernel: the CPU state a PV kernel touches, and privileged hypercalls.
 *
 * Callbacks (CALLBACKOP_register as Xen 4.17 takes it for 64-bit PV):
 * event, failsafe, syscall, syscall32, sysenter and nmi register (0);
 * sysenter_deprecated and unknown types are -ENOSYS; a non-canonical
 * address is -EINVAL; unregister is -EINVAL for everything but nmi;
 * set_callbacks ignores a non-canonical address and returns 0; nmi_op
 * registers and unregisters the same NMI callback.
 *
 * iret hypercall with a non-canonical return address (guest kernel mode):
 * a #GP(0) at that address, delivered through the guest's IDT.
 *
 * Virtual IOPL (PHYSDEVOP_set_iopl, VMASST_TYPE_architectural_iopl): with
 * IOPL 0 the kernel's in/out/cli/sti are #GP(0); with IOPL 1 they run:
 * reads of ports nobody gave the domain are all ones and writes dropped
 * (the ports used here are denied to Xen's dom0 as well), the CMOS index
 * (0x70) and the PCI address register (0xcf8, 32-bit) read back what was
 * written, cli/sti change nothing; rep ins/outs move all ones in and drop
 * what goes out, stepping rdi/rsi/rcx (DF too), and a guest address that
 * cannot be written is a #PF at it. With architectural_iopl the kernel
 * counts as ring 0 (I/O always allowed) and exception frames show the
 * virtual IOPL in RFLAGS.
 *
 * VCPUOP_register_vcpu_time_memory_area: the area gets a copy of this
 * vCPU's vcpu_time_info at once (even version, same scale) and follows
 * it when the hypervisor updates it; an area in hypervisor space is
 * -EFAULT.
 *
 * Privileged hypercalls: a wrong interface version is -EACCES and an
 * unreadable argument -EFAULT for everyone; a domctl on a domain that
 * does not exist is -ESRCH; past those checks an unprivileged domain
 * (pvcore's domains) gets -EPERM, while Xen's dom0 (SIF_PRIVILEGED, as
 * this kernel runs under `make test-xen`) gets harmless answers
 * (sysctl sched_id, hypfs get_version).
 */
#include <public/privileged.h>
#include "evtime.h"
#include "lib.h"

const char test_name[] = "cpustate";

#define NONCANON       0x0000800000000000ul
#define X86_EFLAGS_IOPL (3ul << 12)

static bool privileged;

/* ---- callbacks ---- */

static long cb_register(unsigned int type, unsigned int flags, uint64_t address)
{
    struct callback_register cb = { .type = (uint16_t)type, .flags = (uint16_t)flags,
                                    .address = address };
    return hypercall_callback_op(CALLBACKOP_register, &cb);
}

static long cb_unregister(unsigned int type)
{
    struct callback_unregister cb = { .type = (uint16_t)type };
    return hypercall_callback_op(CALLBACKOP_unregister, &cb);
}

extern char entry_event[], entry_failsafe[], entry_syscall[], entry_nmi[];

static void check_callbacks(void)
{
    uint64_t here = (uint64_t)&check_callbacks;

    test_eq(cb_register(CALLBACKTYPE_syscall32, CALLBACKF_mask_events, here), 0,
            "register syscall32");
    test_eq(cb_register(CALLBACKTYPE_syscall32, 0, here), 0, "register syscall32, events on");
    test_eq(cb_register(CALLBACKTYPE_sysenter, CALLBACKF_mask_events, here), 0,
            "register sysenter");
    test_eq(cb_register(CALLBACKTYPE_nmi, 0, (uint64_t)entry_nmi), 0, "register nmi");
    test_eq(cb_register(CALLBACKTYPE_sysenter_deprecated, 0, here), -XEN_ENOSYS,
            "register sysenter_deprecated (type 3)");
    test_eq(cb_register(6, 0, here), -XEN_ENOSYS, "register type 6");
    test_eq(cb_register(99, 0, here), -XEN_ENOSYS, "register type 99");
    test_eq(cb_register(CALLBACKTYPE_event, 0, NONCANON), -XEN_EINVAL,
            "register a non-canonical event callback");
    test_eq(cb_register(CALLBACKTYPE_syscall32, 0, NONCANON), -XEN_EINVAL,
            "register a non-canonical syscall32 callback");

    static const unsigned int fixed[] = { CALLBACKTYPE_event, CALLBACKTYPE_failsafe,
                                          CALLBACKTYPE_syscall, CALLBACKTYPE_syscall32,
                                          CALLBACKTYPE_sysenter };
    for (unsigned int i = 0; i < ARRAY_SIZE(fixed); i++)
        test_eq(cb_unregister(fixed[i]), -XEN_EINVAL, "unregister type %u", fixed[i]);
    test_eq(cb_unregister(CALLBACKTYPE_nmi), 0, "unregister nmi");

    /* nmi_op: the same NMI callback through the older interface. */
    struct xennmi_callback nmi = { .handler_address = (uint64_t)entry_nmi };
    test_eq(hypercall5(__HYPERVISOR_nmi_op, XENNMI_register_callback, HC(&nmi), 0, 0, 0), 0,
            "nmi_op register");
    nmi.handler_address = NONCANON;
    test_eq(hypercall5(__HYPERVISOR_nmi_op, XENNMI_register_callback, HC(&nmi), 0, 0, 0),
            -XEN_EINVAL, "nmi_op register a non-canonical handler");
    test_eq(hypercall5(__HYPERVISOR_nmi_op, XENNMI_register_callback, NONCANON, 0, 0, 0),
            -XEN_EFAULT, "nmi_op with an unreadable argument");
    test_eq(hypercall5(__HYPERVISOR_nmi_op, XENNMI_unregister_callback, 0, 0, 0, 0), 0,
            "nmi_op unregister");
    test_eq(hypercall5(__HYPERVISOR_nmi_op, 5, 0, 0, 0, 0), -XEN_ENOSYS, "nmi_op command 5");
    test_eq(cb_unregister(99), -XEN_ENOSYS, "unregister type 99");
    test_eq(hypercall_callback_op(7, NULL), -XEN_ENOSYS, "callback_op command 7");
    test_eq(hypercall_callback_op(7, NULL), -XEN_ENOSYS, "callback_op command 7 again");
    test_eq(hypercall_callback_op(CALLBACKOP_register, (void *)NONCANON), -XEN_EFAULT,
            "callback_op with an unreadable argument");

    /* set_callbacks: refused addresses are skipped, the call succeeds and
     * the callbacks in force stay (the library's are put back anyway). */
    test_eq(hypercall_set_callbacks(NONCANON, NONCANON, NONCANON), 0,
            "set_callbacks with non-canonical addresses");
    test_eq(hypercall_set_callbacks((uint64_t)entry_event, (uint64_t)entry_failsafe,
                                    (uint64_t)entry_syscall), 0,
            "set_callbacks back to the library's");
    test_eq(cb_register(CALLBACKTYPE_failsafe, CALLBACKF_mask_events,
                        (uint64_t)entry_failsafe), 0, "failsafe callback, events masked");
    test_eq(cb_register(CALLBACKTYPE_syscall, CALLBACKF_mask_events,
                        (uint64_t)entry_syscall), 0, "syscall callback, events masked");
}

/* ---- iret with a non-canonical return address ---- */

uint64_t iret_saved_rsp;
void iret_to(uint64_t rip);
extern char iret_landing[];
__asm__(
    ".text\n"
    ".globl iret_to\n"
    "iret_to:\n"
    "    push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
    "    mov %rsp, iret_saved_rsp(%rip)\n"
    "    pushq $0xe02b\n"                    /* ss */
    "    push %rsp\n"                        /* rsp: anything valid */
    "    pushq $0x2\n"                       /* rflags: IF clear (events stay masked) */
    "    pushq $0xe030\n"                    /* cs: RPL 0 = back to guest kernel mode */
    "    push %rdi\n"                        /* rip */
    "    pushq $0\n"                         /* flags */
    "    jmp hypercall_page + 23 * 32\n"
    ".globl iret_landing\n"
    "iret_landing:\n"
    "    mov iret_saved_rsp(%rip), %rsp\n"
    "    pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
    "    ret\n");

static struct trap_frame gp_seen;
static unsigned int gp_count;

static void on_gp_after_iret(struct trap_frame *f)
{
    gp_seen = *f;
    gp_count++;
    f->rip = (uint64_t)iret_landing;
}

static void check_iret(void)
{
    trap_set_handler(13, on_gp_after_iret);
    iret_to(NONCANON);
    trap_set_handler(13, NULL);
    printk("cpustate: iret to %#lx: %u #GP, error %#lx, rip %#lx, cs %#lx\n",
           NONCANON, gp_count, (unsigned long)gp_seen.error_code,
           (unsigned long)gp_seen.rip, (unsigned long)gp_seen.cs);
    test_eq(gp_count, 1, "iret to a non-canonical address: one #GP");
    test_eq(gp_seen.error_code, 0, "#GP error code 0");
    test_eq(gp_seen.rip, NONCANON, "#GP frame rip is the non-canonical address");
    test_eq(gp_seen.cs & 3, 0, "#GP taken in guest kernel mode");
    test_ok(events_masked(), "events still masked");
}

/* ---- virtual IOPL and port I/O ---- */

static long set_iopl(unsigned int iopl)
{
    struct physdev_set_iopl io = { .iopl = iopl };
    return hypercall_physdev_op(PHYSDEVOP_set_iopl, &io);
}

static uint8_t inb_probe(uint16_t port)
{
    uint8_t v = 0x5a;
    probe_reset();
    __asm__ volatile(PROBE_ASM("inb %w1, %b0") : "+a"(v) : "Nd"(port) : "memory");
    return v;
}
static uint16_t inw_probe(uint16_t port)
{
    uint16_t v = 0x5a5a;
    probe_reset();
    __asm__ volatile(PROBE_ASM("inw %w1, %w0") : "+a"(v) : "Nd"(port) : "memory");
    return v;
}
static uint32_t inl_probe(uint16_t port)
{
    uint32_t v = 0x5a5a5a5a;
    probe_reset();
    __asm__ volatile(PROBE_ASM("inl %w1, %0") : "+a"(v) : "Nd"(port) : "memory");
    return v;
}
static void outb_probe(uint16_t port, uint8_t v)
{
    probe_reset();
    __asm__ volatile(PROBE_ASM("outb %b0, %w1") : : "a"(v), "Nd"(port) : "memory");
}
static void outl_probe(uint16_t port, uint32_t v)
{
    probe_reset();
    __asm__ volatile(PROBE_ASM("outl %0, %w1") : : "a"(v), "Nd"(port) : "memory");
}

static uint64_t ud_rflags;
static void on_ud(struct trap_frame *f)
{
    ud_rflags = f->rflags;
    f->rip += 2;
}

static uint64_t rflags_in_frame(void)
{
    ud_rflags = ~0ul;
    trap_set_handler(6, on_ud);
    __asm__ volatile("ud2" ::: "memory");
    trap_set_handler(6, NULL);
    return ud_rflags;
}

static void check_io_denied(const char *when)
{
    inb_probe(0x21);
    test_eq(last_trap.vector, 13, "%s: inb 0x21 is #GP", when);
    test_eq(last_trap.error_code, 0, "%s: #GP(0)", when);
    outb_probe(0x21, 0);
    test_eq(last_trap.vector, 13, "%s: outb 0x21 is #GP", when);
    probe_reset();
    __asm__ volatile(PROBE_ASM("cli") ::: "memory");
    test_eq(last_trap.vector, 13, "%s: cli is #GP", when);
    probe_reset();
    __asm__ volatile(PROBE_ASM("sti") ::: "memory");
    test_eq(last_trap.vector, 13, "%s: sti is #GP", when);
}

static void check_io_allowed(const char *when)
{
    test_eq(inb_probe(0x21), 0xff, "%s: inb 0x21 reads all ones", when);
    test_eq(last_trap.vector, TRAP_NONE, "%s: inb 0x21 does not trap", when);
    test_eq(inw_probe(0xa0), 0xffff, "%s: inw 0xa0 reads all ones", when);
    test_eq(inl_probe(0x20), 0xffffffffu, "%s: inl 0x20 reads all ones", when);
    outb_probe(0x21, 0x12);
    test_eq(last_trap.vector, TRAP_NONE, "%s: outb 0x21 does not trap", when);
    test_eq(inb_probe(0x21), 0xff, "%s: the write to 0x21 was dropped", when);
    outb_probe(0x70, 0x0c);
    test_eq(inb_probe(0x70), 0x0c, "%s: the CMOS index reads back", when);
    outl_probe(0xcf8, 0x80000810u);
    test_eq(inl_probe(0xcf8), 0x80000810u, "%s: 0xcf8 reads back (32-bit)", when);
    test_eq(last_trap.vector, TRAP_NONE, "%s: inl 0xcf8 does not trap", when);
    probe_reset();
    __asm__ volatile(PROBE_ASM("cli") "\n" PROBE_ASM("sti") ::: "memory");
    test_eq(last_trap.vector, TRAP_NONE, "%s: cli and sti do not trap", when);
    test_ok(events_masked(), "%s: cli/sti left the event mask alone", when);
}

/* rep ins/outs: all ones in, writes dropped, registers stepped; a guest
 * address that cannot be written is a #PF at it. */
static void check_string_io(const char *when)
{
    uint8_t buf[16];
    uint16_t wbuf[4];
    uint64_t rdi, rsi, rcx;

    memset(buf, 0x11, sizeof(buf));
    rdi = (uint64_t)buf;
    rcx = sizeof(buf);
    probe_reset();
    __asm__ volatile(PROBE_ASM("rep insb") : "+D"(rdi), "+c"(rcx) : "d"(0x21) : "memory");
    test_eq(last_trap.vector, TRAP_NONE, "%s: rep insb does not trap", when);
    test_eq(rcx, 0, "%s: rep insb counted rcx down", when);
    test_eq(rdi, (uint64_t)buf + sizeof(buf), "%s: rep insb advanced rdi", when);
    test_ok(buf[0] == 0xff && buf[15] == 0xff, "%s: rep insb stored all ones", when);

    memset(wbuf, 0, sizeof(wbuf));
    rdi = (uint64_t)&wbuf[3];
    rcx = 4;
    probe_reset();
    __asm__ volatile("std\n" PROBE_ASM("rep insw") "\ncld"
                     : "+D"(rdi), "+c"(rcx) : "d"(0xa0) : "memory");
    test_eq(last_trap.vector, TRAP_NONE, "%s: rep insw with DF set", when);
    test_eq(rdi, (uint64_t)wbuf - 2, "%s: rep insw with DF stepped rdi down", when);
    test_ok(wbuf[0] == 0xffff && wbuf[3] == 0xffff, "%s: rep insw stored all ones", when);

    rsi = (uint64_t)buf;
    rcx = 8;
    probe_reset();
    __asm__ volatile(PROBE_ASM("rep outsb") : "+S"(rsi), "+c"(rcx) : "d"(0x21) : "memory");
    test_eq(last_trap.vector, TRAP_NONE, "%s: rep outsb does not trap", when);
    test_eq(rsi, (uint64_t)buf + 8, "%s: rep outsb advanced rsi", when);

    rcx = 0;
    rdi = 0x0000700000000000ul;
    probe_reset();
    __asm__ volatile(PROBE_ASM("rep insb") : "+D"(rdi), "+c"(rcx) : "d"(0x21) : "memory");
    test_eq(last_trap.vector, TRAP_NONE, "%s: rep insb with rcx 0 does nothing", when);

    rcx = 4;
    probe_reset();
    __asm__ volatile(PROBE_ASM("rep insb") : "+D"(rdi), "+c"(rcx) : "d"(0x21) : "memory");
    test_eq(last_trap.vector, 14, "%s: insb to an unmapped address is a #PF", when);
    test_eq(last_trap.cr2, 0x0000700000000000ul, "%s: #PF at that address", when);
    test_eq(last_trap.error_code & 7, 2, "%s: #PF error code: write, kernel", when);
    test_eq(rcx, 4, "%s: nothing counted before the fault", when);
}

static void check_viopl(void)
{
    test_eq(set_iopl(4), -XEN_EINVAL, "set_iopl(4)");
    test_eq(set_iopl(0), 0, "set_iopl(0)");
    check_io_denied("IOPL 0");
    test_eq(rflags_in_frame() & X86_EFLAGS_IOPL, 0, "IOPL 0: frame RFLAGS.IOPL 0");

    probe_reset();
    {
        uint8_t b1;
        uint64_t rdi = (uint64_t)&b1;
        __asm__ volatile(PROBE_ASM("insb") : "+D"(rdi) : "d"(0x21) : "memory");
    }
    test_eq(last_trap.vector, 13, "IOPL 0: insb is #GP");
    test_eq(set_iopl(1), 0, "set_iopl(1)");
    check_io_allowed("IOPL 1");
    check_string_io("IOPL 1");
    test_eq(rflags_in_frame() & X86_EFLAGS_IOPL, 0,
            "IOPL 1 without architectural_iopl: frame RFLAGS.IOPL 0");

    test_eq(set_iopl(3), 0, "set_iopl(3)");
    check_io_allowed("IOPL 3");

    /* architectural_iopl: the kernel counts as ring 0, the frames show the
     * virtual IOPL. */
    test_eq(hypercall_vm_assist(VMASST_CMD_enable, VMASST_TYPE_architectural_iopl), 0,
            "enable architectural_iopl");
    test_eq((rflags_in_frame() & X86_EFLAGS_IOPL) >> 12, 3,
            "architectural_iopl: frame RFLAGS.IOPL is the virtual IOPL 3");
    test_eq(set_iopl(0), 0, "set_iopl(0) with architectural_iopl");
    check_io_allowed("architectural_iopl, IOPL 0");
    test_eq(rflags_in_frame() & X86_EFLAGS_IOPL, 0,
            "architectural_iopl: frame RFLAGS.IOPL 0");
    test_eq(hypercall_vm_assist(VMASST_CMD_disable, VMASST_TYPE_architectural_iopl), 0,
            "disable architectural_iopl");
    check_io_denied("IOPL 0 again");
    test_eq(set_iopl(1), 0, "set_iopl(1) to finish");
}

/* ---- the user-mapped pvclock ---- */

static struct vcpu_time_info time_area ALIGNED(64);

static void check_time_area(void)
{
    struct vcpu_register_time_memory_area r = { .addr = (uint64_t)&time_area };
    const struct vcpu_time_info *own = &shared_info->vcpu_info[0].time;
    uint64_t first;

    memset(&time_area, 0, sizeof(time_area));
    test_eq(hypercall_vcpu_op(VCPUOP_register_vcpu_time_memory_area, 0, &r), 0,
            "register_vcpu_time_memory_area");
    test_ok(time_area.version && !(time_area.version & 1),
            "time area filled at once, even version (%u)", time_area.version);
    test_eq(time_area.tsc_to_system_mul, own->tsc_to_system_mul, "time area mul");
    test_eq(time_area.tsc_shift, own->tsc_shift, "time area shift");
    test_ok(time_area.system_time > 0, "time area system time");
    first = time_area.tsc_timestamp;

    /* Block until vcpu_time_info itself has moved on (pvcore refreshes it
     * whenever the vCPU is loaded, Xen at its ~1 s calibration): the area
     * must have followed. */
    for (unsigned int i = 0; i < 40 && own->tsc_timestamp == first; i++)
        sleep_until(system_time() + 100000000ul);
    test_ok(own->tsc_timestamp != first, "vcpu_time_info updated within 4 s");
    printk("cpustate: time area tsc %#lx -> %#lx, system time %lu ns\n",
           (unsigned long)first, (unsigned long)time_area.tsc_timestamp,
           (unsigned long)time_area.system_time);
    test_ok(!(time_area.version & 1), "time area version even after the update");
    test_eq(time_area.tsc_timestamp, own->tsc_timestamp, "time area tsc = vcpu_time_info's");
    test_eq(time_area.system_time, own->system_time, "time area system time = vcpu_time_info's");

    r.addr = 0xffff830000000000ul;
    test_eq(hypercall_vcpu_op(VCPUOP_register_vcpu_time_memory_area, 0, &r), -XEN_EFAULT,
            "time area in hypervisor space");
    r.addr = 0;
    test_eq(hypercall_vcpu_op(VCPUOP_register_vcpu_time_memory_area, 0, &r), 0,
            "time area unregistered (address 0)");
}

/* ---- privileged hypercalls ---- */

static void check_privileged(void)
{
    struct xen_sysctl sc;
    struct xen_domctl dc;
    struct xen_platform_op pf;
    long rc;

    memset(&sc, 0, sizeof(sc));
    sc.cmd = XEN_SYSCTL_sched_id;
    sc.interface_version = XEN_SYSCTL_INTERFACE_VERSION - 1;
    test_eq(hypercall5(__HYPERVISOR_sysctl, HC(&sc), 0, 0, 0, 0), -XEN_EACCES,
            "sysctl with an old interface version");
    test_eq(hypercall5(__HYPERVISOR_sysctl, NONCANON, 0, 0, 0, 0), -XEN_EFAULT,
            "sysctl with an unreadable argument");
    sc.interface_version = XEN_SYSCTL_INTERFACE_VERSION;
    rc = hypercall5(__HYPERVISOR_sysctl, HC(&sc), 0, 0, 0, 0);
    printk("cpustate: sysctl sched_id = %ld (sched_id %u)\n", rc, sc.u.sched_id);
    test_eq(rc, privileged ? 0 : -XEN_EPERM, "sysctl sched_id (%s)",
            privileged ? "privileged" : "unprivileged");

    memset(&dc, 0, sizeof(dc));
    dc.cmd = XEN_DOMCTL_getdomaininfo;
    dc.domain = DOMID_SELF;
    dc.interface_version = XEN_DOMCTL_INTERFACE_VERSION + 1;
    test_eq(hypercall5(__HYPERVISOR_domctl, HC(&dc), 0, 0, 0, 0), -XEN_EACCES,
            "domctl with a newer interface version");
    dc.interface_version = XEN_DOMCTL_INTERFACE_VERSION;
    dc.cmd = XEN_DOMCTL_pausedomain;
    dc.domain = 1000;
    test_eq(hypercall5(__HYPERVISOR_domctl, HC(&dc), 0, 0, 0, 0), -XEN_ESRCH,
            "domctl pausedomain of domain 1000 (no such domain)");
    test_eq(hypercall5(__HYPERVISOR_domctl, NONCANON, 0, 0, 0, 0), -XEN_EFAULT,
            "domctl with an unreadable argument");

    memset(&pf, 0, sizeof(pf));
    pf.cmd = XENPF_settime64;
    test_eq(hypercall5(__HYPERVISOR_platform_op, HC(&pf), 0, 0, 0, 0), -XEN_EACCES,
            "platform_op with interface version 0");
    test_eq(hypercall5(__HYPERVISOR_platform_op, NONCANON, 0, 0, 0, 0), -XEN_EFAULT,
            "platform_op with an unreadable argument");

    rc = hypercall5(__HYPERVISOR_hypfs_op, XEN_HYPFS_OP_get_version, 0, 0, 0, 0);
    printk("cpustate: hypfs_op get_version = %ld\n", rc);
    test_eq(rc, privileged ? XEN_HYPFS_VERSION : -XEN_EPERM, "hypfs_op get_version");

    if (privileged)
        return;         /* the rest would act on Xen's dom0 */
    dc.cmd = XEN_DOMCTL_createdomain;
    test_eq(hypercall5(__HYPERVISOR_domctl, HC(&dc), 0, 0, 0, 0), -XEN_EPERM,
            "domctl createdomain");
    dc.cmd = XEN_DOMCTL_getdomaininfo;
    test_eq(hypercall5(__HYPERVISOR_domctl, HC(&dc), 0, 0, 0, 0), -XEN_EPERM,
            "domctl getdomaininfo");
    pf.interface_version = XENPF_INTERFACE_VERSION;
    test_eq(hypercall5(__HYPERVISOR_platform_op, HC(&pf), 0, 0, 0, 0), -XEN_EPERM,
            "platform_op settime64");
    test_eq(hypercall5(__HYPERVISOR_kexec_op, KEXEC_CMD_kexec_get_range, 0, 0, 0, 0),
            -XEN_EPERM, "kexec_op get_range");
}

void test_main(void)
{
    privileged = start_info->flags & SIF_PRIVILEGED;
    printk("cpustate: running %s\n", privileged ? "privileged (Xen's dom0)" : "unprivileged");
    check_callbacks();
    check_iret();
    check_viopl();
    check_time_area();
    check_privileged();
}
