/* Retention on real SQLite files with a simulated clock: rollup
 * percentiles are those of the merged raw histograms, rollup counts sum to
 * the raw counts (per minute, per hour, and folded into '(other)'), the
 * byte cap holds and the file shrinks, raw rows go before rollups, a clock
 * stepped back or forward deletes nothing it should not, and readers that
 * mix tiers count every row once (replay__run_tiered, which export reads
 * through, too). */
#include <sqlite3.h>
#include <sys/stat.h>

#include "../../src/analysis/replay.h"
#include "../../src/bpf/hist.h"
#include "../../src/lib/buf.h"
#include "../../src/store/retention.h"
#include "../../src/store/rollup.h"
#include "../../src/store/store.h"
#include "../lib/tap.h"

#define SEC 1000000000LL
#define MIN (60 * SEC)
#define HOUR (3600 * SEC)

static char dir[] = "/tmp/ksight-retention.XXXXXX";

static const char *path_in(const char *name)
{
	static char p[256];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

/* The simulated clock: wall and monotonic, moved by the test. */
struct sim {
	int64_t real, mono;
};

static int64_t sim_clock(void *ctx, int64_t *ret_mono)
{
	struct sim *c = ctx;

	*ret_mono = c->mono;
	return c->real;
}

static void advance(struct sim *c, int64_t ns)
{
	c->real += ns;
	c->mono += ns;
}

static int64_t qint(struct store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int64_t qint(struct store *s, const char *fmt, ...)
{
	char sql[1024], err[STORE_ERR_MAX];
	int64_t v = -1;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	if (store__query_int(s, sql, &v, err))
		diag("%s: %s", sql, err);
	return v;
}

static double qreal_row;
static int grab_real(void *ctx, int ncols, const struct batch_value *v)
{
	(void)ctx;
	qreal_row = ncols && v[0].tag == V_REAL ? v[0].r : ncols && v[0].tag == V_INT ? (double)v[0].i : NAN;
	return 0;
}

static double qreal(struct store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static double qreal(struct store *s, const char *fmt, ...)
{
	char sql[1024], err[STORE_ERR_MAX];
	struct store_query_cb cb = { NULL, grab_real, NULL };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	qreal_row = NAN;
	if (store__query(s, sql, &cb, err))
		diag("%s: %s", sql, err);
	return qreal_row;
}

/* --- rows by column name; every column not given is NULL --- */

enum kv_kind { KI, KR, KS, KH };
struct kv {
	const char *name;
	enum kv_kind kind;
	int64_t i;
	double r;
	const char *s;
	const uint64_t *h;
};
#define VI(n, v) { n, KI, (int64_t)(v), 0, NULL, NULL }
#define VR(n, v) { n, KR, 0, (double)(v), NULL, NULL }
#define VS(n, v) { n, KS, 0, 0, v, NULL }
#define VH(n, v) { n, KH, 0, 0, NULL, v }

static void put(struct batch *b, enum table_id t, int64_t ts, const struct kv *kv, size_t n)
{
	const struct table *tab = &schema_tables[t];

	batch__row(b, t);
	batch__int(b, ts);
	for (unsigned c = 1; c < tab->ncolumns; c++) {
		const struct kv *v = NULL;

		for (size_t k = 0; k < n && !v; k++)
			if (!strcmp(kv[k].name, tab->columns[c].name))
				v = &kv[k];
		if (!v)
			batch__null(b);
		else if (v->kind == KI)
			batch__int(b, v->i);
		else if (v->kind == KR)
			batch__real(b, v->r);
		else if (v->kind == KS)
			batch__text(b, v->s);
		else
			batch__hist(b, v->h);
	}
	batch__end(b);
}
#define PUT(b, t, ts, ...) do { const struct kv kv_[] = { __VA_ARGS__ }; put(b, t, ts, kv_, sizeof(kv_) / sizeof(kv_[0])); } while (0)

/* --- generated workload --- */

static uint64_t rng = 88172645463325252ULL;
static uint64_t rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng % n;
}

/* A random histogram between buckets lo and hi; *ret_max a value inside
 * the highest bucket used. */
static uint64_t random_hist(uint64_t *h, unsigned lo, unsigned hi, uint64_t *ret_max)
{
	uint64_t n = 0;
	unsigned top = 0;

	memset(h, 0, HIST_BUCKETS * sizeof(*h));
	for (int k = 0; k < 6; k++) {
		unsigned b = lo + (unsigned)rnd(hi - lo);

		h[b] += 1 + rnd(40);
		if (b > top)
			top = b;
	}
	for (unsigned b = 0; b < HIST_BUCKETS; b++)
		n += h[b];
	*ret_max = hist_lower(top) + rnd(hist_upper(top) - hist_lower(top));
	return n;
}

#define NSYS 2
#define COMMS 30

/* What the generator wrote, per minute, to compare rollups with. */
struct minute_truth {
	uint64_t sys_hist[NSYS][HIST_BUCKETS], sys_count[NSYS], sys_max[NSYS];
	uint64_t io_hist[HIST_BUCKETS], io_count, io_max_ns;
	uint64_t runq_hist[HIST_BUCKETS], runq_count, runq_max_ns;
	uint64_t exec_count, exit_count;
};

static const char *const sysnames[NSYS] = { "read", "write" };

/* One tick of every kind of row the checks need, at ts. */
static void tick_rows(struct batch *b, int64_t ts, struct minute_truth *m, bool light)
{
	uint64_t h[HIST_BUCKETS], max, n;
	double pct[3];
	char comm[16];

	PUT(b, T_MEMORY_METRICS, ts, VI("used_kb", 1000000 + rnd(1000)), VI("total_kb", 8000000));
	PUT(b, T_CPU_METRICS, ts, VS("cpu", "cpu"), VR("user_pct", (double)rnd(1000) / 10), VR("idle_pct", 50));
	for (int k = 0; k < NSYS; k++) {
		n = random_hist(h, 40, 120, &max);
		hist_percentiles(h, n, max, pct);
		PUT(b, T_SYSCALL_STATS, ts, VI("interval_ns", SEC), VI("syscall_nr", k), VS("syscall_name", sysnames[k]),
		    VI("count", n), VI("errors", rnd(3)), VI("total_ns", n * 1000), VI("p50_ns", (int64_t)pct[0]),
		    VI("p95_ns", (int64_t)pct[1]), VI("p99_ns", (int64_t)pct[2]), VI("max_ns", max), VH("hist", h));
		if (m) {
			for (int j = 0; j < HIST_BUCKETS; j++)
				m->sys_hist[k][j] += h[j];
			m->sys_count[k] += n;
			if (max > m->sys_max[k])
				m->sys_max[k] = max;
		}
	}
	if (light)
		return;
	n = random_hist(h, 100, 180, &max);
	hist_percentiles(h, n, max, pct);
	PUT(b, T_IO_LATENCY_STATS, ts, VI("interval_ns", SEC), VS("device", "vda"), VI("dev_major", 253),
	    VI("dev_minor", 0), VI("read_count", n), VI("read_bytes", n * 4096), VR("read_p50_us", pct[0] / 1e3),
	    VR("read_p95_us", pct[1] / 1e3), VR("read_p99_us", pct[2] / 1e3), VR("read_max_us", (double)max / 1e3),
	    VH("read_hist", h), VI("write_count", 0), VI("write_bytes", 0));
	if (m) {
		for (int j = 0; j < HIST_BUCKETS; j++)
			m->io_hist[j] += h[j];
		m->io_count += n;
		if (max > m->io_max_ns)
			m->io_max_ns = max;
	}
	n = random_hist(h, 20, 90, &max);
	hist_percentiles(h, n, max, pct);
	PUT(b, T_SCHED_EVENTS, ts, VI("interval_ns", SEC), VI("runq_count", n), VR("runq_p50_us", pct[0] / 1e3),
	    VR("runq_p95_us", pct[1] / 1e3), VR("runq_p99_us", pct[2] / 1e3), VR("runq_max_us", (double)max / 1e3),
	    VI("context_switches", 100), VH("runq_hist", h));
	if (m) {
		for (int j = 0; j < HIST_BUCKETS; j++)
			m->runq_hist[j] += h[j];
		m->runq_count += n;
		if (max > m->runq_max_ns)
			m->runq_max_ns = max;
	}
	for (int k = 0; k < 3; k++) {
		bool exec = rnd(2);

		snprintf(comm, sizeof(comm), "cmd%02d", (int)rnd(COMMS));
		PUT(b, T_PROCESS_EVENTS, ts - (int64_t)rnd(SEC / 2), VS("event", exec ? "exec" : "exit"), VI("pid", 100 + k),
		    VS("comm", comm));
		if (m)
			exec ? m->exec_count++ : m->exit_count++;
	}
}

static void write_batch(struct store *s, struct batch *b)
{
	char err[STORE_ERR_MAX];

	if (store__write_batch(s, b, err))
		bail_out(err);
	batch__clear(b);
}

/* Runs steps until retention has nothing to do; returns the steps. */
static int drain(struct retention *r)
{
	char err[STORE_ERR_MAX];
	int64_t wait;
	int steps = 0, rc;

	while ((rc = retention__step(r, &wait, err)) > 0)
		steps++;
	if (rc < 0)
		diag("retention step: %s", err);
	return rc < 0 ? -1 : steps;
}

static int64_t file_bytes(const char *path)
{
	return store__file_bytes(path);
}

/* Opens path read-write with retention cfg; durability is not under test
 * here, so commits skip fsync (the machine is shared and its disk slow). */
static void open_both(const char *path, const struct retention_config *cfg, struct store **ret_s,
		      struct retention **ret_r)
{
	char err[STORE_ERR_MAX];

	if (store__open(path, STORE_READ_WRITE, ret_s, err) || store__query(*ret_s, "PRAGMA synchronous = OFF", NULL, err) ||
	    retention__open(*ret_s, cfg, ret_r, err))
		bail_out(err);
}

static const struct retention_config defaults = { 48 * HOUR, 30 * 24 * HOUR, 730 * 24 * HOUR, 0, sim_clock, NULL };

/* --- 1: rollups of three minutes and an hour, percentiles and counts --- */
static void test_rollups(void)
{
	static struct minute_truth truth[62];
	struct sim clk = { 1700000000 * SEC - 1700000000 * SEC % HOUR, 1000 * SEC };
	struct retention_config cfg = defaults;
	int64_t t0 = clk.real, sums[NSYS] = { 0 };
	char err[STORE_ERR_MAX];
	struct retention *r;
	struct store *s;
	struct batch b;
	bool pct_ok = true, io_ok = true, runq_ok = true, counts_ok = true, sql_ok = true;

	cfg.clock_ctx = &clk;
	batch__init(&b);
	open_both(path_in("rollups.db"), &cfg, &s, &r);
	/* 61 minutes of 1 s ticks: one full hour and a minute. */
	for (int sec = 0; sec < 61 * 60; sec++) {
		tick_rows(&b, t0 + sec * SEC + SEC / 2, &truth[sec / 60], false);
		write_batch(s, &b);
	}
	clk.real = t0 + 62 * MIN + RETENTION_MARGIN_NS;
	ok(drain(r) > 0, "retention rolls the hour up");
	is(qint(s, "SELECT count(*) FROM memory_metrics_1m"), 61, "one memory_metrics_1m row per minute");
	is(qint(s, "SELECT count(*) FROM memory_metrics_1h"), 1, "one memory_metrics_1h row for the complete hour");
	is(qint(s, "SELECT sum(samples) FROM memory_metrics_1m"), 61 * 60, "samples: every tick counted once");
	for (int m = 0; m < 61; m++) {
		int64_t start = t0 + m * MIN;

		for (int k = 0; k < NSYS; k++) {
			double pct[3];
			const char *cols[3] = { "p50_ns", "p95_ns", "p99_ns" };

			hist_percentiles(truth[m].sys_hist[k], truth[m].sys_count[k], truth[m].sys_max[k], pct);
			for (int q = 0; q < 3; q++) {
				int64_t got = qint(s, "SELECT %s FROM syscall_stats_1m WHERE timestamp = %lld AND syscall_nr = %d",
						   cols[q], (long long)start, k);

				if (got != (int64_t)pct[q]) {
					if (pct_ok)
						diag("minute %d %s %s: rollup %lld, merged raw %lld", m, sysnames[k], cols[q],
						     (long long)got, (long long)pct[q]);
					pct_ok = false;
				}
			}
			if (qint(s, "SELECT count FROM syscall_stats_1m WHERE timestamp = %lld AND syscall_nr = %d",
				 (long long)start, k) != (int64_t)truth[m].sys_count[k])
				counts_ok = false;
			sums[k] += (int64_t)truth[m].sys_count[k];
		}
		{
			double pct[3];
			const char *cols[3] = { "read_p50_us", "read_p95_us", "read_p99_us" };

			hist_percentiles(truth[m].io_hist, truth[m].io_count, truth[m].io_max_ns, pct);
			for (int q = 0; q < 3; q++) {
				double got = qreal(s, "SELECT %s FROM io_latency_stats_1m WHERE timestamp = %lld", cols[q],
						   (long long)start);

				if (fabs(got - pct[q] / 1e3) > 1e-9 * pct[q]) {
					if (io_ok)
						diag("minute %d %s: rollup %.9f, merged raw %.9f", m, cols[q], got, pct[q] / 1e3);
					io_ok = false;
				}
			}
			hist_percentiles(truth[m].runq_hist, truth[m].runq_count, truth[m].runq_max_ns, pct);
			if (fabs(qreal(s, "SELECT runq_p99_us FROM sched_events_1m WHERE timestamp = %lld", (long long)start) -
				 pct[2] / 1e3) > 1e-9 * pct[2])
				runq_ok = false;
		}
		/* The SQL functions agree with the C merge on the raw rows. */
		if (qint(s, "SELECT CAST(ks_hist_quantile(ks_hist_merge(hist), 0.99, max(max_ns)) AS INTEGER) FROM "
			    "syscall_stats WHERE syscall_nr = 0 AND timestamp >= %lld AND timestamp < %lld",
			 (long long)start, (long long)(start + MIN)) !=
		    qint(s, "SELECT p99_ns FROM syscall_stats_1m WHERE timestamp = %lld AND syscall_nr = 0", (long long)start))
			sql_ok = false;
	}
	ok(pct_ok, "syscall_stats_1m p50/p95/p99 equal those of the merged raw histograms, every minute");
	ok(io_ok, "io_latency_stats_1m read p50/p95/p99 equal those of the merged raw histograms");
	ok(runq_ok, "sched_events_1m runq_p99_us equals that of the merged raw histograms");
	ok(sql_ok, "ks_hist_quantile(ks_hist_merge(hist)) over raw rows gives the rollup's value");
	ok(counts_ok, "syscall_stats_1m count equals the raw count of the minute");
	{
		uint64_t hour_hist[HIST_BUCKETS] = { 0 }, n = 0, max = 0;
		double pct[3];

		for (int m = 0; m < 60; m++) {
			for (int j = 0; j < HIST_BUCKETS; j++)
				hour_hist[j] += truth[m].sys_hist[1][j];
			n += truth[m].sys_count[1];
			if (truth[m].sys_max[1] > max)
				max = truth[m].sys_max[1];
		}
		hist_percentiles(hour_hist, n, max, pct);
		is(qint(s, "SELECT p99_ns FROM syscall_stats_1h WHERE syscall_nr = 1"), (int64_t)pct[2],
		   "syscall_stats_1h p99 (from minute histograms) equals that of the hour's merged raw histograms");
		is(qint(s, "SELECT count FROM syscall_stats_1h WHERE syscall_nr = 1"), (int64_t)n,
		   "syscall_stats_1h count is the hour's raw count");
		is(qint(s, "SELECT max_ns FROM syscall_stats_1h WHERE syscall_nr = 1"), (int64_t)max,
		   "syscall_stats_1h max_ns is the hour's maximum");
	}
	is(qint(s, "SELECT sum(count) FROM syscall_stats_1m"), sums[0] + sums[1], "rollup counts sum to the raw counts");
	is(qint(s, "SELECT sum(count) FROM syscall_stats_1m"), qint(s, "SELECT sum(count) FROM syscall_stats"),
	   "... which are what the raw table holds");
	{
		uint64_t execs = 0, exits = 0;

		for (int m = 0; m < 61; m++) {
			execs += truth[m].exec_count;
			exits += truth[m].exit_count;
		}
		is(qint(s, "SELECT sum(count) FROM process_events_1m WHERE event = 'exec'"), (int64_t)execs,
		   "process_events_1m: exec counts sum to the raw events");
		is(qint(s, "SELECT sum(count) FROM process_events_1m WHERE event = 'exit'"), (int64_t)exits,
		   "process_events_1m: exit counts sum to the raw events");
		is(qint(s, "SELECT sum(count) FROM process_events_1h"),
		   qint(s, "SELECT count(*) FROM process_events WHERE timestamp < %lld", (long long)(t0 + HOUR)),
		   "process_events_1h counts the hour's events");
		ok(qint(s, "SELECT max(n) FROM (SELECT count(DISTINCT comm) n FROM process_events_1m GROUP BY timestamp)") <=
			   ROLLUP_TOP_COMMS + 1,
		   "process_events_1m keeps the %d busiest commands per minute and '%s'", ROLLUP_TOP_COMMS, ROLLUP_OTHER);
		ok(qint(s, "SELECT count(*) FROM process_events_1m WHERE comm = '%s'", ROLLUP_OTHER) > 0,
		   "the other commands are summed under '%s'", ROLLUP_OTHER);
	}
	ok(fabs(qreal(s, "SELECT user_pct FROM cpu_metrics_1m ORDER BY timestamp LIMIT 1") -
		qreal(s, "SELECT avg(user_pct) FROM cpu_metrics WHERE timestamp < %lld", (long long)(t0 + MIN))) < 1e-9,
	   "cpu_metrics_1m.user_pct is the minute's mean");
	ok(qreal(s, "SELECT user_pct_max FROM cpu_metrics_1h") ==
		   qreal(s, "SELECT max(user_pct) FROM cpu_metrics WHERE timestamp < %lld", (long long)(t0 + HOUR)),
	   "cpu_metrics_1h.user_pct_max is the hour's maximum");

	/* Readers mixing tiers count every row once, whatever the plan. */
	{
		static const char *const cols[] = { "count", NULL };
		struct buf sql = BUF_INIT;
		int64_t want = qint(s, "SELECT sum(count) FROM syscall_stats");
		static const int64_t steps[] = { SEC, MIN, HOUR };
		bool same = true;

		buf_adds(&sql, "SELECT sum(count) FROM ");
		rollup__from(&sql, T_SYSCALL_STATS, cols, "?1", "?2", "?3", "?4");
		for (int k = 0; k < 3; k++) {
			struct tier_plan plan;
			struct store_stmt *st;
			int64_t got = -1;

			if (rollup__plan(s, T_SYSCALL_STATS, t0, t0 + 2 * HOUR, steps[k], &plan, err) ||
			    store__prepare(s, sql.data, &st, err))
				bail_out(err);
			store_stmt__bind_int(st, 1, t0);
			store_stmt__bind_int(st, 2, t0 + 2 * HOUR);
			store_stmt__bind_int(st, 3, plan.hour_until);
			store_stmt__bind_int(st, 4, plan.minute_until);
			if (store_stmt__step(st, err) == 1)
				got = store_stmt__int(st, 0);
			store_stmt__done(st);
			if (got != want || (int)plan.tier != k) {
				diag("step %llds: tier %s, hour_until +%llds, minute_until +%llds: %lld, want %lld",
				     (long long)(steps[k] / SEC), tier__name(plan.tier), (long long)((plan.hour_until - t0) / SEC),
				     (long long)((plan.minute_until - t0) / SEC), (long long)got, (long long)want);
				same = false;
			}
		}
		ok(same, "a read across raw, minute and hour tiers counts every call once, whichever tier the step picks");

		/* Pruned mid-hour: raw before 23.5 min and minute rows before
		 * 10 min are gone; the hour row stands in for them. */
		if (store__query(s, "DELETE FROM syscall_stats WHERE timestamp < (SELECT min(timestamp) FROM syscall_stats) + 1410000000000;"
				    "DELETE FROM syscall_stats_1m WHERE timestamp < (SELECT min(timestamp) FROM syscall_stats_1m) + 600000000000",
				 NULL, err))
			bail_out(err);
		same = true;
		for (int k = 0; k < 3; k++) {
			struct tier_plan plan;
			struct store_stmt *st;
			int64_t got = -1;

			if (rollup__plan(s, T_SYSCALL_STATS, t0, t0 + 2 * HOUR, steps[k], &plan, err) ||
			    store__prepare(s, sql.data, &st, err))
				bail_out(err);
			store_stmt__bind_int(st, 1, t0);
			store_stmt__bind_int(st, 2, t0 + 2 * HOUR);
			store_stmt__bind_int(st, 3, plan.hour_until);
			store_stmt__bind_int(st, 4, plan.minute_until);
			if (store_stmt__step(st, err) == 1)
				got = store_stmt__int(st, 0);
			store_stmt__done(st);
			if (got != want) {
				diag("pruned, step %llds: tier %s, hour_until +%llds, minute_until +%llds: %lld, want %lld",
				     (long long)(steps[k] / SEC), tier__name(plan.tier), (long long)((plan.hour_until - t0) / SEC),
				     (long long)((plan.minute_until - t0) / SEC), (long long)got, (long long)want);
				same = false;
			}
		}
		ok(same, "with the oldest raw and minute rows pruned mid-hour, the hour row stands in: still every call once");
		buf_free(&sql);
	}
	retention__close(r);
	store__close(s);
	batch__free(&b);
}

/* Replay across tiers: ticks and the first memory_metrics value. */
struct tiered_seen {
	int64_t ticks, first_ts, first_used;
	unsigned used_col;
	bool have;
};

static void seen_row(void *ctx, enum table_id t, const struct batch_value *v)
{
	struct tiered_seen *ts = ctx;

	if (t == T_MEMORY_METRICS && !ts->have) {
		ts->first_ts = v[0].i;
		ts->first_used = v[ts->used_col].tag == V_INT ? v[ts->used_col].i : (int64_t)llround(v[ts->used_col].r);
		ts->have = true;
	}
}

static void seen_tick(void *ctx, int64_t ts_ns)
{
	(void)ts_ns;
	((struct tiered_seen *)ctx)->ticks++;
}

/* The feature export's read: raw rows of the first half hour pruned, the
 * replay reads minute rollups there (one tick per minute, the minute's
 * mean) and raw ticks after. */
static void test_replay_tiered(void)
{
	struct sim clk = { 1700000000 * SEC - 1700000000 * SEC % HOUR, 1000 * SEC };
	struct retention_config cfg = defaults;
	struct tiered_seen seen = { 0 };
	struct replay_cb cb = { seen_row, seen_tick, &seen };
	const struct table *mm = &schema_tables[T_MEMORY_METRICS];
	int64_t t0 = clk.real;
	char err[STORE_ERR_MAX];
	struct retention *r;
	struct store *s;
	struct batch b;
	enum tier tier = TIER_COUNT;
	static struct minute_truth truth[62];

	for (unsigned c = 0; c < mm->ncolumns; c++)
		if (!strcmp(mm->columns[c].name, "used_kb"))
			seen.used_col = c;
	cfg.clock_ctx = &clk;
	batch__init(&b);
	open_both(path_in("replay.db"), &cfg, &s, &r);
	for (int sec = 0; sec < 61 * 60; sec++) {
		tick_rows(&b, t0 + sec * SEC + SEC / 2, &truth[sec / 60], true);
		write_batch(s, &b);
	}
	clk.real = t0 + 62 * MIN + RETENTION_MARGIN_NS;
	drain(r);
	/* From the first raw row (half a second past the minute). */
	if (replay__run_tiered(s, t0 + SEC / 2, t0 + 61 * MIN, &cb, &tier, err))
		bail_out(err);
	is((int)tier, TIER_RAW, "replay over raw rows reads them");
	is(seen.ticks, 61 * 60, "one tick per raw second");
	if (store__query(s, "DELETE FROM memory_metrics WHERE timestamp < (SELECT min(timestamp) FROM memory_metrics) + 1800000000000",
			 NULL, err))
		bail_out(err);
	memset(&seen, 0, sizeof(seen));
	for (unsigned c = 0; c < mm->ncolumns; c++)
		if (!strcmp(mm->columns[c].name, "used_kb"))
			seen.used_col = c;
	if (replay__run_tiered(s, t0, t0 + 61 * MIN, &cb, &tier, err))
		bail_out(err);
	is((int)tier, TIER_MINUTE, "raw rows pruned: replay reads the minute rollups there");
	/* Raw from the first whole minute after the oldest raw row (30 min
	 * 0.5 s: 31 min), minute rows before. */
	is(seen.ticks, 31 + 30 * 60, "31 minute ticks, then one per raw second, none twice");
	is(seen.first_ts, t0, "the first tick is the first minute's");
	is(seen.first_used, qint(s, "SELECT CAST(round(used_kb) AS INTEGER) FROM memory_metrics_1m WHERE timestamp = %lld",
				 (long long)t0),
	   "its memory_metrics value is the minute's mean");
	retention__close(r);
	store__close(s);
	batch__free(&b);
}

/* --- 2: the cap holds with a tiny max_bytes, raw goes first --- */
static void test_cap(void)
{
	struct sim clk = { 1700000000 * SEC - 1700000000 * SEC % HOUR, 1000 * SEC };
	struct retention_config cfg = defaults;
	const char *path = path_in("cap.db");
	int64_t t0 = clk.real, worst = 0, cap = 4 << 20;
	char err[STORE_ERR_MAX];
	struct retention_stats st;
	struct retention *r;
	struct store *s;
	struct batch b;

	cfg.clock_ctx = &clk;
	cfg.max_bytes = (uint64_t)cap;
	batch__init(&b);
	open_both(path, &cfg, &s, &r);
	/* Three hours, 1 s ticks: several times the cap. */
	for (int sec = 0; sec < 3 * 3600; sec++) {
		tick_rows(&b, t0 + sec * SEC, NULL, false);
		write_batch(s, &b);
		clk.real = t0 + sec * SEC;
		clk.mono = 1000 * SEC + sec * SEC;
		if (sec % 60 == 59) {
			drain(r);
			if (file_bytes(path) > worst)
				worst = file_bytes(path);
		}
	}
	retention__stats(r, &st);
	diag("cap %lld: largest file %lld, %llu rows pruned, %llu bytes freed", (long long)cap, (long long)worst,
	     (unsigned long long)st.rows_pruned, (unsigned long long)st.bytes_freed);
	ok(worst <= cap, "the file and its WAL stay under max_bytes (%lld <= %lld)", (long long)worst, (long long)cap);
	ok(st.rows_pruned > 0, "rows were pruned to hold the cap");
	ok(qint(s, "SELECT min(timestamp) FROM syscall_stats") > t0 + HOUR,
	   "the oldest raw rows went (raw starts %llds in)",
	   (long long)((qint(s, "SELECT min(timestamp) FROM syscall_stats") - t0) / SEC));
	is(qint(s, "SELECT min(timestamp) FROM syscall_stats_1m"), t0, "the minute rollups of that time stay");
	ok(qint(s, "SELECT max(timestamp) FROM syscall_stats") >= t0 + 3 * HOUR - 2 * SEC, "the newest raw rows stay");

	/* Tighter still: the minute tier goes before the hour tier. */
	retention__close(r);
	cfg.max_bytes = 1200 * 1024;
	if (retention__open(s, &cfg, &r, err))
		bail_out(err);
	advance(&clk, SEC);
	drain(r);
	/* The next tick's commit restarts the WAL at its new, smaller limit. */
	tick_rows(&b, clk.real, NULL, true);
	write_batch(s, &b);
	retention__stats(r, &st);
	{
		struct stat m, w;
		char wal[300];

		snprintf(wal, sizeof(wal), "%s-wal", path);
		stat(path, &m);
		if (stat(wal, &w))
			w.st_size = 0;
		diag("main %lld wal %lld pages %lld free %lld", (long long)m.st_size, (long long)w.st_size,
		     (long long)qint(s, "PRAGMA page_count"), (long long)qint(s, "PRAGMA freelist_count"));
	}
	ok(file_bytes(path) <= (int64_t)cfg.max_bytes, "lowered to %llu bytes, the file shrinks under it (%lld)",
	   (unsigned long long)cfg.max_bytes, (long long)file_bytes(path));
	ok(st.bytes_freed > 0, "incremental vacuum gave %llu bytes back", (unsigned long long)st.bytes_freed);
	is(qint(s, "SELECT min(timestamp) FROM syscall_stats_1h"), t0, "the hour rollups stay longest");
	retention__close(r);
	store__close(s);
	batch__free(&b);
}

/* --- 3: an older file without incremental vacuum is converted --- */
static void test_convert(void)
{
	struct sim clk = { 1700000000 * SEC, 1000 * SEC };
	struct retention_config cfg = defaults;
	const char *path = path_in("old.db");
	char err[STORE_ERR_MAX];
	struct retention_stats st;
	struct retention *r;
	struct store *s;
	sqlite3 *h;

	/* A file made without auto_vacuum, as schema v1 made them. */
	if (sqlite3_open(path, &h) != SQLITE_OK ||
	    sqlite3_exec(h, "PRAGMA auto_vacuum = NONE; CREATE TABLE t(x); DROP TABLE t;", NULL, NULL, NULL) != SQLITE_OK)
		bail_out("sqlite3");
	sqlite3_close(h);
	cfg.clock_ctx = &clk;
	if (store__open(path, STORE_READ_WRITE, &s, err) || retention__open(s, &cfg, &r, err))
		bail_out(err);
	retention__stats(r, &st);
	ok(st.convert_ms > 0, "retention turned incremental vacuum on (%.1f ms)", st.convert_ms);
	is(qint(s, "PRAGMA auto_vacuum"), 2, "auto_vacuum is INCREMENTAL");
	retention__close(r);
	store__close(s);
}

/* --- 4: clock steps --- */
static void test_clock_steps(void)
{
	struct sim clk = { 1700000000 * SEC - 1700000000 * SEC % HOUR, 1000 * SEC };
	struct retention_config cfg = { HOUR, 24 * HOUR, 7 * 24 * HOUR, 0, sim_clock, &clk };
	int64_t written_after = 0, t_step;
	struct retention *r;
	struct store *s;
	struct batch b;

	batch__init(&b);
	open_both(path_in("clock.db"), &cfg, &s, &r);
	/* Two hours at 1 s: raw keeps the last hour. */
	for (int sec = 0; sec < 2 * 3600; sec++, advance(&clk, SEC)) {
		tick_rows(&b, clk.real, NULL, true);
		write_batch(s, &b);
		if (sec % 60 == 0)
			drain(r);
	}
	drain(r);
	ok(qint(s, "SELECT min(timestamp) FROM memory_metrics") >= clk.real - HOUR - MIN - RETENTION_MARGIN_NS,
	   "raw rows older than retention.raw (1 h) are pruned");
	t_step = clk.real;

	/* The wall clock steps back 30 minutes; 10 minutes pass. */
	clk.real -= 30 * MIN;
	for (int sec = 0; sec < 600; sec++, advance(&clk, SEC)) {
		tick_rows(&b, clk.real, NULL, true);
		write_batch(s, &b);
		written_after++;
		if (sec % 60 == 0)
			drain(r);
	}
	drain(r);
	/* True time is t_step + 10 min: every row written since t_step - 50 min is under an hour old. */
	is(qint(s, "SELECT count(*) FROM memory_metrics WHERE timestamp >= %lld", (long long)(t_step - 50 * MIN)),
	   50 * 60 + written_after,
	   "after a step back of 30 min, no row less than retention.raw old (by elapsed time) is deleted");
	is(qint(s, "SELECT count(*) FROM memory_metrics WHERE timestamp >= %lld AND timestamp < %lld",
		(long long)(t_step - 30 * MIN), (long long)(t_step - 20 * MIN)),
	   600 + written_after, "the rows stamped in the repeated 10 minutes are all kept, old and new");

	/* Forward a day by mistake, 2 minutes, then back: nothing of the
	 * last hour goes because of the wrong date. */
	{
		int64_t before = qint(s, "SELECT count(*) FROM memory_metrics");
		int64_t true_now = clk.real;

		clk.real += 24 * HOUR;
		for (int sec = 0; sec < 120; sec++, advance(&clk, SEC)) {
			tick_rows(&b, clk.real, NULL, true);
			write_batch(s, &b);
			drain(r);
		}
		clk.real -= 24 * HOUR;
		drain(r);
		ok(qint(s, "SELECT count(*) FROM memory_metrics WHERE timestamp < %lld", (long long)(true_now + HOUR)) >=
			   before - 2 * 60 - 2,
		   "a wall clock stepped a day forward and back deletes no more than the 2 minutes that really passed");
		is(qint(s, "SELECT count(*) FROM memory_metrics WHERE timestamp >= %lld", (long long)(true_now + HOUR)), 120,
		   "the rows stamped with the wrong date are kept too");
	}
	retention__close(r);
	store__close(s);
	batch__free(&b);
}

int main(void)
{
	plan(44);
	if (!mkdtemp(dir))
		bail_out("mkdtemp");
	test_rollups();
	test_replay_tiered();
	test_cap();
	test_convert();
	test_clock_steps();
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd))
			diag("could not remove %s", dir);
	}
	return done_testing();
}
