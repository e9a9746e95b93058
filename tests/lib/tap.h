/* TAP result lines for the C test programs (tests/run-tests.sh reads them):
 * "ok - what", or "not ok - what: why" with the failure counted. */
#ifndef PVCORE_TESTS_TAP_H
#define PVCORE_TESTS_TAP_H

#include <stdarg.h>
#include <stdio.h>

__attribute__((format(printf, 4, 5)))
static inline void tap_report(int ok, const char *what, unsigned int *failures,
                              const char *fmt, ...)
{
    if (ok) {
        printf("ok - %s\n", what);
    } else {
        va_list ap;

        printf("not ok - %s: ", what);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
        (*failures)++;
    }
    fflush(stdout);
}

#endif
