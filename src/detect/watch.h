/* The agent's online detection: every metric of every tick, judged.
 *
 * A watch takes the rows of one tick (the batch the collector built, or
 * rows replayed from the database), extracts per-metric samples
 * (extract.h), and for each metric
 *   - feeds its streaming detector (anomaly.h), created at its first
 *     sample, with the watch's parameters, and seeded from the metric's
 *     stored baseline when there is a ready one (anomaly__seed), so that
 *     a restarted agent, or one started on a database where `ksight
 *     baseline learn` ran, judges that metric from its first tick;
 *   - updates its baseline (baseline.h), learnt online with decay, which
 *     may start from one loaded from the database (watch__set_baseline);
 * holds the detections for the correlation window (correlate.h) and then
 * appends one `anomalies` row each to the output batch, with the usual
 * value from the baseline and the explanation in words.  Every
 * params.save_every_ns it appends a snapshot of every baseline to the
 * `baselines` table, so a restarted agent reloads what it learnt.
 *
 * Pure: no I/O, no clock; time comes from the rows and the caller.  Memory
 * is about 19 KiB per metric (the detector's windows, in float, and the
 * baseline), for at most params.max_metrics metrics; samples of metrics
 * past that are counted in stats.metrics_dropped, never silently lost.
 */
#ifndef KS_WATCH_H
#define KS_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "../store/batch.h"
#include "anomaly.h"
#include "baseline.h"

struct watch_params {
	struct anomaly_params anomaly;  /* per-metric detector */
	int64_t window_ns;              /* correlation window (default 10 s) */
	uint32_t min_groups;            /* groups abnormal together for an alert (default 2) */
	double half_life_s;             /* baseline decay (default 3 days) */
	int64_t save_every_ns;          /* baseline snapshots (default 10 min; 0: only watch__finish) */
	int32_t utc_offset_s;           /* for the hours of the time-of-day profile */
	uint32_t max_metrics;           /* default 512 */
	int64_t syscall_slow_ns;        /* slow calls, not counting sleep (default: extract's) */
};

struct watch_stats {
	uint32_t metrics;               /* metrics with a detector or a baseline */
	uint64_t samples;               /* samples judged, since the start */
	uint64_t tick_samples;          /* in the last tick */
	uint64_t detections;            /* per-metric detections */
	uint64_t alerts, notices;       /* anomalies rows written, by severity */
	uint64_t metrics_dropped;       /* samples of metrics past max_metrics */
	uint64_t labels_dropped;        /* rows of disks or interfaces past the label cap */
	uint64_t held_dropped;          /* detections past the correlator's capacity */
	uint64_t ratios_discounted;     /* detections of a ratio that only its denominator explains */
	uint64_t snapshots;             /* baseline snapshots appended */
};

/* How far the detectors are from judging anything (watch__learning).  A
 * detector flags nothing until it has seen `needed` samples (the
 * probation, 512 at 1 s: 8.5 minutes), unless a stored baseline seeded it.
 * Metrics start at different times (a disk appears, the first TCP
 * retransmit), so the progress of the whole is the median metric's:
 * `samples` is the lower median, over the metrics seen so far, of each
 * one's samples capped at `needed`.  The slowest metric would make a late
 * newcomer put the whole agent back to learning; the median moves with
 * the bulk of them, and metrics_learning counts those still short. */
struct watch_learning {
	uint64_t samples;               /* the median metric's, at most needed */
	uint64_t needed;                /* the probation */
	uint32_t metrics_learning;      /* metrics seen with fewer than needed */
	uint32_t metrics_ready;         /* metrics seen with needed or more */
	uint32_t metrics_seeded;        /* of the metrics seen, started from a stored baseline */
	int64_t seeded_from_ns;         /* the newest such baseline's last sample; 0: none */
};

struct watch;

void watch_params_default(struct watch_params *p);

/* Bytes one metric takes once judged: its detector's windows and its
 * baseline (about 19 KiB); params.max_metrics of them at most. */
size_t watch_metric_bytes(void);

/* NULL params: the defaults.  Returns NULL with errno EINVAL for bad
 * detector parameters or a window <= 0, or ENOMEM.  Free with watch__free. */
struct watch *watch__new(const struct watch_params *params);
struct watch *watch__free(struct watch *w);

/* Starts metric `name` from a stored baseline (copied; its decay becomes
 * the watch's).  Returns 0, -E2BIG past max_metrics, -ENOMEM. */
int watch__set_baseline(struct watch *w, const char *name, const char *unit, const struct baseline *b);

/* The baseline of metric name, or NULL. */
const struct baseline *watch__baseline(const struct watch *w, const char *name);

/* One tick: reads the rows of `in` (extract.h's tables), then ends the
 * tick at now_ns as watch__end_tick does, appending to `out` (which may be
 * `in`: only other tables are appended to). */
void watch__tick(struct watch *w, const struct batch *in, struct batch *out, int64_t now_ns);

/* The same in pieces, for rows replayed from the database: each row of a
 * tick (columns in schema order), then the end of the tick, which judges
 * the samples, appends the anomalies whose window has passed and, when
 * due, a baseline snapshot. */
void watch__row(struct watch *w, enum table_id t, const struct batch_value *v);
void watch__end_tick(struct watch *w, int64_t now_ns, struct batch *out);

/* The wall clock stepped by step_ns (negative: back) before the tick that
 * comes next.  The detectors keep their own unbroken timeline: row
 * timestamps and now_ns are taken step_ns earlier from then on (so a step
 * is neither a rate nor a season change, and a step back does not make
 * every sample look older than the last), and the anomalies and baselines
 * rows they write are put back on the wall clock.  Steps add up. */
void watch__clock_step(struct watch *w, int64_t step_ns);

/* Appends every held detection (without waiting for the window) and a
 * baseline snapshot; for the end of a run. */
void watch__finish(struct watch *w, int64_t now_ns, struct batch *out);

void watch__stats(const struct watch *w, struct watch_stats *ret);

/* The learning progress (see struct watch_learning); a sort of at most
 * max_metrics numbers while some metric is still learning. */
void watch__learning(const struct watch *w, struct watch_learning *ret);

/* Appends one `baselines` row for metric (source 'agent' or 'learn'). */
void watch_baseline_row(struct batch *b, int64_t ts_ns, const char *metric, const char *source,
			const char *unit, const struct baseline *bl);

/* Formats value in unit for people ("48 ms", "2.3 GiB", "12%"). */
void watch_format_value(double value, const char *unit, char *buf, size_t size);

#endif
