/*
 * config.c - domain configs: text in, validated normalized tree out.
 *
 * Owns the config checker: the compiled domain schema (embedded
 * schemas/domain.schema.json) and the XML side (config_xml.c). JSON text is
 * parsed with a depth limit and must be exactly one object; XML is mapped to
 * the same tree. Both then pass through the one validator (schema.c), so a
 * rule exists once, in the schema, and every error names its JSON pointer or
 * XPath. For XML the RelaxNG verdict is reported when the validator found
 * nothing (the two schemas are twins; a difference is still an error).
 */
#include "config.h"
#include "json_strict.h"

#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_xml.h"
#include "embedded.h"

#define CONFIG_JSON_DEPTH 32

struct config_checker {
	struct schema *schema;
	json_object *root;	/* borrowed from schema */
	struct config_xml *xml;
};

struct config_checker *config_checker_new(char *err, size_t errlen)
{
	struct config_checker *c = calloc(1, sizeof(*c));

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->schema = schema_load((const char *)embedded_domain_schema.data, embedded_domain_schema.len,
				err, errlen);
	if (!c->schema)
		goto fail;
	c->root = schema_document(c->schema);
	if (schema_compile(c->schema, c->root, err, errlen) != 0)
		goto fail;
	c->xml = config_xml_new((const char *)embedded_domain_rng.data, embedded_domain_rng.len, err, errlen);
	if (!c->xml)
		goto fail;
	return c;
fail:
	config_checker_free(c);
	return NULL;
}

void config_checker_free(struct config_checker *c)
{
	if (!c)
		return;
	config_xml_free(c->xml);
	schema_free(c->schema);
	free(c);
}

enum config_format config_detect_format(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')
			continue;
		return text[i] == '<' ? CONFIG_XML : CONFIG_JSON;
	}
	return CONFIG_JSON;
}

const char *config_format_name(enum config_format f)
{
	return f == CONFIG_XML ? "xml" : "json";
}

int config_format_parse(const char *name, enum config_format *out)
{
	if (!strcmp(name, "json"))
		*out = CONFIG_JSON;
	else if (!strcmp(name, "xml"))
		*out = CONFIG_XML;
	else
		return -1;
	return 0;
}

