/*
 * Test kernel: memory isolation between two domains running at once.
 *
 * pvcore only (Xen runs only dom0 here): boot this kernel as two domains,
 * e.g. `module2 /boot/iso.elf name=iso-a mem=32M` and the same with
 * name=iso-b. Each instance:
 *
 * 1. fills every free page of its pseudo-physical space (the pool after
 *    the boot stack and every pfn the boot mapping leaves unmapped) with
 *    a pattern made from the frame's mfn and a per-boot random (rdtsc),
 *    keeping a checksum;
 * 2. walks machine frames 0..XENMEM_maximum_ram_page. A frame is its own
 *    when m2p[mfn] < nr_pages && p2m[m2p[mfn]] == mfn (the M2P is read
 *    through its read-only mapping at MACH2PHYS_VIRT_START). For each
 *    frame that is not, it tries to map it read-only and writable at a
 *    scratch va with update_va_mapping and with mmu_update on the scratch
 *    L1 entry, and to claim it with MMU_MACHPHYS_UPDATE; for frames the
 *    M2P says another domain holds, also mmu_update with foreigndom 0-3,
 *    DOMID_IO and DOMID_XEN. Every attempt must return a negative error,
 *    leave the scratch L1 entry empty and not set the M2P entry.
 *    Frames tried: every mfn below 16 MiB, every mfn the M2P says a
 *    domain holds (so all of the other instance's frames), every 7th mfn
 *    of the rest (a sample, said so in the summary), and a few mfns
 *    beyond the last RAM page. SCHEDOP_yield every 256 frames (and every
 *    256 pattern pages) lets the other instance run in between;
 * 3. re-verifies its pattern word by word and by checksum.
 *
 * Positive controls first show that the same calls succeed on an own
 * frame, so the refusals mean something; the test also fails when it
 * never sees a frame held by another domain (it was booted alone).
 * The frame of its own shared_info page is owned by the domain but not in
 * its p2m, and mappable by design: it is not tried.
 */
#include "lib.h"

const char test_name[] = "isolation";

#define SCRATCH_VA        0xffffffffc0000000ul  /* foreign map attempts     */
#define WINDOW_VA         (SCRATCH_VA + PAGE_SIZE) /* own unmapped pfns     */
#define NO_ENTRY          (~0ul)        /* INVALID_M2P_ENTRY / unreadable   */
#define MAX_PFN           (1ul << 40)   /* an m2p entry naming a real pfn   */
#define FULL_SCAN_MFNS    ((16ul << 20) >> PAGE_SHIFT)
#define SAMPLE_STRIDE     7
#define YIELD_EVERY       256
#define MAX_REPORTS       8
#define MIN_PATTERN_PAGES ((4ul << 20) >> PAGE_SHIFT)
#define WORDS             (PAGE_SIZE / 8)
#define MAP_RO            (PTE_P | PTE_A)
#define MAP_RW            (PTE_P | PTE_RW | PTE_A | PTE_D)

static uint64_t seed;           /* per-boot random for the pattern         */
static uint64_t max_ram;        /* XENMEM_maximum_ram_page                 */
static uint64_t m2p_slots;      /* mfns with a slot in the M2P mapping     */
static uint64_t control_pfn;    /* own page for the positive controls      */
static uint64_t first_free;     /* first pattern pfn                       */
static uint64_t scratch_pte_ma; /* machine address of SCRATCH_VA's L1 entry */
static volatile const uint64_t *scratch_pte;   /* ... read-only view      */

static struct {
    uint64_t frames;            /* foreign frames tried                    */
    uint64_t beyond;            /* of which beyond maximum_ram_page        */
    uint64_t attempts, refused, breaches;
    uint64_t own;               /* own frames met by the scan              */
    uint64_t held_at_start;     /* frames another domain held at start     */
    uint64_t held;              /* ... during the scan (all tried)         */
    uint64_t sampled_out;       /* frames skipped by the 1-in-7 sample     */
    uint64_t m2p_faults;        /* M2P reads that faulted                  */
    uint64_t yield_errors;
    uint64_t errors[128];       /* refusals by -rc; [0]: other values      */
} st;

static uint64_t fill_pages, fill_sum;

/* ---- helpers ---- */

static uint64_t rdtsc_or_zero(void)
{
    uint32_t lo = 0, hi = 0;

    probe_reset();
    __asm__ volatile(PROBE_ASM("rdtsc") : "+a"(lo), "+d"(hi));
    return last_trap.vector == TRAP_NONE ? ((uint64_t)hi << 32 | lo) : 0;
}

