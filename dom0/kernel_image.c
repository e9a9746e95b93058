/*
 * kernel_image.c - the ELF inside a kernel file: bzImage setup header,
 * payload, and its decompression by the Debian libraries (see
 * kernel_image.h for the formats and the size rule).
 *
 * Owns: nothing beyond a call; the output buffer goes to the caller.
 * Invariants: every offset into the file is checked against its length
 * before use (the file is untrusted); no decoder ever writes more than the
 * size the payload's trailer announces plus one byte, and that size is
 * checked against max_elf before anything is allocated, so a hostile
 * payload costs at most max_elf bytes of memory and one pass over it.
 */
#include "kernel_image.h"

#include <bzlib.h>
#include <errno.h>
#include <lz4.h>
#include <lzma.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "dom0_error.h"

/* The x86 boot protocol's setup header (Linux Documentation/arch/x86/boot.rst). */
#define SETUP_SECTS_OFF     0x1f1     /* u8: 512-byte setup sectors, 0 means 4 */
#define HEADER_MAGIC_OFF    0x202     /* "HdrS" */
#define VERSION_OFF         0x206     /* u16 */
#define PAYLOAD_OFFSET_OFF  0x248     /* u32, from the protected-mode code */
#define PAYLOAD_LENGTH_OFF  0x24c     /* u32 */
#define HEADER_END          0x250
#define MIN_VERSION         0x0208    /* the first with the payload fields */

/* lz4's legacy frame: magic, then blocks of (le32 size, data) that each
 * decompress to at most 8 MiB. */
#define LZ4_LEGACY_MAGIC    0x184c2102u
#define LZ4_LEGACY_BLOCK    (8u << 20)

/* liblzma's decoder memory limit: Linux uses a 32 MiB dictionary. */
#define XZ_MEMLIMIT         ((uint64_t)128 << 20)
/* zstd window: Linux compresses with -22 --ultra (window 2^27 at most). */
#define ZSTD_WINDOW_LOG_MAX 27

static const uint8_t elf_magic[4] = { 0x7f, 'E', 'L', 'F' };

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool has_magic(const uint8_t *p, size_t len, const void *magic, size_t n)
{
    return len >= n && memcmp(p, magic, n) == 0;
}

/* One decoder run: in[0..in_len) into out[0..cap); *produced on success. */
struct decode {
    const uint8_t *in;
    size_t in_len;
    uint8_t *out;
    size_t cap;           /* the announced size + 1, so excess shows */
    size_t produced;
    char *err;
    size_t errlen;
    const char *fmt;      /* the format's name, for messages */
};

static int too_big(struct decode *d)
{
    return dom0_fail(d->err, d->errlen, EINVAL, "bzImage: %s payload decompresses to more "
                     "than the %zu bytes its trailer announces", d->fmt, d->cap - 1);
}

static int truncated(struct decode *d)
{
    return dom0_fail(d->err, d->errlen, EINVAL, "bzImage: %s payload ends before its "
                     "stream does (truncated file?)", d->fmt);
}

static int corrupt(struct decode *d, const char *why)
{
    return dom0_fail(d->err, d->errlen, EINVAL, "bzImage: %s payload is corrupt: %s",
                     d->fmt, why);
}

static int decode_gzip(struct decode *d)
{
    z_stream z;
    int rc;

    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)      /* gzip wrapper only */
        return dom0_fail(d->err, d->errlen, ENOMEM, "bzImage: zlib: cannot start inflate");
    z.next_in = (Bytef *)d->in;
    z.avail_in = (uInt)d->in_len;
    z.next_out = d->out;
    z.avail_out = (uInt)d->cap;
    rc = inflate(&z, Z_FINISH);
    d->produced = z.total_out;
    if (rc == Z_STREAM_END)
        rc = 0;
    else if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT)
        rc = corrupt(d, z.msg ? z.msg : "bad deflate data");
    else if (rc == Z_MEM_ERROR)
        rc = dom0_fail(d->err, d->errlen, ENOMEM, "bzImage: zlib: out of memory");
    else if (z.avail_out == 0)
        rc = too_big(d);
    else
        rc = truncated(d);
    inflateEnd(&z);
    return rc;
}

