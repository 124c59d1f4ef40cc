/* GET /api/processes[?window=10s][&sort=cpu|runq|rss|slow][&limit=20]: the
 * processes that ran over a window, ranked (what `ksight top` shows).
 *
 * One row per pid that ran in the window (process_cpu_stats) or made a slow
 * syscall (syscall_events): CPU time and its share of one CPU, run-queue
 * wait, voluntary and involuntary switches, page faults, slow calls and
 * their summed time less the part asleep by choice (sleep_ns: a read
 * waiting for input costs nothing), and what the leak detector last said of it
 * (memory_growth_events: RSS, status, growth rate while watched or
 * suspected, time to its limit), its cgroup (from its latest process
 * event, slow call or leak row; NULL when none names it, e.g. a process
 * older than the agent that never made a slow call), when it started (its
 * latest fork or exec, else the leak row's process_start: with the pid it names
 * the process for GET /api/process), and how many exits in the window
 * failed (non-zero code or a signal).  Its name is the comm of that fork or
 * exec (a CPU row may carry a thread's name), else the CPU, slow-call or
 * leak row's.  The ranking picks one of four constant
 * ORDER BY clauses; the window and the limit are bound parameters.  Rows
 * name processes, so a server with a token asks for it here as everywhere.
 */
#include <stdio.h>
#include <string.h>

#include "../lib/clock.h"
#include "../store/store.h"
#include "routes.h"

#define WINDOW_MAX (24 * 3600 * NSEC_PER_SEC)
#define WINDOW_DEFAULT (10 * NSEC_PER_SEC)
#define LIMIT_MAX 1000
#define LIMIT_DEFAULT 20

#define W " WHERE timestamp > ?1 AND timestamp <= ?2"
#define PROCESSES_SQL(order) \
	"WITH cpu AS (SELECT pid, max(comm) AS comm, sum(oncpu_ns) AS oncpu, sum(runq_wait_ns) AS runq, " \
	"sum(voluntary_switches) AS vol, sum(involuntary_switches) AS invol FROM process_cpu_stats" W \
	" GROUP BY pid), " \
	"slow AS (SELECT pid, max(comm) AS comm, count(*) AS n, sum(latency_ns - coalesce(sleep_ns, 0)) AS ns, " \
	"max(cgroup) AS cgroup " \
	"FROM syscall_events" W \
	" GROUP BY pid), " \
	"faults AS (SELECT pid, sum(minor) AS minor, sum(major) AS major FROM page_fault_stats" W " GROUP BY pid), " \
	"pids AS (SELECT pid FROM cpu UNION SELECT pid FROM slow), " \
	"exits AS (SELECT pid, sum(exit_code != 0 OR signal != 0) AS failed FROM process_events" W \
	" AND event = 'exit' GROUP BY pid), " \
	"ev AS (SELECT pid, cgroup, max(timestamp) FROM process_events WHERE timestamp > ?2 - 86400000000000 " \
	"AND timestamp <= ?2 AND cgroup IS NOT NULL AND pid IN (SELECT pid FROM pids) GROUP BY pid), " \
	"born AS (SELECT pid, comm, max(timestamp) AS ts FROM process_events WHERE timestamp > ?2 - 86400000000000 " \
	"AND timestamp <= ?2 AND event IN ('fork', 'exec') AND pid IN (SELECT pid FROM pids) GROUP BY pid), " \
	"mem AS (SELECT pid, comm, cgroup, process_start, status, rss_bytes, growth_rate_bytes_per_s AS rate, time_to_limit_s AS ttl, " \
	"max(timestamp) FROM memory_growth_events WHERE timestamp <= ?2 AND pid IN (SELECT pid FROM pids) " \
	"GROUP BY pid) " \
	"SELECT pids.pid, coalesce(born.comm, cpu.comm, slow.comm, mem.comm), coalesce(cpu.oncpu, 0) / 1e9, " \
	"coalesce(cpu.oncpu, 0) * 100.0 / ?3, coalesce(cpu.runq, 0) / 1e9, coalesce(cpu.vol, 0), " \
	"coalesce(cpu.invol, 0), coalesce(faults.minor, 0), coalesce(faults.major, 0), coalesce(slow.n, 0), " \
	"coalesce(slow.ns, 0) / 1e9, mem.rss_bytes, mem.status, " \
	"CASE WHEN mem.status IN ('watching', 'suspect') THEN mem.rate END AS growth, " \
	"CASE WHEN mem.status IN ('watching', 'suspect') THEN mem.ttl END, " \
	"coalesce(ev.cgroup, slow.cgroup, mem.cgroup), coalesce(born.ts, mem.process_start), " \
	"coalesce(exits.failed, 0) " \
	"FROM pids LEFT JOIN cpu ON cpu.pid = pids.pid LEFT JOIN slow ON slow.pid = pids.pid " \
	"LEFT JOIN faults ON faults.pid = pids.pid LEFT JOIN mem ON mem.pid = pids.pid " \
	"LEFT JOIN exits ON exits.pid = pids.pid LEFT JOIN ev ON ev.pid = pids.pid " \
	"LEFT JOIN born ON born.pid = pids.pid " \
	"ORDER BY " order " DESC, pids.pid LIMIT ?4"

