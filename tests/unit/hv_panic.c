/* panic() for host tests of hypervisor code (hv/printk.h): print the
 * message, abort the test program. The tests link it beside their own
 * printk, which may print or drop what the code under test logs. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "hv/printk.h"

void panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}
