/*
 * Which hypervisor runs the test kernel: pvcore names itself in
 * XENVER_extraversion; anything else is taken for Xen. For the few checks
 * whose expected result differs by hypervisor.
 */
#include "lib.h"

bool running_on_pvcore(void)
{
    xen_extraversion_t extra;

    memset(extra, 0, sizeof(extra));
    if (hypercall_xen_version(XENVER_extraversion, extra))
        return false;
    extra[sizeof(extra) - 1] = 0;
    return strstr(extra, "pvcore") != NULL;
}
