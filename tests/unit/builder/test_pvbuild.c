/*
 * test_pvbuild.c - the shared domain builder (builder/pvbuild.c) on the
 * host, with ASan/UBSan: crafted ELF kernels (notes in PT_NOTE segments or
 * only in SHT_NOTE sections, hostile sizes and offsets), built into an
 * in-memory array of frames with a scrambled p2m. The map callback fails
 * the test on any frame that is not the domain's, and the frames are
 * surrounded by guard pages the builder must never touch.
 * Input (one test): $BUILD/guests/ticker.elf (BUILD defaults to "build").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <public/elfnote.h>
#include <public/xen.h>

#include "pvbuild.h"

#define NR_PAGES 4096u                   /* 16 MiB */
#define GUARD    16u                     /* guard pages each side */
#define MFN_BASE 0x4000u
#define VIRT_BASE 0xffffffff80000000ull
#define KSEG_OFF  0x1000u                /* file offset of the load segment */
#define KSEG_SIZE 0x3000u

/* ---- frames -------------------------------------------------------------- */

struct frames {
    uint8_t (*mem)[4096];                /* GUARD + NR_PAGES + GUARD pages */
    uint64_t p2m[NR_PAGES];
    uint64_t nr_pages;
    unsigned int maps, bad_maps;
};

static void *map(void *ctx, uint64_t mfn)
{
    struct frames *f = ctx;

    f->maps++;
    if (mfn < MFN_BASE || mfn >= MFN_BASE + f->nr_pages) {
        f->bad_maps++;
        fail_msg("the builder mapped mfn %#llx, which is not the domain's",
                 (unsigned long long)mfn);
    }
    return f->mem[GUARD + mfn - MFN_BASE];
}

static void unmap(void *ctx, void *p)
{
}

static struct frames *new_frames(void)
{
    struct frames *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->mem = calloc(NR_PAGES + 2 * GUARD, 4096);
    assert_non_null(f->mem);
    memset(f->mem, 0x5a, (size_t)(NR_PAGES + 2 * GUARD) * 4096);
    f->nr_pages = NR_PAGES;
    for (uint64_t i = 0; i < NR_PAGES; i++)
        f->p2m[i] = MFN_BASE + (i * 1237 + 11) % NR_PAGES;
    return f;
}

static void check_guards(const struct frames *f)
{
    for (unsigned int g = 0; g < GUARD; g++)
        for (unsigned int k = 0; k < 4096; k++) {
            if (f->mem[g][k] != 0x5a || f->mem[GUARD + NR_PAGES + g][k] != 0x5a)
                fail_msg("guard page %u was written", g);
        }
}

static void free_frames(struct frames *f)
{
    check_guards(f);
    assert_int_equal(f->bad_maps, 0);
    free(f->mem);
    free(f);
}

/* ---- crafted kernels ------------------------------------------------------ */

struct kspec {
    bool pt_note, sh_note;              /* where the Xen notes are */
    uint64_t paddr, filesz, memsz;      /* the one PT_LOAD */
    uint64_t virt_base, paddr_offset, entry;
    const char *features;
    bool no_paddr_offset_note;
    bool mod_start_pfn;                 /* MOD_START_PFN note = 1 */
};

static struct kspec default_spec(void)
{
    return (struct kspec){ .pt_note = true, .paddr = 0x200000, .filesz = KSEG_SIZE,
                           .memsz = KSEG_SIZE + 0x2000, .virt_base = VIRT_BASE,
                           .paddr_offset = 0, .entry = VIRT_BASE + 0x200000,
                           .features = "!pae_pgdir_above_4gb" };
}

struct blob {
    uint8_t b[0x8000];
    size_t len;
};

static size_t put_note(uint8_t *p, uint32_t type, const void *desc, uint32_t descsz)
{
    uint32_t hdr[3] = { 4, descsz, type };
    size_t n = 0;

    memcpy(p, hdr, 12);
    memcpy(p + 12, "Xen", 4);
    memcpy(p + 16, desc, descsz);
    n = 16 + ((descsz + 3u) & ~3u);
    return n;
}

static size_t put_note_u64(uint8_t *p, uint32_t type, uint64_t v)
{
    return put_note(p, type, &v, 8);
}

