/*
 * String helpers the PV test kernels need beyond the shared freestanding
 * library (hypervisor/lib/string.c and vsnprintf.c, which the guest
 * library links too: see guests/build.mk).
 */
#include "lib.h"

const char *strstr(const char *hay, const char *needle)
{
    size_t n = strlen(needle);

    for (; *hay; hay++)
        if (!strncmp(hay, needle, n))
            return hay;
    return n ? NULL : hay;
}