/* xz, and the legacy .lzma format (alone = true). */
static int decode_lzma(struct decode *d, bool alone)
{
    lzma_stream s = LZMA_STREAM_INIT;
    lzma_ret r = alone ? lzma_alone_decoder(&s, XZ_MEMLIMIT)
                       : lzma_stream_decoder(&s, XZ_MEMLIMIT, 0);
    int rc;

    if (r != LZMA_OK)
        return dom0_fail(d->err, d->errlen, ENOMEM, "bzImage: liblzma: cannot start the "
                         "decoder (%d)", (int)r);
    s.next_in = d->in;
    s.avail_in = d->in_len;
    s.next_out = d->out;
    s.avail_out = d->cap;
    do      /* liblzma answers LZMA_BUF_ERROR when it can make no progress */
        r = lzma_code(&s, LZMA_FINISH);
    while (r == LZMA_OK);
    d->produced = (size_t)s.total_out;
    switch (r) {
    case LZMA_STREAM_END:
        rc = 0;
        break;
    case LZMA_MEM_ERROR:
        rc = dom0_fail(d->err, d->errlen, ENOMEM, "bzImage: liblzma: out of memory");
        break;
    case LZMA_MEMLIMIT_ERROR:
        rc = corrupt(d, "it needs more than the 128 MiB decoder memory allowed");
        break;
    case LZMA_FORMAT_ERROR:
        rc = corrupt(d, "not in the format its magic says");
        break;
    case LZMA_OPTIONS_ERROR:
        rc = corrupt(d, "unsupported options");
        break;
    case LZMA_DATA_ERROR:
        rc = corrupt(d, "bad compressed data");
        break;
    default:
        rc = s.avail_out == 0 ? too_big(d) : truncated(d);
        break;
    }
    lzma_end(&s);
    return rc;
}

/* One zstd frame (what Linux writes); what follows it is the trailer. */
static int decode_zstd(struct decode *d)
{
    ZSTD_DCtx *z = ZSTD_createDCtx();
    ZSTD_inBuffer in = { d->in, d->in_len, 0 };
    ZSTD_outBuffer out = { d->out, d->cap, 0 };
    int rc;

    if (!z)
        return dom0_fail(d->err, d->errlen, ENOMEM, "bzImage: libzstd: out of memory");
    ZSTD_DCtx_setParameter(z, ZSTD_d_windowLogMax, ZSTD_WINDOW_LOG_MAX);
    for (;;) {
        size_t in_pos = in.pos, out_pos = out.pos;
        size_t r = ZSTD_decompressStream(z, &out, &in);

        if (ZSTD_isError(r)) {
            rc = corrupt(d, ZSTD_getErrorName(r));
            break;
        }
        if (r == 0) {           /* the frame is complete */
            rc = 0;
            break;
        }
        if (out.pos == out.size) {
            rc = too_big(d);
            break;
        }
        if (in.pos == in.size || (in.pos == in_pos && out.pos == out_pos)) {
            rc = truncated(d);
            break;
        }
    }
    d->produced = out.pos;
    ZSTD_freeDCtx(z);
    return rc;
}

/*
 * The legacy lz4 frame has no end mark: its blocks fill the payload up to
 * the 4-byte size trailer, so the trailer is not fed in. A block size equal
 * to the magic starts another legacy frame (skipped, as Linux does).
 */
static int decode_lz4_legacy(struct decode *d)
{
    size_t pos = 4, end = d->in_len - 4;     /* in_len >= 8: checked by the caller */

    d->produced = 0;
    while (pos < end) {
        uint32_t n;
        int got;
        size_t room = d->cap - d->produced;

        if (end - pos < 4)
            return truncated(d);
        n = le32(d->in + pos);
        pos += 4;
        if (n == LZ4_LEGACY_MAGIC)
            continue;
        if (n == 0 || n > (uint32_t)LZ4_compressBound(LZ4_LEGACY_BLOCK))
            return corrupt(d, "a block size out of range");
        if (n > end - pos)
            return truncated(d);
        if (room > LZ4_LEGACY_BLOCK)
            room = LZ4_LEGACY_BLOCK;
        got = LZ4_decompress_safe((const char *)d->in + pos, (char *)d->out + d->produced,
                                  (int)n, (int)room);
        if (got < 0) {
            if (room < LZ4_LEGACY_BLOCK)
                return dom0_fail(d->err, d->errlen, EINVAL, "bzImage: lz4 payload is "
                                 "corrupt or decompresses to more than the %zu bytes its "
                                 "trailer announces", d->cap - 1);
            return corrupt(d, "bad block data");
        }
        d->produced += (size_t)got;
        pos += n;
    }
    return 0;
}

