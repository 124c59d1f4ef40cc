/* GET /api/stats[?window=5m | since=&until=]: what happened over a window.
 *
 * Rows and rows per second of every table, then summaries: syscalls by time
 * spent, the slow calls (ranked by the time they did not spend asleep by
 * choice) and the calls that were only waiting, block I/O latency per disk, page faults and the
 * processes that took most, run-queue latency, TCP retransmits, process
 * events.  The stored rows hold percentiles per interval, which cannot be
 * merged exactly: a window's p50/p95/p99 are the per-interval values
 * averaged with the interval's event count as weight, next to the worst
 * interval's p99 and the true maximum.  Every query is a constant with the
 * window bound as parameters.
 */
#include <stdio.h>
#include <string.h>

#include "../config/config.h"
#include "../lib/buf.h"
#include "../lib/clock.h"
#include "../store/schema.h"
#include "../store/store.h"
#include "routes.h"
#include "server.h"

#define WINDOW_MAX (7 * 24 * 3600 * NSEC_PER_SEC)

struct section {
	const char *key;
	bool single;                   /* one row -> an object, else an array of objects */
	const char *sql;               /* ?1 = since, ?2 = until */
	const char *const names[16];   /* JSON key of each column */
};

#define W " WHERE timestamp >= ?1 AND timestamp <= ?2"
#define WEIGHTED(p, n) "sum(" p " * " n ") / sum(" n ")"
/* A slow call's time that was not spent asleep by choice (rows from before
 * the split count whole). */
#define INVOLUNTARY "(latency_ns - coalesce(sleep_ns, 0))"

