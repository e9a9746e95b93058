/*
 * bench_pv.c - the PV benchmark kernel of `make bench-pv` (bench/bench_pv.sh):
 * the same kernel boots on pvcore and as dom0 of Xen 4.17 and prints, for
 * each PV operation, the TSC cycles one operation takes: the minimum and
 * the median over several batches of many iterations each. One line per
 * operation, parseable:
 *   bench_pv: op=NAME iters=N batches=B min=CYCLES median=CYCLES
 * followed by "bench_pv: done". Asserts only that each operation did what
 * it should (a failed hypercall ends the run), never a speed.
 *
 * Before timing anything it prints "bench_pv: paused at <address>" and
 * spins until the word at that address becomes nonzero (the harness writes
 * it through QEMU's gdb stub after single-stepping once, which flushes
 * QEMU's translation cache: see bench/bench_pv.sh). release=0 on the
 * command line skips the pause.
 *
 * Operations (each batch alternates with the others, so a disturbance of
 * the host spreads over all of them):
 *   null_hypercall      xen_version(XENVER_version)
 *   trap_int3, trap_ud2 a trap bounced to the kernel and its iret back
 *   event_send_upcall   EVTCHNOP_send on an IPI port bound to ourselves,
 *                       with the upcall delivered on the way back
 *   pf_bounce           #PF on an unmapped page; the handler maps it
 *                       (update_va_mapping), the access retries, then the
 *                       page is unmapped again (update_va_mapping)
 *   syscall_user        `syscall` from guest user mode to the kernel's
 *                       callback and back (iret with VGCF_in_syscall)
 *   uvm_invlpg          update_va_mapping with UVMF_INVLPG
 *   mmu_update_1        mmu_update of one entry
 *   mmu_update_512      mmu_update of 512 entries in one call, per entry
 *   multicall_entry     multicall of 64 xen_version entries, per entry
 *   as_build_pin_unpin  fill 4 table pages, map them read-only, pin the
 *                       L4, unpin, map them writable again
 *   ptwr_write          a page-table entry written directly (emulated)
 *   grant_map_unmap     map a page granted to ourselves, then unmap it
 *   grant_copy          GNTTABOP_copy of 256 bytes from a grant to a frame
 *   set_timer_op        set_timer_op one second ahead
 * Command line: batches=N (default 7), scale=N (iterations x N/4, default
 * 4), release=0|1 (default 1).
 */
#include "lib.h"
#include "evtime.h"
#include "gnttab.h"

const char test_name[] = "bench_pv";

#define MAX_BATCHES    15
#define BENCH_VA       0xffffffffc0000000ul     /* uvm / mmu_update / ptwr slot */
#define BENCH_512_VA   0xffffffffc0200000ul     /* a whole L1 for mmu_update_512 */
#define PF_VA          0xffffffffc0400000ul     /* #PF bounce page */
#define GRANT_TABLE_VA 0xffffffffc0600000ul     /* our grant table frame 0 */
#define GRANT_MAP_VA   0xffffffffc0610000ul     /* grant mappings */
#define GRANT_REF      16                       /* refs 0-7 are the toolstack's */
#define MULTI_ENTRIES  64
#define USER_CODE_VA   0x400000ul
#define USER_STACK_VA  0x401000ul

volatile uint64_t bench_release;

static struct {
    uint64_t page_a, page_b;            /* PTEs of two pool pages */
    uint64_t slot_ma;                   /* L1 entry of BENCH_VA */
    volatile uint64_t *slot;            /* the same entry, read-only view */
    uint64_t l1_512_ma;                 /* first L1 entry of BENCH_512_VA */
    evtchn_port_t ipi;
    volatile uint64_t upcalls;
    uint64_t pf_pte;
    volatile uint64_t pfs;
    uint64_t *as_tables[4];             /* L4, L3, L2, L1 of the scratch space */
    domid_t self;
    grant_entry_v1_t *gtable;
    uint64_t copy_dst_mfn;
    uint64_t user_l4_mfn;
    mmu_update_t req512[512];
    multicall_entry_t calls[MULTI_ENTRIES];
} b;

/* ---- user mode: a loop of `syscall`s, then one that returns ---- */
extern char bench_user_code[];

__asm__(
    ".pushsection .text.user, \"ax\"\n"
    ".p2align 12\n"
    ".globl bench_user_code\n"
    "bench_user_code:\n"                /* rbx: number of round trips */
    "1:  mov $1, %eax\n"
    "    syscall\n"
    "    dec %rbx\n"
    "    jnz 1b\n"
    "    mov $2, %eax\n"
    "    syscall\n"                     /* back to the kernel for good */
    "    ud2\n"
    ".p2align 12\n"
    ".popsection\n");

