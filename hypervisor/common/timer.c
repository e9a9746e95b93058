/* Guest time: vcpu_time_info, the wallclock, vCPU timers and poll timeouts
 * (see hv/timer.h).
 *
 * Owns: the boot wallclock, the deadlines in struct vcpu (timer_deadline,
 * periodic_*, poll_deadline) and when the LAPIC timer fires.
 * Deadlines are absolute system time (ns). A deadline already in the past
 * fires at the next timers_run. Walking the vCPUs is O(domains * vCPUs)
 * over the domains that exist (domain_live), never over the id space, and
 * happens only when something may be due: each CPU keeps a lower bound of
 * its vCPUs' deadlines (percpu.timer_next_ns, lowered at once when a
 * deadline is set on it, exact after a walk), so the heartbeat and every
 * schedule() re-arm from the bound alone; a walk runs when the bound is
 * reached or when the bound cannot be trusted (timer_rescan: a vCPU moved
 * to this CPU, another CPU set a deadline of one of ours, a domain was
 * unpaused). With 1,000 idle domains a walk at every schedule() made each
 * creation cost 2.5 times the CPU of the first.
 * A vCPU's deadlines are served by one CPU: the one whose run queue the
 * vCPU belongs to (v->sched_cpu), where it runs when it sets them, so
 * arming is local; two CPUs never fire the same timer. A vCPU that moves
 * is picked up by its new CPU's next re-arm (it is tickled on the move).
 * Locking: deadlines are written by the vCPU itself (hypercalls) and read
 * here with interrupts off. */
#include <public/vcpu.h>
#include <public/sched.h>
#include "asm/cpu.h"
#include "asm/percpu.h"
#include "hv/apic.h"
#include "hv/control.h"
#include "hv/event.h"
#include "hv/hypercall.h"
#include "hv/guest_access.h"
#include "hv/lib.h"
#include "hv/printk.h"
#include "hv/schedule.h"
#include "hv/smp.h"
#include "hv/time.h"
#include "hv/timer.h"

#define HEARTBEAT_NS  (10 * NSEC_PER_MSEC)
#define MIN_PERIOD_NS (100 * NSEC_PER_USEC)

static uint64_t boot_wallclock_sec;     /* Unix time at system time 0 */

static uint8_t cmos_read(uint8_t reg)
{
    outb(0x70, reg);
    return inb(0x71);
}

