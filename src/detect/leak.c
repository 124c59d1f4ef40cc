/* Memory-growth (leak) detector (see leak.h).
 *
 * Data.  A bin stands for the footprint at its end: the tracer's sample
 * for a slot is how the slot ended, jumps land in the bin they happened
 * in, and an empty bin carries the value before it.  Each bin keeps its
 * last value v and its highest sample hi; a coarse point (8 bins) keeps
 * its last value and its low lo (the lowest of its bins).  The fine window
 * is the latest 32 bins plus the open one, the coarse window 32 points
 * (about 4 minutes) judged by their lows.
 *
 * On a window (t_i, v_i, lo_i, hi_i):
 *
 *  floor     f_i = min(lo_i, ..., lo_last): what stayed allocated from i
 *            until now.  The growth segment starts at the last point where
 *            the floor is at its minimum; a retained increment is a point
 *            where the floor rises by more than step_bytes (the newest only
 *            once it is half of the smallest before: the open bin may be
 *            young).
 *  noise     sigma from the MAD of first differences over the whole window;
 *            swing, the median of hi - v (a sawtooth faster than the bins);
 *            noisy when a quarter of the bins drop.
 *  trend     Mann-Kendall z over the segment (tie-corrected variance) and the
 *            Theil-Sen slope, both O(m^2) on at most 33 points, run only when
 *            the O(m) floor scan already sees growth.  The first increment
 *            of a process (its start-up: the loader mapping libraries) is
 *            left out of the slope and shape.  A short segment (< 10 points)
 *            must be clean: no drop between or inside bins, R^2 >= 0.8,
 *            increments alike or growing; a long one needs a slope six
 *            robust standard errors above zero (20 points in a noisy window).
 *  decision  >= 3 retained increments, z >= z_min, retained growth >=
 *            max(min_growth, 4 sigma, 2 swing), Theil-Sen growth >=
 *            max(min_growth, 4 sigma) of which half is retained, the level
 *            above everything before the segment (a sawtooth climbing back
 *            to old peaks is not growth), rate >= min_rate, the latest
 *            increment recent, and (before a suspicion) not saturating: a
 *            cache filling up shrinks its increments (three in a row by 0.7x,
 *            or the second half of the segment rising 4x less than the first).
 *  pattern   increments above theta = max(step, 0.3 x their median) are
 *            active.  Runs of active bins with flat pauses between (pauses a
 *            fifth of the time or more) are oscillating, or burst when runs
 *            are at most 1.5 bins and pauses at least 3 bins and twice as
 *            long.  A continuous segment whose second half grows 1.6x faster
 *            than the first, increments trending up, is accelerating.
 *            Otherwise linear.
 *  rate      linear: the Theil-Sen slope; accelerating: slope of the last
 *            third carried to now; oscillating and burst: level gained over
 *            whole cycles, from the start of one run to the start of a later
 *            one (or end to end), so pauses count.
 *
 * The fine window decides first; the coarse one catches slow leaks and step
 * periods longer than the fine window, taking the fine window's shape when
 * it sees two runs.  The suspicion itself is a small state machine in
 * evaluate().
 */
#include "leak.h"

#include <assert.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define MAX_POINTS (LEAK_FINE_BINS + 1)
#define MAX_PAIRS (MAX_POINTS * (MAX_POINTS - 1) / 2)

static const char *const pattern_names[LEAK_PATTERN_COUNT] = {
	[LEAK_NONE] = "none",
	[LEAK_LINEAR] = "linear",
	[LEAK_ACCELERATING] = "accelerating",
	[LEAK_OSCILLATING] = "oscillating",
	[LEAK_BURST] = "burst",
};

const char *leak_pattern_name(enum leak_pattern p)
{
	return p < LEAK_PATTERN_COUNT ? pattern_names[p] : "none";
}

void leak_params_default(struct leak_params *p)
{
	p->resolution_ns = 1000000000LL;
	p->step_bytes = 128 << 10;
	p->min_growth_bytes = 1 << 20;
	p->min_rate = 1024;
	p->quiet_ns = 30000000000LL;
	p->z_min = 1.64;
	p->warmup_ns = 25000000000LL;
	p->patience_ns = 1000000000LL;
	p->patience_exp = 6;
	p->accel_ratio = 2.0;
	p->accel_fit = 0.3;
}

/* ---- small statistics ---- */

static double clamp01(double x)
{
	return x < 0 ? 0 : x > 1 ? 1 : x;
}

static void swap_d(double *a, double *b)
{
	double t = *a;

	*a = *b;
	*b = t;
}

