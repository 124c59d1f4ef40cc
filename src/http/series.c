/* GET /api/series?since=&until=&step=: the dashboard's charts in one answer.
 *
 * Each series is one constant query that buckets a table's rows by
 * timestamp / step (averages for levels, sums turned into per-second
 * rates for counts, the maximum for worst cases), so a 24-hour range costs
 * the same number of points as 5 minutes.  Event counts are filled with 0
 * for buckets without rows; levels are left out (a gap in the chart) when
 * nothing was measured.  Times are seconds since the epoch (JavaScript
 * numbers cannot hold ns).
 */
#include <string.h>

#include "../config/config.h"
#include "../lib/buf.h"
#include "../lib/clock.h"
#include "../store/store.h"
#include "routes.h"
#include "server.h"

#define POINTS_MAX 5000
#define RANGE_MAX (7 * 24 * 3600 * NSEC_PER_SEC)
#define COLS_MAX 8

struct series {
	const char *name;
	const char *sql;                  /* ?1 since, ?2 until, ?3 step (ns), ?4 the slow-syscall threshold;
	                                     column 0 is the bucket */
	const char *const cols[COLS_MAX]; /* names of the value columns */
	bool zero_fill;                   /* missing buckets are 0 (counts), else absent (levels) */
};

#define W " WHERE timestamp >= ?1 AND timestamp < ?2"
#define B "timestamp / ?3 * ?3"
#define RATE(x) "sum(" x ") * 1e9 / ?3"

static const struct series series[] = {
	{ "cpu",
	  "SELECT " B " b, avg(user_pct), avg(system_pct), avg(iowait_pct), avg(irq_pct + softirq_pct), avg(steal_pct) "
	  "FROM cpu_metrics" W " AND cpu = 'cpu' GROUP BY b ORDER BY b",
	  { "user", "system", "iowait", "irq", "steal" }, false },
	{ "memory",
	  "SELECT " B " b, avg(used_kb) * 1024, avg(buffers_kb + cache_kb) * 1024, avg(available_kb) * 1024, "
	  "avg(swap_used_kb) * 1024 FROM memory_metrics" W " GROUP BY b ORDER BY b",
	  { "used", "cache", "available", "swap_used" }, false },
	{ "load",
	  "SELECT " B " b, avg(load1), avg(load5), avg(load15) FROM load_metrics" W " GROUP BY b ORDER BY b",
	  { "load1", "load5", "load15" }, false },
	{ "disk",
	  "SELECT timestamp / ?3 * ?3 b, avg(r), avg(w), max(u) FROM (SELECT timestamp, sum(read_bytes_per_sec) r, "
	  "sum(write_bytes_per_sec) w, max(util_pct) u FROM block_stats" W " GROUP BY timestamp) GROUP BY b ORDER BY b",
	  { "read", "write", "util_pct" }, false },
	{ "network",
	  "SELECT timestamp / ?3 * ?3 b, avg(rx), avg(tx), avg(lo) FROM (SELECT timestamp, "
	  "sum(CASE WHEN interface_name != 'lo' THEN rx_bytes_per_sec ELSE 0 END) rx, "
	  "sum(CASE WHEN interface_name != 'lo' THEN tx_bytes_per_sec ELSE 0 END) tx, "
	  "sum(CASE WHEN interface_name = 'lo' THEN rx_bytes_per_sec ELSE 0 END) lo "
	  "FROM network_interface_stats" W " GROUP BY timestamp) GROUP BY b ORDER BY b",
	  { "rx", "tx", "loopback" }, false },
	{ "io_latency",
	  "SELECT timestamp / ?3 * ?3 b, avg(r50), avg(r95), max(r99), avg(w50), avg(w95), max(w99) FROM (SELECT timestamp, "
	  "max(read_p50_us) r50, max(read_p95_us) r95, max(read_p99_us) r99, max(write_p50_us) w50, "
	  "max(write_p95_us) w95, max(write_p99_us) w99 FROM io_latency_stats" W " GROUP BY timestamp) "
	  "GROUP BY b ORDER BY b",
	  { "read_p50_us", "read_p95_us", "read_p99_us", "write_p50_us", "write_p95_us", "write_p99_us" }, false },
	{ "runqueue",
	  "SELECT " B " b, avg(runq_p50_us), avg(runq_p95_us), max(runq_p99_us), max(runq_max_us) FROM sched_events" W
	  " GROUP BY b ORDER BY b",
	  { "p50_us", "p95_us", "p99_us", "max_us" }, false },
	/* slow: the time not spent asleep by choice is at least ?4 (see stats.c) */
	{ "slow_syscalls",
	  "SELECT " B " b, count(*) * 1e9 / ?3 FROM syscall_events" W " AND latency_ns - coalesce(sleep_ns, 0) >= ?4"
	  " GROUP BY b ORDER BY b",
	  { "per_s" }, true },
	{ "faults",
	  "SELECT " B " b, sum(pgfault) * 1e3 / sum(interval_ms), sum(pgmajfault) * 1e3 / sum(interval_ms) "
	  "FROM vmstat_metrics" W " GROUP BY b ORDER BY b",
	  { "per_s", "major_per_s" }, false },
	{ "tcp_retransmits",
	  "SELECT " B " b, sum(retrans_segs_delta) * 1e3 / sum(interval_ms), sum(out_segs_delta) * 1e3 / sum(interval_ms) "
	  "FROM tcp_retransmit_stats" W " GROUP BY b ORDER BY b",
	  { "retransmits_per_s", "segments_per_s" }, false },
	{ "process_events",
	  "SELECT " B " b, " RATE("event = 'fork'") ", " RATE("event = 'exec'") ", " RATE("event = 'exit'")
	  " FROM process_events" W " GROUP BY b ORDER BY b",
	  { "fork_per_s", "exec_per_s", "exit_per_s" }, true },
};

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

	while (ncols < COLS_MAX && s->cols[ncols])
		ncols++;
	if ((rc = store__prepare(store, s->sql, &st, err)))
		return http_store_error(r, rc, err);
	store_stmt__bind_int(st, 1, since);
	store_stmt__bind_int(st, 2, until);
	store_stmt__bind_int(st, 3, step);
	store_stmt__bind_int(st, 4, (int64_t)http_server__config(r->server)->syscall_slow_ns);   /* if used */
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
		return http_error(r, 400, "since", "bad parameter 'since': the range is longer than 7 days");
	if ((until - since) / step > POINTS_MAX)
		return http_error(r, 400, "step", "bad parameter 'step': it makes more than %d points over the range; "
				  "use a step of at least %llds", POINTS_MAX,
				  (long long)((until - since) / POINTS_MAX / NSEC_PER_SEC + 1));
	if (!(store = http_store(r)))
		return 503;
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
	for (size_t i = 0; i < sizeof(series) / sizeof(series[0]); i++)
		if ((status = one_series(r, store, &j, &series[i], since, until, step)))
			return status;
	json_obj_end(&j);
	json_obj_end(&j);
	r->cacheable = !relative;
	return 200;
}
