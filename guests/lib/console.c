/*
 * Console output for the PV test kernels through
 * HYPERVISOR_console_io(CONSOLEIO_write): lands on Xen's serial console
 * for dom0 and on the pvcore domain console.
 */
#include "lib.h"

void console_write(const char *s, size_t n)
{
    while (n) {
        long rc = hypercall_console_io(CONSOLEIO_write, (unsigned int)n, s);

        if (rc < 0)
            return;     /* nowhere else to report it */
        if (rc == 0)    /* Xen returns 0 after writing everything */
            return;
        s += rc;
        n -= rc;
    }
}

void printk(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > (int)sizeof(buf) - 1)
        n = sizeof(buf) - 1;
    console_write(buf, n);
}
