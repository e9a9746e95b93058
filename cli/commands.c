/*
 * commands.c - pvctl's command handlers. Each checks its arguments, makes
 * its calls through ctl_call (which prints the one-line error), and prints
 * a table / lines for people or the raw result with --json. Returns the
 * exit status.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "pvctl.h"

#define CONFIG_FILE_MAX (256 * 1024)

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "re");
	struct stat st;
	char *buf;
	size_t n;

	if (!f) {
		fprintf(stderr, "pvctl: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > CONFIG_FILE_MAX) {
		fprintf(stderr, "pvctl: %s: not a regular file of at most %d bytes\n", path, CONFIG_FILE_MAX);
		fclose(f);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, (size_t)st.st_size, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* {"config": <file text>[, "format": "xml"]}; the file names the errors. */
static json_object *config_params(struct ctl *ctl, const char *path)
{
	char *text = read_file(path);
	json_object *p;
	size_t n = strlen(path);

	if (!text)
		return NULL;
	ctl->config_file = path;
	p = json_object_new_object();
	json_object_object_add(p, "config", json_object_new_string(text));
	if (n > 4 && !strcmp(path + n - 4, ".xml"))
		json_object_object_add(p, "format", json_object_new_string("xml"));
	else if (n > 5 && !strcmp(path + n - 5, ".json"))
		json_object_object_add(p, "format", json_object_new_string("json"));
	free(text);
	return p;
}

/* config_params plus base_dir: the config file's directory, against which pvd
 * resolves a relative kernel path. */
static json_object *config_params_dir(struct ctl *ctl, const char *path)
{
	json_object *p = config_params(ctl, path);
	char abs[PATH_MAX];

	if (p && realpath(path, abs))
		json_object_object_add(p, "base_dir", json_object_new_string(dirname(abs)));
	return p;
}

static json_object *dom_params(const char *dom)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, "domain", json_object_new_string(dom));
	return p;
}

int cmd_define(struct ctl *ctl)
{
	json_object *p = config_params_dir(ctl, ctl->argv[0]), *r;

	if (!p)
		return EXIT_ERROR;
	if (ctl->flags & F_REPLACE)
		json_object_object_add(p, "replace", json_object_new_boolean(1));
	if (ctl_call(ctl, "domain.define", p, &r) != 0)
		return EXIT_ERROR;
	if (ctl->flags & F_JSON)
		print_json(r);
	else
		printf("Domain \"%s\" %s (uuid %s)\n", jstr(r, "name", "?"),
		       ctl->flags & F_REPLACE ? "redefined" : "defined", jstr(r, "uuid", "?"));
	json_object_put(r);
	return EXIT_OK;
}

int cmd_undefine(struct ctl *ctl)
{
	json_object *r, *p = dom_params(ctl->argv[0]);

	if (ctl->flags & F_REMOVE_STORAGE)
		json_object_object_add(p, "remove_storage", json_object_new_boolean(1));
	if (ctl_call(ctl, "domain.undefine", p, &r) != 0)
		return EXIT_ERROR;
	if (ctl->flags & F_JSON)
		print_json(r);
	else if (ctl->flags & F_REMOVE_STORAGE)
		printf("Domain \"%s\" undefined (uuid %s), %lld pool image(s) deleted\n", jstr(r, "name", "?"),
		       jstr(r, "uuid", "?"), jint(r, "removed_images", 0));
	else
		printf("Domain \"%s\" undefined (uuid %s)\n", jstr(r, "name", "?"), jstr(r, "uuid", "?"));
	json_object_put(r);
	return EXIT_OK;
}

int cmd_adopt(struct ctl *ctl)
{
	json_object *p = json_object_new_object(), *r;

	json_object_object_add(p, "uuid", json_object_new_string(ctl->argv[0]));
	if (ctl->argc > 1)
		json_object_object_add(p, "name", json_object_new_string(ctl->argv[1]));
	if (ctl_call(ctl, "domain.adopt", p, &r) != 0)
		return EXIT_ERROR;
	if (ctl->flags & F_JSON)
		print_json(r);
	else
		printf("Domain \"%s\" adopted (uuid %s, domid %lld): pvd manages it now\n", jstr(r, "name", "?"),
		       jstr(r, "uuid", "?"), jint(r, "domid", -1));
	json_object_put(r);
	return EXIT_OK;
}

