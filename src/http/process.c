/* GET /api/process?pid=N[&start=NS][&limit=200]: one process's timeline,
 * for the dashboard's process view.
 *
 * A pid names a process only with its start: `start` (ns, as /api/processes
 * gives it as start_ns) bounds the timeline below, and the first exit of
 * that pid at or after it bounds it above, so a later process that reused
 * the pid is not mixed in.  `start` may be up to 1 µs late (a double's
 * rounding in the browser).  Without `start` the pid's latest fork or exec
 * is taken, or the last hour when the agent never saw one.
 *
 * The answer holds the process (comm, filename, argv, cgroup, exit code or
 * signal), its events newest first (fork, exec, exit, slow calls, leak
 * detector rows, remediation steps about it; the newest `limit` (<= 1000) of
 * each kind), and
 * its series per interval ({"columns": [...], "rows": [[t, a, b], ...]}: CPU
 * share and run-queue wait, page faults, RSS from the leak detector; the
 * latest SERIES_MAX points of each).  Rows name
 * processes and show argv, so this route always needs the token.
 */
#include <stdio.h>
#include <string.h>

#include "../lib/clock.h"
#include "../store/store.h"
#include "routes.h"

#define LIMIT_MAX 1000
#define LIMIT_DEFAULT 200
#define SERIES_MAX 3600
#define PID_MAX 4194304
#define START_SLACK_NS 1000

/* ?1 pid, ?2 since, ?3 until (inclusive) */
#define RANGE " pid = ?1 AND timestamp >= ?2 AND timestamp <= ?3"

static const char start_sql[] =
	"SELECT max(timestamp) FROM process_events WHERE pid = ?1 AND timestamp <= ?2 AND event IN ('fork', 'exec')";
static const char end_sql[] =
	"SELECT min(timestamp) FROM process_events WHERE pid = ?1 AND timestamp >= ?2 AND event = 'exit'";
static const char about_sql[] =
	"SELECT (SELECT comm FROM process_events WHERE" RANGE " ORDER BY timestamp DESC LIMIT 1), "
	"(SELECT filename FROM process_events WHERE" RANGE " AND event = 'exec' ORDER BY timestamp DESC LIMIT 1), "
	"(SELECT argv FROM process_events WHERE" RANGE " AND event = 'exec' ORDER BY timestamp DESC LIMIT 1), "
	"(SELECT cgroup FROM process_events WHERE" RANGE " AND cgroup IS NOT NULL ORDER BY timestamp DESC LIMIT 1), "
	"(SELECT exit_code FROM process_events WHERE" RANGE " AND event = 'exit' LIMIT 1), "
	"(SELECT signal FROM process_events WHERE" RANGE " AND event = 'exit' LIMIT 1), "
	"(SELECT comm FROM process_cpu_stats WHERE" RANGE " ORDER BY timestamp DESC LIMIT 1), "
	"(SELECT cgroup FROM memory_growth_events WHERE" RANGE " ORDER BY timestamp DESC LIMIT 1)";
static const char *const about_names[] = { "comm", "filename", "argv", "cgroup", "exit_code", "signal" };

/* Every row: timestamp, kind, what, detail, value.  Each source keeps its
 * own `limit` rows, so a flood of slow calls never pushes the exec row, the
 * leak rows or the remediation steps out of the answer: the newest, and for
 * slow calls the costliest (value: latency less the part asleep by choice,
 * as the slow-call views rank them). */
