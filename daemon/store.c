/*
 * store.c - pvd's persistent state: one sqlite database in the state dir.
 *
 * Owns the connection and every SQL statement pvd runs. Invariants:
 * - WAL journal, foreign keys on, synchronous=FULL: a change reported done
 *   survives a crash of pvd or of the host. pvd itself switches to
 *   synchronous=NORMAL with a commit hook (store_defer_sync): its syncer
 *   thread (store_sync.c) fdatasyncs the WAL after commits and pvd says
 *   nothing about a change before that, so the guarantee is the same
 *   without the loop waiting for the disk. store_committed counts commits.
 * - The schema is built only by the numbered migrations schemas/NNN-name.sql
 *   (embedded at build time); each runs in one transaction together with
 *   the schema_version update, so a database is always at exactly one
 *   version. A database newer than this binary is refused.
 * - Every change is one IMMEDIATE transaction that also appends its
 *   event-log row: the log and the data never disagree. A failed step rolls
 *   the whole change back.
 * - Statements are prepared once at open (table below) and reset after use.
 * - The event log is pruned by count and age inside appends (prune_events).
 * - store_mark moves with every transaction pvd ends (commit or rollback)
 *   and every commit of another connection: caches of stored data
 *   (domain_cache.c) compare marks instead of being told of each change.
 * The store is used from pvd's loop thread only; busy_timeout is short so a
 * foreign lock holder costs the loop at most STORE_BUSY_MS.
 */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "embedded.h"
#include "ids.h"

#define STORE_BUSY_MS 250

enum stmt_id {
	ST_BEGIN, ST_COMMIT, ST_ROLLBACK,
	ST_DOMAIN_BY_UUID, ST_DOMAIN_BY_NAME, ST_DOMAIN_LIST, ST_DOMAIN_COUNT,
	ST_DOMAIN_INSERT, ST_DOMAIN_UPDATE, ST_DOMAIN_DELETE, ST_DOMAIN_AUTOSTART, ST_DOMAIN_DESIRED,
	ST_DISK_INSERT, ST_DISKS_DELETE, ST_DISKS_OF,
	ST_IFACE_INSERT, ST_IFACES_DELETE, ST_IFACES_OF, ST_MAC_OWNER,
	ST_EVENT_INSERT, ST_EVENTS_AFTER, ST_EVENTS_AFTER_DOMAIN, ST_EVENT_LAST, ST_EVENTS_PRUNE,
	ST_DATA_VERSION,
	ST_COUNT
};

#define DOMAIN_COLS "uuid, name, config_format, config, config_normalized, desired_state, " \
		    "autostart, created_at, updated_at, transient, base_dir"
#define EVENT_COLS  "id, at, type, coalesce(domain_uuid, ''), coalesce(domain_name, ''), caller, detail"

