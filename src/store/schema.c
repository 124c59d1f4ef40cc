/* Table declarations (see schema.h). */
#include "schema.h"

#include <string.h>

#define I(n, d) { n, COL_INT, d }
#define R(n, d) { n, COL_REAL, d }
#define S(n, d) { n, COL_TEXT, d }
#define H(n, d) { n, COL_BLOB, d }
#define TS I("timestamp", "ns since the Unix epoch")
#define TABLE(id, n, d, cols) [id] = { n, d, cols, sizeof(cols) / sizeof(cols[0]) }

static const struct column collector_stats[] = {
	TS,
	S("collector", "tracer, scraper or store name, 'detect', or 'clock'"),
	S("kind", "'tracer', 'scraper', 'store', 'detector' or 'clock' (a row only at a tick that saw the wall clock "
		  "step: reason says by how much, events_total counts the steps so far)"),
	I("enabled", "1 when running, 0 when disabled"),
	S("reason", "why it is disabled; for a running tracer, what it cannot provide here and why"),
	I("events", "events or rows produced in this interval"),
	I("drops", "events lost in this interval (ring buffer full, map full, a failed collect or read, write failure)"),
	I("rate_limited", "events dropped on purpose by the configured rate cap"),
	I("events_total", "events since the agent started"),
	I("drops_total", "losses since the agent started"),
	R("cost_ms", "time spent collecting or writing in this interval, ms"),
	I("map_bytes", "tracers: kernel memory held by the tracer's BPF maps"),
	I("bytes_freed", "retention: bytes the database file gave back to the filesystem in this interval"),
	S("state", "tracers under the overhead budget: 'full', 'sampling 1/N: over budget' or 'recovering' "
		   "(docs/budget.md); the 'overhead' row: the measured share against the budget"),
	I("sample_factor", "tracers: 1 at full fidelity, N when 1 event in N is measured (docs/budget.md); "
			   "the 'overhead' row: the budget in hundredths of a percent"),
	R("overhead_pct", "the 'overhead' row: BPF run time plus the agent's user and system time in this "
			  "interval, as a percentage of (interval x CPUs)"),
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
	I("cgroup_id", "cgroup id: the kernfs id of the cgroup directory (see cgroup)"),
	S("cgroup", "cgroup path: the cgroup v2 path, or on a hybrid host where the task sits at the v2 root, its v1 memory cgroup"),
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
	I("latency_ns", "time from entry to exit (= oncpu_ns + runq_ns + blocked_ns + sleep_ns)"),
	I("ret", "return value (negative: -errno)"),
	I("cgroup_id", "cgroup id"),
	S("cgroup", "cgroup path"),
	I("oncpu_ns", "part of the latency spent running on a CPU"),
	I("runq_ns", "part spent waiting for a CPU: preempted, or woken and not yet running"),
	I("blocked_ns", "part spent blocked uninterruptibly (D state: disk, page cache, locks)"),
	I("sleep_ns", "part spent sleeping by choice (S state: input, timers, children, futexes); "
		      "the views rank calls by the rest, latency_ns - sleep_ns (NULL: rows from before the split)"),
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
	H("hist", "latency histogram: the log-linear buckets (ns) the percentiles come from (see docs/retention.md)"),
	I("timed", "calls whose latency was measured: equal to count at full fidelity; under the overhead budget "
		   "(docs/budget.md) a sample, and hist, total_ns, the percentiles and max_ns cover only these"),
};

#define IO_OP(op) \
	I(op "_count", op " requests completed"), \
	I(op "_bytes", op " bytes"), \
	R(op "_p50_us", op " median latency, issue to completion, µs (NULL: no requests)"), \
	R(op "_p95_us", op " 95th percentile latency, µs"), \
	R(op "_p99_us", op " 99th percentile latency, µs"), \
	R(op "_max_us", op " slowest request, µs (exact)"), \
	H(op "_hist", op " latency histogram (ns buckets, see docs/retention.md)")

