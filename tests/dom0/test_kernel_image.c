/*
 * test_kernel_image.c - a bzImage as the kernel (dom0/kernel_image.c).
 *
 * Our own test kernel ($BUILD/guests/hello.elf) compressed by Debian's
 * command-line tools with the flags Linux's build uses (gzip, xz --x86,
 * lzma, zstd -22, lz4 -l, bzip2: $BUILD/tests/dom0/kernel-payloads/, made
 * by dom0/build.mk) is wrapped here in a minimal x86 boot protocol setup
 * header, with the decompressed size appended as Linux appends it, and
 * must come back byte for byte; then truncated, corrupt, lying and
 * oversize variants must be refused naming the cause. Debian's real
 * vmlinuz is checked too when `make test-linux` has put it in the cache
 * ($PVCORE_CACHE, default /var/cache/pvcore); otherwise that case skips.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "build.h"
#include "kernel_image.h"

#define SETUP_SECTS 1                   /* the protected-mode part at 1024 */
#define PM_START ((SETUP_SECTS + 1) * 512)
#define PAYLOAD_OFFSET 0x100            /* payload inside the protected-mode part */
#define TAIL 64                         /* bytes after the payload, as in a real image */

struct blob {
    uint8_t *p;
    size_t len;
};

static const char *build_dir(void)
{
    const char *b = getenv("BUILD");
    return b && *b ? b : "build";
}

static struct blob slurp(const char *path)
{
    struct blob b = { 0 };
    FILE *f = fopen(path, "rb");
    long n;

    if (!f)
        fail_msg("cannot open %s (make builds it)", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    b.len = (size_t)n;
    b.p = malloc(b.len);
    assert_non_null(b.p);
    assert_int_equal(fread(b.p, 1, b.len, f), b.len);
    fclose(f);
    return b;
}

static struct blob hello_elf(void)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/guests/hello.elf", build_dir());
    return slurp(path);
}

static struct blob payload(const char *ext)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/tests/dom0/kernel-payloads/hello.elf.%s", build_dir(), ext);
    return slurp(path);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* A bzImage around stream[0..len); trailer != 0 is appended as Linux's
 * build appends the decompressed size (gzip carries its own). */
static struct blob bzimage(const uint8_t *stream, size_t len, int append, uint32_t trailer)
{
    size_t plen = len + (append ? 4 : 0);
    struct blob b;

    b.len = PM_START + PAYLOAD_OFFSET + plen + TAIL;
    b.p = calloc(1, b.len);
    assert_non_null(b.p);
    memset(b.p + PM_START, 0x90, PAYLOAD_OFFSET);
    b.p[0x1f1] = SETUP_SECTS;
    b.p[0x1fe] = 0x55;
    b.p[0x1ff] = 0xaa;
    memcpy(b.p + 0x202, "HdrS", 4);
    b.p[0x206] = 0x0f;                  /* boot protocol 2.15 */
    b.p[0x207] = 0x02;
    put32(b.p + 0x248, PAYLOAD_OFFSET);
    put32(b.p + 0x24c, (uint32_t)plen);
    memcpy(b.p + PM_START + PAYLOAD_OFFSET, stream, len);
    if (append)
        put32(b.p + PM_START + PAYLOAD_OFFSET + len, trailer);
    memset(b.p + PM_START + PAYLOAD_OFFSET + plen, 0xcc, TAIL);
    return b;
}

static const struct format {
    const char *ext, *name;
    int appends;                        /* Linux appends the size (all but gzip) */
} formats[] = {
    { "gz", "gzip", 0 }, { "xz", "xz", 1 }, { "lzma", "lzma", 1 },
    { "zst", "zstd", 1 }, { "lz4", "lz4", 1 }, { "bz2", "bzip2", 1 },
};
#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

/* The format's bzImage of hello.elf, with the true trailer. */
static struct blob format_image(const struct format *f, const struct blob *elf)
{
    struct blob s = payload(f->ext), b = bzimage(s.p, s.len, f->appends, (uint32_t)elf->len);
    free(s.p);
    return b;
}

static int extract(const struct blob *b, size_t max, struct blob *out,
                   struct kernel_image_info *info, char *err, size_t errlen)
{
    out->p = NULL;
    out->len = 0;
    err[0] = 0;
    return kernel_image_extract(b->p, b->len, max, &out->p, &out->len, info, err, errlen);
}

