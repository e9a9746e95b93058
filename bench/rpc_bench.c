/*
 * rpc_bench.c - `make bench-rpc`: the management API of pvd side by side
 * with libvirtd's, in one run, each over its unix socket.
 *
 * pvd: argv[1] (default build/bin/pvd) on a temporary state dir without a
 * machine, 50 domains defined; calls through libpvdclient.
 * libvirtd: Debian's /usr/sbin/libvirtd started privately (its own config,
 * socket directory and pid file in the temporary dir, no auth, no TCP),
 * with the test driver holding the same 50 domains (a node XML), reached
 * by the remote driver over the socket (test+unix://...); calls through
 * libvirt's C API, so both sides pay one socket round trip per call and
 * no process is spawned per call.
 *
 * The two calls measured, each with 1 and 16 clients (one thread and one
 * connection per client, for PHASE_S seconds each):
 *  - listing all domains with their state: pvd domain.list {all: true,
 *    fields: ["name", "state"]}; libvirt
 *    virConnectGetAllDomainStats(VIR_DOMAIN_STATS_STATE), the one call that
 *    returns every domain's state (virsh list's way, one virDomainGetState
 *    per domain after the listing, would be 51 calls). Both answers carry
 *    the same information: each domain's name and state (libvirt's STATE
 *    group adds the state's reason; its records also hold a domain handle,
 *    i.e. name, UUID and id); without fields pvd's entries carry 13
 *    members (about 240 bytes each) that the client would parse for nothing;
 *  - one domain's info: pvd domain.info {domain: name}; libvirt
 *    virDomainGetInfo on a domain handle looked up once beforehand (one
 *    call; looking the name up each time would be two).
 * Prints calls/s, p50 and p99 per side and the ratio pvd/libvirtd, and the
 * load average. Without libvirt (built without libvirt-dev, or no
 * libvirtd) the libvirtd rows say why they are missing. Never a test.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../api/pvdclient.h"
#ifdef HAVE_LIBVIRT
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#endif

#define DOMAINS 50
#define PHASE_S 3.0
#define MAX_CLIENTS 16
#define LIBVIRTD "/usr/sbin/libvirtd"

enum call { CALL_LIST, CALL_INFO };

struct side {
	const char *name;
	void *(*connect)(const struct side *s, char *why, size_t n);
	int (*call)(void *conn, enum call what, int id, int i);
	void (*close)(void *conn);
	char addr[1400];
};

struct worker {
	const struct side *side;
	enum call what;
	int id, failures;
	pthread_barrier_t *start;
	double *lat;	/* seconds */
	size_t n, cap;
	char why[256];
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- pvd ---------------------------------------------------------------- */

static void *pvd_connect(const struct side *s, char *why, size_t n)
{
	struct pvdc_error err;
	struct pvdc *c = pvdc_connect(s->addr, &err);

	if (!c)
		snprintf(why, n, "%s", err.message);
	return c;
}

static int pvd_call(void *conn, enum call what, int id, int i)
{
	json_object *p = json_object_new_object(), *r = NULL;
	struct pvdc_error err;
	char name[32];
	int rc;

	if (what == CALL_LIST) {
		json_object *fields = json_object_new_array();
		json_object_array_add(fields, json_object_new_string("name"));
		json_object_array_add(fields, json_object_new_string("state"));
		json_object_object_add(p, "all", json_object_new_boolean(1));
		json_object_object_add(p, "fields", fields);
	} else {
		snprintf(name, sizeof(name), "bench%d", (id * 7 + i) % DOMAINS);
		json_object_object_add(p, "domain", json_object_new_string(name));
	}
	rc = pvdc_call(conn, what == CALL_LIST ? "domain.list" : "domain.info", p, &r, &err);
	if (rc)
		pvdc_error_clear(&err);
	else if (what == CALL_LIST && json_object_array_length(r) != DOMAINS)
		rc = -1;
	json_object_put(r);
	return rc;
}

static void pvd_close(void *conn)
{
	pvdc_close(conn);
}

/* ---- libvirtd ----------------------------------------------------------- */

#ifdef HAVE_LIBVIRT
struct lv {
	virConnectPtr c;
	virDomainPtr dom[DOMAINS];
};

