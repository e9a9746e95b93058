/* Credit scheduler policy: see hv/sched_credit.h for the model.
 *
 * Owns: the per-CPU run queues, vCPU credits, domains' cap budgets.
 * Invariants: a vCPU is on at most one run queue (v->on_runq, v->sched_cpu);
 * a loaded vCPU (processor >= 0) is never on a run queue, and one taken
 * from a queue to run is claimed (processor set) before it leaves it, so
 * it is never queued again on its way to the CPU; credits stay
 * within [-(a few slices), CREDIT_INIT].
 * Locking: runq[cpu].lock protects the queue and the on_runq/sched_cpu of
 * the vCPUs on it; two queues are locked lower CPU first; insert_lock
 * (csched_insert only) is taken before a queue lock. Credits and cap
 * budgets are changed by the CPU running the vCPU (burn) or under the
 * queue lock (reset), with interrupts off. */
#include "asm/percpu.h"
#include "hv/errno.h"
#include "hv/lib.h"
#include "hv/printk.h"
#include "hv/sched_credit.h"
#include "hv/smp.h"
#include "hv/timer.h"

#define WEIGHT_REF 256ULL       /* the default weight burns 1:1 */

struct runq {
    spinlock_t lock;
    struct list_head head;
};

static struct runq runqs[NR_CPUS];

void csched_init(void)
{
    for (unsigned int c = 0; c < NR_CPUS; c++) {
        runqs[c].lock = (spinlock_t)SPINLOCK_INIT;
        list_init(&runqs[c].head);
    }
}

static unsigned int online_vcpus(const struct domain *d)
{
    unsigned int n = 0;
    for (unsigned int i = 0; i < d->nr_vcpus; i++)
        n += d->vcpus[i] && d->vcpus[i]->state != VCPU_DOWN;
    return n ? n : 1;
}

/* A vCPU's weight in 1/1024ths: its domain's weight shared by its vCPUs. */
static uint64_t vcpu_weight(const struct vcpu *v)
{
    uint64_t w = (uint64_t)v->domain->weight * 1024 / online_vcpus(v->domain);
    return w ? w : 1;
}

static uint64_t cap_period_of(uint64_t now)
{
    return now / CAP_PERIOD_NS;
}

/* Refill a capped domain's budget when a new period has started. Debt
 * from overrunning the last one is carried, so the long-run rate is exact. */
static void cap_refill(struct domain *d, uint64_t now)
{
    uint64_t p = cap_period_of(now);
    if (!d->cap || d->cap_period == p)
        return;
    int64_t budget = (int64_t)(CAP_PERIOD_NS * d->cap / 100);
    d->cap_budget_ns = MIN(d->cap_budget_ns, 0) + budget;
    d->cap_period = p;
}

static bool parked(struct vcpu *v, uint64_t now)
{
    struct domain *d = v->domain;
    cap_refill(d, now);
    return d->cap && d->cap_budget_ns <= 0;
}

void csched_burn(struct vcpu *v, uint64_t ns, uint64_t now)
{
    v->credit -= (int64_t)(ns * WEIGHT_REF * 1024 / vcpu_weight(v));
    if (v->credit < -(int64_t)(4 * MAX_SLICE_NS))
        v->credit = -(int64_t)(4 * MAX_SLICE_NS);
    if (v->domain->cap) {
        cap_refill(v->domain, now);
        v->domain->cap_budget_ns -= (int64_t)ns;
    }
}

/* Weight queued on cpu and running there; the queue's lock held (a walk
 * without it can be left on a node list_del just pointed at itself). */
static uint64_t queued_weight_locked(unsigned int cpu)
{
    uint64_t w = 0;
    struct list_head *pos;
    list_for_each(pos, &runqs[cpu].head)
        w += vcpu_weight(list_entry(pos, struct vcpu, runq_link));
    struct vcpu *curr = percpu[cpu].curr;
    if (curr)
        w += vcpu_weight(curr);
    return w;
}

static uint64_t queued_weight(unsigned int cpu)
{
    uint64_t f = spin_lock_irqsave(&runqs[cpu].lock);
    uint64_t w = queued_weight_locked(cpu);
    spin_unlock_irqrestore(&runqs[cpu].lock, f);
    return w;
}

/* v is served by cpu from now on; its timers move with it. */
static void set_sched_cpu(struct vcpu *v, unsigned int cpu)
{
    unsigned int was = v->sched_cpu;

    v->sched_cpu = cpu;                 /* before the flag: the walk it causes sees v */
    if (was != cpu)
        timers_vcpu_moved(v, cpu);
}

static void runq_add_locked(unsigned int cpu, struct vcpu *v)
{
    list_add_tail(&v->runq_link, &runqs[cpu].head);
    v->on_runq = true;
    set_sched_cpu(v, cpu);
}

