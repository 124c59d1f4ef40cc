/* Streaming anomaly detector for one metric: one (timestamp, value) sample
 * in, one anomaly score in [0, 1], a decision and the expected range out.
 * Pure and online: no I/O, no globals, time is passed in; 33 KiB per
 * metric, fixed at creation; a bounded cost per sample (about 300 ns here)
 * that does not grow with the length of the stream.
 *
 * The algorithm, and why
 * ----------------------
 * 1. Baseline.  Two models of "normal" run side by side: the values as they
 *    come (local model), and their residual from a time-of-period profile
 *    (seasonal model: per phase bin, the median of that bin's mean over the
 *    last 5 periods; the period is a day unless the caller says otherwise,
 *    the bins as fine as the sample interval, at most 288).  The seasonal
 *    model is used while its typical error, over the last 512 samples, is
 *    under half the local one: series without a daily pattern never pay
 *    for it, and a daily square wave is not an alarm twice a day.  One
 *    odd day does not move a median of five.
 * 2. Robust scale.  Over the last 512 samples of the chosen model, median
 *    and interquartile range rather than mean and standard deviation, which
 *    one spike inflates; and the largest deviations from the median over
 *    the last 8192 samples (deviations rather than values, so that drift
 *    does not set a new record at every step).
 * 3. Two time scales of evidence.
 *    - Point: a value is a spike or a dip when it is at least 3 robust
 *      sigmas from the median AND beyond the largest recent deviation by
 *      point_margin (10%, or 5% for a series) of the recent range.  The
 *      second test keeps spiky-but-normal series quiet (a cron job's spike
 *      as tall as the last one is not news), and lets a level shift alarm
 *      once, at the shift.  While fewer than 8192 samples have been seen,
 *      the range is widened the way the extremes of exponential tails grow,
 *      by ln 8192 / ln n, for values within 6 sigmas, so a young detector
 *      is not jumpier than an old one.
 *    - Pattern: the mean of the robust |z| (clipped at 8) over the last 30
 *      samples is compared with its own long-run mean and variance
 *      (exponentially weighted over pattern_memory samples); the Gaussian
 *      upper tail probability p becomes a score log(p) / log(tail^2), as in
 *      Numenta's anomaly likelihood, so 0.5 is p = pattern_tail.  This
 *      catches what no single value shows: a burst of moderate values, a
 *      changed rhythm, noise that doubles.  Judging recent deviation against
 *      the series' own history of deviations is what lets one threshold
 *      serve quiet and noisy series alike; 30 samples make the mean near
 *      enough Gaussian.
 *    The score is the larger of the two; both reach 0.5 exactly at their
 *    decision boundary, so one threshold moves every path.
 * 4. Adaptation and alarm hygiene.  Nothing is flagged in the first
 *    `probation` samples (the windows fill).  After a detection, further
 *    ones are held back while the incident lasts: for `refractory` samples,
 *    and until `rearm` samples in a row have scored under half the
 *    threshold (a pattern window's worth of ordinary values).  300 samples
 *    after a detection, if the median has moved by more than 3 sigmas, the
 *    level is new and normal: the extremes learnt before and during the
 *    move are forgotten (rebuilt from the last 300 samples), so a later
 *    spike smaller than the shift is still seen.  Slow drift moves the
 *    median with it; only the window's lag (half the slope times 512)
 *    shows in the deviations.
 *
 * Two operating points
 * --------------------
 * The agent judges hundreds of metrics a second and a false alarm pages
 * someone: anomaly_params_default holds back for 512 samples of probation
 * and 300 after a detection, and its pattern score needs p = 1e-5; about
 * 2e-5 false alarms per sample of Gaussian noise.  A person reading one
 * series (`ksight detect`, NAB's cost model where a missed incident costs
 * as much as nine false alarms) gets anomaly_params_series: probation 150,
 * re-armed after 30 ordinary samples, a pattern score of 0.5 at p =
 * 10^-2.5 over a 4000-sample memory and a threshold of 0.6 (so a pattern
 * is flagged at p = 10^-3); about 3e-4 false alarms per sample of Gaussian
 * noise.
 *
 * A plain rolling z-score (NAB's "windowed Gaussian") fails on each of
 * these: one spike inflates its variance, seasonality and spiky-but-normal
 * series look anomalous, and it alarms throughout a shift.  On the 51
 * series of the NAB development set (bench/nab.sh) the series operating
 * point scores 77.1 (ARTime 77.0, HTM 73.0, windowed Gaussian 44.8); with
 * every constant chosen on four of its five groups and the fifth scored,
 * the five held-out scores average 72.5 (docs/detection.md).  The agent's
 * operating point scores 59.7 there: its probation alone hides the windows
 * in the first 512 rows of the short series.  The code never sees a label.
 */
