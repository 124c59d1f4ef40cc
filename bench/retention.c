/* retention CAPTURE DB DAYS [MAX_BYTES [ROWS [TICK_DAYS]]]: drives the
 * real store, writer and retention through DAYS of simulated time at 1 s
 * ticks, replaying the row mix of CAPTURE (a short `ksight agent` run on
 * this host) with timestamps moved to the simulated clock, which ends
 * now.  With ROWS, the rows of events and of per-process tables are
 * thinned evenly (every table keeps its share of them) so a tick holds
 * about ROWS rows; the per-tick tables are kept whole.  For
 * bench/retention.sh.
 *
 * A month in minutes: only the last TICK_DAYS (2: the raw tier's 48 h)
 * are replayed tick by tick.  The days before them are fast-forwarded:
 * the first minute of each day is written raw (one batch) and rolled up
 * by the real retention; its minute rows are then copied over the rest of
 * the day in one transaction (what rolling up 1,439 more identical
 * minutes would have written), and the retention clock is moved through
 * the day an hour at a time, running retention's steps until it has no
 * work: the hour rollups, age pruning, the cap and the vacuum are the
 * real code's, on a database as large as a month of this mix makes it.
 *
 * The replayed days run as in the agent: retention runs in the writer
 * thread.  Between batches the driver gives it the idle time real seconds
 * would (it waits while retention reports more work, up to IDLE_STEPS
 * steps per tick), then submits the next batch whether or not a step is
 * running.  The ticks of a simulated minute are committed as one batch,
 * except the first minute of every hour (when the hour rollups run, on
 * top of the minute rollups and the pruning): there each tick is its own
 * batch, as in the agent, and the time from its submit to its commit is
 * the writer's lag.
 *
 * Prints one line per simulated day:
 *   day db_bytes rows_written rows_pruned lag_p99_ms lag_max_ms step_max_ms retention_ms wall_s
 *   rollup_ms prune_ms vacuum_ms mode
 * (mode "fast" or "ticks"; the lag is 0 on fast days, which have no ticks),
 * then "sim_end_ns N" (the last tick's time) and "capture rows_per_tick N tables N".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/lib/clock.h"
#include "../src/store/retention.h"
#include "../src/store/rollup.h"
#include "../src/store/store.h"
#include "../src/store/writer.h"

#define TICKS_MAX 600
#define IDLE_STEPS 40

/* The simulated clock, written by the driver, read by the writer thread. */
static int64_t sim_real, sim_mono;

static int64_t sim_clock(void *ctx, int64_t *ret_mono)
{
	(void)ctx;
	*ret_mono = __atomic_load_n(&sim_mono, __ATOMIC_ACQUIRE);
	return __atomic_load_n(&sim_real, __ATOMIC_ACQUIRE);
}

static void sim_set(int64_t real)
{
	__atomic_store_n(&sim_mono, __atomic_load_n(&sim_mono, __ATOMIC_RELAXED) + (real - sim_real), __ATOMIC_RELEASE);
	__atomic_store_n(&sim_real, real, __ATOMIC_RELEASE);
}

/* The captured ticks: rows per tick, timestamps relative to the tick. */
struct capture {
	int64_t tick_ts[TICKS_MAX];
	struct batch ticks[TICKS_MAX];
	int nticks;
	size_t rows;
};

struct loader {
	struct capture *c;
	enum table_id t;
	int at;                     /* tick of the last row (rows come in time order) */
	double keep;                /* share of this table's rows kept */
	int64_t seen;               /* rows of the table so far */
};

/* Tables thinned to reach ROWS: one row per event or per process. */
static bool thinnable(enum table_id t)
{
	return rollup__class(t) == ROLLUP_EVENTS || t == T_PROCESS_CPU_STATS || t == T_PAGE_FAULT_STATS;
}

static void copy_value(struct batch *b, const struct batch_value *v)
{
	switch (v->tag) {
	case V_INT: batch__int(b, v->i); break;
	case V_REAL: batch__real(b, v->r); break;
	case V_TEXT: batch__textn(b, v->s, v->len); break;
	case V_BLOB: batch__blob(b, v->s, v->len); break;
	default: batch__null(b); break;
	}
}

static int load_row(void *ctx, int ncols, const struct batch_value *v)
{
	struct loader *l = ctx;
	struct capture *c = l->c;
	int64_t ts = v[0].i;
	struct batch *b;

	/* The tick a row belongs to: the first tick at or after it. */
	while (l->at < c->nticks - 1 && c->tick_ts[l->at] < ts)
		l->at++;
	if (ts > c->tick_ts[l->at])
		return 0;
	/* Evenly: keep the row when the kept count steps up. */
	l->seen++;
	if ((int64_t)(l->seen * l->keep) == (int64_t)((l->seen - 1) * l->keep))
		return 0;
	b = &c->ticks[l->at];
	batch__row(b, l->t);
	batch__int(b, ts - c->tick_ts[l->at]);
	for (int k = 1; k < ncols; k++)
		copy_value(b, &v[k]);
	batch__end(b);
	c->rows++;
	return 0;
}

