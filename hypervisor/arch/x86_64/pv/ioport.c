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
 *  - an allowed cli or sti does nothing (Xen skips them; the guest's
 *    interrupt flag is its event mask in vcpu_info, never the CPU's).
 * String I/O (ins/outs) is not emulated and stays a #GP.
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

/* insn[0..len) has been fetched; prefixes are in front of the opcode at
 * insn[op]. Returns the instruction length when it was an I/O or cli/sti
 * instruction that was carried out, 0 when it stays a #GP. */
unsigned int pv_emulate_io(struct vcpu *v, struct cpu_regs *regs, const uint8_t *insn,
                           unsigned int op, bool opsize16)
{
    uint8_t opc = insn[op];
    unsigned int bytes, port, len;

    switch (opc) {
    case 0xfa:                          /* cli */
    case 0xfb:                          /* sti */
        return pv_iopl_ok(v) ? op + 1 : 0;
    case 0xe4: case 0xe5: case 0xe6: case 0xe7:     /* in/out with imm8 */
        port = insn[op + 1];
        len = op + 2;
        break;
    case 0xec: case 0xed: case 0xee: case 0xef:     /* in/out with %dx */
        port = (uint16_t)regs->rdx;
        len = op + 1;
        break;
    default:
        return 0;
    }
    bytes = !(opc & 1) ? 1 : opsize16 ? 2 : 4;
    if (!pv_iopl_ok(v))
        return 0;
    if (opc & 2) {                      /* out */
        port_write(v->domain, port, bytes, (uint32_t)regs->rax);
    } else {
        uint32_t val = port_read(v->domain, port, bytes);
        if (bytes == 4)
            regs->rax = val;            /* a 32-bit result zero-extends */
        else
            regs->rax = (regs->rax & ~((1UL << (bytes * 8)) - 1)) | val;
    }
    return len;
}
