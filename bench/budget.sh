#!/bin/sh
# The overhead budget (docs/budget.md) against the offered event rate: a
# getppid storm pinned to one CPU at several rates, and a page-fault storm
# (mmap / touch / munmap), each with nothing attached, with the default
# agent without a budget (agent.max_overhead_pct 0) and with the default
# budget (1%), beside the peers: libbpf-tools syscount -L, execsnoop +
# exitsnoop, runqlat, biolatency, and a bpftrace syscall histogram.
#
# Two figures per run: the workload's own CPU ns per event (the programs
# run in its context; paired with a bare run just before, median over
# rounds), and for ksight the share of the machine the agent measured for
# itself (its 'overhead' collector_stats rows: BPF run time plus its user
# and system time, % of interval x CPUs; median over the run), with the
# sampling factor it ended at.
. "$(dirname "$0")/lib.sh"
ROUNDS=${BUDGET_ROUNDS:-3}
SECONDS_PER_RUN=${BUDGET_SECONDS:-6}
RATES=${BUDGET_RATES:-"10000 100000 0"}      # calls/s; 0: as fast as possible
CPU=$(( $(nproc) - 1 ))
mount_tracefs

printf 'detect:\n  enabled: false\nhttp:\n  enabled: false\n' > "$BTMP/budget.yaml"
printf 'agent:\n  max_overhead_pct: 0\n' | cat - "$BTMP/budget.yaml" > "$BTMP/nobudget.yaml"

PEERS=""
missing=""
if ! command -v syscount >/dev/null; then missing="$missing libbpf-tools: not installed."
elif [ ! -e /sys/kernel/tracing/events ]; then missing="$missing libbpf-tools: tracefs is not mounted and could not be."
else PEERS="syscount snoop runqlat biolatency"; fi
if command -v bpftrace >/dev/null; then PEERS="$PEERS bpftrace"; else missing="$missing bpftrace: not installed."; fi

# Full-speed storms run for about SECONDS_PER_RUN s whatever this machine's
# speed: their sizes come from a short bare run first (a getppid costs
# 170 ns on one machine and 950 ns on another).
SYS_FULL=$(taskset -c "$CPU" "$HELPERS/sysloop" 2000000 | awk -v s="$SECONDS_PER_RUN" '{ printf "%d", s * 1e9 / $2 }')
FAULT_ROUNDS=$(taskset -c "$CPU" "$BENCH_BIN/faultloop" 256 500 | awk -v s="$SECONDS_PER_RUN" '{ printf "%d", s * 1e9 / ($3 * 256) }')

# workload W: prints the workload's CPU ns per event
#   W = sys:RATE (getppid, RATE calls/s, 0 = full speed) or faults
workload() {
	case $1 in
	sys:0) n=$SYS_FULL ;;
	sys:*) n=$(( ${1#sys:} * SECONDS_PER_RUN )) ;;
	esac
	case $1 in
	sys:*) taskset -c "$CPU" "$HELPERS/sysloop" "$n" "${1#sys:}" | awk '{ print $4 }' ;;
	faults) taskset -c "$CPU" "$BENCH_BIN/faultloop" 256 "$FAULT_ROUNDS" | awk '{ print $2 }' ;;
	esac
}

