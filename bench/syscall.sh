#!/bin/sh
# Syscall tracing cost on a getppid loop pinned to one CPU, side by side in
# one run: the floors (empty programs; the clock's own cost; a task-storage
# timestamp; the syscall tracer's design without its histograms: a per-CPU
# slot moved to task storage at a switch inside the call), the ksight
# syscall tracer alone (every call into the per-syscall histograms,
# slow-call events with their on-CPU / run-queue / blocked / sleep split),
# libbpf-tools syscount -L and the bpftrace histogram one-liner.
#
# The loop reports its own CPU time per call: the programs run in its
# context, and on a shared machine wall time would also count the time it
# waits for the CPU.  Every measurement is paired with one of the bare loop
# just before it and the cost is the median of the paired differences, so
# a machine that changes speed during the run moves both sides.  A pair is
# only measured once no other process has a program on sys_enter/sys_exit
# (another agent there would already pay the floor for us); pairs measured
# while one stayed are left out and counted.
. "$(dirname "$0")/lib.sh"
N=${SYSCALL_CALLS:-1000000}
ROUNDS=${SYSCALL_ROUNDS:-5}
CPU=$(( $(nproc) - 1 ))
HOOKS='sys_enter|sys_exit'
mount_tracefs

printf 'detect:\n  enabled: false\nhttp:\n  enabled: false\ntracers:\n  rss: {enabled: false}\n  proc: {enabled: false}\n  blockio: {enabled: false}\n  sched: {enabled: false}\n  pagefault: {enabled: false}\n  tcp: {enabled: false}\nscrapers:\n' > "$BTMP/syscall.yaml"
for s in meminfo loadavg stat diskstats net_dev net_tcp net_snmp pressure vmstat; do
	printf '  %s: {enabled: false}\n' "$s" >> "$BTMP/syscall.yaml"
done

# The tracer at full fidelity (no budget), the same with its programs
# timing themselves (what the overhead budget reads), and under the
# default budget once it samples: a second storm on another CPU keeps the
# agent over budget while the measured loop runs.
printf 'agent:\n  max_overhead_pct: 0\n' | cat - "$BTMP/syscall.yaml" > "$BTMP/full.yaml"
printf 'agent:\n  max_overhead_pct: 100\n' | cat - "$BTMP/syscall.yaml" > "$BTMP/stats.yaml"
cp "$BTMP/syscall.yaml" "$BTMP/budget.yaml"
WARM_CPU=$(( CPU > 0 ? CPU - 1 : 0 ))

KEYS="floor ktime clock slot ksight stats budget"
missing=""
if ! command -v syscount >/dev/null; then
	missing="$missing syscount -L: not installed (Debian: libbpf-tools)."
elif [ ! -e /sys/kernel/tracing/events ]; then
	missing="$missing syscount -L: tracefs is not mounted at /sys/kernel/tracing and could not be (it attaches classic tracepoints)."
else
	KEYS="$KEYS syscount"
fi
if command -v bpftrace >/dev/null; then KEYS="$KEYS bpftrace"; else missing="$missing bpftrace: not installed."; fi

loop() { taskset -c "$CPU" "$HELPERS/sysloop" "$N" | awk '{print $4}'; }
floor_loop() { "$BENCH_BIN/floor" "$@" -- taskset -c "$CPU" "$HELPERS/sysloop" "$N" | awk '{print $4}'; }

# measure KEY: the loop's CPU ns per call with KEY attached
measure() {
	case $1 in
	floor) floor_loop ;;
	ktime|clock|slot) floor_loop "--$1" ;;
	ksight|stats)
		[ "$1" = ksight ] && cfg=full || cfg=stats
		start_agent "$BTMP/agent.log" --config "$BTMP/$cfg.yaml" --db "$BTMP/syscall.db"
		loop
		stop_agent
		rm -f "$BTMP/syscall.db"* ;;
	budget)
		start_agent "$BTMP/agent.log" --config "$BTMP/budget.yaml" --db "$BTMP/syscall.db"
		taskset -c "$WARM_CPU" "$HELPERS/sysloop" 1000000000 >/dev/null &
		warm=$!
		i=0
		until [ "$(q "$BTMP/syscall.db" "SELECT coalesce(max(sample_factor), 0) FROM collector_stats WHERE collector = 'syscall'" 2>/dev/null)" -gt 1 ] 2>/dev/null || [ $i -ge 600 ]; do
			sleep 0.1; i=$((i + 1))
		done
		loop
		q "$BTMP/syscall.db" "SELECT sample_factor FROM collector_stats WHERE collector = 'syscall' ORDER BY timestamp DESC LIMIT 1" >> "$BTMP/factors"
		kill "$warm"; wait "$warm" 2>/dev/null || true   # 143: killed, as meant (set -e)
		stop_agent
		rm -f "$BTMP/syscall.db"* ;;
	syscount)
		stdbuf -oL syscount -L > "$BTMP/syscount.log" 2>&1 &
		sp=$!
		wait_line "$BTMP/syscount.log" "Tracing" && loop
		kill -INT $sp; wait $sp 2>/dev/null || true ;;
	bpftrace)
		bpftrace -e 'tracepoint:raw_syscalls:sys_enter { @s[tid] = nsecs; }
			tracepoint:raw_syscalls:sys_exit /@s[tid]/ { @h[args->id] = hist(nsecs - @s[tid]); delete(@s[tid]); }' \
			> "$BTMP/bpftrace.log" 2>&1 &
		bp=$!
		wait_line "$BTMP/bpftrace.log" "Attaching" && sleep 1 && loop
		kill -INT $bp; wait $bp 2>/dev/null || true ;;
	esac
}

