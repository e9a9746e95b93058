/* Domains from the boot loader: one per multiboot2 module,
 *   module2 /guests/x.elf name=x mem=32M maxmem=64M vcpus=1 weight=256 cap=0 -- <guest cmdline>
 * Options are checked before anything is allocated; a bad module line
 * stops that domain with a message naming the option, the others still
 * start. In this mode the hypervisor is the domains' console. When every
 * domain has gone, the machine stops with the success status (the
 * hypervisor survived whatever they did), after reporting that the heap
 * is back to its size before the first domain. */
#include <public/io/console.h>
#include "asm/page.h"
#include "asm/percpu.h"
#include "hv/bootdomains.h"
#include "hv/bootinfo.h"
#include "hv/errno.h"
#include "hv/lib.h"
#include "hv/mm.h"
#include "hv/pagetype.h"
#include "hv/printk.h"
#include "hv/pv.h"
#include "hv/pvbuild.h"
#include "hv/schedule.h"
#include "hv/shutdown.h"

void console_drain_ring(struct domain *d);
void console_flush_domain(struct domain *d);

static unsigned int started;
static uint64_t free_before;

struct module_opts {
    char name[DOMAIN_NAME_LEN];
    uint64_t mem, maxmem;
    unsigned int vcpus, weight, cap;
    const char *guest_cmdline;
};

static bool parse_num(const char *v, uint64_t max, uint64_t *out)
{
    const char *end;
    return parse_u64(v, &end, out) && !*end && *out <= max;
}

/* Parse the module's command line in place. Returns NULL or a message. */
static const char *parse_module_opts(char *line, struct module_opts *o, char *why, size_t n)
{
    memset(o, 0, sizeof(*o));
    o->mem = MiB(32);
    o->vcpus = 1;
    o->weight = 256;
    o->guest_cmdline = "";

    char *p = line;
    bool first = true;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        char *word = p;
        while (*p && *p != ' ')
            p++;
        if (*p)
            *p++ = '\0';
        if (!strcmp(word, "--")) {
            while (*p == ' ')
                p++;
            o->guest_cmdline = p;
            break;
        }
        char *eq = strchr(word, '=');
        if (!eq) {
            if (first)          /* GRUB passes the module's path first */
                { first = false; continue; }
            snprintf(why, n, "option '%s' has no value", word);
            return why;
        }
        first = false;
        *eq = '\0';
        const char *val = eq + 1;
        uint64_t num;
        if (!strcmp(word, "name")) {
            if (!*val || strlen(val) >= sizeof(o->name)) {
                snprintf(why, n, "name='%s' must be 1-%zu characters", val, sizeof(o->name) - 1);
                return why;
            }
            strlcpy(o->name, val, sizeof(o->name));
        } else if (!strcmp(word, "mem") || !strcmp(word, "maxmem")) {
            if (!parse_size(val, &num) || num < MiB(4) || num > GiB(64) || (num & (PAGE_SIZE - 1))) {
                snprintf(why, n, "%s=%s is not a size between 4M and 64G in whole pages "
                         "(suffix K, M or G)", word, val);
                return why;
            }
            if (word[0] == 'm' && word[1] == 'e')
                o->mem = num;
            else
                o->maxmem = num;
        } else if (!strcmp(word, "vcpus")) {
            if (!parse_num(val, MAX_VCPUS, &num) || !num) {
                snprintf(why, n, "vcpus=%s is not between 1 and %u", val, MAX_VCPUS);
                return why;
            }
            o->vcpus = (unsigned int)num;
        } else if (!strcmp(word, "weight")) {
            if (!parse_num(val, 65535, &num) || !num) {
                snprintf(why, n, "weight=%s is not between 1 and 65535", val);
                return why;
            }
            o->weight = (unsigned int)num;
        } else if (!strcmp(word, "cap")) {
            if (!parse_num(val, 100 * MAX_VCPUS, &num)) {
                snprintf(why, n, "cap=%s is not a percentage between 0 and %u", val,
                         100 * MAX_VCPUS);
                return why;
            }
            o->cap = (unsigned int)num;
        } else {
            snprintf(why, n, "unknown option '%s' (known: name, mem, maxmem, vcpus, weight, cap)",
                     word);
            return why;
        }
    }
    if (!o->maxmem)
        o->maxmem = o->mem;
    if (o->maxmem < o->mem) {
        snprintf(why, n, "maxmem is below mem");
        return why;
    }
    if (o->cap > 100 * o->vcpus) {
        snprintf(why, n, "cap=%u exceeds 100%% per vCPU (%u vCPUs)", o->cap, o->vcpus);
        return why;
    }
    return NULL;
}

static void *map_direct(void *ctx, uint64_t mfn)
{
    return mfn_to_virt(mfn);
}

static void unmap_direct(void *ctx, void *p)
{
}

