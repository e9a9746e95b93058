/* Guest descriptor tables: set_gdt and update_descriptor.
 *
 * Owns: the rules for descriptors a guest may install, as Xen 4.17's
 * check_descriptor applies them to a 64-bit PV guest (whose kernel runs
 * in ring 3):
 *  - not present, or a system descriptor of type 0 (the upper half of a
 *    16-byte gate): accepted as they are;
 *  - code and data segments: accepted, a DPL below 3 raised to 3;
 *  - call gates (type 0xc): the target selector must be a guest GDT or
 *    LDT selector or FLAT_KERNEL_CS, the reserved low byte of the upper
 *    word zero; stored with DPL 0 (so that using it faults) and the DPL
 *    the guest gave (raised to 3) in the target selector's RPL;
 *  - every other system descriptor (TSS, LDT, interrupt and trap gates):
 *    refused (-EINVAL).
 * Nothing in a guest GDT can thus lead into ring 0. set_gdt checks (and
 * fixes up) all 512 entries of every frame, as Xen does when a frame
 * becomes a descriptor page; a refused entry refuses the frame (the GDT
 * in force stays). GDT frames are typed PGT_seg_desc while in use, so the guest
 * cannot write them except through update_descriptor, which applies the
 * same rules to the new entry. */
#include "asm/page.h"
#include "asm/percpu.h"
#include "hv/guest_access.h"
#include "hv/hypercall.h"
#include "hv/lib.h"
#include "hv/mm.h"
#include "hv/pagetype.h"
#include "hv/pv.h"

#define GDT_MAX_ENTRIES (HV_GDT_FIRST_ENTRY)     /* 14 pages, as Xen */
/* Bits of the descriptor's upper 32-bit word. */
#define SEG_TYPE_MASK   (0xfu << 8)
#define SEG_S           (1u << 12)
#define SEG_DPL_SHIFT   13
#define SEG_DPL_MASK    (3u << SEG_DPL_SHIFT)
#define SEG_P           (1u << 15)
#define SEG_TYPE_GATE   (0xcu << 8)             /* 64-bit call gate */
#define GUEST_KERNEL_RPL 3

/* May a call gate lead to this selector? A guest GDT entry, an LDT
 * selector, or the flat kernel code segment. */
static bool gate_selector_ok(uint16_t sel)
{
    return (sel >> 3) < HV_GDT_FIRST_ENTRY || sel == FLAT_KERNEL_CS || (sel & 4);
}

/* Check one descriptor; on success *out is what gets stored. */
static bool descriptor_fixup(uint64_t desc, uint64_t *out)
{
    uint32_t a = (uint32_t)desc, b = (uint32_t)(desc >> 32);

    *out = desc;
    if (!(b & SEG_P))
        return true;
    unsigned int dpl = MAX((b & SEG_DPL_MASK) >> SEG_DPL_SHIFT, (uint32_t)GUEST_KERNEL_RPL);
    b = (b & ~SEG_DPL_MASK) | (dpl << SEG_DPL_SHIFT);
    if (!(b & SEG_S)) {
        if ((b & SEG_TYPE_MASK) == 0)
            return true;
        if ((b & SEG_TYPE_MASK) != SEG_TYPE_GATE)
            return false;
        uint16_t cs = (uint16_t)(a >> 16);
        if (!gate_selector_ok(cs))
            return false;
        b &= ~SEG_DPL_MASK;
        cs = (uint16_t)((cs & ~3u) | dpl);
        a = (a & 0xffffu) | ((uint32_t)cs << 16);
        if (b & 0xffu)
            return false;
    }
    *out = ((uint64_t)b << 32) | a;
    return true;
}

/* Check and fix up every entry of a descriptor frame in place, stopping
 * at the first refused one (as Xen: entries before it stay fixed up,
 * which leaves them valid descriptors all the same). */
static bool descriptor_frame_fixup(uint64_t *desc)
{
    for (unsigned int i = 0; i < PAGE_SIZE / 8; i++)
        if (!descriptor_fixup(desc[i], &desc[i]))
            return false;
    return true;
}

void pv_release_gdt(struct vcpu *v)
{
    for (unsigned int i = 0; i < v->gdt_nr_frames; i++)
        put_page_and_type(v->gdt_frames[i]);
    v->gdt_nr_frames = 0;
    v->gdt_ents = 0;
}

long do_set_gdt(uint64_t frame_list, uint64_t entries)
{
    uint64_t frames[16];
    unsigned int nr = (unsigned int)((entries + 511) / 512);

    if (entries > GDT_MAX_ENTRIES)
        return -EINVAL;
    if (nr && copy_from_guest(frames, frame_list, nr * sizeof(uint64_t)))
        return -EFAULT;
    return pv_set_gdt(current, frames, entries);
}

long pv_set_gdt(struct vcpu *v, const uint64_t *frames, uint64_t entries)
{
    struct domain *d = v->domain;
    unsigned int nr = (unsigned int)((entries + 511) / 512);

    if (entries > GDT_MAX_ENTRIES)
        return -EINVAL;

    unsigned int got = 0;
    long rc = 0;
    for (; got < nr; got++) {
        if (frames[got] >= max_mfn) {
            rc = -EINVAL;
            break;
        }
        rc = get_page_and_type(frames[got], d, PGT_seg_desc);
        if (rc)
            break;
        if (!descriptor_frame_fixup(mfn_to_virt(frames[got]))) {
            rc = -EINVAL;
            put_page_and_type(frames[got]);
            break;
        }
    }
    if (rc) {
        while (got--)
            put_page_and_type(frames[got]);
        return rc;
    }

    pv_release_gdt(v);
    for (unsigned int i = 0; i < nr; i++)
        v->gdt_frames[i] = frames[i];
    v->gdt_nr_frames = nr;
    v->gdt_ents = (unsigned int)entries;
    if (v == current)
        load_guest_descriptors(v);
    return 0;
}

long do_update_descriptor(uint64_t maddr, uint64_t desc)
{
    struct vcpu *v = current;
    struct domain *d = v->domain;
    mfn_t mfn = maddr >> PAGE_SHIFT;
    uint64_t fixed;

    if ((maddr & 7) || mfn >= max_mfn || !descriptor_fixup(desc, &fixed))
        return -EINVAL;
    if (get_page(mfn, d))
        return -EINVAL;
    /* A descriptor frame (writing it is our job) or any frame that is not
     * a page table (as Xen: it takes the writable type). */
    long rc = get_page_type(mfn, PGT_seg_desc);
    if (rc)
        rc = get_page_type(mfn, PGT_writable);
    if (!rc) {
        __atomic_store_n(&((uint64_t *)mfn_to_virt(mfn))[(maddr & (PAGE_SIZE - 1)) / 8], fixed,
                         __ATOMIC_RELAXED);
        put_page_type(mfn);
    }
    put_page(mfn);
    if (!rc)
        load_guest_descriptors(v);
    return rc;
}
