/*
 * hv_console.c - one console backend (dom0/console.c) per running domain,
 * writing to STATE/consoles/UUID.log; opened when a domain is built or
 * found running after a restart of pvd, closed when it goes; the log is
 * removed when the domain leaves the store (hv_console_forget).
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

void hv_console_forget(struct pvd *pvd, const char *uuid)
{
	char path[4200], pos[4210];

	for (int i = 0; pvd->hv && i < HV_MAX_DOMS; i++)
		if (pvd->hv->dom[i].used && pvd->hv->dom[i].cons && !strcmp(pvd->hv->dom[i].uuid, uuid))
			return;
	hv_console_path(pvd, uuid, path, sizeof(path));
	snprintf(pos, sizeof(pos), "%s.pos", path);
	if (unlink(path) != 0 && errno != ENOENT)
		log_warn("console log %s: %s", path, strerror(errno));
	if (unlink(pos) != 0 && errno != ENOENT)
		log_warn("console record %s: %s", pos, strerror(errno));
}

void hv_close_console(struct pvd *pvd, struct hv_dom *e)
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
	}
}

void hv_poll_consoles(struct pvd *pvd)
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

/* After a restart of pvd: the consoles of the domains that kept running,
 * from their records (same boot, same domid), continuing their logs. */
void hv_reattach_consoles(struct pvd *pvd)
{
	struct hv *hv = pvd->hv;
	char path[4200], err[300];

	for (int i = 0; i < HV_MAX_DOMS; i++) {
		struct hv_dom *e = &hv->dom[i];
		struct console_identity id;
		if (!e->used || e->cons || !e->known || e->info.state == PVCTL_DOM_DYING)
			continue;
		hv_console_path(pvd, e->uuid, path, sizeof(path));
		if (console_read_identity(path, &id, err, sizeof(err)) < 0) {
			log_warn("domain %u (%s): no console record: %s", e->domid, e->uuid, err);
			e->unfinished = 1;
			continue;
		}
		if (id.boot_id != ctl_boot_id(hv->c) || id.domid != e->domid) {
			log_warn("domain %u (%s): console record is of another boot or domain", e->domid, e->uuid);
			e->unfinished = 1;
			continue;
		}
		hv_open_console(pvd, e, id.ring_mfn, id.backend_port);
		log_notice("domain %u (%s) kept running; console re-attached", e->domid, e->uuid);
	}
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
