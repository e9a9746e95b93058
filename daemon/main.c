/*
 * main.c - pvd: the pvcore daemon. Runs in the foreground, logs to stderr.
 *
 * Start-up is the ordered list in pvd_start; pvd_stop tears down whatever
 * was built, in reverse. `pvd --check-config FILE` validates a domain
 * config with the same code the daemon uses and exits (0 valid, 1 not).
 * Exit status: 0 after a clean stop, 1 when start-up failed, 2 on a usage
 * error.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../api/pvd_api.h"
#include "config.h"
#include "domain_cache.h"
#include "events.h"
#include "hv.h"
#include "image_dir.h"
#include "pool.h"
#include "../dom0/build.h"
#include "../dom0/machine.h"
#include <public/pvcore_ctl.h>
#include "log.h"
#include "net_host.h"
#include "pvd.h"
#include "rpc.h"
#include "server.h"
#include "store.h"
#include "store_sync.h"
#include "tls.h"

/* The config's kernel and ramdisk, as a start would read them (relative
 * to the config file's directory): present, regular, a kernel the builder
 * takes. A missing kernel is the config's error, found before a start. */
static int check_images(const char *path, json_object *norm)
{
	char tmp[4096], dir[4096], k[8192], r[8192], err[600];
	const char *kernel = NULL, *ramdisk = NULL;
	json_object *v;
	struct build_image img;

	snprintf(tmp, sizeof(tmp), "%s", path);
	snprintf(dir, sizeof(dir), "%s", dirname(tmp));
	if (json_object_object_get_ex(norm, "kernel", &v))
		kernel = json_object_get_string(v);
	if (json_object_object_get_ex(norm, "ramdisk", &v))
		ramdisk = json_object_get_string(v);
	if (!kernel)
		return 0;
	snprintf(k, sizeof(k), "%s%s%s", kernel[0] == '/' ? "" : dir, kernel[0] == '/' ? "" : "/", kernel);
	if (ramdisk)
		snprintf(r, sizeof(r), "%s%s%s", ramdisk[0] == '/' ? "" : dir, ramdisk[0] == '/' ? "" : "/", ramdisk);
	if (build_image_read(&img, k, ramdisk ? r : NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "pvd: %s: %s: %s\n", path, ramdisk && strstr(err, r) ? "/ramdisk" : "/kernel", err);
		return -1;
	}
	build_image_free(&img);
	return 0;
}

static int check_config_file(const char *path)
{
	struct config_checker *c;
	struct schema_report rep;
	enum config_format fmt;
	json_object *norm, *name;
	char err[512], *text;
	size_t len;

	text = config_read_file(path, &len, err, sizeof(err));
	if (!text) {
		fprintf(stderr, "pvd: %s\n", err);
		return 1;
	}
	c = config_checker_new(err, sizeof(err));
	if (!c) {
		fprintf(stderr, "pvd: %s\n", err);
		free(text);
		return 1;
	}
	fmt = config_detect_format(text, len);
	norm = config_check_text(c, text, len, fmt, &rep);
	if (!norm) {
		for (int i = 0; i < rep.count && i < SCHEMA_MAX_ISSUES; i++)
			fprintf(stderr, "pvd: %s: %s: %s\n", path, rep.issue[i].path, rep.issue[i].message);
		if (rep.count > SCHEMA_MAX_ISSUES)
			fprintf(stderr, "pvd: %s: and %d more problems\n", path, rep.count - SCHEMA_MAX_ISSUES);
	} else if (check_images(path, norm) != 0) {
		json_object_put(norm);
		norm = NULL;
	} else {
		json_object_object_get_ex(norm, "name", &name);
		printf("%s: valid %s config for domain \"%s\"\n", path, config_format_name(fmt),
		       json_object_get_string(name));
		json_object_put(norm);
	}
	config_checker_free(c);
	free(text);
	return norm ? 0 : 1;
}

/* pvd --stop-machine: QEMU's monitor quit, SIGKILL after 10 s. The pvd of
 * the state dir must be stopped first (one Domain 0 per machine). */
static int stop_machine(const char *state_dir)
{
	struct machine *m;
	struct machine_status st;
	char dir[4200], err[600];

	snprintf(dir, sizeof(dir), "%s/machine", state_dir);
	if (machine_attach(dir, &m, err, sizeof(err)) < 0) {
		machine_status_dir(dir, &st);
		if (st.state != MACHINE_RUNNING) {
			printf("machine %s is not running (%s)\n", dir, st.reason);
			return 0;
		}
		fprintf(stderr, "pvd: machine %s: %s\n", dir, err);
		return 1;
	}
	if (machine_stop(m, 10000, err, sizeof(err)) < 0) {
		fprintf(stderr, "pvd: stopping machine %s: %s\n", dir, err);
		machine_close(m);
		return 1;
	}
	machine_status(m, &st);
	printf("machine %s stopped: %s\n", dir, st.reason);
	machine_close(m);
	return 0;
}

static int mkdir_p(const char *dir, mode_t mode)
{
	char buf[4096];

	if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf))
		return -1;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, mode) != 0 && errno != EEXIST ? -1 : 0;
}

