/*
 * blk test kernel: a virtual block device end to end through pvd's
 * blkback, from a guest (guests/lib/blkfront.c).
 *
 * mode=rw (default), disk xvda of `sectors=` sectors, writable:
 *  - the backend's nodes: sectors, sector-size 512, info 0, flush, discard;
 *  - write, read back and compare across sizes (1 .. 88 sectors, up to
 *    11 segments) and alignments (a buffer starting at every sector of a
 *    page, odd start sectors on the disk);
 *  - flush without data and with data; discard reads back zeros;
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

static uint8_t wbuf[BUF_PAGES * PAGE_SIZE] ALIGNED(PAGE_SIZE);
static uint8_t rbuf[BUF_PAGES * PAGE_SIZE] ALIGNED(PAGE_SIZE);
static struct blkfront_info info;

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
    test_eq(raw(BLKIF_OP_INDIRECT, 1, 0, g, 0, 0), BLKIF_RSP_EOPNOTSUPP, "indirect (not offered): EOPNOTSUPP");
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
static void mode_long(void)
{
    uint64_t end = system_time() + cmdline_u64("seconds", 30) * NSEC_PER_SEC;
    uint32_t n = 0;

    while (system_time() < end) {
        roundtrip(2000 + (n % 64) * 8, (n % 8) * 512, 8, n);
        if (++n % 50 == 0)
            printk("blk: %u round trips\n", n);
    }
    printk("blk: %u round trips in all; %u grant(s) left mapped by a dead backend\n", n,
           grant_stuck());
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

/* mode=bench: sequential writes and reads of 16 MiB in 44 KiB requests
 * (11 segments, the most without indirect descriptors) and 512 random
 * 4 KiB writes and reads over 32 MiB; one line of figures each. */
static uint64_t bench_rng = 88172645463325252ull;
static uint64_t bench_next(void)
{
    bench_rng ^= bench_rng << 13;
    bench_rng ^= bench_rng >> 7;
    bench_rng ^= bench_rng << 17;
    return bench_rng;
}

static void bench_run(const char *what, uint8_t op, uint32_t bytes, uint32_t count, bool random)
{
    uint64_t start = system_time(), ns;

    for (uint32_t i = 0; i < count; i++) {
        uint64_t sector = random ? (bench_next() % (32u * 2048u / 8u)) * 8u : (uint64_t)i * (bytes / 512);
        if (blkfront_io(op, sector, op == BLKIF_OP_READ ? rbuf : wbuf, bytes) != BLKIF_RSP_OKAY)
            test_abort("bench %s: request %u failed", what, i);
    }
    ns = system_time() - start;
    printk("blk-bench: %s bytes=%u count=%u ns=%lu\n", what, bytes, count, (unsigned long)ns);
}

static void mode_bench(void)
{
    fill(wbuf, 11 * PAGE_SIZE, 77);
    bench_run("seq-write", BLKIF_OP_WRITE, 11 * PAGE_SIZE, 16u * 1048576u / (11 * PAGE_SIZE), false);
    bench_run("seq-read", BLKIF_OP_READ, 11 * PAGE_SIZE, 16u * 1048576u / (11 * PAGE_SIZE), false);
    bench_run("rand-write", BLKIF_OP_WRITE, PAGE_SIZE, 512, true);
    bench_run("rand-read", BLKIF_OP_READ, PAGE_SIZE, 512, true);
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
    rc = blkfront_init_persistent(0, cmdline_u64("persistent", 0) != 0, &info);
    if (rc)
        test_abort("blkfront_init: %ld", rc);
    printk("blk: xvda connected: %lu sectors, info %#x\n", (unsigned long)info.sectors, info.info);
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
