/* Domains and virtual CPUs (common/domain.c; state changes:
 * common/domain_state.c).
 *
 * A domain owns frames (page_list, tot_pages <= max_pages), a shared_info
 * page and up to MAX_VCPUS vCPUs. A vCPU carries the guest state that is not
 * live in the CPU while it does not run: its saved registers, which of its
 * two address spaces (kernel/user) it is in, its virtual IDT, callbacks,
 * segment bases and FPU image.
 *
 * Lifetime: domain_create -> running -> domain_shutdown (guest asked, or
 * crashed) -> domain_destroy (state DOM_DEAD, resources released, slot
 * freed) -> the last put_domain() frees the struct, its vCPUs and its
 * event-channel buckets. Anyone who uses a domain other than the caller's
 * own holds a reference: get_domain_by_id() (refuses a dead domain),
 * get_domain_live() / get_domain_owning() (any state, for walkers and
 * frame owners) or get_domain() on a pointer already referenced, each
 * paired with put_domain(). The domain table holds one reference. A
 * domain's own vCPUs need none (it is destroyed only when none of them is
 * loaded on a CPU). d->state changes only in domain_state.c, under d->lock
 * (domain.c sets the first state before anyone can find the domain).
 *
 * Lock order: d->lock -> d->mm_lock -> d->page_lock -> heap lock; domain.c's
 * domlist_lock is a leaf under any of them.
 * d->console_line_lock is taken alone (then only the console's leaf lock).
 */
#ifndef HV_DOMAIN_H
#define HV_DOMAIN_H

#include <public/xen.h>
#include <public/arch-x86/xen.h>
#include <public/pvcore_ctl.h>
#include "asm/percpu.h"
#include "asm/regs.h"
#include "hv/list.h"
#include "hv/spinlock.h"

/* Slots in the domain table (Domain 0 holds slot 0). A domid maps to slot
 * domid % MAX_DOMAINS; the allocator never hands out an id whose slot is
 * taken, so a lookup is one slot and one id comparison. Walks over the
 * domains that exist go through the dense live list (domain_live), never
 * over the slots. */
#define MAX_DOMAINS     (PVCTL_MAX_DOMAINS + 1)
#define MAX_VCPUS       8
#define DOMAIN_NAME_LEN 32
/* Pointers to event-channel buckets (a page of ports each) a domain may
 * have: EVTCHN_MAX_BUCKETS (hv/event.h checks), kept in struct domain. */
#define DOMAIN_EVTCHN_BUCKETS 128
/* Bytes kept in struct domain for its first EVTCHN_INLINE_PORTS ports
 * (struct evtchn is hv/event.h's; event_channel.c checks that they fit):
 * a domain that binds no more needs no page of ports. */
#define DOMAIN_EVTCHN_INLINE_BYTES 512
/* Bytes kept in struct domain for its grant table's header (the struct is
 * grant_priv.h's; grant_table.c checks that it fits). */
#define DOMAIN_GNTTAB_BYTES   1408
#define UNIMPL_LOG_MAX  64     /* distinct unimplemented operations logged */

enum vcpu_state {
    VCPU_DOWN,          /* not brought up (or VCPUOP_down) */
    VCPU_RUNNABLE,      /* may run */
    VCPU_BLOCKED,       /* SCHEDOP_block: waits for an event */
    VCPU_PAUSED,        /* held by the domain's state (shutdown, paused) */
};

enum domain_state {
    DOM_BUILDING,       /* being built, not yet unpaused */
    DOM_RUNNING,
    DOM_PAUSED,
    DOM_SHUTDOWN,       /* guest shut down or crashed; frames still held */
    DOM_DEAD,           /* destroyed; slot about to be freed */
};

struct vcpu {
    unsigned int id;
    struct domain *domain;
    enum vcpu_state state;
    bool initialised;               /* has a context (builder or VCPUOP_initialise) */
    int processor;                  /* CPU it runs on, -1 when not running */

    struct cpu_regs regs;           /* saved while not running */
    bool kernel_mode;               /* guest kernel (vs guest user) context */
    mfn_t guest_table;              /* kernel L4 (typed and referenced), 0 = none */
    mfn_t guest_table_user;         /* user L4, 0 = none */
    uint64_t kernel_ss, kernel_sp;  /* stack_switch */
    /* Saved while not running; while it runs the CPU holds them (the
     * other mode's GS base in MSR_KERNEL_GS_BASE: toggle_guest_mode). */
    uint64_t fs_base, gs_base_kernel, gs_base_user;
    uint16_t gs_sel_user;
    uint64_t iopl;                  /* virtual IOPL (0-3), from physdev_op */

