/*
 * hv.c - pvd's link to the machine: the QEMU machine that runs the
 * hypervisor, the control client attached to it, and the two loop events
 * that drive everything else: the doorbell fd (a kick from the hypervisor)
 * and a 100 ms timer (the safety net). Both drain Domain 0's pending ports
 * and move every console ring to its log (hv_console.c); the timer also
 * lists the hypervisor's domains and acts on changes (hv_lifecycle.c).
 *
 * Owns: struct hv and the machine's state. When the machine is lost (QEMU
 * killed, the control block stops answering), every runtime entry is
 * dropped and hv->lost says why; calls then fail with that reason.
 *
 * Runtime state is not stored: after a restart of pvd it is rebuilt from the
 * hypervisor's list (handle = UUID) and the consoles' records
 * (console_read_identity). Desired state lives in the store.
 */
#include "hv.h"

#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../dom0/ctl.h"
#include "../dom0/machine.h"

#include "events.h"
#include "hv_internal.h"
#include "log.h"
#include "pvd.h"
#include "store.h"

const char *hv_unavailable(struct pvd *pvd)
{
	if (!pvd->hv)
		return pvd->opt.no_machine ? "no machine (pvd runs with --no-machine)"
					   : "no machine (no hypervisor ISO was found; see --iso)";
	if (pvd->hv->lost[0])
		return pvd->hv->lost;
	return NULL;
}

void hv_machine_lost(struct pvd *pvd, const char *why)
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
			hv_close_console(pvd, &hv->dom[i]);
			hv->dom[i].used = 0;
		}
	if (hv->doorbell)
		event_del(hv->doorbell);
	hv_record(pvd, "machine.lost", NULL, "pvd", NULL);
}

int hv_transport_error(int rc)
{
	return rc == -EPIPE || rc == -ESTALE || rc == -ETIMEDOUT;
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
		hv_machine_lost(pvd, err);
		return;
	}
	hv_poll_consoles(pvd);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct pvd *pvd = arg;

	(void)fd;
	(void)what;
	if (hv_unavailable(pvd))
		return;
	hv_poll_consoles(pvd);
	hv_refresh(pvd);
	if (!hv_unavailable(pvd))
		hv_poll_consoles(pvd);
}

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
		log_warn("no hypervisor ISO (build/pvcore.iso, /usr/share/pvcore/pvcore.iso; see --iso): running "
			 "without a machine");
		return 0;
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

void hv_close(struct pvd *pvd)
{
	struct hv *hv = pvd->hv;

	if (!hv)
		return;
	for (int i = 0; i < HV_MAX_DOMS; i++)
		if (hv->dom[i].used)
			hv_close_console(pvd, &hv->dom[i]);
	if (hv->doorbell)
		event_free(hv->doorbell);
	if (hv->tick)
		event_free(hv->tick);
	ctl_close(hv->c);
	machine_close(hv->m);
	free(hv);
	pvd->hv = NULL;
}
