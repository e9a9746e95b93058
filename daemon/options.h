/*
 * options.h - pvd's settings: one table drives the command line, the
 * config file (/etc/pvd/pvd.conf, "key = value") and --help (options.c).
 */
#ifndef PVD_OPTIONS_H
#define PVD_OPTIONS_H

#define PVD_MAX_IMAGE_DIRS 16
#define PVD_INSTALL_GUEST_DIR "/usr/lib/pvcore/guests"	/* make install's guests */

struct pvd_options {
	char *config_file;
	char *state_dir;
	char *socket_path;
	char *socket_group;
	int verbose;
	char *check_config;
	char *tls_listen, *tls_cert, *tls_key, *tls_ca;
	char *tls_roles;	/* "ROLE CN" lines: the role of each client certificate (roles.c) */
	char *admin_group, *reader_group;	/* unix-socket callers' roles (roles.c) */
	long max_request;	/* bytes per JSON-RPC frame */
	long max_clients;
	long max_domains;
	long max_subscribers;
	long frame_timeout;	/* seconds a partial frame may wait for its end */
	long idle_timeout;	/* seconds without a request before a client is closed (0: never) */
	long max_clients_per_uid;	/* connections of one non-root uid / certificate */
	long max_events;	/* event-log rows kept (0: all) */
	long event_max_age;	/* days an event is kept (0: forever) */
	long max_output;	/* bytes queued to one client before it is dropped */
	long console_log_max;	/* bytes of a domain's console log before it is rotated */
	long console_log_files;	/* rotated console logs kept per domain */
	int show_version;
	/* the machine (hv.c) */
	int no_machine;
	char *iso;		/* NULL: build/pvcore.iso, else /usr/share/pvcore/pvcore.iso */
	long machine_mem;	/* MiB */
	long cpus;
	char *accel;		/* tcg or kvm */
	char *machine_ram_dir;	/* NULL: the state directory (dom0/machine.h) */
	int machine_prealloc;	/* fault the machine's RAM in at boot */
	int stop_machine;	/* --stop-machine: stop STATE/machine and exit */
	char *xs_quota;		/* xenstore quotas "name=value,..." (xs_host.c) */
	/* where kernels and ramdisks may come from (image_dir.c); none given:
	 * the defaults there */
	struct pvd_str_list {
		int n;
		char *v[PVD_MAX_IMAGE_DIRS];
	} image_dirs;
	char *pool;		/* storage pool directory; NULL: STATE/pool (pool.c) */
	/* where a disk's path may name an image, besides the pool (pool.c) */
	struct pvd_str_list disk_dirs;
	/* "NETWORK=BYTES": networks whose vifs share a capacity by weight
	 * (net_host.c) */
	struct pvd_str_list net_capacity;
};


#define PVD_DEFAULT_CONF      "/etc/pvd/pvd.conf"
#define PVD_DEFAULT_STATE_DIR "/var/lib/pvd"

/* 0 = run, 1 = exit 0 (help printed), -1 = usage error (message printed). */
int options_parse(struct pvd_options *o, int argc, char **argv);
void options_free(struct pvd_options *o);
/* s without leading blanks and trailing blanks or line end (in place);
 * for "name = value" style files (pvd.conf, --tls-roles). */
char *conf_trim(char *s);

#endif