static int collect_tick(void *ctx, int ncols, const struct batch_value *v)
{
	struct capture *c = ctx;

	if (ncols && v[0].tag == V_INT && c->nticks < TICKS_MAX)
		c->tick_ts[c->nticks++] = v[0].i;
	return 0;
}

/* Reads the capture: its ticks are the timestamps of memory_metrics; the
 * first two (start-up) are left out. */
static int load_capture(const char *path, struct capture *c, double rows, char *err)
{
	struct store *s;
	struct store_query_cb ticks = { NULL, collect_tick, c };
	double keep = 1, fixed = 0, thin = 0;
	int rc;

	if ((rc = store__open(path, STORE_READ_ONLY, &s, err)))
		return rc;
	if ((rc = store__query(s, "SELECT timestamp FROM memory_metrics ORDER BY timestamp LIMIT -1 OFFSET 2", &ticks, err)))
		goto done;
	if (c->nticks < 2) {
		snprintf(err, STORE_ERR_MAX, "%s has %d ticks: capture longer", path, c->nticks);
		rc = -EINVAL;
		goto done;
	}
	for (int i = 0; i < c->nticks; i++)
		batch__init(&c->ticks[i]);
	if (rows > 0) {
		for (int t = 0; t < T_COUNT && !rc; t++) {
			char sql[256];
			int64_t n = 0;

			snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE timestamp > %lld AND timestamp <= %lld",
				 schema_tables[t].name, (long long)(c->tick_ts[0] - NSEC_PER_SEC),
				 (long long)c->tick_ts[c->nticks - 1]);
			rc = store__query_int(s, sql, &n, err);
			*(thinnable(t) ? &thin : &fixed) += (double)n / c->nticks;
		}
		keep = thin > 0 && rows < fixed + thin ? (rows > fixed ? (rows - fixed) / thin : 0) : 1;
		printf("capture rows_per_tick %.1f (per-tick tables %.1f, events and processes %.1f): keeping %.3f of the latter\n",
		       fixed + thin, fixed, thin, keep);
	}
	for (int t = 0; t < T_COUNT && !rc; t++) {
		const struct table *tab = &schema_tables[t];
		struct loader l = { c, t, 0, thinnable(t) ? keep : 1, 0 };
		struct store_query_cb cb = { NULL, load_row, &l };
		char sql[2048];
		size_t n;

		n = (size_t)snprintf(sql, sizeof(sql), "SELECT ");
		for (unsigned k = 0; k < tab->ncolumns; k++)
			n += (size_t)snprintf(sql + n, sizeof(sql) - n, "%s%s", k ? ", " : "", tab->columns[k].name);
		snprintf(sql + n, sizeof(sql) - n, " FROM %s WHERE timestamp > %lld AND timestamp <= %lld ORDER BY timestamp",
			 tab->name, (long long)(c->tick_ts[0] - NSEC_PER_SEC), (long long)c->tick_ts[c->nticks - 1]);
		rc = store__query(s, sql, &cb, err);
	}
done:
	store__close(s);
	return rc;
}

/* Fills b with captured tick k moved to ts. */
static void replay_tick(const struct capture *c, int k, int64_t ts, struct batch *b)
{
	struct batch_value v[BATCH_COLUMNS_MAX];

	for (int t = 0; t < T_COUNT; t++) {
		size_t pos = 0;

		for (uint32_t r = 0; r < c->ticks[k].tables[t].rows; r++) {
			batch__read_row(&c->ticks[k], t, &pos, v);
			batch__row(b, t);
			batch__int(b, ts + v[0].i);
			for (unsigned col = 1; col < schema_tables[t].ncolumns; col++)
				copy_value(b, &v[col]);
			batch__end(b);
		}
	}
}

/* Runs retention's steps until it has no work (at most max_steps). */
static int settle(struct retention *r, int max_steps, char *err)
{
	int64_t wait;
	int rc = 1;

	for (int k = 0; k < max_steps && rc == 1; k++)
		rc = retention__step(r, &wait, err);
	return rc < 0 ? rc : 0;
}

/* One fast-forwarded day from day_ts (see the top): the first minute raw,
 * rolled up by retention; its minute rows copied over the day's other
 * 1,439 minutes; then the clock moved an hour at a time with retention
 * settling after each move.  Adds the rows written to *rows. */
