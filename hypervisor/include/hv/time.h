/* Monotonic time (arch/x86_64/time.c): the TSC calibrated against the PIT.
 * now_ns() counts nanoseconds since calibration and never goes backwards on
 * a CPU; it returns 0 before time_init(). */
#ifndef HV_TIME_H
#define HV_TIME_H

#include "hv/types.h"

#define NSEC_PER_USEC 1000ULL
#define NSEC_PER_MSEC 1000000ULL
#define NSEC_PER_SEC  1000000000ULL

void time_init(void);
bool time_ready(void);
uint64_t now_ns(void);
uint64_t tsc_khz(void);
uint64_t tsc_to_ns(uint64_t tsc_delta);
/* now_ns() as it was when the TSC read tsc (one reading for both). */
uint64_t tsc_to_system_ns(uint64_t tsc);
void udelay(uint64_t us);

#endif