load_start=$(load_avg)
busy=0
for r in $(seq "$ROUNDS"); do
	# a different order every round, so slow drift of the machine spreads
	keys=$(echo $KEYS | tr ' ' '\n' | awk -v r="$r" '{ k[NR] = $0 } END { for (i = 0; i < NR; i++) print k[(i + r) % NR + 1] }')
	for k in $keys; do
		if [ "${SYSCALL_ALLOW_FOREIGN:-}" = 1 ]; then
			foreign=$(foreign_hooks "$HOOKS")     # measured anyway, and said so below
		elif ! wait_quiet "$HOOKS"; then
			busy=$((busy + 1))
			continue
		fi
		b=$(loop)
		v=$(measure "$k")
		[ -n "$v" ] && echo "$k $b $v" >> "$BTMP/res"
	done
done
load_end=$(load_avg)

# added KEY: median over its pairs of (with - without); base KEY: median without
added() { awk -v k="$1" '$1 == k { print $3 - $2 }' "$BTMP/res" | median; }
base=$(awk '{ print $2 }' "$BTMP/res" | median)
floor=$(added floor)
sc=$(added syscount)
bt=$(added bpftrace)
echo "## Syscall tracing overhead"
echo
echo "getppid loop pinned to CPU $CPU, $N calls per measurement, $ROUNDS rounds; the loop's CPU time per call. The bare loop: $base ns per call. Load average $load_start at the start, $load_end at the end."
echo
echo "| what is attached | added ns per call | vs empty floor | vs syscount -L | vs bpftrace | pairs |"
echo "|---|---|---|---|---|---|"
for k in floor ktime clock slot ksight stats budget syscount bpftrace; do
	a=$(added $k)
	[ -n "$a" ] || continue
	n=$(awk -v k="$k" '$1 == k' "$BTMP/res" | wc -l)
	awk -v k="$k" -v a="$a" -v f="$floor" -v s="${sc:-0}" -v t="${bt:-0}" -v n="$n" 'BEGIN {
		name["floor"] = "empty tp_btf programs (the floor)";
		name["ktime"] = "clock reads alone: one at entry, one at exit";
		name["clock"] = "clock floor: task-storage timestamp + latency";
		name["slot"] = "slot floor: per-CPU slot timestamp, to task storage at a switch inside the call (the tracer'"'"'s design)";
		name["ksight"] = "**ksight syscall tracer** (histograms, slow calls with their split; no budget)";
		name["stats"] = "ksight syscall tracer + self-timing (a 100% budget: the programs time 1 run in 64, what the budget reads; never sheds)";
		name["budget"] = "**ksight syscall tracer, sampled under the default 1% budget** (counts exact)";
		name["syscount"] = "libbpf-tools syscount -L"; name["bpftrace"] = "bpftrace histogram one-liner";
		r1 = f > 0 ? sprintf("%.2fx", a / f) : "-"
		r2 = s > 0 ? sprintf("%.2fx", a / s) : "-"
		r3 = t > 0 ? sprintf("%.2fx", a / t) : "-"
		printf "| %s | %+.1f | %s | %s | %s | %d |\n", name[k], a, r1, r2, r3, n }'
done
echo
[ -s "$BTMP/factors" ] && echo "Under the budget the syscall tracer timed 1 call in $(sort -n "$BTMP/factors" | tr '\n' ' ')(the factor in force at the end of each measured loop; another getppid storm on CPU $WARM_CPU kept the agent over budget)." && echo
echo "Added: the median over rounds of (loop with it attached - the bare loop just before). Measured only while no other process had a program on sys_enter/sys_exit; ${busy} measurements were left out because one stayed for ${QUIET_WAIT:-60} s."
[ -z "${foreign:-}" ] || echo "SYSCALL_ALLOW_FOREIGN=1: measured while other processes had programs on sys_enter/sys_exit ($foreign at the last measurement): every row, the floor included, pays for theirs too, so the ratios are compressed."
[ -z "$missing" ] || echo "Missing peers:$missing"
[ -z "${BENCH_RAW:-}" ] || cat "$BTMP/res" >&2