static size_t put_note_str(uint8_t *p, uint32_t type, const char *s)
{
    return put_note(p, type, s, (uint32_t)strlen(s) + 1);
}

#define NOTES_OFF 0x400u
#define SHDR_OFF  0x800u
#define PHDR_OFF  0x40u

/* Layout: ehdr, phdrs (LOAD [+ NOTE]) at 0x40, notes at 0x400, section
 * headers (NULL, NOTE) at 0x800, the load segment's bytes at 0x1000. */
static void make_kernel(const struct kspec *k, struct blob *out)
{
    uint8_t *b = out->b;
    memset(out, 0, sizeof(*out));

    size_t nl = 0;
    uint8_t *n = b + NOTES_OFF;
    nl += put_note_str(n + nl, XEN_ELFNOTE_GUEST_OS, "crafted");
    nl += put_note_str(n + nl, XEN_ELFNOTE_XEN_VERSION, "xen-3.0");
    nl += put_note_str(n + nl, XEN_ELFNOTE_LOADER, "generic");
    nl += put_note_u64(n + nl, XEN_ELFNOTE_VIRT_BASE, k->virt_base);
    if (!k->no_paddr_offset_note)
        nl += put_note_u64(n + nl, XEN_ELFNOTE_PADDR_OFFSET, k->paddr_offset);
    nl += put_note_u64(n + nl, XEN_ELFNOTE_ENTRY, k->entry);
    nl += put_note_u64(n + nl, XEN_ELFNOTE_HYPERCALL_PAGE, k->entry + 0x1000);
    if (k->features)
        nl += put_note_str(n + nl, XEN_ELFNOTE_FEATURES, k->features);
    if (k->mod_start_pfn)
        nl += put_note_u64(n + nl, XEN_ELFNOTE_MOD_START_PFN, 1);
    assert_true(NOTES_OFF + nl <= SHDR_OFF);

    /* ELF header */
    memcpy(b, "\177ELF\2\1\1", 7);
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    u16 = 2; memcpy(b + 16, &u16, 2);                  /* ET_EXEC */
    u16 = 62; memcpy(b + 18, &u16, 2);                 /* EM_X86_64 */
    u32 = 1; memcpy(b + 20, &u32, 4);
    u64 = k->entry; memcpy(b + 24, &u64, 8);
    u64 = PHDR_OFF; memcpy(b + 32, &u64, 8);           /* phoff */
    u64 = k->sh_note ? SHDR_OFF : 0; memcpy(b + 40, &u64, 8);
    u16 = 64; memcpy(b + 52, &u16, 2);                 /* ehsize */
    u16 = 56; memcpy(b + 54, &u16, 2);                 /* phentsize */
    u16 = k->pt_note ? 2 : 1; memcpy(b + 56, &u16, 2);
    u16 = 64; memcpy(b + 58, &u16, 2);                 /* shentsize */
    u16 = k->sh_note ? 2 : 0; memcpy(b + 60, &u16, 2);

    /* PT_LOAD */
    uint8_t *ph = b + PHDR_OFF;
    u32 = 1; memcpy(ph, &u32, 4);
    u32 = 7; memcpy(ph + 4, &u32, 4);
    u64 = KSEG_OFF; memcpy(ph + 8, &u64, 8);
    u64 = k->virt_base + k->paddr - k->paddr_offset; memcpy(ph + 16, &u64, 8);
    memcpy(ph + 24, &k->paddr, 8);
    memcpy(ph + 32, &k->filesz, 8);
    memcpy(ph + 40, &k->memsz, 8);
    if (k->pt_note) {
        ph += 56;
        u32 = 4; memcpy(ph, &u32, 4);
        u64 = NOTES_OFF; memcpy(ph + 8, &u64, 8);
        u64 = nl; memcpy(ph + 32, &u64, 8);
        memcpy(ph + 40, &u64, 8);
    }
    if (k->sh_note) {
        uint8_t *sh = b + SHDR_OFF + 64;               /* section 0 is SHT_NULL */
        u32 = 7; memcpy(sh + 4, &u32, 4);              /* SHT_NOTE */
        u64 = NOTES_OFF; memcpy(sh + 24, &u64, 8);
        u64 = nl; memcpy(sh + 32, &u64, 8);
    }
    for (unsigned int i = 0; i < KSEG_SIZE; i++)
        b[KSEG_OFF + i] = (uint8_t)(i * 7 + 1);
    out->len = KSEG_OFF + KSEG_SIZE;
}