static const struct section sections[] = {
	{ "syscalls_by_time", false,
	  "SELECT syscall_name, sum(count), sum(errors), sum(total_ns) / 1e3 / sum(count), max(p99_ns) / 1e3, "
	  "max(max_ns) / 1e3, sum(total_ns) / 1e9 FROM syscall_stats" W
	  " GROUP BY syscall_name ORDER BY sum(total_ns) DESC LIMIT 10",
	  { "syscall", "calls", "errors", "avg_us", "worst_interval_p99_us", "max_us", "total_s" } },
	/* Slow calls rank by the time they did not choose: on the CPU,
	 * waiting for it, blocked (latency less sleep_ns; ?3 is
	 * tracers.syscall.slow_threshold).  A read waiting for input is not
	 * slow: it is listed under waiting_syscalls. */
	{ "slow_syscalls", false,
	  "SELECT syscall_name, count(*), max(" INVOLUNTARY ") / 1e6, avg(" INVOLUNTARY ") / 1e6, "
	  "max(latency_ns) / 1e6, sum(oncpu_ns) / 1e6, sum(runq_ns) / 1e6, sum(blocked_ns) / 1e6 FROM syscall_events" W
	  " AND " INVOLUNTARY " >= ?3 GROUP BY syscall_name ORDER BY sum(" INVOLUNTARY ") DESC LIMIT 10",
	  { "syscall", "slow_calls", "max_ms", "avg_ms", "max_latency_ms", "oncpu_ms", "runq_ms", "blocked_ms" } },
	{ "slowest_calls", false,
	  "SELECT timestamp, pid, comm, syscall_name, " INVOLUNTARY " / 1e6, latency_ns / 1e6, oncpu_ns / 1e6, "
	  "runq_ns / 1e6, blocked_ns / 1e6, sleep_ns / 1e6, ret FROM syscall_events" W " AND " INVOLUNTARY " >= ?3"
	  " ORDER BY " INVOLUNTARY " DESC LIMIT 10",
	  { "timestamp", "pid", "comm", "syscall", "involuntary_ms", "latency_ms", "oncpu_ms", "runq_ms", "blocked_ms",
	    "sleep_ms", "ret" } },
	{ "waiting_syscalls", false,
	  "SELECT syscall_name, count(*), max(latency_ns) / 1e6, sum(sleep_ns) / 1e9 FROM syscall_events" W
	  " AND " INVOLUNTARY " < ?3 GROUP BY syscall_name ORDER BY count(*) DESC LIMIT 10",
	  { "syscall", "calls", "max_ms", "asleep_s" } },
	{ "io", false,
	  "SELECT device, sum(read_count), sum(read_bytes), " WEIGHTED("read_p50_us", "read_count") ", "
	  WEIGHTED("read_p95_us", "read_count") ", " WEIGHTED("read_p99_us", "read_count") ", max(read_p99_us), "
	  "max(read_max_us), sum(write_count), sum(write_bytes), " WEIGHTED("write_p50_us", "write_count") ", "
	  WEIGHTED("write_p95_us", "write_count") ", " WEIGHTED("write_p99_us", "write_count") ", max(write_p99_us), "
	  "max(write_max_us) FROM io_latency_stats" W " GROUP BY device ORDER BY device",
	  { "device", "reads", "read_bytes", "read_p50_us", "read_p95_us", "read_p99_us", "read_worst_interval_p99_us",
	    "read_max_us", "writes", "write_bytes", "write_p50_us", "write_p95_us", "write_p99_us",
	    "write_worst_interval_p99_us", "write_max_us" } },
	{ "faults", true,
	  "SELECT sum(minor), sum(major), sum(reads), sum(writes), sum(execs) FROM page_fault_stats" W,
	  { "minor", "major", "reads", "writes", "execs" } },
	{ "fault_processes", false,
	  "SELECT pid, comm, sum(reads + writes + execs), sum(minor), sum(major) FROM page_fault_stats" W
	  " GROUP BY pid, comm ORDER BY 3 DESC LIMIT 5",
	  { "pid", "comm", "faults", "minor", "major" } },
	{ "vmstat", true,
	  "SELECT sum(pgfault), sum(pgmajfault), sum(pswpin), sum(pswpout), sum(oom_kill) FROM vmstat_metrics" W,
	  { "page_faults", "major_page_faults", "pages_swapped_in", "pages_swapped_out", "oom_kills" } },
	{ "runqueue", true,
	  "SELECT sum(runq_count), " WEIGHTED("runq_p50_us", "runq_count") ", " WEIGHTED("runq_p95_us", "runq_count")
	  ", " WEIGHTED("runq_p99_us", "runq_count") ", max(runq_p99_us), max(runq_max_us), sum(context_switches), "
	  "sum(context_switches) * 1e9 / sum(interval_ns) FROM sched_events" W,
	  { "samples", "p50_us", "p95_us", "p99_us", "worst_interval_p99_us", "max_us", "context_switches",
	    "context_switches_per_s" } },
	{ "tcp", true,
	  "SELECT (SELECT count(*) FROM tcp_retransmit_events" W "), sum(retrans_segs_delta), sum(out_segs_delta), "
	  "1.0 * sum(retrans_segs_delta) / sum(out_segs_delta) FROM tcp_retransmit_stats" W,
	  { "retransmit_events", "retransmitted_segments", "segments_sent", "retransmit_ratio" } },
	{ "processes", false,
	  "SELECT event, count(*) FROM process_events" W " GROUP BY event ORDER BY event",
	  { "event", "count" } },
};

/* Runs one section into j under its key; returns 0 or the error status. */
static int run_section(struct http_request *r, struct store *store, struct json *j, const struct section *s,
		       int64_t since, int64_t until)
{
	struct store_stmt *st;
	char err[STORE_ERR_MAX];
	int rc, ncols;

	if ((rc = store__prepare(store, s->sql, &st, err)))
		return http_store_error(r, rc, err);
	store_stmt__bind_int(st, 1, since);
	store_stmt__bind_int(st, 2, until);
	store_stmt__bind_int(st, 3, (int64_t)http_server__config(r->server)->syscall_slow_ns);
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
	double seconds = (double)(until - since) / 1e9;
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
		return http_error(r, 400, "since", "bad parameter 'since': the window is longer than 7 days");
	if (!(store = http_store(r)))
		return 503;
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
	if ((status = table_counts(r, store, &j, since, until)))
		return status;
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		if ((status = run_section(r, store, &j, &sections[i], since, until)))
			return status;
	json_obj_end(&j);
	r->cacheable = !relative;
	return 200;
}
