/*
 * config_xml.c - XML domain configs.
 *
 * Owns the compiled RelaxNG grammar (schemas/domain.rng). An XML config is
 * (1) parsed by libxml2 with network access, entity expansion and DTDs
 * refused, (2) validated against the grammar, and (3) converted to the
 * json-c tree the JSON schema describes, guided by that schema: an object
 * becomes one child element per key, an array one child element per item
 * named by x-xml-item, a scalar the element's text, typed as integer or
 * boolean when the schema allows that type and the text has that form.
 * The tree then goes through the same validator as JSON (schema.c), whose
 * messages name XPaths. Nothing here knows a field of the config.
 *
 * libxml2's global error handler is replaced during each call so nothing
 * reaches stderr; pvd calls this only from its one loop thread.
 */
#include "config_xml.h"

#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct config_xml {
	xmlRelaxNGPtr grammar;
};

static void xml_silent(void *ctx, xmlErrorPtr e)
{
	(void)ctx;
	(void)e;
}

struct config_xml *config_xml_new(const char *rng, size_t rnglen, char *err, size_t errlen)
{
	struct config_xml *x = calloc(1, sizeof(*x));
	xmlRelaxNGParserCtxtPtr pc;

	if (!x) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	xmlSetStructuredErrorFunc(NULL, xml_silent);
	pc = xmlRelaxNGNewMemParserCtxt(rng, (int)rnglen);
	if (pc) {
		x->grammar = xmlRelaxNGParse(pc);
		xmlRelaxNGFreeParserCtxt(pc);
	}
	xmlSetStructuredErrorFunc(NULL, NULL);
	if (!x->grammar) {
		snprintf(err, errlen, "schemas/domain.rng does not compile as RelaxNG");
		free(x);
		return NULL;
	}
	return x;
}

void config_xml_free(struct config_xml *x)
{
	if (!x)
		return;
	xmlRelaxNGFree(x->grammar);
	free(x);
}

static void add_node_issue(struct schema_report *rep, xmlNode *node, const char *fmt, const char *a,
			   const char *b)
{
	xmlChar *path = node ? xmlGetNodePath(node) : NULL;

	schema_report_add(rep, path ? (const char *)path : "/", fmt, a, b);
	xmlFree(path);
}

static void rng_issue(void *ctx, xmlErrorPtr e)
{
	struct schema_report *rep = ctx;
	char msg[384];
	size_t n;

	snprintf(msg, sizeof(msg), "%s", e->message ? e->message : "invalid");
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	add_node_issue(rep, (xmlNode *)e->node, "does not match schemas/domain.rng: %s%s", msg, "");
}

static int schema_has_type(json_object *node, const char *type)
{
	json_object *t;

	if (!node || !json_object_object_get_ex(node, "type", &t))
		return 0;
	if (json_object_is_type(t, json_type_string))
		return !strcmp(json_object_get_string(t), type);
	for (size_t i = 0; i < json_object_array_length(t); i++)
		if (!strcmp(json_object_get_string(json_object_array_get_idx(t, i)), type))
			return 1;
	return 0;
}

