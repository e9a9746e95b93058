/*
 * pvctl.h - shared between pvctl's command table (pvctl.c), its commands
 * (commands.c) and its output helpers (output.c).
 */
#ifndef PVCTL_H
#define PVCTL_H

#include <json-c/json.h>
#include <stdio.h>

#include "../api/pvdclient.h"

enum { EXIT_OK = 0, EXIT_ERROR = 1, EXIT_USAGE = 2 };

/* Per-command flags a command may accept (struct command.flags). */
enum {
	F_JSON = 1 << 0,	/* --json */
	F_ALL = 1 << 1,		/* --all */
	F_FOLLOW = 1 << 2,	/* --follow */
	F_REPLACE = 1 << 3,	/* --replace */
	F_TRANSIENT = 1 << 4,	/* --transient */
	F_NOFOLLOW = 1 << 5,	/* --no-follow */
	F_TIMEOUT = 1 << 6,	/* --timeout N */
	F_WEIGHT = 1 << 7,	/* --weight N */
	F_CAP = 1 << 8,		/* --cap N */
	F_NOWAIT = 1 << 9,	/* --no-wait */
	F_NAME = 1 << 10,	/* --name */
	F_DELAY = 1 << 11,	/* --delay S */
	F_ITERATIONS = 1 << 12,	/* --iterations N */
	F_BATCH = 1 << 13,	/* --batch */
	F_SINCE = 1 << 14,	/* --since TIME */
	F_DOMAIN = 1 << 15,	/* --domain DOM */
	F_FORCE = 1 << 16,	/* --force */
	F_RATE = 1 << 17,	/* --rate BYTES */
	F_BURST = 1 << 18,	/* --burst BYTES */
	F_BPS = 1 << 19,	/* --bps N */
	F_IOPS = 1 << 20,	/* --iops N */
	F_REMOVE_STORAGE = 1 << 21,	/* --remove-storage */
	F_SHRINK = 1 << 22,	/* --shrink */
};

struct ctl {
	const char *socket;
	const char *connect;	/* --connect URI (tls://HOST:PORT), else the socket */
	struct pvdc_tls_options tls;	/* --cert, --key, --ca */
	const char *config_file;	/* the config a command sent: names validation errors */
	unsigned flags;		/* flags given */
	int argc;		/* positional arguments after the command */
	char **argv;
	struct pvdc *conn;	/* opened on first use */
	const char *timeout, *weight, *cap;	/* values of --timeout, --weight, --cap */
	const char *delay, *iterations, *since, *domain;	/* --delay, --iterations, --since, --domain */
	const char *rate, *burst;	/* --rate, --burst */
	const char *bps, *iops;		/* --bps, --iops */
};

struct command {
	const char *name;
	int (*handler)(struct ctl *ctl);
	unsigned flags;		/* flags accepted */
	int min_args, max_args;
	const char *args;	/* usage of the positionals */
	const char *help;
};

extern const struct command commands[];

/* Connect on first use; prints the error and returns NULL on failure. */
struct pvdc *ctl_conn(struct ctl *ctl);
/* Print a failed call's error: one line, or one per config problem. */
void ctl_print_error(struct ctl *ctl, const struct pvdc_error *err);
/* Make a call; on failure print the error (ctl_print_error) and return -1. */
int ctl_call(struct ctl *ctl, const char *method, json_object *params, json_object **result);
int ctl_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* output.c */
struct table;
struct table *table_new(int ncols, const char *const *headers);
void table_row(struct table *t, const char *const *cells);
void table_print(struct table *t, FILE *f);
void print_json(json_object *o);
const char *jstr(json_object *o, const char *key, const char *dflt);
long long jint(json_object *o, const char *key, long long dflt);
int jbool(json_object *o, const char *key);
const char *fmt_rate(long long n, const char *unit, char *buf, size_t len);

int cmd_define(struct ctl *ctl);
/* commands_devices.c */
int cmd_block_attach(struct ctl *ctl);
int cmd_block_detach(struct ctl *ctl);
int cmd_net_attach(struct ctl *ctl);
int cmd_net_detach(struct ctl *ctl);
int cmd_net_limit(struct ctl *ctl);
int cmd_undefine(struct ctl *ctl);
int cmd_adopt(struct ctl *ctl);
int cmd_list(struct ctl *ctl);
int cmd_info(struct ctl *ctl);
int cmd_autostart(struct ctl *ctl);
int cmd_events(struct ctl *ctl);
int cmd_version(struct ctl *ctl);
int cmd_host(struct ctl *ctl);
int cmd_top(struct ctl *ctl);
int cmd_dmesg(struct ctl *ctl);
int cmd_check(struct ctl *ctl);
int cmd_help(struct ctl *ctl);
int cmd_xs(struct ctl *ctl);	/* commands_xs.c */
int cmd_create(struct ctl *ctl);
int cmd_start(struct ctl *ctl);
int cmd_destroy(struct ctl *ctl);
int cmd_shutdown(struct ctl *ctl);
int cmd_reboot(struct ctl *ctl);
int cmd_pause(struct ctl *ctl);
int cmd_resume(struct ctl *ctl);
int cmd_memset(struct ctl *ctl);
int cmd_memmax(struct ctl *ctl);
int cmd_sched(struct ctl *ctl);
int cmd_console(struct ctl *ctl);

/* commands_disk.c */
int cmd_disk_quota(struct ctl *ctl);
int cmd_disk_limit(struct ctl *ctl);
int cmd_vol(struct ctl *ctl);
/* the disks of a domain.info result (cmd_info) */
void print_disks(json_object *r);

/* bulk.c */
int cmd_start_all(struct ctl *ctl);
/* shutdown of DOM or (--all) every running/paused domain, waiting unless --no-wait */
int cmd_shutdown_domains(struct ctl *ctl, long long timeout);

#endif