static void each_format_comes_back_as_the_elf_byte_for_byte(void **state)
{
    struct blob elf = hello_elf();

    for (size_t i = 0; i < NFORMATS; i++) {
        struct blob b = format_image(&formats[i], &elf), out;
        struct kernel_image_info info;
        char err[256];
        int rc = extract(&b, KERNEL_IMAGE_MAX_ELF, &out, &info, err, sizeof(err));

        if (rc)
            fail_msg("%s: expected the ELF, got %d: %s", formats[i].name, rc, err);
        assert_string_equal(info.format, formats[i].name);
        assert_int_equal(info.boot_protocol, 0x020f);
        assert_int_equal(info.payload_offset, PM_START + PAYLOAD_OFFSET);
        assert_int_equal(out.len, elf.len);
        assert_int_equal(info.elf_len, elf.len);
        assert_memory_equal(out.p, elf.p, elf.len);
        free(out.p);
        free(b.p);
    }
    free(elf.p);
}

static void an_elf_is_returned_unchanged_and_other_files_left_to_the_elf_parser(void **state)
{
    struct blob elf = hello_elf(), out;
    struct kernel_image_info info;
    uint8_t *buf = elf.p;
    size_t len = elf.len;
    char err[256];
    uint8_t junk[4096];

    assert_int_equal(extract(&elf, KERNEL_IMAGE_MAX_ELF, &out, &info, err, sizeof(err)), 0);
    assert_null(out.p);
    assert_int_equal(out.len, elf.len);
    assert_string_equal(info.format, "elf");
    assert_int_equal(kernel_image_to_elf(&buf, &len, KERNEL_IMAGE_MAX_ELF, err, sizeof(err)), 0);
    assert_ptr_equal(buf, elf.p);
    assert_int_equal(len, elf.len);

    memset(junk, 0x41, sizeof(junk));
    struct blob j = { junk, sizeof(junk) };
    assert_int_equal(extract(&j, KERNEL_IMAGE_MAX_ELF, &out, NULL, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "neither an ELF nor a bzImage"));
    buf = junk;
    len = sizeof(junk);
    assert_int_equal(kernel_image_to_elf(&buf, &len, KERNEL_IMAGE_MAX_ELF, err, sizeof(err)), 0);
    assert_ptr_equal(buf, junk);
    free(elf.p);
}

static void the_builder_hook_replaces_a_bzimage_by_its_elf(void **state)
{
    struct blob elf = hello_elf(), b = format_image(&formats[1], &elf);
    char err[256];

    assert_int_equal(kernel_image_to_elf(&b.p, &b.len, KERNEL_IMAGE_MAX_ELF, err, sizeof(err)), 0);
    assert_int_equal(b.len, elf.len);
    assert_memory_equal(b.p, elf.p, elf.len);
    free(b.p);
    free(elf.p);
}

static void write_file(const char *path, const struct blob *b)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(b->p, 1, b->len, f), b->len);
    assert_int_equal(fclose(f), 0);
}

static void build_image_read_takes_a_bzimage_file(void **state)
{
    struct blob elf = hello_elf(), b = format_image(&formats[3], &elf);
    char path[] = "/tmp/pvcore-bzimage.XXXXXX", ref_path[512], err[512];
    struct build_image img, ref;
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    close(fd);
    write_file(path, &b);
    if (build_image_read(&img, path, NULL, err, sizeof(err)))
        fail_msg("build_image_read of a zstd bzImage: %s", err);
    snprintf(ref_path, sizeof(ref_path), "%s/guests/hello.elf", build_dir());
    if (build_image_read(&ref, ref_path, NULL, err, sizeof(err)))
        fail_msg("build_image_read of %s: %s", ref_path, err);
    assert_int_equal(img.kernel_len, elf.len);
    assert_memory_equal(img.kernel, elf.p, elf.len);
    assert_true(img.elf.entry == ref.elf.entry);
    build_image_free(&ref);
    build_image_free(&img);

    /* A corrupt one fails the read step naming the file and the cause. */
    b.p[PM_START + PAYLOAD_OFFSET + 40] ^= 0xff;
    write_file(path, &b);
    assert_int_equal(build_image_read(&img, path, NULL, err, sizeof(err)), -EINVAL);
    if (!strstr(err, path) || !strstr(err, "zstd payload"))
        fail_msg("expected the path and 'zstd payload', got: %s", err);
    unlink(path);
    free(b.p);
    free(elf.p);
}

