/*
 * build.h - the Domain 0 domain builder: a PV domain from a kernel file,
 * built by the same sequence as the hypervisor's boot-loader path
 * (builder/pvbuild.c, pvbuild_domain) with the control interface as its
 * host: frames are reached through machine_phys().
 *
 * Steps (an error names the step and its cause; every step after the
 * domain exists is undone by destroying it):
 *   read     the kernel (and ramdisk) files
 *   check    the ELF and its notes
 *   create   PVCTL_OP_CREATE_DOMAIN (name, handle, memory, vCPUs, weight, cap)
 *   frames   PVCTL_OP_GET_FRAMES: the p2m; every frame must be machine RAM
 *   evtchn   PVCTL_OP_EVTCHN_CONNECT, twice: the domain's own console and
 *            xenstore ports (start_info), each bound to a Domain 0 port
 *            (build_result.console_port/store_port); the hypervisor closes
 *            Domain 0's ends when the domain is destroyed
 *   load     kernel, start_info, p2m, page tables, console and xenstore pages
 *   console  PVCTL_OP_SET_CONSOLE: console/store pfns and ports
 *   pin      PVCTL_OP_PIN_TABLE: the initial L4, validated and pinned
 *   context  PVCTL_OP_SET_VCPU_CONTEXT: entry, stack, start_info, L4
 *   unpause  PVCTL_OP_UNPAUSE (unless cfg.paused)
 */
#ifndef DOM0_BUILD_H
#define DOM0_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pvbuild.h"

struct ctl;
struct build_image;

struct build_config {
    const char *name;               /* 1 .. PVCTL_NAME_LEN - 1 characters */
    uint8_t handle[16];             /* the domain's UUID */
    const char *kernel_path;
    const char *ramdisk_path;       /* NULL: none */
    const struct build_image *image;/* non-NULL: already read (build_image_read_fd),
                                       the paths are not used; stays the caller's */
    const char *cmdline;            /* NULL: empty */
    uint64_t mem_kib;               /* whole pages */
    uint64_t max_mem_kib;           /* 0: mem_kib */
    uint32_t vcpus;                 /* 0: 1 */
    uint32_t weight;                /* 0: 256 */
    uint32_t cap;                   /* % of one CPU, 0: none */
    bool paused;                    /* leave it paused after the build */
};

/* What Domain 0 keeps about a built domain. */
struct build_result {
    uint32_t domid;
    uint64_t nr_pages;
    uint64_t console_pfn, console_mfn;
    uint64_t store_pfn, store_mfn;
    uint32_t console_port, store_port;      /* Domain 0's ends of the ports */
    uint32_t guest_console_port, guest_store_port;  /* the guest's (start_info) */
    uint64_t entry, start_info_va, l4_mfn;
};

/* A kernel (and ramdisk) read into memory and checked. */
struct build_image {
    uint8_t *kernel, *ramdisk;
    size_t kernel_len, ramdisk_len;
    struct pvbuild_image elf;
};

int build_image_read(struct build_image *img, const char *kernel_path,
                     const char *ramdisk_path, char *err, size_t errlen);
/* The same from files the caller opened (ramdisk_fd -1: none); the names
 * only label errors. The fds stay the caller's. */
int build_image_read_fd(struct build_image *img, int kernel_fd, const char *kernel_name,
                        int ramdisk_fd, const char *ramdisk_name, char *err, size_t errlen);
void build_image_free(struct build_image *img);

/* Build and start a domain on the machine behind c. */
int build_domain(struct ctl *c, const struct build_config *cfg, struct build_result *res,
                 char *err, size_t errlen);

#endif
