/*
 * The PV console ring of the test kernels (see pvconsole.h).
 */
#include "pvconsole.h"
#include "evtime.h"

#define FULL_WAIT_NS (5 * NSEC_PER_MSEC)

static struct xencons_interface *ring;
static evtchn_port_t port;
static bool notify;

void pvconsole_init(void)
{
    uint64_t mfn = start_info->console.domU.mfn;

    for (uint64_t pfn = 0; pfn < mm_mapped_pfns() && !ring; pfn++)
        if (pfn_to_mfn(pfn) == mfn)
            ring = pfn_to_virt(pfn);
    if (!ring)
        test_abort("console ring mfn %#lx is not among the %lu mapped pfns",
                   (unsigned long)mfn, (unsigned long)mm_mapped_pfns());
    /* start_info's port is our own, already bound to the backend. */
    port = start_info->console.domU.evtchn;
    notify = port != 0;
}

void pvconsole_write(const char *s, size_t n)
{
    while (n) {
        XENCONS_RING_IDX cons = __atomic_load_n(&ring->out_cons, __ATOMIC_ACQUIRE);
        XENCONS_RING_IDX prod = ring->out_prod;
        XENCONS_RING_IDX space = XENCONS_OUT_SIZE - (prod - cons);

        if (space > XENCONS_OUT_SIZE)
            test_abort("console ring indices corrupt: prod %u cons %u", prod, cons);
        if (!space) {
            sleep_until(system_time() + FULL_WAIT_NS);
            continue;
        }
        while (space && n) {
            ring->out[MASK_XENCONS_IDX(prod, XENCONS_OUT_SIZE)] = *s++;
            prod++;
            space--;
            n--;
        }
        __atomic_store_n(&ring->out_prod, prod, __ATOMIC_RELEASE);
        if (notify)
            evtchn_send(port);
    }
}

void pvconsole_printf(const char *fmt, ...)
{
    char buf[256];
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    pvconsole_write(buf, n < (int)sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}
