/* PV domain builder: ELF64 kernels with Xen notes into a new domain's
 * frames, start_info, initial page tables, p2m list and hypercall page,
 * and the one sequence that starts a domain (see pvbuild.h).
 * Compiled twice: into the hypervisor (freestanding, its own string and
 * format functions) and into Domain 0's library (hosted). It uses only the
 * C library subset both have and the public ABI headers. Every value read
 * from the ELF is range-checked before it is used; nothing is written
 * outside the domain's frames. */
#if __STDC_HOSTED__
#include <stdio.h>
#include <string.h>
#else
#include <stddef.h>
int memcmp(const void *a, const void *b, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
size_t strcspn(const char *s, const char *reject);
int strncmp(const char *a, const char *b, size_t n);
int snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#endif
#include <public/elfnote.h>
#include <public/errno.h>
#include <public/pvcore_features.h>
#include <public/xen.h>
#include "pvbuild.h"

#define EINVAL_ XEN_EINVAL
#define ENOMEM_ XEN_ENOMEM

#define PG_SIZE     4096UL
#define PG_SHIFT    12
#define PTE_P       0x001UL
#define PTE_RW      0x002UL
#define PTE_US      0x004UL
#define PTE_A       0x020UL
#define PTE_D       0x040UL

struct elf64_ehdr {
    uint8_t ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

struct elf64_shdr {
    uint32_t name, type;
    uint64_t flags, addr, offset, size;
    uint32_t link, info;
    uint64_t addralign, entsize;
};

#define PT_LOAD 1
#define PT_NOTE 4
#define SHT_NOTE 7
#define EM_X86_64 62

#define FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); return -EINVAL_; } while (0)

/* ---- Checked arithmetic: every size and offset derived from the ELF, the
 * ramdisk or the domain's size goes through these. */

static bool add_ok(uint64_t a, uint64_t b, uint64_t *r)
{
    return !__builtin_add_overflow(a, b, r);
}

static bool sub_ok(uint64_t a, uint64_t b, uint64_t *r)
{
    return !__builtin_sub_overflow(a, b, r);
}

static bool mul_ok(uint64_t a, uint64_t b, uint64_t *r)
{
    return !__builtin_mul_overflow(a, b, r);
}

/* x rounded up to a multiple of the power of two a. */
static bool align_ok(uint64_t x, uint64_t a, uint64_t *r)
{
    if (!add_ok(x, a - 1, r))
        return false;
    *r &= ~(a - 1);
    return true;
}

static bool range_in(uint64_t off, uint64_t len, uint64_t total)
{
    return off <= total && len <= total - off;
}

static void note_string(char *dst, size_t dstlen, const uint8_t *desc, uint32_t n)
{
    size_t k = 0;
    while (k < n && k + 1 < dstlen && desc[k])
        dst[k] = (char)desc[k], k++;
    dst[k] = '\0';
}

static uint64_t note_number(const uint8_t *desc, uint32_t n)
{
    uint64_t v = 0;
    memcpy(&v, desc, n >= 8 ? 8 : n);
    return v;
}

struct notes_seen {
    unsigned int xen;                   /* Xen notes found */
    bool virt_base, paddr_offset;
};

/* Parse the notes in p[0..len); count the Xen ones. */
static int parse_notes(const uint8_t *p, uint64_t len, struct pvbuild_image *img,
                       struct notes_seen *seen)
{
    uint64_t off = 0;
    while (off < len) {
        uint32_t namesz, descsz, type;
        uint64_t name_off, desc_off, next, tmp;
        if (!range_in(off, 12, len))
            return -EINVAL_;
        memcpy(&namesz, p + off, 4);
        memcpy(&descsz, p + off + 4, 4);
        memcpy(&type, p + off + 8, 4);
        if (!add_ok(off, 12, &name_off) || !align_ok(namesz, 4, &tmp) ||
            !add_ok(name_off, tmp, &desc_off) || !align_ok(descsz, 4, &tmp) ||
            !add_ok(desc_off, tmp, &next) || next > len)
            return -EINVAL_;
        if (namesz == 4 && !memcmp(p + name_off, "Xen", 4)) {
            const uint8_t *d = p + desc_off;
            seen->xen++;
            switch (type) {
            case XEN_ELFNOTE_ENTRY: img->entry = note_number(d, descsz); break;
            case XEN_ELFNOTE_HYPERCALL_PAGE:
                img->hypercall_page = note_number(d, descsz);
                img->has_hypercall_page = true;
                break;
            case XEN_ELFNOTE_VIRT_BASE:
                img->virt_base = note_number(d, descsz);
                seen->virt_base = true;
                break;
            case XEN_ELFNOTE_PADDR_OFFSET:
                img->paddr_offset = note_number(d, descsz);
                seen->paddr_offset = true;
                break;
            case XEN_ELFNOTE_MOD_START_PFN:
                img->mod_start_pfn = note_number(d, descsz) != 0;
                break;
            case XEN_ELFNOTE_XEN_VERSION:
                note_string(img->xen_version, sizeof(img->xen_version), d, descsz);
                break;
            case XEN_ELFNOTE_GUEST_OS:
                note_string(img->guest_os, sizeof(img->guest_os), d, descsz);
                break;
            case XEN_ELFNOTE_LOADER:
                note_string(img->loader, sizeof(img->loader), d, descsz);
                break;
            case XEN_ELFNOTE_FEATURES:
                note_string(img->features, sizeof(img->features), d, descsz);
                break;
            default:
                break;
            }
        }
        off = next;
    }
    return 0;
}

/* Features a kernel may require ('!feature') that pvcore provides. */
static bool feature_supported(const char *f, size_t n)
{
#define PVCORE_FEATURE_NAME(name, when) #name,
    static const char *const ok[] = { PVCORE_FEATURES(PVCORE_FEATURE_NAME) };
#undef PVCORE_FEATURE_NAME
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (strlen(ok[i]) == n && !memcmp(ok[i], f, n))
            return true;
    return false;
}

/* The Xen notes: in PT_NOTE segments or, when none of those holds one, in
 * SHT_NOTE sections (Mini-OS and Unikraft images have only the latter), as
 * Xen's libelf looks for them. */
static int find_notes(const uint8_t *elf, size_t len, const struct elf64_ehdr *eh,
                      struct pvbuild_image *img, struct notes_seen *seen,
                      char *err, size_t errlen)
{
    for (unsigned int i = 0; i < eh->phnum; i++) {
        struct elf64_phdr ph;
        memcpy(&ph, elf + eh->phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
        if (ph.type != PT_NOTE || !ph.offset)   /* offset 0: old binutils' bogus notes */
            continue;
        if (!range_in(ph.offset, ph.filesz, len))
            FAIL("kernel: note segment %u out of the file", i);
        if (parse_notes(elf + ph.offset, ph.filesz, img, seen))
            FAIL("kernel: malformed note in segment %u", i);
    }
    if (seen->xen || !eh->shnum || !eh->shoff)
        return 0;
    uint64_t shbytes;
    if (eh->shentsize != sizeof(struct elf64_shdr) ||
        !mul_ok(eh->shnum, sizeof(struct elf64_shdr), &shbytes) ||
        !range_in(eh->shoff, shbytes, len))
        FAIL("kernel: no Xen notes in note segments, and the section headers are out of "
             "the file");
    for (unsigned int i = 0; i < eh->shnum; i++) {
        struct elf64_shdr sh;
        memcpy(&sh, elf + eh->shoff + (uint64_t)i * sizeof(sh), sizeof(sh));
        if (sh.type != SHT_NOTE)
            continue;
        if (!range_in(sh.offset, sh.size, len))
            FAIL("kernel: note section %u out of the file", i);
        if (parse_notes(elf + sh.offset, sh.size, img, seen))
            FAIL("kernel: malformed note in section %u", i);
    }
    return 0;
}

int pvbuild_parse(const uint8_t *elf, size_t len, struct pvbuild_image *img,
                  char *err, size_t errlen)
{
    struct elf64_ehdr eh;
    struct notes_seen seen = { 0 };
    uint64_t phbytes;

    memset(img, 0, sizeof(*img));
    if (!elf || len < sizeof(eh))
        FAIL("kernel: %zu bytes is too small for an ELF header", len);
    memcpy(&eh, elf, sizeof(eh));
    if (memcmp(eh.ident, "\177ELF", 4) || eh.ident[4] != 2 || eh.ident[5] != 1)
        FAIL("kernel: not a little-endian ELF64 file");
    if (eh.machine != EM_X86_64 || eh.type != 2)
        FAIL("kernel: not an x86-64 executable (machine %u, type %u)", eh.machine, eh.type);
    if (eh.phentsize != sizeof(struct elf64_phdr) || !eh.phnum ||
        !mul_ok(eh.phnum, sizeof(struct elf64_phdr), &phbytes) ||
        !range_in(eh.phoff, phbytes, len))
        FAIL("kernel: program headers out of the file");

    int rc = find_notes(elf, len, &eh, img, &seen, err, errlen);
    if (rc)
        return rc;
    if (!seen.xen)
        FAIL("kernel: no Xen ELF notes (not a PV kernel)");

    unsigned int loads = 0;
    uint64_t pmin = UINT64_MAX, pmax = 0;
    for (unsigned int i = 0; i < eh.phnum; i++) {
        struct elf64_phdr ph;
        uint64_t end;
        memcpy(&ph, elf + eh.phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
        if (ph.type != PT_LOAD || !ph.memsz)
            continue;
        if (!range_in(ph.offset, ph.filesz, len) || ph.filesz > ph.memsz)
            FAIL("kernel: load segment %u out of the file", i);
        if (!add_ok(ph.paddr, ph.memsz, &end))
            FAIL("kernel: load segment %u wraps around (paddr %#lx, memsz %#lx)", i,
                 (unsigned long)ph.paddr, (unsigned long)ph.memsz);
        pmin = pmin < ph.paddr ? pmin : ph.paddr;
        pmax = pmax > end ? pmax : end;
        loads++;
    }
    if (!loads)
        FAIL("kernel: no loadable segments");
    if (strncmp(img->xen_version, "xen-3.0", 7))
        FAIL("kernel: XEN_VERSION note is '%s', expected 'xen-3.0'", img->xen_version);
    if (strncmp(img->loader, "generic", 7) && strncmp(img->guest_os, "linux", 5))
        FAIL("kernel: LOADER note is '%s' and GUEST_OS '%s': only the 'generic' loader or "
             "Linux images are supported", img->loader, img->guest_os);
    /* Xen's defaults: VIRT_BASE 0, PADDR_OFFSET = VIRT_BASE. */
    if (seen.paddr_offset && !seen.virt_base)
        FAIL("kernel: PADDR_OFFSET note without VIRT_BASE");
    if (!seen.paddr_offset)
        img->paddr_offset = img->virt_base;
    if (img->virt_base & (PG_SIZE - 1))
        FAIL("kernel: VIRT_BASE %#lx is not page aligned", (unsigned long)img->virt_base);
    if (pmin < img->paddr_offset)
        FAIL("kernel: segment below PADDR_OFFSET %#lx", (unsigned long)img->paddr_offset);

    uint64_t lo, hi;
    if (!sub_ok(pmin, img->paddr_offset, &lo) || !sub_ok(pmax, img->paddr_offset, &hi) ||
        !add_ok(lo, img->virt_base, &img->kstart) || !add_ok(hi, img->virt_base, &img->kend))
        FAIL("kernel: image does not fit above VIRT_BASE %#lx (segments up to %#lx)",
             (unsigned long)img->virt_base, (unsigned long)pmax);
    if (!img->entry)
        img->entry = eh.entry;
    if (img->entry < img->kstart || img->entry >= img->kend)
        FAIL("kernel: entry %#lx outside the image", (unsigned long)img->entry);
    uint64_t hp_end;
    if (img->has_hypercall_page &&
        (img->hypercall_page & (PG_SIZE - 1) || img->hypercall_page < img->kstart ||
         !add_ok(img->hypercall_page, PG_SIZE, &hp_end) || hp_end > img->kend))
        FAIL("kernel: hypercall page %#lx is not a page inside the image",
             (unsigned long)img->hypercall_page);

    /* Required features: '!' prefixed words of the FEATURES note. */
    for (const char *f = img->features; *f;) {
        size_t n = strcspn(f, "|");
        if (f[0] == '!' && !feature_supported(f + 1, n - 1))
            FAIL("kernel: requires feature '%.*s', which pvcore does not provide",
                 (int)(n - 1), f + 1);
        f += n;
        if (*f == '|')
            f++;
    }
    return 0;
}

struct builder {
    const struct pvbuild_params *p;
    const struct pvbuild_ops *ops;
};

/* Copy (src) or zero (src NULL) len bytes at pseudo-physical address pa.
 * Refuses anything that is not inside the domain's nr_pages. */
static int write_phys(struct builder *b, uint64_t pa, const uint8_t *src, uint64_t len)
{
    uint64_t end, limit = b->p->nr_pages << PG_SHIFT;
    if (!add_ok(pa, len, &end) || end > limit)
        return -EINVAL_;
    while (len) {
        uint64_t pfn = pa >> PG_SHIFT, off = pa & (PG_SIZE - 1);
        uint64_t n = PG_SIZE - off < len ? PG_SIZE - off : len;
        uint8_t *page = b->ops->map(b->ops->ctx, b->p->p2m[pfn]);
        if (src) {
            memcpy(page + off, src, n);
            src += n;
        } else {
            memset(page + off, 0, n);
        }
        b->ops->unmap(b->ops->ctx, page);
        pa += n;
        len -= n;
    }
    return 0;
}

static uint64_t tables_needed(uint64_t vstart, uint64_t vend)
{
    uint64_t n = 1;                                     /* the L4 */
    for (unsigned int shift = 21; shift <= 39; shift += 9) {
        uint64_t lo = vstart >> shift, hi = (vend - 1) >> shift;
        n += hi - lo + 1;
    }
    return n;
}

static int fill_hypercall_page(struct builder *b, uint64_t pa)
{
    uint8_t page[PG_SIZE];
    memset(page, 0xcc, sizeof(page));                   /* int3 padding */
    for (unsigned int i = 0; i < PG_SIZE / 32; i++) {
        uint8_t *s = page + i * 32;
        if (i == __HYPERVISOR_iret) {
            /* push %rcx; push %r11; push %rax; mov $iret,%eax; syscall */
            const uint8_t stub[] = { 0x51, 0x41, 0x53, 0x50, 0xb8, i, 0, 0, 0, 0x0f, 0x05 };
            memcpy(s, stub, sizeof(stub));
            continue;
        }
        /* push %rcx; push %r11; mov $i,%eax; syscall; pop %r11; pop %rcx; ret */
        const uint8_t stub[] = { 0x51, 0x41, 0x53, 0xb8, (uint8_t)i, 0, 0, 0, 0x0f, 0x05,
                                 0x41, 0x5b, 0x59, 0xc3 };
        memcpy(s, stub, sizeof(stub));
    }
    return write_phys(b, pa, page, PG_SIZE);
}

/* A page-granular region of the layout: [*cursor, *cursor + bytes), the
 * cursor moved past it. */
static bool take(uint64_t *cursor, uint64_t bytes, uint64_t *start)
{
    uint64_t len;
    *start = *cursor;
    return align_ok(bytes, PG_SIZE, &len) && add_ok(*cursor, len, cursor);
}

#define BFAIL(rc_, ...) do { snprintf(err, errlen, __VA_ARGS__); return rc_; } while (0)
#define TOO_BIG() BFAIL(-ENOMEM_, "kernel, ramdisk and boot structures do not fit in the "   \
                        "domain's %lu KiB", (unsigned long)(p->nr_pages * 4))

int pvbuild_build(const struct pvbuild_params *p, const struct pvbuild_ops *ops,
                  struct pvbuild_result *out, char *err, size_t errlen)
{
    struct builder b = { p, ops };
    struct pvbuild_image *img = &out->img;
    memset(out, 0, sizeof(*out));
    int rc = pvbuild_parse(p->kernel, p->kernel_len, img, err, errlen);
    if (rc)
        return rc;
    uint64_t dom_bytes;
    if (!p->nr_pages || !p->p2m || !mul_ok(p->nr_pages, PG_SIZE, &dom_bytes) ||
        p->nr_pages > (UINT64_MAX >> PG_SHIFT) / 8)
        BFAIL(-EINVAL_, "domain of %lu pages", (unsigned long)p->nr_pages);

    /* The layout, as libxenguest lays out a PV domU (xc_dom_build_image):
     * pseudo-physical pfn 0 is VIRT_BASE; the kernel, the ramdisk (unless
     * the kernel takes it unmapped), the p2m list, start_info, xenstore,
     * console, the page tables, the boot stack; all of that plus at least
     * 512 KiB is mapped, up to the next 4 MiB boundary. */
    const uint64_t vb = img->virt_base;
    const bool unmapped_ramdisk = p->ramdisk_len && img->mod_start_pfn;
    uint64_t next, ramdisk_pa = 0, p2m_pa, si_pa, store_pa, cons_pa, pt_pa;
    if (!sub_ok(img->kend, vb, &next) || !align_ok(next, PG_SIZE, &next))
        TOO_BIG();
    if (p->ramdisk_len && !unmapped_ramdisk && !take(&next, p->ramdisk_len, &ramdisk_pa))
        TOO_BIG();
    if (!take(&next, p->nr_pages * 8, &p2m_pa) || !take(&next, PG_SIZE, &si_pa) ||
        !take(&next, PG_SIZE, &store_pa) || !take(&next, PG_SIZE, &cons_pa))
        TOO_BIG();
    pt_pa = next;

    /* Tables for [VIRT_BASE, v_end), v_end = the 4 MiB boundary above the
     * tables, the boot stack and 512 KiB (xc_dom_x86.c alloc_pgtables_pv). */
    const uint64_t extra = (1 + 512 * 1024 / PG_SIZE) * PG_SIZE;
    uint64_t nr_pt = 1, v_end = 0, stack_pa = 0, span = 0;
    for (;;) {
        uint64_t want, last;
        if (!add_ok(pt_pa, nr_pt * PG_SIZE, &want) || !add_ok(want, extra, &want) ||
            !add_ok(vb, want, &last))
            TOO_BIG();
        last |= (4UL << 20) - 1;                        /* inclusive end */
        if (!add_ok(last, 1, &v_end) || !sub_ok(v_end, vb, &span) || span > dom_bytes)
            TOO_BIG();
        uint64_t need = tables_needed(vb, v_end);
        if (need <= nr_pt)
            break;
        nr_pt = need;
    }
    stack_pa = pt_pa + nr_pt * PG_SIZE;
    uint64_t mapped_pages = span >> PG_SHIFT;

    /* Everything the layout covers starts out zero. */
    if (write_phys(&b, 0, NULL, span))
        TOO_BIG();

    /* An unmapped ramdisk follows the mapped area (SIF_MOD_START_PFN). */
    if (unmapped_ramdisk) {
        uint64_t end = span;
        if (!take(&end, p->ramdisk_len, &ramdisk_pa) || end > dom_bytes)
            TOO_BIG();
    }

    /* Kernel segments (pvbuild_parse checked that each lies in the file
     * and in [kstart, kend), which the layout covers). */
    struct elf64_ehdr eh;
    memcpy(&eh, p->kernel, sizeof(eh));
    for (unsigned int i = 0; i < eh.phnum; i++) {
        struct elf64_phdr ph;
        memcpy(&ph, p->kernel + eh.phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
        if (ph.type != PT_LOAD || !ph.memsz)
            continue;
        if (write_phys(&b, ph.paddr - img->paddr_offset, p->kernel + ph.offset, ph.filesz))
            BFAIL(-EINVAL_, "kernel: load segment %u outside the domain", i);
    }
    if (img->has_hypercall_page && fill_hypercall_page(&b, img->hypercall_page - vb))
        BFAIL(-EINVAL_, "kernel: hypercall page outside the domain");
    uint64_t rd_bytes = 0;
    if (p->ramdisk_len) {
        if (!align_ok(p->ramdisk_len, PG_SIZE, &rd_bytes) ||
            write_phys(&b, ramdisk_pa, NULL, rd_bytes) ||
            write_phys(&b, ramdisk_pa, p->ramdisk, p->ramdisk_len))
            TOO_BIG();
    }
    if (write_phys(&b, p2m_pa, (const uint8_t *)p->p2m, p->nr_pages * 8))
        TOO_BIG();

    /* Page tables: L4 first, then lower levels as the walk needs them.
     * Protections as Xen's builder: leaves P|RW|A (the tables themselves
     * read-only), upper levels P|RW|A|D|US. */
    uint64_t pt_used = 1;
    uint64_t pt_first_pfn = pt_pa >> PG_SHIFT;
    for (uint64_t pfn = 0; pfn < mapped_pages; pfn++) {
        uint64_t va = vb + (pfn << PG_SHIFT);
        uint64_t table_pfn = pt_first_pfn;                 /* the L4 */
        for (unsigned int shift = 39; shift >= 12; shift -= 9) {
            uint64_t idx = (va >> shift) & 511;
            uint64_t *t = ops->map(ops->ctx, p->p2m[table_pfn]);
            if (shift == 12) {
                bool is_pt = pfn >= pt_first_pfn && pfn < pt_first_pfn + nr_pt;
                t[idx] = (p->p2m[pfn] << PG_SHIFT) | PTE_P | PTE_A | (is_pt ? 0 : PTE_RW);
                ops->unmap(ops->ctx, t);
                break;
            }
            if (!(t[idx] & PTE_P)) {
                if (pt_used == nr_pt) {
                    ops->unmap(ops->ctx, t);
                    BFAIL(-EINVAL_, "builder: page-table estimate %lu too small",
                          (unsigned long)nr_pt);
                }
                t[idx] = (p->p2m[pt_first_pfn + pt_used] << PG_SHIFT) |
                         PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D;
                pt_used++;
            }
            uint64_t next_pfn = 0;
            uint64_t next_mfn = t[idx] >> PG_SHIFT & 0xffffffffffUL;
            ops->unmap(ops->ctx, t);
            for (uint64_t k = 0; k < pt_used; k++)
                if (p->p2m[pt_first_pfn + k] == next_mfn)
                    next_pfn = pt_first_pfn + k;
            table_pfn = next_pfn;
        }
    }

    /* start_info, field by field as xc_dom_x86.c start_info_x86_64 fills
     * it for a PV domU. first_p2m_pfn/nr_p2m_frames stay 0: the p2m list
     * is inside the initial mapping (they describe one placed outside). */
    struct start_info si;
    memset(&si, 0, sizeof(si));
    memcpy(si.magic, "xen-3.0-x86_64", 15);
    si.nr_pages = p->nr_pages;
    si.shared_info = p->shared_info_maddr;
    si.pt_base = vb + pt_pa;
    si.nr_pt_frames = nr_pt;
    si.mfn_list = vb + p2m_pa;
    si.flags = p->flags | (unmapped_ramdisk ? SIF_MOD_START_PFN : 0);
    si.store_mfn = p->p2m[store_pa >> PG_SHIFT];
    si.store_evtchn = p->store_evtchn;
    si.console.domU.mfn = p->p2m[cons_pa >> PG_SHIFT];
    si.console.domU.evtchn = p->console_evtchn;
    if (p->ramdisk_len) {
        /* libxenguest hands over the whole pages of the module */
        si.mod_start = unmapped_ramdisk ? ramdisk_pa >> PG_SHIFT : vb + ramdisk_pa;
        si.mod_len = rd_bytes;
    }
    if (p->cmdline) {
        size_t n = strlen(p->cmdline);
        if (n >= sizeof(si.cmd_line))
            n = sizeof(si.cmd_line) - 1;
        memcpy(si.cmd_line, p->cmdline, n);
    }
    if (write_phys(&b, si_pa, (const uint8_t *)&si, sizeof(si)))
        TOO_BIG();

    out->entry = img->entry;
    out->stack_top = vb + stack_pa + PG_SIZE;
    out->start_info_va = vb + si_pa;
    out->start_info_pfn = si_pa >> PG_SHIFT;
    out->l4_mfn = p->p2m[pt_first_pfn];
    out->nr_pt_frames = nr_pt;
    out->pt_base = vb + pt_pa;
    out->p2m_va = vb + p2m_pa;
    out->ramdisk_start = si.mod_start;
    out->ramdisk_len = si.mod_len;
    out->flags = si.flags;
    out->console_pfn = cons_pa >> PG_SHIFT;
    out->store_pfn = store_pa >> PG_SHIFT;
    out->v_end = v_end;
    return 0;
}

/* ---- The whole start of a domain ---------------------------------------- */

#define STEP_FAIL(step, rc_, why_)                                              \
    do {                                                                        \
        snprintf(err, errlen, "%s: %s", step, why_);                            \
        rc = rc_;                                                               \
        goto fail;                                                              \
    } while (0)

int pvbuild_domain(const struct pvbuild_domain_config *cfg, const struct pvbuild_host *host,
                   struct pvbuild_domain *out, char *err, size_t errlen)
{
    char why[320];
    struct pvbuild_image img;
    uint64_t *p2m = NULL;
    bool have_domain = false, have_console = false, have_store = false;
    int rc;

    memset(out, 0, sizeof(*out));
    why[0] = '\0';
    if ((rc = pvbuild_parse(cfg->kernel, cfg->kernel_len, &img, why, sizeof(why))))
        STEP_FAIL("check", rc, why);
    if (!cfg->mem_pages || cfg->max_pages < cfg->mem_pages || !cfg->vcpus)
        STEP_FAIL("check", -EINVAL_, "memory, maximum memory and vCPUs must be positive, "
                  "the maximum at least the memory");

    if ((rc = host->create(host->ctx, cfg, &out->domid, &out->shared_info_maddr, why,
                           sizeof(why))))
        STEP_FAIL("create", rc, why);
    have_domain = true;
    out->nr_pages = cfg->mem_pages;

    if ((rc = host->get_frames(host->ctx, out->domid, out->nr_pages, &p2m, why, sizeof(why))))
        STEP_FAIL("frames", rc, why);

    if ((rc = host->evtchn_connect(host->ctx, out->domid, &out->console_port,
                                   &out->console_backend_port, why, sizeof(why))))
        STEP_FAIL("evtchn", rc, why);
    have_console = true;
    if ((rc = host->evtchn_connect(host->ctx, out->domid, &out->store_port,
                                   &out->store_backend_port, why, sizeof(why))))
        STEP_FAIL("evtchn", rc, why);
    have_store = true;

    struct pvbuild_ops ops = { host->ctx, host->map, host->unmap };
    struct pvbuild_params bp = {
        .kernel = cfg->kernel, .kernel_len = cfg->kernel_len,
        .ramdisk = cfg->ramdisk, .ramdisk_len = cfg->ramdisk ? cfg->ramdisk_len : 0,
        .cmdline = cfg->cmdline ? cfg->cmdline : "",
        .nr_pages = out->nr_pages, .p2m = p2m,
        .shared_info_maddr = out->shared_info_maddr,
        .console_evtchn = out->console_port, .store_evtchn = out->store_port,
    };
    if ((rc = pvbuild_build(&bp, &ops, &out->layout, why, sizeof(why))))
        STEP_FAIL("load", rc, why);
    out->console_mfn = p2m[out->layout.console_pfn];
    out->store_mfn = p2m[out->layout.store_pfn];
    host->put_frames(host->ctx, p2m);
    p2m = NULL;

    if ((rc = host->set_console(host->ctx, out, why, sizeof(why))))
        STEP_FAIL("console", rc, why);
    /* Pinned as Xen's builder pins it (xc_dom_boot.c arch_setup_bootlate):
     * Linux unpins it once it runs on its own tables, and BUG()s if that
     * unpin fails. */
    if ((rc = host->pin_table(host->ctx, out->domid, out->layout.l4_mfn, 4, why, sizeof(why))))
        STEP_FAIL("pin", rc, why);
    if ((rc = host->set_context(host->ctx, out, why, sizeof(why))))
        STEP_FAIL("context", rc, why);
    if (!cfg->paused && (rc = host->unpause(host->ctx, out->domid, why, sizeof(why))))
        STEP_FAIL("unpause", rc, why);
    return 0;

fail:
    if (p2m)
        host->put_frames(host->ctx, p2m);
    if (have_store)
        host->evtchn_disconnect(host->ctx, out->domid, out->store_backend_port);
    if (have_console)
        host->evtchn_disconnect(host->ctx, out->domid, out->console_backend_port);
    if (have_domain)
        host->destroy(host->ctx, out->domid);
    return rc;
}
