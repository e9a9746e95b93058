/*
 * schema_size.c - sizes as configs and params write them ("64M", "1G",
 * 1536): the one parser (schema.h), used by the validator's x-unit and by
 * methods that take a size. Overflow-safe: digits and the suffix's
 * multiplication are checked against LLONG_MAX before they happen.
 * No state.
 */
#include "schema.h"

#include <limits.h>
#include <stdio.h>

int schema_parse_size(const char *text, int unit_mib, long long *out, char *why, size_t whylen)
{
	const char *p = text;
	unsigned long long n = 0, mult = 1;
	int digits = 0;

	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		if (n > (ULLONG_MAX - 9) / 10) {
			snprintf(why, whylen, "\"%s\" is too large", text);
			return -1;
		}
		n = n * 10 + (unsigned)(*p - '0');
	}
	switch (*p) {
	case 'K': case 'k': mult = 1ULL << 10; p++; break;
	case 'M': case 'm': mult = 1ULL << 20; p++; break;
	case 'G': case 'g': mult = 1ULL << 30; p++; break;
	case 'T': case 't': mult = 1ULL << 40; p++; break;
	default: mult = 0; break;
	}
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (!digits || *p || !mult) {
		snprintf(why, whylen, "\"%s\" is not a size: use an integer (%s) or a number with "
			 "suffix K, M, G or T, e.g. \"64M\"", text, unit_mib ? "MiB" : "bytes");
		return -1;
	}
	if (n > LLONG_MAX / mult) {
		snprintf(why, whylen, "\"%s\" is too large", text);
		return -1;
	}
	n *= mult;
	if (unit_mib) {
		if (n % (1ULL << 20)) {
			snprintf(why, whylen, "\"%s\" is not a whole number of MiB", text);
			return -1;
		}
		n >>= 20;
	}
	*out = (long long)n;
	return 0;
}
