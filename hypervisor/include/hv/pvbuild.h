/* The PV domain builder (common/pvbuild.c), shared by the hypervisor's
 * boot-loader path and Domain 0: it reaches the new domain's memory only
 * through struct pvbuild_ops, so the same code runs where frames are a
 * direct-map pointer away and where they are an mmap of machine RAM.
 *
 * It lays the domain out the way Xen's start of day does, virtual from
 * VIRT_BASE (pfn 0) upwards:
 *   kernel segments (p_paddr - PADDR_OFFSET + VIRT_BASE), ramdisk,
 *   p2m list, start_info, xenstore page, console page, page tables
 *   (mapped read-only), boot stack; all of it mapped up to v_end, which
 *   leaves at least 512 KiB spare and is rounded up to 4 MiB.
 * Entry: rip = ENTRY, rsp = top of the boot stack, rsi = start_info. */
#ifndef HV_PVBUILD_H
#define HV_PVBUILD_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

struct pvbuild_ops {
    void *ctx;
    /* A writable mapping of machine frame mfn (of the new domain). */
    void *(*map)(void *ctx, uint64_t mfn);
    void (*unmap)(void *ctx, void *p);
};

struct pvbuild_image {
    uint64_t virt_base, paddr_offset, entry, hypercall_page;
    uint64_t kstart, kend;              /* virtual extent of the segments */
    bool has_hypercall_page;
    char guest_os[32], loader[32], xen_version[16], features[128];
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
    uint32_t console_evtchn, store_evtchn;
};

struct pvbuild_result {
    struct pvbuild_image img;
    uint64_t entry, stack_top, start_info_va;
    uint64_t l4_mfn, nr_pt_frames;
    uint64_t console_pfn, store_pfn;
    uint64_t v_end;
};

/* Check the ELF and read its Xen notes. 0, or -EINVAL with err set to a
 * sentence naming what is wrong. */
int pvbuild_parse(const uint8_t *elf, size_t len, struct pvbuild_image *img,
                  char *err, size_t errlen);
/* Build the domain's start-of-day memory. 0, or -EINVAL/-ENOMEM with err. */
int pvbuild_build(const struct pvbuild_params *p, const struct pvbuild_ops *ops,
                  struct pvbuild_result *out, char *err, size_t errlen);

#endif
