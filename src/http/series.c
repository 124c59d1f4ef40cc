/* GET /api/series?since=&until=&step=: the dashboard's charts in one answer.
 *
 * Each series is one constant query that buckets a table's rows by
 * timestamp / step (averages for levels, sums turned into per-second
 * rates for counts, the maximum for worst cases, percentiles from merged
 * latency histograms), so a 30-day range costs the same number of points
 * as 5 minutes.  The rows come from the tier that fits the step without
 * being asked (store/rollup.h: raw below a minute, per-minute rollups
 * below an hour, per-hour above), coarser where the finer tier has been
 * pruned and raw for the last minutes not rolled up yet; the queries are
 * written against the rollup shape (samples, X_max ...) so any mix of
 * tiers aggregates the same way.  A range longer than MINUTES_MAX minutes
 * is read from the hour tier, its step raised to an hour when finer (the
 * answer's step_s says so): a 7-day view costs 168 rows a key, not 10,080
 * minute rows (each series' query then reads at most a row per hour and
 * key, plus the minutes and raw rows not rolled up yet).  Buckets that
 * the hour rows alone answer are kept from one request to the next (see
 * "Closed buckets" below: a 30-day view then queries the newest bucket and
 * the partial one at its start; p99 figures in docs/performance.md,
 * "Retention").  An answer reads one snapshot of the database.  Event
 * counts are filled with 0 for buckets without rows; levels are left out
 * (a gap in the chart) when nothing was measured.  Times are seconds
 * since the epoch (JavaScript numbers cannot hold ns).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../config/config.h"
#include "../lib/buf.h"
#include "../lib/clock.h"
#include "../store/rollup.h"
#include "../store/store.h"
#include "routes.h"
#include "server.h"

#define POINTS_MAX 5000
/* Longer ranges read the hour tier (about 33 h: the 24 h view keeps its
 * minute rows, the 7 d and 30 d views read hours). */
#define MINUTES_MAX 2000
#define RANGE_MAX (731 * 24 * 3600 * NSEC_PER_SEC)
#define COLS_MAX 8
#define NEEDS_MAX 12

struct series {
	const char *name;
	enum table_id table;
	/* ?1 since, ?2 until, ?3 step (ns), ?4 and ?5 the tier splits, ?6 the
	 * slow-syscall threshold; %s is the table's rows in rollup
	 * shape (rollup__from); column 0 is the bucket */
	const char *sql;
	const char *const needs[NEEDS_MAX];   /* rollup columns the query reads */
	const char *const cols[COLS_MAX];     /* names of the value columns */
	bool zero_fill;                       /* missing buckets are 0 (counts), else absent (levels) */
	bool rollups_only;                    /* %s holds the rollup tiers only (to min(?5, ?2)); the query reads raw rows itself */
};

#define B "timestamp / ?3 * ?3"
/* Mean of a level over rows that each stand for `samples` source rows. */
#define WAVG(x) "sum((" x ") * samples) * 1.0 / sum(CASE WHEN (" x ") IS NOT NULL THEN samples END)"
#define WAVGW(x, w) "sum(" x " * " w ") * 1.0 / sum(CASE WHEN " x " IS NOT NULL THEN " w " END)"
/* A percentile of the bucket from its merged histogram (us); rows stored
 * without one (schema v1) fall back to their worst interval. */
#define PCT(h, q, mx, p) "coalesce(ks_hist_quantile(ks_hist_merge(" h "), " q ", max(" mx ") * 1e3) / 1e3, max(" p "))"

