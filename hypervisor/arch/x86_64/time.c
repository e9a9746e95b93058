/* Monotonic clock: the TSC, calibrated once against PIT channel 2.
 *
 * Owns: the TSC frequency and the TSC-to-nanosecond scale. Written once on
 * the boot CPU before interrupts are enabled; read-only afterwards.
 * Calibration: three 50 ms PIT one-shot windows, the median kept. */
#include "asm/cpu.h"
#include "hv/printk.h"
#include "hv/time.h"

#define PIT_HZ          1193182ULL
#define PIT_CH2         0x42
#define PIT_CMD         0x43
#define PORT_B          0x61
#define CAL_MS          50

static uint64_t tsc_hz_k;       /* TSC kHz */
static uint64_t tsc_origin;
static uint64_t ns_mul;         /* ns = (tsc * ns_mul) >> 32 */
static bool ready;

static uint64_t pit_measure_tsc(void)
{
    uint16_t count = (uint16_t)(PIT_HZ * CAL_MS / 1000);

    /* Gate channel 2 on, speaker off; mode 0 (interrupt on terminal count). */
    outb(PORT_B, (inb(PORT_B) & ~0x02) | 0x01);
    outb(PIT_CMD, 0xb0);
    outb(PIT_CH2, count & 0xff);
    outb(PIT_CH2, count >> 8);
    uint64_t t0 = rdtsc();
    uint64_t spins = 0;
    while (!(inb(PORT_B) & 0x20)) {
        if (++spins > 1ULL << 32)
            panic("time: PIT channel 2 never reached terminal count");
    }
    return rdtsc() - t0;
}

void time_init(void)
{
    uint64_t m[3];

    for (int i = 0; i < 3; i++)
        m[i] = pit_measure_tsc();
    /* median of three */
    uint64_t lo = MIN(m[0], MIN(m[1], m[2])), hi = MAX(m[0], MAX(m[1], m[2]));
    uint64_t med = m[0] + m[1] + m[2] - lo - hi;

    tsc_hz_k = med / CAL_MS;
    if (tsc_hz_k < 1000)
        panic("time: TSC runs at %lu kHz, too slow to keep time", tsc_hz_k);
    ns_mul = (1000000ULL << 32) / tsc_hz_k;
    tsc_origin = rdtsc();
    ready = true;
    pr_info("time: TSC %lu.%03lu MHz (calibrated against the PIT, spread %lu ticks)",
            tsc_hz_k / 1000, tsc_hz_k % 1000, hi - lo);
}

bool time_ready(void)
{
    return ready;
}

uint64_t tsc_khz(void)
{
    return tsc_hz_k;
}

uint64_t tsc_to_ns(uint64_t d)
{
    return (uint64_t)(((unsigned __int128)d * ns_mul) >> 32);
}

uint64_t tsc_to_system_ns(uint64_t tsc)
{
    return ready ? tsc_to_ns(tsc - tsc_origin) : 0;
}

uint64_t now_ns(void)
{
    if (!ready)
        return 0;
    return tsc_to_ns(rdtsc() - tsc_origin);
}

void udelay(uint64_t us)
{
    uint64_t end = rdtsc() + us * tsc_hz_k / 1000;
    while ((int64_t)(rdtsc() - end) < 0)
        cpu_relax();
}
