/* Host unit tests of the credit scheduler's policy (common/sched_credit.c),
 * linked as it is, with hv/spinlock.h's ticket locks (interrupt masking a
 * no-op: tests/unit/evtchn/shim), two CPUs and a stand-in for the rest of
 * the hypervisor.
 *
 * The untake test: CPU 0 takes a vCPU from its own queue to run it, then
 * steals a better one from CPU 1 and gives the first back. Between the
 * take and the give-back the first vCPU's domain is shut down on another
 * CPU (domain_shutdown: state, then csched_remove, which finds the vCPU
 * off every queue because it is claimed). The steal's move of the stolen
 * vCPU's timers (timers_vcpu_moved, called between the two) is where the
 * test does that shutdown, so the interleaving is exact. The vCPU given
 * back must not be queued: before the fix it was put back unchecked, and
 * a shut-down domain's vCPU sat on a run queue while its domain was
 * destroyed and freed (domain.c's "still loaded or queued" ASSERT in
 * tests/guests/lifetime_test.sh, about one run in ten with the direct
 * vCPU switch). The same for a vCPU taken down (VCPUOP_down) meanwhile;
 * and with nothing in the way it goes back on its queue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "asm/percpu.h"
#include "hv/domain.h"
#include "hv/lib.h"
#include "hv/sched_credit.h"
#include "hv/schedule.h"
#include "hv/smp.h"
#include "hv/timer.h"

/* What the rest of the hypervisor provides to sched_credit.c. */
struct percpu percpu[NR_CPUS];
unsigned int nr_cpus_online = 2;

void smp_send_resched(unsigned int cpu)
{
    (void)cpu;
}

void smp_service_flush(void)
{
}

static struct domain victim, other;
static struct vcpu vv, w, x;        /* vv: victim's; w, x: other's */

enum meanwhile { NOTHING, SHUTDOWN, DOWN };
static enum meanwhile meanwhile;

/* Called by the steal, between the take of vv and its give-back. */
void timers_vcpu_moved(struct vcpu *v, unsigned int cpu)
{
    if (v != &w || cpu != 0)
        return;
    if (meanwhile == SHUTDOWN) {            /* domain_shutdown's order */
        victim.state = DOM_SHUTDOWN;
        csched_remove(&vv);
        vv.state = VCPU_PAUSED;
    } else if (meanwhile == DOWN) {         /* vcpu_down's */
        __atomic_store_n(&vv.down, true, __ATOMIC_SEQ_CST);
        csched_remove(&vv);
    }
}

static void vcpu_setup(struct vcpu *v, struct domain *d, int64_t credit)
{
    memset(v, 0, sizeof(*v));
    v->domain = d;
    v->state = VCPU_RUNNABLE;
    v->processor = -1;
    v->credit = credit;
    list_init(&v->runq_link);
}

/* CPU 0 queues vv with little credit left (a steal is considered); CPU 1
 * runs x and queues w (more weight than CPU 0: the steal takes w). */
static void setup(void)
{
    memset(percpu, 0, sizeof(percpu));
    for (unsigned int c = 0; c < 2; c++)
        percpu[c].id = c;
    csched_init();
    memset(&victim, 0, sizeof(victim));
    memset(&other, 0, sizeof(other));
    victim.state = other.state = DOM_RUNNING;
    victim.weight = other.weight = 256;
    victim.nr_vcpus = 1;
    victim.vcpus[0] = &vv;
    other.nr_vcpus = 2;
    other.vcpus[0] = &w;
    other.vcpus[1] = &x;
    vcpu_setup(&vv, &victim, CREDIT_INIT_NS / 4);
    vcpu_setup(&w, &other, CREDIT_INIT_NS);
    vcpu_setup(&x, &other, CREDIT_INIT_NS);
    vv.sched_cpu = 0;
    w.sched_cpu = 1;
    x.processor = 1;
    percpu[1].curr = &x;
    csched_insert(&vv);
    csched_insert(&w);
    assert_true(vv.on_runq && vv.sched_cpu == 0);
    assert_true(w.on_runq && w.sched_cpu == 1);
}

static struct vcpu *pick_on_cpu0(enum meanwhile what)
{
    uint64_t slice;
    meanwhile = what;
    struct vcpu *next = csched_pick(0, NULL, 1000, &slice);
    meanwhile = NOTHING;
    assert_ptr_equal(next, &w);             /* the stolen one runs */
    assert_int_equal(w.processor, 0);
    assert_false(w.on_runq);
    assert_int_equal(vv.processor, -1);     /* vv was given back... */
    return next;
}

static void test_untake_after_shutdown(void **state)
{
    (void)state;
    setup();
    pick_on_cpu0(SHUTDOWN);
    assert_false(vv.on_runq);               /* ...but not queued: it may not run */
    assert_false(csched_has_work(0, 2000)); /* nothing left to take */
}

static void test_untake_after_down(void **state)
{
    (void)state;
    setup();
    pick_on_cpu0(DOWN);
    assert_false(vv.on_runq);
}

static void test_untake_requeues(void **state)
{
    (void)state;
    setup();
    pick_on_cpu0(NOTHING);
    assert_true(vv.on_runq);                /* nothing changed: back on CPU 0 */
    assert_int_equal(vv.sched_cpu, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_untake_after_shutdown),
        cmocka_unit_test(test_untake_after_down),
        cmocka_unit_test(test_untake_requeues),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
