/* The Prometheus text writer (exact lines, escaping) and the histogram
 * layouts built from hist.h's buckets: every `le` must count exactly the
 * values below it, checked against the raw values. */
#include <stdlib.h>

#include "../../src/bpf/hist.h"
#include "../../src/bpf/tracer.h"
#include "../../src/lib/prom.h"
#include "../lib/tap.h"

#define NVALUES 20000

/* The value on the line starting with `head` (name{labels} ), or NAN. */
static double sample(const char *text, const char *head)
{
	size_t n = strlen(head);

	for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
		if (!strncmp(line, head, n) && line[n] == ' ')
			return strtod(line + n + 1, NULL);
	return NAN;
}

static size_t count_lines(const char *text, const char *prefix)
{
	size_t n = 0, len = strlen(prefix);

	for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
		n += !strncmp(line, prefix, len);
	return n;
}

/* Checks every bucket line of family name in text against the raw values. */
static int buckets_exact(const char *text, const char *name, const uint64_t *values, size_t n, size_t *ret_buckets)
{
	char head[128];
	size_t len, buckets = 0;
	int wrong = 0;

	snprintf(head, sizeof(head), "%s_bucket{le=\"", name);
	len = strlen(head);
	for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		double le_s, got;
		uint64_t below = 0;

		if (strncmp(line, head, len) || !strncmp(line + len, "+Inf", 4))
			continue;
		le_s = strtod(line + len, NULL);
		got = strtod(strchr(line, ' ') + 1, NULL);
		for (size_t i = 0; i < n; i++)
			below += (double)values[i] < le_s * 1e9 - 0.5;     /* values below le ns */
		if ((uint64_t)got != below && wrong++ < 3)
			diag("%.*s: %.0f, %llu values below", (int)(strchr(line, ' ') - line), line, got,
			     (unsigned long long)below);
		buckets++;
	}
	*ret_buckets = buckets;
	return wrong;
}

int main(void)
{
	struct buf out = BUF_INIT;
	struct prom p;
	struct prom_labels l;
	uint64_t values[NVALUES], counts[HIST_BUCKETS] = { 0 }, sum = 0;
	size_t nb;

	plan(20);

	prom_init(&p, &out);
	prom_family(&p, "x_total", PROM_COUNTER, "Help with \\ and\nnewline.");
	prom_labels_init(&l);
	prom_label(&l, "dev", "a\"b\\c\nd");
	prom_sample_u64(&p, "", &l, 18446744073709551615ULL);
	prom_family(&p, "x_total", PROM_COUNTER, "ignored: same family");
	prom_sample(&p, "", NULL, 0.1);
	prom_family(&p, "y", PROM_GAUGE, "Y.");
	prom_sample(&p, "", NULL, NAN);
	prom_sample(&p, "", NULL, -INFINITY);
	prom_sample(&p, "", NULL, 1e-9);
	is_str(out.data,
	       "# HELP x_total Help with \\\\ and\\nnewline.\n"
	       "# TYPE x_total counter\n"
	       "x_total{dev=\"a\\\"b\\\\c\\nd\"} 18446744073709551615\n"
	       "x_total 0.1\n"
	       "# HELP y Y.\n"
	       "# TYPE y gauge\n"
	       "y NaN\n"
	       "y -Inf\n"
	       "y 1e-09\n",
	       "HELP/TYPE once per family, escaped labels and help, exact integers, NaN/Inf");
	is(p.families, 2, "two families");

	buf_reset(&out);
	prom_init(&p, &out);
	prom_family(&p, "h_seconds", PROM_HISTOGRAM, "H.");
	prom_labels_init(&l);
	prom_label(&l, "op", "read");
	prom_histogram(&p, &l, 2, (const double[]){ 0.001, 0.01 }, (const uint64_t[]){ 3, 5 }, 7, 0.25);
	is_str(out.data,
	       "# HELP h_seconds H.\n# TYPE h_seconds histogram\n"
	       "h_seconds_bucket{op=\"read\",le=\"0.001\"} 3\n"
	       "h_seconds_bucket{op=\"read\",le=\"0.01\"} 5\n"
	       "h_seconds_bucket{op=\"read\",le=\"+Inf\"} 7\n"
	       "h_seconds_sum{op=\"read\"} 0.25\n"
	       "h_seconds_count{op=\"read\"} 7\n",
	       "a histogram: buckets with le last, +Inf, _sum, _count");

	/* Log-uniform values from 1 ns to 30 s (past the last finite edge). */
	srand(7);
	for (size_t i = 0; i < NVALUES; i++) {
		double x = (double)rand() / RAND_MAX * 34.8;

		values[i] = (uint64_t)pow(2, x);
		if (i < 50)
			values[i] = i % 16;            /* the exact small buckets too */
		counts[hist_bucket(values[i])]++;
		sum += values[i];
	}
	for (int layout = HIST_NATIVE; layout <= HIST_POW4_FROM_1US; layout++) {
		static const char *const names[] = { "native_seconds", "pow2_seconds", "pow4_seconds" };
		static const size_t want[] = { 255, 24, 12 };

		buf_reset(&out);
		prom_init(&p, &out);
		prom_family(&p, names[layout], PROM_HISTOGRAM, "T.");
		tracer_metrics_hist(&p, NULL, counts, (double)sum, layout);
		is(buckets_exact(out.data, names[layout], values, NVALUES, &nb), 0,
		   "%s: every bucket counts exactly the values below its le", names[layout]);
		is(nb, want[layout], "%s: %zu finite buckets", names[layout], want[layout]);
		{
			char head[64];

			snprintf(head, sizeof(head), "%s_bucket{le=\"+Inf\"}", names[layout]);
			is(sample(out.data, head), NVALUES, "%s: +Inf counts every value, the overflow bucket too",
			   names[layout]);
			snprintf(head, sizeof(head), "%s_count", names[layout]);
			is(sample(out.data, head), NVALUES, "%s: _count", names[layout]);
			snprintf(head, sizeof(head), "%s_sum", names[layout]);
			within(sample(out.data, head), (double)sum / 1e9 * (1 - 1e-12), (double)sum / 1e9 * (1 + 1e-12),
			       "%s: _sum in seconds", names[layout]);
		}
	}
	buf_reset(&out);
	prom_init(&p, &out);
	prom_family(&p, "e_seconds", PROM_HISTOGRAM, "E.");
	tracer_metrics_hist(&p, NULL, (uint64_t[HIST_BUCKETS]){ 0 }, 0, HIST_POW4_FROM_1US);
	is(count_lines(out.data, "e_seconds_bucket{le=\"1.024e-06\"} 0"), 1, "an empty histogram: first edge 1.024 us, 0");
	is(count_lines(out.data, "e_seconds_bucket{le=\"4.294967296\"} 0"), 1, "last edge 4.294967296 s");
	buf_free(&out);
	return done_testing();
}
