/* Streaming anomaly detector (see anomaly.h for the algorithm and why).
 *
 * Per sample and model the cost is two branch-free binary searches and one
 * memmove over the part of a 512-entry sorted window between the leaving
 * and the arriving value's ranks (a few dozen entries on typical data; the
 * whole 4 KiB on a ramp, where it still costs under 250 ns a sample); plus,
 * once per 64 samples, a pass over 128 block extremes; plus one erfc and
 * one log.  About 290 ns in all on the NAB series (bench/nab.sh),
 * independent of the stream length.
 */
#include "anomaly.h"

#include <assert.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW 512              /* samples behind the median and IQR */
#define BLOCK 64                /* extremes are kept per block of samples... */
#define BLOCKS 128              /* ...for the last BLOCK * (BLOCKS - 1) or more */
#define MIN_WINDOW 16           /* samples before any scoring */
#define POINT_Z 3.0             /* a spike is >= 3 robust sigmas out (and beyond the range) */
#define POINT_CLEAR 6.0         /* this far out, no range extrapolation needed */
#define Z_CAP 8.0               /* |z| is clipped here before averaging */
#define SHORT 30                /* samples in the pattern (short) window */
#define LIK_MIN_SD 1e-3         /* floor of the short-window mean's standard deviation */
#define LIK_WARMUP 50           /* short-window means before the likelihood runs */
#define SEASON_BINS 288         /* phase bins per period (5 min for a day)... */
#define SEASON_MIN_BINS 4       /* ...and fewer than this means no seasonal model */
#define SEASON_DEPTH 5          /* periods remembered per bin */
#define SEASON_ON 0.5           /* seasonal model used below this error ratio... */
#define SEASON_OFF 0.7          /* ...and dropped above this one */
#define ERR_ALPHA (1.0 / WINDOW) /* weight of the models' running errors */
#define INTERVALS 15            /* first intervals that set the bin width */
#define REBASE 300              /* samples after a detection when a moved level is checked */

/* A rolling window with its order statistics (sorted copy), and the extreme
 * deviations from the window's median over a longer history: per block,
 * and over the complete blocks before the current one (recomputed once per
 * block).  Deviations rather than values, so that a drifting series does
 * not set a new record at every step.  Values are kept as float: half the
 * memory of double, and 7 significant digits are more than a detector
 * judging deviations of a robust sigma or more needs; what is judged is
 * rounded the same way (rollq_judge), so a window of one repeated value
 * stays exactly flat. */
struct rollq {
	float ring[WINDOW];
	float sorted[WINDOW];
	uint32_t n, head;
	float block_max[BLOCKS], block_min[BLOCKS];
	double past_max, past_min;      /* of the complete blocks */
	uint32_t blocks, block, in_block;  /* complete blocks; current one; its samples */
	uint64_t pushed;                /* samples ever pushed */
};

/* What one model says about one value. */
struct verdict {
	double point, raw;      /* point score; clipped |z| / Z_CAP */
	enum anomaly_kind kind;
	double expected, low, high;
	double median, scale;   /* of the model's window */
};

struct season {
	int64_t period_ns;      /* 0: no seasonal model */
	uint32_t bins;          /* 0 until the sample interval is known */
	int64_t intervals[INTERVALS];
	uint32_t nintervals;
	int64_t cur_period;
	uint32_t cur_bin;
	double sum;             /* of the values in the current bin */
	uint32_t count;
	float hist[SEASON_BINS][SEASON_DEPTH];  /* bin means, ring per bin */
	uint32_t hist_n[SEASON_BINS];
};

struct likelihood {
	double ring[SHORT];
	double sum;
	uint32_t head;
	uint64_t n;             /* raw values seen */
	double mean, var;       /* of the short-window mean */
	uint64_t nmeans;
	double alpha;           /* long-run weight of a new short-window mean */
	double tail_floor, log_floor;  /* the tail probability that scores 1, and its log */
};

struct anomaly {
	struct anomaly_params params;
	struct rollq local;     /* the values */
	struct rollq resid;     /* the values minus the seasonal profile */
	struct season season;
	struct likelihood lik;
	double err_local, err_season;
	uint64_t nerr;
	bool use_season;
	uint64_t n;             /* samples, seeded ones included */
	uint64_t seeded;        /* of which seeded (anomaly__seed) */
	int64_t last_ts;
	uint64_t since_alarm;
	uint32_t calm;          /* samples in a row scored under half the threshold */
	struct rollq *alarm_model;  /* the model, median and scale at the last */
	double alarm_median, alarm_scale;   /* detection */
};

