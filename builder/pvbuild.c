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
int snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#endif
#include <public/elfnote.h>
#include <public/errno.h>
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
#define ALIGN_UP_(x, a) (((x) + (a) - 1) & ~((uint64_t)(a) - 1))

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

#define PT_LOAD 1
#define PT_NOTE 4
#define EM_X86_64 62

#define FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); return -EINVAL_; } while (0)

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

static int parse_notes(const uint8_t *p, uint64_t len, struct pvbuild_image *img,
                       unsigned int *found)
{
    uint64_t off = 0;
    while (off + 12 <= len) {
        uint32_t namesz, descsz, type;
        memcpy(&namesz, p + off, 4);
        memcpy(&descsz, p + off + 4, 4);
        memcpy(&type, p + off + 8, 4);
        uint64_t name_off = off + 12;
        uint64_t desc_off = name_off + ALIGN_UP_((uint64_t)namesz, 4);
        uint64_t next = desc_off + ALIGN_UP_((uint64_t)descsz, 4);
        if (next > len || next <= off)
            return -EINVAL_;
        if (namesz == 4 && !memcmp(p + name_off, "Xen", 4)) {
            const uint8_t *d = p + desc_off;
            (*found)++;
            switch (type) {
            case XEN_ELFNOTE_ENTRY: img->entry = note_number(d, descsz); break;
            case XEN_ELFNOTE_HYPERCALL_PAGE:
                img->hypercall_page = note_number(d, descsz);
                img->has_hypercall_page = true;
                break;
            case XEN_ELFNOTE_VIRT_BASE: img->virt_base = note_number(d, descsz); break;
            case XEN_ELFNOTE_PADDR_OFFSET: img->paddr_offset = note_number(d, descsz); break;
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
    static const char *const ok[] = { "pae_pgdir_above_4gb", "writable_descriptor_tables_no",
                                      "mmu_pt_update_preserve_ad" };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (strlen(ok[i]) == n && !memcmp(ok[i], f, n))
            return true;
    return false;
}

int pvbuild_parse(const uint8_t *elf, size_t len, struct pvbuild_image *img,
                  char *err, size_t errlen)
{
    struct elf64_ehdr eh;

    memset(img, 0, sizeof(*img));
    if (len < sizeof(eh))
        FAIL("kernel: %zu bytes is too small for an ELF header", len);
    memcpy(&eh, elf, sizeof(eh));
    if (memcmp(eh.ident, "\177ELF", 4) || eh.ident[4] != 2 || eh.ident[5] != 1)
        FAIL("kernel: not a little-endian ELF64 file");
    if (eh.machine != EM_X86_64 || eh.type != 2)
        FAIL("kernel: not an x86-64 executable (machine %u, type %u)", eh.machine, eh.type);
    if (eh.phentsize != sizeof(struct elf64_phdr) || !eh.phnum ||
        !range_in(eh.phoff, (uint64_t)eh.phnum * sizeof(struct elf64_phdr), len))
        FAIL("kernel: program headers out of the file");

    unsigned int notes = 0, loads = 0;
    uint64_t pmin = UINT64_MAX, pmax = 0;
    for (unsigned int i = 0; i < eh.phnum; i++) {
        struct elf64_phdr ph;
        memcpy(&ph, elf + eh.phoff + i * sizeof(ph), sizeof(ph));
        if (ph.type == PT_NOTE) {
            if (!range_in(ph.offset, ph.filesz, len))
                FAIL("kernel: note segment %u out of the file", i);
            if (parse_notes(elf + ph.offset, ph.filesz, img, &notes))
                FAIL("kernel: malformed note in segment %u", i);
        } else if (ph.type == PT_LOAD && ph.memsz) {
            if (!range_in(ph.offset, ph.filesz, len) || ph.filesz > ph.memsz)
                FAIL("kernel: load segment %u out of the file", i);
            if (ph.paddr + ph.memsz < ph.paddr)
                FAIL("kernel: load segment %u wraps around", i);
            pmin = pmin < ph.paddr ? pmin : ph.paddr;
            pmax = pmax > ph.paddr + ph.memsz ? pmax : ph.paddr + ph.memsz;
            loads++;
        }
    }
    if (!notes)
        FAIL("kernel: no Xen ELF notes (not a PV kernel)");
    if (!loads)
        FAIL("kernel: no loadable segments");
    if (strcmp(img->xen_version, "xen-3.0"))
        FAIL("kernel: XEN_VERSION note is '%s', expected 'xen-3.0'", img->xen_version);
    if (img->loader[0] && strcmp(img->loader, "generic"))
        FAIL("kernel: LOADER note is '%s', only 'generic' is supported", img->loader);
    if (pmin < img->paddr_offset)
        FAIL("kernel: segment below PADDR_OFFSET %#lx", (unsigned long)img->paddr_offset);
    if (img->virt_base & (PG_SIZE - 1))
        FAIL("kernel: VIRT_BASE %#lx is not page aligned", (unsigned long)img->virt_base);

    img->kstart = pmin - img->paddr_offset + img->virt_base;
    img->kend = pmax - img->paddr_offset + img->virt_base;
    if (img->kend < img->kstart || img->kstart < img->virt_base)
        FAIL("kernel: image does not fit above VIRT_BASE");
    if (!img->entry)
        img->entry = eh.entry;
    if (img->entry < img->kstart || img->entry >= img->kend)
        FAIL("kernel: entry %#lx outside the image", (unsigned long)img->entry);
    if (img->has_hypercall_page &&
        (img->hypercall_page & (PG_SIZE - 1) || img->hypercall_page < img->kstart ||
         img->hypercall_page + PG_SIZE > img->kend))
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

/* Copy (src) or zero (src NULL) len bytes at pseudo-physical address pa. */
static void write_phys(struct builder *b, uint64_t pa, const uint8_t *src, uint64_t len)
{
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

static void fill_hypercall_page(struct builder *b, uint64_t pa)
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
    write_phys(b, pa, page, PG_SIZE);
}

int pvbuild_build(const struct pvbuild_params *p, const struct pvbuild_ops *ops,
                  struct pvbuild_result *out, char *err, size_t errlen)
{
    struct builder b = { p, ops };
    struct pvbuild_image *img = &out->img;
    int rc = pvbuild_parse(p->kernel, p->kernel_len, img, err, errlen);
    if (rc)
        return rc;

    const uint64_t vb = img->virt_base;
    uint64_t next = ALIGN_UP_(img->kend - vb, PG_SIZE);     /* pseudo-physical cursor */
    uint64_t ramdisk_pa = 0;
    if (p->ramdisk_len) {
        ramdisk_pa = next;
        next += ALIGN_UP_(p->ramdisk_len, PG_SIZE);
    }
    uint64_t p2m_pa = next;
    next += ALIGN_UP_(p->nr_pages * 8, PG_SIZE);
    uint64_t si_pa = next;
    next += PG_SIZE;
    uint64_t store_pa = next;
    next += PG_SIZE;
    uint64_t cons_pa = next;
    next += PG_SIZE;
    uint64_t pt_pa = next;

    uint64_t nr_pt = 0, v_end;
    for (;;) {
        uint64_t stack_pa = pt_pa + nr_pt * PG_SIZE;
        v_end = vb + ALIGN_UP_(stack_pa + PG_SIZE + 512 * 1024, 4UL << 20);
        uint64_t need = tables_needed(vb, v_end);
        if (need <= nr_pt)
            break;
        nr_pt = need;
    }
    uint64_t stack_pa = pt_pa + nr_pt * PG_SIZE;
    uint64_t mapped_pages = (v_end - vb) >> PG_SHIFT;
    if (mapped_pages > p->nr_pages) {
        snprintf(err, errlen, "kernel, tables and boot stack need %lu KiB mapped; the "
                 "domain has %lu KiB", (unsigned long)(mapped_pages * 4),
                 (unsigned long)(p->nr_pages * 4));
        return -ENOMEM_;
    }

    /* Everything the layout covers starts out zero. */
    write_phys(&b, 0, NULL, mapped_pages * PG_SIZE);

    /* Kernel segments. */
    struct elf64_ehdr eh;
    memcpy(&eh, p->kernel, sizeof(eh));
    for (unsigned int i = 0; i < eh.phnum; i++) {
        struct elf64_phdr ph;
        memcpy(&ph, p->kernel + eh.phoff + i * sizeof(ph), sizeof(ph));
        if (ph.type != PT_LOAD || !ph.memsz)
            continue;
        write_phys(&b, ph.paddr - img->paddr_offset, p->kernel + ph.offset, ph.filesz);
    }
    if (img->has_hypercall_page)
        fill_hypercall_page(&b, img->hypercall_page - vb);
    if (p->ramdisk_len)
        write_phys(&b, ramdisk_pa, p->ramdisk, p->ramdisk_len);
    write_phys(&b, p2m_pa, (const uint8_t *)p->p2m, p->nr_pages * 8);

    /* Page tables: L4 first, then lower levels as the walk needs them. */
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
                t[idx] = (p->p2m[pfn] << PG_SHIFT) | PTE_P | PTE_US | PTE_A | PTE_D |
                         (is_pt ? 0 : PTE_RW);
                ops->unmap(ops->ctx, t);
                break;
            }
            if (!(t[idx] & PTE_P)) {
                if (pt_used == nr_pt) {
                    ops->unmap(ops->ctx, t);
                    snprintf(err, errlen, "builder: page-table estimate %lu too small",
                             (unsigned long)nr_pt);
                    return -EINVAL_;
                }
                t[idx] = (p->p2m[pt_first_pfn + pt_used] << PG_SHIFT) |
                         PTE_P | PTE_RW | PTE_US | PTE_A;
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

    /* start_info */
    struct start_info si;
    memset(&si, 0, sizeof(si));
    memcpy(si.magic, "xen-3.0-x86_64", 15);
    si.nr_pages = p->nr_pages;
    si.shared_info = p->shared_info_maddr;
    si.flags = p->flags;
    si.store_mfn = p->p2m[store_pa >> PG_SHIFT];
    si.store_evtchn = p->store_evtchn;
    si.console.domU.mfn = p->p2m[cons_pa >> PG_SHIFT];
    si.console.domU.evtchn = p->console_evtchn;
    si.pt_base = vb + pt_pa;
    si.nr_pt_frames = nr_pt;
    si.mfn_list = vb + p2m_pa;
    if (p->ramdisk_len) {
        si.mod_start = vb + ramdisk_pa;
        si.mod_len = p->ramdisk_len;
    }
    if (p->cmdline) {
        size_t n = strlen(p->cmdline);
        if (n >= sizeof(si.cmd_line))
            n = sizeof(si.cmd_line) - 1;
        memcpy(si.cmd_line, p->cmdline, n);
    }
    write_phys(&b, si_pa, (const uint8_t *)&si, sizeof(si));

    out->entry = img->entry;
    out->stack_top = vb + stack_pa + PG_SIZE;
    out->start_info_va = vb + si_pa;
    out->l4_mfn = p->p2m[pt_first_pfn];
    out->nr_pt_frames = nr_pt;
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
