/* Host unit test of the guest console (hypervisor/common/console_io.c)
 * under the race of issue 13: two vCPUs of one domain on CONSOLEIO_write
 * and a CPU draining its PV console ring, all at once, on host threads.
 *
 * What must hold afterwards: every partial line and recent-line count
 * within its array, the domain fields behind the console state
 * untouched, every printed line at most one line buffer long, and no
 * byte the guest wrote lost or invented (counted per kind of byte).
 * A console without a lock lets two writers push the line length past
 * the buffer; the writes then land on the domain struct (AddressSanitizer
 * reports them once they leave it). */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <public/io/console.h>
#include "hv/domain.h"
#include "hv/errno.h"
#include "hv/guest_access.h"
#include "hv/hypercall.h"
#include "hv/printk.h"

#define ROUNDS     20000        /* writes per vCPU thread */
#define PIECE      61           /* bytes per write, no newline */
#define RING_LINES 4000         /* lines put on the ring */
#define LINE_MAX_PRINTED (DOMAIN_NAME_LEN + 160 + 8)

void console_drain_ring(struct domain *d);
void console_flush_domain(struct domain *d);
long do_console_io(uint64_t cmd, uint64_t count, uint64_t buffer);

/* --- What console_io.c links against, for the host. --- */
uint8_t *test_machine_memory;
static __thread struct vcpu *this_vcpu;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long printed[128], longest_line, lines_printed;

struct vcpu *current_vcpu(void)
{
    return this_vcpu;
}

/* Called in the spinlock's wait loop: host threads outnumber the CPUs,
 * so a waiter gives its CPU to whoever holds the ticket. */
void smp_service_flush(void)
{
    sched_yield();
}

size_t copy_raw_with_fixup(void *dst, const void *src, size_t n)
{
    memcpy(dst, src, n);
    return 0;
}

long hypercall_unimplemented(unsigned long nr, uint64_t subop)
{
    (void)nr;
    (void)subop;
    return -ENOSYS;
}

/* The hypervisor's own messages: here only the "ring indices corrupt"
 * warning could come, and a well-behaved ring must never cause it. */
static unsigned int warnings;
void printk(enum log_level lvl, const char *fmt, ...)
{
    (void)lvl;
    (void)fmt;
    __atomic_add_fetch(&warnings, 1, __ATOMIC_SEQ_CST);
}

/* The serial line is slow: each byte takes a while, as on the machine,
 * which is what leaves another CPU time to append meanwhile. */
void console_write(const char *s, size_t n)
{
    pthread_mutex_lock(&out_lock);
    for (size_t i = 0; i < n; i++) {
        for (volatile int spin = 0; spin < 200; spin++)
            ;
        printed[(uint8_t)s[i] & 127]++;
    }
    longest_line = n > longest_line ? n : longest_line;
    lines_printed++;
    pthread_mutex_unlock(&out_lock);
}

/* --- The test. --- */
struct fixture {
    struct domain d;
    struct domain guard;        /* what lies behind it, all 0x5a */
};
static struct fixture *fx;
static struct vcpu vcpus[2];
static struct xencons_interface *ring;
static volatile int writers_done;