/* First index with a[i] >= x.  Branch-free (the compare becomes a
 * conditional move), since the branches of a plain binary search are
 * mispredicted half the time and dominate the cost. */
static uint32_t lower_bound(const float *a, uint32_t n, float x)
{
	const float *base = a;

	if (n == 0)
		return 0;
	while (n > 1) {
		uint32_t half = n / 2;

		base += (base[half - 1] < x) * half;
		n -= half;
	}
	return (uint32_t)(base - a) + (*base < x);
}

static double rollq_quantile(const struct rollq *q, double p)
{
	double pos = p * (q->n - 1);
	uint32_t i = (uint32_t)pos;
	double frac = pos - i;

	assert(q->n > 0);
	if (i + 1 >= q->n)
		return q->sorted[q->n - 1];
	return q->sorted[i] + frac * (q->sorted[i + 1] - q->sorted[i]);
}

/* Records one deviation from the median in the block extremes. */
static void rollq_note(struct rollq *q, double dev)
{
	q->pushed++;
	if (q->in_block == 0) {
		q->block_max[q->block] = dev;
		q->block_min[q->block] = dev;
	}
	if (dev > q->block_max[q->block])
		q->block_max[q->block] = dev;
	if (dev < q->block_min[q->block])
		q->block_min[q->block] = dev;
	if (++q->in_block == BLOCK) {
		/* The block is complete; the next one overwrites the oldest. */
		q->in_block = 0;
		q->block = (q->block + 1) % BLOCKS;
		if (q->blocks < BLOCKS - 1)
			q->blocks++;
		q->past_max = -INFINITY;
		q->past_min = INFINITY;
		for (uint32_t k = 1; k <= q->blocks; k++) {
			uint32_t b = (q->block + BLOCKS - k) % BLOCKS;

			q->past_max = q->block_max[b] > q->past_max ? q->block_max[b] : q->past_max;
			q->past_min = q->block_min[b] < q->past_min ? q->block_min[b] : q->past_min;
		}
	}
}

static void rollq_push(struct rollq *q, double value)
{
	float x = (float)value;
	uint32_t j = lower_bound(q->sorted, q->n, x);
	double dev = q->n ? x - rollq_quantile(q, 0.5) : 0;

	if (q->n < WINDOW) {
		memmove(q->sorted + j + 1, q->sorted + j, (q->n - j) * sizeof(q->sorted[0]));
		q->sorted[j] = x;
		q->n++;
	} else {
		/* Replace the leaving value: shift only the entries between
		 * its rank and the new value's rank. */
		uint32_t i = lower_bound(q->sorted, q->n, q->ring[q->head]);

		assert(i < q->n && q->sorted[i] == q->ring[q->head]);
		if (j <= i) {
			memmove(q->sorted + j + 1, q->sorted + j, (i - j) * sizeof(q->sorted[0]));
			q->sorted[j] = x;
		} else {
			memmove(q->sorted + i, q->sorted + i + 1, (j - 1 - i) * sizeof(q->sorted[0]));
			q->sorted[j - 1] = x;
		}
	}
	q->ring[q->head] = x;
	q->head = (q->head + 1) % WINDOW;

	rollq_note(q, dev);
}

/* Forgets the extreme deviations and rebuilds them from the last count
 * samples, as deviations from today's median.  After a level shift the
 * deviations of the transition (before the median moved) would otherwise
 * hide every smaller spike for the whole memory. */
static void rollq_rebase(struct rollq *q, uint32_t count)
{
	double med;

	if (!q->n)
		return;
	med = rollq_quantile(q, 0.5);
	q->blocks = q->in_block = 0;
	q->pushed = 0;
	q->past_max = -INFINITY;
	q->past_min = INFINITY;
	if (count > q->n)
		count = q->n;
	for (uint32_t k = count; k > 0; k--)
		rollq_note(q, q->ring[(q->head + WINDOW - k) % WINDOW] - med);
}

/* The point score of r, z robust sigmas from med, against the range
 * [lo, hi] whose width (at least one sigma) is span, to be cleared by
 * margin * span. */
static double point_score(double r, double med, double z, double lo, double hi, double span, double margin)
{
	double beyond = r >= med ? (r - hi) / span : (lo - r) / span;
	/* Both tests reach 0.5 at their boundary; min() is their AND. */
	double score = fmin(margin > 0 ? beyond / (2 * margin) : (beyond > 0 ? INFINITY : 0), fabs(z) / (2 * POINT_Z));

	return fmin(fmax(score, 0), 1);
}

/* Judges r against the window q (which does not hold r yet); offset is
 * added back to expected/low/high (the seasonal profile, or 0). */
