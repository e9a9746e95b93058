/*
 * commands_xs.c - pvctl xs ls|read|write|rm|watch PATH: xenstore for
 * operators through the xs.* methods (like xenstore-ls, -read, -write,
 * -rm and -watch). Paths are absolute ("/local/domain/1").
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pvctl.h"

static json_object *path_params(const char *path)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, "path", json_object_new_string(path));
	return p;
}

/* ls: "path = \"value\"  (perms)" per node, indented by depth as xenstore-ls does. */
static int xs_ls(struct ctl *ctl, const char *path)
{
	json_object *r, *nodes;
	size_t base = strcmp(path, "/") ? strlen(path) : 0;

	if (ctl_call(ctl, "xs.ls", path_params(path), &r) != 0)
		return EXIT_ERROR;
	if (ctl->flags & F_JSON) {
		print_json(r);
		json_object_put(r);
		return EXIT_OK;
	}
	json_object_object_get_ex(r, "nodes", &nodes);
	for (size_t i = 0; i < json_object_array_length(nodes); i++) {
		json_object *n = json_object_array_get_idx(nodes, i), *perms;
		const char *p = jstr(n, "path", "?"), *name = strrchr(p, '/');
		int depth = 0;
		if (i == 0 && base)	/* the listed node itself is not shown, as xenstore-ls */
			continue;
		for (const char *c = p + base; *c; c++)
			depth += *c == '/';
		printf("%*s%s = \"%s\"", (depth - 1) * 1, "", name && name[1] ? name + 1 : p, jstr(n, "value", ""));
		if (json_object_object_get_ex(n, "perms", &perms) && json_object_array_length(perms)) {
			printf("  (");
			for (size_t k = 0; k < json_object_array_length(perms); k++)
				printf("%s%s", k ? " " : "", json_object_get_string(json_object_array_get_idx(perms, k)));
			printf(")");
		}
		printf("\n");
	}
	if (jbool(r, "truncated"))
		fprintf(stderr, "pvctl: listing truncated (more than 10000 nodes)\n");
	json_object_put(r);
	return EXIT_OK;
}

static int xs_watch(struct ctl *ctl, const char *path)
{
	long long after = -1;

	for (;;) {
		json_object *p = path_params(path), *r, *events;
		json_object_object_add(p, "after", json_object_new_int64(after));
		if (ctl_call(ctl, "xs.watch", p, &r) != 0)
			return EXIT_ERROR;
		json_object_object_get_ex(r, "events", &events);
		for (size_t i = 0; i < json_object_array_length(events); i++) {
			json_object *e = json_object_array_get_idx(events, i);
			if (ctl->flags & F_JSON)
				print_json(e);
			else
				printf("%s\n", jstr(e, "path", "?"));
		}
		fflush(stdout);
		after = jint(r, "next", after);
		json_object_put(r);
		usleep(200 * 1000);
	}
}

int cmd_xs(struct ctl *ctl)
{
	const char *op = ctl->argv[0], *path = ctl->argc > 1 ? ctl->argv[1] : NULL;
	json_object *p, *r;
	const char *method;

	if (!path)
		return ctl_usage_error("xs", "missing PATH");
	if (!strcmp(op, "ls"))
		return ctl->argc == 2 ? xs_ls(ctl, path) : ctl_usage_error("xs", "ls takes one PATH");
	if (!strcmp(op, "watch"))
		return ctl->argc == 2 ? xs_watch(ctl, path) : ctl_usage_error("xs", "watch takes one PATH");
	if (!strcmp(op, "read") || !strcmp(op, "rm")) {
		if (ctl->argc != 2)
			return ctl_usage_error("xs", "%s takes one PATH", op);
		method = op[0] == 'r' && op[1] == 'e' ? "xs.read" : "xs.rm";
	} else if (!strcmp(op, "write")) {
		if (ctl->argc != 3)
			return ctl_usage_error("xs", "write takes PATH VALUE");
		method = "xs.write";
	} else {
		return ctl_usage_error("xs", "no xs operation \"%s\" (ls, read, write, rm, watch)", op);
	}
	p = path_params(path);
	if (ctl->argc == 3)
		json_object_object_add(p, "value", json_object_new_string(ctl->argv[2]));
	if (ctl_call(ctl, method, p, &r) != 0)
		return EXIT_ERROR;
	if (ctl->flags & F_JSON)
		print_json(r);
	else if (!strcmp(method, "xs.read"))
		printf("%s\n", jstr(r, "value", ""));
	json_object_put(r);
	return EXIT_OK;
}
