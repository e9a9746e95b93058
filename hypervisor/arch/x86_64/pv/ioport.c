/* Port I/O, cli/sti and the virtual IOPL of PV guests.
 *
 * Owns: what `in`, `out`, `cli` and `sti` do when a guest kernel or its
 * user code executes them (they #GP in ring 3 and arrive here from
 * pv_emulate_gp), and the per-domain state of the two emulated registers.
 * Behaviour, as Xen 4.17 gives it to an unprivileged PV guest:
 *  - the access is allowed when the vCPU's virtual IOPL (v->iopl, set by
 *    PHYSDEVOP_set_iopl or, with VMASST_TYPE_architectural_iopl, by the
 *    IOPL field of the iret hypercall's RFLAGS) is at least the guest's
 *    virtual CPL: 3 in guest user mode, 1 in guest kernel mode (0 with
 *    architectural_iopl); otherwise the instruction stays a #GP(0);
 *  - no domain has real ports: an allowed read gives all ones, an allowed
 *    write is dropped, except the two registers Xen emulates for every
 *    domain: the CMOS index at 0x70 (reads return the last index written)
 *    and the PCI configuration address at 0xcf8 (32-bit accesses only);
 *  - an I/O breakpoint the guest set (CR4.DE, DR7 R/W 10b) covering the
 *    port raises #DB after the access;
 *  - an allowed cli or sti does nothing (Xen skips them; the guest's
 *    interrupt flag is its event mask in vcpu_info, never the CPU's).
 * String I/O (ins/outs, rep or not) moves all ones in or drops what goes
 * out the same way, through guest memory (emulate_string_io).
 * Locking: runs on the vCPU's own CPU; the two registers are per domain,
 * written with plain stores (a racing writer on another vCPU wins as on
 * hardware). */
#include "asm/cpu.h"
#include "hv/guest_access.h"
#include "hv/lib.h"
#include "hv/pv.h"

#define PORT_CMOS_INDEX  0x70
#define PORT_PCI_CF8     0xcf8

bool pv_iopl_ok(const struct vcpu *v)
{
    unsigned int cpl = !v->kernel_mode ? 3 :
                       (v->domain->vm_assist & (1UL << VMASST_TYPE_architectural_iopl)) ? 0 : 1;
    return cpl <= v->iopl;
}

static uint32_t port_read(struct domain *d, unsigned int port, unsigned int bytes)
{
    if (port == PORT_PCI_CF8 && bytes == 4)
        return d->io_pci_cf8;
    uint32_t val = bytes == 4 ? ~0u : (1u << (bytes * 8)) - 1;
    if (port <= PORT_CMOS_INDEX && port + bytes > PORT_CMOS_INDEX) {
        unsigned int shift = (PORT_CMOS_INDEX - port) * 8;
        val = (val & ~(0xffu << shift)) | ((uint32_t)d->io_cmos_index << shift);
    }
    return val;
}

static void port_write(struct domain *d, unsigned int port, unsigned int bytes, uint32_t val)
{
    if (port == PORT_PCI_CF8 && bytes == 4) {
        d->io_pci_cf8 = val;
        return;
    }
    if (port <= PORT_CMOS_INDEX && port + bytes > PORT_CMOS_INDEX)
        d->io_cmos_index = (uint8_t)(val >> ((PORT_CMOS_INDEX - port) * 8));
}

static bool canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* ins / outs, with or without rep: one element per iteration between the
 * port and guest memory at [seg:]rdi (ins, always ES) or [seg:]rsi (outs,
 * DS unless overridden; FS and GS overrides add their bases), stepping by
 * DF. At most STRING_IO_BATCH iterations per exit: with more left, rip
 * stays on the instruction, which runs again. A guest address that cannot
 * be written (ins) or read (outs) is a #PF at it (error code: write for
 * ins, plus user in guest user mode), as Xen; a non-canonical one #GP(0). */
#define STRING_IO_BATCH 1024

enum string_io_result { STRING_IO_GP, STRING_IO_DONE, STRING_IO_FAULTED };

