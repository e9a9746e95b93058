/*
 * fuzz_kernel_image.c - libFuzzer target: arbitrary bytes as the kernel file
 * an operator names (dom0/kernel_image.c: ELF or bzImage with any of its
 * payload compressions), then the ELF as the builder takes it
 * (builder/pvbuild.c: pvbuild_parse, and pvbuild_build's layout into a
 * small domain whose frames are separate heap blocks, so that a write past
 * a frame is an ASan report).
 *
 * The first byte picks the domain's size (1 MiB, too small, or 4-14.5 MiB) and whether a
 * ramdisk (the input's tail) goes with it; the rest is the file.
 * Checked beside the sanitizers: the builder maps only the domain's own
 * frames; a successful build lays start_info, the xenstore and console
 * pages and the page tables inside the domain, below v_end, which is on a
 * 4 MiB boundary; a failed one says why.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_image.h"
#include "pvbuild.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MFN_BASE 0x4000u
#define MAX_ELF  ((size_t)32 << 20)

struct domain_frames {
	uint64_t nr;
	uint64_t p2m[4096];
	uint8_t *page[4096];	/* by mfn - MFN_BASE, allocated on first map */
};

static void *map(void *ctx, uint64_t mfn)
{
	struct domain_frames *f = ctx;
	uint64_t i = mfn - MFN_BASE;

	if (mfn < MFN_BASE || i >= f->nr) {
		fprintf(stderr, "fuzz_kernel_image: the builder mapped mfn %#llx, not the domain's\n",
			(unsigned long long)mfn);
		abort();
	}
	if (!f->page[i] && !(f->page[i] = calloc(1, 4096)))
		abort();
	return f->page[i];
}

static void unmap(void *ctx, void *p)
{
}

static void build(const uint8_t *elf, size_t len, const uint8_t *ramdisk, size_t ramdisk_len, uint64_t nr)
{
	static struct domain_frames f;
	struct pvbuild_ops ops = { &f, map, unmap };
	struct pvbuild_params p = { .kernel = elf, .kernel_len = len, .ramdisk = ramdisk,
				    .ramdisk_len = ramdisk_len, .cmdline = "console=hvc0", .nr_pages = nr,
				    .p2m = f.p2m, .shared_info_maddr = 0x1234000, .console_evtchn = 1,
				    .store_evtchn = 2 };
	struct pvbuild_result r;
	char err[256] = "";
	int rc;

	f.nr = nr;
	for (uint64_t i = 0; i < nr; i++)
		f.p2m[i] = MFN_BASE + (i * 37 + 5) % nr;	/* not in pfn order */
	rc = pvbuild_build(&p, &ops, &r, err, sizeof(err));
	if (rc < 0 && !err[0])
		abort();
	if (rc == 0 && (r.start_info_pfn >= nr || r.store_pfn >= nr || r.console_pfn >= nr ||
			r.v_end % (4u << 20) || r.entry != r.img.entry || r.nr_pt_frames == 0)) {
		fprintf(stderr, "fuzz_kernel_image: bad layout: start_info %llu store %llu console %llu of %llu "
			"pages, v_end %#llx\n", (unsigned long long)r.start_info_pfn,
			(unsigned long long)r.store_pfn, (unsigned long long)r.console_pfn,
			(unsigned long long)nr, (unsigned long long)r.v_end);
		abort();
	}
	for (uint64_t i = 0; i < nr; i++) {
		free(f.page[i]);
		f.page[i] = NULL;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kernel_image_info info;
	struct pvbuild_image img;
	uint8_t *elf = NULL;
	size_t elf_len, file_len, ramdisk_len = 0;
	char err[256] = "";
	uint64_t nr;
	int rc;

	if (size < 1)
		return 0;
	nr = data[0] & 8 ? 256 : 1024 + (data[0] & 7) * 384u;	/* 1 MiB, or 4 .. 14.5 MiB */
	file_len = size - 1;
	if (data[0] & 0x80 && file_len > 16) {
		ramdisk_len = file_len / 8;
		file_len -= ramdisk_len;
	}
	rc = kernel_image_extract(data + 1, file_len, MAX_ELF, &elf, &elf_len, &info, err, sizeof(err));
	if (rc < 0) {
		if (!err[0] || elf)
			abort();	/* refused without a reason, or leaked its output */
		return 0;
	}
	if (elf_len > MAX_ELF || (elf && elf_len != info.elf_len))
		abort();
	err[0] = '\0';
	if (pvbuild_parse(elf ? elf : data + 1, elf_len, &img, err, sizeof(err)) == 0)
		build(elf ? elf : data + 1, elf_len, data + 1 + file_len, ramdisk_len, nr);
	else if (!err[0])
		abort();
	free(elf);
	return 0;
}
