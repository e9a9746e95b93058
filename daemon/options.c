/*
 * options.c - pvd's settings from the config file and the command line.
 *
 * One table (option_table) names every setting once: its long option, the
 * pvd.conf key (the same name), its type and range, and its help line.
 * Order of precedence: built-in default < config file < command line. The
 * config file is /etc/pvd/pvd.conf unless --config names another; a
 * missing default file is fine, a missing named one is an error.
 */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../api/pvd_api.h"

enum opt_type { OPT_STR, OPT_LONG, OPT_FLAG, OPT_LIST };

struct option_def {
	const char *name;
	enum opt_type type;
	size_t offset;
	long min, max;
	int cli_only;
	const char *arg, *help;
};

#define OFF(f) offsetof(struct pvd_options, f)

static const struct option_def option_table[] = {
	{ "config", OPT_STR, OFF(config_file), 0, 0, 1, "FILE", "settings file (default " PVD_DEFAULT_CONF ")" },
	{ "state-dir", OPT_STR, OFF(state_dir), 0, 0, 0, "DIR", "database and runtime state (default " PVD_DEFAULT_STATE_DIR ")" },
	{ "socket", OPT_STR, OFF(socket_path), 0, 0, 0, "PATH", "JSON-RPC unix socket (default " PVD_DEFAULT_SOCKET ")" },
	{ "socket-group", OPT_STR, OFF(socket_group), 0, 0, 0, "GROUP", "group owning the socket (mode 0660)" },
	{ "verbose", OPT_FLAG, OFF(verbose), 0, 1, 0, NULL, "log debug messages" },
	{ "check-config", OPT_STR, OFF(check_config), 0, 0, 1, "FILE", "validate a domain config (JSON or XML) and exit" },
	{ "tls-listen", OPT_STR, OFF(tls_listen), 0, 0, 0, "HOST:PORT", "also serve JSON-RPC over TLS here" },
	{ "tls-cert", OPT_STR, OFF(tls_cert), 0, 0, 0, "FILE", "server certificate (PEM)" },
	{ "tls-key", OPT_STR, OFF(tls_key), 0, 0, 0, "FILE", "server private key (PEM)" },
	{ "tls-ca", OPT_STR, OFF(tls_ca), 0, 0, 0, "FILE", "CA that signs client certificates (required)" },
	{ "tls-roles", OPT_STR, OFF(tls_roles), 0, 0, 0, "FILE", "role of each client certificate: \"admin|reader CN\" lines (required with --tls-listen)" },
	{ "admin-group", OPT_STR, OFF(admin_group), 0, 0, 0, "GROUP", "socket callers in this group are admins (besides uid 0)" },
	{ "reader-group", OPT_STR, OFF(reader_group), 0, 0, 0, "GROUP", "socket callers in this group may only read (list, info, events, consoles, xs reads)" },
	{ "max-request", OPT_LONG, OFF(max_request), 256, 64L << 20, 0, "BYTES", "largest JSON-RPC frame (default 1048576)" },
	{ "max-clients", OPT_LONG, OFF(max_clients), 1, 65536, 0, "N", "concurrent connections (default 1024)" },
	{ "max-domains", OPT_LONG, OFF(max_domains), 1, 1000000, 0, "N", "defined domains (default 4096)" },
	{ "max-subscribers", OPT_LONG, OFF(max_subscribers), 1, 65536, 0, "N", "connections subscribed to events (default 256)" },
	{ "frame-timeout", OPT_LONG, OFF(frame_timeout), 1, 86400, 0, "SECONDS", "drop a client whose frame is not complete this long after its first byte (default 30)" },
	{ "idle-timeout", OPT_LONG, OFF(idle_timeout), 0, 86400, 0, "SECONDS", "drop a client that sends no request this long, subscribers excepted (default 600, 0: never)" },
	{ "max-clients-per-uid", OPT_LONG, OFF(max_clients_per_uid), 1, 65536, 0, "N", "connections of one non-root uid or one TLS certificate (default 64)" },
	{ "max-events", OPT_LONG, OFF(max_events), 0, 1L << 40, 0, "N", "event-log entries kept, the oldest go first (default 100000, 0: all)" },
	{ "event-max-age", OPT_LONG, OFF(event_max_age), 0, 36500, 0, "DAYS", "event-log entries older than this go (default 90, 0: never)" },
	{ "max-output", OPT_LONG, OFF(max_output), 262144, 1L << 30, 0, "BYTES", "drop a client that leaves this much unread (default 8388608)" },
	{ "console-log-max", OPT_LONG, OFF(console_log_max), 4096, 1L << 40, 0, "BYTES", "a domain's console log is rotated before it passes this (default 1048576)" },
	{ "console-log-files", OPT_LONG, OFF(console_log_files), 0, 100, 0, "N", "rotated console logs kept per domain, LOG.1 the newest (default 3; 0: the log is emptied instead)" },
	{ "no-machine", OPT_FLAG, OFF(no_machine), 0, 1, 0, NULL, "do not start or attach to a machine (domains can be defined, not run)" },
	{ "iso", OPT_STR, OFF(iso), 0, 0, 0, "PATH", "hypervisor ISO (default build/pvcore.iso, else /usr/share/pvcore/pvcore.iso)" },
	{ "machine-mem", OPT_LONG, OFF(machine_mem), 64, 1024L * 1024, 0, "MIB", "machine RAM when pvd boots it (default 1024)" },
	{ "machine-ram-dir", OPT_STR, OFF(machine_ram_dir), 0, 0, 0, "DIR", "the machine's RAM file lives here when pvd boots it, e.g. /dev/shm (default: the state directory)" },
	{ "machine-prealloc", OPT_FLAG, OFF(machine_prealloc), 0, 1, 0, NULL, "fault all of the machine's RAM in when pvd boots it (slower boot; no first-touch cost during domain creation)" },
	{ "cpus", OPT_LONG, OFF(cpus), 1, 255, 0, "N", "machine CPUs when pvd boots it (default 1)" },
	{ "accel", OPT_STR, OFF(accel), 0, 0, 0, "tcg|kvm", "QEMU accelerator when pvd boots the machine (default tcg)" },
	{ "stop-machine", OPT_FLAG, OFF(stop_machine), 0, 1, 1, NULL, "stop the machine of --state-dir (after pvd is stopped) and exit" },
	{ "pool", OPT_STR, OFF(pool), 0, 0, 0, "DIR", "storage pool: images of disks without a path (default STATE/pool)" },
	{ "net-capacity", OPT_LIST, OFF(net_capacity), 0, 0, 0, "NETWORK=BYTES", "capacity of an internal network or a bridge's uplink in bytes/s: its vifs share it by weight (repeatable)" },
	{ "xs-quota", OPT_STR, OFF(xs_quota), 0, 0, 0, "NAME=N,...", "xenstore quotas per domain (nodes, entry-size, watches, transactions, perms, outstanding, transaction-nodes, output-bytes)" },
	{ "disk-dir", OPT_LIST, OFF(disk_dirs), 0, 0, 0, "DIR", "a disk's path may name an existing image only here or in the pool (repeatable)" },
	{ "image-dir", OPT_LIST, OFF(image_dirs), 0, 0, 0, "DIR", "kernels and ramdisks come only from here (repeatable; default /boot, " PVD_INSTALL_GUEST_DIR ", ./build/guests)" },
	{ "version", OPT_FLAG, OFF(show_version), 0, 1, 1, NULL, "print the version and exit" },
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL }
};

