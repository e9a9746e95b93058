/*
 * hv_console.c - one console backend (dom0/console.c) per running domain,
 * writing to STATE/consoles/UUID.log, capped at --console-log-max bytes
 * and rotated to UUID.log.1 .. UUID.log.N (--console-log-files N), so a
 * domain's logs never take more than max * (N + 1) bytes; opened when a
 * domain is built or found running after a restart of pvd, closed when it
 * goes; the log, its record and its rotated files are removed when the
 * domain leaves the store (hv_console_forget). A ring is read when its
 * port was pending (Domain 0's pending ports, drained by whoever reads the
 * doorbell, are kept in hv->port_pending for it: hv_drain_ports) and on
 * every tick.
 */
#include "hv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../dom0/console.h"
#include "../dom0/machine.h"

#include "hv_internal.h"
#include "log.h"
#include "pvd.h"

void hv_console_path(struct pvd *pvd, const char *uuid, char *buf, size_t len)
{
	snprintf(buf, len, "%s/consoles/%s.log", pvd->opt.state_dir, uuid);
}

/* STATE/consoles/UUID.adopted: "BOOT_ID DOMID" of an adopted domain whose
 * console pvd cannot reach (it has no record of it): it is then not taken
 * for a half-built one after a restart of pvd. */
static void adopted_path(struct pvd *pvd, const char *uuid, char *buf, size_t len)
{
	snprintf(buf, len, "%s/consoles/%s.adopted", pvd->opt.state_dir, uuid);
}

void hv_console_forget(struct pvd *pvd, const char *uuid)
{
	char path[4200], err[4400];

	for (int i = 0; pvd->hv && i < HV_MAX_DOMS; i++)
		if (pvd->hv->dom[i].used && pvd->hv->dom[i].cons && !strcmp(pvd->hv->dom[i].uuid, uuid))
			return;
	hv_console_path(pvd, uuid, path, sizeof(path));
	if (console_remove_logs(path, err, sizeof(err)) < 0)
		log_warn("%s", err);
	adopted_path(pvd, uuid, path, sizeof(path));
	if (unlink(path) != 0 && errno != ENOENT)
		log_warn("%s: %s", path, strerror(errno));
}

static void poll_one(struct hv_dom *e)
{
	char err[300];

	if (e->used && e->cons && console_poll(e->cons, err, sizeof(err)) < 0)
		log_warn("console of domain %u: %s", e->domid, err);
}

void hv_close_console(struct pvd *pvd, struct hv_dom *e)
{
	char err[256];
	uint32_t port;

	if (!e->cons)
		return;
	if (console_poll(e->cons, err, sizeof(err)) < 0)
		log_warn("console of domain %u: %s", e->domid, err);
	port = console_backend_port(e->cons);
	if (port < HV_DOM0_PORTS && pvd->hv && pvd->hv->console_of_port[port] == e - pvd->hv->dom + 1)
		pvd->hv->console_of_port[port] = 0;
	console_close(e->cons);
	e->cons = NULL;
	(void)pvd;
}

void hv_open_console(struct pvd *pvd, struct hv_dom *e, uint64_t ring_mfn, uint32_t backend_port)
{
	struct hv *hv = pvd->hv;
	struct console_identity id = { .boot_id = ctl_boot_id(hv->c), .domid = e->domid, .ring_mfn = ring_mfn,
				       .backend_port = backend_port };
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
		return;
	}
	console_set_log_limit(e->cons, (uint64_t)pvd->opt.console_log_max, (unsigned int)pvd->opt.console_log_files);
	if (backend_port && backend_port < HV_DOM0_PORTS)
		hv->console_of_port[backend_port] = (uint16_t)(e - hv->dom + 1);
	poll_one(e);	/* what it wrote before its port was known here */
}

void hv_drain_ports(struct pvd *pvd)
{
	struct hv *hv = pvd->hv;
	uint32_t ports[64];
	size_t n;

	if (!hv || !hv->c)
		return;
	do {
		n = ctl_pending_ports(hv->c, ports, 64);
		for (size_t i = 0; i < n; i++)
			if (ports[i] < HV_DOM0_PORTS)
				hv->port_pending[ports[i] / 64] |= 1ull << (ports[i] % 64);
	} while (n == 64);
}

/* Every console on the tick; on a doorbell only those whose port was
 * pending (reading every ring's indices on each doorbell made a creation
 * cost pvd more the more domains ran: 18 % of its time at 500 domains). */