/* System time in ns from vCPU 0's time record, for the summary only
 * (its system_time alone if rdtsc traps; 0 if the record never settles). */
static uint64_t now_ns(void)
{
    volatile vcpu_time_info_t *t = &shared_info->vcpu_info[0].time;
    uint32_t version;
    uint64_t sys, stamp, delta, tsc;
    uint32_t mul;
    int8_t shift;
    unsigned int tries = 0;

    do {
        if (tries++ == 1000)
            return 0;
        version = t->version;
        __asm__ volatile("" ::: "memory");
        sys = t->system_time;
        stamp = t->tsc_timestamp;
        mul = t->tsc_to_system_mul;
        shift = t->tsc_shift;
        tsc = rdtsc_or_zero();
        __asm__ volatile("" ::: "memory");
    } while ((version & 1) || version != t->version);
    if (!tsc || tsc < stamp)
        return sys;
    delta = tsc - stamp;
    delta = shift < 0 ? delta >> -shift : delta << shift;
    return sys + (uint64_t)(((unsigned __int128)delta * mul) >> 32);
}

static void yield(void)
{
    if (hypercall_sched_op(SCHEDOP_yield, NULL))
        st.yield_errors++;
}

/* m2p[mfn] through the read-only M2P, NO_ENTRY if it has no slot or the
 * read faults. */
static uint64_t m2p_entry(uint64_t mfn)
{
    uint64_t v = NO_ENTRY;

    if (mfn >= m2p_slots)
        return NO_ENTRY;
    probe_reset();
    __asm__ volatile(PROBE_ASM("movq (%1), %0")
                     : "+r"(v) : "r"(&m2p[mfn]) : "memory");
    if (last_trap.vector != TRAP_NONE) {
        st.m2p_faults++;
        return NO_ENTRY;
    }
    return v;
}

static bool is_own(uint64_t mfn, uint64_t entry)
{
    return entry < start_info->nr_pages && p2m[entry] == mfn;
}

static long map_scratch(uint64_t va, uint64_t pte)
{
    return hypercall_update_va_mapping(va, pte, UVMF_INVLPG);
}

static uint64_t pattern_word(uint64_t mfn, unsigned int i)
{
    uint64_t x = ((mfn << 9) | i) ^ seed;

    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdul;
    x ^= x >> 33;
    return x;
}

static uint64_t sum_step(uint64_t sum, uint64_t w)
{
    return (sum ^ w) * 0x100000001b3ul;
}

/* ---- setup ---- */

static void setup(void)
{
    struct xen_machphys_mapping mm;
    long rc;
    const uint64_t *l1;
    char cmdline[65];

    memcpy(cmdline, (const char *)start_info->cmd_line, sizeof(cmdline) - 1);
    cmdline[sizeof(cmdline) - 1] = '\0';
    rc = hypercall_memory_op(XENMEM_maximum_ram_page, NULL);
    if (rc <= 0)
        test_abort("XENMEM_maximum_ram_page returned %ld", rc);
    max_ram = (uint64_t)rc;
    rc = hypercall_memory_op(XENMEM_machphys_mapping, &mm);
    test_eq(rc, 0, "XENMEM_machphys_mapping");
    m2p_slots = MACH2PHYS_NR_ENTRIES;
    if (rc == 0 && mm.max_mfn < m2p_slots)
        m2p_slots = mm.max_mfn + 1;
    seed = rdtsc_or_zero();
    seed ^= shared_info->vcpu_info[0].time.system_time * 0x9e3779b97f4a7c15ul;
    seed ^= p2m[0] << 20;

    test_ok(!(start_info->flags & SIF_PRIVILEGED),
            "runs unprivileged (start_info flags %#x)", start_info->flags);
    test_eq(mm_ensure_l1(SCRATCH_VA), 0, "L1 table for the scratch va");
    scratch_pte_ma = pte_maddr(SCRATCH_VA, 1);
    l1 = scratch_pte_ma ? mfn_to_virt(scratch_pte_ma >> PAGE_SHIFT) : NULL;
    if (!l1)
        test_abort("no readable L1 entry for the scratch va (maddr %#lx)",
                   (unsigned long)scratch_pte_ma);
    scratch_pte = l1 + (scratch_pte_ma & (PAGE_SIZE - 1)) / 8;
    test_eq(*scratch_pte, 0, "scratch L1 entry starts empty");

    /* Last pool allocation: everything after it is free for the pattern. */
    control_pfn = virt_to_pfn(page_alloc());
    first_free = control_pfn + 1;
    if (first_free >= start_info->nr_pages)
        test_abort("no free pages (%lu pages)",
                   (unsigned long)start_info->nr_pages);
    /* Lines stay under 160 characters: the domain console wraps them. */
    printk("isolation: cmdline \"%s\", %lu pages, maximum_ram_page %#lx, "
           "M2P slots %#lx\n", cmdline, (unsigned long)start_info->nr_pages,
           (unsigned long)max_ram, (unsigned long)m2p_slots);
    printk("isolation: pattern pfns %#lx-%#lx (%lu mapped at boot), seed "
           "%#lx\n", (unsigned long)first_free,
           (unsigned long)start_info->nr_pages - 1,
           (unsigned long)mm_mapped_pfns(), (unsigned long)seed);
}