/* expect_refused: extract must fail with rc and a message containing what. */
static void expect_refused(const struct blob *b, size_t max, int rc, const char *what,
                           const char *label)
{
    struct blob out;
    char err[256];
    int got = extract(b, max, &out, NULL, err, sizeof(err));

    if (got != rc || !strstr(err, what))
        fail_msg("%s: expected %d with '%s', got %d: '%s'", label, rc, what, got, err);
    assert_null(out.p);
}

static void a_cut_file_or_stream_is_refused(void **state)
{
    struct blob elf = hello_elf();

    for (size_t i = 0; i < NFORMATS; i++) {
        struct blob s = payload(formats[i].ext), b = format_image(&formats[i], &elf);
        char label[64], what[64];

        /* The file ends inside the payload. */
        snprintf(label, sizeof(label), "%s, file cut", formats[i].name);
        b.len = PM_START + PAYLOAD_OFFSET + s.len / 2;
        expect_refused(&b, KERNEL_IMAGE_MAX_ELF, -EINVAL, "runs past the end", label);
        free(b.p);

        /* The stream is cut, the header and trailer are consistent. */
        snprintf(label, sizeof(label), "%s, stream cut", formats[i].name);
        snprintf(what, sizeof(what), "bzImage: %s payload", formats[i].name);
        b = bzimage(s.p, s.len / 2, 1, (uint32_t)elf.len);
        expect_refused(&b, KERNEL_IMAGE_MAX_ELF, -EINVAL, what, label);
        free(b.p);
        free(s.p);
    }
    free(elf.p);
}

static void corrupt_data_is_refused(void **state)
{
    struct blob elf = hello_elf();

    for (size_t i = 0; i < NFORMATS; i++) {
        struct blob b = format_image(&formats[i], &elf), s = payload(formats[i].ext);
        uint8_t *p = b.p + PM_START + PAYLOAD_OFFSET;
        char label[64], what[64];

        if (!strcmp(formats[i].name, "lzma")) {     /* no checksum in .lzma: skip it */
            free(b.p);
            free(s.p);
            continue;
        }
        snprintf(label, sizeof(label), "%s, corrupt", formats[i].name);
        snprintf(what, sizeof(what), "bzImage: %s payload", formats[i].name);
        if (!strcmp(formats[i].name, "lz4"))
            put32(p + 4, 0x7fffffff);             /* the first block's size */
        else
            for (size_t k = s.len / 3; k < s.len / 3 + 16; k++)
                p[k] ^= 0x5a;
        expect_refused(&b, KERNEL_IMAGE_MAX_ELF, -EINVAL, what, label);
        free(b.p);
        free(s.p);
    }
    free(elf.p);
}

static void output_beyond_the_limit_or_the_trailer_is_refused(void **state)
{
    struct blob elf = hello_elf();

    for (size_t i = 0; i < NFORMATS; i++) {
        struct blob s = payload(formats[i].ext), b = format_image(&formats[i], &elf);
        char label[64];

        /* The true size over a small limit: refused before decoding. */
        snprintf(label, sizeof(label), "%s, over the limit", formats[i].name);
        expect_refused(&b, elf.len - 1, -EFBIG, "the limit is", label);
        free(b.p);

        if (formats[i].appends) {
            /* A trailer that understates: the decoder stops at it. */
            snprintf(label, sizeof(label), "%s, trailer too small", formats[i].name);
            b = bzimage(s.p, s.len, 1, 1000);
            expect_refused(&b, KERNEL_IMAGE_MAX_ELF, -EINVAL, "more than the 1000 bytes", label);
            free(b.p);
            /* One that overstates. */
            snprintf(label, sizeof(label), "%s, trailer too large", formats[i].name);
            b = bzimage(s.p, s.len, 1, (uint32_t)elf.len + 4096);
            expect_refused(&b, KERNEL_IMAGE_MAX_ELF, -EINVAL, "its trailer announces", label);
            free(b.p);
            /* One over the default limit of 256 MiB. */
            snprintf(label, sizeof(label), "%s, trailer over 256 MiB", formats[i].name);
            b = bzimage(s.p, s.len, 1, 0x20000000);
            expect_refused(&b, KERNEL_IMAGE_MAX_ELF, -EFBIG, "announces 536870912", label);
            free(b.p);
        }
        free(s.p);
    }
    free(elf.p);
}