    /* The virtual IDT (set_trap_table, VCPUOP_initialise, the NMI
     * callback): per vector the handler's address (0 = none) and Xen's
     * TI_* flags (DPL, events masked). The code selector is always
     * FLAT_KERNEL_CS, so it is not kept: 2.25 KiB instead of 4, and a
     * vCPU fits one page. */
    uint64_t trap_address[256];
    uint8_t trap_flags[256];
    uint64_t event_callback, failsafe_callback, syscall_callback;
    bool syscall_disables_events, failsafe_disables_events;
    /* CALLBACKTYPE_syscall32 (SYSCALL from 32-bit user code) and
     * CALLBACKTYPE_sysenter (SYSENTER from user mode), as Xen records them. */
    uint64_t syscall32_callback, sysenter_callback;
    bool syscall32_disables_events, sysenter_disables_events;

    struct vcpu_info *vcpu_info;    /* hypervisor mapping (direct map) */
    mfn_t vcpu_info_mfn;            /* 0 while it lives in shared_info */
    uint64_t runstate_guest_va;     /* VCPUOP_register_runstate_memory_area */
    uint64_t time_area_guest_va;    /* VCPUOP_register_vcpu_time_memory_area */

    bool fpu_ts;                    /* guest asked for CR0.TS (fpu_taskswitch) */
    uint64_t cr4_guest;             /* CR4 bits the guest controls (pv/cpuregs.c) */
    uint64_t dr[4], dr6, dr7;       /* debug registers (pv/cpuregs.c) */
    uint32_t dr7_io;                /* DR7 enables of I/O breakpoints (emulated) */
    bool fpu_initialised;
    uint8_t fpu_state[512] __aligned(16);

    /* GDT set with set_gdt (frames typed PGT_seg_desc) and LDT. */
    mfn_t gdt_frames[16];
    unsigned int gdt_nr_frames, gdt_ents;
    uint64_t ldt_base;
    unsigned int ldt_ents;

    /* Scheduling (common/schedule.c, common/sched_credit.c). */
    struct list_head runq_link;
    bool on_runq;
    unsigned int sched_cpu;         /* whose run queue it is on / last ran on */
    int64_t credit;                 /* weighted ns it may still run before others */
    uint64_t cpu_time_ns;           /* accumulated running time */
    uint64_t last_start_ns;
    uint64_t poll_deadline;         /* SCHEDOP_poll timeout (0 = none) */
    uint32_t poll_ports[8];         /* ports SCHEDOP_poll waits for */
    unsigned int nr_poll_ports;     /* 0 = not polling */

    int virq_port[24];              /* VIRQ -> bound port, 0 = none */
    uint64_t timer_deadline;        /* single-shot timer, 0 = off (system time ns) */
    uint64_t periodic_period;       /* periodic timer, 0 = off */
    uint64_t periodic_next;
    struct list_head timer_link;
    bool timer_queued;
};

struct domain {
    domid_t id;
    char name[DOMAIN_NAME_LEN];
    enum domain_state state;        /* written by domain_state.c only, under lock */
    uint32_t refcnt;                /* atomic: the table's + one per get */
    uint32_t magic;                 /* DOMAIN_MAGIC while the struct is live */
    bool published;                 /* created: get_domain_by_id may find it */
    unsigned int shutdown_reason;   /* SHUTDOWN_* when state == DOM_SHUTDOWN */
    unsigned int shutdown_code;     /* SCHEDOP_shutdown_code, or SHUTDOWN_CODE_NONE */
    spinlock_t lock;

    spinlock_t mm_lock;             /* page-table updates and page types of this domain */
    spinlock_t page_lock;           /* page_list, tot_pages */
    struct list_head page_list;     /* frames this domain owns */
    uint64_t tot_pages, max_pages;

    struct vcpu *vcpus[MAX_VCPUS];
    unsigned int nr_vcpus;

    struct shared_info *shared_info;
    mfn_t shared_info_mfn;
    uint64_t vm_assist;