static int decode_bzip2(struct decode *d)
{
    bz_stream s;
    int r, rc;

    memset(&s, 0, sizeof(s));
    if (BZ2_bzDecompressInit(&s, 0, 0) != BZ_OK)
        return dom0_fail(d->err, d->errlen, ENOMEM, "bzImage: libbz2: cannot start the "
                         "decoder");
    s.next_in = (char *)d->in;
    s.avail_in = (unsigned)d->in_len;
    s.next_out = (char *)d->out;
    s.avail_out = (unsigned)d->cap;
    for (;;) {
        unsigned in_before = s.avail_in, out_before = s.avail_out;

        r = BZ2_bzDecompress(&s);
        if (r != BZ_OK || (s.avail_in == in_before && s.avail_out == out_before))
            break;      /* the end, an error, or no progress possible */
    }
    d->produced = (size_t)s.total_out_lo32 | (size_t)s.total_out_hi32 << 32;
    if (r == BZ_STREAM_END)
        rc = 0;
    else if (r == BZ_MEM_ERROR)
        rc = dom0_fail(d->err, d->errlen, ENOMEM, "bzImage: libbz2: out of memory");
    else if (r == BZ_DATA_ERROR || r == BZ_DATA_ERROR_MAGIC)
        rc = corrupt(d, "bad compressed data");
    else if (r != BZ_OK)
        rc = corrupt(d, "decoder error");
    else if (s.avail_out == 0)
        rc = too_big(d);
    else
        rc = truncated(d);
    BZ2_bzDecompressEnd(&s);
    return rc;
}

enum payload_format { P_GZIP, P_XZ, P_LZMA, P_ZSTD, P_LZ4, P_BZIP2, P_ELF };

static const struct payload_magic {
    enum payload_format format;
    const char *name;
    uint8_t magic[6];
    uint8_t len;
} payload_magics[] = {
    { P_GZIP,  "gzip",  { 0x1f, 0x8b }, 2 },
    { P_XZ,    "xz",    { 0xfd, '7', 'z', 'X', 'Z', 0x00 }, 6 },
    { P_LZMA,  "lzma",  { 0x5d, 0x00, 0x00 }, 3 },
    { P_ZSTD,  "zstd",  { 0x28, 0xb5, 0x2f, 0xfd }, 4 },
    { P_LZ4,   "lz4",   { 0x02, 0x21, 0x4c, 0x18 }, 4 },
    { P_BZIP2, "bzip2", { 'B', 'Z', 'h' }, 3 },
    { P_ELF,   "elf",   { 0x7f, 'E', 'L', 'F' }, 4 },
};

/* Find the payload of a bzImage and check it fits in the file. */
static int find_payload(const uint8_t *file, size_t len, struct kernel_image_info *info,
                        char *err, size_t errlen)
{
    size_t setup_sects, pm_start, off, plen;

    if (len < HEADER_END)
        return dom0_fail(err, errlen, EINVAL, "bzImage: %zu bytes, too short for the "
                         "setup header", len);
    info->boot_protocol = (uint16_t)(file[VERSION_OFF] | file[VERSION_OFF + 1] << 8);
    if (info->boot_protocol < MIN_VERSION)
        return dom0_fail(err, errlen, EINVAL, "bzImage: boot protocol %u.%02u is older than "
                         "2.08, which has no payload fields", info->boot_protocol >> 8,
                         info->boot_protocol & 0xff);
    setup_sects = file[SETUP_SECTS_OFF] ? file[SETUP_SECTS_OFF] : 4;
    pm_start = (setup_sects + 1) * 512;
    off = le32(file + PAYLOAD_OFFSET_OFF);
    plen = le32(file + PAYLOAD_LENGTH_OFF);
    /* pm_start, off and plen are each below 2^32: the sums cannot wrap. */
    if (pm_start + off > len || plen > len - pm_start - off)
        return dom0_fail(err, errlen, EINVAL, "bzImage: payload of %zu bytes at %zu runs "
                         "past the end of the %zu-byte file (truncated file?)", plen,
                         pm_start + off, len);
    if (plen < 8)
        return dom0_fail(err, errlen, EINVAL, "bzImage: payload of %zu bytes is too short",
                         plen);
    info->payload_offset = pm_start + off;
    info->payload_len = plen;
    return 0;
}

static bool is_bzimage(const uint8_t *file, size_t len)
{
    return len >= HEADER_MAGIC_OFF + 4 && memcmp(file + HEADER_MAGIC_OFF, "HdrS", 4) == 0;
}

static const struct payload_magic *payload_format(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < sizeof(payload_magics) / sizeof(payload_magics[0]); i++)
        if (has_magic(p, len, payload_magics[i].magic, payload_magics[i].len))
            return &payload_magics[i];
    return NULL;
}

