/*
 * domain_cache.c - pvd's managed domains in memory, for the read paths.
 *
 * Owns one entry per stored domain: the row (without the submitted config
 * text), its normalized config parsed once into a struct domain_config, its
 * interfaces (read on first use), and room for the serialized answers
 * methods_domain.c builds from these alone (its domain.list entry and
 * domain.info answer while it is not in the hypervisor).
 * domain.list and domain.info read these instead of querying sqlite and
 * parsing every config JSON on each call.
 *
 * Invariants:
 * - The store stays the truth. Every read starts with domain_cache_sync,
 *   which compares the store's mark (store_mark: moved by every commit or
 *   rollback through pvd's connection and by any other connection's commit)
 *   with the mark the entries were built at, and rebuilds them when it
 *   moved. No writer has to remember the cache: a define, undefine,
 *   reconfigure (memory, vCPUs, devices), autostart or state change is seen
 *   by the next read.
 * - A rebuild reads every row in one query, in the store's order (ORDER BY
 *   name, binary collation); a config is parsed again only when its
 *   normalized text changed; every kept answer and interface list is
 *   dropped (made again on next use).
 * - An entry's pointers (row, cfg, ifaces, kept texts) are valid until the
 *   next sync.
 * Used from pvd's loop thread only, like the store; no locks.
 */
#include "domain_cache.h"

#include <stdlib.h>
#include <string.h>

#include "ids.h"

struct domain_cache {
	struct domain_entry *v;
	size_t n;
	struct store_mark mark;	/* the store's when v was built */
	int built;		/* v matches mark */
};

struct rebuild {
	struct domain_cache *c;
	struct domain_entry *v;
	size_t n, cap;
	int oom;
};

struct domain_cache *domain_cache_new(void)
{
	return calloc(1, sizeof(struct domain_cache));
}

static void entry_clear(struct domain_entry *e)
{
	json_object_put(e->norm);
	free(e->list_text);
	free(e->list_fields_text);
	free(e->info_text);
	free(e->ifaces);
	store_domain_clear(&e->row);
	memset(e, 0, sizeof(*e));
}

void domain_cache_free(struct domain_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		entry_clear(&c->v[i]);
	free(c->v);
	free(c);
}

/* The old entry of uuid, when its config text is still text. */
static struct domain_entry *old_with_config(struct domain_cache *c, const char *uuid, const char *normalized)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->v[i].row.uuid, uuid))
			return c->v[i].norm && !strcmp(c->v[i].row.normalized, normalized) ? &c->v[i] : NULL;
	return NULL;
}

static int add_row(void *arg, const struct store_domain *d)
{
	struct rebuild *r = arg;
	struct domain_entry *e, *old;

	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct domain_entry *v = realloc(r->v, cap * sizeof(*v));
		if (!v) {
			r->oom = 1;
			return 1;
		}
		r->v = v;
		r->cap = cap;
	}
	e = &r->v[r->n];
	memset(e, 0, sizeof(*e));
	e->row = *d;
	e->row.config = NULL;
	e->row.normalized = strdup(d->normalized);
	e->row.base_dir = d->base_dir ? strdup(d->base_dir) : NULL;
	if (!e->row.normalized || (d->base_dir && !e->row.base_dir)) {
		store_domain_clear(&e->row);
		r->oom = 1;
		return 1;
	}
	old = old_with_config(r->c, d->uuid, d->normalized);
	if (old) {	/* same config: its parse moves over */
		e->norm = old->norm;
		e->cfg = old->cfg;
		old->norm = NULL;
	} else {
		e->norm = json_tokener_parse(d->normalized);
		if (e->norm && domain_config_read(e->norm, &e->cfg) != 0) {
			json_object_put(e->norm);
			e->norm = NULL;
		}
	}
	r->n++;
	return 0;
}

int domain_cache_sync(struct domain_cache *c, struct store *s)
{
	struct rebuild r = { .c = c };
	struct store_mark now;
	int rc;

	if (store_mark(s, &now) != 0)
		return -1;
	if (c->built && now.own == c->mark.own && now.others == c->mark.others)
		return 0;
	rc = store_domain_list(s, add_row, &r);
	if (rc != 0 || r.oom) {
		for (size_t i = 0; i < r.n; i++)
			entry_clear(&r.v[i]);
		free(r.v);
		return -1;	/* store_domain_list said why (out of memory included) */
	}
	for (size_t i = 0; i < c->n; i++)
		entry_clear(&c->v[i]);
	free(c->v);
	c->v = r.v;
	c->n = r.n;
	c->mark = now;
	c->built = 1;
	return 0;
}

size_t domain_cache_count(const struct domain_cache *c)
{
	return c->n;
}

struct domain_entry *domain_cache_at(struct domain_cache *c, size_t i)
{
	return i < c->n ? &c->v[i] : NULL;
}

struct domain_entry *domain_cache_find(struct domain_cache *c, const char *ref)
{
	if (ids_is_uuid(ref)) {	/* the store compares with lower(ref) */
		char lower[37];
		for (int i = 0; i < 37; i++)
			lower[i] = ref[i] >= 'A' && ref[i] <= 'F' ? (char)(ref[i] - 'A' + 'a') : ref[i];
		for (size_t i = 0; i < c->n; i++)
			if (!strcmp(c->v[i].row.uuid, lower))
				return &c->v[i];
	}
	for (size_t i = 0; i < c->n; i++)	/* then by name, exactly */
		if (!strcmp(c->v[i].row.name, ref))
			return &c->v[i];
	return NULL;
}

static int add_iface(void *arg, const struct store_iface *f)
{
	struct domain_entry *e = arg;
	struct store_iface *v = realloc(e->ifaces, (size_t)(e->nifaces + 1) * sizeof(*v));

	if (!v)
		return 1;
	e->ifaces = v;
	e->ifaces[e->nifaces++] = *f;
	return 0;
}

int domain_cache_ifaces(struct store *s, struct domain_entry *e)
{
	if (e->have_ifaces)
		return 0;
	free(e->ifaces);
	e->ifaces = NULL;
	e->nifaces = 0;
	if (store_ifaces(s, e->row.uuid, add_iface, e) != 0)
		return -1;
	e->have_ifaces = 1;
	return 0;
}

void domain_cache_keep(char **slot, char *text)
{
	free(*slot);
	*slot = text;
}
