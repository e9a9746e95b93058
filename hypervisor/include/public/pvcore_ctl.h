/*
 * pvcore's own ABI: the control interface between the hypervisor and
 * Domain 0 (the Linux host running pvd), which lives outside the machine
 * and reaches it through shared machine memory and a doorbell.
 *
 * Discovery: at boot the hypervisor writes a struct pvctl_anchor at
 * physical address PVCTL_ANCHOR_PADDR (a page below 1 MiB it reserves).
 * The anchor holds the physical address of the control block.
 *
 * The control block (PVCTL_BLOCK_PAGES pages, physically contiguous):
 *  - a request ring (Domain 0 produces, the hypervisor consumes) and a
 *    response ring (the other way), PVCTL_RING_SIZE slots each, free-
 *    running 32-bit indices, slot = index % PVCTL_RING_SIZE;
 *  - a bulk area for transfers that do not fit in a request (frame lists,
 *    domain lists, console text), PVCTL_BULK_SIZE bytes, owned by the
 *    request in flight that names it (one request uses it at a time);
 *  - the hypervisor console log ring (text the hypervisor printed);
 *  - Domain 0's shared_info page address (its event-channel pending and
 *    mask bits: the hypervisor sets pending bits there and rings the
 *    doorbell; Domain 0 clears them).
 * Doorbell: one byte written to the machine's second serial port (COM2)
 * in either direction means "look at the rings / pending bits". Bytes
 * carry no data.
 *
 * Every request is checked by the hypervisor like any guest input: size
 * and op first, then every id and range; a bad request gets an error
 * response (negative errno), never a hang.
 * Versioning: PVCTL_VERSION changes when any layout or meaning changes;
 * Domain 0 refuses a block whose version it does not know.
 */
#ifndef PVCORE_PUBLIC_PVCORE_CTL_H
#define PVCORE_PUBLIC_PVCORE_CTL_H

#include <stdint.h>
#include <stddef.h>

#define PVCTL_ANCHOR_PADDR  0x6000ULL
#define PVCTL_ANCHOR_MAGIC  "PVCORE-CTL-ANCHOR"     /* 17 chars + NUL */
#define PVCTL_BLOCK_MAGIC   0x4c54435645524f43ULL    /* "COREVCTL" */
#define PVCTL_VERSION       6

#define PVCTL_BLOCK_PAGES   64
#define PVCTL_RING_SIZE     32
#define PVCTL_BULK_SIZE     (192 * 1024)
#define PVCTL_MAX_DOMAINS   2047        /* guest domains at once; LIST_DOMAINS fits them in bulk */
#define PVCTL_CONSOLE_SIZE  (16 * 1024)
#define PVCTL_POPULATE_PAGES 8192       /* 32 MiB: frames per CREATE_DOMAIN / POPULATE */
#define PVCTL_NAME_LEN      32

struct pvctl_create {
    char name[PVCTL_NAME_LEN];
    uint8_t handle[16];
    uint64_t mem_pages, max_pages;
    uint32_t vcpus, weight, cap, pad;
};

struct pvctl_frames {
    uint32_t domid, pad;
    uint64_t start, count;       /* pfn range; count <= bulk / 8 */
};

struct pvctl_vcpu_context {
    uint32_t domid, vcpu;
    uint64_t rip, rsp, rsi;
    uint64_t l4_mfn;             /* kernel page table: validated and pinned */
};

struct pvctl_domid {
    uint32_t domid, arg;         /* arg: shutdown reason for SHUTDOWN */
};

struct pvctl_set_max_mem {
    uint32_t domid, pad;
    uint64_t max_pages;
};

struct pvctl_set_sched {
    uint32_t domid, weight, cap, pad;
};

/* Domain 0's ports that are bound to a domain, or wait for it to bind,
 * are closed by the hypervisor when that domain is destroyed: Domain 0
 * closes a port itself only while the domain exists. */
struct pvctl_evtchn {
    uint32_t domid;              /* remote domain */
    uint32_t port;               /* remote port (bind) or dom0 port (send/close) */
};

struct pvctl_grant_map {
    uint32_t domid;              /* granting domain */
    uint32_t gref;
    uint32_t flags;              /* GNTMAP_readonly */
    uint32_t handle;             /* unmap: the handle map returned */
};

struct pvctl_grant_copy {
    uint32_t count;              /* struct gnttab_copy entries at the start of bulk */
    uint32_t pad;
};

