/*
 * test_xs_tree.c - the xenstore tree (dom0/xs_tree.c) and transactions
 * (dom0/xs_transaction.c) on their own: permissions as in Xen,
 * generations, node and entry-size quotas, all-or-nothing operations,
 * copies, and transaction conflicts at the tree level.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "xs_transaction.h"
#include "xs_tree.h"

static const struct xs_who dom0 = { 0, 1 }, dom5 = { 5, 0 }, dom6 = { 6, 0 };

struct fixture {
    uint64_t gen;
    struct xs_limits limits;
    struct xs_tree t;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct xs_perms p = { 2, { { 5, XS_PERM_NONE }, { 6, XS_PERM_READ } } };

    f->limits = (struct xs_limits){ .nodes = 4, .entry_size = 8, .perms = 2 };
    assert_int_equal(xs_tree_init(&f->t, &f->gen, &f->limits), 0);
    assert_int_equal(xs_tree_write(&f->t, &dom0, "/home5", "", 0, NULL), 0);
    assert_int_equal(xs_tree_set_perms(&f->t, &dom0, "/home5", &p, NULL), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    xs_tree_free(&f->t);
    free(f);
    return 0;
}

static void test_permissions(void **state)
{
    struct fixture *f = *state;
    const struct xs_node *n;
    struct xs_who dom7 = { 7, 0 };

    /* owner 5: all; 6: read; others: perms[0] = none */
    assert_int_equal(xs_tree_write(&f->t, &dom5, "/home5/a", "x", 1, NULL), 0);
    assert_int_equal(xs_tree_read(&f->t, &dom6, "/home5/a", &n), 0);
    assert_int_equal(xs_tree_write(&f->t, &dom6, "/home5/a", "y", 1, NULL), -EACCES);
    assert_int_equal(xs_tree_read(&f->t, &dom7, "/home5/a", &n), -EACCES);
    assert_int_equal(xs_tree_read(&f->t, &dom0, "/home5/a", &n), 0);
    /* the new node inherited the parent's list, owned by its creator */
    n = xs_tree_find(&f->t, "/home5/a");
    assert_int_equal(n->perms.n, 2);
    assert_int_equal(n->perms.p[0].domid, 5);
    assert_int_equal(n->perms.p[1].domid, 6);
    /* an unprivileged creator owns what it creates, Domain 0 inherits */
    assert_int_equal(xs_tree_write(&f->t, &dom0, "/home5/b", "", 0, NULL), 0);
    assert_int_equal(xs_tree_find(&f->t, "/home5/b")->perms.p[0].domid, 5);
    /* "/" is n0: no guest may create at the top */
    assert_int_equal(xs_tree_write(&f->t, &dom5, "/top", "", 0, NULL), -EACCES);
    assert_int_equal(xs_tree_rm(&f->t, &dom0, "/", &(int){ 0 }, NULL), -EINVAL);
    assert_int_equal(xs_perm_of(&n->perms, &dom0), XS_PERM_BOTH | XS_PERM_OWNER);
}

static void test_generations(void **state)
{
    struct fixture *f = *state;
    uint64_t g_parent, g_node;
    int created;

    assert_int_equal(xs_tree_write(&f->t, &dom5, "/home5/g", "1", 1, NULL), 0);
    g_parent = xs_tree_find(&f->t, "/home5")->gen;
    g_node = xs_tree_find(&f->t, "/home5/g")->gen;
    assert_int_equal(xs_tree_write(&f->t, &dom5, "/home5/g", "2", 1, NULL), 0);
    assert_true(xs_tree_find(&f->t, "/home5/g")->gen > g_node);
    assert_int_equal(xs_tree_find(&f->t, "/home5")->gen, g_parent);    /* value: not the parent */
    assert_int_equal(xs_tree_mkdir(&f->t, &dom5, "/home5/g", &created, NULL), 0);
    assert_int_equal(created, 0);
    assert_int_equal(xs_tree_mkdir(&f->t, &dom5, "/home5/h", &created, NULL), 0);
    assert_int_equal(created, 1);
    assert_true(xs_tree_find(&f->t, "/home5")->gen > g_parent);        /* a new child: the parent */
}

static void test_quotas_all_or_nothing(void **state)
{
    struct fixture *f = *state;
    struct xs_change chg;
    int removed;

    /* 5 owns /home5 (1); quota 4: three more nodes */
    assert_int_equal(xs_tree_write(&f->t, &dom5, "/home5/a/b", "", 0, NULL), 0);   /* 2 */
    assert_int_equal(xs_tree_owned(&f->t, 5), 3);
    assert_int_equal(xs_tree_write(&f->t, &dom5, "/home5/c/d", "", 0, NULL), -ENOSPC);
    assert_null(xs_tree_find(&f->t, "/home5/c"));                       /* nothing created */
    assert_int_equal(xs_tree_write(&f->t, &dom5, "/home5/c", "", 0, NULL), 0);
    assert_int_equal(xs_tree_write(&f->t, &dom5, "/home5/e", "", 0, NULL), -ENOSPC);
    assert_int_equal(xs_tree_write(&f->t, &dom0, "/home5/e", "", 0, NULL), 0);     /* Domain 0 */
    /* entry size */
    assert_int_equal(xs_tree_write(&f->t, &dom5, "/home5/c", "12345678", 8, NULL), 0);
    assert_int_equal(xs_tree_write(&f->t, &dom5, "/home5/c", "123456789", 9, NULL), -ENOSPC);
    assert_int_equal(xs_tree_find(&f->t, "/home5/c")->len, 8);
    /* removal gives the count back, and reports the change */
    assert_int_equal(xs_tree_rm(&f->t, &dom5, "/home5/a", &removed, &chg), 0);
    assert_int_equal(removed, 1);
    assert_string_equal(chg.path, "/home5/a");
    assert_int_equal(chg.recursive, 1);
    assert_int_equal(xs_tree_owned(&f->t, 5), 3);
    /* perms entries */
    {
        const char *ok[] = { "n5", "r6", "w7" }, *many[] = { "n5", "r6", "w7", "b8" };
        struct xs_perms p;
        assert_int_equal(xs_perms_parse(ok, 3, &p), 0);
        assert_int_equal(xs_tree_set_perms(&f->t, &dom5, "/home5/c", &p, NULL), 0);
        assert_int_equal(xs_perms_parse(many, 4, &p), 0);
        assert_int_equal(xs_tree_set_perms(&f->t, &dom5, "/home5/c", &p, NULL), -ENOSPC);
        p.p[0].domid = 6;
        p.n = 1;
        assert_int_equal(xs_tree_set_perms(&f->t, &dom5, "/home5/c", &p, NULL), -EPERM);
        assert_int_equal(xs_tree_set_perms(&f->t, &dom0, "/home5/c", &p, NULL), 0);  /* give away */
        assert_int_equal(xs_tree_owned(&f->t, 6), 1);
        assert_int_equal(xs_tree_owned(&f->t, 5), 2);
    }
}

