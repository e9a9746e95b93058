/*
 * pvcore-extract-kernel - write the ELF kernel inside a bzImage.
 *
 *   pvcore-extract-kernel [-v] VMLINUZ OUT.elf     (OUT "-" is stdout)
 *
 * The hypervisor's boot-loader path (GRUB module2 lines) loads ELF kernels
 * only: it carries no decompressor. This host tool runs the Domain 0 code
 * that pvd uses for the same job (dom0/kernel_image.c) so that a stock
 * /boot/vmlinuz-* can be given to a boot-loader domain. An ELF input is
 * copied as it is. Exit status: 0 done, 1 refused (one line on stderr
 * naming the file and cause), 2 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel_image.h"

#define PROG "pvcore-extract-kernel"

static int usage(void)
{
    fprintf(stderr, "usage: " PROG " [-v] VMLINUZ OUT.elf   (OUT '-' writes to stdout)\n");
    return 2;
}

/* The whole file, at most KERNEL_IMAGE_MAX_ELF bytes. */
static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    size_t cap = 1 << 20, n = 0;
    uint8_t *buf = NULL;

    if (!f) {
        fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        uint8_t *bigger;
        size_t got;

        if (n == cap || !buf) {
            if (buf)
                cap *= 2;
            if (cap > KERNEL_IMAGE_MAX_ELF + 1)
                cap = KERNEL_IMAGE_MAX_ELF + 1;
            if (!(bigger = realloc(buf, cap))) {
                fprintf(stderr, PROG ": %s: out of memory\n", path);
                goto fail;
            }
            buf = bigger;
        }
        if (n == cap) {
            fprintf(stderr, PROG ": %s: larger than %zu MiB\n", path, KERNEL_IMAGE_MAX_ELF >> 20);
            goto fail;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                fprintf(stderr, PROG ": %s: read error\n", path);
                goto fail;
            }
            break;
        }
    }
    fclose(f);
    *len = n;
    return buf;
fail:
    fclose(f);
    free(buf);
    return NULL;
}

static int spill(const char *path, const uint8_t *p, size_t len)
{
    int to_stdout = strcmp(path, "-") == 0;
    FILE *f = to_stdout ? stdout : fopen(path, "wb");

    if (!f) {
        fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (fwrite(p, 1, len, f) != len || (to_stdout ? fflush(f) : fclose(f)) != 0) {
        fprintf(stderr, PROG ": %s: write error: %s\n", path, strerror(errno));
        if (!to_stdout)
            unlink(path);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct kernel_image_info info;
    uint8_t *file, *elf;
    size_t len, elf_len;
    char err[256];
    int verbose = 0, rc;

    if (argc > 1 && strcmp(argv[1], "-v") == 0) {
        verbose = 1;
        argv++;
        argc--;
    }
    if (argc != 3)
        return usage();
    if (!(file = slurp(argv[1], &len)))
        return 1;
    if ((rc = kernel_image_extract(file, len, KERNEL_IMAGE_MAX_ELF, &elf, &elf_len, &info,
                                   err, sizeof(err)))) {
        fprintf(stderr, PROG ": %s: %s\n", argv[1], err);
        free(file);
        return 1;
    }
    if (verbose && elf)
        fprintf(stderr, PROG ": %s: bzImage, boot protocol %u.%02u, %s payload of %zu bytes "
                "at %zu, ELF of %zu bytes\n", argv[1], info.boot_protocol >> 8,
                info.boot_protocol & 0xff, info.format, info.payload_len,
                info.payload_offset, info.elf_len);
    else if (verbose)
        fprintf(stderr, PROG ": %s: already an ELF (%zu bytes), copied\n", argv[1], len);
    rc = spill(argv[2], elf ? elf : file, elf_len);
    free(elf);
    free(file);
    return rc ? 1 : 0;
}
