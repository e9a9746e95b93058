/*
 * blk test kernel: a virtual block device end to end through pvd's
 * blkback, from a guest (guests/lib/blkfront.c).
 *
 * mode=rw (default), disk xvda of `sectors=` sectors, writable:
 *  - the backend's nodes: sectors, sector-size 512, info 0, flush, discard;
 *  - write, read back and compare across sizes (1 .. 88 sectors, up to
 *    11 segments) and alignments (a buffer starting at every sector of a
 *    page, odd start sectors on the disk);
 *  - flush and write barrier without data and with data; discard reads
 *    back zeros;
 *  - refused: the last sector + 1, a range that wraps around, a segment
 *    with first_sect > last_sect or last_sect 8, 0 and 12 segments, an
 *    unknown operation (EOPNOTSUPP), a grant ref never granted, a grant
 *    Domain 0 may only read used for a read (the backend would write);
 *  - a marker at sector 100 ("blk marker <marker=>") stays for the host
 *    and the next boot to check.
 * mode=check: the marker of an earlier boot reads back intact.
 * mode=ro, disk xvda read-only: info has VDISK_READONLY, no discard,
 *  reads work, writes and discards are refused.
 * mode=quota quota=BYTES: writes until the disk's quota refuses one (see
 *  mode_quota).
 * mode=hostile: garbage ring indices: the backend shuts this ring alone.
 * mode=long seconds=N: round trips for N seconds (pvd killed meanwhile).
 * mode=rate seconds=S: writes for S seconds under a bps limit (mode_rate).
 * mode=bench: figures for bench/blk_bench.sh (mode_bench).
 * persistent=1 (any mode): persistent grants (blkfront_init_persistent).
 * ring_order=N (any mode): a ring of 2^N pages, if the backend offers it.
 * indirect=1 (any mode): indirect requests, if offered; mode=rw then also
 *  writes and reads 1 MiB requests and odd-shaped indirect ones, many
 *  requests in flight at once, and has bad indirect requests refused.
 * depth=N (mode=long, mode=bench): N requests in flight.
 *
 * Run by tests/blk/blk_guests.sh through pvd.
 */
#include "blkfront.h"
#include "gnttab.h"
#include "evtime.h"
#include "xenbus.h"

const char test_name[] = "blk";

#define MARKER_SECTOR 100
#define BUF_PAGES 20          /* 64 KiB chunks (mode_quota) and then some */
#define BIG_PAGES 1024        /* 4 MiB granted once: requests without a copy */
/* The bench's data pages: with blkfront's BLKFRONT_MAX_INFLIGHT (256)
 * indirect pages, within the 1056 grants the backend keeps mapped
 * (persistent grants), so that no request needs a map call */
#define BENCH_PAGES 768

static uint8_t wbuf[BUF_PAGES * PAGE_SIZE] ALIGNED(PAGE_SIZE);
static uint8_t rbuf[BUF_PAGES * PAGE_SIZE] ALIGNED(PAGE_SIZE);
static uint8_t big[BIG_PAGES * PAGE_SIZE] ALIGNED(PAGE_SIZE);
static grant_ref_t big_ref[BIG_PAGES];
static struct blkfront_info info;

static void indirect_tests(void);

/* The big buffer's pages, granted once (writable: the backend keeps them
 * with persistent grants): requests name these refs, data moves with no
 * copy on either side. */
static void grant_big(void)
{
    for (uint32_t i = 0; i < BIG_PAGES; i++)
        if (!big_ref[i] && !(big_ref[i] = grant_access(big + i * PAGE_SIZE, false)))
            test_abort("granting page %u of the big buffer", i);
}

/* Segments for npages whole pages of the big buffer from page first. */
static void big_segs(struct blkif_request_segment *seg, uint32_t first, uint32_t npages)
{
    for (uint32_t i = 0; i < npages; i++)
        seg[i] = (struct blkif_request_segment){ .gref = big_ref[first + i], .first_sect = 0, .last_sect = 7 };
}

/* Post, retrying while the ring or the table is full (reaping one). */
static void post_or_reap(uint8_t op, uint64_t sector, const struct blkif_request_segment *seg, uint32_t nseg,
                         uint32_t *bad)
{
    uint64_t id;
    int16_t st;
    long rc;

    while ((rc = blkfront_post(op, sector, seg, nseg, &id)) == -XB_ENOSPC) {
        if (blkfront_reap(&id, &st, 30 * NSEC_PER_SEC) < 0)
            test_abort("no response in 30 s with %u requests in flight", blkfront_in_flight());
        *bad += st != BLKIF_RSP_OKAY;
    }
    if (rc < 0)
        test_abort("post of %u segments: %ld", nseg, rc);
}

