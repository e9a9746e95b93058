/*
 * pvctl.c - pvctl: the command-line client of pvd.
 *
 * One table of commands {name, handler, flags, arguments, help}; parsing,
 * usage errors and the help text all come from it. Global options
 * (--socket PATH, --connect URI with --cert/--key/--ca, --help, --version)
 * may appear anywhere on the line; a command's own flags anywhere after
 * it. An unknown command gets the nearest known one suggested. Exit
 * status: 0 done, 1 error (one line on stderr naming the cause; one per
 * problem of a refused config), 2 usage.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "pvctl.h"

const struct command commands[] = {
	{ "define", cmd_define, F_REPLACE | F_JSON, 1, 1, "FILE [--replace] [--json]",
	  "define a domain from a JSON or XML config (--replace updates a defined one)" },
	{ "create", cmd_create, F_TRANSIENT | F_JSON, 1, 1, "FILE [--transient] [--json]",
	  "define and start a domain (--transient: forgotten when it stops)" },
	{ "start", cmd_start, F_ALL | F_JSON, 0, 1, "DOM|--all [--json]",
	  "start a defined domain (--all: every one that is off)" },
	{ "shutdown", cmd_shutdown, F_ALL | F_TIMEOUT | F_NOWAIT | F_FORCE | F_JSON, 0, 1,
	  "DOM|--all [--timeout S] [--no-wait] [--force] [--json]",
	  "shut a domain (--all: every running one, together) down: the guest is asked through xenstore "
	  "when it watches control/shutdown (--force: the hypervisor stops it at once); destroyed after S "
	  "seconds (default 60); waits until it is off" },
	{ "reboot", cmd_reboot, F_FORCE | F_JSON, 1, 1, "DOM [--force] [--json]",
	  "reboot a domain (asked through xenstore, or --force: by the hypervisor; started again)" },
	{ "destroy", cmd_destroy, F_JSON, 1, 1, "DOM [--json]", "stop a domain at once" },
	{ "pause", cmd_pause, F_JSON, 1, 1, "DOM [--json]", "pause a running domain" },
	{ "resume", cmd_resume, F_JSON, 1, 1, "DOM [--json]", "resume a paused domain" },
	{ "mem-set", cmd_memset, F_JSON, 2, 2, "DOM SIZE [--json]",
	  "set a running domain's balloon target (MiB, or 128M, 1G), as xl mem-set" },
	{ "mem-max", cmd_memmax, F_JSON, 2, 2, "DOM SIZE [--json]",
	  "set a running domain's maximum memory (MiB, or 128M, 1G), as xl mem-max" },
	{ "sched", cmd_sched, F_WEIGHT | F_CAP | F_JSON, 1, 1, "DOM [--weight N] [--cap N] [--json]",
	  "set a running domain's scheduler weight / cap (no option: show them)" },
	{ "block-attach", cmd_block_attach, F_JSON, 2, 2, "DOM DISKSPEC [--json]",
	  "add a disk (name=N,size=64M[,path=F,readonly,quota=..] or a JSON object) to a domain, live when it runs" },
	{ "block-detach", cmd_block_detach, F_FORCE | F_TIMEOUT | F_NOWAIT | F_JSON, 2, 2,
	  "DOM NAME [--force] [--timeout S] [--no-wait] [--json]",
	  "remove a disk; waits (default 30 s) until the guest closed it (--force: at once)" },
	{ "net-attach", cmd_net_attach, F_JSON, 1, 2, "DOM [VIFSPEC] [--json]",
	  "add a vif (bridge=B,mac=M,rate=..,burst=..,weight=.. or a JSON object) to a domain, live when it runs" },
	{ "net-detach", cmd_net_detach, F_FORCE | F_TIMEOUT | F_NOWAIT | F_JSON, 2, 2,
	  "DOM MAC [--force] [--timeout S] [--no-wait] [--json]",
	  "remove a vif; waits (default 30 s) until the guest closed it (--force: at once)" },
	{ "net-limit", cmd_net_limit, F_RATE | F_BURST | F_JSON, 2, 2, "DOM MAC [--rate BYTES/S] [--burst BYTES] [--json]",
	  "change a vif's rate limit (bytes/s each way, 0 none; 10M = 10 MiB) and burst, live" },
	{ "console", cmd_console, F_NOFOLLOW, 1, 1, "DOM [--no-follow]",
	  "show a domain's console and follow it (output only; Ctrl-] or EOF on a terminal leaves)" },
	{ "undefine", cmd_undefine, F_REMOVE_STORAGE | F_JSON, 1, 1, "DOM [--remove-storage] [--json]",
	  "remove a shut-off domain's definition (its pool images stay unless --remove-storage)" },
	{ "disk-quota", cmd_disk_quota, F_JSON, 2, 3, "DOM [DISK] SIZE [--json]",
	  "set a disk's quota, or without DISK the domain's disk_quota (MiB, or 16M, 1G; 0: none): bytes its "
	  "images may allocate on the host; stored, and in force at once while it runs" },
	{ "disk-limit", cmd_disk_limit, F_BPS | F_IOPS | F_BURST | F_JSON, 2, 2,
	  "DOM DISK [--bps N] [--iops N] [--burst N] [--json]",
	  "set a disk's I/O limits (bytes/s, requests/s, bucket bytes; 0: unlimited); stored, in force at once" },
	{ "vol", cmd_vol, F_SHRINK | F_JSON, 1, 3, "list|create|delete|resize [NAME] [SIZE] [--shrink] [--json]",
	  "the storage pool's volumes: list them, create a sparse image, delete one no domain uses, resize one" },
	{ "adopt", cmd_adopt, F_JSON, 1, 2, "UUID [NAME] [--json]",
	  "manage an unmanaged domain (list --all) from now on, under its name or NAME" },
	{ "list", cmd_list, F_ALL | F_JSON | F_NAME, 0, 0, "[--all] [--name] [--json]",
	  "list running domains (--all: every defined one; --name: just their names)" },
	{ "info", cmd_info, F_JSON, 1, 1, "DOM [--json]", "show a domain, its devices and MACs" },
	{ "autostart", cmd_autostart, F_JSON, 2, 2, "DOM on|off [--json]",
	  "start the domain each time pvd boots the machine, or not" },
	{ "events", cmd_events, F_FOLLOW | F_SINCE | F_DOMAIN | F_JSON, 0, 0,
	  "[--since TIME|AGE] [--domain DOM] [--follow] [--json]",
	  "show the event log (--since 2026-12-05T14:00 or 10m; --follow: then wait for new events)" },
	{ "version", cmd_version, F_JSON, 0, 0, "[--json]", "versions of pvctl, pvd and its libraries" },
	{ "host", cmd_host, F_JSON, 0, 0, "[--json]", "the machine: state, memory, CPUs, versions, last loss" },
	{ "top", cmd_top, F_DELAY | F_ITERATIONS | F_BATCH | F_JSON, 0, 0,
	  "[--delay S] [--iterations N] [--batch] [--json]", "live CPU %, memory and vCPUs of running domains (q quits)" },
	{ "dmesg", cmd_dmesg, F_JSON, 0, 0, "[--json]", "the hypervisor's log" },
	{ "check", cmd_check, F_JSON, 1, 1, "FILE [--json]", "validate a domain config with pvd, without defining it" },
	{ "xs", cmd_xs, F_JSON, 2, 3, "ls|read|write|rm|watch PATH [VALUE] [--json]",
	  "xenstore as Domain 0: list a subtree, read, write, remove a node, follow a watch" },
	{ "help", cmd_help, 0, 0, 1, "[COMMAND]", "this text, or one command's" },
	{ NULL, NULL, 0, 0, 0, NULL, NULL }
};

static const struct {
	const char *name;
	unsigned flag;
} flag_names[] = {
	{ "--json", F_JSON }, { "--all", F_ALL }, { "--follow", F_FOLLOW }, { "--replace", F_REPLACE },
	{ "--transient", F_TRANSIENT }, { "--no-follow", F_NOFOLLOW }, { "--timeout", F_TIMEOUT },
	{ "--weight", F_WEIGHT }, { "--cap", F_CAP }, { "--no-wait", F_NOWAIT }, { "--name", F_NAME },
	{ "--delay", F_DELAY }, { "--iterations", F_ITERATIONS }, { "--batch", F_BATCH }, { "--since", F_SINCE },
	{ "--domain", F_DOMAIN }, { "--force", F_FORCE }, { "--rate", F_RATE }, { "--burst", F_BURST },
	{ "--bps", F_BPS }, { "--iops", F_IOPS }, { "--remove-storage", F_REMOVE_STORAGE }, { "--shrink", F_SHRINK },
};

static const struct command *find_command(const char *name)
{
	for (const struct command *c = commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: pvctl [--socket PATH | --connect tls://HOST:PORT --cert FILE --key FILE --ca FILE]\n"
		   "             COMMAND [ARGS]\n\n"
		   "DOM is a domain name, UUID (any case) or domid. The socket is --socket, else\n"
		   "$PVD_SOCKET, else %s; --connect reaches a pvd over TLS (its --tls-listen)\n"
		   "with this client's certificate and key and the CA of pvd's certificate. Global\n"
		   "options (--socket, --connect, --cert, --key, --ca, --help, --version) may come\n"
		   "anywhere on the line.\n\ncommands:\n", PVD_DEFAULT_SOCKET);
	for (const struct command *c = commands; c->name; c++) {
		char left[48];
		snprintf(left, sizeof(left), "%s %s", c->name, c->args);
		fprintf(f, "  %-32s %s\n", left, c->help);
	}
	fprintf(f, "\nexit status: 0 done, 1 error, 2 usage error\n");
}

int ctl_usage_error(const char *cmd, const char *fmt, ...)
{
	const struct command *c = cmd ? find_command(cmd) : NULL;
	va_list ap;

	fprintf(stderr, "pvctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (c)
		fprintf(stderr, "\nusage: pvctl %s %s\n", c->name, c->args);
	else
		fprintf(stderr, "\n(pvctl help lists the commands)\n");
	return EXIT_USAGE;
}

int cmd_help(struct ctl *ctl)
{
	const struct command *c;

	if (ctl->argc == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	c = find_command(ctl->argv[0]);
	if (!c)
		return ctl_usage_error("help", "no command \"%s\"", ctl->argv[0]);
	printf("usage: pvctl %s %s\n  %s\n", c->name, c->args, c->help);
	return EXIT_OK;
}

struct pvdc *ctl_conn(struct ctl *ctl)
{
	struct pvdc_error err;

	if (!ctl->conn) {
		if (ctl->connect)
			ctl->conn = pvdc_connect_uri(ctl->connect, &ctl->tls, &err);
		else
			ctl->conn = pvdc_connect(ctl->socket, &err);
		if (!ctl->conn)
			fprintf(stderr, "pvctl: %s\n", err.message);
	}
	return ctl->conn;
}

/* One line per problem pvd listed in error.data.errors (config
 * validation), each naming the file and the field; else the message. */
