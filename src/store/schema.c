/* Table declarations (see schema.h). */
#include "schema.h"

#include <string.h>

#define I(n, d) { n, COL_INT, d }
#define R(n, d) { n, COL_REAL, d }
#define S(n, d) { n, COL_TEXT, d }
#define TS I("timestamp", "ns since the Unix epoch")
#define TABLE(id, n, d, cols) [id] = { n, d, cols, sizeof(cols) / sizeof(cols[0]) }

static const struct column collector_stats[] = {
	TS,
	S("collector", "tracer, scraper or store name"),
	S("kind", "'tracer', 'scraper' or 'store'"),
	I("enabled", "1 when running, 0 when disabled"),
	S("reason", "why it is disabled, NULL when enabled"),
	I("events", "events or rows produced in this interval"),
	I("drops", "events lost in this interval (ring buffer full, map full, write failure)"),
	I("rate_limited", "events dropped on purpose by the configured rate cap"),
	I("events_total", "events since the agent started"),
	I("drops_total", "losses since the agent started"),
	R("cost_ms", "time spent collecting or writing in this interval, ms"),
};

static const struct column process_events[] = {
	TS,
	S("event", "'fork', 'exec' or 'exit'"),
	I("pid", "process id (thread group id)"),
	I("ppid", "parent process id"),
	I("uid", "real user id"),
	S("comm", "command name (16 bytes at most)"),
	S("filename", "exec: the path that was executed"),
	S("argv", "exec: arguments joined by spaces; ends in '...' when truncated"),
	I("exit_code", "exit: exit status (0-255) when the process exited normally"),
	I("signal", "exit: the signal that killed it, 0 when it exited normally"),
	I("duration_ns", "exit: time from process start to exit"),
	I("cpu_user_ns", "exit: user CPU time of all its threads"),
	I("cpu_system_ns", "exit: system CPU time of all its threads"),
	I("peak_rss_bytes", "exit: peak resident set size"),
	I("minor_faults", "exit: minor page faults of all its threads"),
	I("major_faults", "exit: major page faults of all its threads"),
	I("cgroup_id", "cgroup id (see docs/schema.md for hybrid hierarchies)"),
	S("cgroup", "cgroup path"),
};

static const struct column memory_metrics[] = {
	TS,
	I("total_kb", "MemTotal"),
	I("free_kb", "MemFree"),
	I("available_kb", "MemAvailable"),
	I("used_kb", "total - free - buffers - cache, as free(1) computes it"),
	I("buffers_kb", "Buffers"),
	I("cached_kb", "Cached"),
	I("cache_kb", "Cached + SReclaimable: free(1)'s 'cache' column"),
	I("shared_kb", "Shmem: free(1)'s 'shared' column"),
	I("sreclaimable_kb", "SReclaimable"),
	I("slab_kb", "Slab"),
	I("active_kb", "Active"),
	I("inactive_kb", "Inactive"),
	I("anon_kb", "AnonPages"),
	I("mapped_kb", "Mapped"),
	I("dirty_kb", "Dirty"),
	I("writeback_kb", "Writeback"),
	I("committed_as_kb", "Committed_AS"),
	I("commit_limit_kb", "CommitLimit"),
	I("swap_total_kb", "SwapTotal"),
	I("swap_free_kb", "SwapFree"),
	I("swap_used_kb", "SwapTotal - SwapFree"),
	I("hugepages_total", "HugePages_Total"),
	I("hugepages_free", "HugePages_Free"),
};

static const struct column load_metrics[] = {
	TS,
	R("load1", "1-minute load average"),
	R("load5", "5-minute load average"),
	R("load15", "15-minute load average"),
	I("runnable", "runnable scheduling entities now"),
	I("threads", "scheduling entities in total"),
	I("last_pid", "most recently allocated pid"),
	R("uptime_s", "seconds since boot (/proc/uptime)"),
	R("idle_s", "summed idle seconds of all CPUs since boot (/proc/uptime)"),
	I("cpus", "online CPUs, to read the load against"),
};

static const struct column syscall_events[] = {
	TS,
	I("pid", "process id"),
	I("tid", "thread id"),
	S("comm", "thread command name"),
	I("syscall_nr", "syscall number on this architecture"),
	S("syscall_name", "syscall name"),
	I("latency_ns", "time from entry to exit"),
	I("ret", "return value (negative: -errno)"),
	I("cgroup_id", "cgroup id"),
	S("cgroup", "cgroup path"),
};

