/*
 * fuzz_rpc.c - libFuzzer target: arbitrary bytes as what a client writes on
 * its pvd connection. They go through the framing (daemon/rpc_framing.c,
 * in reads of a size the first byte picks, with a frame limit it also
 * picks) and each frame through the protocol layer and the method
 * dispatch (daemon/rpc.c and every method handler) of a pvd with a real
 * sqlite store in a temporary directory and no machine, as an admin (so
 * that define, undefine, autostart ... run).
 *
 * Checked beside the sanitizers: every response is one strict JSON value
 * (daemon/json_strict.c: valid UTF-8, no duplicate keys ...) and an object
 * with "jsonrpc" "2.0" or a batch array; a numeric id comes back exactly
 * as written; a frame the framing hands out never passes its limit.
 */
#include <event2/buffer.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "domain_cache.h"
#include "json_strict.h"
#include "log.h"
#include "pvd.h"
#include "rpc.h"
#include "rpc_framing.h"
#include "store.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pvd pvd;
static char dir[64], pool[80];

static void remove_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz_rpc: could not remove %s\n", dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[512], db[128];

	log_init(-1);
	/* in memory when the host has a tmpfs: the store's syncs cost nothing */
	snprintf(dir, sizeof(dir), "/dev/shm/pvcore-fuzz-rpc.XXXXXX");
	if (!mkdtemp(dir)) {
		snprintf(dir, sizeof(dir), "/tmp/pvcore-fuzz-rpc.XXXXXX");
		if (!mkdtemp(dir))
			abort();
	}
	atexit(remove_dir);
	snprintf(db, sizeof(db), "%s/pvd.db", dir);
	snprintf(pool, sizeof(pool), "%s/pool", dir);
	pvd.opt.state_dir = dir;
	pvd.opt.pool = pool;
	pvd.opt.max_domains = 4;
	pvd.opt.max_output = 1 << 20;
	if (store_open(&pvd.store, db, STORE_LATEST, err, sizeof(err)) != 0 ||
	    !(pvd.checker = config_checker_new(err, sizeof(err))) || !(pvd.rpc = rpc_new(err, sizeof(err))) ||
	    !(pvd.domains = domain_cache_new())) {
		fprintf(stderr, "fuzz_rpc: setup: %s\n", err);
		abort();
	}
	store_set_event_limits(pvd.store, 200, 0);
	return 0;
}

/* The raw text of frame's numeric id as its response echoed it: equal
 * to the request's (JSON-RPC: ids echoed exactly, large and fractional
 * numbers too). Single requests only; ids too long to keep are skipped. */
static void check_id_echo(const char *frame, size_t len, const char *out)
{
	static struct json_strict_ids in, back;
	char why[160];
	size_t at;
	json_object *req = json_strict_parse_ids(frame, len, 64, why, sizeof(why), &at, &in);
	json_object *resp = json_strict_parse_ids(out, strlen(out), 64, why, sizeof(why), &at, &back);

	if (req && resp && json_object_is_type(req, json_type_object) && in.n && in.v[0].len &&
	    in.v[0].len < 500 && back.n && back.v[0].len &&
	    (in.v[0].len != back.v[0].len || memcmp(frame + in.v[0].off, out + back.v[0].off, in.v[0].len))) {
		fprintf(stderr, "fuzz_rpc: id %.*s came back as %.*s\n", (int)in.v[0].len, frame + in.v[0].off,
			(int)back.v[0].len, out + back.v[0].off);
		abort();
	}
	json_object_put(req);
	json_object_put(resp);
}

/* A response must be one strict JSON value of the right shape. */
static void check_response(const char *out)
{
	char why[160];
	size_t at;
	json_object *o = json_strict_parse(out, strlen(out), 64, why, sizeof(why), &at);
	json_object *v;

	if (!o) {
		fprintf(stderr, "fuzz_rpc: response is not strict JSON (%s at byte %zu): %.300s\n", why, at, out);
		abort();
	}
	if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++)
			if (!json_object_is_type(json_object_array_get_idx(o, i), json_type_object))
				abort();
	} else if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, "jsonrpc", &v) ||
		   strcmp(json_object_get_string(v), "2.0")) {
		fprintf(stderr, "fuzz_rpc: response is not a JSON-RPC 2.0 object: %.300s\n", out);
		abort();
	}
	json_object_put(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct evbuffer *in;
	struct frame_reader fr;
	size_t chunk, at = 1;

	if (size < 1)
		return 0;
	chunk = 1 + (data[0] & 0x0f) * 37u;			/* read sizes 1 .. 556 */
	frame_reader_init(&fr, (size_t)64 << (data[0] >> 4 & 7));	/* limits 64 .. 8192 */
	in = evbuffer_new();
	if (!in)
		abort();
	while (at < size) {
		size_t n = size - at < chunk ? size - at : chunk;
		enum frame_status st;
		char *frame;
		size_t len;

		evbuffer_add(in, data + at, n);
		at += n;
		while ((st = frame_next(&fr, in, &frame, &len)) != FRAME_NEED_MORE) {
			char *out;

			if (st == FRAME_OVERSIZE)
				continue;
			if (len > fr.limit || memchr(frame, '\n', len))
				abort();	/* a frame within its limit, without a newline */
			out = rpc_handle_frame(pvd.rpc, &pvd, NULL, "fuzz", frame, len);
			if (out) {
				check_response(out);
				check_id_echo(frame, len, out);
				free(out);
			}
			free(frame);
		}
		if (evbuffer_get_length(in) > fr.limit + 1)
			abort();	/* the framing never buffers past its limit */
	}
	evbuffer_free(in);
	return 0;
}
