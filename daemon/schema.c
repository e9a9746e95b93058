/*
 * schema.c - the one validator of pvd: a JSON Schema subset interpreter.
 *
 * Both domain configs (schemas/domain.schema.json, for JSON and, after
 * config_xml.c turned the XML into the same tree, for XML) and RPC params
 * (the param schemas of api/pvd.openrpc.json) are checked here, driven only
 * by the schema documents: this file knows no field of either.
 *
 * Keywords implemented (schema_compile rejects any other, so a schema can
 * never silently rely on something that is not checked):
 *   type (string or list), enum, default, properties, required,
 *   additionalProperties (false only), items, minItems, maxItems,
 *   minLength, maxLength (in characters), pattern (POSIX ERE), minimum,
 *   maximum, $ref ("#/json/pointer" into the same document), and
 *   x-unit ("MiB" | "bytes": integer or "<n>[KMGT]" string, normalized to an
 *   integer), x-unique-by (array items' key, or an array of keys, each of
 *   which must be unique across the items),
 *   x-default-of / x-minimum-of / x-maximum-of (another field of the same
 *   instance, by JSON pointer, for defaults and cross-field limits; the
 *   limits also take "1/NAME", the member NAME of the same object),
 *   not (only as {"enum": [...]}: values refused), x-max-bytes (a string's
 *   UTF-8 length in bytes, for limits set in bytes elsewhere),
 *   x-xml-root / x-xml-item (element names for XPath), and the annotations
 *   description, title, $schema, $id, $comment, examples.
 *
 * Invariants: validation never modifies the instance; a normalized value is
 * returned only when no issue was found; every issue names a path.
 */
#include "schema.h"

#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCHEMA_MAX_DEPTH 32
#define SCHEMA_MAX_DEFERRED 64

struct compiled_pattern {
	json_object *node;	/* the schema object holding "pattern" */
	regex_t re;
};

struct schema {
	json_object *doc;
	struct compiled_pattern *patterns;
	size_t npatterns;
	const char *xml_root;
};

struct path_seg {
	const char *key;	/* object member, or NULL for an array index */
	int index;
	int count;		/* array length, for XPath [n] */
	const char *xml_item;
};

/* A cross-field rule found during the walk, applied once the tree is built. */
struct deferred {
	json_object *rule;	/* the schema node carrying x-*-of */
	json_object *parent;	/* normalized object holding key */
	char key[64];
	char path[256];
};

struct walk {
	const struct schema *s;
	enum schema_path_style style;
	struct schema_report *rep;
	struct path_seg seg[SCHEMA_MAX_DEPTH];
	int depth;
	struct deferred deferred[SCHEMA_MAX_DEFERRED];
	int ndeferred;
};

static const char *const known_keywords[] = {
	"type", "enum", "default", "properties", "required", "additionalProperties",
	"items", "minItems", "maxItems", "minLength", "maxLength", "pattern",
	"minimum", "maximum", "$ref", "x-unit", "x-unique-by", "x-default-of",
	"x-minimum-of", "x-maximum-of", "x-xml-root", "x-xml-item", "description", "not", "x-max-bytes",
	"title", "$schema", "$id", "$comment", "examples", NULL
};

void schema_report_add(struct schema_report *rep, const char *path, const char *fmt, ...)
{
	va_list ap;

	if (rep->count < SCHEMA_MAX_ISSUES) {
		struct schema_issue *is = &rep->issue[rep->count];
		snprintf(is->path, sizeof(is->path), "%s", path[0] ? path : "/");
		va_start(ap, fmt);
		vsnprintf(is->message, sizeof(is->message), fmt, ap);
		va_end(ap);
	}
	rep->count++;
}

void schema_report_format(const struct schema_report *rep, char *buf, size_t len)
{
	size_t off = 0;
	int n = rep->count < SCHEMA_MAX_ISSUES ? rep->count : SCHEMA_MAX_ISSUES;

	buf[0] = '\0';
	for (int i = 0; i < n && off < len; i++) {
		int w = snprintf(buf + off, len - off, "%s%s: %s", i ? "; " : "",
				 rep->issue[i].path, rep->issue[i].message);
		if (w < 0)
			break;
		off += (size_t)w;
	}
	if (rep->count > n && off < len)
		snprintf(buf + off, len - off, "; and %d more", rep->count - n);
}

/* ---- document and compilation ---- */