void ctl_print_error(struct ctl *ctl, const struct pvdc_error *err)
{
	const char *file = ctl->config_file ? ctl->config_file : "config";
	json_object *errs;
	size_t n;

	if (!err->data || !json_object_object_get_ex(err->data, "errors", &errs) ||
	    !json_object_is_type(errs, json_type_array) || !(n = json_object_array_length(errs))) {
		fprintf(stderr, "pvctl: %s\n", err->message);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(errs, i);
		fprintf(stderr, "pvctl: %s: %s: %s\n", file, jstr(e, "path", "/"), jstr(e, "message", "?"));
	}
	if (jint(err->data, "count", 0) > (long long)n)	/* pvd lists the first SCHEMA_MAX_ISSUES */
		fprintf(stderr, "pvctl: %s: and %lld more problems\n", file, jint(err->data, "count", 0) - (long long)n);
}

int ctl_call(struct ctl *ctl, const char *method, json_object *params, json_object **result)
{
	struct pvdc_error err;

	if (!ctl_conn(ctl)) {
		json_object_put(params);
		return -1;
	}
	if (pvdc_call(ctl->conn, method, params, result, &err) == 0)
		return 0;
	ctl_print_error(ctl, &err);
	pvdc_error_clear(&err);
	return -1;
}

/* Edit distance of a and b (short words only), for "did you mean". */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[32], prev, tmp;

	if (lb >= sizeof(row) / sizeof(row[0]) || la >= 32)
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t best = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			tmp = row[j];
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

