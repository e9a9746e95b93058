/* The control interface: Domain 0's requests to the hypervisor.
 *
 * Owns: the control block and its anchor (see public/pvcore_ctl.h), the
 * doorbell (COM2, driven through arch/x86_64/serial.c), Domain 0's struct domain (domid 0: a shared_info
 * page and event channels, no vCPU in the machine), and the dispatch of
 * control operations (built from public/pvcore_ctl.h's PVCTL_OPS table,
 * -ENOSYS for unknown ops).
 * Every request is copied out of shared memory before it is looked at
 * (Domain 0 could change it meanwhile), its size must be exactly its op's,
 * and every id and range is checked before anything changes. A request
 * that cannot even be parsed still gets an error response with its id.
 * Ring indices are Domain 0's to move for requests and ours for
 * responses; a request index that runs more than a ring ahead is treated
 * as corrupt and skipped, never trusted to address memory. The indices
 * the hypervisor moves (request consumer, response producer, console
 * producer) are kept in `own` and only published to the block: Domain 0
 * can write the block, never make the hypervisor lose its place.
 * Locking: ctl_lock (trylock: one CPU serves the ring at a time; the
 * others leave it to that one). Runs with interrupts off. */
#include <public/event_channel.h>
#include <public/pvcore_ctl.h>
#include <public/sched.h>
#include "asm/cpu.h"
#include "asm/page.h"
#include "asm/percpu.h"
#include "hv/control.h"
#include "hv/domain.h"
#include "hv/errno.h"
#include "hv/event.h"
#include "hv/grant_table.h"
#include "hv/ioapic.h"
#include "hv/lib.h"
#include "hv/mm.h"
#include "hv/pagetype.h"
#include "asm/guest_mm.h"
#include "hv/printk.h"
#include "hv/pv.h"
#include "hv/sched_credit.h"
#include "hv/serial.h"
#include "hv/schedule.h"
#include "hv/time.h"
#include "hv/traps.h"
#include "hv/apic.h"
#include "hv/smp.h"

static struct pvctl_block *blk;
static struct domain *dom0;
static bool have_doorbell;
static spinlock_t ctl_lock = SPINLOCK_INIT;
static uint64_t boot_id;

/* ---- Doorbell (COM2, through the serial driver) -------------------- */

static void doorbell_init(void)
{
    if (!uart_present(COM2)) {
        pr_info("control: no COM2, so no doorbell; Domain 0 must poll");
        return;
    }
    uart_init(COM2, true);
    uart_drain_rx(COM2, ~0u);
    if (!ioapic_route_isa_irq(3, VEC_DOORBELL, percpu[0].apic_id)) {
        pr_warn("control: doorbell IRQ not routed; served every timer tick instead");
    }
    uart_enable_rx_interrupt(COM2);
    have_doorbell = true;
}

void control_kick_dom0(void)
{
    if (have_doorbell)
        uart_putc(COM2, 1);
}

/* The hypervisor's own copies of the indices it moves in the block:
 * console_prod (written under the console's lock), req_cons and rsp_prod
 * (under ctl_lock). */
static struct {
    uint64_t console_prod;
    uint32_t req_cons, rsp_prod;
} own;

/* ---- Console ring ---------------------------------------------------- */

void control_console_append(const char *s, size_t n)
{
    if (!blk)
        return;
    uint64_t prod = own.console_prod;
    for (size_t i = 0; i < n; i++)
        blk->console[(prod + i) % PVCTL_CONSOLE_SIZE] = s[i];
    __atomic_store_n(&own.console_prod, prod + n, __ATOMIC_RELEASE);
    __atomic_store_n(&blk->console_prod, prod + n, __ATOMIC_RELEASE);
}

/* ---- Operations -------------------------------------------------------- */

/* A guest Domain 0 may still act on (neither dead nor being destroyed),
 * referenced: put_domain it. The operations that take one get it from the
 * dispatch (ctl_op.domid_at), which puts it afterwards. */
static struct domain *guest_domain(uint32_t domid)
{
    if (domid == 0 || domid >= DOMID_FIRST_RESERVED)
        return NULL;
    struct domain *d = get_domain_by_id((domid_t)domid);
    if (d && d->destroy_requested) {
        put_domain(d);
        d = NULL;
    }
    return d;
}