static void usage(FILE *f)
{
	fprintf(f, "usage: pvd [options]\n\nRuns in the foreground; logs to stderr.\n\n");
	for (const struct option_def *d = option_table; d->name; d++) {
		char left[40];
		snprintf(left, sizeof(left), "--%s%s%s", d->name, d->arg ? " " : "", d->arg ? d->arg : "");
		fprintf(f, "  %-26s %s\n", left, d->help);
	}
	fprintf(f, "  %-26s %s\n", "--help", "this text");
	fprintf(f, "\nEvery option but --config, --check-config and --version may also be set in the\n"
		   "config file as \"name = value\" (flags: \"verbose = yes\"; a repeatable option\n"
		   "once a line; the command line's add to the file's).\n");
}

static int set_value(struct pvd_options *o, const struct option_def *d, const char *val, const char *where)
{
	char *p = (char *)o + d->offset;

	switch (d->type) {
	case OPT_STR:
		if (!val[0]) {
			fprintf(stderr, "pvd: %s: --%s needs a value\n", where, d->name);
			return -1;
		}
		free(*(char **)p);
		*(char **)p = strdup(val);
		return *(char **)p ? 0 : -1;
	case OPT_LONG: {
		char *end;
		long v;
		errno = 0;
		v = strtol(val, &end, 10);
		if (errno || end == val || *end || v < d->min || v > d->max) {
			fprintf(stderr, "pvd: %s: --%s must be an integer from %ld to %ld, not \"%s\"\n", where,
				d->name, d->min, d->max, val);
			return -1;
		}
		*(long *)p = v;
		return 0;
	}
	case OPT_LIST: {
		struct pvd_str_list *l = (struct pvd_str_list *)p;
		if (!val[0] || l->n >= PVD_MAX_IMAGE_DIRS) {
			fprintf(stderr, "pvd: %s: --%s needs a value (at most %d of them)\n", where, d->name,
				PVD_MAX_IMAGE_DIRS);
			return -1;
		}
		l->v[l->n] = strdup(val);
		return l->v[l->n++] ? 0 : -1;
	}
	case OPT_FLAG:
		if (!val || !strcmp(val, "yes") || !strcmp(val, "true") || !strcmp(val, "1"))
			*(int *)p = 1;
		else if (!strcmp(val, "no") || !strcmp(val, "false") || !strcmp(val, "0"))
			*(int *)p = 0;
		else {
			fprintf(stderr, "pvd: %s: %s must be yes or no, not \"%s\"\n", where, d->name, val);
			return -1;
		}
		return 0;
	}
	return -1;
}

