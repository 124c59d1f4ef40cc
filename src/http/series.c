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
 * key, plus the minutes and raw rows not rolled up yet; p99 figures in
 * docs/performance.md, "Retention").  Event counts are filled with 0 for
 * buckets without rows; levels are left out (a gap in the chart) when
 * nothing was measured.  Times are seconds since the epoch (JavaScript
 * numbers cannot hold ns).
 */
#include <pthread.h>
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
	bool rollups_only;                    /* %s holds the rollup tiers only; the query reads raw rows itself */
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

		rollup__from(&from, series[i].table, needs, "?1", series[i].rollups_only ? "?5" : "?2", "?4", "?5");
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
};

static int one_series(struct http_request *r, struct store *store, struct json *j, const struct series *s,
		      int64_t since, int64_t until, int64_t step)
{
	struct buf points = BUF_INIT;       /* struct point[], grown as rows come (aborts without memory) */
	const struct point *p;
	size_t ncols = 0, n;
	char err[STORE_ERR_MAX];
	struct store_stmt *st;
	int rc;

	struct tier_plan plan;

	while (ncols < COLS_MAX && s->cols[ncols])
		ncols++;
	if ((rc = rollup__plan(store, s->table, since, until, step, &plan, err)) ||
	    (rc = store__prepare(store, series_sql[s - series], &st, err)))
		return http_store_error(r, rc, err);
	store_stmt__bind_int(st, 1, since);
	store_stmt__bind_int(st, 2, until);
	store_stmt__bind_int(st, 3, step);
	store_stmt__bind_int(st, 4, plan.hour_until);
	store_stmt__bind_int(st, 5, plan.minute_until);
	store_stmt__bind_int(st, 6, (int64_t)http_server__config(r->server)->syscall_slow_ns);   /* if used */
	while ((rc = store_stmt__step(st, err)) == 1) {
		struct point pt = { .t = store_stmt__int(st, 0) };

		for (size_t c = 0; c < ncols; c++) {
			pt.null[c] = store_stmt__is_null(st, (int)c + 1);
			pt.v[c] = store_stmt__double(st, (int)c + 1);
		}
		buf_add(&points, &pt, sizeof(pt));
	}
	store_stmt__done(st);
	if (rc < 0) {
		buf_free(&points);
		return http_store_error(r, rc, err);
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
				bool have;

				while (row < n && p[row].t < b)
					row++;
				have = row < n && p[row].t == b;
				if (c == 0)
					json_double(j, (double)b / 1e9);
				else if (have && !p[row].null[c - 1])
					json_double(j, p[row].v[c - 1]);
				else
					json_int(j, 0);
			}
		} else {
			for (row = 0; row < n; row++) {
				if (c == 0)
					json_double(j, (double)p[row].t / 1e9);
				else if (p[row].null[c - 1])
					json_null(j);
				else
					json_double(j, p[row].v[c - 1]);
			}
		}
		json_arr_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
	buf_free(&points);
	return 0;
}

int route_series(struct http_request *r)
{
	int64_t since, until, step;
	bool relative = false;
	struct store *store;
	struct json j;
	int status;

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
		if ((status = one_series(r, store, &j, &series[i], since, until, step)))
			return status;
	json_obj_end(&j);
	json_obj_end(&j);
	r->cacheable = !relative;
	return 200;
}
