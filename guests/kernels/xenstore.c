/*
 * xenstore test kernel: the xenstore protocol end to end through pvd's
 * server, from a guest. Every request type a guest may send, with its
 * error cases (ENOENT, EACCES, EINVAL, ENOSYS, EEXIST, EBUSY, EAGAIN),
 * watches (the first event, a child's change, relative paths, removal),
 * transactions (commit, abort, a conflict with a write outside, nesting),
 * the tree the toolstack wrote for this domain, and the quotas (entry
 * size, watches, transactions) with Xen's defaults.
 *
 * Run by tests/xenstore/xenstore_guests.sh through pvd (not from GRUB:
 * it needs Domain 0's xenstore).
 */
#include "evtime.h"
#include "xenbus.h"

const char test_name[] = "xenstore";

static char buf[XENSTORE_PAYLOAD_MAX + 1];

static long req(uint32_t type, uint32_t tx, const char *bars)
{
    uint32_t len = sizeof(buf) - 1;

    return xenbus_request_bars(type, tx, bars, buf, &len);
}

static void expect_event(const char *path, const char *token)
{
    char p[128], t[64];
    long rc = xenbus_wait_event(p, sizeof(p), t, sizeof(t), 5 * NSEC_PER_SEC);

    if (test_ok(rc == 0, "watch event %s %s: %ld", path, token, rc)) {
        test_ok(!strncmp(p, path, sizeof(p)) && strlen(p) == strlen(path),
                "event path %s, expected %s", p, path);
        test_ok(!strncmp(t, token, sizeof(t)) && strlen(t) == strlen(token),
                "event token %s, expected %s", t, token);
    }
}

static void toolstack_tree(void)
{
    char v[64], domid[16], name[64];

    test_eq(xenbus_read(0, "domid", domid, sizeof(domid)), 0, "read domid");
    test_ok(domid[0] >= '1' && domid[0] <= '9', "domid %s", domid);
    test_eq(xenbus_read(0, "name", v, sizeof(v)), 0, "read name");
    if (cmdline_str("name", name, sizeof(name)))
        test_ok(!strncmp(v, name, sizeof(v)), "name %s, expected %s (the command line's)", v, name);
    test_eq(xenbus_read(0, "memory/target", v, sizeof(v)), 0, "memory/target");
    test_ok(!strncmp(v, "32768", 6), "memory/target %s KiB", v);
    test_eq(xenbus_read(0, "cpu/0/availability", v, sizeof(v)), 0, "cpu/0/availability");
    test_ok(!strncmp(v, "online", 7), "cpu/0 %s", v);
    test_eq(xenbus_read(0, "control/shutdown", v, sizeof(v)), 0, "control/shutdown");
    test_eq(xenbus_read(0, "vm", v, sizeof(v)), 0, "vm");
    test_ok(!strncmp(v, "/vm/", 4), "vm path %s", v);
    test_eq(req(XS_GET_DOMAIN_PATH, 0, "3|"), 0, "GET_DOMAIN_PATH");
    test_ok(!strncmp(buf, "/local/domain/3", 16), "domain path %s", buf);
    /* the guest may write what libxl makes writable, not the rest */
    test_eq(xenbus_write(0, "control/feature-poweroff", "1"), 0, "write control/feature-poweroff");
    test_eq(xenbus_write(0, "name", "evil"), -XB_EACCES, "write name: EACCES");
    test_eq(xenbus_write(0, "/local/domain/0/x", "evil"), -XB_EACCES, "write Domain 0's home");
    test_eq(xenbus_write(0, "/x", "evil"), -XB_EACCES, "write /x");
}

static void basic_ops(void)
{
    char v[64];

    test_eq(xenbus_write(0, "data/a", "hello"), 0, "write data/a");
    test_eq(xenbus_read(0, "data/a", v, sizeof(v)), 0, "read data/a");
    test_ok(!strncmp(v, "hello", 6), "data/a = %s", v);
    test_eq(req(XS_MKDIR, 0, "data/dir/sub|"), 0, "mkdir");
    test_eq(req(XS_DIRECTORY, 0, "data|"), 0, "directory");
    test_ok(!memcmp(buf, "a\0dir\0", 6), "directory data lists a, dir");
    test_eq(req(XS_DIRECTORY_PART, 0, "data|0|"), 0, "directory_part");
    test_eq(req(XS_GET_PERMS, 0, "data/a|"), 0, "get_perms");
    test_ok(buf[0] == 'n', "perms of data/a start with n (owned by this domain): %s", buf);
    test_eq(req(XS_SET_PERMS, 0, "data/a|n0|"), -XB_EPERM, "giving a node away: EPERM");
    test_eq(xenbus_rm(0, "data/dir"), 0, "rm data/dir");
    test_eq(xenbus_read(0, "data/dir/sub", v, sizeof(v)), -XB_ENOENT, "removed: ENOENT");
    test_eq(xenbus_read(0, "data/none", v, sizeof(v)), -XB_ENOENT, "read absent: ENOENT");
    test_eq(xenbus_rm(0, "data/x/y"), -XB_ENOENT, "rm below an absent parent: ENOENT");
    /* malformed requests */
    test_eq(req(XS_READ, 0, "data/a"), -XB_EINVAL, "unterminated path: EINVAL");
    test_eq(req(XS_READ, 0, "data//a|"), -XB_EINVAL, "path with //: EINVAL");
    test_eq(req(XS_READ, 0, "data/a b|"), -XB_EINVAL, "path with a space: EINVAL");
    test_eq(req(XS_WATCH, 0, "data|"), -XB_EINVAL, "watch without token: EINVAL");
    test_eq(req(XS_INTRODUCE, 0, "9|1|1|"), -XB_EACCES, "INTRODUCE from a guest: EACCES");
    test_eq(req(XS_RELEASE, 0, "9|"), -XB_EACCES, "RELEASE from a guest: EACCES");
    test_eq(req(XS_CONTROL, 0, "print|x|"), -XB_EACCES, "CONTROL from a guest: EACCES");
    test_eq(req(XS_IS_DOMAIN_INTRODUCED, 0, "0|"), -XB_EACCES, "IS_DOMAIN_INTRODUCED: EACCES");
    test_eq(req(XS_RESUME, 0, "1|"), -XB_EACCES, "RESUME from a guest: EACCES");
    test_eq(req(77, 0, "x|"), -XB_ENOSYS, "unknown type: ENOSYS");
    test_eq(req(XS_READ, 4242, "data/a|"), -XB_ENOENT, "unknown transaction: ENOENT");
}