    uint8_t handle[16];             /* toolstack's handle (UUID) */
    bool auto_destroy;              /* boot-loader domain: destroy when shut down */
    bool destroy_requested;         /* Domain 0 asked for destruction */
    unsigned int boot_module;       /* boot-loader domain: module index + 1 */
    unsigned int restarts_left;     /* boot-loader domain: rebuilds still to do */
    uint64_t unpopulated;           /* frames of the reservation not allocated yet */
    unsigned int live_index;        /* where it sits in the live list (domain.c) */
    /* Destruction in bounded steps (domain_destroy_step; the memory part
     * is arch/x86_64/mm_teardown.c's): how far it got. */
    unsigned int destroy_stage, teardown_pass;
    struct list_head teardown_list; /* frames done in the current pass */
    unsigned int weight, cap;       /* scheduler parameters */
    int64_t cap_budget_ns;          /* what a capped domain may still run this period */
    uint64_t cap_period;            /* index of the period cap_budget_ns belongs to */

    /* PV console ring (boot-loader mode: drained by the hypervisor) and
     * console_io output: a partial line of each, and the hashes of the
     * latest lines each printed that the other has not repeated yet (a
     * guest that writes every line to both, as Mini-OS does, is printed
     * once; common/console_io.c). console_line_lock guards console_src
     * (every vCPU of the domain and the ring drain on any CPU write it). */
    mfn_t console_mfn;
    mfn_t store_mfn;                /* boot-loader domains: the xenstore ring the
                                     * hypervisor answers (xenstore_absent.c) */
    uint32_t store_port;
    bool store_closed;
    unsigned int console_evtchn;
    struct console_src {
        char line[160];
        unsigned int len;
        uint32_t recent[8];
        unsigned int nr_recent;
    } console_src[2];               /* 0: console_io, 1: the ring */
    spinlock_t console_line_lock;

    /* Event channels (common/event_channel.c, hv/event.h). */
    spinlock_t event_lock;
    bool evtchn_closed;                 /* under event_lock: dying, no new binding */
    struct evtchn **evtchn_buckets;     /* evtchn_bucket_table, NULL once destroyed */
    struct evtchn *evtchn_bucket_table[DOMAIN_EVTCHN_BUCKETS];
    /* Ports 0 .. EVTCHN_INLINE_PORTS - 1 (struct evtchn): here rather than
     * in bucket 0, which comes only with the first port beyond them. */
    uint64_t evtchn_inline[DOMAIN_EVTCHN_INLINE_BYTES / 8];
    unsigned int max_evtchns;           /* the ABI's port limit */
    unsigned int evtchn_free_hint;      /* no free port below it */
    const struct evtchn_port_ops *evtchn_ops;   /* 2-level or FIFO */
    struct evtchn_fifo_domain *evtchn_fifo;     /* FIFO state, NULL before init_control */

    /* The grant table's header (common/grant_table.c owns it): here rather
     * than in a page of its own, so a domain's structures share one page. */
    uint64_t gnttab_storage[DOMAIN_GNTTAB_BYTES / 8];

    /* The two I/O registers emulated for every domain (pv/ioport.c). */
    uint8_t io_cmos_index;
    uint32_t io_pci_cf8;

    /* Unimplemented hypercalls and sub-operations already logged
     * (common/unimplemented.c; guarded by unimpl_lock, a leaf lock). */
    spinlock_t unimpl_lock;
    uint32_t unimpl_logged[UNIMPL_LOG_MAX];
    unsigned int nr_unimpl_logged;
};

#define SHUTDOWN_CODE_NONE (~0u)
#define DOMAIN_MAGIC 0x646f6d6eu   /* "domn" */
#define DOMAIN_HAS_VCPU(d, i) ((i) < (d)->nr_vcpus && (d)->vcpus[i])

/* Per-CPU: the vCPU currently running (NULL: idle). Inline: every trap
 * and hypercall from a guest reads it several times. Host unit tests
 * (hosted builds) provide their own. */
#if __STDC_HOSTED__
struct vcpu *current_vcpu(void);
#else
static inline struct vcpu *current_vcpu(void)
{
    return this_cpu()->curr;
}
#endif

static inline void set_current_vcpu(struct vcpu *v)
{
    this_cpu()->curr = v;
}
#define current current_vcpu()

struct domain_config {
    const char *name;
    uint64_t mem_pages, max_pages;
    uint64_t first_pages;           /* allocated at creation (0: all of mem_pages) */
    unsigned int vcpus;
    unsigned int weight, cap;
};

