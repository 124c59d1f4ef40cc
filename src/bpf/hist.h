/* Log-linear latency histograms, shared by kernel and user side.
 *
 * Values (ns) below 16 have a bucket each; above, every power of two is split
 * into HIST_SUB = 8 linear sub-buckets, so a bucket is at most 1/8 of its
 * lower bound wide.  Percentiles interpolated inside a bucket are within a
 * few percent of the true value (bcc's log2 histograms can be off by 2x).
 * HIST_BUCKETS covers up to 2^34 ns (17 s); slower values land in the last
 * bucket (their exact values are in the event tables).
 */
#ifndef KS_HIST_H
#define KS_HIST_H

#ifndef __bpf__
#include <linux/types.h>
#include <stdint.h>      /* also brings __always_inline */
#endif

#define HIST_SUB_BITS 3
#define HIST_SUB (1 << HIST_SUB_BITS)
#define HIST_MAX_LOG2 34
#define HIST_BUCKETS ((HIST_MAX_LOG2 - HIST_SUB_BITS + 1) * HIST_SUB)   /* 256 */

static __always_inline __u32 hist_log2(__u64 v)
{
	__u32 r = 0, shift;

	shift = (v > 0xFFFFFFFFULL) << 5; v >>= shift; r |= shift;
	shift = (v > 0xFFFF) << 4; v >>= shift; r |= shift;
	shift = (v > 0xFF) << 3; v >>= shift; r |= shift;
	shift = (v > 0xF) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	return r | (__u32)(v >> 1);
}

static __always_inline __u32 hist_bucket(__u64 v)
{
	__u32 e, b;

	if (v < 2 * HIST_SUB)
		return (__u32)v;
	e = hist_log2(v);
	b = (e - HIST_SUB_BITS + 1) * HIST_SUB + (__u32)((v >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1));
	return b < HIST_BUCKETS ? b : HIST_BUCKETS - 1;
}

#ifndef __bpf__
#include <stdint.h>

/* Smallest value that falls in bucket b. */
static inline uint64_t hist_lower(uint32_t b)
{
	uint32_t e;

	if (b < 2 * HIST_SUB)
		return b;
	e = b / HIST_SUB + HIST_SUB_BITS - 1;
	return (uint64_t)(HIST_SUB + b % HIST_SUB) << (e - HIST_SUB_BITS);
}

/* One past the largest value in bucket b. */
static inline uint64_t hist_upper(uint32_t b)
{
	return b + 1 < HIST_BUCKETS ? hist_lower(b + 1) : hist_lower(b) * 2;
}

/* The q-quantile (0 < q <= 1) of counts[HIST_BUCKETS] with total n,
 * interpolated linearly inside its bucket; 0 when n is 0. */
static inline double hist_quantile(const uint64_t *counts, uint64_t n, double q)
{
	double rank = q * (double)n, seen = 0;

	if (n == 0)
		return 0;
	for (uint32_t b = 0; b < HIST_BUCKETS; b++) {
		if (!counts[b])
			continue;
		if (seen + (double)counts[b] >= rank) {
			double frac = (rank - seen) / (double)counts[b];
			double lo = (double)hist_lower(b), hi = (double)hist_upper(b);

			return b < 2 * HIST_SUB ? lo : lo + frac * (hi - lo);
		}
		seen += (double)counts[b];
	}
	return (double)hist_lower(HIST_BUCKETS - 1);
}

/* p50, p95 and p99 of counts into ret[3].  Interpolation cannot know where
 * in a bucket the values sit, so the exact maximum (when known, else 0)
 * bounds them. */
static inline void hist_percentiles(const uint64_t *counts, uint64_t n, uint64_t max, double ret[3])
{
	static const double quantiles[3] = { 0.50, 0.95, 0.99 };

	for (int q = 0; q < 3; q++) {
		ret[q] = hist_quantile(counts, n, quantiles[q]);
		if (max && ret[q] > (double)max)
			ret[q] = (double)max;
	}
}
#endif

#endif
