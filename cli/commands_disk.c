/*
 * commands_disk.c - pvctl's disk commands: disk-quota, disk-limit, vol
 * list|create|delete|resize, and the disks part of `pvctl info`.
 */
#include <stdlib.h>
#include <string.h>

#include "pvctl.h"

/* "16 MiB" for a size in bytes, or "N bytes" when it is not whole MiB. */
static const char *fmt_bytes(long long n, char *buf, size_t len)
{
	if (n >= 0 && n % (1024 * 1024) == 0)
		snprintf(buf, len, "%lld MiB", n >> 20);
	else
		snprintf(buf, len, "%lld bytes (%.1f MiB)", n, (double)n / (1024 * 1024));
	return buf;
}

static void print_stats(json_object *st)
{
	printf("%-13s   %lld reads (%lld bytes), %lld writes (%lld bytes), %lld flushes, %lld discards, %lld errors "
	       "(%lld over quota), throttled %lld times, %lld in flight%s\n", "",
	       jint(st, "reads", 0), jint(st, "bytes_read", 0), jint(st, "writes", 0), jint(st, "bytes_written", 0),
	       jint(st, "flushes", 0), jint(st, "discards", 0), jint(st, "errors", 0), jint(st, "quota_refusals", 0),
	       jint(st, "throttled", 0), jint(st, "in_flight", 0),
	       jbool(st, "shut") ? ", ring shut" : jbool(st, "connected") ? ", connected" : ", not connected");
	printf("%-13s   grants of %lld requests mapped: %lld map calls, %lld unmap calls, %lld grants\n", "",
	       jint(st, "mapped_requests", 0), jint(st, "map_calls", 0), jint(st, "unmap_calls", 0),
	       jint(st, "grants_mapped", 0));
}

void print_disks(json_object *r)
{
	json_object *a, *st;
	char b1[64];

	if (jint(r, "disk_quota_mib", 0) > 0)
		printf("%-13s %s of %lld MiB allocated (its writable disks together)\n", "Disk quota:",
		       fmt_bytes(jint(r, "disk_allocated_bytes", 0), b1, sizeof(b1)), jint(r, "disk_quota_mib", 0));
	if (!json_object_object_get_ex(r, "disks", &a))
		return;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *d = json_object_array_get_idx(a, i);
		char quota[32] = "none", iops[32] = "unlimited", bps[64], burst[64] = "one second of rate";
		if (jint(d, "quota_mib", 0) > 0)
			snprintf(quota, sizeof(quota), "%lld MiB", jint(d, "quota_mib", 0));
		if (jint(d, "iops", 0) > 0)
			snprintf(iops, sizeof(iops), "%lld", jint(d, "iops", 0));
		if (jint(d, "burst", 0) > 0)
			fmt_rate(jint(d, "burst", 0), "", burst, sizeof(burst));
		printf("%-13s %s (%s): %lld MiB%s, %s\n", i ? "" : "Disks:", jstr(d, "name", "?"),
		       jstr(d, "device", "?"), jint(d, "size_mib", 0), jbool(d, "readonly") ? " read-only" : "",
		       jstr(d, "path", "(pool)"));
		if (jstr(d, "image", NULL))
			printf("%-13s   image %s, %lld bytes (%.1f MiB) allocated\n", "", jstr(d, "image", "?"),
			       jint(d, "allocated_bytes", 0), (double)jint(d, "allocated_bytes", 0) / (1024 * 1024));
		printf("%-13s   quota %s, rate %s, ops/s %s, burst %s\n", "", quota,
		       fmt_rate(jint(d, "bps", 0), "/s", bps, sizeof(bps)), iops, burst);
		if (json_object_object_get_ex(d, "stats", &st))
			print_stats(st);
	}
}

/* A size argument: an integer (MiB) or a string with a suffix. */
static json_object *size_arg(const char *s)
{
	if (*s && strspn(s, "0123456789") == strlen(s))
		return json_object_new_int64(strtoll(s, NULL, 10));
	return json_object_new_string(s);
}

static int show_domain_disks(struct ctl *ctl, json_object *r)
{
	if (ctl->flags & F_JSON)
		print_json(r);
	else {
		printf("Domain \"%s\"%s\n", jstr(r, "name", "?"), jstr(r, "domid", NULL) ? " (running: in force now)" :
		       " (from its next start)");
		print_disks(r);
	}
	json_object_put(r);
	return EXIT_OK;
}

int cmd_disk_quota(struct ctl *ctl)
{
	json_object *p = json_object_new_object(), *r;

	json_object_object_add(p, "domain", json_object_new_string(ctl->argv[0]));
	if (ctl->argc == 3)
		json_object_object_add(p, "disk", json_object_new_string(ctl->argv[1]));
	json_object_object_add(p, "quota", size_arg(ctl->argv[ctl->argc - 1]));
	if (ctl_call(ctl, "domain.set_disk_quota", p, &r) != 0)
		return EXIT_ERROR;
	return show_domain_disks(ctl, r);
}

