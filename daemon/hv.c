/*
 * hv.c - pvd's link to the machine: the QEMU machine that runs the
 * hypervisor, the control client attached to it, and the two loop events
 * that drive everything else: the doorbell fd (a kick from the hypervisor)
 * and a 100 ms timer (the safety net). Both drain Domain 0's pending ports
 * and move every console ring to its log (hv_console.c); the timer also
 * lists the hypervisor's domains and acts on changes (hv_lifecycle.c).
 *
 * The control thread (hv_worker.c) does the long work on the machine;
 * hv.c starts it with the machine and gives it the control client's kick
 * hook, so a kick that thread's call ate (or an answer it took for one of
 * the loop's asynchronous calls) still wakes the loop's ports.
 *
 * The loop's own control calls (the backends' grant maps, unmaps and
 * copies; not yet their calls at a device's connect and disconnect) are
 * asynchronous (dom0/ctl.h, ctl_submit): hv_poll_ports runs
 * ctl_async_poll first on every doorbell kick, wake and tick, which
 * pushes what waited for room, re-kicks, times out, and runs their
 * completions. A lost machine fails every one of them (after the
 * backends are told no more calls go out) before the backends close; at
 * pvd's exit they are given HV_ASYNC_DRAIN_MS to finish, then cancelled.
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
#include <time.h>
#include <unistd.h>

#include "../dom0/ctl.h"
#include "../dom0/machine.h"

#include "events.h"
#include "hv_internal.h"
#include "log.h"
#include "pvd.h"
#include "store.h"
#include "net_host.h"
#include "xs_host.h"
#include "blk_host.h"

const char *hv_unavailable(struct pvd *pvd)
{
	if (!pvd->hv)	/* only with --no-machine: without an ISO pvd does not start */
		return "no machine (pvd runs with --no-machine)";
	if (pvd->hv->lost[0])
		return pvd->hv->lost;
	return NULL;
}

/* ---- losing the machine and booting it again ----
 *
 * A lost machine (QEMU gone, the control block silent) is booted again
 * after a back-off that doubles from HV_RESTART_MIN_MS to
 * HV_RESTART_MAX_MS while it keeps dying within HV_RESTART_STABLE_S of
 * its boot. The boot never blocks the loop: QEMU is started, then the
 * control block is looked for every tick until HV_ATTACH_MS have passed.
 * Once attached, reconciliation starts the domains meant to run. */

static void on_restart(evutil_socket_t fd, short what, void *arg);
static int attach_events(struct pvd *pvd);

static void schedule_restart(struct pvd *pvd)
{
	struct hv *hv = pvd->hv;
	struct timeval tv = { hv->backoff_ms / 1000, (hv->backoff_ms % 1000) * 1000 };

	hv->restarting = 1;
	if (!hv->restart_ev)
		hv->restart_ev = event_new(pvd->base, -1, 0, on_restart, pvd);
	if (!hv->restart_ev || event_add(hv->restart_ev, &tv) != 0) {
		log_err("cannot schedule the machine's restart: it stays down");
		return;
	}
	log_notice("machine: booting it again in %u ms", hv->backoff_ms);
	hv->backoff_ms = hv->backoff_ms * 2 > HV_RESTART_MAX_MS ? HV_RESTART_MAX_MS : hv->backoff_ms * 2;
}

/* One step of a restart: start QEMU, then look for its control block. */

/* The machine pvd boots, from its options. */
static void machine_config_of(struct pvd *pvd, struct machine_config *mc, const char *dir, const char *iso)
{
	mc->state_dir = dir;
	mc->iso = iso;
	mc->ram_mib = (unsigned)pvd->opt.machine_mem;
	mc->cpus = (unsigned)pvd->opt.cpus;
	mc->accel = pvd->opt.accel && !strcmp(pvd->opt.accel, "kvm") ? MACHINE_ACCEL_KVM : MACHINE_ACCEL_TCG;
	mc->ram_dir = pvd->opt.machine_ram_dir;
	mc->prealloc = pvd->opt.machine_prealloc;
}