static const struct column io_latency_stats[] = {
	TS,
	I("interval_ns", "length of the interval"),
	S("device", "disk name (vda, nvme0n1, loop0 ...)"),
	I("dev_major", "device major number"),
	I("dev_minor", "device minor number of the whole disk"),
	IO_OP("read"),
	IO_OP("write"),
	IO_OP("flush"),
	IO_OP("discard"),
	I("other_count", "other requests (write zeroes, zone ops ...)"),
};

static const struct column sched_events[] = {
	TS,
	I("interval_ns", "length of the interval"),
	I("runq_count", "tasks that waited on a run queue and then ran"),
	R("runq_p50_us", "median run-queue latency (wakeup or preemption to running), µs"),
	R("runq_p95_us", "95th percentile run-queue latency, µs"),
	R("runq_p99_us", "99th percentile run-queue latency, µs"),
	R("runq_max_us", "longest run-queue wait, µs (exact)"),
	I("context_switches", "context switches"),
	I("voluntary_switches", "switches where the task blocked"),
	I("involuntary_switches", "switches where the task was preempted while runnable"),
	I("wakeups", "task wakeups (sched_wakeup + sched_wakeup_new)"),
	H("runq_hist", "run-queue latency histogram (ns buckets, see docs/retention.md)"),
};

static const struct column sched_latency_events[] = {
	TS,
	I("pid", "process id"),
	I("tid", "thread id"),
	S("comm", "thread command name"),
	I("latency_ns", "run-queue wait above tracers.sched.slow_threshold"),
	I("cpu", "CPU it finally ran on"),
	I("cgroup_id", "cgroup id"),
	S("cgroup", "cgroup path"),
};

static const struct column process_cpu_stats[] = {
	TS,
	I("interval_ns", "length of the interval"),
	I("pid", "process id (threads folded)"),
	S("comm", "command name"),
	I("oncpu_ns", "time on CPU in the interval"),
	I("voluntary_switches", "times it blocked"),
	I("involuntary_switches", "times it was preempted"),
	I("runq_wait_ns", "summed run-queue wait of its threads"),
};

static const struct column page_fault_events[] = {
	TS,
	I("pid", "process id"),
	I("tid", "thread id"),
	S("comm", "thread command name"),
	S("fault_type", "'minor' or 'major' (NULL when perf software events are unavailable)"),
	S("access", "'read', 'write' or 'exec', from the x86 error code"),
	I("address", "faulting user address"),
	I("latency_ns", "fault entry to completion; NULL where the kernel offers no completion hook"),
	I("cgroup_id", "cgroup id"),
	S("cgroup", "cgroup path"),
};

static const struct column page_fault_stats[] = {
	TS,
	I("interval_ns", "length of the interval"),
	I("pid", "process id (threads folded)"),
	S("comm", "command name"),
	I("minor", "minor faults completed"),
	I("major", "major faults completed"),
	I("reads", "faults on reads"),
	I("writes", "faults on writes"),
	I("execs", "faults on instruction fetch"),
	R("minor_avg_us", "mean minor fault latency, µs, over the minor_timed faults (NULL: unknown)"),
	R("major_avg_us", "mean major fault latency, µs, over the major_timed faults (NULL: unknown)"),
	I("minor_timed", "minor faults timed for minor_avg_us: latency is timed on a sample, one fault in "
	  "tracers.pagefault.time_every per CPU (NULL: no completion events)"),
	I("major_timed", "major faults timed for major_avg_us (NULL: no completion events)"),
};

static const struct column tcp_retransmit_events[] = {
	TS,
	I("pid", "process that opened the connection, when it was seen connecting; else NULL"),
	S("comm", "its command name"),
	I("family", "4 or 6"),
	S("saddr", "local address"),
	I("sport", "local port"),
	S("daddr", "remote address"),
	I("dport", "remote port"),
	S("state", "TCP state (ESTABLISHED, SYN_SENT ...)"),
	I("netns", "network namespace inode"),
	I("cgroup_id", "cgroup of the socket"),
	S("cgroup", "cgroup path"),
};

