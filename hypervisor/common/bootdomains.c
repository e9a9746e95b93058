/* Domains from the boot loader: one per multiboot2 module,
 *   module2 /guests/x.elf name=x mem=32M maxmem=64M vcpus=1 weight=256 cap=0 restarts=0 -- <guest cmdline>
 * (restarts=N: when the domain shuts down, build it again from its module,
 * N times, each time as a new domain; for tests that tear domains down
 * and build them again thousands of times under another's attacks),
 * and, for a domain that takes a ramdisk, a module of its own naming it:
 *   module2 /initrd.img ramdisk-for=x
 * Options are checked before anything is allocated; a bad module line
 * stops that domain with a message naming the option, the others still
 * start. The build itself is the shared builder's sequence
 * (builder/pvbuild.c, pvbuild_domain) with the hypervisor as its host. In this mode the hypervisor is the domains' console. When every
 * domain has gone, the machine stops with the success status (the
 * hypervisor survived whatever they did), after reporting that the heap
 * is back to its size before the first domain. */
#include <public/io/console.h>
#include "asm/page.h"
#include "asm/percpu.h"
#include "asm/guest_mm.h"
#include "hv/batch.h"
#include "hv/bootdomains.h"
#include "hv/bootinfo.h"
#include "hv/event.h"
#include "hv/errno.h"
#include "hv/lib.h"
#include "hv/mm.h"
#include "hv/pagetype.h"
#include "hv/printk.h"
#include "hv/pv.h"
#include "hv/schedule.h"
#include "hv/shutdown.h"
#include "pvbuild.h"

void console_drain_ring(struct domain *d);
void console_flush_domain(struct domain *d);

#define MAX_RESTARTS 1000000

static unsigned int started;
static uint64_t free_before;

