/*
 * ctl_ring.h - Domain 0's half of the control block's rings and of its
 * event-channel pending bits (hypervisor/include/public/pvcore_ctl.h), as
 * pure memory operations: no doorbell, no waiting, no machine. ctl.c puts
 * them together with the machine; the unit tests run them on a block in
 * plain memory.
 *
 * Owns: the request ids Domain 0 hands out and its writes of req_prod,
 * the request slots and rsp_cons.
 * Invariants:
 *  - every request gets exactly one response (the protocol's promise), so
 *    req_prod - rsp_prod is the number of requests not yet answered;
 *  - ids are unique per boot: a new ring starts above every id still
 *    visible in the block's slots, so the responses to requests of an
 *    earlier (dead) Domain 0 process can never match a new request;
 *  - indices that break 0 <= prod - cons <= PVCTL_RING_SIZE make every
 *    operation fail with -EPROTO (the block is corrupt, nothing is written).
 * Memory order: slots are written before the release store of req_prod;
 * response slots are read after the acquire load of rsp_prod and copied
 * out before the release store of rsp_cons.
 */
#ifndef DOM0_CTL_RING_H
#define DOM0_CTL_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <public/pvcore_ctl.h>
#include <public/xen.h>

struct ctl_ring {
    struct pvctl_block *blk;
    uint64_t next_id;
};

/* Check a block's magic, version and size (size: bytes mapped at blk).
 * 0, or -ENODEV (no block yet: magic not written), -EPROTONOSUPPORT
 * (another version), -EPROTO (inconsistent size or indices), with err. */
int ctl_ring_check_block(const struct pvctl_block *blk, size_t size, char *err, size_t errlen);

/* Start using blk: ids continue above every id in its slots. */
void ctl_ring_init(struct ctl_ring *r, struct pvctl_block *blk);

/* Requests produced and not yet answered (includes other processes'). */
uint32_t ctl_ring_unanswered(const struct ctl_ring *r);

/* Copy req into the next slot with a fresh id (stored in req->id) and
 * publish it. -EAGAIN when the ring is full, -EPROTO when corrupt. */
int ctl_ring_push(struct ctl_ring *r, struct pvctl_request *req);

/* Consume available responses in order until the one with id `id`, which
 * is copied to *rsp (1). Responses with other ids are consumed and
 * counted in *skipped. 0 when the response has not come yet, -EPROTO when
 * the response indices are corrupt. id 0 consumes everything available. */
int ctl_ring_take(struct ctl_ring *r, uint64_t id, struct pvctl_response *rsp,
                  unsigned int *skipped);

/* Consume the next available response into *rsp (1); 0 when none has
 * come, -EPROTO when the response indices are corrupt. */
int ctl_ring_take_one(struct ctl_ring *r, struct pvctl_response *rsp);

/* Test-and-clear Domain 0's pending event-channel bits in si: up to max
 * pending ports (lowest first) are cleared and stored in ports; returns
 * how many. Bits not returned stay pending for the next call. */
size_t ctl_ring_take_pending(struct shared_info *si, uint32_t *ports, size_t max);

#endif