static void bad_headers_and_unknown_payloads_are_refused(void **state)
{
    struct blob elf = hello_elf(), b = format_image(&formats[0], &elf);
    uint8_t lzo[] = { 0x89, 'L', 'Z', 'O', 0, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0 };

    b.p[0x206] = 0x06;                  /* boot protocol 2.06 */
    expect_refused(&b, KERNEL_IMAGE_MAX_ELF, -EINVAL, "older than 2.08", "2.06");
    b.p[0x206] = 0x0f;
    put32(b.p + 0x248, 0xfffffff0);     /* payload_offset far past the end */
    expect_refused(&b, KERNEL_IMAGE_MAX_ELF, -EINVAL, "runs past the end", "offset");
    put32(b.p + 0x248, PAYLOAD_OFFSET);
    put32(b.p + 0x24c, 0xffffffff);     /* payload_length likewise */
    expect_refused(&b, KERNEL_IMAGE_MAX_ELF, -EINVAL, "runs past the end", "length");
    b.len = 0x240;                      /* shorter than the header */
    expect_refused(&b, KERNEL_IMAGE_MAX_ELF, -EINVAL, "too short for the setup header", "short");
    free(b.p);

    b = bzimage(lzo, sizeof(lzo), 1, 100);
    expect_refused(&b, KERNEL_IMAGE_MAX_ELF, -ENOTSUP, "magic 89 4c 5a 4f is not supported", "lzo");
    free(b.p);

    /* A well-formed gzip payload that is not an ELF. */
    char path[512];
    snprintf(path, sizeof(path), "%s/tests/dom0/kernel-payloads/text.gz", build_dir());
    struct blob s = slurp(path);
    b = bzimage(s.p, s.len, 0, 0);
    expect_refused(&b, KERNEL_IMAGE_MAX_ELF, -EINVAL, "gzip payload is not an ELF kernel", "text");
    free(b.p);
    free(s.p);
    free(elf.p);
}

/* Debian's own vmlinuz, when `make test-linux` has cached it. */
static void debians_vmlinuz_gives_its_elf(void **state)
{
    const char *cache = getenv("PVCORE_CACHE");
    char pattern[512], err[256];
    glob_t g;

    snprintf(pattern, sizeof(pattern), "%s/linux-*/boot/vmlinuz-*",
             cache && *cache ? cache : "/var/cache/pvcore");
    if (glob(pattern, 0, NULL, &g) != 0 || g.gl_pathc == 0) {
        print_message("no %s (make test-linux caches it)\n", pattern);
        skip();
    }
    for (size_t i = 0; i < g.gl_pathc; i++) {
        struct blob b = slurp(g.gl_pathv[i]), out;
        struct kernel_image_info info;
        int rc = extract(&b, KERNEL_IMAGE_MAX_ELF, &out, &info, err, sizeof(err));

        if (rc)
            fail_msg("%s: %d: %s", g.gl_pathv[i], rc, err);
        print_message("%s: boot protocol %x, %s payload of %zu bytes, ELF of %zu bytes\n",
                      g.gl_pathv[i], info.boot_protocol, info.format, info.payload_len,
                      info.elf_len);
        assert_true(info.boot_protocol >= 0x0208);
        assert_true(out.len > (4u << 20));
        assert_int_equal(out.p[4], 2);                  /* ELFCLASS64 */
        assert_int_equal(out.p[18] | out.p[19] << 8, 62);   /* EM_X86_64 */
        free(out.p);
        free(b.p);
    }
    globfree(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_format_comes_back_as_the_elf_byte_for_byte),
        cmocka_unit_test(an_elf_is_returned_unchanged_and_other_files_left_to_the_elf_parser),
        cmocka_unit_test(the_builder_hook_replaces_a_bzimage_by_its_elf),
        cmocka_unit_test(build_image_read_takes_a_bzimage_file),
        cmocka_unit_test(a_cut_file_or_stream_is_refused),
        cmocka_unit_test(corrupt_data_is_refused),
        cmocka_unit_test(output_beyond_the_limit_or_the_trailer_is_refused),
        cmocka_unit_test(bad_headers_and_unknown_payloads_are_refused),
        cmocka_unit_test(debians_vmlinuz_gives_its_elf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
