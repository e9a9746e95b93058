/*
 * The FIFO event channel ABI for the PV test kernels (a client as Linux's
 * drivers/xen/events/events_fifo.c is one): a control block per vCPU
 * (EVTCHNOP_init_control), event-array pages (EVTCHNOP_expand_array), the
 * event words (mask, unmask, pending) and the consumer the event upcall
 * runs once evtchn_fifo_active: per queue, highest priority (0) first, it
 * unlinks the head with cmpxchg, and delivers it if pending and unmasked
 * (evtchn_deliver, as the 2-level scan does).
 *
 * State per vCPU: the control block and the local copy of each queue's
 * head (0: read the head from the control block next time). A vCPU only
 * consumes its own queues, with events masked.
 */
#include "evtime.h"

#define W_PENDING (1u << EVTCHN_FIFO_PENDING)
#define W_MASKED  (1u << EVTCHN_FIFO_MASKED)
#define W_LINKED  (1u << EVTCHN_FIFO_LINKED)
#define W_BUSY    (1u << EVTCHN_FIFO_BUSY)

volatile bool evtchn_fifo_active;
uint8_t evtchn_fifo_link_bits;
static event_word_t *fifo_array[EVTCHN_FIFO_LIB_PAGES];
static volatile unsigned int fifo_pages;
static struct evtchn_fifo_control_block *fifo_cb[LIB_MAX_VCPUS];
static uint32_t fifo_head[LIB_MAX_VCPUS][EVTCHN_FIFO_MAX_QUEUES];

long evtchn_init_control(uint64_t gfn, uint32_t offset, uint32_t vcpu,
                         uint8_t *link_bits)
{
    struct evtchn_init_control ic = {
        .control_gfn = gfn, .offset = offset, .vcpu = vcpu, .link_bits = 0xee,
    };
    long rc = hypercall_event_channel_op(EVTCHNOP_init_control, &ic);

    if (link_bits)
        *link_bits = ic.link_bits;
    return rc;
}

long evtchn_expand_array(uint64_t gfn)
{
    struct evtchn_expand_array ea = { .array_gfn = gfn };

    return hypercall_event_channel_op(EVTCHNOP_expand_array, &ea);
}

long evtchn_set_priority(evtchn_port_t port, uint32_t priority)
{
    struct evtchn_set_priority sp = { .port = port, .priority = priority };

    return hypercall_event_channel_op(EVTCHNOP_set_priority, &sp);
}

long evtchn_fifo_init_vcpu(unsigned int vcpu)
{
    struct evtchn_fifo_control_block *cb;
    long rc;

    if (vcpu >= LIB_MAX_VCPUS)
        return -XEN_EINVAL;
    if (fifo_cb[vcpu])
        return 0;
    cb = page_alloc();
    rc = evtchn_init_control(virt_to_mfn(cb), 0, vcpu, &evtchn_fifo_link_bits);
    if (rc)
        return rc;
    memset(fifo_head[vcpu], 0, sizeof(fifo_head[vcpu]));
    __atomic_store_n(&fifo_cb[vcpu], cb, __ATOMIC_SEQ_CST);
    __atomic_store_n(&evtchn_fifo_active, true, __ATOMIC_SEQ_CST);
    return 0;
}

long evtchn_fifo_expand(bool masked)
{
    event_word_t *page;
    long rc;

    if (fifo_pages >= EVTCHN_FIFO_LIB_PAGES)
        return -XEN_ENOSPC;
    page = page_alloc();
    for (unsigned int i = 0; i < EVTCHN_FIFO_WORDS_PER_PAGE; i++)
        page[i] = masked ? W_MASKED : 0;
    /* Recorded first: the hypervisor may link ports of it at once. */
    fifo_array[fifo_pages] = page;
    rc = evtchn_expand_array(virt_to_mfn(page));
    if (rc)
        fifo_array[fifo_pages] = NULL;
    else
        __atomic_store_n(&fifo_pages, fifo_pages + 1, __ATOMIC_SEQ_CST);
    return rc;
}

long evtchn_fifo_setup(unsigned int pages)
{
    long rc = evtchn_fifo_init_vcpu(0);

    while (!rc && fifo_pages < pages)
        rc = evtchn_fifo_expand(false);
    return rc;
}

