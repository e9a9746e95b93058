/* Host unit tests of the boot-loader domains' xenstore
 * (hypervisor/common/bootstore.c): each request type's answer, the order
 * of the checks, watches firing once when set, and the ring service
 * (requests split over the ring's end and over several polls, replies
 * held back while the response ring is full, a corrupt ring or an
 * oversize request stopping the service). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hv/bootstore.h"

static struct bootstore *s;
static uint8_t out[2 * BOOTSTORE_MSG_MAX];

static int setup(void **state)
{
    (void)state;
    s = calloc(1, sizeof(*s));
    struct bootstore_domain d = {
        .domid = 7, .vcpus = 2, .name = "grub", .mem_kib = 65536, .maxmem_kib = 131072,
        .console_mfn = 0x1234, .store_mfn = 0x1235, .console_port = 1, .store_port = 2,
    };
    bootstore_init(s, &d);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(s);
    return 0;
}

/* One request; the first reply's type and payload (as a string, NULs as
 * '|'); *nmsgs the number of messages answered. */
struct answer {
    uint32_t type, req_id, tx_id;
    char payload[XENSTORE_PAYLOAD_MAX + 1];
    unsigned int nmsgs;
    struct xsd_sockmsg second;
    char second_payload[512];
};

static struct answer ask_tx(uint32_t type, uint32_t tx, const char *payload, size_t len)
{
    struct xsd_sockmsg h = { .type = type, .req_id = 99, .tx_id = tx, .len = (uint32_t)len };
    size_t n = bootstore_request(s, &h, payload, out, sizeof(out));
    struct answer a = { 0 };
    size_t off = 0;
    while (off + sizeof(struct xsd_sockmsg) <= n) {
        struct xsd_sockmsg r;
        memcpy(&r, out + off, sizeof(r));
        const char *p = (const char *)out + off + sizeof(r);
        if (a.nmsgs == 0) {
            a.type = r.type, a.req_id = r.req_id, a.tx_id = r.tx_id;
            for (uint32_t i = 0; i < r.len; i++)
                a.payload[i] = p[i] ? p[i] : '|';
        } else if (a.nmsgs == 1) {
            a.second = r;
            for (uint32_t i = 0; i < r.len && i < sizeof(a.second_payload) - 1; i++)
                a.second_payload[i] = p[i] ? p[i] : '|';
        }
        a.nmsgs++;
        off += sizeof(r) + r.len;
    }
    assert_int_equal(off, n);
    return a;
}

static struct answer ask(uint32_t type, const char *payload, size_t len)
{
    return ask_tx(type, 0, payload, len);
}

#define ASK(type, lit) ask(type, lit, sizeof(lit))        /* with the final NUL */

static void assert_error(struct answer a, const char *name)
{
    char want[32];
    snprintf(want, sizeof(want), "%s|", name);
    assert_int_equal(a.type, XS_ERROR);
    assert_string_equal(a.payload, want);
    assert_int_equal(a.nmsgs, 1);
}

static void reads_its_keys(void **state)
{
    (void)state;
    struct answer a = ASK(XS_READ, "name");
    assert_int_equal(a.type, XS_READ);
    assert_int_equal(a.req_id, 99);
    assert_string_equal(a.payload, "grub");             /* no NUL in a READ reply */
    assert_string_equal(ASK(XS_READ, "domid").payload, "7");
    assert_string_equal(ASK(XS_READ, "/local/domain/7/memory/target").payload, "65536");
    assert_string_equal(ASK(XS_READ, "memory/static-max").payload, "131072");
    assert_string_equal(ASK(XS_READ, "cpu/1/availability").payload, "online");
    assert_string_equal(ASK(XS_READ, "store/ring-ref").payload, "4661");
    assert_string_equal(ASK(XS_READ, "console/port").payload, "1");
    assert_string_equal(ASK(XS_READ, "device").payload, "");
    assert_string_equal(ASK(XS_READ, "/local/domain/7").payload, "");
    assert_error(ASK(XS_READ, "device/vbd"), "ENOENT");
    assert_error(ASK(XS_READ, "cpu/2"), "ENOENT");
}

