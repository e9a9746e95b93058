/*
 * hv.h - pvd's link to the machine (see hv.c): the QEMU machine that runs
 * the hypervisor (dom0/machine.h), the control client (dom0/ctl.h), the
 * domain builder (dom0/build.h) and one console backend per running
 * domain (dom0/console.h), driven from pvd's libevent loop.
 *
 * Domains are matched to the store by their handle, which is the domain's
 * UUID. Errors: -1 with one line in err naming the domain and the cause.
 */
#ifndef PVD_HV_H
#define PVD_HV_H

#include <stddef.h>
#include <stdint.h>

struct pvd;
struct store_domain;

/* What the hypervisor says about a domain (present = 0: it has none). */
struct hv_status {
	int present;
	uint32_t domid;
	const char *state;	/* running, paused, shut-down, crashed, dying, building */
	uint64_t mem_kib, maxmem_kib;
	uint32_t vcpus, weight, cap;
	uint64_t cpu_time_ns;
};

/* Open (attach to, else boot) the machine and attach the control client.
 * Without a machine (--no-machine, or no ISO found) returns 0 and every
 * other call reports hv_unavailable(). */
int hv_open(struct pvd *pvd, char *err, size_t errlen);
/* After the server is up: match hypervisor domains to the store, restart
 * desired-running domains that are missing, autostart once per machine boot. */
void hv_reconcile(struct pvd *pvd);
/* Detach (the machine and its domains keep running). */
void hv_close(struct pvd *pvd);

/* NULL when the machine can be used, else why not ("no machine ..."). */
const char *hv_unavailable(struct pvd *pvd);

int hv_status(struct pvd *pvd, const char *uuid, struct hv_status *st);
/* Clear Domain 0's pending ports (every reader of the doorbell does, so
 * that a guest's next event rings it again), keeping them for the
 * consoles (hv_console.c): the only way the backends take them. */
void hv_drain_ports(struct pvd *pvd);
/* The UUID of the running domain with this domid; 0 or 1 (none). */
int hv_uuid_of_domid(struct pvd *pvd, uint32_t domid, char uuid[37]);

/* A domain being destroyed (state "dying"): ask the hypervisor whether it
 * has gone (control thread); fn(rc 0: gone, its entry dropped; -1: still
 * there). -1 at once when uuid has no such entry (fn not called). */
typedef void (*hv_op_fn)(struct pvd *pvd, void *arg, int rc, const char *err);
int hv_check_gone(struct pvd *pvd, const char *uuid, hv_op_fn fn, void *arg);

/* A domain in the hypervisor that is not in pvd's store (its store was
 * lost, or another toolstack made it): listed, never acted on unasked. */
struct hv_unmanaged {
	uint32_t domid;
	char uuid[37];
	char name[32];
	struct hv_status st;
};
/* fn for each unmanaged domain that is not being destroyed. */
void hv_for_each_unmanaged(struct pvd *pvd, void (*fn)(void *arg, const struct hv_unmanaged *u), void *arg);
/* 1 when uuid (any case) names an unmanaged domain: its details in *u. */
int hv_find_unmanaged(struct pvd *pvd, const char *uuid, struct hv_unmanaged *u);

/* The machine as a whole (host.info). */
struct hv_host {
	const char *state;		/* running, booting, down, none */
	char why[400];			/* none/down/booting: why */
	int qemu_pid;
	uint64_t total_kib, free_kib, tsc_khz, boot_id;
	unsigned cpus;
	char hv_version[64];		/* from the hypervisor's banner, "" if unknown */
	unsigned restarts;		/* machines booted again since pvd started */
	char last_death[400];		/* "" if none since pvd started */
	long long last_death_at;	/* unix time, 0 if none */
	char log_path[4300];		/* the hypervisor's log (its serial console) */
};
/* What pvd knows of the machine, from its state and the last listing
 * (no control call). */
void hv_host(struct pvd *pvd, struct hv_host *h);

