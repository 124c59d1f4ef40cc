/* Clocks.  Every stored timestamp is ns since the Unix epoch; BPF programs
 * read CLOCK_MONOTONIC (bpf_ktime_get_ns), so user space converts with an
 * offset measured here and re-checked every tick.
 *
 * Timestamps are wall clock; durations and rates use CLOCK_MONOTONIC, which
 * an NTP step or `date -s` does not move.  struct clock_steps notices when
 * the wall clock was stepped, so that the step is logged and counted.
 *
 * For tests only: when $KSIGHT_TEST_CLOCK_FILE names a file, the wall
 * clock this module reads is CLOCK_REALTIME plus the whole seconds written
 * in it (re-read at every clock_steps__check(), so a test steps the clock
 * by rewriting the file, without touching the host's clock).  Nothing else
 * reads that variable.
 */
#ifndef KS_CLOCK_H
#define KS_CLOCK_H

#include <stdbool.h>
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

/* A jump of the wall clock against the monotonic one larger than NTP's
 * slewing can make (500 ppm of the time since the last check) plus this
 * margin is a step. */
#define CLOCK_STEP_MIN_NS (50 * NSEC_PER_MSEC)

/* What one owner (the collector) has seen of wall-clock steps.  Zero it,
 * then call clock_steps__check() once a tick. */
struct clock_steps {
	int64_t offset_ns;        /* CLOCK_REALTIME - CLOCK_MONOTONIC at the last check */
	int64_t checked_mono_ns;  /* when that was (0: never) */
	uint64_t steps;           /* steps seen */
	int64_t total_ns;         /* their sum (positive: the clock went forward) */
	int64_t last_step_ns;     /* the latest step */
	int64_t last_at_ns;       /* wall clock right after it */
};

/* Re-measures the offset and returns the step since the last check (ns,
 * negative when the clock went back), or 0 when the clock only ran (or
 * slewed).  A step is added to the counters in s.  Reads the test clock
 * file when $KSIGHT_TEST_CLOCK_FILE is set. */
int64_t clock_steps__check(struct clock_steps *s);

#endif
