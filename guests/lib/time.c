/*
 * Guest system time for the PV test kernels: this vCPU's vcpu_time_info
 * read with the version protocol (odd or changed version: retry) and
 * extrapolated with the TSC: ns = system_time + scale(tsc - tsc_timestamp)
 * where scale(d) = ((shift >= 0 ? d << shift : d >> -shift) * mul) >> 32.
 */
#include "evtime.h"

void time_snapshot(struct time_snapshot *s)
{
    const volatile struct vcpu_time_info *t = &vcpu_info_self()->time;
    uint32_t v;

    do {
        v = t->version;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        s->tsc_timestamp = t->tsc_timestamp;
        s->system_time = t->system_time;
        s->mul = t->tsc_to_system_mul;
        s->shift = t->tsc_shift;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
    } while ((v & 1) || v != t->version);
    if (!s->mul)
        test_abort("vcpu_time_info of vCPU %u has tsc_to_system_mul 0",
                   this_vcpu_id());
}

static uint64_t scale(uint64_t ticks, uint32_t mul, int8_t shift)
{
    if (shift >= 0)
        ticks <<= shift;
    else
        ticks >>= -shift;
    return (uint64_t)(((unsigned __int128)ticks * mul) >> 32);
}

uint64_t system_time(void)
{
    const volatile struct vcpu_time_info *t = &vcpu_info_self()->time;
    uint64_t ts, st, now;
    uint32_t v, mul;
    int8_t shift;

    do {
        v = t->version;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        ts = t->tsc_timestamp;
        st = t->system_time;
        mul = t->tsc_to_system_mul;
        shift = t->tsc_shift;
        now = rdtsc();
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
    } while ((v & 1) || v != t->version);
    /* A TSC behind the snapshot (another CPU's stamp) counts as no time. */
    return st + (now > ts ? scale(now - ts, mul, shift) : 0);
}

uint64_t tsc_to_ns(uint64_t ticks)
{
    struct time_snapshot s;

    time_snapshot(&s);
    return scale(ticks, s.mul, s.shift);
}

uint64_t ns_to_tsc(uint64_t ns)
{
    struct time_snapshot s;
    uint64_t t;

    time_snapshot(&s);
    /* (ns << 32) / mul without 128-bit division: r < mul < 2^32. */
    t = ((ns / s.mul) << 32) + (((ns % s.mul) << 32) / s.mul);
    return s.shift >= 0 ? t >> s.shift : t << -s.shift;
}

uint64_t tsc_khz(void)
{
    return ns_to_tsc(NSEC_PER_MSEC);
}