/* The command closest to a mistyped one: a unique prefix, else within two edits. */
static const struct command *nearest_command(const char *name)
{
	const struct command *best = NULL, *prefixed = NULL;
	size_t best_d = 3;
	int prefixes = 0;

	for (const struct command *c = commands; c->name; c++) {
		size_t d = edit_distance(name, c->name);
		if (!strncmp(c->name, name, strlen(name))) {
			prefixed = c;
			prefixes++;
		}
		if (d < best_d) {
			best_d = d;
			best = c;
		}
	}
	return prefixes == 1 ? prefixed : best;
}

static int unknown_command(const char *name)
{
	const struct command *near = nearest_command(name);

	if (near)
		return ctl_usage_error(NULL, "unknown command \"%s\"; did you mean \"%s\"?", name, near->name);
	return ctl_usage_error(NULL, "unknown command \"%s\"", name);
}

enum { GLOBAL_NONE, GLOBAL_TAKEN, GLOBAL_EXIT };

/*
 * A global option at argv[*i], wherever it is on the line: GLOBAL_TAKEN
 * (consumed with its value), GLOBAL_NONE (not a global option), or
 * GLOBAL_EXIT with *status to exit with (--help, --version, errors).
 */
static int global_option(struct ctl *ctl, int argc, char **argv, int *i, int *status)
{
	static const struct {
		const char *name;
		size_t off;
	} valued[] = {
		{ "--socket", offsetof(struct ctl, socket) },
		{ "--connect", offsetof(struct ctl, connect) },
		{ "--cert", offsetof(struct ctl, tls.cert) },
		{ "--key", offsetof(struct ctl, tls.key) },
		{ "--ca", offsetof(struct ctl, tls.ca) },
	};
	const char *a = argv[*i];

	*status = EXIT_OK;
	if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
		usage(stdout);
		return GLOBAL_EXIT;
	}
	if (!strcmp(a, "--version")) {
		printf("pvctl %s\n", PVD_VERSION);
		return GLOBAL_EXIT;
	}
	if (!strcmp(a, "--list-commands")) {	/* for shell completion */
		for (const struct command *c = commands; c->name; c++)
			printf("%s\n", c->name);
		return GLOBAL_EXIT;
	}
	for (size_t k = 0; k < sizeof(valued) / sizeof(valued[0]); k++) {
		size_t n = strlen(valued[k].name);
		const char **slot = (const char **)((char *)ctl + valued[k].off);
		if (!strncmp(a, valued[k].name, n) && a[n] == '=') {
			*slot = a + n + 1;
			return GLOBAL_TAKEN;
		}
		if (strcmp(a, valued[k].name))
			continue;
		if (*i + 1 >= argc) {
			*status = ctl_usage_error(NULL, "%s needs a value", a);
			return GLOBAL_EXIT;
		}
		*slot = argv[++*i];
		return GLOBAL_TAKEN;
	}
	return GLOBAL_NONE;
}