static void runq_del_locked(struct vcpu *v)
{
    list_del(&v->runq_link);
    __atomic_store_n(&v->on_runq, false, __ATOMIC_RELEASE);
}

/* Take v off its queue to run it on cpu (lock held). It is claimed
 * (processor = cpu) before it leaves the queue, so that between here and
 * context_switch nobody sees it neither queued nor loaded: csched_insert
 * would queue it again (a waker, or the CPU that unloaded it) and a second
 * CPU would run the same vCPU (seen as stack and register corruption in
 * two domains exchanging events on two CPUs). */
static void runq_take_locked(struct vcpu *v, unsigned int cpu, uint64_t now)
{
    v->last_start_ns = now;         /* readers of a loaded vCPU's time add now - this */
    __atomic_store_n(&v->processor, (int)cpu, __ATOMIC_RELEASE);
    runq_del_locked(v);
}

/* Give back a vCPU taken but not run (lock held). */
static void runq_untake_locked(struct vcpu *v, unsigned int cpu)
{
    __atomic_store_n(&v->processor, -1, __ATOMIC_RELEASE);
    runq_add_locked(cpu, v);
}

void csched_remove(struct vcpu *v)
{
    for (;;) {
        unsigned int cpu = v->sched_cpu;
        uint64_t f = spin_lock_irqsave(&runqs[cpu].lock);
        if (v->sched_cpu == cpu) {
            if (v->on_runq)
                runq_del_locked(v);
            spin_unlock_irqrestore(&runqs[cpu].lock, f);
            return;
        }
        spin_unlock_irqrestore(&runqs[cpu].lock, f);   /* moved meanwhile */
    }
}

/* Where should a waking vCPU go: its last CPU if idle, else an idle CPU,
 * else the CPU with the least weight queued. */
static unsigned int choose_cpu(struct vcpu *v)
{
    unsigned int best = v->sched_cpu < nr_cpus_online ? v->sched_cpu : 0;
    if (!percpu[best].curr && list_empty(&runqs[best].head))
        return best;
    uint64_t best_w = UINT64_MAX;
    for (unsigned int c = 0; c < nr_cpus_online; c++) {
        if (!percpu[c].curr && list_empty(&runqs[c].head))
            return c;
        uint64_t w = queued_weight(c);
        if (w < best_w) {
            best_w = w;
            best = c;
        }
    }
    return best;
}

/* Serialises csched_insert: two CPUs queueing the same vCPU at once (a
 * waker and the CPU that just unloaded it) may choose different queues,
 * whose locks alone would let both add it. */
static spinlock_t insert_lock = SPINLOCK_INIT;

void csched_insert(struct vcpu *v)
{
    uint64_t fi = spin_lock_irqsave(&insert_lock);
    if (__atomic_load_n(&v->on_runq, __ATOMIC_ACQUIRE) ||
        __atomic_load_n(&v->processor, __ATOMIC_ACQUIRE) >= 0) {
        spin_unlock_irqrestore(&insert_lock, fi);
        return;
    }
    unsigned int cpu = choose_cpu(v);
    uint64_t f = spin_lock_irqsave(&runqs[cpu].lock);
    runq_add_locked(cpu, v);
    spin_unlock_irqrestore(&runqs[cpu].lock, f);
    spin_unlock_irqrestore(&insert_lock, fi);

    /* Tickle: an idle CPU picks it up; a busy one preempts if v has more
     * credit than what runs there (a vCPU back from block has). */
    struct vcpu *curr = percpu[cpu].curr;
    if (!curr || curr->credit < v->credit)
        smp_send_resched(cpu);
}

/* Best non-parked vCPU on cpu's queue (lock held). */
static struct vcpu *best_queued(unsigned int cpu, uint64_t now)
{
    struct vcpu *best = NULL;
    struct list_head *pos;
    list_for_each(pos, &runqs[cpu].head) {
        struct vcpu *v = list_entry(pos, struct vcpu, runq_link);
        if (parked(v, now))
            continue;
        if (!best || v->credit > best->credit)
            best = v;
    }
    return best;
}

static void reset_credits(unsigned int cpu, struct vcpu *running)
{
    struct list_head *pos;
    list_for_each(pos, &runqs[cpu].head) {
        struct vcpu *v = list_entry(pos, struct vcpu, runq_link);
        v->credit = MIN(v->credit + CREDIT_INIT_NS, CREDIT_INIT_NS);
    }
    if (running)
        running->credit = MIN(running->credit + CREDIT_INIT_NS, CREDIT_INIT_NS);
}