struct schema *schema_load(const char *text, size_t len, char *err, size_t errlen)
{
	struct json_tokener *tok = json_tokener_new();
	struct schema *s;
	json_object *doc;

	if (!tok) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	doc = json_tokener_parse_ex(tok, text, (int)len);
	if (!doc || json_tokener_get_error(tok) != json_tokener_success) {
		snprintf(err, errlen, "schema is not JSON: %s at offset %zu",
			 json_tokener_error_desc(json_tokener_get_error(tok)),
			 json_tokener_get_parse_end(tok));
		json_object_put(doc);
		json_tokener_free(tok);
		return NULL;
	}
	json_tokener_free(tok);
	s = calloc(1, sizeof(*s));
	if (!s) {
		json_object_put(doc);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->doc = doc;
	{
		json_object *root;
		if (json_object_object_get_ex(doc, "x-xml-root", &root))
			s->xml_root = json_object_get_string(root);
	}
	return s;
}

void schema_free(struct schema *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->npatterns; i++)
		regfree(&s->patterns[i].re);
	free(s->patterns);
	json_object_put(s->doc);
	free(s);
}

json_object *schema_document(const struct schema *s)
{
	return s->doc;
}

json_object *schema_at(const struct schema *s, const char *pointer)
{
	json_object *out = NULL;

	if (!pointer[0])
		return s->doc;
	if (json_pointer_get(s->doc, pointer, &out) != 0)
		return NULL;
	return out;
}

json_object *schema_resolve(const struct schema *s, json_object *node)
{
	json_object *ref;

	for (int hops = 0; hops < 8 && node; hops++) {
		if (!json_object_is_type(node, json_type_object) ||
		    !json_object_object_get_ex(node, "$ref", &ref))
			return node;
		const char *r = json_object_get_string(ref);
		if (!r || r[0] != '#')
			return NULL;
		node = schema_at(s, r + 1);
	}
	return NULL;
}

static const regex_t *pattern_for(const struct schema *s, json_object *node)
{
	for (size_t i = 0; i < s->npatterns; i++)
		if (s->patterns[i].node == node)
			return &s->patterns[i].re;
	return NULL;
}

static int compile_node(struct schema *s, json_object *node, int depth, char *err, size_t errlen)
{
	json_object *v;

	if (depth > SCHEMA_MAX_DEPTH) {
		snprintf(err, errlen, "schema nests deeper than %d levels (a $ref cycle?)", SCHEMA_MAX_DEPTH);
		return -1;
	}
	node = schema_resolve(s, node);
	if (!node || !json_object_is_type(node, json_type_object)) {
		snprintf(err, errlen, "schema node is not an object or has a dangling $ref");
		return -1;
	}
	json_object_object_foreach(node, key, val) {
		int known = 0;
		(void)val;
		for (int i = 0; known_keywords[i]; i++)
			known |= !strcmp(key, known_keywords[i]);
		if (!known) {
			snprintf(err, errlen, "schema uses keyword \"%s\", which pvd's validator does not implement", key);
			return -1;
		}
	}
	if (json_object_object_get_ex(node, "additionalProperties", &v) &&
	    (!json_object_is_type(v, json_type_boolean) || json_object_get_boolean(v))) {
		snprintf(err, errlen, "schema: only \"additionalProperties\": false is implemented");
		return -1;
	}
	if (json_object_object_get_ex(node, "pattern", &v) && !pattern_for(s, node)) {
		struct compiled_pattern *np = realloc(s->patterns, (s->npatterns + 1) * sizeof(*np));
		int rc;
		if (!np) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		s->patterns = np;
		rc = regcomp(&np[s->npatterns].re, json_object_get_string(v), REG_EXTENDED | REG_NOSUB);
		if (rc != 0) {
			snprintf(err, errlen, "schema pattern \"%s\" does not compile", json_object_get_string(v));
			return -1;
		}
		np[s->npatterns++].node = node;
	}
	if (json_object_object_get_ex(node, "not", &v)) {
		json_object *en;
		int only_enum = json_object_is_type(v, json_type_object) && json_object_object_length(v) == 1 &&
				json_object_object_get_ex(v, "enum", &en) && json_object_is_type(en, json_type_array);
		if (!only_enum) {
			snprintf(err, errlen, "schema: only \"not\": {\"enum\": [...]} is implemented");
			return -1;
		}
	}
	if (json_object_object_get_ex(node, "properties", &v)) {
		json_object_object_foreach(v, pk, pv) {
			(void)pk;
			if (compile_node(s, pv, depth + 1, err, errlen))
				return -1;
		}
	}
	if (json_object_object_get_ex(node, "items", &v) && compile_node(s, v, depth + 1, err, errlen))
		return -1;
	return 0;
}