#define EACH(sql) "SELECT * FROM (" sql " ORDER BY 1 DESC LIMIT ?4)"
static const char events_sql[] =
	EACH("SELECT timestamp, 'process', event, CASE event WHEN 'exec' THEN coalesce(argv, filename) "
	     "WHEN 'exit' THEN CASE WHEN signal != 0 THEN 'killed by signal ' || signal "
	     "ELSE 'exit code ' || exit_code END ELSE 'from pid ' || ppid END, exit_code "
	     "FROM process_events WHERE" RANGE)
	" UNION ALL "
	"SELECT * FROM (SELECT timestamp, 'slow', syscall_name, 'returned ' || ret || coalesce('; on CPU ' || "
	"(oncpu_ns / 1000) || ' µs, run queue ' || (runq_ns / 1000) || ' µs, blocked ' || (blocked_ns / 1000) || "
	"' µs, asleep ' || (sleep_ns / 1000) || ' µs', ''), latency_ns - coalesce(sleep_ns, 0) FROM syscall_events "
	"WHERE" RANGE " ORDER BY 5 DESC, 1 DESC LIMIT ?4)"
	" UNION ALL "
	EACH("SELECT timestamp, 'leak', status, coalesce(pattern, '') || ' growth, confidence ' || "
	     "printf('%.2f', coalesce(confidence, 0)), rss_bytes FROM memory_growth_events WHERE" RANGE)
	" UNION ALL "
	EACH("SELECT timestamp, 'action', status, action || ' (rule ' || coalesce(rule, '') || '): ' || "
	     "coalesce(result, explanation, ''), action_id FROM agent_actions WHERE target_pid = ?1 "
	     "AND timestamp >= ?2 AND timestamp <= ?3")
	" ORDER BY 1 DESC";
static const char *const event_names[] = { "timestamp", "kind", "what", "detail", "value" };

static const struct series {
	const char *key;
	const char *sql;
	const char *names[3];
} series[] = {
	{ "cpu", "SELECT * FROM (SELECT timestamp, oncpu_ns * 100.0 / interval_ns, runq_wait_ns / 1e6 "
		 "FROM process_cpu_stats WHERE" RANGE " AND interval_ns > 0 ORDER BY timestamp DESC LIMIT ?4) "
		 "ORDER BY 1", { "t", "cpu_percent", "runq_wait_ms" } },
	{ "faults", "SELECT * FROM (SELECT timestamp, minor, major FROM page_fault_stats WHERE" RANGE
		    " ORDER BY timestamp DESC LIMIT ?4) ORDER BY 1", { "t", "minor", "major" } },
	{ "rss", "SELECT * FROM (SELECT timestamp, rss_bytes, growth_rate_bytes_per_s FROM memory_growth_events "
		 "WHERE" RANGE " ORDER BY timestamp DESC LIMIT ?4) ORDER BY 1", { "t", "rss_bytes", "growth_bytes_per_s" } },
};

static void bind(struct store_stmt *st, int64_t pid, int64_t since, int64_t until, int64_t limit)
{
	store_stmt__bind_int(st, 1, pid);
	store_stmt__bind_int(st, 2, since);
	store_stmt__bind_int(st, 3, until);
	if (limit)
		store_stmt__bind_int(st, 4, limit);
}

/* One integer from a one-row query; *ret untouched when it is NULL. */
static int scalar(struct store *store, const char *sql, int64_t a, int64_t b, int64_t *ret, char *err)
{
	struct store_stmt *st;
	int rc;

	if ((rc = store__prepare(store, sql, &st, err)))
		return rc;
	store_stmt__bind_int(st, 1, a);
	store_stmt__bind_int(st, 2, b);
	if ((rc = store_stmt__step(st, err)) == 1 && !store_stmt__is_null(st, 0))
		*ret = store_stmt__int(st, 0);
	store_stmt__done(st);
	return rc < 0 ? rc : 0;
}

/* Writes "key": {"columns": [names], "rows": [[t, a, b], ...]}, one pass. */
static int columns(struct store *store, struct json *j, const struct series *s, int64_t pid, int64_t since,
		   int64_t until, char *err)
{
	struct store_stmt *st;
	int rc;

	if ((rc = store__prepare(store, s->sql, &st, err)))
		return rc;
	bind(st, pid, since, until, SERIES_MAX);
	json_key(j, s->key);
	json_obj_begin(j);
	json_key(j, "columns");
	json_arr_begin(j);
	for (int c = 0; c < 3; c++)
		json_str(j, s->names[c]);
	json_arr_end(j);
	json_key(j, "rows");
	json_arr_begin(j);
	while ((rc = store_stmt__step(st, err)) == 1) {
		struct batch_value v;

		json_arr_begin(j);
		for (int c = 0; c < 3; c++) {
			store_stmt__value(st, c, &v);
			http_json_value(j, &v);
		}
		json_arr_end(j);
	}
	store_stmt__done(st);
	json_arr_end(j);
	json_obj_end(j);
	return rc < 0 ? rc : 0;
}

