/* Per-metric baselines (see baseline.h). */
#include "baseline.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "features.h"

#define STEP 0.02          /* quantile step, as a fraction of the MAD */

int baseline_hour_of(int64_t ts_ns, int32_t utc_offset_s)
{
	int64_t s = ts_ns / 1000000000 + utc_offset_s;
	int64_t day = 86400;

	return (int)((((s % day) + day) % day) / 3600);
}

void baseline__init(struct baseline *b, double half_life_s, int32_t utc_offset_s)
{
	assert(half_life_s > 0);
	memset(b, 0, sizeof(*b));
	b->half_life_s = half_life_s;
	b->utc_offset_s = utc_offset_s;
}

/* A scale for the quantile steps that is never 0, so a series that sat on
 * one value can still move its estimates when it starts to vary. */
static double step_scale(const struct baseline *b)
{
	return fmax(b->mad, fmax(1e-3 * fabs(b->median), 1e-9));
}

static void nudge(double *q, double x, double p, double step)
{
	*q += x > *q ? p * step : -(1 - p) * step;
}

static void hour_update(struct baseline_hour *h, double decay, double x, double step, double median)
{
	if (h->n < 1e-9) {
		h->median = median;
		h->p95 = fmax(median, x);
	}
	h->n = h->n * decay + 1;
	nudge(&h->median, x, 0.5, step);
	nudge(&h->p95, x, 0.95, step);
}

/* Starts the estimators from the exact statistics of the first samples. */
static void start_from_exact(struct baseline *b)
{
	double v[BASELINE_EXACT];
	struct rolling_stats st;
	double var = 0;

	memcpy(v, b->exact, b->nexact * sizeof(double));
	stats_of(v, b->nexact, &st);
	for (uint32_t i = 0; i < b->nexact; i++)
		var += (b->exact[i] - st.mean) * (b->exact[i] - st.mean);
	b->mean = st.mean;
	b->var = var / b->nexact;
	b->median = st.median;
	b->mad = st.mad;
	b->p05 = st.p05;
	b->p95 = st.p95;
	for (uint32_t i = 0; i < b->nexact; i++) {
		struct baseline_hour *h = &b->hours[baseline_hour_of(b->exact_ts[i], b->utc_offset_s)];

		hour_update(h, 1, b->exact[i], step_scale(b) * STEP, b->median);
	}
}

void baseline__update(struct baseline *b, int64_t ts_ns, double x)
{
	double decay = 1, w, delta, step;

	assert(isfinite(x));
	if (b->n == 0 && b->nexact == 0) {
		b->from_ns = ts_ns;
		b->min = b->max = x;
	} else if (ts_ns > b->to_ns) {
		decay = exp2(-(double)(ts_ns - b->to_ns) / 1e9 / b->half_life_s);
	}
	b->to_ns = ts_ns;
	b->min = fmin(b->min, x);
	b->max = fmax(b->max, x);
	if (b->nexact < BASELINE_EXACT && b->n < BASELINE_EXACT) {
		b->exact[b->nexact] = x;
		b->exact_ts[b->nexact++] = ts_ns;
		b->n = b->n * decay + 1;
		if (b->nexact == BASELINE_EXACT)
			start_from_exact(b);
		return;
	}
	b->n = b->n * decay + 1;
	w = 1 / b->n;
	delta = x - b->mean;
	b->mean += w * delta;
	b->var = (1 - w) * (b->var + w * delta * delta);
	step = step_scale(b) * STEP;
	nudge(&b->median, x, 0.5, step);
	nudge(&b->p05, x, 0.05, step);
	nudge(&b->p95, x, 0.95, step);
	nudge(&b->mad, fabs(x - b->median), 0.5, step);
	for (int h = 0; h < 24; h++)
		b->hours[h].n *= decay;
	hour_update(&b->hours[baseline_hour_of(ts_ns, b->utc_offset_s)], 1, x, step, b->median);
}

void baseline__from_values(struct baseline *b, double *values, const int64_t *ts, size_t n,
			   int32_t utc_offset_s)
{
	struct rolling_stats st;
	double var = 0, *hv[24] = { 0 };
	size_t hn[24] = { 0 };

	assert(n >= 1);
	memset(b, 0, sizeof(*b));
	b->utc_offset_s = utc_offset_s;
	b->from_ns = ts[0];
	b->to_ns = ts[n - 1];
	for (size_t i = 0; i < n; i++) {
		int h = baseline_hour_of(ts[i], utc_offset_s);

		if (!hv[h] && !(hv[h] = malloc(n * sizeof(double))))
			continue;
		hv[h][hn[h]++] = values[i];
		b->from_ns = ts[i] < b->from_ns ? ts[i] : b->from_ns;
		b->to_ns = ts[i] > b->to_ns ? ts[i] : b->to_ns;
	}
	for (int h = 0; h < 24; h++) {
		if (!hn[h])
			continue;
		stats_of(hv[h], (uint32_t)hn[h], &st);
		b->hours[h] = (struct baseline_hour){ (double)hn[h], st.median, st.p95 };
		free(hv[h]);
	}
	stats_of(values, (uint32_t)n, &st);
	for (size_t i = 0; i < n; i++)
		var += (values[i] - st.mean) * (values[i] - st.mean);
	b->n = (double)n;
	b->mean = st.mean;
	b->var = var / (double)n;
	b->median = st.median;
	b->mad = st.mad;
	b->p05 = st.p05;
	b->p95 = st.p95;
	b->min = st.min;
	b->max = st.max;
	b->nexact = BASELINE_EXACT;     /* the estimators continue from here */
}

