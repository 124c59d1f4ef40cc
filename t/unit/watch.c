/* The agent's detection (src/detect/watch.h) fed tick batches of synthetic
 * rows, as the collector builds them, with known anomalies and known-normal
 * stretches:
 *   - normal: noisy but steady metrics for over an hour raise no alert;
 *   - spike: one disk's read p95 alone jumps 10x: one row, for that metric,
 *     a 'notice' (one metric alone pages no one), with the explanation;
 *   - correlated: the same spike with CPU iowait and I/O pressure: 'alert'
 *     rows naming each other;
 *   - level shift: available memory drops by a third and stays: detected
 *     once at the shift, not for the rest of the run;
 *   - drift: available memory starts falling steadily (a leak): detected
 *     (on the level or its one-minute trend) within two minutes;
 *   - seasonal: a daily-like cycle (period 1 h at 1 min ticks) raises
 *     nothing over 20 periods, but a peak-level value at a trough is caught;
 *   - ratios: a CPU hog makes ten times the successful syscalls, so the
 *     syscall error rate falls: no row for the rate (its denominator alone
 *     moved), while more failing calls do give one;
 * and baselines persist to the database and reload into a new watch. */
#include <stdarg.h>

#include "../../src/analysis/baseline_db.h"
#include "../../src/detect/watch.h"
#include "../../src/store/store.h"
#include "../lib/tap.h"

#define SEC 1000000000LL
#define T0 (1767225600LL * SEC)   /* 2026-01-01 00:00 UTC */