static const struct column cpu_metrics[] = {
	TS,
	S("cpu", "'cpu' for all CPUs together, 'cpuN' for CPU N (the /proc/stat label)"),
	R("user_pct", "% of the CPU time in the interval spent in user mode (guest time included)"),
	R("nice_pct", "% in user mode at a positive nice value (guest_nice included)"),
	R("system_pct", "% in kernel mode, interrupts excluded"),
	R("idle_pct", "% idle, iowait excluded"),
	R("iowait_pct", "% idle while I/O was outstanding"),
	R("irq_pct", "% servicing hardware interrupts"),
	R("softirq_pct", "% servicing softirqs"),
	R("steal_pct", "% taken by the hypervisor for other guests"),
	R("ctxt_per_sec", "context switches per second, all CPUs ('cpu' row only)"),
	R("forks_per_sec", "processes and threads created per second ('cpu' row only)"),
	I("procs_running", "runnable threads now ('cpu' row only)"),
	I("procs_blocked", "threads blocked on I/O now ('cpu' row only)"),
};

static const struct column block_stats[] = {
	TS,
	S("device_name", "whole block device as in /sys/block (partitions are left out)"),
	I("major", "device major number"),
	I("minor", "device minor number"),
	I("read_ios", "reads completed since the device appeared"),
	I("read_merges", "adjacent reads merged"),
	I("read_sectors", "512-byte sectors read"),
	I("read_ticks", "ms spent on reads (summed over requests)"),
	I("write_ios", "writes completed"),
	I("write_merges", "adjacent writes merged"),
	I("write_sectors", "512-byte sectors written"),
	I("write_ticks", "ms spent on writes (summed over requests)"),
	I("in_flight", "requests issued to the driver and not completed, now"),
	I("io_ticks", "ms the device had I/O in flight"),
	I("time_in_queue", "ms spent by all requests (weighted by requests in flight)"),
	I("discard_ios", "discards completed (NULL before Linux 4.18)"),
	I("discard_merges", "adjacent discards merged (NULL before 4.18)"),
	I("discard_sectors", "512-byte sectors discarded (NULL before 4.18)"),
	I("discard_ticks", "ms spent on discards (NULL before 4.18)"),
	I("flush_ios", "flushes completed (NULL before 5.5)"),
	I("flush_ticks", "ms spent on flushes (NULL before 5.5)"),
	R("read_iops", "reads completed per second over the interval (NULL: first reading or reset)"),
	R("write_iops", "writes completed per second over the interval"),
	R("read_bytes_per_sec", "bytes read per second over the interval"),
	R("write_bytes_per_sec", "bytes written per second over the interval"),
	R("read_await_ms", "mean ms per read completed in the interval (NULL when none completed)"),
	R("write_await_ms", "mean ms per write completed in the interval (NULL when none completed)"),
	R("util_pct", "% of the interval with I/O in flight (io_ticks delta, at most 100)"),
};

static const struct column network_interface_stats[] = {
	TS,
	S("interface_name", "network interface in the agent's network namespace"),
	I("rx_bytes", "bytes received since the interface appeared"),
	I("rx_packets", "packets received"),
	I("rx_errors", "receive errors"),
	I("rx_drops", "received packets dropped"),
	I("tx_bytes", "bytes sent"),
	I("tx_packets", "packets sent"),
	I("tx_errors", "transmit errors"),
	I("tx_drops", "packets dropped on transmit"),
	R("rx_bytes_per_sec", "bytes received per second over the interval (NULL: first reading or reset)"),
	R("rx_packets_per_sec", "packets received per second"),
	R("tx_bytes_per_sec", "bytes sent per second"),
	R("tx_packets_per_sec", "packets sent per second"),
	R("rx_errors_per_sec", "receive errors per second"),
	R("rx_drops_per_sec", "receive drops per second"),
	R("tx_errors_per_sec", "transmit errors per second"),
	R("tx_drops_per_sec", "transmit drops per second"),
};

