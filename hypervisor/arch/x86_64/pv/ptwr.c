/* Writable page tables (VMASST_TYPE_writable_pagetables): a guest kernel
 * writes an entry of one of its L1 page tables directly, through a
 * read-only mapping of it, and the hypervisor performs the write as if
 * the guest had asked with mmu_update.
 *
 * Owns: the decision whether a #PF is such a write, and its emulation.
 * As in Xen 4.17 (arch/x86/pv/ro-page-fault.c), a fault is emulated only
 * when all of these hold, and is otherwise bounced to the guest as the #PF
 * it was:
 *  - the domain enabled the assist, the vCPU is in guest kernel mode, and
 *    the error code says a write to a present page (no reserved bit, no
 *    instruction fetch);
 *  - the guest kernel's tables map the faulting address read-only, to a
 *    frame the domain owns that is a validated L1 table (only L1: "page
 *    directory entries cannot be written", Xen's public xen.h; writes to
 *    L2-L4 tables are bounced);
 *  - the instruction is one pv/ptwr_insn.c decodes, and it writes one
 *    naturally aligned operand of 1-8 bytes inside the faulting page
 *    (cmpxchg16b and misaligned writes are bounced, as by Xen);
 *  - the new entry passes the checks of mmu_update: the same function,
 *    pt_cmpxchg_entry in mm.c, takes the new references and drops the old.
 * Then the guest's registers get the instruction's results and it
 * continues after the instruction (with a #DB first if it single-steps,
 * as Xen). A write narrower than the entry is
 * merged into it; every write is a compare-and-exchange against the value
 * the result was computed from, repeated if the CPU set A/D meanwhile, so
 * read-modify-write instructions are atomic with or without lock.
 *
 * Locking: d->mm_lock around the table walk, the checks and the write
 * (the instruction is fetched before, with no lock held). */
#include "asm/cpu.h"
#include "asm/guest_mm.h"
#include "asm/ptwr_insn.h"
#include "hv/guest_access.h"
#include "hv/mm.h"
#include "hv/printk.h"
#include "hv/ptwr.h"
#include "hv/pv.h"

#define PFEC_PRESENT   (1u << 0)
#define PFEC_WRITE     (1u << 1)
#define PFEC_RESERVED  (1u << 3)
#define PFEC_FETCH     (1u << 4)
/* An A/D update of the CPU between our read and our write costs a retry;
 * there are at most two such updates per entry. */
#define PTWR_TRIES     4
#define RFLAGS_TF      (1UL << 8)

/* Where each register of the encoding order lives in the trap frame. */
static const uint16_t gpr_offset[16] = {
    offsetof(struct cpu_regs, rax), offsetof(struct cpu_regs, rcx),
    offsetof(struct cpu_regs, rdx), offsetof(struct cpu_regs, rbx),
    offsetof(struct cpu_regs, rsp), offsetof(struct cpu_regs, rbp),
    offsetof(struct cpu_regs, rsi), offsetof(struct cpu_regs, rdi),
    offsetof(struct cpu_regs, r8),  offsetof(struct cpu_regs, r9),
    offsetof(struct cpu_regs, r10), offsetof(struct cpu_regs, r11),
    offsetof(struct cpu_regs, r12), offsetof(struct cpu_regs, r13),
    offsetof(struct cpu_regs, r14), offsetof(struct cpu_regs, r15),
};

static uint64_t *frame_gpr(struct cpu_regs *regs, unsigned int n)
{
    return (uint64_t *)((char *)regs + gpr_offset[n]);
}

/* The instruction at rip: up to PTWR_MAX_INSN bytes, fewer when the page
 * after rip's cannot be read (the decoder says if it needed them). */
static unsigned int fetch_insn(uint64_t rip, uint8_t *code)
{
    unsigned int first = (unsigned int)MIN((uint64_t)PTWR_MAX_INSN,
                                           PAGE_SIZE - (rip & (PAGE_SIZE - 1)));

    if (copy_from_guest(code, rip, first))
        return 0;
    if (first < PTWR_MAX_INSN &&
        !copy_from_guest(code + first, rip + first, PTWR_MAX_INSN - first))
        return PTWR_MAX_INSN;
    return first;
}

enum ptwr_result { PTWR_BOUNCE, PTWR_DONE, PTWR_AGAIN };

