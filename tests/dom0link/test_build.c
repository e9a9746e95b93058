/*
 * test_build.c - the domain builder's host side: build_image_read on real
 * and bad files, and the shared builder (pvbuild.c, compiled for the host)
 * run the way build.c runs it, through map/unmap callbacks, on an
 * in-memory array of frames with a scrambled p2m. The result is checked by
 * walking the page tables it wrote, as the guest's MMU would.
 * Input: $BUILD/guests/ticker.elf (BUILD defaults to "build").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <cmocka.h>

#include <public/io/console.h>
#include <public/xen.h>

#include "build.h"

#define NR_PAGES 2048u                   /* 8 MiB */
#define MFN_BASE 0x1000u

struct frames {
    uint8_t (*page)[4096];
    uint64_t p2m[NR_PAGES];
    unsigned int maps, unmaps;
};

static void *map(void *ctx, uint64_t mfn)
{
    struct frames *f = ctx;

    assert_true(mfn >= MFN_BASE && mfn < MFN_BASE + NR_PAGES);
    f->maps++;
    return f->page[mfn - MFN_BASE];
}

static void unmap(void *ctx, void *p)
{
    ((struct frames *)ctx)->unmaps++;
}

static const char *guest_elf(void)
{
    static char path[512];
    const char *b = getenv("BUILD");

    snprintf(path, sizeof(path), "%s/guests/ticker.elf", b && *b ? b : "build");
    return path;
}

static struct frames *new_frames(void)
{
    struct frames *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->page = calloc(NR_PAGES, 4096);
    assert_non_null(f->page);
    memset(f->page, 0xa5, (size_t)NR_PAGES * 4096);   /* the builder must zero */
    /* Not contiguous, not monotonic: pfn i -> a permutation of the frames. */
    for (uint64_t i = 0; i < NR_PAGES; i++)
        f->p2m[i] = MFN_BASE + (i * 1237 + 11) % NR_PAGES;
    return f;
}

static void free_frames(struct frames *f)
{
    free(f->page);
    free(f);
}

/* The builder's inputs: scattered frames and the ticker kernel. */
struct fixture {
    struct frames *f;
    struct build_image img;
    struct pvbuild_ops ops;
    struct pvbuild_params p;
};

static int setup(void **state)
{
    struct fixture *x = calloc(1, sizeof(*x));
    char err[256];

    assert_non_null(x);
    x->f = new_frames();
    assert_int_equal(build_image_read(&x->img, guest_elf(), NULL, err, sizeof(err)), 0);
    x->ops = (struct pvbuild_ops){ x->f, map, unmap };
    x->p = (struct pvbuild_params){ .kernel = x->img.kernel, .kernel_len = x->img.kernel_len,
                                    .nr_pages = NR_PAGES, .p2m = x->f->p2m };
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *x = *state;

    build_image_free(&x->img);
    free_frames(x->f);
    free(x);
    return 0;
}

/* Translate va through the tables rooted at l4_mfn; 0 if not mapped.
 * *rw: the AND of the RW bits on the way. */
static uint64_t walk(struct frames *f, uint64_t l4_mfn, uint64_t va, int *rw)
{
    uint64_t mfn = l4_mfn;

    *rw = 1;
    for (int level = 4; level >= 1; level--) {
        const uint64_t *t = (const uint64_t *)f->page[mfn - MFN_BASE];
        uint64_t e = t[(va >> (12 + 9 * (level - 1))) & 511];

        if (!(e & 1))
            return 0;
        *rw &= !!(e & 2);
        mfn = (e >> 12) & 0xffffffffffull;
        if (mfn < MFN_BASE || mfn >= MFN_BASE + NR_PAGES)
            return 0;
    }
    return mfn;
}

static void a_guest_kernel_is_read_and_checked(void **state)
{
    struct build_image img;
    char err[256];

    assert_int_equal(build_image_read(&img, guest_elf(), NULL, err, sizeof(err)), 0);
    assert_true(img.kernel_len > 4096);
    assert_int_equal(img.elf.virt_base, 0xffffffff80000000ull);
    assert_true(img.elf.entry >= img.elf.kstart && img.elf.entry < img.elf.kend);
    build_image_free(&img);
}