int cmd_list(struct ctl *ctl)
{
	static const char *const hdr[] = { "ID", "NAME", "STATE", "MEMORY", "VCPUS", "CPU(s)", "AUTOSTART", "UUID" };
	json_object *p = json_object_new_object(), *r;
	struct table *t;

	json_object_object_add(p, "all", json_object_new_boolean(!!(ctl->flags & F_ALL)));
	if ((ctl->flags & (F_NAME | F_JSON)) == F_NAME) {	/* the names are all it prints */
		json_object *fields = json_object_new_array();
		json_object_array_add(fields, json_object_new_string("name"));
		json_object_object_add(p, "fields", fields);
	}
	if (ctl_call(ctl, "domain.list", p, &r) != 0)
		return EXIT_ERROR;
	if (ctl->flags & F_JSON) {
		print_json(r);
		json_object_put(r);
		return EXIT_OK;
	}
	if (ctl->flags & F_NAME) {	/* one name a line, for scripts and completion */
		for (size_t i = 0; i < json_object_array_length(r); i++)
			printf("%s\n", jstr(json_object_array_get_idx(r, i), "name", "?"));
		json_object_put(r);
		return EXIT_OK;
	}
	t = table_new(8, hdr);
	for (size_t i = 0; i < json_object_array_length(r); i++) {
		json_object *d = json_object_array_get_idx(r, i);
		char id[24] = "-", mem[32], vcpus[24], cpu[32] = "-";
		long long domid = jint(d, "domid", -1), ns = jint(d, "cpu_time_ns", -1);
		if (domid >= 0)
			snprintf(id, sizeof(id), "%lld", domid);
		if (ns >= 0)
			snprintf(cpu, sizeof(cpu), "%.1f", (double)ns / 1e9);
		snprintf(mem, sizeof(mem), "%lld MiB", jint(d, "memory_mib", 0));
		snprintf(vcpus, sizeof(vcpus), "%lld", jint(d, "vcpus", 0));
		/* list --all also shows the hypervisor's domains pvd does not manage */
		char state[48];
		json_object *managed;
		int unmanaged = json_object_object_get_ex(d, "managed", &managed) && !json_object_get_boolean(managed);
		snprintf(state, sizeof(state), "%s%s", jstr(d, "state", "?"), unmanaged ? ", unmanaged" : "");
		const char *row[] = { id, jstr(d, "name", "?"), state, mem, vcpus, cpu,
				      unmanaged ? "-" : jbool(d, "autostart") ? "yes" : "no", jstr(d, "uuid", "?") };
		table_row(t, row);
	}
	table_print(t, stdout);
	json_object_put(r);
	return EXIT_OK;
}