void hv_poll_consoles(struct pvd *pvd, int all)
{
	struct hv *hv = pvd->hv;

	hv_drain_ports(pvd);
	if (all) {
		memset(hv->port_pending, 0, sizeof(hv->port_pending));
		for (int i = 0; i < hv->dom_end; i++)
			poll_one(&hv->dom[i]);
		return;
	}
	for (unsigned w = 0; w < HV_DOM0_PORTS / 64; w++)
		while (hv->port_pending[w]) {
			unsigned port = w * 64 + (unsigned)__builtin_ctzll(hv->port_pending[w]);
			hv->port_pending[w] &= hv->port_pending[w] - 1;
			if (hv->console_of_port[port])
				poll_one(&hv->dom[hv->console_of_port[port] - 1]);
		}
}

static int adopted_here(struct pvd *pvd, const struct hv_dom *e)
{
	char path[4200];
	unsigned long long boot = 0;
	unsigned domid = 0;
	FILE *f;
	int n;

	adopted_path(pvd, e->uuid, path, sizeof(path));
	f = fopen(path, "re");
	if (!f)
		return 0;
	n = fscanf(f, "%llx %u", &boot, &domid);
	fclose(f);
	return n == 2 && boot == ctl_boot_id(pvd->hv->c) && domid == e->domid;
}

/* e's console from its record (same boot, same domid): 0, or -1 with why. */
static int reattach_one(struct pvd *pvd, struct hv_dom *e, char *why, size_t len)
{
	struct console_identity id;
	char path[4200], err[300];

	hv_console_path(pvd, e->uuid, path, sizeof(path));
	if (console_read_identity(path, &id, err, sizeof(err)) < 0) {
		snprintf(why, len, "no console record: %s", err);
		return -1;
	}
	if (id.boot_id != ctl_boot_id(pvd->hv->c) || id.domid != e->domid) {
		snprintf(why, len, "console record is of another boot or domain");
		return -1;
	}
	hv_open_console(pvd, e, id.ring_mfn, id.backend_port);
	return 0;
}

/* After a restart of pvd: the consoles of the domains that kept running,
 * from their records (same boot, same domid), continuing their logs. */
void hv_reattach_consoles(struct pvd *pvd)
{
	struct hv *hv = pvd->hv;
	char why[400];

	for (int i = 0; i < HV_MAX_DOMS; i++) {
		struct hv_dom *e = &hv->dom[i];
		if (!e->used || e->cons || !e->known || e->building || e->info.state == PVCTL_DOM_DYING)
			continue;
		if (reattach_one(pvd, e, why, sizeof(why)) < 0) {
			if (adopted_here(pvd, e))
				continue;	/* adopted without a console */
			log_warn("domain %u (%s): %s", e->domid, e->uuid, why);
			e->unfinished = 1;
			continue;
		}
		log_notice("domain %u (%s) kept running; console re-attached", e->domid, e->uuid);
	}
}

int hv_adopt_console(struct pvd *pvd, struct hv_dom *e)
{
	char why[400], path[4200];
	FILE *f;

	if (reattach_one(pvd, e, why, sizeof(why)) == 0)
		return 1;
	log_notice("adopted domain %u (%s) has no console pvd can reach (%s)", e->domid, e->uuid, why);
	adopted_path(pvd, e->uuid, path, sizeof(path));
	f = fopen(path, "we");
	if (!f || fprintf(f, "%#llx %u\n", (unsigned long long)ctl_boot_id(pvd->hv->c), e->domid) < 0)
		log_warn("%s: %s", path, strerror(errno));
	if (f)
		fclose(f);
	return 0;
}

int hv_console_input(struct pvd *pvd, const char *uuid, const char *p, size_t n, char *err, size_t errlen)
{
	struct hv_dom *e;
	int rc;

	if (hv_unavailable(pvd) || !(e = hv_by_uuid(pvd->hv, uuid)) || e->intent == INTENT_DESTROY || !e->cons) {
		snprintf(err, errlen, "domain %s has no console to write to (it is not running)", uuid);
		return -1;
	}
	rc = console_input(e->cons, p, n);
	if (rc < 0) {
		snprintf(err, errlen, "domain %u: its console ring's input indices are corrupt", e->domid);
		return -1;
	}
	if (rc > 0 && console_backend_port(e->cons) &&
	    ctl_evtchn_notify(pvd->hv->c, console_backend_port(e->cons), err, errlen) < 0)
		return -1;
	return rc;
}