static const char *const stmt_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_DOMAIN_BY_UUID] = "SELECT " DOMAIN_COLS " FROM domains WHERE uuid = lower(?1)",
	[ST_DOMAIN_BY_NAME] = "SELECT " DOMAIN_COLS " FROM domains WHERE name = ?1",
	[ST_DOMAIN_LIST] = "SELECT " DOMAIN_COLS " FROM domains ORDER BY name",
	[ST_DOMAIN_COUNT] = "SELECT count(*) FROM domains",
	[ST_DOMAIN_INSERT] = "INSERT INTO domains (" DOMAIN_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[ST_DOMAIN_UPDATE] = "UPDATE domains SET name = ?2, config_format = ?3, config = ?4, "
			     "config_normalized = ?5, autostart = ?7, updated_at = ?9, transient = ?10, base_dir = ?11 "
			     "WHERE uuid = ?1",
	[ST_DOMAIN_DELETE] = "DELETE FROM domains WHERE uuid = ?1",
	[ST_DOMAIN_AUTOSTART] = "UPDATE domains SET autostart = ?2, updated_at = ?3 WHERE uuid = ?1",
	[ST_DOMAIN_DESIRED] = "UPDATE domains SET desired_state = ?2, updated_at = ?3 WHERE uuid = ?1",
	[ST_DISK_INSERT] = "INSERT INTO disks (domain_uuid, idx, name, path, size_mib, readonly, quota_mib, "
			   "iops_limit, bps_limit) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[ST_DISKS_DELETE] = "DELETE FROM disks WHERE domain_uuid = ?1",
	[ST_DISKS_OF] = "SELECT idx, name, path, size_mib, readonly, quota_mib, iops_limit, bps_limit "
			"FROM disks WHERE domain_uuid = ?1 ORDER BY idx",
	[ST_IFACE_INSERT] = "INSERT INTO interfaces (domain_uuid, idx, mac, bridge, rate, burst, weight) "
			    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_IFACES_DELETE] = "DELETE FROM interfaces WHERE domain_uuid = ?1",
	[ST_IFACES_OF] = "SELECT idx, mac, bridge, rate, burst, weight FROM interfaces "
			 "WHERE domain_uuid = ?1 ORDER BY idx",
	[ST_MAC_OWNER] = "SELECT d.name FROM interfaces i JOIN domains d ON d.uuid = i.domain_uuid "
			 "WHERE i.mac = ?1 COLLATE NOCASE AND i.domain_uuid != ?2",
	[ST_EVENT_INSERT] = "INSERT INTO events (at, type, domain_uuid, domain_name, caller, detail) "
			    "VALUES (?1, ?2, nullif(?3, ''), nullif(?4, ''), ?5, ?6)",
	[ST_EVENTS_AFTER] = "SELECT " EVENT_COLS " FROM events WHERE id > ?1 ORDER BY id LIMIT ?2",
	[ST_EVENTS_AFTER_DOMAIN] = "SELECT " EVENT_COLS " FROM events WHERE id > ?1 AND "
				   "(domain_uuid = lower(?3) OR domain_name = ?3) ORDER BY id LIMIT ?2",
	[ST_EVENT_LAST] = "SELECT coalesce(max(id), 0) FROM events",
	[ST_EVENTS_PRUNE] = "DELETE FROM events WHERE id <= ?1 - ?2 OR at < ?3",
	[ST_DATA_VERSION] = "PRAGMA data_version",
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	int version;
	int busy;
	long long keep_events;		/* 0: no count limit (store_set_event_limits) */
	long long event_max_age_s;	/* 0: no age limit */
	unsigned since_prune;		/* events appended since the last prune */
	uint64_t committed;		/* changes committed since open */
	uint64_t ended;			/* transactions ended (committed or rolled back): store_mark */
	void (*commit_hook)(void *arg, uint64_t seq);
	void *hook_arg;
	char err[512];
};

static int fail(struct store *s, const char *what)
{
	int code = sqlite3_extended_errcode(s->db);

	s->busy = (code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED;
	if (s->busy)
		snprintf(s->err, sizeof(s->err), "%s: the database is locked by another process", what);
	else
		snprintf(s->err, sizeof(s->err), "%s: %s", what, sqlite3_errmsg(s->db));
	return -1;
}

const char *store_error(struct store *s)
{
	return s->err;
}

int store_busy(struct store *s)
{
	return s->busy;
}

sqlite3 *store_handle(struct store *s)
{
	return s->db;
}

int store_latest_version(void)
{
	return (int)embedded_migrations_count;
}

int store_schema_version(struct store *s)
{
	return s->version;
}

void store_now(char buf[32])
{
	struct timeval tv;
	struct tm tm;
	char base[24];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, 32, "%s.%03dZ", base, (int)(tv.tv_usec / 1000));
}

/* ---- open and migrate ---- */