static void *writer(void *arg)
{
    unsigned int id = (unsigned int)(uintptr_t)arg;
    char piece[PIECE];

    this_vcpu = &vcpus[id];
    memset(piece, id ? 'b' : 'a', sizeof(piece));
    for (unsigned int i = 0; i < ROUNDS; i++)
        if (do_console_io(CONSOLEIO_write, sizeof(piece), (uint64_t)(uintptr_t)piece))
            abort();
    __atomic_add_fetch(&writers_done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

/* The guest's side of the ring and the hypervisor's drain, both here:
 * lines of 'r' put on the ring while another thread drains it. */
static void *ring_feeder(void *arg)
{
    (void)arg;
    for (unsigned int line = 0; line < RING_LINES; line++) {
        const char text[] = "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr\n";
        for (size_t i = 0; i < sizeof(text) - 1;) {
            XENCONS_RING_IDX prod = ring->out_prod;
            if (prod - __atomic_load_n(&ring->out_cons, __ATOMIC_ACQUIRE) == sizeof(ring->out))
                continue;
            ring->out[prod % sizeof(ring->out)] = text[i++];
            __atomic_store_n(&ring->out_prod, prod + 1, __ATOMIC_RELEASE);
        }
    }
    return NULL;
}

static void *ring_drainer(void *arg)
{
    (void)arg;
    while (__atomic_load_n(&writers_done, __ATOMIC_SEQ_CST) < 3) {
        console_drain_ring(&fx->d);
        usleep(20);             /* as the idle loop, not back to back */
    }
    console_drain_ring(&fx->d);
    return NULL;
}

static void two_vcpus_and_the_ring_at_once(void **state)
{
    pthread_t t[4];
    (void)state;

    fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    memset(fx, 0, sizeof(*fx));
    memset(&fx->guard, 0x5a, sizeof(fx->guard));
    test_machine_memory = aligned_alloc(4096, 2 * 4096);
    assert_non_null(test_machine_memory);
    memset(test_machine_memory, 0, 2 * 4096);
    ring = (struct xencons_interface *)(test_machine_memory + 4096);
    snprintf(fx->d.name, sizeof(fx->d.name), "dom");      /* no a, b or r */
    fx->d.console_mfn = 1;
    fx->d.event_lock = (spinlock_t)SPINLOCK_INIT;
    fx->d.evtchn_buckets = (struct evtchn **)(uintptr_t)0x1234;
    fx->d.max_evtchns = 4096;
    for (unsigned int i = 0; i < 2; i++) {
        vcpus[i].id = i;
        vcpus[i].domain = &fx->d;
    }

    assert_int_equal(pthread_create(&t[0], NULL, writer, (void *)0), 0);
    assert_int_equal(pthread_create(&t[1], NULL, writer, (void *)1), 0);
    assert_int_equal(pthread_create(&t[2], NULL, ring_drainer, NULL), 0);
    ring_feeder(NULL);
    __atomic_add_fetch(&writers_done, 1, __ATOMIC_SEQ_CST);
    assert_int_equal(pthread_create(&t[3], NULL, ring_drainer, NULL), 0);
    for (unsigned int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    console_flush_domain(&fx->d);

    for (unsigned int s = 0; s < 2; s++) {
        assert_true(fx->d.console_src[s].len <= sizeof(fx->d.console_src[s].line));
        assert_true(fx->d.console_src[s].nr_recent <= ARRAY_SIZE(fx->d.console_src[s].recent));
    }
    assert_int_equal(fx->d.event_lock.next, 0);
    assert_int_equal(fx->d.event_lock.owner, 0);
    assert_ptr_equal(fx->d.evtchn_buckets, (struct evtchn **)(uintptr_t)0x1234);
    assert_int_equal(fx->d.max_evtchns, 4096);
    for (size_t i = 0; i < sizeof(fx->guard); i++)
        assert_int_equal(((uint8_t *)&fx->guard)[i], 0x5a);
    assert_true(longest_line <= LINE_MAX_PRINTED);
    /* Every byte written, printed once: a and b have no newline, so no
     * line of theirs is a repeat; ring lines may be dropped as repeats of
     * a console_io line only, which never has an 'r'. */
    assert_int_equal(printed['a'], (unsigned long)ROUNDS * PIECE);
    assert_int_equal(printed['b'], (unsigned long)ROUNDS * PIECE);
    assert_int_equal(ring->out_cons, ring->out_prod);
    assert_int_equal(warnings, 0);
    printf("# %lu lines printed, longest %lu bytes; %lu ring bytes\n", lines_printed,
           longest_line, printed['r']);
    free(test_machine_memory);
    free(fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_vcpus_and_the_ring_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
