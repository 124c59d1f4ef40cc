/* The streaming anomaly detector on synthetic series whose anomalies are
 * known: a spike and a dip, a level shift (flagged at the shift, quiet
 * again once adapted, able to see a smaller spike after it), slow drift, a daily pattern with an out-of-season
 * value, a flat line, noisy normal series, regular spikes, a burst of
 * moderate values; plus the API contract, the reported range,
 * determinism, and seeding from a stored baseline.
 *
 * Each scenario runs on SEEDS independent noise series.  The detector's
 * false alarm rate on Gaussian noise is about 2e-5 per sample, so a
 * scenario of a few thousand samples sometimes has one false alarm (which
 * also holds back detections for the next 300 samples): the tests allow one
 * seed in ten to miss, and say how many passed. */
#include <errno.h>
#include <math.h>
#include <stdint.h>

#include "../../src/detect/anomaly.h"
#include "../../src/detect/baseline.h"
#include "../lib/tap.h"

#define MIN5 (300LL * 1000000000LL)   /* NAB's 5-minute samples */
#define T0 1396310400000000000LL      /* 2014-04-01 00:00:00 UTC */
#define MAXN 20000
#define SEEDS 10

/* Deterministic noise: xorshift64* and Box-Muller. */
static uint64_t rng_state;

static void rng_seed(uint64_t seed)
{
	rng_state = seed * 2685821657736338717ULL + 1;
}

static double uniform(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return ((rng_state * 2685821657736338717ULL) >> 11) * 0x1.0p-53;
}

static double gauss(void)
{
	double u = uniform(), v = uniform();

	return sqrt(-2 * log(u + 1e-300)) * cos(2 * M_PI * v);
}

static double x[MAXN];

/* What a run over x[0..n) found. */
static struct anomaly_result res[MAXN];
static int detections, first_detection;

static void run(int n, const struct anomaly_params *p)
{
	struct anomaly *a = anomaly__new(p);

	if (!a)
		bail_out("anomaly__new failed");
	detections = 0;
	first_detection = -1;
	for (int i = 0; i < n; i++) {
		if (anomaly__update(a, T0 + i * MIN5, x[i], &res[i]))
			bail_out("anomaly__update failed");
		if (res[i].anomalous) {
			detections++;
			if (first_detection < 0)
				first_detection = i;
		}
	}
	anomaly__free(a);
}

static int detections_in(int from, int to)
{
	int n = 0;

	for (int i = from; i < to; i++)
		n += res[i].anomalous;
	return n;
}

static void noise(int n, double level, double sigma, uint64_t seed)
{
	rng_seed(seed);
	for (int i = 0; i < n; i++)
		x[i] = level + sigma * gauss();
}

/* At least SEEDS - 1 of SEEDS passed. */
#define most(passed, fmt, ...) ok((passed) >= SEEDS - 1, fmt " (%d of %d series)", ##__VA_ARGS__, passed, SEEDS)

/* False detections in `samples` samples of noise: at most 1 + 4 per 60000.
 * The rate measured on 100 Gaussian series, 1.8e-5 per sample, expects 1.1
 * per 60000, and Poisson puts more than the bound under 1%. */
