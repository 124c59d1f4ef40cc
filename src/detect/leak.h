/* Memory-growth (leak) detector: a pure function of (time, bytes) samples.
 *
 * One struct leak_series per process.  The caller feeds it samples of the
 * process's memory footprint (RSS + swap) with leak_series__add() and asks
 * for a verdict with leak_series__verdict(); time is always passed in, so
 * the detector runs the same on a live kernel, a replay or a synthetic
 * series.  Memory per series is fixed (LEAK_SERIES_BYTES, no allocation
 * after leak_series__new()).
 *
 * How it decides (details in leak.c):
 *  - samples are folded into bins of params.resolution_ns aligned on the
 *    series origin (the tracer's sampling schedule); a bin stands for the
 *    footprint at its end, and bins without samples carry the value before.
 *    A fine ring keeps the latest bins, a coarse ring one point per
 *    LEAK_COARSE_FACTOR bins, so slow leaks and long step periods are seen;
 *  - growth counts only when it is retained: the floor of the series (for
 *    each bin, the lowest value from then until now) must rise, so a garbage
 *    collector's sawtooth or a spike that is freed adds nothing, and the
 *    level must rise above the old peaks;
 *  - a leak needs at least three bins of retained growth, a significant
 *    Mann-Kendall trend, growth well above the noise, clean growth while
 *    the evidence is short, and growth still going on; a cache filling up
 *    (shrinking increments) is not one;
 *  - the pattern comes from the shape of the per-bin increments: growth
 *    speeding up (accelerating), runs of growth separated by flat pauses
 *    (oscillating), rare one-bin jumps with long pauses (burst), otherwise
 *    linear.
 *  - patience: leak-shaped growth is first only *watched* (a low-confidence
 *    verdict, not a leak).  It becomes a leak once it has outlasted its
 *    patience with growth after that, judged afresh (a cache that filled
 *    and stopped fails then and the watch ends):
 *      - a process is *settled* when it is at least params.warmup_ns old
 *        and its footprint was flat (nothing retained added) for
 *        params.warmup_ns before the growth began.  Growth from a settled
 *        footprint at r MiB/s waits params.patience_ns x r^params.patience_exp,
 *        at most params.warmup_ns (the defaults: 1 s at 1 MiB/s, 3 s at
 *        1.2 MiB/s, the whole 25 s horizon from 1.7 MiB/s on): slow steady growth
 *        is what leaks look like, a fast step in a settled process is more
 *        often a fill that stops, and a leak fast enough to matter soon is
 *        caught by urgency;
 *      - any other growth (in a process's first warmup_ns, or soon after an
 *        earlier step) is a warm-up until it outlasts params.warmup_ns.
 *    Urgency overrides patience, but that is the caller's call: a watched
 *    process that would reach its limit before patience_end_ns is a
 *    suspect (leak_suspect.h);
 *  - accelerating growth: a quadratic fit that leaves much less than a
 *    line does, significantly, with a rate that grows params.accel_ratio
 *    times over the segment; once shown it stays accelerating while the
 *    curvature stays significant.
 * Once declared, a suspicion (or watch) lasts until growth has stopped for
 * max(params.quiet_ns, 2.5 x the longest pause seen between new highs) or
 * half of the growth has been freed; only growth after that opens a new
 * one.
 *
 * What it cannot know: slow growth from a settled footprint (up to about
 * 1.5 MiB/s) that lasts longer than the evidence needs (about 4 s) before
 * it levels off or is freed looks like a leak until then, and is resolved
 * afterwards; three steps of growth close together look like the runs of
 * an oscillating leak.
 */
#ifndef KS_LEAK_H
#define KS_LEAK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum leak_pattern {
	LEAK_NONE,
	LEAK_LINEAR,
	LEAK_ACCELERATING,
	LEAK_OSCILLATING,      /* growth in runs separated by pauses, net upward */
	LEAK_BURST,            /* rare large jumps, net upward */
	LEAK_PATTERN_COUNT
};

/* "none", "linear", "accelerating", "oscillating", "burst". */
const char *leak_pattern_name(enum leak_pattern p);

struct leak_params {
	int64_t resolution_ns;      /* bin width: the sampling interval */
	uint64_t step_bytes;        /* smallest change of a bin that counts as growth */
	uint64_t min_growth_bytes;  /* retained growth needed before a leak is declared */
	double min_rate;            /* bytes/s; slower growth is not reported */
	int64_t quiet_ns;           /* no new high for this long ends a suspicion */
	double z_min;               /* Mann-Kendall z needed for a trend */
	int64_t warmup_ns;          /* warm-up horizon (0: every process is settled) */
	int64_t patience_ns;        /* patience for growth from a settled footprint at 1 MiB/s, ... */
	double patience_exp;        /* ... growing as the rate to this power (up to warmup_ns) */
	double accel_ratio;         /* accelerating: the rate grows this many times over the segment */
	double accel_fit;           /* ... and a quadratic leaves at most this share of a line's residual */
};

/* Defaults: 1 s bins, 128 KiB step, 1 MiB growth, 1 KiB/s, 30 s quiet,
 * z 1.64 (one-sided p < 0.05), and the constants chosen on the training
 * seeds of bench/leak (docs/performance.md). */
