/*
 * xenbus_dev.c - the frontends' side of a device handshake (blkfront.c,
 * netfront.c): keys of a device directory read and written, a backend's
 * XenbusState read and awaited (see xenbus.h, "device directories").
 * Owns nothing: every call goes through xenbus.c.
 */
#include "evtime.h"
#include "xenbus.h"

long xenbus_read_key(const char *dir, const char *key, char *v, uint32_t size)
{
    char path[160];

    snprintf(path, sizeof(path), "%s/%s", dir, key);
    return xenbus_read(0, path, v, size);
}

long xenbus_printf(const char *dir, const char *key, const char *fmt, ...)
{
    char path[160], v[64];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(v, sizeof(v), fmt, ap);
    va_end(ap);
    snprintf(path, sizeof(path), "%s/%s", dir, key);
    return xenbus_write(0, path, v);
}

uint64_t xenbus_parse_u64(const char *s)
{
    uint64_t v = 0;

    while (*s >= '0' && *s <= '9')
        v = v * 10 + (uint64_t)(*s++ - '0');
    return v;
}

long xenbus_state_of(const char *dir)
{
    char v[16];

    return xenbus_read_key(dir, "state", v, sizeof(v)) ? -1 : (long)xenbus_parse_u64(v);
}

long xenbus_wait_state(const char *dir, long state, uint64_t timeout_ns)
{
    uint64_t end = system_time() + timeout_ns;

    while (xenbus_state_of(dir) != state)
        if (system_time() > end)
            return -XB_ETIMEDOUT;
        else
            sleep_until(system_time() + 10 * NSEC_PER_MSEC);
    return 0;
}
