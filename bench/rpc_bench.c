/*
 * rpc_bench.c - JSON-RPC throughput and latency of a real pvd.
 *
 * Starts pvd (argv[1], default build/bin/pvd) on a temporary state dir,
 * defines 50 domains, then runs 16 client threads (libpvdclient, one
 * connection each) calling domain.list {all} and then domain.info, and
 * reports calls/s, p50 and p99 latency per method and the info/list ratio.
 * Numbers are for comparison within one run, not pass/fail.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../api/pvdclient.h"

#define CLIENTS 16
#define CALLS_PER_CLIENT 2000
#define DOMAINS 50

struct worker {
	const char *sock, *method;
	int id;
	double *lat;	/* seconds, CALLS_PER_CLIENT entries */
	int failures;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	struct pvdc_error err;
	struct pvdc *c = pvdc_connect(w->sock, &err);

	if (!c) {
		w->failures = CALLS_PER_CLIENT;
		return NULL;
	}
	for (int i = 0; i < CALLS_PER_CLIENT; i++) {
		json_object *p = json_object_new_object(), *r;
		char name[32];
		if (!strcmp(w->method, "domain.list")) {
			json_object_object_add(p, "all", json_object_new_boolean(1));
		} else {
			snprintf(name, sizeof(name), "bench%d", (w->id * 7 + i) % DOMAINS);
			json_object_object_add(p, "domain", json_object_new_string(name));
		}
		double t0 = now();
		if (pvdc_call(c, w->method, p, &r, &err) != 0) {
			w->failures++;
			pvdc_error_clear(&err);
		}
		w->lat[i] = now() - t0;
		json_object_put(r);
	}
	pvdc_close(c);
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double phase(const char *sock, const char *method)
{
	static double lat[CLIENTS * CALLS_PER_CLIENT];
	struct worker w[CLIENTS];
	pthread_t t[CLIENTS];
	int failures = 0, n = CLIENTS * CALLS_PER_CLIENT;
	double t0 = now(), el, rate;

	for (int i = 0; i < CLIENTS; i++) {
		w[i] = (struct worker){ .sock = sock, .method = method, .id = i, .lat = lat + i * CALLS_PER_CLIENT };
		pthread_create(&t[i], NULL, run, &w[i]);
	}
	for (int i = 0; i < CLIENTS; i++) {
		pthread_join(t[i], NULL);
		failures += w[i].failures;
	}
	el = now() - t0;
	qsort(lat, (size_t)n, sizeof(double), cmp);
	rate = n / el;
	printf("%-12s %d clients x %d calls: %8.0f calls/s  p50 %7.3f ms  p99 %7.3f ms  failures %d\n", method,
	       CLIENTS, CALLS_PER_CLIENT, rate, lat[n / 2] * 1e3, lat[n * 99 / 100] * 1e3, failures);
	return rate;
}

int main(int argc, char **argv)
{
	const char *pvd = argc > 1 ? argv[1] : "build/bin/pvd";
	char dir[] = "/tmp/pvd-bench.XXXXXX", sock[128], state[128], cmd[300];
	struct pvdc_error err;
	struct pvdc *c = NULL;
	pid_t pid;
	double list, info;

	if (!mkdtemp(dir))
		return 1;
	snprintf(sock, sizeof(sock), "%s/pvd.sock", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	pid = fork();
	if (pid == 0) {
		execl(pvd, pvd, "--config", "/dev/null", "--no-machine", "--state-dir", state, "--socket", sock,
		      (char *)NULL);
		perror(pvd);
		_exit(127);
	}
	for (int i = 0; i < 200 && !c; i++) {
		usleep(25000);
		c = pvdc_connect(sock, &err);
	}
	if (!c) {
		fprintf(stderr, "rpc_bench: pvd did not start: %s\n", err.message);
		kill(pid, SIGTERM);
		return 1;
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
			return 1;
		}
		json_object_put(r);
	}
	pvdc_close(c);
	printf("pvd JSON-RPC benchmark (%d domains defined)\n", DOMAINS);
	list = phase(sock, "domain.list");
	info = phase(sock, "domain.info");
	printf("ratio domain.info / domain.list throughput: %.2f\n", info / list);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : 1;
}
