/* Feature engineering (see features.h). */
#include "features.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

bool counter_rate__update(struct counter_rate *c, uint64_t value, int64_t now_ns, double *ret)
{
	bool known = c->seen && value >= c->last && now_ns > c->last_ns;

	if (known)
		*ret = (double)(value - c->last) * 1e9 / (double)(now_ns - c->last_ns);
	c->last = value;
	c->last_ns = now_ns;
	c->seen = true;
	return known;
}

void trend__init(struct trend *t, int64_t span_ns)
{
	memset(t, 0, sizeof(*t));
	t->span_ns = span_ns;
}

bool trend__update(struct trend *t, int64_t ts_ns, double v, double *ret_per_sec)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0, den;
	uint32_t first;
	int64_t t0;

	t->ts[t->head] = ts_ns;
	t->v[t->head] = v;
	t->head = (t->head + 1) % TREND_MAX;
	if (t->n < TREND_MAX)
		t->n++;
	/* Drop samples older than the span (from the oldest end). */
	first = (t->head + TREND_MAX - t->n) % TREND_MAX;
	while (t->n > 1 && ts_ns - t->ts[first] > t->span_ns) {
		first = (first + 1) % TREND_MAX;
		t->n--;
	}
	if (t->n < 3 || ts_ns - t->ts[first] < t->span_ns / 2)
		return false;
	t0 = t->ts[first];
	for (uint32_t k = 0; k < t->n; k++) {
		uint32_t i = (first + k) % TREND_MAX;
		double x = (double)(t->ts[i] - t0) / 1e9;

		sx += x;
		sy += t->v[i];
		sxx += x * x;
		sxy += x * t->v[i];
	}
	den = t->n * sxx - sx * sx;
	if (den <= 0)
		return false;
	*ret_per_sec = (t->n * sxy - sx * sy) / den;
	return true;
}

struct rolling {
	uint32_t size, n, head;
	double sum;
	double *ring, *sorted;
};

struct rolling *rolling__new(uint32_t size)
{
	struct rolling *r;

	assert(size >= 1);
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->size = size;
	r->ring = calloc(size, sizeof(double));
	r->sorted = calloc(size, sizeof(double));
	if (!r->ring || !r->sorted)
		return rolling__free(r);
	return r;
}

struct rolling *rolling__free(struct rolling *r)
{
	if (r) {
		free(r->ring);
		free(r->sorted);
		free(r);
	}
	return NULL;
}

static uint32_t lower_bound(const double *a, uint32_t n, double x)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (a[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

double quantile_sorted(const double *sorted, uint32_t n, double p)
{
	double pos = p * (n - 1);
	uint32_t i = (uint32_t)pos;

	assert(n > 0);
	if (i + 1 >= n)
		return sorted[n - 1];
	return sorted[i] + (pos - i) * (sorted[i + 1] - sorted[i]);
}

/* Median of |x - med| over sorted a: the deviations grow outwards from the
 * median on both sides, so a two-way merge finds the middle one in O(n). */
static double mad_sorted(const double *a, uint32_t n, double med)
{
	uint32_t right = lower_bound(a, n, med), k = 0;
	int64_t left = (int64_t)right - 1;
	double lo = 0, hi = 0;

	/* The (n-1)/2-th and n/2-th smallest deviations (0-based). */
	while (k <= n / 2) {
		double d;

		if (left < 0 || (right < n && a[right] - med <= med - a[left]))
			d = a[right++] - med;
		else
			d = med - a[left--];
		if (k == (n - 1) / 2)
			lo = d;
		if (k == n / 2)
			hi = d;
		k++;
	}
	return 0.5 * (lo + hi);
}

static void fill_stats(const double *sorted, uint32_t n, double sum, struct rolling_stats *ret)
{
	ret->n = n;
	ret->mean = sum / n;
	ret->median = quantile_sorted(sorted, n, 0.5);
	ret->mad = mad_sorted(sorted, n, ret->median);
	ret->p05 = quantile_sorted(sorted, n, 0.05);
	ret->p95 = quantile_sorted(sorted, n, 0.95);
	ret->min = sorted[0];
	ret->max = sorted[n - 1];
}

void rolling__update(struct rolling *r, double v, struct rolling_stats *ret)
{
	uint32_t j = lower_bound(r->sorted, r->n, v);

	if (r->n < r->size) {
		memmove(r->sorted + j + 1, r->sorted + j, (r->n - j) * sizeof(double));
		r->sorted[j] = v;
		r->n++;
	} else {
		double old = r->ring[r->head];
		uint32_t i = lower_bound(r->sorted, r->n, old);

		assert(i < r->n && r->sorted[i] == old);
		r->sum -= old;
		if (j <= i) {
			memmove(r->sorted + j + 1, r->sorted + j, (i - j) * sizeof(double));
			r->sorted[j] = v;
		} else {
			memmove(r->sorted + i, r->sorted + i + 1, (j - 1 - i) * sizeof(double));
			r->sorted[j - 1] = v;
		}
	}
	r->sum += v;
	r->ring[r->head] = v;
	r->head = (r->head + 1) % r->size;
	fill_stats(r->sorted, r->n, r->sum, ret);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void stats_of(double *values, uint32_t n, struct rolling_stats *ret)
{
	double sum = 0;

	assert(n > 0);
	qsort(values, n, sizeof(double), cmp_double);
	for (uint32_t i = 0; i < n; i++)
		sum += values[i];
	fill_stats(values, n, sum, ret);
}
