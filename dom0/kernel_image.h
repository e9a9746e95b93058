/*
 * kernel_image.h - a kernel file as the builder needs it: the ELF.
 *
 * Operators name the kernel the way an xl config does, which on a Debian
 * host is a bzImage (/boot/vmlinuz-*). A bzImage is the x86 boot protocol's
 * real-mode setup code followed by the protected-mode part, whose payload
 * (boot protocol 2.08 and later: payload_offset/payload_length in the setup
 * header) is the kernel's ELF, compressed. This module finds that payload,
 * recognises its compression by magic and decompresses it with the Debian
 * libraries: zlib (gzip), liblzma (xz and legacy lzma), libzstd, liblz4
 * (the legacy lz4 frame Linux uses) and libbz2.
 *
 * Every Linux payload ends with its decompressed size as a 32-bit
 * little-endian number (gzip's own ISIZE, or appended by Linux's build);
 * the output must be exactly that size, at most max_elf bytes, and an ELF.
 * An ELF input is returned unchanged; anything else that lacks the "HdrS"
 * setup header is left to the ELF parser to reject.
 */
#ifndef DOM0_KERNEL_IMAGE_H
#define DOM0_KERNEL_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/* The default bound on a decompressed kernel. */
#define KERNEL_IMAGE_MAX_ELF ((size_t)256 << 20)

struct kernel_image_info {
    const char *format;         /* "elf", or the payload's: "gzip", "xz", ... */
    uint16_t boot_protocol;     /* bzImage: setup header version, e.g. 0x020f */
    size_t payload_offset;      /* bzImage: payload position in the file */
    size_t payload_len;
    size_t elf_len;             /* the ELF's size */
};

/*
 * kernel_image_extract: the ELF inside file[0..len).
 * A bzImage: *elf is a malloc'd buffer of *elf_len bytes (the caller frees
 * it). An ELF: *elf is NULL and *elf_len is len (use file itself).
 * info may be NULL. Returns 0 or a negative errno with err naming the cause
 * (-EINVAL bad header or stream, -EFBIG over max_elf, -ENOTSUP a payload
 * format not handled, -ENOMEM).
 */
int kernel_image_extract(const uint8_t *file, size_t len, size_t max_elf, uint8_t **elf,
                         size_t *elf_len, struct kernel_image_info *info,
                         char *err, size_t errlen);

/*
 * kernel_image_to_elf: the builder's hook. *buf (malloc'd, *len bytes) is
 * replaced by the ELF when it is a bzImage (the old buffer freed); anything
 * else is left as it is. On failure *buf is unchanged.
 */
int kernel_image_to_elf(uint8_t **buf, size_t *len, size_t max_elf, char *err, size_t errlen);

#endif