static int exec(struct store *s, const char *sql, const char *what)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fail(s, what);
		if (msg && !s->busy)
			snprintf(s->err, sizeof(s->err), "%s: %s", what, msg);
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int read_version(struct store *s)
{
	sqlite3_stmt *st;
	int rc;

	if (exec(s, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);"
		    "INSERT INTO schema_version (version) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM schema_version);",
		 "creating schema_version") != 0)
		return -1;
	if (sqlite3_prepare_v2(s->db, "SELECT version FROM schema_version", -1, &st, NULL) != SQLITE_OK)
		return fail(s, "reading schema_version");
	rc = sqlite3_step(st);
	s->version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	if (s->version < 0) {
		snprintf(s->err, sizeof(s->err), "schema_version table is empty or unreadable");
		return -1;
	}
	return 0;
}

static int migrate(struct store *s, int target)
{
	for (int v = s->version; v < target; v++) {
		const struct embedded_file *m = &embedded_migrations[v];
		char what[160], bump[80];
		if (atoi(m->name) != v + 1) {
			snprintf(s->err, sizeof(s->err), "migration %s is out of sequence: expected number %d",
				 m->name, v + 1);
			return -1;
		}
		snprintf(what, sizeof(what), "migration %s", m->name);
		if (exec(s, "BEGIN IMMEDIATE", what) != 0)
			return -1;
		snprintf(bump, sizeof(bump), "UPDATE schema_version SET version = %d", v + 1);
		if (exec(s, (const char *)m->data, what) != 0 || exec(s, bump, what) != 0) {
			char keep[512];
			memcpy(keep, s->err, sizeof(keep));
			exec(s, "ROLLBACK", "rollback");
			memcpy(s->err, keep, sizeof(keep));
			return -1;
		}
		if (exec(s, "COMMIT", what) != 0)
			return -1;
		s->version = v + 1;
	}
	return 0;
}

int store_open(struct store **out, const char *path, int target, char *err, size_t errlen)
{
	struct store *s = calloc(1, sizeof(*s));
	sqlite3_stmt *st;
	int latest = store_latest_version();

	*out = NULL;
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (target == STORE_LATEST)
		target = latest;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, s->db ? sqlite3_errmsg(s->db) : "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
	/* journal_mode answers with the mode in force: anything but wal is an error */
	if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL) != SQLITE_OK) {
		fail(s, "journal_mode");
		goto fail_msg;
	}
	if (sqlite3_step(st) != SQLITE_ROW || strcmp((const char *)sqlite3_column_text(st, 0), "wal")) {
		sqlite3_finalize(st);
		snprintf(s->err, sizeof(s->err), "%s: cannot switch to WAL journal (%s)", path,
			 sqlite3_errmsg(s->db));
		goto fail_msg;
	}
	sqlite3_finalize(st);
	if (exec(s, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;", "pragmas") != 0 ||
	    read_version(s) != 0)
		goto fail_msg;
	if (s->version > latest) {
		snprintf(s->err, sizeof(s->err), "%s has schema version %d, newer than this pvd knows (%d): "
			 "refusing to touch it", path, s->version, latest);
		goto fail_msg;
	}
	if (target > latest || target < s->version) {
		snprintf(s->err, sizeof(s->err), "cannot migrate from version %d to %d", s->version, target);
		goto fail_msg;
	}
	if (migrate(s, target) != 0)
		goto fail_msg;
	if (s->version == latest) {
		for (int i = 0; i < ST_COUNT; i++) {
			if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
					       NULL) != SQLITE_OK) {
				fail(s, "preparing statements");
				goto fail_msg;
			}
		}
	}
	*out = s;
	return 0;
fail_msg:
	snprintf(err, errlen, "%s", s->err);
fail:
	store_close(s);
	return -1;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	free(s);
}

/* ---- statement helpers ---- */

