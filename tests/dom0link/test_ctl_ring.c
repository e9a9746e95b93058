/*
 * test_ctl_ring.c - Domain 0's ring logic (dom0/ctl_ring.c) on a control
 * block in plain memory; the test plays the hypervisor's part by moving
 * req_cons and producing responses the way pvcore_ctl.h says.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "ctl_ring.h"

static struct pvctl_block *new_block(void)
{
    struct pvctl_block *b = calloc(1, sizeof(*b));

    assert_non_null(b);
    b->magic = PVCTL_BLOCK_MAGIC;
    b->version = PVCTL_VERSION;
    b->size = sizeof(*b);
    return b;
}

/* The hypervisor's side: answer the oldest unserved request. */
static void serve_one(struct pvctl_block *b, int32_t status)
{
    uint32_t cons = b->req_cons;

    assert_int_not_equal(cons, b->req_prod);
    struct pvctl_response *rs = &b->rsp[b->rsp_prod % PVCTL_RING_SIZE];
    memset(rs, 0, sizeof(*rs));
    rs->id = b->req[cons % PVCTL_RING_SIZE].id;
    rs->status = status;
    rs->u.domid = b->req[cons % PVCTL_RING_SIZE].op;      /* echo, to tell them apart */
    b->rsp_prod++;
    b->req_cons = cons + 1;
}

static void check_block_rejects_what_it_must(void **state)
{
    struct pvctl_block *b = calloc(1, sizeof(*b));
    char err[256];

    assert_int_equal(ctl_ring_check_block(b, sizeof(*b), err, sizeof(err)), -ENODEV);
    assert_non_null(strstr(err, "magic"));
    b->magic = PVCTL_BLOCK_MAGIC;
    b->version = PVCTL_VERSION + 1;
    b->size = sizeof(*b);
    assert_int_equal(ctl_ring_check_block(b, sizeof(*b), err, sizeof(err)), -EPROTONOSUPPORT);
    assert_non_null(strstr(err, "version"));
    b->version = PVCTL_VERSION;
    b->size = 4096;
    assert_int_equal(ctl_ring_check_block(b, sizeof(*b), err, sizeof(err)), -EPROTO);
    b->size = sizeof(*b) + 4096;      /* more than is mapped */
    assert_int_equal(ctl_ring_check_block(b, sizeof(*b), err, sizeof(err)), -EPROTO);
    b->size = sizeof(*b);
    b->req_prod = PVCTL_RING_SIZE + 1;
    assert_int_equal(ctl_ring_check_block(b, sizeof(*b), err, sizeof(err)), -EPROTO);
    assert_non_null(strstr(err, "corrupt"));
    b->req_prod = 0;
    b->rsp_prod = 5;
    b->rsp_cons = 6;                  /* cons ahead of prod */
    assert_int_equal(ctl_ring_check_block(b, sizeof(*b), err, sizeof(err)), -EPROTO);
    b->rsp_cons = 5;
    assert_int_equal(ctl_ring_check_block(b, sizeof(*b), err, sizeof(err)), 0);
    free(b);
}

static void ids_are_unique_and_the_ring_fills(void **state)
{
    struct pvctl_block *b = new_block();
    struct ctl_ring r;
    struct pvctl_request req = { .op = PVCTL_OP_NOP };

    ctl_ring_init(&r, b);
    for (unsigned int i = 0; i < PVCTL_RING_SIZE; i++) {
        assert_int_equal(ctl_ring_push(&r, &req), 0);
        assert_int_equal(req.id, i + 1);
        assert_int_equal(b->req[i].id, i + 1);
    }
    assert_int_equal(b->req_prod, PVCTL_RING_SIZE);
    assert_int_equal(ctl_ring_push(&r, &req), -EAGAIN);
    assert_int_equal(b->req_prod, PVCTL_RING_SIZE);           /* nothing written */
    assert_int_equal(ctl_ring_unanswered(&r), PVCTL_RING_SIZE);
    serve_one(b, 0);
    assert_int_equal(ctl_ring_push(&r, &req), 0);
    assert_int_equal(req.id, PVCTL_RING_SIZE + 1);
    assert_int_equal(b->req[0].id, PVCTL_RING_SIZE + 1);      /* slot 0 reused */
    b->req_cons = b->req_prod + 1;                            /* corrupt */
    assert_int_equal(ctl_ring_push(&r, &req), -EPROTO);
    free(b);
}

static void indices_wrap_around_32_bits(void **state)
{
    struct pvctl_block *b = new_block();
    struct ctl_ring r;
    struct pvctl_request req = { .op = PVCTL_OP_MACHINE_INFO };
    struct pvctl_response rsp;

    b->req_prod = b->req_cons = b->rsp_prod = b->rsp_cons = UINT32_MAX - 1;
    ctl_ring_init(&r, b);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(ctl_ring_push(&r, &req), 0);
        serve_one(b, -i);
        assert_int_equal(ctl_ring_take(&r, req.id, &rsp, NULL), 1);
        assert_int_equal(rsp.status, -i);
    }
    assert_int_equal(b->rsp_cons, 2);
    assert_int_equal(ctl_ring_unanswered(&r), 0);
    free(b);
}

