/* Per-metric baselines: what is usual for this metric on this host, overall
 * and per hour of the day.  Pure: no I/O, time passed in.
 *
 * Two ways to get one:
 *   - baseline__from_values(): exact statistics of a stored capture
 *     (`ksight baseline learn`): mean, sd, median, MAD, 5th and 95th
 *     percentiles, extremes, and per local hour the median and 95th
 *     percentile.
 *   - baseline__update(): learnt online by the agent, one sample at a time,
 *     with exponential decay (half-life params.half_life_s), so that it
 *     follows the host as it changes and a fresh install becomes useful on
 *     its own.  The first BASELINE_EXACT samples are kept and their exact
 *     statistics start the estimators; after that the mean and variance
 *     are exponentially weighted, and the median, MAD and percentiles
 *     follow stochastic-approximation quantile estimators (each sample
 *     nudges the estimate up by p * step or down by (1 - p) * step, which
 *     balances at the p-quantile; the step is a small fraction of the MAD,
 *     so estimates settle within a few percent of it).  A baseline loaded
 *     from the database (baseline__set) continues the same way.
 *
 * The time-of-day profile ("usual for this hour") counts only when at
 * least BASELINE_PROFILE_HOURS hours of the day have BASELINE_PROFILE_MIN
 * samples or more: a capture shorter than that has no profile.  Hours are
 * local time: the caller passes its UTC offset.
 */
#ifndef KS_BASELINE_H
#define KS_BASELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BASELINE_EXACT 64            /* samples before the online estimators start */
#define BASELINE_MIN_SAMPLES 300     /* a baseline with fewer samples is not used */
#define BASELINE_PROFILE_MIN 300     /* samples for an hour of the profile to count */
#define BASELINE_PROFILE_HOURS 3     /* hours with data for a profile to exist */
#define BASELINE_HALF_LIFE_S (3.0 * 86400)

struct baseline_hour {
	double n, median, p95;
};

struct baseline {
	double n;                       /* samples (agent: decayed weight) */
	double mean, var, median, mad, p05, p95, min, max;
	int64_t from_ns, to_ns;         /* samples covered */
	double half_life_s;             /* 0: not decayed (learnt from a capture) */
	int32_t utc_offset_s;           /* local time = UTC + this */
	struct baseline_hour hours[24];
	/* online state */
	uint32_t nexact;
	double exact[BASELINE_EXACT];
	int64_t exact_ts[BASELINE_EXACT];
};

/* An empty baseline learnt online with the given half-life (> 0). */
void baseline__init(struct baseline *b, double half_life_s, int32_t utc_offset_s);

/* Feeds one finite sample at ts_ns (not earlier than the previous one). */
void baseline__update(struct baseline *b, int64_t ts_ns, double v);

/* Exact statistics of n >= 1 samples (values reordered in place; ts
 * untouched and used for the hours).  b->half_life_s is 0. */
void baseline__from_values(struct baseline *b, double *values, const int64_t *ts, size_t n,
			   int32_t utc_offset_s);

/* Fills out[0..n) with n >= 2 values spread like b's distribution, for
 * seeding a detector (anomaly__seed): the quantiles at k / (n - 1), read
 * off a piecewise-linear curve through min, p05, median - MAD, median,
 * median + MAD, p95 and max (so the extremes are among them), in an order
 * that spreads every stretch of them over the whole range.  Returns n, or
 * -EINVAL when b is not ready (baseline__ready) or a statistic is not
 * finite. */
int baseline__seed_values(const struct baseline *b, double *out, size_t n);

/* Local hour (0-23) of ts_ns. */
int baseline_hour_of(int64_t ts_ns, int32_t utc_offset_s);

/* True when the baseline has enough samples to be used. */
bool baseline__ready(const struct baseline *b);

/* True when the time-of-day profile counts (see above). */
bool baseline__has_profile(const struct baseline *b);

/* The usual value at ts_ns: the hour's median when the profile counts and
 * that hour has data, else the overall median; NAN when not ready.  Sets
 * *ret_hourly (may be NULL) to whether it came from the profile. */
double baseline__usual(const struct baseline *b, int64_t ts_ns, bool *ret_hourly);

/* The profile as JSON [[hour, samples, median, p95], ...] (hours with
 * samples only) into out (size bytes); "" when there is none.  Returns the
 * length, or -ENOSPC when out is too small. */
int baseline__profile_json(const struct baseline *b, char *out, size_t size);

/* Parses what baseline__profile_json wrote into b->hours.  Returns 0 or
 * -EINVAL (b->hours then all zero) for anything else, such as an entry cut
 * short, an hour outside 0-23, a negative sample count or a value that is
 * not finite. */
int baseline__profile_parse(struct baseline *b, const char *json);

#endif
