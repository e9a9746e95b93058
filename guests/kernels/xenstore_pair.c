/*
 * xenstore_pair test kernel: two domains through pvd's xenstore. The test
 * script writes each one's peer domid into data/peer (Domain 0 may write
 * there; the node then belongs to the guest). Then:
 *   - permissions across domains: the peer's private node is EACCES to
 *     read and write; a node shared with "b<peer>" can be read and written;
 *     watches on the peer's nodes fire only once they are readable;
 *   - transaction conflicts: both add 1 to role a's counter 20 times,
 *     each in a transaction retried on EAGAIN; at the end it is 40 (no
 *     update lost), and the conflicts are counted.
 * cmdline: role=a|b.
 */
#include "evtime.h"
#include "xenbus.h"

const char test_name[] = "xenstore_pair";

#define ROUNDS 20

static unsigned long my_id, peer_id;

static unsigned long number(const char *s)
{
    unsigned long v = 0;

    for (; *s >= '0' && *s <= '9'; s++)
        v = v * 10 + (unsigned long)(*s - '0');
    return v;
}

/* Wait until a watch event for path arrives (other events are skipped). */
static bool wait_path(const char *path, uint64_t timeout_ns)
{
    uint64_t deadline = system_time() + timeout_ns;
    char p[128], t[32];

    while (system_time() < deadline)
        if (xenbus_wait_event(p, sizeof(p), t, sizeof(t), deadline - system_time()) == 0 &&
            !strncmp(p, path, sizeof(p)))
            return true;
    return false;
}

/* Read a node, waiting (through a watch) until it exists and is readable. */
static bool wait_value(const char *path, char *v, uint32_t size)
{
    uint64_t deadline = system_time() + 60 * NSEC_PER_SEC;

    xenbus_watch(path, "w");
    while (system_time() < deadline) {
        if (xenbus_read(0, path, v, size) == 0 && v[0])
            return true;
        wait_path(path, NSEC_PER_SEC);
    }
    return false;
}

static void counter_rounds(const char *counter, unsigned *conflicts)
{
    char v[32];

    for (int i = 0; i < ROUNDS; i++) {
        for (;;) {
            uint32_t tx;
            long rc = xenbus_transaction_start(&tx);
            if (!test_ok(rc == 0, "transaction start: %ld", rc))
                return;
            rc = xenbus_read(tx, counter, v, sizeof(v));
            if (!test_ok(rc == 0, "read the counter in the transaction: %ld", rc))
                return;
            sleep_until(system_time() + 2 * NSEC_PER_MSEC);     /* widen the window */
            snprintf(v, sizeof(v), "%lu", number(v) + 1);
            rc = xenbus_write(tx, counter, v);
            if (!test_ok(rc == 0, "write the counter in the transaction: %ld", rc))
                return;
            rc = xenbus_transaction_end(tx, true);
            if (rc == 0)
                break;
            if (!test_eq(rc, -XB_EAGAIN, "commit: EAGAIN or success"))
                return;
            (*conflicts)++;
        }
    }
}

