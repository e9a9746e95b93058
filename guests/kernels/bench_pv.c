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
 *   vcpu_switch         a switch between our two vCPUs on the one CPU,
 *                       per switch: each side in turn sends an event to
 *                       the other's IPI port and blocks (SCHEDOP_block)
 *                       until the other hands back; one round is two
 *                       switches. Asserted: the turn went back and forth
 *                       n times, and the other vCPU never ran beside us
 *                       (one CPU), so each handoff was a switch. The
 *                       blocks of each side, and those that returned with
 *                       nothing to do, are in the closing summary.
 *   ring_round_trip     a request and its response over a shared ring
 *                       page (public/io/ring.h, as blkif/netif/xenstore)
 *                       between vCPU 0 (front) and vCPU 1 (back), each
 *                       side notified by an interdomain event channel of
 *                       ours bound to its vCPU, waiting in SCHEDOP_block.
 *                       Asserted: each response answers its request, and
 *                       each side notified the other exactly once per
 *                       round trip.
 * The two-vCPU operations need vcpus=2 and one CPU: the harness boots
 * pvcore's domain with vcpus=2 and Xen's dom0 with dom0_max_vcpus=2,
 * both on QEMU -smp 1.
 * Command line: batches=N (default 7), scale=N (iterations x N/4, default
 * 4), release=0|1 (default 1).
 */
#include "lib.h"
#include "evtime.h"
#include "gnttab.h"
#include <public/io/ring.h>

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

/* The ring of ring_round_trip: the front (vCPU 0) asks val, the back
 * (vCPU 1) answers val + 1 under the same id. */
struct bench_req { uint64_t id, val; };
struct bench_rsp { uint64_t id, val; };
XEN_DEFINE_RING_TYPES(bench, struct bench_req, struct bench_rsp);

/* What vCPU 1 (the peer) and vCPU 0 share. vCPU 0 writes turn = 1 and
 * notifies ipi_peer; the peer writes turn = 0 and notifies ipi. */
struct peer_state {
    volatile uint32_t turn;             /* whose move in vcpu_switch */
    volatile bool quit;
    volatile uint64_t handoffs;         /* the peer's, to vCPU 0 */
    volatile uint64_t blocks;           /* the peer's SCHEDOP_blocks */
    volatile uint64_t ring_notifies;    /* the peer's back->front sends */
    volatile uint64_t ring_served;
    evtchn_port_t ipi_peer;             /* IPI bound to vCPU 1 */
    evtchn_port_t ring_front, ring_back;/* loopback pair: front on vCPU 0,
                                           back moved to vCPU 1 */
    struct bench_front_ring front;
    struct bench_back_ring back;
    uint64_t front_notifies;
    volatile uint64_t idle_wakes;       /* the peer's blocks that found nothing */
    uint64_t rounds, vcpu0_blocks, vcpu0_idle_wakes;    /* for the summary */
    uint64_t round_trips;               /* ring_round_trip, likewise */
};
static struct peer_state peer;
static uint8_t ring_page[PAGE_SIZE] ALIGNED(PAGE_SIZE);

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

/* ---- two vCPUs on one CPU ---- */
static void must_send(evtchn_port_t port)
{
    must(evtchn_send(port), "EVTCHNOP_send");
}

static void peer_serve_ring(void)
{
    struct bench_back_ring *r = &peer.back;
    int more, notify;

    do {
        RING_IDX prod = r->sring->req_prod;

        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        while (r->req_cons != prod) {
            const struct bench_req *req = RING_GET_REQUEST(r, r->req_cons);
            struct bench_rsp *rsp = RING_GET_RESPONSE(r, r->rsp_prod_pvt);

            rsp->id = req->id;
            rsp->val = req->val + 1;
            r->req_cons++;
            r->rsp_prod_pvt++;
            peer.ring_served++;
        }
        RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(r, notify);
        /* Ask for the next request's notification before notifying the
         * front: if the send switches to vCPU 0 at once (a woken vCPU may
         * preempt), its next request must still notify us. */
        RING_FINAL_CHECK_FOR_REQUESTS(r, more);
        if (notify) {
            peer.ring_notifies++;
            must_send(peer.ring_back);
        }
    } while (more);
}

static bool peer_has_work(void)
{
    return peer.quit || peer.turn == 1 || RING_HAS_UNCONSUMED_REQUESTS(&peer.back);
}

/* vCPU 1: blocks until vCPU 0 hands it the turn or a ring request (or
 * says quit), answers, blocks again. Events masked but in event_block(). */
static void peer_main(unsigned int id)
{
    (void)id;
    for (;;) {
        while (!peer_has_work()) {
            event_block();
            peer.blocks++;
            if (!peer_has_work())
                peer.idle_wakes++;
        }
        if (peer.quit)
            return;
        if (peer.turn == 1) {
            peer.turn = 0;
            peer.handoffs++;
            must_send(b.ipi);
        }
        if (RING_HAS_UNCONSUMED_REQUESTS(&peer.back))
            peer_serve_ring();
    }
}

static void check_count(const char *op, const char *what, uint64_t got, uint64_t want)
{
    if (got != want)
        test_abort("%s: %lu %s, want %lu", op, (unsigned long)got, what, (unsigned long)want);
}

/* Switches happen where the hypervisor puts them: at the block of the
 * side that handed over, or at its send if the woken side preempts it.
 * Either way the turn alternates, and on one CPU (the peer never runs
 * beside us) each handoff needs one switch: n rounds are 2n switches.
 * Blocks that return with nothing to do are counted for the summary. */