static void lv_close(void *conn)
{
	struct lv *l = conn;

	for (int i = 0; i < DOMAINS; i++)
		if (l->dom[i])
			virDomainFree(l->dom[i]);
	if (l->c)
		virConnectClose(l->c);
	free(l);
}

static void lv_quiet(void *arg, virErrorPtr e)
{
	(void)arg;
	(void)e;
}

static void *lv_connect(const struct side *s, char *why, size_t n)
{
	struct lv *l = calloc(1, sizeof(*l));

	if (!l) {
		snprintf(why, n, "out of memory");
		return NULL;
	}
	l->c = virConnectOpen(s->addr);
	if (!l->c) {
		virErrorPtr e = virGetLastError();
		snprintf(why, n, "virConnectOpen %s: %s", s->addr, e && e->message ? e->message : "failed");
		lv_close(l);
		return NULL;
	}
	for (int i = 0; i < DOMAINS; i++) {
		char name[32];
		snprintf(name, sizeof(name), "bench%d", i);
		if (!(l->dom[i] = virDomainLookupByName(l->c, name))) {
			snprintf(why, n, "libvirtd has no domain %s", name);
			lv_close(l);
			return NULL;
		}
	}
	return l;
}

static int lv_call(void *conn, enum call what, int id, int i)
{
	struct lv *l = conn;

	if (what == CALL_LIST) {
		virDomainStatsRecordPtr *recs = NULL;
		int n = virConnectGetAllDomainStats(l->c, VIR_DOMAIN_STATS_STATE, &recs, 0);
		if (recs)
			virDomainStatsRecordListFree(recs);
		return n == DOMAINS ? 0 : -1;
	}
	virDomainInfo info;
	return virDomainGetInfo(l->dom[(id * 7 + i) % DOMAINS], &info);
}

/* The node XML of the test driver: the same 50 names, 32 MiB, 1 vCPU. */
static int write_node_xml(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fprintf(f, "<node>\n");
	for (int i = 0; i < DOMAINS; i++)
		fprintf(f, "  <domain type='test'><name>bench%d</name><memory unit='MiB'>32</memory>"
			"<vcpu>1</vcpu><os><type>xen</type></os></domain>\n", i);
	fprintf(f, "</node>\n");
	return fclose(f);
}