/* The p2m and the M2P agree on every own frame, which is what makes the
 * m2p-based "own" test exact; count what other domains hold right now. */
static void check_p2m_and_census(void)
{
    uint64_t bad = 0, bad_pfn = 0, bad_mfn = 0, bad_entry = 0;

    for (uint64_t pfn = 0; pfn < start_info->nr_pages; pfn++) {
        uint64_t mfn = p2m[pfn], entry = m2p_entry(mfn);

        if (entry != pfn || mfn > max_ram) {
            if (!bad++) {
                bad_pfn = pfn;
                bad_mfn = mfn;
                bad_entry = entry;
            }
        }
    }
    test_eq(bad, 0, "own pfns whose mfn is above maximum_ram_page or whose "
            "m2p entry is wrong (first: pfn %#lx mfn %#lx m2p %#lx)",
            (unsigned long)bad_pfn, (unsigned long)bad_mfn,
            (unsigned long)bad_entry);

    for (uint64_t mfn = 0; mfn <= max_ram; mfn++) {
        uint64_t entry = m2p_entry(mfn);

        if (entry < MAX_PFN && !is_own(mfn, entry))
            st.held_at_start++;
    }
    printk("isolation: %lu frames held by other domains at start\n",
           (unsigned long)st.held_at_start);
}

/* ---- positive controls: the same calls work on an own frame ---- */

static void positive_controls(void)
{
    uint64_t *page = pfn_to_virt(control_pfn);
    uint64_t mfn = pfn_to_mfn(control_pfn), ma = mfn << PAGE_SHIFT;
    volatile uint64_t *s = (volatile uint64_t *)SCRATCH_VA;

    page[0] = 0x1501a7e0c0ffee01ul;
    page[1] = 0;
    page[2] = 0;

    test_eq(map_scratch(SCRATCH_VA, ma | MAP_RO), 0,
            "control: update_va_mapping read-only of own mfn %#lx",
            (unsigned long)mfn);
    test_eq(*scratch_pte & (PTE_ADDR | PTE_P | PTE_RW), ma | PTE_P,
            "control: scratch L1 entry after the read-only map");
    test_eq(s[0], page[0], "control: read through the read-only mapping");

    test_eq(map_scratch(SCRATCH_VA, ma | MAP_RW), 0,
            "control: update_va_mapping writable of own mfn");
    test_eq(*scratch_pte & (PTE_ADDR | PTE_P | PTE_RW), ma | PTE_P | PTE_RW,
            "control: scratch L1 entry after the writable map");
    s[1] = 0x2222;
    test_eq(((volatile uint64_t *)page)[1], 0x2222,
            "control: write through the writable mapping");

    /* mmu_update does not flush: unmap (with invlpg) before each map. */
    test_eq(map_scratch(SCRATCH_VA, 0), 0, "control: unmap");
    test_eq(mmu_update1(scratch_pte_ma, ma | MAP_RO), 0,
            "control: mmu_update read-only of own mfn");
    test_eq(*scratch_pte & (PTE_ADDR | PTE_P | PTE_RW), ma | PTE_P,
            "control: scratch L1 entry after mmu_update read-only");
    test_eq(s[0], page[0], "control: read through the mmu_update mapping");
    test_eq(map_scratch(SCRATCH_VA, 0), 0, "control: unmap");
    test_eq(mmu_update1(scratch_pte_ma, ma | MAP_RW), 0,
            "control: mmu_update writable of own mfn");
    s[2] = 0x3333;
    test_eq(((volatile uint64_t *)page)[2], 0x3333,
            "control: write through the writable mmu_update mapping");
    test_eq(map_scratch(SCRATCH_VA, 0), 0, "control: unmap");
    test_eq(*scratch_pte, 0, "control: scratch L1 entry empty again");

    /* Point the own frame's m2p entry elsewhere and back: the change must
     * show through the read-only M2P, as a foreign claim would. */
    test_eq(mmu_update1(ma | MMU_MACHPHYS_UPDATE, first_free), 0,
            "control: MMU_MACHPHYS_UPDATE of own mfn %#lx to pfn %#lx",
            (unsigned long)mfn, (unsigned long)first_free);
    test_eq(m2p_entry(mfn), first_free, "control: m2p entry after it");
    test_eq(mmu_update1(ma | MMU_MACHPHYS_UPDATE, control_pfn), 0,
            "control: MMU_MACHPHYS_UPDATE of own mfn back to its pfn");
    test_eq(m2p_entry(mfn), control_pfn, "control: m2p entry restored");
}