static void on_restart(evutil_socket_t fd, short what, void *arg)
{
	struct pvd *pvd = arg;
	struct hv *hv = pvd->hv;
	struct machine_config mc = { 0 };
	struct timeval tick = { 0, HV_TICK_MS * 1000 };
	char merr[600], detail[96];
	int rc;

	(void)fd;
	(void)what;
	if (!hv->m) {
		machine_config_of(pvd, &mc, hv->machine_dir, hv->iso);
		if (machine_open(&mc, &hv->m, merr, sizeof(merr)) < 0) {
			snprintf(hv->lost, sizeof(hv->lost), "the machine is down: booting it again failed: %.300s",
				 merr);
			log_err("%s", hv->lost);
			schedule_restart(pvd);
			return;
		}
		hv->attach_deadline_ms = hv_now_ms() + HV_ATTACH_MS;
		snprintf(hv->lost, sizeof(hv->lost), "the machine is down: booting again (QEMU pid %d)",
			 (int)machine_qemu_pid(hv->m));
	}
	rc = ctl_attach(hv->m, 0, &hv->c, merr, sizeof(merr));
	if (rc == -ETIMEDOUT && hv_now_ms() < hv->attach_deadline_ms) {
		event_add(hv->restart_ev, &tick);
		return;
	}
	if (rc < 0) {
		snprintf(hv->lost, sizeof(hv->lost), "the machine is down: its control interface: %.300s", merr);
		log_err("%s", hv->lost);
		machine_stop(hv->m, 2000, merr, sizeof(merr));
		machine_close(hv->m);
		hv->m = NULL;
		schedule_restart(pvd);
		return;
	}
	merr[0] = '\0';
	hv->gen++;
	ctl_set_kick_hook(hv->c, hv_worker_kick_hook, hv->worker);
	if (xs_host_open(pvd, hv->m, hv->c, merr, sizeof(merr)) < 0 ||
	    blk_host_open(pvd, hv->m, hv->c, merr, sizeof(merr)) < 0 ||
	    net_host_open(pvd, hv->m, hv->c, merr, sizeof(merr)) < 0 || attach_events(pvd) != 0) {
		snprintf(hv->lost, sizeof(hv->lost), "the machine is down: cannot serve it: %.300s", merr);
		log_err("%s", hv->lost);
		return;
	}
	hv->lost[0] = '\0';
	hv->restarting = 0;
	hv->booted = 1;
	hv->restarts++;
	hv->booted_at = time(NULL);
	log_notice("machine %s: booted again (QEMU pid %d, boot id %#" PRIx64 ")", machine_state_dir(hv->m),
		   (int)machine_qemu_pid(hv->m), ctl_boot_id(hv->c));
	snprintf(detail, sizeof(detail), "{\"restarts\":%u,\"boot_id\":\"%#" PRIx64 "\"}", hv->restarts,
		 ctl_boot_id(hv->c));
	hv_record(pvd, "machine.restarted", NULL, "pvd", detail);
	hv_reconcile_after_boot(pvd);
}

void hv_machine_lost(struct pvd *pvd, const char *why)
{
	struct hv *hv = pvd->hv;
	struct machine_status st;
	char detail[64];

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
	/* the backends' calls under way end now, with the machine's error */
	blk_host_machine_gone(pvd);
	net_host_machine_gone(pvd);
	if (hv->c)
		ctl_async_fail_all(hv->c, -EPIPE, hv->lost);
	net_host_close(pvd);		/* its rings were in the lost machine's RAM */
	blk_host_close(pvd, 1);		/* its rings and grants were in the lost machine's RAM */
	xs_host_close(pvd);		/* its rings were in the lost machine's RAM */
	if (hv->doorbell) {
		event_free(hv->doorbell);
		hv->doorbell = NULL;
	}
	if (st.state == MACHINE_RUNNING) {	/* alive but not answering: a new one replaces it */
		char merr[300];
		if (machine_stop(hv->m, 2000, merr, sizeof(merr)) < 0)
			log_warn("stopping the silent machine: %s", merr);
	}
	/* the control thread may still be in a call on them: it fails at once
	 * now that QEMU is gone; they are closed when it is idle */
	hv_worker_retire(pvd, hv->c, hv->m);
	hv->c = NULL;
	hv->m = NULL;
	hv->listing = 0;
	hv->mi_valid = 0;
	hv->reconcile_pending = 0;
	if (time(NULL) - hv->booted_at >= HV_RESTART_STABLE_S)
		hv->backoff_ms = HV_RESTART_MIN_MS;
	snprintf(hv->last_death, sizeof(hv->last_death), "%.150s (%.200s)", why, st.reason);
	hv->last_death_at = time(NULL);
	snprintf(detail, sizeof(detail), "{\"restart_in_ms\":%u}", hv->backoff_ms);
	hv_record(pvd, "machine.lost", NULL, "pvd", detail);
	schedule_restart(pvd);
}