static uint32_t state_of(const struct domain *d)
{
    if (d->destroy_requested)
        return PVCTL_DOM_DYING;
    switch (d->state) {
    case DOM_BUILDING: return PVCTL_DOM_BUILDING;
    case DOM_RUNNING: return PVCTL_DOM_RUNNING;
    case DOM_PAUSED: return PVCTL_DOM_PAUSED;
    case DOM_SHUTDOWN: return PVCTL_DOM_SHUTDOWN;
    default: return PVCTL_DOM_DYING;
    }
}

static void fill_info(const struct domain *d, struct pvctl_domain_info *i)
{
    memset(i, 0, sizeof(*i));
    i->domid = d->id;
    i->state = state_of(d);
    i->shutdown_reason = d->state == DOM_SHUTDOWN ? d->shutdown_reason : 0;
    i->vcpus = d->nr_vcpus;
    i->tot_pages = d->tot_pages;
    i->max_pages = d->max_pages;
    uint64_t now = now_ns();
    for (unsigned int v = 0; v < d->nr_vcpus; v++) {
        const struct vcpu *vc = d->vcpus[v];
        i->cpu_time_ns += vc->cpu_time_ns;
        if (vc->processor >= 0 && now > vc->last_start_ns)
            i->cpu_time_ns += now - vc->last_start_ns;
    }
    i->weight = d->weight;
    i->cap = d->cap;
    memcpy(i->name, d->name, sizeof(i->name) <= sizeof(d->name) ? sizeof(i->name) : sizeof(d->name));
    i->name[PVCTL_NAME_LEN - 1] = '\0';
    memcpy(i->handle, d->handle, sizeof(i->handle));
}

static long op_nop(struct domain *none, const struct pvctl_request *rq,
                   struct pvctl_response *rs)
{
    return 0;
}

static long op_machine_info(struct domain *none, const struct pvctl_request *rq,
                            struct pvctl_response *rs)
{
    rs->u.machine.nr_cpus = nr_cpus_online;
    rs->u.machine.total_frames = frames_managed();
    rs->u.machine.free_frames = frames_free();
    rs->u.machine.tsc_khz = tsc_khz();
    rs->u.machine.boot_id = boot_id;
    rs->u.machine.dom0_ports = evtchn_ports_in_use(dom0);
    rs->size = sizeof(rs->u.machine);
    return 0;
}

static long op_create_domain(struct domain *none, const struct pvctl_request *rq,
                             struct pvctl_response *rs)
{
    const struct pvctl_create *c = &rq->u.create;
    char name[PVCTL_NAME_LEN];
    memcpy(name, c->name, sizeof(name));
    name[sizeof(name) - 1] = '\0';
    if (!name[0] || c->vcpus == 0 || c->vcpus > MAX_VCPUS || c->mem_pages == 0 ||
        c->max_pages < c->mem_pages || c->weight > 65535 ||
        c->cap > 100 * c->vcpus || c->mem_pages > max_mfn)
        return -EINVAL;
    /* A handle names one domain: a second one with the same handle, even
     * beside a dying one, would make the toolstack mistake one for the
     * other. (All-zero handles are anonymous.) */
    static const uint8_t anonymous[16];
    if (memcmp(c->handle, anonymous, sizeof(anonymous)) && domain_handle_in_use(c->handle))
        return -EEXIST;
    struct domain_config cfg = {
        .name = name, .mem_pages = c->mem_pages, .max_pages = c->max_pages,
        .vcpus = c->vcpus, .weight = c->weight ? c->weight : 256, .cap = c->cap,
        .first_pages = PVCTL_POPULATE_PAGES,
    };
    int err;
    struct domain *d = domain_create(&cfg, &err);
    if (!d)
        return err;
    memcpy(d->handle, c->handle, sizeof(d->handle));
    rs->u.created.domid = d->id;
    rs->u.created.shared_info = (uint64_t)d->shared_info_mfn << PAGE_SHIFT;
    rs->u.created.unpopulated = d->unpopulated;
    rs->size = sizeof(rs->u.created);
    pr_info("control: domain %u (%s) created: %lu pages (%lu to populate), %u vCPU", d->id,
            d->name, c->mem_pages, d->unpopulated, c->vcpus);
    return 0;
}

