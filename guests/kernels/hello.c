/*
 * The demo guest (examples/hello.json): prints "Hello from pvcore (domain
 * NAME)" on its PV console, then "hello: N s" once a second until it is shut
 * down or destroyed.
 *
 * NAME is the command line's `name=` value (examples/hello.json passes the
 * domain's name): a PV guest has no hypercall that tells it its own domid
 * (Linux reads it from xenstore, which pvcore does not have yet), so the
 * domid is what `pvctl list` shows next to the name. `period_ms=` changes
 * the interval (default 1000).
 */
#include "evtime.h"
#include "pvconsole.h"

const char test_name[] = "hello";

void test_main(void)
{
    char name[64];
    uint64_t period = cmdline_u64("period_ms", 1000) * NSEC_PER_MSEC;

    if (!cmdline_str("name", name, sizeof(name)))
        snprintf(name, sizeof(name), "unnamed");
    pvconsole_init();
    pvconsole_printf("Hello from pvcore (domain %s)\n", name);
    uint64_t next = system_time();
    for (uint64_t n = 1;; n++) {
        next += period;
        sleep_until(next);
        pvconsole_printf("hello: %lu s\n", (unsigned long)n);
    }
}
