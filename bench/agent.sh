#!/bin/sh
# The whole agent: time to the first stored row, memory (RSS, PSS, BPF
# maps) with the foundation collectors and with every collector, and the
# slowdown it causes on a CPU-bound compile and on a fork/exec/open-heavy
# shell loop, against no agent, in alternating rounds.
. "$(dirname "$0")/lib.sh"
ROUNDS=${AGENT_ROUNDS:-5}
# AGENT_WORKLOADS: which slowdowns to measure (compile forkexec); AGENT_QUICK=1
# skips the first-row and memory parts (for checking a change to the tracers).
WORKLOADS=${AGENT_WORKLOADS:-compile forkexec}
QUICK=${AGENT_QUICK:-}
load_start=$(load_avg)

now_ns() { date +%s%N; }

if [ -z "$QUICK" ]; then
# --- time to first stored row ---
t0=$(now_ns)
"$KSIGHT" agent --db "$BTMP/first.db" 2>"$BTMP/first.log" &
ap=$!
_bench_pids="$_bench_pids $ap"
first=""
i=0
while [ $i -lt 500 ]; do
	n=$("$KSIGHT" query --db "$BTMP/first.db" --csv "select count(*) from memory_metrics" 2>/dev/null | sed -n 2p)
	if [ "${n:-0}" -gt 0 ]; then first=$(( ($(now_ns) - t0) / 1000000 )); break; fi
	sleep 0.01
	i=$((i + 1))
done
kill -INT $ap; wait $ap || true

# --- memory and idle CPU, side by side with node_exporter ---
MEM_S=${AGENT_MEM_SECONDS:-20}
clk=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# measure LABEL PID [URL]: RSS, PSS, peak and CPU of PID over MEM_S seconds,
# fetching URL once a second meanwhile (a Prometheus scrape)
measure() {
	t0=$(cpu_ticks "$2"); s=0
	while [ $s -lt "$MEM_S" ]; do
		[ -z "${3:-}" ] || curl -sf -o /dev/null "$3" || true
		sleep 1; s=$((s + 1))
	done
	t1=$(cpu_ticks "$2")
	rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$2/status")
	pss=$(awk '/^Pss:/ {s += $2} END {print s}' "/proc/$2/smaps")
	hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$2/status")
	cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$clk" -v s="$MEM_S" 'BEGIN { printf "%.2f", (b - a) * 100 / hz / s }')
}
mem() {  # mem LABEL CONFIG ARGS...
	label=$1; config=$2; shift 2
	start_agent "$BTMP/mem.log" --db "$BTMP/mem.db" ${config:+--config "$config"} "$@"
	url=""
	port=$(sed -n 's|.*dashboard on http://\([^/]*\)/.*|\1|p' "$BTMP/mem.log")
	[ -z "$port" ] || url="http://$port/metrics"
	measure "$label" "$AGENT_PID" "$url"
	# what the agent holds against its memory caps (ksight status shows the same)
	[ -z "$url" ] || curl -sf "${url%/metrics}/api/health" | jq -r '.memory | "heap \(.heap.in_use_bytes / 1048576 * 10 | round / 10) MiB in use, \(.heap.free_bytes / 1048576 * 10 | round / 10) free; SQLite \(.sqlite.used_bytes / 1048576 * 10 | round / 10) MiB (page caches capped at \(.sqlite.page_cache_cap_bytes / 1048576 * 10 | round / 10)); answer cache \(.http_cache.used_bytes / 1024 | round) of \(.http_cache.cap_bytes / 1024) KiB; detector windows \(.detect.metrics // 0) of \(.detect.max_metrics // 0) metrics, \((.detect.used_bytes // 0) / 1048576 * 10 | round / 10) MiB"' > "$BTMP/caps.txt" 2>/dev/null || true
	stop_agent
	maps=$(q "$BTMP/mem.db" "select coalesce(sum(m), 0) from (select max(map_bytes) m from collector_stats where kind='tracer' group by collector)")
	awk -v l="$label" -v r="$rss" -v p="$pss" -v h="$hwm" -v m="$maps" -v c="$cpu" \
		'BEGIN { printf "| %s | %.1f | %.1f | %.1f | %.1f | %s%% |\n", l, r / 1024, p / 1024, h / 1024, m / 1048576, c }' >> "$BTMP/mem.md"
	rm -f "$BTMP/mem.db"*
}
printf 'detect:\n  enabled: false\ntracers:\n' > "$BTMP/foundation.yaml"
for t in syscall blockio sched pagefault tcp rss; do printf '  %s: {enabled: false}\n' "$t" >> "$BTMP/foundation.yaml"; done
printf 'scrapers:\n' >> "$BTMP/foundation.yaml"
for s in stat diskstats net_dev net_tcp net_snmp pressure vmstat; do printf '  %s: {enabled: false}\n' "$s" >> "$BTMP/foundation.yaml"; done
printf 'detect:\n  enabled: false\n' > "$BTMP/collectors.yaml"
mem "foundation collectors (proc tracer, meminfo, loadavg)" "$BTMP/foundation.yaml" --no-http
mem "every collector (7 tracers, 9 scrapers)" "$BTMP/collectors.yaml" --no-http
mem "the default agent: every collector, detection, remediation (observe), HTTP scraped every second" ""
NE=$(node_exporter_cmd)
if [ -n "$NE" ]; then
	port=$(free_port)
	$NE --web.listen-address="127.0.0.1:$port" >"$BTMP/ne.log" 2>&1 &
	ne=$!
	_bench_pids="$_bench_pids $ne"
	sleep 1
	measure node_exporter "$ne" "http://127.0.0.1:$port/metrics"
	kill $ne; wait $ne 2>/dev/null || true
	awk -v r="$rss" -v p="$pss" -v h="$hwm" -v c="$cpu" -v v="$($NE --version 2>&1 | sed -n 's/.*version \([0-9.]*\).*/\1/p' | head -1)" \
		'BEGIN { printf "| node_exporter %s (Debian), scraped every second | %.1f | %.1f | %.1f | - | %s%% |\n", v, r / 1024, p / 1024, h / 1024, c }' >> "$BTMP/mem.md"
