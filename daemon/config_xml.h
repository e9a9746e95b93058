/*
 * config_xml.h - the XML form of domain configs: libxml2 parsing, RelaxNG
 * validation, and the schema-guided conversion to a json-c tree (config_xml.c).
 */
#ifndef PVD_CONFIG_XML_H
#define PVD_CONFIG_XML_H

#include <json-c/json.h>
#include <stddef.h>

#include "schema.h"

struct config_xml;

struct config_xml *config_xml_new(const char *rng, size_t rnglen, char *err, size_t errlen);
void config_xml_free(struct config_xml *x);

/*
 * Parse text, check it against the RelaxNG grammar and convert it to the
 * tree the JSON schema describes (guided by root_schema). Returns the tree,
 * or NULL with rep naming XPaths when the text is not well-formed XML or
 * cannot be mapped. RelaxNG issues go to rng_rep (count 0 = valid) so the
 * caller can run the schema validator first (its messages name ranges and
 * units) and report the RelaxNG issues when the validator found none.
 */
json_object *config_xml_to_json(struct config_xml *x, const struct schema *s, json_object *root_schema,
				const char *text, size_t len, struct schema_report *rep,
				struct schema_report *rng_rep);

#endif
