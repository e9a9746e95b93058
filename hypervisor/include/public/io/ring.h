/*
 * pvcore public ABI: the generic split-driver shared ring.
 *
 * Owns: the shared ring page layout (four indices, 48 bytes of private /
 * padding space, then a power-of-two array of request/response slots) and
 * the front/back ring helpers. XEN_DEFINE_RING_TYPES(name, req, rsp)
 * declares struct name_sring, name_front_ring and name_back_ring.
 * Indices run freely; slot = index & (size - 1).
 *
 * Barriers default to C11 fences; an includer may define xen_mb/xen_rmb/
 * xen_wmb first.
 */
#ifndef PVCORE_PUBLIC_IO_RING_H
#define PVCORE_PUBLIC_IO_RING_H

#include <stdint.h>
#include <stddef.h>

#ifndef xen_mb
#define xen_mb()   __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif
#ifndef xen_rmb
#define xen_rmb()  __atomic_thread_fence(__ATOMIC_ACQUIRE)
#endif
#ifndef xen_wmb
#define xen_wmb()  __atomic_thread_fence(__ATOMIC_RELEASE)
#endif

typedef uint32_t RING_IDX;

#define XEN_RING_PAGE_SIZE   4096u
#define XEN_SRING_HEADER     64u    /* bytes before ring[] */

static inline uint32_t xen_ring_floor_pow2(uint32_t n)
{
    return n ? 1u << (31 - __builtin_clz(n)) : 0;
}

/* Slots that fit in a shared ring of `bytes` bytes. */
#define XEN_RING_SLOTS(bytes, slot_size) \
    xen_ring_floor_pow2(((bytes) - XEN_SRING_HEADER) / (slot_size))

#define XEN_DEFINE_RING_TYPES(name, req_t, rsp_t)                          \
union name##_sring_entry {                                                 \
    req_t req;                                                             \
    rsp_t rsp;                                                             \
};                                                                         \
struct name##_sring {                                                      \
    RING_IDX req_prod, req_event;                                          \
    RING_IDX rsp_prod, rsp_event;                                          \
    uint8_t pvt[4];                                                        \
    uint8_t pad[44];                                                       \
    union name##_sring_entry ring[];                                       \
};                                                                         \
struct name##_front_ring {                                                 \
    RING_IDX req_prod_pvt;                                                 \
    RING_IDX rsp_cons;                                                     \
    uint32_t nr_ents;                                                      \
    struct name##_sring *sring;                                            \
};                                                                         \
struct name##_back_ring {                                                  \
    RING_IDX rsp_prod_pvt;                                                 \
    RING_IDX req_cons;                                                     \
    uint32_t nr_ents;                                                      \
    struct name##_sring *sring;                                            \
}

#define SHARED_RING_INIT(s) do {                                           \
    (s)->req_prod = (s)->rsp_prod = 0;                                     \
    (s)->req_event = (s)->rsp_event = 1;                                   \
    __builtin_memset((s)->pvt, 0, sizeof((s)->pvt) + sizeof((s)->pad));    \
} while (0)

#define FRONT_RING_INIT(r, s, bytes) do {                                  \
    (r)->req_prod_pvt = 0;                                                 \
    (r)->rsp_cons = 0;                                                     \
    (r)->nr_ents = XEN_RING_SLOTS(bytes, sizeof((s)->ring[0]));            \
    (r)->sring = (s);                                                      \
} while (0)

#define BACK_RING_INIT(r, s, bytes) do {                                   \
    (r)->rsp_prod_pvt = 0;                                                 \
    (r)->req_cons = 0;                                                     \
    (r)->nr_ents = XEN_RING_SLOTS(bytes, sizeof((s)->ring[0]));            \
    (r)->sring = (s);                                                      \
} while (0)

#define RING_SIZE(r)              ((r)->nr_ents)
#define RING_FREE_REQUESTS(r)     (RING_SIZE(r) - ((r)->req_prod_pvt - (r)->rsp_cons))
#define RING_FULL(r)              (RING_FREE_REQUESTS(r) == 0)
#define RING_GET_REQUEST(r, idx)  (&(r)->sring->ring[(idx) & (RING_SIZE(r) - 1)].req)
#define RING_GET_RESPONSE(r, idx) (&(r)->sring->ring[(idx) & (RING_SIZE(r) - 1)].rsp)

#define RING_HAS_UNCONSUMED_RESPONSES(r) \
    ((r)->sring->rsp_prod - (r)->rsp_cons)

#define RING_HAS_UNCONSUMED_REQUESTS(r) ({                                 \
    uint32_t req_ = (r)->sring->req_prod - (r)->req_cons;                  \
    uint32_t rsp_ = RING_SIZE(r) - ((r)->req_cons - (r)->rsp_prod_pvt);    \
    req_ < rsp_ ? req_ : rsp_;                                             \
})

/* Publish private producer indices; notify is set when the other end
 * asked (via *_event) to be told about the new entries. */
#define RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(r, notify) do {                \
    RING_IDX old_ = (r)->sring->req_prod;                                  \
    RING_IDX new_ = (r)->req_prod_pvt;                                     \
    xen_wmb();                                                             \
    (r)->sring->req_prod = new_;                                           \
    xen_mb();                                                              \
    (notify) = (RING_IDX)(new_ - (r)->sring->req_event) <                  \
               (RING_IDX)(new_ - old_);                                    \
} while (0)

#define RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(r, notify) do {               \
    RING_IDX old_ = (r)->sring->rsp_prod;                                  \
    RING_IDX new_ = (r)->rsp_prod_pvt;                                     \
    xen_wmb();                                                             \
    (r)->sring->rsp_prod = new_;                                           \
    xen_mb();                                                              \
    (notify) = (RING_IDX)(new_ - (r)->sring->rsp_event) <                  \
               (RING_IDX)(new_ - old_);                                    \
} while (0)

/* Re-arm the event index, then look once more to close the race. */
#define RING_FINAL_CHECK_FOR_REQUESTS(r, work) do {                        \
    (work) = RING_HAS_UNCONSUMED_REQUESTS(r);                              \
    if (work)                                                              \
        break;                                                             \
    (r)->sring->req_event = (r)->req_cons + 1;                             \
    xen_mb();                                                              \
    (work) = RING_HAS_UNCONSUMED_REQUESTS(r);                              \
} while (0)

#define RING_FINAL_CHECK_FOR_RESPONSES(r, work) do {                       \
    (work) = RING_HAS_UNCONSUMED_RESPONSES(r);                             \
    if (work)                                                              \
        break;                                                             \
    (r)->sring->rsp_event = (r)->rsp_cons + 1;                             \
    xen_mb();                                                              \
    (work) = RING_HAS_UNCONSUMED_RESPONSES(r);                             \
} while (0)

#endif /* PVCORE_PUBLIC_IO_RING_H */
