/* Guest descriptor tables: set_gdt and update_descriptor.
 *
 * Owns: the rules for descriptors a guest may install. Only code and data
 * segments with DPL 3 (or not-present descriptors) are accepted: no system
 * descriptors (call gates, TSS, LDT), so nothing in a guest GDT can lead
 * into ring 0. GDT frames are typed PGT_seg_desc while in use, so the
 * guest cannot write them except through update_descriptor, which checks
 * the new descriptor the same way. */
#include "asm/page.h"
#include "asm/percpu.h"
#include "hv/guest_access.h"
#include "hv/hypercall.h"
#include "hv/lib.h"
#include "hv/mm.h"
#include "hv/pagetype.h"
#include "hv/pv.h"

#define GDT_MAX_ENTRIES (HV_GDT_FIRST_ENTRY)     /* 14 pages, as Xen */
#define DESC_P      (1UL << 47)
#define DESC_S      (1UL << 44)
#define DESC_DPL(d) (((d) >> 45) & 3)

static bool descriptor_ok(uint64_t d)
{
    if (!(d & DESC_P))
        return true;
    return (d & DESC_S) && DESC_DPL(d) == 3;
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
        const uint64_t *desc = mfn_to_virt(frames[got]);
        unsigned int n = (unsigned int)MIN(512UL, entries - got * 512UL);
        for (unsigned int i = 0; i < n; i++)
            if (!descriptor_ok(desc[i]))
                rc = -EINVAL;
        if (rc) {
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

    if ((maddr & 7) || mfn >= max_mfn || !descriptor_ok(desc))
        return -EINVAL;
    if (get_page(mfn, d))
        return -EINVAL;
    /* Either the frame is a descriptor table (then writing it is our job)
     * or nobody maps it writable (then typing it proves that). */
    long rc = get_page_type(mfn, PGT_seg_desc);
    if (!rc) {
        ((uint64_t *)mfn_to_virt(mfn))[(maddr & (PAGE_SIZE - 1)) / 8] = desc;
        put_page_type(mfn);
    }
    put_page(mfn);
    if (!rc)
        load_guest_descriptors(v);
    return rc;
}