bool baseline__ready(const struct baseline *b)
{
	return b->n >= BASELINE_MIN_SAMPLES;
}

bool baseline__has_profile(const struct baseline *b)
{
	int hours = 0;

	for (int h = 0; h < 24; h++)
		hours += b->hours[h].n >= BASELINE_PROFILE_MIN;
	return hours >= BASELINE_PROFILE_HOURS;
}

double baseline__usual(const struct baseline *b, int64_t ts_ns, bool *ret_hourly)
{
	const struct baseline_hour *h = &b->hours[baseline_hour_of(ts_ns, b->utc_offset_s)];
	bool hourly = baseline__has_profile(b) && h->n >= BASELINE_PROFILE_MIN;

	if (ret_hourly)
		*ret_hourly = hourly;
	if (!baseline__ready(b))
		return NAN;
	return hourly ? h->median : b->median;
}

int baseline__profile_json(const struct baseline *b, char *out, size_t size)
{
	size_t len = 0;
	bool first = true;

	out[0] = '\0';
	if (!baseline__has_profile(b))
		return 0;
	for (int h = 0; h < 24; h++) {
		int n;

		if (b->hours[h].n < 1)
			continue;
		n = snprintf(out + len, size - len, "%s[%d,%.6g,%.9g,%.9g]", first ? "[" : ",", h,
			     b->hours[h].n, b->hours[h].median, b->hours[h].p95);
		if (n < 0 || (size_t)n >= size - len)
			return -ENOSPC;
		len += (size_t)n;
		first = false;
	}
	if (first)
		return 0;
	if (len + 2 > size)
		return -ENOSPC;
	out[len++] = ']';
	out[len] = '\0';
	return (int)len;
}

int baseline__profile_parse(struct baseline *b, const char *json)
{
	const char *p = json;

	memset(b->hours, 0, sizeof(b->hours));
	if (!json || !*json)
		return 0;
	if (*p++ != '[')
		return -EINVAL;
	while (*p == '[') {
		struct baseline_hour h;
		int hour, used = 0;

		/* %n is set only when the closing ']' matched too: an entry
		 * cut short leaves used at 0. */
		if (sscanf(p, "[%d,%lf,%lf,%lf]%n", &hour, &h.n, &h.median, &h.p95, &used) != 4 || used <= 0 ||
		    hour < 0 || hour > 23 || !(h.n >= 0 && isfinite(h.n)) || !isfinite(h.median) ||
		    !isfinite(h.p95)) {
			memset(b->hours, 0, sizeof(b->hours));
			return -EINVAL;
		}
		b->hours[hour] = h;
		p += used;
		if (*p == ',')
			p++;
	}
	if (*p != ']') {
		memset(b->hours, 0, sizeof(b->hours));
		return -EINVAL;
	}
	return 0;
}

static size_t gcd(size_t a, size_t b)
{
	while (b) {
		size_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

int baseline__seed_values(const struct baseline *b, double *out, size_t n)
{
	static const double at[] = { 0, 0.05, 0.25, 0.5, 0.75, 0.95, 1 };
	double q[7] = { b->min, b->p05, b->median - b->mad, b->median, b->median + b->mad, b->p95, b->max };
	size_t step;

	if (!baseline__ready(b) || n < 2 || n > INT32_MAX)
		return -EINVAL;
	for (int i = 0; i < 7; i++)
		if (!isfinite(q[i]))
			return -EINVAL;
	/* The online estimators are only near each other: keep them in order. */
	for (int i = 1; i < 7; i++)
		q[i] = fmax(q[i], q[i - 1]);
	/* A step near n times the golden ratio's fraction, coprime to n, visits
	 * every k once and spreads neighbours in i far apart in k. */
	for (step = (size_t)(n * 0.6180339887) | 1; gcd(step, n) != 1; step++)
		;
	for (size_t i = 0; i < n; i++) {
		size_t k = i * step % n;
		double u = (double)k / (double)(n - 1);
		int j = 1;

		while (j < 6 && u > at[j])
			j++;
		out[i] = q[j - 1] + (q[j] - q[j - 1]) * (u - at[j - 1]) / (at[j] - at[j - 1]);
	}
	return (int)n;
}
