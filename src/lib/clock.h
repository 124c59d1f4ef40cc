/* Clocks.  Every stored timestamp is ns since the Unix epoch; BPF programs
 * read CLOCK_MONOTONIC (bpf_ktime_get_ns), so user space converts with an
 * offset measured here and re-checked every tick.
 */
#ifndef KS_CLOCK_H
#define KS_CLOCK_H

#include <stdint.h>

#define NSEC_PER_SEC  1000000000LL
#define NSEC_PER_MSEC 1000000LL
#define NSEC_PER_USEC 1000LL

int64_t clock_real_ns(void);
int64_t clock_mono_ns(void);

/* Measures CLOCK_REALTIME - CLOCK_MONOTONIC.  Takes the tightest of several
 * monotonic/realtime/monotonic sandwiches, so the error is about the cost of
 * one clock read (tens of ns). */
int64_t clock_mono_to_real_offset(void);

#endif