/* Kick, then reap every request in flight; the failures added to *bad. */
static void drain(uint32_t *bad)
{
    uint64_t id;
    int16_t st;

    blkfront_kick();
    while (blkfront_in_flight()) {
        if (blkfront_reap(&id, &st, 30 * NSEC_PER_SEC) < 0)
            test_abort("no response in 30 s with %u requests in flight", blkfront_in_flight());
        *bad += st != BLKIF_RSP_OKAY;
    }
}

static void fill(uint8_t *p, uint32_t bytes, uint32_t seed)
{
    for (uint32_t i = 0; i < bytes; i++)
        p[i] = (uint8_t)(seed * 131u + i * 7u + (i >> 9));
}

static void roundtrip(uint64_t sector, uint32_t buf_off, uint32_t nsect, uint32_t seed)
{
    uint32_t bytes = nsect * 512;

    fill(wbuf + buf_off, bytes, seed);
    memset(rbuf + buf_off, 0xee, bytes);
    test_eq(blkfront_io(BLKIF_OP_WRITE, sector, wbuf + buf_off, bytes), BLKIF_RSP_OKAY,
            "write %u sectors at %lu (buffer offset %u)", nsect, (unsigned long)sector, buf_off);
    test_eq(blkfront_io(BLKIF_OP_READ, sector, rbuf + buf_off, bytes), BLKIF_RSP_OKAY,
            "read %u sectors at %lu (buffer offset %u)", nsect, (unsigned long)sector, buf_off);
    test_ok(!memcmp(wbuf + buf_off, rbuf + buf_off, bytes), "%u sectors at %lu (buffer offset %u) read back "
            "as written", nsect, (unsigned long)sector, buf_off);
}

static int16_t raw(uint8_t op, uint8_t nseg, uint64_t sector, uint32_t gref, uint8_t first, uint8_t last)
{
    struct blkif_request req = { .operation = op, .nr_segments = nseg, .sector_number = sector };

    for (unsigned i = 0; i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++)
        req.seg[i] = (struct blkif_request_segment){ .gref = gref, .first_sect = first, .last_sect = last };
    return blkfront_submit(&req, 30 * NSEC_PER_SEC);
}

static void refusals(void)
{
    grant_ref_t g = grant_access(rbuf, false), gro = grant_access(wbuf, true);

    test_eq(raw(BLKIF_OP_READ, 1, info.sectors - 1, g, 0, 1), BLKIF_RSP_ERROR, "read past the end: ERROR");
    test_eq(raw(BLKIF_OP_READ, 1, info.sectors, g, 0, 0), BLKIF_RSP_ERROR, "read at sectors: ERROR");
    test_eq(raw(BLKIF_OP_WRITE, 1, ~0ull - 2, gro, 0, 7), BLKIF_RSP_ERROR, "write wrapping around: ERROR");
    test_eq(raw(BLKIF_OP_READ, 1, 0, g, 5, 2), BLKIF_RSP_ERROR, "first_sect > last_sect: ERROR");
    test_eq(raw(BLKIF_OP_READ, 1, 0, g, 0, 8), BLKIF_RSP_ERROR, "last_sect 8: ERROR");
    test_eq(raw(BLKIF_OP_READ, 0, 0, g, 0, 0), BLKIF_RSP_ERROR, "0 segments: ERROR");
    test_eq(raw(BLKIF_OP_READ, 12, 0, g, 0, 0), BLKIF_RSP_ERROR, "12 segments: ERROR");
    test_eq(raw(9, 1, 0, g, 0, 0), BLKIF_RSP_EOPNOTSUPP, "operation 9: EOPNOTSUPP");
    test_eq(raw(BLKIF_OP_INDIRECT, 1, 0, g, 0, 0), BLKIF_RSP_ERROR, "indirect with 0 segments: ERROR");
    test_eq(raw(BLKIF_OP_READ, 1, 0, 300, 0, 0), BLKIF_RSP_ERROR, "grant ref never granted: ERROR");
    test_eq(raw(BLKIF_OP_READ, 1, 0, gro, 0, 0), BLKIF_RSP_ERROR, "read into a read-only grant: ERROR");
    grant_end(g);
    grant_end(gro);
    /* the ring still works after all that */
    roundtrip(5, 0, 8, 77);
}

static void marker_text(char *buf, size_t size)
{
    char m[32];

    if (!cmdline_str("marker", m, sizeof(m)))
        snprintf(m, sizeof(m), "none");
    snprintf(buf, size, "blk marker %s", m);
}