fi

if [ "$ROUNDS" = 0 ]; then   # AGENT_ROUNDS=0: the memory part only
	cat "$BTMP/mem.md"
	echo
	echo "The default agent against its memory caps: $(cat "$BTMP/caps.txt")."
	exit 0
fi
fi

# --- overhead ---
SRCS=$(find "$TOP/src" -name '*.c' ! -name '*.bpf.c' | sort)
{
	echo 'for f in "$@"; do'
	echo "	gcc -O2 -std=gnu11 -D_GNU_SOURCE -I'$TOP/src' -I'$TOP/.output/bpf' -I'$TOP/.output/bench' -c \"\$f\" -o '$BTMP/x.o'"
	echo 'done'
} > "$BTMP/compile.sh"
# The fork/exec storm: N iterations of a shell loop; the main table's storm
# lasts AGENT_STORM_SECONDS (8) bare on any machine, so that most of it runs
# with the overhead budget settled, as a storm that goes on would.
printf 'n=$1\ni=0\nwhile [ $i -lt $n ]; do cat /etc/hostname > /dev/null; i=$((i + 1)); done\n' > "$BTMP/storm.sh"
/usr/bin/time -f "%e" -o "$BTMP/time" sh "$BTMP/storm.sh" 500
STORM_N=$(awk -v s="${AGENT_STORM_SECONDS:-8}" '{ n = int(500 * s / ($1 > 0.01 ? $1 : 0.01)); print (n > 3000 ? n : 3000) }' "$BTMP/time")
printf 'exec sh %s %s\n' "$BTMP/storm.sh" "$STORM_N" > "$BTMP/forkexec.sh"
printf 'exec sh %s 3000\n' "$BTMP/storm.sh" > "$BTMP/forkexec_short.sh"
# timed NAME [PREFIX...]: "WALL_MS CPU_MS" of one run of the workload (CPU:
# user + system of it and its children, where the BPF programs run on its
# behalf), run under PREFIX (the floor programs' loader)
timed() {
	w=$1; shift
	"$@" /usr/bin/time -f "%e %U %S" -o "$BTMP/time" sh "$BTMP/$w.sh" $SRCS
	awk '{ printf "%d %d\n", $1 * 1000, ($2 + $3) * 1000 }' "$BTMP/time"
}
for r in $(seq "$ROUNDS"); do
	for w in $WORKLOADS; do echo "$w off $(timed $w)" >> "$BTMP/ov"; done
	# the floor: empty programs on every hook the agent attaches
	for w in $WORKLOADS; do echo "$w floor $(timed $w "$BENCH_BIN/floor" --agent --)" >> "$BTMP/ov"; done
	start_agent "$BTMP/ov.log" --db "$BTMP/ov.db"
	for w in $WORKLOADS; do echo "$w on $(timed $w)" >> "$BTMP/ov"; done
	stop_agent
	lost=$(q "$BTMP/ov.db" "select coalesce(sum(drops),0) from collector_stats")
	echo "lost $lost" >> "$BTMP/ov"
	rm -f "$BTMP/ov.db"*
done
med() { awk -v w="$1" -v s="$2" -v c="${3:-3}" '$1 == w && $2 == s { print $c }' "$BTMP/ov" | median; }