static enum string_io_result emulate_string_io(struct vcpu *v, struct cpu_regs *regs,
                                               uint8_t opc, unsigned int port,
                                               unsigned int bytes, unsigned int len,
                                               const struct insn_prefixes *p,
                                               unsigned int batch)
{
    bool in = !(opc & 2);
    uint64_t count = !p->rep ? 1 : p->addr32 ? (uint32_t)regs->rcx : regs->rcx;
    uint64_t *index = in ? &regs->rdi : &regs->rsi;
    uint64_t base = 0;
    int64_t step = (regs->rflags & (1UL << 10)) ? -(int64_t)bytes : (int64_t)bytes;

    if (!in && p->seg == 0x64)
        base = rdmsr(MSR_FS_BASE);
    else if (!in && p->seg == 0x65)
        base = rdmsr(MSR_GS_BASE);
    for (unsigned int n = 0; count && n < batch; n++) {
        uint64_t addr = base + *index;
        uint32_t val = 0;
        if (p->addr32)
            addr = (uint32_t)addr;
        if (!canonical(addr) || !canonical(addr + bytes - 1))
            return STRING_IO_GP;
        int fault;
        if (in) {
            val = port_read(v->domain, port, bytes);
            fault = copy_to_guest(addr, &val, bytes);
        } else {
            fault = copy_from_guest(&val, addr, bytes);
        }
        if (fault) {
            v->vcpu_info->arch.cr2 = addr;
            pv_inject_trap(v, regs, 14, true, (in ? 2 : 0) | (v->kernel_mode ? 0 : 4));
            return STRING_IO_FAULTED;
        }
        if (!in)
            port_write(v->domain, port, bytes, val);
        *index = p->addr32 ? (uint32_t)(*index + step) : *index + step;
        count--;
        if (p->rep)
            regs->rcx = p->addr32 ? (regs->rcx & ~0xffffffffUL) | (uint32_t)count : count;
    }
    if (!count)
        regs->rip += len;
    return STRING_IO_DONE;
}

/* insn[0..got) has been fetched; the opcode is insn[op], after the
 * prefixes p describes. Returns true when the instruction was an I/O or
 * cli/sti instruction that was carried out (rip advanced, or a fault
 * delivered), false when it stays a #GP(0). */
bool pv_emulate_io(struct vcpu *v, struct cpu_regs *regs, const uint8_t *insn,
                   unsigned int op, unsigned int got, const struct insn_prefixes *p)
{
    uint8_t opc = insn[op];
    unsigned int bytes, port, len;

    switch (opc) {
    case 0xfa:                          /* cli */
    case 0xfb:                          /* sti */
        if (!pv_iopl_ok(v))
            return false;
        regs->rip += op + 1;
        return true;
    case 0xe4: case 0xe5: case 0xe6: case 0xe7:     /* in/out with imm8 */
        if (got < op + 2)
            return false;
        port = insn[op + 1];
        len = op + 2;
        break;
    case 0xec: case 0xed: case 0xee: case 0xef:     /* in/out with %dx */
    case 0x6c: case 0x6d: case 0x6e: case 0x6f:     /* ins/outs */
        port = (uint16_t)regs->rdx;
        len = op + 1;
        break;
    default:
        return false;
    }
    bytes = !(opc & 1) ? 1 : p->opsize16 ? 2 : 4;
    if (!pv_iopl_ok(v))
        return false;
    uint32_t bp = pv_io_breakpoints(v, port, bytes);
    if ((opc & 0xfc) == 0x6c) {
        /* With a breakpoint on the port, one element per exit (as Xen):
         * the #DB comes after it, rip still on the instruction if more
         * remain. */
        enum string_io_result r = emulate_string_io(v, regs, opc, port, bytes, len, p,
                                                    bp ? 1 : STRING_IO_BATCH);
        if (r == STRING_IO_DONE && bp)
            pv_io_breakpoint_hit(v, regs, bp);
        return r != STRING_IO_GP;
    }
    if (opc & 2) {                      /* out */
        port_write(v->domain, port, bytes, (uint32_t)regs->rax);
    } else {
        uint32_t val = port_read(v->domain, port, bytes);
        if (bytes == 4)
            regs->rax = val;            /* a 32-bit result zero-extends */
        else
            regs->rax = (regs->rax & ~((1UL << (bytes * 8)) - 1)) | val;
    }
    regs->rip += len;
    if (bp)
        pv_io_breakpoint_hit(v, regs, bp);
    return true;
}