static const struct option_def *find_def(const char *name)
{
	for (const struct option_def *d = option_table; d->name; d++) {
		size_t n = strlen(d->name);
		int same = strlen(name) == n;
		for (size_t i = 0; same && i < n; i++)
			same = name[i] == d->name[i] || (name[i] == '_' && d->name[i] == '-');
		if (same)
			return d;
	}
	return NULL;
}

char *conf_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && strchr(" \t\r\n", e[-1]))
		*--e = '\0';
	return s;
}

static int load_file(struct pvd_options *o, const char *path, int must_exist)
{
	FILE *f = fopen(path, "re");
	char line[1024], where[300];
	int lineno = 0, rc = 0;

	if (!f) {
		if (!must_exist && errno == ENOENT)
			return 0;
		fprintf(stderr, "pvd: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *s = conf_trim(line), *eq, *key, *val;
		const struct option_def *d;
		lineno++;
		snprintf(where, sizeof(where), "%s:%d", path, lineno);
		if (!*s || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (!eq) {
			fprintf(stderr, "pvd: %s: expected \"name = value\"\n", where);
			rc = -1;
			break;
		}
		*eq = '\0';
		key = conf_trim(s);
		val = conf_trim(eq + 1);
		d = find_def(key);
		if (!d || d->cli_only) {
			fprintf(stderr, "pvd: %s: unknown setting \"%s\"\n", where, key);
			rc = -1;
			break;
		}
		if (set_value(o, d, val, where) != 0) {
			rc = -1;
			break;
		}
	}
	fclose(f);
	return rc;
}

static int set_defaults(struct pvd_options *o)
{
	memset(o, 0, sizeof(*o));
	o->state_dir = strdup(PVD_DEFAULT_STATE_DIR);
	o->socket_path = strdup(PVD_DEFAULT_SOCKET);
	o->max_request = 1L << 20;
	o->max_clients = 1024;
	o->max_domains = 4096;
	o->max_subscribers = 256;
	o->frame_timeout = 30;
	o->idle_timeout = 600;
	o->max_clients_per_uid = 64;
	o->max_events = 100000;
	o->event_max_age = 90;
	o->max_output = 8L << 20;
	o->console_log_max = 1L << 20;
	o->console_log_files = 3;
	o->machine_mem = 1024;
	o->cpus = 1;
	return o->state_dir && o->socket_path ? 0 : -1;
}

int options_parse(struct pvd_options *o, int argc, char **argv)
{
	struct option longopts[sizeof(option_table) / sizeof(option_table[0]) + 1];
	int n = 0, c;
	const char *conf = NULL;

	if (set_defaults(o) != 0)
		return -1;
	for (const struct option_def *d = option_table; d->name; d++, n++)
		longopts[n] = (struct option){ d->name, d->type == OPT_FLAG ? no_argument : required_argument, NULL, n };
	longopts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	longopts[n] = (struct option){ NULL, 0, NULL, 0 };

	/* pass 1: only --config, so the file can be read before the rest */
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1)
		if (c >= 0 && c < n && !strcmp(option_table[c].name, "config"))
			conf = optarg;
	if (load_file(o, conf ? conf : PVD_DEFAULT_CONF, conf != NULL) != 0)
		return -1;

	opterr = 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 1;
		}
		if (c == '?' || c < 0 || c >= n) {
			usage(stderr);
			return -1;
		}
		if (set_value(o, &option_table[c], optarg, "command line") != 0)
			return -1;
	}
	if (optind < argc) {
		fprintf(stderr, "pvd: unexpected argument \"%s\" (pvd takes options only)\n", argv[optind]);
		return -1;
	}
	if (o->tls_listen && (!o->tls_cert || !o->tls_key || !o->tls_ca || !o->tls_roles)) {
		fprintf(stderr, "pvd: --tls-listen needs --tls-cert, --tls-key, --tls-ca and --tls-roles "
				"(client certificates are required, each with its role)\n");
		return -1;
	}
	if (o->accel && strcmp(o->accel, "tcg") && strcmp(o->accel, "kvm")) {
		fprintf(stderr, "pvd: --accel must be tcg or kvm, not \"%s\"\n", o->accel);
		return -1;
	}
	return 0;
}

void options_free(struct pvd_options *o)
{
	for (const struct option_def *d = option_table; d->name; d++)
		if (d->type == OPT_STR)
			free(*(char **)((char *)o + d->offset));
		else if (d->type == OPT_LIST)
			for (int i = 0; i < ((struct pvd_str_list *)((char *)o + d->offset))->n; i++)
				free(((struct pvd_str_list *)((char *)o + d->offset))->v[i]);
	memset(o, 0, sizeof(*o));
}
