/* GET /api/stats[?window=5m | since=&until=]: what happened over a window.
 *
 * Rows and rows per second of every table, then summaries: syscalls by time
 * spent, the slow calls (ranked by the time they did not spend asleep by
 * choice) and the calls that were only waiting, block I/O latency per disk, page faults and the
 * processes that took most, run-queue latency, TCP retransmits, process
 * events.  Percentiles are read from the window's merged latency
 * histograms (rows stored before they existed: per-interval values
 * averaged with the interval's event count as weight), next to the worst
 * interval's p99 and the true maximum.  Long windows read the rollup tier
 * that fits a sixtieth of the window (store/rollup.h), so a 30-day window
 * costs about what an hour does; the sections that list single events or
 * processes (slowest_calls, fault_processes) and the row counts read the
 * raw rows the window still has.  Every query is a constant with the
 * window bounds and tier splits as parameters.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../config/config.h"
#include "../lib/buf.h"
#include "../lib/clock.h"
#include "../store/rollup.h"
#include "../store/schema.h"
#include "../store/store.h"
#include "routes.h"
#include "server.h"

#define WINDOW_MAX (731 * 24 * 3600 * NSEC_PER_SEC)
#define NEEDS_MAX 24

struct section {
	const char *key;
	bool single;                   /* one row -> an object, else an array of objects */
	/* ?1 = since, ?2 = until (exclusive); with `table`, %s is its rows in
	 * rollup shape over the tiers (rollup__from, splits ?4 and ?5), and
	 * with `table2` the second %s is that one's (splits ?6 and ?7) */
	const char *sql;
	const char *const names[16];   /* JSON key of each column */
	enum table_id table, table2;   /* T_COUNT: raw rows only */
	const char *const needs[NEEDS_MAX], *const needs2[4];
};

#define W " WHERE timestamp >= ?1 AND timestamp < ?2"
/* Percentile of the group's merged histogram, µs; before histograms
 * were stored: the per-interval values weighted by their counts. */
#define PCT(h, q, mx, p, n) "coalesce(ks_hist_quantile(ks_hist_merge(" h "), " q ", max(" mx ") * 1e3) / 1e3, " \
	"sum(" p " * " n ") / sum(" n "))"
#define NONE T_COUNT
/* A slow call's time that was not spent asleep by choice (rows from before
 * the split count whole). */
#define INVOLUNTARY "(latency_ns - coalesce(sleep_ns, 0))"