int cmd_info(struct ctl *ctl)
{
	json_object *r, *a, *cpu;

	if (ctl_call(ctl, "domain.info", dom_params(ctl->argv[0]), &r) != 0)
		return EXIT_ERROR;
	if (ctl->flags & F_JSON) {
		print_json(r);
		json_object_put(r);
		return EXIT_OK;
	}
	printf("%-13s %s\n", "Name:", jstr(r, "name", "?"));
	printf("%-13s %s\n", "UUID:", jstr(r, "uuid", "?"));
	printf("%-13s %s\n", "Domid:", jstr(r, "domid", "-"));
	printf("%-13s %s (desired: %s)\n", "State:", jstr(r, "state", "?"), jstr(r, "desired_state", "?"));
	printf("%-13s %s\n", "Autostart:", jbool(r, "autostart") ? "yes" : "no");
	if (jint(r, "target_mib", -1) >= 0)
		printf("%-13s %lld MiB (target %lld MiB, max %lld MiB)\n", "Memory:", jint(r, "memory_mib", 0),
		       jint(r, "target_mib", 0), jint(r, "maxmem_mib", 0));
	else
		printf("%-13s %lld MiB (max %lld MiB)\n", "Memory:", jint(r, "memory_mib", 0), jint(r, "maxmem_mib", 0));
	printf("%-13s %lld\n", "vCPUs:", jint(r, "vcpus", 0));
	if (json_object_object_get_ex(r, "cpu", &cpu))
		printf("%-13s weight %lld, cap %lld%%\n", "Scheduler:", jint(cpu, "weight", 0), jint(cpu, "cap", 0));
	printf("%-13s %s\n", "Kernel:", jstr(r, "kernel", "?"));
	printf("%-13s %s\n", "Cmdline:", jstr(r, "cmdline", ""));
	printf("%-13s poweroff %s, reboot %s, crash %s\n", "On events:", jstr(r, "on_poweroff", "?"),
	       jstr(r, "on_reboot", "?"), jstr(r, "on_crash", "?"));
	print_disks(r);
	if (json_object_object_get_ex(r, "vifs", &a))
		for (size_t i = 0; i < json_object_array_length(a); i++) {
			json_object *v = json_object_array_get_idx(a, i), *st;
			char rate[64], burst[64];
			long long b = jint(v, "burst", 0);
			if (b > 0)
				fmt_rate(b, "", burst, sizeof(burst));
			else
				snprintf(burst, sizeof(burst), "one second of rate");
			printf("%-13s %zu: %s on %s, rate %s, burst %s, weight %lld\n", i ? "" : "Interfaces:", i,
			       jstr(v, "mac", "?"), jstr(v, "bridge", "?"), fmt_rate(jint(v, "rate", 0), "/s", rate,
			       sizeof(rate)), burst, jint(v, "weight", 0));
			if (json_object_object_get_ex(v, "stats", &st))
				printf("%-13s    %s, sent %lld bytes (%lld frames, %lld dropped), received %lld bytes "
				       "(%lld frames, %lld dropped)\n", "",
				       jbool(st, "connected") ? "connected" :
				       "not connected", jint(st, "tx_bytes", 0), jint(st, "tx_packets", 0),
				       jint(st, "tx_dropped", 0), jint(st, "rx_bytes", 0), jint(st, "rx_packets", 0),
				       jint(st, "rx_dropped", 0));
		}
	printf("%-13s %s\n", "Console log:", jstr(r, "console_log", "-"));
	printf("%-13s %s\n", "Created:", jstr(r, "created", "?"));
	printf("%-13s %s\n", "Updated:", jstr(r, "updated", "?"));
	json_object_put(r);
	return EXIT_OK;
}

int cmd_autostart(struct ctl *ctl)
{
	json_object *p, *r;
	int on;

	if (!strcmp(ctl->argv[1], "on"))
		on = 1;
	else if (!strcmp(ctl->argv[1], "off"))
		on = 0;
	else
		return ctl_usage_error("autostart", "expected on or off, not \"%s\"", ctl->argv[1]);
	p = dom_params(ctl->argv[0]);
	json_object_object_add(p, "enabled", json_object_new_boolean(on));
	if (ctl_call(ctl, "domain.autostart", p, &r) != 0)
		return EXIT_ERROR;
	if (ctl->flags & F_JSON)
		print_json(r);
	else
		printf("Domain \"%s\": autostart %s%s\n", jstr(r, "name", "?"), on ? "on" : "off",
		       jbool(r, "changed") ? "" : " (unchanged)");
	json_object_put(r);
	return EXIT_OK;
}

static void print_event(struct ctl *ctl, json_object *e)
{
	json_object *d;
	const char *name = "-";

	if (ctl->flags & F_JSON) {
		printf("%s\n", json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		if (json_object_object_get_ex(e, "domain", &d) && d)
			name = jstr(d, "name", "-");
		printf("%s  #%-5lld %-18s %-16s by %s\n", jstr(e, "at", "?"), jint(e, "id", 0), jstr(e, "type", "?"),
		       name, jstr(e, "caller", "?"));
	}
	fflush(stdout);
}

/* --since: an absolute UTC time (2026-12-05T14:00, any prefix of the
 * events' "at" form) or an age (30s, 10m, 2h, 1d) -> the "at" string an
 * event must be at or after. */
static int since_cutoff(const char *since, char *out, size_t len)
{
	char *end;
	long long n = strtoll(since, &end, 10);
	long long unit = 0;

	if (end != since && n >= 0 && end[0] && !end[1]) {
		unit = end[0] == 's' ? 1 : end[0] == 'm' ? 60 : end[0] == 'h' ? 3600 : end[0] == 'd' ? 86400 : 0;
		if (unit && n <= 3650LL * 86400 / unit) {
			time_t t = time(NULL) - (time_t)(n * unit);
			struct tm tm;
			gmtime_r(&t, &tm);
			strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm);
			return 0;
		}
	}
	if (strlen(since) >= 10 && since[4] == '-' && since[7] == '-' && strlen(since) < len) {
		snprintf(out, len, "%s", since);
		return 0;
	}
	return -1;
}

