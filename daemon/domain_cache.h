/*
 * domain_cache.h - pvd's managed domains held in memory for the read
 * paths (domain.list, domain.info), checked against the store on every use.
 */
#ifndef PVD_DOMAIN_CACHE_H
#define PVD_DOMAIN_CACHE_H

#include <json-c/json.h>
#include <stddef.h>

#include "config.h"
#include "store.h"

struct domain_cache;

struct domain_entry {
	struct store_domain row;	/* as stored, without the submitted text (row.config is NULL) */
	json_object *norm;		/* row.normalized parsed; NULL: it does not parse */
	struct domain_config cfg;	/* read from norm, points into it; valid when norm is */
	/* Answers that depend on nothing but the above, serialized, kept by
	 * methods_domain.c (domain_cache_keep) until the entry changes; NULL
	 * until then: domain.list's entry and domain.info's answer for while
	 * the hypervisor has no such domain (info: when it has no disks). */
	char *list_text, *info_text;
	/* domain.list's entry with only the fields last asked for (their
	 * mask, methods_domain.c), kept the same way */
	char *list_fields_text;
	unsigned list_fields_mask;
	struct store_iface *ifaces;	/* its interfaces as stored, once have_ifaces */
	int nifaces, have_ifaces;
};

struct domain_cache *domain_cache_new(void);
void domain_cache_free(struct domain_cache *c);

/*
 * Bring the entries up to date with the store: nothing to do when the
 * store's mark has not moved since the last sync, else re-read every row
 * (configs are parsed again only when their normalized text changed).
 * 0, or -1 with store_error(s) set.
 */
int domain_cache_sync(struct domain_cache *c, struct store *s);

/* After a sync: the entries, sorted by name as the store lists them. */
size_t domain_cache_count(const struct domain_cache *c);
struct domain_entry *domain_cache_at(struct domain_cache *c, size_t i);

/* After a sync: the domain whose UUID (any case) or name is ref, as
 * store_domain_find would find it; NULL when there is none. */
struct domain_entry *domain_cache_find(struct domain_cache *c, const char *ref);

/* Read e's interfaces (e->ifaces, e->nifaces) unless they are already:
 * 0, or -1 with store_error(s) set. */
int domain_cache_ifaces(struct store *s, struct domain_entry *e);

/* Keep text (malloc'd, taken over) in one of e's slots (&e->list_text,
 * &e->list_fields_text or &e->info_text), replacing what was there. */
void domain_cache_keep(char **slot, char *text);

#endif
