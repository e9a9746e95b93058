/* Freestanding C library subset used by the hypervisor (lib/). */
#ifndef HV_LIB_H
#define HV_LIB_H

#include <stdarg.h>
#include "hv/types.h"

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
size_t strcspn(const char *s, const char *reject);
size_t strlcpy(char *dst, const char *src, size_t size);

/* Parse an unsigned number (decimal, or hex with 0x) at s; *end is set past
 * the digits. Returns false when there are no digits or on overflow. */
bool parse_u64(const char *s, const char **end, uint64_t *out);
/* Parse a size with an optional K/M/G suffix (bytes without one). */
bool parse_size(const char *s, uint64_t *out);

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

#endif