/* With d->mm_lock held: check what cr2 maps and perform insn on it. */
static enum ptwr_result ptwr_apply(struct vcpu *v, uint64_t cr2, const struct ptwr_insn *insn,
                                   struct ptwr_regs *regs)
{
    struct domain *d = v->domain;
    mfn_t l1 = pv_guest_l1_of(v, cr2);

    if (!l1)
        return PTWR_BOUNCE;
    uint64_t pte = ((const uint64_t *)mfn_to_virt(l1))[pt_index(cr2, L1_SHIFT)];
    if ((pte & (_PAGE_PRESENT | _PAGE_RW)) != _PAGE_PRESENT || (pte & PTE_GRANT))
        return PTWR_BOUNCE;
    mfn_t table = pte_mfn(pte);
    if (table >= max_mfn || frame_table[table].owner != d->id ||
        (frame_table[table].type_info & (PGT_type_mask | PGT_validated)) !=
            (PGT_l1 | PGT_validated) ||
        !(frame_table[table].type_info & PGT_count_mask))
        return PTWR_BOUNCE;

    unsigned int idx = (unsigned int)((insn->addr & (PAGE_SIZE - 1)) >> 3);
    unsigned int shift = (unsigned int)(insn->addr & 7) * 8;
    uint64_t mask = insn->width == 8 ? ~0UL : ((1UL << (8 * insn->width)) - 1) << shift;
    const uint64_t *slot = (const uint64_t *)mfn_to_virt(table) + idx;

    for (unsigned int i = 0; i < PTWR_TRIES; i++) {
        uint64_t old = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
        struct ptwr_regs out = *regs;
        uint64_t val;
        if (!ptwr_execute(insn, old >> shift, &val, &out)) {
            *regs = out;                /* a cmpxchg that did not match */
            return PTWR_DONE;
        }
        uint64_t entry = (old & ~mask) | ((val << shift) & mask);
        int rc = pt_cmpxchg_entry(d, table, 1, idx, old, entry);
        if (rc == -EAGAIN)
            continue;
        if (rc) {
            pr_debug("d%u: writable page table: entry %#lx refused (%d) at %#lx",
                     d->id, entry, rc, insn->addr);
            return PTWR_BOUNCE;
        }
        *regs = out;
        return PTWR_DONE;
    }
    return PTWR_AGAIN;
}

bool pv_ptwr_fault(struct vcpu *v, struct cpu_regs *frame, uint64_t cr2)
{
    struct domain *d = v->domain;
    uint32_t ec = frame->error_code;

    if (!(d->vm_assist & (1UL << VMASST_TYPE_writable_pagetables)) || !v->kernel_mode ||
        (ec & (PFEC_PRESENT | PFEC_WRITE | PFEC_RESERVED | PFEC_FETCH)) !=
            (PFEC_PRESENT | PFEC_WRITE))
        return false;

    uint8_t code[PTWR_MAX_INSN];
    unsigned int n = fetch_insn(frame->rip, code);
    struct ptwr_regs regs = {
        .rflags = frame->rflags, .rip = frame->rip,
        .fs_base = rdmsr(MSR_FS_BASE), .gs_base = rdmsr(MSR_GS_BASE),
    };
    for (unsigned int i = 0; i < 16; i++)
        regs.gpr[i] = *frame_gpr(frame, i);
    struct ptwr_insn insn;
    if (!n || ptwr_decode(code, n, &regs, &insn))
        return false;
    if (((insn.addr ^ cr2) & PAGE_MASK) || (insn.addr & (insn.width - 1)))
        return false;

    spin_lock(&d->mm_lock);
    enum ptwr_result r = ptwr_apply(v, cr2, &insn, &regs);
    spin_unlock(&d->mm_lock);
    if (r == PTWR_BOUNCE)
        return false;
    if (r == PTWR_DONE) {
        for (unsigned int i = 0; i < 16; i++)
            *frame_gpr(frame, i) = regs.gpr[i];
        frame->rflags = regs.rflags;
        frame->rip += insn.len;
        /* Single-stepping: the step the CPU did not take ends here. DR6 is
         * left alone, as by Debian's Xen 4.17 (measured: no BS). */
        if (frame->rflags & RFLAGS_TF)
            pv_inject_trap(v, frame, 1, false, 0);
    }
    return true;                /* PTWR_AGAIN: the guest executes it again */
}
