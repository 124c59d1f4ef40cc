/* GET /api/agent/status and GET /api/diagnostics.
 *
 * status: the agent now (uptime, ticks, collectors running) and its
 * detectors' state: leak suspects (the newest memory_growth_events row of
 * each process, and whether it still runs) and the latest anomalies.  Those
 * tables belong to detectors that may not be in this build: they are read
 * when the schema has them, else the answer says they are not available.
 *
 * diagnostics: what someone debugging the agent asks for first: recent
 * warnings and errors (log_recent), collectors that are off, degraded,
 * failing or losing events, the store's health, the HTTP server's counters,
 * the configuration in use, and, for why the host is slow, the slowest
 * syscalls of the last 5 minutes ranked by the time they did not choose (on
 * the CPU, waiting for it, blocked; a read waiting for input is only
 * counted as waiting).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "../config/config.h"
#include "../lib/buf.h"
#include "../lib/clock.h"
#include "../lib/log.h"
#include "../store/schema.h"
#include "../store/store.h"
#include "routes.h"
#include "server.h"
#include "snapshot.h"

#define SUSPECTS_MAX 50
#define SUSPECT_ROWS 2000
#define ANOMALIES_MAX 20
#define SLOW_CALLS_MAX 10
#define SLOW_WINDOW_NS (300 * NSEC_PER_SEC)

static int column_of(const struct table *t, const char *name)
{
	for (unsigned c = 0; c < t->ncolumns; c++)
		if (!strcmp(t->columns[c].name, name))
			return (int)c;
	return -1;
}

static bool pid_alive(int64_t pid)
{
	char path[32];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%lld", (long long)pid);
	return pid > 0 && stat(path, &st) == 0;
}

/* Newest rows of table t, written as objects; with dedupe_pid only the
 * newest row of each pid.  Returns 0 or the error status. */
static int latest_rows(struct http_request *r, struct store *store, struct json *j, const struct table *t,
		       bool dedupe_pid, int max)
{
	int pid_col = dedupe_pid ? column_of(t, "pid") : -1, n = 0, rc;
	int64_t seen[SUSPECTS_MAX];
	struct buf sql = BUF_INIT;
	char err[STORE_ERR_MAX];
	struct store_stmt *st;

	buf_adds(&sql, "SELECT ");
	for (unsigned c = 0; c < t->ncolumns; c++)
		buf_printf(&sql, "%s%s", c ? ", " : "", t->columns[c].name);
	buf_printf(&sql, " FROM %s ORDER BY timestamp DESC LIMIT ?1", t->name);
	rc = store__prepare(store, sql.data, &st, err);
	buf_free(&sql);
	if (rc)
		return http_store_error(r, rc, err);
	store_stmt__bind_int(st, 1, pid_col >= 0 ? SUSPECT_ROWS : max);
	json_arr_begin(j);
	while (n < max && (rc = store_stmt__step(st, err)) == 1) {
		struct batch_value v;
		int64_t pid = pid_col >= 0 ? store_stmt__int(st, pid_col) : 0;
		bool dup = false;

		for (int i = 0; i < n && pid_col >= 0 && !dup; i++)
			dup = seen[i] == pid;
		if (dup)
			continue;
		seen[n++] = pid;
		json_obj_begin(j);
		for (unsigned c = 0; c < t->ncolumns; c++) {
			store_stmt__value(st, (int)c, &v);
			json_key(j, t->columns[c].name);
			http_json_value(j, &v);
		}
		if (pid_col >= 0) {
			json_key(j, "alive");
			json_bool(j, pid_alive(pid));
		}
		json_obj_end(j);
	}
	store_stmt__done(st);
	if (rc < 0)
		return http_store_error(r, rc, err);
	json_arr_end(j);
	return 0;
}

/* "leaks": {"available": ..., "reason"|"suspects"} for a detector table. */
static int detector(struct http_request *r, struct store *store, struct json *j, const char *key,
		    const char *table, const char *list_key, bool dedupe_pid, int max)
{
	const struct table *t = schema_find(table);
	int status;

	json_key(j, key);
	json_obj_begin(j);
	json_key(j, "available");
	json_bool(j, t != NULL);
	json_key(j, "table");
	json_str(j, table);
	if (!t) {
		json_key(j, "reason");
		json_str(j, "this build has no such detector (its table is not in the schema)");
	} else {
		json_key(j, list_key);
		if ((status = latest_rows(r, store, j, t, dedupe_pid, max)))
			return status;
	}
	json_obj_end(j);
	return 0;
}

