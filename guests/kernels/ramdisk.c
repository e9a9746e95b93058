/*
 * Test kernel: the ramdisk and command line a boot-loader domain gets
 * (module2 ... ramdisk-for=NAME; docs/builder.md for the layout).
 * The command line says what to expect: rd_len=N (the file's size),
 * rd_sum=S (the sum of its bytes, mod 2^32), rd_magic=WORD (its first
 * bytes). start_info.mod_start/mod_len must name the ramdisk (a virtual
 * address inside the initial mapping, as this kernel has no
 * MOD_START_PFN note; whole pages, zero after the file), and the command
 * line must arrive whole.
 */
#include "evtime.h"

const char test_name[] = "ramdisk";

void test_main(void)
{
    uint64_t len = cmdline_u64("rd_len", 0), sum = cmdline_u64("rd_sum", 0);
    char magic[32];

    if (!test_ok(cmdline_str("rd_magic", magic, sizeof(magic)), "rd_magic= on the command line"))
        return;
    printk("ramdisk: cmd_line \"%s\"\n", (const char *)start_info->cmd_line);
    printk("ramdisk: mod_start %#lx mod_len %lu flags %#x\n",
           (unsigned long)start_info->mod_start, (unsigned long)start_info->mod_len,
           start_info->flags);
    test_ok(len > 0, "rd_len= on the command line");
    test_eq(start_info->flags & SIF_MOD_START_PFN, 0, "the ramdisk is mapped (no MOD_START_PFN)");
    test_eq(start_info->mod_len, (len + 4095) & ~4095ull, "mod_len is the ramdisk's whole pages");
    test_ok(start_info->mod_start >= 0xffffffff80000000ull &&
            start_info->mod_start % 4096 == 0, "mod_start is a page-aligned kernel address");
    if (test_failures())
        return;
    const uint8_t *rd = (const uint8_t *)start_info->mod_start;
    uint32_t s = 0;
    for (uint64_t i = 0; i < len; i++)
        s += rd[i];
    test_eq(s, (uint32_t)sum, "the sum of the ramdisk's %lu bytes", (unsigned long)len);
    test_ok(!memcmp(rd, magic, strlen(magic)), "the ramdisk starts with \"%s\"", magic);
    uint64_t nonzero = 0;
    for (uint64_t i = len; i < start_info->mod_len; i++)
        nonzero += rd[i] != 0;
    test_eq(nonzero, 0, "zeros after the ramdisk to its page end");
    test_ok(start_info->mfn_list >= start_info->mod_start + start_info->mod_len,
            "the p2m list follows the ramdisk");
}