/* One pvd per state directory: an exclusive flock held for our lifetime.
 * The directory is made absolute first, so every path pvd reports in it
 * (console logs) means the same to a client in another directory. */
static int lock_state_dir(struct pvd *pvd, char *err, size_t errlen)
{
	char path[4200], *abs;

	if (mkdir_p(pvd->opt.state_dir, 0750) != 0 || !(abs = realpath(pvd->opt.state_dir, NULL))) {
		snprintf(err, errlen, "state dir %.400s: %s", pvd->opt.state_dir, strerror(errno));
		return -1;
	}
	free(pvd->opt.state_dir);
	pvd->opt.state_dir = abs;
	snprintf(path, sizeof(path), "%s/pvd.lock", pvd->opt.state_dir);
	pvd->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (pvd->lock_fd < 0) {
		snprintf(err, errlen, "%.400s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(pvd->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		snprintf(err, errlen, "state dir %.400s is in use by another pvd", pvd->opt.state_dir);
		return -1;
	}
	return 0;
}

static int ensure_socket_dir(const char *socket_path, char *err, size_t errlen)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "%s", socket_path);
	if (mkdir(dirname(buf), 0755) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "socket directory %.400s: %s", buf, strerror(errno));
		return -1;
	}
	return 0;
}

/* systemd Type=notify: tell the manager we are ready (no-op elsewhere). */
static void notify_systemd(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof(sun.sun_path))
		return;
	memcpy(sun.sun_path, path, strlen(path));
	if (sun.sun_path[0] == '@')
		sun.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sun, len) < 0)
		log_warn("sd_notify: %s", strerror(errno));
	close(fd);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct pvd *pvd = arg;

	(void)what;
	if (sig == SIGHUP) {
		log_info("SIGHUP: pvd reads its settings only at start; restart it to apply changes");
		return;
	}
	log_notice("received %s, stopping", strsignal((int)sig));
	notify_systemd("STOPPING=1");
	event_base_loopexit(pvd->base, NULL);
}

static int report_autostart(void *arg, const struct store_domain *d)
{
	int *n = arg;

	if (d->autostart) {
		(*n)++;
		log_notice("autostart: domain \"%s\" is marked, but this pvd has no machine to start it", d->name);
	}
	return 0;
}

/* Descriptors pvd may hold at once: two per running domain (its console
 * log and read position), one per client, and a margin for the store,
 * the machine link, backends and listeners. The soft limit is raised to
 * that (at most the hard limit) so a full machine does not run out at the
 * 500th domain under systemd's default of 1024; a lower hard limit only
 * gets a notice. */
static void raise_fd_limit(const struct pvd *pvd)
{
	rlim_t want = (rlim_t)PVCTL_MAX_DOMAINS * 2 + (rlim_t)pvd->opt.max_clients + 256;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want)
		log_notice("open files limited to %llu (%llu wanted for %d domains and %ld clients)",
			   (unsigned long long)rl.rlim_cur, (unsigned long long)want, PVCTL_MAX_DOMAINS,
			   pvd->opt.max_clients);
}