static void watches(void)
{
    test_eq(xenbus_watch("data/w", "tok"), 0, "watch data/w");
    expect_event("data/w", "tok");
    test_eq(xenbus_watch("data/w", "tok"), -XB_EEXIST, "same watch again: EEXIST");
    test_eq(xenbus_write(0, "data/w/child", "1"), 0, "write below the watch");
    expect_event("data/w/child", "tok");
    test_eq(xenbus_write(0, "data/elsewhere", "1"), 0, "write elsewhere");
    test_eq(xenbus_rm(0, "data/w"), 0, "rm data/w");
    expect_event("data/w", "tok");
    test_eq(xenbus_unwatch("data/w", "tok"), 0, "unwatch");
    test_eq(xenbus_unwatch("data/w", "tok"), -XB_ENOENT, "unwatch again: ENOENT");
    {
        char p[64], t[64];
        test_eq(xenbus_wait_event(p, sizeof(p), t, sizeof(t), 200 * NSEC_PER_MSEC),
                -XB_ETIMEDOUT, "no event for the write elsewhere (%s)", p);
    }
}

static void transactions(void)
{
    uint32_t t1, t2;
    char v[64];

    test_eq(xenbus_transaction_start(&t1), 0, "transaction start");
    test_eq(xenbus_write(t1, "data/t", "in"), 0, "write in a transaction");
    test_eq(xenbus_read(0, "data/t", v, sizeof(v)), -XB_ENOENT, "not visible outside yet");
    test_eq(req(XS_TRANSACTION_START, t1, "|"), -XB_EBUSY, "nested start: EBUSY");
    test_eq(xenbus_read(t1, "data/none", v, sizeof(v)), -XB_ENOENT, "a failed read inside");
    test_eq(xenbus_transaction_end(t1, true), 0, "commit");
    test_eq(xenbus_read(0, "data/t", v, sizeof(v)), 0, "visible after commit");
    test_eq(xenbus_transaction_end(t1, true), -XB_ENOENT, "end again: ENOENT");
    /* abort */
    test_eq(xenbus_transaction_start(&t2), 0, "transaction start");
    test_eq(xenbus_write(t2, "data/u", "x"), 0, "write");
    test_eq(xenbus_transaction_end(t2, false), 0, "abort");
    test_eq(xenbus_read(0, "data/u", v, sizeof(v)), -XB_ENOENT, "aborted write not there");
    /* conflict with a write outside */
    test_eq(xenbus_transaction_start(&t1), 0, "transaction start");
    test_eq(xenbus_read(t1, "data/t", v, sizeof(v)), 0, "read in the transaction");
    test_eq(xenbus_write(0, "data/t", "outside"), 0, "write outside");
    test_eq(xenbus_write(t1, "data/t", "inside"), 0, "write inside");
    test_eq(xenbus_transaction_end(t1, true), -XB_EAGAIN, "conflict: EAGAIN");
    test_eq(xenbus_read(0, "data/t", v, sizeof(v)), 0, "read");
    test_ok(!strncmp(v, "outside", 8), "the outside write stands: %s", v);
}

static void quotas(void)
{
    static char big[2100];
    uint32_t tx[11];
    char path[32];
    int i, n;

    memset(big, 'x', sizeof(big) - 1);
    big[2048] = '\0';
    test_eq(xenbus_write(0, "data/big", big), 0, "2048-byte value");
    big[2048] = 'x';
    big[2049] = '\0';
    test_eq(xenbus_write(0, "data/big", big), -XB_ENOSPC, "2049-byte value: ENOSPC");
    for (n = 0; n < 10; n++)
        if (xenbus_transaction_start(&tx[n]) < 0)
            break;
    test_eq(n, 10, "ten transactions");
    test_eq(xenbus_transaction_start(&tx[10]), -XB_ENOSPC, "the eleventh: ENOSPC");
    for (i = 0; i < n; i++)
        xenbus_transaction_end(tx[i], false);
    for (n = 0; n < 200; n++) {
        snprintf(path, sizeof(path), "data/q%d", n);
        if (xenbus_watch(path, "q") < 0)
            break;
    }
    test_eq(n, 128, "128 watches, then E2BIG");
    test_eq(req(XS_RESET_WATCHES, 0, "|"), 0, "reset_watches");
    xenbus_drop_events();
    test_eq(xenbus_watch("data/q0", "q"), 0, "a watch after the reset");
    expect_event("data/q0", "q");
}

void test_main(void)
{
    long rc = xenbus_init();

    if (!test_ok(rc == 0, "xenbus_init: %ld", rc))
        return;
    printk("xenstore: ring mfn %#lx, event channel %u\n", (unsigned long)start_info->store_mfn,
           start_info->store_evtchn);
    toolstack_tree();
    basic_ops();
    watches();
    transactions();
    quotas();
}
