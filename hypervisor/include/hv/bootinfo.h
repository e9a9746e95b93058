/* What the boot loader told us (common/multiboot.c), copied out of the
 * multiboot2 information structure so that it can be dropped afterwards. */
#ifndef HV_BOOTINFO_H
#define HV_BOOTINFO_H

#include "hv/types.h"

#define MAX_MMAP_ENTRIES 128
#define MAX_MODULES      32
#define MAX_CMDLINE      1024
#define MAX_MOD_CMDLINE  256

/* E820 memory types as multiboot2 reports them. */
enum mem_type { MEM_RAM = 1, MEM_RESERVED = 2, MEM_ACPI = 3, MEM_NVS = 4, MEM_BAD = 5 };

struct mem_range {
    paddr_t start;
    uint64_t len;
    uint32_t type;
};

struct boot_module {
    paddr_t start, end;                 /* [start, end) */
    char cmdline[MAX_MOD_CMDLINE];
};

struct boot_info {
    char cmdline[MAX_CMDLINE];
    char loader[64];
    struct mem_range mmap[MAX_MMAP_ENTRIES];
    unsigned int nr_mmap;
    struct boot_module modules[MAX_MODULES];
    unsigned int nr_modules;
    paddr_t rsdp;                       /* copy of the RSDP kept in boot_info */
    uint8_t rsdp_copy[36];
    bool have_rsdp;
    paddr_t mbi_start, mbi_end;
};

extern struct boot_info boot_info;

/* Parse the multiboot2 structure at physical address mbi (reached through
 * the direct map). Returns false, with a message printed, if the loader was
 * not multiboot2 or the structure is malformed. */
bool multiboot_parse(uint32_t magic, paddr_t mbi);

/* The boot command line, "key=value" words. cmdline_get returns the value
 * of the last occurrence of key (the empty string for a bare word), or NULL. */
const char *cmdline_get(const char *key);
bool cmdline_has(const char *key);
/* Does the comma-separated list option `key` contain `item`? */
bool cmdline_list_has(const char *key, const char *item);

#endif
