/* Anomalies in words: the one line a person reads in the `anomalies` table,
 * the dashboard and the report ("read p95 on vda is 22 ms, 10x its usual
 * 2.1 ms").  Pure: no I/O, no state.
 *
 * Numbers are rounded to the metric's resolution before they are shown or
 * compared (a baseline's 1e-09 is 0, never -0.0).  A usual value that is
 * negligible for its unit (under 1 KiB/s, 0.5/s, 0.5%, 1 µs...) gets no
 * multiplier, which would only measure how small the baseline is: the line
 * says "usually idle" for throughput and "usually 0/s", "usually 0%" for
 * the others.
 */
#ifndef KS_EXPLAIN_H
#define KS_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>

/* What one detection says about its metric. */
struct explain_input {
	const char *what;       /* the metric in words: "write throughput on vda" */
	const char *unit;       /* extract.h's units: us, ms, pct, per_s, B/s, kB, kB/s, "" */
	double value;           /* the value flagged */
	double usual;           /* the baseline's usual value, or NAN when it has none yet */
	bool hourly;            /* usual is this hour's */
	double expected;        /* the detector's expectation (used when usual is NAN) */
	double low, high;       /* the detector's range for a single value */
	int kind;               /* enum anomaly_kind */
};

/* The smallest difference that means something for unit: 1 µs, 0.1%, 1 B/s,
 * 0.01/s... */
double explain_resolution(const char *unit);

/* value rounded to the resolution of unit, with no negative zero. */
double explain_round(double value, const char *unit);

/* True when value is so small for unit that it reads as idle or 0. */
bool explain_negligible(double value, const char *unit);

/* Formats value in unit for people ("48 ms", "2.3 GiB", "12%", "0/s"),
 * rounded to the unit's resolution; "unknown" when not finite. */
void explain_format_value(double value, const char *unit, char *buf, size_t size);

/* Writes the detection's line into buf (size bytes, always terminated),
 * with no correlation part: e.g.
 *   "write throughput on vda is 817 MiB/s, usually idle"
 *   "read p95 on vda is 22 ms, 10x its usual 2.1 ms"
 *   "available memory is 1.0 GiB, 25% of its usual 4.0 GiB for this hour"
 *   "utilisation of vda is 48% (usually 40%), above anything recent (up to 45%)"
 * The range clause is added only when the comparison with the usual value
 * does not show by itself why the value was flagged. */
void explain_detection(const struct explain_input *in, char *buf, size_t size);

#endif