static void offset_to_line(const char *text, size_t off, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off && text[i]; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static json_object *parse_json_config(const char *text, size_t len, struct schema_report *rep)
{
	json_object *obj;
	char why[160];
	size_t at;
	int line, col;

	obj = json_strict_parse(text, len, CONFIG_JSON_DEPTH, why, sizeof(why), &at);
	if (!obj) {
		offset_to_line(text, at, &line, &col);
		schema_report_add(rep, "/", "not valid JSON: line %d, column %d: %s", line, col, why);
	}
	return obj;
}

json_object *config_check_object(struct config_checker *c, json_object *config, struct schema_report *rep)
{
	return schema_validate(c->schema, c->root, config, SCHEMA_PATH_POINTER, rep);
}

json_object *config_check_text(struct config_checker *c, const char *text, size_t len,
			       enum config_format fmt, struct schema_report *rep)
{
	json_object *tree, *out;
	struct schema_report rng_rep;

	rep->count = 0;
	if (len > CONFIG_MAX_TEXT) {
		schema_report_add(rep, "/", "config is %zu bytes, more than the limit of %d", len, CONFIG_MAX_TEXT);
		return NULL;
	}
	if (memchr(text, '\0', len)) {
		schema_report_add(rep, "/", "config contains a NUL byte");
		return NULL;
	}
	if (fmt == CONFIG_JSON) {
		tree = parse_json_config(text, len, rep);
		if (!tree)
			return NULL;
		out = schema_validate(c->schema, c->root, tree, SCHEMA_PATH_POINTER, rep);
		json_object_put(tree);
		return out;
	}
	tree = config_xml_to_json(c->xml, c->schema, c->root, text, len, rep, &rng_rep);
	if (!tree)
		return NULL;
	out = schema_validate(c->schema, c->root, tree, SCHEMA_PATH_XPATH, rep);
	json_object_put(tree);
	if (out && rng_rep.count) {
		json_object_put(out);
		*rep = rng_rep;
		return NULL;
	}
	return out;
}

static const char *get_str(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static long long get_int(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

/* Device numbers the config leaves open: the lowest free, in order (the
 * schema keeps the given ones unique and in range). */
static void number_devices(struct domain_config *c)
{
	unsigned used = 0;

	for (int i = 0; i < c->ndisks; i++)
		if (c->disks[i].index >= 0)
			used |= 1u << c->disks[i].index;
	for (int i = 0; i < c->ndisks; i++)
		for (int k = 0; c->disks[i].index < 0; k++)
			if (!(used & (1u << k))) {
				c->disks[i].index = k;
				used |= 1u << k;
			}
	used = 0;
	for (int i = 0; i < c->nvifs; i++)
		if (c->vifs[i].devid >= 0)
			used |= 1u << c->vifs[i].devid;
	for (int i = 0; i < c->nvifs; i++)
		for (int k = 0; c->vifs[i].devid < 0; k++)
			if (!(used & (1u << k))) {
				c->vifs[i].devid = k;
				used |= 1u << k;
			}
}

int domain_config_read(json_object *n, struct domain_config *out)
{
	json_object *cpu, *disks, *vifs, *v;

	memset(out, 0, sizeof(*out));
	out->name = get_str(n, "name");
	out->kernel = get_str(n, "kernel");
	out->ramdisk = get_str(n, "ramdisk");
	out->cmdline = get_str(n, "cmdline");
	out->memory_mib = get_int(n, "memory");
	out->maxmem_mib = get_int(n, "maxmem");
	out->vcpus = (int)get_int(n, "vcpus");
	if (json_object_object_get_ex(n, "cpu", &cpu)) {
		out->weight = (int)get_int(cpu, "weight");
		out->cap = (int)get_int(cpu, "cap");
	}
	out->on_poweroff = get_str(n, "on_poweroff");
	out->on_reboot = get_str(n, "on_reboot");
	out->on_crash = get_str(n, "on_crash");
	out->autostart = json_object_object_get_ex(n, "autostart", &v) && json_object_get_boolean(v);
	out->disk_quota_mib = get_int(n, "disk_quota");
	if (!out->name || !out->kernel || !out->memory_mib || !out->vcpus)
		return -1;
	if (json_object_object_get_ex(n, "disks", &disks)) {
		size_t nd = json_object_array_length(disks);
		if (nd > CONFIG_MAX_DISKS)
			return -1;
		for (size_t i = 0; i < nd; i++) {
			json_object *d = json_object_array_get_idx(disks, i);
			struct disk_config *dc = &out->disks[out->ndisks++];
			dc->name = get_str(d, "name");
			dc->path = get_str(d, "path");
			dc->size_mib = get_int(d, "size");
			dc->quota_mib = get_int(d, "quota");
			dc->iops = get_int(d, "iops");
			dc->bps = get_int(d, "bps");
			dc->burst = get_int(d, "burst");
			dc->readonly = json_object_object_get_ex(d, "readonly", &v) && json_object_get_boolean(v);
			dc->device_fixed = json_object_object_get_ex(d, "device", &v);
			dc->index = dc->device_fixed ? json_object_get_string(v)[3] - 'a' : -1;
		}
	}
	if (json_object_object_get_ex(n, "vifs", &vifs)) {
		size_t nv = json_object_array_length(vifs);
		if (nv > CONFIG_MAX_VIFS)
			return -1;
		for (size_t i = 0; i < nv; i++) {
			json_object *f = json_object_array_get_idx(vifs, i);
			struct vif_config *vc = &out->vifs[out->nvifs++];
			vc->bridge = get_str(f, "bridge");
			vc->mac = get_str(f, "mac");
			vc->rate = get_int(f, "rate");
			vc->burst = get_int(f, "burst");
			vc->weight = (int)get_int(f, "weight");
			if (json_object_object_get_ex(f, "ips", &v))
				for (size_t k = 0; k < json_object_array_length(v) && vc->nips < CONFIG_MAX_VIF_IPS; k++) {
					struct in_addr a;
					if (inet_pton(AF_INET, json_object_get_string(json_object_array_get_idx(v, k)),
						      &a) == 1)
						vc->ips[vc->nips++] = ntohl(a.s_addr);
				}
			vc->devid_fixed = json_object_object_get_ex(f, "devid", &v);
			vc->devid = vc->devid_fixed ? json_object_get_int(v) : -1;
		}
	}
	number_devices(out);
	return 0;
}

char *config_read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf;
	size_t off = 0;

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	if (st.st_size > CONFIG_MAX_TEXT) {
		snprintf(err, errlen, "%s: %lld bytes, more than the config limit of %d", path,
			 (long long)st.st_size, CONFIG_MAX_TEXT);
		close(fd);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		close(fd);
		return NULL;
	}
	while (off < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + off, (size_t)st.st_size - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		off += (size_t)r;
	}
	close(fd);
	buf[off] = '\0';
	*len = off;
	return buf;
}