int route_agent_status(struct http_request *r)
{
	const struct snapshot *s = r->snap;
	size_t on = 0, off = 0;
	struct store *store;
	struct json j;
	int status;

	if (!s)
		return http_error(r, 503, NULL, "the agent is starting: no tick yet");
	if (!(store = http_store(r)))
		return 503;
	for (size_t i = 0; i < s->ncollectors; i++)
		s->collectors[i].enabled ? on++ : off++;
	http_json(r, &j);
	json_obj_begin(&j);
	json_key(&j, "agent");
	json_obj_begin(&j);
	json_key(&j, "pid");
	json_int(&j, getpid());
	http_json_agent(&j, r);
	json_key(&j, "collectors_running");
	json_uint(&j, on);
	json_key(&j, "collectors_off");
	json_uint(&j, off);
	json_key(&j, "metrics_render_ms");
	json_double(&j, s->render_ms);
	json_key(&j, "metrics_rendered");      /* false: no /metrics scrape lately */
	json_bool(&j, s->metrics != NULL);
	json_obj_end(&j);
	if ((status = detector(r, store, &j, "leaks", "memory_growth_events", "suspects", true, SUSPECTS_MAX)) ||
	    (status = detector(r, store, &j, "anomalies", "anomalies", "latest", false, ANOMALIES_MAX)))
		return status;
	/* The remediation cycle: mode, recent cycles with per-phase durations,
	 * pending and recent actions (from its memory, not the database). */
	json_key(&j, "remediation");
	if (!snapshots__remediation(http_server__snapshots(r->server), &j)) {
		json_obj_begin(&j);
		json_key(&j, "available");
		json_bool(&j, false);
		json_obj_end(&j);
	}
	json_obj_end(&j);
	return 200;
}

static void config_pair(void *ctx, const char *key, const char *value)
{
	struct json *j = ctx;

	json_key(j, key);
	json_str(j, value);
}

static void collector_errors(struct json *j, const struct snapshot *s)
{
	char problem[320];

	json_key(j, "collector_errors");
	json_arr_begin(j);
	for (size_t i = 0; i < s->ncollectors; i++) {
		const struct snapshot_collector *c = &s->collectors[i];

		if (!c->enabled && c->configured)
			snprintf(problem, sizeof(problem), "off: %s", c->reason);
		else if (!c->enabled)
			continue;
		else if (c->reason[0])
			snprintf(problem, sizeof(problem), "%s", c->reason);
		else if (c->note[0])
			snprintf(problem, sizeof(problem), "degraded: %s", c->note);
		else if (c->drops_total)
			snprintf(problem, sizeof(problem), "%llu events lost since start",
				 (unsigned long long)c->drops_total);
		else
			continue;
		json_obj_begin(j);
		json_key(j, "collector");
		json_str(j, c->name);
		json_key(j, "kind");
		json_str(j, c->kind);
		json_key(j, "problem");
		json_str(j, problem);
		json_key(j, "drops_total");
		json_uint(j, c->drops_total);
		json_obj_end(j);
	}
	json_arr_end(j);
}

/* "slow_syscalls": the slowest calls of the last SLOW_WINDOW_NS whose time
 * not asleep by choice (latency_ns - sleep_ns; rows from before the split
 * count whole) reaches the slow threshold, with their split, and how many
 * recorded calls were only waiting. */
static int slow_syscalls(struct http_request *r, struct store *store, struct json *j, const struct config *cfg)
{
	static const char *const names[] = { "timestamp", "pid", "comm", "syscall", "involuntary_ms", "latency_ms",
					      "oncpu_ms", "runq_ms", "blocked_ms", "sleep_ms", "ret" };
	static const char *const sql[2] = {
		"SELECT timestamp, pid, comm, syscall_name, (latency_ns - coalesce(sleep_ns, 0)) / 1e6, latency_ns / 1e6, "
		"oncpu_ns / 1e6, runq_ns / 1e6, blocked_ns / 1e6, sleep_ns / 1e6, ret FROM syscall_events "
		"WHERE timestamp >= ?1 AND latency_ns - coalesce(sleep_ns, 0) >= ?2 "
		"ORDER BY latency_ns - coalesce(sleep_ns, 0) DESC LIMIT ?3",
		"SELECT count(*) FROM syscall_events WHERE timestamp >= ?1 AND latency_ns - coalesce(sleep_ns, 0) < ?2",
	};
	char err[STORE_ERR_MAX];
	struct store_stmt *st;
	struct batch_value v;
	int rc;

	json_key(j, "slow_syscalls");
	json_obj_begin(j);
	json_key(j, "window_s");
	json_int(j, SLOW_WINDOW_NS / NSEC_PER_SEC);
	json_key(j, "threshold_ms");
	json_double(j, (double)cfg->syscall_slow_ns / 1e6);
	for (int q = 0; q < 2; q++) {
		if ((rc = store__prepare(store, sql[q], &st, err)))
			return http_store_error(r, rc, err);
		store_stmt__bind_int(st, 1, r->now_ns - SLOW_WINDOW_NS);
		store_stmt__bind_int(st, 2, (int64_t)cfg->syscall_slow_ns);
		store_stmt__bind_int(st, 3, SLOW_CALLS_MAX);
		json_key(j, q ? "waiting_calls" : "slowest");
		if (!q)
			json_arr_begin(j);
		while ((rc = store_stmt__step(st, err)) == 1) {
			if (q) {
				json_int(j, store_stmt__int(st, 0));
				continue;
			}
			json_obj_begin(j);
			for (int c = 0; c < (int)(sizeof(names) / sizeof(names[0])); c++) {
				store_stmt__value(st, c, &v);
				json_key(j, names[c]);
				http_json_value(j, &v);
			}
			json_obj_end(j);
		}
		store_stmt__done(st);
		if (rc < 0)
			return http_store_error(r, rc, err);
		if (!q)
			json_arr_end(j);
	}
	json_obj_end(j);
	return 0;
}