/* ---- 1 and 3: the pattern ---- */

static bool pattern_pfn(uint64_t pfn)
{
    uint64_t mfn = pfn_to_mfn(pfn);

    /* Never part of the pool; excluded should a layout ever put them there. */
    return mfn != start_info->store_mfn && mfn != start_info->console.domU.mfn;
}

static uint64_t *pattern_map(uint64_t pfn)
{
    long rc;

    if (pfn < mm_mapped_pfns())
        return pfn_to_virt(pfn);
    rc = map_scratch(WINDOW_VA, (pfn_to_mfn(pfn) << PAGE_SHIFT) | PTE_PAGE);
    if (rc)
        test_abort("mapping own pfn %#lx (mfn %#lx) writable: %ld",
                   (unsigned long)pfn, (unsigned long)pfn_to_mfn(pfn), rc);
    return (uint64_t *)WINDOW_VA;
}

static void fill_pattern(void)
{
    for (uint64_t pfn = first_free; pfn < start_info->nr_pages; pfn++) {
        uint64_t mfn = pfn_to_mfn(pfn), *page;

        if (!pattern_pfn(pfn))
            continue;
        page = pattern_map(pfn);
        for (unsigned int i = 0; i < WORDS; i++) {
            uint64_t w = pattern_word(mfn, i);

            page[i] = w;
            fill_sum = sum_step(fill_sum, w);
        }
        if (++fill_pages % YIELD_EVERY == 0)
            yield();
    }
    test_eq(map_scratch(WINDOW_VA, 0), 0, "unmap the pattern window");
    test_ok(fill_pages >= MIN_PATTERN_PAGES,
            "pattern covers %lu pages, want at least %lu (4 MiB)",
            (unsigned long)fill_pages, (unsigned long)MIN_PATTERN_PAGES);
    printk("isolation: pattern written to %lu pages (%lu KiB), checksum "
           "%#lx\n", (unsigned long)fill_pages,
           (unsigned long)fill_pages * 4, (unsigned long)fill_sum);
}

static void verify_pattern(void)
{
    uint64_t pages = 0, sum = 0, bad_words = 0, bad_pages = 0;
    uint64_t bad_pfn = 0, bad_mfn = 0, bad_val = 0, bad_want = 0;
    unsigned int bad_index = 0;

    for (uint64_t pfn = first_free; pfn < start_info->nr_pages; pfn++) {
        uint64_t mfn = pfn_to_mfn(pfn);
        const uint64_t *page;
        bool page_bad = false;

        if (!pattern_pfn(pfn))
            continue;
        page = pattern_map(pfn);
        for (unsigned int i = 0; i < WORDS; i++) {
            uint64_t w = page[i], want = pattern_word(mfn, i);

            sum = sum_step(sum, w);
            if (w == want)
                continue;
            page_bad = true;
            if (!bad_words++) {
                bad_pfn = pfn;
                bad_mfn = mfn;
                bad_index = i;
                bad_val = w;
                bad_want = want;
            }
        }
        bad_pages += page_bad;
        pages++;
    }
    test_eq(map_scratch(WINDOW_VA, 0), 0, "unmap the pattern window again");
    if (bad_words)
        printk("isolation: first changed word: pfn %#lx mfn %#lx word %u is "
               "%#lx, wrote %#lx\n", (unsigned long)bad_pfn,
               (unsigned long)bad_mfn, bad_index, (unsigned long)bad_val,
               (unsigned long)bad_want);
    printk("isolation: pattern re-read from %lu pages: %lu words differ, "
           "checksum %#lx (written %#lx)\n", (unsigned long)pages,
           (unsigned long)bad_words, (unsigned long)sum,
           (unsigned long)fill_sum);
    test_ok(bad_words == 0 && sum == fill_sum && pages == fill_pages,
            "own pattern changed: %lu words in %lu of %lu pages, checksum "
            "%#lx was %#lx", (unsigned long)bad_words,
            (unsigned long)bad_pages, (unsigned long)pages,
            (unsigned long)sum, (unsigned long)fill_sum);
}