/* Start a private libvirtd in dir; its pid, or -1 with why. */
static pid_t start_libvirtd(const char *dir, struct side *s, char *why, size_t n)
{
	char conf[300], sockdir[300], pidf[300], node[300], logf[300], drv[300];
	FILE *f;

	if (access(LIBVIRTD, X_OK) != 0) {
		snprintf(why, n, "%s not installed (apt-get install libvirt-daemon)", LIBVIRTD);
		return -1;
	}
	snprintf(sockdir, sizeof(sockdir), "%s/libvirt", dir);
	snprintf(conf, sizeof(conf), "%s/libvirtd.conf", dir);
	snprintf(pidf, sizeof(pidf), "%s/libvirtd.pid", dir);
	snprintf(node, sizeof(node), "%s/node.xml", dir);
	snprintf(logf, sizeof(logf), "%s/libvirtd.log", dir);
	if (mkdir(sockdir, 0700) != 0 || write_node_xml(node) != 0 || !(f = fopen(conf, "w"))) {
		snprintf(why, n, "%s: %s", dir, strerror(errno));
		return -1;
	}
	fprintf(f, "unix_sock_dir = \"%s\"\nauth_unix_rw = \"none\"\nauth_unix_ro = \"none\"\n"
		"unix_sock_rw_perms = \"0700\"\nmax_clients = 64\nmax_workers = 20\n"
		"max_client_requests = 5\nlog_outputs = \"3:file:%s\"\n", sockdir, logf);
	fclose(f);
	snprintf(s->addr, sizeof(s->addr), "test+unix://%s?socket=%s/libvirt-sock", node, sockdir);
	snprintf(drv, sizeof(drv), "%s/no-drivers", dir);
	if (mkdir(drv, 0700) != 0) {
		snprintf(why, n, "%s: %s", drv, strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid == 0) {
		/* The test driver is built into libvirt; the loadable ones (QEMU,
		 * network, storage ...) are kept out: without libvirt-daemon-system
		 * the QEMU driver cannot initialise (no libvirt-qemu user) and
		 * libvirtd would refuse to start. */
		setenv("LIBVIRT_DRIVER_DIR", drv, 1);
		if (freopen(logf, "a", stdout) && freopen(logf, "a", stderr))
			execl(LIBVIRTD, LIBVIRTD, "-f", conf, "-p", pidf, (char *)NULL);
		_exit(127);
	}
	return pid;
}
#endif

/* ---- the phases --------------------------------------------------------- */

static void *run(void *arg)
{
	struct worker *w = arg;
	void *conn = w->side->connect(w->side, w->why, sizeof(w->why));

	pthread_barrier_wait(w->start);
	if (!conn) {
		w->failures = 1;
		return NULL;
	}
	double end = now() + PHASE_S;
	for (int i = 0; now() < end; i++) {
		if (w->n == w->cap) {
			double *l = realloc(w->lat, (w->cap ? w->cap * 2 : 4096) * sizeof(double));
			if (!l)
				break;
			w->lat = l;
			w->cap = w->cap ? w->cap * 2 : 4096;
		}
		double t0 = now();
		if (w->side->call(conn, w->what, w->id, i) != 0)
			w->failures++;
		w->lat[w->n++] = now() - t0;
	}
	w->side->close(conn);
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct result {
	double rate, p50, p99;
	int ok;
};

static struct result phase(const struct side *s, enum call what, int clients)
{
	struct worker w[MAX_CLIENTS];
	pthread_t t[MAX_CLIENTS];
	pthread_barrier_t start;
	struct result r = { 0 };
	size_t total = 0;
	int failures = 0;

	pthread_barrier_init(&start, NULL, (unsigned)clients + 1);
	for (int i = 0; i < clients; i++) {
		w[i] = (struct worker){ .side = s, .what = what, .id = i, .start = &start };
		pthread_create(&t[i], NULL, run, &w[i]);
	}
	pthread_barrier_wait(&start);
	double t0 = now();
	for (int i = 0; i < clients; i++) {
		pthread_join(t[i], NULL);
		failures += w[i].failures;
		total += w[i].n;
	}
	double el = now() - t0;
	pthread_barrier_destroy(&start);
	double *all = malloc((total ? total : 1) * sizeof(double));
	size_t k = 0;
	for (int i = 0; i < clients; i++) {
		if (all)
			memcpy(all + k, w[i].lat, w[i].n * sizeof(double));
		k += w[i].n;
		free(w[i].lat);
	}
	if (failures || !total || !all) {
		fprintf(stderr, "rpc_bench: %s %s, %d clients: %d failures%s%s\n", s->name,
			what == CALL_LIST ? "list" : "info", clients, failures, w[0].why[0] ? ": " : "", w[0].why);
	} else {
		qsort(all, total, sizeof(double), cmp);
		r = (struct result){ .rate = (double)total / el, .p50 = all[total / 2] * 1e3,
				     .p99 = all[total * 99 / 100] * 1e3, .ok = 1 };
	}
	free(all);
	return r;
}

static void loadavg(char *buf, size_t n)
{
	FILE *f = fopen("/proc/loadavg", "r");

	snprintf(buf, n, "?");
	if (f && fgets(buf, (int)n, f))
		buf[strcspn(buf, "\n")] = '\0';
	if (f)
		fclose(f);
}

static int define_pvd_domains(const char *sock)
{
	struct pvdc_error err;
	struct pvdc *c = NULL;

	for (int i = 0; i < 200 && !c; i++) {
		usleep(25000);
		c = pvdc_connect(sock, &err);
	}
	if (!c) {
		fprintf(stderr, "rpc_bench: pvd did not start: %s\n", err.message);
		return -1;
	}
	for (int i = 0; i < DOMAINS; i++) {
		json_object *p = json_object_new_object(), *cfg = json_object_new_object(), *r;
		char name[32];
		snprintf(name, sizeof(name), "bench%d", i);
		json_object_object_add(cfg, "name", json_object_new_string(name));
		json_object_object_add(cfg, "kernel", json_object_new_string("guests/hello.elf"));
		json_object_object_add(cfg, "memory", json_object_new_string("32M"));
		json_object_object_add(p, "config", cfg);
		if (pvdc_call(c, "domain.define", p, &r, &err) != 0) {
			fprintf(stderr, "rpc_bench: define: %s\n", err.message);
			pvdc_close(c);
			return -1;
		}
		json_object_put(r);
	}
	pvdc_close(c);
	return 0;
}

int main(int argc, char **argv)
{
	const char *pvd = argc > 1 ? argv[1] : "build/bin/pvd";
	char dir[] = "/tmp/pvd-rpcbench.XXXXXX", state[128], cmd[300], why[600] = "", load0[64], load1[64];
	struct side pv = { .name = "pvd", .connect = pvd_connect, .call = pvd_call, .close = pvd_close };
	pid_t pid, lvpid = -1;
	int have_lv = 0, rc = 0;

	if (!mkdtemp(dir))
		return 1;
	snprintf(pv.addr, sizeof(pv.addr), "%s/pvd.sock", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(cmd, sizeof(cmd), "%s/pvd.log", dir);
	pid = fork();
	if (pid == 0) {
		if (!freopen(cmd, "a", stdout) || !freopen(cmd, "a", stderr))
			_exit(127);
		execl(pvd, pvd, "--config", "/dev/null", "--no-machine", "--state-dir", state, "--socket", pv.addr,
		      (char *)NULL);
		perror(pvd);
		_exit(127);
	}
#ifdef HAVE_LIBVIRT
	struct side lv = { .name = "libvirtd", .connect = lv_connect, .call = lv_call, .close = lv_close };
	virSetErrorFunc(NULL, lv_quiet);
	lvpid = start_libvirtd(dir, &lv, why, sizeof(why));
	if (lvpid > 0) {
		for (int i = 0; i < 200 && !have_lv; i++) {
			usleep(50000);
			void *c = lv_connect(&lv, why, sizeof(why));
			if (c) {
				have_lv = 1;
				lv_close(c);
			}
		}
	}
#else
	snprintf(why, sizeof(why), "built without libvirt-dev");
#endif
	if (define_pvd_domains(pv.addr) != 0) {
		rc = 1;
		goto out;
	}
	loadavg(load0, sizeof(load0));
	printf("bench-rpc: pvd and libvirtd%s, %d domains each, each phase %.0f s, one connection per "
	       "client thread; load average %s\n", have_lv ? " (test driver, over its unix socket)" : "",
	       DOMAINS, PHASE_S, load0);
	if (!have_lv)
		printf("libvirtd: not measured: %s\n", why);
	printf("\n| call | clients | pvd calls/s | pvd p50 ms | pvd p99 ms | libvirtd calls/s | "
	       "libvirtd p50 ms | libvirtd p99 ms | pvd/libvirtd calls/s |\n"
	       "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (int what = CALL_LIST; what <= CALL_INFO; what++) {
		for (int clients = 1; clients <= MAX_CLIENTS; clients *= 16) {
			struct result a = phase(&pv, what, clients), b = { 0 };
#ifdef HAVE_LIBVIRT
			if (have_lv)
				b = phase(&lv, what, clients);
#endif
			printf("| %s | %d | ", what == CALL_LIST ? "list all, with state" : "one domain's info",
			       clients);
			if (a.ok)
				printf("%.0f | %.3f | %.3f | ", a.rate, a.p50, a.p99);
			else
				printf("failed | | | ");
			if (b.ok)
				printf("%.0f | %.3f | %.3f | %.2f |\n", b.rate, b.p50, b.p99, a.ok ? a.rate / b.rate : 0);
			else
				printf("- | - | - | - |\n");
			fflush(stdout);
			rc |= !a.ok || (have_lv && !b.ok);
		}
	}
	loadavg(load1, sizeof(load1));
	printf("\nload average at the end %s; libvirt list: virConnectGetAllDomainStats(STATE), "
	       "info: virDomainGetInfo on a looked-up handle; pvd: domain.list {all, fields: [name, state]}, "
	       "domain.info {domain}\n",
	       load1);
out:
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	if (lvpid > 0) {
		kill(lvpid, SIGTERM);
		waitpid(lvpid, NULL, 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? rc : 1;
}