static int parse(const struct blob *k, struct pvbuild_image *img, char *err, size_t n)
{
    err[0] = '\0';
    return pvbuild_parse(k->b, k->len, img, err, n);
}

/* Build k into fresh frames; the result code. */
static int build(const struct blob *k, const uint8_t *ramdisk, size_t ramdisk_len,
                 uint64_t nr_pages, struct frames **fout, struct pvbuild_result *res,
                 char *err, size_t n)
{
    struct frames *f = new_frames();
    f->nr_pages = nr_pages;
    struct pvbuild_ops ops = { f, map, unmap };
    struct pvbuild_params p = {
        .kernel = k->b, .kernel_len = k->len, .ramdisk = ramdisk,
        .ramdisk_len = ramdisk_len, .cmdline = "console=hvc0 root=/dev/ram0",
        .nr_pages = nr_pages, .p2m = f->p2m, .shared_info_maddr = 0x1234000,
        .console_evtchn = 1, .store_evtchn = 2,
    };
    err[0] = '\0';
    int rc = pvbuild_build(&p, &ops, res, err, n);
    if (fout)
        *fout = f;
    else
        free_frames(f);
    return rc;
}

/* ---- tests ---------------------------------------------------------------- */

static void notes_in_a_pt_note_segment_are_read(void **state)
{
    struct kspec s = default_spec();
    struct blob k;
    struct pvbuild_image img;
    char err[256];

    make_kernel(&s, &k);
    assert_int_equal(parse(&k, &img, err, sizeof(err)), 0);
    assert_int_equal(img.virt_base, VIRT_BASE);
    assert_int_equal(img.entry, VIRT_BASE + 0x200000);
    assert_int_equal(img.kstart, VIRT_BASE + 0x200000);
    assert_int_equal(img.kend, VIRT_BASE + 0x200000 + KSEG_SIZE + 0x2000);
    assert_true(img.has_hypercall_page);
    assert_string_equal(img.guest_os, "crafted");
}

static void notes_only_in_an_sht_note_section_are_read(void **state)
{
    struct kspec s = default_spec();
    struct blob k;
    struct pvbuild_image img;
    struct pvbuild_result res;
    struct frames *f;
    char err[256];

    s.pt_note = false;
    s.sh_note = true;
    make_kernel(&s, &k);
    assert_int_equal(parse(&k, &img, err, sizeof(err)), 0);
    assert_int_equal(img.virt_base, VIRT_BASE);
    assert_int_equal(img.entry, VIRT_BASE + 0x200000);
    assert_string_equal(img.xen_version, "xen-3.0");
    assert_int_equal(build(&k, NULL, 0, NR_PAGES, &f, &res, err, sizeof(err)), 0);
    assert_int_equal(res.entry, VIRT_BASE + 0x200000);
    free_frames(f);
}

static void a_kernel_without_xen_notes_is_refused(void **state)
{
    struct kspec s = default_spec();
    struct blob k;
    struct pvbuild_image img;
    char err[256];

    s.pt_note = false;
    make_kernel(&s, &k);
    assert_int_not_equal(parse(&k, &img, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "no Xen ELF notes"));
}

static const char *ticker_path(void)
{
    static char path[512];
    const char *b = getenv("BUILD");

    snprintf(path, sizeof(path), "%s/guests/ticker.elf", b && *b ? b : "build");
    return path;
}

/* A real test kernel with its PT_NOTE header turned into PT_NULL: the
 * builder must find the same notes in the .note section. */
