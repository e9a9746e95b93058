/*
 * bulk.c - pvctl's commands over many domains, client side over the
 * per-domain methods: `start --all` (every defined domain that is off) and
 * `shutdown --all` (every running or paused one, asked all at once, then
 * waited for together), plus the wait-until-off that the one-domain
 * shutdown shares. Each domain gets one line (or one JSON object); the exit
 * status is 1 if any domain failed, so a host shutdown script can tell.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pvctl.h"

struct target {
	char uuid[64], name[128];
	int done, failed;
	json_object *result;	/* the last result, or an {"error": ...} object */
};

static json_object *uuid_params(const char *uuid)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, "domain", json_object_new_string(uuid));
	return p;
}

static int is_off(const char *state)
{
	return !strcmp(state, "shut-off") || !strcmp(state, "shut-down") || !strcmp(state, "crashed");
}

static void set_failed(struct target *t, const char *why)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "uuid", json_object_new_string(t->uuid));
	json_object_object_add(o, "name", json_object_new_string(t->name));
	json_object_object_add(o, "error", json_object_new_string(why));
	json_object_put(t->result);
	t->result = o;
	t->failed = t->done = 1;
}

/* The managed domains domain.list reports (all: defined ones too) whose
 * state pick accepts; *n gets their number. NULL on a failed call. */
static struct target *select_domains(struct ctl *ctl, int all, int (*pick)(const char *state), int *n)
{
	json_object *p = json_object_new_object(), *r;
	struct target *t;
	size_t len;

	json_object_object_add(p, "all", json_object_new_boolean(all));
	if (ctl_call(ctl, "domain.list", p, &r) != 0)
		return NULL;
	len = json_object_array_length(r);
	t = calloc(len + 1, sizeof(*t));
	*n = 0;
	for (size_t i = 0; t && i < len; i++) {
		json_object *d = json_object_array_get_idx(r, i), *managed;
		if (json_object_object_get_ex(d, "managed", &managed) && !json_object_get_boolean(managed))
			continue;
		if (!pick(jstr(d, "state", "?")))
			continue;
		snprintf(t[*n].uuid, sizeof(t[*n].uuid), "%s", jstr(d, "uuid", "?"));
		snprintf(t[*n].name, sizeof(t[*n].name), "%s", jstr(d, "name", "?"));
		(*n)++;
	}
	json_object_put(r);
	if (!t)
		fprintf(stderr, "pvctl: out of memory\n");
	return t;
}

/* One line per domain; with --json an array (--all) or the one result. 1 if any failed. */
static int report(struct ctl *ctl, struct target *t, int n, const char *what)
{
	int single = !(ctl->flags & F_ALL);

	json_object *arr = json_object_new_array();
	int failed = 0;

	for (int i = 0; i < n; i++) {
		failed |= t[i].failed;
		if (ctl->flags & F_JSON) {
			json_object_array_add(arr, json_object_get(t[i].result));
		} else if (t[i].failed) {
			fprintf(stderr, "pvctl: domain \"%s\": %s\n", t[i].name, jstr(t[i].result, "error", "?"));
		} else {
			long long domid = jint(t[i].result, "domid", -1);
			if (domid >= 0)
				printf("Domain \"%s\" %s (domid %lld, %s)\n", t[i].name, what, domid,
				       jstr(t[i].result, "state", "?"));
			else
				printf("Domain \"%s\" %s (%s)\n", t[i].name, what, jstr(t[i].result, "state", "?"));
		}
		json_object_put(t[i].result);
	}
	if (ctl->flags & F_JSON)
		print_json(single && n == 1 ? json_object_array_get_idx(arr, 0) : arr);
	else if (n == 0)
		printf("No domain to act on\n");
	json_object_put(arr);
	free(t);
	return failed ? EXIT_ERROR : EXIT_OK;
}

/*
 * Poll domain.info until every target not yet done is off, or until
 * deadline (time(NULL) seconds). A domain that is gone (transient, removed
 * when it stopped) counts as off. Targets still on at the deadline fail.
 */