int cmd_disk_limit(struct ctl *ctl)
{
	json_object *p = json_object_new_object(), *r;

	if (!ctl->bps && !ctl->iops && !ctl->burst) {
		json_object_put(p);
		return ctl_usage_error("disk-limit", "disk-limit needs --bps, --iops or --burst");
	}
	json_object_object_add(p, "domain", json_object_new_string(ctl->argv[0]));
	json_object_object_add(p, "disk", json_object_new_string(ctl->argv[1]));
	if (ctl->bps)
		json_object_object_add(p, "bps", size_arg(ctl->bps));
	if (ctl->burst)
		json_object_object_add(p, "burst", size_arg(ctl->burst));
	if (ctl->iops) {
		char *end;
		long long n = strtoll(ctl->iops, &end, 10);
		if (!*ctl->iops || *end || n < 0) {
			json_object_put(p);
			return ctl_usage_error("disk-limit", "--iops needs a non-negative integer, not \"%s\"", ctl->iops);
		}
		json_object_object_add(p, "iops", json_object_new_int64(n));
	}
	if (ctl_call(ctl, "domain.set_disk_limit", p, &r) != 0)
		return EXIT_ERROR;
	return show_domain_disks(ctl, r);
}

static int vol_list(struct ctl *ctl)
{
	static const char *const hdr[] = { "NAME", "SIZE", "ALLOCATED", "DOMAIN", "DISK", "PATH" };
	json_object *r;
	struct table *t;

	if (ctl_call(ctl, "vol.list", json_object_new_object(), &r) != 0)
		return EXIT_ERROR;
	if (ctl->flags & F_JSON) {
		print_json(r);
		json_object_put(r);
		return EXIT_OK;
	}
	t = table_new(6, hdr);
	for (size_t i = 0; i < json_object_array_length(r); i++) {
		json_object *v = json_object_array_get_idx(r, i);
		char size[64], alloc[64];
		const char *cells[6] = { jstr(v, "name", "?"), fmt_bytes(jint(v, "size_bytes", 0), size, sizeof(size)),
					 fmt_bytes(jint(v, "allocated_bytes", 0), alloc, sizeof(alloc)),
					 jstr(v, "domain", "-"), jstr(v, "disk", "-"), jstr(v, "path", "?") };
		table_row(t, cells);
	}
	table_print(t, stdout);
	json_object_put(r);
	return EXIT_OK;
}

int cmd_vol(struct ctl *ctl)
{
	const char *sub = ctl->argv[0];
	json_object *p, *r;
	const char *method;
	int want = !strcmp(sub, "list") ? 1 : !strcmp(sub, "delete") ? 2 : 3;
	char size[64], alloc[64];

	if (strcmp(sub, "list") && strcmp(sub, "create") && strcmp(sub, "delete") && strcmp(sub, "resize"))
		return ctl_usage_error("vol", "vol takes list, create, delete or resize, not \"%s\"", sub);
	if (ctl->argc != want)
		return ctl_usage_error("vol", "vol %s takes %s", sub, want == 1 ? "no argument" : want == 2 ? "NAME" :
				       "NAME SIZE");
	if ((ctl->flags & F_SHRINK) && strcmp(sub, "resize"))
		return ctl_usage_error("vol", "--shrink is for vol resize");
	if (want == 1)
		return vol_list(ctl);
	p = json_object_new_object();
	json_object_object_add(p, "name", json_object_new_string(ctl->argv[1]));
	if (want == 3)
		json_object_object_add(p, "size", size_arg(ctl->argv[2]));
	if (ctl->flags & F_SHRINK)
		json_object_object_add(p, "shrink", json_object_new_boolean(1));
	method = !strcmp(sub, "create") ? "vol.create" : !strcmp(sub, "delete") ? "vol.delete" : "vol.resize";
	if (ctl_call(ctl, method, p, &r) != 0)
		return EXIT_ERROR;
	if (ctl->flags & F_JSON)
		print_json(r);
	else if (want == 2)
		printf("Volume \"%s\" deleted\n", jstr(r, "name", "?"));
	else
		printf("Volume \"%s\" %s: %s, %s allocated, %s\n", jstr(r, "name", "?"),
		       !strcmp(sub, "create") ? "created" : "resized", fmt_bytes(jint(r, "size_bytes", 0), size,
		       sizeof(size)), fmt_bytes(jint(r, "allocated_bytes", 0), alloc, sizeof(alloc)),
		       jstr(r, "path", "?"));
	json_object_put(r);
	return EXIT_OK;
}
