/*
 * test_schema.c - the one validator (schema.c) driven by the real schema
 * documents: normalization, units, ranges, cross-field rules, unknown keys,
 * JSON pointers and XPaths in messages, and the XML path through libxml2.
 */
#include "unit.h"

#include "config.h"
#include "schema.h"

static struct config_checker *checker;

static int setup(void **state)
{
	char err[256];

	(void)state;
	checker = config_checker_new(err, sizeof(err));
	return checker ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	config_checker_free(checker);
	return 0;
}

static json_object *check(const char *text, enum config_format fmt, struct schema_report *rep)
{
	return config_check_text(checker, text, strlen(text), fmt, rep);
}

/* The config must be rejected with an issue at path whose message contains what. */
static void expect_issue(const char *text, enum config_format fmt, const char *path, const char *what)
{
	struct schema_report rep;
	json_object *n = check(text, fmt, &rep);
	int found = 0;

	if (n)
		fail_msg("expected %s: %s to be rejected, it was accepted", path, what);
	for (int i = 0; i < rep.count && i < SCHEMA_MAX_ISSUES; i++)
		if (!strcmp(rep.issue[i].path, path) && strstr(rep.issue[i].message, what))
			found = 1;
	if (!found)
		fail_msg("expected issue at %s containing \"%s\", got %s: %s", path, what, rep.issue[0].path,
			 rep.issue[0].message);
}

static long long get(json_object *o, const char *pointer)
{
	json_object *v;

	assert_int_equal(json_pointer_get(o, pointer, &v), 0);
	return json_object_get_int64(v);
}

static void normalizes_units_and_defaults(void **state)
{
	struct schema_report rep;
	json_object *n;

	(void)state;
	n = check("{\"name\":\"a\",\"kernel\":\"k\",\"memory\":\"1G\",\"disks\":[{\"name\":\"d\",\"size\":\"2g\"}],"
		  "\"vifs\":[{\"rate\":\"10M\"}]}", CONFIG_JSON, &rep);
	assert_non_null(n);
	assert_int_equal(get(n, "/memory"), 1024);
	assert_int_equal(get(n, "/maxmem"), 1024);	/* x-default-of /memory */
	assert_int_equal(get(n, "/vcpus"), 1);
	assert_int_equal(get(n, "/cpu/weight"), 256);
	assert_int_equal(get(n, "/cpu/cap"), 0);
	assert_int_equal(get(n, "/disks/0/size"), 2048);
	assert_int_equal(get(n, "/vifs/0/rate"), 10 << 20);
	assert_int_equal(get(n, "/vifs/0/weight"), 256);
	json_object_put(n);
}

static void json_errors_name_pointers(void **state)
{
	(void)state;
	expect_issue("{\"name\":\"a\",\"kernel\":\"k\",\"memory\":64,\"cpu\":{\"weight\":0}}", CONFIG_JSON,
		     "/cpu/weight", "below the minimum of 1");
	expect_issue("{\"name\":\"a\",\"kernel\":\"k\",\"memory\":64,\"cpu\":{\"wieght\":5}}", CONFIG_JSON,
		     "/cpu/wieght", "unknown key");
	expect_issue("{\"name\":\"a\",\"kernel\":\"k\"}", CONFIG_JSON, "/memory", "required key is missing");
	expect_issue("{\"name\":\"a\",\"kernel\":\"k\",\"memory\":\"1536K\"}", CONFIG_JSON, "/memory",
		     "whole number of MiB");
	expect_issue("{\"name\":\"a\",\"kernel\":\"k\",\"memory\":\"64X\"}", CONFIG_JSON, "/memory", "not a size");
	expect_issue("{\"name\":\"a\",\"kernel\":\"k\",\"memory\":64,\"vcpus\":2,\"cpu\":{\"cap\":250}}",
		     CONFIG_JSON, "/cpu/cap", "100 x /vcpus (2) = 200");
	expect_issue("{\"name\":\"a\",\"kernel\":\"k\",\"memory\":64,\"maxmem\":32}", CONFIG_JSON, "/maxmem",
		     "less than /memory");
	expect_issue("{\"name\":\"a\",\"kernel\":\"k\",\"memory\":64,\"disks\":[{\"name\":\"x\",\"size\":1},"
		     "{\"name\":\"x\",\"size\":2}]}", CONFIG_JSON, "/disks/1/name", "duplicate name");
	expect_issue("{\"name\":\"a\",\"kernel\":\"k\",\"memory\":64,\"on_crash\":\"explode\"}", CONFIG_JSON,
		     "/on_crash", "not one of");
	expect_issue("{\"name\":\"a\",\"kernel\":\"k\",\"memory\":true}", CONFIG_JSON, "/memory",
		     "expected integer or string, got boolean");
	expect_issue("{\"name\":\"a\",", CONFIG_JSON, "/", "unexpected end of data");
	expect_issue("{\"name\":\"a\"} x", CONFIG_JSON, "/", "text after");
	expect_issue("[1]", CONFIG_JSON, "/", "expected object");
}