static void wait_off(struct ctl *ctl, struct target *t, int n, time_t deadline)
{
	for (;;) {
		int pending = 0;
		for (int i = 0; i < n; i++) {
			json_object *r;
			struct pvdc_error err;
			if (t[i].done)
				continue;
			if (pvdc_call(ctl->conn, "domain.info", uuid_params(t[i].uuid), &r, &err) != 0) {
				if (err.code == PVD_ERR_NO_SUCH_DOMAIN) {
					json_object *o = json_object_new_object();
					json_object_object_add(o, "uuid", json_object_new_string(t[i].uuid));
					json_object_object_add(o, "name", json_object_new_string(t[i].name));
					json_object_object_add(o, "state", json_object_new_string("shut-off, removed: it was transient"));
					json_object_put(t[i].result);
					t[i].result = o;
					t[i].done = 1;
				} else {
					set_failed(&t[i], err.message);
				}
				pvdc_error_clear(&err);
				continue;
			}
			if (is_off(jstr(r, "state", "?"))) {
				json_object_put(t[i].result);
				t[i].result = r;
				t[i].done = 1;
				continue;
			}
			json_object_put(r);
			pending++;
		}
		if (!pending)
			return;
		if (time(NULL) > deadline) {
			for (int i = 0; i < n; i++)
				if (!t[i].done)
					set_failed(&t[i], "still not off when the wait ended");
			return;
		}
		usleep(200 * 1000);
	}
}

static int running_or_paused(const char *state)
{
	return !strcmp(state, "running") || !strcmp(state, "paused");
}

static int shut_off(const char *state)
{
	return !strcmp(state, "shut-off");
}

/*
 * Ask every target (uuid set) to shut down with timeout seconds before pvd
 * destroys it, then, unless nowait, wait for all. Exit status as report.
 */
static int shutdown_targets(struct ctl *ctl, struct target *t, int n, long long timeout, int nowait)
{
	for (int i = 0; i < n; i++) {
		json_object *p = uuid_params(t[i].uuid), *r;
		struct pvdc_error err;
		json_object_object_add(p, "timeout", json_object_new_int64(timeout));
		if (ctl->flags & F_FORCE)
			json_object_object_add(p, "force", json_object_new_boolean(1));
		if (pvdc_call(ctl->conn, "domain.shutdown", p, &r, &err) != 0) {
			set_failed(&t[i], err.message);
			pvdc_error_clear(&err);
			continue;
		}
		if (!(ctl->flags & (F_FORCE | F_JSON)) && !strcmp(jstr(r, "shutdown_by", ""), "hypervisor"))
			printf("Domain \"%s\" does not watch control/shutdown (no control/feature-poweroff): the "
			       "hypervisor shut it down\n", jstr(r, "name", "?"));
		t[i].result = r;
		t[i].done = nowait;
	}
	if (!nowait)	/* pvd destroys what is still there after timeout s */
		wait_off(ctl, t, n, time(NULL) + timeout + 10);
	return report(ctl, t, n, nowait ? "is shutting down" : "shut down");
}

int cmd_shutdown_domains(struct ctl *ctl, long long timeout)
{
	struct target *t;
	int n = 1;

	if (!ctl_conn(ctl))
		return EXIT_ERROR;
	if (ctl->flags & F_ALL) {
		t = select_domains(ctl, 0, running_or_paused, &n);
		if (!t)
			return EXIT_ERROR;
	} else {
		json_object *r;
		if (ctl_call(ctl, "domain.info", uuid_params(ctl->argv[0]), &r) != 0)
			return EXIT_ERROR;
		t = calloc(1, sizeof(*t));
		if (!t) {
			json_object_put(r);
			return EXIT_ERROR;
		}
		snprintf(t->uuid, sizeof(t->uuid), "%s", jstr(r, "uuid", "?"));
		snprintf(t->name, sizeof(t->name), "%s", jstr(r, "name", "?"));
		json_object_put(r);
	}
	return shutdown_targets(ctl, t, n, timeout, !!(ctl->flags & F_NOWAIT));
}

int cmd_start_all(struct ctl *ctl)
{
	int n;
	struct target *t = select_domains(ctl, 1, shut_off, &n);

	if (!t)
		return EXIT_ERROR;
	for (int i = 0; i < n; i++) {
		json_object *r;
		struct pvdc_error err;
		if (pvdc_call(ctl->conn, "domain.start", uuid_params(t[i].uuid), &r, &err) != 0) {
			set_failed(&t[i], err.message);
			pvdc_error_clear(&err);
			continue;
		}
		t[i].result = r;
		t[i].done = 1;
	}
	return report(ctl, t, n, "started");
}
