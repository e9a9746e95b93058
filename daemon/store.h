/*
 * store.h - pvd's persistent state in sqlite (see store.c).
 *
 * Return convention: 0 = done, -1 = failure with store_error() telling why
 * (store_busy() when another process holds the database), and for lookups
 * 1 = not found.
 */
#ifndef PVD_STORE_H
#define PVD_STORE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define STORE_LATEST (-1)

struct store;

struct store_domain {
	char uuid[37];
	char name[64];
	char config_format[8];
	char *config;		/* as submitted */
	char *normalized;	/* JSON text */
	char desired_state[16];
	int autostart;
	char created[32], updated[32];
	int transient;		/* removed from the store when it stops */
	char *base_dir;		/* relative kernel paths resolve here; NULL: pvd's cwd */
};

struct store_event {
	long long id;
	char at[32];
	char type[32];
	char domain_uuid[37];	/* "" when not about a domain */
	char domain_name[64];
	char caller[160];
	const char *detail;	/* JSON object text; owned by the caller on input */
};

/* What domain.define persists: the domain row, its disks and interfaces. */
struct store_put {
	const struct store_domain *domain;
	const struct domain_config *config;
	char macs[CONFIG_MAX_VIFS][18];	/* final MAC of each vif */
	int replace;			/* update the row with domain->uuid */
};

struct store_disk {
	int idx;
	char name[40];
	char *path;
	long long size_mib, quota_mib, iops_limit, bps_limit;
	int readonly;
};

struct store_iface {
	int idx;
	char mac[18];
	char bridge[16];
	long long rate, burst;
	int weight;
};

/* Open (creating if needed) and migrate to target_version (STORE_LATEST). */
int store_open(struct store **out, const char *path, int target_version, char *err, size_t errlen);
void store_close(struct store *s);
int store_schema_version(struct store *s);
int store_latest_version(void);
const char *store_error(struct store *s);
int store_busy(struct store *s);
/* The connection, for tests and diagnostics only. */
sqlite3 *store_handle(struct store *s);

void store_domain_clear(struct store_domain *d);
int store_domain_count(struct store *s, int *count);
/* ref is a UUID or a name. */
int store_domain_find(struct store *s, const char *ref, struct store_domain *out);
int store_domain_list(struct store *s, int (*cb)(void *arg, const struct store_domain *d), void *arg);
int store_disks(struct store *s, const char *uuid, int (*cb)(void *arg, const struct store_disk *d), void *arg);
int store_ifaces(struct store *s, const char *uuid, int (*cb)(void *arg, const struct store_iface *i), void *arg);
/* 1 and the owner's name when mac belongs to a domain other than except_uuid. */
int store_mac_owner(struct store *s, const char *mac, const char *except_uuid, char owner[64]);

/* Changes: each is one transaction together with its event-log entry. */
int store_domain_put(struct store *s, const struct store_put *p, struct store_event *ev);
int store_domain_delete(struct store *s, const char *uuid, struct store_event *ev);
int store_domain_set_autostart(struct store *s, const char *uuid, int on, const char *now,
			       struct store_event *ev);
/* desired_state = state ("shut-off", "running", "paused"); ev may be NULL. */
int store_domain_set_desired(struct store *s, const char *uuid, const char *state, const char *now,
			      struct store_event *ev);
int store_event_append(struct store *s, struct store_event *ev);
/* Keep at most keep events (0: any number) younger than max_age_s seconds
 * (0: any age); enforced as events are appended. */
void store_set_event_limits(struct store *s, long long keep, long long max_age_s);

int store_events(struct store *s, long long after, int limit, const char *domain,
		 int (*cb)(void *arg, const struct store_event *e), void *arg);
int store_last_event_id(struct store *s, long long *id);

/* Current UTC time as stored: 2024-01-31T12:34:56.789Z */
void store_now(char buf[32]);

/*
 * Where the data stands: two equal marks mean nothing changed in between,
 * neither through this store (every commit and rollback moves own) nor
 * through another connection to the database (others: sqlite's
 * PRAGMA data_version). What caches of stored data check (domain_cache.c).
 */
struct store_mark {
	uint64_t own;
	long long others;
};
/* 0 and the mark now; -1 when the database cannot be read. */
int store_mark(struct store *s, struct store_mark *m);

/* Commits made since the store was opened (the last one's number). */
uint64_t store_committed(struct store *s);
/* hook != NULL: commits stop waiting for the disk (synchronous=NORMAL, no
 * automatic checkpoint) and hook(arg, n) is told of the n-th; whoever
 * installs it makes the WAL durable and checkpoints it (store_sync.c).
 * hook == NULL: back to synchronous commits. */
int store_defer_sync(struct store *s, void (*hook)(void *arg, uint64_t seq), void *arg);

#endif