static void rollq_judge(const struct rollq *q, double r, double offset, double threshold,
			double margin, struct verdict *v)
{
	double med = rollq_quantile(q, 0.5);
	double iqr = rollq_quantile(q, 0.75) - rollq_quantile(q, 0.25);
	double hi = q->past_max, lo = q->past_min, grow = 1;
	double scale, span, ghi, glo, gspan, z, zmul, mmul, clear, seen, grown;

	r = (float)r;           /* as the window holds it (struct rollq) */
	if (q->in_block) {
		hi = fmax(hi, q->block_max[q->block]);
		lo = fmin(lo, q->block_min[q->block]);
	}
	if (!q->blocks && !q->in_block)
		hi = lo = 0;            /* just rebased with nothing to keep */
	/* The recent range of values, as deviations around today's median. */
	hi += med;
	lo += med;
	/* IQR / 1.349 is sigma for Gaussian data.  A series that sits on one
	 * value most of the time has IQR 0: then 2% of the recent range is the
	 * unit, and a flat line's unit is only there to avoid dividing by 0. */
	scale = fmax(iqr / 1.349, 0.02 * (hi - lo));
	scale = fmax(scale, 1e-9 * fabs(med) + 1e-30);
	span = fmax(hi - lo, scale);
	/* A short history shows a narrower range than the full memory will:
	 * widen it as the extremes of noise with exponential tails grow, by
	 * ln N / ln n (Gaussian ones grow slower still), so a young detector is
	 * not jumpier than an old one.  Values beyond POINT_CLEAR sigmas are
	 * outliers for any history length of near-Gaussian data and are judged
	 * on the range as seen. */
	if (q->pushed < BLOCK * BLOCKS)
		grow = log(BLOCK * BLOCKS) / log(q->pushed > MIN_WINDOW ? q->pushed : MIN_WINDOW);
	ghi = med + (hi - med) * grow;
	glo = med - (med - lo) * grow;
	gspan = fmax(ghi - glo, scale);
	z = (r - med) / scale;

	v->raw = fmin(fabs(z), Z_CAP) / Z_CAP;
	v->point = fabs(z) < POINT_CLEAR ? point_score(r, med, z, glo, ghi, gspan, margin)
					 : point_score(r, med, z, lo, hi, span, margin);
	v->kind = r >= med ? ANOMALY_HIGH : ANOMALY_LOW;

	/* The band where the point score stays under the threshold. */
	zmul = 2 * POINT_Z * threshold;
	mmul = 2 * margin * threshold;
	clear = POINT_CLEAR * scale;
	seen = fmax(med + zmul * scale, hi + mmul * span);
	grown = fmax(med + zmul * scale, ghi + mmul * gspan);
	v->high = offset + (grown < med + clear ? grown : fmax(med + clear, seen));
	seen = fmin(med - zmul * scale, lo - mmul * span);
	grown = fmin(med - zmul * scale, glo - mmul * gspan);
	v->low = offset + (grown > med - clear ? grown : fmin(med - clear, seen));
	v->expected = offset + med;
	v->median = med;
	v->scale = scale;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Learns the sample interval from the first intervals, then the number of
 * bins: one per sample interval, at most SEASON_BINS. */
static void season_interval(struct season *s, int64_t interval_ns)
{
	int64_t sorted[INTERVALS], median, bins;

	if (!s->period_ns || s->bins || interval_ns <= 0)
		return;
	s->intervals[s->nintervals++] = interval_ns;
	if (s->nintervals < INTERVALS)
		return;
	memcpy(sorted, s->intervals, sizeof(sorted));
	qsort(sorted, INTERVALS, sizeof(sorted[0]), cmp_i64);
	median = sorted[INTERVALS / 2];
	bins = s->period_ns / median;
	if (bins < SEASON_MIN_BINS)
		s->period_ns = 0;   /* a sample or less per quarter period */
	else
		s->bins = bins > SEASON_BINS ? SEASON_BINS : (uint32_t)bins;
}

static void season_locate(const struct season *s, int64_t ts, int64_t *ret_period, uint32_t *ret_bin)
{
	int64_t period = floor_div(ts, s->period_ns);
	int64_t phase = ts - period * s->period_ns;

	*ret_period = period;
	*ret_bin = (uint32_t)((__int128)phase * s->bins / s->period_ns);
	assert(*ret_bin < s->bins);
}

/* The profile's value for this bin: the median of its last periods, or NAN
 * with fewer than two. */
static double season_expected(const struct season *s, uint32_t bin)
{
	uint32_t n = s->hist_n[bin] < SEASON_DEPTH ? s->hist_n[bin] : SEASON_DEPTH;
	double v[SEASON_DEPTH];

	if (n < 2)
		return NAN;
	for (uint32_t i = 0; i < n; i++)
		v[i] = s->hist[bin][i];
	for (uint32_t i = 1; i < n; i++)
		for (uint32_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
			double t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void season_add(struct season *s, int64_t period, uint32_t bin, double x)
{
	if (s->count && (period != s->cur_period || bin != s->cur_bin)) {
		uint32_t b = s->cur_bin;

		s->hist[b][s->hist_n[b] % SEASON_DEPTH] = (float)(s->sum / s->count);
		s->hist_n[b]++;
		s->count = 0;
		s->sum = 0;
	}
	s->cur_period = period;
	s->cur_bin = bin;
	s->sum += x;
	s->count++;
}

/* Adds raw to the short window; returns the score of the window's mean
 * against the long-run distribution of such means (0 while warming up). */
static double likelihood_update(struct likelihood *l, double raw)
{
	double mean, score = 0, weight, delta;

	if (l->n >= SHORT)
		l->sum -= l->ring[l->head];
	l->ring[l->head] = raw;
	l->head = (l->head + 1) % SHORT;
	l->sum += raw;
	l->n++;
	mean = l->sum / (l->n < SHORT ? l->n : SHORT);

	if (l->nmeans >= LIK_WARMUP) {
		double sd = fmax(sqrt(l->var), LIK_MIN_SD);
		/* log(p) / log(floor), p the upper tail: 0.5 at p = pattern_tail. */
		double tail = 0.5 * erfc((mean - l->mean) / (sd * M_SQRT2));

		score = fmin(log(tail + l->tail_floor) / l->log_floor, 1);
		score = fmax(score, 0);
	}
	/* Exponentially weighted mean and variance; plain averages first. */
	weight = l->nmeans < 1 / l->alpha ? 1.0 / (l->nmeans + 1) : l->alpha;
	delta = mean - l->mean;
	l->mean += weight * delta;
	l->var = (1 - weight) * (l->var + weight * delta * delta);
	l->nmeans++;
	return score;
}

void anomaly_params_default(struct anomaly_params *p)
{
	p->threshold = ANOMALY_THRESHOLD;
	p->period_ns = ANOMALY_PERIOD_NS;
	p->probation = ANOMALY_PROBATION;
	p->refractory = ANOMALY_REFRACTORY;
	p->rearm = 0;
	p->point_margin = 0.1;
	p->pattern_tail = 1e-5;
	p->pattern_memory = 500;
}

void anomaly_params_series(struct anomaly_params *p)
{
	anomaly_params_default(p);
	p->threshold = ANOMALY_SERIES_THRESHOLD;
	p->probation = ANOMALY_SERIES_PROBATION;
	p->refractory = 0;
	p->rearm = ANOMALY_SERIES_REARM;
	p->point_margin = ANOMALY_SERIES_POINT_MARGIN;
	p->pattern_tail = ANOMALY_SERIES_PATTERN_TAIL;
	p->pattern_memory = ANOMALY_SERIES_PATTERN_MEMORY;
}

size_t anomaly_bytes(void)
{
	return sizeof(struct anomaly);
}

struct anomaly *anomaly__new(const struct anomaly_params *params)
{
	struct anomaly_params defaults;
	struct anomaly *a;

	if (!params) {
		anomaly_params_default(&defaults);
		params = &defaults;
	}
	if (!(params->threshold > 0 && params->threshold < 1) || params->period_ns < 0 ||
	    !(params->pattern_tail > 0 && params->pattern_tail < 0.5) || params->pattern_memory < 1 ||
	    !(params->point_margin >= 0 && params->point_margin <= 10)) {
		errno = EINVAL;
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->params = *params;
	a->local.past_max = a->resid.past_max = -INFINITY;
	a->local.past_min = a->resid.past_min = INFINITY;
	a->season.period_ns = params->period_ns;
	a->since_alarm = UINT64_MAX;
	a->calm = UINT32_MAX;
	a->lik.alpha = 1.0 / params->pattern_memory;
	a->lik.tail_floor = params->pattern_tail * params->pattern_tail;
	a->lik.log_floor = log(a->lik.tail_floor);
	return a;
}

struct anomaly *anomaly__free(struct anomaly *a)
{
	free(a);
	return NULL;
}

uint64_t anomaly__samples(const struct anomaly *a)
{
	return a->n;
}

int anomaly__seed(struct anomaly *a, const double *values, size_t n)
{
	if (a->n)
		return -EBUSY;
	for (size_t i = 0; i < n; i++)
		if (!isfinite(values[i]) || fabs(values[i]) > FLT_MAX)
			return -EINVAL;
	for (size_t i = 0; i < n; i++)
		rollq_push(&a->local, values[i]);
	a->n = a->seeded = n;
	return 0;
}

int anomaly__update(struct anomaly *a, int64_t ts, double x, struct anomaly_result *ret)
{
	struct season *s = &a->season;
	struct verdict local = { 0 }, resid = { 0 }, *v = &local;
	struct rollq *model;
	double expected = NAN, lik;
	double threshold = a->params.threshold;
	bool judged = a->local.n >= MIN_WINDOW;
	int64_t period = 0;
	uint32_t bin = 0;

	if (!isfinite(x) || fabs(x) > FLT_MAX)
		return -EINVAL;
	x = (float)x;           /* as the windows hold it (struct rollq) */
	if (a->n > a->seeded && ts < a->last_ts)
		return -ERANGE;
	if (a->n > a->seeded) {
		/* ts >= last_ts, but the two may be further apart than int64
		 * holds (1680 and 2260). */
		uint64_t dt = (uint64_t)ts - (uint64_t)a->last_ts;

		season_interval(s, dt > INT64_MAX ? INT64_MAX : (int64_t)dt);
	}
	a->last_ts = ts;

	/* Seasonal residual, and which model explains the data better. */
	if (s->bins) {
		season_locate(s, ts, &period, &bin);
		expected = season_expected(s, bin);
	}
	if (judged)
		rollq_judge(&a->local, x, 0, threshold, a->params.point_margin, &local);
	if (!isnan(expected) && a->resid.n >= MIN_WINDOW && judged) {
		rollq_judge(&a->resid, x - expected, expected, threshold, a->params.point_margin, &resid);
		a->err_local += ERR_ALPHA * (fabs(x - local.expected) - a->err_local);
		a->err_season += ERR_ALPHA * (fabs(x - resid.expected) - a->err_season);
		/* The seasonal model needs a full window of residuals. */
		if (++a->nerr >= WINDOW)
			a->use_season = a->err_season < (a->use_season ? SEASON_OFF : SEASON_ON) * a->err_local;
		if (a->use_season)
			v = &resid;
	}
	model = v == &resid ? &a->resid : &a->local;
	rollq_push(&a->local, x);
	if (!isnan(expected))
		rollq_push(&a->resid, x - expected);
	if (s->bins)
		season_add(s, period, bin, x);

	lik = likelihood_update(&a->lik, v->raw);
	a->n++;

	memset(ret, 0, sizeof(*ret));
	ret->expected = judged ? v->expected : NAN;
	ret->low = judged ? v->low : NAN;
	ret->high = judged ? v->high : NAN;
	ret->seasonal = v == &resid;
	if (!judged)
		return 0;
	ret->score = fmax(v->point, lik);
	ret->kind = v->point >= lik ? v->kind : ANOMALY_PATTERN;
	if (a->seeded && a->n - a->seeded <= a->params.probation) {
		/* Seeded: the window judges single values, but the pattern
		 * score knows only the real samples so far. */
		ret->score = v->point;
		ret->kind = v->kind;
	}
	if (a->n <= a->params.probation) {
		ret->score = 0;
	} else if (ret->score >= threshold) {
		if (a->since_alarm <= a->params.refractory || a->calm < a->params.rearm) {
			/* Still the incident already reported. */
			ret->score = nextafter(threshold, 0);
		} else {
			ret->anomalous = true;
			a->since_alarm = 0;
			a->calm = 0;
			a->alarm_model = model;
			a->alarm_median = v->median;
			a->alarm_scale = v->scale;
		}
	}
	if (a->since_alarm != UINT64_MAX)
		a->since_alarm++;
	/* An incident is over once the evidence has stayed under half the
	 * threshold for `rearm` samples in a row. */
	if (!ret->anomalous && a->calm < a->params.rearm)
		a->calm = fmax(v->point, lik) < 0.5 * threshold ? a->calm + 1 : 0;
	/* REBASE samples after a detection: if the level has moved, the
	 * extremes learnt before and during the move are the old regime's. */
	if (a->since_alarm == REBASE + 1 &&
	    fabs(rollq_quantile(a->alarm_model, 0.5) - a->alarm_median) > POINT_Z * a->alarm_scale) {
		rollq_rebase(&a->local, REBASE);
		rollq_rebase(&a->resid, REBASE);
	}
	return 0;
}
