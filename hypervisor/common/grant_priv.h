/* Grant tables: what common/grant_*.c share among themselves (not an
 * interface for anything else; hv/grant_table.h is that).
 *
 *  grant_table.c  the tables and their registry, sizes, lifecycle, the
 *                 setup/query/status-frame operations and the hypercall's
 *                 dispatch;
 *  grant_version.c  set_version / get_version: switching a table
 *                 between v1 and v2;
 *  grant_pin.c    using a grant: pins, status flags and frame references;
 *  grant_map.c    the maptrack, map / unmap and Domain 0's map / unmap;
 *  grant_copy.c   GNTTABOP_copy and Domain 0's copy.
 *
 * The invariants and the lock order are grant_table.c's top comment. */
#ifndef HV_GRANT_PRIV_H
#define HV_GRANT_PRIV_H

#include "asm/guest_mm.h"
#include "hv/grant_table.h"
#include "hv/spinlock.h"

/* Pins of one grant (mappings and copies in progress), with what the
 * first pin read from the entry: the frame and, for a v2 sub-page grant,
 * the window of it that copies may touch (start, length). A transitive
 * grant's pins are copies only; each holds a use of the grant it names
 * (the frame and window are that grant's, in the use). */
struct active_grant {
    uint16_t ro_pins, rw_pins;
    domid_t user;
    uint16_t start;
    uint64_t mfn : 46;
    uint64_t sub_page : 1;          /* sub-page or transitive: never mapped */
    uint64_t transitive : 1;        /* pinned as a GTF_transitive grant */
    uint64_t length : 16;
};
_Static_assert(sizeof(struct active_grant) == 16, "active_grant");

/* One mapping a domain made (a maptrack entry); flags 0 = free, and then
 * ref links the free list. */
struct grant_mapping {
    uint16_t flags;                 /* GNTMAP_* as mapped */
    domid_t granter;
    grant_ref_t ref;
    uint64_t generation;            /* of the granter's table */
    mfn_t mfn;
    uint64_t host_addr;             /* page mapped (GNTMAP_host_map), else 0 */
};

#define ENTRIES_PER_FRAME   (PAGE_SIZE / sizeof(struct grant_entry_v1))
#define V2_PER_FRAME        (PAGE_SIZE / sizeof(union grant_entry_v2))
#define STATUS_PER_FRAME    (PAGE_SIZE / sizeof(grant_status_t))
/* Status frames a v2 table of nr frames has (one per 8 table frames). */
#define STATUS_FRAMES(nr)   (((nr) * V2_PER_FRAME + STATUS_PER_FRAME - 1) / STATUS_PER_FRAME)
#define STATUS_MAX_FRAMES   STATUS_FRAMES(GNTTAB_MAX_FRAMES)
/* Entries kept across a version switch, and that may be in use then
 * (the toolstack's: console, xenstore), as Xen's GNTTAB_NR_RESERVED_ENTRIES. */
#define RESERVED_ENTRIES    8u
#define ACTIVE_PER_PAGE     (PAGE_SIZE / sizeof(struct active_grant))
#define ACTIVE_PAGES        (GNTTAB_MAX_FRAMES * ENTRIES_PER_FRAME / ACTIVE_PER_PAGE)
#define MAPTRACK_PER_PAGE   (PAGE_SIZE / sizeof(struct grant_mapping))
#define MAPTRACK_MAX_PAGES  64u
#define MAPTRACK_NONE       UINT32_MAX

/* A grant is pinned by one domain's mappings (bounded by its maptrack;
 * two pins for a host+device mapping) plus copies in progress (two per
 * CPU at most). */
_Static_assert(2 * MAPTRACK_MAX_PAGES * MAPTRACK_PER_PAGE + 2 * NR_CPUS < UINT16_MAX, "pin counts");
_Static_assert(ENTRIES_PER_FRAME % ACTIVE_PER_PAGE == 0, "active pages per frame");

struct grant_table {
    struct domain *domain;
    uint64_t generation;
    spinlock_t lock;
    unsigned int version;                       /* 1 or 2 */
    unsigned int nr_frames;
    uint32_t *shared[GNTTAB_MAX_FRAMES];        /* v1 or v2 entries, as words */
    unsigned int nr_status_frames;              /* STATUS_FRAMES(nr_frames) in v2, else 0 */
    grant_status_t *status[STATUS_MAX_FRAMES];  /* v2: GTF_reading / GTF_writing per entry */
    struct active_grant *active[ACTIVE_PAGES];

    spinlock_t maptrack_lock;
    unsigned int maptrack_pages;
    grant_handle_t maptrack_free;               /* free-list head, MAPTRACK_NONE if empty */
    struct grant_mapping *maptrack[MAPTRACK_MAX_PAGES];
};
_Static_assert(sizeof(struct grant_table) <= PAGE_SIZE, "grant_table fits a page");

/* What one use of a grant holds (see the invariants). */
struct grant_use {
    domid_t granter;
    grant_ref_t ref;
    uint64_t generation;
    mfn_t mfn;
    bool readonly;
    uint16_t start, length;         /* the window copies may touch */
    /* A transitive grant's use: the outer pin holds no frame references;
     * the inner use (of inner_granter's inner_ref, by the outer granter)
     * holds them. */
    bool transitive;
    domid_t inner_granter;
    grant_ref_t inner_ref;
    uint64_t inner_generation;
};

