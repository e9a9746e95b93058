/*
 * xenstore_loop test kernel: a xenstore request loop that checks every
 * reply, for the SIGKILL test of pvd (tests/xenstore/xenstore_sigkill.sh).
 * For `seconds=` (default 30): write data/k = n, read it back (must be n),
 * every 8th round through a transaction; a watch on data/k must deliver
 * exactly one event per write (plus the first). xenbus_request checks that
 * each reply answers the request just sent (a lost or repeated reply is a
 * mismatch or a timeout). At the end: rounds, events and the value.
 */
#include "evtime.h"
#include "xenbus.h"

const char test_name[] = "xenstore_loop";

static unsigned events;

static void take_events(void)
{
    char p[64], t[16];

    while (xenbus_wait_event(p, sizeof(p), t, sizeof(t), 0) == 0)
        if (!strncmp(p, "data/k", 7) && !strncmp(t, "loop", 5))
            events++;
}

void test_main(void)
{
    uint64_t end = system_time() + cmdline_u64("seconds", 30) * NSEC_PER_SEC;
    char v[32], want[32];
    unsigned n;

    if (!test_ok(xenbus_init() == 0, "xenbus_init"))
        return;
    if (!test_eq(xenbus_watch("data/k", "loop"), 0, "watch data/k"))
        return;
    for (n = 1; system_time() < end; n++) {
        long rc;
        snprintf(want, sizeof(want), "%u", n);
        if (n % 8 == 0) {
            uint32_t tx;
            do {
                rc = xenbus_transaction_start(&tx);
                if (rc == 0)
                    rc = xenbus_write(tx, "data/k", want);
                if (rc == 0)
                    rc = xenbus_transaction_end(tx, true);
            } while (rc == -XB_EAGAIN);
        } else {
            rc = xenbus_write(0, "data/k", want);
        }
        if (!test_eq(rc, 0, "round %u: write", n))
            return;
        rc = xenbus_read(0, "data/k", v, sizeof(v));
        if (!test_eq(rc, 0, "round %u: read", n))
            return;
        if (!test_ok(!strncmp(v, want, sizeof(v)), "round %u: read %s, wrote %s", n, v, want))
            return;
        take_events();
    }
    n--;
    {
        char p[64], t[16];
        while (xenbus_wait_event(p, sizeof(p), t, sizeof(t), NSEC_PER_SEC) == 0)
            if (!strncmp(p, "data/k", 7))
                events++;
    }
    printk("xenstore_loop: %u rounds, %u watch events\n", n, events);
    test_eq(events, n + 1, "one watch event per write, plus the first");
}