# --- where the fork/exec cost goes: one tracer at a time ---
TRACERS="proc syscall blockio sched pagefault tcp rss"
for only in $TRACERS; do
	{ printf 'detect:\n  enabled: false\ntracers:\n'
	  for t in $TRACERS; do [ "$t" = "$only" ] || printf '  %s: {enabled: false}\n' "$t"; done; } > "$BTMP/only.yaml"
	for r in $(seq "$ROUNDS"); do
		off=$(timed forkexec_short)
		start_agent "$BTMP/only.log" --db "$BTMP/only.db" --no-http --config "$BTMP/only.yaml"
		on=$(timed forkexec_short)
		stop_agent
		rm -f "$BTMP/only.db"*
		echo "$on $off" | awk '{ printf "%.4f %.4f\n", $1 / $3, $2 / $4 }' >> "$BTMP/only.$only"
	done
done
faults=$(perf stat -x, -e page-faults,raw_syscalls:sys_enter sh -c 'i=0; while [ $i -lt 100 ]; do cat /etc/hostname > /dev/null; i=$((i + 1)); done' 2>&1 >/dev/null |
	awk -F, '/page-faults/ { f = $1 } /sys_enter/ { s = $1 } END { if (f) printf "%d page faults and %d syscalls", f / 100, s / 100 }') || true

echo "## The whole agent"
if [ -z "$QUICK" ]; then
echo
echo "Time from starting \`ksight agent\` to its first committed row: **${first:-?} ms** (first tick at a quarter interval)."
echo
echo "After $MEM_S s on an idle machine:"
echo
echo "| what runs | RSS MiB | PSS MiB | peak RSS MiB | BPF map memory MiB | CPU of one core |"
echo "|---|---|---|---|---|---|"
cat "$BTMP/mem.md"
echo
echo "The default agent against its memory caps (/api/health, ksight status): $(cat "$BTMP/caps.txt")."
echo
echo "RSS counts each ring buffer twice (the kernel maps its pages twice so records never wrap); PSS counts them once. The peak is libbpf parsing the kernel's BTF at start, given back once the tracers are loaded. BPF map memory is kernel memory, outside RSS except for the ring buffers."
fi
echo
echo "Load average $load_start at the start, $(load_avg) at the end."
echo
echo "| workload ($ROUNDS alternating rounds, medians) | no agent, wall ms | agent, wall ms | wall slowdown | no agent, CPU ms | floor, CPU ms | agent, CPU ms | floor's CPU slowdown | agent's CPU slowdown | agent vs floor |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for w in $WORKLOADS; do
	label=$([ $w = compile ] && echo "CPU-bound: gcc -O2 on the project's $(echo "$SRCS" | wc -l) C files" || echo "fork/exec/open: $STORM_N x cat /etc/hostname from a shell loop")
	awk -v l="$label" -v a="$(med $w off 3)" -v b="$(med $w on 3)" -v c="$(med $w off 4)" -v f="$(med $w floor 4)" -v d="$(med $w on 4)" \
		'BEGIN { printf "| %s | %d | %d | %+.1f%% | %d | %d | %d | %+.1f%% | %+.1f%% | %.2fx |\n", l, a, b, (b - a) * 100 / a, c, f, d, (f - c) * 100 / c, (d - c) * 100 / c, (f > c ? (d - c) / (f - c) : 0) }'
done
echo
echo "CPU is user + system time of the workload and its children: the tracers' programs run in their context, and it moves less than wall time with what else shares the machine. The floor is empty programs on every hook the default agent attaches, as many on each as it has (\`floor --agent\`: sys_enter, sys_exit, page_fault_user, rss_stat, the page-fault perf events, sched_switch x3, sched_wakeup x2, sched_wakeup_new, process fork, exec and exit x2, block_rq issue and complete, inet_sock_set_state, tcp_retransmit_skb): what the kernel's dispatch of the agent's programs costs before any of them does anything. \"agent vs floor\" is the agent's CPU slowdown over the floor's (noisy when the floor's is small). The fork/exec storm lasts about ${AGENT_STORM_SECONDS:-8} s bare, so the overhead budget settles within its first seconds (\`collector_stats\` during it: the syscall and pagefault tracers sampling)."
echo
echo "Events lost by the agent during these runs: $(awk '$1 == "lost" { s += $2 } END { print s + 0 }' "$BTMP/ov")."
echo
echo "Where the fork/exec cost goes: each tracer alone (no detection, no HTTP), median of $ROUNDS per-round ratios to no agent, on a storm of 3,000 iterations (about as long as the budget takes to react: mostly at full fidelity).${faults:+ One iteration of the loop is ${faults}.}"
echo
echo "| tracer alone | fork/exec wall slowdown | fork/exec CPU slowdown |"
echo "|---|---|---|"
for t in $TRACERS; do
	awk -v t="$t" -v w="$(awk '{ print $1 }' "$BTMP/only.$t" | median)" -v c="$(awk '{ print $2 }' "$BTMP/only.$t" | median)" \
		'BEGIN { printf "| %s | %+.1f%% | %+.1f%% |\n", t, (w - 1) * 100, (c - 1) * 100 }'
done
