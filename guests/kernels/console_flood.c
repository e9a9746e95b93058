/*
 * Test kernel: a chatty guest (issue 13, "console logs capped and
 * rotated"). Writes `bytes=` bytes (default 400000) to its PV console ring
 * as numbered 64-byte lines, "flood NNNNNNN ..." (as fast as Domain 0's
 * console backend takes them: the ring is never overwritten), then the
 * line "flood: done N bytes" and powers off. pvd's console log for it
 * passes any small --console-log-max many times over
 * (tests/daemon/test_console_log.py).
 */
#include "evtime.h"
#include "pvconsole.h"

const char test_name[] = "console_flood";

void test_main(void)
{
    uint64_t bytes = cmdline_u64("bytes", 400000), n = 0;
    char line[65];

    pvconsole_init();
    for (uint64_t i = 0; n < bytes; i++) {
        int len = snprintf(line, sizeof(line), "flood %07lu ", (unsigned long)i);

        for (; len < 63; len++)
            line[len] = (char)('a' + (i + (uint64_t)len) % 26);
        line[63] = '\n';
        pvconsole_write(line, 64);
        n += 64;
    }
    pvconsole_printf("flood: done %lu bytes\n", (unsigned long)n);
}
