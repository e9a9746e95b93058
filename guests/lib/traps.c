/*
 * Virtual IDT and trap handling for the PV test kernels.
 *
 * Owns: building and installing the trap table (set_trap_table) and the
 * event / failsafe / syscall callbacks (callback_op), dispatching bounced
 * exceptions to per-vector handlers, and "probes": a trap raised by an
 * instruction listed in the .extable section is recorded in last_trap and
 * execution resumes after that instruction. Any other trap ends the test
 * with a FAILURE naming the vector, error code and RIP.
 */
#include "lib.h"

volatile struct trap_record last_trap = { .vector = TRAP_NONE };

struct extable_entry {
    uint64_t insn, resume;
};
extern const struct extable_entry _extable_start[], _extable_end[];

extern char entry_de[], entry_db[], entry_nmi[], entry_bp[], entry_of[],
    entry_br[], entry_ud[], entry_nm[], entry_df[], entry_ts[], entry_np[],
    entry_ss[], entry_gp[], entry_pf[], entry_mf[], entry_ac[], entry_mc[],
    entry_xm[], entry_syscall[], entry_failsafe[], entry_event[],
    soft_vector_stubs[];

#define MAX_TRAPS 64
static trap_info_t trap_table[MAX_TRAPS + 1];
static unsigned int nr_traps;
static trap_handler_t handlers[0x103];

static const char *const names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "vec9",
    "#TS", "#NP", "#SS", "#GP", "#PF", "vec15", "#MF", "#AC", "#MC", "#XM",
};

const char *trap_name(uint64_t vector)
{
    if (vector < 32 && names[vector])
        return names[vector];
    if (vector == TRAP_SYSCALL)
        return "syscall";
    if (vector == TRAP_FAILSAFE)
        return "failsafe";
    if (vector == TRAP_NONE)
        return "no trap";
    return "int";
}

static void add_entry(unsigned int vector, unsigned int flags, void *entry)
{
    if (nr_traps == MAX_TRAPS)
        test_abort("trap table full");
    trap_table[nr_traps++] = (trap_info_t){
        .vector = (uint8_t)vector,
        .flags = (uint8_t)flags,
        .cs = FLAT_KERNEL_CS,
        .address = (uint64_t)entry,
    };
}

void trap_set_handler(unsigned int vector, trap_handler_t h)
{
    handlers[vector] = h;
}

void trap_add_soft_vector(unsigned int vector, unsigned int dpl)
{
    add_entry(vector, dpl | TI_IF_MASK,
              soft_vector_stubs + (vector - 0x20) * 16);
}

void traps_init(void)
{
    /* #BP and #OF are reachable with int3 / into from the kernel, as on
     * native; everything else only by the exception itself. */
    add_entry(0, TI_IF_MASK, entry_de);
    add_entry(1, TI_IF_MASK, entry_db);
    add_entry(2, TI_IF_MASK, entry_nmi);
    add_entry(3, 3 | TI_IF_MASK, entry_bp);
    add_entry(4, 3 | TI_IF_MASK, entry_of);
    add_entry(5, TI_IF_MASK, entry_br);
    add_entry(6, TI_IF_MASK, entry_ud);
    add_entry(7, TI_IF_MASK, entry_nm);
    add_entry(8, TI_IF_MASK, entry_df);
    add_entry(10, TI_IF_MASK, entry_ts);
    add_entry(11, TI_IF_MASK, entry_np);
    add_entry(12, TI_IF_MASK, entry_ss);
    add_entry(13, TI_IF_MASK, entry_gp);
    add_entry(14, TI_IF_MASK, entry_pf);
    add_entry(16, TI_IF_MASK, entry_mf);
    add_entry(17, TI_IF_MASK, entry_ac);
    add_entry(18, TI_IF_MASK, entry_mc);
    add_entry(19, TI_IF_MASK, entry_xm);
}

long traps_install(void)
{
    struct callback_register cb[] = {
        { .type = CALLBACKTYPE_event, .address = (uint64_t)entry_event },
        { .type = CALLBACKTYPE_failsafe, .flags = CALLBACKF_mask_events,
          .address = (uint64_t)entry_failsafe },
        { .type = CALLBACKTYPE_syscall, .flags = CALLBACKF_mask_events,
          .address = (uint64_t)entry_syscall },
    };
    long rc;

    trap_table[nr_traps] = (trap_info_t){ 0 };   /* terminator */
    rc = hypercall_set_trap_table(trap_table);
    if (rc)
        return rc;
    for (unsigned int i = 0; i < ARRAY_SIZE(cb); i++) {
        rc = hypercall_callback_op(CALLBACKOP_register, &cb[i]);
        if (rc)
            return rc;
    }
    return 0;
}

static const struct extable_entry *extable_find(uint64_t rip)
{
    for (const struct extable_entry *e = _extable_start; e < _extable_end; e++)
        if (e->insn == rip || e->resume == rip)
            return e;
    return NULL;
}

/* Called by entry.S; returns the flags word for the iret hypercall. */
uint64_t trap_dispatch(struct trap_frame *f);
uint64_t trap_dispatch(struct trap_frame *f)
{
    const struct extable_entry *e;

    if (f->vector == TRAP_EVENT) {          /* event upcall */
        if (handlers[TRAP_EVENT])
            handlers[TRAP_EVENT](f);        /* e.g. evtchn_upcall */
        else
            shared_info->vcpu_info[0].evtchn_upcall_pending = 0;
        return 0;
    }
    if (f->vector < ARRAY_SIZE(handlers) && handlers[f->vector]) {
        handlers[f->vector](f);
        return f->vector == TRAP_SYSCALL ? VGCF_in_syscall : 0;
    }
    e = extable_find(f->rip);
    if (e) {
        last_trap.vector = f->vector;
        last_trap.error_code = f->error_code;
        last_trap.rip = f->rip;
        last_trap.cs = f->cs;
        last_trap.rsp = f->rsp;
        last_trap.cr2 = shared_info->vcpu_info[0].arch.cr2;
        f->rip = e->resume;
        return 0;
    }
    test_abort("unexpected %s (vector %#lx) error code %#lx at rip %#lx "
               "cs %#lx rsp %#lx cr2 %#lx", trap_name(f->vector),
               (unsigned long)f->vector, (unsigned long)f->error_code,
               (unsigned long)f->rip, (unsigned long)f->cs,
               (unsigned long)f->rsp,
               (unsigned long)shared_info->vcpu_info[0].arch.cr2);
}