/* An event passes --since (cutoff, "" for none) and --domain (matched by
 * pvd for the log; by name or UUID here for followed events). */
static int event_wanted(struct ctl *ctl, const char *cutoff, json_object *e)
{
	json_object *d;

	if (cutoff[0] && strcmp(jstr(e, "at", ""), cutoff) < 0)
		return 0;
	if (ctl->domain) {
		if (!json_object_object_get_ex(e, "domain", &d) || !d)
			return 0;
		if (strcmp(jstr(d, "name", ""), ctl->domain) && strcasecmp(jstr(d, "uuid", ""), ctl->domain))
			return 0;
	}
	return 1;
}

/* Print log entries with id in (after, upto]; upto < 0: no upper bound. */
static int print_log(struct ctl *ctl, const char *cutoff, long long after, long long upto)
{
	for (;;) {
		json_object *p = json_object_new_object(), *r;
		size_t n;
		json_object_object_add(p, "after", json_object_new_int64(after));
		json_object_object_add(p, "limit", json_object_new_int(1000));
		if (ctl->domain)
			json_object_object_add(p, "domain", json_object_new_string(ctl->domain));
		if (ctl_call(ctl, "events.list", p, &r) != 0)
			return -1;
		n = json_object_array_length(r);
		for (size_t i = 0; i < n; i++) {
			json_object *e = json_object_array_get_idx(r, i);
			after = jint(e, "id", after);
			if ((upto < 0 || after <= upto) && event_wanted(ctl, cutoff, e))
				print_event(ctl, e);
		}
		json_object_put(r);
		if (n < 1000 || (upto >= 0 && after >= upto))
			return 0;
	}
}

int cmd_events(struct ctl *ctl)
{
	json_object *r, *note, *params, *e;
	struct pvdc_error err;
	long long last;

	char cutoff[40] = "";

	if (ctl->since && since_cutoff(ctl->since, cutoff, sizeof(cutoff)) != 0)
		return ctl_usage_error("events", "--since takes a UTC time (2026-12-05T14:00) or an age (30s, 10m, 2h, "
				       "1d), not \"%s\"", ctl->since);
	if (!(ctl->flags & F_FOLLOW))
		return print_log(ctl, cutoff, 0, -1) == 0 ? EXIT_OK : EXIT_ERROR;
	/* subscribe first, then print the log up to that point: nothing is missed or doubled */
	if (ctl_call(ctl, "events.subscribe", NULL, &r) != 0)
		return EXIT_ERROR;
	last = jint(r, "last_id", 0);
	json_object_put(r);
	if (print_log(ctl, cutoff, 0, last) != 0)
		return EXIT_ERROR;
	for (;;) {
		int rc = pvdc_next_notification(ctl->conn, -1, &note, &err);
		if (rc < 0) {
			fprintf(stderr, "pvctl: %s\n", err.message);
			return EXIT_ERROR;
		}
		if (json_object_object_get_ex(note, "params", &params) &&
		    json_object_object_get_ex(params, "event", &e) && jint(e, "id", 0) > last &&
		    event_wanted(ctl, cutoff, e))
			print_event(ctl, e);
		json_object_put(note);
	}
}

int cmd_version(struct ctl *ctl)
{
	json_object *r, *libs;

	if (ctl_call(ctl, "daemon.version", NULL, &r) != 0)
		return EXIT_ERROR;
	if (ctl->flags & F_JSON) {
		json_object_object_add(r, "pvctl", json_object_new_string(PVD_VERSION));
		print_json(r);
		json_object_put(r);
		return EXIT_OK;
	}
	printf("pvctl %s\npvd %s (API %s, store schema %lld)\n", PVD_VERSION, jstr(r, "pvd", "?"),
	       jstr(r, "api", "?"), jint(r, "store_schema", 0));
	if (json_object_object_get_ex(r, "libraries", &libs)) {
		json_object_object_foreach(libs, k, v)
			printf("  %s %s\n", k, json_object_get_string(v));
	}
	json_object_put(r);
	return EXIT_OK;
}