static int fast_day(struct store *s, struct retention *r, const struct capture *cap, int64_t day, int64_t day_ts,
		    uint64_t *rows, char *err)
{
	const struct table *const *tiers;
	struct batch b;
	size_t ntiers;
	int64_t before;
	int rc;

	batch__init(&b);
	/* Ticks just before each whole second: every row lands inside the minute. */
	for (int k = 0; k < 60; k++)
		replay_tick(cap, (int)((day * 86400 + k) % cap->nticks), day_ts + (k + 1) * NSEC_PER_SEC - 1, &b);
	*rows += b.rows;
	rc = store__write_batch(s, &b, err);
	batch__free(&b);
	if (rc)
		return rc;
	sim_set(day_ts + 60 * NSEC_PER_SEC + RETENTION_MARGIN_NS);
	if ((rc = settle(r, 1000000, err)) || (rc = store__query(s, "BEGIN IMMEDIATE", NULL, err)))
		return rc;
	before = store__total_changes(s);
	tiers = rollup__tables(&ntiers);
	for (size_t i = 0; i < ntiers && !rc; i++) {
		const struct table *tab = tiers[i];
		char sql[16384], cols[6144];
		size_t n = 0;

		if (strlen(tab->name) < 3 || strcmp(tab->name + strlen(tab->name) - 3, "_1m"))
			continue;
		for (unsigned c = 1; c < tab->ncolumns; c++)
			n += (size_t)snprintf(cols + n, sizeof(cols) - n, ", %s", tab->columns[c].name);
		snprintf(sql, sizeof(sql),
			 "WITH RECURSIVE k(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM k WHERE v < 1439) "
			 "INSERT INTO %s (timestamp%s) SELECT timestamp + k.v * 60000000000%s FROM %s, k "
			 "WHERE timestamp >= %lld AND timestamp < %lld",
			 tab->name, cols, cols, tab->name, (long long)day_ts, (long long)(day_ts + 60 * NSEC_PER_SEC));
		rc = store__query(s, sql, NULL, err);
	}
	if (rc) {
		store__query(s, "ROLLBACK", NULL, NULL);
		return rc;
	}
	*rows += (uint64_t)(store__total_changes(s) - before);
	if ((rc = store__query(s, "COMMIT", NULL, err)))
		return rc;
	for (int h = 1; h <= 24 && !rc; h++) {
		sim_set(day_ts + h * 3600 * NSEC_PER_SEC);
		rc = settle(r, 1000000, err);
	}
	return rc;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static struct capture cap;
	static double lags[86400];
	struct retention_config rcfg = { 48 * 3600 * NSEC_PER_SEC, 30 * 86400 * NSEC_PER_SEC, 730 * 86400 * NSEC_PER_SEC,
					 0, sim_clock, NULL };
	char err[STORE_ERR_MAX];
	struct writer_stats ws, day_start;
	struct retention *ret = NULL;
	struct writer *w = NULL;
	struct store *s = NULL;
	struct batch *b;
	int64_t days, tick_days = 2, start, wall0;

	if (argc < 4 || (days = atoll(argv[3])) <= 0) {
		fprintf(stderr, "usage: retention CAPTURE DB DAYS [MAX_BYTES [ROWS [TICK_DAYS]]]\n");
		return 2;
	}
	if (argc > 6)
		tick_days = atoll(argv[6]);
	if (tick_days > days || tick_days < 0)
		tick_days = days;
	if (argc > 4)
		rcfg.max_bytes = strtoull(argv[4], NULL, 10);
	if (load_capture(argv[1], &cap, argc > 5 ? atof(argv[5]) : 0, err)) {
		fprintf(stderr, "retention: %s: %s\n", argv[1], err);
		return 1;
	}
	printf("replay rows_per_tick %.1f ticks %d\n", (double)cap.rows / cap.nticks, cap.nticks);
	for (int t = 0; t < T_COUNT; t++) {
		uint64_t n = 0;

		for (int k = 0; k < cap.nticks; k++)
			n += cap.ticks[k].tables[t].rows;
		if (n)
			printf("mix %s %.1f\n", schema_tables[t].name, (double)n / cap.nticks);
	}
	/* The simulation ends in the last hour: days start on whole hours (fast days copy whole minutes). */
	start = (clock_real_ns() / NSEC_PER_SEC / 3600 * 3600 - days * 86400) * NSEC_PER_SEC;
	sim_real = start;
	sim_mono = 1000 * NSEC_PER_SEC;
	if (store__open(argv[2], STORE_READ_WRITE, &s, err) || retention__open(s, &rcfg, &ret, err)) {
		fprintf(stderr, "retention: %s: %s\n", argv[2], err);
		return 1;
	}
	if (getenv("BENCH_CACHE"))
		store__query(s, getenv("BENCH_CACHE"), NULL, err);
	wall0 = clock_mono_ns();
	printf("day db_bytes rows_written rows_pruned lag_p99_ms lag_max_ms step_max_ms retention_ms wall_s rollup_ms prune_ms vacuum_ms mode\n");
	fflush(stdout);
	{
		struct retention_stats rs0, rs;

		retention__stats(ret, &rs0);
		for (int64_t day = 0; day < days - tick_days; day++) {
			int64_t day_wall = clock_mono_ns();
			uint64_t rows = 0;

			if (fast_day(s, ret, &cap, day, start + day * 86400 * NSEC_PER_SEC, &rows, err)) {
				fprintf(stderr, "retention: day %lld: %s\n", (long long)day + 1, err);
				return 1;
			}
			retention__stats(ret, &rs);
			printf("%lld %lld %llu %llu 0 0 %.2f %.0f %.1f %.0f %.0f %.0f fast\n", (long long)day + 1,
			       (long long)store__file_bytes(argv[2]), (unsigned long long)rows,
			       (unsigned long long)(rs.rows_pruned - rs0.rows_pruned), rs.step_ms_max, rs.ms - rs0.ms,
			       (double)(clock_mono_ns() - day_wall) / 1e9, rs.rollup_ms - rs0.rollup_ms,
			       rs.prune_ms - rs0.prune_ms, rs.vacuum_ms - rs0.vacuum_ms);
			fflush(stdout);
			rs0 = rs;
		}
	}
	if (writer__start(s, 1 << 30, &w)) {
		fprintf(stderr, "retention: cannot start the writer\n");
		return 1;
	}
	if (!getenv("BENCH_NO_RETENTION"))
		writer__set_retention(w, ret);
	b = writer__submit(w, NULL);
	writer__stats(w, &day_start);
	for (int64_t day = days - tick_days; day < days; day++) {
		double lag_max = 0;
		int64_t day_wall = clock_mono_ns();
		int nlags = 0;

		for (int sec = 0; sec < 86400;) {
			/* A tick per batch in the first minute of the hour, else a minute. */
			int n = sec % 3600 < 60 ? 1 : 60;
			int64_t ts = start + (day * 86400 + sec) * NSEC_PER_SEC, t0;

			for (int k = 0; k < n; k++)
				replay_tick(&cap, (int)((day * 86400 + sec + k) % cap.nticks), ts + k * NSEC_PER_SEC, b);
			sim_set(ts + (n - 1) * NSEC_PER_SEC);
			t0 = clock_mono_ns();
			b = writer__submit(w, b);
			if (writer__flush(w, 60 * NSEC_PER_SEC)) {
				fprintf(stderr, "retention: a batch was not stored within 60 s\n");
				return 1;
			}
			if (n == 1) {
				lags[nlags] = (double)(clock_mono_ns() - t0) / 1e6;
				if (lags[nlags] > lag_max)
					lag_max = lags[nlags];
				nlags++;
			}
			sec += n;
			/* The rest of the seconds: retention's idle time. */
			writer__settle(w, IDLE_STEPS * (unsigned)n, 60 * NSEC_PER_SEC);
		}
		writer__stats(w, &ws);
		qsort(lags, (size_t)nlags, sizeof(lags[0]), cmp_double);
		printf("%lld %lld %llu %llu %.2f %.2f %.2f %.0f %.1f %.0f %.0f %.0f ticks\n", (long long)day + 1,
		       (long long)store__file_bytes(argv[2]), (unsigned long long)(ws.rows_written - day_start.rows_written),
		       (unsigned long long)(ws.retention.rows_pruned - day_start.retention.rows_pruned), lags[nlags * 99 / 100],
		       lag_max, ws.retention.step_ms_max, ws.retention.ms - day_start.retention.ms,
		       (double)(clock_mono_ns() - day_wall) / 1e9, ws.retention.rollup_ms - day_start.retention.rollup_ms,
		       ws.retention.prune_ms - day_start.retention.prune_ms,
		       ws.retention.vacuum_ms - day_start.retention.vacuum_ms);
		fflush(stdout);
		day_start = ws;
	}
	writer__set_retention(w, NULL);
	w = writer__stop(w, 60 * NSEC_PER_SEC, &ws);
	batch__free(b);
	free(b);
	printf("sim_end_ns %lld cap_bytes %lld wall_s %.0f\n", (long long)(start + (days * 86400 - 1) * NSEC_PER_SEC),
	       (long long)ws.retention.cap_bytes, (double)(clock_mono_ns() - wall0) / 1e9);
	retention__close(ret);
	store__close(s);
	return 0;
}