static int decode_payload(struct decode *d, enum payload_format f)
{
    switch (f) {
    case P_GZIP:  return decode_gzip(d);
    case P_XZ:    return decode_lzma(d, false);
    case P_LZMA:  return decode_lzma(d, true);
    case P_ZSTD:  return decode_zstd(d);
    case P_LZ4:   return decode_lz4_legacy(d);
    case P_BZIP2: return decode_bzip2(d);
    case P_ELF:   break;
    }
    return dom0_fail(d->err, d->errlen, EINVAL, "bzImage: no decoder for %s", d->fmt);
}

int kernel_image_extract(const uint8_t *file, size_t len, size_t max_elf, uint8_t **elf,
                         size_t *elf_len, struct kernel_image_info *info,
                         char *err, size_t errlen)
{
    struct kernel_image_info local;
    const struct payload_magic *pm;
    const uint8_t *payload;
    struct decode d;
    size_t want;
    int rc;

    if (!info)
        info = &local;
    memset(info, 0, sizeof(*info));
    *elf = NULL;
    *elf_len = 0;
    if (has_magic(file, len, elf_magic, sizeof(elf_magic))) {
        info->format = "elf";
        info->elf_len = *elf_len = len;
        return 0;
    }
    if (!is_bzimage(file, len))
        return dom0_fail(err, errlen, EINVAL, "neither an ELF nor a bzImage (no \"HdrS\" "
                         "setup header at 0x%x)", HEADER_MAGIC_OFF);
    if ((rc = find_payload(file, len, info, err, errlen)))
        return rc;
    payload = file + info->payload_offset;
    pm = payload_format(payload, info->payload_len);
    if (!pm) {
        const uint8_t *m = payload;
        return dom0_fail(err, errlen, ENOTSUP, "bzImage: payload format with magic "
                         "%02x %02x %02x %02x is not supported (gzip, xz, lzma, zstd, "
                         "lz4, bzip2 are)", m[0], m[1], m[2], m[3]);
    }
    info->format = pm->name;
    if (pm->format == P_ELF) {          /* an uncompressed payload */
        want = info->payload_len;
        if (want > max_elf)
            return dom0_fail(err, errlen, EFBIG, "bzImage: uncompressed payload of %zu "
                             "bytes exceeds the limit of %zu", want, max_elf);
        if (!(*elf = malloc(want)))
            return dom0_fail(err, errlen, ENOMEM, "bzImage: out of memory for %zu bytes",
                             want);
        memcpy(*elf, payload, want);
        info->elf_len = *elf_len = want;
        return 0;
    }
    want = le32(payload + info->payload_len - 4);
    if (want == 0 || want > max_elf || want == UINT32_MAX)  /* want + 1 fits 32 bits */
        return dom0_fail(err, errlen, EFBIG, "bzImage: %s payload announces %zu decompressed "
                         "bytes; the limit is %zu", pm->name, want, max_elf);
    d = (struct decode){ .in = payload, .in_len = info->payload_len, .cap = want + 1,
                         .err = err, .errlen = errlen, .fmt = pm->name };
    if (!(d.out = malloc(d.cap)))
        return dom0_fail(err, errlen, ENOMEM, "bzImage: out of memory for %zu bytes", d.cap);
    if ((rc = decode_payload(&d, pm->format)))
        goto fail;
    if (d.produced != want) {
        rc = d.produced > want ? too_big(&d)
                               : dom0_fail(err, errlen, EINVAL, "bzImage: %s payload "
                                           "decompresses to %zu bytes, its trailer "
                                           "announces %zu", pm->name, d.produced, want);
        goto fail;
    }
    if (!has_magic(d.out, want, elf_magic, sizeof(elf_magic))) {
        rc = dom0_fail(err, errlen, EINVAL, "bzImage: the %s payload is not an ELF kernel",
                       pm->name);
        goto fail;
    }
    *elf = d.out;
    info->elf_len = *elf_len = want;
    return 0;
fail:
    free(d.out);
    return rc;
}

int kernel_image_to_elf(uint8_t **buf, size_t *len, size_t max_elf, char *err, size_t errlen)
{
    uint8_t *elf;
    size_t elf_len;
    int rc;

    if (!is_bzimage(*buf, *len))
        return 0;                       /* not a bzImage: for the ELF parser to judge */
    if ((rc = kernel_image_extract(*buf, *len, max_elf, &elf, &elf_len, NULL, err, errlen)))
        return rc;
    if (elf) {
        free(*buf);
        *buf = elf;
        *len = elf_len;
    }
    return 0;
}