int cmd_check(struct ctl *ctl)
{
	json_object *p = config_params_dir(ctl, ctl->argv[0]), *r;	/* pvd looks for the kernel too */

	if (!p)
		return EXIT_ERROR;
	if (ctl_call(ctl, "config.validate", p, &r) != 0)
		return EXIT_ERROR;
	if (ctl->flags & F_JSON)
		print_json(r);
	else
		printf("%s: valid config for domain \"%s\"\n", ctl->argv[0], jstr(r, "name", "?"));
	json_object_put(r);
	return EXIT_OK;
}

/* ---- lifecycle ---- */

static int print_state(struct ctl *ctl, json_object *r, const char *what)
{
	long long domid = jint(r, "domid", -1);

	if (ctl->flags & F_JSON)
		print_json(r);
	else if (domid >= 0)
		printf("Domain \"%s\" %s (domid %lld, %s)\n", jstr(r, "name", "?"), what, domid, jstr(r, "state", "?"));
	else
		printf("Domain \"%s\" %s (%s)\n", jstr(r, "name", "?"), what, jstr(r, "state", "?"));
	json_object_put(r);
	return EXIT_OK;
}

int cmd_create(struct ctl *ctl)
{
	json_object *p = config_params_dir(ctl, ctl->argv[0]), *r;

	if (!p)
		return EXIT_ERROR;
	if (ctl->flags & F_TRANSIENT)
		json_object_object_add(p, "transient", json_object_new_boolean(1));
	if (ctl_call(ctl, "domain.create", p, &r) != 0)
		return EXIT_ERROR;
	return print_state(ctl, r, "created");
}

/* DOM or --all, not both: the bulk commands' argument rule. */
static int one_or_all(struct ctl *ctl, const char *cmd)
{
	if (!!(ctl->flags & F_ALL) == (ctl->argc == 1))
		return ctl_usage_error(cmd, "%s takes a domain or --all", cmd);
	return 0;
}

static int simple(struct ctl *ctl, const char *method, const char *what)
{
	json_object *r;

	if (ctl_call(ctl, method, dom_params(ctl->argv[0]), &r) != 0)
		return EXIT_ERROR;
	return print_state(ctl, r, what);
}

int cmd_start(struct ctl *ctl)
{
	if (one_or_all(ctl, "start") != 0)
		return EXIT_USAGE;
	if (ctl->flags & F_ALL)
		return cmd_start_all(ctl);
	return simple(ctl, "domain.start", "started");
}

int cmd_destroy(struct ctl *ctl) { return simple(ctl, "domain.destroy", "destroyed"); }
int cmd_reboot(struct ctl *ctl)
{
	json_object *p = dom_params(ctl->argv[0]), *r;

	if (ctl->flags & F_FORCE)
		json_object_object_add(p, "force", json_object_new_boolean(1));
	if (ctl_call(ctl, "domain.reboot", p, &r) != 0)
		return EXIT_ERROR;
	if (!(ctl->flags & F_JSON) && !strcmp(jstr(r, "shutdown_by", ""), "hypervisor") && !(ctl->flags & F_FORCE))
		printf("Domain \"%s\" does not watch control/shutdown (no control/feature-reboot): the hypervisor "
		       "rebooted it\n", jstr(r, "name", "?"));
	return print_state(ctl, r, "is rebooting");
}
int cmd_pause(struct ctl *ctl) { return simple(ctl, "domain.pause", "paused"); }
int cmd_resume(struct ctl *ctl) { return simple(ctl, "domain.resume", "resumed"); }

static int parse_num(const char *cmd, const char *opt, const char *s, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	if (errno || end == s || *end || *out < 0)
		return ctl_usage_error(cmd, "%s needs a non-negative integer, not \"%s\"", opt, s);
	return 0;
}