static int pvd_start(struct pvd *pvd)
{
	char err[600], dbpath[4200], detail[128], dirs[1024];
	int autostart = 0;

	/* 0. enough descriptors for a full machine */
	raise_fd_limit(pvd);
	/* 1. the state dir, locked: nothing below may touch it otherwise */
	if (lock_state_dir(pvd, err, sizeof(err)) != 0)
		goto fail;
	/* 1b. where kernels and ramdisks may come from (before any start) */
	if (image_dirs_init(&pvd->images, &pvd->opt.image_dirs, err, sizeof(err)) != 0)
		goto fail;
	image_dirs_describe(&pvd->images, dirs, sizeof(dirs));
	log_notice("kernels and ramdisks only from: %s", dirs);
	if (net_host_check_options(pvd, err, sizeof(err)) != 0)
		goto fail;
	if (pool_dirs_init(pvd, err, sizeof(err)) != 0)
		goto fail;
	image_dirs_describe(&pvd->disk_dirs, dirs, sizeof(dirs));
	log_notice("disk images only in: %s", dirs);
	/* 1c. callers' roles: groups resolved, --tls-roles read */
	if (roles_init(&pvd->roles, &pvd->opt, err, sizeof(err)) != 0)
		goto fail;
	/* 2. the config checker, from the embedded schemas */
	pvd->checker = config_checker_new(err, sizeof(err));
	if (!pvd->checker)
		goto fail;
	/* 3. the store, migrated to this binary's schema version */
	snprintf(dbpath, sizeof(dbpath), "%s/pvd.db", pvd->opt.state_dir);
	if (store_open(&pvd->store, dbpath, STORE_LATEST, err, sizeof(err)) != 0)
		goto fail;
	store_set_event_limits(pvd->store, pvd->opt.max_events, pvd->opt.event_max_age * 86400);
	/* 3a. the domains as the read paths want them, checked against the store */
	pvd->domains = domain_cache_new();
	if (!pvd->domains) {
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	/* 4. the RPC layer: dispatch table checked against the OpenRPC document */
	pvd->rpc = rpc_new(err, sizeof(err));
	if (!pvd->rpc)
		goto fail;
	/* 5. the loop, then everything that registers events with it */
	pvd->base = event_base_new();
	if (!pvd->base) {
		snprintf(err, sizeof(err), "cannot create the event loop");
		goto fail;
	}
	if (ensure_socket_dir(pvd->opt.socket_path, err, sizeof(err)) != 0)
		goto fail;
	pvd->server = server_new(pvd, err, sizeof(err));
	if (!pvd->server)
		goto fail;
	/* 5a. commits made durable by a thread of their own, answers held
	 * until they are: the loop never waits for the disk */
	pvd->sync = store_sync_new(pvd, dbpath, err, sizeof(err));
	if (!pvd->sync)
		goto fail;
	if (pvd->opt.tls_listen) {
		pvd->tls = tls_listener_new(pvd, err, sizeof(err));
		if (!pvd->tls)
			goto fail;
	}
	/* 5b. the machine: attach to the one running in STATE/machine, else boot
	 * it (clients that connect meanwhile wait for the loop) */
	if (hv_open(pvd, err, sizeof(err)) != 0)
		goto fail;
	pvd->sig_term = evsignal_new(pvd->base, SIGTERM, on_signal, pvd);
	pvd->sig_int = evsignal_new(pvd->base, SIGINT, on_signal, pvd);
	pvd->sig_hup = evsignal_new(pvd->base, SIGHUP, on_signal, pvd);
	if (!pvd->sig_term || !pvd->sig_int || !pvd->sig_hup || evsignal_add(pvd->sig_term, NULL) ||
	    evsignal_add(pvd->sig_int, NULL) || evsignal_add(pvd->sig_hup, NULL)) {
		snprintf(err, sizeof(err), "cannot install signal handlers");
		goto fail;
	}
	/* 6. reconcile with the hypervisor: keep what runs, restart what is
	 * missing, autostart once per machine boot; without a machine, report */
	if (pvd->hv)
		hv_reconcile(pvd);
	else if (store_domain_list(pvd->store, report_autostart, &autostart) != 0)
		log_warn("autostart: %s", store_error(pvd->store));
	snprintf(detail, sizeof(detail), "{\"version\":\"%s\",\"pid\":%d}", PVD_VERSION, (int)getpid());
	events_record(pvd, "daemon.started", detail);
	log_notice("pvd %s ready: socket %s%s%s, state %s (schema version %d)", PVD_VERSION, pvd->opt.socket_path,
		   pvd->opt.tls_listen ? ", TLS " : "", pvd->opt.tls_listen ? pvd->opt.tls_listen : "",
		   pvd->opt.state_dir, store_schema_version(pvd->store));
	notify_systemd("READY=1");
	return 0;
fail:
	log_err("%s", err);
	return -1;
}

static void pvd_stop(struct pvd *pvd)
{
	if (pvd->store && pvd->server)
		events_record(pvd, "daemon.stopped", NULL);
	if (pvd->sig_hup)
		event_free(pvd->sig_hup);
	if (pvd->sig_int)
		event_free(pvd->sig_int);
	if (pvd->sig_term)
		event_free(pvd->sig_term);
	tls_listener_free(pvd->tls);
	hv_close(pvd);
	store_sync_free(pvd->sync);	/* the last sync, then what it held is sent */
	pvd->sync = NULL;
	server_free(pvd->server);
	pvd->server = NULL;
	if (pvd->base)
		event_base_free(pvd->base);
	rpc_free(pvd->rpc);
	domain_cache_free(pvd->domains);
	store_close(pvd->store);
	config_checker_free(pvd->checker);
	roles_free(&pvd->roles);
	image_dirs_free(&pvd->images);
	image_dirs_free(&pvd->disk_dirs);
	if (pvd->lock_fd >= 0)
		close(pvd->lock_fd);
}

int main(int argc, char **argv)
{
	struct pvd pvd = { .lock_fd = -1 };
	int rc = options_parse(&pvd.opt, argc, argv);

	if (rc != 0) {
		options_free(&pvd.opt);
		return rc > 0 ? 0 : 2;
	}
	if (pvd.opt.show_version) {
		printf("pvd %s\n", PVD_VERSION);
		options_free(&pvd.opt);
		return 0;
	}
	log_init(pvd.opt.verbose);
	if (pvd.opt.check_config) {
		rc = check_config_file(pvd.opt.check_config);
		options_free(&pvd.opt);
		return rc;
	}
	signal(SIGPIPE, SIG_IGN);
	if (pvd.opt.stop_machine) {
		rc = stop_machine(pvd.opt.state_dir);
		options_free(&pvd.opt);
		return rc;
	}
	rc = pvd_start(&pvd);
	if (rc == 0 && event_base_dispatch(pvd.base) < 0) {
		log_err("event loop failed");
		rc = -1;
	}
	pvd_stop(&pvd);
	if (rc == 0)
		log_notice("pvd stopped");
	options_free(&pvd.opt);
	return rc == 0 ? 0 : 1;
}