static void a_real_kernel_with_notes_only_in_sections_is_accepted(void **state)
{
    FILE *fp = fopen(ticker_path(), "rb");
    if (!fp)
        skip();
    static uint8_t buf[4 << 20];
    size_t len = fread(buf, 1, sizeof(buf), fp);
    fclose(fp);
    assert_true(len > 64 && len < sizeof(buf));

    struct pvbuild_image before, after;
    char err[256];
    assert_int_equal(pvbuild_parse(buf, len, &before, err, sizeof(err)), 0);
    uint64_t phoff;
    uint16_t phnum;
    memcpy(&phoff, buf + 32, 8);
    memcpy(&phnum, buf + 56, 2);
    unsigned int patched = 0;
    for (unsigned int i = 0; i < phnum; i++) {
        uint32_t type;
        memcpy(&type, buf + phoff + i * 56, 4);
        if (type == 4) {
            type = 0;
            memcpy(buf + phoff + i * 56, &type, 4);
            patched++;
        }
    }
    assert_true(patched > 0);
    assert_int_equal(pvbuild_parse(buf, len, &after, err, sizeof(err)), 0);
    assert_int_equal(after.virt_base, before.virt_base);
    assert_int_equal(after.entry, before.entry);
    assert_int_equal(after.hypercall_page, before.hypercall_page);
    assert_string_equal(after.guest_os, before.guest_os);
}

/* The bug this guards against: memsz near 2^64 wrapped the layout and the
 * builder wrote outside the domain. */
static void a_load_segment_with_memsz_near_2_64_is_refused(void **state)
{
    const uint64_t sizes[] = { UINT64_MAX, UINT64_MAX - 0x1fffff, UINT64_MAX - 0x200000,
                               (UINT64_MAX - 0x200000) & ~0xfffull, 1ull << 63,
                               0x7fffffffffffull };
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        struct kspec s = default_spec();
        struct blob k;
        struct pvbuild_result res;
        char err[256];

        s.memsz = sizes[i];
        make_kernel(&s, &k);
        int rc = build(&k, NULL, 0, NR_PAGES, NULL, &res, err, sizeof(err));
        print_message("# memsz %#llx: %d %s\n", (unsigned long long)sizes[i], rc, err);
        assert_int_not_equal(rc, 0);
    }
}

/* Same, with VIRT_BASE 0, where paddr + memsz does not overflow but the
 * image is far larger than the domain. */
static void a_huge_image_does_not_fit_and_nothing_is_written_outside(void **state)
{
    const uint64_t sizes[] = { 1ull << 40, UINT64_MAX - 0x200000, UINT64_MAX - 0x201000 };
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        struct kspec s = default_spec();
        struct blob k;
        struct pvbuild_result res;
        char err[256];

        s.virt_base = 0;
        s.entry = 0x200000;
        s.memsz = sizes[i];
        make_kernel(&s, &k);
        int rc = build(&k, NULL, 0, NR_PAGES, NULL, &res, err, sizeof(err));
        print_message("# virt_base 0, memsz %#llx: %d %s\n", (unsigned long long)sizes[i],
                      rc, err);
        assert_int_not_equal(rc, 0);
    }
}

static void segments_and_entries_out_of_bounds_are_refused(void **state)
{
    struct kspec s;
    struct blob k;
    struct pvbuild_image img;
    char err[256];

    s = default_spec();                         /* paddr near 2^64 */
    s.paddr = UINT64_MAX - 0x1000;
    make_kernel(&s, &k);
    assert_int_not_equal(parse(&k, &img, err, sizeof(err)), 0);

    s = default_spec();                         /* segment below PADDR_OFFSET */
    s.paddr_offset = 0x400000;
    make_kernel(&s, &k);
    assert_int_not_equal(parse(&k, &img, err, sizeof(err)), 0);

    s = default_spec();                         /* virt_base + (paddr - offset) wraps */
    s.paddr = 0x80000000ull;
    s.entry = 0;
    make_kernel(&s, &k);
    assert_int_not_equal(parse(&k, &img, err, sizeof(err)), 0);

    s = default_spec();                         /* entry outside the image */
    s.entry = VIRT_BASE + 0x100000;
    make_kernel(&s, &k);
    assert_int_not_equal(parse(&k, &img, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "entry"));

    s = default_spec();                         /* filesz beyond the file */
    s.filesz = s.memsz = 0x100000;
    make_kernel(&s, &k);
    assert_int_not_equal(parse(&k, &img, err, sizeof(err)), 0);

    s = default_spec();                         /* unaligned VIRT_BASE */
    s.virt_base = VIRT_BASE + 8;
    make_kernel(&s, &k);
    assert_int_not_equal(parse(&k, &img, err, sizeof(err)), 0);
}

