/*
 * xs_host.c - pvd's glue to the xenstore server (see xs_host.h).
 *
 * Owns: struct pvd_xs (the server, the machine and control client it
 * borrows from hv.c, the boot id its state belongs to). The server's state
 * directory is STATE/xenstore; STATE/xenstore/boot-id names the machine
 * boot it belongs to: after a reboot of the machine every domain it knew
 * is gone, so the state is started afresh.
 * Invariant: a domain is released (and its ring no longer touched) before
 * hv.c destroys it.
 */
#include "xs_host.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../dom0/ctl.h"
#include "../dom0/machine.h"
#include "../dom0/xenstore.h"

#include "hv.h"
#include "log.h"
#include "pvd.h"

struct api_event {
	int64_t seq;
	char *path;				/* malloc'd; NULL if it could not be kept */
};

struct api_watch {
	int used;
	char path[XENSTORE_ABS_PATH_MAX + 1], token[16];
	time_t last_poll;
	struct api_event ev[XS_HOST_EVENTS];	/* ring: ev[seq % XS_HOST_EVENTS] */
	int64_t first, next;			/* numbers held: [first, next) */
};

struct pvd_xs {
	struct xs_server *s;
	struct machine *m;
	struct ctl *c;
	struct api_watch watch[XS_HOST_WATCHES];
	int kicked;		/* a kick was sent: its ctl_call may have eaten a doorbell kick */
	/* while opening: the domains the hypervisor has, so that the ring of
	 * a domain gone while pvd was down is never touched (its frame may
	 * be another domain's now) */
	int filter;
	uint32_t alive[PVCTL_MAX_DOMAINS];
	size_t nalive;
};

static int alive(const struct pvd_xs *x, uint32_t domid)
{
	for (size_t i = 0; i < x->nalive; i++)
		if (x->alive[i] == domid)
			return 1;
	return 0;
}

static struct xenstore_domain_interface *map_ring(void *arg, uint32_t domid, uint64_t mfn)
{
	struct pvd_xs *x = arg;

	if (mfn > (UINT64_MAX >> 12) || (x->filter && !alive(x, domid)))
		return NULL;
	return machine_phys(x->m, mfn << 12, 4096);
}

static void notify(void *arg, uint32_t domid, uint32_t port)
{
	struct pvd_xs *x = arg;
	char err[200];

	x->kicked = 1;
	/* fails while the guest has not bound its end yet: it will poll */
	if (ctl_evtchn_notify(x->c, port, err, sizeof(err)) < 0)
		log_info("xenstore: kick of domain %u (port %u): %s", domid, port, err);
}

static void xs_log_line(void *arg, enum xs_log_level level, const char *line)
{
	(void)arg;
	if (level == XS_LOG_WARN)
		log_warn("%s", line);
	else
		log_notice("%s", line);
}

static void local_event(void *arg, const char *path, const char *token)
{
	struct pvd_xs *x = arg;

	for (int i = 0; i < XS_HOST_WATCHES; i++) {
		struct api_watch *w = &x->watch[i];
		struct api_event *e;
		if (!w->used || strcmp(w->token, token))
			continue;
		e = &w->ev[w->next % XS_HOST_EVENTS];
		e->seq = w->next++;
		free(e->path);
		e->path = strdup(path);
		if (w->next - w->first > XS_HOST_EVENTS)
			w->first = w->next - XS_HOST_EVENTS;
	}
}

static void drop_watch(struct pvd_xs *x, struct api_watch *w)
{
	xs_local_watch(x->s, w->path, w->token, 0);
	for (int i = 0; i < XS_HOST_EVENTS; i++)
		free(w->ev[i].path);
	memset(w, 0, sizeof(*w));
}