static const struct section sections[] = {
	{ "syscalls_by_time", false,
	  "SELECT syscall_name, sum(count), sum(errors), sum(total_ns) / 1e3 / sum(count), max(p99_ns) / 1e3, "
	  "max(max_ns) / 1e3, sum(total_ns) / 1e9 FROM %s GROUP BY syscall_name ORDER BY sum(total_ns) DESC LIMIT 10",
	  { "syscall", "calls", "errors", "avg_us", "worst_interval_p99_us", "max_us", "total_s" },
	  T_SYSCALL_STATS, NONE, { "syscall_name", "count", "errors", "total_ns", "p99_ns", "max_ns" }, { NULL } },
	/* Slow calls rank by the time they did not choose: on the CPU,
	 * waiting for it, blocked (latency less sleep_ns; ?3 is
	 * tracers.syscall.slow_threshold), from raw rows only: the rollups do
	 * not keep the split.  A read waiting for input is not
	 * slow: it is listed under waiting_syscalls. */
	{ "slow_syscalls", false,
	  "SELECT syscall_name, count(*), max(" INVOLUNTARY ") / 1e6, avg(" INVOLUNTARY ") / 1e6, "
	  "max(latency_ns) / 1e6, sum(oncpu_ns) / 1e6, sum(runq_ns) / 1e6, sum(blocked_ns) / 1e6 FROM syscall_events" W
	  " AND " INVOLUNTARY " >= ?3 GROUP BY syscall_name ORDER BY sum(" INVOLUNTARY ") DESC LIMIT 10",
	  { "syscall", "slow_calls", "max_ms", "avg_ms", "max_latency_ms", "oncpu_ms", "runq_ms", "blocked_ms" },
	  NONE, NONE, { NULL }, { NULL } },
	{ "slowest_calls", false,
	  "SELECT timestamp, pid, comm, syscall_name, " INVOLUNTARY " / 1e6, latency_ns / 1e6, oncpu_ns / 1e6, "
	  "runq_ns / 1e6, blocked_ns / 1e6, sleep_ns / 1e6, ret FROM syscall_events" W " AND " INVOLUNTARY " >= ?3"
	  " ORDER BY " INVOLUNTARY " DESC LIMIT 10",
	  { "timestamp", "pid", "comm", "syscall", "involuntary_ms", "latency_ms", "oncpu_ms", "runq_ms", "blocked_ms",
	    "sleep_ms", "ret" }, NONE, NONE, { NULL }, { NULL } },
	{ "waiting_syscalls", false,
	  "SELECT syscall_name, count(*), max(latency_ns) / 1e6, sum(sleep_ns) / 1e9 FROM syscall_events" W
	  " AND " INVOLUNTARY " < ?3 GROUP BY syscall_name ORDER BY count(*) DESC LIMIT 10",
	  { "syscall", "calls", "max_ms", "asleep_s" }, NONE, NONE, { NULL }, { NULL } },
	{ "io", false,
	  "SELECT device, sum(read_count), sum(read_bytes), "
	  PCT("read_hist", "0.50", "read_max_us", "read_p50_us", "read_count") ", "
	  PCT("read_hist", "0.95", "read_max_us", "read_p95_us", "read_count") ", "
	  PCT("read_hist", "0.99", "read_max_us", "read_p99_us", "read_count") ", max(read_p99_us), "
	  "max(read_max_us), sum(write_count), sum(write_bytes), "
	  PCT("write_hist", "0.50", "write_max_us", "write_p50_us", "write_count") ", "
	  PCT("write_hist", "0.95", "write_max_us", "write_p95_us", "write_count") ", "
	  PCT("write_hist", "0.99", "write_max_us", "write_p99_us", "write_count") ", max(write_p99_us), "
	  "max(write_max_us) FROM %s GROUP BY device ORDER BY device",
	  { "device", "reads", "read_bytes", "read_p50_us", "read_p95_us", "read_p99_us", "read_worst_interval_p99_us",
	    "read_max_us", "writes", "write_bytes", "write_p50_us", "write_p95_us", "write_p99_us",
	    "write_worst_interval_p99_us", "write_max_us" },
	  T_IO_LATENCY_STATS, NONE,
	  { "device", "read_count", "read_bytes", "read_hist", "read_max_us", "read_p50_us", "read_p95_us", "read_p99_us",
	    "write_count", "write_bytes", "write_hist", "write_max_us", "write_p50_us", "write_p95_us", "write_p99_us" },
	  { NULL } },
	{ "faults", true,
	  "SELECT sum(minor), sum(major), sum(reads), sum(writes), sum(execs) FROM %s",
	  { "minor", "major", "reads", "writes", "execs" },
	  T_PAGE_FAULT_STATS, NONE, { "minor", "major", "reads", "writes", "execs" }, { NULL } },
	{ "fault_processes", false,
	  "SELECT pid, comm, sum(reads + writes + execs), sum(minor), sum(major) FROM page_fault_stats" W
	  " GROUP BY pid, comm ORDER BY 3 DESC LIMIT 5",
	  { "pid", "comm", "faults", "minor", "major" }, NONE, NONE, { NULL }, { NULL } },
	{ "vmstat", true,
	  "SELECT sum(pgfault), sum(pgmajfault), sum(pswpin), sum(pswpout), sum(oom_kill) FROM %s",
	  { "page_faults", "major_page_faults", "pages_swapped_in", "pages_swapped_out", "oom_kills" },
	  T_VMSTAT_METRICS, NONE, { "pgfault", "pgmajfault", "pswpin", "pswpout", "oom_kill" }, { NULL } },
	{ "runqueue", true,
	  "SELECT sum(runq_count), " PCT("runq_hist", "0.50", "runq_max_us", "runq_p50_us", "runq_count") ", "
	  PCT("runq_hist", "0.95", "runq_max_us", "runq_p95_us", "runq_count") ", "
	  PCT("runq_hist", "0.99", "runq_max_us", "runq_p99_us", "runq_count") ", max(runq_p99_us), max(runq_max_us), "
	  "sum(context_switches), sum(context_switches) * 1e9 / sum(interval_ns) FROM %s",
	  { "samples", "p50_us", "p95_us", "p99_us", "worst_interval_p99_us", "max_us", "context_switches",
	    "context_switches_per_s" },
	  T_SCHED_EVENTS, NONE,
	  { "runq_count", "runq_hist", "runq_max_us", "runq_p50_us", "runq_p95_us", "runq_p99_us", "context_switches",
	    "interval_ns" },
	  { NULL } },
	{ "tcp", true,
	  "SELECT (SELECT coalesce(sum(count), 0) FROM %s), sum(retrans_segs_delta), sum(out_segs_delta), "
	  "1.0 * sum(retrans_segs_delta) / sum(out_segs_delta) FROM %s",
	  { "retransmit_events", "retransmitted_segments", "segments_sent", "retransmit_ratio" },
	  T_TCP_RETRANSMIT_EVENTS, T_TCP_RETRANSMIT_STATS, { "count" }, { "retrans_segs_delta", "out_segs_delta" } },
	{ "processes", false,
	  "SELECT event, sum(count) FROM %s GROUP BY event ORDER BY event",
	  { "event", "count" }, T_PROCESS_EVENTS, NONE, { "event", "count" }, { NULL } },
};

