/* Multiboot2 information parsing and the boot command line.
 *
 * Owns: boot_info (filled once on the boot CPU before anything else runs)
 * and the tokenized command line. Everything is copied out of the loader's
 * structure, with every tag's size checked against the structure's bounds,
 * so the loader's memory can be reused afterwards. */
#include "asm/page.h"
#include "hv/bootinfo.h"
#include "hv/lib.h"
#include "hv/printk.h"

#define MB2_BOOTLOADER_MAGIC 0x36d76289
#define MB2_TAG_END          0
#define MB2_TAG_CMDLINE      1
#define MB2_TAG_LOADER       2
#define MB2_TAG_MODULE       3
#define MB2_TAG_MMAP         6
#define MB2_TAG_ACPI_OLD     14
#define MB2_TAG_ACPI_NEW     15

struct mb2_tag {
    uint32_t type;
    uint32_t size;
};

struct mb2_mmap_entry {
    uint64_t base;
    uint64_t len;
    uint32_t type;
    uint32_t reserved;
};

struct boot_info boot_info;

#define MAX_WORDS 64
static char cmdline_buf[MAX_CMDLINE];
static const char *word_key[MAX_WORDS];
static const char *word_val[MAX_WORDS];
static unsigned int nr_words;

static void copy_string(char *dst, size_t dstsz, const char *src, size_t srcmax)
{
    size_t n = strnlen(src, srcmax);
    if (n >= dstsz)
        n = dstsz - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void cmdline_tokenize(void)
{
    strlcpy(cmdline_buf, boot_info.cmdline, sizeof(cmdline_buf));
    char *p = cmdline_buf;
    nr_words = 0;
    while (*p && nr_words < MAX_WORDS) {
        while (*p == ' ' || *p == '\t')
            *p++ = '\0';
        if (!*p)
            break;
        bool has_value = false;
        word_key[nr_words] = p;
        word_val[nr_words] = "";
        for (; *p && *p != ' ' && *p != '\t'; p++) {
            if (*p == '=' && !has_value) {
                *p = '\0';
                word_val[nr_words] = p + 1;
                has_value = true;
            }
        }
        nr_words++;
    }
}

const char *cmdline_get(const char *key)
{
    const char *v = NULL;
    for (unsigned int i = 0; i < nr_words; i++)
        if (!strcmp(word_key[i], key))
            v = word_val[i];
    return v;
}

bool cmdline_has(const char *key)
{
    return cmdline_get(key) != NULL;
}

bool cmdline_list_has(const char *key, const char *item)
{
    const char *v = cmdline_get(key);
    size_t n = strlen(item);

    while (v && *v) {
        const char *comma = strchr(v, ',');
        size_t len = comma ? (size_t)(comma - v) : strlen(v);
        if (len == n && !strncmp(v, item, n))
            return true;
        v = comma ? comma + 1 : NULL;
    }
    return false;
}

static void parse_mmap(const struct mb2_tag *tag)
{
    const uint32_t *hdr = (const uint32_t *)(tag + 1);
    uint32_t entry_size = hdr[0];
    const uint8_t *p = (const uint8_t *)(hdr + 2);
    const uint8_t *end = (const uint8_t *)tag + tag->size;

    if (entry_size < sizeof(struct mb2_mmap_entry)) {
        pr_warn("multiboot2: memory map entry size %u too small, ignored", entry_size);
        return;
    }
    for (; p + entry_size <= end; p += entry_size) {
        const struct mb2_mmap_entry *e = (const void *)p;
        if (boot_info.nr_mmap == MAX_MMAP_ENTRIES) {
            pr_warn("multiboot2: more than %u memory ranges, rest ignored", MAX_MMAP_ENTRIES);
            return;
        }
        struct mem_range *r = &boot_info.mmap[boot_info.nr_mmap++];
        r->start = e->base;
        r->len = e->len;
        r->type = e->type;
    }
}

static void parse_module(const struct mb2_tag *tag)
{
    const uint32_t *m = (const uint32_t *)(tag + 1);

    if (tag->size < 16 + 1) {
        pr_warn("multiboot2: module tag too short, ignored");
        return;
    }
    if (boot_info.nr_modules == MAX_MODULES) {
        pr_warn("multiboot2: more than %u modules, rest ignored", MAX_MODULES);
        return;
    }
    struct boot_module *mod = &boot_info.modules[boot_info.nr_modules++];
    mod->start = m[0];
    mod->end = m[1];
    copy_string(mod->cmdline, sizeof(mod->cmdline), (const char *)(m + 2), tag->size - 16);
}

bool multiboot_parse(uint32_t magic, paddr_t mbi)
{
    if (magic != MB2_BOOTLOADER_MAGIC) {
        pr_err("boot: not started by a multiboot2 loader (magic %#x)", magic);
        return false;
    }
    const uint8_t *base = __va(mbi);
    uint32_t total = *(const uint32_t *)base;
    if (total < 16 || total > MiB(1)) {
        pr_err("boot: multiboot2 information size %u is implausible", total);
        return false;
    }
    boot_info.mbi_start = mbi;
    boot_info.mbi_end = mbi + total;

    const uint8_t *p = base + 8;
    const uint8_t *end = base + total;
    while (p + sizeof(struct mb2_tag) <= end) {
        const struct mb2_tag *tag = (const void *)p;
        if (tag->type == MB2_TAG_END)
            break;
        if (tag->size < sizeof(*tag) || p + tag->size > end) {
            pr_err("boot: multiboot2 tag %u has bad size %u", tag->type, tag->size);
            return false;
        }
        const char *payload = (const char *)(tag + 1);
        size_t plen = tag->size - sizeof(*tag);
        switch (tag->type) {
        case MB2_TAG_CMDLINE:
            copy_string(boot_info.cmdline, sizeof(boot_info.cmdline), payload, plen);
            break;
        case MB2_TAG_LOADER:
            copy_string(boot_info.loader, sizeof(boot_info.loader), payload, plen);
            break;
        case MB2_TAG_MODULE:
            parse_module(tag);
            break;
        case MB2_TAG_MMAP:
            parse_mmap(tag);
            break;
        case MB2_TAG_ACPI_OLD:
        case MB2_TAG_ACPI_NEW:
            if (!boot_info.have_rsdp || tag->type == MB2_TAG_ACPI_NEW) {
                size_t n = MIN(plen, sizeof(boot_info.rsdp_copy));
                memset(boot_info.rsdp_copy, 0, sizeof(boot_info.rsdp_copy));
                memcpy(boot_info.rsdp_copy, payload, n);
                boot_info.rsdp = __pa(payload);
                boot_info.have_rsdp = true;
            }
            break;
        default:
            break;
        }
        p += ALIGN_UP(tag->size, 8);
    }
    cmdline_tokenize();
    return true;
}
