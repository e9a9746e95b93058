/*
 * commands_top.c - `pvctl top`, as xentop: every running domain's CPU
 * share over the last interval (from the CPU time the hypervisor accounts,
 * so 2 vCPUs busy show 200%), memory, vCPUs and state, most CPU first,
 * refreshed every --delay seconds; on a terminal the screen is redrawn and
 * q leaves; --batch prints one table per interval for scripts, --json one
 * JSON array per interval; --iterations N stops after N tables.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "pvctl.h"

#define TOP_MAX 1024

struct sample {
	char uuid[37];
	long long cpu_ns;
};

struct row {
	json_object *d;
	double cpu_pct;
};

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long previous_cpu(const struct sample *s, int n, const char *uuid)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(s[i].uuid, uuid))
			return s[i].cpu_ns;
	return -1;
}

static int by_cpu(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	return x->cpu_pct < y->cpu_pct ? 1 : x->cpu_pct > y->cpu_pct ? -1 : 0;
}

/* One table from list, CPU shares against the previous samples. */
static void print_table(struct ctl *ctl, json_object *list, json_object *host, const struct sample *prev,
			int nprev, long long interval_ns, int redraw)
{
	static const char *const hdr[] = { "ID", "NAME", "STATE", "CPU(%)", "CPU(s)", "MEM(MiB)", "MAXMEM(MiB)", "VCPUS" };
	size_t n = json_object_array_length(list);
	struct row *rows = calloc(n ? n : 1, sizeof(*rows));
	json_object *out = json_object_new_array();
	struct table *t = table_new(8, hdr);

	for (size_t i = 0; i < n && rows; i++) {
		json_object *d = json_object_array_get_idx(list, i);
		long long was = previous_cpu(prev, nprev, jstr(d, "uuid", "")), cpu = jint(d, "cpu_time_ns", -1);
		rows[i].d = d;
		rows[i].cpu_pct = was >= 0 && cpu >= was && interval_ns > 0 ? 100.0 * (double)(cpu - was) / (double)interval_ns
									 : 0.0;
	}
	if (rows)
		qsort(rows, n, sizeof(*rows), by_cpu);
	if (redraw)
		fputs("\033[H\033[2J", stdout);
	if (!(ctl->flags & F_JSON))
		printf("pvctl top - machine %s, %lld MiB free of %lld, %lld CPU(s), %zu domain(s), every %.1f s\n",
		       jstr(host, "machine", "?"), jint(host, "free_mib", 0), jint(host, "memory_mib", 0),
		       jint(host, "cpus", 0), n, (double)interval_ns / 1e9);
	for (size_t i = 0; i < n && rows; i++) {
		json_object *d = rows[i].d, *o;
		char id[24], pct[24], cpu[32], mem[24], maxmem[24], vcpus[16];
		snprintf(id, sizeof(id), "%lld", jint(d, "domid", -1));
		snprintf(pct, sizeof(pct), "%.1f", rows[i].cpu_pct);
		snprintf(cpu, sizeof(cpu), "%.1f", (double)jint(d, "cpu_time_ns", 0) / 1e9);
		snprintf(mem, sizeof(mem), "%lld", jint(d, "memory_mib", 0));
		snprintf(maxmem, sizeof(maxmem), "%lld", jint(d, "maxmem_mib", 0));
		snprintf(vcpus, sizeof(vcpus), "%lld", jint(d, "vcpus", 0));
		const char *cells[] = { id, jstr(d, "name", "?"), jstr(d, "state", "?"), pct, cpu, mem, maxmem, vcpus };
		table_row(t, cells);
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(jstr(d, "name", "?")));
		json_object_object_add(o, "uuid", json_object_new_string(jstr(d, "uuid", "?")));
		json_object_object_add(o, "domid", json_object_new_int64(jint(d, "domid", -1)));
		json_object_object_add(o, "state", json_object_new_string(jstr(d, "state", "?")));
		json_object_object_add(o, "cpu_percent", json_object_new_double(rows[i].cpu_pct));
		json_object_object_add(o, "cpu_time_ns", json_object_new_int64(jint(d, "cpu_time_ns", 0)));
		json_object_object_add(o, "memory_mib", json_object_new_int64(jint(d, "memory_mib", 0)));
		json_object_object_add(o, "vcpus", json_object_new_int64(jint(d, "vcpus", 0)));
		json_object_array_add(out, o);
	}
	if (ctl->flags & F_JSON)
		printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN));
	else
		table_print(t, stdout);
	fflush(stdout);
	json_object_put(out);
	free(rows);
}