static const struct column tcp_stats[] = {
	TS,
	I("established", "TCP sockets (IPv4 + IPv6) in ESTABLISHED"),
	I("syn_sent", "in SYN_SENT"),
	I("syn_recv", "in SYN_RECV (request sockets included)"),
	I("fin_wait1", "in FIN_WAIT1"),
	I("fin_wait2", "in FIN_WAIT2 (time-wait sockets in that substate included)"),
	I("time_wait", "in TIME_WAIT"),
	I("close", "in CLOSE"),
	I("close_wait", "in CLOSE_WAIT"),
	I("last_ack", "in LAST_ACK"),
	I("listen", "in LISTEN"),
	I("closing", "in CLOSING"),
	I("total", "all of the above"),
	S("source", "'sock_diag' (netlink) or 'proc' (/proc/net/tcp and tcp6)"),
};

static const struct column tcp_retransmit_stats[] = {
	TS,
	I("retrans_segs", "RetransSegs: segments retransmitted since boot (/proc/net/snmp)"),
	I("out_segs", "OutSegs: segments sent since boot"),
	I("in_segs", "InSegs: segments received since boot"),
	I("active_opens", "ActiveOpens: connections opened by connect()"),
	I("passive_opens", "PassiveOpens: connections accepted"),
	I("attempt_fails", "AttemptFails: connection attempts that failed"),
	I("estab_resets", "EstabResets: established connections reset"),
	I("curr_estab", "CurrEstab: connections in ESTABLISHED or CLOSE_WAIT now"),
	I("in_errs", "InErrs: segments received in error"),
	I("out_rsts", "OutRsts: segments sent with RST"),
	R("interval_ms", "ms since the previous reading (NULL on the first)"),
	I("retrans_segs_delta", "RetransSegs in the interval (NULL: first reading or reset)"),
	I("out_segs_delta", "OutSegs in the interval"),
	R("retransmit_ratio", "retrans_segs_delta / out_segs_delta (0.01 = 1%; NULL when nothing was sent)"),
};

static const struct column pressure_metrics[] = {
	TS,
	S("resource", "'cpu', 'memory', 'io' or 'irq' (/proc/pressure/<resource>)"),
	R("some_avg10", "% of the last 10 s in which some task stalled on the resource"),
	R("some_avg60", "same over 60 s"),
	R("some_avg300", "same over 300 s"),
	I("some_total_us", "us some task stalled, since boot"),
	R("full_avg10", "% of the last 10 s in which all non-idle tasks stalled (NULL when not reported)"),
	R("full_avg60", "same over 60 s"),
	R("full_avg300", "same over 300 s"),
	I("full_total_us", "us all non-idle tasks stalled, since boot"),
	R("some_stall_pct", "% of this interval with some task stalled (from some_total_us; NULL on the first)"),
	R("full_stall_pct", "% of this interval with all non-idle tasks stalled (from full_total_us)"),
};

static const struct column vmstat_metrics[] = {
	TS,
	R("interval_ms", "ms since the previous reading; every other column counts events in it"),
	I("pgfault", "page faults, minor and major (NULL: counter reset)"),
	I("pgmajfault", "major page faults (needed I/O)"),
	I("pswpin", "pages swapped in"),
	I("pswpout", "pages swapped out"),
	I("pgpgin", "KiB paged in from block devices"),
	I("pgpgout", "KiB paged out to block devices"),
	I("pgscan", "pages scanned by reclaim (pgscan_kswapd + pgscan_direct)"),
	I("pgsteal", "pages reclaimed (pgsteal_kswapd + pgsteal_direct)"),
	I("oom_kill", "processes killed by the OOM killer"),
	I("allocstall", "allocations that stalled in direct reclaim (allocstall_* summed)"),
	I("thp_fault_alloc", "transparent huge pages allocated at fault time (NULL without THP)"),
};