/* Xen's defaults: PADDR_OFFSET = VIRT_BASE when the note is missing. */
static void paddr_offset_defaults_to_virt_base(void **state)
{
    struct kspec s = default_spec();
    struct blob k;
    struct pvbuild_image img;
    char err[256];

    s.no_paddr_offset_note = true;
    s.paddr_offset = VIRT_BASE;
    s.paddr = VIRT_BASE + 0x200000;
    make_kernel(&s, &k);
    assert_int_equal(parse(&k, &img, err, sizeof(err)), 0);
    assert_int_equal(img.paddr_offset, VIRT_BASE);
    assert_int_equal(img.kstart, VIRT_BASE + 0x200000);
}

static void hostile_headers_are_refused(void **state)
{
    struct kspec s = default_spec();
    struct blob k;
    struct pvbuild_image img;
    char err[256];

    make_kernel(&s, &k);
    struct blob bad = k;
    uint64_t u64 = UINT64_MAX - 8;
    memcpy(bad.b + 32, &u64, 8);                /* phoff near 2^64 */
    assert_int_not_equal(parse(&bad, &img, err, sizeof(err)), 0);

    bad = k;
    uint16_t u16 = 0xffff;
    memcpy(bad.b + 56, &u16, 2);                /* phnum beyond the file */
    assert_int_not_equal(parse(&bad, &img, err, sizeof(err)), 0);

    bad = k;                                    /* a note's namesz near 2^32 */
    uint32_t u32 = 0xfffffffe;
    memcpy(bad.b + NOTES_OFF, &u32, 4);
    assert_int_not_equal(parse(&bad, &img, err, sizeof(err)), 0);

    bad = k;                                    /* a note's descsz near 2^32 */
    memcpy(bad.b + NOTES_OFF + 4, &u32, 4);
    assert_int_not_equal(parse(&bad, &img, err, sizeof(err)), 0);

    s.pt_note = false;
    s.sh_note = true;
    make_kernel(&s, &k);
    bad = k;                                    /* shoff near 2^64 */
    memcpy(bad.b + 40, &u64, 8);
    assert_int_not_equal(parse(&bad, &img, err, sizeof(err)), 0);
    bad = k;                                    /* section size near 2^64 */
    memcpy(bad.b + SHDR_OFF + 64 + 32, &u64, 8);
    assert_int_not_equal(parse(&bad, &img, err, sizeof(err)), 0);
    bad = k;                                    /* shnum beyond the file */
    memcpy(bad.b + 60, &u16, 2);
    assert_int_not_equal(parse(&bad, &img, err, sizeof(err)), 0);
}

/* Every prefix of a good kernel: refused or accepted, never a crash. */
static void every_truncation_is_handled(void **state)
{
    struct kspec s = default_spec();
    struct blob k;
    struct pvbuild_image img;
    char err[256];

    for (int where = 0; where < 2; where++) {
        s.pt_note = where == 0;
        s.sh_note = where == 1;
        make_kernel(&s, &k);
        size_t full = k.len;
        for (size_t len = 0; len < full; len++) {
            uint8_t *copy = malloc(len ? len : 1);  /* ASan sees any over-read */
            memcpy(copy, k.b, len);
            int rc = pvbuild_parse(copy, len, &img, err, sizeof(err));
            if (len < KSEG_OFF + KSEG_SIZE)
                assert_int_not_equal(rc, 0);
            free(copy);
        }
    }
}

static void a_ramdisk_larger_than_the_domain_fails_without_writing_outside(void **state)
{
    struct kspec s = default_spec();
    struct blob k;
    struct pvbuild_result res;
    char err[256];
    size_t len = (size_t)NR_PAGES * 4096;
    uint8_t *rd = calloc(1, len);

    make_kernel(&s, &k);
    int rc = build(&k, rd, len, NR_PAGES, NULL, &res, err, sizeof(err));
    assert_true(rc < 0);
    assert_non_null(strstr(err, "do not fit"));
    /* a domain far too small for its own p2m and tables */
    rc = build(&k, NULL, 0, 16, NULL, &res, err, sizeof(err));
    assert_true(rc < 0);
    free(rd);
}

static void a_required_feature_pvcore_lacks_is_refused(void **state)
{
    struct kspec s = default_spec();
    struct blob k;
    struct pvbuild_image img;
    char err[256];

    s.features = "writable_page_tables|!no_such_feature_here";
    make_kernel(&s, &k);
    assert_int_not_equal(parse(&k, &img, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "no_such_feature_here"));
}