static const struct series series[] = {
	{ "cpu", T_CPU_METRICS,
	  "SELECT " B " b, " WAVG("user_pct") ", " WAVG("system_pct") ", " WAVG("iowait_pct") ", "
	  WAVG("irq_pct + softirq_pct") ", " WAVG("steal_pct") " FROM %s WHERE cpu = 'cpu' GROUP BY b ORDER BY b",
	  { "cpu", "samples", "user_pct", "system_pct", "iowait_pct", "irq_pct", "softirq_pct", "steal_pct" },
	  { "user", "system", "iowait", "irq", "steal" }, false },
	{ "memory", T_MEMORY_METRICS,
	  "SELECT " B " b, " WAVG("used_kb") " * 1024, " WAVG("buffers_kb + cache_kb") " * 1024, "
	  WAVG("available_kb") " * 1024, " WAVG("swap_used_kb") " * 1024 FROM %s GROUP BY b ORDER BY b",
	  { "samples", "used_kb", "buffers_kb", "cache_kb", "available_kb", "swap_used_kb" },
	  { "used", "cache", "available", "swap_used" }, false },
	{ "load", T_LOAD_METRICS,
	  "SELECT " B " b, " WAVG("load1") ", " WAVG("load5") ", " WAVG("load15") " FROM %s GROUP BY b ORDER BY b",
	  { "samples", "load1", "load5", "load15" }, { "load1", "load5", "load15" }, false },
	{ "disk", T_BLOCK_STATS,
	  "SELECT timestamp / ?3 * ?3 b, " WAVGW("r", "w") ", " WAVGW("wr", "w") ", max(u) FROM (SELECT timestamp, "
	  "sum(read_bytes_per_sec) r, sum(write_bytes_per_sec) wr, max(util_pct_max) u, max(samples) w FROM %s "
	  "GROUP BY timestamp) GROUP BY b ORDER BY b",
	  { "samples", "read_bytes_per_sec", "write_bytes_per_sec", "util_pct_max" }, { "read", "write", "util_pct" },
	  false },
	{ "network", T_NETWORK_INTERFACE_STATS,
	  "SELECT timestamp / ?3 * ?3 b, " WAVGW("rx", "w") ", " WAVGW("tx", "w") ", " WAVGW("lo", "w")
	  " FROM (SELECT timestamp, "
	  "sum(CASE WHEN interface_name != 'lo' THEN rx_bytes_per_sec ELSE 0 END) rx, "
	  "sum(CASE WHEN interface_name != 'lo' THEN tx_bytes_per_sec ELSE 0 END) tx, "
	  "sum(CASE WHEN interface_name = 'lo' THEN rx_bytes_per_sec ELSE 0 END) lo, max(samples) w "
	  "FROM %s GROUP BY timestamp) GROUP BY b ORDER BY b",
	  { "samples", "interface_name", "rx_bytes_per_sec", "tx_bytes_per_sec" }, { "rx", "tx", "loopback" }, false },
	{ "io_latency", T_IO_LATENCY_STATS,
	  "SELECT b, max(r50), max(r95), max(r99), max(w50), max(w95), max(w99) FROM (SELECT timestamp / ?3 * ?3 b, "
	  PCT("read_hist", "0.50", "read_max_us", "read_p50_us") " r50, "
	  PCT("read_hist", "0.95", "read_max_us", "read_p95_us") " r95, "
	  PCT("read_hist", "0.99", "read_max_us", "read_p99_us") " r99, "
	  PCT("write_hist", "0.50", "write_max_us", "write_p50_us") " w50, "
	  PCT("write_hist", "0.95", "write_max_us", "write_p95_us") " w95, "
	  PCT("write_hist", "0.99", "write_max_us", "write_p99_us") " w99 "
	  "FROM %s GROUP BY b, device) GROUP BY b ORDER BY b",
	  { "device", "read_hist", "read_max_us", "read_p50_us", "read_p95_us", "read_p99_us", "write_hist",
	    "write_max_us", "write_p50_us", "write_p95_us", "write_p99_us" },
	  { "read_p50_us", "read_p95_us", "read_p99_us", "write_p50_us", "write_p95_us", "write_p99_us" }, false },
	{ "runqueue", T_SCHED_EVENTS,
	  "SELECT " B " b, " PCT("runq_hist", "0.50", "runq_max_us", "runq_p50_us") ", "
	  PCT("runq_hist", "0.95", "runq_max_us", "runq_p95_us") ", " PCT("runq_hist", "0.99", "runq_max_us", "runq_p99_us")
	  ", max(runq_max_us) FROM %s GROUP BY b ORDER BY b",
	  { "runq_hist", "runq_max_us", "runq_p50_us", "runq_p95_us", "runq_p99_us" },
	  { "p50_us", "p95_us", "p99_us", "max_us" }, false },
	/* Slow: raw calls whose time not spent asleep by choice is at least ?6
	 * (see stats.c).  The rollups count every call over the slow threshold
	 * (the split is not rolled up), so days older than the raw period
	 * include voluntary waits. */
	{ "slow_syscalls", T_SYSCALL_EVENTS,
	  "SELECT " B " b, sum(count) * 1e9 / ?3 FROM (SELECT timestamp, count FROM %s UNION ALL "
	  "SELECT timestamp, 1 FROM syscall_events WHERE timestamp >= max(?1, ?5) AND timestamp < ?2 "
	  "AND latency_ns - coalesce(sleep_ns, 0) >= ?6) GROUP BY b ORDER BY b", { "count" }, { "per_s" }, true, true },
	{ "faults", T_VMSTAT_METRICS,
	  "SELECT " B " b, sum(pgfault) * 1e3 / sum(interval_ms), sum(pgmajfault) * 1e3 / sum(interval_ms) "
	  "FROM %s GROUP BY b ORDER BY b",
	  { "pgfault", "pgmajfault", "interval_ms" }, { "per_s", "major_per_s" }, false },
	{ "tcp_retransmits", T_TCP_RETRANSMIT_STATS,
	  "SELECT " B " b, sum(retrans_segs_delta) * 1e3 / sum(interval_ms), sum(out_segs_delta) * 1e3 / sum(interval_ms) "
	  "FROM %s GROUP BY b ORDER BY b",
	  { "retrans_segs_delta", "out_segs_delta", "interval_ms" }, { "retransmits_per_s", "segments_per_s" }, false },
	{ "process_events", T_PROCESS_EVENTS,
	  "SELECT " B " b, sum((event = 'fork') * count) * 1e9 / ?3, sum((event = 'exec') * count) * 1e9 / ?3, "
	  "sum((event = 'exit') * count) * 1e9 / ?3 FROM %s GROUP BY b ORDER BY b",
	  { "event", "count" }, { "fork_per_s", "exec_per_s", "exit_per_s" }, true },
};

