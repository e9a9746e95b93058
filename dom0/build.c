/*
 * build.c - the Domain 0 domain builder (see build.h): reads the files and
 * runs the shared builder's sequence (builder/pvbuild.c, pvbuild_domain)
 * with the control interface as its host.
 *
 * Owns: the kernel/ramdisk buffers of a build and the p2m array while the
 * builder uses it. On failure pvbuild_domain closes Domain 0's ports and
 * destroys the domain, in reverse order of their creation.
 * Invariant: the builder only ever sees frames that were checked to be
 * machine RAM, so the map callback cannot fail.
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

/* Read all of fd (a regular file of 1 byte to MAX_IMAGE_BYTES) into *buf;
 * name labels errors. fd stays the caller's. */
static int read_fd(const char *what, const char *name, int fd, uint8_t **buf, size_t *len,
                   char *err, size_t errlen)
{
    struct stat st;

    if (fstat(fd, &st) < 0)
        return dom0_fail(err, errlen, errno, "%s '%s': %s", what, name, strerror(errno));
    if (!S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size > MAX_IMAGE_BYTES)
        return dom0_fail(err, errlen, EINVAL, "%s '%s': not a regular file of 1 byte to "
                         "%u MiB", what, name, MAX_IMAGE_BYTES >> 20);
    *len = (size_t)st.st_size;
    *buf = malloc(*len);
    if (!*buf)
        return dom0_fail(err, errlen, ENOMEM, "%s '%s': out of memory for %zu bytes", what,
                         name, *len);
    for (size_t done = 0; done < *len;) {
        ssize_t n = pread(fd, *buf + done, *len - done, (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            free(*buf);
            *buf = NULL;
            return dom0_fail(err, errlen, e, "%s '%s': read: %s", what, name,
                             n < 0 ? strerror(e) : "file shrank while being read");
        }
        done += (size_t)n;
    }
    return 0;
}

/* Open path read-only without blocking (a FIFO must not hang the caller);
 * read_fd refuses anything but a regular file. */
static int open_image(const char *what, const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

    if (fd < 0)
        return dom0_fail(err, errlen, errno, "%s '%s': %s", what, path, strerror(errno));
    return fd;
}

int build_image_read_fd(struct build_image *img, int kernel_fd, const char *kernel_name,
                        int ramdisk_fd, const char *ramdisk_name, char *err, size_t errlen)
{
    char why[256];
    int rc;

    memset(img, 0, sizeof(*img));
    if ((rc = read_fd("kernel", kernel_name, kernel_fd, &img->kernel, &img->kernel_len, err,
                      errlen)))
        return rc;
    if ((rc = kernel_image_to_elf(&img->kernel, &img->kernel_len, KERNEL_IMAGE_MAX_ELF, why,
                                  sizeof(why)))) {     /* a bzImage becomes its ELF */
        build_image_free(img);
        return dom0_fail(err, errlen, -rc, "'%s': %s", kernel_name, why);
    }
    if (pvbuild_parse(img->kernel, img->kernel_len, &img->elf, why, sizeof(why))) {
        build_image_free(img);
        return dom0_fail(err, errlen, EINVAL, "'%s': %s", kernel_name, why);
    }
    if (ramdisk_fd >= 0 && (rc = read_fd("ramdisk", ramdisk_name, ramdisk_fd, &img->ramdisk,
                                         &img->ramdisk_len, err, errlen))) {
        build_image_free(img);
        return rc;
    }
    return 0;
}

int build_image_read(struct build_image *img, const char *kernel_path,
                     const char *ramdisk_path, char *err, size_t errlen)
{
    int kfd, rfd = -1, rc;

    memset(img, 0, sizeof(*img));
    if ((kfd = open_image("kernel", kernel_path, err, errlen)) < 0)
        return kfd;
    if (ramdisk_path && (rfd = open_image("ramdisk", ramdisk_path, err, errlen)) < 0) {
        close(kfd);
        return rfd;
    }
    rc = build_image_read_fd(img, kfd, kernel_path, rfd, ramdisk_path, err, errlen);
    close(kfd);
    if (rfd >= 0)
        close(rfd);
    return rc;
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
    return machine_phys(ctl_machine(ctx), mfn * PAGE_BYTES, PAGE_BYTES);
}

static void unmap_frame(void *ctx, void *p)
{
}

/* ---- The builder's host: the control interface ------------------------- */

static int host_create(void *ctx, const struct pvbuild_domain_config *cfg, uint32_t *domid,
                       uint64_t *shared_info_maddr, char *err, size_t errlen)
{
    struct pvctl_create cr;

    memset(&cr, 0, sizeof(cr));
    memcpy(cr.name, cfg->name, strlen(cfg->name));
    if (cfg->handle)
        memcpy(cr.handle, cfg->handle, sizeof(cr.handle));
    cr.mem_pages = cfg->mem_pages;
    cr.max_pages = cfg->max_pages;
    cr.vcpus = cfg->vcpus;
    cr.weight = cfg->weight;
    cr.cap = cfg->cap;
    int rc = ctl_create_domain(ctx, &cr, domid, shared_info_maddr, err, errlen);
    if (!rc && !*shared_info_maddr) {
        snprintf(err, errlen, "the hypervisor did not say where domain %u's shared_info is "
                 "(the CREATE_DOMAIN response has no shared_info field)", *domid);
        rc = -EPROTO;
    }
    return rc;
}

static int host_get_frames(void *ctx, uint32_t domid, uint64_t nr_pages, uint64_t **p2m_out,
                           char *err, size_t errlen)
{
    struct machine *m = ctl_machine(ctx);
    struct pvctl_domain_info info;
    int rc;

    if ((rc = ctl_get_info(ctx, domid, &info, err, errlen)))
        return rc;
    if (info.tot_pages != nr_pages) {
        snprintf(err, errlen, "domain %u has %llu pages, %llu were asked for", domid,
                 (unsigned long long)info.tot_pages, (unsigned long long)nr_pages);
        return -EPROTO;
    }
    uint64_t *p2m = calloc(nr_pages, sizeof(*p2m));
    if (!p2m) {
        snprintf(err, errlen, "out of memory for %llu frame numbers",
                 (unsigned long long)nr_pages);
        return -ENOMEM;
    }
    if ((rc = ctl_get_frames(ctx, domid, 0, nr_pages, p2m, err, errlen))) {
        free(p2m);
        return rc;
    }
    for (uint64_t pfn = 0; pfn < nr_pages; pfn++)
        if (!machine_phys(m, p2m[pfn] * PAGE_BYTES, PAGE_BYTES)) {
            snprintf(err, errlen, "pfn %llu is mfn %#llx, which is not machine RAM",
                     (unsigned long long)pfn, (unsigned long long)p2m[pfn]);
            free(p2m);
            return -EPROTO;
        }
    *p2m_out = p2m;
    return 0;
}

static void host_put_frames(void *ctx, uint64_t *p2m)
{
    free(p2m);
}

static int host_evtchn_connect(void *ctx, uint32_t domid, uint32_t *guest_port,
                               uint32_t *backend_port, char *err, size_t errlen)
{
    return ctl_evtchn_connect(ctx, domid, guest_port, backend_port, err, errlen);
}

static void host_evtchn_disconnect(void *ctx, uint32_t domid, uint32_t backend_port)
{
    char ignored[256];

    ctl_evtchn_close(ctx, backend_port, ignored, sizeof(ignored));
}

static int host_set_console(void *ctx, const struct pvbuild_domain *dom, char *err,
                            size_t errlen)
{
    struct pvctl_set_console sc = {
        .domid = dom->domid, .console_port = dom->console_port,
        .store_port = dom->store_port, .console_pfn = dom->layout.console_pfn,
        .store_pfn = dom->layout.store_pfn,
    };
    return ctl_set_console(ctx, &sc, err, errlen);
}

static int host_pin_table(void *ctx, uint32_t domid, uint64_t mfn, unsigned int level,
                          char *err, size_t errlen)
{
    return ctl_pin_table(ctx, domid, mfn, level, err, errlen);
}

static int host_set_context(void *ctx, const struct pvbuild_domain *dom, char *err,
                            size_t errlen)
{
    struct pvctl_vcpu_context vc = {
        .domid = dom->domid, .vcpu = 0, .rip = dom->layout.entry,
        .rsp = dom->layout.stack_top, .rsi = dom->layout.start_info_va,
        .l4_mfn = dom->layout.l4_mfn,
    };
    return ctl_set_vcpu_context(ctx, &vc, err, errlen);
}

static int host_unpause(void *ctx, uint32_t domid, char *err, size_t errlen)
{
    return ctl_unpause(ctx, domid, err, errlen);
}

static void host_destroy(void *ctx, uint32_t domid)
{
    char ignored[256];

    ctl_destroy(ctx, domid, ignored, sizeof(ignored));
}

int build_domain(struct ctl *c, const struct build_config *cfg, struct build_result *res,
                 char *err, size_t errlen)
{
    const struct pvbuild_host host = {
        .ctx = c, .map = map_frame, .unmap = unmap_frame, .create = host_create,
        .get_frames = host_get_frames, .put_frames = host_put_frames,
        .evtchn_connect = host_evtchn_connect, .evtchn_disconnect = host_evtchn_disconnect,
        .set_console = host_set_console, .pin_table = host_pin_table,
        .set_context = host_set_context,
        .unpause = host_unpause, .destroy = host_destroy,
    };
    struct build_image img;
    struct pvbuild_domain dom;
    char why[1024];
    int rc;

    memset(res, 0, sizeof(*res));
    if ((rc = check_config(cfg, err, errlen)))
        return rc;
    if (cfg->image)
        img = *cfg->image;
    else if ((rc = build_image_read(&img, cfg->kernel_path, cfg->ramdisk_path, why, sizeof(why))))
        return dom0_fail(err, errlen, -rc, "build of domain '%s': read: %s", cfg->name, why);
    struct pvbuild_domain_config dc = {
        .name = cfg->name, .handle = cfg->handle,
        .mem_pages = cfg->mem_kib / (PAGE_BYTES / 1024),
        .max_pages = (cfg->max_mem_kib ? cfg->max_mem_kib : cfg->mem_kib) / (PAGE_BYTES / 1024),
        .vcpus = cfg->vcpus ? cfg->vcpus : 1, .weight = cfg->weight ? cfg->weight : 256,
        .cap = cfg->cap, .kernel = img.kernel, .kernel_len = img.kernel_len,
        .ramdisk = img.ramdisk, .ramdisk_len = img.ramdisk_len,
        .cmdline = cfg->cmdline ? cfg->cmdline : "", .paused = cfg->paused,
    };
    rc = pvbuild_domain(&dc, &host, &dom, why, sizeof(why));
    if (!cfg->image)
        build_image_free(&img);
    if (rc)
        return dom0_fail(err, errlen, -rc, "build of domain '%s': %s", cfg->name, why);
    res->domid = dom.domid;
    res->nr_pages = dom.nr_pages;
    res->console_pfn = dom.layout.console_pfn;
    res->console_mfn = dom.console_mfn;
    res->store_pfn = dom.layout.store_pfn;
    res->store_mfn = dom.store_mfn;
    res->console_port = dom.console_backend_port;
    res->store_port = dom.store_backend_port;
    res->guest_console_port = dom.console_port;
    res->guest_store_port = dom.store_port;
    res->entry = dom.layout.entry;
    res->start_info_va = dom.layout.start_info_va;
    res->l4_mfn = dom.layout.l4_mfn;
    return 0;
}