int cmd_shutdown(struct ctl *ctl)
{
	long long timeout = 60;

	if (one_or_all(ctl, "shutdown") != 0)
		return EXIT_USAGE;
	if (ctl->timeout && parse_num("shutdown", "--timeout", ctl->timeout, &timeout) != 0)
		return EXIT_USAGE;
	return cmd_shutdown_domains(ctl, timeout);
}

/* mem-set / mem-max: one size argument to one method. */
static int memory_command(struct ctl *ctl, const char *method, const char *key)
{
	json_object *p = dom_params(ctl->argv[0]), *r;
	const char *size = ctl->argv[1];

	if (strspn(size, "0123456789") == strlen(size))
		json_object_object_add(p, key, json_object_new_int64(strtoll(size, NULL, 10)));
	else
		json_object_object_add(p, key, json_object_new_string(size));
	if (ctl_call(ctl, method, p, &r) != 0)
		return EXIT_ERROR;
	if (ctl->flags & F_JSON) {
		print_json(r);
		json_object_put(r);
		return EXIT_OK;
	}
	printf("Domain \"%s\": target %lld MiB, maximum %lld MiB, holds %lld MiB now\n", jstr(r, "name", "?"),
	       jint(r, "target_mib", jint(r, "memory_mib", 0)), jint(r, "maxmem_mib", 0), jint(r, "memory_mib", 0));
	json_object_put(r);
	return EXIT_OK;
}

int cmd_memset(struct ctl *ctl)
{
	return memory_command(ctl, "domain.set_memory", "memory");
}

int cmd_memmax(struct ctl *ctl)
{
	return memory_command(ctl, "domain.set_maxmem", "maxmem");
}

int cmd_sched(struct ctl *ctl)
{
	json_object *p = dom_params(ctl->argv[0]), *r, *cpu;
	long long v;

	if (ctl->weight) {
		if (parse_num("sched", "--weight", ctl->weight, &v) != 0) {
			json_object_put(p);
			return EXIT_USAGE;
		}
		json_object_object_add(p, "weight", json_object_new_int64(v));
	}
	if (ctl->cap) {
		if (parse_num("sched", "--cap", ctl->cap, &v) != 0) {
			json_object_put(p);
			return EXIT_USAGE;
		}
		json_object_object_add(p, "cap", json_object_new_int64(v));
	}
	if (ctl_call(ctl, ctl->weight || ctl->cap ? "domain.set_sched" : "domain.info", p, &r) != 0)
		return EXIT_ERROR;
	if (ctl->flags & F_JSON) {
		print_json(r);
		json_object_put(r);
		return EXIT_OK;
	}
	if (json_object_object_get_ex(r, "cpu", &cpu))
		printf("Domain \"%s\": weight %lld, cap %lld%%\n", jstr(r, "name", "?"), jint(cpu, "weight", 0),
		       jint(cpu, "cap", 0));
	json_object_put(r);
	return EXIT_OK;
}

/* ---- console ---- */

static struct termios saved_tio;
static int tio_saved;