static void mode_rw(void)
{
    static const uint32_t sizes[] = { 1, 2, 7, 8, 9, 15, 16, 33, 64, 81, 88 };
    uint64_t want = cmdline_u64("sectors", 0);
    uint32_t seed = 1;
    char text[64];

    test_eq(info.sectors, want, "sectors");
    test_eq(info.sector_size, 512, "sector-size");
    test_eq(info.info, 0, "info (writable disk)");
    test_ok(info.flush && info.discard, "feature-flush-cache and feature-discard offered");
    for (unsigned s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
        for (uint32_t off = 0; off < 8; off += (sizes[s] > 80 ? 8 : 3)) {
            if (off * 512 + sizes[s] * 512 > BLKIF_MAX_SEGMENTS_PER_REQUEST * PAGE_SIZE)
                continue;
            roundtrip(1000 + s * 200 + off, off * 512, sizes[s], seed++);
        }
    roundtrip(info.sectors - 8, 0, 8, seed++);      /* the last page of the disk */
    roundtrip(info.sectors - 1, 3 * 512, 1, seed++); /* the last sector */

    test_eq(raw(BLKIF_OP_FLUSH_DISKCACHE, 0, 0, 0, 0, 0), BLKIF_RSP_OKAY, "flush without data");
    fill(wbuf, PAGE_SIZE, 4242);
    {
        grant_ref_t g = grant_access(wbuf, true);
        test_eq(raw(BLKIF_OP_FLUSH_DISKCACHE, 1, 3000, g, 0, 7), BLKIF_RSP_OKAY, "flush with a page of data");
        grant_end(g);
    }
    test_eq(blkfront_io(BLKIF_OP_READ, 3000, rbuf, PAGE_SIZE), BLKIF_RSP_OKAY, "read the flushed data");
    test_ok(!memcmp(wbuf, rbuf, PAGE_SIZE), "the flush's data was written");
    test_ok(info.barrier, "feature-barrier offered");
    test_eq(raw(BLKIF_OP_WRITE_BARRIER, 0, 0, 0, 0, 0), BLKIF_RSP_OKAY, "write barrier without data");
    fill(wbuf, PAGE_SIZE, 4343);
    {
        grant_ref_t g = grant_access(wbuf, true);
        test_eq(raw(BLKIF_OP_WRITE_BARRIER, 1, 3008, g, 0, 7), BLKIF_RSP_OKAY, "write barrier with a page of data");
        grant_end(g);
    }
    test_eq(blkfront_io(BLKIF_OP_READ, 3008, rbuf, PAGE_SIZE), BLKIF_RSP_OKAY, "read the barrier's data");
    test_ok(!memcmp(wbuf, rbuf, PAGE_SIZE), "the barrier's data was written");

    roundtrip(4000, 0, 16, seed++);
    {
        struct blkif_request_discard d = { .operation = BLKIF_OP_DISCARD, .sector_number = 4000, .nr_sectors = 16 };
        test_eq(blkfront_submit((struct blkif_request *)&d, 30 * NSEC_PER_SEC), BLKIF_RSP_OKAY, "discard");
        d.sector_number = info.sectors - 4;
        d.nr_sectors = 8;
        test_eq(blkfront_submit((struct blkif_request *)&d, 30 * NSEC_PER_SEC), BLKIF_RSP_ERROR,
                "discard past the end: ERROR");
    }
    memset(rbuf, 0xee, 16 * 512);
    test_eq(blkfront_io(BLKIF_OP_READ, 4000, rbuf, 16 * 512), BLKIF_RSP_OKAY, "read the discarded range");
    memset(wbuf, 0, 16 * 512);
    test_ok(!memcmp(wbuf, rbuf, 16 * 512), "discarded sectors read back as zeros");

    refusals();
    if (cmdline_u64("indirect", 0))
        indirect_tests();
    if (cmdline_u64("ring_order", 0))
        test_eq(info.ring_slots, 32u << cmdline_u64("ring_order", 0), "ring of 2^%lu pages: %u requests",
                (unsigned long)cmdline_u64("ring_order", 0), info.ring_slots);

    memset(wbuf, 0, 512);
    marker_text((char *)wbuf, 512);
    test_eq(blkfront_io(BLKIF_OP_WRITE, MARKER_SECTOR, wbuf, 512), BLKIF_RSP_OKAY, "write the marker");
    test_eq(raw(BLKIF_OP_FLUSH_DISKCACHE, 0, 0, 0, 0, 0), BLKIF_RSP_OKAY, "flush the marker");
    marker_text(text, sizeof(text));
    printk("blk: wrote \"%s\" at sector %d\n", text, MARKER_SECTOR);
}

static void mode_check(void)
{
    char text[64];

    marker_text(text, sizeof(text));
    test_eq(blkfront_io(BLKIF_OP_READ, MARKER_SECTOR, rbuf, 512), BLKIF_RSP_OKAY, "read the marker");
    test_ok(!memcmp(rbuf, text, strlen(text) + 1), "marker \"%s\" read back after a restart (got \"%.40s\")",
            text, (char *)rbuf);
}

/* mode=quota, quota=BYTES: 64 KiB writes from 1 MiB on until one is
 * refused; the refused write wrote nothing, earlier data is intact,
 * rewriting allocated blocks works at a full quota, and a discard gives
 * room back. */
#define CHUNK (64 * 1024)
static void mode_quota(void)
{
    uint64_t quota = cmdline_u64("quota", 0), base = 2048, ok_chunks = 0;
    int16_t st = BLKIF_RSP_OKAY;

    test_ok(quota && quota % CHUNK == 0, "quota= on the command line (%lu)", (unsigned long)quota);
    while (ok_chunks * CHUNK < 2 * quota && base + (ok_chunks + 1) * (CHUNK / 512) <= info.sectors) {
        fill(wbuf, CHUNK, (uint32_t)ok_chunks);
        st = blkfront_io(BLKIF_OP_WRITE, base + ok_chunks * (CHUNK / 512), wbuf, CHUNK / 2);
        if (st == BLKIF_RSP_OKAY)
            st = blkfront_io(BLKIF_OP_WRITE, base + ok_chunks * (CHUNK / 512) + CHUNK / 1024, wbuf + CHUNK / 2,
                             CHUNK / 2);
        if (st != BLKIF_RSP_OKAY)
            break;
        ok_chunks++;
    }
    test_eq(st, BLKIF_RSP_ERROR, "a write past the quota is refused (after %lu chunks of 64 KiB)",
            (unsigned long)ok_chunks);
    test_ok(ok_chunks * CHUNK <= quota && ok_chunks * CHUNK + CHUNK > quota - CHUNK,
            "%lu KiB written before the refusal, quota %lu KiB", (unsigned long)(ok_chunks * CHUNK / 1024),
            (unsigned long)(quota / 1024));
    printk("blk: quota %lu KiB: %lu KiB written, then refused\n", (unsigned long)(quota / 1024),
           (unsigned long)(ok_chunks * CHUNK / 1024));
    /* nothing of the refused write, nor before it, was lost */
    for (uint64_t c = 0; c < ok_chunks; c += (ok_chunks > 1 ? ok_chunks - 1 : 1)) {
        fill(wbuf, CHUNK, (uint32_t)c);
        test_eq(blkfront_io(BLKIF_OP_READ, base + c * (CHUNK / 512), rbuf, CHUNK / 2), BLKIF_RSP_OKAY, "read");
        test_eq(blkfront_io(BLKIF_OP_READ, base + c * (CHUNK / 512) + CHUNK / 1024, rbuf + CHUNK / 2, CHUNK / 2),
                BLKIF_RSP_OKAY, "read");
        test_ok(!memcmp(wbuf, rbuf, CHUNK), "chunk %lu intact after the refusal", (unsigned long)c);
    }
    memset(wbuf, 0, PAGE_SIZE);
    memset(rbuf, 0xee, PAGE_SIZE);
    test_eq(blkfront_io(BLKIF_OP_READ, base + ok_chunks * (CHUNK / 512), rbuf, PAGE_SIZE), BLKIF_RSP_OKAY,
            "read where the refused write went");
    test_ok(!memcmp(wbuf, rbuf, PAGE_SIZE), "the refused write wrote nothing");
    /* blocks already allocated can be written at a full quota */
    fill(wbuf, CHUNK / 2, 999);
    test_eq(blkfront_io(BLKIF_OP_WRITE, base, wbuf, CHUNK / 2), BLKIF_RSP_OKAY, "rewrite at a full quota");
    test_eq(blkfront_io(BLKIF_OP_READ, base, rbuf, CHUNK / 2), BLKIF_RSP_OKAY, "read the rewrite");
    test_ok(!memcmp(wbuf, rbuf, CHUNK / 2), "the rewrite read back");
    /* a discard gives room back */
    {
        struct blkif_request_discard d = { .operation = BLKIF_OP_DISCARD, .sector_number = base,
                                           .nr_sectors = 4 * CHUNK / 512 };
        test_eq(blkfront_submit((struct blkif_request *)&d, 30 * NSEC_PER_SEC), BLKIF_RSP_OKAY,
                "discard 256 KiB");
    }
    fill(wbuf, CHUNK / 2, 4321);
    test_eq(blkfront_io(BLKIF_OP_WRITE, base + ok_chunks * (CHUNK / 512), wbuf, CHUNK / 2), BLKIF_RSP_OKAY,
            "the refused write fits after the discard");
}

/* mode=hostile: a producer index far more than a ring ahead: the backend
 * shuts this ring (Closing) and answers nothing more on it. */
static void mode_hostile(void)
{
    uint64_t end;

    roundtrip(8, 0, 8, 5);                          /* it works before */
    blkfront_bump_req_prod(1000);
    end = system_time() + 20 * NSEC_PER_SEC;
    while (blkfront_backend_state() != XenbusStateClosing && system_time() < end)
        sleep_until(system_time() + 10 * NSEC_PER_MSEC);
    test_eq(blkfront_backend_state(), XenbusStateClosing, "the backend shut the ring (state Closing)");
}

/* mode=long seconds=N: write, read back and compare 8-sector blocks in
 * a loop for N seconds (pvd is killed and started again meanwhile). */
static void mode_long_deep(uint64_t end, uint32_t depth);

static void mode_long(void)
{
    uint64_t end = system_time() + cmdline_u64("seconds", 30) * NSEC_PER_SEC;
    uint32_t n = 0;

    if (cmdline_u64("depth", 1) > 1) {
        mode_long_deep(end, (uint32_t)cmdline_u64("depth", 1));
        return;
    }
    while (system_time() < end) {
        roundtrip(2000 + (n % 64) * 8, (n % 8) * 512, 8, n);
        if (++n % 50 == 0)
            printk("blk: %u round trips\n", n);
    }
    printk("blk: %u round trips in all; %u grant(s) left mapped by a dead backend\n", n,
           grant_stuck());
}

/* mode=long depth=N: rounds of N 4 KiB writes in flight at once (each
 * page stamped with its round and index), then N reads of them in flight,
 * compared; every request is numbered by blkfront, so a response lost
 * (a request never answered: a timeout) or answered twice (a stray) fails. */
static void mode_long_deep(uint64_t end, uint32_t depth)
{
    struct blkif_request_segment seg;
    uint32_t rounds = 0, bad = 0;

    if (depth > BIG_PAGES / 2)
        depth = BIG_PAGES / 2;
    grant_big();
    while (system_time() < end) {
        for (uint32_t i = 0; i < depth; i++) {
            fill(big + i * PAGE_SIZE, PAGE_SIZE, rounds * 1000 + i);
            big_segs(&seg, i, 1);
            post_or_reap(BLKIF_OP_WRITE, 2000 + (uint64_t)i * 8, &seg, 1, &bad);
        }
        drain(&bad);
        for (uint32_t i = 0; i < depth; i++) {
            memset(big + (BIG_PAGES / 2 + i) * PAGE_SIZE, 0xee, PAGE_SIZE);
            big_segs(&seg, BIG_PAGES / 2 + i, 1);
            post_or_reap(BLKIF_OP_READ, 2000 + (uint64_t)i * 8, &seg, 1, &bad);
        }
        drain(&bad);
        for (uint32_t i = 0; i < depth; i++)
            if (memcmp(big + i * PAGE_SIZE, big + (BIG_PAGES / 2 + i) * PAGE_SIZE, PAGE_SIZE))
                test_abort("round %u: page %u read back differs from what was written", rounds, i);
        if (++rounds % 20 == 0)
            printk("blk: %u rounds of %u requests in flight\n", rounds, depth);
    }
    test_eq(bad, 0, "requests answered with an error");
    printk("blk: %u rounds of %u writes and %u reads in flight, all answered once and intact; "
           "%u grant(s) left mapped by a dead backend\n", rounds, depth, depth, grant_stuck());
}

/* mode=rw indirect=1: 1 MiB requests, odd-shaped indirect ones, many in
 * flight, and bad indirect requests refused. */
static void indirect_tests(void)
{
    static struct blkif_request_segment seg[BLKIF_SEGS_PER_INDIRECT_FRAME];
    struct blkif_request req;
    struct blkif_request_indirect *ir = (struct blkif_request_indirect *)&req;
    grant_ref_t g;
    uint32_t bad = 0;

    test_ok(info.max_indirect >= 256, "feature-max-indirect-segments offered (%u)", info.max_indirect);
    grant_big();
    fill(big, 1048576, 31);
    memset(big + 1048576, 0xee, 1048576);
    big_segs(seg, 0, 256);
    post_or_reap(BLKIF_OP_WRITE, 8192, seg, 256, &bad);
    drain(&bad);
    big_segs(seg, 256, 256);
    post_or_reap(BLKIF_OP_READ, 8192, seg, 256, &bad);
    drain(&bad);
    test_eq(bad, 0, "1 MiB indirect write and read answered OKAY");
    test_ok(!memcmp(big, big + 1048576, 1048576), "1 MiB indirect request read back as written");
    /* 13 segments of odd shapes: sectors 3..7, then whole pages, then 0..1 */
    big_segs(seg, 512, 13);
    seg[0].first_sect = 3;
    seg[12].last_sect = 1;
    fill(big + 512 * PAGE_SIZE, 13 * PAGE_SIZE, 32);
    post_or_reap(BLKIF_OP_WRITE, 12001, seg, 13, &bad);
    drain(&bad);
    test_eq(blkfront_io(BLKIF_OP_READ, 12001, rbuf, 5 * 512), BLKIF_RSP_OKAY, "read the odd indirect write");
    test_ok(!memcmp(rbuf, big + 512 * PAGE_SIZE + 3 * 512, 5 * 512), "its first, partial segment is on the disk");
    /* 32 requests of 64 KiB in flight at once, then read back 32 at once */
    for (uint32_t i = 0; i < 32; i++) {
        big_segs(seg, i * 16, 16);
        post_or_reap(BLKIF_OP_WRITE, 4200 + i * 128, seg, 16, &bad);
    }
    drain(&bad);
    memset(big + 512 * PAGE_SIZE, 0, 512 * PAGE_SIZE);
    for (uint32_t i = 0; i < 32; i++) {
        big_segs(seg, 512 + i * 16, 16);
        post_or_reap(BLKIF_OP_READ, 4200 + i * 128, seg, 16, &bad);
    }
    drain(&bad);
    test_eq(bad, 0, "32 requests in flight answered OKAY");
    test_ok(!memcmp(big, big + 512 * PAGE_SIZE, 512 * PAGE_SIZE), "32 requests in flight read back as written");
    /* refused: an indirect page never granted, more segments than offered,
     * an operation other than READ/WRITE, a bad segment inside the page */
    g = grant_access(rbuf, false);
    memset(&req, 0, sizeof(req));
    ir->operation = BLKIF_OP_INDIRECT;
    ir->indirect_op = BLKIF_OP_READ;
    ir->nr_segments = 1;
    ir->indirect_grefs[0] = 4000;
    test_eq(blkfront_submit(&req, 30 * NSEC_PER_SEC), BLKIF_RSP_ERROR, "indirect page never granted: ERROR");
    ((struct blkif_request_segment *)rbuf)[0] = (struct blkif_request_segment){ .gref = big_ref[0], .last_sect = 7 };
    ((struct blkif_request_segment *)rbuf)[1] = (struct blkif_request_segment){ .gref = big_ref[1], .last_sect = 9 };
    ir->indirect_grefs[0] = g;
    ir->nr_segments = (uint16_t)(info.max_indirect + 1);
    test_eq(blkfront_submit(&req, 30 * NSEC_PER_SEC), BLKIF_RSP_ERROR, "more indirect segments than offered: ERROR");
    ir->nr_segments = 1;
    ir->indirect_op = BLKIF_OP_FLUSH_DISKCACHE;
    test_eq(blkfront_submit(&req, 30 * NSEC_PER_SEC), BLKIF_RSP_ERROR, "indirect flush: ERROR");
    ir->indirect_op = BLKIF_OP_READ;
    ir->nr_segments = 2;
    test_eq(blkfront_submit(&req, 30 * NSEC_PER_SEC), BLKIF_RSP_ERROR, "last_sect 9 in an indirect page: ERROR");
    ir->nr_segments = 1;
    test_eq(blkfront_submit(&req, 30 * NSEC_PER_SEC), BLKIF_RSP_OKAY, "the same page with 1 good segment: OKAY");
    grant_end(g);
}

/* mode=rate seconds=S: 32 KiB writes, one after the other, for S
 * seconds (by the guest's clock), each of which must succeed. The host
 * measures the rate the disk's bps limit lets through with its own clock
 * (tests/blk/blk_guests.sh: the bytes written that pvctl info counts
 * over 10 s): a guest's TSC calibrated on a loaded host is not accurate
 * to 5 %. */
static void mode_rate(void)
{
    uint64_t end = system_time() + cmdline_u64("seconds", 30) * NSEC_PER_SEC, done = 0;

    fill(wbuf, 32768, 3);
    while (system_time() < end) {
        if (blkfront_io(BLKIF_OP_WRITE, 2048 + (done / 512) % 8192, wbuf, 32768) != BLKIF_RSP_OKAY)
            test_abort("write at %lu under the rate limit", (unsigned long)done);
        done += 32768;
    }
    test_ok(done > 0, "%lu bytes written under the rate limit", (unsigned long)done);
}

/* mode=bench: sequential writes and reads of seq_mib=N MiB (default 32)
 * in 1 MiB requests (indirect, 256 segments; 44 KiB without indirect=1),
 * then 4096 random 4 KiB writes and reads over 32 MiB; depth=N requests
 * in flight. The data pages are BENCH_PAGES of the big buffer, granted
 * once: no copy (more than 3 sequential requests in flight share its
 * pages: the figures, not the data, are what counts here; their segment
 * lists are built once, before the clock starts; the line's buffer= is
 * their size, for the native side to do the same); an untimed read over
 * all of them and with every slot of blkfront's (indirect pages) first
 * (the backend maps a persistent grant on its first use). Every
 * answer there is is reaped before the freed slots are posted again and
 * kicked once; a pass's first requests are kicked at 1, 2, 4, 8 ...
 * Each pattern runs runs=N times (default 3); one line with the best
 * (verbose=1: and a line per run; only=PATTERN: that pattern alone). */
static uint64_t bench_rng = 88172645463325252ull;
static uint64_t bench_next(void)
{
    bench_rng ^= bench_rng << 13;
    bench_rng ^= bench_rng >> 7;
    bench_rng ^= bench_rng << 17;
    return bench_rng;
}

static uint64_t bench_once(const char *what, uint8_t op, uint32_t pages, uint32_t count, uint32_t depth,
                           bool random)
{
    static struct blkif_request_segment seg[BIG_PAGES];
    uint64_t start, ns;
    uint32_t bad = 0, slots = BENCH_PAGES / pages;

    big_segs(seg, 0, BIG_PAGES);        /* every request's segments, built once */
    start = system_time();
    for (uint32_t i = 0; i < count; i++) {
        /* sequential: wrapping at the disk's end (the warm-up's request
         * per blkfront slot may be more than the disk holds) */
        uint64_t sector = random ? (bench_next() % (32u * 2048u / 8u)) * 8u
                                 : (uint64_t)(i % (info.sectors / (pages * 8u))) * pages * 8;
        if (blkfront_in_flight() >= depth) {
            uint64_t id;
            int16_t st;
            blkfront_kick();
            if (blkfront_reap(&id, &st, 30 * NSEC_PER_SEC) < 0)
                test_abort("bench %s: no response in 30 s", what);
            bad += st != BLKIF_RSP_OKAY;
            /* every answer there is, so that their slots are posted
             * again together and kicked once */
            while (blkfront_reap(&id, &st, 0) == 0)
                bad += st != BLKIF_RSP_OKAY;
        }
        post_or_reap(op, sector, seg + (i % slots) * pages, pages, &bad);
        /* a pass's first request at once (the backend starts on it while
         * the rest are built), then the 2nd, 4th, 8th ...: the backend has
         * work from the start, in a few kicks; after that the requests
         * are kicked together before each wait for answers, as Linux's
         * blkfront kicks once per batch its block layer hands it
         * (bd->last): a kick per request is an event through the machine
         * whenever the backend has caught up */
        if (!((i + 1) & i))
            blkfront_kick();
    }
    drain(&bad);
    ns = system_time() - start;
    if (bad)
        test_abort("bench %s: %u requests failed", what, bad);
    return ns;
}

/* The best of `runs` runs (the random ones each from the same start of
 * the sequence), one line. */
static void bench_run(const char *what, uint8_t op, uint32_t pages, uint32_t count, uint32_t depth, bool random,
                      uint32_t runs)
{
    uint64_t best = ~0ull, rng = bench_rng;
    char only[16];

    /* only=PATTERN (profiling one pattern): the others are left out */
    if (cmdline_str("only", only, sizeof(only)) && strncmp(only, what, sizeof(only)) && strncmp(what, "warm-up", 8))
        return;

    for (uint32_t r = 0; r < runs; r++) {
        uint64_t ns;
        bench_rng = rng;
        ns = bench_once(what, op, pages, count, depth, random);
        if (ns < best)
            best = ns;
        if (cmdline_u64("verbose", 0))
            printk("blk-bench: %s run %u ns=%lu\n", what, r, (unsigned long)ns);
    }
    printk("blk-bench: %s bytes=%u count=%u ns=%lu depth=%u runs=%u buffer=%u\n", what, pages * (uint32_t)PAGE_SIZE,
           count, (unsigned long)best, depth, runs, BENCH_PAGES / pages * pages * (uint32_t)PAGE_SIZE);
}

static void mode_bench(void)
{
    uint32_t depth = (uint32_t)cmdline_u64("depth", 8), pages = info.max_indirect >= 256 ? 256 : 11;

    uint32_t runs = (uint32_t)cmdline_u64("runs", 3);
    uint32_t seq_mib = (uint32_t)cmdline_u64("seq_mib", 32);

    if (seq_mib < 1 || (uint64_t)seq_mib * 2048 > info.sectors)
        test_abort("bench: seq_mib=%u does not fit the disk (%lu sectors)", seq_mib,
                   (unsigned long)info.sectors);
    grant_big();
    /* an event per half of the requests in flight, not per response */
    blkfront_event_batch((uint32_t)cmdline_u64("event_batch", depth / 2));
    /* untimed: the data pages one request at a time, then a request in
     * every slot of blkfront's (its indirect page): each new grant costs
     * the backend a mapping of Domain 0's until it is kept, and 256
     * requests of 257 new grants at once would be more than it has */
    bench_run("warm-up", BLKIF_OP_READ, pages, BENCH_PAGES / pages, 1, false, 1);
    bench_run("warm-up", BLKIF_OP_READ, pages, depth, depth, false, 1);
    bench_run("seq-write", BLKIF_OP_WRITE, pages, seq_mib * 256u / pages, depth, false, runs);
    bench_run("seq-read", BLKIF_OP_READ, pages, seq_mib * 256u / pages, depth, false, runs);
    bench_rng = 88172645463325252ull;
    bench_run("rand-write", BLKIF_OP_WRITE, 1, 4096, depth, true, runs);
    bench_run("rand-read", BLKIF_OP_READ, 1, 4096, depth, true, runs);
}

static void mode_ro(void)
{
    grant_ref_t g;

    test_ok(info.info & VDISK_READONLY, "info %#x has VDISK_READONLY", info.info);
    test_ok(!info.discard, "no feature-discard on a read-only disk");
    test_eq(blkfront_io(BLKIF_OP_READ, 0, rbuf, PAGE_SIZE), BLKIF_RSP_OKAY, "read a read-only disk");
    fill(wbuf, PAGE_SIZE, 9);
    test_eq(blkfront_io(BLKIF_OP_WRITE, 0, wbuf, PAGE_SIZE), BLKIF_RSP_ERROR, "write to a read-only disk: ERROR");
    g = grant_access(wbuf, true);
    test_eq(raw(BLKIF_OP_FLUSH_DISKCACHE, 1, 0, g, 0, 7), BLKIF_RSP_ERROR, "flush with data on a read-only disk: "
            "ERROR");
    test_eq(raw(BLKIF_OP_WRITE_BARRIER, 1, 0, g, 0, 7), BLKIF_RSP_ERROR, "write barrier with data on a read-only "
            "disk: ERROR");
    grant_end(g);
    {
        struct blkif_request_discard d = { .operation = BLKIF_OP_DISCARD, .sector_number = 0, .nr_sectors = 8 };
        test_eq(blkfront_submit((struct blkif_request *)&d, 30 * NSEC_PER_SEC), BLKIF_RSP_ERROR,
                "discard on a read-only disk: ERROR");
    }
    test_eq(raw(BLKIF_OP_FLUSH_DISKCACHE, 0, 0, 0, 0, 0), BLKIF_RSP_OKAY, "flush without data on a read-only disk");
}

void test_main(void)
{
    char mode[16];
    long rc;

    if (!cmdline_str("mode", mode, sizeof(mode)))
        snprintf(mode, sizeof(mode), "rw");
    test_eq(xenbus_init(), 0, "xenbus_init");
    {
        struct blkfront_opts o = { .persistent = cmdline_u64("persistent", 0) != 0,
                                   .ring_order = (uint32_t)cmdline_u64("ring_order", 0),
                                   .indirect = cmdline_u64("indirect", 0) != 0 };
        rc = blkfront_init_opts(0, &o, &info);
    }
    if (rc)
        test_abort("blkfront_init: %ld", rc);
    printk("blk: xvda connected: %lu sectors, info %#x, ring of %u requests, %u indirect segments%s\n",
           (unsigned long)info.sectors, info.info, info.ring_slots, info.max_indirect,
           info.persistent ? ", persistent grants" : "");
    if (!strncmp(mode, "check", 6))
        mode_check();
    else if (!strncmp(mode, "ro", 3))
        mode_ro();
    else if (!strncmp(mode, "bench", 6))
        mode_bench();
    else if (!strncmp(mode, "rate", 5))
        mode_rate();
    else if (!strncmp(mode, "long", 5))
        mode_long();
    else if (!strncmp(mode, "quota", 6))
        mode_quota();
    else if (!strncmp(mode, "hostile", 8)) {
        mode_hostile();
        return;                                     /* no clean close on a shut ring */
    }
    else
        mode_rw();
    test_eq(blkfront_stray_responses(), 0, "responses that matched no request");
    test_eq(blkfront_close(), 0, "close: the backend follows to Closed");
}