#define NSERIES (sizeof(series) / sizeof(series[0]))

/* The statements, with the tiers spelled out: built once. */
static char *series_sql[NSERIES];
static pthread_once_t sql_once = PTHREAD_ONCE_INIT;

static void build_sql(void)
{
	for (size_t i = 0; i < NSERIES; i++) {
		struct buf from = BUF_INIT, sql = BUF_INIT;
		const char *const *needs = series[i].needs;

		rollup__from(&from, series[i].table, needs, "?1", series[i].rollups_only ? "min(?5, ?2)" : "?2", "?4", "?5");
		buf_printf(&sql, series[i].sql, from.data);
		series_sql[i] = strdup(sql.data);
		if (!series_sql[i])
			abort();
		buf_free(&from);
		buf_free(&sql);
	}
}

/* One bucket of a series as the query returns it. */
struct point {
	int64_t t;
	double v[COLS_MAX];
	bool null[COLS_MAX];
	uint32_t text;              /* 0, or 1 + where its columns' JSON starts in the answer's text (closed__get) */
};

/* The JSON of column c of p (0: the time) as one_series writes it, into
 * tmp; returns its length. */
static size_t point_text(const struct series *s, const struct point *p, size_t c, char tmp[JSON_DOUBLE_MAX])
{
	if (c == 0)
		return json_double_text((double)p->t / 1e9, tmp);
	if (p->null[c - 1])
		return (size_t)snprintf(tmp, JSON_DOUBLE_MAX, s->zero_fill ? "0" : "null");
	return json_double_text(p->v[c - 1], tmp);
}

/* Closed buckets: a bucket that lies whole inside the range and ends at
 * or before the hour mark is computed from hour rows only, and those do
 * not change until retention prunes the oldest of them (rollup.h,
 * struct hour_version).  So is one of a minute-tier range (the 24 h
 * view) that ends by the minute mark and starts after the oldest minute
 * row: minute rows are pruned every minute, but oldest first, so those
 * after the oldest one left are all there (struct tier_plan's
 * minute_first); such entries carry a zero version, and each request
 * takes from them only the buckets after minute_first.  Steps tell the
 * tiers apart (an hour-tier step is an hour or more, a minute-tier one
 * less).  The 7 d, 30 d and 24 h views move by seconds from one
 * request to the next while their buckets stay on the same grid
 * (timestamp / step * step), so each series keeps the closed buckets it
 * computed, per step, as the JSON it wrote for them, and a request
 * queries only the partial bucket at the start of its range and the
 * buckets after the cached ones.  A bucket's rows are the same whichever
 * sub-range of bucket boundaries a query covers, and SQLite aggregates
 * them in the same order, so the answer is the one the whole range's
 * query gives, byte for byte. */