/* GRANT_MAP_BATCH / GRANT_UNMAP_BATCH: count entries at the start of bulk
 * (1..PVCTL_GRANT_BATCH_MAX, else -E2BIG / -EINVAL and no entry is looked
 * at). Each entry is checked and done exactly as GRANT_MAP / GRANT_UNMAP
 * would do it, in order; a refused entry gets in status the errno the
 * single op would return and fails alone. The call's status is 0 once
 * every entry has its own. */
struct pvctl_grant_batch {
    uint32_t count;
    uint32_t pad;
};

struct pvctl_grant_map_entry {
    uint32_t domid;              /* in: granting domain */
    uint32_t gref;               /* in */
    uint32_t flags;              /* in: GNTMAP_readonly or 0 */
    int32_t status;              /* out: 0 or GRANT_MAP's negative errno */
    uint64_t mfn;                /* out, when status is 0 */
    uint32_t handle;             /* out, when status is 0 */
    uint32_t pad;
};

struct pvctl_grant_unmap_entry {
    uint32_t handle;             /* in: a handle GRANT_MAP or GRANT_MAP_BATCH returned */
    int32_t status;              /* out: 0 or GRANT_UNMAP's negative errno */
};

/* Enough for a blkif request's 256 segments and its indirect page, and
 * short: 512 maps are less work than one full-bulk GRANT_COPY. */
#define PVCTL_GRANT_BATCH_MAX 512

struct pvctl_pin {
    uint32_t domid;
    uint32_t level;              /* 1-4 for PIN_TABLE; ignored by UNPIN_TABLE */
    uint64_t mfn;
};

struct pvctl_console_read {
    uint64_t from;               /* console index to start at (0 = oldest kept) */
};

struct pvctl_set_console {
    uint32_t domid;
    uint32_t console_port, store_port;   /* the domain's ports */
    uint32_t pad;
    uint64_t console_pfn, store_pfn;
};

/* Ops without an argument or without a reply of their own (GNU C: an
 * empty struct has size 0). */
struct pvctl_none {
};

/*
 * The operations, described once: everything below (the op numbers, the
 * hypervisor's dispatch in common/control.c, Domain 0's op names and its
 * typed calls in dom0/ctl*.c) follows from this table.
 *   X(NAME, name, number, request, reply, bulk, target)
 * NAME/name: PVCTL_OP_NAME, and the hypervisor's handler op_name;
 * number: the op's value (append only: numbers never change meaning);
 * request: the payload struct (its size is the only size accepted);
 * reply: the member of pvctl_response.u that carries the answer (none:
 *   the status is the answer; a bulk op's data is in the bulk area);
 * bulk: 1 if the op moves data through the bulk area (one request at a time);
 * target: GUEST if the payload starts with the uint32_t domid of a guest
 *   that must exist and not be dying (-ESRCH otherwise, before anything
 *   else is looked at), NONE if the op checks its ids itself.
 */