static void take_skips_other_ids_and_waits_for_its_own(void **state)
{
    struct pvctl_block *b = new_block();
    struct ctl_ring r;
    struct pvctl_request a = { .op = PVCTL_OP_NOP }, c = { .op = PVCTL_OP_GET_INFO };
    struct pvctl_response rsp;
    unsigned int skipped = 0;

    ctl_ring_init(&r, b);
    assert_int_equal(ctl_ring_push(&r, &a), 0);
    assert_int_equal(ctl_ring_push(&r, &c), 0);
    assert_int_equal(ctl_ring_take(&r, c.id, &rsp, &skipped), 0);   /* nothing yet */
    serve_one(b, 0);
    assert_int_equal(ctl_ring_take(&r, c.id, &rsp, &skipped), 0);   /* only a's */
    assert_int_equal(skipped, 1);
    assert_int_equal(b->rsp_cons, 1);
    serve_one(b, -ESRCH);
    assert_int_equal(ctl_ring_take(&r, c.id, &rsp, &skipped), 1);
    assert_int_equal(rsp.id, c.id);
    assert_int_equal(rsp.status, -ESRCH);
    assert_int_equal(rsp.u.domid, PVCTL_OP_GET_INFO);
    assert_int_equal(skipped, 1);
    b->rsp_prod = b->rsp_cons + PVCTL_RING_SIZE + 1;              /* corrupt */
    assert_int_equal(ctl_ring_take(&r, c.id, &rsp, &skipped), -EPROTO);
    assert_int_equal(b->rsp_cons, 2);                               /* untouched */
    free(b);
}

/* A Domain 0 process dies with a request in flight; the next one attaches
 * to the same block and must never take the dead one's answer for its own. */
static void a_new_process_skips_answers_to_a_dead_one(void **state)
{
    struct pvctl_block *b = new_block();
    struct ctl_ring dead, fresh;
    struct pvctl_request old = { .op = PVCTL_OP_DESTROY }, req = { .op = PVCTL_OP_NOP };
    struct pvctl_response rsp;
    unsigned int skipped = 0;

    ctl_ring_init(&dead, b);
    for (int i = 0; i < 40; i++) {                  /* slots wrap: ids 1..40 */
        assert_int_equal(ctl_ring_push(&dead, &old), 0);
        serve_one(b, 0);
        assert_int_equal(ctl_ring_take(&dead, old.id, &rsp, NULL), 1);
    }
    assert_int_equal(ctl_ring_push(&dead, &old), 0);   /* id 41, never answered */
    assert_int_equal(old.id, 41);

    ctl_ring_init(&fresh, b);
    assert_int_equal(ctl_ring_unanswered(&fresh), 1);
    assert_int_equal(ctl_ring_push(&fresh, &req), 0);
    assert_true(req.id > old.id);
    serve_one(b, -EPERM);                           /* the dead one's answer */
    serve_one(b, 0);
    assert_int_equal(ctl_ring_take(&fresh, req.id, &rsp, &skipped), 1);
    assert_int_equal(skipped, 1);
    assert_int_equal(rsp.status, 0);
    assert_int_equal(rsp.u.domid, PVCTL_OP_NOP);
    assert_int_equal(ctl_ring_unanswered(&fresh), 0);
    free(b);
}

static void pending_ports_are_taken_lowest_first_and_cleared(void **state)
{
    struct shared_info *si = calloc(1, sizeof(*si));
    uint32_t ports[8];

    si->evtchn_pending[0] = (1ull << 3) | (1ull << 63);
    si->evtchn_pending[1] = 1ull << 0;                   /* port 64 */
    si->evtchn_pending[63] = 1ull << 63;                 /* port 4095 */
    si->evtchn_mask[0] = ~0ull;                          /* Domain 0 ignores masks */
    assert_int_equal(ctl_ring_take_pending(si, ports, 2), 2);
    assert_int_equal(ports[0], 3);
    assert_int_equal(ports[1], 63);
    assert_int_equal(si->evtchn_pending[0], 0);
    assert_int_equal(si->evtchn_pending[1], 1);          /* left for the next call */
    assert_int_equal(ctl_ring_take_pending(si, ports, 8), 2);
    assert_int_equal(ports[0], 64);
    assert_int_equal(ports[1], 4095);
    assert_int_equal(ctl_ring_take_pending(si, ports, 8), 0);
    for (unsigned int w = 0; w < 64; w++)
        assert_int_equal(si->evtchn_pending[w], 0);
    free(si);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(check_block_rejects_what_it_must),
        cmocka_unit_test(ids_are_unique_and_the_ring_fills),
        cmocka_unit_test(indices_wrap_around_32_bits),
        cmocka_unit_test(take_skips_other_ids_and_waits_for_its_own),
        cmocka_unit_test(a_new_process_skips_answers_to_a_dead_one),
        cmocka_unit_test(pending_ports_are_taken_lowest_first_and_cleared),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