int64_t xs_host_watch_poll(struct pvd *pvd, const char *path, int64_t after, xs_host_event_fn fn, void *arg)
{
	struct pvd_xs *x = pvd->xs;
	struct api_watch *w = NULL, *free_slot = NULL;
	time_t now = time(NULL);
	int rc;

	if (!x)
		return -ENODEV;
	for (int i = 0; i < XS_HOST_WATCHES; i++) {
		struct api_watch *c = &x->watch[i];
		if (c->used && now - c->last_poll > XS_HOST_WATCH_IDLE_S)
			drop_watch(x, c);
		if (c->used && !strcmp(c->path, path))
			w = c;
		else if (!c->used && !free_slot)
			free_slot = c;
	}
	if (!w) {
		if (!free_slot)
			return -ENOSPC;
		w = free_slot;
		memset(w, 0, sizeof(*w));	/* a dropped slot holds no strings */
		snprintf(w->path, sizeof(w->path), "%s", path);
		snprintf(w->token, sizeof(w->token), "api%d", (int)(w - x->watch));
		w->used = 1;
		rc = xs_local_watch(x->s, path, w->token, 1);
		if (rc < 0) {
			w->used = 0;
			return rc;
		}
	}
	w->last_poll = now;
	for (int64_t seq = after + 1 > w->first ? after + 1 : w->first; seq < w->next; seq++)
		if (w->ev[seq % XS_HOST_EVENTS].path)
			fn(arg, seq, w->ev[seq % XS_HOST_EVENTS].path);
	return w->next - 1;
}

/* --xs-quota "name=value,name=value" over the defaults. */
static int parse_quotas(const char *spec, struct xs_quota *q, char *err, size_t errlen)
{
	char buf[512], *save = NULL, *item;

	xs_quota_defaults(q);
	if (!spec)
		return 0;
	if (snprintf(buf, sizeof(buf), "%s", spec) >= (int)sizeof(buf)) {
		snprintf(err, errlen, "--xs-quota is too long");
		return -1;
	}
	for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '='), *end;
		unsigned long v;
		if (!eq) {
			snprintf(err, errlen, "--xs-quota: \"%s\" is not NAME=VALUE", item);
			return -1;
		}
		*eq = '\0';
		errno = 0;
		v = strtoul(eq + 1, &end, 10);
		if (errno || *end || eq[1] == '\0' || v > UINT32_MAX || xs_quota_set(q, item, (uint32_t)v) < 0) {
			snprintf(err, errlen, "--xs-quota: bad quota \"%s=%s\" (names: nodes, entry-size, watches, "
				 "transactions, perms, outstanding, transaction-nodes, output-bytes)", item, eq + 1);
			return -1;
		}
	}
	return 0;
}

/* Drop the state of another machine boot: 1 when it was dropped (or
 * there was none), 0 when it is this boot's. */
