/*
 * output.c - how pvctl prints: aligned tables for people, JSON for scripts,
 * and small json-c accessors that tolerate missing members.
 */
#include <stdlib.h>
#include <string.h>

#include "pvctl.h"

#define TABLE_MAX_COLS 10

struct table {
	int ncols, nrows, cap;
	size_t width[TABLE_MAX_COLS];
	char **cells;		/* nrows * ncols, row 0 = headers */
};

struct table *table_new(int ncols, const char *const *headers)
{
	struct table *t = calloc(1, sizeof(*t));

	if (!t || ncols > TABLE_MAX_COLS) {
		free(t);
		return NULL;
	}
	t->ncols = ncols;
	table_row(t, headers);
	return t;
}

void table_row(struct table *t, const char *const *cells)
{
	if (!t)
		return;
	if (t->nrows == t->cap) {
		int ncap = t->cap ? t->cap * 2 : 16;
		char **nc = realloc(t->cells, (size_t)ncap * (size_t)t->ncols * sizeof(*nc));
		if (!nc)
			return;
		t->cells = nc;
		t->cap = ncap;
	}
	for (int i = 0; i < t->ncols; i++) {
		char *c = strdup(cells[i] ? cells[i] : "-");
		t->cells[t->nrows * t->ncols + i] = c;
		if (c && strlen(c) > t->width[i])
			t->width[i] = strlen(c);
	}
	t->nrows++;
}

void table_print(struct table *t, FILE *f)
{
	if (!t)
		return;
	for (int r = 0; r < t->nrows; r++) {
		for (int i = 0; i < t->ncols; i++) {
			const char *c = t->cells[r * t->ncols + i];
			if (i + 1 == t->ncols)
				fprintf(f, "%s\n", c ? c : "");
			else
				fprintf(f, "%-*s  ", (int)t->width[i], c ? c : "");
		}
	}
	for (int i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

void print_json(json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
}

const char *jstr(json_object *o, const char *key, const char *dflt)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return dflt;
	return json_object_get_string(v);
}

long long jint(json_object *o, const char *key, long long dflt)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return dflt;
	return json_object_get_int64(v);
}

int jbool(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

/* "10485760 bytes/s (10 MiB/s)", "512 bytes/s", or "unlimited" for 0.
 * unit is what follows "bytes" and the binary unit ("/s", or ""). */
const char *fmt_rate(long long n, const char *unit, char *buf, size_t len)
{
	static const char *const names[] = { "KiB", "MiB", "GiB", "TiB" };
	long long v = n;
	int k = -1;

	if (n <= 0) {
		snprintf(buf, len, "unlimited");
		return buf;
	}
	while (k < 3 && v % 1024 == 0) {
		v /= 1024;
		k++;
	}
	if (k < 0)
		snprintf(buf, len, "%lld bytes%s", n, unit);
	else
		snprintf(buf, len, "%lld bytes%s (%lld %s%s)", n, unit, v, names[k], unit);
	return buf;
}
