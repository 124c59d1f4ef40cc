# Shared helpers for bench/*.sh (sourced).  Benchmarks print markdown and
# never pass or fail; they need root for BPF.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
KSIGHT=${KSIGHT:-$TOP/ksight}
HELPERS=${HELPERS:-$TOP/.output/t/helpers}
BENCH_BIN=${BENCH_BIN:-$TOP/.output/bench}
BTMP=$(mktemp -d /tmp/ksight-bench.XXXXXX)
_bench_pids=""
_bench_exit() {
	for p in $_bench_pids; do kill -INT "$p" 2>/dev/null || true; done
	rm -rf "$BTMP"
}
trap _bench_exit EXIT

# median: the middle of the numbers on stdin
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }

# start_agent LOG ARGS...: starts ksight agent, waits until its collectors
# run; sets AGENT_PID.
start_agent() {
	log=$1; shift
	"$KSIGHT" agent "$@" 2>"$log" &
	AGENT_PID=$!
	_bench_pids="$_bench_pids $AGENT_PID"
	i=0
	while ! grep -qs "collecting into" "$log"; do
		sleep 0.05
		i=$((i + 1))
		[ $i -lt 200 ] || { echo "agent did not start: $(cat "$log")" >&2; exit 1; }
	done
	sleep 0.3
}

stop_agent() { kill -INT "$AGENT_PID"; wait "$AGENT_PID" || true; }

# wait_line FILE PATTERN: waits (up to 20 s) until FILE has a line matching PATTERN
wait_line() {
	i=0
	while ! grep -qs "$2" "$1"; do
		sleep 0.05
		i=$((i + 1))
		[ $i -lt 400 ] || { echo "timed out waiting for '$2' in $1" >&2; return 1; }
	done
}

# Classic tracepoints (bpftrace, libbpf-tools) need tracefs.
mount_tracefs() {
	[ -e /sys/kernel/tracing/events ] || mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || true
}

# foreign_hooks PATTERN: how many BPF programs other processes have on the
# tracepoints matching PATTERN (an ERE of names, e.g. 'sys_enter|sys_exit').
# Another agent's program on a hook changes what every run on this machine
# measures (the empty floor is then already paid), so the cost benches wait
# for the hooks to be free.
foreign_hooks() {
	bpftool perf list 2>/dev/null | awk -v re="^($1)\$" '$NF ~ re' | wc -l
}

# wait_quiet PATTERN: waits up to QUIET_WAIT seconds (default 60) until no
# other process has a program on those hooks; false when they stay busy.
wait_quiet() {
	i=0
	while [ "$(foreign_hooks "$1")" -gt 0 ]; do
		[ $i -lt $((${QUIET_WAIT:-60} * 4)) ] || return 1
		sleep 0.25
		i=$((i + 1))
	done
}

# load_avg: the 1-minute load average now
load_avg() { cut -d' ' -f1 /proc/loadavg; }

# free_port: a TCP port free on 127.0.0.1 now
free_port() {
	perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1:0", ReuseAddr => 1)->sockport, "\n"'
}

# node_exporter_cmd: Debian's node_exporter binary, or nothing
node_exporter_cmd() {
	for c in prometheus-node-exporter node_exporter; do command -v $c >/dev/null && echo $c && return; done
	true
}

q() { "$KSIGHT" query --db "$1" --csv "$2" | sed -n 2p; }

# make_big_db PATH ROWS: a KernelSight database holding ROWS process_events
# rows (plus what a short agent run writes), for benches that must show a
# large database costs them nothing.
make_big_db() {
	"$KSIGHT" agent --db "$1" --duration 0.5 >/dev/null 2>&1
	sqlite3 "$1" "PRAGMA journal_mode=WAL; BEGIN;
		WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < $2)
		INSERT INTO process_events (timestamp, event, pid, ppid, uid, comm, cgroup)
		SELECT 1790000000000000000 + x * 1000, 'exec', x % 32768, 1, 0, 'bench', '/' FROM c;
		COMMIT;" >/dev/null
}
