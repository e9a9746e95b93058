/* Host unit tests of the FIFO event channel ABI (common/evtchn_fifo.c)
 * through the EVTCHNOP hypercall entry (common/event_channel.c), on
 * tests/unit/mm's harness: guest frames are frames of the harness's fake
 * machine memory, their references are the real frame table's.
 *
 * Domain 1 is current, with two vCPUs; the test plays the guest: it reads
 * event words, the control block's heads and ready bits, and unlinks
 * consumed events the way a guest does (clearing LINKED and LINK). */
#include "harness.h"
#include "hv/event.h"
#include "hv/control.h"
#include "hv/pagetype.h"
#include "hv/schedule.h"
#include "hv/smp.h"

#define W_PENDING (1u << EVTCHN_FIFO_PENDING)
#define W_MASKED  (1u << EVTCHN_FIFO_MASKED)
#define W_LINKED  (1u << EVTCHN_FIFO_LINKED)
#define PRIO      EVTCHN_FIFO_PRIORITY_DEFAULT

static struct domain *dom;
static unsigned int wakes, dom0_kicks;

/* What the rest of the hypervisor provides to event_channel.c. */
void free_hv_page(void *va)
{
    free_frames(virt_to_mfn(va), 0);
}
void vcpu_wake(struct vcpu *v)
{
    (void)v;
    wakes++;
}
void smp_send_resched(unsigned int cpu)
{
    (void)cpu;
}
void control_kick_dom0(void)
{
    dom0_kicks++;
}

static long op(unsigned int cmd, void *arg)
{
    return do_event_channel_op(cmd, (uint64_t)arg);
}

static void add_vcpu(struct domain *d, unsigned int id)
{
    struct vcpu *v = d->vcpus[id];
    if (!v) {
        v = calloc(1, sizeof(*v));
        assert_non_null(v);
        v->domain = d;
        d->vcpus[id] = v;
    }
    v->id = id;
    v->processor = -1;                      /* not loaded: no IPI to send */
    v->state = VCPU_RUNNABLE;
    v->vcpu_info = &d->shared_info->vcpu_info[id];
    if (d->nr_vcpus <= id)
        d->nr_vcpus = id + 1;
}

static int setup(void **state)
{
    (void)state;
    harness_init();
    dom = harness_domain(1, 64, 0, true);
    dom->shared_info = alloc_hv_page();
    assert_non_null(dom->shared_info);
    add_vcpu(dom, 0);
    add_vcpu(dom, 1);
    assert_int_equal(evtchn_init(dom, EVTCHN_DEFAULT_MAX), 0);
    wakes = dom0_kicks = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    evtchn_destroy(dom);
    evtchn_free(dom);
    harness_fini();
    return 0;
}

static long init_control(mfn_t gfn, uint32_t offset, uint32_t vcpu, uint8_t *bits)
{
    struct evtchn_init_control ic = { .control_gfn = gfn, .offset = offset, .vcpu = vcpu };
    long rc = op(EVTCHNOP_init_control, &ic);
    if (bits)
        *bits = ic.link_bits;
    return rc;
}

static long expand(mfn_t gfn)
{
    struct evtchn_expand_array ea = { .array_gfn = gfn };
    return op(EVTCHNOP_expand_array, &ea);
}

static evtchn_port_t bind_ipi(uint32_t vcpu)
{
    struct evtchn_bind_ipi b = { .vcpu = vcpu };
    assert_int_equal(op(EVTCHNOP_bind_ipi, &b), 0);
    return b.port;
}

static long send(evtchn_port_t port)
{
    struct evtchn_send s = { .port = port };
    return op(EVTCHNOP_send, &s);
}

static long close_port(evtchn_port_t port)
{
    struct evtchn_close c = { .port = port };
    return op(EVTCHNOP_close, &c);
}

/* A FIFO domain: vCPU 0's control block and one event-array page. */
static struct evtchn_fifo_control_block *cb0;
static event_word_t *words;
static mfn_t cb0_mfn, page_mfn;

static void go_fifo(void)
{
    uint8_t bits = 0;
    cb0_mfn = harness_frame(dom);
    page_mfn = harness_frame(dom);
    cb0 = mfn_to_virt(cb0_mfn);
    words = mfn_to_virt(page_mfn);
    memset(cb0, 0, PAGE_SIZE);
    memset(words, 0, PAGE_SIZE);
    assert_int_equal(init_control(cb0_mfn, 0, 0, &bits), 0);
    assert_int_equal(bits, EVTCHN_FIFO_LINK_BITS);
    assert_int_equal(expand(page_mfn), 0);
}

