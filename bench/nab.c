/* CPU cost of the anomaly detector per sample, in process (no CSV parsing or
 * printing in the timed part), on the NAB series given as arguments, beside
 * a plain rolling z-score over the same samples as the floor of what any
 * streaming detector costs.
 *
 *   .output/bench/nab [-p PASSES] FILE.csv...
 *
 * Prints one line: samples, then ns/sample for the detector and for the
 * rolling z-score (the best of PASSES passes, default 5, each over every
 * file with a fresh detector per file).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../src/detect/anomaly.h"
#include "../src/lib/parse.h"

#define ZWINDOW 6400    /* NAB's windowed Gaussian window */

struct series {
	int64_t *ts;
	double *value;
	size_t n;
};

static int load(const char *path, struct series *s)
{
	FILE *f = fopen(path, "r");
	char line[512];
	size_t cap = 0;

	if (!f)
		return -errno;
	memset(s, 0, sizeof(*s));
	if (!fgets(line, sizeof(line), f))
		goto bad;
	while (fgets(line, sizeof(line), f)) {
		char *comma = strchr(line, ',');

		if (!comma)
			goto bad;
		*comma = '\0';
		comma[strcspn(comma + 1, "\r\n") + 1] = '\0';
		if (s->n == cap) {
			size_t grown = cap ? 2 * cap : 4096;
			int64_t *ts = realloc(s->ts, grown * sizeof(*ts));
			double *value = ts ? realloc(s->value, grown * sizeof(*value)) : NULL;

			if (ts)
				s->ts = ts;
			if (!value)
				goto bad;
			s->value = value;
			cap = grown;
		}
		if (parse_time_ns(line, &s->ts[s->n]) || parse_double(comma + 1, &s->value[s->n]))
			goto bad;
		s->n++;
	}
	fclose(f);
	return 0;
bad:
	fclose(f);
	return -EINVAL;
}

static double cpu_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

/* Sum of scores, so the work cannot be optimised away. */
static double run_detector(const struct series *s)
{
	struct anomaly *a = anomaly__new(NULL);
	struct anomaly_result r;
	double sum = 0;

	if (!a)
		return NAN;
	for (size_t i = 0; i < s->n; i++) {
		anomaly__update(a, s->ts[i], s->value[i], &r);
		sum += r.score;
	}
	anomaly__free(a);
	return sum;
}

static double run_zscore(const struct series *s)
{
	static double ring[ZWINDOW];
	double sum = 0, sumsq = 0, total = 0;
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++) {
		double x = s->value[i];

		if (n >= 2) {
			size_t m = n < ZWINDOW ? n : ZWINDOW;
			double mean = sum / m, var = sumsq / m - mean * mean;

			total += 0.5 * erfc(-fabs(x - mean) / sqrt(var > 0 ? var : 1e-12) / M_SQRT2);
		}
		if (n >= ZWINDOW) {
			double old = ring[n % ZWINDOW];

			sum -= old;
			sumsq -= old * old;
		}
		ring[n % ZWINDOW] = x;
		sum += x;
		sumsq += x * x;
		n++;
	}
	return total;
}

int main(int argc, char **argv)
{
	struct series *all;
	size_t nfiles, samples = 0;
	double best_det = INFINITY, best_z = INFINITY, sink = 0;
	int passes = 5, first = 1;

	if (argc > 2 && !strcmp(argv[1], "-p")) {
		passes = atoi(argv[2]);
		first = 3;
	}
	if (first >= argc || passes < 1) {
		fprintf(stderr, "usage: %s [-p PASSES] FILE.csv...\n", argv[0]);
		return 2;
	}
	nfiles = (size_t)(argc - first);
	all = calloc(nfiles, sizeof(*all));
	for (size_t f = 0; f < nfiles; f++) {
		int r = load(argv[first + f], &all[f]);

		if (r) {
			fprintf(stderr, "%s: %s\n", argv[first + f], strerror(-r));
			return 1;
		}
		samples += all[f].n;
	}
	for (int p = 0; p < passes; p++) {
		double t0 = cpu_ns(), t1, t2;

		for (size_t f = 0; f < nfiles; f++)
			sink += run_detector(&all[f]);
		t1 = cpu_ns();
		for (size_t f = 0; f < nfiles; f++)
			sink += run_zscore(&all[f]);
		t2 = cpu_ns();
		best_det = fmin(best_det, (t1 - t0) / samples);
		best_z = fmin(best_z, (t2 - t1) / samples);
	}
	printf("%zu %.0f %.0f\n", samples, best_det, best_z);
	fprintf(stderr, "checksum %g\n", sink);
	for (size_t f = 0; f < nfiles; f++) {
		free(all[f].ts);
		free(all[f].value);
	}
	free(all);
	return 0;
}
