/*
 * Test kernel: two vCPUs writing the hypervisor console at once
 * (issue 13, "Console line buffer race").
 *
 * vCPU 0 and vCPU 1 loop on CONSOLEIO_write for `ms=` milliseconds of
 * system time (default 1500), each call a piece of a line without its
 * newline, so both keep appending to the domain's partial line and
 * reaching its end together; every few calls one of them ends the line.
 * vCPU 1 also writes the PV console ring, which the hypervisor drains
 * (boot-loader mode) into the same domain's other partial line.
 *
 * A hypervisor whose line buffer is not guarded lets the two vCPUs push
 * its length past the end and write these bytes over the domain struct
 * behind it (its event lock and event-channel buckets): the event
 * channel checks after the hammering then fault, hang, or find the
 * ports changed. The host script also checks that no printed line is
 * longer than the hypervisor's line buffer. Needs `vcpus=2`.
 */
#include "evtime.h"
#include "pvconsole.h"

const char test_name[] = "console_race";

#define PIECE    61             /* bytes per write: not a divisor of a line */
#define NL_EVERY 7              /* every 7th write of vCPU 0 ends the line */

static volatile uint64_t hammer_end;
static volatile uint64_t writes[2];
static volatile long first_error[2];
static volatile bool in_write[2];
static volatile uint64_t overlaps;      /* writes of vCPU 0 during one of vCPU 1 */

static void hammer(unsigned int id)
{
    char piece[PIECE + 1];
    uint64_t n = 0;

    /* Printable bytes that are no canonical address when read as one. */
    for (unsigned int i = 0; i < PIECE; i++)
        piece[i] = (char)(id ? 'a' + i % 26 : 'A' + i % 26);
    while (system_time() < hammer_end) {
        unsigned int len = PIECE;

        piece[PIECE] = '\n';
        if (id == 0 && n % NL_EVERY == NL_EVERY - 1)
            len = PIECE + 1;
        in_write[id] = true;
        bool other_before = in_write[!id];
        long rc = hypercall_console_io(CONSOLEIO_write, len, piece);
        if (id == 0 && other_before && in_write[1])
            overlaps++;
        in_write[id] = false;
        if (rc && !first_error[id])
            first_error[id] = rc;
        if (id == 1 && n % 16 == 0)
            pvconsole_write("ring-line-from-vcpu-1\n", 22);
        n++;
    }
    writes[id] = n;
}

/* The domain's event channels still work: ports allocated, their status
 * read back, a send to an unbound-then-bound loop delivered, closed. */
static void check_event_channels(void)
{
    evtchn_port_t ports[4];
    struct evtchn_status st;

    for (unsigned int i = 0; i < ARRAY_SIZE(ports); i++)
        if (!test_eq(evtchn_alloc_unbound(DOMID_SELF, &ports[i]), 0,
                     "EVTCHNOP_alloc_unbound %u after the hammering", i))
            return;
    for (unsigned int i = 0; i < ARRAY_SIZE(ports); i++) {
        test_eq(evtchn_status(ports[i], &st), 0, "EVTCHNOP_status of port %u",
                ports[i]);
        test_eq(st.status, EVTCHNSTAT_unbound, "port %u is unbound", ports[i]);
    }
    for (unsigned int i = 0; i < ARRAY_SIZE(ports); i++)
        test_eq(evtchn_close(ports[i]), 0, "EVTCHNOP_close of port %u", ports[i]);
}

void test_main(void)
{
    uint64_t ms = cmdline_u64("ms", 1500);
    long rc;

    pvconsole_init();
    check_event_channels();
    hammer_end = system_time() + ms * NSEC_PER_MSEC;
    rc = vcpu_start(1, hammer);
    if (!test_eq(rc, 0, "VCPUOP_initialise + VCPUOP_up of vCPU 1 (boot with vcpus=2)"))
        test_finish();
    hammer(0);
    for (uint64_t give_up = system_time() + 10 * NSEC_PER_SEC;
         !vcpu_finished(1) && system_time() < give_up;)
        sleep_until(system_time() + NSEC_PER_MSEC);
    test_ok(vcpu_finished(1), "vCPU 1 did not finish its writes within 10 s");
    console_write("\n", 1);
    printk("console_race: %lu writes from vCPU 0, %lu from vCPU 1 in %lu ms, "
           "%lu of vCPU 0's inside one of vCPU 1's\n", (unsigned long)writes[0],
           (unsigned long)writes[1], (unsigned long)ms, (unsigned long)overlaps);
    test_eq(first_error[0], 0, "CONSOLEIO_write from vCPU 0");
    test_eq(first_error[1], 0, "CONSOLEIO_write from vCPU 1");
    test_ok(writes[0] > 0 && writes[1] > 0, "both vCPUs wrote");
    check_event_channels();
}