#define NSECTIONS (sizeof(sections) / sizeof(sections[0]))

/* The statements with their tiers spelled out: built once. */
static char *section_sql[NSECTIONS];
static pthread_once_t sql_once = PTHREAD_ONCE_INIT;

static void build_sql(void)
{
	for (size_t i = 0; i < NSECTIONS; i++) {
		const struct section *s = &sections[i];
		struct buf a = BUF_INIT, b = BUF_INIT, sql = BUF_INIT;

		if (s->table != NONE)
			rollup__from(&a, s->table, s->needs, "?1", "?2", "?4", "?5");
		if (s->table2 != NONE)
			rollup__from(&b, s->table2, s->needs2, "?1", "?2", "?6", "?7");
		if (s->table == NONE)
			buf_adds(&sql, s->sql);
		else
			buf_printf(&sql, s->sql, a.data, b.data);
		section_sql[i] = strdup(sql.data);
		if (!section_sql[i])
			abort();
		buf_free(&a);
		buf_free(&b);
		buf_free(&sql);
	}
}

/* Runs one section into j under its key; returns 0 or the error status. */
static int run_section(struct http_request *r, struct store *store, struct json *j, const struct section *s,
		       int64_t since, int64_t until)
{
	struct store_stmt *st;
	char err[STORE_ERR_MAX];
	int rc, ncols;

	struct tier_plan plan = { TIER_RAW, since, since }, plan2 = { TIER_RAW, since, since };
	/* A sixtieth of the window: a 5-minute window reads raw rows, an
	 * hour the minute rollups, days the hour rollups. */
	int64_t step = (until - since) / 60;

	if ((s->table != NONE && (rc = rollup__plan(store, s->table, since, until, step, &plan, err))) ||
	    (s->table2 != NONE && (rc = rollup__plan(store, s->table2, since, until, step, &plan2, err))) ||
	    (rc = store__prepare(store, section_sql[s - sections], &st, err)))
		return http_store_error(r, rc, err);
	store_stmt__bind_int(st, 1, since);
	store_stmt__bind_int(st, 2, until);
	store_stmt__bind_int(st, 3, (int64_t)http_server__config(r->server)->syscall_slow_ns);
	store_stmt__bind_int(st, 4, plan.hour_until);
	store_stmt__bind_int(st, 5, plan.minute_until);
	store_stmt__bind_int(st, 6, plan2.hour_until);
	store_stmt__bind_int(st, 7, plan2.minute_until);
	ncols = store_stmt__columns(st);
	json_key(j, s->key);
	if (!s->single)
		json_arr_begin(j);
	while ((rc = store_stmt__step(st, err)) == 1) {
		struct batch_value v;

		json_obj_begin(j);
		for (int c = 0; c < ncols && s->names[c]; c++) {
			store_stmt__value(st, c, &v);
			json_key(j, s->names[c]);
			http_json_value(j, &v);
		}
		json_obj_end(j);
		if (s->single)
			break;
	}
	store_stmt__done(st);
	if (rc < 0)
		return http_store_error(r, rc, err);
	if (!s->single)
		json_arr_end(j);
	return 0;
}