static int check_boot(const char *dir, uint64_t boot_id)
{
	char path[4400], want[32], have[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/boot-id", dir);
	snprintf(want, sizeof(want), "%#" PRIx64 "\n", boot_id);
	f = fopen(path, "re");
	if (f) {
		if (!fgets(have, sizeof(have), f))
			have[0] = '\0';
		fclose(f);
	}
	if (!strcmp(have, want))
		return 0;
	if (have[0])
		log_notice("xenstore: the machine booted again; starting with an empty store");
	for (const char *const *n = (const char *const[]){ "xenstore.snapshot", "xenstore.journal", NULL }; *n;
	     n++) {
		snprintf(path, sizeof(path), "%s/%s", dir, *n);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/boot-id", dir);
	f = fopen(path, "we");
	if (f) {
		fputs(want, f);
		fclose(f);
	}
	return 1;
}

int xs_host_open(struct pvd *pvd, struct machine *m, struct ctl *c, char *err, size_t errlen)
{
	struct pvd_xs *x = calloc(1, sizeof(*x));
	struct xs_host host = { .map_ring = map_ring, .notify = notify, .log = xs_log_line,
				.local_event = local_event };
	struct pvctl_domain_info *list;
	struct xs_quota q;
	char dir[4200], xerr[300];
	size_t n = 0;
	int rc = 0, new_boot;

	if (!x) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (parse_quotas(pvd->opt.xs_quota, &q, err, errlen) < 0) {
		free(x);
		return -1;
	}
	x->m = m;
	x->c = c;
	host.arg = x;
	snprintf(dir, sizeof(dir), "%s/xenstore", pvd->opt.state_dir);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		free(x);
		return -1;
	}
	/* The domains alive, to keep only their part of a restored store: a
	 * store of another boot is dropped, so a machine booted again (with
	 * none but Domain 0) needs no listing; pvd's start-up, before its
	 * loop serves anyone, lists inline. */
	new_boot = check_boot(dir, ctl_boot_id(c));
	list = calloc(PVCTL_MAX_DOMAINS, sizeof(*list));
	if (!list || (!new_boot && (rc = ctl_list_domains(c, list, PVCTL_MAX_DOMAINS, &n, xerr, sizeof(xerr))) < 0 &&
		      rc != -ENOSPC)) {
		snprintf(err, errlen, "xenstore: listing the domains: %s", list ? xerr : "out of memory");
		free(list);
		free(x);
		return -1;
	}
	for (size_t i = 0; i < n && i < PVCTL_MAX_DOMAINS; i++)
		if (list[i].state != PVCTL_DOM_DYING)
			x->alive[x->nalive++] = list[i].domid;
	free(list);
	x->filter = 1;
	if (xs_open(dir, &q, &host, &x->s, xerr, sizeof(xerr)) < 0) {
		snprintf(err, errlen, "%s", xerr);
		free(x);
		return -1;
	}
	x->filter = 0;
	pvd->xs = x;
	/* domains that went away while pvd was not running */
	{
		uint32_t doms[PVCTL_MAX_DOMAINS], nd = xs_introduced(x->s, doms, PVCTL_MAX_DOMAINS);
		for (uint32_t k = 0; k < nd && k < PVCTL_MAX_DOMAINS; k++)
			if (!alive(x, doms[k])) {
				log_notice("xenstore: domain %u is gone; releasing it", doms[k]);
				xs_host_domain_gone(pvd, doms[k], NULL);
			}
	}
	return 0;
}

void xs_host_close(struct pvd *pvd)
{
	if (!pvd->xs)
		return;
	for (int i = 0; i < XS_HOST_WATCHES; i++)
		if (pvd->xs->watch[i].used)
			drop_watch(pvd->xs, &pvd->xs->watch[i]);
	xs_close(pvd->xs->s);
	free(pvd->xs);
	pvd->xs = NULL;
}

/* Serve every ring. A kick is a control call, which drains the doorbell
 * (dom0/ctl.h): a guest's request that arrived meanwhile rang for nothing,
 * so serve again after kicking, a bounded number of times (the tick is the
 * safety net). */
void xs_host_poll(struct pvd *pvd)
{
	if (!pvd->xs)
		return;
	for (int round = 0; round < 16; round++) {
		/* clear Domain 0's pending bits first: a port left pending
		 * would not ring the doorbell for the guest's next request
		 * (consoles are polled on every round of the loop anyway) */
		hv_drain_ports(pvd);
		pvd->xs->kicked = 0;
		xs_poll_all(pvd->xs->s);
		if (!pvd->xs->kicked)
			break;
	}
}

int xs_host_request_shutdown(struct pvd *pvd, uint32_t domid, const char *reason)
{
	struct xs_server *s = xs_host_server(pvd);
	char path[96], v[16];
	uint32_t len = sizeof(v) - 1;

	if (!s || !xs_is_introduced(s, domid))
		return 0;
	snprintf(path, sizeof(path), "/local/domain/%u/control/feature-%s", domid, reason);
	if (xs_local(s, XS_READ, path, (uint32_t)strlen(path) + 1, v, &len) < 0 || len != 1 || v[0] != '1')
		return 0;
	snprintf(path, sizeof(path), "/local/domain/%u/control/shutdown", domid);
	return xs_local_write(s, path, reason) < 0 ? -EIO : 1;
}

int xs_host_set_target(struct pvd *pvd, uint32_t domid, uint64_t kib)
{
	struct xs_server *s = xs_host_server(pvd);
	char path[96], v[32];

	if (!s || !xs_is_introduced(s, domid))
		return -ESRCH;
	snprintf(path, sizeof(path), "/local/domain/%u/memory/target", domid);
	snprintf(v, sizeof(v), "%" PRIu64, kib);
	return xs_local_write(s, path, v) < 0 ? -EIO : 0;
}

int xs_host_get_target(struct pvd *pvd, uint32_t domid, uint64_t *kib)
{
	struct xs_server *s = xs_host_server(pvd);
	char path[96], v[32], *end;
	uint32_t len = sizeof(v) - 1;

	if (!s || !xs_is_introduced(s, domid))
		return -ESRCH;
	snprintf(path, sizeof(path), "/local/domain/%u/memory/target", domid);
	if (xs_local(s, XS_READ, path, (uint32_t)strlen(path) + 1, v, &len) < 0 || len == 0 || len >= sizeof(v))
		return -ENOENT;
	v[len] = '\0';
	*kib = strtoull(v, &end, 10);
	return *end ? -EINVAL : 0;
}

struct xs_server *xs_host_server(struct pvd *pvd)
{
	return pvd->xs ? pvd->xs->s : NULL;
}

/* One key below the domain's home; failures are logged, not fatal. */
static void put(struct xs_server *s, const char *home, const char *key, const char *value, const char *perms)
{
	char path[512];
	int rc;

	snprintf(path, sizeof(path), "%s%s%s", home, key[0] ? "/" : "", key);
	rc = value ? xs_local_write(s, path, value) : xs_local_mkdir(s, path);
	if (rc == 0 && perms)
		rc = xs_local_set_perms(s, path, perms);
	if (rc < 0)
		log_warn("xenstore: writing %s: %s", path, strerror(-rc));
}

void xs_host_domain_started(struct pvd *pvd, const struct xs_host_domain *d)
{
	static const char *const guest_writable[] = {
		"control/shutdown", "control/feature-poweroff", "control/feature-reboot",
		"control/feature-suspend", "control/sysrq", "data", "drivers", "feature", "attr", "error", NULL,
	};
	struct xs_server *s = xs_host_server(pvd);
	char home[64], vm[128], ro[32], rw[32], v[64], err[300];

	if (!s)
		return;
	snprintf(home, sizeof(home), "/local/domain/%u", d->domid);
	snprintf(vm, sizeof(vm), "/vm/%s", d->uuid);
	snprintf(ro, sizeof(ro), "n0 r%u", d->domid);	/* Domain 0 owns, the guest reads */
	snprintf(rw, sizeof(rw), "n%u", d->domid);	/* the guest owns */
	xs_local_rm(s, home);
	put(s, vm, "", NULL, ro);
	put(s, vm, "uuid", d->uuid, NULL);
	put(s, vm, "name", d->name, NULL);
	put(s, home, "", NULL, ro);
	put(s, home, "name", d->name, NULL);
	snprintf(v, sizeof(v), "%u", d->domid);
	put(s, home, "domid", v, NULL);
	put(s, home, "vm", vm, NULL);
	snprintf(v, sizeof(v), "%" PRIu64, d->mem_kib);
	put(s, home, "memory/target", v, NULL);
	snprintf(v, sizeof(v), "%" PRIu64, d->maxmem_kib ? d->maxmem_kib : d->mem_kib);
	put(s, home, "memory/static-max", v, NULL);
	for (uint32_t i = 0; i < (d->vcpus ? d->vcpus : 1); i++) {
		char key[48];
		snprintf(key, sizeof(key), "cpu/%u/availability", i);
		put(s, home, key, "online", NULL);
	}
	put(s, home, "control", NULL, NULL);
	for (int i = 0; guest_writable[i]; i++)
		put(s, home, guest_writable[i], strncmp(guest_writable[i], "control/", 8) ? NULL : "", rw);
	put(s, home, "device", NULL, NULL);
	snprintf(v, sizeof(v), "%" PRIu64, d->console_mfn);
	put(s, home, "console/ring-ref", v, NULL);
	snprintf(v, sizeof(v), "%u", d->guest_console_port);
	put(s, home, "console/port", v, NULL);
	put(s, home, "console/type", "xenconsoled", NULL);
	put(s, home, "console/output", "pty", NULL);
	snprintf(v, sizeof(v), "%" PRIu64, d->store_mfn);
	put(s, home, "store/ring-ref", v, NULL);
	snprintf(v, sizeof(v), "%u", d->guest_store_port);
	put(s, home, "store/port", v, NULL);
	if (xs_introduce(s, d->domid, d->store_mfn, d->store_port, err, sizeof(err)) < 0)
		log_warn("%s", err);
}

void xs_host_domain_gone(struct pvd *pvd, uint32_t domid, const char *uuid)
{
	struct xs_server *s = xs_host_server(pvd);
	char path[128], reply[XENSTORE_PAYLOAD_MAX + 1];
	uint32_t len = sizeof(reply) - 1;

	if (!s)
		return;
	snprintf(path, sizeof(path), "/local/domain/%u/vm", domid);
	if (xs_local(s, XS_READ, path, (uint32_t)strlen(path) + 1, reply, &len) == 0)
		reply[len] = '\0';
	else
		reply[0] = '\0';
	/* the domid may already be another domain's (reused): leave that one */
	if (uuid && reply[0] && (strncmp(reply, "/vm/", 4) || strcmp(reply + 4, uuid))) {
		snprintf(path, sizeof(path), "/vm/%s", uuid);
		xs_local_rm(s, path);
		return;
	}
	if (xs_is_introduced(s, domid))
		xs_release(s, domid);
	if (!strncmp(reply, "/vm/", 4))
		xs_local_rm(s, reply);
	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	xs_local_rm(s, path);
}