static void test_perms_parse(void **state)
{
    const char *bad1[] = { "x5" }, *bad2[] = { "r" }, *bad3[] = { "r5x" };
    struct xs_perms p;
    char s[16];

    (void)state;
    assert_int_equal(xs_perms_parse(bad1, 1, &p), -EINVAL);
    assert_int_equal(xs_perms_parse(bad2, 1, &p), -EINVAL);
    assert_int_equal(xs_perms_parse(bad3, 1, &p), -EINVAL);
    assert_int_equal(xs_perms_parse(bad1, 0, &p), -EINVAL);
    p.p[0] = (struct xs_perm){ 12, XS_PERM_BOTH };
    xs_perm_format(&p.p[0], s);
    assert_string_equal(s, "b12");
}

static void test_clone_is_independent(void **state)
{
    struct fixture *f = *state;
    struct xs_tree copy;

    assert_int_equal(xs_tree_write(&f->t, &dom5, "/home5/a", "1", 1, NULL), 0);
    assert_int_equal(xs_tree_clone(&f->t, &copy), 0);
    assert_int_equal(xs_tree_write(&copy, &dom5, "/home5/a", "2", 1, NULL), 0);
    assert_memory_equal(xs_tree_find(&f->t, "/home5/a")->value, "1", 1);
    assert_memory_equal(xs_tree_find(&copy, "/home5/a")->value, "2", 1);
    assert_int_equal(xs_tree_owned(&copy, 5), xs_tree_owned(&f->t, 5));
    xs_tree_free(&copy);
}

static void test_transaction_conflict_and_commit(void **state)
{
    struct fixture *f = *state;
    struct xs_tx a, b;
    struct xs_change *chg;
    const struct xs_node *n;
    uint32_t nchg;

    assert_int_equal(xs_tree_write(&f->t, &dom5, "/home5/v", "0", 1, NULL), 0);
    assert_int_equal(xs_tx_start(&a, &f->t, 1, &dom5, 16), 0);
    assert_int_equal(xs_tx_start(&b, &f->t, 2, &dom5, 16), 0);
    assert_int_equal(xs_tree_read(&a.tree, &dom5, "/home5/v", &n), 0);
    assert_int_equal(xs_tree_write(&a.tree, &dom5, "/home5/v", "a", 1, NULL), 0);
    assert_int_equal(xs_tx_log(&a, XS_WRITE, "/home5/v", "a", 1, NULL), 0);
    assert_int_equal(xs_tree_read(&b.tree, &dom5, "/home5/v", &n), 0);
    assert_int_equal(xs_tree_write(&b.tree, &dom5, "/home5/v", "b", 1, NULL), 0);
    assert_int_equal(xs_tx_log(&b, XS_WRITE, "/home5/v", "b", 1, NULL), 0);
    assert_int_equal(xs_tx_commit(&a, &f->t, &chg, &nchg), 0);
    assert_int_equal(nchg, 1);
    assert_string_equal(chg[0].path, "/home5/v");
    free(chg);
    assert_int_equal(xs_tx_commit(&b, &f->t, &chg, &nchg), -EAGAIN);
    assert_memory_equal(xs_tree_find(&f->t, "/home5/v")->value, "a", 1);
    xs_tx_free(&a);
    xs_tx_free(&b);
    /* too many nodes touched: ENOSPC, nothing applied */
    assert_int_equal(xs_tx_start(&a, &f->t, 3, &dom0, 2), 0);
    assert_int_equal(xs_tree_write(&a.tree, &dom0, "/x/y/z", "", 0, NULL), 0);
    assert_int_equal(xs_tx_check(&a), -ENOSPC);
    assert_int_equal(xs_tx_log(&a, XS_WRITE, "/x/y/z", "", 0, NULL), 0);
    assert_int_equal(xs_tx_commit(&a, &f->t, &chg, &nchg), -ENOSPC);
    assert_null(xs_tree_find(&f->t, "/x"));
    xs_tx_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_permissions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_generations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quotas_all_or_nothing, setup, teardown),
        cmocka_unit_test(test_perms_parse),
        cmocka_unit_test_setup_teardown(test_clone_is_independent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transaction_conflict_and_commit, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