/* The next PVCTL_POPULATE_PAGES frames of a building domain's reservation:
 * creation is a series of bounded calls, so neither this CPU nor the
 * control ring is held for seconds by a large domain. */
static long op_populate(struct domain *d, const struct pvctl_request *rq,
                        struct pvctl_response *rs)
{
    (void)rq;
    long left = domain_populate(d, PVCTL_POPULATE_PAGES);
    if (left < 0)
        return left;
    rs->u.populated.unpopulated = (uint64_t)left;
    rs->size = sizeof(rs->u.populated);
    return 0;
}

static long op_get_frames(struct domain *d, const struct pvctl_request *rq,
                          struct pvctl_response *rs)
{
    uint64_t start = rq->u.frames.start, count = rq->u.frames.count;
    if (count > PVCTL_BULK_SIZE / 8)
        return -EINVAL;
    /* The guest may balloon on another CPU meanwhile: the list and its
     * length are read under the page lock, as one snapshot. */
    spin_lock(&d->page_lock);
    if (start > d->tot_pages || count > d->tot_pages - start) {
        spin_unlock(&d->page_lock);
        return -EINVAL;
    }
    uint64_t *out = (uint64_t *)blk->bulk;
    uint64_t pfn = 0, n = 0;
    struct list_head *pos;
    list_for_each(pos, &d->page_list) {
        if (pfn >= start + count)
            break;
        if (pfn >= start)
            out[n++] = (uint64_t)(list_entry(pos, struct page_info, list) - frame_table);
        pfn++;
    }
    spin_unlock(&d->page_lock);
    rs->u.frames.count = n;
    rs->size = sizeof(rs->u.frames);
    return 0;
}

/* Under d->lock, d building or paused (domain_while_state). */
static long set_vcpu_context_locked(struct domain *d, const void *arg)
{
    const struct pvctl_vcpu_context *c = arg;
    struct vcpu *v = d->vcpus[c->vcpu];
    if (v->state != VCPU_DOWN)
        return -EBUSY;
    long rc = vcpu_set_guest_table(v, c->l4_mfn, false);
    if (rc)
        return rc;
    vcpu_set_start_state(v, c->rip, c->rsp, c->rsi);
    v->initialised = true;
    return 0;
}

static long op_set_vcpu_context(struct domain *d, const struct pvctl_request *rq,
                                struct pvctl_response *rs)
{
    const struct pvctl_vcpu_context *c = &rq->u.ctx;
    if (c->vcpu >= d->nr_vcpus)
        return -EINVAL;
    /* As VCPUOP_initialise: the vCPU is started on an IRET to rip/rsp,
     * which must be canonical, before anything changes. */
    if (c->l4_mfn == 0 || c->l4_mfn >= max_mfn || !is_canonical_address(c->rip) ||
        !is_canonical_address(c->rsp))
        return -EINVAL;
    return domain_while_state(d, DOMS(DOM_BUILDING) | DOMS(DOM_PAUSED),
                              set_vcpu_context_locked, c);
}

static long op_unpause(struct domain *d, const struct pvctl_request *rq,
                       struct pvctl_response *rs)
{
    return domain_unpause(d);
}

static long op_pause(struct domain *d, const struct pvctl_request *rq, struct pvctl_response *rs)
{
    return domain_pause(d);
}

static long op_shutdown(struct domain *d, const struct pvctl_request *rq,
                        struct pvctl_response *rs)
{
    if (rq->u.dom.arg > SHUTDOWN_MAX)
        return -EINVAL;
    if (d->state == DOM_SHUTDOWN)
        return -EALREADY;
    domain_shutdown(d, rq->u.dom.arg);
    return 0;
}

static long op_destroy(struct domain *none, const struct pvctl_request *rq,
                       struct pvctl_response *rs)
{
    if (rq->u.dom.domid == 0)
        return -EPERM;                      /* Domain 0 is not a guest */
    struct domain *g = guest_domain(rq->u.dom.domid);
    if (!g)
        return -ESRCH;
    domain_request_destroy(g);
    put_domain(g);
    return 0;
}