#define CLOSED_STEPS 3          /* steps cached per series (the 24 h, 7 d and 30 d views) */
#define CLOSED_POINTS 1000      /* buckets cached at most per step */

struct closed_point {
	int64_t t;
	uint32_t text, len;         /* its columns' JSON in closed.text, each NUL-terminated, the time first */
};

struct closed {
	int64_t step;               /* 0: empty */
	int64_t lo, hi;             /* the buckets in [lo, hi) are known; those without rows are absent */
	struct hour_version version;
	uint64_t used;              /* for replacing the least recently used */
	struct buf points;          /* struct closed_point[], t ascending */
	struct buf text;
};

static struct closed closed[NSERIES][CLOSED_STEPS];
static uint64_t closed_clock;
static pthread_mutex_t closed_lock = PTHREAD_MUTEX_INITIALIZER;

static int64_t floor_to(int64_t v, int64_t period) { return v / period * period; }

/* Appends to points (and their JSON to text) the cached buckets of series
 * i at step from from on, up to to at most, and returns where they end:
 * from when nothing usable is cached (another step, another hour
 * version, or buckets from later than from only). */
static int64_t closed__get(size_t i, int64_t step, const struct hour_version *v, int64_t from, int64_t to,
			   struct buf *points, struct buf *text)
{
	int64_t end = from;

	pthread_mutex_lock(&closed_lock);
	for (int k = 0; k < CLOSED_STEPS; k++) {
		struct closed *c = &closed[i][k];
		const struct closed_point *p = (const struct closed_point *)c->points.data;
		size_t n = c->points.len / sizeof(*p);

		if (c->step != step || memcmp(&c->version, v, sizeof(*v)) || c->lo > from || c->hi <= from)
			continue;
		end = c->hi < to ? c->hi : to;
		for (size_t r = 0; r < n; r++) {
			struct point pt = { .t = p[r].t, .text = (uint32_t)text->len + 1 };

			if (p[r].t < from || p[r].t >= end)
				continue;
			buf_add(text, c->text.data + p[r].text, p[r].len);
			buf_add(points, &pt, sizeof(pt));
		}
		c->used = ++closed_clock;
		break;
	}
	pthread_mutex_unlock(&closed_lock);
	return end;
}

/* Remembers the buckets pts[n] (ascending) of series s at step in [from,
 * to), all closed: after the cached ones when those end at from, else in
 * place of the least recently used step. */
static void closed__put(const struct series *s, size_t ncols, int64_t step, const struct hour_version *v,
			int64_t from, int64_t to, const struct point *pts, size_t n)
{
	struct buf points = BUF_INIT, text = BUF_INIT;   /* rendered outside the lock */
	size_t i = (size_t)(s - series);
	struct closed *c = NULL;
	char tmp[JSON_DOUBLE_MAX];

	if (to <= from || (to - from) / step > CLOSED_POINTS)
		return;
	for (size_t r = 0; r < n; r++) {
		struct closed_point cp = { pts[r].t, (uint32_t)text.len, 0 };

		if (pts[r].t < from || pts[r].t >= to)
			continue;
		for (size_t col = 0; col <= ncols; col++)
			buf_add(&text, tmp, point_text(s, &pts[r], col, tmp) + 1);
		cp.len = (uint32_t)(text.len - cp.text);
		buf_add(&points, &cp, sizeof(cp));
	}
	pthread_mutex_lock(&closed_lock);
	for (int k = 0; k < CLOSED_STEPS && !c; k++) {
		struct closed *e = &closed[i][k];

		if (e->step == step && !memcmp(&e->version, v, sizeof(*v)) && e->hi == from &&
		    (to - e->lo) / step <= CLOSED_POINTS)
			c = e;
	}
	if (!c) {
		c = &closed[i][0];
		for (int k = 1; k < CLOSED_STEPS; k++)
			if (closed[i][k].used < c->used)
				c = &closed[i][k];
		buf_reset(&c->points);
		buf_reset(&c->text);
		c->step = step;
		c->version = *v;
		c->lo = from;
	}
	for (size_t r = 0; r < points.len / sizeof(struct closed_point); r++) {
		struct closed_point *cp = (struct closed_point *)points.data + r;

		cp->text += (uint32_t)c->text.len;
	}
	buf_add(&c->text, text.data, text.len);
	buf_add(&c->points, points.data, points.len);
	c->hi = to;
	c->used = ++closed_clock;
	pthread_mutex_unlock(&closed_lock);
	buf_free(&points);
	buf_free(&text);
}