/* The guest takes the event at port: unlinks it, clears PENDING. */
static void consume(evtchn_port_t port)
{
    words[port] &= ~(W_LINKED | W_PENDING | EVTCHN_FIFO_LINK_MASK);
}

static void test_refusals_change_nothing(void **state)
{
    (void)state;
    mfn_t cb = harness_frame(dom);
    struct domain *other = harness_domain(2, 8, 1, false);
    mfn_t foreign = harness_frame(other);
    uint32_t refs = ref_count(cb);

    assert_int_equal(init_control(cb, 0, 5, NULL), -ENOENT);
    assert_int_equal(init_control(cb, 4, 0, NULL), -EINVAL);
    assert_int_equal(init_control(cb, PAGE_SIZE - 64, 0, NULL), -EINVAL);
    assert_int_equal(init_control(foreign, 0, 0, NULL), -EINVAL);
    assert_int_equal(init_control(max_mfn, 0, 0, NULL), -EINVAL);
    assert_int_equal(ref_count(cb), refs);
    assert_int_equal(type_count(cb), 0);
    assert_ptr_equal(dom->evtchn_ops, &evtchn_2l_ops);
    assert_int_equal(dom->max_evtchns, EVTCHN_DEFAULT_MAX);
    assert_int_equal(expand(cb), -EOPNOTSUPP);
    /* The last offset at which the block fits is accepted. */
    assert_int_equal(init_control(cb, PAGE_SIZE - 72, 0, NULL), 0);
    assert_int_equal(ref_count(cb), refs + 1);
    assert_int_equal(type_of(cb), PGT_writable);
}

static void test_references_and_reset(void **state)
{
    (void)state;
    mfn_t cb = harness_frame(dom), pg = harness_frame(dom);
    uint32_t cb_refs = ref_count(cb), pg_refs = ref_count(pg);
    struct evtchn_reset r = { .dom = DOMID_SELF };

    assert_int_equal(init_control(cb, 0, 0, NULL), 0);
    assert_ptr_equal(dom->evtchn_ops, &evtchn_fifo_ops);
    assert_int_equal(dom->max_evtchns, EVTCHN_FIFO_MAX_PORTS);
    assert_int_equal(init_control(cb, 0, 0, NULL), -EINVAL);    /* again */
    assert_int_equal(ref_count(cb), cb_refs + 1);
    assert_int_equal(expand(pg), 0);
    assert_int_equal(ref_count(pg), pg_refs + 1);
    assert_int_equal(type_count(pg), 1);

    assert_int_equal(op(EVTCHNOP_reset, &r), 0);
    assert_int_equal(ref_count(cb), cb_refs);
    assert_int_equal(ref_count(pg), pg_refs);
    assert_int_equal(type_count(cb), 0);
    assert_ptr_equal(dom->evtchn_ops, &evtchn_2l_ops);
    assert_int_equal(dom->max_evtchns, EVTCHN_DEFAULT_MAX);
    assert_int_equal(expand(pg), -EOPNOTSUPP);
}

static void test_queue_links(void **state)
{
    (void)state;
    go_fifo();
    evtchn_port_t a = bind_ipi(0), b = bind_ipi(0), c = bind_ipi(0);

    assert_int_equal(send(a), 0);
    assert_int_equal(words[a], W_PENDING | W_LINKED);
    assert_int_equal(cb0->head[PRIO], a);
    assert_int_equal(cb0->ready, 1u << PRIO);
    assert_int_equal(dom->vcpus[0]->vcpu_info->evtchn_upcall_pending, 1);

    /* Behind a tail the guest has not taken yet: linked, no new head. */
    cb0->ready = 0;
    assert_int_equal(send(b), 0);
    assert_int_equal(words[a] & EVTCHN_FIFO_LINK_MASK, b);
    assert_int_equal(cb0->head[PRIO], a);
    assert_int_equal(cb0->ready, 0);

    /* The guest took both: the queue is empty, c is the new head. */
    consume(a);
    consume(b);
    assert_int_equal(send(c), 0);
    assert_int_equal(words[b] & EVTCHN_FIFO_LINK_MASK, 0);
    assert_int_equal(cb0->head[PRIO], c);
    assert_int_equal(cb0->ready, 1u << PRIO);

    /* Pending again while still linked: nothing more to link. */
    cb0->ready = 0;
    words[c] &= ~W_PENDING;
    assert_int_equal(send(c), 0);
    assert_int_equal(words[c], W_PENDING | W_LINKED);
    assert_int_equal(cb0->ready, 0);
}