int route_diagnostics(struct http_request *r)
{
	const struct snapshot *s = r->snap;
	const struct config *cfg = http_server__config(r->server);
	struct log_entry recent[64];
	size_t n = log_recent(recent, 64);
	struct http_counters hc;
	struct utsname u;
	struct store *store;
	struct json j;
	struct stat st;
	int status;

	if (!s)
		return http_error(r, 503, NULL, "the agent is starting: no tick yet");
	if (!(store = http_store(r)))
		return 503;
	http_server__counters(r->server, &hc);
	uname(&u);
	http_json(r, &j);
	json_obj_begin(&j);
	json_key(&j, "warnings");
	json_arr_begin(&j);
	for (size_t i = n; i-- > 0;) {     /* newest first */
		json_obj_begin(&j);
		json_key(&j, "time_ns");
		json_int(&j, recent[i].time_ns);
		json_key(&j, "level");
		json_str(&j, recent[i].level == LOG_ERROR ? "error" : "warning");
		json_key(&j, "message");
		json_str(&j, recent[i].text);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	collector_errors(&j, s);
	json_key(&j, "store");
	json_obj_begin(&j);
	http_json_database(&j, r);
	json_key(&j, "write_errors");
	json_uint(&j, s->store.write_errors);
	json_key(&j, "commit_ms_avg");
	json_double(&j, s->store.batches_written ? s->store.write_ms_total / (double)s->store.batches_written : 0);
	json_key(&j, "commit_ms_max");
	json_double(&j, s->store.write_ms_max);
	json_key(&j, "last_error");
	json_str(&j, s->store.last_error ? s->store.last_error_msg : NULL);
	json_obj_end(&j);
	json_key(&j, "http");
	json_obj_begin(&j);
	json_key(&j, "listen");
	json_str(&j, http_server__address(r->server));
	json_key(&j, "auth");
	json_str(&j, http_server__auth(r->server));
	json_key(&j, "connections");
	json_uint(&j, hc.connections);
	json_key(&j, "max_connections");
	json_uint(&j, cfg->http_max_connections);
	json_key(&j, "threads");
	json_uint(&j, cfg->http_threads);
	json_key(&j, "responses");
	json_uint(&j, hc.requests);
	json_key(&j, "unauthorized");
	json_uint(&j, hc.unauthorized);
	json_key(&j, "rejected_overload");
	json_uint(&j, hc.rejected);
	json_key(&j, "cache_hits");
	json_uint(&j, hc.cache_hits);
	json_obj_end(&j);
	json_key(&j, "system");
	json_obj_begin(&j);
	json_key(&j, "kernel");
	json_str(&j, u.release);
	json_key(&j, "machine");
	json_str(&j, u.machine);
	json_key(&j, "cpus_online");
	json_int(&j, sysconf(_SC_NPROCESSORS_ONLN));
	json_key(&j, "btf");
	json_bool(&j, stat("/sys/kernel/btf/vmlinux", &st) == 0);
	json_key(&j, "euid");
	json_int(&j, geteuid());
	json_obj_end(&j);
	json_key(&j, "config");
	json_obj_begin(&j);
	json_key(&j, "file");
	json_str(&j, cfg->path);
	config__each(cfg, config_pair, &j);
	json_obj_end(&j);
	if ((status = slow_syscalls(r, store, &j, cfg)))
		return status;
	json_obj_end(&j);
	return 200;
}