#define PVCTL_OPS(X)                                                                          \
    /* answer 0: a liveness check */                                                          \
    X(NOP, nop, 0, struct pvctl_none, none, 0, NONE)                                          \
    X(MACHINE_INFO, machine_info, 1, struct pvctl_none, machine, 0, NONE)                     \
    X(CREATE_DOMAIN, create_domain, 2, struct pvctl_create, created, 0, NONE)                 \
    /* the domain's mfns, pfn order, into bulk */                                             \
    X(GET_FRAMES, get_frames, 3, struct pvctl_frames, frames, 1, GUEST)                       \
    X(SET_VCPU_CONTEXT, set_vcpu_context, 4, struct pvctl_vcpu_context, none, 0, GUEST)       \
    X(UNPAUSE, unpause, 5, struct pvctl_domid, none, 0, GUEST)                                \
    X(PAUSE, pause, 6, struct pvctl_domid, none, 0, GUEST)                                    \
    /* arg: the reason; the hypervisor stops the domain (sends no event) */                   \
    X(SHUTDOWN, shutdown, 7, struct pvctl_domid, none, 0, GUEST)                              \
    /* -EPERM for domain 0 */                                                                 \
    X(DESTROY, destroy, 8, struct pvctl_domid, none, 0, NONE)                                 \
    /* any guest, a dying one included */                                                     \
    X(GET_INFO, get_info, 9, struct pvctl_domid, info, 0, NONE)                               \
    /* an array of pvctl_domain_info in bulk (all of them: at most PVCTL_MAX_DOMAINS) */      \
    X(LIST_DOMAINS, list_domains, 10, struct pvctl_none, none, 1, NONE)                       \
    X(SET_MAX_MEM, set_max_mem, 11, struct pvctl_set_max_mem, none, 0, GUEST)                 \
    X(SET_SCHED, set_sched, 12, struct pvctl_set_sched, none, 0, GUEST)                       \
    /* a Domain 0 port the guest may bind to */                                               \
    X(EVTCHN_ALLOC_UNBOUND, evtchn_alloc_unbound, 13, struct pvctl_evtchn, port, 0, GUEST)    \
    /* a Domain 0 port bound to the guest's port */                                           \
    X(EVTCHN_BIND_INTERDOMAIN, evtchn_bind_interdomain, 14, struct pvctl_evtchn, port, 0,     \
      GUEST)                                                                                  \
    /* on Domain 0's own port (domid unused) */                                               \
    X(EVTCHN_SEND, evtchn_send, 15, struct pvctl_evtchn, none, 0, NONE)                       \
    X(EVTCHN_CLOSE, evtchn_close, 16, struct pvctl_evtchn, none, 0, NONE)                     \
    /* the granting domain's ref -> mfn, handle */                                            \
    X(GRANT_MAP, grant_map, 17, struct pvctl_grant_map, grant, 0, NONE)                       \
    X(GRANT_UNMAP, grant_unmap, 18, struct pvctl_grant_map, none, 0, NONE)                    \
    /* count struct gnttab_copy in bulk, each status filled */                                \
    X(GRANT_COPY, grant_copy, 19, struct pvctl_grant_copy, none, 1, NONE)                     \
    /* the hypervisor's console since an index, into bulk */                                  \
    X(CONSOLE_READ, console_read, 20, struct pvctl_console_read, console, 1, NONE)            \
    X(SET_CONSOLE, set_console, 21, struct pvctl_set_console, none, 0, GUEST)                 \
    /* validated as a table of level 1-4 and pinned */                                        \
    X(PIN_TABLE, pin_table, 22, struct pvctl_pin, none, 0, GUEST)                             \
    X(UNPIN_TABLE, unpin_table, 23, struct pvctl_pin, none, 0, GUEST)                         \
    /* a new port of the guest's own bound to a new Domain 0 port (start_info's) */           \
    X(EVTCHN_CONNECT, evtchn_connect, 24, struct pvctl_evtchn, connect, 0, GUEST)             \
    /* the next PVCTL_POPULATE_PAGES of a building domain's memory */                         \
    X(POPULATE, populate, 25, struct pvctl_domid, populated, 0, GUEST)                        \
    /* count pvctl_grant_map_entry in bulk, each checked as GRANT_MAP, status filled */       \
    X(GRANT_MAP_BATCH, grant_map_batch, 26, struct pvctl_grant_batch, none, 1, NONE)          \
    /* count pvctl_grant_unmap_entry in bulk, each as GRANT_UNMAP, status filled */           \
    X(GRANT_UNMAP_BATCH, grant_unmap_batch, 27, struct pvctl_grant_batch, none, 1, NONE)

#define PVCTL_OP_ENUM_(NAME, name, number, request, reply, bulk, target) PVCTL_OP_##NAME = number,
enum pvctl_op {
    PVCTL_OPS(PVCTL_OP_ENUM_)
    PVCTL_OP_MAX_
};
/* The numbers are the table's positions: every op has a slot below MAX. */
#define PVCTL_OP_COUNT_(NAME, name, number, request, reply, bulk, target) + 1
#define PVCTL_OP_MAX (0 PVCTL_OPS(PVCTL_OP_COUNT_))
_Static_assert(PVCTL_OP_MAX_ == PVCTL_OP_MAX, "pvctl ops numbered 0..n-1 in table order");

/* target: whether the payload names a guest by its first uint32_t. */
#define PVCTL_TARGET_IS_NONE  0
#define PVCTL_TARGET_IS_GUEST 1
#define PVCTL_TARGET_CHECK_NONE(request) 1
#define PVCTL_TARGET_CHECK_GUEST(request) (offsetof(request, domid) == 0)

/* In a request's op: Domain 0 waits for no answer (a posted
 * notification): the hypervisor answers it like any other but rings no
 * doorbell for it (version 6). */
#define PVCTL_OP_POSTED 0x80000000u

struct pvctl_request {
    uint64_t id;                 /* echoed in the response */
    uint32_t op;                 /* enum pvctl_op, | PVCTL_OP_POSTED */
    uint32_t size;               /* bytes of u used: must equal the op's struct size */
    union {
        struct pvctl_create create;
        struct pvctl_frames frames;
        struct pvctl_vcpu_context ctx;
        struct pvctl_domid dom;
        struct pvctl_set_max_mem maxmem;
        struct pvctl_set_sched sched;
        struct pvctl_evtchn evtchn;
        struct pvctl_grant_map grant;
        struct pvctl_grant_copy grant_copy;
        struct pvctl_grant_batch grant_batch;
        struct pvctl_pin pin;
        struct pvctl_console_read console;
        struct pvctl_set_console setcons;
        struct pvctl_none none;
        uint8_t raw[112];
    } u;
};
_Static_assert(sizeof(struct pvctl_request) == 128, "pvctl_request");