int route_process(struct http_request *r)
{
	int64_t pid, start, limit, since, until = r->now_ns, exited = -1;
	bool relative = false, have_start;
	char err[STORE_ERR_MAX];
	struct store_stmt *st;
	struct store *store;
	struct json j;
	int status, rc;

	if (!http_param(r, "pid"))
		return http_error(r, 400, "pid", "parameter 'pid' is missing (a process id, e.g. from /api/processes)");
	if ((status = http_param_int(r, "pid", 1, PID_MAX, 0, &pid)) ||
	    (status = http_param_time(r, "start", -1, &start, &relative)) ||
	    (status = http_param_int(r, "limit", 1, LIMIT_MAX, LIMIT_DEFAULT, &limit)))
		return status;
	if (!(store = http_store(r)))
		return 503;
	have_start = start >= 0;
	if (!have_start) {
		start = -1;
		if ((rc = scalar(store, start_sql, pid, until, &start, err)))
			return http_store_error(r, rc, err);
	}
	/* A start that went through a JavaScript number lost its last bits
	 * (doubles hold 53): 1 µs of slack keeps the exec row. */
	since = start >= 0 ? start - START_SLACK_NS : until - 3600 * NSEC_PER_SEC;
	if ((rc = scalar(store, end_sql, pid, since, &exited, err)))
		return http_store_error(r, rc, err);
	if (exited >= 0)
		until = exited;

	http_json(r, &j);
	json_obj_begin(&j);
	json_key(&j, "pid");
	json_int(&j, pid);
	json_key(&j, "start_ns");
	start >= 0 ? json_int(&j, start) : json_null(&j);
	json_key(&j, "since_ns");
	json_int(&j, since);
	json_key(&j, "until_ns");
	json_int(&j, until);
	json_key(&j, "exited");
	json_bool(&j, exited >= 0);

	if ((rc = store__prepare(store, about_sql, &st, err)))
		return http_store_error(r, rc, err);
	bind(st, pid, since, until, 0);
	if ((rc = store_stmt__step(st, err)) == 1) {
		struct batch_value v;

		for (int c = 0; c < 6; c++) {
			/* comm and cgroup fall back to the CPU and leak rows */
			int col = c == 0 && store_stmt__is_null(st, 0) ? 6 : c == 3 && store_stmt__is_null(st, 3) ? 7 : c;

			store_stmt__value(st, col, &v);
			json_key(&j, about_names[c]);
			http_json_value(&j, &v);
		}
	}
	store_stmt__done(st);
	if (rc < 0)
		return http_store_error(r, rc, err);

	if ((rc = store__prepare(store, events_sql, &st, err)))
		return http_store_error(r, rc, err);
	bind(st, pid, since, until, limit);
	json_key(&j, "events");
	json_arr_begin(&j);
	while ((rc = store_stmt__step(st, err)) == 1) {
		struct batch_value v;

		json_obj_begin(&j);
		for (int c = 0; c < 5; c++) {
			store_stmt__value(st, c, &v);
			json_key(&j, event_names[c]);
			http_json_value(&j, &v);
		}
		json_obj_end(&j);
	}
	store_stmt__done(st);
	if (rc < 0)
		return http_store_error(r, rc, err);
	json_arr_end(&j);

	json_key(&j, "series");
	json_obj_begin(&j);
	for (size_t i = 0; i < sizeof(series) / sizeof(series[0]); i++)
		if ((rc = columns(store, &j, &series[i], pid, since, until, err)))
			return http_store_error(r, rc, err);
	json_obj_end(&j);
	json_obj_end(&j);
	r->cacheable = false;      /* a live process grows its timeline */
	return 200;
}