static void lists_directories(void **state)
{
    (void)state;
    struct answer a = ASK(XS_DIRECTORY, "/local/domain/7");
    assert_int_equal(a.type, XS_DIRECTORY);
    assert_string_equal(a.payload, "name|domid|memory|cpu|control|data|drivers|feature|attr|"
                                   "error|device|console|store|");
    assert_string_equal(ASK(XS_DIRECTORY, "cpu").payload, "0|1|");
    assert_string_equal(ASK(XS_DIRECTORY, "memory").payload, "target|static-max|");
    a = ASK(XS_DIRECTORY, "device");                    /* GRUB's first question */
    assert_int_equal(a.type, XS_DIRECTORY);
    assert_string_equal(a.payload, "");
    assert_error(ASK(XS_DIRECTORY, "device/vbd"), "ENOENT");
    a = ask(XS_DIRECTORY_PART, "memory\0" "0", sizeof("memory\0" "0"));
    assert_int_equal(a.type, XS_DIRECTORY_PART);
    assert_string_equal(a.payload, "0|target|static-max||");
    a = ask(XS_DIRECTORY_PART, "memory\0" "7", sizeof("memory\0" "7"));
    assert_string_equal(a.payload, "0|static-max||");
    assert_error(ask(XS_DIRECTORY_PART, "memory\0" "99", sizeof("memory\0" "99")), "EINVAL");
    a = ASK(XS_GET_PERMS, "name");
    assert_int_equal(a.type, XS_GET_PERMS);
    assert_string_equal(a.payload, "n0|r7|");
}

static void refuses_what_a_guest_may_not_do(void **state)
{
    (void)state;
    assert_error(ASK(XS_READ, "/"), "EACCES");
    assert_error(ASK(XS_DIRECTORY, "/local/domain"), "EACCES");
    assert_error(ASK(XS_READ, "/local/domain/70/name"), "EACCES");   /* not a prefix match */
    assert_error(ASK(XS_READ, "/local/domain/0/name"), "EACCES");
    assert_error(ask(XS_WRITE, "data/x\0" "1", sizeof("data/x\0" "1") - 1), "EACCES");
    assert_error(ASK(XS_MKDIR, "data/x"), "EACCES");
    assert_error(ASK(XS_RM, "data"), "EACCES");
    assert_error(ask(XS_SET_PERMS, "data\0" "n7", sizeof("data\0" "n7")), "EACCES");
    assert_error(ASK(XS_INTRODUCE, "1"), "EACCES");
    assert_error(ASK(XS_RELEASE, "1"), "EACCES");
    assert_error(ASK(XS_IS_DOMAIN_INTRODUCED, "1"), "EACCES");
    assert_error(ASK(XS_RESUME, "1"), "EACCES");
    assert_error(ASK(XS_CONTROL, "print"), "EACCES");
    assert_error(ASK(XS_SET_TARGET, "1"), "ENOSYS");
    assert_error(ASK(XS_WATCH_EVENT, "x"), "ENOSYS");
    assert_error(ASK(1234, "x"), "ENOSYS");
    /* Arguments: unterminated, empty, bad characters, trailing slash,
     * too many strings; checked before the node. */
    assert_error(ask(XS_READ, "name", 4), "EINVAL");
    assert_error(ask(XS_READ, "", 0), "EINVAL");
    assert_error(ASK(XS_READ, ""), "EINVAL");
    assert_error(ASK(XS_READ, "na me"), "EINVAL");
    assert_error(ASK(XS_READ, "memory//target"), "EINVAL");
    assert_error(ASK(XS_READ, "memory/"), "EINVAL");
    assert_error(ask(XS_READ, "name\0x", sizeof("name\0x")), "EINVAL");
    assert_error(ask(XS_WRITE, "data/x", 6), "EINVAL");
    /* An unknown transaction before anything else about the node. */
    assert_error(ask_tx(XS_READ, 5, "name", 5), "ENOENT");
}

