/*
 * hv_internal.h - what the pieces of pvd's machine link share: the table
 * of running domains (struct hv_dom) inside struct hv, and the calls one
 * piece makes into another. Not for the rest of pvd (that is hv.h).
 *
 *   hv.c            the machine: open, attach, loss, the doorbell and tick
 *   hv_table.c      the table of the hypervisor's domains and queries on it
 *   hv_lifecycle.c  builds, lifecycle policy (on_* actions), reconciliation
 *                   and the operations the API asks for
 *   hv_console.c    one console backend per running domain
 *   hv_worker.c     the control thread: builds and listings off the loop
 *
 * Everything here runs on pvd's loop thread except a job's work(), which
 * runs on the control thread and touches only its job, the control client
 * and the machine's RAM (hv_worker.c); no lock is taken outside
 * hv_worker.c and dom0/ctl.c.
 */
#ifndef PVD_HV_INTERNAL_H
#define PVD_HV_INTERNAL_H

#include <stdint.h>
#include <time.h>

#include "../dom0/ctl.h"

struct pvd;
struct store_domain;
struct machine;

/* Work for the control thread (hv_worker.c). work() runs there with c and
 * m (the machine's handles when submitted); done() runs on the loop
 * afterwards and frees the job. gen tells done() whether the machine is
 * still the one the work was done on (hv_job_current). */
struct hv_job {
	struct hv_job *next;
	void (*work)(struct hv_job *j);
	void (*done)(struct pvd *pvd, struct hv_job *j);
	struct ctl *c;
	struct machine *m;
	unsigned gen;
	int rc;
	char err[700];
};

#define HV_MAX_DOMS PVCTL_MAX_DOMAINS	/* as many as the hypervisor holds */
#define HV_DOM0_PORTS 4096		/* Domain 0's event channels (2-level ABI) */
#define HV_TICK_MS 100

enum intent { INTENT_NONE, INTENT_SHUTDOWN, INTENT_REBOOT, INTENT_DESTROY };

/* One domain the hypervisor has (or had until the last listing). It is
 * the domain with this domid AND this handle (UUID): a domid alone may
 * name a domain that replaced it. */
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
	int unfinished;			/* found without its console record: a build pvd did not finish */
	int building;			/* its build is under way on the control thread (domid 0 until done) */
	uint64_t build_id;		/* which build (an entry may be reused meanwhile) */
	uint64_t seq;			/* hv->seq when the loop last changed it */
	int restart;			/* start it again once it is gone */
	char restart_reason[32];
};

/* A domain's restarts after crashes (hv_lifecycle.c): a domain that keeps
 * crashing soon after it is started is started again after a back-off
 * that doubles from 1 s to 5 minutes, instead of at once, forever. */
struct hv_restart {
	char uuid[37];			/* "" when the slot is free */
	uint64_t started_ms;		/* when pvd last started it */
	unsigned quick_crashes;		/* in a row, each within HV_QUICK_CRASH_MS of a start */
	uint64_t due_ms;		/* a delayed restart is pending (0: none) */
	char reason[32];
};

#define HV_QUICK_CRASH_MS 10000u
#define HV_CRASH_BACKOFF_MAX_MS 300000u

struct hv {
	struct machine *m;
	struct ctl *c;
	struct event *doorbell, *tick;
	char lost[400];			/* non-empty: the machine is not usable */
	struct hv_dom dom[HV_MAX_DOMS];
	int dom_end;			/* no entry at or past it was ever used: lookups stop there */
	struct pvctl_domain_info list[HV_MAX_DOMS];
	struct hv_restart crash_restarts[HV_MAX_DOMS];
	/* Domain 0's ports that were pending, drained by anyone (hv_drain_ports),
	 * not yet looked at by the consoles; a console's port -> its dom index + 1 */
	uint64_t port_pending[HV_DOM0_PORTS / 64];
	uint16_t console_of_port[HV_DOM0_PORTS];
	int booted;			/* this pvd started the machine */
	/* Booting it again after a loss (hv.c) */
	char machine_dir[4200], iso[4096];
	struct event *restart_ev;
	int restarting;			/* a restart is scheduled or under way */
	unsigned backoff_ms;		/* the next restart's delay */
	uint64_t attach_deadline_ms;
	unsigned restarts;		/* machines booted again since pvd started */
	time_t booted_at;		/* when the current machine was attached */
	char last_death[400];		/* why the last machine was lost ("" if none) */
	time_t last_death_at;
	uint64_t silent_since_ms;	/* control calls time out since then (0: they answer) */
	struct hv_worker *worker;	/* the control thread (hv_worker.c) */
	unsigned gen;			/* machines attached so far: a job's machine is current if equal */
	uint64_t seq;			/* changes the loop made to the table (see hv_refresh) */
	uint64_t next_build_id;
	int listing;			/* a LIST_DOMAINS job is under way */
	struct pvctl_machine_info mi;	/* from the last listing (host.info answers from it) */
	int mi_valid;
	int list_again;			/* another listing was asked for meanwhile */
	int reconcile_pending;		/* a new machine: reconcile when its first listing is back */
};