static long op_get_info(struct domain *none, const struct pvctl_request *rq,
                        struct pvctl_response *rs)
{
    uint32_t id = rq->u.dom.domid;
    struct domain *g = id && id < DOMID_FIRST_RESERVED ? get_domain_owning((domid_t)id) : NULL;
    if (!g)
        return -ESRCH;
    fill_info(g, &rs->u.info);
    put_domain(g);
    rs->size = sizeof(rs->u.info);
    return 0;
}

static long op_list_domains(struct domain *none, const struct pvctl_request *rq,
                            struct pvctl_response *rs)
{
    struct pvctl_domain_info *out = (struct pvctl_domain_info *)blk->bulk;
    uint32_t n = 0;
    struct domain *g;
    for (unsigned int i = 0; n < PVCTL_MAX_DOMAINS && (g = get_domain_live(i)); i++) {
        fill_info(g, &out[n++]);
        put_domain(g);
    }
    rs->size = n * (uint32_t)sizeof(*out);
    return 0;
}

static long op_set_max_mem(struct domain *d, const struct pvctl_request *rq,
                           struct pvctl_response *rs)
{
    if (rq->u.maxmem.max_pages == 0 || rq->u.maxmem.max_pages > max_mfn)
        return -EINVAL;
    d->max_pages = rq->u.maxmem.max_pages;
    return 0;
}

static long op_set_sched(struct domain *d, const struct pvctl_request *rq,
                         struct pvctl_response *rs)
{
    return csched_set_params(d, rq->u.sched.weight, rq->u.sched.cap);
}

/* Domain 0's ports for a guest (d, from the dispatch). */
static long op_evtchn_guest(struct domain *d, const struct pvctl_request *rq,
                            struct pvctl_response *rs)
{
    const struct pvctl_evtchn *e = &rq->u.evtchn;
    long rc;

    switch (rq->op) {
    case PVCTL_OP_EVTCHN_ALLOC_UNBOUND: {
        struct evtchn_alloc_unbound a = { .dom = DOMID_SELF, .remote_dom = d->id };
        rc = evtchn_do(dom0, EVTCHNOP_alloc_unbound, &a);
        rs->u.port = a.port;
        break;
    }
    case PVCTL_OP_EVTCHN_BIND_INTERDOMAIN: {
        struct evtchn_bind_interdomain b = { .remote_dom = d->id, .remote_port = e->port };
        rc = evtchn_do(dom0, EVTCHNOP_bind_interdomain, &b);
        rs->u.port = b.local_port;
        break;
    }
    default:                                /* PVCTL_OP_EVTCHN_CONNECT */
        rc = evtchn_connect(d, dom0, &rs->u.connect.remote_port, &rs->u.connect.port);
        rs->size = sizeof(rs->u.connect);
        return rc;
    }
    rs->size = sizeof(rs->u.port);
    return rc;
}

/* Domain 0's own ports: send, close. */
static long op_evtchn(struct domain *none, const struct pvctl_request *rq,
                      struct pvctl_response *rs)
{
    const struct pvctl_evtchn *e = &rq->u.evtchn;
    long rc;

    if (rq->op == PVCTL_OP_EVTCHN_SEND) {
        struct evtchn_send snd = { .port = e->port };
        rc = evtchn_do(dom0, EVTCHNOP_send, &snd);
    } else {
        struct evtchn_close c = { .port = e->port };
        rc = evtchn_do(dom0, EVTCHNOP_close, &c);
    }
    rs->size = sizeof(rs->u.port);
    return rc;
}

/* One grant map or unmap of Domain 0's: the single ops and every entry
 * of a batch go through these, so an entry is checked exactly as the
 * single op checks it and refused with the same errno. */
static long grant_map_one(uint32_t domid, uint32_t gref, uint32_t flags, uint64_t *mfn,
                          uint32_t *handle)
{
    if (domid == 0 || domid > 0xffff)
        return -ESRCH;
    return gnttab_map_for(dom0, (domid_t)domid, gref, flags, mfn, handle);
}

static long grant_unmap_one(uint32_t handle)
{
    return gnttab_unmap_for(dom0, handle);
}