static const struct column agent_actions[] = {
	TS,
	I("action_id", "the decision this row is about; one decision has a row per step"),
	I("cycle", "decision cycle that took it"),
	S("status", "'observed' (mode observe: recorded only), 'recommended', 'executing', 'done', 'failed', "
		    "'effective', 'ineffective', 'undone', 'explained' (the LLM's narrative arrived)"),
	S("mode", "'observe', 'recommend' or 'act'"),
	S("rule", "policy rule that matched"),
	S("action", "notify, renice, ionice, memory_high, cpu_weight, terminate or drop_caches"),
	S("trigger", "'leak', 'anomaly' or 'pressure'"),
	I("target_pid", "process acted on (NULL for host-wide actions)"),
	S("target_comm", "its command name"),
	S("target_cgroup", "its cgroup"),
	S("explanation", "what was found, in one sentence"),
	S("projection", "what happens without action, and the action's expected effect"),
	S("evidence", "structured evidence (JSON)"),
	S("result", "what executing, verifying or undoing did"),
	S("llm_narrative", "the LLM explainer's advisory text (status 'explained'), or why there is none"),
};

static const struct column agent_cycles[] = {
	TS,
	I("cycle", "cycle number since the agent started"),
	S("trigger", "'interval', 'leak' or 'anomaly' (a new finding starts a cycle at once)"),
	S("mode", "'observe', 'recommend' or 'act'"),
	I("findings", "leak suspects, anomalies and pressure findings considered"),
	I("decisions", "rules that matched a target"),
	I("observe_us", "OBSERVE: µs"),
	I("explain_us", "EXPLAIN: µs"),
	I("simulate_us", "SIMULATE: µs"),
	I("decide_us", "DECIDE: µs"),
	I("execute_us", "EXECUTE: µs"),
	I("verify_us", "VERIFY: µs"),
	I("processes", "processes in the latest per-process rows"),
	S("summary", "what the cycle saw and did, in one line"),
};

static const struct column anomalies[] = {
	TS,
	S("metric", "metric name, e.g. 'io.read_p95_us{device=vda}' (docs/detection.md lists them)"),
	R("value", "the value that was judged anomalous"),
	R("expected", "what the detector expected at that moment"),
	R("low", "lowest value a single sample could take without being a dip"),
	R("high", "highest value a single sample could take without being a spike"),
	R("usual", "the learnt baseline's median (for this hour of day when a profile exists); NULL while unlearnt"),
	R("score", "the metric's detector score in [0, 1] (>= 0.5 is a detection)"),
	R("confidence", "host-level confidence in [0, 1]: scores of every metric group abnormal together"),
	S("severity", "'alert' when metrics of at least two groups were abnormal together, else 'notice'"),
	S("kind", "'high' (spike, jump up), 'low' (dip, drop) or 'pattern' (burst, shift, changed rhythm)"),
	I("correlated", "other metrics abnormal within detect.window of this one"),
	S("correlated_metrics", "their names, comma separated (NULL when none)"),
	S("explanation", "in words, e.g. 'read p95 on vda is 48 ms, 9.6x its usual 5 ms for this hour'"),
};

static const struct column baselines[] = {
	TS,
	S("metric", "metric name (as in anomalies.metric)"),
	S("source", "'agent' (learnt online with decay) or 'learn' (ksight baseline learn)"),
	S("unit", "unit of every value of this row: us, ms, pct, per_s, B/s, kB, kB/s or '' (a count)"),
	I("from_ts", "first sample these statistics cover, ns since the Unix epoch"),
	I("to_ts", "last sample they cover"),
	R("samples", "samples behind them (agent: decayed weight)"),
	R("half_life_s", "agent: half-life of the decay in seconds; NULL for 'learn'"),
	R("mean", "mean"),
	R("sd", "standard deviation"),
	R("median", "median"),
	R("mad", "median absolute deviation from the median"),
	R("p05", "5th percentile"),
	R("p95", "95th percentile"),
	R("min", "smallest value seen"),
	R("max", "largest value seen"),
	S("profile", "time-of-day profile, JSON [[hour, samples, median, p95], ...] (local hours; NULL: too short a capture)"),
};

