/*
 * Assertion helpers and the final verdict of a PV test kernel.
 *
 * Owns: counting checks and failures, remembering the first failure, and
 * printing exactly "Test result: SUCCESS" (then SHUTDOWN_poweroff) or
 * "Test result: FAILURE: <reason>" (then SHUTDOWN_crash).
 */
#include "lib.h"

static unsigned int checks, failures;
static char first_failure[200];

static void record_failure(const char *file, int line, const char *msg)
{
    printk("FAIL: %s (%s:%d)\n", msg, file, line);
    if (!failures++)
        snprintf(first_failure, sizeof(first_failure), "%s", msg);
}

bool test_check(bool ok, const char *file, int line, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    checks++;
    if (ok)
        return true;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    record_failure(file, line, msg);
    return false;
}

bool test_check_eq(int64_t actual, int64_t expected, const char *file,
                   int line, const char *fmt, ...)
{
    char what[160], msg[256];
    va_list ap;

    checks++;
    if (actual == expected)
        return true;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    snprintf(msg, sizeof(msg), "%s: expected %ld (%#lx), got %ld (%#lx)",
             what, (long)expected, (unsigned long)expected, (long)actual,
             (unsigned long)actual);
    record_failure(file, line, msg);
    return false;
}

unsigned int test_failures(void)
{
    return failures;
}

void test_abort(const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    printk("Test result: FAILURE: %s\n", msg);
    domain_shutdown(SHUTDOWN_crash);
}

void test_finish(void)
{
    printk("%s: %u checks, %u failed\n", test_name, checks, failures);
    if (failures) {
        printk("Test result: FAILURE: %s\n", first_failure);
        domain_shutdown(SHUTDOWN_crash);
    }
    if (!checks)
        test_abort("no checks ran");
    printk("Test result: SUCCESS\n");
    domain_shutdown(SHUTDOWN_poweroff);
}
