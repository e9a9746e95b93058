/*
 * test_xs_wire.c - the xenstore wire syntax (dom0/xs_wire.c): headers
 * beyond the payload limit, payload splitting (unterminated strings,
 * empty payloads, too many strings), paths (relative, special, invalid
 * characters, lengths) and the error names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "xs_wire.h"

static void test_header_limit(void **state)
{
    struct xsd_sockmsg h = { XS_READ, 1, 0, XENSTORE_PAYLOAD_MAX };

    (void)state;
    assert_int_equal(xs_header_check(&h), 0);
    h.len = XENSTORE_PAYLOAD_MAX + 1;
    assert_int_equal(xs_header_check(&h), -E2BIG);
    h.len = UINT32_MAX;
    assert_int_equal(xs_header_check(&h), -E2BIG);
}

static void test_split_strings(void **state)
{
    const char *argv[4];

    (void)state;
    assert_int_equal(xs_split_strings("a\0bc\0", 5, argv, 4), 2);
    assert_string_equal(argv[0], "a");
    assert_string_equal(argv[1], "bc");
    assert_int_equal(xs_split_strings("\0", 1, argv, 4), 1);
    assert_string_equal(argv[0], "");
    assert_int_equal(xs_split_strings("abc", 3, argv, 4), -EINVAL);        /* unterminated */
    assert_int_equal(xs_split_strings("a\0b", 3, argv, 4), -EINVAL);
    assert_int_equal(xs_split_strings("", 0, argv, 4), -EINVAL);           /* empty */
    assert_int_equal(xs_split_strings("a\0b\0c\0", 6, argv, 2), -EINVAL);  /* too many */
}

static void test_split_write(void **state)
{
    const char *path, *value;
    uint32_t vlen;

    (void)state;
    assert_int_equal(xs_split_write("p\0val", 5, &path, &value, &vlen), 0);
    assert_string_equal(path, "p");
    assert_int_equal(vlen, 3);
    assert_memory_equal(value, "val", 3);
    assert_int_equal(xs_split_write("p\0", 2, &path, &value, &vlen), 0);
    assert_int_equal(vlen, 0);
    assert_int_equal(xs_split_write("p\0a\0b", 5, &path, &value, &vlen), 0);   /* NULs in values */
    assert_int_equal(vlen, 3);
    assert_int_equal(xs_split_write("nonul", 5, &path, &value, &vlen), -EINVAL);
    assert_int_equal(xs_split_write("", 0, &path, &value, &vlen), -EINVAL);
}

static void test_paths(void **state)
{
    char out[XENSTORE_ABS_PATH_MAX + 64], big[XENSTORE_ABS_PATH_MAX + 8];

    (void)state;
    assert_int_equal(xs_path_canonical(5, "device/vif", 0, out, sizeof(out)), 0);
    assert_string_equal(out, "/local/domain/5/device/vif");
    assert_int_equal(xs_path_canonical(5, "/a/b-c_d@e", 0, out, sizeof(out)), 0);
    assert_string_equal(out, "/a/b-c_d@e");
    assert_int_equal(xs_path_canonical(5, "/", 0, out, sizeof(out)), 0);
    assert_int_equal(xs_path_canonical(5, "", 0, out, sizeof(out)), -EINVAL);
    assert_int_equal(xs_path_canonical(5, "/a//b", 0, out, sizeof(out)), -EINVAL);
    assert_int_equal(xs_path_canonical(5, "/a/", 0, out, sizeof(out)), -EINVAL);
    assert_int_equal(xs_path_canonical(5, "/a b", 0, out, sizeof(out)), -EINVAL);
    assert_int_equal(xs_path_canonical(5, "/a.b", 0, out, sizeof(out)), -EINVAL);
    assert_int_equal(xs_path_canonical(5, "a\x01", 0, out, sizeof(out)), -EINVAL);
    assert_int_equal(xs_path_canonical(5, "@releaseDomain", 0, out, sizeof(out)), -EINVAL);
    assert_int_equal(xs_path_canonical(5, "@releaseDomain", 1, out, sizeof(out)), 0);
    assert_string_equal(out, "@releaseDomain");
    assert_int_equal(xs_path_canonical(5, "@a/b", 1, out, sizeof(out)), -EINVAL);
    /* lengths: absolute at most XENSTORE_ABS_PATH_MAX, relative at most REL */
    memset(big, 'x', sizeof(big));
    big[0] = '/';
    big[XENSTORE_ABS_PATH_MAX] = '\0';
    assert_int_equal(xs_path_canonical(5, big, 0, out, sizeof(out)), 0);
    big[XENSTORE_ABS_PATH_MAX] = 'x';
    big[XENSTORE_ABS_PATH_MAX + 1] = '\0';
    assert_int_equal(xs_path_canonical(5, big, 0, out, sizeof(out)), -EINVAL);
    memset(big, 'x', sizeof(big));
    big[XENSTORE_REL_PATH_MAX + 1] = '\0';
    assert_int_equal(xs_path_canonical(5, big, 0, out, sizeof(out)), -EINVAL);
    big[XENSTORE_REL_PATH_MAX] = '\0';
    assert_int_equal(xs_path_canonical(5, big, 0, out, sizeof(out)), 0);
    /* ancestry */
    assert_true(xs_path_is_under("/a/b", "/a"));
    assert_true(xs_path_is_under("/a", "/a"));
    assert_false(xs_path_is_under("/ab", "/a"));
    assert_true(xs_path_is_under("/x", "/"));
}

static void test_numbers_and_errors(void **state)
{
    uint32_t d;
    uint64_t v;

    (void)state;
    assert_int_equal(xs_parse_domid("0", &d), 0);
    assert_int_equal(xs_parse_domid("32751", &d), 0);
    assert_int_equal(xs_parse_domid("32752", &d), -EINVAL);
    assert_int_equal(xs_parse_domid("", &d), -EINVAL);
    assert_int_equal(xs_parse_domid("1x", &d), -EINVAL);
    assert_int_equal(xs_parse_domid("-1", &d), -EINVAL);
    assert_int_equal(xs_parse_u64("18446744073709551615", &v), 0);
    assert_int_equal(xs_parse_u64("18446744073709551616", &v), -EINVAL);
    assert_string_equal(xs_error_name(EAGAIN), "EAGAIN");
    assert_string_equal(xs_error_name(EACCES), "EACCES");
    assert_string_equal(xs_error_name(E2BIG), "E2BIG");
    assert_string_equal(xs_error_name(ETIMEDOUT), "EINVAL");   /* no Xen name */
    assert_int_equal(xs_error_from_name("ENOSPC"), ENOSPC);
    assert_int_equal(xs_error_from_name("nope"), -1);
    assert_string_equal(xs_type_name(XS_DIRECTORY_PART), "DIRECTORY_PART");
    assert_string_equal(xs_type_name(20), "UNKNOWN");
    assert_string_equal(xs_type_name(12345), "UNKNOWN");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_limit),
        cmocka_unit_test(test_split_strings),
        cmocka_unit_test(test_split_write),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_numbers_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
