/*
 * dom0_error.h - the error convention of the dom0/ library.
 *
 * Every fallible function returns 0 (or a count) on success and a negative
 * errno value on failure, and fills the caller's buffer err[errlen] with one
 * line naming the thing and the cause ("qemu-system-x86_64 not found in
 * PATH"). err may be NULL when the caller only wants the code.
 */
#ifndef DOM0_ERROR_H
#define DOM0_ERROR_H

#include <stddef.h>

/* Format the message into err and return -errnum (errnum > 0). */
int dom0_fail(char *err, size_t errlen, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* snprintf for messages, where truncation is acceptable. */
void dom0_format(char *buf, size_t buflen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