static void bad_kernel_files_are_refused_with_their_path(void **state)
{
    struct build_image img;
    char err[256], path[] = "/tmp/test_build.XXXXXX";
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, "#!/bin/sh\necho not a kernel\n", 28), 28);
    close(fd);
    assert_int_equal(build_image_read(&img, path, NULL, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "ELF"));
    assert_int_equal(build_image_read(&img, "/nonexistent/kernel", NULL, err, sizeof(err)),
                     -ENOENT);
    assert_non_null(strstr(err, "kernel '/nonexistent/kernel'"));
    assert_int_equal(build_image_read(&img, guest_elf(), "/nonexistent/rd", err, sizeof(err)),
                     -ENOENT);
    assert_non_null(strstr(err, "ramdisk '/nonexistent/rd'"));
    assert_int_equal(build_image_read(&img, "/tmp", NULL, err, sizeof(err)), -EINVAL);
    unlink(path);
}

static void the_builder_lays_out_a_bootable_domain_in_scattered_frames(void **state)
{
    struct fixture *x = *state;
    struct frames *f = x->f;
    struct pvbuild_result res;
    char err[256];

    x->p.cmdline = "period_ms=50 count=3";
    x->p.shared_info_maddr = 0x77000;
    x->p.console_evtchn = 5;
    x->p.store_evtchn = 6;
    assert_int_equal(pvbuild_build(&x->p, &x->ops, &res, err, sizeof(err)), 0);
    assert_int_equal(f->maps, f->unmaps);

    int rw;
    uint64_t si_mfn = walk(f, res.l4_mfn, res.start_info_va, &rw);
    assert_int_not_equal(si_mfn, 0);
    const struct start_info *si = (const void *)(f->page[si_mfn - MFN_BASE] +
                                                 (res.start_info_va & 4095));
    assert_string_equal(si->magic, "xen-3.0-x86_64");
    assert_int_equal(si->nr_pages, NR_PAGES);
    assert_int_equal(si->shared_info, 0x77000);
    assert_int_equal(si->console.domU.mfn, f->p2m[res.console_pfn]);
    assert_int_equal(si->console.domU.evtchn, 5);
    assert_int_equal(si->store_mfn, f->p2m[res.store_pfn]);
    assert_int_equal(si->store_evtchn, 6);
    assert_string_equal((const char *)si->cmd_line, "period_ms=50 count=3");
    assert_int_equal(si->nr_pt_frames, res.nr_pt_frames);

    /* The console page is mapped, writable and zeroed (an empty ring). */
    uint64_t cons_va = x->img.elf.virt_base + res.console_pfn * 4096;
    assert_int_equal(walk(f, res.l4_mfn, cons_va, &rw), f->p2m[res.console_pfn]);
    assert_true(rw);
    const struct xencons_interface *ring = (const void *)f->page[f->p2m[res.console_pfn] -
                                                                 MFN_BASE];
    assert_int_equal(ring->out_prod, 0);
    assert_int_equal(ring->out_cons, 0);

    /* The page tables map themselves read-only; the entry and stack are mapped. */
    for (uint64_t i = 0; i < si->nr_pt_frames; i++) {
        assert_int_not_equal(walk(f, res.l4_mfn, si->pt_base + i * 4096, &rw), 0);
        assert_false(rw);
    }
    assert_int_equal(walk(f, res.l4_mfn, si->pt_base, &rw), res.l4_mfn);
    assert_int_not_equal(walk(f, res.l4_mfn, res.entry, &rw), 0);
    assert_int_not_equal(walk(f, res.l4_mfn, res.stack_top - 8, &rw), 0);
    assert_true(rw);

    /* The p2m list the guest gets is ours. */
    uint64_t p2m_mfn = walk(f, res.l4_mfn, si->mfn_list, &rw);
    assert_memory_equal(f->page[p2m_mfn - MFN_BASE], f->p2m, 4096);
}

static void too_little_memory_is_an_error_not_an_overrun(void **state)
{
    struct fixture *x = *state;
    struct pvbuild_result res;
    char err[256];

    x->p.nr_pages = 64;
    assert_int_equal(pvbuild_build(&x->p, &x->ops, &res, err, sizeof(err)), -ENOMEM);
    assert_non_null(strstr(err, "KiB"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_guest_kernel_is_read_and_checked),
        cmocka_unit_test(bad_kernel_files_are_refused_with_their_path),
        cmocka_unit_test_setup_teardown(the_builder_lays_out_a_bootable_domain_in_scattered_frames,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(too_little_memory_is_an_error_not_an_overrun, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