static void op_vcpu_switch(uint64_t n)
{
    uint64_t handoffs = peer.handoffs;
    struct vcpu_runstate_info rs;

    for (uint64_t i = 0; i < n; i++) {
        peer.turn = 1;
        must_send(peer.ipi_peer);
        if (i == 0) {       /* one CPU: the peer waits while we run */
            must(vcpu_runstate(1, &rs), "VCPUOP_get_runstate_info of vCPU 1");
            if (rs.state == RUNSTATE_running)
                test_abort("vcpu_switch: vCPU 1 runs beside vCPU 0: not one CPU");
        }
        while (peer.turn != 0) {
            event_block();
            peer.vcpu0_blocks++;
            if (peer.turn != 0)
                peer.vcpu0_idle_wakes++;
        }
    }
    check_count("vcpu_switch", "handoffs back from vCPU 1", peer.handoffs - handoffs, n);
    peer.rounds += n;
}

static void op_ring_round_trip(uint64_t n)
{
    struct bench_front_ring *r = &peer.front;
    uint64_t served = peer.ring_served, back_notifies = peer.ring_notifies;
    uint64_t front_notifies = peer.front_notifies;
    int notify, more;

    for (uint64_t i = 0; i < n; i++) {
        struct bench_req *req = RING_GET_REQUEST(r, r->req_prod_pvt);
        const struct bench_rsp *rsp;

        req->id = i;
        req->val = i * 3;
        r->req_prod_pvt++;
        RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(r, notify);
        if (notify) {
            peer.front_notifies++;
            must_send(peer.ring_front);
        }
        while (!RING_HAS_UNCONSUMED_RESPONSES(r))
            event_block();
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        rsp = RING_GET_RESPONSE(r, r->rsp_cons);
        if (rsp->id != i || rsp->val != i * 3 + 1)
            test_abort("ring_round_trip: response id %lu val %lu to request id %lu val %lu",
                       (unsigned long)rsp->id, (unsigned long)rsp->val, (unsigned long)i,
                       (unsigned long)(i * 3));
        r->rsp_cons++;
        RING_FINAL_CHECK_FOR_RESPONSES(r, more);
        if (more)
            test_abort("ring_round_trip: a response beyond the one asked for");
    }
    check_count("ring_round_trip", "requests served", peer.ring_served - served, n);
    check_count("ring_round_trip", "front->back notifications",
                peer.front_notifies - front_notifies, n);
    check_count("ring_round_trip", "back->front notifications",
                peer.ring_notifies - back_notifies, n);
    peer.round_trips += n;
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
    { "vcpu_switch",        op_vcpu_switch,        500,  2 },
    { "ring_round_trip",    op_ring_round_trip,    500,  1 },
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

/* vCPU 1 and the ports and ring it shares with vCPU 0. */
static void setup_peer(void)
{
    struct evtchn_bind_vcpu bv;
    struct bench_sring *sring = (struct bench_sring *)ring_page;

    must(evtchn_bind_ipi(1, &peer.ipi_peer), "EVTCHNOP_bind_ipi to vCPU 1 (vcpus=2?)");
    must(evtchn_alloc_unbound(DOMID_SELF, &peer.ring_front), "the ring's front port");
    must(evtchn_bind_interdomain(DOMID_SELF, peer.ring_front, &peer.ring_back),
         "the ring's back port");
    bv = (struct evtchn_bind_vcpu){ .port = peer.ring_back, .vcpu = 1 };
    must(hypercall_event_channel_op(EVTCHNOP_bind_vcpu, &bv), "EVTCHNOP_bind_vcpu");
    event_channel_clear(peer.ring_back);            /* the bind's notification */
    event_channel_unmask_local(peer.ipi_peer);
    event_channel_unmask_local(peer.ring_front);
    event_channel_unmask_local(peer.ring_back);
    SHARED_RING_INIT(sring);
    FRONT_RING_INIT(&peer.front, sring, PAGE_SIZE);
    BACK_RING_INIT(&peer.back, sring, PAGE_SIZE);
    must(vcpu_start(1, peer_main), "VCPUOP_initialise/up of vCPU 1");
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
    setup_peer();
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
    peer.quit = true;
    must_send(peer.ipi_peer);
    while (!vcpu_finished(1))
        hypercall_sched_op(SCHEDOP_yield, NULL);
    must(evtchn_close(peer.ring_front), "close the ring's front port");
    must(evtchn_close(peer.ring_back), "close the ring's back port");
    must(evtchn_close(peer.ipi_peer), "close vCPU 1's IPI port");
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
    printk("bench_pv: vcpu_switch: %lu rounds, handoffs %lu each way; SCHEDOP_blocks "
           "(returned with nothing to do): vCPU 0 %lu (%lu), vCPU 1 %lu (%lu)\n",
           (unsigned long)peer.rounds, (unsigned long)peer.handoffs,
           (unsigned long)peer.vcpu0_blocks, (unsigned long)peer.vcpu0_idle_wakes,
           (unsigned long)peer.blocks, (unsigned long)peer.idle_wakes);
    printk("bench_pv: ring_round_trip: %lu round trips, %lu served, %lu notifications "
           "front->back, %lu back->front\n", (unsigned long)peer.round_trips,
           (unsigned long)peer.ring_served, (unsigned long)peer.front_notifies,
           (unsigned long)peer.ring_notifies);
    printk("bench_pv: done\n");
}
