/* The anomaly detector on the Numenta Anomaly Benchmark, in process: NAB
 * scores by group, the honest leave-one-group-out estimate, and the cost.
 *
 *   .output/bench/nab [-p PASSES] [-j THREADS] [-g] NAB_DIR
 *
 * NAB_DIR holds windows.json and data/GROUP/FILE.csv (bench/nab/README.md).
 * Scores use NAB's standard profile as NAB_DIR/score.py computes it (TP 1,
 * FP 0.11, FN 1, sigmoid-weighted windows, 15% probation, normalised so
 * that no detection is 0 and every window caught at its left edge is 100);
 * bench/nab.sh checks that the two agree.  Prints markdown:
 *
 *   1. Leave one group out.  The five groups (artificial, AWS, AdExchange,
 *      Traffic, Tweets) take turns as the held-out one: every constant in
 *      the grid below is chosen on the other four (the best normalised
 *      score over their windows), then the held-out group is scored with
 *      it.  The mean of the five held-out scores estimates what the
 *      detector does on series nobody tuned it for.
 *   2. The same search on all 51, which is how ANOMALY_SERIES_* were
 *      chosen, beside the scores at the compiled-in defaults of both
 *      operating points (anomaly_params_series for `ksight detect`,
 *      anomaly_params_default for the agent).
 *   3. Cost: ns per sample of anomaly__update at both operating points and
 *      of a plain rolling z-score (the floor), best of PASSES passes
 *      (default 5); bytes per detector.
 *
 * The grid runs on THREADS threads (default 2).  -g prints the grid's
 * every point with its per-group scores instead.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../src/detect/anomaly.h"
#include "../src/lib/parse.h"

#define GROUPS 5
#define MAX_WINDOWS 16
#define ZWINDOW 6400    /* NAB's windowed Gaussian window */

static const char *const group_dirs[GROUPS] = {
	"artificial", "realAWSCloudwatch", "realAdExchange", "realTraffic", "realTweets",
};
static const char *const group_names[GROUPS] = { "artificial", "AWS", "AdExchange", "Traffic", "Tweets" };

struct series {
	char name[256];
	int group;
	int64_t *ts;
	double *value;
	size_t n;
	size_t prob;                    /* NAB's probation: min(15% of n, 750) */
	int nwin;
	size_t win[MAX_WINDOWS][2];     /* first and last row of each window */
};

/* The search: every combination of these values (7 x 5 x 4 x 4 x 3). */
static const double grid_threshold[] = { 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7 };
static const double grid_tail[] = { 1e-2, 3.16e-3, 1e-3, 3.16e-4, 1e-4 };
static const double grid_memory[] = { 1000, 2000, 4000, 8000 };
static const double grid_margin[] = { 0.025, 0.05, 0.1, 0.15 };
static const double grid_rearm[] = { 15, 30, 60 };
#define N(a) (sizeof(a) / sizeof((a)[0]))
#define GRID (N(grid_threshold) * N(grid_tail) * N(grid_memory) * N(grid_margin) * N(grid_rearm))

static void grid_params(size_t k, struct anomaly_params *p)
{
	anomaly_params_series(p);
	p->threshold = grid_threshold[k % N(grid_threshold)];
	k /= N(grid_threshold);
	p->pattern_tail = grid_tail[k % N(grid_tail)];
	k /= N(grid_tail);
	p->pattern_memory = (uint32_t)grid_memory[k % N(grid_memory)];
	k /= N(grid_memory);
	p->point_margin = grid_margin[k % N(grid_margin)];
	k /= N(grid_margin);
	p->rearm = (uint32_t)grid_rearm[k % N(grid_rearm)];
}

static void params_text(const struct anomaly_params *p, char *buf, size_t size)
{
	snprintf(buf, size, "threshold %.2f, tail %.2g, memory %u, margin %.2f, rearm %u", p->threshold,
		 p->pattern_tail, p->pattern_memory, p->point_margin, p->rearm);
}

static int load_csv(const char *path, struct series *s)
{
	FILE *f = fopen(path, "r");
	char line[512];
	size_t cap = 0;
	int rc = -EINVAL;

	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f))
		goto out;
	while (fgets(line, sizeof(line), f)) {
		char *comma = strchr(line, ',');

		if (!comma)
			goto out;
		*comma = '\0';
		comma[strcspn(comma + 1, "\r\n") + 1] = '\0';
		if (s->n == cap) {
			size_t grown = cap ? 2 * cap : 4096;
			int64_t *ts = realloc(s->ts, grown * sizeof(*ts));
			double *value = ts ? realloc(s->value, grown * sizeof(*value)) : NULL;

			if (ts)
				s->ts = ts;
			if (!value) {
				rc = -ENOMEM;
				goto out;
			}
			s->value = value;
			cap = grown;
		}
		if (parse_time_ns(line, &s->ts[s->n]) || parse_double(comma + 1, &s->value[s->n]))
			goto out;
		s->n++;
	}
	rc = s->n ? 0 : -EINVAL;