/* Median of a[0..n) (n > 0); reorders a.  Hoare's selection. */
static double median(double *a, int n)
{
	int k = n / 2, lo = 0, hi = n - 1;
	double upper, lower;

	assert(n > 0);
	while (lo < hi) {
		double pivot = a[(lo + hi) / 2];
		int i = lo, j = hi;

		while (i <= j) {
			while (a[i] < pivot)
				i++;
			while (a[j] > pivot)
				j--;
			if (i <= j)
				swap_d(&a[i++], &a[j--]);
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			break;
	}
	upper = a[k];
	if (n % 2)
		return upper;
	/* a[0..k) are all <= a[k]: the lower middle is their maximum. */
	lower = a[0];
	for (int i = 1; i < k; i++)
		if (a[i] > lower)
			lower = a[i];
	return (lower + upper) / 2;
}

/* Theil-Sen slope of (x, y) and, when z is non-NULL, the Mann-Kendall z of
 * y in x order (x strictly increasing). */
static double theil_sen(const double *x, const double *y, int m, double *z)
{
	double slopes[MAX_PAIRS];
	int n = 0, s = 0;

	assert(m <= MAX_POINTS);
	for (int i = 0; i < m; i++)
		for (int j = i + 1; j < m; j++) {
			double dy = y[j] - y[i];

			s += (dy > 0) - (dy < 0);
			if (x[j] > x[i])
				slopes[n++] = dy / (x[j] - x[i]);
		}
	if (z) {
		double sorted[MAX_POINTS], var = (double)m * (m - 1) * (2 * m + 5);

		memcpy(sorted, y, (size_t)m * sizeof(double));
		for (int i = 1; i < m; i++)          /* insertion sort: m <= 33 */
			for (int j = i; j > 0 && sorted[j - 1] > sorted[j]; j--)
				swap_d(&sorted[j - 1], &sorted[j]);
		for (int i = 0; i < m;) {
			int j = i;

			while (j < m && sorted[j] == sorted[i])
				j++;
			var -= (double)(j - i) * (j - i - 1) * (2 * (j - i) + 5);
			i = j;
		}
		var /= 18;
		*z = var > 0 ? (s - (s > 0) + (s < 0)) / sqrt(var) : 0;
	}
	return n ? median(slopes, n) : 0;
}

/* ---- one window ---- */

struct analysis {
	bool leak;                /* the evidence says leak */
	bool resolvable;          /* per-bin increments stand well above step_bytes */
	double conf;
	enum leak_pattern pattern;
	double rate, accel;
	int64_t start_ns;         /* first bin of the growth segment */
	int64_t anchor_ns;        /* where patience counts from (see scan_floor()) */
	int64_t first_ep_ns;      /* where the first episode of growth in the window began */
	double anchor_rate;       /* the growth's rate since then: sets the patience */
	int64_t floor_start;      /* floor at the segment start */
	int64_t max_gap_ns;       /* longest time between retained increments */
	int runs;                 /* runs of growth separated by pauses */
	double short_run;         /* the length of their shortest quarter, points */
	double sigma;             /* noise of the window, bytes */
	int64_t last_inc_ns;      /* time of the latest retained increment */
	bool settled;             /* the growth began from a settled footprint (see leak.h) */
	bool ongoing;             /* still growing: the latest increment is within 2.5 gaps (or 2 points) */
	int seg, anchor, episodes;   /* the segment's first point, the anchor's, episodes of growth */
	int step_at;              /* the top of one increment that carries most of the growth, or -1 */
};

/* Significance of the quadratic term needed (an F statistic with one
 * degree of freedom: p < 0.002), and the share of a line's residual a
 * quadratic may leave to keep a growth accelerating once it was. */
#define ACCEL_F_MIN 10.0
#define ACCEL_HOLD_FIT 0.8

/* True when y over x grows faster and faster (see classify()); *ret_accel
 * is then the acceleration, bytes/s^2.  A least-squares quadratic on
 * polynomials orthogonal over x, so the two fits share one pass. */
static bool accelerating(const struct leak_params *p, const double *x, const double *y, int m, bool was_accel,
			 double *ret_accel)
{
	double mx = 0, my = 0, suu = 0, su3 = 0, suy = 0, a1, a0, sqq = 0, sqy = 0, b, c, rss_lin = 0, rss_quad, r0, r1;
	double grain = (double)p->step_bytes * (double)p->step_bytes / 12;

	for (int k = 0; k < m; k++) {
		mx += x[k] / m;
		my += y[k] / m;
	}
	for (int k = 0; k < m; k++) {
		double u = x[k] - mx;

		suu += u * u;
		su3 += u * u * u;
		suy += u * (y[k] - my);
	}
	if (suu <= 0)
		return false;
	a1 = su3 / suu;
	a0 = suu / m;
	for (int k = 0; k < m; k++) {
		double u = x[k] - mx, q = u * u - a1 * u - a0;

		sqq += q * q;
		sqy += q * (y[k] - my);
	}
	if (sqq <= 0)
		return false;
	b = suy / suu;
	c = sqy / sqq;
	for (int k = 0; k < m; k++) {
		double r = y[k] - my - b * (x[k] - mx);

		rss_lin += r * r;
	}
	rss_quad = fmax(rss_lin - c * c * sqq, 0);
	/* the slope of the quadratic at both ends of the segment */
	r0 = b + c * (2 * (x[0] - mx) - a1);
	r1 = b + c * (2 * (x[m - 1] - mx) - a1);
	if (c <= 0 || r1 <= 0 || c * c * sqq < ACCEL_F_MIN * fmax(rss_quad / (m - 3), grain))
		return false;
	if (was_accel ? rss_quad > ACCEL_HOLD_FIT * rss_lin
		      : rss_quad > p->accel_fit * rss_lin || (r0 > 0 && r1 < p->accel_ratio * r0))
		return false;
	*ret_accel = 2 * c;
	return true;
}

/* The length of the shortest quarter of n runs of len[] (sorts len). */
static double short_runs(double *len, int n)
{
	for (int i = 1; i < n; i++)          /* insertion sort: n <= 33 */
		for (int j = i; j > 0 && len[j - 1] > len[j]; j--)
			swap_d(&len[j - 1], &len[j]);
	return len[(n - 1) / 4];
}

/* Pattern and rate of the growth segment (x in seconds from its start).
 * true_start says the segment begins where the series does, so a run of
 * growth at its very start really starts there rather than before the
 * window. */
static void classify(const struct leak_params *p, const double *x, const double *y, int m, double ts_slope,
		     bool true_start, bool was_accel, bool coarse, struct analysis *a)
{
	struct { int start, end; } runs[MAX_POINTS];
	double d[MAX_POINTS], pos[MAX_POINTS], pause[MAX_POINTS], len[MAX_POINTS], theta, med_pos, accel, spacing;
	int npos = 0, nruns = 0, run_bins = 0, gap_bins = 0, drops = 0, npause = 0, rough = 0;

	a->pattern = LEAK_LINEAR;
	a->rate = ts_slope;
	a->accel = 0;
	for (int k = 1; k < m; k++) {
		d[k] = y[k] - y[k - 1];
		if (d[k] > (double)p->step_bytes)
			pos[npos++] = d[k];
	}
	if (!npos)
		return;
	med_pos = median(pos, npos);
	theta = fmax((double)p->step_bytes, 0.3 * med_pos);
	a->resolvable = med_pos >= 4.0 * (double)p->step_bytes;

	/* Runs of active bins (d > theta) and the pauses between them. */
	for (int k = 1; k < m; k++) {
		if (d[k] > theta) {
			if (!nruns || runs[nruns - 1].end != k - 1)
				runs[nruns++].start = k;
			runs[nruns - 1].end = k;
			run_bins++;
		} else if (nruns) {
			/* pause bins: only those followed by another run count */
			pause[npause++] = fabs(d[k]);
		}
	}
	if (nruns)
		npause -= m - 1 - runs[nruns - 1].end;     /* trailing bins are no pause (yet) */
	for (int i = 0; i < npause; i++) {
		rough += pause[i] > 0.5 * theta;
		drops += pause[i] > theta;                 /* |d| > theta in a pause: a drop */
	}
	gap_bins = npause;
	a->runs = nruns;
	/* How long each run of growth lasted, in points: from the end of the
	 * point before it (an empty bin stands at its end) to the last change
	 * in its last point.  A jump that straddles a bin boundary lasts a
	 * little more than one point, a run of growth over two bins two. */
	spacing = m > 1 ? x[m - 1] / (m - 1) : 1;
	for (int i = 0; i < nruns; i++)
		len[i] = fmax(1, (x[runs[i].end] - x[runs[i].start - 1]) / spacing);
	if (nruns) {
		double sorted[MAX_POINTS];

		memcpy(sorted, len, (size_t)nruns * sizeof(double));
		a->short_run = short_runs(sorted, nruns);
	}

	/* Steps: runs of growth separated by flat pauses (not noise that
	 * happens to dip), the level still going up. */
	if (nruns >= 2 && a->resolvable && npause > 0 && median(pause, npause) <= 0.25 * theta && rough * 4 <= npause &&
	    drops * 5 <= gap_bins) {
		double mean_run = (double)run_bins / nruns, mean_gap = (double)gap_bins / (nruns - 1);
		double period[MAX_POINTS], med_run, med_gap;

		/* Bursts: growth within a bin or so, long pauses, told by how
		 * long runs last (a quarter of them a point and a half at
		 * most, half of them two) and the start-to-start period (a
		 * pause of two coarse points is 16 bins).  Runs of growth: pauses at
		 * least a fifth of the time (a bin missing here and there in
		 * steady growth is not a pause), and longer than single bins
		 * between single bins (steps every other bin, as huge pages
		 * make, are steady growth at this resolution). */
		for (int i = 1; i < nruns; i++)
			period[i - 1] = runs[i].start - runs[i - 1].start;
		med_run = median(len, nruns);
		med_gap = median(period, nruns - 1) - a->short_run;
		if (a->short_run <= 1.5 && med_run <= 2 && med_gap >= (coarse ? 2 : 3) && med_gap >= 2 * a->short_run)
			a->pattern = LEAK_BURST;
		else if (gap_bins * 4 >= run_bins && (mean_gap >= 1.5 || mean_run >= 2))
			a->pattern = LEAK_OSCILLATING;
	}
	if (a->pattern != LEAK_LINEAR) {
		/* The net rate over whole cycles: from the start of one run to
		 * the start of a later one, or from the end of one to the end
		 * of a later one, whichever spans longer; a run cut by the
		 * window edge or still going has no usable start or end.  The
		 * level before a run that starts the series is at least its
		 * first bin less a typical increment (the first increment may
		 * carry the process's start-up). */
		int s0 = -1, s1 = -1, e0 = -1, e1 = -1;
		double dts = 0, dte = 0, rate_s = 0, rate_e = 0;

		for (int i = 0; i < nruns; i++) {
			if (runs[i].start > 1 || true_start) {
				if (s0 < 0)
					s0 = i;
				s1 = i;
			}
			if (runs[i].end < m - 1) {
				if (e0 < 0)
					e0 = i;
				e1 = i;
			}
		}
		if (s0 >= 0 && s1 > s0) {
			double b0 = runs[s0].start == 1 ? fmax(y[0], y[1] - med_pos) : y[runs[s0].start - 1];

			dts = x[runs[s1].start] - x[runs[s0].start];
			rate_s = (y[runs[s1].start - 1] - b0) / dts;
		}
		if (e0 >= 0 && e1 > e0) {
			dte = x[runs[e1].end] - x[runs[e0].end];
			rate_e = (y[runs[e1].end] - y[runs[e0].end]) / dte;
		}
		if (dts > 0 || dte > 0)
			a->rate = dts >= dte ? rate_s : rate_e;
		return;
	}

	/* Continuous growth: is it speeding up?  A quadratic must leave much
	 * less than a line does, significantly (against the counter's grain
	 * at least), and the rate must grow accel_ratio times over the
	 * segment; once shown, significant curvature keeps it. */
	if (m >= 6 && nruns <= 2 && accelerating(p, x, y, m, was_accel, &accel)) {
		int k0 = m - (m / 3 > 4 ? m / 3 : 4);
		double xl = 0;

		/* The slope of the last third is the rate at its middle; carry
		 * it to now with the acceleration. */
		for (int k = k0; k < m; k++)
			xl += x[k] / (m - k0);
		a->pattern = LEAK_ACCELERATING;
		a->accel = accel;
		a->rate = theil_sen(x + k0, y + k0, m - k0, NULL) + accel * (x[m - 1] - xl);
	}
}

/* True when the increments of a short segment look like one process at
 * work rather than noise: those that grow are alike (the smallest at least
 * half the largest) or keep getting larger (accelerating).  The last one may
 * cover part of a bin (the open bin), so it only counts when it is large. */
static bool steady(const double *y, int m, double step)
{
	double lo = INFINITY, hi = 0, prev = 0, last = y[m - 1] - y[m - 2];
	bool rising = true;

	for (int k = 1; k < m - 1; k++) {
		double d = y[k] - y[k - 1];

		if (d <= step)
			continue;
		lo = fmin(lo, d);
		hi = fmax(hi, d);
		if (d < prev - step)
			rising = false;
		prev = d;
	}
	if (last > step && last >= 0.5 * hi) {
		lo = fmin(lo, last);
		hi = fmax(hi, last);
		if (last < prev - step)
			rising = false;
	}
	return hi > 0 && (lo >= 0.5 * hi || rising);
}

/* A window handed to analyse(): bins (or coarse points) in time order. */
struct window {
	int64_t t[MAX_POINTS], v[MAX_POINTS], lo[MAX_POINTS], hi[MAX_POINTS];
	int n;
	bool from_origin;         /* the first point is the series' baseline */
	bool coarse;              /* points of LEAK_COARSE_FACTOR bins */
	bool from_birth;          /* ... and the process was born then (a new process, not one first seen) */
};

/* What the floor says: where the growth began and how much of it stayed. */
struct floor_scan {
	int s;                    /* segment start: last point at the floor's minimum */
	int n_inc;                /* retained increments */
	int64_t last_inc_ns;      /* time of the latest one, -1: none */
	int64_t max_gap_ns;       /* longest time between two of them */
	double median_gap_ns;     /* the typical time between two of them (0: fewer than two) */
	double max_inc;           /* the largest one */
	int max_inc_at;           /* its point */
	double retained;          /* rise of the floor over the segment */
	int64_t anchor_ns;        /* where the growth's patience counts from (see scan_floor()) */
	int anchor;               /* ... its point */
	int64_t first_ep_ns;      /* the start of the first episode */
	double anchor_rate;       /* bytes/s the floor rose from there to the end */
	int episodes;             /* runs of growth that carry a tenth of it or more */
	double before;            /* highest value up to the segment start */
	bool saturating;          /* the latest three increments shrink by 0.7x each */
	int64_t f[MAX_POINTS];    /* the floor at each point */
};

/* Episodes of growth: increments with pauses of fewer than EPISODE_GAP
 * bins (two coarse points) between them, carrying EPISODE_SHARE of the
 * growth or more. */
#define EPISODE_GAP 3
#define EPISODE_SHARE 0.1

/* Scans the floor of window w; the segment starts at `start` (< 0: at the
 * last point where the floor is at its minimum). */
static void scan_floor(const struct window *w, double step, int start, struct floor_scan *fs)
{
	int64_t *f = fs->f;
	double run[MAX_POINTS] = { 0 }, gaps[MAX_POINTS], nrun_min = 0;
	int nrun = 0, ngaps = 0, n = w->n;

	memset(fs, 0, offsetof(struct floor_scan, f));
	fs->last_inc_ns = -1;
	fs->before = -INFINITY;
	f[n - 1] = w->lo[n - 1];
	for (int i = n - 2; i >= 0; i--)
		f[i] = w->lo[i] < f[i + 1] ? w->lo[i] : f[i + 1];
	while (fs->s + 1 < n && f[fs->s + 1] == f[0])
		fs->s++;
	if (start >= 0)
		fs->s = start;
	for (int i = fs->s + 1; i < n; i++) {
		double inc = (double)(f[i] - f[i - 1]);

		/* The newest point may be a bin caught early (the open bin):
		 * a sliver of growth there does not count until it is half of
		 * the smallest one before. */
		if (i == n - 1 && nrun_min > 0 && inc < 0.5 * nrun_min)
			continue;
		if (inc > step) {
			nrun_min = nrun_min > 0 ? fmin(nrun_min, inc) : inc;
			fs->n_inc++;
			if (inc > fs->max_inc) {
				fs->max_inc = inc;
				fs->max_inc_at = i;
			}
			if (fs->last_inc_ns >= 0)
				gaps[ngaps++] = (double)(w->t[i] - fs->last_inc_ns);
			if (fs->last_inc_ns >= 0 && w->t[i] - fs->last_inc_ns > fs->max_gap_ns)
				fs->max_gap_ns = w->t[i] - fs->last_inc_ns;
			fs->last_inc_ns = w->t[i];
			run[nrun++] = inc;
		} else if (i < n - 1) {
			nrun = 0;
		}
	}
	fs->median_gap_ns = ngaps ? median(gaps, ngaps) : 0;
	/* A cache filling up: three shrinking increments in a row, or (with
	 * six points or more) the floor rising four times less in the second
	 * half of the segment than in the first. */
	fs->saturating = nrun >= 3 && run[nrun - 1] <= 0.7 * run[nrun - 2] && run[nrun - 2] <= 0.7 * run[nrun - 3];
	if (n - fs->s >= 6) {
		int64_t half = w->t[fs->s] + (w->t[n - 1] - w->t[fs->s]) / 2;
		int mid = fs->s;

		while (mid + 1 < n && w->t[mid + 1] <= half)
			mid++;
		if (f[n - 1] - f[mid] < (f[mid] - f[fs->s]) / 4)
			fs->saturating = true;
	}
	fs->retained = (double)(f[n - 1] - f[fs->s]);
	/* Where patience counts from: the start of the latest episode of
	 * growth, or of the first when three or more repeat (a pattern, as
	 * oscillating and burst leaks make; two steps are two warm-ups).  The
	 * loader's first increment at a process's start is no episode, nor
	 * are small rises (noise in the lows). */
	{
		double spacing = n > 1 ? (double)(w->t[n - 1] - w->t[0]) / (n - 1) : 1;
		int first = -1, latest = -1, start = -1, prev = -1;
		double grown = 0;

		for (int i = fs->s + 1; i <= n; i++) {
			bool inc = i < n && (double)(f[i] - f[i - 1]) > step && !(i == 1 && w->from_birth);

			if (i < n && !inc)
				continue;
			if (start >= 0 && (i == n || (double)(w->t[i] - w->t[prev]) > (w->coarse ? 1.5 : EPISODE_GAP) * spacing)) {
				if (grown >= EPISODE_SHARE * fs->retained) {
					fs->episodes++;
					if (first < 0)
						first = start;
					latest = start;
				}
				start = -1;
			}
			if (i == n)
				break;
			if (start < 0) {
				start = i - 1;
				grown = 0;
			}
			grown += (double)(f[i] - f[i - 1]);
			prev = i;
		}
		fs->anchor = fs->episodes >= 3 ? first : latest >= 0 ? latest : fs->s;
		fs->first_ep_ns = w->t[first >= 0 ? first : fs->s];
		fs->anchor_ns = w->t[fs->anchor];
		if (w->t[n - 1] > fs->anchor_ns)
			fs->anchor_rate = (double)(f[n - 1] - f[fs->anchor]) / ((double)(w->t[n - 1] - fs->anchor_ns) / 1e9);
	}
	for (int i = 0; i <= fs->s; i++)
		fs->before = fmax(fs->before, (double)w->hi[i]);
}

/* How noisy the window is. */
struct noise {
	double sigma;             /* from first differences (MAD), at least the floor given */
	double swing;             /* median of how far a bin rose above where it ended */
	bool noisy;               /* a quarter of the bins drop */
};

static void measure_noise(const struct window *w, double step, double sigma_floor, struct noise *nz)
{
	double d[MAX_POINTS], center;
	int n = w->n, drops = 0;

	/* First differences: a trend or a few steps barely move their
	 * median, and the whole window is not biased the way the segment
	 * (which starts at the minimum) is. */
	for (int i = 1; i < n; i++) {
		d[i - 1] = (double)(w->v[i] - w->v[i - 1]);
		drops += d[i - 1] < -step;
	}
	center = median(d, n - 1);
	for (int i = 1; i < n; i++)
		d[i - 1] = fabs((double)(w->v[i] - w->v[i - 1]) - center);
	nz->sigma = fmax(1.4826 * median(d, n - 1) / M_SQRT2, sigma_floor);
	nz->noisy = drops * 4 >= n - 1;
	/* Zero for growth; the amplitude of a sawtooth faster than the bins. */
	for (int i = 0; i < n; i++)
		d[i] = (double)(w->hi[i] - w->v[i]);
	nz->swing = median(d, n);
}

/* The trend of the growth segment (x in seconds from its start). */
struct trend {
	double slope;             /* Theil-Sen, bytes/s */
	double z;                 /* Mann-Kendall */
	bool shape_ok;            /* clean (short) or significant (long) growth */
};

static void test_trend(const double *x, const double *y, const double *dip, int m, double step, bool noisy,
		       bool true_start, struct trend *tr)
{
	double mx = 0, my = 0, sxx = 0, syy = 0, sxy = 0, resid[MAX_POINTS], center, sigma_r, first, rest = 0;
	bool clean = true;
	int k0 = 0;

	theil_sen(x, y, m, &tr->z);
	/* The first increment of a process carries its start-up (the loader
	 * mapping libraries), and so may that of a young segment when it
	 * dwarfs the others: rate and shape are judged without it. */
	first = y[1] - y[0];
	for (int k = 2; k < m; k++)
		rest = fmax(rest, y[k] - y[k - 1]);
	if (m >= 4 && (true_start || (m < 10 && first > 2 * rest)))
		k0 = 1;
	x += k0;
	y += k0;
	m -= k0;
	tr->slope = theil_sen(x, y, m, NULL);
	for (int k = 0; k < m; k++) {
		mx += x[k] / m;
		my += y[k] / m;
		/* clean: no drop between bins, nor inside one */
		if (k && (y[k] - y[k - 1] < -step || dip[k + k0] > step))
			clean = false;
	}
	for (int k = 0; k < m; k++) {
		sxx += (x[k] - mx) * (x[k] - mx);
		syy += (y[k] - my) * (y[k] - my);
		sxy += (x[k] - mx) * (y[k] - my);
		resid[k] = y[k] - tr->slope * x[k];
	}
	center = median(resid, m);
	for (int k = 0; k < m; k++)
		resid[k] = fabs(y[k] - tr->slope * x[k] - center);
	sigma_r = 1.4826 * median(resid, m);
	/* With few points a noise estimate means little: a short segment
	 * must be clean growth (no drop, a straight enough line, steady
	 * increments); a long one needs a slope six robust standard errors
	 * above zero.  In a noisy window only the long test, on at least 20
	 * points, applies. */
	if (m + k0 < 10 && !noisy)
		tr->shape_ok = clean && syy > 0 && sxy * sxy >= 0.8 * sxx * syy && steady(y, m, step);
	else
		tr->shape_ok = m >= (noisy ? 20 : 10) && tr->slope * sqrt(sxx) >= 6 * fmax(sigma_r, step / 2);
}

/* Analyses one window, its growth segment starting at point `start` (< 0:
 * where the floor is last at its minimum); min_points is the shortest segment judged,
 * sigma_floor a noise level known from elsewhere, and `flagged` says a
 * suspicion is open (then rate and pattern are wanted even on thin
 * evidence, and saturation no longer matters). */
static void analyse_from(const struct leak_params *p, const struct window *w, int start, int min_points,
			 double sigma_floor, bool flagged, bool was_accel, int64_t born_ns, struct analysis *a)
{
	double x[MAX_POINTS], y[MAX_POINTS], dip[MAX_POINTS], step = (double)p->step_bytes;
	double min_growth = (double)p->min_growth_bytes;
	double growth, quiet, need, recent;
	struct floor_scan fs;
	struct noise nz;
	struct trend tr;
	int m;

	memset(a, 0, sizeof(*a));
	if (w->n < 4)
		return;
	assert(w->n <= MAX_POINTS);
	scan_floor(w, step, start, &fs);
	a->seg = fs.s;
	a->anchor = fs.anchor;
	a->episodes = fs.episodes;
	a->step_at = fs.max_inc > 0.5 * fs.retained ? fs.max_inc_at : -1;
	measure_noise(w, step, sigma_floor, &nz);
	a->sigma = nz.sigma;
	a->last_inc_ns = fs.last_inc_ns;
	a->max_gap_ns = fs.max_gap_ns;
	a->start_ns = w->t[fs.s];
	a->floor_start = w->lo[fs.s];
	/* Still growing: the latest increment no further back than 2.5
	 * typical gaps between increments, or two points (and, below, the
	 * floor rising over that span as the rate says). */
	recent = fmax(2.0 * (double)(w->t[w->n - 1] - w->t[0]) / (w->n - 1), 2.5 * fs.median_gap_ns);
	a->ongoing = fs.last_inc_ns >= 0 && (double)(w->t[w->n - 1] - fs.last_inc_ns) <= recent;
	/* Settled: the growth began when the process was old enough, and
	 * flat (nothing retained added beyond a tenth of the growth) for the
	 * horizon before (before the window: known flat only back to the
	 * series' start; a process first seen long after its birth counts as
	 * flat since). */
	a->anchor_ns = fs.anchor_ns;
	a->first_ep_ns = fs.first_ep_ns;
	a->anchor_rate = fs.anchor_rate;
	a->settled = a->anchor_ns - born_ns >= p->warmup_ns && (w->from_origin || a->anchor_ns - w->t[0] >= p->warmup_ns);
	if (a->settled) {
		int j = fs.anchor;

		while (j > 0 && w->t[fs.anchor] - w->t[j - 1] <= p->warmup_ns)
			j--;
		a->settled = (double)(fs.f[fs.anchor] - fs.f[j]) <= fmax(step, EPISODE_SHARE * fs.retained);
	}
	a->conf = 0.45 * clamp01(fs.n_inc / 3.0) * clamp01(fs.retained / min_growth);
	m = w->n - fs.s;
	if ((!flagged && (fs.n_inc < 3 || fs.retained < min_growth || m < min_points)) || m < 4)
		return;

	for (int k = 0; k < m; k++) {
		x[k] = (double)(w->t[fs.s + k] - w->t[fs.s]) / 1e9;
		y[k] = (double)w->v[fs.s + k];
		dip[k] = (double)(w->hi[fs.s + k] - w->v[fs.s + k]);
	}
	test_trend(x, y, dip, m, step, nz.noisy, w->from_origin && fs.s == 0, &tr);
	growth = tr.slope * x[m - 1];
	quiet = fmax((double)p->quiet_ns, 2.5 * (double)fs.max_gap_ns);
	need = fmax(min_growth, fmax(4 * nz.sigma, 2 * nz.swing));
	/* The level must also break out above everything seen before the
	 * growth began: noise that happens to rise from its minimum, or a
	 * sawtooth climbing back to its old peaks, does not. */
	a->leak = fs.n_inc >= 3 && tr.shape_ok && tr.z >= p->z_min && fs.retained >= need &&
		  growth >= fmax(min_growth, 4 * nz.sigma) && fs.retained >= 0.5 * growth &&
		  (double)w->v[w->n - 1] - fs.before >= fmax(step, 2 * nz.sigma) && tr.slope >= p->min_rate &&
		  (flagged || !fs.saturating) && fs.last_inc_ns >= 0 &&
		  (double)(w->t[w->n - 1] - fs.last_inc_ns) <= quiet;
	/* One step is not a leak, whatever small rises come with it (the
	 * loader at start, noise in the lows): no increment may carry more
	 * than half of the growth before a suspicion opens. */
	if (!flagged && fs.max_inc > 0.5 * fs.retained)
		a->leak = false;
	classify(p, x, y, m, tr.slope, w->from_origin && fs.s == 0, was_accel, w->coarse, a);
	if (a->ongoing && a->rate > 0) {
		/* Noise that ticks the floor up at the end of a step that is
		 * over is no growth: the recent rise must be a quarter of what
		 * the rate adds. */
		int j = w->n - 1;
		double dt;

		while (j > fs.s && (double)(w->t[w->n - 1] - w->t[j]) < recent)
			j--;
		dt = (double)(w->t[w->n - 1] - w->t[j]) / 1e9;
		a->ongoing = (double)(fs.f[w->n - 1] - fs.f[j]) >= fmax(step, 0.25 * a->rate * dt);
	}
	if (a->leak) {
		double c_z = clamp01((tr.z - p->z_min) / (4 - p->z_min));
		double c_n = clamp01((fs.n_inc - 3) / 7.0);
		double c_r = growth > 0 ? clamp01(fs.retained / growth) : 0;

		a->conf = 0.5 + 0.5 * (0.4 * c_z + 0.35 * c_n + 0.25 * c_r);
	} else {
		a->conf = fmin(a->conf, 0.49);
	}
}

/* Analyses window w (see analyse_from()): the segment from the floor's
 * minimum first; when that is no leak and holds a step (a warm-up) and then
 * growth of another kind, what follows the step on its own: the latest of
 * two episodes, or what comes after one increment that carries most of the
 * growth.  Three episodes or more are one pattern and are not split, nor
 * is anything while a suspicion is open (its shape wants the whole). */
static void analyse(const struct leak_params *p, const struct window *w, int min_points, double sigma_floor,
		    bool flagged, bool was_accel, int64_t born_ns, struct analysis *a)
{
	analyse_from(p, w, -1, min_points, sigma_floor, flagged, was_accel, born_ns, a);
	if (a->leak || flagged)
		return;
	if (a->episodes == 2 && a->anchor > a->seg)
		analyse_from(p, w, a->anchor, min_points, sigma_floor, flagged, was_accel, born_ns, a);
	else if (a->step_at > a->seg && a->step_at < w->n - 4)
		analyse_from(p, w, a->step_at, min_points, sigma_floor, flagged, was_accel, born_ns, a);
}

/* ---- rings and bins ---- */

static void ring_push(struct leak_ring *r, uint32_t cap, struct leak_point pt)
{
	if (r->len < cap) {
		r->p[(r->head + r->len++) % cap] = pt;
	} else {
		r->p[r->head] = pt;
		r->head = (r->head + 1) % cap;
	}
}

static struct leak_point *ring_last(struct leak_ring *r, uint32_t cap)
{
	return r->len ? &r->p[(r->head + r->len - 1) % cap] : NULL;
}

static void window_add(struct window *w, const struct leak_point *pt)
{
	assert(w->n < MAX_POINTS);
	w->t[w->n] = pt->t;
	w->v[w->n] = pt->v;
	w->lo[w->n] = pt->lo;
	w->hi[w->n] = pt->hi;
	w->n++;
}

static void ring_copy(const struct leak_ring *r, uint32_t cap, struct window *w)
{
	w->n = 0;
	for (uint32_t i = 0; i < r->len; i++)
		window_add(w, &r->p[(r->head + i) % cap]);
}

static void close_bin(struct leak_series *s, struct leak_point pt)
{
	/* A bin stands for its last value; only coarse points keep a low
	 * (the lowest of their bins), so a jump that spans the samples of
	 * one bin is not counted twice. */
	pt.lo = pt.v;
	ring_push(&s->fine, LEAK_FINE_BINS, pt);
	if (s->acc_bins == 0) {
		s->acc = pt;
	} else {
		s->acc.t = pt.t;
		s->acc.v = pt.v;
		if (pt.lo < s->acc.lo)
			s->acc.lo = pt.lo;
		if (pt.hi > s->acc.hi)
			s->acc.hi = pt.hi;
	}
	if (++s->acc_bins == LEAK_COARSE_FACTOR) {
		ring_push(&s->coarse, LEAK_COARSE_BINS, s->acc);
		s->acc_bins = 0;
	}
}

/* Closes the open bin and every empty one before bin b, then opens b. */
static void move_to_bin(struct leak_series *s, int64_t b)
{
	const int64_t res = s->params->resolution_ns;
	const int64_t keep = LEAK_FINE_BINS + (int64_t)LEAK_COARSE_FACTOR * LEAK_COARSE_BINS;
	int64_t last = s->verdict.bytes, k;

	assert(b > s->bin);
	if (s->open_has_sample)
		close_bin(s, s->open);
	else
		close_bin(s, (struct leak_point){ s->origin_ns + (s->bin + 1) * res, last, last, last });
	/* Older empty bins would fall out of both rings anyway.  An empty
	 * bin ends with the value it started with. */
	k = b - s->bin - 1 > keep ? b - keep : s->bin + 1;
	for (; k < b; k++)
		close_bin(s, (struct leak_point){ s->origin_ns + (k + 1) * res, last, last, last });
	s->bin = b;
	s->open = (struct leak_point){ s->origin_ns + (b + 1) * res, last, last, last };
	s->open_has_sample = false;
	s->dirty = true;
}

/* The bin a sample falls in; before the origin: the baseline's. */
static int64_t bin_of(const struct leak_series *s, int64_t time_ns)
{
	if (time_ns < s->origin_ns)
		return -1;
	return (time_ns - s->origin_ns) / s->params->resolution_ns;
}

struct leak_series *leak_series__new(const struct leak_params *params, int64_t origin_ns, int64_t born_ns,
				     int64_t base)
{
	struct leak_series *s = calloc(1, sizeof(*s));
	struct leak_point baseline = { origin_ns - 1, base, base, base };

	if (!s)
		return NULL;
	assert(params->resolution_ns > 0);
	s->params = params;
	s->origin_ns = origin_ns;
	s->born_ns = born_ns < origin_ns ? born_ns : origin_ns;
	/* The baseline is a bin (and a coarse point) of its own just before
	 * the origin, so growth right at the start shows as an increment. */
	ring_push(&s->fine, LEAK_FINE_BINS, baseline);
	ring_push(&s->coarse, LEAK_COARSE_BINS, baseline);
	s->open = (struct leak_point){ origin_ns + params->resolution_ns, base, base, base };
	s->verdict.bytes = base;
	s->verdict.pattern = LEAK_NONE;
	s->now_ns = origin_ns;
	s->resolved_ns = INT64_MIN;
	return s;
}

struct leak_series *leak_series__free(struct leak_series *s)
{
	free(s);
	return NULL;
}

void leak_series__add(struct leak_series *s, int64_t time_ns, int64_t bytes)
{
	int64_t b = bin_of(s, time_ns);

	s->samples++;
	if (b < s->bin) {
		/* Late: fold into the newest closed bin when it is that recent. */
		struct leak_point *last = ring_last(&s->fine, LEAK_FINE_BINS);

		if (!last || time_ns < last->t || b < s->bin - 1)
			return;
		last->t = time_ns;
		last->v = last->lo = bytes;
		if (bytes > last->hi)
			last->hi = bytes;
		if (s->acc_bins) {
			s->acc.v = bytes;
			if (bytes < s->acc.lo)
				s->acc.lo = bytes;
			if (bytes > s->acc.hi)
				s->acc.hi = bytes;
		}
		if (!s->open_has_sample)
			s->open.v = s->open.lo = s->open.hi = bytes;
		s->verdict.bytes = bytes;
		s->dirty = true;
		return;
	}
	if (b > s->bin)
		move_to_bin(s, b);
	s->open.t = time_ns;
	s->open.v = s->open.lo = bytes;
	s->open.hi = s->open_has_sample && s->open.hi > bytes ? s->open.hi : bytes;
	s->open_has_sample = true;
	s->verdict.bytes = bytes;
	if (time_ns > s->now_ns)
		s->now_ns = time_ns;
	s->dirty = true;
}

void leak_series__advance(struct leak_series *s, int64_t now_ns)
{
	int64_t b = bin_of(s, now_ns);

	if (b > s->bin)
		move_to_bin(s, b);
	if (now_ns > s->now_ns)
		s->now_ns = now_ns;
}

/* The fine window: closed bins and the open bin when it has a sample. */
static void fine_window(const struct leak_series *s, struct window *w)
{
	ring_copy(&s->fine, LEAK_FINE_BINS, w);
	w->from_origin = w->n && w->t[0] == s->origin_ns - 1;
	w->from_birth = w->from_origin && s->origin_ns - s->born_ns <= s->params->resolution_ns;
	w->coarse = false;
	if (s->open_has_sample) {
		struct leak_point pt = s->open;

		pt.lo = pt.v;
		window_add(w, &pt);
	}
}

/* The coarse window, judged by the lows of its points (what stayed
 * allocated through each of them): closed points and the one being built
 * once it holds half its bins (the low of fewer bins says little). */
static void coarse_window(const struct leak_series *s, struct window *w)
{
	struct leak_point part = s->acc;

	ring_copy(&s->coarse, LEAK_COARSE_BINS, w);
	w->from_origin = w->n && w->t[0] == s->origin_ns - 1;
	w->from_birth = w->from_origin && s->origin_ns - s->born_ns <= s->params->resolution_ns;
	w->coarse = true;
	if (s->acc_bins >= LEAK_COARSE_FACTOR / 2) {
		if (s->open_has_sample) {
			part.t = s->open.t;
			part.v = s->open.v;
			part.lo = s->open.v < part.lo ? s->open.v : part.lo;
		}
		window_add(w, &part);
	}
	for (int i = 0; i < w->n; i++)
		w->v[i] = w->hi[i] = w->lo[i];
}

/* What the windows say now: the fine one first; the coarse one for slow
 * growth and long step periods, with the fine one's shape when it sees at
 * least two runs of growth.  flagged: a suspicion or watch is open, so
 * rate and pattern are wanted on thin evidence (see analyse()). */
static void assess(const struct leak_series *s, bool flagged, struct analysis *ret)
{
	const struct leak_params *p = s->params;
	const struct leak_verdict *vd = &s->verdict;
	bool was_accel = (vd->leak || vd->watching) && vd->pattern == LEAK_ACCELERATING;
	struct analysis fine, coarse, shape;
	struct window w;

	fine_window(s, &w);
	analyse(p, &w, 4, 0, flagged, was_accel, s->born_ns, &fine);
	if (fine.leak && fine.resolvable) {
		*ret = fine;
		return;
	}
	coarse_window(s, &w);
	analyse(p, &w, 6, fine.sigma, false, was_accel, s->born_ns, &coarse);
	if (fine.leak) {
		/* Increments too small to resolve per bin: the coarse view
		 * knows the shape better. */
		*ret = fine;
		if (coarse.leak)
			ret->pattern = coarse.pattern;
		return;
	}
	if (!coarse.leak) {
		*ret = fine;
		return;
	}
	*ret = coarse;
	fine_window(s, &w);
	analyse(p, &w, 4, 0, true, was_accel, s->born_ns, &shape);
	if (shape.runs >= 2 && shape.resolvable &&
	    (shape.pattern == LEAK_BURST || shape.pattern == LEAK_OSCILLATING)) {
		ret->pattern = shape.pattern;
		ret->rate = shape.rate;
	} else if ((ret->pattern == LEAK_BURST || ret->pattern == LEAK_OSCILLATING) && shape.runs >= 1 &&
		   shape.resolvable) {
		/* Coarse points see the rhythm but not how long a run lasts:
		 * the fine window's runs say jumps or runs of growth. */
		ret->pattern = shape.short_run <= 1.5 ? LEAK_BURST : LEAK_OSCILLATING;
	} else if ((vd->leak || vd->watching) && (vd->pattern == LEAK_BURST || vd->pattern == LEAK_OSCILLATING)) {
		/* Between two runs the fine window may hold only one: keep
		 * the shape it saw, coarse points cannot tell it. */
		ret->pattern = vd->pattern;
	}
}

/* How long growth that began at a settled (or not) footprint, at this rate,
 * is watched before it may be a leak (see leak.h). */
static int64_t patience_of(const struct leak_params *p, bool settled, double rate)
{
	double wait;

	if (!settled)
		return p->warmup_ns;
	wait = (double)p->patience_ns * pow(rate / (1024.0 * 1024.0), p->patience_exp);
	return (int64_t)fmin(wait, (double)p->warmup_ns);
}

/* A watch is low confidence by definition: below 0.5, growing with the
 * evidence. */
static double watch_confidence(double evidence)
{
	return fmin(0.49, 0.5 * evidence);
}

/* Takes the rate, pattern and confidence of analysis a.  A new pattern must
 * be seen twice in a row. */
static void take(struct leak_series *s, const struct analysis *a)
{
	struct leak_verdict *vd = &s->verdict;

	vd->rate = a->rate;
	vd->accel = a->accel;
	vd->evidence = a->conf;
	vd->confidence = vd->leak ? a->conf : watch_confidence(a->conf);
	if (a->pattern == vd->pattern) {
		s->pending_pattern = LEAK_NONE;
	} else if (s->pending_pattern == a->pattern) {
		vd->pattern = a->pattern;
		s->pending_pattern = LEAK_NONE;
	} else {
		s->pending_pattern = (uint8_t)a->pattern;
	}
	if (vd->pattern != LEAK_ACCELERATING)
		vd->accel = 0;
}

/* Ends a suspicion or watch: only growth after now opens a new one. */
static void resolve(struct leak_series *s, double confidence)
{
	struct leak_verdict *vd = &s->verdict;

	vd->leak = vd->watching = false;
	vd->confidence = confidence;
	vd->evidence = 0;
	s->resolved_ns = s->now_ns;
}

/* True when the footprint has grown since the watch's patience ended, as a
 * leak at the rate of analysis a would: in the fine window, the latest
 * value stands above the lowest one from the level when the patience ended
 * on by half of what that rate adds in that time, by two counter steps and
 * by four times the noise.  The noise is that of lows of three values, so
 * a sawtooth faster than three bins on top of a leak is not taken for it. */
static bool grew_since_patience(const struct leak_series *s, const struct analysis *a)
{
	const struct leak_verdict *vd = &s->verdict;
	struct window w;
	double lows[MAX_POINTS], d[MAX_POINTS], center, sigma;
	int64_t low = INT64_MAX, since;
	int from = 0, n;

	fine_window(s, &w);
	if (w.n < 5)
		return false;
	for (int i = 0; i < w.n; i++)
		if (w.t[i] <= vd->patience_end_ns)
			from = i;
	for (int i = from; i < w.n; i++)
		if (w.v[i] < low)
			low = w.v[i];
	n = w.n - 2;
	for (int i = 0; i < n; i++)
		lows[i] = fmin(fmin((double)w.v[i], (double)w.v[i + 1]), (double)w.v[i + 2]);
	for (int i = 1; i < n; i++)
		d[i - 1] = lows[i] - lows[i - 1];
	center = median(d, n - 1);
	for (int i = 1; i < n; i++)
		d[i - 1] = fabs(lows[i] - lows[i - 1] - center);
	sigma = 1.4826 * median(d, n - 1) / M_SQRT2;
	since = vd->patience_end_ns > w.t[from] ? vd->patience_end_ns : w.t[from];
	return (double)(w.v[w.n - 1] - low) >= fmax(fmax(2.0 * (double)s->params->step_bytes, 4 * sigma),
						     0.5 * a->rate * (double)(s->now_ns - since) / 1e9);
}

/* Sets the patience of the open watch from analysis a: from the start of
 * its growth (which moves to a new episode of growth, and back to the first
 * when episodes repeat), for the fastest rate seen (a fill that slows down
 * is no more patient a leak). */
static void set_patience(struct leak_series *s, const struct analysis *a)
{
	/* Episodes are counted over the whole watch: a window may hold only
	 * two of a slow rhythm. */
	if (a->anchor_ns > s->last_anchor_ns) {
		s->episodes += s->last_anchor_ns != INT64_MIN;
		s->last_anchor_ns = a->anchor_ns;
	}
	if (a->episodes > s->episodes)
		s->episodes = a->episodes;
	if (s->episodes >= 3) {
		s->anchor_ns = s->first_anchor_ns;
		s->settled = s->first_settled;
	} else {
		s->anchor_ns = a->anchor_ns;
		s->settled = a->settled;
	}
	s->watch_rate = fmax(s->watch_rate, a->anchor_rate);
	s->verdict.patience_end_ns = s->anchor_ns + patience_of(s->params, s->settled, s->watch_rate);
}

/* Re-evaluates the suspicion after new data.  While one is open, the
 * windows are analysed again only every REFRESH_BINS bins (or sooner when
 * a pattern change waits for confirmation): rate and pattern move slowly,
 * and the checks that end a suspicion are cheap and run every time.  A
 * watch past its patience is judged afresh every bin until it becomes a
 * leak or ends. */
#define REFRESH_BINS 3

static void evaluate(struct leak_series *s)
{
	const struct leak_params *p = s->params;
	struct leak_verdict *vd = &s->verdict;
	int64_t cur = vd->bytes, now = s->now_ns;
	struct analysis a;

	if (!vd->leak && !vd->watching) {
		assess(s, false, &a);
		s->assessed_bin = s->bin;
		s->assessed_ns = now;
		/* After a suspicion ended, only growth since then reopens one,
		 * and only while it goes on. */
		if (a.leak && a.ongoing && a.rate > 0 && a.last_inc_ns > s->resolved_ns) {
			s->watch_rate = 0;
			s->first_anchor_ns = a.first_ep_ns;
			s->first_settled = a.settled;
			s->last_anchor_ns = INT64_MIN;
			s->episodes = 1;
			set_patience(s, &a);
			/* No patience at all (no warm-up horizon): a leak at once. */
			vd->leak = now >= vd->patience_end_ns &&
				   (vd->patience_end_ns == s->anchor_ns || grew_since_patience(s, &a));
			vd->watching = !vd->leak;
			vd->detected_ns = now;
			vd->growth_start_ns = a.start_ns;
			vd->pattern = a.pattern;
			s->floor_at_start = a.floor_start;
			s->high = cur;
			s->last_high_ns = now;
			s->max_gap_ns = a.max_gap_ns;
			s->pending_pattern = LEAK_NONE;
			take(s, &a);
		} else {
			vd->confidence = fmin(0.49, a.conf);
			vd->evidence = 0;
		}
		return;
	}

	if (cur > s->high + (int64_t)p->step_bytes) {
		if (now - s->last_high_ns > s->max_gap_ns)
			s->max_gap_ns = now - s->last_high_ns;
		s->high = cur;
		s->last_high_ns = now;
	}
	if ((double)(now - s->last_high_ns) > fmax((double)p->quiet_ns, 2.5 * (double)s->max_gap_ns) ||
	    cur < s->floor_at_start + (s->high - s->floor_at_start) / 2) {
		resolve(s, 0.25);
		return;
	}
	if (vd->watching && now >= vd->patience_end_ns) {
		/* Past its patience the growth is judged in full again (a
		 * cache that filled and stopped fails here), and must have
		 * grown since the patience ended. */
		assess(s, false, &a);
		s->assessed_bin = s->bin;
		s->assessed_ns = now;
		if (!a.leak || a.rate <= 0) {
			/* Not a leak by the full test: it ends once the growth
			 * stopped by its own rhythm (a fill that is over), not
			 * between two steps of a leak. */
			if (!a.ongoing)
				resolve(s, fmin(0.49, a.conf));
			return;
		}
		set_patience(s, &a);
		if (a.ongoing && now >= vd->patience_end_ns && grew_since_patience(s, &a)) {
			vd->leak = true;
			vd->watching = false;
			vd->detected_ns = now;
		}
		take(s, &a);
		return;
	}
	if (s->bin - s->assessed_bin < REFRESH_BINS && s->pending_pattern == LEAK_NONE)
		return;
	assess(s, true, &a);
	s->assessed_bin = s->bin;
	s->assessed_ns = now;
	if (!a.leak || a.rate <= 0)
		return;
	if (vd->watching)
		set_patience(s, &a);
	take(s, &a);
}

void leak_series__refresh(struct leak_series *s)
{
	s->assessed_bin = s->bin - REFRESH_BINS;
	s->dirty = true;
}

void leak_series__verdict(struct leak_series *s, struct leak_verdict *ret)
{
	if (s->dirty) {
		evaluate(s);
		s->dirty = false;
	}
	s->verdict.samples = s->samples;
	*ret = s->verdict;
	/* Between analyses an accelerating rate keeps accelerating. */
	if ((ret->leak || ret->watching) && ret->pattern == LEAK_ACCELERATING)
		ret->rate += ret->accel * (double)(s->now_ns - s->assessed_ns) / 1e9;
}

double leak_time_to_limit(const struct leak_verdict *v, double used, double limit)
{
	double room = limit - used;

	if (room <= 0)
		return 0;
	if (v->pattern == LEAK_ACCELERATING && v->accel > 0 && v->rate > 0)
		return (-v->rate + sqrt(v->rate * v->rate + 2 * v->accel * room)) / v->accel;
	if (v->rate <= 0)
		return -1;
	return room / v->rate;
}
