/*
 * fuzz_ctl.c - libFuzzer target: arbitrary requests on the control
 * interface, the way a broken or hostile Domain 0 could write them, served
 * by the hypervisor's own code (hypervisor/common/control.c with the real
 * event channels, grant tables, page-type and memory code) built for the
 * host on tests/unit/mm's harness (fake machine memory, the real heap and
 * frame table) and fuzz/ctl_host.c (the rest of the machine).
 *
 * Each input is a fresh machine: control_init, then records of
 *   op (1 byte), size (1 byte), payload (112 bytes)   a request in the next
 *                                                    ring slot, id = its index
 *   0xff, n (1 byte), 24 * n bytes                   struct gnttab_copy
 *                                                    entries at the start of bulk
 *   0xfe, 4 bytes                                    req_prod (hostile indices)
 *   0xfd, domid, ref, flags (2 bytes), grantee, pfn  the guest grants: v1 entry
 *                                                    ref of its table names its
 *                                                    pfn's frame (what the guest
 *                                                    itself would write there)
 * and control_poll after every record. Checked beside the sanitizers:
 * every response answers the request in its slot (its id), with 0 or a
 * negative errno; the response ring never runs more than a ring ahead;
 * the heap is whole again once every domain is destroyed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <public/grant_table.h>
#include <public/pvcore_ctl.h>

#include "../hypervisor/common/grant_priv.h"
#include "ctl_host.h"
#include "harness.h"
#include "hv/control.h"
#include "hv/domain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pvctl_block *block(void)
{
    const struct pvctl_anchor *a = __va(PVCTL_ANCHOR_PADDR);

    if (memcmp(a->magic, PVCTL_ANCHOR_MAGIC, sizeof(PVCTL_ANCHOR_MAGIC)))
        abort();
    return __va(a->block_paddr);
}

/* A guest's own write of grant entry ref (v1 or v2 word 0 and frame). */
static void guest_grants(const uint8_t *r)
{
    struct domain *d = domain_by_id(r[0] % 8);
    struct grant_table *gt;
    struct list_head *pos;
    uint64_t pfn = 0, mfn = 0;
    uint32_t *e;

    if (!d || d->state == DOM_DEAD || !d->id || !(gt = gnttab_of(d)) || r[1] >= gnttab_nr_entries(gt))
        return;
    list_for_each(pos, &d->page_list) {
        if (pfn++ == r[5]) {
            mfn = (uint64_t)(list_entry(pos, struct page_info, list) - frame_table);
            break;
        }
    }
    e = gnttab_entry_words(gt, r[1]);
    e[0] = (uint32_t)(r[2] | r[3] << 8) | (uint32_t)r[4] << 16;
    if (gt->version == 2)
        memcpy(&e[2], &mfn, 8);
    else
        e[1] = (uint32_t)mfn;
}

/* Take every response: each answers the request of its slot. */
static void take_responses(struct pvctl_block *b, uint32_t *expect_id, int hostile)
{
    while (b->rsp_cons != b->rsp_prod) {
        const struct pvctl_response *r = &b->rsp[b->rsp_cons % PVCTL_RING_SIZE];

        if (b->rsp_prod - b->rsp_cons > PVCTL_RING_SIZE)
            abort();
        if (!hostile && r->id != *expect_id) {
            fprintf(stderr, "fuzz_ctl: response %u answers request %llu\n", *expect_id,
                    (unsigned long long)r->id);
            abort();
        }
        if (r->status > 0 || r->size > PVCTL_BULK_SIZE) {
            fprintf(stderr, "fuzz_ctl: response status %d size %u\n", r->status, r->size);
            abort();
        }
        (*expect_id)++;
        b->rsp_cons++;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pvctl_block *b;
    size_t at = 0;
    uint32_t next_id = 0, expect_id = 0;
    int hostile = 0;

    ctl_host_start();
    b = block();
    while (at < size) {
        uint8_t kind = data[at++];

        if (kind == 0xff) {
            size_t n = at < size ? data[at++] : 0;
            size_t bytes = n * sizeof(struct gnttab_copy);

            if (bytes > size - at)
                bytes = size - at;
            memcpy(b->bulk, data + at, bytes);
            at += bytes;
            continue;
        }
        if (kind == 0xfd) {
            if (size - at < 6)
                break;
            guest_grants(data + at);
            at += 6;
            continue;
        }
        if (kind == 0xfe) {
            uint32_t v;

            if (size - at < 4)
                break;
            memcpy(&v, data + at, 4);
            at += 4;
            b->req_prod = v;
            hostile = 1;
        } else {
            struct pvctl_request *rq = &b->req[b->req_prod % PVCTL_RING_SIZE];

            if (size - at < 1 + sizeof(rq->u))
                break;
            memset(rq, 0, sizeof(*rq));
            rq->id = next_id++;
            rq->op = kind;
            rq->size = data[at];
            memcpy(&rq->u, data + at + 1, sizeof(rq->u));
            at += 1 + sizeof(rq->u);
            b->req_prod++;
        }
        control_poll();
        take_responses(b, &expect_id, hostile);
        ctl_host_reap();
    }
    ctl_host_stop();
    return 0;
}