static const struct column syscall_stats[] = {
	TS,
	I("interval_ns", "length of the interval these counts cover"),
	I("syscall_nr", "syscall number"),
	S("syscall_name", "syscall name"),
	I("count", "calls completed in the interval"),
	I("errors", "calls that returned an error"),
	I("total_ns", "summed latency"),
	I("p50_ns", "median latency (log-linear histogram, within a few percent)"),
	I("p95_ns", "95th percentile latency"),
	I("p99_ns", "99th percentile latency"),
	I("max_ns", "slowest call in the interval (exact)"),
};

/* ksight run: one row per process of a traced job (threads folded in).  The
 * Parquet file of a run has the same columns after `timestamp`. */
static const struct column run_processes[] = {
	I("timestamp", "process start, ns since the Unix epoch (= start_time, or first seen when unknown)"),
	I("run_id", "the run (runs.run_id)"),
	I("pid", "process id (thread group id)"),
	I("ppid", "the process that forked it (kept when it is reparented); with --exclude-shells the nearest ancestor that is not a shell"),
	S("comm", "command name (16 bytes at most) after its last exec"),
	S("filename", "path of the last program it executed; a child that did not exec runs its parent's"),
	S("cmdline", "arguments of the last exec joined by spaces; ends in '...' when truncated; NULL when unreadable"),
	I("start_time", "ns since the epoch: the kernel's start time; the job's own process: its exec of the command"),
	I("end_time", "ns since the epoch when the last thread exited; NULL when still running at the end of the run"),
	I("duration_ns", "end_time - start_time"),
	I("exit_code", "exit status 0-255; NULL when killed by a signal or still running"),
	I("signal", "the signal that killed it, 0 when it exited"),
	I("cpu_user_ns", "user CPU time of all its threads (kernel's sum_exec_runtime, split as cputime_adjust does)"),
	I("cpu_system_ns", "system CPU time of all its threads"),
	I("peak_rss_bytes", "peak resident set size (signal->maxrss, as getrusage reports)"),
	I("minor_faults", "minor page faults of all its threads"),
	I("major_faults", "major page faults of all its threads"),
};

static const struct column runs[] = {
	I("timestamp", "run start, ns since the Unix epoch (= start_time)"),
	I("run_id", "identifies the run: its start time in ns, unique per host"),
	S("command", "the command line given to ksight run"),
	S("cwd", "working directory"),
	S("host", "host name"),
	S("kernel", "kernel release and version (uname -r -v)"),
	S("ksight_version", "ksight version"),
	I("start_time", "ns since the epoch when the command was started"),
	I("end_time", "ns since the epoch when tracing ended"),
	I("duration_ns", "end_time - start_time"),
	I("exit_status", "ksight run's own exit status: the command's, 128+signal when killed, 124 when still running at --timeout"),
	I("exit_code", "the command's exit status; NULL when killed or still running"),
	I("signal", "the signal that killed the command, 0 when it exited"),
	I("processes", "rows in run_processes for this run"),
	I("failed", "processes that exited non-zero or were killed"),
	I("still_running", "processes alive when tracing ended (NULL end_time)"),
	I("exits_lost", "processes whose exit was not recorded although they ended"),
	I("records_lost", "tracer records lost (ring buffer or map full); 0 means the table is complete"),
	I("timed_out", "1 when --timeout ended the run"),
	I("interrupted", "1 when ksight run was interrupted (SIGINT/SIGTERM)"),
	S("parquet", "path of the Parquet file written, NULL with --no-parquet"),
};

const struct table schema_tables[T_COUNT] = {
	TABLE(T_COLLECTOR_STATS, "collector_stats",
	      "Per interval and collector: enabled or why not, events seen, events lost.",
	      collector_stats),
	TABLE(T_PROCESS_EVENTS, "process_events",
	      "One row per process fork, exec and exit (threads are folded into their process).",
	      process_events),
	TABLE(T_MEMORY_METRICS, "memory_metrics", "/proc/meminfo every interval.", memory_metrics),
	TABLE(T_LOAD_METRICS, "load_metrics", "/proc/loadavg and /proc/uptime every interval.",
	      load_metrics),
	TABLE(T_SYSCALL_EVENTS, "syscall_events",
	      "One row per syscall slower than tracers.syscall.slow_threshold.", syscall_events),
	TABLE(T_SYSCALL_STATS, "syscall_stats",
	      "Per interval and syscall: count, errors and latency percentiles of every call.",
	      syscall_stats),
	TABLE(T_RUN_PROCESSES, "run_processes",
	      "ksight run: one row per process of a traced job, with what it cost.", run_processes),
	TABLE(T_RUNS, "runs", "ksight run: one row per run: command, host, times, exit status, counts.", runs),
};

const struct table *schema_find(const char *name)
{
	for (int i = 0; i < T_COUNT; i++)
		if (!strcmp(schema_tables[i].name, name))
			return &schema_tables[i];
	return NULL;
}