struct pvctl_domain_info {
    uint32_t domid;
    uint32_t state;              /* PVCTL_DOM_* */
    uint32_t shutdown_reason;    /* SHUTDOWN_* when state is SHUTDOWN */
    uint32_t vcpus;
    uint64_t tot_pages, max_pages;
    uint64_t cpu_time_ns;
    uint32_t weight, cap;
    char name[PVCTL_NAME_LEN];
    uint8_t handle[16];
};

enum pvctl_dom_state {
    PVCTL_DOM_BUILDING = 0, PVCTL_DOM_RUNNING = 1, PVCTL_DOM_PAUSED = 2,
    PVCTL_DOM_SHUTDOWN = 3, PVCTL_DOM_DYING = 4,
};

struct pvctl_machine_info {
    uint32_t nr_cpus;
    uint32_t dom0_ports;         /* Domain 0's event-channel ports in use */
    uint64_t total_frames, free_frames;
    uint64_t tsc_khz;
    uint64_t boot_id;            /* changes on every boot of the machine */
};

struct pvctl_response {
    uint64_t id;
    int32_t status;              /* 0 or a negative errno */
    uint32_t size;               /* bytes of u (or of bulk, for bulk ops) */
    union {
        uint32_t domid;
        /* CREATE: unpopulated frames come with POPULATE calls */
        struct { uint32_t domid, pad; uint64_t shared_info, unpopulated; } created;
        struct { uint64_t unpopulated; } populated;     /* POPULATE: 0 when complete */
        uint32_t port;
        struct { uint32_t port, remote_port; } connect;  /* dom0's, the domain's */
        struct { uint64_t mfn; uint32_t handle, pad; } grant;
        struct pvctl_domain_info info;
        struct pvctl_machine_info machine;
        struct { uint64_t count; } frames;
        struct { uint64_t next, lost; } console;  /* next index; bytes dropped */
        struct pvctl_none none;
        uint8_t raw[112];
    } u;
};
_Static_assert(sizeof(struct pvctl_response) == 128, "pvctl_response");

/* Every op's request fits the request, its reply is a member of the
 * response, and a GUEST op's payload starts with the domid. */
#define PVCTL_OP_CHECK_(NAME, name, number, request, reply, bulk, target)                      \
    _Static_assert(sizeof(request) <= sizeof(((struct pvctl_request *)0)->u) &&              \
                   sizeof(((struct pvctl_response *)0)->u.reply) <= 112 &&                   \
                   PVCTL_TARGET_CHECK_##target(request), "pvctl op " #NAME);
PVCTL_OPS(PVCTL_OP_CHECK_)

struct pvctl_anchor {
    char magic[24];              /* PVCTL_ANCHOR_MAGIC */
    uint64_t block_paddr;
    uint32_t version, pad;
};

struct pvctl_block {
    uint64_t magic;              /* PVCTL_BLOCK_MAGIC */
    uint32_t version;            /* PVCTL_VERSION */
    uint32_t size;               /* bytes of the whole block */
    uint64_t boot_id;
    uint64_t dom0_shared_info;   /* physical address of Domain 0's shared_info */
    uint32_t req_prod, req_cons; /* Domain 0 writes prod; the hypervisor cons */
    uint32_t rsp_prod, rsp_cons; /* the hypervisor writes prod; Domain 0 cons */
    uint64_t console_prod;       /* bytes ever written to the console ring */
    uint8_t pad[4096 - 56];
    struct pvctl_request req[PVCTL_RING_SIZE];
    struct pvctl_response rsp[PVCTL_RING_SIZE];
    uint8_t bulk[PVCTL_BULK_SIZE];
    char console[PVCTL_CONSOLE_SIZE];
};
_Static_assert(offsetof(struct pvctl_block, req) == 4096, "pvctl_block.req");
_Static_assert(sizeof(struct pvctl_block) <= PVCTL_BLOCK_PAGES * 4096, "pvctl_block size");
_Static_assert(PVCTL_MAX_DOMAINS * sizeof(struct pvctl_domain_info) <= PVCTL_BULK_SIZE,
               "every domain's info fits in the bulk area");
_Static_assert(PVCTL_GRANT_BATCH_MAX * sizeof(struct pvctl_grant_map_entry) <= PVCTL_BULK_SIZE,
               "a full grant map batch fits in the bulk area");

#endif