static const struct ranking {
	const char *name;
	const char *sql;
} rankings[] = {
	{ "cpu", PROCESSES_SQL("coalesce(cpu.oncpu, 0)") },
	{ "runq", PROCESSES_SQL("coalesce(cpu.runq, 0)") },
	{ "rss", PROCESSES_SQL("coalesce(growth, -1e300)") },
	{ "slow", PROCESSES_SQL("coalesce(slow.ns, 0)") },
};

static const char *const names[] = {
	"pid", "comm", "cpu_seconds", "cpu_percent", "runq_wait_seconds", "voluntary_switches",
	"involuntary_switches", "minor_faults", "major_faults", "slow_calls", "slow_call_seconds", "rss_bytes",
	"leak_status", "rss_growth_bytes_per_s", "time_to_limit_s", "cgroup", "start_ns", "failed_exits",
};

int route_processes(struct http_request *r)
{
	const struct ranking *rank = &rankings[0];
	const char *sort = http_param(r, "sort");
	int64_t window, limit, until = r->now_ns;
	char err[STORE_ERR_MAX];
	struct store_stmt *st;
	struct store *store;
	struct json j;
	int status, rc;

	if ((status = http_param_duration(r, "window", NSEC_PER_SEC, WINDOW_MAX, WINDOW_DEFAULT, &window)) ||
	    (status = http_param_int(r, "limit", 1, LIMIT_MAX, LIMIT_DEFAULT, &limit)))
		return status;
	if (sort) {
		rank = NULL;
		for (size_t i = 0; i < sizeof(rankings) / sizeof(rankings[0]) && !rank; i++)
			if (!strcmp(sort, rankings[i].name))
				rank = &rankings[i];
		if (!rank)
			return http_error(r, 400, "sort", "bad parameter 'sort': '%s' is not one of cpu, runq, rss, slow",
					  sort);
	}
	if (!(store = http_store(r)))
		return 503;
	if ((rc = store__prepare(store, rank->sql, &st, err)))
		return http_store_error(r, rc, err);
	store_stmt__bind_int(st, 1, until - window);
	store_stmt__bind_int(st, 2, until);
	store_stmt__bind_int(st, 3, window);
	store_stmt__bind_int(st, 4, limit);
	http_json(r, &j);
	json_obj_begin(&j);
	json_key(&j, "window");
	json_obj_begin(&j);
	json_key(&j, "since_ns");
	json_int(&j, until - window);
	json_key(&j, "until_ns");
	json_int(&j, until);
	json_key(&j, "seconds");
	json_double(&j, (double)window / 1e9);
	json_obj_end(&j);
	json_key(&j, "sort");
	json_str(&j, rank->name);
	json_key(&j, "processes");
	json_arr_begin(&j);
	while ((rc = store_stmt__step(st, err)) == 1) {
		struct batch_value v;

		json_obj_begin(&j);
		for (int c = 0; c < (int)(sizeof(names) / sizeof(names[0])); c++) {
			store_stmt__value(st, c, &v);
			json_key(&j, names[c]);
			http_json_value(&j, &v);
		}
		json_obj_end(&j);
	}
	store_stmt__done(st);
	if (rc < 0)
		return http_store_error(r, rc, err);
	json_arr_end(&j);
	json_obj_end(&j);
	r->cacheable = false;      /* relative to now */
	return 200;
}