static void watches_fire_once_when_set(void **state)
{
    (void)state;
    struct answer a = ask(XS_WATCH, "memory/target\0tok1", sizeof("memory/target\0tok1"));
    assert_int_equal(a.type, XS_WATCH);
    assert_string_equal(a.payload, "OK|");
    assert_int_equal(a.nmsgs, 2);
    assert_int_equal(a.second.type, XS_WATCH_EVENT);
    assert_int_equal(a.second.req_id, 0);
    assert_string_equal(a.second_payload, "memory/target|tok1|");
    assert_error(ask(XS_WATCH, "memory/target\0tok1", sizeof("memory/target\0tok1")), "EEXIST");
    a = ask(XS_WATCH, "@releaseDomain\0t", sizeof("@releaseDomain\0t"));
    assert_string_equal(a.second_payload, "@releaseDomain|t|");
    assert_error(ask(XS_WATCH, "@bogus\0t", sizeof("@bogus\0t")), "EINVAL");
    assert_error(ASK(XS_WATCH, "memory"), "EINVAL");   /* no token */
    a = ask(XS_UNWATCH, "memory/target\0tok1", sizeof("memory/target\0tok1"));
    assert_string_equal(a.payload, "OK|");
    assert_int_equal(a.nmsgs, 1);
    assert_error(ask(XS_UNWATCH, "memory/target\0tok1", sizeof("memory/target\0tok1")), "ENOENT");
    /* The quota, then RESET_WATCHES frees it. */
    for (unsigned int i = 1; i < BOOTSTORE_MAX_WATCHES; i++) {
        char w[32];
        int n = snprintf(w, sizeof(w), "data%c%u", 0, i);
        assert_string_equal(ask(XS_WATCH, w, (size_t)n + 1).payload, "OK|");
    }
    assert_error(ask(XS_WATCH, "data\0last", sizeof("data\0last")), "E2BIG");
    assert_string_equal(ASK(XS_RESET_WATCHES, "").payload, "OK|");
    assert_string_equal(ask(XS_WATCH, "data\0last", sizeof("data\0last")).payload, "OK|");
}

static void transactions_and_domain_path(void **state)
{
    (void)state;
    struct answer a = ASK(XS_TRANSACTION_START, "");
    assert_int_equal(a.type, XS_TRANSACTION_START);
    assert_string_equal(a.payload, "1|");
    assert_string_equal(ASK(XS_TRANSACTION_START, "").payload, "2|");
    a = ask_tx(XS_READ, 2, "name", 5);
    assert_string_equal(a.payload, "grub");
    assert_int_equal(a.tx_id, 2);
    assert_error(ask_tx(XS_TRANSACTION_START, 1, "", 1), "EBUSY");
    assert_string_equal(ask_tx(XS_TRANSACTION_END, 1, "T", 2).payload, "OK|");
    assert_string_equal(ask_tx(XS_TRANSACTION_END, 2, "F", 2).payload, "OK|");
    assert_error(ask_tx(XS_TRANSACTION_END, 2, "X", 2), "EINVAL");
    assert_error(ask_tx(XS_TRANSACTION_END, 0, "T", 2), "ENOENT");
    assert_error(ask_tx(XS_TRANSACTION_END, 9, "T", 2), "ENOENT");
    a = ASK(XS_GET_DOMAIN_PATH, "7");
    assert_int_equal(a.type, XS_GET_DOMAIN_PATH);
    assert_string_equal(a.payload, "/local/domain/7|");
    assert_string_equal(ASK(XS_GET_DOMAIN_PATH, "0").payload, "/local/domain/0|");
    assert_error(ASK(XS_GET_DOMAIN_PATH, "x"), "EINVAL");
}

/* ---- The ring ---- */

static struct xenstore_domain_interface ring;

static void put_req(const void *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        ring.req[MASK_XENSTORE_IDX(ring.req_prod + i)] = ((const char *)p)[i];
    ring.req_prod += (XENSTORE_RING_IDX)len;
}

static void put_msg(uint32_t type, uint32_t id, const char *payload, uint32_t len)
{
    struct xsd_sockmsg h = { .type = type, .req_id = id, .len = len };
    put_req(&h, sizeof(h));
    put_req(payload, len);
}

/* Take one reply off the response ring. */
static bool get_rsp(struct xsd_sockmsg *h, char *payload)
{
    if (ring.rsp_prod - ring.rsp_cons < sizeof(*h))
        return false;
    for (size_t i = 0; i < sizeof(*h); i++)
        ((char *)h)[i] = ring.rsp[MASK_XENSTORE_IDX(ring.rsp_cons + i)];
    if (ring.rsp_prod - ring.rsp_cons < sizeof(*h) + h->len)
        return false;
    for (size_t i = 0; i < h->len; i++)
        payload[i] = ring.rsp[MASK_XENSTORE_IDX(ring.rsp_cons + sizeof(*h) + i)];
    payload[h->len] = '\0';
    ring.rsp_cons += (XENSTORE_RING_IDX)(sizeof(*h) + h->len);
    return true;
}