int schema_compile(struct schema *s, json_object *node, char *err, size_t errlen)
{
	return compile_node(s, node, 0, err, errlen);
}

/* ---- paths ---- */

static void format_path(const struct walk *w, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	if (w->style == SCHEMA_PATH_XPATH)
		off += (size_t)snprintf(buf, len, "/%s", w->s->xml_root ? w->s->xml_root : "config");
	for (int i = 0; i < w->depth && off < len; i++) {
		const struct path_seg *sg = &w->seg[i];
		int n;
		if (sg->key && w->style == SCHEMA_PATH_POINTER) {
			n = snprintf(buf + off, len - off, "/");
			off += (size_t)n;
			for (const char *k = sg->key; *k && off + 3 < len; k++) {
				if (*k == '~' || *k == '/') {
					buf[off++] = '~';
					buf[off++] = *k == '~' ? '0' : '1';
				} else {
					buf[off++] = *k;
				}
			}
			buf[off] = '\0';
			continue;
		}
		if (sg->key)
			n = snprintf(buf + off, len - off, "/%s", sg->key);
		else if (w->style == SCHEMA_PATH_POINTER)
			n = snprintf(buf + off, len - off, "/%d", sg->index);
		else if (sg->count > 1)
			n = snprintf(buf + off, len - off, "/%s[%d]", sg->xml_item ? sg->xml_item : "item",
				     sg->index + 1);
		else
			n = snprintf(buf + off, len - off, "/%s", sg->xml_item ? sg->xml_item : "item");
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

static void issue(struct walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void issue(struct walk *w, const char *fmt, ...)
{
	char path[256], msg[384];
	va_list ap;

	format_path(w, path, sizeof(path));
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	schema_report_add(w->rep, path, "%s", msg);
}

static int push_key(struct walk *w, const char *key)
{
	if (w->depth >= SCHEMA_MAX_DEPTH)
		return -1;
	w->seg[w->depth++] = (struct path_seg){ .key = key };
	return 0;
}

static int push_index(struct walk *w, int index, int count, const char *xml_item)
{
	if (w->depth >= SCHEMA_MAX_DEPTH)
		return -1;
	w->seg[w->depth++] = (struct path_seg){ .index = index, .count = count, .xml_item = xml_item };
	return 0;
}

/* ---- validation ---- */

static const char *json_type_word(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null: return "null";
	case json_type_boolean: return "boolean";
	case json_type_double: return "number";
	case json_type_int: return "integer";
	case json_type_object: return "object";
	case json_type_array: return "array";
	case json_type_string: return "string";
	}
	return "?";
}

static int type_matches(const char *t, json_object *v)
{
	enum json_type jt = json_object_get_type(v);

	if (!strcmp(t, "integer"))
		return jt == json_type_int;
	if (!strcmp(t, "number"))
		return jt == json_type_int || jt == json_type_double;
	return !strcmp(t, json_type_word(v));
}

/* Returns 1 if v has one of the types of node (or node has no type). */
static int check_type(struct walk *w, json_object *node, json_object *v)
{
	json_object *types;
	char want[96] = "";

	if (!json_object_object_get_ex(node, "type", &types))
		return 1;
	if (json_object_is_type(types, json_type_string)) {
		if (type_matches(json_object_get_string(types), v))
			return 1;
		snprintf(want, sizeof(want), "%s", json_object_get_string(types));
	} else {
		size_t n = json_object_array_length(types), off = 0;
		for (size_t i = 0; i < n; i++) {
			const char *t = json_object_get_string(json_object_array_get_idx(types, i));
			if (type_matches(t, v))
				return 1;
			off += (size_t)snprintf(want + off, sizeof(want) - off, "%s%s",
						i == 0 ? "" : (i + 1 == n ? " or " : ", "), t);
			if (off >= sizeof(want))
				break;
		}
	}
	if (json_object_is_type(v, json_type_string))
		issue(w, "expected %s, got string \"%.64s\"", want, json_object_get_string(v));
	else
		issue(w, "expected %s, got %s", want, json_type_word(v));
	return 0;
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static json_object *validate_node(struct walk *w, json_object *node, json_object *v);

static int get_int_kw(json_object *node, const char *kw, long long *out)
{
	json_object *x;

	if (!json_object_object_get_ex(node, kw, &x))
		return 0;
	*out = json_object_get_int64(x);
	return 1;
}

static json_object *validate_string(struct walk *w, json_object *node, json_object *v)
{
	const char *str = json_object_get_string(v);
	long long lim;
	json_object *pat;
	size_t chars = utf8_chars(str);

	if (get_int_kw(node, "minLength", &lim) && (long long)chars < lim) {
		if (chars == 0)
			issue(w, "must not be empty");
		else
			issue(w, "\"%.64s\" is shorter than %lld characters", str, lim);
		return NULL;
	}
	if (get_int_kw(node, "maxLength", &lim) && (long long)chars > lim) {
		issue(w, "is %zu characters long, more than the limit of %lld", chars, lim);
		return NULL;
	}
	if (get_int_kw(node, "x-max-bytes", &lim) && (long long)strlen(str) > lim) {
		issue(w, "is %zu bytes long (UTF-8), more than the limit of %lld", strlen(str), lim);
		return NULL;
	}
	if (json_object_object_get_ex(node, "pattern", &pat)) {
		const regex_t *re = pattern_for(w->s, node);
		if (!re) {
			issue(w, "schema pattern was not compiled (internal error)");
			return NULL;
		}
		if (regexec(re, str, 0, NULL, 0) != 0) {
			json_object *desc;
			if (json_object_object_get_ex(node, "description", &desc))
				issue(w, "\"%.64s\" is not valid: %s", str, json_object_get_string(desc));
			else
				issue(w, "\"%.64s\" does not match %s", str, json_object_get_string(pat));
			return NULL;
		}
	}
	return json_object_new_string(str);
}

static json_object *validate_integer(struct walk *w, json_object *node, long long n, const char *unit)
{
	long long lim;

	if (get_int_kw(node, "minimum", &lim) && n < lim) {
		issue(w, "%lld%s is below the minimum of %lld%s", n, unit, lim, unit);
		return NULL;
	}
	if (get_int_kw(node, "maximum", &lim) && n > lim) {
		issue(w, "%lld%s is above the maximum of %lld%s", n, unit, lim, unit);
		return NULL;
	}
	return json_object_new_int64(n);
}

static json_object *validate_object(struct walk *w, json_object *node, json_object *v)
{
	json_object *props = NULL, *req, *addl, *out;
	int closed, bad = 0;
	const char *noun = w->style == SCHEMA_PATH_XPATH ? "element" : "key";

	json_object_object_get_ex(node, "properties", &props);
	closed = json_object_object_get_ex(node, "additionalProperties", &addl);
	out = json_object_new_object();
	if (!out)
		return NULL;
	/* unknown members first: they are the most common typo */
	json_object_object_foreach(v, key, val) {
		if (props && json_object_object_get_ex(props, key, NULL))
			continue;
		if (!closed) {	/* an open object keeps what it does not describe */
			json_object_object_add(out, key, json_object_get(val));
			continue;
		}
		if (push_key(w, key) == 0) {
			issue(w, "unknown %s \"%s\"", noun, key);
			w->depth--;
		}
		bad = 1;
	}
	if (json_object_object_get_ex(node, "required", &req)) {
		for (size_t i = 0; i < json_object_array_length(req); i++) {
			const char *rk = json_object_get_string(json_object_array_get_idx(req, i));
			if (!json_object_object_get_ex(v, rk, NULL) && push_key(w, rk) == 0) {
				issue(w, "required %s is missing", noun);
				w->depth--;
				bad = 1;
			}
		}
	}
	if (props) {
		json_object_object_foreach(props, pk, pschema) {
			json_object *member, *child = NULL, *def;
			json_object *rs = schema_resolve(w->s, pschema);
			if (push_key(w, pk) != 0) {
				bad = 1;
				continue;
			}
			if (json_object_object_get_ex(v, pk, &member)) {
				child = validate_node(w, pschema, member);
				if (!child)
					bad = 1;
			} else if (rs && json_object_object_get_ex(rs, "default", &def)) {
				child = validate_node(w, pschema, def);
				if (!child)
					bad = 1;
			}
			if (child)
				json_object_object_add(out, pk, child);
			if (rs && (json_object_object_get_ex(rs, "x-default-of", NULL) ||
				   json_object_object_get_ex(rs, "x-minimum-of", NULL) ||
				   json_object_object_get_ex(rs, "x-maximum-of", NULL))) {
				if (w->ndeferred < SCHEMA_MAX_DEFERRED) {
					struct deferred *d = &w->deferred[w->ndeferred++];
					d->rule = rs;
					d->parent = out;
					snprintf(d->key, sizeof(d->key), "%s", pk);
					format_path(w, d->path, sizeof(d->path));
				} else {
					issue(w, "too many cross-field rules (schema limit)");
					bad = 1;
				}
			}
			w->depth--;
		}
	}
	if (bad) {
		json_object_put(out);
		return NULL;
	}
	return out;
}


/* Items of out (n of them) that repeat an earlier item's ukey: one issue each. */
static int unique_by(struct walk *w, json_object *out, size_t n, const char *ukey, const char *xml_item)
{
	int bad = 0;

	for (size_t i = 0; i < n; i++) {
		json_object *a, *b;
		if (!json_object_object_get_ex(json_object_array_get_idx(out, i), ukey, &a))
			continue;
		for (size_t j = 0; j < i; j++) {
			if (!json_object_object_get_ex(json_object_array_get_idx(out, j), ukey, &b) ||
			    strcasecmp(json_object_get_string(a), json_object_get_string(b)))
				continue;
			push_index(w, (int)i, (int)n, xml_item);
			push_key(w, ukey);
			issue(w, "duplicate %s \"%s\" (item %zu has it too)", ukey, json_object_get_string(a), j + 1);
			w->depth -= 2;
			bad = 1;
			break;
		}
	}
	return bad ? -1 : 0;
}

static json_object *validate_array(struct walk *w, json_object *node, json_object *v)
{
	size_t n = json_object_array_length(v);
	long long lim;
	json_object *items = NULL, *xi, *uniq, *out;
	const char *xml_item = NULL;
	int bad = 0;

	if (get_int_kw(node, "minItems", &lim) && (long long)n < lim) {
		issue(w, "has %zu items, fewer than the minimum of %lld", n, lim);
		return NULL;
	}
	if (get_int_kw(node, "maxItems", &lim) && (long long)n > lim) {
		issue(w, "has %zu items, more than the limit of %lld", n, lim);
		return NULL;
	}
	json_object_object_get_ex(node, "items", &items);
	if (json_object_object_get_ex(node, "x-xml-item", &xi))
		xml_item = json_object_get_string(xi);
	out = json_object_new_array();
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		json_object *child;
		if (push_index(w, (int)i, (int)n, xml_item) != 0) {
			bad = 1;
			break;
		}
		child = items ? validate_node(w, items, json_object_array_get_idx(v, i))
			      : json_object_get(json_object_array_get_idx(v, i));
		w->depth--;
		if (!child) {
			bad = 1;
			continue;
		}
		json_object_array_add(out, child);
	}
	if (!bad && json_object_object_get_ex(node, "x-unique-by", &uniq)) {
		int many = json_object_is_type(uniq, json_type_array);
		size_t nkeys = many ? json_object_array_length(uniq) : 1;
		for (size_t k = 0; k < nkeys; k++)
			if (unique_by(w, out, n, json_object_get_string(many ? json_object_array_get_idx(uniq, k)
									      : uniq), xml_item) != 0)
				bad = 1;
	}
	if (bad) {
		json_object_put(out);
		return NULL;
	}
	return out;
}

static json_object *validate_node(struct walk *w, json_object *node, json_object *v)
{
	json_object *en, *unit;
	json_object *rn = schema_resolve(w->s, node);

	if (!rn) {
		issue(w, "schema has a dangling $ref (internal error)");
		return NULL;
	}
	node = rn;
	if (!check_type(w, node, v))
		return NULL;
	if (json_object_object_get_ex(node, "enum", &en)) {
		size_t n = json_object_array_length(en);
		int found = 0;
		char list[256] = "";
		size_t off = 0;
		for (size_t i = 0; i < n && !found; i++)
			found = json_object_equal(json_object_array_get_idx(en, i), v);
		for (size_t i = 0; i < n && !found; i++)	/* the values allowed, for the message */
			if (off < sizeof(list))
				off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s", i ? ", " : "",
							json_object_get_string(json_object_array_get_idx(en, i)));
		if (!found) {
			issue(w, "\"%.64s\" is not one of: %s", json_object_get_string(v), list);
			return NULL;
		}
	}
	if (json_object_object_get_ex(node, "not", &en) && json_object_object_get_ex(en, "enum", &en)) {
		for (size_t i = 0; i < json_object_array_length(en); i++)
			if (json_object_equal(json_object_array_get_idx(en, i), v)) {
				issue(w, "\"%.64s\" is not allowed here", json_object_get_string(v));
				return NULL;
			}
	}
	if (json_object_object_get_ex(node, "x-unit", &unit)) {
		int mib = !strcmp(json_object_get_string(unit), "MiB");
		long long n;
		char why[256];
		if (json_object_is_type(v, json_type_string)) {
			if (schema_parse_size(json_object_get_string(v), mib, &n, why, sizeof(why)) != 0) {
				issue(w, "%s", why);
				return NULL;
			}
		} else {
			n = json_object_get_int64(v);
		}
		return validate_integer(w, node, n, mib ? " MiB" : " bytes");
	}
	switch (json_object_get_type(v)) {
	case json_type_string:
		return validate_string(w, node, v);
	case json_type_int:
		return validate_integer(w, node, json_object_get_int64(v), "");
	case json_type_object:
		return validate_object(w, node, v);
	case json_type_array:
		return validate_array(w, node, v);
	default:
		return json_object_get(v);
	}
}

static void schema_report_at(struct walk *w, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void schema_report_at(struct walk *w, const char *path, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	schema_report_add(w->rep, path, "%s", msg);
}

/* Cross-field rules: defaults first, then limits, against the normalized root. */
static int apply_deferred(struct walk *w, json_object *root)
{
	int bad = 0;

	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < w->ndeferred; i++) {
			struct deferred *d = &w->deferred[i];
			json_object *rule, *field, *times, *ref = NULL, *mine;
			if (pass == 0) {
				if (!json_object_object_get_ex(d->rule, "x-default-of", &rule) ||
				    json_object_object_get_ex(d->parent, d->key, NULL))
					continue;
				if (json_pointer_get(root, json_object_get_string(rule), &ref) == 0)
					json_object_object_add(d->parent, d->key, json_object_get(ref));
				continue;
			}
			if (!json_object_object_get_ex(d->parent, d->key, &mine))
				continue;
			for (int k = 0; k < 2; k++) {
				const char *kw = k == 0 ? "x-minimum-of" : "x-maximum-of";
				long long mult = 1, other, lim, val = json_object_get_int64(mine);
				const char *fp;
				if (!json_object_object_get_ex(d->rule, kw, &rule) ||
				    !json_object_object_get_ex(rule, "field", &field))
					continue;
				fp = json_object_get_string(field);
				if (json_object_object_get_ex(rule, "times", &times))
					mult = json_object_get_int64(times);
				if (!strncmp(fp, "1/", 2)) {	/* relative: a sibling in the same object */
					fp += 2;
					if (!json_object_object_get_ex(d->parent, fp, &ref))
						continue;
				} else if (json_pointer_get(root, fp, &ref) != 0)
					continue;
				other = json_object_get_int64(ref);
				lim = other * mult;
				if ((k == 0 && val >= lim) || (k == 1 && val <= lim))
					continue;
				if (mult == 1)
					schema_report_at(w, d->path, "%lld is %s %s (%lld)", val,
							 k == 0 ? "less than" : "more than", fp, other);
				else
					schema_report_at(w, d->path, "%lld is %s %lld x %s (%lld) = %lld", val,
							 k == 0 ? "less than" : "more than", mult, fp, other, lim);
				bad = 1;
			}
		}
	}
	return bad ? -1 : 0;
}

json_object *schema_validate(const struct schema *s, json_object *node, json_object *instance,
			     enum schema_path_style style, struct schema_report *rep)
{
	struct walk *w = calloc(1, sizeof(*w));
	json_object *out;

	rep->count = 0;
	if (!w) {
		schema_report_add(rep, "/", "out of memory");
		return NULL;
	}
	w->s = s;
	w->style = style;
	w->rep = rep;
	out = validate_node(w, node, instance);
	if (out && apply_deferred(w, out) != 0) {
		json_object_put(out);
		out = NULL;
	}
	if (!out && rep->count == 0)
		schema_report_add(rep, "/", "invalid (no detail)");
	free(w);
	return out;
}
