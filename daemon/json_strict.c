/*
 * json_strict.c - strict JSON for pvd's clients (see json_strict.h).
 *
 * json-c's tokener, even with JSON_TOKENER_STRICT, takes single quotes,
 * NaN and Infinity, raw control characters, "1.", numbers that overflow to
 * infinity and \u0000 (which cuts a C string short: "a\u0000/../x" became
 * "a"), and keeps only the last of duplicate member names. So the text is
 * first checked here by a scanner that follows RFC 8259's grammar exactly,
 * and only then handed to json-c (strict flags as a second guard).
 * Duplicate names: each object's decoded names are appended to a scratch
 * area and sorted when the object closes (O(n log n), so a frame of many
 * members cannot make the check quadratic).
 * Invariant: the scanner never reads past text + len. No state between
 * calls; no locks.
 */
#include "json_strict.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NUMBER_MAX 512		/* longest number taken (digits and all) */

struct name {
	size_t off, len;	/* in scan.names */
};

struct scan {
	const char *p, *end, *start;
	int depth, max_depth;
	int collect;		/* the string being scanned is a member name */
	char *names;		/* decoded member names of the open objects */
	size_t names_len, names_cap;
	struct name *nv;	/* one per name, in order */
	size_t nv_len, nv_cap;
	char *why;
	size_t whylen;
	struct json_strict_ids *ids;	/* NULL: not wanted */
	int top_array;			/* the text is an array (a batch) */
	size_t req;			/* the request being scanned */
};

static int fail(struct scan *s, const char *msg)
{
	snprintf(s->why, s->whylen, "%s", s->p >= s->end ? "unexpected end of data" : msg);
	return -1;
}

static void skip_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

/* Length of the valid UTF-8 sequence at p (< end), 0 if invalid. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	size_t n;
	uint32_t cp, min;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0)
		n = 2, cp = p[0] & 0x1f, min = 0x80;
	else if ((p[0] & 0xf0) == 0xe0)
		n = 3, cp = p[0] & 0x0f, min = 0x800;
	else if ((p[0] & 0xf8) == 0xf0)
		n = 4, cp = p[0] & 0x07, min = 0x10000;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static int name_put(struct scan *s, const char *b, size_t n)
{
	if (!s->collect)
		return 0;	/* a value string: checked, not kept */
	if (s->names_len + n > s->names_cap) {
		size_t cap = (s->names_cap ? s->names_cap * 2 : 256) + n;
		char *m = realloc(s->names, cap);
		if (!m)
			return fail(s, "out of memory");
		s->names = m;
		s->names_cap = cap;
	}
	memcpy(s->names + s->names_len, b, n);
	s->names_len += n;
	return 0;
}

static int hex4(const char *p, uint32_t *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	return 0;
}

/* A string at s->p (on its '"'); with collect, its decoded bytes go to
 * the names area. */
