/*
 * xs_wire.c - xenstore protocol syntax (see xs_wire.h).
 *
 * Owns nothing: pure functions. Invariant: every string handed back points
 * into the caller's payload, and is NUL-terminated within it.
 */
#include "xs_wire.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const type_names[XS_TYPE_COUNT] = {
    [XS_CONTROL] = "CONTROL",
    [XS_DIRECTORY] = "DIRECTORY",
    [XS_READ] = "READ",
    [XS_GET_PERMS] = "GET_PERMS",
    [XS_WATCH] = "WATCH",
    [XS_UNWATCH] = "UNWATCH",
    [XS_TRANSACTION_START] = "TRANSACTION_START",
    [XS_TRANSACTION_END] = "TRANSACTION_END",
    [XS_INTRODUCE] = "INTRODUCE",
    [XS_RELEASE] = "RELEASE",
    [XS_GET_DOMAIN_PATH] = "GET_DOMAIN_PATH",
    [XS_WRITE] = "WRITE",
    [XS_MKDIR] = "MKDIR",
    [XS_RM] = "RM",
    [XS_SET_PERMS] = "SET_PERMS",
    [XS_WATCH_EVENT] = "WATCH_EVENT",
    [XS_ERROR] = "ERROR",
    [XS_IS_DOMAIN_INTRODUCED] = "IS_DOMAIN_INTRODUCED",
    [XS_RESUME] = "RESUME",
    [XS_SET_TARGET] = "SET_TARGET",
    [XS_RESET_WATCHES] = "RESET_WATCHES",
    [XS_DIRECTORY_PART] = "DIRECTORY_PART",
};

struct error_name {
    int errnum;
    const char *name;
};

#define XS_ERROR_ENTRY(e) { e, #e },
static const struct error_name error_names[] = { XSD_ERROR_LIST(XS_ERROR_ENTRY) };
#undef XS_ERROR_ENTRY

const char *xs_type_name(uint32_t type)
{
    if (type < XS_TYPE_COUNT && type_names[type])
        return type_names[type];
    return "UNKNOWN";
}

const char *xs_error_name(int errnum)
{
    for (size_t i = 0; i < sizeof(error_names) / sizeof(error_names[0]); i++)
        if (error_names[i].errnum == errnum)
            return error_names[i].name;
    return "EINVAL";
}

int xs_error_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof(error_names) / sizeof(error_names[0]); i++)
        if (!strcmp(error_names[i].name, name))
            return error_names[i].errnum;
    return -1;
}

int xs_header_check(const struct xsd_sockmsg *h)
{
    return h->len > XENSTORE_PAYLOAD_MAX ? -E2BIG : 0;
}

int xs_split_strings(const char *payload, uint32_t len, const char **argv, unsigned max)
{
    unsigned n = 0;
    uint32_t start = 0;

    if (len == 0 || payload[len - 1] != '\0')
        return -EINVAL;
    for (uint32_t i = 0; i < len; i++) {
        if (payload[i] != '\0')
            continue;
        if (n == max)
            return -EINVAL;
        argv[n++] = payload + start;
        start = i + 1;
    }
    return (int)n;
}

int xs_split_write(const char *payload, uint32_t len, const char **path, const char **value,
                   uint32_t *value_len)
{
    const char *nul = len ? memchr(payload, '\0', len) : NULL;

    if (!nul)
        return -EINVAL;
    *path = payload;
    *value = nul + 1;
    *value_len = len - (uint32_t)(nul + 1 - payload);
    return 0;
}

void xs_home(uint32_t domid, char out[XS_HOME_MAX])
{
    snprintf(out, XS_HOME_MAX, "/local/domain/%u", domid);
}

static int valid_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '/' || c == '_' || c == '@';
}

int xs_path_canonical(uint32_t domid, const char *in, int allow_special, char *out, size_t outlen)
{
    size_t len = strlen(in);
    char home[XS_HOME_MAX];
    int n;

    if (in[0] == '@') {
        if (!allow_special || len > XENSTORE_REL_PATH_MAX || strchr(in, '/'))
            return -EINVAL;
        for (size_t i = 1; i < len; i++)
            if (!valid_char(in[i]))
                return -EINVAL;
        if (len + 1 > outlen)
            return -EINVAL;
        memcpy(out, in, len + 1);
        return 0;
    }
    if (in[0] != '/') {
        if (len == 0 || len > XENSTORE_REL_PATH_MAX)
            return -EINVAL;
        xs_home(domid, home);
        n = snprintf(out, outlen, "%s/%s", home, in);
    } else {
        n = snprintf(out, outlen, "%s", in);
    }
    if (n < 0 || (size_t)n >= outlen || n > XENSTORE_ABS_PATH_MAX)
        return -EINVAL;
    for (int i = 0; i < n; i++)
        if (!valid_char(out[i]) || (out[i] == '/' && out[i + 1] == '/'))
            return -EINVAL;
    if (n > 1 && out[n - 1] == '/')
        return -EINVAL;
    return 0;
}

int xs_path_is_under(const char *path, const char *ancestor)
{
    size_t n = strlen(ancestor);

    if (!strcmp(ancestor, "/"))
        return path[0] == '/';
    return !strncmp(path, ancestor, n) && (path[n] == '\0' || path[n] == '/');
}

int xs_parse_u64(const char *s, uint64_t *v)
{
    uint64_t x = 0;

    if (!*s || strlen(s) > 20)
        return -EINVAL;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || x > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return -EINVAL;
        x = x * 10 + (uint64_t)(*s - '0');
    }
    *v = x;
    return 0;
}

int xs_parse_domid(const char *s, uint32_t *domid)
{
    uint64_t v;

    if (xs_parse_u64(s, &v) < 0 || v > 0x7fef)     /* DOMID_FIRST_RESERVED */
        return -EINVAL;
    *domid = (uint32_t)v;
    return 0;
}
