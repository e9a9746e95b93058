/*
 * hv.c - pvd drives real domains: the machine, the control client, the
 * builder and the console backends, all from the libevent loop.
 *
 * The loop: the doorbell fd (a kick from the hypervisor) and a 100 ms timer
 * (the safety net) both drain Domain 0's pending ports and move every
 * console ring to its log; the timer also lists the hypervisor's domains
 * (PVCTL LIST_DOMAINS, one fast call) and acts on changes:
 *   - a domain that shut down gets its on_poweroff / on_reboot / on_crash
 *     action (destroy, restart, preserve); an explicit domain.shutdown always
 *     ends in shut-off, an explicit domain.reboot always restarts;
 *   - a shutdown request not honoured within its timeout is destroyed;
 *   - a domain that is gone is forgotten (and started again when a restart
 *     was waiting for the old one to go).
 * Building a domain (~20 ms) is done inline.
 *
 * Runtime state is not stored: after a restart of pvd it is rebuilt from the
 * hypervisor's list (handle = UUID) and the consoles' records
 * (console_read_identity). Desired state lives in the store.
 */
#include "hv.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../dom0/build.h"
#include "../dom0/console.h"
#include "../dom0/ctl.h"
#include "../dom0/machine.h"
#include <public/sched.h>

#include "config.h"
#include "events.h"
#include "log.h"
#include "pvd.h"
#include "store.h"

#define HV_MAX_DOMS 256
#define HV_TICK_MS 100

enum intent { INTENT_NONE, INTENT_SHUTDOWN, INTENT_REBOOT, INTENT_DESTROY };

struct hv_dom {
	int used;
	uint32_t domid;
	char uuid[37];
	int known;			/* the store has this UUID */
	struct pvctl_domain_info info;
	struct console *cons;
	enum intent intent;
	uint64_t deadline_ms;		/* for INTENT_SHUTDOWN */
	int handled;			/* its shutdown was acted on */
	int restart;			/* start it again once it is gone */
	char restart_reason[32];
};

struct hv {
	struct machine *m;
	struct ctl *c;
	struct event *doorbell, *tick;
	char lost[400];			/* non-empty: the machine is not usable */
	struct hv_dom dom[HV_MAX_DOMS];
	struct pvctl_domain_info list[HV_MAX_DOMS];
	int booted;			/* this pvd started the machine */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void uuid_format(const uint8_t h[16], char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", h[0], h[1],
		 h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]);
}

static int uuid_parse(const char *s, uint8_t h[16])
{
	int n = 0;

	for (const char *p = s; *p && n < 32; p++) {
		int v;
		if (*p == '-')
			continue;
		if (*p >= '0' && *p <= '9')
			v = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			v = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			v = *p - 'A' + 10;
		else
			return -1;
		if (n % 2 == 0)
			h[n / 2] = (uint8_t)(v << 4);
		else
			h[n / 2] |= (uint8_t)v;
		n++;
	}
	return n == 32 ? 0 : -1;
}

const char *hv_unavailable(struct pvd *pvd)
{
	if (!pvd->hv)
		return pvd->opt.no_machine ? "no machine (pvd runs with --no-machine)"
					   : "no machine (no hypervisor ISO was found; see --iso)";
	if (pvd->hv->lost[0])
		return pvd->hv->lost;
	return NULL;
}

void hv_console_path(struct pvd *pvd, const char *uuid, char *buf, size_t len)
{
	snprintf(buf, len, "%s/consoles/%s.log", pvd->opt.state_dir, uuid);
}

/* ---- the runtime table ---- */

/* A domain in the hypervisor is its domid AND its handle: a domid alone
 * may name a domain that replaced one pvd still tracks. */
static struct hv_dom *by_domain(struct hv *hv, uint32_t domid, const char *uuid)
{
	for (int i = 0; i < HV_MAX_DOMS; i++)
		if (hv->dom[i].used && hv->dom[i].domid == domid && !strcmp(hv->dom[i].uuid, uuid))
			return &hv->dom[i];
	return NULL;
}

/* The entry of domid that is not on its way out. */
static struct hv_dom *by_domid(struct hv *hv, uint32_t domid)
{
	for (int i = 0; i < HV_MAX_DOMS; i++) {
		struct hv_dom *e = &hv->dom[i];
		if (e->used && e->domid == domid && e->intent != INTENT_DESTROY && e->info.state != PVCTL_DOM_DYING)
			return e;
	}
	return NULL;
}

/* The live entry of uuid: one that is not on its way out, else any. */
static struct hv_dom *by_uuid(struct hv *hv, const char *uuid)
{
	struct hv_dom *any = NULL;

