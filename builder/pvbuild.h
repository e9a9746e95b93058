/*
 * pvbuild.h - the PV domain builder, shared by the hypervisor's boot-loader
 * path (hypervisor/common/bootdomains.c) and Domain 0 (dom0/build.c).
 *
 * The same file, builder/pvbuild.c, is compiled into the hypervisor image
 * (freestanding) and into Domain 0's library (hosted). It includes only
 * the public ABI headers (hypervisor/include/public/) and this one; it
 * reaches the machine only through the callbacks below, so the same code
 * runs where frames are a direct-map pointer away and where they are an
 * mmap of machine RAM, and where "create a domain" is a function call and
 * where it is a request over the control interface.
 *
 * Two levels:
 *   pvbuild_domain  the whole start of a domain, one sequence for both
 *                   hosts (steps below); on failure it undoes what it did
 *   pvbuild_parse / pvbuild_build
 *                   the ELF check and the domain's start-of-day memory, for
 *                   callers (and tests) that provide frames themselves
 *
 * Steps of pvbuild_domain, in order; an error names the step:
 *   check    the kernel ELF and its Xen notes (pvbuild_parse)
 *   create   host->create: the domain, its memory and vCPUs
 *   frames   host->get_frames: its p2m (pfn -> mfn)
 *   evtchn   host->evtchn_connect, twice: console and xenstore ports
 *   load     pvbuild_build: kernel, ramdisk, p2m list, start_info,
 *            xenstore and console pages, page tables, boot stack
 *   console  host->set_console: where the console/store pages and ports are
 *   pin      host->pin_table: the initial L4, validated and pinned as
 *            Xen's builder pins it (Linux unpins it early)
 *   context  host->set_context: vCPU 0's entry state on that L4
 *   unpause  host->unpause (unless cfg->paused)
 * Undo on failure: host->evtchn_disconnect for each connected port, then
 * host->destroy.
 *
 * The layout of the domain's memory: see pvbuild_build below.
 */
#ifndef PVBUILD_H
#define PVBUILD_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* ---- The ELF image ---------------------------------------------------- */

struct pvbuild_image {
    uint64_t virt_base, paddr_offset, entry, hypercall_page;
    uint64_t kstart, kend;              /* virtual extent of the segments */
    bool has_hypercall_page;
    bool mod_start_pfn;                 /* MOD_START_PFN note: ramdisk may be unmapped */
    char guest_os[32], loader[32], xen_version[16], features[128];
};

/* Check the ELF and read its Xen notes. 0, or a negative errno with err set
 * to a sentence naming what is wrong. */
int pvbuild_parse(const uint8_t *elf, size_t len, struct pvbuild_image *img,
                  char *err, size_t errlen);

/* ---- The domain's start-of-day memory --------------------------------- */

struct pvbuild_ops {
    void *ctx;
    /* A writable mapping of machine frame mfn (of the new domain). */
    void *(*map)(void *ctx, uint64_t mfn);
    void (*unmap)(void *ctx, void *p);
};

struct pvbuild_params {
    const uint8_t *kernel;
    size_t kernel_len;
    const uint8_t *ramdisk;
    size_t ramdisk_len;
    const char *cmdline;
    uint64_t nr_pages;
    const uint64_t *p2m;                /* pfn -> mfn, nr_pages entries */
    uint64_t shared_info_maddr;
    uint32_t flags;                     /* SIF_* */
    uint32_t console_evtchn, store_evtchn;  /* the guest's own ports */
};

struct pvbuild_result {
    struct pvbuild_image img;
    uint64_t entry, stack_top, start_info_va;
    uint64_t l4_mfn, nr_pt_frames, pt_base;
    uint64_t console_pfn, store_pfn, start_info_pfn;
    uint64_t p2m_va, ramdisk_start, ramdisk_len;   /* as in start_info */
    uint32_t flags;                                 /* start_info.flags */
    uint64_t v_end;                                 /* end of the initial mapping */
};

