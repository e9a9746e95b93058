/*
 * commands_devices.c - pvctl block-attach, block-detach, net-attach,
 * net-detach, net-limit: hot plug of a domain's disks and vifs
 * (domain.block_attach ... in pvd's API; methods_devices.c there).
 *
 * A device spec is a JSON object or KEY=VALUE pairs separated by commas,
 * with the keys of a config's disks / vifs ("name=data,size=64M,readonly"
 * is {"name": "data", "size": "64M", "readonly": true}). A detach waits
 * (--timeout S, default 30) until the guest closed the device; when it
 * has not, pvctl says why and exits 1 (--force removes it anyway).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pvctl.h"

#define DETACH_TIMEOUT 30

/* One value of a KEY=VALUE spec: integers and booleans as such. */
static json_object *spec_value(const char *v)
{
	char *end;
	long long n;

	if (!strcmp(v, "true") || !strcmp(v, "false"))
		return json_object_new_boolean(!strcmp(v, "true"));
	errno = 0;
	n = strtoll(v, &end, 10);
	if (*v && !errno && !*end)
		return json_object_new_int64(n);
	return json_object_new_string(v);
}

/* spec as an object, NULL after a usage error. */
static json_object *parse_spec(const char *cmd, const char *spec)
{
	json_object *o;
	char *copy, *tok, *save = NULL;

	if (spec[0] == '{') {
		o = json_tokener_parse(spec);
		if (!json_object_is_type(o, json_type_object)) {
			json_object_put(o);
			ctl_usage_error(cmd, "the device spec is not a JSON object: %s", spec);
			return NULL;
		}
		return o;
	}
	o = json_object_new_object();
	copy = strdup(spec);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		if (eq == tok) {
			ctl_usage_error(cmd, "\"%s\" in the device spec has no key", tok);
			json_object_put(o);
			o = NULL;
			break;
		}
		if (eq)
			*eq = '\0';
		json_object_object_add(o, tok, eq ? spec_value(eq + 1) : json_object_new_boolean(1));
	}
	free(copy);
	return o;
}

static int print_domain(struct ctl *ctl, json_object *r, const char *what)
{
	if (ctl->flags & F_JSON)
		print_json(r);
	else
		printf("Domain \"%s\": %s\n", jstr(r, "name", "?"), what);
	json_object_put(r);
	return EXIT_OK;
}

static int attach(struct ctl *ctl, const char *cmd, const char *method, const char *key)
{
	json_object *p = json_object_new_object(), *dev = ctl->argc > 1 ? parse_spec(cmd, ctl->argv[1])
									 : json_object_new_object(), *r;
	char what[200];

	if (!dev) {
		json_object_put(p);
		return EXIT_USAGE;
	}
	json_object_object_add(p, "domain", json_object_new_string(ctl->argv[0]));
	json_object_object_add(p, key, dev);
	if (ctl_call(ctl, method, p, &r) != 0)
		return EXIT_ERROR;
	snprintf(what, sizeof(what), "%s attached", ctl->argc > 1 ? ctl->argv[1] : "a vif");
	return print_domain(ctl, r, what);
}

int cmd_block_attach(struct ctl *ctl)
{
	return attach(ctl, "block-attach", "domain.block_attach", "disk");
}

int cmd_net_attach(struct ctl *ctl)
{
	return attach(ctl, "net-attach", "domain.net_attach", "vif");
}

static int detach(struct ctl *ctl, const char *cmd, const char *method, const char *key)
{
	long long timeout = DETACH_TIMEOUT;
	time_t start = time(NULL);
	json_object *r = NULL;
	char *end;

	if (ctl->timeout) {
		errno = 0;
		timeout = strtoll(ctl->timeout, &end, 10);
		if (errno || end == ctl->timeout || *end || timeout < 0)
			return ctl_usage_error(cmd, "--timeout needs a non-negative integer, not \"%s\"", ctl->timeout);
	}
	for (;;) {
		json_object *p = json_object_new_object();
		json_object_object_add(p, "domain", json_object_new_string(ctl->argv[0]));
		json_object_object_add(p, key, json_object_new_string(ctl->argv[1]));
		if (ctl->flags & F_FORCE)
			json_object_object_add(p, "force", json_object_new_boolean(1));
		if (ctl_call(ctl, method, p, &r) != 0)
			return EXIT_ERROR;
		if (!strcmp(jstr(r, "state", "?"), "detached") || (ctl->flags & F_NOWAIT) ||
		    time(NULL) - start >= timeout)
			break;
		json_object_put(r);
		usleep(200 * 1000);
	}
	if (ctl->flags & F_JSON) {
		print_json(r);
	} else if (!strcmp(jstr(r, "state", "?"), "detached")) {
		printf("Domain \"%s\": %s detached\n", jstr(r, "name", "?"), ctl->argv[1]);
	} else {
		fprintf(stderr, "pvctl: domain \"%s\": %s is still attached in the guest (%s)%s\n",
			jstr(r, "name", "?"), ctl->argv[1], jstr(r, "reason", "?"),
			ctl->flags & F_NOWAIT ? "" : "; it goes when the guest closes it, or now with --force");
		json_object_put(r);
		return ctl->flags & F_NOWAIT ? EXIT_OK : EXIT_ERROR;
	}
	json_object_put(r);
	return EXIT_OK;
}

int cmd_block_detach(struct ctl *ctl)
{
	return detach(ctl, "block-detach", "domain.block_detach", "name");
}

int cmd_net_detach(struct ctl *ctl)
{
	return detach(ctl, "net-detach", "domain.net_detach", "mac");
}

int cmd_net_limit(struct ctl *ctl)
{
	json_object *p = json_object_new_object(), *r;
	char what[160];

	if (!ctl->rate && !ctl->burst) {
		json_object_put(p);
		return ctl_usage_error("net-limit", "net-limit needs --rate and/or --burst");
	}
	json_object_object_add(p, "domain", json_object_new_string(ctl->argv[0]));
	json_object_object_add(p, "mac", json_object_new_string(ctl->argv[1]));
	if (ctl->rate)
		json_object_object_add(p, "rate", spec_value(ctl->rate));
	if (ctl->burst)
		json_object_object_add(p, "burst", spec_value(ctl->burst));
	if (ctl_call(ctl, "domain.net_limit", p, &r) != 0)
		return EXIT_ERROR;
	snprintf(what, sizeof(what), "vif %s limits set", ctl->argv[1]);
	return print_domain(ctl, r, what);
}
