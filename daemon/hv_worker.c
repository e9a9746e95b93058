/*
 * hv_worker.c - pvd's control thread: the work on the machine that may take
 * long (a domain build: reading its kernel, copying it into the machine's
 * RAM, dozens of control calls; listing the hypervisor's domains) runs
 * here, off the loop, one job at a time in the order submitted; each
 * job's completion runs on the loop.
 *
 * Owns: the job queue, the done list, the thread and the wake eventfd.
 * A job's work() runs on the control thread and may touch only the job
 * itself, the control client and the machine's RAM (both thread-safe, see
 * dom0/ctl.h), never struct pvd or struct hv; its done() runs on the loop
 * and does everything else. The eventfd is written when a job is done and
 * by the control client's kick hook (a call of the control thread drained
 * a doorbell kick meant for the loop's ports, took the answer of one of
 * the loop's async calls, or released the bulk area the loop wanted); the
 * loop then runs the done jobs and polls the ports and its async calls.
 * Lock order: hv_worker.lock is a leaf (no control call, no other lock is
 * taken under it).
 * The machine's handles outlive every job that uses them: when the
 * machine is lost, hv.c keeps the old ctl and machine (hv_worker_retire)
 * until the control thread is idle.
 */
#include "hv.h"

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../dom0/machine.h"

#include "hv_internal.h"
#include "log.h"
#include "pvd.h"

struct hv_worker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct hv_job *queue, *queue_tail;	/* submitted, not started */
	struct hv_job *done, *done_tail;	/* worked, done() not yet run */
	unsigned busy;				/* submitted and not yet done()'d */
	int stop;
	int wake_fd;
	struct event *wake_ev;
	/* a lost machine's handles, closed once no job may use them */
	struct ctl *old_c[4];
	struct machine *old_m[4];
	int nold;
};

static void wake(struct hv_worker *w)
{
	uint64_t one = 1;

	if (write(w->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("control thread: waking the loop: %s", strerror(errno));
}

void hv_worker_kick_hook(void *arg)
{
	wake(arg);
}

static void *run(void *arg)
{
	struct hv_worker *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct hv_job *j;
		while (!w->queue && !w->stop)
			pthread_cond_wait(&w->cond, &w->lock);
		if (!w->queue)
			break;
		j = w->queue;
		w->queue = j->next;
		if (!w->queue)
			w->queue_tail = NULL;
		pthread_mutex_unlock(&w->lock);
		j->work(j);
		pthread_mutex_lock(&w->lock);
		j->next = NULL;
		if (w->done_tail)
			w->done_tail->next = j;
		else
			w->done = j;
		w->done_tail = j;
		wake(w);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static void close_retired(struct hv_worker *w)
{
	for (int i = 0; i < w->nold; i++) {
		ctl_close(w->old_c[i]);
		machine_close(w->old_m[i]);
	}
	w->nold = 0;
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct pvd *pvd = arg;
	struct hv_worker *w = pvd->hv->worker;
	uint64_t n;

	(void)what;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("control thread: %s", strerror(errno));
	for (;;) {
		struct hv_job *j;
		pthread_mutex_lock(&w->lock);
		j = w->done;
		if (j) {
			w->done = j->next;
			if (!w->done)
				w->done_tail = NULL;
		}
		pthread_mutex_unlock(&w->lock);
		if (!j)
			break;
		w->busy--;
		j->done(pvd, j);	/* frees j */
	}
	if (!w->busy && w->nold)
		close_retired(w);
	hv_poll_ports(pvd);
}

int hv_worker_start(struct pvd *pvd, char *err, size_t errlen)
{
	struct hv_worker *w = calloc(1, sizeof(*w));
	int rc;

	if (!w) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->wake_fd < 0) {
		snprintf(err, errlen, "control thread: eventfd: %s", strerror(errno));
		free(w);
		return -1;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->wake_ev = event_new(pvd->base, w->wake_fd, EV_READ | EV_PERSIST, on_wake, pvd);
	if (!w->wake_ev || event_add(w->wake_ev, NULL) != 0) {
		snprintf(err, errlen, "control thread: cannot add its eventfd to the loop");
		goto fail;
	}
	rc = pthread_create(&w->thread, NULL, run, w);
	if (rc) {
		snprintf(err, errlen, "control thread: %s", strerror(rc));
		goto fail;
	}
	pvd->hv->worker = w;
	return 0;
fail:
	if (w->wake_ev)
		event_free(w->wake_ev);
	close(w->wake_fd);
	free(w);
	return -1;
}

void hv_submit(struct pvd *pvd, struct hv_job *j)
{
	struct hv_worker *w = pvd->hv->worker;

	j->c = pvd->hv->c;
	j->m = pvd->hv->m;
	j->gen = pvd->hv->gen;
	j->next = NULL;
	pthread_mutex_lock(&w->lock);
	if (w->queue_tail)
		w->queue_tail->next = j;
	else
		w->queue = j;
	w->queue_tail = j;
	w->busy++;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

int hv_job_current(struct pvd *pvd, const struct hv_job *j)
{
	return pvd->hv && j->gen == pvd->hv->gen && !pvd->hv->lost[0];
}

void hv_worker_retire(struct pvd *pvd, struct ctl *c, struct machine *m)
{
	struct hv_worker *w = pvd->hv->worker;

	if (!w || !w->busy || w->nold == (int)(sizeof(w->old_c) / sizeof(w->old_c[0]))) {
		/* nothing can use them (or too many losses at once: wait for the thread) */
		if (w && w->busy)
			hv_worker_drain(pvd);
		ctl_close(c);
		machine_close(m);
		return;
	}
	w->old_c[w->nold] = c;
	w->old_m[w->nold++] = m;
}

/* Wait until every submitted job is done (pvd's exit); done() is run. */
void hv_worker_drain(struct pvd *pvd)
{
	struct hv_worker *w = pvd->hv ? pvd->hv->worker : NULL;

	while (w && w->busy) {
		usleep(1000);
		on_wake(w->wake_fd, EV_READ, pvd);
	}
}

void hv_worker_stop(struct pvd *pvd)
{
	struct hv_worker *w = pvd->hv ? pvd->hv->worker : NULL;

	if (!w)
		return;
	hv_worker_drain(pvd);
	pthread_mutex_lock(&w->lock);
	w->stop = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	close_retired(w);
	event_free(w->wake_ev);
	close(w->wake_fd);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	free(w);
	pvd->hv->worker = NULL;
}