/* ---- the start-of-day layout and start_info ------------------------------ */

static uint8_t *page_of_pfn(struct frames *f, uint64_t pfn)
{
    assert_true(pfn < f->nr_pages);
    return f->mem[GUARD + f->p2m[pfn] - MFN_BASE];
}

/* Walk va through the tables from l4_mfn: the leaf entry, or 0. Checks
 * the upper levels' flags on the way. */
static uint64_t walk(struct frames *f, uint64_t l4_mfn, uint64_t va)
{
    uint64_t mfn = l4_mfn;

    for (int level = 4; level >= 1; level--) {
        const uint64_t *t = (const uint64_t *)f->mem[GUARD + mfn - MFN_BASE];
        uint64_t e = t[(va >> (12 + 9 * (level - 1))) & 511];
        if (!(e & 1))
            return 0;
        if (level > 1)
            assert_int_equal(e & 0xfff, 0x067);     /* P|RW|US|A|D */
        else
            return e;
        mfn = (e >> 12) & 0xffffffffffull;
        assert_true(mfn >= MFN_BASE && mfn < MFN_BASE + f->nr_pages);
    }
    return 0;
}

static void start_info_and_layout_are_xens(void **state)
{
    struct kspec s = default_spec();
    struct blob k;
    struct pvbuild_result res;
    struct frames *f;
    char err[256];
    size_t rd_len = 3 * 4096 + 100;
    uint8_t *rd = malloc(rd_len);

    for (size_t i = 0; i < rd_len; i++)
        rd[i] = (uint8_t)(i * 13 + 5);
    make_kernel(&s, &k);
    assert_int_equal(build(&k, rd, rd_len, NR_PAGES, &f, &res, err, sizeof(err)), 0);

    const struct start_info *si = (const void *)page_of_pfn(f, res.start_info_pfn);
    assert_string_equal(si->magic, "xen-3.0-x86_64");
    assert_int_equal(si->nr_pages, NR_PAGES);
    assert_int_equal(si->shared_info, 0x1234000);
    assert_int_equal(si->flags, 0);
    assert_int_equal(si->store_evtchn, 2);
    assert_int_equal(si->console.domU.evtchn, 1);
    assert_int_equal(si->store_mfn, f->p2m[res.store_pfn]);
    assert_int_equal(si->console.domU.mfn, f->p2m[res.console_pfn]);
    assert_int_equal(si->pt_base, res.pt_base);
    assert_int_equal(si->nr_pt_frames, res.nr_pt_frames);
    assert_int_equal(si->first_p2m_pfn, 0);
    assert_int_equal(si->nr_p2m_frames, 0);
    assert_string_equal((const char *)si->cmd_line, "console=hvc0 root=/dev/ram0");
    assert_int_equal(res.start_info_va, VIRT_BASE + (res.start_info_pfn << 12));

    /* Order: kernel, ramdisk, p2m, start_info, xenstore, console, tables, stack. */
    uint64_t kend = VIRT_BASE + 0x200000 + KSEG_SIZE + 0x2000;
    assert_int_equal(si->mod_start, kend);
    assert_int_equal(si->mod_len, 4 * 4096);            /* whole pages, as libxenguest */
    assert_int_equal(si->mfn_list, si->mod_start + si->mod_len);
    assert_int_equal(res.start_info_va, si->mfn_list + ((NR_PAGES * 8 + 4095) & ~4095ull));
    assert_int_equal(res.store_pfn, res.start_info_pfn + 1);
    assert_int_equal(res.console_pfn, res.start_info_pfn + 2);
    assert_int_equal(si->pt_base, VIRT_BASE + ((res.console_pfn + 1) << 12));
    assert_int_equal(res.stack_top, si->pt_base + (si->nr_pt_frames + 1) * 4096);
    assert_int_equal(res.v_end % (4u << 20), 0);
    assert_true(res.v_end - res.stack_top >= 512 * 1024);
    assert_true(res.v_end - res.stack_top < 512 * 1024 + (4u << 20));

    /* The ramdisk's bytes, then zeros to the page end. */
    for (size_t i = 0; i < 4 * 4096; i++) {
        uint64_t pfn = (si->mod_start - VIRT_BASE + i) >> 12;
        uint8_t got = page_of_pfn(f, pfn)[(si->mod_start + i) & 4095];
        assert_int_equal(got, i < rd_len ? rd[i] : 0);
    }
    /* The p2m list is the p2m. */
    for (uint64_t pfn = 0; pfn < NR_PAGES; pfn++) {
        uint64_t off = si->mfn_list - VIRT_BASE + pfn * 8, v;
        memcpy(&v, page_of_pfn(f, off >> 12) + (off & 4095), 8);
        assert_int_equal(v, f->p2m[pfn]);
    }
    /* Every page up to v_end is mapped to its pfn, P|RW|A, the tables
     * read-only; nothing beyond. */
    uint64_t pt_first = (si->pt_base - VIRT_BASE) >> 12;
    for (uint64_t va = VIRT_BASE; va < res.v_end; va += 4096) {
        uint64_t pfn = (va - VIRT_BASE) >> 12;
        uint64_t e = walk(f, res.l4_mfn, va);
        bool is_pt = pfn >= pt_first && pfn < pt_first + si->nr_pt_frames;
        assert_int_equal((e >> 12) & 0xffffffffffull, f->p2m[pfn]);
        assert_int_equal(e & 0xfff, is_pt ? 0x021 : 0x023);
    }
    assert_int_equal(walk(f, res.l4_mfn, res.v_end), 0);
    assert_int_equal(res.l4_mfn, f->p2m[pt_first]);
    free_frames(f);
    free(rd);
}