#ifndef KS_ANOMALY_H
#define KS_ANOMALY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The agent's operating point (anomaly_params_default): hundreds of
 * metrics judged every second, where a false alarm pages someone. */
#define ANOMALY_THRESHOLD 0.5
#define ANOMALY_PERIOD_NS (86400LL * 1000000000LL)
#define ANOMALY_PROBATION 512
#define ANOMALY_REFRACTORY 300

/* One series read by a person (anomaly_params_series, `ksight detect`),
 * scored like NAB: a missed incident costs nine false alarms.  Chosen by
 * bench/nab.sh's search on the NAB development set (docs/detection.md). */
#define ANOMALY_SERIES_THRESHOLD 0.6
#define ANOMALY_SERIES_PROBATION 150
#define ANOMALY_SERIES_REARM 30
#define ANOMALY_SERIES_POINT_MARGIN 0.05
#define ANOMALY_SERIES_PATTERN_TAIL 3.16e-3     /* 10^-2.5 */
#define ANOMALY_SERIES_PATTERN_MEMORY 4000

struct anomaly_params {
	double threshold;       /* in (0, 1): score >= threshold is a detection */
	int64_t period_ns;      /* seasonal period; 0 = no seasonal model */
	uint32_t probation;     /* samples seen before anything is flagged */
	uint32_t refractory;    /* samples after a detection with no new one */
	uint32_t rearm;         /* after a detection, samples in a row scoring under half
				 * the threshold before the next one (0: none needed) */
	double point_margin;    /* a spike or dip must clear the recent range by this
				 * share of it (>= 0) */
	double pattern_tail;    /* in (0, 0.5): the upper tail probability of the recent
				 * deviations at which the pattern score reaches 0.5 */
	uint32_t pattern_memory;  /* samples (>= 1) over which the pattern score learns
				   * what recent deviations usually are */
};

/* Which evidence gave the score. */
enum anomaly_kind {
	ANOMALY_NONE,           /* nothing unusual, or not enough data yet */
	ANOMALY_HIGH,           /* one value above anything recent (spike, jump up) */
	ANOMALY_LOW,            /* one value below anything recent (dip, drop) */
	ANOMALY_PATTERN,        /* the last few values together (burst, shift, rhythm) */
};

struct anomaly_result {
	double score;           /* [0, 1]; >= threshold exactly when anomalous */
	bool anomalous;         /* a detection (outside probation and refractory) */
	enum anomaly_kind kind; /* the larger of the two scores' evidence */
	bool seasonal;          /* expected/low/high come from the time-of-period profile */
	double expected;        /* what the model expected here (NAN before any data) */
	double low, high;       /* a single value in [low, high] is not a spike or dip
				   (to 1 part in 10^7: values are judged as float) */
};

struct anomaly;

/* Fills p with the agent's operating point (ANOMALY_THRESHOLD...): about
 * 2e-5 false alarms per sample of Gaussian noise. */
void anomaly_params_default(struct anomaly_params *p);

/* Fills p with the operating point for one series read by a person
 * (ANOMALY_SERIES_...): more sensitive, about 3e-4 false alarms per sample
 * of Gaussian noise, NAB 76.6 on the development set. */
void anomaly_params_series(struct anomaly_params *p);

/* Bytes one detector takes, fixed at creation (about 33 KiB). */
size_t anomaly_bytes(void);

/* A detector for one metric; params NULL means the defaults.  Returns NULL
 * with errno EINVAL for a threshold outside (0, 1), a negative period or
 * another parameter out of its range, or ENOMEM.  The caller owns the detector and frees it with anomaly__free. */
struct anomaly *anomaly__new(const struct anomaly_params *params);

/* Feeds one sample and sets *ret (always, when it returns 0).  Timestamps
 * are ns since the Unix epoch and must not go backwards; value must be
 * finite.  Returns 0, or -EINVAL for a non-finite value and -ERANGE for a
 * timestamp earlier than the previous one (the sample is then ignored). */
int anomaly__update(struct anomaly *a, int64_t timestamp_ns, double value,
		    struct anomaly_result *ret);

/* Starts a fresh detector (no sample yet) from n values of a stored
 * baseline (baseline__seed_values) as if they had been its first samples:
 * they fill the window behind the median, the scale and the recent range,
 * and count towards probation, so with n >= probation single values are
 * judged from the first real sample on.  They have no timestamps: the
 * seasonal model starts with the real samples, and the pattern score
 * (which needs the series' own rhythm) stays off until `probation` real
 * samples have come.  Returns 0, -EBUSY once a sample was fed, or -EINVAL
 * for a value that is not finite (nothing is seeded then). */
int anomaly__seed(struct anomaly *a, const double *values, size_t n);

/* Samples accepted so far, seeded ones included. */
uint64_t anomaly__samples(const struct anomaly *a);

/* Frees a; accepts NULL; returns NULL. */
struct anomaly *anomaly__free(struct anomaly *a);

#endif