static void test_reused_tail_is_not_linked_to_itself(void **state)
{
    (void)state;
    go_fifo();
    evtchn_port_t p = bind_ipi(0);

    assert_int_equal(send(p), 0);
    consume(p);                         /* p is still the hypervisor's tail */
    assert_int_equal(close_port(p), 0);
    assert_int_equal(bind_ipi(0), p);   /* same number again */
    cb0->ready = 0;
    cb0->head[PRIO] = 0;
    assert_int_equal(send(p), 0);
    assert_int_equal(words[p], W_PENDING | W_LINKED);   /* LINK 0: not to itself */
    assert_int_equal(cb0->head[PRIO], p);
    assert_int_equal(cb0->ready, 1u << PRIO);
}

static void test_priority_mask_and_pages(void **state)
{
    (void)state;
    go_fifo();
    evtchn_port_t a = bind_ipi(0), m = bind_ipi(0);
    struct evtchn_set_priority sp = { .port = a, .priority = 3 };
    struct evtchn_unmask um = { .port = m };

    assert_int_equal(op(EVTCHNOP_set_priority, &sp), 0);
    assert_int_equal(send(a), 0);
    assert_int_equal(cb0->head[3], a);
    assert_int_equal(cb0->ready, 1u << 3);
    sp.priority = 16;
    assert_int_equal(op(EVTCHNOP_set_priority, &sp), -EINVAL);

    /* Masked: pending, not linked, until EVTCHNOP_unmask. */
    words[m] = W_MASKED;
    assert_int_equal(send(m), 0);
    assert_int_equal(words[m], W_MASKED | W_PENDING);
    words[m] &= ~W_MASKED;              /* the guest unmasks, then asks */
    assert_int_equal(op(EVTCHNOP_unmask, &um), 0);
    assert_int_equal(words[m], W_PENDING | W_LINKED);
    assert_int_equal(cb0->head[PRIO], m);

    /* A port beyond the array keeps its event until its page comes. */
    evtchn_port_t hi = 0;
    for (unsigned int i = 0; i < EVTCHN_FIFO_WORDS_PER_PAGE && hi < 1024; i++)
        hi = bind_ipi(0);
    assert_int_equal(hi, 1024);
    assert_int_equal(send(hi), 0);
    mfn_t pg2 = harness_frame(dom);
    event_word_t *words2 = mfn_to_virt(pg2);
    memset(words2, 0, PAGE_SIZE);
    assert_int_equal(expand(pg2), 0);
    assert_int_equal(words2[0], W_PENDING | W_LINKED);
}

static void test_vcpus_and_bind_vcpu(void **state)
{
    (void)state;
    go_fifo();
    mfn_t cb1_mfn = harness_frame(dom);
    struct evtchn_fifo_control_block *cb1 = mfn_to_virt(cb1_mfn);
    memset(cb1, 0, PAGE_SIZE);
    struct evtchn_alloc_unbound au = { .dom = DOMID_SELF, .remote_dom = DOMID_SELF };
    assert_int_equal(op(EVTCHNOP_alloc_unbound, &au), 0);
    struct evtchn_bind_interdomain bi = { .remote_dom = DOMID_SELF, .remote_port = au.port };
    assert_int_equal(op(EVTCHNOP_bind_interdomain, &bi), 0);
    evtchn_port_t a = au.port, b = bi.local_port;
    consume(b);                         /* the bind's notification */
    cb0->ready = 0;

    /* vCPU 1 without a control block: dropped, not even PENDING. */
    struct evtchn_bind_vcpu bv = { .port = a, .vcpu = 1 };
    assert_int_equal(op(EVTCHNOP_bind_vcpu, &bv), 0);
    assert_int_equal(send(b), 0);
    assert_int_equal(words[a], 0);

    assert_int_equal(init_control(cb1_mfn, 64, 1, NULL), 0);
    cb1 = (void *)((char *)cb1 + 64);
    assert_int_equal(send(b), 0);
    assert_int_equal(cb1->head[PRIO], a);
    assert_int_equal(cb1->ready, 1u << PRIO);
    assert_int_equal(cb0->ready, 0);
    assert_int_equal(dom->vcpus[1]->vcpu_info->evtchn_upcall_pending, 1);

    /* Back to vCPU 0, while still linked on vCPU 1: it stays there... */
    bv.vcpu = 0;
    assert_int_equal(op(EVTCHNOP_bind_vcpu, &bv), 0);
    assert_int_equal(send(b), 0);
    assert_int_equal(cb0->ready, 0);
    /* ...and its next link is on vCPU 0's queue. */
    consume(a);
    assert_int_equal(send(b), 0);
    assert_int_equal(cb0->head[PRIO], a);
    assert_int_equal(cb0->ready, 1u << PRIO);
}