static void ring_requests_across_the_end_and_polls(void **state)
{
    (void)state;
    const char *why;
    memset(&ring, 0, sizeof(ring));
    /* Start near the end of the ring so that every message wraps. */
    ring.req_prod = ring.req_cons = ring.rsp_prod = ring.rsp_cons = XENSTORE_RING_SIZE - 5;
    put_msg(XS_READ, 1, "name", 5);
    put_msg(XS_DIRECTORY, 2, "device", 7);
    assert_true(bootstore_serve(s, &ring, &why));
    assert_null(why);
    assert_int_equal(ring.req_cons, ring.req_prod);
    struct xsd_sockmsg h;
    char p[XENSTORE_PAYLOAD_MAX + 1];
    assert_true(get_rsp(&h, p));
    assert_int_equal(h.req_id, 1);
    assert_string_equal(p, "grub");
    assert_true(get_rsp(&h, p));
    assert_int_equal(h.req_id, 2);
    assert_int_equal(h.len, 0);
    assert_false(bootstore_serve(s, &ring, &why));  /* nothing new: nothing moves */

    /* A request written a few bytes at a time, served at each poll. */
    struct xsd_sockmsg q = { .type = XS_READ, .req_id = 3, .len = 6 };
    char bytes[sizeof(q) + 6];
    memcpy(bytes, &q, sizeof(q));
    memcpy(bytes + sizeof(q), "domid", 6);
    for (size_t i = 0; i < sizeof(bytes); i += 5) {
        assert_false(get_rsp(&h, p));
        put_req(bytes + i, i + 5 <= sizeof(bytes) ? 5 : sizeof(bytes) - i);
        assert_true(bootstore_serve(s, &ring, &why));
    }
    assert_true(get_rsp(&h, p));
    assert_int_equal(h.req_id, 3);
    assert_string_equal(p, "7");
}

static void ring_replies_wait_for_room(void **state)
{
    (void)state;
    const char *why;
    memset(&ring, 0, sizeof(ring));
    /* Replies to many requests fill the response ring; the rest wait
     * until the guest reads, in order. */
    unsigned int sent = 0, got = 0;
    struct xsd_sockmsg h;
    char p[XENSTORE_PAYLOAD_MAX + 1];
    for (unsigned int round = 0; round < 20; round++) {
        while (ring.req_prod - ring.req_cons + sizeof(h) + 17 <= XENSTORE_RING_SIZE && sent < 200)
            put_msg(XS_DIRECTORY, sent++, "/local/domain/7", 16);
        bootstore_serve(s, &ring, &why);
        assert_null(why);
        if (round % 2)
            continue;                   /* the guest reads only every other poll */
        while (get_rsp(&h, p)) {
            assert_int_equal(h.req_id, got);
            assert_int_equal(h.type, XS_DIRECTORY);
            got++;
        }
    }
    while (bootstore_serve(s, &ring, &why) || get_rsp(&h, p))
        if (h.req_id == got && h.type == XS_DIRECTORY)
            got++;
    assert_int_equal(got, sent);
}

static void ring_faults_stop_the_service(void **state)
{
    (void)state;
    const char *why;
    memset(&ring, 0, sizeof(ring));
    ring.req_prod = XENSTORE_RING_SIZE + 1;             /* more than the ring holds */
    assert_false(bootstore_serve(s, &ring, &why));
    assert_string_equal(why, "request ring indices corrupt");
    assert_true(s->broken);
    assert_false(bootstore_serve(s, &ring, &why));
    assert_null(why);                                   /* reported once */

    teardown(NULL);
    setup(NULL);
    memset(&ring, 0, sizeof(ring));
    struct xsd_sockmsg h = { .type = XS_WRITE, .len = XENSTORE_PAYLOAD_MAX + 1 };
    put_req(&h, sizeof(h));
    assert_true(bootstore_serve(s, &ring, &why));      /* the header was consumed */
    assert_string_equal(why, "a request longer than XENSTORE_PAYLOAD_MAX");
    assert_int_equal(ring.rsp_prod, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(reads_its_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(lists_directories, setup, teardown),
        cmocka_unit_test_setup_teardown(refuses_what_a_guest_may_not_do, setup, teardown),
        cmocka_unit_test_setup_teardown(watches_fire_once_when_set, setup, teardown),
        cmocka_unit_test_setup_teardown(transactions_and_domain_path, setup, teardown),
        cmocka_unit_test_setup_teardown(ring_requests_across_the_end_and_polls, setup, teardown),
        cmocka_unit_test_setup_teardown(ring_replies_wait_for_room, setup, teardown),
        cmocka_unit_test_setup_teardown(ring_faults_stop_the_service, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