struct module_opts {
    char name[DOMAIN_NAME_LEN];
    char ramdisk_for[DOMAIN_NAME_LEN];  /* a ramdisk module: its domain */
    uint64_t mem, maxmem;
    unsigned int vcpus, weight, cap;
    unsigned int restarts;              /* rebuilds after it shuts down */
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
        if (!strcmp(word, "ramdisk-for")) {
            if (!*val || strlen(val) >= sizeof(o->ramdisk_for)) {
                snprintf(why, n, "ramdisk-for='%s' must name a domain of 1-%zu characters", val,
                         sizeof(o->ramdisk_for) - 1);
                return why;
            }
            strlcpy(o->ramdisk_for, val, sizeof(o->ramdisk_for));
        } else if (!strcmp(word, "name")) {
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
        } else if (!strcmp(word, "restarts")) {
            if (!parse_num(val, MAX_RESTARTS, &num)) {
                snprintf(why, n, "restarts=%s is not between 0 and %u", val, MAX_RESTARTS);
                return why;
            }
            o->restarts = (unsigned int)num;
        } else if (!strcmp(word, "cap")) {
            if (!parse_num(val, 100 * MAX_VCPUS, &num)) {
                snprintf(why, n, "cap=%s is not a percentage between 0 and %u", val,
                         100 * MAX_VCPUS);
                return why;
            }
            o->cap = (unsigned int)num;
        } else {
            snprintf(why, n, "unknown option '%s' (known: name, mem, maxmem, vcpus, weight, cap, "
                     "restarts, ramdisk-for)", word);
            return why;
        }
    }
    if (o->ramdisk_for[0] && (o->name[0] || o->guest_cmdline[0])) {
        snprintf(why, n, "a ramdisk-for= module takes no other option and no command line");
        return why;
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

/* ---- The builder's host: the hypervisor itself ----------------------- */

static void *map_direct(void *ctx, uint64_t mfn)
{
    return mfn_to_virt(mfn);
}

static void unmap_direct(void *ctx, void *p)
{
}

/* The domain being built, referenced (put_domain it). */
static struct domain *host_domain(uint32_t domid)
{
    return domid && domid < DOMID_FIRST_RESERVED ? get_domain_by_id((domid_t)domid) : NULL;
}

static int host_create(void *ctx, const struct pvbuild_domain_config *bc, uint32_t *domid,
                       uint64_t *shared_info_maddr, char *why, size_t n)
{
    struct domain_config cfg = {
        .name = bc->name, .mem_pages = bc->mem_pages, .max_pages = bc->max_pages,
        .vcpus = bc->vcpus, .weight = bc->weight, .cap = bc->cap,
    };
    int err;
    struct domain *d = domain_create(&cfg, &err);
    if (!d) {
        snprintf(why, n, "cannot create the domain (%d: %s)", err,
                 err == -ENOMEM ? "not enough free memory" : "bad configuration");
        return err;
    }
    *domid = d->id;
    *shared_info_maddr = (uint64_t)d->shared_info_mfn << PAGE_SHIFT;
    return 0;
}

/* The p2m, in page_list order; the m2p follows it. */
static int host_get_frames(void *ctx, uint32_t domid, uint64_t nr_pages, uint64_t **p2m_out,
                           char *why, size_t n)
{
    struct domain *d = host_domain(domid);
    unsigned int order = 0;
    while ((PAGE_SIZE << order) < nr_pages * sizeof(uint64_t))
        order++;
    int64_t mfn = d && d->tot_pages == nr_pages ? alloc_frames(order) : -ENOMEM;
    *(unsigned int *)ctx = order;
    if (mfn < 0) {
        put_domain(d);
        snprintf(why, n, "no memory for the p2m of %lu pages", nr_pages);
        return -ENOMEM;
    }
    uint64_t *p2m = mfn_to_virt((mfn_t)mfn);
    uint64_t pfn = 0;
    struct list_head *pos;
    list_for_each(pos, &d->page_list) {
        mfn_t m = (mfn_t)(list_entry(pos, struct page_info, list) - frame_table);
        p2m[pfn] = m;
        machine_to_phys[m] = pfn;
        pfn++;
    }
    put_domain(d);
    *p2m_out = p2m;
    return 0;
}

static void host_put_frames(void *ctx, uint64_t *p2m)
{
    free_frames(virt_to_mfn(p2m), *(unsigned int *)ctx);
}

/* In this mode the hypervisor is the backend (its console prints the
 * ring): the guest's port is bound to the hypervisor itself. */
static int host_evtchn_connect(void *ctx, uint32_t domid, uint32_t *guest_port,
                               uint32_t *backend_port, char *why, size_t n)
{
    struct domain *d = host_domain(domid);
    long rc = d ? evtchn_connect(d, NULL, guest_port, backend_port) : -ESRCH;
    put_domain(d);
    if (rc)
        snprintf(why, n, "no free event-channel port (%ld)", rc);
    return (int)rc;
}

static void host_evtchn_disconnect(void *ctx, uint32_t domid, uint32_t backend_port)
{
    /* The guest's end goes with the domain. */
}

/* The hypervisor reads the console ring: it holds a reference. */
static int host_set_console(void *ctx, const struct pvbuild_domain *dom, char *why, size_t n)
{
    struct domain *d = host_domain(dom->domid);
    if (!d || get_page(dom->console_mfn, d)) {
        put_domain(d);
        snprintf(why, n, "the console page %#lx is not the domain's", dom->console_mfn);
        return -EINVAL;
    }
    d->console_mfn = dom->console_mfn;
    /* No xenstore here: the hypervisor answers its ring (xenstore_absent.c). */
    if (dom->store_mfn && !get_page(dom->store_mfn, d)) {
        d->store_mfn = dom->store_mfn;
        d->store_port = dom->store_port;
    }
    put_domain(d);
    return 0;
}

static int host_pin_table(void *ctx, uint32_t domid, uint64_t mfn, unsigned int level,
                          char *why, size_t n)
{
    struct domain *d = host_domain(domid);
    if (!d || mfn >= max_mfn || level < 1 || level > 4) {
        put_domain(d);
        snprintf(why, n, "mfn %#lx is not a frame", mfn);
        return -EINVAL;
    }
    spin_lock(&d->mm_lock);
    int rc = pt_pin(d, mfn, pgt_of_level(level));
    spin_unlock(&d->mm_lock);
    put_domain(d);
    if (rc)
        snprintf(why, n, "the initial L%u %#lx was refused (%d)", level, mfn, rc);
    return rc;
}

static int host_set_context(void *ctx, const struct pvbuild_domain *dom, char *why, size_t n)
{
    struct domain *d = host_domain(dom->domid);
    if (!d) {
        snprintf(why, n, "the domain is gone");
        return -ESRCH;
    }
    struct vcpu *v = d->vcpus[0];
    int rc = vcpu_set_guest_table(v, dom->layout.l4_mfn, false);
    if (rc) {
        put_domain(d);
        snprintf(why, n, "the initial page tables were refused (%d)", rc);
        return rc;
    }
    vcpu_set_start_state(v, dom->layout.entry, dom->layout.stack_top, dom->layout.start_info_va);
    v->initialised = true;
    put_domain(d);
    return 0;
}

static int host_unpause(void *ctx, uint32_t domid, char *why, size_t n)
{
    struct domain *d = host_domain(domid);
    if (!d) {
        snprintf(why, n, "the domain is gone");
        return -ESRCH;
    }
    d->auto_destroy = true;
    int rc = domain_unpause(d);
    put_domain(d);
    if (rc)
        snprintf(why, n, "the domain could not be started (%d)", rc);
    return rc;
}

/* The references the hypervisor holds on a boot-loader domain's rings. */
static void release_rings(struct domain *d)
{
    if (d->console_mfn)
        put_page(d->console_mfn);
    d->console_mfn = 0;
    if (d->store_mfn)
        put_page(d->store_mfn);
    d->store_mfn = 0;
}

static void host_destroy(void *ctx, uint32_t domid)
{
    struct domain *d = host_domain(domid);
    if (!d)
        return;
    release_rings(d);
    domain_destroy(d);
    put_domain(d);
}

/* The module's options (in line, which they point into); NULL or why not. */
static const char *module_opts(unsigned int idx, char *line, struct module_opts *o,
                               char *why, size_t n)
{
    strlcpy(line, boot_info.modules[idx].cmdline, MAX_MOD_CMDLINE);
    if (parse_module_opts(line, o, why, n))
        return why;
    if (!o->name[0])
        snprintf(o->name, sizeof(o->name), "mod%u", idx);
    return NULL;
}

/* The ramdisk module for domain `name`: its index, -1 for none, -2 when
 * more than one names it. */
static int ramdisk_module(const char *name)
{
    char line[MAX_MOD_CMDLINE], why[200];
    struct module_opts o;
    int found = -1;
    for (unsigned int i = 0; i < boot_info.nr_modules; i++) {
        if (module_opts(i, line, &o, why, sizeof(why)) || strcmp(o.ramdisk_for, name))
            continue;
        if (found >= 0)
            return -2;
        found = (int)i;
    }
    return found;
}

/* Every ramdisk-for= must name a domain that is among the modules. */
static void check_ramdisk_modules(void)
{
    char line[MAX_MOD_CMDLINE], why[200];
    struct module_opts o, k;
    for (unsigned int i = 0; i < boot_info.nr_modules; i++) {
        if (module_opts(i, line, &o, why, sizeof(why)) || !o.ramdisk_for[0])
            continue;
        bool named = false;
        for (unsigned int j = 0; j < boot_info.nr_modules && !named; j++) {
            char kline[MAX_MOD_CMDLINE];
            named = j != i && !module_opts(j, kline, &k, why, sizeof(why)) &&
                    !k.ramdisk_for[0] && !strcmp(k.name, o.ramdisk_for);
        }
        if (!named)
            pr_err("module %u: ramdisk-for=%s names no domain among the modules; ignored", i,
                   o.ramdisk_for);
    }
}

/* Build the domain of module idx; restarts: how many rebuilds it still
 * gets after this one (-1: the module's restarts= option). 0 when it
 * started, 1 for a ramdisk module, -errno when it could not be built. */
static int build_boot_domain(unsigned int idx, const struct boot_module *m, int restarts)
{
    char line[MAX_MOD_CMDLINE], why[300];
    struct module_opts o;

    if (module_opts(idx, line, &o, why, sizeof(why))) {
        pr_err("module %u: %s; domain not started", idx, why);
        return -EINVAL;
    }
    if (o.ramdisk_for[0])
        return 1;                       /* a ramdisk: built with its domain */
    int rd = ramdisk_module(o.name);
    if (rd == -2) {
        pr_err("module %u (%s): more than one ramdisk-for=%s module; domain not started", idx,
               o.name, o.name);
        return -EINVAL;
    }
    const struct boot_module *rm = rd >= 0 ? &boot_info.modules[rd] : NULL;

    unsigned int p2m_order = 0;         /* the host's context: the p2m's size */
    struct pvbuild_host host = {
        .ctx = &p2m_order, .map = map_direct, .unmap = unmap_direct, .create = host_create,
        .get_frames = host_get_frames, .put_frames = host_put_frames,
        .evtchn_connect = host_evtchn_connect, .evtchn_disconnect = host_evtchn_disconnect,
        .set_console = host_set_console, .pin_table = host_pin_table,
        .set_context = host_set_context,
        .unpause = host_unpause, .destroy = host_destroy,
    };
    struct pvbuild_domain_config cfg = {
        .name = o.name, .mem_pages = o.mem >> PAGE_SHIFT, .max_pages = o.maxmem >> PAGE_SHIFT,
        .vcpus = o.vcpus, .weight = o.weight, .cap = o.cap,
        .kernel = __va(m->start), .kernel_len = m->end - m->start,
        .ramdisk = rm ? __va(rm->start) : NULL, .ramdisk_len = rm ? rm->end - rm->start : 0,
        .cmdline = o.guest_cmdline,
    };
    struct pvbuild_domain dom;
    int rc = pvbuild_domain(&cfg, &host, &dom, why, sizeof(why));
    if (rc) {
        pr_err("module %u (%s): %s; domain not started", idx, o.name, why);
        return rc;
    }
    struct domain *d = host_domain(dom.domid);
    if (d) {
        d->boot_module = idx + 1;
        d->restarts_left = restarts >= 0 ? (unsigned int)restarts : o.restarts;
        put_domain(d);
    }
    if (restarts >= 0) {
        pr_info("domain %u (%s): restarted (%d restarts left)", dom.domid, o.name, restarts);
        return 0;
    }
    const struct pvbuild_image *img = &dom.layout.img;
    pr_info("domain %u (%s): %lu MiB (max %lu), %u vCPU, weight %u, cap %u; "
            "kernel %s at %#lx, entry %#lx", dom.domid, o.name, o.mem >> 20, o.maxmem >> 20,
            o.vcpus, o.weight, o.cap, img->guest_os[0] ? img->guest_os : "?", img->kstart,
            dom.layout.entry);
    if (rm)
        pr_info("domain %u (%s): ramdisk of %lu bytes from module %d at %s %#lx", dom.domid,
                o.name, rm->end - rm->start, rd,
                dom.layout.flags & SIF_MOD_START_PFN ? "pfn" : "va", dom.layout.ramdisk_start);
    return 0;
}

unsigned int boot_domains_start(void)
{
    unsigned int domains = 0;
    free_before = frames_free();
    check_ramdisk_modules();
    for (unsigned int i = 0; i < boot_info.nr_modules; i++) {
        int rc = build_boot_domain(i, &boot_info.modules[i], -1);
        domains += rc != 1;
        started += rc == 0;
    }
    if (boot_info.nr_modules)
        pr_info("boot: %u of %u domains started; %lu frames free before them", started,
                domains, free_before);
    return started;
}

/* Drain the boot-loader domains' rings and destroy the domains that are
 * done, a bounded piece at a time (domain_destroy_step): one piece per
 * dying domain, more while nothing else is pending. True while some
 * destruction is unfinished. Runs on CPU 0 at every schedule(): it walks
 * the domains only when it has work (boot domains whose consoles and
 * xenstore the hypervisor serves, or a destruction asked for), so a
 * machine full of domains that Domain 0 serves does not pay a walk per
 * schedule. Destruction also runs on CPU 0 only, so the live list changes
 * under this walk only here: a destroyed domain's successor moves into
 * index i. */
bool domains_reap(void)
{
    struct domain *d;
    bool more = false;

    if (!boot_info.nr_modules && !domains_destroy_pending())
        return false;
    for (unsigned int i = 0; (d = get_domain_live(i)); ) {
        /* A domain still being created (or failing to be) is its
         * creator's to destroy, never stepped here as well. */
        if (!d->published) {
            put_domain(d);
            i++;
            continue;
        }
        if (d->state != DOM_DEAD) {
            console_drain_ring(d);
            xenstore_absent_serve(d);
            bool loaded = false;
            for (unsigned int v = 0; v < d->nr_vcpus; v++)
                loaded |= d->vcpus[v]->processor >= 0;
            if (d->state != DOM_SHUTDOWN || !(d->auto_destroy || d->destroy_requested) || loaded) {
                put_domain(d);
                i++;
                continue;
            }
            console_flush_domain(d);
            release_rings(d);
        }
        bool gone;
        do {
            gone = domain_destroy_step(d);
        } while (!gone && !interrupt_pending());
        more |= !gone;
        if (!gone)
            i++;                    /* else the next domain moved into i */
        /* A boot-loader domain with restarts= left is built again from
         * its module, as a new domain, once this one is gone. */
        unsigned int module = d->auto_destroy && !d->destroy_requested ? d->boot_module : 0;
        if (gone && module && d->restarts_left)
            build_boot_domain(module - 1, &boot_info.modules[module - 1],
                              (int)d->restarts_left - 1);
        put_domain(d);
    }
    return more;
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
