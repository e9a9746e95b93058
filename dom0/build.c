/*
 * build.c - the Domain 0 domain builder (see build.h for the steps).
 *
 * Owns: the kernel/ramdisk buffers of a build and the new domain until
 * build_domain returns (on failure it is destroyed and Domain 0's ports
 * for it are closed, in reverse order of their creation).
 * Invariant: pvbuild_build only ever sees frames that were checked to be
 * machine RAM, so its map callback cannot fail.
 */
#include "build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <public/pvcore_ctl.h>
#include <public/xen.h>

#include "ctl.h"
#include "dom0_error.h"
#include "kernel_image.h"
#include "machine.h"

#define PAGE_BYTES 4096u
#define MAX_IMAGE_BYTES (256u << 20)

static int read_file(const char *what, const char *path, uint8_t **buf, size_t *len,
                     char *err, size_t errlen)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return dom0_fail(err, errlen, errno, "%s '%s': %s", what, path, strerror(errno));
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return dom0_fail(err, errlen, e, "%s '%s': %s", what, path, strerror(e));
    }
    if (!S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size > MAX_IMAGE_BYTES) {
        close(fd);
        return dom0_fail(err, errlen, EINVAL, "%s '%s': not a regular file of 1 byte to "
                         "%u MiB", what, path, MAX_IMAGE_BYTES >> 20);
    }
    *len = (size_t)st.st_size;
    *buf = malloc(*len);
    if (!*buf) {
        close(fd);
        return dom0_fail(err, errlen, ENOMEM, "%s '%s': out of memory for %zu bytes", what,
                         path, *len);
    }
    for (size_t done = 0; done < *len;) {
        ssize_t n = read(fd, *buf + done, *len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            close(fd);
            free(*buf);
            *buf = NULL;
            return dom0_fail(err, errlen, e, "%s '%s': read: %s", what, path,
                             n < 0 ? strerror(e) : "file shrank while being read");
        }
        done += (size_t)n;
    }
    close(fd);
    return 0;
}

int build_image_read(struct build_image *img, const char *kernel_path,
                     const char *ramdisk_path, char *err, size_t errlen)
{
    char why[256];
    int rc;

    memset(img, 0, sizeof(*img));
    if ((rc = read_file("kernel", kernel_path, &img->kernel, &img->kernel_len, err, errlen)))
        return rc;
    if ((rc = kernel_image_to_elf(&img->kernel, &img->kernel_len, KERNEL_IMAGE_MAX_ELF, why,
                                  sizeof(why)))) {     /* a bzImage becomes its ELF */
        build_image_free(img);
        return dom0_fail(err, errlen, -rc, "'%s': %s", kernel_path, why);
    }
    if (pvbuild_parse(img->kernel, img->kernel_len, &img->elf, why, sizeof(why))) {
        build_image_free(img);
        return dom0_fail(err, errlen, EINVAL, "'%s': %s", kernel_path, why);
    }
    if (ramdisk_path &&
        (rc = read_file("ramdisk", ramdisk_path, &img->ramdisk, &img->ramdisk_len, err, errlen))) {
        build_image_free(img);
        return rc;
    }
    return 0;
}

void build_image_free(struct build_image *img)
{
    free(img->kernel);
    free(img->ramdisk);
    memset(img, 0, sizeof(*img));
}

static int check_config(const struct build_config *cfg, char *err, size_t errlen)
{
    size_t n = cfg->name ? strlen(cfg->name) : 0;

    if (!n || n >= PVCTL_NAME_LEN)
        return dom0_fail(err, errlen, EINVAL, "domain name '%s' must be 1 to %d characters",
                         cfg->name ? cfg->name : "", PVCTL_NAME_LEN - 1);
    if (!cfg->mem_kib || cfg->mem_kib % (PAGE_BYTES / 1024))
        return dom0_fail(err, errlen, EINVAL, "domain '%s': memory %llu KiB is not a positive "
                         "number of 4 KiB pages", cfg->name, (unsigned long long)cfg->mem_kib);
    if (cfg->max_mem_kib && (cfg->max_mem_kib < cfg->mem_kib ||
                             cfg->max_mem_kib % (PAGE_BYTES / 1024)))
        return dom0_fail(err, errlen, EINVAL, "domain '%s': maximum memory %llu KiB is below "
                         "memory %llu KiB or not whole pages", cfg->name,
                         (unsigned long long)cfg->max_mem_kib, (unsigned long long)cfg->mem_kib);
    if (cfg->cmdline && strlen(cfg->cmdline) >= MAX_GUEST_CMDLINE)
        return dom0_fail(err, errlen, EINVAL, "domain '%s': command line of %zu bytes, at most "
                         "%d", cfg->name, strlen(cfg->cmdline), MAX_GUEST_CMDLINE - 1);
    return 0;
}

