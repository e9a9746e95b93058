/*
 * `key=value` lookup in start_info->cmd_line (the text after `--` on a
 * pvcore module2 line; dom0's command line on Xen). Words are separated
 * by spaces; a key matches only at the start of a word.
 */
#include "evtime.h"

const char *cmdline_str(const char *key, char *buf, size_t size)
{
    const char *cl = (const char *)start_info->cmd_line;
    size_t len = strnlen(cl, sizeof(start_info->cmd_line));
    size_t klen = strlen(key);

    for (size_t i = 0; i + klen < len; i++) {
        size_t n = 0;

        if ((i && cl[i - 1] != ' ') || strncmp(cl + i, key, klen) ||
            cl[i + klen] != '=')
            continue;
        i += klen + 1;
        while (i + n < len && cl[i + n] != ' ' && n + 1 < size) {
            buf[n] = cl[i + n];
            n++;
        }
        buf[n] = '\0';
        return buf;
    }
    return NULL;
}

uint64_t cmdline_u64(const char *key, uint64_t dflt)
{
    char buf[24];
    uint64_t v = 0;

    if (!cmdline_str(key, buf, sizeof(buf)) || !buf[0])
        return dflt;
    for (const char *p = buf; *p; p++) {
        if (*p < '0' || *p > '9')
            return dflt;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    return v;
}
