/*
 * test_rpc.c - JSON-RPC framing (partial frames, several frames per read,
 * CRLF, blank lines, oversize frames with and without their newline) and
 * the protocol layer (batches, notifications, error codes, params checked
 * against the OpenRPC document) on a real store in a temporary directory.
 */
#include "unit.h"

#include <event2/buffer.h>

#include "../../api/pvd_api.h"
#include "config.h"
#include "domain_cache.h"
#include "pvd.h"
#include "rpc.h"
#include "rpc_framing.h"
#include "store.h"

static char dir[256];
static struct pvd pvd;

static int setup(void **state)
{
	char err[512], db[300];

	(void)state;
	make_tmpdir(dir, sizeof(dir));
	snprintf(db, sizeof(db), "%s/pvd.db", dir);
	memset(&pvd, 0, sizeof(pvd));
	pvd.opt.max_domains = 2;
	if (store_open(&pvd.store, db, STORE_LATEST, err, sizeof(err)) != 0)
		return -1;
	pvd.checker = config_checker_new(err, sizeof(err));
	pvd.rpc = rpc_new(err, sizeof(err));
	pvd.domains = domain_cache_new();
	return pvd.checker && pvd.rpc && pvd.domains ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	rpc_free(pvd.rpc);
	domain_cache_free(pvd.domains);
	config_checker_free(pvd.checker);
	store_close(pvd.store);
	rm_tmpdir(dir);
	return 0;
}

/* ---- framing ---- */

static void expect_frame(struct frame_reader *fr, struct evbuffer *b, const char *want)
{
	char *f = NULL;
	size_t len;

	assert_int_equal(frame_next(fr, b, &f, &len), FRAME_READY);
	assert_string_equal(f, want);
	assert_int_equal(len, strlen(want));
	free(f);
}

static void partial_frames(void **state)
{
	struct evbuffer *b = evbuffer_new();
	struct frame_reader fr;
	char *f;
	size_t len;

	(void)state;
	frame_reader_init(&fr, 64);
	evbuffer_add_printf(b, "{\"a\":");
	assert_int_equal(frame_next(&fr, b, &f, &len), FRAME_NEED_MORE);
	evbuffer_add_printf(b, "1}");
	assert_int_equal(frame_next(&fr, b, &f, &len), FRAME_NEED_MORE);
	evbuffer_add_printf(b, "\r\n\n  \n[2]\n[3");
	expect_frame(&fr, b, "{\"a\":1}");
	expect_frame(&fr, b, "[2]");
	assert_int_equal(frame_next(&fr, b, &f, &len), FRAME_NEED_MORE);
	evbuffer_add_printf(b, "]\n");
	expect_frame(&fr, b, "[3]");
	assert_int_equal(evbuffer_get_length(b), 0);
	evbuffer_free(b);
}

static void oversize_frames(void **state)
{
	struct evbuffer *b = evbuffer_new();
	struct frame_reader fr;
	char big[200], *f;
	size_t len;

	(void)state;
	frame_reader_init(&fr, 64);
	memset(big, 'x', sizeof(big));
	/* with its newline in the same read */
	evbuffer_add(b, big, 100);
	evbuffer_add_printf(b, "\n[1]\n");
	assert_int_equal(frame_next(&fr, b, &f, &len), FRAME_OVERSIZE);
	expect_frame(&fr, b, "[1]");
	/* without: dropped as it arrives, never buffered past the limit */
	evbuffer_add(b, big, 100);
	assert_int_equal(frame_next(&fr, b, &f, &len), FRAME_OVERSIZE);
	assert_int_equal(evbuffer_get_length(b), 0);
	evbuffer_add(b, big, 200);
	assert_int_equal(frame_next(&fr, b, &f, &len), FRAME_NEED_MORE);
	assert_int_equal(evbuffer_get_length(b), 0);
	evbuffer_add_printf(b, "xx\n[2]\n");
	expect_frame(&fr, b, "[2]");
	/* exactly at the limit is fine */
	evbuffer_add(b, big, 64);
	evbuffer_add_printf(b, "\n");
	assert_int_equal(frame_next(&fr, b, &f, &len), FRAME_READY);
	assert_int_equal(len, 64);
	free(f);
	evbuffer_free(b);
}

/* ---- protocol ---- */

static json_object *call(const char *frame)
{
	char *out = rpc_handle_frame(pvd.rpc, &pvd, NULL, "unit-test", frame, strlen(frame));
	json_object *o;

	if (!out)
		return NULL;
	o = json_tokener_parse(out);
	assert_non_null(o);
	free(out);
	return o;
}

static int error_code(json_object *resp)
{
	json_object *e, *c;

	if (!json_object_object_get_ex(resp, "error", &e) || !json_object_object_get_ex(e, "code", &c))
		return 0;
	return json_object_get_int(c);
}