static uint8_t trap_stack[4 * PAGE_SIZE] ALIGNED(16);

static void on_syscall(struct trap_frame *f)
{
    if (f->rax == 1)
        return;
    events_mask_all();
    user_resume_kernel(0);
}

static void on_int3(struct trap_frame *f)
{
    (void)f;                            /* rip is already past the int3 */
}

static void on_ud2(struct trap_frame *f)
{
    f->rip += 2;
}

static void on_page_fault(struct trap_frame *f)
{
    uint64_t cr2 = shared_info->vcpu_info[0].arch.cr2;

    if (cr2 != PF_VA || (f->cs & 3) == 3)
        test_abort("unexpected #PF at %#lx cr2 %#lx", (unsigned long)f->rip,
                   (unsigned long)cr2);
    if (hypercall_update_va_mapping(PF_VA, b.pf_pte, UVMF_INVLPG))
        test_abort("update_va_mapping in the #PF handler failed");
    b.pfs++;
}

static void on_ipi(evtchn_port_t port, void *arg)
{
    (void)port;
    (void)arg;
    b.upcalls++;
}

static void must(long rc, const char *what)
{
    if (rc)
        test_abort("%s failed: %ld", what, rc);
}

/* ---- the operations: each runs n iterations ---- */
static void op_null_hypercall(uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        hypercall_xen_version(XENVER_version, NULL);
}

static void op_trap_int3(uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        __asm__ volatile("int3" ::: "memory");
}

static void op_trap_ud2(uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        __asm__ volatile("ud2" ::: "memory");
}

static void op_event_send_upcall(uint64_t n)
{
    vcpu_info_t *vi = vcpu_info_self();
    uint64_t before = b.upcalls;

    vi->evtchn_upcall_mask = 0;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    for (uint64_t i = 0; i < n; i++)
        must(evtchn_send(b.ipi), "EVTCHNOP_send");
    events_mask_all();
    if (b.upcalls - before != n)
        test_abort("event_send_upcall: %lu upcalls for %lu sends",
                   (unsigned long)(b.upcalls - before), (unsigned long)n);
}

static void op_pf_bounce(uint64_t n)
{
    uint64_t before = b.pfs;

    for (uint64_t i = 0; i < n; i++) {
        (void)*(volatile uint64_t *)PF_VA;
        must(hypercall_update_va_mapping(PF_VA, 0, UVMF_INVLPG), "unmap the #PF page");
    }
    if (b.pfs - before != n)
        test_abort("pf_bounce: %lu faults for %lu rounds", (unsigned long)(b.pfs - before),
                   (unsigned long)n);
}

static void op_syscall_user(uint64_t n)
{
    user_enter(USER_CODE_VA, USER_STACK_VA + PAGE_SIZE, n);
}

static void op_uvm_invlpg(uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        must(hypercall_update_va_mapping(BENCH_VA, (i & 1) ? b.page_b : b.page_a, UVMF_INVLPG),
             "update_va_mapping");
}

static void op_mmu_update_1(uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        must(mmu_update1(b.slot_ma, (i & 1) ? b.page_b : b.page_a), "mmu_update");
}

static void op_mmu_update_512(uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        uint64_t val = (i & 1) ? b.page_b : b.page_a;
        unsigned int done = 0;

        for (unsigned int e = 0; e < 512; e++)
            b.req512[e].val = val;
        must(hypercall_mmu_update(b.req512, 512, &done, DOMID_SELF), "mmu_update of 512");
        if (done != 512)
            test_abort("mmu_update of 512: %u done", done);
    }
}

static void op_multicall_entry(uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        must(hypercall_multicall(b.calls, MULTI_ENTRIES), "multicall");
        if ((long)b.calls[MULTI_ENTRIES - 1].result <= 0)
            test_abort("multicall: xen_version entry returned %ld",
                       (long)b.calls[MULTI_ENTRIES - 1].result);
    }
}

static void op_as_build_pin_unpin(uint64_t n)
{
    uint64_t **t = b.as_tables;

    for (uint64_t i = 0; i < n; i++) {
        for (unsigned int l = 0; l < 3; l++)
            t[l][0] = (virt_to_mfn(t[l + 1]) << PAGE_SHIFT) | PTE_TABLE;
        t[3][(USER_CODE_VA >> 12) & 511] =
            (virt_to_mfn(bench_user_code) << PAGE_SHIFT) | PTE_P | PTE_US | PTE_A;
        for (unsigned int l = 0; l < 4; l++)
            must(page_set_writable(t[l], false), "map a table read-only");
        must(mmuext1(MMUEXT_PIN_L4_TABLE, virt_to_mfn(t[0]), 0), "pin the L4");
        must(mmuext1(MMUEXT_UNPIN_TABLE, virt_to_mfn(t[0]), 0), "unpin the L4");
        for (unsigned int l = 0; l < 4; l++)
            must(page_set_writable(t[l], true), "map a table writable");
    }
}