static void xml_errors_name_xpaths(void **state)
{
	(void)state;
	expect_issue("<domain><name>a</name><kernel>k</kernel><memory>64</memory><cpu><weight>70000</weight></cpu>"
		     "</domain>", CONFIG_XML, "/domain/cpu/weight", "above the maximum of 65535");
	expect_issue("<domain><name>a</name><kernel>k</kernel><memory>64</memory><disks><disk><name>x</name>"
		     "<size>1</size></disk><disk><name>y</name><size>0</size></disk></disks></domain>", CONFIG_XML,
		     "/domain/disks/disk[2]/size", "below the minimum");
	expect_issue("<domain><name>a</name><kernel>k</kernel><memory>64</memory><memory>2</memory></domain>",
		     CONFIG_XML, "/domain/memory[2]", "more than once");
	expect_issue("<domain><name>a</name><kernel>k</kernel><memory>64</memory><colour>red</colour></domain>",
		     CONFIG_XML, "/domain/colour", "unknown element");
	expect_issue("<!DOCTYPE domain [<!ENTITY x \"y\">]><domain><name>&x;</name></domain>", CONFIG_XML, "/",
		     "DOCTYPE");
	expect_issue("<domain><name>a</name>", CONFIG_XML, "/", "not well-formed");
	expect_issue("<vm/>", CONFIG_XML, "/", "root element must be <domain>");
}

static void xml_equals_json(void **state)
{
	struct schema_report rep;
	json_object *a, *b;

	(void)state;
	a = check("{\"name\":\"a\",\"kernel\":\"k\",\"memory\":\"64M\",\"autostart\":true,"
		  "\"vifs\":[{\"mac\":\"00:16:3e:00:00:01\"}]}", CONFIG_JSON, &rep);
	b = check("<domain><name>a</name><kernel>k</kernel><memory>64M</memory><autostart>true</autostart>"
		  "<vifs><vif><mac>00:16:3e:00:00:01</mac></vif></vifs></domain>", CONFIG_XML, &rep);
	assert_non_null(a);
	assert_non_null(b);
	assert_true(json_object_equal(a, b));
	json_object_put(a);
	json_object_put(b);
}

static void unsupported_keywords_are_refused(void **state)
{
	const char *doc = "{\"type\":\"object\",\"properties\":{\"a\":{\"oneOf\":[]}}}";
	char err[256];
	struct schema *s = schema_load(doc, strlen(doc), err, sizeof(err));

	(void)state;
	assert_non_null(s);
	assert_int_equal(schema_compile(s, schema_document(s), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "oneOf"));
	schema_free(s);
}

static void size_parser(void **state)
{
	long long v;
	char why[200];

	(void)state;
	assert_int_equal(schema_parse_size("4K", 0, &v, why, sizeof(why)), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(schema_parse_size(" 2T ", 1, &v, why, sizeof(why)), 0);
	assert_int_equal(v, 2LL << 20);
	assert_int_equal(schema_parse_size("", 1, &v, why, sizeof(why)), -1);
	assert_int_equal(schema_parse_size("99999999999999999999M", 1, &v, why, sizeof(why)), -1);
	assert_int_equal(schema_parse_size("10000000T", 0, &v, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "too large"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(normalizes_units_and_defaults),
		cmocka_unit_test(json_errors_name_pointers),
		cmocka_unit_test(xml_errors_name_xpaths),
		cmocka_unit_test(xml_equals_json),
		cmocka_unit_test(unsupported_keywords_are_refused),
		cmocka_unit_test(size_parser),
	};
	return cmocka_run_group_tests_name("schema", tests, setup, teardown);
}