/* Entries in bulk: 1..PVCTL_GRANT_BATCH_MAX (bounded, so the op is short
 * and needs no continuation). */
static long grant_batch_count(const struct pvctl_request *rq, uint32_t *n)
{
    *n = rq->u.grant_batch.count;
    if (*n == 0)
        return -EINVAL;
    return *n > PVCTL_GRANT_BATCH_MAX ? -E2BIG : 0;
}

/* Each entry is copied out of bulk before it is looked at (Domain 0 may
 * change it meanwhile) and its results written back whole. */
static long op_grant_map_batch(struct domain *none, const struct pvctl_request *rq,
                               struct pvctl_response *rs)
{
    struct pvctl_grant_map_entry *bulk_e = (struct pvctl_grant_map_entry *)blk->bulk;
    uint32_t n;
    long rc = grant_batch_count(rq, &n);

    if (rc)
        return rc;
    for (uint32_t i = 0; i < n; i++) {
        struct pvctl_grant_map_entry e;
        memcpy(&e, &bulk_e[i], sizeof(e));
        e.mfn = 0;
        e.handle = 0;
        e.status = (int32_t)grant_map_one(e.domid, e.gref, e.flags, &e.mfn, &e.handle);
        memcpy(&bulk_e[i], &e, sizeof(e));
    }
    rs->size = n * (uint32_t)sizeof(*bulk_e);
    return 0;
}

static long op_grant_unmap_batch(struct domain *none, const struct pvctl_request *rq,
                                 struct pvctl_response *rs)
{
    struct pvctl_grant_unmap_entry *bulk_e = (struct pvctl_grant_unmap_entry *)blk->bulk;
    uint32_t n;
    long rc = grant_batch_count(rq, &n);

    if (rc)
        return rc;
    for (uint32_t i = 0; i < n; i++) {
        struct pvctl_grant_unmap_entry e;
        memcpy(&e, &bulk_e[i], sizeof(e));
        e.status = (int32_t)grant_unmap_one(e.handle);
        memcpy(&bulk_e[i], &e, sizeof(e));
    }
    rs->size = n * (uint32_t)sizeof(*bulk_e);
    return 0;
}

static long op_grant(struct domain *none, const struct pvctl_request *rq,
                     struct pvctl_response *rs)
{
    const struct pvctl_grant_map *g = &rq->u.grant;

    switch (rq->op) {
    case PVCTL_OP_GRANT_MAP:
        rs->size = sizeof(rs->u.grant);
        return grant_map_one(g->domid, g->gref, g->flags, &rs->u.grant.mfn,
                             &rs->u.grant.handle);
    case PVCTL_OP_GRANT_UNMAP:
        return grant_unmap_one(g->handle);
    default: {
        uint32_t n = rq->u.grant_copy.count;
        if (n == 0 || n > PVCTL_BULK_SIZE / sizeof(struct gnttab_copy))
            return -EINVAL;
        return gnttab_copy_for(dom0, (struct gnttab_copy *)blk->bulk, n);
    }
    }
}

/* Pin or unpin a page table on a domain's behalf (the builder's tables,
 * before the domain runs): the same validation as the guest's own pin. */
static long pin_locked(struct domain *d, const void *arg)
{
    const struct pvctl_request *rq = arg;
    const struct pvctl_pin *p = &rq->u.pin;
    long rc;

    spin_lock(&d->mm_lock);
    if (rq->op == PVCTL_OP_PIN_TABLE)
        rc = pt_pin(d, p->mfn, pgt_of_level(p->level));
    else
        rc = pt_unpin(d, p->mfn);
    spin_unlock(&d->mm_lock);
    return rc;
}

static long op_pin(struct domain *d, const struct pvctl_request *rq, struct pvctl_response *rs)
{
    const struct pvctl_pin *p = &rq->u.pin;

    if (p->mfn >= max_mfn)
        return -EINVAL;
    if (rq->op == PVCTL_OP_PIN_TABLE && (p->level < 1 || p->level > 4))
        return -EINVAL;
    /* Not once its teardown has begun (DOM_DEAD): it drops every pin it
     * finds, and a pin taken behind it would keep frames forever. */
    return domain_while_state(d, DOMS(DOM_BUILDING) | DOMS(DOM_RUNNING) | DOMS(DOM_PAUSED) |
                              DOMS(DOM_SHUTDOWN), pin_locked, rq);
}