static void op_ptwr_write(uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        *b.slot = (i & 1) ? b.page_b : b.page_a;
}

static void op_grant_map_unmap(uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        struct gnttab_map_grant_ref op = gnttab_map1(GRANT_REF, b.self, GNTMAP_host_map,
                                                     GRANT_MAP_VA);
        if (op.status != GNTST_okay)
            test_abort("grant map: status %d", op.status);
        if (gnttab_unmap1(op.handle, GRANT_MAP_VA, 0) != GNTST_okay)
            test_abort("grant unmap failed");
    }
}

static void op_grant_copy(uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        struct gnttab_copy op = gnttab_copy_op(GNTCOPY_source_gref, GRANT_REF, b.self, 0,
                                               b.copy_dst_mfn, DOMID_SELF, 0, 256);
        must(hypercall_grant_table_op(GNTTABOP_copy, &op, 1), "GNTTABOP_copy");
        if (op.status != GNTST_okay)
            test_abort("grant copy: status %d", op.status);
    }
}

static void op_set_timer(uint64_t n)
{
    uint64_t later = system_time() + NSEC_PER_SEC;

    for (uint64_t i = 0; i < n; i++)
        must(hypercall_set_timer_op(later + i), "set_timer_op");
    must(hypercall_set_timer_op(0), "cancel the timer");
}

static const struct bench_op {
    const char *name;
    void (*run)(uint64_t n);
    uint64_t iters;         /* per batch at scale 4 */
    uint64_t per_call;      /* operations in one iteration */
} ops[] = {
    { "null_hypercall",     op_null_hypercall,     2000, 1 },
    { "trap_int3",          op_trap_int3,          1000, 1 },
    { "trap_ud2",           op_trap_ud2,           1000, 1 },
    { "event_send_upcall",  op_event_send_upcall,  1000, 1 },
    { "pf_bounce",          op_pf_bounce,          500,  1 },
    { "syscall_user",       op_syscall_user,       1000, 1 },
    { "uvm_invlpg",         op_uvm_invlpg,         1000, 1 },
    { "mmu_update_1",       op_mmu_update_1,       1000, 1 },
    { "mmu_update_512",     op_mmu_update_512,     8,    512 },
    { "multicall_entry",    op_multicall_entry,    32,   MULTI_ENTRIES },
    { "as_build_pin_unpin", op_as_build_pin_unpin, 100,  1 },
    { "ptwr_write",         op_ptwr_write,         1000, 1 },
    { "grant_map_unmap",    op_grant_map_unmap,    500,  1 },
    { "grant_copy",         op_grant_copy,         500,  1 },
    { "set_timer_op",       op_set_timer,          1000, 1 },
};

/* ---- set-up ---- */
static uint64_t pool_pte(void *page)
{
    return (virt_to_mfn(page) << PAGE_SHIFT) | PTE_PAGE;
}

static domid_t own_domid(void)
{
    struct evtchn_alloc_unbound a = { .dom = DOMID_SELF, .remote_dom = DOMID_SELF };
    struct evtchn_status st = { .dom = DOMID_SELF };

    must(hypercall_event_channel_op(EVTCHNOP_alloc_unbound, &a), "EVTCHNOP_alloc_unbound");
    st.port = a.port;
    must(hypercall_event_channel_op(EVTCHNOP_status, &st), "EVTCHNOP_status");
    must(evtchn_close(a.port), "EVTCHNOP_close");
    return st.u.unbound.dom;
}

static void setup_grants(void)
{
    static xen_pfn_t frames[1];
    struct gnttab_setup_table st = { .dom = DOMID_SELF, .nr_frames = 1, .status = 99,
                                     .frame_list = HC(frames) };
    void *granted = page_alloc();

    b.self = own_domid();
    must(hypercall_grant_table_op(GNTTABOP_setup_table, &st, 1), "GNTTABOP_setup_table");
    if (st.status != GNTST_okay)
        test_abort("setup_table status %d", st.status);
    must(mm_ensure_l1(GRANT_TABLE_VA), "an L1 for the grant table");
    gnttab_map_frame(GRANT_TABLE_VA, frames[0]);
    b.gtable = (grant_entry_v1_t *)GRANT_TABLE_VA;
    b.gtable[GRANT_REF].domid = b.self;
    b.gtable[GRANT_REF].frame = (uint32_t)virt_to_mfn(granted);
    __atomic_store_n(&b.gtable[GRANT_REF].flags, GTF_permit_access, __ATOMIC_RELEASE);
    b.copy_dst_mfn = virt_to_mfn(page_alloc());
}