static double gauss(void)
{
	double u1 = (rand() + 1.0) / (RAND_MAX + 2.0), u2 = (rand() + 1.0) / (RAND_MAX + 2.0);

	return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

/* Appends a row of table t with the named columns set and the others NULL:
 * row(b, T_MEMORY_METRICS, ts, "available_kb", 123.0, NULL).  Text columns
 * take a string after the name instead of a double. */
static void row(struct batch *b, enum table_id t, int64_t ts, ...)
{
	const struct table *tab = &schema_tables[t];
	const char *names[16];
	double nums[16];
	const char *texts[16];
	int n = 0;
	va_list ap;

	va_start(ap, ts);
	for (const char *name; (name = va_arg(ap, const char *));) {
		unsigned c;

		for (c = 0; c < tab->ncolumns && strcmp(tab->columns[c].name, name); c++)
			;
		if (c == tab->ncolumns)
			bail_out(name);
		names[n] = name;
		if (tab->columns[c].type == COL_TEXT)
			texts[n] = va_arg(ap, const char *);
		else
			nums[n] = va_arg(ap, double);
		n++;
	}
	va_end(ap);
	batch__row(b, t);
	batch__int(b, ts);
	for (unsigned c = 1; c < tab->ncolumns; c++) {
		int k;

		for (k = 0; k < n && strcmp(names[k], tab->columns[c].name); k++)
			;
		if (k == n)
			batch__null(b);
		else if (tab->columns[c].type == COL_TEXT)
			batch__text(b, texts[k]);
		else if (tab->columns[c].type == COL_INT)
			batch__int(b, (int64_t)nums[k]);
		else
			batch__real(b, nums[k]);
	}
	batch__end(b);
}

struct tick {
	double available_kb, read_p95_us, iowait_pct, io_some_pct;
};

/* One tick's batch: memory, disk vda latency, CPU and I/O pressure rows. */
static void tick(struct watch *w, struct batch *b, int64_t ts, const struct tick *v)
{
	row(b, T_MEMORY_METRICS, ts, "available_kb", v->available_kb, "used_kb", 2e6 + 100 * gauss(), (const char *)NULL);
	row(b, T_IO_LATENCY_STATS, ts, "device", "vda", "read_count", 50.0, "read_p95_us", v->read_p95_us, (const char *)NULL);
	row(b, T_CPU_METRICS, ts, "cpu", "cpu", "idle_pct", 90 - v->iowait_pct, "iowait_pct", v->iowait_pct, (const char *)NULL);
	row(b, T_PRESSURE_METRICS, ts, "resource", "io", "some_stall_pct", v->io_some_pct, (const char *)NULL);
	watch__tick(w, b, b, ts);
}

static struct tick normal(void)
{
	return (struct tick){ 6e6 + 2000 * gauss(), 2000 + 150 * gauss(), fabs(1 + 0.3 * gauss()),
			      fabs(0.5 + 0.2 * gauss()) };
}

struct found {
	int rows, alerts;
	char metric[8][96], severity[8][16], explanation[8][512], correlated[8][512];
	int64_t ts[8];
};

static void text_at(const struct batch *b, uint32_t r, const char *col, char *out, size_t size)
{
	struct batch_value v;

	out[0] = '\0';
	if (batch__value(b, T_ANOMALIES, r, col, &v) && v.tag == V_TEXT)
		snprintf(out, size, "%.*s", (int)v.len, v.s);
}

/* Collects the anomalies rows of b, then clears it. */
static void collect(struct batch *b, struct found *f)
{
	for (uint32_t r = 0; r < b->tables[T_ANOMALIES].rows; r++) {
		struct batch_value v;
		int k = f->rows < 8 ? f->rows : 7;

		text_at(b, r, "metric", f->metric[k], sizeof(f->metric[k]));
		text_at(b, r, "severity", f->severity[k], sizeof(f->severity[k]));
		text_at(b, r, "explanation", f->explanation[k], sizeof(f->explanation[k]));
		text_at(b, r, "correlated_metrics", f->correlated[k], sizeof(f->correlated[k]));
		batch__value(b, T_ANOMALIES, r, "timestamp", &v);
		f->ts[k] = v.i;
		f->alerts += !strcmp(f->severity[k], "alert");
		f->rows++;
	}
	batch__clear(b);
}

static struct watch *new_watch(int64_t period_ns)
{
	struct watch_params p;

	watch_params_default(&p);
	p.anomaly.period_ns = period_ns;
	return watch__new(&p);
}

/* Runs n ticks of normal data, with fn changing tick i; returns what was found. */
static void run(struct found *f, int n, void (*fn)(int i, struct tick *t))
{
	struct watch *w = new_watch(0);
	struct batch b;

	memset(f, 0, sizeof(*f));
	batch__init(&b);
	for (int i = 0; i < n; i++) {
		struct tick t = normal();

		if (fn)
			fn(i, &t);
		tick(w, &b, T0 + i * SEC, &t);
		collect(&b, f);
	}
	watch__finish(w, T0 + n * SEC, &b);
	collect(&b, f);
	batch__free(&b);
	watch__free(w);
}

static void spike(int i, struct tick *t) { if (i == 3000) t->read_p95_us = 20000; }

static void incident(int i, struct tick *t)
{
	if (i >= 3000 && i < 3005) {
		t->read_p95_us = 20000;
		t->iowait_pct = 40;
		t->io_some_pct = 50;
	}
}

static void shift(int i, struct tick *t) { if (i >= 3000) t->available_kb -= 2e6; }
static void drift(int i, struct tick *t) { if (i >= 3000) t->available_kb -= 100.0 * (i - 3000); }

/* Index of the first row whose metric starts with prefix, or 0 (so the
 * checks on it fail visibly rather than crash). */
static int find(const struct found *f, const char *prefix)
{
	for (int k = 0; k < f->rows && k < 8; k++)
		if (!strncmp(f->metric[k], prefix, strlen(prefix)))
			return k;
	return 0;
}

struct loader {
	struct watch *w;
	int n;
};

static int load(void *ctx, const struct baseline_row *r)
{
	struct loader *l = ctx;

	l->n++;
	return watch__set_baseline(l->w, r->metric, r->unit, &r->bl);
}

static int count_alerts(const struct found *f, const char *prefix)
{
	int n = 0;

	for (int k = 0; k < f->rows && k < 8; k++)
		n += !strncmp(f->metric[k], prefix, strlen(prefix)) && !strcmp(f->severity[k], "alert");
	return n;
}

static int count_metric(const struct found *f, const char *prefix)
{
	int n = 0;

	for (int k = 0; k < f->rows && k < 8; k++)
		n += !strncmp(f->metric[k], prefix, strlen(prefix));
	return n;
}

/* A minute of syscall traffic at 1 s ticks from tick 3000 on: calls and
 * errors per second as given, with CPU as busy as busy_pct; before it, 5000
 * calls and 385 errors (7.7%) a second, the CPU 10% busy.  Returns what was
 * found and the watch's count of ratio detections discounted. */
static uint64_t run_syscalls(struct found *f, double calls, double errors, double busy_pct)
{
	struct watch *w = new_watch(0);
	struct watch_stats ws;
	struct batch b;

	memset(f, 0, sizeof(*f));
	batch__init(&b);
	for (int i = 0; i < 3300; i++) {
		bool on = i >= 3000 && i < 3060;
		double c = (on ? calls : 5000) + 50 * gauss(), e = (on ? errors : 385) + 10 * gauss();
		double idle = 100 - (on ? busy_pct : 10 + gauss());

		row(&b, T_SYSCALL_STATS, T0 + i * SEC, "syscall_name", "read", "count", c - e, "errors", 0.0,
		    (const char *)NULL);
		row(&b, T_SYSCALL_STATS, T0 + i * SEC, "syscall_name", "openat", "count", e, "errors", e,
		    (const char *)NULL);
		row(&b, T_CPU_METRICS, T0 + i * SEC, "cpu", "cpu", "idle_pct", idle, "iowait_pct", 0.0,
		    (const char *)NULL);
		watch__tick(w, &b, &b, T0 + i * SEC);
		collect(&b, f);
	}
	watch__finish(w, T0 + 3300 * SEC, &b);
	collect(&b, f);
	watch__stats(w, &ws);
	batch__free(&b);
	watch__free(w);
	return ws.ratios_discounted;
}

/* Normal ticks with the wall clock stepped back an hour at tick 3000 and
 * forward two hours at tick 3300, the watch told of each step (tell) or
 * not.  Returns the samples judged after the first step; *f gets the rows. */
static uint64_t run_stepped(struct found *f, bool tell)
{
	struct watch *w = new_watch(0);
	struct watch_stats before, after;
	struct batch b;
	int64_t shift = 0;

	memset(f, 0, sizeof(*f));
	batch__init(&b);
	memset(&before, 0, sizeof(before));
	for (int i = 0; i < 3600; i++) {
		struct tick t = normal();
		int64_t step = i == 3000 ? -3600 * SEC : i == 3300 ? 7200 * SEC : 0;

		if (step) {
			shift += step;
			if (tell)
				watch__clock_step(w, step);
		}
		if (i == 3000)
			watch__stats(w, &before);
		tick(w, &b, T0 + i * SEC + shift, &t);
		collect(&b, f);
	}
	watch__finish(w, T0 + 3600 * SEC + shift, &b);
	collect(&b, f);
	watch__stats(w, &after);
	batch__free(&b);
	watch__free(w);
	return after.samples - before.samples;
}

int main(void)
{
	struct found f;
	int k;
	char dir[] = "/tmp/ksight-watch.XXXXXX";

	plan(39);
	srand(42);

	run(&f, 4500, NULL);
	is(f.alerts, 0, "normal: 75 minutes of noisy, steady metrics raise no alert");
	ok(f.rows <= 1, "and at most one lone notice (%d)", f.rows);

	{
		uint64_t told = run_stepped(&f, true), blind;

		is(f.alerts, 0, "clock steps (an hour back, then two forward): no alert");
		ok(f.rows <= 1, "and at most one lone notice (%d)", f.rows);
		blind = run_stepped(&f, false);
		ok(told >= 600 * 5, "told of the steps, the detectors judge every sample after them (%llu)",
		   (unsigned long long)told);
		ok(blind < told / 2, "not told, a step back leaves them blind (%llu judged): the test sees the difference",
		   (unsigned long long)blind);
	}

	run(&f, 3600, spike);
	is(count_metric(&f, "io.read_p95_us{device=vda}"), 1, "spike: one anomaly row for the disk's read p95");
	ok(f.rows <= 2, "and at most one lone notice elsewhere (%d rows)", f.rows);
	k = find(&f, "io.read_p95_us");
	is(f.ts[k], T0 + 3000 * SEC, "at the spike's tick");
	is_str(f.severity[k], "notice", "one metric alone is a notice, not an alert");
	ok(strstr(f.explanation[k], "read p95 on vda is 20 ms, ") && strstr(f.explanation[k], "x its usual 2."),
	   "explained in words: %s", f.explanation[k]);

	run(&f, 3600, incident);
	ok(f.alerts == 3, "correlated: the three metrics are alerts (%d of %d rows)", f.alerts, f.rows);
	is(count_alerts(&f, "io.read_p95_us{device=vda}") + count_alerts(&f, "cpu.iowait_pct") +
	   count_alerts(&f, "psi.some_pct{resource=io}"), 3, "one alert each for read p95, iowait and I/O pressure");
	k = find(&f, "cpu.iowait_pct");
	ok(strstr(f.correlated[k], "io.read_p95_us{device=vda}") && strstr(f.correlated[k], "psi.some_pct{resource=io}"),
	   "each names the others: %s -> %s", f.metric[k], f.correlated[k]);
	ok(!strcmp(f.severity[k], "alert") && strstr(f.explanation[k], "together with"),
	   "and so does the explanation: %s", f.explanation[k]);

	run(&f, 4500, shift);
	is(count_metric(&f, "mem.available_kb"), 1, "level shift: one detection of available memory");
	k = find(&f, "mem.available_kb");
	ok(f.ts[k] >= T0 + 3000 * SEC && f.ts[k] <= T0 + 3030 * SEC,
	   "within 30 s of the shift (+%lld s)", (long long)((f.ts[k] - T0) / SEC - 3000));
	ok(strstr(f.explanation[k], "available memory is 3.") != NULL, "in words: %s", f.explanation[k]);

	run(&f, 4500, drift);
	{
		int64_t first = INT64_MAX;

		for (int i = 0; i < f.rows && i < 8; i++)
			if (!strncmp(f.metric[i], "mem.available", 13) && f.ts[i] >= T0 + 3000 * SEC && f.ts[i] < first)
				first = f.ts[i];
		ok(first != INT64_MAX, "drift: a steady fall of available memory is detected");
		ok(first <= T0 + 3120 * SEC, "within two minutes (+%lld s)",
		   first != INT64_MAX ? (long long)((first - T0) / SEC - 3000) : -1LL);
	}
	ok(count_alerts(&f, "io.") + count_alerts(&f, "cpu.") + count_alerts(&f, "psi.") == 0,
	   "and no alert on the metrics that did not move");

	{
		/* Seasonal: 1 h period, a sample a minute, 20 periods; the
		 * cycle swings 100 with noise 2; at period 16's trough the
		 * value sits at the peak level. */
		struct watch *w = new_watch(3600 * SEC);
		struct batch b;
		int before = 0;

		memset(&f, 0, sizeof(f));
		batch__init(&b);
		for (int i = 0; i < 20 * 60; i++) {
			double phase = 2 * M_PI * (i % 60) / 60.0;
			struct tick t = { 6e6 + 50000 * sin(phase) + 1000 * gauss(), 2000 + 150 * gauss(), 1, 0.5 };

			if (i == 16 * 60 + 45)      /* sin = -1 here */
				t.available_kb = 6e6 + 50000;
			tick(w, &b, T0 + i * 60 * SEC, &t);
			collect(&b, &f);
			if (i == 16 * 60 + 44)
				before = count_metric(&f, "mem.available_kb");
		}
		watch__finish(w, T0 + 1200 * 60 * SEC, &b);
		collect(&b, &f);
		is(before, 0, "seasonal: 16 periods of the cycle raise nothing on the metric");
		is(count_metric(&f, "mem.available_kb"), 1, "the peak-level value at a trough is detected");
		batch__free(&b);
		watch__free(w);
	}

	{
		uint64_t discounted = run_syscalls(&f, 50000, 385, 100);

		ok(count_alerts(&f, "syscall.calls_per_s") + count_alerts(&f, "cpu.busy_pct") >= 1,
		   "ratios: a CPU hog's syscall storm is an alert (%d rows)", f.rows);
		is(count_metric(&f, "syscall.error_pct"), 0, "but the error rate it lowers is not: its denominator surged");
		ok(discounted >= 1, "that detection is counted as discounted (%llu)", (unsigned long long)discounted);
		run_syscalls(&f, 5000, 2500, 10);
		k = find(&f, "syscall.error_pct");
		ok(count_metric(&f, "syscall.error_pct") >= 1 && strstr(f.explanation[k], "the syscall error rate is 50%"),
		   "more failing calls at the same call rate do raise the rate: %s", f.explanation[k]);
	}

	{
		/* Persist and reload. */
		struct watch_params p;
		struct watch *w, *w2;
		struct store *s;
		struct batch b;
		char path[128], err[STORE_ERR_MAX];
		const struct baseline *a, *c;
		struct watch_stats ws;

		if (!mkdtemp(dir))
			bail_out("mkdtemp");
		snprintf(path, sizeof(path), "%s/w.db", dir);
		watch_params_default(&p);
		p.save_every_ns = 600 * SEC;
		w = watch__new(&p);
		batch__init(&b);
		if (store__open(path, STORE_READ_WRITE, &s, err))
			bail_out(err);
		for (int i = 0; i < 1300; i++) {
			struct tick t = normal();

			tick(w, &b, T0 + i * SEC, &t);
			if (store__write_batch(s, &b, err))
				diag("%s", err);
			batch__clear(&b);
		}
		{
			int64_t n = -1;

			store__query_int(s, "SELECT count(DISTINCT timestamp) FROM baselines", &n, err);
			is(n, 2, "two snapshots in 1300 s at one per 600 s");
		}
		store__close(s);
		store__open(path, STORE_READ_ONLY, &s, err);
		w2 = watch__new(&p);
		struct loader l = { w2, 0 };

		ok(baseline_db__latest(s, load, &l, err) == 0, "the latest snapshot loads");
		a = watch__baseline(w, "io.read_p95_us{device=vda}");
		c = watch__baseline(w2, "io.read_p95_us{device=vda}");
		ok(a && c && c->n > 1000, "a metric's baseline is back, %g samples", c ? c->n : 0);
		/* The snapshot is from tick 1200: within the drift of 100 more samples. */
		within(c ? c->median : 0, a->median - 30, a->median + 30, "its median matches the one learnt (%g vs %g)",
		       c ? c->median : 0, a->median);
		watch__stats(w, &ws);
		is(l.n, ws.metrics, "every metric's baseline comes back (%d of %u)", l.n, ws.metrics);
		{
			char text[64];
			bool hourly;

			watch_format_value(baseline__usual(c, T0, &hourly), "us", text, sizeof(text));
			ok(!strncmp(text, "2.0 ms", 6) || !strncmp(text, "1.9 ms", 6) || !strncmp(text, "2.1 ms", 6),
			   "and says the usual read p95 is about 2 ms (%s)", text);
		}
		{
			/* Learning progress, and detectors seeded from the stored baselines. */
			struct watch_learning lw, l2, lf;
			struct watch *fresh = watch__new(&p);
			struct found f2, f3;
			struct batch bf;

			watch__learning(w, &lw);
			ok(lw.samples == 512 && lw.needed == 512 && lw.metrics_learning == 0 && lw.metrics_ready == ws.metrics &&
			   lw.metrics_seeded == 0, "after 1300 ticks: ready, %u metrics, none seeded", lw.metrics_ready);
			watch__learning(w2, &l2);
			ok(l2.samples == 0 && l2.metrics_ready + l2.metrics_learning == 0,
			   "loaded baselines and no tick yet: no metric seen");
			batch__clear(&b);
			memset(&f2, 0, sizeof(f2));
			memset(&f3, 0, sizeof(f3));
			batch__init(&bf);
			for (int i = 0; i < 20; i++) {
				struct tick t = normal();

				if (i == 3)
					t.read_p95_us = 20000;
				tick(w2, &b, T0 + (2000 + i) * SEC, &t);
				tick(fresh, &bf, T0 + (2000 + i) * SEC, &t);
				collect(&b, &f2);
				collect(&bf, &f3);
				if (i == 0) {
					watch__learning(w2, &l2);
					watch__learning(fresh, &lf);
				}
			}
			ok(l2.samples == 512 && l2.metrics_seeded == l2.metrics_ready && l2.metrics_seeded >= 5,
			   "seeded: ready at the first tick (%llu of 512, %u seeded, %u learning)",
			   (unsigned long long)l2.samples, l2.metrics_seeded, l2.metrics_learning);
			ok(l2.seeded_from_ns > T0 + 1100 * SEC && l2.seeded_from_ns < T0 + 1300 * SEC,
			   "from the snapshot that covers up to tick %lld", (long long)((l2.seeded_from_ns - T0) / SEC));
			ok(lf.samples == 1 && lf.metrics_ready == 0 && lf.metrics_learning > 5 && lf.metrics_seeded == 0 &&
			   lf.seeded_from_ns == 0, "fresh: learning, %llu of 512 samples, %u metrics, %u ready, %u seeded",
			   (unsigned long long)lf.samples, lf.metrics_learning, lf.metrics_ready, lf.metrics_seeded);
			ok(count_metric(&f2, "io.read_p95_us{device=vda}") == 1 && f3.rows == 0,
			   "a spike at the 4th tick is flagged by the seeded watch only (%d rows, %d)", f2.rows, f3.rows);
			batch__free(&bf);
			watch__free(fresh);
		}
		store__close(s);
		batch__free(&b);
		watch__free(w);
		watch__free(w2);
		snprintf(path, sizeof(path), "rm -rf %s", dir);
		if (system(path))
			diag("cleanup");
	}
	return done_testing();
}