out:
	fclose(f);
	return rc;
}

/* The row of a window's edge, as score.py finds it: the last row with that
 * time (NAB's files repeat a few timestamps). */
static int row_at(const struct series *s, const char *text, size_t *ret)
{
	char buf[32];
	int64_t ns;

	snprintf(buf, sizeof(buf), "%.19s", text);     /* score.py drops the fraction */
	if (parse_time_ns(buf, &ns))
		return -EINVAL;
	for (size_t i = s->n; i-- > 0;)
		if (s->ts[i] == ns) {
			*ret = i;
			return 0;
		}
	return -ENOENT;
}

static struct series *load_all(const char *dir, size_t *ret_n)
{
	char path[4096];
	json_error_t jerr;
	json_t *root, *windows;
	const char *key;
	struct series *all;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/windows.json", dir);
	if (!(root = json_load_file(path, 0, &jerr)) || !json_is_object(root)) {
		fprintf(stderr, "nab: %s: %s\n", path, root ? "not a JSON object" : jerr.text);
		exit(1);
	}
	all = calloc(json_object_size(root), sizeof(*all));
	json_object_foreach(root, key, windows) {
		struct series *s = &all[n++];
		size_t i;
		json_t *w;
		int r;

		snprintf(s->name, sizeof(s->name), "%s", key);
		s->group = -1;
		for (int g = 0; g < GROUPS; g++)
			if (!strncmp(key, group_dirs[g], strlen(group_dirs[g])))
				s->group = g;
		snprintf(path, sizeof(path), "%s/data/%s", dir, key);
		if (s->group < 0 || (r = load_csv(path, s))) {
			fprintf(stderr, "nab: %s: %s\n", path, s->group < 0 ? "not in a known group" : strerror(-r));
			exit(1);
		}
		json_array_foreach(windows, i, w) {
			if (s->nwin == MAX_WINDOWS || row_at(s, json_string_value(json_array_get(w, 0)), &s->win[s->nwin][0]) ||
			    row_at(s, json_string_value(json_array_get(w, 1)), &s->win[s->nwin][1])) {
				fprintf(stderr, "nab: %s: window %zu is not at rows of the file\n", key, i);
				exit(1);
			}
			s->nwin++;
		}
		s->prob = (size_t)fmin(floor(0.15 * s->n), 750);
	}
	json_decref(root);
	*ret_n = n;
	return all;
}

static double sigmoid(double x)
{
	return 1 / (1 + exp(-x));
}

static double scaled(double pos)
{
	return pos > 3.0 ? -1.0 : 2 * sigmoid(-5 * pos) - 1.0;
}

/* NAB's raw score of one file's detections, as score.py computes it. */
static double score_series(const struct series *s, const unsigned char *det)
{
	double maxtp = scaled(-1.0), fp = 0, best[MAX_WINDOWS] = { 0 }, sum;
	int seen[MAX_WINDOWS] = { 0 }, cur = -1, prev = -1, next = 0;

	for (size_t i = 0; i < s->n; i++) {
		double w;

		if (next < s->nwin && i == s->win[next][0])
			cur = next++;
		if (cur >= 0) {
			double width = (double)(s->win[cur][1] - s->win[cur][0]) + 1;

			w = scaled(-((double)s->win[cur][1] - (double)i + 1) / width) / maxtp;
			if (i >= s->prob) {
				if (!seen[cur]) {
					seen[cur] = 1;
					best[cur] = -1.0;
				}
				if (det[i] && w > best[cur])
					best[cur] = w;
			}
		} else if (i >= s->prob && det[i]) {
			w = prev < 0 ? -1.0
				     : scaled(fabs((double)s->win[prev][1] - (double)i) /
					      (double)(s->win[prev][1] - s->win[prev][0]));
			fp += 0.11 * w;
		}
		if (cur >= 0 && i == s->win[cur][1]) {
			prev = cur;
			cur = -1;
		}
	}
	sum = fp;
	for (int k = 0; k < s->nwin; k++)
		sum += seen[k] ? best[k] : 0;
	return sum;
}