static void expect_code(const char *frame, int code)
{
	json_object *r = call(frame);

	assert_non_null(r);
	if (error_code(r) != code)
		fail_msg("%s: expected error %d, got %s", frame, code, json_object_to_json_string(r));
	json_object_put(r);
}

static void protocol_errors(void **state)
{
	(void)state;
	expect_code("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":", PVD_ERR_PARSE);
	expect_code("{\"jsonrpc\":\"2.0\",\"id\":1} trailing", PVD_ERR_PARSE);
	expect_code("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
		    PVD_ERR_PARSE);
	expect_code("[]", PVD_ERR_INVALID_REQUEST);
	expect_code("42", PVD_ERR_INVALID_REQUEST);
	expect_code("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"daemon.version\"}", PVD_ERR_INVALID_REQUEST);
	expect_code("{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"daemon.version\"}", PVD_ERR_INVALID_REQUEST);
	expect_code("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7}", PVD_ERR_INVALID_REQUEST);
	expect_code("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"daemon.version\",\"params\":3}", PVD_ERR_INVALID_REQUEST);
	expect_code("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"domain.migrate\"}", PVD_ERR_METHOD_NOT_FOUND);
	expect_code("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"domain.info\",\"params\":{}}", PVD_ERR_INVALID_PARAMS);
	expect_code("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"domain.info\",\"params\":{\"domain\":\"x\",\"extra\":1}}",
		    PVD_ERR_INVALID_PARAMS);
	expect_code("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"domain.info\",\"params\":[\"a\",\"b\"]}",
		    PVD_ERR_INVALID_PARAMS);
	expect_code("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"domain.info\",\"params\":[\"nosuch\"]}",
		    PVD_ERR_NO_SUCH_DOMAIN);
}

static void batches_and_notifications(void **state)
{
	json_object *r;

	(void)state;
	/* a batch answers its requests in order and skips its notifications */
	r = call("[{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"daemon.version\"},"
		 "{\"jsonrpc\":\"2.0\",\"method\":\"daemon.version\"},"
		 "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"no.such\"}, 5]");
	assert_non_null(r);
	assert_int_equal(json_object_array_length(r), 3);
	assert_string_equal(json_object_get_string(json_object_object_get(json_object_array_get_idx(r, 0), "id")), "a");
	assert_int_equal(error_code(json_object_array_get_idx(r, 1)), PVD_ERR_METHOD_NOT_FOUND);
	assert_int_equal(error_code(json_object_array_get_idx(r, 2)), PVD_ERR_INVALID_REQUEST);
	json_object_put(r);
	/* only notifications: nothing at all is sent, even for unknown methods */
	assert_null(call("[{\"jsonrpc\":\"2.0\",\"method\":\"daemon.version\"},{\"jsonrpc\":\"2.0\",\"method\":\"x\"}]"));
	assert_null(call("{\"jsonrpc\":\"2.0\",\"method\":\"domain.info\",\"params\":{}}"));
}

static void define_through_rpc(void **state)
{
	const char *def = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"domain.define\",\"params\":{\"config\":"
			  "{\"name\":\"%s\",\"kernel\":\"k\",\"memory\":\"8M\",\"vifs\":[{}]}}}";
	char frame[400];
	json_object *r, *res;

	(void)state;
	snprintf(frame, sizeof(frame), def, "one");
	r = call(frame);
	assert_true(json_object_object_get_ex(r, "result", &res));
	assert_int_equal(json_object_get_int(json_object_object_get(res, "memory_mib")), 8);
	json_object_put(r);
	expect_code(frame, PVD_ERR_ALREADY_EXISTS);
	snprintf(frame, sizeof(frame), def, "two");
	json_object_put(call(frame));
	snprintf(frame, sizeof(frame), def, "three");
	expect_code(frame, PVD_ERR_QUOTA_EXCEEDED);	/* max_domains = 2 */
	expect_code("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"domain.define\",\"params\":{\"config\":"
		    "\"{\\\"name\\\":\\\"x\\\"}\"}}", PVD_ERR_INVALID_PARAMS);
	expect_code("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"domain.define\",\"params\":{\"replace\":true,\"config\":"
		    "{\"name\":\"zz\",\"kernel\":\"k\",\"memory\":8}}}", PVD_ERR_NO_SUCH_DOMAIN);
	r = call("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"domain.undefine\",\"params\":[\"one\"]}");
	assert_int_equal(error_code(r), 0);
	json_object_put(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(partial_frames),
		cmocka_unit_test(oversize_frames),
		cmocka_unit_test(protocol_errors),
		cmocka_unit_test(batches_and_notifications),
		cmocka_unit_test(define_through_rpc),
	};
	return cmocka_run_group_tests_name("rpc", tests, setup, teardown);
}