static long op_console_read(struct domain *none, const struct pvctl_request *rq,
                            struct pvctl_response *rs)
{
    uint64_t prod = __atomic_load_n(&own.console_prod, __ATOMIC_ACQUIRE);
    uint64_t from = rq->u.console.from;
    uint64_t oldest = prod > PVCTL_CONSOLE_SIZE ? prod - PVCTL_CONSOLE_SIZE : 0;
    if (from > prod)
        return -EINVAL;
    rs->u.console.lost = from < oldest ? oldest - from : 0;
    if (from < oldest)
        from = oldest;
    uint64_t n = MIN(prod - from, (uint64_t)PVCTL_BULK_SIZE);
    for (uint64_t i = 0; i < n; i++)
        blk->bulk[i] = (uint8_t)blk->console[(from + i) % PVCTL_CONSOLE_SIZE];
    rs->u.console.next = from + n;
    rs->size = (uint32_t)n;
    return 0;
}

static long op_set_console(struct domain *d, const struct pvctl_request *rq,
                           struct pvctl_response *rs)
{
    const struct pvctl_set_console *c = &rq->u.setcons;
    if (c->console_pfn >= d->tot_pages || c->store_pfn >= d->tot_pages ||
        c->console_port >= d->max_evtchns || c->store_port >= d->max_evtchns)
        return -EINVAL;
    d->console_evtchn = c->console_port;
    return 0;
}

/* Handlers shared by several ops (they switch on rq->op). */
#define op_evtchn_alloc_unbound op_evtchn_guest
#define op_evtchn_bind_interdomain op_evtchn_guest
#define op_evtchn_connect op_evtchn_guest
#define op_evtchn_send op_evtchn
#define op_evtchn_close op_evtchn
#define op_grant_map op_grant
#define op_grant_unmap op_grant
#define op_grant_copy op_grant
#define op_pin_table op_pin
#define op_unpin_table op_pin

/* The dispatch, from public/pvcore_ctl.h's table: op_<name> with the
 * payload size it takes; for a GUEST op, the guest named by the payload's
 * first word, looked up, referenced and put here (-ESRCH when it does not
 * exist or is being destroyed); d is NULL for the others. */
struct ctl_op {
    long (*fn)(struct domain *d, const struct pvctl_request *, struct pvctl_response *);
    uint32_t size;
    bool guest;
};