static int windows_scored(const struct series *s)
{
	int n = 0;

	for (int k = 0; k < s->nwin; k++)
		n += s->win[k][1] >= s->prob;   /* score.py counts a window once a row of it is past probation */
	return n;
}

/* Raw score per group of one operating point over every file. */
static void run_all(const struct series *all, size_t n, const struct anomaly_params *p, double raw[GROUPS])
{
	for (int g = 0; g < GROUPS; g++)
		raw[g] = 0;
	for (size_t f = 0; f < n; f++) {
		const struct series *s = &all[f];
		unsigned char *det = calloc(s->n, 1);
		struct anomaly *a = anomaly__new(p);
		struct anomaly_result r;

		if (!det || !a) {
			fprintf(stderr, "nab: out of memory\n");
			exit(1);
		}
		for (size_t i = 0; i < s->n; i++)
			if (anomaly__update(a, s->ts[i], s->value[i], &r) == 0)
				det[i] = r.anomalous;
		raw[s->group] += score_series(s, det);
		anomaly__free(a);
		free(det);
	}
}

/* Normalised score over the groups in mask. */
static double norm(const double raw[GROUPS], const int nwin[GROUPS], unsigned mask)
{
	double r = 0;
	int w = 0;

	for (int g = 0; g < GROUPS; g++)
		if (mask & (1u << g)) {
			r += raw[g];
			w += nwin[g];
		}
	return w ? 100 * (r + w) / (2.0 * w) : 0;
}

static size_t best_of(double (*raw)[GROUPS], const int nwin[GROUPS], unsigned mask)
{
	size_t best = 0;

	for (size_t k = 1; k < GRID; k++)
		if (norm(raw[k], nwin, mask) > norm(raw[best], nwin, mask) + 1e-9)
			best = k;
	return best;
}

struct worker {
	pthread_t thread;
	const struct series *all;
	size_t n, first, step;
	double (*raw)[GROUPS];
};

/* Grid points first, first + step, ... */
static void *work(void *arg)
{
	struct worker *w = arg;
	struct anomaly_params p;

	for (size_t k = w->first; k < GRID; k += w->step) {
		grid_params(k, &p);
		run_all(w->all, w->n, &p, w->raw[k]);
	}
	return NULL;
}

static double cpu_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