static void test_destroy_releases_frames(void **state)
{
    (void)state;
    uint64_t free_before = frames_free();
    go_fifo();
    uint32_t cb_refs = ref_count(cb0_mfn), pg_refs = ref_count(page_mfn);
    for (unsigned int i = 0; i < 600; i++)      /* a few buckets */
        bind_ipi(0);
    evtchn_destroy(dom);
    evtchn_free(dom);
    assert_int_equal(ref_count(cb0_mfn), cb_refs - 1);
    assert_int_equal(ref_count(page_mfn), pg_refs - 1);
    assert_int_equal(type_count(page_mfn), 0);
    /* The FIFO state page and the buckets are back; the two guest frames
     * (allocated after free_before) stay the domain's. The first ports
     * and the bucket pointers live in struct domain. */
    assert_int_equal(frames_free(), free_before - 2);
    assert_int_equal(evtchn_init(dom, EVTCHN_DEFAULT_MAX), 0);  /* for teardown */
}

/* The first EVTCHN_INLINE_PORTS ports live in struct domain: binding them
 * takes no page; the next one takes bucket 0 (whose first entries stay
 * unused), and ports on both sides work alike. */
static void test_first_ports_in_struct_domain(void **state)
{
    (void)state;
    const evtchn_port_t last = EVTCHN_INLINE_PORTS - 1, next = EVTCHN_INLINE_PORTS;
    const xen_ulong_t *pending = dom->shared_info->evtchn_pending;
    uint64_t free_before = frames_free();

    for (evtchn_port_t p = 1; p <= last; p++)
        assert_int_equal(bind_ipi(0), p);
    assert_int_equal(frames_free(), free_before);
    assert_null(dom->evtchn_buckets[0]);
    assert_ptr_equal(evtchn_port(dom, last), (struct evtchn *)dom->evtchn_inline + last);
    assert_null(evtchn_port(dom, next));

    assert_int_equal(bind_ipi(0), next);
    assert_int_equal(frames_free(), free_before - 1);
    assert_non_null(dom->evtchn_buckets[0]);
    assert_ptr_equal(evtchn_port(dom, next), &dom->evtchn_buckets[0][next]);
    assert_int_equal(dom->evtchn_buckets[0][last].state, ECS_FREE);   /* never used */
    assert_int_equal(send(last), 0);
    assert_int_equal(send(next), 0);
    assert_true(pending[last / 64] & (1ul << (last % 64)));
    assert_true(pending[next / 64] & (1ul << (next % 64)));

    /* A closed inline port is the next one handed out. */
    assert_int_equal(close_port(7), 0);
    assert_int_equal(evtchn_port(dom, 7)->state, ECS_FREE);
    assert_int_equal(bind_ipi(1), 7);
    assert_int_equal(bind_ipi(0), next + 1);

    /* Destruction closes the ports on both sides and frees the bucket. */
    evtchn_destroy(dom);
    assert_int_equal(evtchn_ports_in_use(dom), 0);
    evtchn_free(dom);
    assert_int_equal(frames_free(), free_before);
    assert_int_equal(evtchn_init(dom, EVTCHN_DEFAULT_MAX), 0);  /* for teardown */
    assert_int_equal(frames_free(), free_before);
}

/* Domain 0's first bucket comes at creation (evtchn_reserve_ports): the
 * inline ports need none, the first port beyond them its bucket, once. */
static void test_reserve_ports(void **state)
{
    (void)state;
    uint64_t free_before = frames_free();

    assert_int_equal(evtchn_reserve_ports(dom, EVTCHN_INLINE_PORTS), 0);
    assert_int_equal(frames_free(), free_before);
    assert_int_equal(evtchn_reserve_ports(dom, EVTCHN_PER_BUCKET), 0);
    assert_int_equal(frames_free(), free_before - 1);
    assert_non_null(dom->evtchn_buckets[0]);
    assert_null(dom->evtchn_buckets[1]);
    assert_int_equal(evtchn_reserve_ports(dom, EVTCHN_INLINE_PORTS + 1), 0);
    for (unsigned int i = 1; i <= EVTCHN_INLINE_PORTS; i++)
        bind_ipi(0);
    assert_int_equal(frames_free(), free_before - 1);
    assert_non_null(evtchn_port(dom, EVTCHN_INLINE_PORTS));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_refusals_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_references_and_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_links, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reused_tail_is_not_linked_to_itself, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_priority_mask_and_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vcpus_and_bind_vcpu, setup, teardown),
        cmocka_unit_test_setup_teardown(test_destroy_releases_frames, setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_ports_in_struct_domain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reserve_ports, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