/* ---- 2: the attempts ---- */

static void clear_scratch(void)
{
    long rc = map_scratch(SCRATCH_VA, 0);

    if (rc || *scratch_pte)
        test_abort("cannot clear the scratch mapping (rc %ld, L1 entry %#lx)",
                   rc, (unsigned long)*scratch_pte);
}

static void breach(const char *how, uint64_t mfn, uint64_t entry, long rc,
                   uint64_t after)
{
    if (++st.breaches <= MAX_REPORTS)
        test_ok(false, "%s of mfn %#lx (m2p %#lx) %s rc %ld (%s %#lx)", how,
                (unsigned long)mfn, (unsigned long)entry,
                rc < 0 ? "took effect despite" : "succeeded:", rc,
                strstr(how, "MACHPHYS") ? "m2p now" : "L1e",
                (unsigned long)after);
}

static void refused(long rc)
{
    st.refused++;
    st.errors[rc >= -127 ? -rc : 0]++;
}

/* One page-table attempt: refused means a negative error and an empty
 * scratch L1 entry afterwards. */
static void judge_map(const char *how, uint64_t mfn, uint64_t entry, long rc)
{
    uint64_t pte = *scratch_pte;

    st.attempts++;
    if (rc < 0 && pte == 0) {
        refused(rc);
        return;
    }
    breach(how, mfn, entry, rc, pte);
    clear_scratch();
}

static void try_frame(uint64_t mfn, uint64_t entry)
{
    static const unsigned int foreign_doms[] = {
        0, 1, 2, 3, DOMID_IO, DOMID_XEN,
    };
    uint64_t ma = mfn << PAGE_SHIFT;
    /* An own pfn to claim the frame for; never the value already there,
     * so a claim that took effect shows in the m2p. */
    uint64_t claim = entry == control_pfn ? first_free : control_pfn;
    uint64_t after;
    long rc;

    st.frames++;
    judge_map("update_va_mapping read-only", mfn, entry,
              map_scratch(SCRATCH_VA, ma | MAP_RO));
    judge_map("update_va_mapping writable", mfn, entry,
              map_scratch(SCRATCH_VA, ma | MAP_RW));
    judge_map("mmu_update read-only", mfn, entry,
              mmu_update1(scratch_pte_ma, ma | MAP_RO));
    judge_map("mmu_update writable", mfn, entry,
              mmu_update1(scratch_pte_ma, ma | MAP_RW));
    if (entry < MAX_PFN) {
        for (unsigned int i = 0; i < ARRAY_SIZE(foreign_doms); i++) {
            mmu_update_t req = { .ptr = scratch_pte_ma, .val = ma | MAP_RW };
            unsigned int done = 0;
            char how[48];

            snprintf(how, sizeof(how), "mmu_update writable, foreigndom %#x",
                     foreign_doms[i]);
            judge_map(how, mfn, entry,
                      hypercall_mmu_update(&req, 1, &done, foreign_doms[i]));
        }
    }

    rc = mmu_update1(ma | MMU_MACHPHYS_UPDATE, claim);
    after = m2p_entry(mfn);
    st.attempts++;
    if (rc < 0 && after != claim)
        refused(rc);
    else
        breach("MMU_MACHPHYS_UPDATE", mfn, entry, rc, after);

    if (st.frames % YIELD_EVERY == 0)
        yield();
}

/* Our grant table's frames: owned by us, not in the p2m, mappable by
 * design (like shared_info). */
static unsigned int grant_frames(xen_pfn_t *frames, unsigned int max)
{
    struct gnttab_query_size q = { .dom = DOMID_SELF };
    struct gnttab_setup_table setup = { .dom = DOMID_SELF, .frame_list = HC(frames) };

    if (hypercall_grant_table_op(GNTTABOP_query_size, &q, 1) || q.status)
        return 0;
    setup.nr_frames = q.nr_frames < max ? q.nr_frames : max;
    if (hypercall_grant_table_op(GNTTABOP_setup_table, &setup, 1) || setup.status)
        return 0;
    return setup.nr_frames;
}