	for (int i = 0; i < HV_MAX_DOMS; i++) {
		struct hv_dom *e = &hv->dom[i];
		if (!e->used || strcmp(e->uuid, uuid))
			continue;
		if (e->intent != INTENT_DESTROY && e->info.state != PVCTL_DOM_DYING)
			return e;
		any = e;
	}
	return any;
}

static struct hv_dom *new_entry(struct hv *hv, uint32_t domid, const char *uuid)
{
	for (int i = 0; i < HV_MAX_DOMS; i++)
		if (!hv->dom[i].used) {
			struct hv_dom *e = &hv->dom[i];
			memset(e, 0, sizeof(*e));
			e->used = 1;
			e->domid = domid;
			snprintf(e->uuid, sizeof(e->uuid), "%s", uuid);
			return e;
		}
	return NULL;
}

static void close_console(struct pvd *pvd, struct hv_dom *e)
{
	char err[256];

	if (!e->cons)
		return;
	if (console_poll(e->cons, err, sizeof(err)) < 0)
		log_warn("console of domain %u: %s", e->domid, err);
	console_close(e->cons);
	e->cons = NULL;
	(void)pvd;
}

static void open_console(struct pvd *pvd, struct hv_dom *e, uint64_t ring_mfn)
{
	struct hv *hv = pvd->hv;
	struct console_identity id = { .boot_id = ctl_boot_id(hv->c), .domid = e->domid, .ring_mfn = ring_mfn };
	char path[4200], err[300];
	void *ring;

	memcpy(id.handle, e->info.handle, sizeof(id.handle));
	ring = machine_phys(hv->m, ring_mfn << 12, 4096);
	hv_console_path(pvd, e->uuid, path, sizeof(path));
	if (!ring) {
		log_warn("domain %u (%s): console ring mfn %#" PRIx64 " is not machine RAM", e->domid, e->uuid,
			 ring_mfn);
		return;
	}
	if (console_open(&id, ring, path, &e->cons, err, sizeof(err)) < 0) {
		log_warn("domain %u (%s): console: %s", e->domid, e->uuid, err);
		e->cons = NULL;
	}
}

static void poll_consoles(struct pvd *pvd)
{
	struct hv *hv = pvd->hv;
	uint32_t ports[64];
	char err[300];

	while (ctl_pending_ports(hv->c, ports, 64) == 64)
		;
	for (int i = 0; i < HV_MAX_DOMS; i++)
		if (hv->dom[i].used && hv->dom[i].cons && console_poll(hv->dom[i].cons, err, sizeof(err)) < 0)
			log_warn("console of domain %u: %s", hv->dom[i].domid, err);
}

/* ---- events and the store ---- */

static void record(struct pvd *pvd, const char *type, const struct store_domain *d, const char *caller,
		   const char *detail)
{
	struct store_event ev;

	events_prepare(&ev, type, caller, d, detail);
	if (store_event_append(pvd->store, &ev) != 0)
		log_warn("event %s: %s", type, store_error(pvd->store));
	else
		events_publish(pvd, &ev);
}

static void set_desired(struct pvd *pvd, const struct store_domain *d, const char *state, const char *type,
			const char *caller, const char *detail)
{
	struct store_event ev;
	char now[32];

	store_now(now);
	events_prepare(&ev, type, caller, d, detail);
	if (store_domain_set_desired(pvd->store, d->uuid, state, now, &ev) != 0)
		log_warn("domain \"%s\": %s", d->name, store_error(pvd->store));
	else
		events_publish(pvd, &ev);
}

/* The domain stopped for good: shut-off, or removed when transient. */
static void domain_stopped(struct pvd *pvd, const char *uuid, const char *reason)
{
	struct store_domain d;
	struct store_event ev;
	char detail[160];

	if (store_domain_find(pvd->store, uuid, &d) != 0)
		return;
	snprintf(detail, sizeof(detail), "{\"reason\":\"%s\"}", reason);
	if (strcmp(d.desired_state, "shut-off"))
		set_desired(pvd, &d, "shut-off", "domain.stopped", "pvd", detail);
	else
		record(pvd, "domain.stopped", &d, "pvd", detail);
	log_notice("domain \"%s\" (%s) stopped: %s", d.name, d.uuid, reason);
	if (d.transient) {
		events_prepare(&ev, "domain.undefined", "pvd", &d, "{\"reason\":\"transient\"}");
		if (store_domain_delete(pvd->store, d.uuid, &ev) != 0)
			log_warn("transient domain \"%s\": %s", d.name, store_error(pvd->store));
		else {
			log_notice("transient domain \"%s\" (%s) removed", d.name, d.uuid);
			events_publish(pvd, &ev);
		}
	}
	store_domain_clear(&d);
}

/* ---- machine loss ---- */

