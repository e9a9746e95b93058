/*
 * schema.h - the one validator: a JSON Schema subset interpreter that checks
 * and normalizes json-c values (domain configs, RPC params). See schema.c.
 */
#ifndef PVD_SCHEMA_H
#define PVD_SCHEMA_H

#include <json-c/json.h>
#include <stddef.h>

struct schema;

enum schema_path_style {
	SCHEMA_PATH_POINTER,	/* /disks/0/size (RFC 6901) */
	SCHEMA_PATH_XPATH,	/* /domain/disks/disk[1]/size (root from x-xml-root) */
};

#define SCHEMA_MAX_ISSUES 16

struct schema_issue {
	char path[256];
	char message[384];
};

struct schema_report {
	int count;		/* issues found, may exceed SCHEMA_MAX_ISSUES */
	struct schema_issue issue[SCHEMA_MAX_ISSUES];
};

/* Parse a schema document (JSON text). NULL with a message in err on error. */
struct schema *schema_load(const char *text, size_t len, char *err, size_t errlen);
void schema_free(struct schema *s);

/* The document itself, and the value at a JSON pointer in it ("" = root). */
json_object *schema_document(const struct schema *s);
json_object *schema_at(const struct schema *s, const char *pointer);

/*
 * Check that the schema rooted at node (and everything it references) uses
 * only keywords this validator implements, and compile its patterns.
 * Must be called for every node later passed to schema_validate.
 */
/* node with its $ref chain followed; NULL if dangling. */
json_object *schema_resolve(const struct schema *s, json_object *node);

int schema_compile(struct schema *s, json_object *node, char *err, size_t errlen);

/*
 * Validate instance against node. On success returns a new normalized value
 * (units converted, defaults filled, x-default-of applied); the caller owns
 * it. On failure returns NULL and rep lists the issues, each naming its path
 * in the given style.
 */
json_object *schema_validate(const struct schema *s, json_object *node, json_object *instance,
			     enum schema_path_style style, struct schema_report *rep);

void schema_report_add(struct schema_report *rep, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "path: message; path: message" for logs and one-line errors. */
void schema_report_format(const struct schema_report *rep, char *buf, size_t len);

/* Parse "64M" / "1G" style sizes: unit_mib selects MiB (whole MiB only) or bytes. */
int schema_parse_size(const char *text, int unit_mib, long long *out, char *why, size_t whylen);

#endif