static bool is_grant_frame(uint64_t mfn, const xen_pfn_t *frames, unsigned int n)
{
    for (unsigned int i = 0; i < n; i++)
        if (frames[i] == mfn)
            return true;
    return false;
}

static void scan(void)
{
    uint64_t shared_mfn = start_info->shared_info >> PAGE_SHIFT;
    static xen_pfn_t gframes[32];
    unsigned int n_gframes = grant_frames(gframes, 32);
    const uint64_t beyond[] = {
        max_ram + 1, max_ram + 0x100, max_ram + 0x10000, 1ul << 28,
        (1ul << 40) - 1,
    };

    for (uint64_t mfn = 0; mfn <= max_ram; mfn++) {
        uint64_t entry = m2p_entry(mfn);
        bool held = entry < MAX_PFN;

        if (is_own(mfn, entry)) {
            st.own++;
            continue;
        }
        if (mfn == shared_mfn || is_grant_frame(mfn, gframes, n_gframes))
            continue;
        st.held += held;
        if (mfn >= FULL_SCAN_MFNS && !held && mfn % SAMPLE_STRIDE) {
            st.sampled_out++;
            continue;
        }
        try_frame(mfn, entry);
    }
    for (unsigned int i = 0; i < ARRAY_SIZE(beyond); i++) {
        if (beyond[i] <= max_ram)
            continue;
        st.beyond++;
        try_frame(beyond[i], m2p_entry(beyond[i]));
    }
}

static void summary(uint64_t ns)
{
    static const struct { int err; const char *name; } names[] = {
        { XEN_EPERM, "EPERM" }, { XEN_ESRCH, "ESRCH" },
        { XEN_EACCES, "EACCES" }, { XEN_EFAULT, "EFAULT" },
        { XEN_EBUSY, "EBUSY" }, { XEN_EINVAL, "EINVAL" },
        { XEN_ENOSYS, "ENOSYS" }, { XEN_ENOMEM, "ENOMEM" },
    };
    char line[400];
    size_t n = 0;

    for (unsigned int e = 0; e < ARRAY_SIZE(st.errors); e++) {
        const char *name = NULL;

        if (!st.errors[e] || n >= sizeof(line))
            continue;
        for (unsigned int k = 0; k < ARRAY_SIZE(names); k++)
            if (names[k].err == (int)e)
                name = names[k].name;
        if (e == 0)
            name = "other";
        if (name)
            n += snprintf(line + n, sizeof(line) - n, " %s:%lu", name,
                          (unsigned long)st.errors[e]);
        else
            n += snprintf(line + n, sizeof(line) - n, " -%u:%lu", e,
                          (unsigned long)st.errors[e]);
    }
    if (!n)
        snprintf(line, sizeof(line), " none");
    printk("isolation: refusals by error:%s\n", line);
    /* Two lines: the domain console wraps long ones. */
    printk("isolation: tried mfns 0..%#lx: every mfn below 16 MiB, all %lu "
           "held by other domains, every %uth of the rest (sampled: %lu "
           "skipped), %lu beyond RAM\n", (unsigned long)max_ram,
           (unsigned long)st.held, SAMPLE_STRIDE,
           (unsigned long)st.sampled_out, (unsigned long)st.beyond);
    printk("isolation: %lu foreign frames tried (%lu own skipped), %lu "
           "attempts, %lu refused: %s (%lu ms)\n", (unsigned long)st.frames,
           (unsigned long)st.own, (unsigned long)st.attempts,
           (unsigned long)st.refused,
           st.refused == st.attempts ? "all refused" : "SOME NOT REFUSED",
           (unsigned long)(ns / 1000000));
}

void test_main(void)
{
    uint64_t t0;

    setup();
    t0 = now_ns();
    check_p2m_and_census();
    positive_controls();
    fill_pattern();
    scan();
    verify_pattern();

    test_eq(st.own, start_info->nr_pages,
            "own frames found by the M2P scan of 0..maximum_ram_page");
    test_ok(st.held_at_start > 0 || st.held > 0,
            "saw no frame held by another domain: boot two instances");
    test_ok(st.frames > 0 && st.attempts > 0, "no foreign frame was tried");
    test_eq(st.attempts - st.refused, 0,
            "attempts on foreign frames that were not refused");
    test_eq(st.yield_errors, 0, "failed SCHEDOP_yield calls");
    if (st.m2p_faults)
        printk("isolation: %lu M2P reads faulted (treated as no entry)\n",
               (unsigned long)st.m2p_faults);
    summary(now_ns() - t0);
}