int main(int argc, char **argv)
{
	struct ctl ctl = { .socket = pvdc_default_socket() };
	const struct command *cmd = NULL;
	char **pos;
	int rc;

	pos = calloc((size_t)argc, sizeof(*pos));
	if (!pos)
		return EXIT_ERROR;
	ctl.argv = pos;
	for (int i = 1; i < argc; i++) {
		unsigned f = 0;
		int g = global_option(&ctl, argc, argv, &i, &rc);
		if (g == GLOBAL_EXIT) {
			free(pos);
			return rc;
		}
		if (g == GLOBAL_TAKEN)
			continue;
		if (!cmd && argv[i][0] == '-') {
			free(pos);
			return ctl_usage_error(NULL, "unknown option %s", argv[i]);
		}
		if (!cmd) {
			cmd = find_command(argv[i]);
			if (!cmd) {
				free(pos);
				return unknown_command(argv[i]);
			}
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1]) {
			for (size_t k = 0; k < sizeof(flag_names) / sizeof(flag_names[0]); k++)
				if (!strcmp(argv[i], flag_names[k].name))
					f = flag_names[k].flag;
			if (!(f & cmd->flags)) {
				free(pos);
				return ctl_usage_error(cmd->name, "%s does not take %s", cmd->name, argv[i]);
			}
			ctl.flags |= f;
			if (f & (F_TIMEOUT | F_WEIGHT | F_CAP | F_DELAY | F_ITERATIONS | F_SINCE | F_DOMAIN | F_RATE |
				 F_BURST | F_BPS | F_IOPS)) {
				const char **slot = f == F_TIMEOUT ? &ctl.timeout : f == F_WEIGHT ? &ctl.weight :
						    f == F_CAP ? &ctl.cap : f == F_DELAY ? &ctl.delay :
						    f == F_ITERATIONS ? &ctl.iterations : f == F_SINCE ? &ctl.since :
						    f == F_RATE ? &ctl.rate : f == F_BURST ? &ctl.burst :
						    f == F_BPS ? &ctl.bps : f == F_IOPS ? &ctl.iops : &ctl.domain;
				if (i + 1 >= argc) {
					free(pos);
					return ctl_usage_error(cmd->name, "%s needs a value", argv[i]);
				}
				*slot = argv[++i];
			}
			continue;
		}
		pos[ctl.argc++] = argv[i];
	}
	if (!cmd) {
		free(pos);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (ctl.argc < cmd->min_args || ctl.argc > cmd->max_args) {
		free(pos);
		return ctl_usage_error(cmd->name, "%s takes %s", cmd->name,
				       ctl.argc < cmd->min_args ? "more arguments" : "fewer arguments");
	}
	rc = cmd->handler(&ctl);
	pvdc_close(ctl.conn);
	free(pos);
	return rc;
}