/* Sum of scores, so the work cannot be optimised away. */
static double run_detector(const struct series *s, const struct anomaly_params *p)
{
	struct anomaly *a = anomaly__new(p);
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
	struct anomaly_params series, agent, p;
	double (*raw)[GROUPS], raw_series[GROUPS], raw_agent[GROUPS], mean = 0, sink = 0;
	double best_series = INFINITY, best_agent = INFINITY, best_z = INFINITY;
	int nwin[GROUPS] = { 0 }, nfiles[GROUPS] = { 0 }, passes = 5, grid = 0, jobs = 2, opt;
	struct worker workers[64];
	unsigned all_groups = (1u << GROUPS) - 1;
	size_t n, samples = 0, chosen;
	struct series *all;
	char text[160];

	while ((opt = getopt(argc, argv, "p:gj:")) != -1) {
		if (opt == 'p')
			passes = atoi(optarg);
		else if (opt == 'j')
			jobs = atoi(optarg);
		else if (opt == 'g')
			grid = 1;
		else
			goto usage;
	}
	if (optind != argc - 1 || passes < 1 || jobs < 1 || jobs > 64)
		goto usage;
	all = load_all(argv[optind], &n);
	for (size_t f = 0; f < n; f++) {
		nwin[all[f].group] += windows_scored(&all[f]);
		nfiles[all[f].group]++;
		samples += all[f].n;
	}
	anomaly_params_series(&series);
	anomaly_params_default(&agent);

	/* Every point of the grid once over every file; each fold then only
	 * reads the raw scores of its four groups. */
	raw = calloc(GRID, sizeof(*raw));
	for (int j = 0; j < jobs; j++) {
		workers[j] = (struct worker){ .all = all, .n = n, .first = (size_t)j, .step = (size_t)jobs, .raw = raw };
		if (pthread_create(&workers[j].thread, NULL, work, &workers[j])) {
			fprintf(stderr, "nab: cannot start a thread\n");
			return 1;
		}
	}
	for (int j = 0; j < jobs; j++)
		pthread_join(workers[j].thread, NULL);
	if (grid) {
		printf("point|params|%s|%s|%s|%s|%s|all\n", group_names[0], group_names[1], group_names[2],
		       group_names[3], group_names[4]);
		for (size_t k = 0; k < GRID; k++) {
			grid_params(k, &p);
			params_text(&p, text, sizeof(text));
			printf("%zu|%s", k, text);
			for (int g = 0; g < GROUPS; g++)
				printf("|%.1f", norm(raw[k], nwin, 1u << g));
			printf("|%.1f\n", norm(raw[k], nwin, all_groups));
		}
		return 0;
	}

	printf("### Leave one group out (the honest estimate)\n\n");
	printf("For each group: every constant of the grid (%zu points: threshold, pattern tail and memory,\n"
	       "point margin, re-arm) chosen on the other four groups, then the held-out group scored.\n\n", (size_t)GRID);
	printf("| held out | files | windows | chosen on the other four | score on the four | **held-out score** |\n");
	printf("|---|---|---|---|---|---|\n");
	for (int g = 0; g < GROUPS; g++) {
		unsigned train = all_groups & ~(1u << g);
		size_t k = best_of(raw, nwin, train);

		grid_params(k, &p);
		params_text(&p, text, sizeof(text));
		printf("| %s | %d | %d | %s | %.1f | **%.1f** |\n", group_names[g], nfiles[g], nwin[g], text,
		       norm(raw[k], nwin, train), norm(raw[k], nwin, 1u << g));
		mean += norm(raw[k], nwin, 1u << g) / GROUPS;
	}
	printf("| **mean** | | | | | **%.1f** |\n\n", mean);

	run_all(all, n, &series, raw_series);
	run_all(all, n, &agent, raw_agent);
	chosen = best_of(raw, nwin, all_groups);
	grid_params(chosen, &p);
	params_text(&p, text, sizeof(text));
	printf("### All %zu series\n\n", n);
	printf("| operating point | %s | %s | %s | %s | %s | all %zu |\n", group_names[0], group_names[1],
	       group_names[2], group_names[3], group_names[4], n);
	printf("|---|---|---|---|---|---|---|\n");
	printf("| the grid's best on all %zu (%s) |", n, text);
	for (int g = 0; g < GROUPS; g++)
		printf(" %.1f |", norm(raw[chosen], nwin, 1u << g));
	printf(" %.1f |\n", norm(raw[chosen], nwin, all_groups));
	params_text(&series, text, sizeof(text));
	printf("| **`ksight detect` defaults** (anomaly_params_series: %s) |", text);
	for (int g = 0; g < GROUPS; g++)
		printf(" %.1f |", norm(raw_series, nwin, 1u << g));
	printf(" **%.1f** |\n", norm(raw_series, nwin, all_groups));
	printf("| the agent's (anomaly_params_default: probation %u, refractory %u) |", agent.probation,
	       agent.refractory);
	for (int g = 0; g < GROUPS; g++)
		printf(" %.1f |", norm(raw_agent, nwin, 1u << g));
	printf(" %.1f |\n\n", norm(raw_agent, nwin, all_groups));

	for (int pass = 0; pass < passes; pass++) {
		double t0 = cpu_ns(), t1, t2, t3;

		for (size_t f = 0; f < n; f++)
			sink += run_detector(&all[f], &series);
		t1 = cpu_ns();
		for (size_t f = 0; f < n; f++)
			sink += run_detector(&all[f], &agent);
		t2 = cpu_ns();
		for (size_t f = 0; f < n; f++)
			sink += run_zscore(&all[f]);
		t3 = cpu_ns();
		best_series = fmin(best_series, (t1 - t0) / samples);
		best_agent = fmin(best_agent, (t2 - t1) / samples);
		best_z = fmin(best_z, (t3 - t2) / samples);
	}
	printf("### Cost\n\n");
	printf("| per metric | value | budget |\n|---|---|---|\n");
	printf("| CPU per sample, `ksight detect` operating point (best of %d passes over %zu samples) | %.0f ns | 1000 ns |\n",
	       passes, samples, best_series);
	printf("| CPU per sample, the agent's operating point | %.0f ns | 1000 ns |\n", best_agent);
	printf("| CPU per sample, a rolling z-score over the same samples (the floor) | %.0f ns | |\n", best_z);
	printf("| memory per detector (anomaly_bytes) | %zu B (%.1f KiB) | 36 KiB |\n", anomaly_bytes(),
	       anomaly_bytes() / 1024.0);
	fprintf(stderr, "checksum %g\n", sink);
	for (size_t f = 0; f < n; f++) {
		free(all[f].ts);
		free(all[f].value);
	}
	free(all);
	free(raw);
	return 0;
usage:
	fprintf(stderr, "usage: %s [-p PASSES] [-j THREADS] [-g] NAB_DIR\n", argv[0]);
	return 2;
}