void leak_params_default(struct leak_params *p);

struct leak_verdict {
	bool leak;                  /* a suspect: leak-shaped growth that outlasted its patience */
	bool watching;              /* leak-shaped growth still within its patience (never with leak) */
	double confidence;          /* [0, 1]; >= 0.5 exactly when leak (watching: below) */
	double evidence;            /* [0.5, 1] when leak or watching: what the shape alone says */
	enum leak_pattern pattern;  /* LEAK_NONE unless leak (or resolved: the last one) */
	double rate;                /* bytes/s: net growth rate (current rate when accelerating) */
	double accel;               /* bytes/s^2 when accelerating, else 0 */
	int64_t bytes;              /* latest value fed */
	int64_t growth_start_ns;    /* when the growth under suspicion began (series clock) */
	int64_t detected_ns;        /* when the suspicion (or watch) was declared (series clock) */
	int64_t patience_end_ns;    /* watching: when its patience ends, at the earliest (series clock) */
	uint32_t samples;           /* samples fed since the origin */
};

#define LEAK_FINE_BINS 32
#define LEAK_COARSE_BINS 32
#define LEAK_COARSE_FACTOR 8

struct leak_point {
	int64_t t;                  /* time of the last sample in the bin (bin start if carried) */
	int64_t v;                  /* last value in the bin */
	int64_t lo;                 /* coarse: lowest bin value in it (fine: = v) */
	int64_t hi;                 /* highest sample in it */
};

struct leak_ring {
	struct leak_point p[LEAK_FINE_BINS > LEAK_COARSE_BINS ? LEAK_FINE_BINS : LEAK_COARSE_BINS];
	uint32_t head;              /* index of the oldest point */
	uint32_t len;
};

/* Opaque in spirit: fields are public only so callers can embed it. */
struct leak_series {
	const struct leak_params *params;
	int64_t origin_ns;
	int64_t bin;                /* index of the open bin */
	struct leak_point open;     /* the open bin */
	bool open_has_sample;
	int64_t now_ns;             /* latest time seen (sample or advance) */
	struct leak_ring fine, coarse;
	struct leak_point acc;      /* coarse point being built */
	uint32_t acc_bins;
	uint32_t samples;
	bool dirty;                 /* fed since the last evaluation */
	int64_t born_ns;            /* when the process's life began (series clock) */
	/* the suspicion */
	struct leak_verdict verdict;
	bool settled;               /* the growth under watch began from a settled footprint */
	int64_t anchor_ns;          /* its patience counts from here */
	double watch_rate;          /* the fastest rate seen while watched: sets the patience */
	int64_t first_anchor_ns;    /* where the watched growth's first episode began */
	int64_t last_anchor_ns;     /* the latest episode's start seen */
	bool first_settled;         /* the first episode began from a settled footprint */
	int episodes;               /* episodes of growth seen while watched */
	int64_t floor_at_start;     /* level when the growth began */
	int64_t high;               /* highest value since then */
	int64_t last_high_ns;
	int64_t max_gap_ns;         /* longest time between new highs */
	int64_t resolved_ns;        /* when the last suspicion ended (INT64_MIN: never) */
	uint8_t pending_pattern;    /* pattern change waiting for a second opinion */
	int64_t assessed_bin;       /* bin of the latest full analysis */
	int64_t assessed_ns;        /* and its time */
};

#define LEAK_SERIES_BYTES sizeof(struct leak_series)

/* Starts a series whose bins are aligned on origin_ns, with `base` as the
 * value just before the origin (the footprint when the process was first
 * seen; it is the baseline growth is measured from).  born_ns is when the
 * process's life began (its start, or its exec): a process born long
 * before it was first seen counts as flat until then.  params must outlive
 * the series.  Returns NULL when out of memory. */
struct leak_series *leak_series__new(const struct leak_params *params, int64_t origin_ns, int64_t born_ns,
				     int64_t base);

/* Feeds one sample.  Samples must come in time order; one older than the
 * open bin is folded into the newest closed bin or ignored. */
void leak_series__add(struct leak_series *s, int64_t time_ns, int64_t bytes);

/* Moves the series clock to now_ns: bins that ended without samples are
 * closed with the last value (callers do this every tick for series under
 * suspicion, so a leak that stops is resolved on time). */
void leak_series__advance(struct leak_series *s, int64_t now_ns);

/* Evaluates what was fed (cheap when nothing changed) and fills *ret. */
void leak_series__verdict(struct leak_series *s, struct leak_verdict *ret);

/* Makes the next verdict analyse the windows again even if it is not due
 * (a suspect's rate is refreshed only every few bins): for a last word. */
void leak_series__refresh(struct leak_series *s);

/* Accepts NULL; returns NULL. */
struct leak_series *leak_series__free(struct leak_series *s);

/* Seconds until `used` grows to `limit` at the verdict's rate (and
 * acceleration when accelerating); 0 when already there; a negative value
 * when the footprint is not growing. */
double leak_time_to_limit(const struct leak_verdict *v, double used, double limit);

#endif