static void *map_frame(void *ctx, uint64_t mfn)
{
    return machine_phys(ctx, mfn * PAGE_BYTES, PAGE_BYTES);
}

static void unmap_frame(void *ctx, void *p)
{
}

/* The build in progress: what has to be undone if a later step fails. */
struct build_state {
    struct ctl *c;
    const struct build_config *cfg;
    struct build_result *res;
    uint64_t shared_info_maddr;
    uint64_t *p2m;
    int have_domain, have_console_port, have_store_port;
};

#define STEP_FAIL(st, rc, step, ...) step_fail(st, rc, step, err, errlen, __VA_ARGS__)

static int step_fail(struct build_state *st, int rc, const char *step, char *err, size_t errlen,
                     const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int step_fail(struct build_state *st, int rc, const char *step, char *err, size_t errlen,
                     const char *fmt, ...)
{
    char why[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    return dom0_fail(err, errlen, rc < 0 ? -rc : rc, "build of domain '%s': %s: %s",
                     st->cfg->name, step, why);
}

/* Undo in reverse order; failures here are secondary to the first error. */
static void unwind(struct build_state *st)
{
    char ignored[256];

    if (st->have_store_port)
        ctl_evtchn_close(st->c, st->res->store_port, ignored, sizeof(ignored));
    if (st->have_console_port)
        ctl_evtchn_close(st->c, st->res->console_port, ignored, sizeof(ignored));
    if (st->have_domain)
        ctl_destroy(st->c, st->res->domid, ignored, sizeof(ignored));
}

static int create_domain(struct build_state *st, char *err, size_t errlen)
{
    const struct build_config *cfg = st->cfg;
    struct pvctl_create cr;
    char why[1024];

    memset(&cr, 0, sizeof(cr));
    memcpy(cr.name, cfg->name, strlen(cfg->name));
    memcpy(cr.handle, cfg->handle, sizeof(cr.handle));
    cr.mem_pages = cfg->mem_kib / (PAGE_BYTES / 1024);
    cr.max_pages = (cfg->max_mem_kib ? cfg->max_mem_kib : cfg->mem_kib) / (PAGE_BYTES / 1024);
    cr.vcpus = cfg->vcpus ? cfg->vcpus : 1;
    cr.weight = cfg->weight ? cfg->weight : 256;
    cr.cap = cfg->cap;
    int rc = ctl_create_domain(st->c, &cr, &st->res->domid, &st->shared_info_maddr, why,
                               sizeof(why));
    if (rc)
        return STEP_FAIL(st, rc, "create", "%s", why);
    st->have_domain = 1;
    st->res->nr_pages = cr.mem_pages;
    if (!st->shared_info_maddr)
        return STEP_FAIL(st, -EPROTO, "create", "the hypervisor did not say where domain %u's "
                         "shared_info is (the CREATE_DOMAIN response has no shared_info field)",
                         st->res->domid);
    return 0;
}

static int get_frames(struct build_state *st, char *err, size_t errlen)
{
    struct machine *m = ctl_machine(st->c);
    struct pvctl_domain_info info;
    char why[1024];
    int rc;

    if ((rc = ctl_get_info(st->c, st->res->domid, &info, why, sizeof(why))))
        return STEP_FAIL(st, rc, "frames", "%s", why);
    if (info.tot_pages != st->res->nr_pages)
        return STEP_FAIL(st, -EPROTO, "frames", "domain %u has %llu pages, %llu were asked for",
                         st->res->domid, (unsigned long long)info.tot_pages,
                         (unsigned long long)st->res->nr_pages);
    st->p2m = calloc(st->res->nr_pages, sizeof(*st->p2m));
    if (!st->p2m)
        return STEP_FAIL(st, -ENOMEM, "frames", "out of memory for %llu frame numbers",
                         (unsigned long long)st->res->nr_pages);
    if ((rc = ctl_get_frames(st->c, st->res->domid, 0, st->res->nr_pages, st->p2m, why,
                             sizeof(why))))
        return STEP_FAIL(st, rc, "frames", "%s", why);
    for (uint64_t pfn = 0; pfn < st->res->nr_pages; pfn++)
        if (!machine_phys(m, st->p2m[pfn] * PAGE_BYTES, PAGE_BYTES))
            return STEP_FAIL(st, -EPROTO, "frames", "pfn %llu is mfn %#llx, which is not "
                             "machine RAM", (unsigned long long)pfn,
                             (unsigned long long)st->p2m[pfn]);
    return 0;
}

static int alloc_ports(struct build_state *st, char *err, size_t errlen)
{
    char why[1024];
    int rc = ctl_evtchn_alloc_unbound(st->c, st->res->domid, &st->res->console_port, why,
                                      sizeof(why));

    if (rc)
        return STEP_FAIL(st, rc, "evtchn", "console: %s", why);
    st->have_console_port = 1;
    rc = ctl_evtchn_alloc_unbound(st->c, st->res->domid, &st->res->store_port, why, sizeof(why));
    if (rc)
        return STEP_FAIL(st, rc, "evtchn", "xenstore: %s", why);
    st->have_store_port = 1;
    return 0;
}

static int load_image(struct build_state *st, const struct build_image *img,
                      char *err, size_t errlen)
{
    struct pvbuild_ops ops = { ctl_machine(st->c), map_frame, unmap_frame };
    struct pvbuild_params bp = {
        .kernel = img->kernel, .kernel_len = img->kernel_len,
        .ramdisk = img->ramdisk, .ramdisk_len = img->ramdisk_len,
        .cmdline = st->cfg->cmdline ? st->cfg->cmdline : "",
        .nr_pages = st->res->nr_pages, .p2m = st->p2m,
        .shared_info_maddr = st->shared_info_maddr,
        .console_evtchn = st->res->console_port, .store_evtchn = st->res->store_port,
    };
    struct pvbuild_result br;
    char why[256];
    int rc = pvbuild_build(&bp, &ops, &br, why, sizeof(why));

    if (rc)
        return STEP_FAIL(st, rc, "load", "%s", why);
    st->res->console_pfn = br.console_pfn;
    st->res->console_mfn = st->p2m[br.console_pfn];
    st->res->store_pfn = br.store_pfn;
    st->res->store_mfn = st->p2m[br.store_pfn];
    st->res->entry = br.entry;
    st->res->start_info_va = br.start_info_va;
    st->res->l4_mfn = br.l4_mfn;
    struct pvctl_vcpu_context ctx = {
        .domid = st->res->domid, .vcpu = 0, .rip = br.entry, .rsp = br.stack_top,
        .rsi = br.start_info_va, .l4_mfn = br.l4_mfn,
    };
    struct pvctl_set_console sc = {
        .domid = st->res->domid, .console_port = st->res->console_port,
        .store_port = st->res->store_port, .console_pfn = br.console_pfn,
        .store_pfn = br.store_pfn,
    };
    char cwhy[1024];
    if ((rc = ctl_set_console(st->c, &sc, cwhy, sizeof(cwhy))))
        return STEP_FAIL(st, rc, "console", "%s", cwhy);
    if ((rc = ctl_set_vcpu_context(st->c, &ctx, cwhy, sizeof(cwhy))))
        return STEP_FAIL(st, rc, "context", "%s", cwhy);
    return 0;
}

int build_domain(struct ctl *c, const struct build_config *cfg, struct build_result *res,
                 char *err, size_t errlen)
{
    struct build_state st = { .c = c, .cfg = cfg, .res = res };
    struct build_image img;
    char why[1024];
    int rc;

    memset(res, 0, sizeof(*res));
    if ((rc = check_config(cfg, err, errlen)))
        return rc;
    if ((rc = build_image_read(&img, cfg->kernel_path, cfg->ramdisk_path, why, sizeof(why))))
        return STEP_FAIL(&st, rc, "read", "%s", why);
    if ((rc = create_domain(&st, err, errlen)) || (rc = get_frames(&st, err, errlen)) ||
        (rc = alloc_ports(&st, err, errlen)) || (rc = load_image(&st, &img, err, errlen)))
        goto fail;
    if (!cfg->paused && (rc = ctl_unpause(c, res->domid, why, sizeof(why)))) {
        rc = STEP_FAIL(&st, rc, "unpause", "%s", why);
        goto fail;
    }
    free(st.p2m);
    build_image_free(&img);
    return 0;
fail:
    unwind(&st);
    free(st.p2m);
    build_image_free(&img);
    return rc;
}
