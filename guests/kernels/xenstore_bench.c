/*
 * xenstore_bench kernel: xenstore round trips from a guest, for
 * bench/xenstore_bench.sh. For `seconds=` (default 5) it times, one at a
 * time, a READ, a WRITE and a transaction (start, write, commit), and
 * prints the median and 99th percentile of each (microseconds) and the
 * requests per second it got:
 *   xenstore_bench: read p50 U p99 U write p50 U p99 U tx p50 U p99 U req/s R
 */
#include "evtime.h"
#include "xenbus.h"

const char test_name[] = "xenstore_bench";

#define SAMPLES 4096

static uint32_t t_read[SAMPLES], t_write[SAMPLES], t_tx[SAMPLES];

static void sort(uint32_t *a, unsigned n)
{
    for (unsigned i = 1; i < n; i++) {
        uint32_t v = a[i];
        unsigned j = i;
        for (; j && a[j - 1] > v; j--)
            a[j] = a[j - 1];
        a[j] = v;
    }
}

static uint32_t pct(uint32_t *a, unsigned n, unsigned p)
{
    return n ? a[(n - 1) * p / 100] : 0;
}

static uint32_t since_us(uint64_t t0)
{
    return (uint32_t)((system_time() - t0) / NSEC_PER_USEC);
}

void test_main(void)
{
    uint64_t start = system_time(), end = start + cmdline_u64("seconds", 5) * NSEC_PER_SEC;
    unsigned n = 0, requests = 0;
    char v[32];

    if (!test_ok(xenbus_init() == 0, "xenbus_init"))
        return;
    test_eq(xenbus_write(0, "data/b", "0"), 0, "first write");
    while (system_time() < end && n < SAMPLES) {
        uint64_t t0 = system_time();
        uint32_t tx;
        test_eq(xenbus_read(0, "data/b", v, sizeof(v)), 0, "read");
        t_read[n] = since_us(t0);
        t0 = system_time();
        test_eq(xenbus_write(0, "data/b", "1"), 0, "write");
        t_write[n] = since_us(t0);
        t0 = system_time();
        test_eq(xenbus_transaction_start(&tx), 0, "tx start");
        test_eq(xenbus_write(tx, "data/b", "2"), 0, "tx write");
        test_eq(xenbus_transaction_end(tx, true), 0, "tx commit");
        t_tx[n] = since_us(t0);
        requests += 5;
        n++;
        if (test_failures())
            return;
    }
    {
        uint64_t us = (system_time() - start) / NSEC_PER_USEC;
        sort(t_read, n);
        sort(t_write, n);
        sort(t_tx, n);
        printk("xenstore_bench: read p50 %u p99 %u write p50 %u p99 %u tx p50 %u p99 %u req/s %lu\n",
               pct(t_read, n, 50), pct(t_read, n, 99), pct(t_write, n, 50), pct(t_write, n, 99),
               pct(t_tx, n, 50), pct(t_tx, n, 99), (unsigned long)(us ? requests * 1000000ull / us : 0));
    }
}