static unsigned int bcd(uint8_t v, bool is_bcd)
{
    return is_bcd ? (v & 0xf) + (v >> 4) * 10 : v;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static uint64_t days_since_epoch(unsigned int y, unsigned int m, unsigned int d)
{
    y -= m <= 2;
    uint64_t era = y / 400, yoe = y - era * 400;
    uint64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    uint64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void wallclock_init(void)
{
    /* Wait for an update to finish so the fields are consistent. */
    for (int i = 0; i < 100000 && (cmos_read(0x0a) & 0x80); i++)
        cpu_relax();
    uint8_t fmt = cmos_read(0x0b);
    bool is_bcd = !(fmt & 0x04);
    unsigned int sec = bcd(cmos_read(0x00), is_bcd);
    unsigned int min = bcd(cmos_read(0x02), is_bcd);
    uint8_t hr_raw = cmos_read(0x04);
    unsigned int hour = bcd(hr_raw & 0x7f, is_bcd);
    unsigned int day = bcd(cmos_read(0x07), is_bcd);
    unsigned int mon = bcd(cmos_read(0x08), is_bcd);
    unsigned int year = bcd(cmos_read(0x09), is_bcd) + 2000;
    if (!(fmt & 0x02) && (hr_raw & 0x80))   /* 12-hour clock, PM */
        hour = (hour % 12) + 12;
    if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) {
        pr_warn("time: RTC reads %u-%u-%u %u:%u:%u, not a date; wallclock starts at 0",
                year, mon, day, hour, min, sec);
        return;
    }
    uint64_t now = days_since_epoch(year, mon, day) * 86400 + hour * 3600 + min * 60 + sec;
    boot_wallclock_sec = now - now_ns() / NSEC_PER_SEC;
    pr_info("time: RTC %04u-%02u-%02u %02u:%02u:%02u UTC", year, mon, day, hour, min, sec);
}

void domain_set_wallclock(struct domain *d)
{
    struct shared_info *si = d->shared_info;
    si->wc_version++;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    si->wc_sec = (uint32_t)boot_wallclock_sec;
    si->wc_sec_hi = (uint32_t)(boot_wallclock_sec >> 32);
    si->wc_nsec = 0;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    si->wc_version++;
}

void vcpu_update_time(struct vcpu *v)
{
    struct vcpu_time_info *t = &v->vcpu_info->time;
    uint64_t mul = (1000000ULL << 32) / tsc_khz();
    int shift = 0;
    while (mul >= (1ULL << 32)) {           /* slow TSC: scale the delta up */
        mul >>= 1;
        shift++;
    }
    /* One TSC reading for both: a second one (now_ns()) taken a little
     * later made system_time run ahead of tsc_timestamp by a gap that
     * varies, so the guest's time went back by the difference of two
     * such gaps at the next update (timer test: ~100 ns, under load). */
    uint64_t tsc = rdtsc();
    t->version++;                           /* odd: update in progress */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    t->tsc_timestamp = tsc;
    t->system_time = tsc_to_system_ns(tsc);
    t->tsc_to_system_mul = (uint32_t)mul;
    t->tsc_shift = (int8_t)shift;
    t->flags = XEN_PVCLOCK_TSC_STABLE_BIT;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    t->version++;
}

void vcpu_update_time_area(struct vcpu *v)
{
    uint64_t va = v->time_area_guest_va;
    struct vcpu_time_info t = v->vcpu_info->time;
    uint32_t version = t.version | 1;

    if (!va)
        return;
    /* As Xen: a bad area only fails the copies (the guest chose it). */
    copy_to_guest(va + offsetof(struct vcpu_time_info, version), &version, sizeof(version));
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    t.version = version;
    copy_to_guest(va, &t, sizeof(t));
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    version++;
    copy_to_guest(va + offsetof(struct vcpu_time_info, version), &version, sizeof(version));
}

static void fire_due(struct vcpu *v, uint64_t now)
{
    if (v->timer_deadline && v->timer_deadline <= now) {
        v->timer_deadline = 0;
        send_virq(v, VIRQ_TIMER);
    }
    if (v->periodic_period && v->periodic_next <= now) {
        send_virq(v, VIRQ_TIMER);
        v->periodic_next += v->periodic_period;
        if (v->periodic_next <= now)        /* fell behind: skip, no burst */
            v->periodic_next = now + v->periodic_period;
    }
    if (v->poll_deadline && v->poll_deadline <= now && v->state == VCPU_BLOCKED) {
        v->poll_deadline = 0;
        v->nr_poll_ports = 0;
        vcpu_wake(v);
    }
}

/* v's earliest deadline, UINT64_MAX if none. */
static uint64_t earliest(const struct vcpu *v)
{
    uint64_t next = UINT64_MAX;

    if (v->timer_deadline && v->timer_deadline < next)
        next = v->timer_deadline;
    if (v->periodic_period && v->periodic_next < next)
        next = v->periodic_next;
    if (v->poll_deadline && v->poll_deadline < next)
        next = v->poll_deadline;
    return next;
}

/* Walk the vCPUs this CPU serves: fire what is due (fire), and make the
 * bound exact. The flag is cleared first: one set during the walk is for
 * a change the walk may have missed, and makes the next re-arm walk. */
static void walk(struct percpu *pc, uint64_t now, bool fire)
{
    uint64_t next = UINT64_MAX;
    struct domain *d;

    __atomic_store_n(&pc->timer_rescan, false, __ATOMIC_SEQ_CST);
    for (unsigned int n = 0; (d = get_domain_live(n)); n++) {
        if (d->state == DOM_RUNNING)
            for (unsigned int i = 0; i < d->nr_vcpus; i++) {
                struct vcpu *v = d->vcpus[i];
                if (v->sched_cpu != pc->id)
                    continue;
                if (fire)
                    fire_due(v, now);
                uint64_t e = earliest(v);
                if (e < next)
                    next = e;
            }
        put_domain(d);
    }
    pc->timer_next_ns = next;
}

static bool must_walk(const struct percpu *pc)
{
    return !pc->timer_next_ns || __atomic_load_n(&pc->timer_rescan, __ATOMIC_ACQUIRE);
}

void timers_reprogram(void)
{
    struct percpu *pc = this_cpu();
    uint64_t now = now_ns();
    uint64_t next = now + HEARTBEAT_NS;

    if (must_walk(pc))
        walk(pc, now, false);
    if (pc->timer_next_ns < next)
        next = pc->timer_next_ns;
    if (pc->curr && pc->slice_end_ns && pc->slice_end_ns < next)
        next = pc->slice_end_ns;
    lapic_timer_oneshot(next > now ? next - now : 1);
    pc->timer_armed_ns = next > now ? next : now + 1;
}

void timers_run(void)
{
    struct percpu *pc = this_cpu();
    uint64_t now = now_ns();

    if (must_walk(pc) || now >= pc->timer_next_ns)
        walk(pc, now, true);
    if (pc->id == 0)
        control_poll();
    sched_tick();
    timers_reprogram();
}

void timers_vcpu_moved(struct vcpu *v, unsigned int cpu)
{
    (void)v;
    __atomic_store_n(&percpu[cpu].timer_rescan, true, __ATOMIC_SEQ_CST);
}

/* v's deadline changed: the CPU that serves v's timers lowers its bound
 * and re-arms. The LAPIC fires at timer_armed_ns at the latest, and
 * timers_run re-arms then, so a deadline no earlier than that (a timer
 * moved later or cancelled, the common set_timer_op) needs no LAPIC
 * writes now: the timer may fire early once, finding nothing due. */
static void deadline_changed(struct vcpu *v)
{
    struct percpu *pc = this_cpu();

    __atomic_thread_fence(__ATOMIC_SEQ_CST);    /* the deadline out before sched_cpu is read */
    if (v->sched_cpu != pc->id) {
        timers_vcpu_moved(v, v->sched_cpu);
        smp_send_timer_kick(v->sched_cpu);
        return;
    }
    uint64_t e = earliest(v);
    if (e < pc->timer_next_ns)
        pc->timer_next_ns = e;
    if (pc->timer_armed_ns && e >= pc->timer_armed_ns)
        return;
    timers_reprogram();
}

void timers_domain_runs(struct domain *d)
{
    for (unsigned int i = 0; i < d->nr_vcpus; i++)
        if (earliest(d->vcpus[i]) != UINT64_MAX)
            deadline_changed(d->vcpus[i]);
}

long do_set_timer_op(uint64_t timeout)
{
    struct vcpu *v = current;
    v->timer_deadline = timeout;            /* 0 cancels; the past fires now */
    if (timeout && timeout <= now_ns()) {
        v->timer_deadline = 0;
        send_virq(v, VIRQ_TIMER);
    }
    deadline_changed(v);
    return 0;
}

long vcpu_timer_op(struct vcpu *v, unsigned int cmd, uint64_t arg)
{
    switch (cmd) {
    case VCPUOP_set_singleshot_timer: {
        struct vcpu_set_singleshot_timer t;
        if (copy_from_guest(&t, arg, sizeof(t)))
            return -EFAULT;
        if ((t.flags & VCPU_SSHOTTMR_future) && t.timeout_abs_ns < now_ns())
            return -ETIME;
        v->timer_deadline = t.timeout_abs_ns ? t.timeout_abs_ns : 1;
        break;
    }
    case VCPUOP_stop_singleshot_timer:
        v->timer_deadline = 0;
        break;
    case VCPUOP_set_periodic_timer: {
        struct vcpu_set_periodic_timer t;
        if (copy_from_guest(&t, arg, sizeof(t)))
            return -EFAULT;
        if (t.period_ns < MIN_PERIOD_NS)
            return -EINVAL;
        v->periodic_period = t.period_ns;
        v->periodic_next = now_ns() + t.period_ns;
        break;
    }
    case VCPUOP_stop_periodic_timer:
        v->periodic_period = 0;
        break;
    default:
        return hypercall_unimplemented(__HYPERVISOR_vcpu_op, cmd);
    }
    deadline_changed(v);
    return 0;
}

long sched_poll(struct vcpu *v, uint64_t arg)
{
    struct sched_poll p;
    uint32_t ports[ARRAY_SIZE(v->poll_ports)];
    struct domain *d = v->domain;

    if (copy_from_guest(&p, arg, sizeof(p)))
        return -EFAULT;
    if (p.nr_ports > ARRAY_SIZE(ports))
        return -EINVAL;
    if (p.nr_ports && copy_from_guest(ports, p.ports, p.nr_ports * sizeof(uint32_t)))
        return -EFAULT;
    for (unsigned int i = 0; i < p.nr_ports; i++)
        if (ports[i] >= d->max_evtchns)
            return -EINVAL;

    memcpy(v->poll_ports, ports, p.nr_ports * sizeof(uint32_t));
    v->nr_poll_ports = p.nr_ports;
    if (p.nr_ports && vcpu_poll_satisfied(v)) {
        v->nr_poll_ports = 0;
        return 0;
    }
    if (p.timeout && p.timeout <= now_ns()) {
        v->nr_poll_ports = 0;
        return 0;
    }
    v->poll_deadline = p.timeout;
    if (p.timeout)
        deadline_changed(v);
    v->state = VCPU_BLOCKED;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (vcpu_poll_satisfied(v)) {            /* raced with a sender */
        v->state = VCPU_RUNNABLE;
        v->nr_poll_ports = 0;
        v->poll_deadline = 0;
        return 0;
    }
    sched_request();
    return 0;
}