static int scan_string(struct scan *s, int collect)
{
	s->collect = collect;
	s->p++;
	for (;;) {
		unsigned char c;
		if (s->p >= s->end) {
			return fail(s, "the text ends inside a string");
		}
		c = (unsigned char)*s->p;
		if (c == '"') {
			s->p++;
			break;
		}
		if (c < 0x20) {
			return fail(s, "a control character inside a string (escape it)");
		}
		if (c == '\\') {
			const char *simple = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t", *k;
			uint32_t cp, lo;
			char u[4];
			size_t n;
			if (s->end - s->p < 2) {
					return fail(s, "the text ends inside an escape");
			}
			if (s->p[1] && (k = strchr(simple, s->p[1]))) {
				if (name_put(s, &to[k - simple], 1) != 0)
					return -1;
				s->p += 2;
				continue;
			}
			if (s->p[1] != 'u' || s->end - s->p < 6 || hex4(s->p + 2, &cp) != 0) {
					return fail(s, "an invalid escape in a string");
			}
			s->p += 6;
			if (cp == 0) {
					return fail(s, "\\u0000 inside a string");
			}
			if (cp >= 0xdc00 && cp <= 0xdfff) {
					return fail(s, "an unpaired surrogate escape in a string");
			}
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (s->end - s->p < 6 || s->p[0] != '\\' || s->p[1] != 'u' || hex4(s->p + 2, &lo) != 0 ||
				    lo < 0xdc00 || lo > 0xdfff) {
							return fail(s, "an unpaired surrogate escape in a string");
				}
				s->p += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			if (cp < 0x80)
				u[0] = (char)cp, n = 1;
			else if (cp < 0x800)
				u[0] = (char)(0xc0 | (cp >> 6)), u[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
			else if (cp < 0x10000)
				u[0] = (char)(0xe0 | (cp >> 12)), u[1] = (char)(0x80 | ((cp >> 6) & 0x3f)),
				u[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
			else
				u[0] = (char)(0xf0 | (cp >> 18)), u[1] = (char)(0x80 | ((cp >> 12) & 0x3f)),
				u[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), u[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
			if (name_put(s, u, n) != 0)
				return -1;
			continue;
		}
		{
			size_t n = utf8_len((const unsigned char *)s->p, (const unsigned char *)s->end);
			if (!n) {
					return fail(s, "a string that is not valid UTF-8");
			}
			if (name_put(s, s->p, n) != 0)
				return -1;
			s->p += n;
		}
	}
	return 0;
}

static int digits(struct scan *s)
{
	const char *b = s->p;

	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return s->p > b ? 0 : -1;
}

static int scan_number(struct scan *s)
{
	const char *b = s->p;
	char buf[NUMBER_MAX + 1];

	if (s->p < s->end && *s->p == '-')
		s->p++;
	if (s->p < s->end && *s->p == '0')
		s->p++;
	else if (digits(s) != 0)
		return fail(s, "a value expected (no NaN, Infinity or bare words)");
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (digits(s) != 0)
			return fail(s, "a digit expected after the decimal point");
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (digits(s) != 0)
			return fail(s, "a digit expected in the exponent");
	}
	if ((size_t)(s->p - b) > NUMBER_MAX)
		return fail(s, "a number of more than 512 characters");
	memcpy(buf, b, (size_t)(s->p - b));
	buf[s->p - b] = '\0';
	if (!isfinite(strtod(buf, NULL)))
		return fail(s, "a number too large for a double");
	return 0;
}

static int cmp_names(const void *a, const void *b, void *arg)
{
	const struct name *x = a, *y = b;
	const char *base = arg;
	int c = memcmp(base + x->off, base + y->off, x->len < y->len ? x->len : y->len);

	return c ? c : (x->len > y->len) - (x->len < y->len);
}

static int scan_value(struct scan *s);

static int scan_object(struct scan *s)
{
	size_t first = s->nv_len;

	/* the names buffer exists before the first name, even an empty one:
	 * its offsets are used on it (a NULL base plus 0 is undefined) */
	if (!s->names) {
		if (!(s->names = malloc(256)))
			return fail(s, "out of memory");
		s->names_cap = 256;
	}
	s->p++;
	skip_ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return 0;
	}
	for (;;) {
		struct name nm;
		const char *value;
		skip_ws(s);
		if (s->p >= s->end || *s->p != '"')
			return fail(s, "a member name in double quotes expected");
		if (s->nv_len == s->nv_cap) {
			size_t cap = s->nv_cap ? s->nv_cap * 2 : 32;
			struct name *m = realloc(s->nv, cap * sizeof(*m));
			if (!m)
				return fail(s, "out of memory");
			s->nv = m;
			s->nv_cap = cap;
		}
		nm.off = s->names_len;
		if (scan_string(s, 1) != 0)
			return -1;
		nm.len = s->names_len - nm.off;
		s->nv[s->nv_len++] = nm;
		skip_ws(s);
		if (s->p >= s->end || *s->p != ':')
			return fail(s, "':' expected after a member name");
		s->p++;
		skip_ws(s);
		value = s->p;
		if (scan_value(s) != 0)
			return -1;
		if (s->ids && s->depth == 1 + s->top_array && s->req < JSON_STRICT_MAX_IDS && nm.len == 2 &&
		    !memcmp(s->names + nm.off, "id", 2) && (*value == '-' || (*value >= '0' && *value <= '9'))) {
			s->ids->v[s->req].off = (size_t)(value - s->start);
			s->ids->v[s->req].len = (size_t)(s->p - value);
		}
		skip_ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == '}')
			break;
		return fail(s, "',' or '}' expected in an object");
	}
	qsort_r(s->nv + first, s->nv_len - first, sizeof(*s->nv), cmp_names, s->names);
	for (size_t i = first + 1; i < s->nv_len; i++)
		if (!cmp_names(&s->nv[i - 1], &s->nv[i], s->names)) {
			snprintf(s->why, s->whylen, "member \"%.*s\" appears twice in one object",
				 (int)(s->nv[i].len > 64 ? 64 : s->nv[i].len), s->names + s->nv[i].off);
			return -1;
		}
	for (size_t i = first; i < s->nv_len; i++)	/* drop this object's names: they start at */
		if (s->nv[i].off < s->names_len)	/* the smallest offset (nested ones are gone) */
			s->names_len = s->nv[i].off;
	s->nv_len = first;
	s->p++;
	return 0;
}