#define HV_SILENT_LIMIT_MS 30000u	/* a running machine silent this long is lost */
#define HV_ASYNC_DRAIN_MS 5000u		/* at exit, the backends' async calls may finish for this long */

#define HV_RESTART_MIN_MS 1000u
#define HV_RESTART_MAX_MS 60000u
#define HV_RESTART_STABLE_S 300	/* a machine up this long resets the back-off */
#define HV_ATTACH_MS 60000u	/* a new machine's control block must appear within */

/* hv.c */
void hv_machine_lost(struct pvd *pvd, const char *why);
uint64_t hv_now_ms(void);
/* After a failed control call: lose the machine, or wait for a silent one
 * (see hv.c); hv_control_answered when a call went through again. */
void hv_control_failed(struct pvd *pvd, int rc, const char *why);
void hv_control_answered(struct pvd *pvd);
/* The control call failed because the machine is gone or not answering. */
int hv_transport_error(int rc);

/* Drain Domain 0's pending ports: consoles, xenstore, block, network. */
void hv_poll_ports(struct pvd *pvd);

/* hv_worker.c */
int hv_worker_start(struct pvd *pvd, char *err, size_t errlen);
void hv_worker_stop(struct pvd *pvd);
void hv_worker_drain(struct pvd *pvd);
void hv_submit(struct pvd *pvd, struct hv_job *j);
int hv_job_current(struct pvd *pvd, const struct hv_job *j);
/* A lost machine's handles: closed once no job can be using them. */
void hv_worker_retire(struct pvd *pvd, struct ctl *c, struct machine *m);
/* For ctl_set_kick_hook: arg is the worker. */
void hv_worker_kick_hook(void *arg);

/* hv_table.c */
void hv_uuid_format(const uint8_t h[16], char out[37]);
int hv_uuid_parse(const char *s, uint8_t h[16]);
struct hv_dom *hv_by_domain(struct hv *hv, uint32_t domid, const char *uuid);
struct hv_dom *hv_by_uuid(struct hv *hv, const char *uuid);
struct hv_dom *hv_new_entry(struct hv *hv, uint32_t domid, const char *uuid);
/* The entry of uuid's build under way, if any. */
struct hv_dom *hv_building(struct hv *hv, const char *uuid);

/* hv_lifecycle.c */
/* Tear down what serves e and have the control thread destroy it. */
void hv_destroy_entry(struct pvd *pvd, struct hv_dom *e);
/* uuid was started now (for the crash-loop back-off). */
void hv_note_started(struct pvd *pvd, const char *uuid);
void hv_record(struct pvd *pvd, const char *type, const struct store_domain *d, const char *caller,
	       const char *detail);
/* List the hypervisor's domains and act on what changed: the tick's
 * listing runs on the control thread (hv_refresh); only start-up's
 * reconciliation, before the loop serves anyone, lists inline
 * (hv_refresh_now, which also takes the machine's size). */
void hv_refresh(struct pvd *pvd);
void hv_refresh_now(struct pvd *pvd);
/* A machine pvd booted again while serving: reconcile once its first
 * listing (on the control thread) is back. */
void hv_reconcile_after_boot(struct pvd *pvd);
/* A listing as soon as the control thread can (after the one under way). */
void hv_refresh_soon(struct pvd *pvd);

/* hv_console.c */
void hv_open_console(struct pvd *pvd, struct hv_dom *e, uint64_t ring_mfn, uint32_t backend_port);
void hv_close_console(struct pvd *pvd, struct hv_dom *e);
void hv_reattach_consoles(struct pvd *pvd);
/* An adopted domain's console from its record if pvd has one (1), else
 * it is marked adopted without a console (0). */
int hv_adopt_console(struct pvd *pvd, struct hv_dom *e);
/* Move console rings to their logs: those whose port was pending (all:
 * every one, the tick's pass for a guest that writes without notifying). */
void hv_poll_consoles(struct pvd *pvd, int all);

#endif