/* Create a domain with its reservation allocated (not yet running): all of
 * it, or cfg->first_pages of it and the rest by domain_populate.
 * Returns the domain or NULL with *err set (-ENOMEM, -EINVAL, -ENOSPC).
 * The reference returned is the domain table's (no put_domain for it). */
struct domain *domain_create(const struct domain_config *cfg, int *err);
/* Allocate (scrubbed) up to max more of the frames a building domain was
 * created for, in pfn order, each with its m2p entry: the frames still to
 * come (0: complete), -EBUSY if d is not building, -ENOMEM. Bounded
 * steps, so that creating a large domain never holds a CPU for long. */
long domain_populate(struct domain *d, uint64_t max);
/* Stop the domain's vCPUs and record why (SHUTDOWN_*); nothing if it is
 * already shut down or dead. */
void domain_shutdown(struct domain *d, unsigned int reason);
/* A guest misbehaved beyond recovery: log why, shut it down as crashed. */
void domain_crash(struct domain *d, const char *why, ...) __printf(2, 3);
/* Domain 0 (domid 0): a shared_info page and event channels, no vCPU. */
struct domain *domain_create_dom0(int *err);
/* Stop the domain now and destroy it as soon as no CPU has it loaded. */
void domain_request_destroy(struct domain *d);
/* Building or paused -> running: 0, -EALREADY (running), -EBUSY (shut
 * down or dead), -EINVAL (building with no context for vCPU 0). */
int domain_unpause(struct domain *d);
/* Running -> paused: 0, -EALREADY (paused), -EBUSY (any other state). */
int domain_pause(struct domain *d);
/* Run fn(d, arg) under d->lock if d's state is in states (a mask of
 * DOMS(state) bits); -EBUSY otherwise. What a builder or Domain 0 changes
 * in a domain cannot then race its shutdown or destruction. */
#define DOMS(state) (1u << (state))
long domain_while_state(struct domain *d, unsigned int states,
                        long (*fn)(struct domain *, const void *), const void *arg);
/* Release everything the domain holds, free its slot and drop the
 * table's reference. Only when none of its vCPUs is loaded on a CPU. */
void domain_destroy(struct domain *d);
/* One bounded piece of domain_destroy (the reaper's way: interrupts and
 * guests run between pieces); true when the domain is gone from the table
 * (its resources released, the table's reference dropped: the last
 * put_domain frees the struct). Its vCPUs must not be loaded anywhere; one
 * destroyer at a time (the reaper, or a failed creation on its own). */
bool domain_destroy_step(struct domain *d);
/* The live domain with this id (created, not dead), referenced; or NULL. */
struct domain *get_domain_by_id(domid_t id);
/* The guest domains that exist (any state), densely and in creation
 * order: get_domain_live(i), referenced, for i < domains_alive(); NULL
 * past the end. Walks cost what exists, not the id space. A walk that
 * races with a removal may miss or repeat one domain (the list shifts
 * down); the next walk sees the list as it is. */
struct domain *get_domain_live(unsigned int i);
/* The domain with this id in any state (a frame's owner during its
 * teardown), referenced; or NULL. */
struct domain *get_domain_owning(domid_t id);
/* Another reference to a domain the caller holds one on. */
void get_domain(struct domain *d);
/* Drop a reference; the last one frees the domain. NULL is ignored. */
void put_domain(struct domain *d);
/* Whether a domain (any state) has this id: for -EPERM vs -ESRCH. */
bool domain_exists(domid_t id);
/* Whether a guest domain has this handle (UUID). */
bool domain_handle_in_use(const uint8_t handle[16]);
/* Domains whose destruction was asked for and has not happened yet: the
 * reaper has work only while this is non-zero (or boot domains run). */
unsigned int domains_destroy_pending(void);
/* domain_destroy_step's (domain.c): the state goes DOM_DEAD before any
 * teardown (a BUG if it already was); and, once d is out of the table, it
 * no longer counts in domains_destroy_pending. */
void domain_set_dead(struct domain *d);
void domain_destroy_finished(struct domain *d);
/* The table slot a domid lives in. */
static inline unsigned int domid_slot(domid_t id)
{
    return id % MAX_DOMAINS;
}
/* Guest domains that exist (Domain 0 not counted). */
unsigned int domains_alive(void);
/* Free frames, tot_pages: called with the domain's page lock held. */
int domain_add_frame(struct domain *d, mfn_t mfn);

#endif