/* Take the best waiting vCPU from another CPU if `want` says so. */
static struct vcpu *steal(unsigned int cpu, uint64_t now, uint64_t my_weight, bool idle)
{
    for (unsigned int c = 0; c < nr_cpus_online; c++) {
        if (c == cpu)
            continue;
        unsigned int lo = MIN(c, cpu), hi = MAX(c, cpu);
        uint64_t f = spin_lock_irqsave(&runqs[lo].lock);
        spin_lock(&runqs[hi].lock);
        struct vcpu *v = best_queued(c, now);
        /* Busy CPUs only take work that narrows the weight difference. */
        if (v && !idle) {
            uint64_t theirs = queued_weight_locked(c);
            if (!(theirs > my_weight && vcpu_weight(v) < theirs - my_weight))
                v = NULL;
        }
        if (v)
            runq_take_locked(v, cpu, now);
        spin_unlock(&runqs[hi].lock);
        spin_unlock_irqrestore(&runqs[lo].lock, f);
        if (v) {
            set_sched_cpu(v, cpu);
            return v;
        }
    }
    return NULL;
}

static uint64_t slice_for(struct vcpu *v, unsigned int cpu, uint64_t now)
{
    uint64_t slice = MAX_SLICE_NS;
    /* Run until the next best would be ahead (credit difference in ns). */
    struct vcpu *next = best_queued(cpu, now);
    if (next && v->credit > next->credit) {
        uint64_t diff = (uint64_t)(v->credit - next->credit);
        uint64_t ns = diff * vcpu_weight(v) / (WEIGHT_REF * 1024);
        slice = MIN(slice, MAX(ns, MIN_SLICE_NS));
    } else if (next) {
        slice = MIN_SLICE_NS;
    }
    if (v->domain->cap && v->domain->cap_budget_ns > 0)
        slice = MIN(slice, (uint64_t)v->domain->cap_budget_ns);
    return slice;
}

struct vcpu *csched_pick(unsigned int cpu, struct vcpu *prev, uint64_t now, uint64_t *slice)
{
    uint64_t f = spin_lock_irqsave(&runqs[cpu].lock);
    struct vcpu *best = best_queued(cpu, now);
    bool prev_ok = prev && !parked(prev, now);

    if (prev_ok && (!best || prev->credit >= best->credit))
        best = prev;
    if (best && best->credit <= 0) {
        reset_credits(cpu, prev);
        best = best_queued(cpu, now);
        if (prev_ok && (!best || prev->credit >= best->credit))
            best = prev;
    }
    if (best && best != prev)
        runq_take_locked(best, cpu, now);
    spin_unlock_irqrestore(&runqs[cpu].lock, f);

    /* Balance: idle CPUs steal; a CPU with less queued weight may take one
     * over (only when it would otherwise run an out-of-credit vCPU). */
    if (!best) {
        best = steal(cpu, now, 0, true);
    } else if (nr_cpus_online > 1 && best->credit <= CREDIT_INIT_NS / 2) {
        struct vcpu *v = steal(cpu, now, queued_weight(cpu), false);
        if (v) {
            if (best != prev) {
                f = spin_lock_irqsave(&runqs[cpu].lock);
                runq_untake_locked(best, cpu);
                spin_unlock_irqrestore(&runqs[cpu].lock, f);
            }
            best = v;
        }
    }
    if (best) {
        set_sched_cpu(best, cpu);
        f = spin_lock_irqsave(&runqs[cpu].lock);
        *slice = slice_for(best, cpu, now);
        spin_unlock_irqrestore(&runqs[cpu].lock, f);
    }
    return best;
}

bool csched_has_work(unsigned int cpu, uint64_t now)
{
    for (unsigned int c = 0; c < nr_cpus_online; c++) {
        uint64_t f = spin_lock_irqsave(&runqs[c].lock);
        bool work = best_queued(c, now) != NULL;
        spin_unlock_irqrestore(&runqs[c].lock, f);
        if (work)
            return true;
    }
    return false;
}

bool csched_should_preempt(unsigned int cpu, struct vcpu *curr, uint64_t now)
{
    if (parked(curr, now))
        return true;
    uint64_t f = spin_lock_irqsave(&runqs[cpu].lock);
    struct vcpu *best = best_queued(cpu, now);
    bool pre = best && best->credit > curr->credit;
    spin_unlock_irqrestore(&runqs[cpu].lock, f);
    return pre;
}

int csched_set_params(struct domain *d, unsigned int weight, unsigned int cap)
{
    if (weight < 1 || weight > 65535 || cap > 100 * d->nr_vcpus)
        return -EINVAL;
    d->weight = weight;
    d->cap = cap;
    d->cap_period = 0;
    d->cap_budget_ns = 0;
    return 0;
}