/* Build the domain's start-of-day memory. 0, or a negative errno with err.
 *
 * The layout is libxenguest's for a PV domU (xc_dom_build_image,
 * xc_dom_x86.c), virtual from VIRT_BASE (pfn 0) upwards:
 *   kernel segments (p_paddr - PADDR_OFFSET + VIRT_BASE), the ramdisk
 *   (unless the kernel has a MOD_START_PFN note), the p2m list, start_info,
 *   xenstore page, console page, page tables (mapped read-only), boot
 *   stack; the initial mapping covers all of it plus at least 512 KiB, up
 *   to the next 4 MiB boundary (v_end). A ramdisk the kernel takes
 *   unmapped follows v_end: start_info.mod_start is then its pfn and flags
 *   has SIF_MOD_START_PFN. mod_len is the module's whole pages.
 * Page-table entries: leaves P|RW|A (the tables themselves without RW),
 * upper levels P|RW|A|D|US, as Xen's builder writes them.
 * Entry: rip = ENTRY, rsp = top of the boot stack, rsi = start_info. */
int pvbuild_build(const struct pvbuild_params *p, const struct pvbuild_ops *ops,
                  struct pvbuild_result *out, char *err, size_t errlen);

/* ---- The whole start of a domain -------------------------------------- */

struct pvbuild_domain_config {
    const char *name;
    const uint8_t *handle;              /* 16 bytes, or NULL */
    uint64_t mem_pages, max_pages;
    uint32_t vcpus, weight, cap;
    const uint8_t *kernel;
    size_t kernel_len;
    const uint8_t *ramdisk;             /* NULL: none */
    size_t ramdisk_len;
    const char *cmdline;                /* NULL: empty */
    bool paused;                        /* leave it paused after the build */
};

/* The built domain. */
struct pvbuild_domain {
    uint32_t domid;
    uint64_t nr_pages;
    uint64_t shared_info_maddr;
    uint32_t console_port, store_port;              /* the guest's own ports */
    uint32_t console_backend_port, store_backend_port;  /* the backend's ends */
    uint64_t console_mfn, store_mfn;
    struct pvbuild_result layout;
};

/* What the host provides. Every int-returning callback returns 0 or a
 * negative errno and then writes a sentence to err. */
struct pvbuild_host {
    void *ctx;
    void *(*map)(void *ctx, uint64_t mfn);
    void (*unmap)(void *ctx, void *p);
    int (*create)(void *ctx, const struct pvbuild_domain_config *cfg, uint32_t *domid,
                  uint64_t *shared_info_maddr, char *err, size_t errlen);
    /* The domain's nr_pages frames in pfn order, in storage the host owns
     * until put_frames. */
    int (*get_frames)(void *ctx, uint32_t domid, uint64_t nr_pages, uint64_t **p2m,
                      char *err, size_t errlen);
    void (*put_frames)(void *ctx, uint64_t *p2m);
    /* A port of the guest's own, already bound to the backend: *guest_port
     * is what start_info carries, *backend_port the backend's end. */
    int (*evtchn_connect)(void *ctx, uint32_t domid, uint32_t *guest_port,
                          uint32_t *backend_port, char *err, size_t errlen);
    void (*evtchn_disconnect)(void *ctx, uint32_t domid, uint32_t backend_port);
    int (*set_console)(void *ctx, const struct pvbuild_domain *dom, char *err, size_t errlen);
    /* Pin mfn as a page table of the given level (1-4), validating it. */
    int (*pin_table)(void *ctx, uint32_t domid, uint64_t mfn, unsigned int level,
                     char *err, size_t errlen);
    /* vCPU 0: entry, stack, start_info and the (pinned) L4. */
    int (*set_context)(void *ctx, const struct pvbuild_domain *dom, char *err, size_t errlen);
    int (*unpause)(void *ctx, uint32_t domid, char *err, size_t errlen);
    void (*destroy)(void *ctx, uint32_t domid);
};

/* Build and start a domain. 0, or a negative errno with err set to
 * "STEP: cause". Nothing is left of a failed build. */
int pvbuild_domain(const struct pvbuild_domain_config *cfg, const struct pvbuild_host *host,
                   struct pvbuild_domain *out, char *err, size_t errlen);

#endif
