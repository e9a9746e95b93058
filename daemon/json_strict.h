/*
 * json_strict.h - JSON exactly as RFC 8259 has it, in and out (see
 * json_strict.c): every JSON text pvd takes from a client passes
 * json_strict_parse; every text it sends passes utf8_repair.
 */
#ifndef PVD_JSON_STRICT_H
#define PVD_JSON_STRICT_H

#include <json-c/json.h>
#include <stddef.h>

/*
 * json_strict_parse: text[0..len) (with text[len] == '\0') must be one JSON value between optional
 * whitespace, nested at most max_depth deep, and nothing json-c would
 * accept beyond the RFC: no comments, trailing commas, single quotes,
 * NaN/Infinity, leading zeros or "1."; numbers finite; strings valid UTF-8
 * without control characters, \u0000 or unpaired surrogates; no member
 * name twice in one object (compared decoded). Returns the value, or NULL
 * with why and *at (the byte offset where the text went wrong).
 */
json_object *json_strict_parse(const char *text, size_t len, int max_depth, char *why, size_t whylen,
			       size_t *at);

/*
 * The raw text of each request's numeric "id" (JSON-RPC wants it echoed
 * exactly; json-c would round 1e400-ish integers and clamp big ones):
 * for a top-level object request 0, for a top-level array element i
 * (when it is an object) request i. len 0: no numeric id.
 */
#define JSON_STRICT_MAX_IDS 1024
struct json_strict_ids {
	size_t n;			/* requests seen (at most JSON_STRICT_MAX_IDS kept) */
	struct { size_t off, len; } v[JSON_STRICT_MAX_IDS];
};

/* json_strict_parse, also filling ids (cleared first). */
json_object *json_strict_parse_ids(const char *text, size_t len, int max_depth, char *why, size_t whylen,
				   size_t *at, struct json_strict_ids *ids);

/* A malloc'd copy of s (NUL-terminated) in which every byte sequence that
 * is not valid UTF-8 is replaced by U+FFFD; NULL when out of memory. */
char *utf8_repair(const char *s);

#endif