static void machine_lost(struct pvd *pvd, const char *why)
{
	struct hv *hv = pvd->hv;
	struct machine_status st;

	if (hv->lost[0])
		return;
	machine_status(hv->m, &st);
	snprintf(hv->lost, sizeof(hv->lost), "the machine is not usable: %.150s (%.200s)", why, st.reason);
	log_err("%s", hv->lost);
	for (int i = 0; i < HV_MAX_DOMS; i++)
		if (hv->dom[i].used) {
			close_console(pvd, &hv->dom[i]);
			hv->dom[i].used = 0;
		}
	if (hv->doorbell)
		event_del(hv->doorbell);
	record(pvd, "machine.lost", NULL, "pvd", NULL);
}

static int transport_error(int rc)
{
	return rc == -EPIPE || rc == -ESTALE || rc == -ETIMEDOUT;
}

/* ---- building ---- */

static int resolve_path(const char *base, const char *p, char *out, size_t len)
{
	char cwd[PATH_MAX];

	if (p[0] == '/')
		return snprintf(out, len, "%s", p) < (int)len ? 0 : -1;
	if (!base) {
		if (!getcwd(cwd, sizeof(cwd)))
			return -1;
		base = cwd;
	}
	return snprintf(out, len, "%s/%s", base, p) < (int)len ? 0 : -1;
}

