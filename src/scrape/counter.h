/* Cumulative kernel counters -> per-interval deltas and rates.
 *
 * Scrapers of counter sources (/proc/stat, /proc/diskstats, /proc/net/dev,
 * /proc/net/snmp, /proc/vmstat, PSI totals) keep the previous reading and
 * store what changed since.  The rules are the same everywhere:
 *
 *   - no previous reading (first tick, new device): the delta is unknown;
 *   - a counter that went down (device re-created, driver reset, a 32-bit
 *     counter that wrapped) is a reset: the delta is unknown, never negative;
 *   - an interval that is not positive (the wall clock stepped back): the
 *     rate is unknown.
 *
 * "Unknown" is -1 here and SQL NULL in the store.
 */
#ifndef KS_COUNTER_H
#define KS_COUNTER_H

#include <stdint.h>

#include "../store/batch.h"

/* now - before, or -1 when the counter went backwards. */
static inline int64_t counter_delta(uint64_t now, uint64_t before)
{
	return now >= before ? (int64_t)(now - before) : -1;
}

/* Stores v, or NULL when v is negative (unknown or absent). */
static inline void put_int(struct batch *b, int64_t v)
{
	if (v < 0)
		batch__null(b);
	else
		batch__int(b, v);
}

/* Stores delta per second over interval_ns, or NULL when either is unknown. */
static inline void put_rate(struct batch *b, int64_t delta, int64_t interval_ns)
{
	if (delta < 0 || interval_ns <= 0)
		batch__null(b);
	else
		batch__real(b, (double)delta * 1e9 / (double)interval_ns);
}

/* Stores num / den * scale, or NULL when num is unknown or den is not
 * positive (a ratio over nothing, such as await with no completed I/O). */
static inline void put_ratio(struct batch *b, int64_t num, int64_t den, double scale)
{
	if (num < 0 || den <= 0)
		batch__null(b);
	else
		batch__real(b, (double)num / (double)den * scale);
}

#endif
