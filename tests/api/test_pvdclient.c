/*
 * test_pvdclient.c - libpvdclient against a scripted server (a child
 * process on a unix socket in a temporary directory), TAP on stdout.
 *
 * Checks what a call puts on the wire (byte for byte what json-c writes
 * for the request object, one write with its newline, a method name that
 * needs escaping still valid JSON), what it takes from it (a response in
 * pieces, a notification and a stale answer before it, an error), its
 * timeout, and that after the first call the library allocates nothing of
 * its own per call: malloc is wrapped (-Wl,--wrap=malloc), which catches
 * the calls libpvdclient.a and this file make (json-c's are its own).
 */
#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../api/pvdclient.h"

void *__real_malloc(size_t n);
void *__wrap_malloc(size_t n);
static unsigned long mallocs;

void *__wrap_malloc(size_t n)
{
	mallocs++;
	return __real_malloc(n);
}

static int failures, count;

static void ok(int cond, const char *what, const char *why)
{
	count++;
	if (cond) {
		printf("ok - %s\n", what);
	} else {
		failures++;
		printf("not ok - %s: %s\n", what, why);
	}
	fflush(stdout);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the scripted server (child) ---- */

/* One line from fd into buf (without its newline); its length, -1 at EOF. */
static ssize_t read_line(int fd, char *buf, size_t cap)
{
	size_t n = 0;

	while (n + 1 < cap) {
		ssize_t r = read(fd, buf + n, 1);
		if (r <= 0)
			return -1;
		if (buf[n] == '\n') {
			buf[n] = '\0';
			return (ssize_t)n;
		}
		n++;
	}
	return -1;
}

static void put(int fd, const char *s)
{
	size_t len = strlen(s);

	while (len) {
		ssize_t w = write(fd, s, len);
		if (w <= 0)
			_exit(3);
		s += w;
		len -= (size_t)w;
	}
}

/*
 * The script, one request at a time:
 *  1. domain.info: send the request line back in a notification
 *     {"method":"echo","params":{"line":...,"reads":N}} (N: the reads it took),
 *     then a stale answer (id 0), then the response in three pieces;
 *  2. the oddly named method: a bare number frame, then -32601 naming it;
 *  3. "slow": no answer (the client times out);
 *     "bad": a frame that is not JSON;
 *  4. "count" requests: {"result": n} each, until EOF.
 */
static void serve(int lfd)
{
	char line[4096], out[8192];
	int fd = accept(lfd, NULL, NULL);
	ssize_t n;
	int reads = 0;
	size_t got = 0;

	if (fd < 0)
		_exit(2);
	/* 1: count the reads the request line takes (one write: one read) */
	for (;;) {
		ssize_t r = read(fd, line + got, sizeof(line) - 1 - got);
		if (r <= 0)
			_exit(2);
		reads++;
		got += (size_t)r;
		if (line[got - 1] == '\n')
			break;
	}
	line[got - 1] = '\0';
	json_object *note = json_object_new_object(), *p = json_object_new_object();
	json_object_object_add(p, "line", json_object_new_string(line));
	json_object_object_add(p, "reads", json_object_new_int(reads));
	json_object_object_add(note, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(note, "method", json_object_new_string("echo"));
	json_object_object_add(note, "params", p);
	snprintf(out, sizeof(out), "%s\n", json_object_to_json_string_ext(note, JSON_C_TO_STRING_PLAIN));
	json_object_put(note);
	put(fd, out);
	put(fd, "{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":\"stale\"}\n");
	put(fd, "{\"jsonrpc\":\"2.0\",\"re");
	usleep(20000);
	put(fd, "sult\":{\"name\":\"a/b\",\"vcpus\":");
	usleep(20000);
	put(fd, "2},\"id\":1}\n");
	/* 2 */
	if (read_line(fd, line, sizeof(line)) < 0)
		_exit(2);
	json_object *req = json_tokener_parse(line), *m;
	const char *method = req && json_object_object_get_ex(req, "method", &m) ? json_object_get_string(m) : "";
	json_object *e = json_object_new_object(), *err = json_object_new_object();
	json_object_object_add(err, "code", json_object_new_int(-32601));
	json_object_object_add(err, "message", json_object_new_string(method));
	json_object_object_add(e, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(e, "error", err);
	json_object_object_add(e, "id", json_object_new_int(2));
	snprintf(out, sizeof(out), "%s\n", json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN));
	json_object_put(e);
	json_object_put(req);
	put(fd, "7\n");	/* a bare number: JSON, without an id */
	put(fd, out);
	/* 3: no answer */
	if (read_line(fd, line, sizeof(line)) < 0)
		_exit(2);
	/* 3b */
	if (read_line(fd, line, sizeof(line)) < 0)
		_exit(2);
	put(fd, "{oops\n");
	/* 4 */
	while ((n = read_line(fd, line, sizeof(line))) >= 0) {
		json_object *r = json_tokener_parse(line), *id;
		long long i = r && json_object_object_get_ex(r, "id", &id) ? json_object_get_int64(id) : -1;
		snprintf(out, sizeof(out), "{\"jsonrpc\":\"2.0\",\"result\":%lld,\"id\":%lld}\n", i, i);
		json_object_put(r);
		put(fd, out);
	}
	_exit(0);
}

/* ---- the client's side ---- */

/* The request text as libpvdclient wrote it before it stopped building an
 * object for it: what json-c writes for {jsonrpc, id, method, params}. */
static char *expected_request(long long id, const char *method, json_object *params)
{
	json_object *req = json_object_new_object();
	char *t;

	json_object_object_add(req, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(req, "id", json_object_new_int64(id));
	json_object_object_add(req, "method", json_object_new_string(method));
	json_object_object_add(req, "params", json_object_get(params));
	t = strdup(json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN));
	json_object_put(req);
	return t;
}

int main(void)
{
	char dir[] = "/tmp/pvdc-test.XXXXXX", path[64], why[600];
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct pvdc_error err;
	json_object *p, *r, *note, *v;
	pid_t child;
	int lfd, rc;

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/sock", dir);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) != 0 || listen(lfd, 1) != 0) {
		printf("not ok - listen on %s: %s\n", path, strerror(errno));
		return 1;
	}
	child = fork();
	if (child == 0)
		serve(lfd);
	close(lfd);

	struct pvdc *c = pvdc_connect(path, &err);
	ok(c != NULL, "connect to the scripted server", err.message);
	if (!c)
		goto out;

	/* 1 */
	p = json_object_new_object();
	json_object_object_add(p, "domain", json_object_new_string("a/b \"q\" \xc3\xa9"));
	char *want = expected_request(1, "domain.info", p);
	rc = pvdc_call(c, "domain.info", p, &r, &err);
	snprintf(why, sizeof(why), "rc %d: %s", rc, err.message);
	ok(rc == 0 && json_object_object_get_ex(r, "vcpus", &v) && json_object_get_int(v) == 2 &&
	   json_object_object_get_ex(r, "name", &v) && !strcmp(json_object_get_string(v), "a/b"),
	   "a response in three pieces, after a notification and a stale answer, is the call's result", why);
	json_object_put(r);
	rc = pvdc_next_notification(c, 0, &note, &err);
	ok(rc == 0, "the notification that came first is queued", err.message);
	if (rc == 0) {
		json_object *params, *line, *reads;
		int has = json_object_object_get_ex(note, "params", &params) &&
			  json_object_object_get_ex(params, "line", &line) &&
			  json_object_object_get_ex(params, "reads", &reads);
		snprintf(why, sizeof(why), "sent %s, json-c writes %s", has ? json_object_get_string(line) : "?", want);
		ok(has && !strcmp(json_object_get_string(line), want),
		   "the request on the wire is byte for byte json-c's text of the request object", why);
		snprintf(why, sizeof(why), "%d reads", has ? json_object_get_int(reads) : -1);
		ok(has && json_object_get_int(reads) == 1, "the request and its newline come in one write", why);
		json_object_put(note);
	}
	free(want);

	/* 2 */
	rc = pvdc_call(c, "we\"ird\\name", NULL, &r, &err);
	snprintf(why, sizeof(why), "rc %d, code %d, message %s", rc, err.code, err.message);
	ok(rc == -1 && err.code == -32601 && !strcmp(err.message, "we\"ird\\name"),
	   "a method name that needs escaping arrives whole, and an error response is the call's error", why);
	pvdc_error_clear(&err);
	rc = pvdc_next_notification(c, 0, &note, &err);
	ok(rc == 0 && json_object_is_type(note, json_type_int) && json_object_get_int(note) == 7,
	   "a bare number frame is JSON (a notification without an id), as json_tokener_parse took it",
	   rc ? err.message : json_object_to_json_string(note));
	if (rc == 0)
		json_object_put(note);

	/* 3 */
	pvdc_set_timeout(c, 200);
	double t0 = now();
	rc = pvdc_call(c, "slow", NULL, &r, &err);
	double el = now() - t0;
	snprintf(why, sizeof(why), "rc %d after %.3f s: %s", rc, el, err.message);
	ok(rc == -1 && el >= 0.19 && el < 2 && strstr(err.message, "no answer from pvd to slow within 200 ms"),
	   "a call without an answer fails at its timeout, naming the method", why);
	pvdc_set_timeout(c, 30000);
	rc = pvdc_call(c, "bad", NULL, &r, &err);
	ok(rc == -1 && !strcmp(err.message, "pvd sent a frame that is not JSON"), "a frame that is not JSON fails the call",
	   err.message);

	/* 4: the late answer to "slow" never comes; calls go on */
	int right = 1;
	unsigned long before = 0;
	for (int i = 0; i < 1000 && right; i++) {
		if (i == 10)
			before = mallocs;
		p = json_object_new_object();
		json_object_object_add(p, "i", json_object_new_int(i));
		rc = pvdc_call(c, "count", p, &r, &err);
		right = rc == 0 && json_object_get_int64(r) == 5 + i;
		json_object_put(r);
	}
	snprintf(why, sizeof(why), "call failed or answered wrongly: %s", err.message);
	ok(right, "1000 calls after a timed-out one each get their own answer", why);
	snprintf(why, sizeof(why), "%lu mallocs in 990 calls", mallocs - before);
	ok(right && mallocs == before, "after the first calls libpvdclient allocates nothing of its own per call", why);
	pvdc_close(c);
out:
	waitpid(child, &rc, 0);
	ok(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "the scripted server saw the whole script", "it failed");
	unlink(path);
	rmdir(dir);
	printf("1..%d\n", count);
	return failures != 0;
}