# with KEY W: the workload with KEY attached; for ksight also appends
# "KEY W pct factor" to $BTMP/agent
with() {
	case $1 in
	none) workload "$2" ;;
	ksight|budget)
		[ "$1" = ksight ] && cfg=nobudget || cfg=budget
		rm -f "$BTMP/b.db"*
		start_agent "$BTMP/agent.log" --config "$BTMP/$cfg.yaml" --db "$BTMP/b.db"
		t0=$(date +%s%N)
		workload "$2"
		t1=$(date +%s%N)
		stop_agent
		# the agent's rows of the ticks that ended inside the storm, its
		# first second (before the budget can act) left out
		win="timestamp > $t0 + 1000000000 AND timestamp <= $t1"
		pct=$(q "$BTMP/b.db" "SELECT printf('%.2f', overhead_pct) FROM collector_stats WHERE collector = 'overhead' AND $win ORDER BY overhead_pct LIMIT 1 OFFSET (SELECT count(*) / 2 FROM collector_stats WHERE collector = 'overhead' AND $win)")
		f=$(q "$BTMP/b.db" "SELECT max(sample_factor) FROM collector_stats WHERE kind = 'tracer' AND $win")
		echo "$1 $2 ${pct:-0} ${f:-1}" >> "$BTMP/agent" ;;
	syscount) peer "$2" syscount -L ;;
	snoop)
		stdbuf -oL execsnoop > "$BTMP/exec.log" 2>&1 &
		e=$!
		stdbuf -oL exitsnoop > "$BTMP/exit.log" 2>&1 &
		x=$!
		sleep 2
		workload "$2"
		kill -INT $e $x; wait $e $x 2>/dev/null || true ;;
	runqlat) peer "$2" runqlat ;;
	biolatency) peer "$2" biolatency ;;
	bpftrace)
		bpftrace -e 'tracepoint:raw_syscalls:sys_enter { @s[tid] = nsecs; }
			tracepoint:raw_syscalls:sys_exit /@s[tid]/ { @h[args->id] = hist(nsecs - @s[tid]); delete(@s[tid]); }' \
			> "$BTMP/bpftrace.log" 2>&1 &
		bp=$!
		wait_line "$BTMP/bpftrace.log" "Attaching" && sleep 1 && workload "$2"
		kill -INT $bp; wait $bp 2>/dev/null || true ;;
	esac
}

# peer W CMD...: the workload while CMD runs (given 2 s to attach)
peer() {
	w=$1; shift
	stdbuf -oL "$@" > "$BTMP/peer.log" 2>&1 &
	pp=$!
	sleep 2
	workload "$w"
	kill -INT $pp; wait $pp 2>/dev/null || true
}

WORKLOADS=""
for r in $RATES; do WORKLOADS="$WORKLOADS sys:$r"; done
[ -x "$BENCH_BIN/faultloop" ] && WORKLOADS="$WORKLOADS faults"
load_start=$(load_avg)
for round in $(seq "$ROUNDS"); do
	for w in $WORKLOADS; do
		for k in ksight budget $PEERS; do
			b=$(with none "$w")
			v=$(with "$k" "$w")
			[ -n "$v" ] && [ -n "$b" ] && echo "$k $w $b $v" >> "$BTMP/res"
		done
	done
done
load_end=$(load_avg)

added() { awk -v k="$1" -v w="$2" '$1 == k && $2 == w { print $4 - $3 }' "$BTMP/res" | median; }
agent() { awk -v k="$1" -v w="$2" -v c="$3" '$1 == k && $2 == w { print $c }' "$BTMP/agent" | median; }
label() {
	case $1 in
	sys:0) echo "getppid, full speed" ;;
	sys:*) echo "getppid, ${1#sys:}/s" ;;
	faults) echo "page faults, full speed" ;;
	esac
}

echo "## Overhead budget"
echo
echo "One CPU (CPU $CPU) runs the workload for about $SECONDS_PER_RUN s per measurement ($SYS_FULL getppid calls at full speed, $FAULT_ROUNDS x 256 pages faulted, sized from a bare run on this machine), $ROUNDS rounds. Load average $load_start at the start, $load_end at the end."
echo
echo "| workload | ksight, no budget: added ns/event | agent's measured share | ksight, 1% budget: added ns/event | agent's measured share | factor | syscount -L | execsnoop + exitsnoop | runqlat | biolatency | bpftrace |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for w in $WORKLOADS; do
	row="| $(label "$w") | $(added ksight "$w") | $(agent ksight "$w" 3)% | $(added budget "$w") | $(agent budget "$w" 3)% | 1/$(agent budget "$w" 4) |"
	for k in syscount snoop runqlat biolatency bpftrace; do
		a=$(added "$k" "$w")
		row="$row ${a:--} |"
	done
	echo "$row"
done
echo
echo "Added: the median over rounds of (the workload's CPU ns per event with it attached - the bare workload just before). Measured share: the median of the agent's own 'overhead' rows over the storm (its first second left out) (the programs' run time, which they time themselves on a sample while a budget is set, + getrusage, % of interval x $(nproc) CPUs; without a budget the programs time nothing, so only the agent's own CPU time). Factor: the largest sampling factor of any tracer during the storm."
[ -z "$missing" ] || echo "Missing peers:$missing"
[ -z "${BENCH_RAW:-}" ] || cat "$BTMP/res" "$BTMP/agent" >&2