static int scan_array(struct scan *s)
{
	s->p++;
	skip_ws(s);
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		return 0;
	}
	for (size_t i = 0;; i++) {
		if (s->depth == 1) {	/* a batch: element i is request i */
			s->req = i;
			if (s->ids)
				s->ids->n = i + 1;
		}
		if (scan_value(s) != 0)
			return -1;
		skip_ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == ']') {
			s->p++;
			return 0;
		}
		return fail(s, "',' or ']' expected in an array");
	}
}

static int literal(struct scan *s, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n))
		return fail(s, "a value expected (no NaN, Infinity or bare words)");
	s->p += n;
	return 0;
}

static int scan_value(struct scan *s)
{
	int rc;

	skip_ws(s);
	if (s->p >= s->end)
		return fail(s, "the text ends where a value should be");
	switch (*s->p) {
	case '{':
	case '[':
		if (++s->depth > s->max_depth)
			return fail(s, "nested too deeply");
		rc = *s->p == '{' ? scan_object(s) : scan_array(s);
		s->depth--;
		return rc;
	case '"':
		return scan_string(s, 0);
	case 't':
		return literal(s, "true");
	case 'f':
		return literal(s, "false");
	case 'n':
		return literal(s, "null");
	default:
		return scan_number(s);
	}
}

json_object *json_strict_parse(const char *text, size_t len, int max_depth, char *why, size_t whylen,
			       size_t *at)
{
	return json_strict_parse_ids(text, len, max_depth, why, whylen, at, NULL);
}

json_object *json_strict_parse_ids(const char *text, size_t len, int max_depth, char *why, size_t whylen,
				   size_t *at, struct json_strict_ids *ids)
{
	struct scan s = { .p = text, .end = text + len, .start = text, .max_depth = max_depth, .why = why,
			  .whylen = whylen, .ids = ids };
	struct json_tokener *tok;
	json_object *v = NULL;
	int rc;

	if (ids)
		memset(ids, 0, sizeof(*ids));
	skip_ws(&s);
	s.top_array = s.p < s.end && *s.p == '[';
	if (ids && !s.top_array)
		ids->n = 1;
	rc = scan_value(&s);
	if (rc == 0) {
		skip_ws(&s);
		if (s.p < s.end)
			rc = fail(&s, "text after the value");
	}
	free(s.names);
	free(s.nv);
	*at = (size_t)(s.p - text);
	if (rc != 0)
		return NULL;
	tok = json_tokener_new_ex(max_depth + 1);
	if (!tok) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	v = json_tokener_parse_ex(tok, text, (int)len + 1);	/* the NUL ends a trailing number */
	if (!v || json_tokener_get_error(tok) != json_tokener_success) {
		/* the scanner took it: json-c disagreeing is a bug here, not the client's */
		snprintf(why, whylen, "json-c: %s", json_tokener_error_desc(json_tokener_get_error(tok)));
		*at = json_tokener_get_parse_end(tok);
		json_object_put(v);
		v = NULL;
	}
	json_tokener_free(tok);
	return v;
}

/* The first byte at or after p that is not ASCII (end when all are):
 * eight bytes at a time, as responses are nearly all ASCII. */
static const unsigned char *skip_ascii(const unsigned char *p, const unsigned char *end)
{
	uint64_t w;

	while (end - p >= 8) {
		memcpy(&w, p, sizeof(w));
		if (w & 0x8080808080808080ull)
			break;
		p += 8;
	}
	while (p < end && *p < 0x80)
		p++;
	return p;
}

char *utf8_repair(const char *s)
{
	size_t len = strlen(s), o = 0, bad = 0, n;
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	char *out;

	for (const unsigned char *q = skip_ascii(p, end); q < end; q = skip_ascii(q + (n ? n : 1), end))
		bad += !(n = utf8_len(q, end));
	if (!bad) {	/* the usual case: one copy, no growth */
		out = malloc(len + 1);
		if (out)
			memcpy(out, s, len + 1);
		return out;
	}
	out = malloc(len + bad * 2 + 1);	/* each bad byte becomes 3 */
	if (!out)
		return NULL;
	while (p < end) {
		n = utf8_len(p, end);
		if (n) {
			memcpy(out + o, p, n);
			o += n;
			p += n;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			p++;
		}
	}
	out[o] = '\0';
	return out;
}