void test_main(void)
{
    char role[8], v[64], path[96], perms[48], counter[64];
    unsigned conflicts = 0;
    bool a;

    if (!cmdline_str("role", role, sizeof(role)))
        test_abort("no role= on the command line");
    a = role[0] == 'a';
    if (!test_ok(xenbus_init() == 0, "xenbus_init"))
        return;
    test_eq(xenbus_read(0, "domid", v, sizeof(v)), 0, "read domid");
    my_id = number(v);
    if (!test_ok(wait_value("data/peer", v, sizeof(v)), "data/peer written by the test"))
        return;
    peer_id = number(v);
    printk("xenstore_pair: role %s, domid %lu, peer %lu\n", role, my_id, peer_id);

    /* my private node, and the node shared with the peer */
    test_eq(xenbus_write(0, "data/private", "secret"), 0, "write data/private");
    snprintf(perms, sizeof(perms), "data/shared|n%lu|b%lu|", my_id, peer_id);
    test_eq(xenbus_write(0, "data/shared", "hello"), 0, "write data/shared");
    test_eq(xenbus_request_bars(XS_SET_PERMS, 0, perms, NULL, NULL), 0, "share data/shared");
    if (a) {
        test_eq(xenbus_write(0, "data/counter", "0"), 0, "counter");
        snprintf(perms, sizeof(perms), "data/counter|n%lu|b%lu|", my_id, peer_id);
        test_eq(xenbus_request_bars(XS_SET_PERMS, 0, perms, NULL, NULL), 0, "share the counter");
    }
    test_eq(xenbus_write(0, "data/ready", "1"), 0, "write data/ready");
    snprintf(perms, sizeof(perms), "data/ready|n%lu|r%lu|", my_id, peer_id);
    test_eq(xenbus_request_bars(XS_SET_PERMS, 0, perms, NULL, NULL), 0, "let the peer read data/ready");

    /* the peer's nodes */
    snprintf(path, sizeof(path), "/local/domain/%lu/data/ready", peer_id);
    test_ok(wait_value(path, v, sizeof(v)), "the peer is ready (its watch fired once readable)");
    snprintf(path, sizeof(path), "/local/domain/%lu/data/private", peer_id);
    test_eq(xenbus_read(0, path, v, sizeof(v)), -XB_EACCES, "the peer's private node: EACCES");
    test_eq(xenbus_write(0, path, "mine"), -XB_EACCES, "writing it: EACCES");
    test_eq(xenbus_rm(0, path), -XB_EACCES, "removing it: EACCES");
    snprintf(path, sizeof(path), "/local/domain/%lu/data/shared", peer_id);
    test_eq(xenbus_read(0, path, v, sizeof(v)), 0, "the peer's shared node reads");
    test_ok(!strncmp(v, "hello", 6), "shared = %s", v);
    test_eq(xenbus_write(0, path, "both"), 0, "and writes (b)");
    snprintf(path, sizeof(path), "/local/domain/%lu/data/newnode", peer_id);
    test_eq(xenbus_write(0, path, "x"), -XB_EACCES, "creating in the peer's data: EACCES");
    snprintf(path, sizeof(path), "/local/domain/%lu/name", peer_id);
    test_eq(xenbus_read(0, path, v, sizeof(v)), -XB_EACCES, "the peer's name: EACCES");

    /* transaction conflicts on a's counter */
    snprintf(counter, sizeof(counter), "/local/domain/%lu/data/counter", a ? my_id : peer_id);
    counter_rounds(counter, &conflicts);
    printk("xenstore_pair: %d rounds, %u conflicts (EAGAIN, retried)\n", ROUNDS, conflicts);
    test_eq(xenbus_write(0, "data/done", "1"), 0, "done");
    snprintf(perms, sizeof(perms), "data/done|n%lu|r%lu|", my_id, peer_id);
    test_eq(xenbus_request_bars(XS_SET_PERMS, 0, perms, NULL, NULL), 0, "let the peer see done");
    snprintf(path, sizeof(path), "/local/domain/%lu/data/done", peer_id);
    test_ok(wait_value(path, v, sizeof(v)), "the peer is done");
    test_eq(xenbus_read(0, counter, v, sizeof(v)), 0, "read the counter");
    test_eq(number(v), 2 * ROUNDS, "counter after both (no update lost)");
    /* a's tree (the counter) goes when a ends: a waits until b has checked */
    if (a) {
        snprintf(path, sizeof(path), "/local/domain/%lu/data/checked", peer_id);
        test_ok(wait_value(path, v, sizeof(v)), "the peer checked the counter");
    } else {
        uint64_t deadline = system_time() + 60 * NSEC_PER_SEC;
        test_eq(xenbus_write(0, "data/checked", "1"), 0, "checked");
        snprintf(perms, sizeof(perms), "data/checked|n%lu|r%lu|", my_id, peer_id);
        test_eq(xenbus_request_bars(XS_SET_PERMS, 0, perms, NULL, NULL), 0, "let the peer see it");
        /* ... and stay until a has seen it: a's tree goes when a ends */
        snprintf(path, sizeof(path), "/local/domain/%lu/data/done", peer_id);
        while (xenbus_read(0, path, v, sizeof(v)) == 0 && system_time() < deadline)
            wait_path(path, NSEC_PER_SEC);
        test_ok(system_time() < deadline, "a ended (its tree was removed)");
    }
}