#define CTL_OP(NAME, name, number, request, reply, bulk, target) \
    [PVCTL_OP_##NAME] = { op_##name, sizeof(request), PVCTL_TARGET_IS_##target },
static const struct ctl_op ops[PVCTL_OP_MAX] = { PVCTL_OPS(CTL_OP) };

static long dispatch(const struct ctl_op *op, const struct pvctl_request *rq,
                     struct pvctl_response *rs)
{
    if (!op->guest)
        return op->fn(NULL, rq, rs);
    uint32_t domid;
    memcpy(&domid, &rq->u, sizeof(domid));
    struct domain *d = guest_domain(domid);
    if (!d)
        return -ESRCH;
    long rc = op->fn(d, rq, rs);
    put_domain(d);
    return rc;
}

/* Serve one request: true when Domain 0 waits for its answer (not posted). */
static bool serve_one(const struct pvctl_request *shared, struct pvctl_response *rs)
{
    struct pvctl_request rq;
    bool awaited;

    memcpy(&rq, shared, sizeof(rq));        /* Domain 0 may change it meanwhile */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    awaited = !(rq.op & PVCTL_OP_POSTED);
    rq.op &= ~PVCTL_OP_POSTED;
    memset(rs, 0, sizeof(*rs));
    rs->id = rq.id;
    if (rq.op >= PVCTL_OP_MAX || !ops[rq.op].fn)
        rs->status = -ENOSYS;
    else if (rq.size != ops[rq.op].size)
        rs->status = -EINVAL;
    else
        rs->status = (int32_t)dispatch(&ops[rq.op], &rq, rs);
    return awaited;
}

void control_poll(void)
{
    if (!blk || !spin_trylock(&ctl_lock))
        return;
    /* Kicks carry no data: drop any still queued, so that the UART's
     * interrupt line falls and the next kick raises a new edge even when
     * we got here from the timer rather than the doorbell interrupt. */
    if (have_doorbell)
        uart_drain_rx(COM2, 64);
    bool answered = false;
    for (;;) {
        uint32_t cons = own.req_cons;
        uint32_t prod = __atomic_load_n(&blk->req_prod, __ATOMIC_ACQUIRE);
        if (cons == prod)
            break;
        if (prod - cons > PVCTL_RING_SIZE) {
            pr_warn("control: request ring indices corrupt (prod %u cons %u); skipping to prod",
                    prod, cons);
            own.req_cons = prod;
            __atomic_store_n(&blk->req_cons, prod, __ATOMIC_RELEASE);
            break;
        }
        uint32_t rprod = own.rsp_prod;
        if (rprod - __atomic_load_n(&blk->rsp_cons, __ATOMIC_ACQUIRE) >= PVCTL_RING_SIZE)
            break;                          /* Domain 0 must take responses first */
        struct pvctl_response rs;
        bool awaited = serve_one(&blk->req[cons % PVCTL_RING_SIZE], &rs);
        blk->rsp[rprod % PVCTL_RING_SIZE] = rs;
        own.rsp_prod = rprod + 1;
        own.req_cons = cons + 1;
        __atomic_store_n(&blk->rsp_prod, rprod + 1, __ATOMIC_RELEASE);
        __atomic_store_n(&blk->req_cons, cons + 1, __ATOMIC_RELEASE);
        /* a posted request's answer (Domain 0 waits for none and drops
         * it when it next posts or calls) is no reason to wake it */
        if (awaited)
            answered = true;
    }
    spin_unlock(&ctl_lock);
    if (answered)
        control_kick_dom0();
}

void control_doorbell_interrupt(void)
{
    uart_drain_rx(COM2, 64);
    uart_ack_interrupt(COM2);
    lapic_eoi();
    control_poll();
}

void control_init(void)
{
    unsigned int order = 0;
    memset(&own, 0, sizeof(own));           /* a new block starts at 0 (host tests boot many) */
    while ((PAGE_SIZE << order) < PVCTL_BLOCK_PAGES * PAGE_SIZE)
        order++;
    int64_t mfn = alloc_frames(order);
    if (mfn < 0)
        panic("control: no memory for the control block");
    for (uint64_t i = 0; i < (1UL << order); i++)
        frame_table[mfn + i].owner = OWNER_HV;
    blk = mfn_to_virt((mfn_t)mfn);
    memset(blk, 0, PAGE_SIZE << order);

    int err;
    dom0 = domain_create_dom0(&err);
    if (!dom0)
        panic("control: cannot create Domain 0 (%d)", err);

    boot_id = rdtsc() ^ ((uint64_t)now_ns() << 17);
    blk->version = PVCTL_VERSION;
    blk->size = PVCTL_BLOCK_PAGES * PAGE_SIZE;
    blk->boot_id = boot_id;
    blk->dom0_shared_info = (uint64_t)dom0->shared_info_mfn << PAGE_SHIFT;
    gnttab_set_dom0_window(dom0, ((uint64_t)mfn << PAGE_SHIFT) + offsetof(struct pvctl_block, bulk),
                           PVCTL_BULK_SIZE);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    blk->magic = PVCTL_BLOCK_MAGIC;

    struct pvctl_anchor *a = __va(PVCTL_ANCHOR_PADDR);
    memset(a, 0, sizeof(*a));
    a->block_paddr = (uint64_t)mfn << PAGE_SHIFT;
    a->version = PVCTL_VERSION;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    memcpy(a->magic, PVCTL_ANCHOR_MAGIC, sizeof(PVCTL_ANCHOR_MAGIC));

    doorbell_init();
    pr_info("control: block v%u at %#lx (anchor at %#llx), Domain 0 shared_info at %#lx%s",
            PVCTL_VERSION, (uint64_t)mfn << PAGE_SHIFT, PVCTL_ANCHOR_PADDR,
            blk->dom0_shared_info, have_doorbell ? ", doorbell on COM2" : "");
}
