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

static const struct column memory_growth_events[] = {
	TS,
	I("pid", "process id (thread group id)"),
	S("comm", "command name"),
	I("process_start", "ns since the Unix epoch when the process started (with pid, names the process)"),
	I("cgroup_id", "id of the memory cgroup (v1 memory controller on hybrid systems, else cgroup2); NULL when unknown"),
	S("cgroup", "memory cgroup path"),
	S("status", "'suspect' (leak found, or its pattern, rate or confidence changed), 'resolved' (growth stopped or "
		    "was freed), 'exited' (the process exited or exec'd while suspected)"),
	S("pattern", "'linear', 'accelerating', 'oscillating' (runs of growth with pauses) or 'burst' (rare large jumps)"),
	R("growth_rate_bytes_per_s", "net growth of RSS + swap, bytes/s (the current rate when accelerating)"),
	I("rss_bytes", "resident set: anon + file + shmem"),
	I("anon_bytes", "resident anonymous memory"),
	I("file_bytes", "resident file-backed memory"),
	I("shmem_bytes", "resident shared memory"),
	I("swap_bytes", "swapped out"),
	R("confidence", "0 to 1; at least 0.5 while suspected"),
	I("limit_bytes", "the memory cgroup limit that applies (smallest up to the root); NULL when unlimited"),
	S("limit_source", "'cgroup' (projected against limit_bytes) or 'memavailable' (unlimited: against MemAvailable)"),
	I("headroom_bytes", "bytes left: limit - cgroup usage, or MemAvailable"),
	R("time_to_limit_s", "seconds until the headroom is used up at this rate; NULL when not growing (resolved, exited)"),
	I("growth_start", "ns since the Unix epoch when the growth under suspicion began"),
	I("samples", "RSS samples the detector had for the process (at most one per interval, plus jumps)"),
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
	TABLE(T_MEMORY_GROWTH_EVENTS, "memory_growth_events",
	      "Leak suspects: a row when a process's memory growth is found to be a leak, when its pattern, rate or "
	      "confidence change, and when it ends.",
	      memory_growth_events),
};

const struct table *schema_find(const char *name)
{
	for (int i = 0; i < T_COUNT; i++)
		if (!strcmp(schema_tables[i].name, name))
			return &schema_tables[i];
	return NULL;
}