/* Runs series s's statement over [since, until) with the tier splits of
 * plan (made for the whole range) and appends its buckets to points. */
static int query(struct http_request *r, struct store *store, const struct series *s, const struct tier_plan *plan,
		 int64_t since, int64_t until, int64_t step, size_t ncols, struct buf *points)
{
	char err[STORE_ERR_MAX];
	struct store_stmt *st;
	int rc;

	if ((rc = store__prepare(store, series_sql[s - series], &st, err)))
		return http_store_error(r, rc, err);
	store_stmt__bind_int(st, 1, since);
	store_stmt__bind_int(st, 2, until);
	store_stmt__bind_int(st, 3, step);
	store_stmt__bind_int(st, 4, plan->hour_until);
	store_stmt__bind_int(st, 5, plan->minute_until);
	store_stmt__bind_int(st, 6, (int64_t)http_server__config(r->server)->syscall_slow_ns);   /* if used */
	while ((rc = store_stmt__step(st, err)) == 1) {
		struct point pt = { .t = store_stmt__int(st, 0) };

		for (size_t c = 0; c < ncols; c++) {
			pt.null[c] = store_stmt__is_null(st, (int)c + 1);
			pt.v[c] = store_stmt__double(st, (int)c + 1);
		}
		buf_add(points, &pt, sizeof(pt));
	}
	store_stmt__done(st);
	return rc < 0 ? http_store_error(r, rc, err) : 0;
}

/* The buckets of series s over [since, until) into points: from the cache
 * of closed buckets where it has them (their JSON into text), else by
 * query. */
static int points_of(struct http_request *r, struct store *store, const struct series *s,
		     const struct tier_plan *plan, int64_t since, int64_t until, int64_t step, size_t ncols,
		     struct buf *points, struct buf *text)
{
	size_t i = (size_t)(s - series), mark;
	/* Closed: the buckets whole inside the range, ending by the hour mark
	 * (by the minute mark, after the oldest minute row, for the minute tier). */
	int64_t first = floor_to(since + step - 1, step);
	int64_t end = plan->tier == TIER_HOUR ? plan->hour_until : plan->minute_until;
	int64_t last = floor_to(end < until ? end : until, step);
	struct hour_version v = { 0, 0 };
	char err[STORE_ERR_MAX];
	int64_t from;
	int rc;

	if (plan->tier == TIER_MINUTE && (first <= plan->minute_first || first < plan->hour_until))
		last = first;   /* minute rows at the start may go (or are hour rows): not cached */
	if (plan->tier == TIER_RAW || last - first < 2 * step)
		return query(r, store, s, plan, since, until, step, ncols, points);
	if (plan->tier == TIER_HOUR && (rc = rollup__hour_version(store, s->table, &v, err)))
		return http_store_error(r, rc, err);
	if (since < first && (rc = query(r, store, s, plan, since, first, step, ncols, points)))
		return rc;
	from = closed__get(i, step, &v, first, last, points, text);
	mark = points->len;
	if ((rc = query(r, store, s, plan, from, until, step, ncols, points)))
		return rc;
	/* v holds for what the queries read: the request is one snapshot. */
	closed__put(s, ncols, step, &v, from, last, (const struct point *)(points->data + mark),
		    (points->len - mark) / sizeof(struct point));
	return 0;
}

/* Writes column c of p: its cached JSON in text, else rendered now. */
static void point_json(struct json *j, const struct series *s, const struct point *p, size_t c,
		       const struct buf *text)
{
	char tmp[JSON_DOUBLE_MAX];

	if (p->text) {
		const char *t = text->data + p->text - 1;

		for (size_t k = 0; k < c; k++)
			t += strlen(t) + 1;
		json_raw(j, t, strlen(t));
	} else {
		json_raw(j, tmp, point_text(s, p, c, tmp));
	}
}