/* A kernel with MOD_START_PFN takes its ramdisk after the initial mapping,
 * by pfn (SIF_MOD_START_PFN), as libxenguest places it. */
static void a_mod_start_pfn_kernel_gets_its_ramdisk_unmapped(void **state)
{
    struct kspec s = default_spec();
    struct blob k;
    struct pvbuild_result res;
    struct frames *f;
    char err[256];
    size_t rd_len = 2 * 4096 + 7;
    uint8_t *rd = malloc(rd_len);

    memset(rd, 0xc3, rd_len);
    s.mod_start_pfn = true;
    make_kernel(&s, &k);
    assert_int_equal(build(&k, rd, rd_len, NR_PAGES, &f, &res, err, sizeof(err)), 0);
    const struct start_info *si = (const void *)page_of_pfn(f, res.start_info_pfn);
    assert_int_equal(si->flags, SIF_MOD_START_PFN);
    assert_int_equal(si->mod_start, (res.v_end - VIRT_BASE) >> 12);
    assert_int_equal(si->mod_len, 3 * 4096);
    assert_int_equal(si->mfn_list, VIRT_BASE + 0x200000 + KSEG_SIZE + 0x2000);
    assert_int_equal(page_of_pfn(f, si->mod_start)[0], 0xc3);
    assert_int_equal(page_of_pfn(f, si->mod_start + 2)[6], 0xc3);
    assert_int_equal(page_of_pfn(f, si->mod_start + 2)[7], 0);
    assert_int_equal(walk(f, res.l4_mfn, VIRT_BASE + (si->mod_start << 12)), 0);
    free_frames(f);
    free(rd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(notes_in_a_pt_note_segment_are_read),
        cmocka_unit_test(notes_only_in_an_sht_note_section_are_read),
        cmocka_unit_test(a_kernel_without_xen_notes_is_refused),
        cmocka_unit_test(a_real_kernel_with_notes_only_in_sections_is_accepted),
        cmocka_unit_test(a_load_segment_with_memsz_near_2_64_is_refused),
        cmocka_unit_test(a_huge_image_does_not_fit_and_nothing_is_written_outside),
        cmocka_unit_test(segments_and_entries_out_of_bounds_are_refused),
        cmocka_unit_test(paddr_offset_defaults_to_virt_base),
        cmocka_unit_test(hostile_headers_are_refused),
        cmocka_unit_test(every_truncation_is_handled),
        cmocka_unit_test(a_ramdisk_larger_than_the_domain_fails_without_writing_outside),
        cmocka_unit_test(a_required_feature_pvcore_lacks_is_refused),
        cmocka_unit_test(start_info_and_layout_are_xens),
        cmocka_unit_test(a_mod_start_pfn_kernel_gets_its_ramdisk_unmapped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
