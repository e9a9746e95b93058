/* Guest consoles in boot-loader mode: the console_io hypercall and the PV
 * console ring, printed on the hypervisor console one line at a time,
 * each line prefixed with the domain's name.
 *
 * Owns: each domain's partial output line (d->console_line).
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

static void flush_line(struct domain *d)
{
    char out[DOMAIN_NAME_LEN + sizeof(d->console_line) + 8];
    int n = snprintf(out, sizeof(out), "(%s) %.*s\n", d->name,
                     (int)d->console_line_len, d->console_line);
    console_write(out, (size_t)MIN(n, (int)sizeof(out) - 1));
    d->console_line_len = 0;
}

/* Append guest output; control characters other than newline and tab are
 * shown as '?', so a guest cannot drive the operator's terminal. */
static void console_put(struct domain *d, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\n') {
            flush_line(d);
            continue;
        }
        if (c == '\r')
            continue;
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            c = '?';
        d->console_line[d->console_line_len++] = c;
        if (d->console_line_len == sizeof(d->console_line))
            flush_line(d);
    }
}

void console_flush_domain(struct domain *d);
void console_flush_domain(struct domain *d)
{
    if (d->console_line_len)
        flush_line(d);
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
            console_put(d, buf, chunk);
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
    struct xencons_interface *intf = mfn_to_virt(d->console_mfn);
    XENCONS_RING_IDX cons = intf->out_cons;
    XENCONS_RING_IDX prod = __atomic_load_n(&intf->out_prod, __ATOMIC_ACQUIRE);
    XENCONS_RING_IDX avail = prod - cons;

    if (avail > sizeof(intf->out)) {
        pr_warn("domain %u (%s): console ring indices corrupt (prod %u cons %u); resetting",
                d->id, d->name, prod, cons);
        __atomic_store_n(&intf->out_cons, prod, __ATOMIC_RELEASE);
        return;
    }
    while (cons != prod) {
        char c = intf->out[cons % sizeof(intf->out)];
        console_put(d, &c, 1);
        cons++;
    }
    __atomic_store_n(&intf->out_cons, cons, __ATOMIC_RELEASE);
}
