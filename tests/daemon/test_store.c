/*
 * test_store.c - the sqlite store on real database files: migrations from
 * an empty database and from schema version 1, refusal of a newer schema,
 * changes with their event-log rows, and a process killed in the middle of
 * a transaction leaving a consistent database.
 */
#include "unit.h"

#include <sys/wait.h>

#include "config.h"
#include "store.h"

static char dir[256], db[300];

static int setup(void **state)
{
	(void)state;
	make_tmpdir(dir, sizeof(dir));
	snprintf(db, sizeof(db), "%s/pvd.db", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rm_tmpdir(dir);
	return 0;
}

static long long scalar(struct store *s, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -1;

	assert_int_equal(sqlite3_prepare_v2(store_handle(s), sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* A validated config and the store_put for a new domain called name. */
struct fixture {
	struct config_checker *checker;
	json_object *norm;
	struct domain_config cfg;
	struct store_domain dom;
	struct store_put put;
	struct store_event ev;
};

static void fixture_init(struct fixture *f, const char *name, const char *uuid)
{
	char text[512], err[256];
	struct schema_report rep;

	memset(f, 0, sizeof(*f));
	f->checker = config_checker_new(err, sizeof(err));
	assert_non_null(f->checker);
	snprintf(text, sizeof(text), "{\"name\":\"%s\",\"kernel\":\"k.elf\",\"memory\":\"64M\","
		 "\"disks\":[{\"name\":\"root\",\"size\":\"1G\"},{\"name\":\"data\",\"size\":10}],"
		 "\"vifs\":[{},{\"bridge\":\"br0\"}]}", name);
	f->norm = config_check_text(f->checker, text, strlen(text), CONFIG_JSON, &rep);
	assert_non_null(f->norm);
	assert_int_equal(domain_config_read(f->norm, &f->cfg), 0);
	snprintf(f->dom.uuid, sizeof(f->dom.uuid), "%s", uuid);
	snprintf(f->dom.name, sizeof(f->dom.name), "%s", name);
	snprintf(f->dom.config_format, sizeof(f->dom.config_format), "json");
	f->dom.config = strdup(text);
	f->dom.normalized = strdup(json_object_to_json_string(f->norm));
	store_now(f->dom.created);
	store_now(f->dom.updated);
	f->put.domain = &f->dom;
	f->put.config = &f->cfg;
	snprintf(f->put.macs[0], 18, "00:16:3e:00:00:%02x", (unsigned)(uuid[0] & 0x7f));
	snprintf(f->put.macs[1], 18, "00:16:3e:00:01:%02x", (unsigned)(uuid[0] & 0x7f));
	f->ev.detail = "{}";
	snprintf(f->ev.type, sizeof(f->ev.type), "domain.defined");
	snprintf(f->ev.caller, sizeof(f->ev.caller), "test");
	snprintf(f->ev.domain_uuid, sizeof(f->ev.domain_uuid), "%s", uuid);
	snprintf(f->ev.domain_name, sizeof(f->ev.domain_name), "%s", name);
}

static void fixture_free(struct fixture *f)
{
	store_domain_clear(&f->dom);
	json_object_put(f->norm);
	config_checker_free(f->checker);
}

#define UUID_A "aaaaaaaa-0000-4000-8000-000000000001"
#define UUID_B "bbbbbbbb-0000-4000-8000-000000000002"

static void migrations_from_empty(void **state)
{
	struct store *s;
	char err[512];

	(void)state;
	assert_int_equal(store_open(&s, db, STORE_LATEST, err, sizeof(err)), 0);
	assert_int_equal(store_schema_version(s), store_latest_version());
	assert_true(store_latest_version() >= 2);
	assert_int_equal(scalar(s, "SELECT count(*) FROM sqlite_master WHERE name IN "
				   "('domains','disks','interfaces','events','schema_version')"), 5);
	assert_int_equal(scalar(s, "PRAGMA foreign_keys"), 1);
	assert_int_equal(scalar(s, "SELECT version FROM schema_version"), store_latest_version());
	store_close(s);
	/* WAL is a property of the file: a fresh connection sees it */
	assert_int_equal(store_open(&s, db, STORE_LATEST, err, sizeof(err)), 0);
	{
		sqlite3_stmt *st;
		assert_int_equal(sqlite3_prepare_v2(store_handle(s), "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
		sqlite3_finalize(st);
	}
	store_close(s);
}

static void migrations_from_version_1(void **state)
{
	struct store *s;
	struct store_domain d;
	char err[512];

	(void)state;
	assert_int_equal(store_open(&s, db, 1, err, sizeof(err)), 0);
	assert_int_equal(store_schema_version(s), 1);
	assert_int_equal(scalar(s, "SELECT count(*) FROM sqlite_master WHERE name = 'events'"), 0);
	assert_int_equal(sqlite3_exec(store_handle(s),
		"INSERT INTO domains VALUES ('" UUID_A "', 'old', 'json', '{}', "
		"'{\"name\":\"old\",\"kernel\":\"k\",\"memory\":8,\"maxmem\":8,\"vcpus\":1}', 'shut-off', 1, 't0', 't0');"
		"INSERT INTO disks VALUES ('" UUID_A "', 0, 'root', NULL, 100, 0);"
		"INSERT INTO interfaces VALUES ('" UUID_A "', 0, '00:16:3e:01:02:03', 'internal');",
		NULL, NULL, NULL), SQLITE_OK);
	store_close(s);

	assert_int_equal(store_open(&s, db, STORE_LATEST, err, sizeof(err)), 0);
	assert_int_equal(store_schema_version(s), store_latest_version());
	assert_int_equal(store_domain_find(s, "old", &d), 0);
	assert_string_equal(d.uuid, UUID_A);
	assert_int_equal(d.autostart, 1);
	store_domain_clear(&d);
	assert_int_equal(scalar(s, "SELECT quota_mib FROM disks WHERE name = 'root'"), 0);
	assert_int_equal(scalar(s, "SELECT weight FROM interfaces"), 256);
	assert_int_equal(scalar(s, "SELECT count(*) FROM events"), 0);
	store_close(s);
}

static void newer_schema_is_refused(void **state)
{
	struct store *s;
	char err[512];

	(void)state;
	assert_int_equal(store_open(&s, db, STORE_LATEST, err, sizeof(err)), 0);
	assert_int_equal(sqlite3_exec(store_handle(s), "UPDATE schema_version SET version = 99", NULL, NULL, NULL),
			 SQLITE_OK);
	store_close(s);
	assert_int_equal(store_open(&s, db, STORE_LATEST, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "newer"));
	assert_null(s);
}

static void put_find_delete(void **state)
{
	struct store *s;
	struct fixture f;
	struct store_domain d;
	char err[512], owner[64];
	int n;

	(void)state;
	assert_int_equal(store_open(&s, db, STORE_LATEST, err, sizeof(err)), 0);
	fixture_init(&f, "web", UUID_A);
	assert_int_equal(store_domain_put(s, &f.put, &f.ev), 0);
	assert_true(f.ev.id > 0);
	assert_int_equal(store_domain_find(s, UUID_A, &d), 0);
	assert_string_equal(d.name, "web");
	store_domain_clear(&d);
	assert_int_equal(store_domain_find(s, "web", &d), 0);
	store_domain_clear(&d);
	assert_int_equal(store_domain_find(s, "nope", &d), 1);
	assert_int_equal(scalar(s, "SELECT count(*) FROM disks"), 2);
	assert_int_equal(scalar(s, "SELECT size_mib FROM disks WHERE name = 'root'"), 1024);
	assert_int_equal(store_mac_owner(s, f.put.macs[0], UUID_B, owner), 1);
	assert_string_equal(owner, "web");
	assert_int_equal(store_mac_owner(s, f.put.macs[0], UUID_A, owner), 0);

	/* the same name again violates UNIQUE: nothing of it may remain */
	f.ev.id = 0;
	snprintf(f.dom.uuid, sizeof(f.dom.uuid), UUID_B);
	snprintf(f.put.macs[0], 18, "00:16:3e:0f:0f:0f");
	snprintf(f.put.macs[1], 18, "00:16:3e:0f:0f:1f");
	assert_int_equal(store_domain_put(s, &f.put, &f.ev), -1);
	assert_non_null(strstr(store_error(s), "UNIQUE"));
	assert_int_equal(store_domain_count(s, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(scalar(s, "SELECT count(*) FROM events"), 1);
	assert_int_equal(scalar(s, "SELECT count(*) FROM disks"), 2);

	assert_int_equal(store_domain_delete(s, UUID_A, &f.ev), 0);
	assert_int_equal(scalar(s, "SELECT count(*) FROM disks"), 0);
	assert_int_equal(scalar(s, "SELECT count(*) FROM interfaces"), 0);
	assert_int_equal(scalar(s, "SELECT count(*) FROM events"), 2);
	assert_int_equal(store_domain_delete(s, UUID_A, &f.ev), -1);
	fixture_free(&f);
	store_close(s);
}

static void die_on_interface_insert(void *arg, int op, const char *dbname, const char *table, sqlite3_int64 rowid)
{
	(void)arg;
	(void)dbname;
	(void)rowid;
	if (op == SQLITE_INSERT && !strcmp(table, "interfaces"))
		_exit(42);	/* the domain and disk rows are written, the commit is not */
}

static void crash_mid_transaction(void **state)
{
	struct store *s;
	struct fixture f;
	struct store_domain d;
	char err[512];
	pid_t pid;
	int status, n;

	(void)state;
	assert_int_equal(store_open(&s, db, STORE_LATEST, err, sizeof(err)), 0);
	store_close(s);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (store_open(&s, db, STORE_LATEST, err, sizeof(err)) != 0)
			_exit(1);
		fixture_init(&f, "crashy", UUID_A);
		sqlite3_update_hook(store_handle(s), die_on_interface_insert, NULL);
		store_domain_put(s, &f.put, &f.ev);
		_exit(2);	/* not reached when the hook fired */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 42);

	assert_int_equal(store_open(&s, db, STORE_LATEST, err, sizeof(err)), 0);
	assert_int_equal(scalar(s, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check != 'ok'"), 0);
	assert_int_equal(scalar(s, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	assert_int_equal(store_domain_find(s, "crashy", &d), 1);
	assert_int_equal(store_domain_count(s, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(scalar(s, "SELECT count(*) FROM disks"), 0);
	assert_int_equal(scalar(s, "SELECT count(*) FROM events"), 0);
	/* and the same change succeeds afterwards */
	fixture_init(&f, "crashy", UUID_A);
	assert_int_equal(store_domain_put(s, &f.put, &f.ev), 0);
	assert_int_equal(scalar(s, "SELECT count(*) FROM interfaces"), 2);
	fixture_free(&f);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(migrations_from_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(migrations_from_version_1, setup, teardown),
		cmocka_unit_test_setup_teardown(newer_schema_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(put_find_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(crash_mid_transaction, setup, teardown),
	};
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