/* Entries of the table in its version (with the table lock held). */
static inline unsigned int gnttab_nr_entries(const struct grant_table *gt)
{
    return gt->nr_frames * (unsigned int)(gt->version == 2 ? V2_PER_FRAME : ENTRIES_PER_FRAME);
}

/* Word 0 of an entry in either version: flags (low 16 bits) and domid.
 * v1: word 1 is the frame; v2: bytes 4-7 the sub-page window (page_off,
 * length) or the transitive domid and pad, bytes 8-15 the frame. */
static inline uint32_t *gnttab_entry_words(struct grant_table *gt, grant_ref_t ref)
{
    if (gt->version == 2)
        return &gt->shared[ref / V2_PER_FRAME][4 * (ref % V2_PER_FRAME)];
    return &gt->shared[ref / ENTRIES_PER_FRAME][2 * (ref % ENTRIES_PER_FRAME)];
}

/* v2 only: the entry's status (GTF_reading / GTF_writing). */
static inline grant_status_t *gnttab_status(struct grant_table *gt, grant_ref_t ref)
{
    return &gt->status[ref / STATUS_PER_FRAME][ref % STATUS_PER_FRAME];
}

/* The active entry of a grant that is pinned (its page exists). */
static inline struct active_grant *gnttab_active(struct grant_table *gt, grant_ref_t ref)
{
    return &gt->active[ref / ACTIVE_PER_PAGE][ref % ACTIVE_PER_PAGE];
}

/* Whether ref's page of active entries exists (a grant in its range was
 * pinned, or tried by a domain the entry named). gt locked. */
static inline bool gnttab_active_page(const struct grant_table *gt, grant_ref_t ref)
{
    return gt->active[ref / ACTIVE_PER_PAGE] != NULL;
}

/* Whether ref has pins: false while its page of active entries was never
 * needed. gt locked. */
static inline bool gnttab_pinned(const struct grant_table *gt, grant_ref_t ref)
{
    const struct active_grant *a = gt->active[ref / ACTIVE_PER_PAGE];
    return a && (a[ref % ACTIVE_PER_PAGE].ro_pins || a[ref % ACTIVE_PER_PAGE].rw_pins);
}

/* grant_table.c: the active entry of ref about to be pinned, its page
 * allocated (zeroed: no pins) the first time; NULL when out of memory.
 * gt locked, ref < gnttab_nr_entries(gt); grant_pin.c's acquire calls it
 * only for a page that exists or a user the entry names. */
struct active_grant *gnttab_active_alloc(struct grant_table *gt, grant_ref_t ref);

/* grant_table.c */
void *gnttab_hv_page(void);
/* Domain id's table, locked, if it exists (and has generation gen, unless
 * gen is 0). */
struct grant_table *gnttab_lock(domid_t id, uint64_t gen);
/* A live domain's own table (not locked): stable while the domain is not
 * destroyed, which cannot happen while it makes a hypercall (or, for
 * Domain 0, ever). */
struct grant_table *gnttab_of(const struct domain *d);
/* v2 status frames for the table's frames, shared with its domain (0,
 * -ENOMEM); taken back, unless the domain still maps one (0, -EBUSY).
 * With the table lock held. */
int gnttab_status_populate(struct grant_table *gt);
int gnttab_status_unpopulate(struct grant_table *gt);
/* The domain a table operation names: the caller (DOMID_SELF or its own
 * id) or, as Xen says to an unprivileged caller, GNTST_permission_denied
 * for another existing domain and GNTST_bad_domain for none. */
int16_t gnttab_own_target(struct domain *self, domid_t dom);

/* grant_version.c: GNTTABOP_set_version / get_version. */
long gnttab_set_version_op(struct domain *self, uint64_t uop);
long gnttab_get_version_op(struct domain *self, uint64_t uop);

/* grant_pin.c: a use of granter's ref by user (GNTST_*); mapping refuses
 * sub-page and transitive grants. */
int16_t grant_acquire(domid_t user, domid_t granter, grant_ref_t ref, bool readonly,
                      bool mapping, struct grant_use *use);
void grant_release(const struct grant_use *use);
/* The frame references a use holds: not_owned is the status when mfn is
 * not owner's. */
int16_t grant_get_frame_refs(struct domain *owner, mfn_t mfn, bool readonly, int16_t not_owned);
void grant_put_frame_refs(mfn_t mfn, bool readonly);

/* grant_map.c */
void gnttab_map_op(struct vcpu *v, void *op);        /* struct gnttab_map_grant_ref */
void gnttab_unmap_op(struct vcpu *v, void *op);      /* struct gnttab_unmap_grant_ref */
void gnttab_unmap_and_replace_op(struct vcpu *v, void *op); /* gnttab_unmap_and_replace */
/* Release every mapping in gt's maptrack (its domain is being destroyed);
 * the number released. */
unsigned int gnttab_release_mappings(struct grant_table *gt);

/* grant_copy.c */
void gnttab_copy_op(struct vcpu *v, void *op);       /* struct gnttab_copy */

#endif