#define few(count, samples, fmt, ...) \
	ok((count) <= 1 + 4 * (samples) / 60000, fmt " (%d in %d samples)", ##__VA_ARGS__, count, samples)

static void test_spike_and_dip(void)
{
	int hit_spike = 0, hit_dip = 0, others = 0, expected_ok = 0;

	for (int s = 1; s <= SEEDS; s++) {
		noise(3000, 50, 2, s);
		x[1500] = 50 + 2 * 12;
		x[2200] = 50 - 2 * 12;
		run(3000, NULL);
		hit_spike += res[1500].anomalous && res[1500].kind == ANOMALY_HIGH;
		hit_dip += res[2200].anomalous && res[2200].kind == ANOMALY_LOW;
		others += detections - res[1500].anomalous - res[2200].anomalous;
		expected_ok += fabs(res[1500].expected - 50) < 1 && res[1500].high < x[1500] &&
			       res[1500].high > 50 + 2 * 3 && res[1499].score < 0.3;
	}
	most(hit_spike, "a 12-sigma spike is flagged where it is, as high");
	most(hit_dip, "a 12-sigma dip is flagged where it is, as low");
	few(others, SEEDS * 3000, "and little else");
	most(expected_ok, "expected 50 +- 1 there, high between 3 sigmas and the spike, the sample before scores low");
}

static void test_level_shift(void)
{
	int before = 0, at = 0, after = 0, adapted = 0;

	for (int s = 1; s <= SEEDS; s++) {
		noise(4000, 10, 1, 100 + s);
		for (int i = 2000; i < 4000; i++)
			x[i] += 10;
		run(4000, NULL);
		before += detections_in(0, 2000);
		at += detections_in(2000, 2006) == 1;
		after += detections_in(2006, 4000);
		adapted += fabs(res[2600].expected - 20) < 1 && res[3999].score < 0.3;
	}
	few(before, SEEDS * 2000, "level shift of 10 sigmas: before it, no more than noise gives");
	most(at, "flagged within 5 samples of the shift");
	few(after, SEEDS * 2000, "then quiet: one incident, one alarm, no more after it than noise gives");
	most(adapted, "600 samples on, the expected value is the new level and it scores low");
}

static void test_after_shift(void)
{
	int spike = 0, at_1s = 0, spike_1s = 0;

	/* The deviations while the median caught up with a shift of 12 would
	 * hide a later spike of 9 for 8192 samples, had the detector not
	 * forgotten them once the level had moved. */
	for (int s = 1; s <= SEEDS; s++) {
		noise(4000, 10, 1, 150 + s);
		for (int i = 2000; i < 4000; i++)
			x[i] += 12;
		x[3000] += 9;
		run(4000, NULL);
		spike += res[3000].anomalous;
	}
	most(spike, "after a shift of 12 sigmas, a spike of 9 is flagged once adapted");

	/* The same at the agent's 1 s samples (no seasonal model in 4000 s). */
	for (int s = 1; s <= SEEDS; s++) {
		struct anomaly *a = anomaly__new(NULL);
		int first = -1;

		noise(4000, 10, 1, 170 + s);
		for (int i = 2000; i < 4000; i++)
			x[i] += 12;
		x[3000] += 9;
		for (int i = 0; i < 4000; i++) {
			anomaly__update(a, T0 + i * 1000000000LL, x[i], &res[i]);
			if (res[i].anomalous && first < 0)
				first = i;
		}
		at_1s += first >= 2000 && first <= 2005;
		spike_1s += res[3000].anomalous && !res[3000].seasonal;
		anomaly__free(a);
	}
	most(at_1s, "at 1 s samples the shift is flagged within 5 samples");
	most(spike_1s, "and the later spike too");
}

static void test_drift(void)
{
	int false_alarms = 0, follows = 0;

	/* From 10 to 30 over 6000 samples: 20 sigmas in all, under one sigma
	 * per 256 samples (half the window), a slow drift. */
	for (int s = 1; s <= SEEDS; s++) {
		noise(6000, 0, 1, 200 + s);
		for (int i = 0; i < 6000; i++)
			x[i] += 10 + 20.0 * i / 6000;
		run(6000, NULL);
		false_alarms += detections;
		follows += fabs(res[5999].expected - 30) < 1.5;
	}
	few(false_alarms, SEEDS * 6000, "slow drift: no more detections than noise gives");
	most(follows, "the expected value follows the drift (within 1.5 of 30 at the end)");
}

/* A daily pattern on 5-minute samples: 10 + 8 sin(2 pi t / day) + noise. */
static void seasonal(int days, uint64_t seed)
{
	noise(days * 288, 0, 0.4, seed);
	for (int i = 0; i < days * 288; i++)
		x[i] += 10 + 8 * sin(2 * M_PI * i / 288);
}

static void test_seasonal(void)
{
	int at = 8 * 288 + 216;   /* day 8, 18:00: the daily trough (2) */
	int false_alarms = 0, profile = 0, flagged = 0, unnoticed = 0;
	struct anomaly_params p;

	anomaly_params_default(&p);
	p.period_ns = 0;
	for (int s = 1; s <= SEEDS; s++) {
		seasonal(12, 300 + s);
		run(12 * 288, NULL);
		false_alarms += detections;
		profile += res[at].seasonal && fabs(res[at].expected - 2) < 1;

		/* The daytime peak's value at night: within the range of the
		 * series, far from what this hour should be. */
		x[at] = 17;
		run(12 * 288, NULL);
		flagged += res[at].anomalous;

		/* Without the profile a window of 512 samples holds every phase,
		 * so the same value is unremarkable. */
		run(12 * 288, &p);
		unnoticed += !res[at].anomalous;
	}
	few(false_alarms, SEEDS * 12 * 288, "12 days of a daily pattern: no more detections than noise gives");
	most(profile, "by day 8 the seasonal profile is in use and expects the trough (2) at 18:00");
	most(flagged, "an in-range but out-of-season value is flagged");
	most(unnoticed, "with period 0 (no profile) the same value passes unnoticed");
}

static void test_flat(void)
{
	for (int i = 0; i < 3000; i++)
		x[i] = 45;
	run(3000, NULL);
	is(detections, 0, "a flat line: no detection");
	ok(res[2999].score < 0.05, "and a score near 0 (%.3f)", res[2999].score);
	within(res[2999].expected, 45, 45, "expected 45");
	x[2500] = 46;
	run(3000, NULL);
	ok(res[2500].anomalous, "the first change to a flat line is flagged");
	is(detections, 1, "once");
}

static void test_noisy_normal(void)
{
	int gaussian = 0, laplace = 0;

	for (int s = 1; s <= SEEDS; s++) {
		noise(20000, 100, 15, 400 + s);
		run(20000, NULL);
		gaussian += detections;

		/* Heavy tails: Laplace noise, where 6-sigma values are routine. */
		rng_seed(500 + s);
		for (int i = 0; i < 20000; i++) {
			double u = uniform() - 0.5;

			x[i] = 100 - 10 * (u < 0 ? -1 : 1) * log(1 - 2 * fabs(u) + 1e-300);
		}
		run(20000, NULL);
		laplace += detections;
	}
	/* Measured over 100 series: 1.8e-5 and 1.0e-4 per sample. */
	few(gaussian, SEEDS * 20000, "Gaussian noise: very few detections");
	ok(laplace <= 40, "Laplace noise: at most 2e-4 detections per sample (%d in %d samples)",
	   laplace, SEEDS * 20000);
}

static void test_regular_spikes(void)
{
	int false_alarms = 0, taller = 0;

	/* A cron job: the same spike every 100 samples. */
	for (int s = 1; s <= SEEDS; s++) {
		noise(5000, 5, 0.5, 600 + s);
		for (int i = 50; i < 5000; i += 100)
			x[i] = 40;
		run(5000, NULL);
		false_alarms += detections_in(600, 5000);
		x[3050] = 80;
		run(5000, NULL);
		taller += res[3050].anomalous;
	}
	few(false_alarms, SEEDS * 4400, "regular spikes of the usual height are not news");
	most(taller, "a spike twice the usual height is");
}

static void test_burst(void)
{
	struct anomaly_params p;
	int inside = 0;

	/* 20 values at 2.5 sigma, none a spike on its own.  No refractory
	 * period, so that a false alarm before cannot hide it. */
	anomaly_params_default(&p);
	p.refractory = 0;
	for (int s = 1; s <= SEEDS; s++) {
		int found = 0;

		noise(3000, 0, 1, 700 + s);
		for (int i = 2000; i < 2020; i++)
			x[i] = 2.5 + 0.2 * gauss();
		run(3000, &p);
		for (int i = 2000; i < 2020; i++)
			found |= res[i].anomalous && res[i].kind == ANOMALY_PATTERN;
		inside += found;
	}
	most(inside, "a burst of 20 moderate values is flagged inside it, as a pattern");
}

/* A value just inside [low, high] is not a spike or dip (the pattern score
 * may still flag it); just outside is.  "Just": 1 part in 10^6, a few
 * steps of the float the windows hold values in. */
static void test_range(void)
{
	struct anomaly_params p;
	int inside = 0, outside = 0, probes = 0;

	anomaly_params_default(&p);
	p.refractory = 0;
	for (int s = 1; s <= SEEDS; s++) {
		noise(3001, 20, 3, 800 + s);
		run(3000, &p);
		for (int side = 0; side < 2; side++) {
			double edge = side ? res[2999].high : res[2999].low;
			double step = 1e-6 * fabs(edge) * (side ? 1 : -1);
			struct anomaly_result in, out;
			struct anomaly *a = anomaly__new(&p), *b = anomaly__new(&p);

			/* res[2999] judged x[2999] before taking it in; replay
			 * x[0..2998] and probe sample 2999 instead. */
			for (int i = 0; i < 2999; i++) {
				anomaly__update(a, T0 + i * MIN5, x[i], &in);
				anomaly__update(b, T0 + i * MIN5, x[i], &out);
			}
			anomaly__update(a, T0 + 2999 * MIN5, edge - step, &in);
			anomaly__update(b, T0 + 2999 * MIN5, edge + step, &out);
			inside += !(in.anomalous && in.kind != ANOMALY_PATTERN);
			outside += out.anomalous && out.kind == (side ? ANOMALY_HIGH : ANOMALY_LOW);
			probes++;
			anomaly__free(a);
			anomaly__free(b);
		}
	}
	is(inside, probes, "a value just inside [low, high] is not flagged (%d probes)", probes);
	is(outside, probes, "one just outside is, as high or low");
}

static void test_contract(void)
{
	struct anomaly_params p;
	struct anomaly_result r;
	struct anomaly *a;
	bool in_range = true, consistent = true;

	anomaly_params_default(&p);
	p.threshold = 1;
	errno = 0;
	ok(!anomaly__new(&p) && errno == EINVAL, "threshold 1 is refused (EINVAL)");
	anomaly_params_default(&p);
	p.period_ns = -1;
	ok(!anomaly__new(&p), "a negative period is refused");

	a = anomaly__new(NULL);
	is(anomaly__update(a, T0, NAN, &r), -EINVAL, "NaN value: -EINVAL");
	is(anomaly__update(a, T0, INFINITY, &r), -EINVAL, "infinite value: -EINVAL");
	is(anomaly__update(a, T0, 1, &r), 0, "a finite value is taken");
	ok(isnan(r.expected) && r.score == 0 && !r.anomalous, "with no history: no expectation, score 0");
	is(anomaly__update(a, T0 - 1, 1, &r), -ERANGE, "a timestamp going backwards: -ERANGE");
	is(anomaly__update(a, T0, 2, &r), 0, "the same timestamp again is fine");
	is(anomaly__samples(a), 2, "rejected samples are not counted");
	ok(anomaly__free(a) == NULL && anomaly__free(NULL) == NULL, "free returns NULL and accepts NULL");

	/* Probation (512 samples) and refractory period (300), each spike
	 * taller than the one before, so that each one is news. */
	noise(3000, 0, 1, 9);
	x[100] = 50;                    /* in probation */
	x[1000] = 80;                   /* flagged */
	x[1100] = -120;                 /* 100 after: same incident */
	x[1500] = 200;                  /* 500 after: a new one */
	run(3000, NULL);
	ok(!res[100].anomalous && res[100].score == 0, "nothing is flagged in probation");
	ok(res[1000].anomalous, "a spike after probation is");
	ok(!res[1100].anomalous && res[1100].score < 0.5, "one 100 samples later is held back (score %.6f)",
	   res[1100].score);
	ok(res[1500].anomalous, "one 500 samples later is flagged");

	for (int i = 0; i < 3000; i++) {
		in_range &= res[i].score >= 0 && res[i].score <= 1;
		consistent &= res[i].anomalous == (res[i].score >= 0.5);
	}
	ok(in_range, "every score is in [0, 1]");
	ok(consistent, "anomalous exactly when score >= threshold");

	/* A lower threshold flags more, a higher one less. */
	{
		int at_default, at_low, at_high;

		noise(20000, 0, 1, 10);
		run(20000, NULL);
		at_default = detections;
		p.period_ns = ANOMALY_PERIOD_NS;
		p.threshold = 0.3;
		run(20000, &p);
		at_low = detections;
		p.threshold = 0.7;
		run(20000, &p);
		at_high = detections;
		ok(at_low > at_default && at_default >= at_high,
		   "threshold 0.3 flags more than 0.5, 0.7 no more (%d, %d, %d)", at_low, at_default, at_high);
	}
}

/* The operating point for one series read by a person (ksight detect):
 * more sensitive, no fixed refractory period (an incident is over once 30
 * samples in a row look ordinary), and its own parameter checks. */
static void test_series(void)
{
	struct anomaly_params p, bad;
	int both = 0, once = 0, false_alarms = 0, quiet_agent = 0, noisy = 0;
	struct anomaly *a;

	anomaly_params_series(&p);
	ok(p.threshold == ANOMALY_SERIES_THRESHOLD && p.probation == ANOMALY_SERIES_PROBATION && p.refractory == 0 &&
	   p.rearm == ANOMALY_SERIES_REARM && p.period_ns == ANOMALY_PERIOD_NS,
	   "anomaly_params_series: the ANOMALY_SERIES_ constants, no refractory period");
	ok((a = anomaly__new(&p)) != NULL, "and a detector takes them");
	anomaly__free(a);
	ok(anomaly_bytes() <= 36 * 1024, "a detector takes at most 36 KiB (%zu B)", anomaly_bytes());
	bad = p;
	bad.pattern_tail = 0.5;
	ok(!anomaly__new(&bad) && errno == EINVAL, "pattern_tail 0.5 is refused (EINVAL)");
	bad = p;
	bad.pattern_tail = 0;
	ok(!anomaly__new(&bad), "pattern_tail 0 is refused");
	bad = p;
	bad.pattern_memory = 0;
	ok(!anomaly__new(&bad), "pattern_memory 0 is refused");
	bad = p;
	bad.point_margin = -0.1;
	ok(!anomaly__new(&bad), "a negative point_margin is refused");

	for (int s = 1; s <= SEEDS; s++) {
		/* Two spikes 100 samples apart: two incidents, both flagged
		 * (the agent's 300-sample refractory period would hold back the
		 * second). */
		noise(3000, 50, 2, 1100 + s);
		x[1500] = 50 + 2 * 12;
		x[1600] = 50 + 2 * 14;
		run(3000, &p);
		both += res[1500].anomalous && res[1600].anomalous;
		run(3000, NULL);
		quiet_agent += res[1500].anomalous && !res[1600].anomalous;

		/* A level shift is one incident: one detection at the shift. */
		noise(4000, 10, 1, 1200 + s);
		for (int i = 2000; i < 4000; i++)
			x[i] += 10;
		run(4000, &p);
		once += detections_in(2000, 2006) == 1 && detections_in(2006, 2300) == 0;

		noise(20000, 100, 15, 1300 + s);
		run(20000, &p);
		false_alarms += detections;
		run(20000, NULL);
		noisy += detections;
	}
	most(both, "series: two spikes 100 samples apart are both flagged");
	most(quiet_agent, "where the agent's operating point holds back the second");
	most(once, "series: a level shift is flagged at the shift, once, not again in the next 300 samples");
	/* Measured over 50 series: 3.2e-4 per sample, against 2.3e-5 at the
	 * agent's operating point. */
	ok(false_alarms <= SEEDS * 20000 * 6e-4, "series: Gaussian noise, under 6e-4 detections per sample (%d in %d)",
	   false_alarms, SEEDS * 20000);
	ok(noisy < false_alarms, "the agent's operating point is quieter on the same noise (%d)", noisy);
}

static void test_determinism(void)
{
	static struct anomaly_result first[MAXN];
	bool same = true;

	seasonal(10, 11);
	for (int i = 1000, k = 0; i < 2880; i += 397, k++)
		x[i] += 15 + 10 * k;
	run(2880, NULL);
	memcpy(first, res, sizeof(first));
	run(2880, NULL);
	for (int i = 0; i < 2880; i++)
		same &= first[i].score == res[i].score && first[i].anomalous == res[i].anomalous &&
			first[i].kind == res[i].kind && first[i].seasonal == res[i].seasonal &&
			(first[i].expected == res[i].expected || (isnan(first[i].expected) && isnan(res[i].expected))) &&
			(first[i].low == res[i].low || isnan(first[i].low)) &&
			(first[i].high == res[i].high || isnan(first[i].high));
	ok(same, "two detectors fed the same series give identical results");
	ok(detections >= 3, "(and that series has detections: %d)", detections);
}

/* Seeding from a stored baseline: values spread like it (min and max
 * among them), a detector that judges single values from its first real
 * sample, the pattern score still off for the probation, and no more false
 * alarms than a detector that learnt on its own. */
static void test_seeded(void)
{
	static double v[1000], seedv[512];
	int64_t ts[1000];
	struct baseline b;
	struct anomaly_result r;
	struct anomaly *a;
	bool pattern = false;
	int false_alarms = 0;

	noise(1000, 100, 5, 21);
	for (int i = 0; i < 1000; i++) {
		v[i] = x[i];
		ts[i] = T0 + i * MIN5;
	}
	baseline__from_values(&b, v, ts, 1000, 0);
	is(baseline__seed_values(&b, seedv, 512), 512, "a ready baseline gives 512 seed values");
	{
		double lo = INFINITY, hi = -INFINITY;

		for (int i = 0; i < 512; i++) {
			lo = fmin(lo, seedv[i]);
			hi = fmax(hi, seedv[i]);
		}
		ok(lo == b.min && hi == b.max, "its extremes are among them (%g..%g)", lo, hi);
	}
	{
		struct baseline young = b;

		young.n = 10;
		is(baseline__seed_values(&young, seedv, 512), -EINVAL, "a baseline of 10 samples seeds nothing");
	}

	a = anomaly__new(NULL);
	ok(anomaly__seed(a, (double[]){ 1, NAN }, 2) == -EINVAL && anomaly__samples(a) == 0,
	   "a seed value that is not finite: -EINVAL, nothing seeded");
	is(anomaly__seed(a, seedv, 512), 0, "seeding a fresh detector");
	is(anomaly__samples(a), 512, "the seed values count as samples");
	anomaly__update(a, T0, 100, &r);
	is(anomaly__seed(a, seedv, 512), -EBUSY, "seeding after a sample: -EBUSY");
	anomaly__update(a, T0 + MIN5, 200, &r);
	ok(r.anomalous && r.kind == ANOMALY_HIGH, "a spike at the second real sample is flagged (score %.2f)", r.score);
	anomaly__free(a);

	/* 20 series of 3000 samples of the same noise: seeded, then fed. */
	for (int seed = 0; seed < 20; seed++) {
		noise(3000, 100, 5, 100 + seed);
		a = anomaly__new(NULL);
		anomaly__seed(a, seedv, 512);
		for (int i = 0; i < 3000; i++) {
			anomaly__update(a, T0 + i * MIN5, x[i], &r);
			pattern |= i < 512 && r.kind == ANOMALY_PATTERN && r.score > 0;
			false_alarms += r.anomalous;
		}
		anomaly__free(a);
	}
	ok(!pattern, "no pattern score in the first 512 real samples");
	few(false_alarms, 20 * 3000, "seeded detectors on noise like their baseline: few false alarms");
}

int main(void)
{
	plan(70);
	test_spike_and_dip();
	test_level_shift();
	test_after_shift();
	test_drift();
	test_seasonal();
	test_flat();
	test_noisy_normal();
	test_regular_spikes();
	test_burst();
	test_range();
	test_contract();
	test_series();
	test_determinism();
	test_seeded();
	return done_testing();
}