/* Wait delay_ms, or until the user presses q (1). */
static int wait_or_quit(int interactive, long long delay_ms)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	long long end = now_ns() + delay_ms * 1000000LL;

	for (;;) {
		long long left = (end - now_ns()) / 1000000LL;
		char c;
		if (left <= 0)
			return 0;
		if (!interactive) {
			struct timespec ts = { (time_t)(left / 1000), (long)(left % 1000) * 1000000L };
			nanosleep(&ts, NULL);
			continue;
		}
		if (poll(&p, 1, (int)left) > 0 && read(STDIN_FILENO, &c, 1) == 1 && (c == 'q' || c == 'Q'))
			return 1;
	}
}

int cmd_top(struct ctl *ctl)
{
	struct sample *prev = calloc(TOP_MAX, sizeof(*prev));
	int nprev = 0, interactive = !(ctl->flags & (F_BATCH | F_JSON)) && isatty(STDIN_FILENO) &&
				     isatty(STDOUT_FILENO);
	long long delay_ms = 2000, iterations = -1, last_ns;
	struct termios saved, raw;
	int raw_on = 0, rc = EXIT_OK;
	char *end;

	if (!prev)
		return EXIT_ERROR;
	if (ctl->delay) {
		double d = strtod(ctl->delay, &end);
		if (*end || !(d >= 0.1 && d <= 3600)) {
			free(prev);
			return ctl_usage_error("top", "--delay takes seconds from 0.1 to 3600, not \"%s\"", ctl->delay);
		}
		delay_ms = (long long)(d * 1000);
	}
	if (ctl->iterations) {
		errno = 0;
		iterations = strtoll(ctl->iterations, &end, 10);
		if (errno || *end || iterations < 1) {
			free(prev);
			return ctl_usage_error("top", "--iterations takes a positive whole number, not \"%s\"",
					       ctl->iterations);
		}
	}
	if (interactive && tcgetattr(STDIN_FILENO, &saved) == 0) {
		raw = saved;
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw_on = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
	}
	last_ns = 0;
	for (long long it = 0; iterations < 0 || it <= iterations; it++) {
		json_object *p = json_object_new_object(), *list, *host = NULL;
		long long t;
		json_object_object_add(p, "all", json_object_new_boolean(0));
		if (ctl_call(ctl, "domain.list", p, &list) != 0) {
			rc = EXIT_ERROR;
			break;
		}
		t = now_ns();
		if (ctl_call(ctl, "host.info", NULL, &host) != 0) {
			json_object_put(list);
			rc = EXIT_ERROR;
			break;
		}
		/* the first listing is only the baseline of the first interval */
		if (it > 0)
			print_table(ctl, list, host, prev, nprev, t - last_ns, interactive);
		nprev = 0;
		for (size_t i = 0; i < json_object_array_length(list) && nprev < TOP_MAX; i++) {
			json_object *d = json_object_array_get_idx(list, i);
			snprintf(prev[nprev].uuid, sizeof(prev[nprev].uuid), "%s", jstr(d, "uuid", ""));
			prev[nprev++].cpu_ns = jint(d, "cpu_time_ns", -1);
		}
		last_ns = t;
		json_object_put(list);
		json_object_put(host);
		if (iterations >= 0 && it == iterations)
			break;
		if (wait_or_quit(interactive, delay_ms))
			break;
	}
	if (raw_on)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	free(prev);
	return rc;
}
