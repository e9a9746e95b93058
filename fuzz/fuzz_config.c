/*
 * fuzz_config.c - libFuzzer target: arbitrary bytes as a domain config, the
 * way domain.define, config.validate and pvd --check-config take one
 * (daemon/config.c, config_xml.c with libxml2 and the RELAX NG schema,
 * json_strict.c, schema.c, schema_size.c).
 *
 * The first byte picks the format: JSON, XML, or what the text looks like.
 * Checked beside the sanitizers: a config is either refused with at least
 * one issue, each naming a path and a cause, or accepted as a normalized
 * tree that reads into the typed struct and validates again unchanged (the
 * checker's output is a fixed point of the checker); a size string that
 * parses is never negative.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "schema.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct config_checker *checker;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[512];

	log_init(-1);
	checker = config_checker_new(err, sizeof(err));
	if (!checker) {
		fprintf(stderr, "fuzz_config: %s\n", err);
		abort();
	}
	return 0;
}

static void check_report(const struct schema_report *rep)
{
	if (rep->count < 1)
		abort();	/* refused without saying why */
	for (int i = 0; i < rep->count && i < SCHEMA_MAX_ISSUES; i++)
		if (!rep->issue[i].message[0]) {
			fprintf(stderr, "fuzz_config: issue %d at \"%s\" has no message\n", i, rep->issue[i].path);
			abort();
		}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct schema_report rep;
	struct domain_config dc;
	enum config_format fmt;
	json_object *norm, *again;
	char *text, why[160];
	long long v;

	if (size < 1)
		return 0;
	text = malloc(size);
	if (!text)
		abort();
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	switch (data[0] % 3) {
	case 0: fmt = CONFIG_JSON; break;
	case 1: fmt = CONFIG_XML; break;
	default: fmt = config_detect_format(text, size - 1); break;
	}
	memset(&rep, 0, sizeof(rep));
	norm = config_check_text(checker, text, size - 1, fmt, &rep);
	if (!norm) {
		check_report(&rep);
	} else {
		if (domain_config_read(norm, &dc) != 0)
			abort();	/* accepted, yet not readable */
		memset(&rep, 0, sizeof(rep));
		again = config_check_object(checker, norm, &rep);
		if (!again || !json_object_equal(again, norm)) {
			fprintf(stderr, "fuzz_config: the normalized config %s does not validate to itself\n",
				json_object_to_json_string(norm));
			abort();
		}
		json_object_put(again);
		json_object_put(norm);
	}
	/* the size parser the schema uses, on the same text */
	if (size < 64 && schema_parse_size(text, data[0] & 1, &v, why, sizeof(why)) == 0 && v < 0)
		abort();
	free(text);
	return 0;
}
