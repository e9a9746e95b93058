/* Host unit tests for the hypervisor's buddy frame allocator
 * (hypervisor/mm/buddy.c compiled for the host). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hv/buddy.h"
#include "hv/errno.h"

#define NR_FRAMES (1u << 14)     /* 64 MiB worth of frames */

struct fixture {
    struct page_info frames[NR_FRAMES];
    struct buddy b;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    buddy_init(&f->b, f->frames, NR_FRAMES);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

static void alloc_and_free_every_order(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(buddy_add_range(&f->b, 0, NR_FRAMES), 0);
    assert_int_equal(f->b.nr_free, NR_FRAMES);

    for (unsigned int o = 0; o <= 14; o++) {
        int64_t m = buddy_alloc(&f->b, o);
        assert_true(m >= 0);
        assert_int_equal(m & ((1 << o) - 1), 0);           /* naturally aligned */
        assert_int_equal(f->b.nr_free, NR_FRAMES - (1u << o));
        assert_int_equal(buddy_free(&f->b, (mfn_t)m, o), 0);
        assert_int_equal(f->b.nr_free, NR_FRAMES);
    }
    /* The whole range coalesced back into a single order-14 block. */
    assert_int_equal(buddy_count_free_blocks(&f->b, 14), 1);
    for (unsigned int o = 0; o < 14; o++)
        assert_int_equal(buddy_count_free_blocks(&f->b, o), 0);
}

static void order_beyond_max_is_einval(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(buddy_add_range(&f->b, 0, NR_FRAMES), 0);
    assert_int_equal(buddy_alloc(&f->b, BUDDY_MAX_ORDER + 1), -EINVAL);
    /* Larger than anything available. */
    assert_int_equal(buddy_alloc(&f->b, 15), -ENOMEM);
}

static void exhaustion_and_no_double_allocation(void **state)
{
    struct fixture *f = *state;
    unsigned char *seen = calloc(NR_FRAMES, 1);
    int64_t *got = calloc(NR_FRAMES, sizeof(*got));
    assert_int_equal(buddy_add_range(&f->b, 0, NR_FRAMES), 0);

    /* Mixed orders until nothing is left. */
    unsigned int n = 0, order = 0;
    uint64_t frames = 0;
    for (;;) {
        int64_t m = buddy_alloc(&f->b, order);
        if (m == -ENOMEM) {
            if (order == 0)
                break;
            order--;
            continue;
        }
        assert_true(m >= 0);
        for (unsigned int i = 0; i < (1u << order); i++) {
            assert_int_equal(seen[m + i], 0);             /* never handed out twice */
            seen[m + i] = 1;
        }
        got[n++] = m | ((int64_t)order << 32);
        frames += 1u << order;
        order = (order + 3) % 6;
    }
    assert_int_equal(frames, NR_FRAMES);
    assert_int_equal(f->b.nr_free, 0);
    assert_int_equal(buddy_alloc(&f->b, 0), -ENOMEM);

    for (unsigned int i = 0; i < n; i++)
        assert_int_equal(buddy_free(&f->b, (mfn_t)(got[i] & 0xffffffff),
                                    (unsigned int)(got[i] >> 32)), 0);
    assert_int_equal(f->b.nr_free, NR_FRAMES);
    assert_int_equal(buddy_count_free_blocks(&f->b, 14), 1);
    free(seen);
    free(got);
}

static void double_free_and_mismatched_free_refused(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(buddy_add_range(&f->b, 0, NR_FRAMES), 0);

    int64_t m = buddy_alloc(&f->b, 3);
    assert_true(m >= 0);
    assert_int_equal(buddy_free(&f->b, (mfn_t)m, 2), -EINVAL);      /* wrong order */
    assert_int_equal(buddy_free(&f->b, (mfn_t)m + 1, 0), -EINVAL);  /* inside the block */
    assert_int_equal(buddy_free(&f->b, NR_FRAMES + 8, 3), -EINVAL); /* out of range */
    assert_int_equal(buddy_free(&f->b, (mfn_t)m, 3), 0);
    assert_int_equal(buddy_free(&f->b, (mfn_t)m, 3), -EINVAL);      /* double free */
    assert_int_equal(f->b.nr_free, NR_FRAMES);
}

static void coalescing_rebuilds_large_blocks(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(buddy_add_range(&f->b, 0, 16), 0);
    assert_int_equal(buddy_count_free_blocks(&f->b, 4), 1);

    int64_t a[16];
    for (int i = 0; i < 16; i++)
        a[i] = buddy_alloc(&f->b, 0);
    assert_int_equal(buddy_alloc(&f->b, 0), -ENOMEM);
    /* Free in an interleaved order; each merge must happen as soon as both
     * buddies are free. */
    for (int i = 0; i < 16; i += 2)
        assert_int_equal(buddy_free(&f->b, (mfn_t)a[i], 0), 0);
    assert_int_equal(buddy_count_free_blocks(&f->b, 0), 8);
    for (int i = 1; i < 16; i += 2)
        assert_int_equal(buddy_free(&f->b, (mfn_t)a[i], 0), 0);
    assert_int_equal(buddy_count_free_blocks(&f->b, 0), 0);
    assert_int_equal(buddy_count_free_blocks(&f->b, 4), 1);
    /* Now an order-4 allocation succeeds again. */
    assert_int_equal(buddy_alloc(&f->b, 4), 0);
}

static void reserved_ranges_respected(void **state)
{
    struct fixture *f = *state;
    /* RAM with holes: [1, 100), [300, 1000), [1030, 4096); frames 5-9 are
     * reserved (like the hypervisor image). */
    for (int m = 5; m < 10; m++)
        f->frames[m].flags |= PGF_RESERVED;
    assert_int_equal(buddy_add_range(&f->b, 1, 5), 0);
    assert_int_equal(buddy_add_range(&f->b, 10, 100), 0);
    assert_int_equal(buddy_add_range(&f->b, 300, 1000), 0);
    assert_int_equal(buddy_add_range(&f->b, 1030, 4096), 0);
    /* Overlapping or reserved additions are refused. */
    assert_int_equal(buddy_add_range(&f->b, 90, 110), -EINVAL);
    assert_int_equal(buddy_add_range(&f->b, 4, 6), -EINVAL);
    assert_int_equal(buddy_add_range(&f->b, 0, NR_FRAMES + 1), -EINVAL);

    uint64_t expect = 4 + 90 + 700 + (4096 - 1030);
    assert_int_equal(f->b.nr_free, expect);
    uint64_t count = 0;
    int64_t m;
    while ((m = buddy_alloc(&f->b, 0)) >= 0) {
        bool in_ram = (m >= 1 && m < 5) || (m >= 10 && m < 100) ||
                      (m >= 300 && m < 1000) || (m >= 1030 && m < 4096);
        assert_true(in_ram);
        count++;
    }
    assert_int_equal(count, expect);
    /* Everything is taken: nothing of any size is left. */
    assert_int_equal(buddy_alloc(&f->b, 5), -ENOMEM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(alloc_and_free_every_order, setup, teardown),
        cmocka_unit_test_setup_teardown(order_beyond_max_is_einval, setup, teardown),
        cmocka_unit_test_setup_teardown(exhaustion_and_no_double_allocation, setup, teardown),
        cmocka_unit_test_setup_teardown(double_free_and_mismatched_free_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(coalescing_rebuilds_large_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(reserved_ranges_respected, setup, teardown),
    };
    return cmocka_run_group_tests_name("buddy", tests, NULL, NULL);
}