static void setup(void)
{
    trap_set_handler(3, on_int3);
    trap_set_handler(6, on_ud2);
    trap_set_handler(14, on_page_fault);
    trap_set_handler(TRAP_SYSCALL, on_syscall);
    evtchn_upcall_init();

    b.page_a = pool_pte(page_alloc());
    b.page_b = pool_pte(page_alloc());
    b.pf_pte = pool_pte(page_alloc());
    must(hypercall_vm_assist(VMASST_CMD_enable, VMASST_TYPE_writable_pagetables),
         "writable_pagetables on");
    must(mm_ensure_l1(BENCH_VA), "an L1 for BENCH_VA");
    must(mm_ensure_l1(BENCH_512_VA), "an L1 for BENCH_512_VA");
    must(mm_ensure_l1(PF_VA), "an L1 for PF_VA");
    b.slot_ma = pte_maddr(BENCH_VA, 1);
    b.slot = (volatile uint64_t *)mfn_to_virt(b.slot_ma >> PAGE_SHIFT) +
             ((b.slot_ma & (PAGE_SIZE - 1)) / 8);
    b.l1_512_ma = pte_maddr(BENCH_512_VA, 1);
    for (unsigned int e = 0; e < 512; e++)
        b.req512[e].ptr = (b.l1_512_ma + e * 8) | MMU_NORMAL_PT_UPDATE;
    for (unsigned int e = 0; e < MULTI_ENTRIES; e++)
        b.calls[e] = (multicall_entry_t){ .op = __HYPERVISOR_xen_version,
                                          .args = { XENVER_version, 0 } };
    for (unsigned int l = 0; l < 4; l++)
        b.as_tables[l] = page_alloc();

    must(evtchn_bind_ipi(0, &b.ipi), "EVTCHNOP_bind_ipi");
    evtchn_set_handler(b.ipi, on_ipi, NULL);
    event_channel_unmask_local(b.ipi);
    setup_grants();
    must(user_space_init(bench_user_code, USER_CODE_VA, USER_STACK_VA,
                         trap_stack + sizeof(trap_stack)), "the user address space");
}

static void teardown(void)
{
    unsigned int done = 0;

    for (unsigned int e = 0; e < 512; e++)
        b.req512[e].val = 0;
    must(hypercall_mmu_update(b.req512, 512, &done, DOMID_SELF), "clear the 512 entries");
    must(mmu_update1(b.slot_ma, 0), "clear BENCH_VA");
    b.gtable[GRANT_REF].flags = 0;
    gnttab_map_frame(GRANT_TABLE_VA, 0);
    must(evtchn_close(b.ipi), "close the IPI port");
}

static void sort_u64(uint64_t *v, unsigned int n)
{
    for (unsigned int i = 1; i < n; i++)
        for (unsigned int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            uint64_t t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
}

void test_main(void)
{
    uint64_t batches = cmdline_u64("batches", 7), scale = cmdline_u64("scale", 4);
    static uint64_t cycles[ARRAY_SIZE(ops)][MAX_BATCHES];

    if (!batches || batches > MAX_BATCHES || !scale)
        test_abort("batches must be 1-%d and scale positive", MAX_BATCHES);
    setup();
    if (cmdline_u64("release", 1)) {
        printk("bench_pv: paused at %#lx\n", (unsigned long)(uintptr_t)&bench_release);
        while (!__atomic_load_n(&bench_release, __ATOMIC_ACQUIRE))
            cpu_relax();
        printk("bench_pv: released\n");
    }
    for (uint64_t r = 0; r < batches; r++)
        for (unsigned int o = 0; o < ARRAY_SIZE(ops); o++) {
            uint64_t n = ops[o].iters * scale / 4 ? ops[o].iters * scale / 4 : 1;
            uint64_t t0 = rdtsc();

            ops[o].run(n);
            cycles[o][r] = (rdtsc() - t0) / (n * ops[o].per_call);
        }
    teardown();
    for (unsigned int o = 0; o < ARRAY_SIZE(ops); o++) {
        uint64_t n = ops[o].iters * scale / 4 ? ops[o].iters * scale / 4 : 1;

        sort_u64(cycles[o], (unsigned int)batches);
        printk("bench_pv: op=%s iters=%lu batches=%lu min=%lu median=%lu\n", ops[o].name,
               (unsigned long)(n * ops[o].per_call), (unsigned long)batches,
               (unsigned long)cycles[o][0], (unsigned long)cycles[o][batches / 2]);
    }
    printk("bench_pv: done\n");
}