/* Take over the unmanaged domain uuid, whose config is now in the store:
 * pvd manages it from now on. *console: whether its console is served. */
int hv_adopt(struct pvd *pvd, const char *uuid, int *console, char *err, size_t errlen);

/* A domain that keeps crashing right after its start is started again
 * after a back-off: 1 (and the time left) while such a restart is pending. */
int hv_restart_pending(struct pvd *pvd, const char *uuid, uint64_t *in_ms);
/* Drop a pending delayed restart (domain.destroy of a crash-looping
 * domain): 1 if there was one. */
int hv_cancel_restart(struct pvd *pvd, const char *uuid);

/* Build and start d from its stored config (hv_build.c). The build runs on
 * the control thread: 0 and, later on the loop, exactly once,
 * fn(pvd, arg, rc, domid, err) with rc 0 (started) or one of the failures
 * below; or a failure at once, with err, and fn is not called.
 * paused: leave it paused. */
#define HV_START_CONFIG  (-2)	/* the config or its files are wrong (kernel missing, not an ELF...) */
#define HV_START_TOO_BIG (-3)	/* more memory than the machine has free */
#define HV_START_BUSY    (-4)	/* it is running or being started already */
typedef void (*hv_started_fn)(struct pvd *pvd, void *arg, int rc, uint32_t domid, const char *err);
int hv_start_domain(struct pvd *pvd, const struct store_domain *d, int paused, hv_started_fn fn, void *arg,
		    char *err, size_t errlen);
/* The API's operations on a running domain (hv_ops.c): the control call
 * runs on the control thread; 0 once it is queued and later, on the
 * loop, exactly once, fn(pvd, arg, rc, err) with rc 0 (done), -EBUSY
 * (pause/resume: it shut down meanwhile, a state, not a failure) or -1;
 * or -1 at once with err, and fn is not called. */
int hv_destroy_domain(struct pvd *pvd, const char *uuid, hv_op_fn fn, void *arg, char *err, size_t errlen);
/* reboot = 0: PVCTL shutdown with reason poweroff, destroyed if it is not
 * shut down after timeout_s; 1: reason reboot (started again). A guest
 * asked through xenstore (*asked): 0 and fn is not called; else 1 and fn
 * is called as above. */
int hv_shutdown_domain(struct pvd *pvd, const char *uuid, int reboot, int force, unsigned timeout_s,
		       int *asked, hv_op_fn fn, void *arg, char *err, size_t errlen);
int hv_pause_domain(struct pvd *pvd, const char *uuid, int pause, hv_op_fn fn, void *arg, char *err, size_t errlen);
/* The hypervisor's ceiling for the domain (mem-max). */
int hv_set_maxmem(struct pvd *pvd, const char *uuid, uint64_t mib, hv_op_fn fn, void *arg, char *err,
		  size_t errlen);
/* The balloon target the guest follows (mem-set: memory/target). */
int hv_set_target(struct pvd *pvd, const char *uuid, uint64_t mib, char *err, size_t errlen);
/* The current balloon target in KiB; -1 when there is none to read. */
int hv_get_target(struct pvd *pvd, const char *uuid, uint64_t *kib);
int hv_set_sched(struct pvd *pvd, const char *uuid, uint32_t weight, uint32_t cap, hv_op_fn fn, void *arg,
		 char *err, size_t errlen);

/* Console input: queue up to n bytes for the running domain's console and
 * notify it; the bytes queued (what fits its ring), or -1 with err. */
int hv_console_input(struct pvd *pvd, const char *uuid, const char *p, size_t n, char *err, size_t errlen);

/* The console log of a domain: STATE/consoles/UUID.log. */
void hv_console_path(struct pvd *pvd, const char *uuid, char *buf, size_t len);
/* The domain uuid is gone from the store (undefined, transient ended):
 * its console log and record go too, unless a backend still writes them. */
void hv_console_forget(struct pvd *pvd, const char *uuid);

#endif
