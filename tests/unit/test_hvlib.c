/* Host unit tests for the hypervisor's formatting and parsing helpers
 * (hypervisor/lib/vsnprintf.c and the parsers of lib/string.c), its
 * memset (byte head, 8-byte body, byte tail) and memmove (8 bytes at a
 * time forward, overlapping or not). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hv/lib.h"

static void check(const char *expect, const char *fmt, ...)
{
    char buf[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    assert_string_equal(buf, expect);
    assert_int_equal(n, (int)strlen(expect));
}

static void formats_numbers(void **state)
{
    check("42 -7 4294967295", "%d %i %u", 42, -7, 4294967295u);
    check("-9223372036854775808", "%ld", (int64_t)INT64_MIN);
    check("18446744073709551615", "%lu", UINT64_MAX);
    check("ff 0xff 0XFF", "%x %#x %#X", 255, 255, 255);
    check("00000abc|  abc|abc  ", "%08x|%5x|%-5x", 0xabc, 0xabc, 0xabc);
    check("-0042", "%05d", -42);
    check("17", "%o", 15);
    check("ffff82d080200000", "%lx", 0xffff82d080200000UL);
    check("0000000000001000", "%p", (void *)0x1000);
}

static void formats_strings(void **state)
{
    check("[abc] [  abc] [abc  ] [ab]", "[%s] [%5s] [%-5s] [%.2s]", "abc", "abc", "abc", "abc");
    check("(null)", "%s", (char *)NULL);
    check("x%y", "%c%%%c", 'x', 'y');
    check("[    7]", "[%*d]", 5, 7);
}

static void truncates_and_counts(void **state)
{
    char buf[8];
    int n = snprintf(buf, sizeof(buf), "%s", "0123456789");
    assert_int_equal(n, 10);
    assert_string_equal(buf, "0123456");
    assert_int_equal(snprintf(NULL, 0, "%d", 12345), 5);
}

static void parses_numbers_and_sizes(void **state)
{
    uint64_t v;
    const char *end;
    assert_true(parse_u64("1234x", &end, &v));
    assert_int_equal(v, 1234);
    assert_int_equal(*end, 'x');
    assert_true(parse_u64("0xf4", &end, &v));
    assert_int_equal(v, 0xf4);
    assert_false(parse_u64("x", &end, &v));
    assert_false(parse_u64("0x", &end, &v));
    assert_false(parse_u64("18446744073709551616", &end, &v));   /* overflow */

    assert_true(parse_size("32M", &v));
    assert_int_equal(v, 32ULL << 20);
    assert_true(parse_size("1g", &v));
    assert_int_equal(v, 1ULL << 30);
    assert_true(parse_size("4096", &v));
    assert_int_equal(v, 4096);
    assert_false(parse_size("12Q", &v));
    assert_false(parse_size("12MB", &v));
    assert_false(parse_size("", &v));
    assert_false(parse_size("99999999999999999G", &v));
}

/* Every length 0-200 at every alignment 0-15, with a fill byte whose
 * high bit is set: exactly [p, p + n) takes the byte, the guards around
 * keep theirs, and memset returns its destination. */
static void memset_fills_exactly(void **state)
{
    (void)state;
    static unsigned char buf[256 + 32];

    for (size_t align = 0; align < 16; align++)
        for (size_t n = 0; n <= 200; n++) {
            for (size_t i = 0; i < sizeof(buf); i++)
                buf[i] = (unsigned char)(i * 7 + 1);
            unsigned char *p = buf + 16 + align;
            assert_ptr_equal(memset(p, 0x1a5, n), p);
            for (size_t i = 0; i < sizeof(buf); i++) {
                unsigned char want = buf + i >= p && buf + i < p + n ? 0xa5 : (unsigned char)(i * 7 + 1);
                if (buf[i] != want)
                    fail_msg("memset(buf+%zu, 0xa5, %zu): byte %zu is %#x, expected %#x",
                             16 + align, n, i, buf[i], want);
            }
        }
}

/* Every length 0-100 between every source and destination offset 0-40
 * of one buffer (overlapping either way, or not at all): the result is
 * what a byte-wise copy through a temporary gives, nothing else moves. */
static void memmove_copies_any_overlap(void **state)
{
    (void)state;
    static unsigned char buf[160], want[160], tmp[160];

    for (size_t so = 0; so <= 40; so++)
        for (size_t d_o = 0; d_o <= 40; d_o++)
            for (size_t n = 0; n <= 100; n++) {
                for (size_t i = 0; i < sizeof(buf); i++)
                    buf[i] = want[i] = (unsigned char)(i * 13 + 5);
                for (size_t i = 0; i < n; i++)
                    tmp[i] = want[so + i];
                for (size_t i = 0; i < n; i++)
                    want[d_o + i] = tmp[i];
                assert_ptr_equal(memmove(buf + d_o, buf + so, n), buf + d_o);
                if (memcmp(buf, want, sizeof(buf)))
                    fail_msg("memmove(buf+%zu, buf+%zu, %zu) differs", d_o, so, n);
            }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(formats_numbers),
        cmocka_unit_test(formats_strings),
        cmocka_unit_test(truncates_and_counts),
        cmocka_unit_test(parses_numbers_and_sizes),
        cmocka_unit_test(memset_fills_exactly),
        cmocka_unit_test(memmove_copies_any_overlap),
    };
    return cmocka_run_group_tests_name("hvlib", tests, NULL, NULL);
}