static const struct column memory_growth_events[] = {
	TS,
	I("pid", "process id (thread group id)"),
	S("comm", "command name"),
	I("process_start", "ns since the Unix epoch when the process started (with pid, names the process)"),
	I("cgroup_id", "id of the memory cgroup (v1 memory controller on hybrid systems, else cgroup2); NULL when unknown"),
	S("cgroup", "memory cgroup path"),
	S("status", "'watching' (leak-shaped growth that may still be a warm-up: low confidence, not a suspect), "
		    "'suspect' (leak found, or its pattern, rate or confidence changed), 'resolved' (growth stopped or "
		    "was freed), 'exited' (the process exited or exec'd while suspected or watched)"),
	S("pattern", "'linear', 'accelerating', 'oscillating' (runs of growth with pauses) or 'burst' (rare large jumps)"),
	R("growth_rate_bytes_per_s", "net growth of RSS + swap, bytes/s (the current rate when accelerating)"),
	I("rss_bytes", "resident set: anon + file + shmem"),
	I("anon_bytes", "resident anonymous memory"),
	I("file_bytes", "resident file-backed memory"),
	I("shmem_bytes", "resident shared memory"),
	I("swap_bytes", "swapped out"),
	R("confidence", "0 to 1; at least 0.5 while suspected, below 0.5 while watched"),
	I("limit_bytes", "the memory cgroup limit that applies (smallest up to the root); NULL when unlimited"),
	S("limit_source", "'cgroup' (projected against limit_bytes) or 'memavailable' (unlimited: against MemAvailable)"),
	I("headroom_bytes", "bytes left: limit - cgroup usage, or MemAvailable"),
	R("time_to_limit_s", "seconds until the headroom is used up at this rate; NULL when not growing (resolved, exited)"),
	I("growth_start", "ns since the Unix epoch when the growth under suspicion began"),
	I("samples", "RSS samples the detector had for the process (at most one per interval, plus jumps)"),
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

static const struct column boots[] = {
	I("timestamp", "when an agent or ksight run started collecting into this database (its first tick), ns since the Unix epoch"),
	S("boot_id", "the kernel's boot id (/proc/sys/kernel/random/boot_id): every row from this timestamp to the next boots row was taken during this boot"),
	S("host", "host name (uname -n)"),
	S("kernel", "kernel release (uname -r)"),
	I("boot_time", "when the host booted, ns since the Unix epoch (the wall clock minus CLOCK_BOOTTIME)"),
	S("ksight_version", "ksight version"),
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
	      "One row per syscall slower than tracers.syscall.slow_threshold, its latency split by where the time went.", syscall_events),
	TABLE(T_SYSCALL_STATS, "syscall_stats",
	      "Per interval and syscall: count, errors and latency percentiles of every call.",
	      syscall_stats),
	TABLE(T_IO_LATENCY_STATS, "io_latency_stats",
	      "Per interval and disk: block I/O count, bytes and latency percentiles per operation.",
	      io_latency_stats),
	TABLE(T_SCHED_EVENTS, "sched_events",
	      "Per interval: run-queue latency distribution and context switches.", sched_events),
	TABLE(T_SCHED_LATENCY_EVENTS, "sched_latency_events",
	      "One row per run-queue wait above tracers.sched.slow_threshold.", sched_latency_events),
	TABLE(T_PROCESS_CPU_STATS, "process_cpu_stats",
	      "Per interval and process that ran: on-CPU time, switches and run-queue wait.",
	      process_cpu_stats),
	TABLE(T_PAGE_FAULT_EVENTS, "page_fault_events",
	      "Sampled page faults (one in tracers.pagefault.sample_every) with type, access and latency.",
	      page_fault_events),
	TABLE(T_PAGE_FAULT_STATS, "page_fault_stats",
	      "Per interval and process: every page fault counted by type and access.", page_fault_stats),
	TABLE(T_TCP_RETRANSMIT_EVENTS, "tcp_retransmit_events",
	      "One row per TCP segment retransmitted.", tcp_retransmit_events),
	TABLE(T_CPU_METRICS, "cpu_metrics",
	      "/proc/stat: CPU time split per CPU and in total, over each interval (first rows one tick after start).",
	      cpu_metrics),
	TABLE(T_BLOCK_STATS, "block_stats",
	      "/proc/diskstats per whole device that has done I/O: counters and per-second rates.",
	      block_stats),
	TABLE(T_NETWORK_INTERFACE_STATS, "network_interface_stats",
	      "/proc/net/dev per interface: counters and per-second rates.", network_interface_stats),
	TABLE(T_TCP_STATS, "tcp_stats",
	      "TCP sockets per state (IPv4 + IPv6): a census every scrapers.net_tcp.interval (10 s by default, a whole number of ticks).",
	      tcp_stats),
	TABLE(T_TCP_RETRANSMIT_STATS, "tcp_retransmit_stats",
	      "/proc/net/snmp TCP counters every interval, with retransmits per interval.",
	      tcp_retransmit_stats),
	TABLE(T_PRESSURE_METRICS, "pressure_metrics",
	      "Pressure stall information (/proc/pressure/*) per resource every interval.",
	      pressure_metrics),
	TABLE(T_VMSTAT_METRICS, "vmstat_metrics",
	      "/proc/vmstat highlights: events per interval (first row one tick after start).",
	      vmstat_metrics),
	TABLE(T_AGENT_ACTIONS, "agent_actions",
	      "The remediation agent's audit trail: every decision, and every step it went through.", agent_actions),
	TABLE(T_AGENT_CYCLES, "agent_cycles",
	      "One row per remediation cycle with the time each phase took.", agent_cycles),
	TABLE(T_ANOMALIES, "anomalies",
	      "Anomalies the agent detected: metric, value, expected range, scores, correlated metrics, explanation.",
	      anomalies),
	TABLE(T_BASELINES, "baselines",
	      "Snapshots of per-metric baseline statistics (the latest row per metric is the current baseline).",
	      baselines),
	TABLE(T_MEMORY_GROWTH_EVENTS, "memory_growth_events",
	      "Leak suspects: a row when a process's memory growth is found to be a leak, when its pattern, rate or "
	      "confidence change, and when it ends.",
	      memory_growth_events),
	TABLE(T_RUN_PROCESSES, "run_processes",
	      "ksight run: one row per process of a traced job, with what it cost.", run_processes),
	TABLE(T_RUNS, "runs", "ksight run: one row per run: command, host, times, exit status, counts.", runs),
	TABLE(T_BOOTS, "boots",
	      "One row each time a collector starts on this database: which host and which boot the rows after it come from (ksight export --table writes them as host and boot_id).", boots),
};

const struct schema_index schema_indexes[] = {
	{ "process_events_pid", T_PROCESS_EVENTS, "pid, timestamp" },
	{ "syscall_events_pid", T_SYSCALL_EVENTS, "pid, timestamp" },
	{ "process_cpu_stats_pid", T_PROCESS_CPU_STATS, "pid, timestamp" },
	{ "page_fault_stats_pid", T_PAGE_FAULT_STATS, "pid, timestamp" },
	{ "memory_growth_events_pid", T_MEMORY_GROWTH_EVENTS, "pid, timestamp" },
};

const unsigned schema_nindexes = sizeof(schema_indexes) / sizeof(schema_indexes[0]);

int schema_column(const struct table *t, const char *name)
{
	for (unsigned c = 0; t && c < t->ncolumns; c++)
		if (!strcmp(t->columns[c].name, name))
			return (int)c;
	return -1;
}

const struct table *schema_find(const char *name)
{
	for (int i = 0; i < T_COUNT; i++)
		if (!strcmp(schema_tables[i].name, name))
			return &schema_tables[i];
	return NULL;
}
