#!/bin/sh
# Page-fault path cost on a fault storm pinned to one CPU, side by side in
# one run: the floor (empty programs on the hooks the page-fault and rss
# tracers use: page_fault_user, rss_stat and the perf software events
# page-faults-min/-maj), the ksight pagefault tracer alone, the rss tracer
# alone, both, and a bpftrace one-liner on the same tracepoints (faults
# counted per process, the latest rss_stat size per process).
#
# bench/faultloop maps fresh anonymous pages and writes one byte to each:
# one minor fault per page (and one rss_stat event, plus those of the
# unmap).  It reports its own CPU time per fault: the programs run in its
# context, and on a shared machine wall time would also count the time it
# waits for the CPU.  Every measurement is paired with one of the bare loop
# just before it and the cost is the median of the paired differences, as
# in bench/syscall.sh.  Before each pair it waits up to QUIET_WAIT seconds
# (default 10) for no other process to have a program on these tracepoints;
# on a machine where other agents stay attached it measures anyway and says
# how many pairs shared the hooks (their tracepoints were then already
# enabled, so every row, the floor included, is the cost of one more
# program set: the ratios stay comparable).
. "$(dirname "$0")/lib.sh"
PAGES=${FAULT_PAGES:-4096}
FROUNDS=${FAULT_LOOPS:-100}
ROUNDS=${FAULT_ROUNDS:-5}
CPU=$(( $(nproc) - 1 ))
HOOKS='page_fault_user|rss_stat'
mount_tracefs

# agent_yaml FILE TRACERS...: every collector off except those tracers
agent_yaml() {
	f=$1; shift
	{ printf 'detect:\n  enabled: false\nhttp:\n  enabled: false\ntracers:\n'
	  for t in syscall rss proc blockio sched pagefault tcp; do
		on=false
		for w in "$@"; do [ "$w" = "$t" ] && on=true; done
		printf '  %s: {enabled: %s}\n' "$t" "$on"
	  done
	  printf 'scrapers:\n'
	  for s in meminfo loadavg stat diskstats net_dev net_tcp net_snmp pressure vmstat; do
		printf '  %s: {enabled: false}\n' "$s"
	  done; } > "$f"
}
agent_yaml "$BTMP/pagefault.yaml" pagefault
agent_yaml "$BTMP/rss.yaml" rss
agent_yaml "$BTMP/both.yaml" pagefault rss

KEYS="floor pagefault rss both"
missing=""
if ! command -v bpftrace >/dev/null; then
	missing="$missing bpftrace: not installed."
elif [ ! -e /sys/kernel/tracing/events/exceptions/page_fault_user ]; then
	missing="$missing bpftrace: no exceptions:page_fault_user tracepoint (tracefs not mounted, or not x86)."
else
	KEYS="$KEYS bpftrace"
fi

loop() { taskset -c "$CPU" "$BENCH_BIN/faultloop" "$PAGES" "$FROUNDS" | awk '{print $2}'; }

# measure KEY: the loop's CPU ns per fault with KEY attached
measure() {
	case $1 in
	floor) "$BENCH_BIN/floor" --faults -- taskset -c "$CPU" "$BENCH_BIN/faultloop" "$PAGES" "$FROUNDS" | awk '{print $2}' ;;
	pagefault|rss|both)
		start_agent "$BTMP/agent.log" --config "$BTMP/$1.yaml" --db "$BTMP/pf.db"
		loop
		stop_agent
		rm -f "$BTMP/pf.db"* ;;
	bpftrace)
		bpftrace -e 'tracepoint:exceptions:page_fault_user { @faults[pid] = count(); }
			tracepoint:kmem:rss_stat { @rss[pid, args->member] = args->size; }' \
			> "$BTMP/bpftrace.log" 2>&1 &
		bp=$!
		wait_line "$BTMP/bpftrace.log" "Attaching" && sleep 1 && loop
		kill -INT $bp; wait $bp 2>/dev/null || true ;;
	esac
}

QUIET_WAIT=${QUIET_WAIT:-10}
load_start=$(load_avg)
busy=0
for r in $(seq "$ROUNDS"); do
	keys=$(echo $KEYS | tr ' ' '\n' | awk -v r="$r" '{ k[NR] = $0 } END { for (i = 0; i < NR; i++) print k[(i + r) % NR + 1] }')
	for k in $keys; do
		wait_quiet "$HOOKS" || busy=$((busy + 1))
		b=$(loop)
		v=$(measure "$k")
		[ -n "$v" ] && echo "$k $b $v" >> "$BTMP/res"
	done
done
load_end=$(load_avg)

added() { awk -v k="$1" '$1 == k { print $3 - $2 }' "$BTMP/res" | median; }
base=$(awk '{ print $2 }' "$BTMP/res" | median)
floor=$(added floor)
bt=$(added bpftrace)
echo "## Page-fault path overhead"
echo
echo "faultloop pinned to CPU $CPU: $FROUNDS x (map $PAGES anonymous pages, write one byte to each, unmap), $ROUNDS rounds; the loop's CPU time per fault. The bare loop: $base ns per fault. Load average $load_start at the start, $load_end at the end."
echo
echo "| what is attached | added ns per fault | vs empty floor | vs bpftrace | pairs |"
echo "|---|---|---|---|---|"
for k in floor pagefault rss both bpftrace; do
	a=$(added $k)
	[ -n "$a" ] || continue
	n=$(awk -v k="$k" '$1 == k' "$BTMP/res" | wc -l)
	awk -v k="$k" -v a="$a" -v f="$floor" -v t="${bt:-0}" -v n="$n" 'BEGIN {
		name["floor"] = "empty programs on page_fault_user, rss_stat, page-faults-min/-maj (the floor)";
		name["pagefault"] = "ksight pagefault tracer alone";
		name["rss"] = "ksight rss tracer alone";
		name["both"] = "**ksight pagefault + rss tracers**";
		name["bpftrace"] = "bpftrace: faults per process + rss_stat size per process";
		r1 = f > 0 ? sprintf("%.2fx", a / f) : "-"
		r3 = t > 0 ? sprintf("%.2fx", a / t) : "-"
		printf "| %s | %+.1f | %s | %s | %d |\n", name[k], a, r1, r3, n }'
done
echo
echo "Added: the median over rounds of (loop with it attached - the bare loop just before). ${busy} of $(wc -l < "$BTMP/res") pairs were measured while other processes kept programs on page_fault_user/rss_stat (after waiting ${QUIET_WAIT} s for them to leave)."
[ -z "$missing" ] || echo "Missing peers:$missing"
[ -z "${BENCH_RAW:-}" ] || cat "$BTMP/res" >&2