static sqlite3_stmt *stmt(struct store *s, enum stmt_id id)
{
	sqlite3_stmt *st = s->st[id];

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* Run a statement that returns no rows. */
static int step_done(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return fail(s, what);
	return 0;
}

static int begin(struct store *s)
{
	s->busy = 0;
	return step_done(s, stmt(s, ST_BEGIN), "starting a transaction");
}

static int commit(struct store *s)
{
	s->ended++;
	if (step_done(s, stmt(s, ST_COMMIT), "committing") != 0)
		return -1;
	s->committed++;
	if (s->commit_hook)
		s->commit_hook(s->hook_arg, s->committed);
	return 0;
}

uint64_t store_committed(struct store *s)
{
	return s->committed;
}

int store_mark(struct store *s, struct store_mark *m)
{
	sqlite3_stmt *st = stmt(s, ST_DATA_VERSION);
	int rc = sqlite3_step(st);

	m->own = s->ended;
	m->others = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : fail(s, "reading the data version");
}

int store_defer_sync(struct store *s, void (*hook)(void *arg, uint64_t seq), void *arg)
{
	if (exec(s, hook ? "PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0;"
			 : "PRAGMA synchronous = FULL; PRAGMA wal_autocheckpoint = 1000;",
		 "commit mode") != 0)
		return -1;
	s->commit_hook = hook;
	s->hook_arg = arg;
	return 0;
}

static int rollback(struct store *s)
{
	char keep[512];
	int busy = s->busy;

	memcpy(keep, s->err, sizeof(keep));
	s->ended++;
	if (!sqlite3_get_autocommit(s->db))
		step_done(s, stmt(s, ST_ROLLBACK), "rolling back");
	memcpy(s->err, keep, sizeof(keep));
	s->busy = busy;
	return -1;
}

static void copy_col(char *dst, size_t len, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(dst, len, "%s", t ? (const char *)t : "");
}

static char *dup_col(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? strdup((const char *)t) : NULL;
}

/* ---- domains ---- */

void store_domain_clear(struct store_domain *d)
{
	free(d->config);
	free(d->normalized);
	free(d->base_dir);
	memset(d, 0, sizeof(*d));
}

static int read_domain(sqlite3_stmt *st, struct store_domain *d)
{
	memset(d, 0, sizeof(*d));
	copy_col(d->uuid, sizeof(d->uuid), st, 0);
	copy_col(d->name, sizeof(d->name), st, 1);
	copy_col(d->config_format, sizeof(d->config_format), st, 2);
	d->config = dup_col(st, 3);
	d->normalized = dup_col(st, 4);
	copy_col(d->desired_state, sizeof(d->desired_state), st, 5);
	d->autostart = sqlite3_column_int(st, 6);
	copy_col(d->created, sizeof(d->created), st, 7);
	copy_col(d->updated, sizeof(d->updated), st, 8);
	d->transient = sqlite3_column_int(st, 9);
	d->base_dir = dup_col(st, 10);
	if (!d->config || !d->normalized) {
		store_domain_clear(d);
		return -1;
	}
	return 0;
}

int store_domain_find(struct store *s, const char *ref, struct store_domain *out)
{
	for (int pass = 0; pass < 2; pass++) {
		sqlite3_stmt *st;
		int rc;
		if (pass == 0 && !ids_is_uuid(ref))
			continue;
		st = stmt(s, pass == 0 ? ST_DOMAIN_BY_UUID : ST_DOMAIN_BY_NAME);
		bind_text(st, 1, ref);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			rc = read_domain(st, out);
			sqlite3_reset(st);
			if (rc != 0) {
				snprintf(s->err, sizeof(s->err), "out of memory reading domain");
				return -1;
			}
			return 0;
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return fail(s, "looking up a domain");
	}
	return 1;
}

int store_domain_count(struct store *s, int *count)
{
	sqlite3_stmt *st = stmt(s, ST_DOMAIN_COUNT);
	int rc = sqlite3_step(st);

	*count = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : fail(s, "counting domains");
}

int store_domain_list(struct store *s, int (*cb)(void *arg, const struct store_domain *d), void *arg)
{
	sqlite3_stmt *st = stmt(s, ST_DOMAIN_LIST);
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_domain d;
		int stop;
		if (read_domain(st, &d) != 0) {
			sqlite3_reset(st);
			snprintf(s->err, sizeof(s->err), "out of memory listing domains");
			return -1;
		}
		stop = cb(arg, &d);
		store_domain_clear(&d);
		if (stop) {
			sqlite3_reset(st);
			return -1;
		}
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : fail(s, "listing domains");
}

int store_disks(struct store *s, const char *uuid, int (*cb)(void *arg, const struct store_disk *d), void *arg)
{
	sqlite3_stmt *st = stmt(s, ST_DISKS_OF);
	int rc;

	bind_text(st, 1, uuid);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_disk d = {
			.idx = sqlite3_column_int(st, 0),
			.path = (char *)sqlite3_column_text(st, 2),
			.size_mib = sqlite3_column_int64(st, 3),
			.readonly = sqlite3_column_int(st, 4),
			.quota_mib = sqlite3_column_int64(st, 5),
			.iops_limit = sqlite3_column_int64(st, 6),
			.bps_limit = sqlite3_column_int64(st, 7),
		};
		copy_col(d.name, sizeof(d.name), st, 1);
		if (cb(arg, &d)) {
			sqlite3_reset(st);
			return -1;
		}
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : fail(s, "reading disks");
}

int store_ifaces(struct store *s, const char *uuid, int (*cb)(void *arg, const struct store_iface *i), void *arg)
{
	sqlite3_stmt *st = stmt(s, ST_IFACES_OF);
	int rc;

	bind_text(st, 1, uuid);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_iface f = {
			.idx = sqlite3_column_int(st, 0),
			.rate = sqlite3_column_int64(st, 3),
			.burst = sqlite3_column_int64(st, 4),
			.weight = sqlite3_column_int(st, 5),
		};
		copy_col(f.mac, sizeof(f.mac), st, 1);
		copy_col(f.bridge, sizeof(f.bridge), st, 2);
		if (cb(arg, &f)) {
			sqlite3_reset(st);
			return -1;
		}
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : fail(s, "reading interfaces");
}

int store_mac_owner(struct store *s, const char *mac, const char *except_uuid, char owner[64])
{
	sqlite3_stmt *st = stmt(s, ST_MAC_OWNER);
	int rc;

	bind_text(st, 1, mac);
	bind_text(st, 2, except_uuid ? except_uuid : "");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		copy_col(owner, 64, st, 0);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : fail(s, "looking up a MAC");
}

/* ---- changes ---- */

/*
 * The event log is bounded: within the transaction of an append, every
 * PRUNE_EVERY appends (a tenth of the count limit when that is smaller, so
 * the log never holds more than keep + keep / 10 rows), rows beyond the
 * newest keep_events and rows older than event_max_age_s go.
 */
#define PRUNE_EVERY 256

static int prune_events(struct store *s, long long last_id)
{
	sqlite3_stmt *st;
	char cutoff[32] = "";
	unsigned every = PRUNE_EVERY;

	if (!s->keep_events && !s->event_max_age_s)
		return 0;
	if (s->keep_events && (unsigned long long)s->keep_events / 10 < every)
		every = s->keep_events / 10 ? (unsigned)(s->keep_events / 10) : 1;
	if (++s->since_prune < every)
		return 0;
	s->since_prune = 0;
	if (s->event_max_age_s) {
		time_t t = time(NULL) - (time_t)s->event_max_age_s;
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(cutoff, sizeof(cutoff), "%Y-%m-%dT%H:%M:%S", &tm);
	}
	st = stmt(s, ST_EVENTS_PRUNE);
	sqlite3_bind_int64(st, 1, last_id);
	sqlite3_bind_int64(st, 2, s->keep_events ? s->keep_events : last_id);
	bind_text(st, 3, cutoff);
	return step_done(s, st, "pruning the event log");
}

void store_set_event_limits(struct store *s, long long keep, long long max_age_s)
{
	s->keep_events = keep;
	s->event_max_age_s = max_age_s;
}

static int insert_event(struct store *s, struct store_event *ev)
{
	sqlite3_stmt *st = stmt(s, ST_EVENT_INSERT);

	if (!ev->at[0])
		store_now(ev->at);
	bind_text(st, 1, ev->at);
	bind_text(st, 2, ev->type);
	bind_text(st, 3, ev->domain_uuid);
	bind_text(st, 4, ev->domain_name);
	bind_text(st, 5, ev->caller);
	bind_text(st, 6, ev->detail ? ev->detail : "{}");
	if (step_done(s, st, "appending to the event log") != 0)
		return -1;
	ev->id = sqlite3_last_insert_rowid(s->db);
	return prune_events(s, ev->id);
}

static int put_devices(struct store *s, const struct store_put *p)
{
	const char *uuid = p->domain->uuid;
	const struct domain_config *c = p->config;
	sqlite3_stmt *st;

	st = stmt(s, ST_DISKS_DELETE);
	bind_text(st, 1, uuid);
	if (step_done(s, st, "replacing disks") != 0)
		return -1;
	st = stmt(s, ST_IFACES_DELETE);
	bind_text(st, 1, uuid);
	if (step_done(s, st, "replacing interfaces") != 0)
		return -1;
	for (int i = 0; i < c->ndisks; i++) {
		const struct disk_config *d = &c->disks[i];
		st = stmt(s, ST_DISK_INSERT);
		bind_text(st, 1, uuid);
		sqlite3_bind_int(st, 2, d->index);
		bind_text(st, 3, d->name);
		bind_text(st, 4, d->path);
		sqlite3_bind_int64(st, 5, d->size_mib);
		sqlite3_bind_int(st, 6, d->readonly);
		sqlite3_bind_int64(st, 7, d->quota_mib);
		sqlite3_bind_int64(st, 8, d->iops);
		sqlite3_bind_int64(st, 9, d->bps);
		if (step_done(s, st, "storing a disk") != 0)
			return -1;
	}
	for (int i = 0; i < c->nvifs; i++) {
		const struct vif_config *v = &c->vifs[i];
		st = stmt(s, ST_IFACE_INSERT);
		bind_text(st, 1, uuid);
		sqlite3_bind_int(st, 2, v->devid);
		bind_text(st, 3, p->macs[i]);
		bind_text(st, 4, v->bridge);
		sqlite3_bind_int64(st, 5, v->rate);
		sqlite3_bind_int64(st, 6, v->burst);
		sqlite3_bind_int(st, 7, v->weight);
		if (step_done(s, st, "storing an interface") != 0)
			return -1;
	}
	return 0;
}

int store_domain_put(struct store *s, const struct store_put *p, struct store_event *ev)
{
	const struct store_domain *d = p->domain;
	sqlite3_stmt *st;

	if (begin(s) != 0)
		return -1;
	st = stmt(s, p->replace ? ST_DOMAIN_UPDATE : ST_DOMAIN_INSERT);
	bind_text(st, 1, d->uuid);
	bind_text(st, 2, d->name);
	bind_text(st, 3, d->config_format);
	bind_text(st, 4, d->config);
	bind_text(st, 5, d->normalized);
	bind_text(st, 6, d->desired_state[0] ? d->desired_state : "shut-off");
	sqlite3_bind_int(st, 7, d->autostart);
	bind_text(st, 8, d->created);
	bind_text(st, 9, d->updated);
	sqlite3_bind_int(st, 10, d->transient ? 1 : 0);
	bind_text(st, 11, d->base_dir);
	if (step_done(s, st, p->replace ? "updating the domain" : "storing the domain") != 0)
		return rollback(s);
	if (p->replace && sqlite3_changes(s->db) != 1) {
		snprintf(s->err, sizeof(s->err), "domain %s vanished during the update", d->uuid);
		return rollback(s);
	}
	if (put_devices(s, p) != 0 || insert_event(s, ev) != 0 || commit(s) != 0)
		return rollback(s);
	return 0;
}

int store_domain_delete(struct store *s, const char *uuid, struct store_event *ev)
{
	sqlite3_stmt *st;

	if (begin(s) != 0)
		return -1;
	st = stmt(s, ST_DOMAIN_DELETE);
	bind_text(st, 1, uuid);
	if (step_done(s, st, "deleting the domain") != 0)
		return rollback(s);
	if (sqlite3_changes(s->db) != 1) {
		snprintf(s->err, sizeof(s->err), "domain %s is not in the store", uuid);
		return rollback(s);
	}
	if (insert_event(s, ev) != 0 || commit(s) != 0)
		return rollback(s);
	return 0;
}

int store_domain_set_autostart(struct store *s, const char *uuid, int on, const char *now,
			       struct store_event *ev)
{
	sqlite3_stmt *st;

	if (begin(s) != 0)
		return -1;
	st = stmt(s, ST_DOMAIN_AUTOSTART);
	bind_text(st, 1, uuid);
	sqlite3_bind_int(st, 2, on ? 1 : 0);
	bind_text(st, 3, now);
	if (step_done(s, st, "setting autostart") != 0)
		return rollback(s);
	if (insert_event(s, ev) != 0 || commit(s) != 0)
		return rollback(s);
	return 0;
}

int store_domain_set_desired(struct store *s, const char *uuid, const char *state, const char *now,
			      struct store_event *ev)
{
	sqlite3_stmt *st;

	if (begin(s) != 0)
		return -1;
	st = stmt(s, ST_DOMAIN_DESIRED);
	bind_text(st, 1, uuid);
	bind_text(st, 2, state);
	bind_text(st, 3, now);
	if (step_done(s, st, "setting the desired state") != 0)
		return rollback(s);
	if (sqlite3_changes(s->db) != 1) {
		snprintf(s->err, sizeof(s->err), "domain %s is not in the store", uuid);
		return rollback(s);
	}
	if ((ev && insert_event(s, ev) != 0) || commit(s) != 0)
		return rollback(s);
	return 0;
}

int store_event_append(struct store *s, struct store_event *ev)
{
	if (begin(s) != 0)
		return -1;
	if (insert_event(s, ev) != 0 || commit(s) != 0)
		return rollback(s);
	return 0;
}

int store_events(struct store *s, long long after, int limit, const char *domain,
		 int (*cb)(void *arg, const struct store_event *e), void *arg)
{
	sqlite3_stmt *st = stmt(s, domain ? ST_EVENTS_AFTER_DOMAIN : ST_EVENTS_AFTER);
	int rc;

	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int(st, 2, limit);
	if (domain)
		bind_text(st, 3, domain);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_event e = { .id = sqlite3_column_int64(st, 0) };
		copy_col(e.at, sizeof(e.at), st, 1);
		copy_col(e.type, sizeof(e.type), st, 2);
		copy_col(e.domain_uuid, sizeof(e.domain_uuid), st, 3);
		copy_col(e.domain_name, sizeof(e.domain_name), st, 4);
		copy_col(e.caller, sizeof(e.caller), st, 5);
		e.detail = (const char *)sqlite3_column_text(st, 6);
		if (cb(arg, &e)) {
			sqlite3_reset(st);
			return -1;
		}
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : fail(s, "reading the event log");
}

int store_last_event_id(struct store *s, long long *id)
{
	sqlite3_stmt *st = stmt(s, ST_EVENT_LAST);
	int rc = sqlite3_step(st);

	*id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : fail(s, "reading the event log");
}