static void restore_tty(void)
{
	if (tio_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
}

/* Whether a domain in state is stopped for good: off, shut down or
 * crashed and left so (not one pvd is about to start again). */
static int console_domain_stopped(struct ctl *ctl, const char *uuid, const char *state)
{
	json_object *r;
	struct pvdc_error err;
	int restarting;

	if (strcmp(state, "shut-off") && strcmp(state, "shut-down") && strcmp(state, "crashed"))
		return 0;
	if (strcmp(state, "shut-off"))
		return 1;
	if (pvdc_call(ctl->conn, "domain.info", dom_params(uuid), &r, &err) != 0) {
		pvdc_error_clear(&err);
		return 1;
	}
	restarting = !strcmp(jstr(r, "desired_state", "?"), "running") && !strcmp(jstr(r, "state", "?"), "shut-off");
	json_object_put(r);
	return !restarting;
}

/* On a terminal the console is interactive: stdin is read raw and every
 * keystroke goes to the guest's console (Ctrl-C and Ctrl-D included), with
 * the next read; Ctrl-] (or EOF on stdin) leaves. Following ends, saying
 * so, when the domain stops (or a transient one is gone). */
int cmd_console(struct ctl *ctl)
{
	json_object *p, *r;
	struct pvdc_error err;
	long long offset = -1;
	int tty = isatty(STDIN_FILENO), follow = !(ctl->flags & F_NOFOLLOW), announced = 0, stopped = 0;
	char uuid[64] = "", name[128] = "", state[32] = "", keys[1024];
	size_t nkeys = 0;

	if (follow && tty && tcgetattr(STDIN_FILENO, &saved_tio) == 0) {
		struct termios raw = saved_tio;
		cfmakeraw(&raw);
		raw.c_oflag |= OPOST;
		tio_saved = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
		atexit(restore_tty);
	}
	for (;;) {
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
		const char *data;
		p = dom_params(uuid[0] ? uuid : ctl->argv[0]);
		json_object_object_add(p, "offset", json_object_new_int64(offset));
		if (nkeys && !stopped)
			json_object_object_add(p, "input", json_object_new_string_len(keys, (int)nkeys));
		if (!uuid[0]) {
			if (ctl_call(ctl, "domain.console", p, &r) != 0)
				return EXIT_ERROR;
		} else if (pvdc_call(ctl->conn, "domain.console", p, &r, &err) != 0) {
			if (err.code != PVD_ERR_NO_SUCH_DOMAIN) {
				ctl_print_error(ctl, &err);
				pvdc_error_clear(&err);
				return EXIT_ERROR;
			}
			pvdc_error_clear(&err);
			restore_tty();
			fprintf(stderr, "\r\n[domain \"%s\" is gone (a transient domain that stopped): console closed]\r\n",
				name);
			return EXIT_OK;
		}
		snprintf(uuid, sizeof(uuid), "%s", jstr(r, "uuid", ""));
		snprintf(name, sizeof(name), "%s", jstr(r, "name", "?"));
		snprintf(state, sizeof(state), "%s", jstr(r, "state", "?"));
		if (!announced && follow && tty) {
			fprintf(stderr, "[console of \"%s\" (%s); Ctrl-] leaves]\r\n", name, state);
			announced = 1;
		}
		data = jstr(r, "data", "");
		fwrite(data, 1, strlen(data), stdout);
		fflush(stdout);
		offset = jint(r, "next", 0);
		if (nkeys) {	/* what the ring did not take is typed again with the next read */
			long long w = jint(r, "written", 0);
			if (w > 0 && (size_t)w <= nkeys) {
				memmove(keys, keys + w, nkeys - (size_t)w);
				nkeys -= (size_t)w;
			}
		}
		json_object_put(r);
		if (!follow)
			return EXIT_OK;
		if (stopped) {	/* the output up to the stop is printed: leave */
			restore_tty();
			fprintf(stderr, "\r\n[domain \"%s\" is %s: console closed]\r\n", name, state);
			return EXIT_OK;
		}
		if (console_domain_stopped(ctl, uuid, state)) {
			stopped = 1;	/* one more read for what it wrote last */
			continue;
		}
		if (tty && poll(&pfd, 1, nkeys ? 20 : 200) > 0) {
			char c[256];
			ssize_t n = read(STDIN_FILENO, c, sizeof(c));
			char *quit = n > 0 ? memchr(c, 0x1d, (size_t)n) : NULL;
			size_t take = quit ? (size_t)(quit - c) : n > 0 ? (size_t)n : 0;
			if (take > sizeof(keys) - nkeys)
				take = sizeof(keys) - nkeys;	/* typed faster than the guest reads */
			memcpy(keys + nkeys, c, take);
			nkeys += take;
			if (n <= 0 || quit) {
				if (nkeys && uuid[0]) {	/* the keys before Ctrl-] still go */
					p = dom_params(uuid);
					json_object_object_add(p, "max", json_object_new_int(1));
					json_object_object_add(p, "input", json_object_new_string_len(keys, (int)nkeys));
					if (pvdc_call(ctl->conn, "domain.console", p, &r, &err) == 0)
						json_object_put(r);
					else
						pvdc_error_clear(&err);
				}
				restore_tty();
				fprintf(stderr, "\n");
				return EXIT_OK;
			}
		} else if (!tty) {
			usleep(200 * 1000);
		}
	}
}