static int start_one(struct pvd *pvd, const struct store_domain *d, uint32_t *domid, char *err, size_t errlen)
{
	struct hv *hv = pvd->hv;
	struct domain_config cfg;
	struct build_config bc = { 0 };
	struct build_result res;
	struct hv_dom *e;
	json_object *norm;
	char kernel[PATH_MAX], ramdisk[PATH_MAX], name[PVCTL_NAME_LEN], berr[400];
	int rc;

	norm = json_tokener_parse(d->normalized);
	if (!norm || domain_config_read(norm, &cfg) != 0) {
		json_object_put(norm);
		snprintf(err, errlen, "stored config of domain \"%s\" does not parse", d->name);
		return -1;
	}
	if (resolve_path(d->base_dir, cfg.kernel, kernel, sizeof(kernel)) != 0 ||
	    (cfg.ramdisk && resolve_path(d->base_dir, cfg.ramdisk, ramdisk, sizeof(ramdisk)) != 0)) {
		json_object_put(norm);
		snprintf(err, errlen, "domain \"%s\": kernel path %s is too long", d->name, cfg.kernel);
		return -1;
	}
	memcpy(name, d->name, sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	bc.name = name;
	if (uuid_parse(d->uuid, bc.handle) != 0) {
		json_object_put(norm);
		snprintf(err, errlen, "domain \"%s\": bad UUID %s", d->name, d->uuid);
		return -1;
	}
	bc.kernel_path = kernel;
	bc.ramdisk_path = cfg.ramdisk ? ramdisk : NULL;
	bc.cmdline = cfg.cmdline;
	bc.mem_kib = (uint64_t)cfg.memory_mib * 1024u;
	bc.max_mem_kib = (uint64_t)cfg.maxmem_mib * 1024u;
	bc.vcpus = (uint32_t)cfg.vcpus;
	bc.weight = (uint32_t)cfg.weight;
	bc.cap = (uint32_t)cfg.cap;
	rc = build_domain(hv->c, &bc, &res, berr, sizeof(berr));
	json_object_put(norm);
	if (rc < 0) {
		snprintf(err, errlen, "cannot start domain \"%s\": %s", d->name, berr);
		if (transport_error(rc))
			machine_lost(pvd, berr);
		return -1;
	}
	e = new_entry(hv, res.domid, d->uuid);
	if (!e) {
		ctl_destroy(hv->c, res.domid, NULL, 0);
		snprintf(err, errlen, "cannot start domain \"%s\": pvd tracks at most %d domains", d->name,
			 HV_MAX_DOMS);
		return -1;
	}
	e->known = 1;
	if (ctl_get_info(hv->c, res.domid, &e->info, berr, sizeof(berr)) < 0) {
		log_warn("domain %u: %s", res.domid, berr);
		e->info.domid = res.domid;
		e->info.state = PVCTL_DOM_RUNNING;
		memcpy(e->info.handle, bc.handle, 16);
	}
	open_console(pvd, e, res.console_mfn);
	*domid = res.domid;
	log_notice("domain \"%s\" (%s) started as domid %u: %s, %lld MiB, %d vCPU(s)", d->name, d->uuid,
		   res.domid, kernel, cfg.memory_mib, cfg.vcpus);
	return 0;
}

/* Start again (restart action, or missing at reconciliation). */
static void restart_uuid(struct pvd *pvd, const char *uuid, const char *reason)
{
	struct store_domain d;
	char err[600], detail[160];
	uint32_t domid;

	if (store_domain_find(pvd->store, uuid, &d) != 0)
		return;
	if (start_one(pvd, &d, &domid, err, sizeof(err)) != 0) {
		log_err("%s", err);
		snprintf(detail, sizeof(detail), "{\"reason\":\"%s\",\"error\":\"start failed\"}", reason);
		set_desired(pvd, &d, "shut-off", "domain.stopped", "pvd", detail);
	} else {
		snprintf(detail, sizeof(detail), "{\"reason\":\"%s\",\"domid\":%u}", reason, domid);
		if (!strcmp(d.desired_state, "paused") && ctl_pause(pvd->hv->c, domid, err, sizeof(err)) == 0)
			record(pvd, "domain.restarted", &d, "pvd", detail);
		else if (strcmp(d.desired_state, "running"))
			set_desired(pvd, &d, "running", "domain.restarted", "pvd", detail);
		else
			record(pvd, "domain.restarted", &d, "pvd", detail);
	}
	store_domain_clear(&d);
}

/* ---- lifecycle ---- */

static void destroy_entry(struct pvd *pvd, struct hv_dom *e)
{
	char err[300];
	int rc;

	close_console(pvd, e);
	e->intent = INTENT_DESTROY;
	rc = ctl_destroy(pvd->hv->c, e->domid, err, sizeof(err));
	if (rc < 0 && rc != -ESRCH) {
		log_err("destroying domain %u: %s", e->domid, err);
		if (transport_error(rc))
			machine_lost(pvd, err);
	}
}

static void on_shut_down(struct pvd *pvd, struct hv_dom *e)
{
	struct store_domain d;
	struct domain_config cfg;
	json_object *norm = NULL;
	const char *reason = shutdown_reason_name(e->info.shutdown_reason), *action = "destroy";
	char detail[200];

	e->handled = 1;
	if (!e->known || store_domain_find(pvd->store, e->uuid, &d) != 0) {
		log_notice("domain %u (not pvd's) shut down: %s; left as it is", e->domid, reason);
		return;
	}
	if (e->intent == INTENT_REBOOT)
		action = "restart";
	else if (e->intent == INTENT_SHUTDOWN)
		action = "destroy";
	else if ((norm = json_tokener_parse(d.normalized)) && domain_config_read(norm, &cfg) == 0) {
		if (e->info.shutdown_reason == SHUTDOWN_reboot)
			action = cfg.on_reboot;
		else if (e->info.shutdown_reason == SHUTDOWN_crash || e->info.shutdown_reason == SHUTDOWN_watchdog)
			action = cfg.on_crash;
		else
			action = cfg.on_poweroff;
	}
	log_notice("domain \"%s\" (domid %u) shut down: %s; action %s", d.name, e->domid, reason, action);
	if (!strcmp(action, "restart")) {
		snprintf(detail, sizeof(detail), "{\"reason\":\"%s\",\"action\":\"restart\"}", reason);
		record(pvd, "domain.shutdown", &d, "pvd", detail);
		e->restart = 1;
		snprintf(e->restart_reason, sizeof(e->restart_reason), "%s", reason);
		destroy_entry(pvd, e);
	} else if (!strcmp(action, "preserve")) {
		snprintf(detail, sizeof(detail), "{\"reason\":\"%s\",\"action\":\"preserve\"}", reason);
		record(pvd, "domain.shutdown", &d, "pvd", detail);
	} else {
		snprintf(detail, sizeof(detail), "{\"reason\":\"%s\",\"action\":\"destroy\"}", reason);
		record(pvd, "domain.shutdown", &d, "pvd", detail);
		destroy_entry(pvd, e);
		domain_stopped(pvd, e->uuid, reason);
	}
	json_object_put(norm);
	store_domain_clear(&d);
}

/* List the hypervisor's domains and act on what changed. */
static void refresh(struct pvd *pvd)
{
	struct hv *hv = pvd->hv;
	char err[300], uuid[37], restarts[HV_MAX_DOMS][37], reasons[HV_MAX_DOMS][32];
	int nrestart = 0;
	size_t n = 0;
	int rc;

	if (hv_unavailable(pvd))
		return;
	rc = ctl_list_domains(hv->c, hv->list, HV_MAX_DOMS, &n, err, sizeof(err));
	if (rc < 0 && rc != -ENOSPC) {
		log_warn("listing domains: %s", err);
		if (transport_error(rc))
			machine_lost(pvd, err);
		return;
	}
	if (n > HV_MAX_DOMS)
		n = HV_MAX_DOMS;
	int seen[HV_MAX_DOMS] = { 0 };
	for (size_t k = 0; k < n; k++) {
		struct pvctl_domain_info *in = &hv->list[k];
		struct hv_dom *e;
		if (in->domid == 0)
			continue;
		uuid_format(in->handle, uuid);
		e = by_domain(hv, in->domid, uuid);
		if (!e) {
			struct store_domain d;
			e = new_entry(hv, in->domid, uuid);
			if (!e)
				continue;
			e->known = store_domain_find(pvd->store, uuid, &d) == 0;
			if (e->known)
				store_domain_clear(&d);
			else
				log_warn("domain %u (\"%.31s\", handle %s) is not in pvd's store; left alone", in->domid,
					 in->name, uuid);
		}
		e->info = *in;
		seen[e - hv->dom] = 1;
	}
	for (int i = 0; i < HV_MAX_DOMS; i++) {
		struct hv_dom *e = &hv->dom[i];
		if (!e->used || seen[i])
			continue;
		/* gone */
		close_console(pvd, e);
		if (e->restart && nrestart < HV_MAX_DOMS) {
			snprintf(restarts[nrestart], 37, "%s", e->uuid);
			snprintf(reasons[nrestart++], 32, "%s", e->restart_reason);
		} else if (e->known && e->intent != INTENT_DESTROY) {
			domain_stopped(pvd, e->uuid, "vanished");
		}
		e->used = 0;
	}
	for (int i = 0; i < HV_MAX_DOMS; i++) {
		struct hv_dom *e = &hv->dom[i];
		if (!e->used || e->intent == INTENT_DESTROY)
			continue;
		if (e->info.state == PVCTL_DOM_SHUTDOWN && !e->handled)
			on_shut_down(pvd, e);
		else if (e->intent == INTENT_SHUTDOWN && e->info.state != PVCTL_DOM_SHUTDOWN &&
			 now_ms() > e->deadline_ms) {
			log_notice("domain %u did not shut down in time: destroying it", e->domid);
			destroy_entry(pvd, e);
			domain_stopped(pvd, e->uuid, "shutdown timeout");
		}
	}
	for (int i = 0; i < nrestart; i++)
		restart_uuid(pvd, restarts[i], reasons[i]);
}

static void on_doorbell(evutil_socket_t fd, short what, void *arg)
{
	struct pvd *pvd = arg;
	char err[300];

	(void)fd;
	(void)what;
	if (hv_unavailable(pvd))
		return;
	if (machine_drain_kicks(pvd->hv->m, err, sizeof(err)) == -EPIPE) {
		machine_lost(pvd, err);
		return;
	}
	poll_consoles(pvd);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct pvd *pvd = arg;

	(void)fd;
	(void)what;
	if (hv_unavailable(pvd))
		return;
	poll_consoles(pvd);
	refresh(pvd);
	if (!hv_unavailable(pvd))
		poll_consoles(pvd);
}

/* ---- open / reconcile / close ---- */

static const char *find_iso(struct pvd *pvd, char *buf, size_t len)
{
	static const char *const defaults[] = { "build/pvcore.iso", "/usr/share/pvcore/pvcore.iso" };

	if (pvd->opt.iso)
		return realpath(pvd->opt.iso, buf) ? buf : pvd->opt.iso;
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
		if (access(defaults[i], R_OK) == 0 && realpath(defaults[i], buf))
			return buf;
	(void)len;
	return NULL;
}

int hv_open(struct pvd *pvd, char *err, size_t errlen)
{
	struct machine_config mc = { 0 };
	struct hv *hv;
	char iso[PATH_MAX], dir[4200], merr[600];
	const char *isop;
	struct timeval tv = { 0, HV_TICK_MS * 1000 };
	int attached;

	if (pvd->opt.no_machine) {
		log_notice("no machine (--no-machine): domains can be defined, not started");
		return 0;
	}
	isop = find_iso(pvd, iso, sizeof(iso));
	if (!isop) {
		snprintf(err, errlen, "no hypervisor ISO (build/pvcore.iso, /usr/share/pvcore/pvcore.iso): give "
			 "--iso PATH, or --no-machine to run without a machine");
		return -1;
	}
	if (access(isop, R_OK) != 0) {
		snprintf(err, errlen, "--iso %.400s: %s", isop, strerror(errno));
		return -1;
	}
	hv = calloc(1, sizeof(*hv));
	if (!hv) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s/machine", pvd->opt.state_dir);
	mc.state_dir = dir;
	mc.iso = isop;
	mc.ram_mib = (unsigned)pvd->opt.machine_mem;
	mc.cpus = (unsigned)pvd->opt.cpus;
	mc.accel = pvd->opt.accel && !strcmp(pvd->opt.accel, "kvm") ? MACHINE_ACCEL_KVM : MACHINE_ACCEL_TCG;
	{
		struct machine_status st;
		machine_status_dir(dir, &st);
		attached = st.state == MACHINE_RUNNING;
	}
	if (machine_open(&mc, &hv->m, merr, sizeof(merr)) < 0) {
		snprintf(err, errlen, "machine %.400s: %s", dir, merr);
		free(hv);
		return -1;
	}
	hv->booted = !attached;
	if (ctl_attach(hv->m, 60000, &hv->c, merr, sizeof(merr)) < 0) {
		snprintf(err, errlen, "machine %.400s: control interface: %s", dir, merr);
		machine_close(hv->m);
		free(hv);
		return -1;
	}
	pvd->hv = hv;
	snprintf(dir, sizeof(dir), "%s/consoles", pvd->opt.state_dir);
	if (mkdir(dir, 0750) != 0 && errno != EEXIST)
		log_warn("%s: %s", dir, strerror(errno));
	hv->doorbell = event_new(pvd->base, machine_doorbell_fd(hv->m), EV_READ | EV_PERSIST, on_doorbell, pvd);
	hv->tick = event_new(pvd->base, -1, EV_PERSIST, on_tick, pvd);
	if (!hv->doorbell || !hv->tick || event_add(hv->doorbell, NULL) || event_add(hv->tick, &tv)) {
		snprintf(err, errlen, "cannot add the machine to the event loop");
		return -1;
	}
	log_notice("machine %s: %s (QEMU pid %d, %s, boot id %#" PRIx64 ")", machine_state_dir(hv->m),
		   attached ? "re-attached" : "booted", (int)machine_qemu_pid(hv->m), isop, ctl_boot_id(hv->c));
	return 0;
}

struct recon {
	struct pvd *pvd;
	char uuid[HV_MAX_DOMS][37];
	int n;
};

static int collect(void *arg, const struct store_domain *d)
{
	struct recon *r = arg;

	if (r->n < HV_MAX_DOMS)
		snprintf(r->uuid[r->n++], 37, "%s", d->uuid);
	return 0;
}

void hv_reconcile(struct pvd *pvd)
{
	struct hv *hv = pvd->hv;
	struct recon *r;
	char path[4200], err[300], buf[64];
	int do_autostart;
	FILE *f;

	if (hv_unavailable(pvd))
		return;
	refresh(pvd);
	/* consoles of the domains that kept running */
	for (int i = 0; i < HV_MAX_DOMS; i++) {
		struct hv_dom *e = &hv->dom[i];
		struct console_identity id;
		if (!e->used || e->cons || !e->known || e->info.state == PVCTL_DOM_DYING)
			continue;
		hv_console_path(pvd, e->uuid, path, sizeof(path));
		if (console_read_identity(path, &id, err, sizeof(err)) < 0) {
			log_warn("domain %u (%s): no console record: %s", e->domid, e->uuid, err);
			continue;
		}
		if (id.boot_id != ctl_boot_id(hv->c) || id.domid != e->domid) {
			log_warn("domain %u (%s): console record is of another boot or domain", e->domid, e->uuid);
			continue;
		}
		open_console(pvd, e, id.ring_mfn);
		log_notice("domain %u (%s) kept running; console re-attached", e->domid, e->uuid);
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return;
	r->pvd = pvd;
	if (store_domain_list(pvd->store, collect, r) != 0)
		log_warn("reconcile: %s", store_error(pvd->store));
	snprintf(path, sizeof(path), "%s/autostart.boot", pvd->opt.state_dir);
	snprintf(buf, sizeof(buf), "%#" PRIx64 "\n", ctl_boot_id(hv->c));
	{
		char old[64] = "";
		f = fopen(path, "re");
		if (f) {
			if (!fgets(old, sizeof(old), f))
				old[0] = '\0';
			fclose(f);
		}
		do_autostart = strcmp(old, buf) != 0;
	}
	for (int i = 0; i < r->n; i++) {
		struct store_domain d;
		struct hv_dom *e;
		uint32_t domid;
		char detail[120];
		if (store_domain_find(pvd->store, r->uuid[i], &d) != 0)
			continue;
		e = by_uuid(hv, d.uuid);
		if (e && e->info.state != PVCTL_DOM_DYING) {
			if (!strcmp(d.desired_state, "shut-off")) {
				set_desired(pvd, &d, e->info.state == PVCTL_DOM_PAUSED ? "paused" : "running",
					    "domain.reconciled", "pvd", "{\"found\":\"running\"}");
				log_notice("domain \"%s\" runs in the hypervisor: marked running", d.name);
			}
		} else if (d.transient) {
			domain_stopped(pvd, d.uuid, "missing after pvd restart");
		} else if (strcmp(d.desired_state, "shut-off")) {
			log_notice("domain \"%s\" should be %s but is missing: starting it", d.name, d.desired_state);
			restart_uuid(pvd, d.uuid, "missing");
		} else if (do_autostart && d.autostart) {
			if (start_one(pvd, &d, &domid, err, sizeof(err)) != 0) {
				log_err("autostart: %s", err);
			} else {
				snprintf(detail, sizeof(detail), "{\"reason\":\"autostart\",\"domid\":%u}", domid);
				set_desired(pvd, &d, "running", "domain.started", "pvd (autostart)", detail);
			}
		}
		store_domain_clear(&d);
	}
	free(r);
	if (do_autostart) {
		f = fopen(path, "we");
		if (f) {
			fputs(buf, f);
			fclose(f);
		}
	}
}

void hv_close(struct pvd *pvd)
{
	struct hv *hv = pvd->hv;

	if (!hv)
		return;
	for (int i = 0; i < HV_MAX_DOMS; i++)
		if (hv->dom[i].used)
			close_console(pvd, &hv->dom[i]);
	if (hv->doorbell)
		event_free(hv->doorbell);
	if (hv->tick)
		event_free(hv->tick);
	ctl_close(hv->c);
	machine_close(hv->m);
	free(hv);
	pvd->hv = NULL;
}

/* ---- queries and operations ---- */

static const char *state_name(const struct pvctl_domain_info *i)
{
	switch (i->state) {
	case PVCTL_DOM_BUILDING: return "building";
	case PVCTL_DOM_RUNNING: return "running";
	case PVCTL_DOM_PAUSED: return "paused";
	case PVCTL_DOM_SHUTDOWN:
		return i->shutdown_reason == SHUTDOWN_crash || i->shutdown_reason == SHUTDOWN_watchdog ? "crashed"
												   : "shut-down";
	case PVCTL_DOM_DYING: return "dying";
	default: return "unknown";
	}
}

static void fill_status(const struct hv_dom *e, struct hv_status *st)
{
	st->present = 1;
	st->domid = e->domid;
	st->state = e->intent == INTENT_DESTROY ? "dying" : state_name(&e->info);
	st->mem_kib = e->info.tot_pages * 4;
	st->maxmem_kib = e->info.max_pages * 4;
	st->vcpus = e->info.vcpus;
	st->weight = e->info.weight;
	st->cap = e->info.cap;
	st->cpu_time_ns = e->info.cpu_time_ns;
}

/* An entry being destroyed stays until the tick's listing shows it gone;
 * ask the hypervisor now, so that a start right after a destroy is not
 * refused for a domain that has already gone. */
static void forget_if_gone(struct pvd *pvd, struct hv_dom *e)
{
	struct pvctl_domain_info info;
	char err[300], uuid[37];
	int rc;

	if (e->intent != INTENT_DESTROY || e->restart)
		return;
	rc = ctl_get_info(pvd->hv->c, e->domid, &info, err, sizeof(err));
	if (rc == 0)
		uuid_format(info.handle, uuid);
	if (rc == -ESRCH || (rc == 0 && strcmp(uuid, e->uuid))) {
		close_console(pvd, e);
		e->used = 0;
	} else if (rc < 0 && transport_error(rc)) {
		machine_lost(pvd, err);
	}
}

int hv_status(struct pvd *pvd, const char *uuid, struct hv_status *st)
{
	struct hv_dom *e;

	memset(st, 0, sizeof(*st));
	st->state = "shut-off";
	if (hv_unavailable(pvd))
		return 0;
	e = by_uuid(pvd->hv, uuid);
	if (e) {
		forget_if_gone(pvd, e);
		e = hv_unavailable(pvd) ? NULL : by_uuid(pvd->hv, uuid);
	}
	if (!e)
		return 0;
	fill_status(e, st);
	return 0;
}

static void fill_unmanaged(const struct hv_dom *e, struct hv_unmanaged *u)
{
	memset(u, 0, sizeof(*u));
	u->domid = e->domid;
	snprintf(u->uuid, sizeof(u->uuid), "%s", e->uuid);
	snprintf(u->name, sizeof(u->name), "%.*s", (int)sizeof(e->info.name), e->info.name);
	fill_status(e, &u->st);
}

void hv_for_each_unmanaged(struct pvd *pvd, void (*fn)(void *arg, const struct hv_unmanaged *u), void *arg)
{
	struct hv_unmanaged u;

	if (hv_unavailable(pvd))
		return;
	for (int i = 0; i < HV_MAX_DOMS; i++) {
		struct hv_dom *e = &pvd->hv->dom[i];
		if (!e->used || e->known || e->intent == INTENT_DESTROY)
			continue;
		fill_unmanaged(e, &u);
		fn(arg, &u);
	}
}

int hv_find_unmanaged(struct pvd *pvd, const char *uuid, struct hv_unmanaged *u)
{
	if (hv_unavailable(pvd))
		return 0;
	for (int i = 0; i < HV_MAX_DOMS; i++) {
		struct hv_dom *e = &pvd->hv->dom[i];
		if (e->used && !e->known && e->intent != INTENT_DESTROY && !strcasecmp(e->uuid, uuid)) {
			fill_unmanaged(e, u);
			return 1;
		}
	}
	return 0;
}

int hv_uuid_of_domid(struct pvd *pvd, uint32_t domid, char uuid[37])
{
	struct hv_dom *e;

	if (hv_unavailable(pvd) || !(e = by_domid(pvd->hv, domid)) || !e->known)
		return 1;
	snprintf(uuid, 37, "%s", e->uuid);
	return 0;
}

int hv_start_domain(struct pvd *pvd, const struct store_domain *d, uint32_t *domid, char *err, size_t errlen)
{
	const char *why = hv_unavailable(pvd);

	if (why) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	return start_one(pvd, d, domid, err, errlen);
}

static struct hv_dom *live(struct pvd *pvd, const char *uuid, char *err, size_t errlen)
{
	const char *why = hv_unavailable(pvd);
	struct hv_dom *e;

	if (why) {
		snprintf(err, errlen, "%s", why);
		return NULL;
	}
	e = by_uuid(pvd->hv, uuid);
	if (!e || e->intent == INTENT_DESTROY) {
		snprintf(err, errlen, "domain %s is not running in the hypervisor", uuid);
		return NULL;
	}
	return e;
}

static int op_result(struct pvd *pvd, int rc, const char *msg, char *err, size_t errlen)
{
	if (rc >= 0)
		return 0;
	snprintf(err, errlen, "%s", msg);
	if (transport_error(rc))
		machine_lost(pvd, msg);
	return -1;
}

int hv_destroy_domain(struct pvd *pvd, const char *uuid, char *err, size_t errlen)
{
	struct hv_dom *e = live(pvd, uuid, err, errlen);
	char msg[300];
	int rc;

	if (!e)
		return -1;
	close_console(pvd, e);
	rc = ctl_destroy(pvd->hv->c, e->domid, msg, sizeof(msg));
	if (rc == 0 || rc == -ESRCH) {
		e->intent = INTENT_DESTROY;
		e->restart = 0;
		return 0;
	}
	return op_result(pvd, rc, msg, err, errlen);
}

int hv_shutdown_domain(struct pvd *pvd, const char *uuid, int reboot, unsigned timeout_s, char *err,
		       size_t errlen)
{
	struct hv_dom *e = live(pvd, uuid, err, errlen);
	char msg[300];
	int rc;

	if (!e)
		return -1;
	rc = ctl_shutdown(pvd->hv->c, e->domid, reboot ? SHUTDOWN_reboot : SHUTDOWN_poweroff, msg, sizeof(msg));
	if (rc < 0 && rc != -EALREADY)
		return op_result(pvd, rc, msg, err, errlen);
	e->intent = reboot ? INTENT_REBOOT : INTENT_SHUTDOWN;
	e->deadline_ms = now_ms() + (uint64_t)timeout_s * 1000u;
	return 0;
}

int hv_pause_domain(struct pvd *pvd, const char *uuid, int pause, char *err, size_t errlen)
{
	struct hv_dom *e = live(pvd, uuid, err, errlen);
	char msg[300];
	int rc;

	if (!e)
		return -1;
	rc = pause ? ctl_pause(pvd->hv->c, e->domid, msg, sizeof(msg))
		   : ctl_unpause(pvd->hv->c, e->domid, msg, sizeof(msg));
	if (rc == 0)
		e->info.state = pause ? PVCTL_DOM_PAUSED : PVCTL_DOM_RUNNING;
	return op_result(pvd, rc, msg, err, errlen);
}

int hv_set_memory(struct pvd *pvd, const char *uuid, uint64_t mib, char *err, size_t errlen)
{
	struct hv_dom *e = live(pvd, uuid, err, errlen);
	char msg[300];
	int rc;

	if (!e)
		return -1;
	rc = ctl_set_max_mem(pvd->hv->c, e->domid, mib * 256u, msg, sizeof(msg));
	if (rc == 0)
		e->info.max_pages = mib * 256u;
	return op_result(pvd, rc, msg, err, errlen);
}

int hv_set_sched(struct pvd *pvd, const char *uuid, uint32_t weight, uint32_t cap, char *err, size_t errlen)
{
	struct hv_dom *e = live(pvd, uuid, err, errlen);
	char msg[300];
	int rc;

	if (!e)
		return -1;
	rc = ctl_set_sched(pvd->hv->c, e->domid, weight, cap, msg, sizeof(msg));
	if (rc == 0) {
		e->info.weight = weight;
		e->info.cap = cap;
	}
	return op_result(pvd, rc, msg, err, errlen);
}
