/*
 * Events, time and vCPUs for the PV test kernels (include after lib.h).
 *
 * Owns the interface of: event channel hypercall wrappers and the event
 * upcall dispatcher (evtchn.c), guest system time from vcpu_time_info
 * (time.c), secondary vCPUs and runstate (vcpu.c), and `key=value`
 * lookup in start_info->cmd_line (cmdline.c).
 *
 * Event model: the library keeps the upcall masked (evtchn_upcall_mask =
 * 1) except inside event_block(), which is SCHEDOP_block: the hypervisor
 * unmasks, blocks unless an upcall is pending, and delivers the upcall
 * on the way back; event_block() masks again before it returns. So a
 * kernel waits with `while (!condition) event_block();` and no event can
 * be lost between the test and the block. The upcall (evtchn_upcall)
 * clears each pending, unmasked port of the selected words, counts it in
 * evtchn_seen[port] and calls the port's handler, with events masked.
 * Ports waited for with SCHEDOP_poll need no upcall at all.
 */
#ifndef GUEST_EVTIME_H
#define GUEST_EVTIME_H

#include "lib.h"

#define NSEC_PER_USEC 1000ull
#define NSEC_PER_MSEC 1000000ull
#define NSEC_PER_SEC  1000000000ull

/* ---- event channels (evtchn.c) ---- */
#define EVTCHN_LIB_PORTS 1024           /* ports with a counter / handler */
typedef void (*evtchn_handler_t)(evtchn_port_t port, void *arg);

extern volatile uint32_t evtchn_seen[EVTCHN_LIB_PORTS];
extern volatile uint32_t evtchn_seen_other;     /* ports >= EVTCHN_LIB_PORTS */
extern volatile uint32_t evtchn_upcalls;        /* upcalls taken */

/* Install evtchn_upcall as the library's event-callback handler. */
void evtchn_upcall_init(void);
void evtchn_set_handler(evtchn_port_t port, evtchn_handler_t fn, void *arg);
void evtchn_upcall(struct trap_frame *f);
/* Forget this vCPU's pending upcall: evtchn_upcall_pending and the
 * selector word bits (ports stay pending). Clearing only the flag would
 * leave selector bits set, and a later event in those words would then
 * never raise the flag again (the 2-level protocol). */
void evtchn_upcall_clear(void);

long evtchn_alloc_unbound(domid_t remote, evtchn_port_t *port);
long evtchn_bind_interdomain(domid_t remote, evtchn_port_t remote_port,
                             evtchn_port_t *local);
long evtchn_bind_virq(uint32_t virq, uint32_t vcpu, evtchn_port_t *port);
long evtchn_bind_ipi(uint32_t vcpu, evtchn_port_t *port);
long evtchn_send(evtchn_port_t port);
long evtchn_close(evtchn_port_t port);
long evtchn_unmask(evtchn_port_t port);
long evtchn_reset_self(void);           /* EVTCHNOP_reset of DOMID_SELF */
/* alloc_unbound(DOMID_SELF) into ports[] until an error or max ports:
 * *n allocated, the highest of them; returns the last result. */
long evtchn_alloc_many(evtchn_port_t *ports, unsigned int max, unsigned int *n,
                       evtchn_port_t *highest);
long evtchn_status(evtchn_port_t port, struct evtchn_status *st);
const char *evtchn_status_name(uint32_t status);

/* Count port in evtchn_seen (or evtchn_seen_other) and run its handler:
 * what the upcall does for each event it takes, whichever the ABI. */
void evtchn_deliver(evtchn_port_t port);

/* ---- FIFO event channels (evtchn_fifo.c) ----
 * Once a vCPU's control block is registered (evtchn_fifo_init_vcpu) the
 * domain uses the FIFO ABI: evtchn_fifo_active is set, the upcall runs
 * evtchn_fifo_consume and the event_channel_* helpers of lib.h work on
 * event words. Ports have words only up to evtchn_fifo_nr_ports(). */
#define EVTCHN_FIFO_LIB_PAGES 40        /* event-array pages the library keeps */
extern volatile bool evtchn_fifo_active;
extern uint8_t evtchn_fifo_link_bits;  /* from the last init_control */
long evtchn_init_control(uint64_t gfn, uint32_t offset, uint32_t vcpu,
                         uint8_t *link_bits);
long evtchn_expand_array(uint64_t gfn);
long evtchn_set_priority(evtchn_port_t port, uint32_t priority);
/* A fresh control block page for vcpu (0 if it has one already). */
long evtchn_fifo_init_vcpu(unsigned int vcpu);
/* One more event-array page, its words all MASKED or all clear. */
long evtchn_fifo_expand(bool masked);
/* init_vcpu(0), then unmasked pages until `pages` are there. */
long evtchn_fifo_setup(unsigned int pages);
/* After EVTCHNOP_reset: back to the 2-level ABI (pages not reused), with
 * the 2-level pending bits and this vCPU's selector cleared. */