static int has_element_children(xmlNode *el)
{
	for (xmlNode *c = el->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return 1;
	return 0;
}

static json_object *scalar_from_text(json_object *node, const char *text)
{
	const char *b = text, *e;
	char buf[32];
	size_t n;

	while (*b == ' ' || *b == '\t' || *b == '\n' || *b == '\r')
		b++;
	e = b + strlen(b);
	while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		e--;
	n = (size_t)(e - b);
	if (n < sizeof(buf)) {
		memcpy(buf, b, n);
		buf[n] = '\0';
		if (schema_has_type(node, "integer") && n > 0 && n < 19 &&
		    strspn(buf + (buf[0] == '-'), "0123456789") == n - (buf[0] == '-') && n > (size_t)(buf[0] == '-'))
			return json_object_new_int64(strtoll(buf, NULL, 10));
		if (schema_has_type(node, "boolean")) {
			if (!strcmp(buf, "true") || !strcmp(buf, "1"))
				return json_object_new_boolean(1);
			if (!strcmp(buf, "false") || !strcmp(buf, "0"))
				return json_object_new_boolean(0);
		}
	}
	return json_object_new_string(text);
}

static json_object *element_to_json(const struct schema *s, json_object *node, xmlNode *el,
				    struct schema_report *rep, int depth)
{
	json_object *rn = node ? schema_resolve(s, node) : NULL;
	json_object *out, *props = NULL, *xi;
	xmlChar *text;

	if (depth > 16) {
		add_node_issue(rep, el, "nests too deeply%s%s", "", "");
		return NULL;
	}
	if (el->properties)
		add_node_issue(rep, el, "attribute \"%s\" is not allowed: pvd configs use elements only%s",
			       (const char *)el->properties->name, "");
	if (schema_has_type(rn, "object") || (!rn && has_element_children(el))) {
		out = json_object_new_object();
		if (rn)
			json_object_object_get_ex(rn, "properties", &props);
		for (xmlNode *c = el->children; c; c = c->next) {
			json_object *child, *cs = NULL;
			if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
				if (!xmlIsBlankNode(c))
					add_node_issue(rep, el, "has text \"%.40s\" where only elements are allowed%s",
						       (const char *)c->content, "");
				continue;
			}
			if (c->type != XML_ELEMENT_NODE)
				continue;
			if (json_object_object_get_ex(out, (const char *)c->name, NULL)) {
				add_node_issue(rep, c, "element <%s> appears more than once%s",
					       (const char *)c->name, "");
				continue;
			}
			if (props)
				json_object_object_get_ex(props, (const char *)c->name, &cs);
			child = element_to_json(s, cs, c, rep, depth + 1);
			if (child)
				json_object_object_add(out, (const char *)c->name, child);
		}
		return out;
	}
	if (schema_has_type(rn, "array")) {
		const char *item = NULL;
		json_object *items = NULL;
		if (json_object_object_get_ex(rn, "x-xml-item", &xi))
			item = json_object_get_string(xi);
		json_object_object_get_ex(rn, "items", &items);
		out = json_object_new_array();
		for (xmlNode *c = el->children; c; c = c->next) {
			json_object *child;
			if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
				if (!xmlIsBlankNode(c))
					add_node_issue(rep, el, "has text \"%.40s\" where only <%s> elements are allowed",
						       (const char *)c->content, item ? item : "item");
				continue;
			}
			if (c->type != XML_ELEMENT_NODE)
				continue;
			if (item && strcmp((const char *)c->name, item)) {
				add_node_issue(rep, c, "unknown element <%s>: expected <%s>", (const char *)c->name, item);
				continue;
			}
			child = element_to_json(s, items, c, rep, depth + 1);
			if (child)
				json_object_array_add(out, child);
		}
		return out;
	}
	if (has_element_children(el)) {
		add_node_issue(rep, el, "must contain text, not elements%s%s", "", "");
		return NULL;
	}
	text = xmlNodeGetContent(el);
	out = scalar_from_text(rn, text ? (const char *)text : "");
	xmlFree(text);
	return out;
}

json_object *config_xml_to_json(struct config_xml *x, const struct schema *s, json_object *root_schema,
				const char *text, size_t len, struct schema_report *rep,
				struct schema_report *rng_rep)
{
	xmlParserCtxtPtr ctxt;
	xmlDocPtr doc;
	xmlNode *root;
	json_object *out = NULL, *rootname = NULL;
	xmlRelaxNGValidCtxtPtr vc;

	rep->count = 0;
	rng_rep->count = 0;
	xmlSetStructuredErrorFunc(NULL, xml_silent);
	ctxt = xmlNewParserCtxt();
	if (!ctxt) {
		schema_report_add(rep, "/", "out of memory");
		goto out;
	}
	doc = xmlCtxtReadMemory(ctxt, text, (int)len, "config.xml", NULL,
				XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
	if (!doc) {
		const xmlError *e = xmlCtxtGetLastError(ctxt);
		char msg[300];
		snprintf(msg, sizeof(msg), "%s", e && e->message ? e->message : "unknown error");
		msg[strcspn(msg, "\n")] = '\0';
		schema_report_add(rep, "/", "not well-formed XML: line %d: %s", e ? e->line : 0, msg);
		xmlFreeParserCtxt(ctxt);
		goto out;
	}
	xmlFreeParserCtxt(ctxt);
	if (doc->intSubset || doc->extSubset) {
		schema_report_add(rep, "/", "a DOCTYPE is not allowed in a pvd config");
		xmlFreeDoc(doc);
		goto out;
	}
	root = xmlDocGetRootElement(doc);
	if (!root || !json_object_object_get_ex(schema_document(s), "x-xml-root", &rootname) ||
	    strcmp((const char *)root->name, json_object_get_string(rootname))) {
		schema_report_add(rep, "/", "the root element must be <%s>, not <%s>",
				  rootname ? json_object_get_string(rootname) : "?",
				  root ? (const char *)root->name : "nothing");
		xmlFreeDoc(doc);
		goto out;
	}
	vc = xmlRelaxNGNewValidCtxt(x->grammar);
	if (vc) {
		xmlRelaxNGSetValidStructuredErrors(vc, rng_issue, rng_rep);
		if (xmlRelaxNGValidateDoc(vc, doc) != 0 && rng_rep->count == 0)
			schema_report_add(rng_rep, "/domain", "does not match schemas/domain.rng");
		xmlRelaxNGFreeValidCtxt(vc);
	} else {
		schema_report_add(rng_rep, "/", "out of memory");
	}
	out = element_to_json(s, root_schema, root, rep, 0);
	if (rep->count) {
		json_object_put(out);
		out = NULL;
	}
	xmlFreeDoc(doc);
out:
	xmlSetStructuredErrorFunc(NULL, NULL);
	return out;
}
