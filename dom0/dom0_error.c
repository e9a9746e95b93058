/* dom0_error.c - formats the one-line error messages of dom0/ (see dom0_error.h). */
#include "dom0_error.h"

#include <stdarg.h>
#include <stdio.h>

int dom0_fail(char *err, size_t errlen, int errnum, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -errnum;
}

void dom0_format(char *buf, size_t buflen, const char *fmt, ...)
{
    va_list ap;

    if (!buflen)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, buflen, fmt, ap);
    va_end(ap);
}
