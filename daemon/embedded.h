/*
 * embedded.h - the documents pvd is built from, compiled into the binary by
 * embed.sh so a running pvd never depends on install paths: the domain
 * schema and its RelaxNG twin, the OpenRPC contract, the store migrations.
 */
#ifndef PVD_EMBEDDED_H
#define PVD_EMBEDDED_H

#include <stddef.h>

struct embedded_file {
	const char *name;
	const unsigned char *data;	/* NUL-terminated */
	size_t len;			/* without the NUL */
};

extern const struct embedded_file embedded_domain_schema;
extern const struct embedded_file embedded_domain_rng;
extern const struct embedded_file embedded_openrpc;
extern const struct embedded_file embedded_migrations[];	/* NNN-name.sql, in order */
extern const size_t embedded_migrations_count;

#endif