uint64_t hv_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int hv_transport_error(int rc)
{
	return rc == -EPIPE || rc == -ESTALE || rc == -ETIMEDOUT;
}

/* A control call failed. A machine that is gone (doorbell hung up, a new
 * boot) is lost at once; one whose QEMU still runs but did not answer in
 * time (a large domain being scrubbed or torn down on a loaded host) is
 * only lost when it has answered nothing for HV_SILENT_LIMIT_MS: booting
 * it again would end every domain on it. */
void hv_control_failed(struct pvd *pvd, int rc, const char *why)
{
	struct hv *hv = pvd->hv;
	struct machine_status st;
	uint64_t now = hv_now_ms();

	if (!hv_transport_error(rc) || hv->lost[0])
		return;
	if (rc == -ETIMEDOUT && hv->m) {
		machine_status(hv->m, &st);
		if (st.state == MACHINE_RUNNING) {
			if (!hv->silent_since_ms) {
				hv->silent_since_ms = now;
				log_warn("the machine did not answer in time: %s (it is lost if it stays silent for %u s)",
					 why, HV_SILENT_LIMIT_MS / 1000);
				return;
			}
			if (now - hv->silent_since_ms < HV_SILENT_LIMIT_MS)
				return;
		}
	}
	hv_machine_lost(pvd, why);
}

void hv_control_answered(struct pvd *pvd)
{
	if (pvd->hv && pvd->hv->silent_since_ms) {
		log_notice("the machine answers again after %" PRIu64 " ms",
			   hv_now_ms() - pvd->hv->silent_since_ms);
		pvd->hv->silent_since_ms = 0;
	}
}