void evtchn_fifo_forget(void);
unsigned int evtchn_fifo_nr_ports(void);
volatile event_word_t *evtchn_fifo_word(evtchn_port_t port);
/* Bit EVTCHN_FIFO_* of port's word (false without a word). */
bool evtchn_fifo_test(evtchn_port_t port, uint32_t bit);
void evtchn_fifo_mask(evtchn_port_t port);
void evtchn_fifo_unmask_local(evtchn_port_t port);
/* Unmask, and EVTCHNOP_unmask if pending (so it gets linked). */
long evtchn_fifo_unmask(evtchn_port_t port);
void evtchn_fifo_clear(evtchn_port_t port);
/* Take this vCPU's events, queue by queue, highest priority first. */
void evtchn_fifo_consume(void);

/* SCHEDOP_block with the upcall unmasked, then mask again. */
void event_block(void);
/* SCHEDOP_poll on ports (nr may be 0) until absolute system time
 * `timeout` (0: none). Returns the hypercall's result. */
long sched_poll(evtchn_port_t *ports, unsigned int nr, uint64_t timeout);
/* Sleep (poll without ports) until system time reaches `deadline`. */
void sleep_until(uint64_t deadline);

/* ---- time (time.c) ---- */
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;

    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
    return ((uint64_t)hi << 32) | lo;
}
static inline void cpu_relax(void)
{
    __asm__ volatile("pause" ::: "memory");
}
/* One consistent copy of this vCPU's vcpu_time_info (version protocol). */
struct time_snapshot {
    uint64_t tsc_timestamp, system_time;
    uint32_t mul;
    int8_t shift;
};
void time_snapshot(struct time_snapshot *s);
/* ns since hypervisor boot, extrapolated from the TSC. */
uint64_t system_time(void);
/* Convert with this vCPU's tsc_to_system_mul / tsc_shift. */
uint64_t tsc_to_ns(uint64_t ticks);
uint64_t ns_to_tsc(uint64_t ns);
uint64_t tsc_khz(void);

/* ---- vCPUs (vcpu.c) ---- */
#define LIB_MAX_VCPUS 4
typedef void (*vcpu_fn_t)(unsigned int id);
/* Which vCPU runs this code (by the stack it is on). */
unsigned int this_vcpu_id(void);
vcpu_info_t *vcpu_info_self(void);
/* VCPUOP_register_vcpu_info of vCPU id (itself, or one that is down) to
 * where; vcpu_info_self() follows it. */
long vcpu_register_info(unsigned int id, vcpu_info_t *where);
/* VCPUOP_initialise (own stack, the kernel L4, the library's callbacks;
 * the vCPU installs the trap table itself) then VCPUOP_up. The vCPU runs
 * fn(id) with events masked, then takes itself down. Returns the first
 * failing hypercall's result, or 0. */
long vcpu_start(unsigned int id, vcpu_fn_t fn);
bool vcpu_finished(unsigned int id);
/* A context for VCPUOP_initialise that blocks forever on stack_top in
 * kernel mode, with a one-frame GDT at gdt_mfn (0: none), for tests that
 * race on initialising vCPUs rather than run them. */
void vcpu_parked_context(vcpu_guest_context_t *c, uint64_t stack_top, uint64_t gdt_mfn);
long vcpu_runstate(unsigned int id, struct vcpu_runstate_info *rs);

/* ---- CPU-time windows (cpuwindow.c) ----
 * A window of system time from the command line (`start=` and `len=` in
 * ms, defaults 2000 and 5000) over which a kernel measures a vCPU's CPU
 * time twice: the hypervisor's (VCPUOP_get_runstate_info time[0]) and its
 * own TSC-based count of the time it ran, and prints
 *   <tag>: vcpu=N window_ns=W tsc_running_ns=T runstate_running_ns=R gaps=G
 * (tests/guests/sched_test.sh parses that line). */
struct cpu_window {
    uint64_t start_ns, end_ns;
};
struct cpu_usage {
    uint64_t t0, rs0;                   /* system time, runstate at begin */
    uint64_t window_ns, tsc_running_ns, runstate_running_ns;
    uint64_t gaps;                      /* stretches the vCPU did not run */
};
void cpu_window_from_cmdline(struct cpu_window *w);
void cpu_usage_begin(struct cpu_usage *u, unsigned int vcpu);
/* tsc_ticks: the TSC ticks the vCPU counted as running. */
void cpu_usage_end(struct cpu_usage *u, unsigned int vcpu, uint64_t tsc_ticks);
void cpu_usage_report(const char *tag, unsigned int vcpu,
                      const struct cpu_usage *u);

/* ---- command line (cmdline.c) ---- */
/* Value of `key=` in start_info->cmd_line copied into buf; NULL if
 * absent. */
const char *cmdline_str(const char *key, char *buf, size_t size);
/* Decimal value of `key=`, or dflt when absent or not a number. */
uint64_t cmdline_u64(const char *key, uint64_t dflt);

#endif /* GUEST_EVTIME_H */
