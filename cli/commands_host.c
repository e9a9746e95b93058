/*
 * commands_host.c - pvctl's commands about the host machine as a whole:
 * `host` (as `xl info`: the machine's state, size, free memory, CPUs,
 * versions, and why the last machine was lost) and `dmesg` (as `xl dmesg`:
 * the hypervisor's log). Same shape as commands.c.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pvctl.h"

int cmd_host(struct ctl *ctl)
{
	json_object *r;
	long long at;

	if (ctl_call(ctl, "host.info", NULL, &r) != 0)
		return EXIT_ERROR;
	if (ctl->flags & F_JSON) {
		print_json(r);
		json_object_put(r);
		return EXIT_OK;
	}
	printf("machine            : %s\n", jstr(r, "machine", "?"));
	if (strcmp(jstr(r, "machine", "?"), "running"))
		printf("reason             : %s\n", jstr(r, "reason", "-"));
	printf("hypervisor         : pvcore %s\n", jstr(r, "hypervisor_version", "?"));
	printf("pvd                : %s\n", jstr(r, "pvd_version", "?"));
	if (!strcmp(jstr(r, "machine", "?"), "running")) {
		printf("memory             : %lld MiB\n", jint(r, "memory_mib", 0));
		printf("free memory        : %lld MiB\n", jint(r, "free_mib", 0));
		printf("cpus               : %lld\n", jint(r, "cpus", 0));
		printf("tsc                : %lld kHz\n", jint(r, "tsc_khz", 0));
		printf("qemu pid           : %lld\n", jint(r, "qemu_pid", 0));
		printf("boot id            : %s\n", jstr(r, "boot_id", "?"));
	}
	printf("machine restarts   : %lld\n", jint(r, "restarts", 0));
	at = jint(r, "last_death_at", 0);
	if (at) {
		time_t t = (time_t)at;
		char when[64];
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z", localtime(&t));
		printf("last machine lost  : %s: %s\n", when, jstr(r, "last_death", "?"));
	}
	printf("hypervisor log     : %s\n", jstr(r, "log", "-"));
	json_object_put(r);
	return EXIT_OK;
}

int cmd_dmesg(struct ctl *ctl)
{
	json_object *r;

	if (ctl_call(ctl, "host.dmesg", NULL, &r) != 0)
		return EXIT_ERROR;
	if (ctl->flags & F_JSON) {
		print_json(r);
		json_object_put(r);
		return EXIT_OK;
	}
	if (jbool(r, "truncated"))
		printf("(the last %zu of %lld bytes)\n", strlen(jstr(r, "log", "")), jint(r, "size", 0));
	fputs(jstr(r, "log", ""), stdout);
	json_object_put(r);
	return EXIT_OK;
}