static int build_boot_domain(unsigned int idx, const struct boot_module *m)
{
    char line[MAX_MOD_CMDLINE], why[200];
    struct module_opts o;

    strlcpy(line, m->cmdline, sizeof(line));
    if (parse_module_opts(line, &o, why, sizeof(why))) {
        pr_err("module %u: %s; domain not started", idx, why);
        return -EINVAL;
    }
    if (!o.name[0])
        snprintf(o.name, sizeof(o.name), "mod%u", idx);

    struct pvbuild_image img;
    const uint8_t *kernel = __va(m->start);
    if (pvbuild_parse(kernel, m->end - m->start, &img, why, sizeof(why))) {
        pr_err("module %u (%s): %s; domain not started", idx, o.name, why);
        return -EINVAL;
    }

    struct domain_config cfg = {
        .name = o.name, .mem_pages = o.mem >> PAGE_SHIFT, .max_pages = o.maxmem >> PAGE_SHIFT,
        .vcpus = o.vcpus, .weight = o.weight, .cap = o.cap,
    };
    int err;
    struct domain *d = domain_create(&cfg, &err);
    if (!d) {
        pr_err("module %u (%s): cannot create the domain (%d: %s); domain not started", idx,
               o.name, err, err == -ENOMEM ? "not enough free memory" : "bad configuration");
        return err;
    }

    /* The p2m, in page_list order; the m2p follows it. */
    uint64_t p2m_bytes = d->tot_pages * sizeof(uint64_t);
    unsigned int p2m_order = 0;
    while ((PAGE_SIZE << p2m_order) < p2m_bytes)
        p2m_order++;
    int64_t p2m_mfn = alloc_frames(p2m_order);
    if (p2m_mfn < 0) {
        pr_err("module %u (%s): no memory for the p2m; domain not started", idx, o.name);
        domain_destroy(d);
        return -ENOMEM;
    }
    uint64_t *p2m = mfn_to_virt((mfn_t)p2m_mfn);
    uint64_t pfn = 0;
    struct list_head *pos;
    list_for_each(pos, &d->page_list) {
        mfn_t mfn = (mfn_t)(list_entry(pos, struct page_info, list) - frame_table);
        p2m[pfn] = mfn;
        machine_to_phys[mfn] = pfn;
        pfn++;
    }

    struct pvbuild_ops ops = { NULL, map_direct, unmap_direct };
    struct pvbuild_params bp = {
        .kernel = kernel, .kernel_len = m->end - m->start, .cmdline = o.guest_cmdline,
        .nr_pages = d->tot_pages, .p2m = p2m,
        .shared_info_maddr = (uint64_t)d->shared_info_mfn << PAGE_SHIFT,
    };
    struct pvbuild_result res;
    int rc = pvbuild_build(&bp, &ops, &res, why, sizeof(why));
    uint64_t console_mfn = rc ? 0 : p2m[res.console_pfn];
    free_frames((mfn_t)p2m_mfn, p2m_order);
    if (rc) {
        pr_err("module %u (%s): %s; domain not started", idx, o.name, why);
        domain_destroy(d);
        return rc;
    }

    struct vcpu *v = d->vcpus[0];
    rc = vcpu_set_guest_table(v, res.l4_mfn, false);
    if (rc) {
        pr_err("module %u (%s): the initial page tables were refused (%d); domain not started",
               idx, o.name, rc);
        domain_destroy(d);
        return rc;
    }
    /* The hypervisor reads the console ring: it holds a reference. */
    if (!get_page(console_mfn, d))
        d->console_mfn = console_mfn;

    vcpu_set_start_state(v, res.entry, res.stack_top, res.start_info_va);
    v->initialised = true;
    d->auto_destroy = true;
    d->state = DOM_RUNNING;
    v->state = VCPU_RUNNABLE;
    vcpu_wake(v);
    pr_info("domain %u (%s): %lu MiB (max %lu), %u vCPU, weight %u, cap %u; "
            "kernel %s at %#lx, entry %#lx", d->id, d->name, o.mem >> 20, o.maxmem >> 20,
            o.vcpus, o.weight, o.cap, img.guest_os[0] ? img.guest_os : "?", img.kstart,
            res.entry);
    return 0;
}

unsigned int boot_domains_start(void)
{
    free_before = frames_free();
    for (unsigned int i = 0; i < boot_info.nr_modules; i++)
        if (!build_boot_domain(i, &boot_info.modules[i]))
            started++;
    if (boot_info.nr_modules)
        pr_info("boot: %u of %u domains started; %lu frames free before them", started,
                boot_info.nr_modules, free_before);
    return started;
}

void domains_reap(void)
{
    for (unsigned int slot = 1; slot < MAX_DOMAINS; slot++) {
        struct domain *d = domain_in_slot(slot);
        if (!d)
            continue;
        console_drain_ring(d);
        if (d->state != DOM_SHUTDOWN || !(d->auto_destroy || d->destroy_requested))
            continue;
        bool loaded = false;
        for (unsigned int i = 0; i < d->nr_vcpus; i++)
            loaded |= d->vcpus[i]->processor >= 0;
        if (loaded)
            continue;
        console_flush_domain(d);
        if (d->console_mfn)
            put_page(d->console_mfn);
        d->console_mfn = 0;
        domain_destroy(d);
    }
}

void boot_domains_check_done(void)
{
    if (!boot_info.nr_modules || domains_alive())
        return;
    uint64_t now_free = frames_free();
    pr_info("boot: all domains have finished; %lu frames free (%lu before the first domain)%s",
            now_free, free_before, now_free == free_before ? "" : " - MEMORY LEAKED");
    machine_exit(started > 0 && now_free == free_before);
}