void evtchn_fifo_forget(void)
{
    /* 2-level bits left from before init_control are stale now (the
     * hypervisor carried them into the FIFO and does not clear them). */
    for (unsigned int i = 0; i < ARRAY_SIZE(shared_info->evtchn_pending); i++)
        __atomic_store_n(&shared_info->evtchn_pending[i], 0, __ATOMIC_SEQ_CST);
    evtchn_upcall_clear();
    __atomic_store_n(&evtchn_fifo_active, false, __ATOMIC_SEQ_CST);
    for (unsigned int i = 0; i < LIB_MAX_VCPUS; i++)
        fifo_cb[i] = NULL;
    for (unsigned int i = 0; i < fifo_pages; i++)
        fifo_array[i] = NULL;
    fifo_pages = 0;
}

unsigned int evtchn_fifo_nr_ports(void)
{
    return fifo_pages * EVTCHN_FIFO_WORDS_PER_PAGE;
}

volatile event_word_t *evtchn_fifo_word(evtchn_port_t port)
{
    unsigned int page = port / EVTCHN_FIFO_WORDS_PER_PAGE;

    if (page >= __atomic_load_n(&fifo_pages, __ATOMIC_SEQ_CST))
        return NULL;
    return &fifo_array[page][port % EVTCHN_FIFO_WORDS_PER_PAGE];
}

static volatile event_word_t *word_or_abort(evtchn_port_t port)
{
    volatile event_word_t *w = evtchn_fifo_word(port);

    if (!w)
        test_abort("FIFO port %u has no event word (%u pages)", port,
                   fifo_pages);
    return w;
}

bool evtchn_fifo_test(evtchn_port_t port, uint32_t bit)
{
    volatile event_word_t *w = evtchn_fifo_word(port);

    return w && (__atomic_load_n(w, __ATOMIC_SEQ_CST) & (1u << bit));
}

void evtchn_fifo_mask(evtchn_port_t port)
{
    __atomic_fetch_or(word_or_abort(port), W_MASKED, __ATOMIC_SEQ_CST);
}

/* Clear MASKED, never while the hypervisor holds the word BUSY (Linux's
 * clear_masked). */
void evtchn_fifo_unmask_local(evtchn_port_t port)
{
    volatile event_word_t *w = word_or_abort(port);
    uint32_t old = __atomic_load_n(w, __ATOMIC_SEQ_CST), want;

    do {
        old &= ~W_BUSY;
        want = old & ~W_MASKED;
    } while (!__atomic_compare_exchange_n(w, &old, want, false,
                                          __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
}

/* Unmask; a pending port needs the hypervisor to link it. */
long evtchn_fifo_unmask(evtchn_port_t port)
{
    evtchn_fifo_unmask_local(port);
    if (evtchn_fifo_test(port, EVTCHN_FIFO_PENDING))
        return evtchn_unmask(port);
    return 0;
}

void evtchn_fifo_clear(evtchn_port_t port)
{
    volatile event_word_t *w = evtchn_fifo_word(port);

    if (w)
        __atomic_fetch_and(w, ~W_PENDING, __ATOMIC_SEQ_CST);
}

/* Unlink: clear LINKED and LINK, return the next port (0: last). */
static uint32_t clear_linked(volatile event_word_t *w)
{
    uint32_t old = __atomic_load_n(w, __ATOMIC_SEQ_CST), want;

    do {
        want = old & ~(W_LINKED | EVTCHN_FIFO_LINK_MASK);
    } while (!__atomic_compare_exchange_n(w, &old, want, false,
                                          __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
    return old & EVTCHN_FIFO_LINK_MASK;
}

static void consume_one(unsigned int vcpu, unsigned int q, uint32_t *ready)
{
    struct evtchn_fifo_control_block *cb = fifo_cb[vcpu];
    uint32_t head = fifo_head[vcpu][q], next;
    volatile event_word_t *w;

    if (!head)      /* reached the tail last time: the head may be new */
        head = __atomic_load_n(&cb->head[q], __ATOMIC_SEQ_CST);
    w = word_or_abort(head);
    next = clear_linked(w);
    if (!next)
        *ready &= ~(1u << q);
    if ((*w & (W_PENDING | W_MASKED)) == W_PENDING) {
        __atomic_fetch_and(w, ~W_PENDING, __ATOMIC_SEQ_CST);
        evtchn_deliver(head);
    }
    fifo_head[vcpu][q] = next;
}

void evtchn_fifo_consume(void)
{
    unsigned int vcpu = this_vcpu_id();
    struct evtchn_fifo_control_block *cb = fifo_cb[vcpu];
    uint32_t ready;

    if (!cb)
        return;
    ready = __atomic_exchange_n(&cb->ready, 0, __ATOMIC_SEQ_CST);
    while (ready) {
        consume_one(vcpu, (unsigned int)__builtin_ctz(ready), &ready);
        ready |= __atomic_exchange_n(&cb->ready, 0, __ATOMIC_SEQ_CST);
    }
}
