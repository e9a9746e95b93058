/*
 * ctl_ring.c - the control block's request/response rings and Domain 0's
 * pending bits, as memory operations (see ctl_ring.h for the invariants).
 */
#include "ctl_ring.h"

#include <errno.h>
#include <string.h>

#include "dom0_error.h"

#define LOAD_ACQ(p)      __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE_REL(p, v)  __atomic_store_n((p), (v), __ATOMIC_RELEASE)

int ctl_ring_check_block(const struct pvctl_block *blk, size_t size, char *err, size_t errlen)
{
    uint64_t magic = LOAD_ACQ(&blk->magic);

    if (magic != PVCTL_BLOCK_MAGIC)
        return dom0_fail(err, errlen, ENODEV, "control block: magic %#llx, expected %#llx "
                         "(not announced yet?)", (unsigned long long)magic,
                         (unsigned long long)PVCTL_BLOCK_MAGIC);
    if (blk->version != PVCTL_VERSION)
        return dom0_fail(err, errlen, EPROTONOSUPPORT, "control block: version %u, this "
                         "Domain 0 speaks version %u", blk->version, PVCTL_VERSION);
    if (blk->size < sizeof(*blk) || blk->size > size)
        return dom0_fail(err, errlen, EPROTO, "control block: size %u bytes, expected "
                         "%zu to %zu", blk->size, sizeof(*blk), size);
    uint32_t req = LOAD_ACQ(&blk->req_prod) - LOAD_ACQ(&blk->req_cons);
    uint32_t rsp = LOAD_ACQ(&blk->rsp_prod) - LOAD_ACQ(&blk->rsp_cons);
    if (req > PVCTL_RING_SIZE || rsp > PVCTL_RING_SIZE)
        return dom0_fail(err, errlen, EPROTO, "control block: ring indices corrupt (requests "
                         "%u/%u, responses %u/%u)", blk->req_prod, blk->req_cons,
                         blk->rsp_prod, blk->rsp_cons);
    return 0;
}

void ctl_ring_init(struct ctl_ring *r, struct pvctl_block *blk)
{
    uint64_t max = 0;

    for (unsigned int i = 0; i < PVCTL_RING_SIZE; i++) {
        uint64_t q = LOAD_ACQ(&blk->req[i].id), s = LOAD_ACQ(&blk->rsp[i].id);

        max = q > max ? q : max;
        max = s > max ? s : max;
    }
    r->blk = blk;
    r->next_id = max + 1;
}

uint32_t ctl_ring_unanswered(const struct ctl_ring *r)
{
    return LOAD_ACQ(&r->blk->req_prod) - LOAD_ACQ(&r->blk->rsp_prod);
}

int ctl_ring_push(struct ctl_ring *r, struct pvctl_request *req)
{
    struct pvctl_block *b = r->blk;
    uint32_t prod = b->req_prod, cons = LOAD_ACQ(&b->req_cons);

    if (prod - cons > PVCTL_RING_SIZE)
        return -EPROTO;
    if (prod - cons == PVCTL_RING_SIZE)
        return -EAGAIN;
    req->id = r->next_id++;
    memcpy(&b->req[prod % PVCTL_RING_SIZE], req, sizeof(*req));
    STORE_REL(&b->req_prod, prod + 1);
    return 0;
}

int ctl_ring_take(struct ctl_ring *r, uint64_t id, struct pvctl_response *rsp,
                  unsigned int *skipped)
{
    struct pvctl_block *b = r->blk;
    uint32_t cons = b->rsp_cons, prod = LOAD_ACQ(&b->rsp_prod);

    if (prod - cons > PVCTL_RING_SIZE)
        return -EPROTO;
    while (cons != prod) {
        struct pvctl_response tmp;

        memcpy(&tmp, &b->rsp[cons % PVCTL_RING_SIZE], sizeof(tmp));
        STORE_REL(&b->rsp_cons, ++cons);
        if (id && tmp.id == id) {
            *rsp = tmp;
            return 1;
        }
        if (skipped)
            (*skipped)++;
    }
    return 0;
}

int ctl_ring_take_one(struct ctl_ring *r, struct pvctl_response *rsp)
{
    struct pvctl_block *b = r->blk;
    uint32_t cons = b->rsp_cons, prod = LOAD_ACQ(&b->rsp_prod);

    if (prod - cons > PVCTL_RING_SIZE)
        return -EPROTO;
    if (cons == prod)
        return 0;
    memcpy(rsp, &b->rsp[cons % PVCTL_RING_SIZE], sizeof(*rsp));
    STORE_REL(&b->rsp_cons, cons + 1);
    return 1;
}

size_t ctl_ring_take_pending(struct shared_info *si, uint32_t *ports, size_t max)
{
    const size_t bits = 8 * sizeof(si->evtchn_pending[0]);
    size_t n = 0;

    for (size_t w = 0; w < sizeof(si->evtchn_pending) / sizeof(si->evtchn_pending[0]) && n < max;
         w++) {
        xen_ulong_t word = LOAD_ACQ(&si->evtchn_pending[w]), taken = 0;

        while (word && n < max) {
            unsigned int bit = (unsigned int)__builtin_ctzll(word);

            word &= word - 1;
            taken |= (xen_ulong_t)1 << bit;
            ports[n++] = (uint32_t)(w * bits + bit);
        }
        if (taken)
            __atomic_fetch_and(&si->evtchn_pending[w], ~taken, __ATOMIC_ACQ_REL);
    }
    return n;
}