static int table_counts(struct http_request *r, struct store *store, struct json *j, int64_t since, int64_t until)
{
	double seconds = (double)(until - 1 - since) / 1e9;
	char sql[256], err[STORE_ERR_MAX];

	json_key(j, "tables");
	json_arr_begin(j);
	for (int t = 0; t < T_COUNT; t++) {
		struct store_stmt *st;
		int64_t n = 0;
		int rc;

		snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s" W, schema_tables[t].name);
		if ((rc = store__prepare(store, sql, &st, err)))
			return http_store_error(r, rc, err);
		store_stmt__bind_int(st, 1, since);
		store_stmt__bind_int(st, 2, until);
		rc = store_stmt__step(st, err);
		if (rc == 1)
			n = store_stmt__int(st, 0);
		store_stmt__done(st);
		if (rc < 0)
			return http_store_error(r, rc, err);
		json_obj_begin(j);
		json_key(j, "name");
		json_str(j, schema_tables[t].name);
		json_key(j, "rows");
		json_int(j, n);
		json_key(j, "per_second");
		json_double(j, seconds > 0 ? (double)n / seconds : 0);
		json_obj_end(j);
	}
	json_arr_end(j);
	return 0;
}

int route_stats(struct http_request *r)
{
	int64_t window, since, until;
	bool relative = false;
	struct store *store;
	struct json j;
	int status;

	if (http_param(r, "window") && http_param(r, "since"))
		return http_error(r, 400, "window", "give either 'window' or 'since', not both");
	if ((status = http_param_duration(r, "window", NSEC_PER_SEC, WINDOW_MAX, 300 * NSEC_PER_SEC, &window)) ||
	    (status = http_param_time(r, "until", r->now_ns, &until, &relative)))
		return status;
	if (!http_param(r, "until"))
		relative = true;
	if ((status = http_param_time(r, "since", until - window, &since, &relative)))
		return status;
	if (since >= until)
		return http_error(r, 400, "since", "bad parameter 'since': it is not before 'until'");
	if (until - since > WINDOW_MAX)
		return http_error(r, 400, "since", "bad parameter 'since': the window is longer than 731 days");
	if (!(store = http_store(r)))
		return 503;
	pthread_once(&sql_once, build_sql);
	http_json(r, &j);
	json_obj_begin(&j);
	json_key(&j, "window");
	json_obj_begin(&j);
	json_key(&j, "since_ns");
	json_int(&j, since);
	json_key(&j, "until_ns");
	json_int(&j, until);
	json_key(&j, "seconds");
	json_double(&j, (double)(until - since) / 1e9);
	json_obj_end(&j);
	/* The window is inclusive of until; the queries take it exclusive. */
	if ((status = table_counts(r, store, &j, since, until + 1)))
		return status;
	for (size_t i = 0; i < NSECTIONS; i++)
		if ((status = run_section(r, store, &j, &sections[i], since, until + 1)))
			return status;
	json_obj_end(&j);
	r->cacheable = !relative;
	return 200;
}
