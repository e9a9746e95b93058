/*
 * options.h - pvd's settings: one table drives the command line, the
 * config file (/etc/pvd/pvd.conf, "key = value") and --help (options.c).
 */
#ifndef PVD_OPTIONS_H
#define PVD_OPTIONS_H

struct pvd_options {
	char *config_file;
	char *state_dir;
	char *socket_path;
	char *socket_group;
	int verbose;
	char *check_config;
	char *tls_listen, *tls_cert, *tls_key, *tls_ca;
	long max_request;	/* bytes per JSON-RPC frame */
	long max_clients;
	long max_domains;
	long max_subscribers;
	long frame_timeout;	/* seconds a partial frame may wait for its end */
	long max_output;	/* bytes queued to one client before it is dropped */
	int show_version;
	/* the machine (hv.c) */
	int no_machine;
	char *iso;		/* NULL: build/pvcore.iso, else /usr/share/pvcore/pvcore.iso */
	long machine_mem;	/* MiB */
	long cpus;
	char *accel;		/* tcg or kvm */
	int stop_machine;	/* --stop-machine: stop STATE/machine and exit */
	char *xs_quota;		/* xenstore quotas "name=value,..." (xs_host.c) */
	char *pool;		/* storage pool directory; NULL: STATE/pool (pool.c) */
};

#define PVD_DEFAULT_CONF      "/etc/pvd/pvd.conf"
#define PVD_DEFAULT_STATE_DIR "/var/lib/pvd"

/* 0 = run, 1 = exit 0 (help printed), -1 = usage error (message printed). */
int options_parse(struct pvd_options *o, int argc, char **argv);
void options_free(struct pvd_options *o);

#endif