static int one_series(struct http_request *r, struct store *store, struct json *j, const struct series *s,
		      int64_t since, int64_t until, int64_t step)
{
	struct buf points = BUF_INIT;       /* struct point[], grown as rows come (aborts without memory) */
	struct buf text = BUF_INIT;         /* the JSON of the cached ones */
	const struct point *p;
	size_t ncols = 0, n;
	char err[STORE_ERR_MAX];
	struct tier_plan plan;
	int rc;

	while (ncols < COLS_MAX && s->cols[ncols])
		ncols++;
	if ((rc = rollup__plan(store, s->table, since, until, step, &plan, err)))
		return http_store_error(r, rc, err);
	if ((rc = points_of(r, store, s, &plan, since, until, step, ncols, &points, &text))) {
		buf_free(&points);
		buf_free(&text);
		return rc;
	}
	p = (const struct point *)points.data;
	n = points.len / sizeof(*p);
	json_key(j, s->name);
	json_obj_begin(j);
	json_key(j, "tier");
	json_str(j, tier__name(plan.tier));
	json_key(j, "columns");
	json_arr_begin(j);
	json_str(j, "t");
	for (size_t c = 0; c < ncols; c++)
		json_str(j, s->cols[c]);
	json_arr_end(j);
	json_key(j, "data");
	json_arr_begin(j);
	/* Column-major, as uPlot takes it; counts on the full bucket grid. */
	for (size_t c = 0; c <= ncols; c++) {
		size_t row = 0;

		json_arr_begin(j);
		if (s->zero_fill) {
			int64_t first = since / step * step, npoints = (until - first + step - 1) / step;

			for (int64_t k = 0; k < npoints; k++) {
				int64_t b = first + k * step;

				while (row < n && p[row].t < b)
					row++;
				if (row < n && p[row].t == b)
					point_json(j, s, &p[row], c, &text);
				else if (c == 0)
					json_double(j, (double)b / 1e9);
				else
					json_int(j, 0);
			}
		} else {
			for (row = 0; row < n; row++)
				point_json(j, s, &p[row], c, &text);
		}
		json_arr_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
	buf_free(&points);
	buf_free(&text);
	return 0;
}

int route_series(struct http_request *r)
{
	int64_t since, until, step;
	bool relative = false;
	char err[STORE_ERR_MAX];
	struct store *store;
	struct json j;
	int status, rc;

	if ((status = http_param_time(r, "until", r->now_ns, &until, &relative)) ||
	    (status = http_param_time(r, "since", until - 300 * NSEC_PER_SEC, &since, &relative)) ||
	    (status = http_param_duration(r, "step", 100 * NSEC_PER_MSEC, 24 * 3600 * NSEC_PER_SEC, NSEC_PER_SEC, &step)))
		return status;
	if (!http_param(r, "until"))
		relative = true;
	if (since >= until)
		return http_error(r, 400, "since", "bad parameter 'since': it is not before 'until'");
	if (until - since > RANGE_MAX)
		return http_error(r, 400, "since", "bad parameter 'since': the range is longer than 731 days");
	if ((until - since) / step > POINTS_MAX)
		return http_error(r, 400, "step", "bad parameter 'step': it makes more than %d points over the range; "
				  "use a step of at least %llds", POINTS_MAX,
				  (long long)((until - since) / POINTS_MAX / NSEC_PER_SEC + 1));
	if (until - since > MINUTES_MAX * 60 * NSEC_PER_SEC && step < 3600 * NSEC_PER_SEC)
		step = 3600 * NSEC_PER_SEC;
	if (!(store = http_store(r)))
		return 503;
	pthread_once(&sql_once, build_sql);
	/* One snapshot for every series (and for the closed buckets' check). */
	if ((rc = store__read_begin(store, err)))
		return http_store_error(r, rc, err);
	http_json(r, &j);
	json_obj_begin(&j);
	json_key(&j, "since_ns");
	json_int(&j, since);
	json_key(&j, "until_ns");
	json_int(&j, until);
	json_key(&j, "step_s");
	json_double(&j, (double)step / 1e9);
	json_key(&j, "series");
	json_obj_begin(&j);
	for (size_t i = 0; i < NSERIES; i++)
		if ((status = one_series(r, store, &j, &series[i], since, until, step))) {
			store__read_end(store);
			return status;
		}
	store__read_end(store);
	json_obj_end(&j);
	json_obj_end(&j);
	r->cacheable = !relative;
	return 200;
}
