/* Feature engineering over one metric's samples: pure, time passed in.
 *
 * The pieces the extractor (extract.h) and the feature export use:
 *   - counter_rate: a cumulative counter to a per-second rate, with the
 *     reset rules of src/scrape/counter.h (no previous reading, a counter
 *     that went down or a clock that stepped back: unknown, never negative);
 *   - trend: the least-squares slope per second over a sliding time span
 *     (memory available going down steadily is a trend before it is a level);
 *   - rolling: mean, median, median absolute deviation and percentiles over
 *     the last N samples, exact (a sorted copy of the window; O(N) per
 *     sample in the worst case, a few dozen entries moved on typical data).
 */
#ifndef KS_FEATURES_H
#define KS_FEATURES_H

#include <stdbool.h>
#include <stdint.h>

struct counter_rate {
	uint64_t last;
	int64_t last_ns;
	bool seen;
};

/* Feeds one reading of a cumulative counter taken at now_ns.  Returns true
 * and sets *ret to the rate per second since the previous reading, or false
 * when it is unknown (first reading, reset, clock step). */
bool counter_rate__update(struct counter_rate *c, uint64_t value, int64_t now_ns, double *ret);

#define TREND_MAX 64

/* Slope of the samples of the last span_ns (at most TREND_MAX samples). */
struct trend {
	int64_t span_ns;
	int64_t ts[TREND_MAX];
	double v[TREND_MAX];
	uint32_t head, n;
};

void trend__init(struct trend *t, int64_t span_ns);

/* Adds a sample; returns true and sets *ret_per_sec to the least-squares
 * slope (units per second) once the samples kept span at least half of
 * span_ns, else false. */
bool trend__update(struct trend *t, int64_t ts_ns, double v, double *ret_per_sec);

struct rolling_stats {
	uint32_t n;             /* samples in the window (<= its size) */
	double mean, median, mad, p05, p95, min, max;
};

struct rolling;

/* A window of the last `size` samples (size >= 1).  NULL on ENOMEM.  The
 * caller owns it and frees it with rolling__free. */
struct rolling *rolling__new(uint32_t size);
struct rolling *rolling__free(struct rolling *r);

/* Adds v (finite) and fills *ret with the window's statistics, v included. */
void rolling__update(struct rolling *r, double v, struct rolling_stats *ret);

/* Exact statistics of n values (n >= 1), sorted in place. */
void stats_of(double *values, uint32_t n, struct rolling_stats *ret);

/* The p-quantile (0 <= p <= 1, linear interpolation) of sorted[0..n-1]. */
double quantile_sorted(const double *sorted, uint32_t n, double p);

#endif