void hv_poll_ports(struct pvd *pvd)
{
	char err[400];

	if (hv_unavailable(pvd))
		return;
	/* answers of the loop's async calls first: their requests go on */
	if (ctl_async_poll(pvd->hv->c, err, sizeof(err)) < 0) {
		hv_machine_lost(pvd, err);
		return;
	}
	hv_poll_consoles(pvd, 0);
	xs_host_poll(pvd);
	blk_host_poll(pvd);
	net_host_poll(pvd);
	hv_poll_consoles(pvd, 0);	/* ports the backends' rounds drained */
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
	hv_poll_ports(pvd);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct pvd *pvd = arg;

	(void)fd;
	(void)what;
	if (hv_unavailable(pvd))
		return;
	hv_poll_ports(pvd);
	hv_poll_consoles(pvd, 1);	/* a guest may write without notifying */
	hv_refresh(pvd);	/* the listing runs on the control thread */
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

/* The doorbell of the current machine, and the tick (once). */
static int attach_events(struct pvd *pvd)
{
	struct hv *hv = pvd->hv;
	struct timeval tv = { 0, HV_TICK_MS * 1000 };

	hv->doorbell = event_new(pvd->base, machine_doorbell_fd(hv->m), EV_READ | EV_PERSIST, on_doorbell, pvd);
	if (!hv->doorbell || event_add(hv->doorbell, NULL) != 0)
		return -1;
	if (!hv->tick) {
		hv->tick = event_new(pvd->base, -1, EV_PERSIST, on_tick, pvd);
		if (!hv->tick || event_add(hv->tick, &tv) != 0)
			return -1;
	}
	return 0;
}

int hv_open(struct pvd *pvd, char *err, size_t errlen)
{
	struct machine_config mc = { 0 };
	struct hv *hv;
	char iso[PATH_MAX], dir[4200], merr[600];
	const char *isop;
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
	machine_config_of(pvd, &mc, dir, isop);
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
	hv->gen = 1;
	if (hv_worker_start(pvd, err, errlen) < 0)
		return -1;
	ctl_set_kick_hook(hv->c, hv_worker_kick_hook, hv->worker);
	if (xs_host_open(pvd, hv->m, hv->c, err, errlen) < 0 || blk_host_open(pvd, hv->m, hv->c, err, errlen) < 0 ||
	    net_host_open(pvd, hv->m, hv->c, err, errlen) < 0)
		return -1;
	snprintf(hv->machine_dir, sizeof(hv->machine_dir), "%s", dir);
	snprintf(hv->iso, sizeof(hv->iso), "%s", isop);
	hv->backoff_ms = HV_RESTART_MIN_MS;
	hv->booted_at = time(NULL);
	snprintf(dir, sizeof(dir), "%s/consoles", pvd->opt.state_dir);
	if (mkdir(dir, 0750) != 0 && errno != EEXIST)
		log_warn("%s: %s", dir, strerror(errno));
	if (attach_events(pvd) != 0) {
		snprintf(err, errlen, "cannot add the machine to the event loop");
		return -1;
	}
	log_notice("machine %s: %s (QEMU pid %d, %s, boot id %#" PRIx64 ")", machine_state_dir(hv->m),
		   attached ? "re-attached" : "booted", (int)machine_qemu_pid(hv->m), isop, ctl_boot_id(hv->c));
	return 0;
}

/* pvd's exit: the backends' async calls under way finish (a request
 * waiting for its map gets its I/O and its unmap) for up to
 * HV_ASYNC_DRAIN_MS, polled here; what is left then is cancelled by the
 * backends' close. */
static void drain_async(struct pvd *pvd)
{
	uint64_t end = hv_now_ms() + HV_ASYNC_DRAIN_MS;
	char err[400];

	while (ctl_async_pending(pvd->hv->c) && hv_now_ms() < end) {
		if (ctl_async_poll(pvd->hv->c, err, sizeof(err)) < 0) {
			log_warn("at exit: %s", err);
			return;
		}
		blk_host_poll(pvd);
		net_host_poll(pvd);
		usleep(1000);
	}
	if (ctl_async_pending(pvd->hv->c))
		log_warn("at exit: %u control calls of the backends still unanswered after %u ms: cancelled",
			 ctl_async_pending(pvd->hv->c), HV_ASYNC_DRAIN_MS);
}

void hv_close(struct pvd *pvd)
{
	struct hv *hv = pvd->hv;

	if (!hv)
		return;
	hv_worker_stop(pvd);	/* its jobs' done() still run, with the machine attached */
	if (hv->c && !hv->lost[0])
		drain_async(pvd);
	net_host_close(pvd);
	blk_host_close(pvd, 0);
	xs_host_close(pvd);
	for (int i = 0; i < HV_MAX_DOMS; i++)
		if (hv->dom[i].used)
			hv_close_console(pvd, &hv->dom[i]);
	if (hv->doorbell)
		event_free(hv->doorbell);
	if (hv->tick)
		event_free(hv->tick);
	if (hv->restart_ev)
		event_free(hv->restart_ev);
	ctl_close(hv->c);
	machine_close(hv->m);
	free(hv);
	pvd->hv = NULL;
}

/* ---- the machine as a whole ---- */

/* "pvcore 0.1 hypervisor ..." from the first lines of its log. */
static void banner_version(const char *log, char *out, size_t len)
{
	char buf[4096];
	FILE *f = fopen(log, "re");
	size_t n;
	const char *p;

	out[0] = '\0';
	if (!f)
		return;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strstr(buf, "pvcore ");
	if (p && sscanf(p, "pvcore %63s hypervisor", out) != 1)
		out[0] = '\0';
	(void)len;
}

void hv_host(struct pvd *pvd, struct hv_host *h)
{
	struct hv *hv = pvd->hv;
	struct pvctl_machine_info mi;
	const char *why = hv_unavailable(pvd);

	memset(h, 0, sizeof(*h));
	h->state = "none";
	if (!hv) {
		snprintf(h->why, sizeof(h->why), "%s", why);
		return;
	}
	snprintf(h->log_path, sizeof(h->log_path), "%s/hv.log", hv->machine_dir);
	h->restarts = hv->restarts;
	snprintf(h->last_death, sizeof(h->last_death), "%s", hv->last_death);
	h->last_death_at = hv->last_death_at;
	if (why) {
		h->state = hv->m ? "booting" : "down";
		snprintf(h->why, sizeof(h->why), "%s", why);
		return;
	}
	if (!hv->mi_valid) {
		/* booted again, its first listing not back yet: the figures come
		 * from the listings (never a call from the loop) */
		h->state = "booting";
		snprintf(h->why, sizeof(h->why), "the machine booted again; waiting for its first listing");
		hv_refresh_soon(pvd);
		return;
	}
	h->state = "running";
	h->qemu_pid = (int)machine_qemu_pid(hv->m);
	mi = hv->mi;	/* the tick's, at most a listing old */
	h->total_kib = mi.total_frames * 4;
	h->free_kib = mi.free_frames * 4;
	h->tsc_khz = mi.tsc_khz;
	h->boot_id = mi.boot_id;
	h->cpus = mi.nr_cpus;
	banner_version(h->log_path, h->hv_version, sizeof(h->hv_version));
}
