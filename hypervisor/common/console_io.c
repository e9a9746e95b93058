/* Guest consoles in boot-loader mode: the console_io hypercall and the PV
 * console ring, printed on the hypervisor console one line at a time,
 * each line prefixed with the domain's name, and once: a line the guest
 * wrote to both (Mini-OS writes every line to console_io and to the ring)
 * is printed when the first copy completes and the second is dropped.
 *
 * Owns: each domain's partial line and recent-line hashes per source
 * (d->console_src), guarded by d->console_line_lock: every vCPU of the
 * domain writes console_io and any CPU may drain the ring, so each chunk
 * of input is appended, and each line flushed, with the lock held.
 * Invariants: console_src[s].len <= sizeof(line) and nr_recent <=
 * ARRAY_SIZE(recent); every index is checked against them before use.
 * Lock order: d->console_line_lock -> the hypervisor console's lock
 * (console_write, a leaf).
 * The ring page is the guest's own frame (start_info console.domU.mfn);
 * its indices are guest-controlled: they are read once, bounded by the
 * ring size, and never trusted to index anything directly. */
#include <public/io/console.h>
#include "asm/page.h"
#include "hv/domain.h"
#include "hv/guest_access.h"
#include "hv/hypercall.h"
#include "hv/lib.h"
#include "hv/printk.h"

#define CONSOLE_IO_MAX 4096     /* bytes taken from the guest per call */
#define SRC_IO   0
#define SRC_RING 1

static uint32_t line_hash(const char *s, unsigned int n)
{
    uint32_t h = 2166136261u;                   /* FNV-1a */
    for (unsigned int i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h ^ n;
}

/* A complete line from source `src`. Printed unless the other source
 * printed the same line recently (then it is the second copy of a line
 * the guest wrote to both, and is dropped along with the other source's
 * older entries). Called with d->console_line_lock held. */
static void flush_line(struct domain *d, unsigned int src)
{
    struct console_src *me = &d->console_src[src], *other = &d->console_src[!src];
    unsigned int len = MIN(me->len, (unsigned int)sizeof(me->line));
    unsigned int nr_other = MIN(other->nr_recent, (unsigned int)ARRAY_SIZE(other->recent));
    uint32_t h = line_hash(me->line, len);

    me->len = 0;
    for (unsigned int i = 0; i < nr_other; i++) {
        if (other->recent[i] != h)
            continue;
        other->nr_recent = nr_other - (i + 1);
        memmove(other->recent, other->recent + i + 1, other->nr_recent * sizeof(uint32_t));
        return;
    }
    char out[DOMAIN_NAME_LEN + sizeof(me->line) + 8];
    int n = snprintf(out, sizeof(out), "(%s) %.*s\n", d->name, (int)len, me->line);
    console_write(out, (size_t)MIN(n, (int)sizeof(out) - 1));
    unsigned int nr = MIN(me->nr_recent, (unsigned int)ARRAY_SIZE(me->recent));
    if (nr == ARRAY_SIZE(me->recent)) {
        memmove(me->recent, me->recent + 1, (ARRAY_SIZE(me->recent) - 1) * sizeof(uint32_t));
        nr--;
    }
    me->recent[nr] = h;
    me->nr_recent = nr + 1;
}

/* Append guest output; control characters other than newline and tab are
 * shown as '?', so a guest cannot drive the operator's terminal. Called
 * with d->console_line_lock held. */
static void console_put(struct domain *d, unsigned int src, const char *s, size_t n)
{
    struct console_src *me = &d->console_src[src];
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\n') {
            flush_line(d, src);
            continue;
        }
        if (c == '\r')
            continue;
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            c = '?';
        if (me->len >= sizeof(me->line))
            flush_line(d, src);
        me->line[me->len++] = c;
        if (me->len == sizeof(me->line))
            flush_line(d, src);
    }
}

void console_flush_domain(struct domain *d);
void console_flush_domain(struct domain *d)
{
    spin_lock(&d->console_line_lock);
    for (unsigned int src = 0; src < 2; src++)
        if (d->console_src[src].len)
            flush_line(d, src);
    spin_unlock(&d->console_line_lock);
}

long do_console_io(uint64_t cmd, uint64_t count, uint64_t buffer)
{
    struct domain *d = current->domain;
    char buf[256];

    switch (cmd) {
    case CONSOLEIO_write:
        if (count > CONSOLE_IO_MAX)
            count = CONSOLE_IO_MAX;
        for (uint64_t done = 0; done < count;) {
            size_t chunk = MIN(sizeof(buf), count - done);
            if (copy_from_guest(buf, buffer + done, chunk))
                return -EFAULT;
            spin_lock(&d->console_line_lock);
            console_put(d, SRC_IO, buf, chunk);
            spin_unlock(&d->console_line_lock);
            done += chunk;
        }
        return 0;
    case CONSOLEIO_read:
        /* Boot-loader mode has no console input for guests. */
        return 0;
    default:
        return hypercall_unimplemented(__HYPERVISOR_console_io, cmd);
    }
}

void console_drain_ring(struct domain *d);
void console_drain_ring(struct domain *d)
{
    if (!d->console_mfn)
        return;
    /* One drain at a time: two CPUs reaping at once would both consume
     * the same bytes. */
    spin_lock(&d->console_line_lock);
    struct xencons_interface *intf = mfn_to_virt(d->console_mfn);
    XENCONS_RING_IDX cons = intf->out_cons;
    XENCONS_RING_IDX prod = __atomic_load_n(&intf->out_prod, __ATOMIC_ACQUIRE);
    XENCONS_RING_IDX avail = prod - cons;

    if (avail > sizeof(intf->out)) {
        pr_warn("domain %u (%s): console ring indices corrupt (prod %u cons %u); resetting",
                d->id, d->name, prod, cons);
        __atomic_store_n(&intf->out_cons, prod, __ATOMIC_RELEASE);
        spin_unlock(&d->console_line_lock);
        return;
    }
    while (cons != prod) {
        char c = intf->out[cons % sizeof(intf->out)];
        console_put(d, SRC_RING, &c, 1);
        cons++;
    }
    __atomic_store_n(&intf->out_cons, cons, __ATOMIC_RELEASE);
    spin_unlock(&d->console_line_lock);
}
