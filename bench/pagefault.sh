#!/bin/sh
# Page-fault path cost on a fault storm pinned to one CPU, side by side in
# one run: the floor (empty programs on the hooks the page-fault and rss
# tracers use: page_fault_user, rss_stat and the perf software events
# page-faults-min/-maj), the ksight pagefault tracer's programs alone, the
# rss tracer's alone, both, and a bpftrace one-liner on the same
# tracepoints (faults counted per process, the latest rss_stat size per
# process and member).
#
# One fault here costs 15-25 us of the storm's own CPU time (this VM's
# page-table updates), and the programs add a few hundred ns: pairs of
# whole processes (bench/syscall.sh's way) are lost in the noise.  So
# bench/faultcost attaches and detaches the program sets itself between
# short storms (2,048 faults, tens of ms), each paired with a bare storm
# just before it, hundreds of times; the cost is the median of the paired
# differences.  The storm's CPU time per fault is what is compared: the
# programs run in its context, and waiting for a CPU is left out.
# bpftrace cannot be toggled that way: its pairs are whole faultloop runs
# with bpftrace started and stopped around them, fewer and noisier (the
# table gives each row's middle half, so the spread is visible).
#
# Then, with the kernel's BPF run-time statistics on for a short pass,
# what each set's programs themselves take per fault, beside the empty
# programs': the difference is what ksight's programs do, free of the
# storm's noise (bench/faultcost.c).
#
# Other agents on this shared machine may keep programs on these hooks;
# the run says how many.  With them the tracepoints are already enabled,
# so every row, the floor included, is the cost of one more set of
# programs: the ratios stay comparable.
. "$(dirname "$0")/lib.sh"
PAGES=${FAULT_PAGES:-256}
LOOPS=${FAULT_LOOPS:-8}
ROUNDS=${FAULT_ROUNDS:-100}
BT_ROUNDS=${FAULT_BT_ROUNDS:-10}
STATS_ROUNDS=${FAULT_STATS_ROUNDS:-20}
CPU=$(( $(nproc) - 1 ))
HOOKS='page_fault_user|rss_stat'
mount_tracefs

missing=""
bt=false
if ! command -v bpftrace >/dev/null; then
	missing="$missing bpftrace: not installed."
elif [ ! -e /sys/kernel/tracing/events/exceptions/page_fault_user ]; then
	missing="$missing bpftrace: no exceptions:page_fault_user tracepoint (tracefs not mounted, or not x86)."
else
	bt=true
fi

load_start=$(load_avg)
foreign_start=$(foreign_hooks "$HOOKS")
taskset -c "$CPU" "${FAULTCOST:-$BENCH_BIN/faultcost}" "$PAGES" "$LOOPS" "$ROUNDS" "$STATS_ROUNDS" > "$BTMP/out"
grep -v '^body ' "$BTMP/out" > "$BTMP/res"
grep '^body ' "$BTMP/out" | cut -d' ' -f2- > "$BTMP/body"

loop() { taskset -c "$CPU" "$BENCH_BIN/faultloop" "$PAGES" $((LOOPS * 20)) | awk '{print $2}'; }
if $bt; then
	for r in $(seq "$BT_ROUNDS"); do
		b=$(loop)
		bpftrace -e 'tracepoint:exceptions:page_fault_user { @faults[pid] = count(); }
			tracepoint:kmem:rss_stat { @rss[pid, args->member] = args->size; }' \
			> "$BTMP/bpftrace.log" 2>&1 &
		bp=$!
		v=""
		wait_line "$BTMP/bpftrace.log" "Attaching" && sleep 1 && v=$(loop)
		kill -INT $bp; wait $bp 2>/dev/null || true
		[ -n "$v" ] && echo "bpftrace $b $v" >> "$BTMP/res"
	done
fi
foreign_end=$(foreign_hooks "$HOOKS")
load_end=$(load_avg)

# added KEY: median over its pairs of (with - without); q1/q3: the middle half
diffs() { awk -v k="$1" '$1 == k { print $3 - $2 }' "$BTMP/res" | sort -n; }
added() { diffs "$1" | median; }
quart() { diffs "$1" | awk -v q="$2" '{ v[NR] = $1 } END { if (NR) print v[int((NR - 1) * q) + 1] }'; }
base=$(awk '{ print $2 }' "$BTMP/res" | median)
floor=$(added floor)
btv=$(added bpftrace)
echo "## Page-fault path overhead"
echo
echo "A fault storm pinned to CPU $CPU (map $PAGES anonymous pages, write one byte to each, unmap; $LOOPS times per storm), $ROUNDS rounds of the four program sets attached in turn by bench/faultcost, each paired with a bare storm just before it; bpftrace: $BT_ROUNDS whole runs of $((LOOPS * 20)) storms, paired the same way. The storm's CPU time per fault; the bare storm: $base ns per fault. Load average $load_start at the start, $load_end at the end; other processes' programs on page_fault_user/rss_stat: $foreign_start at the start, $foreign_end at the end."
echo
body() { awk -v k="$1" '$1 == k { print $2 }' "$BTMP/body" | median; }
bfloor=$(body floor)
echo "| what is attached | added ns per fault | vs empty floor | vs bpftrace | middle half of the pairs | pairs | programs' run time per fault, beyond the floor's |"
echo "|---|---|---|---|---|---|---|"
for k in floor pagefault rss both bpftrace; do
	a=$(added $k)
	[ -n "$a" ] || continue
	n=$(awk -v k="$k" '$1 == k' "$BTMP/res" | wc -l)
	bd=$(body $k)
	awk -v k="$k" -v a="$a" -v f="$floor" -v t="${btv:-0}" -v n="$n" -v q1="$(quart $k 0.25)" -v q3="$(quart $k 0.75)" \
		-v bd="${bd:-}" -v bf="${bfloor:-0}" 'BEGIN {
		name["floor"] = "empty programs on page_fault_user, rss_stat, page-faults-min/-maj (the floor)";
		name["pagefault"] = "ksight pagefault tracer alone";
		name["rss"] = "ksight rss tracer alone";
		name["both"] = "**ksight pagefault + rss tracers**";
		name["bpftrace"] = "bpftrace: faults per process + rss_stat size per process";
		r1 = f > 0 ? sprintf("%.2fx", a / f) : "-"
		r3 = t > 0 ? sprintf("%.2fx", a / t) : "-"
		b = bd == "" ? "-" : (k == "floor" ? sprintf("(%.0f ns itself)", bd) : sprintf("%+.0f ns", bd - bf))
		printf "| %s | %+.1f | %s | %s | %+.0f to %+.0f | %d | %s |\n", name[k], a, r1, r3, q1, q3, n, b }'
done
echo
echo "Added: the median over the pairs of (storm with it attached - the bare storm just before). Programs' run time: the median over $STATS_ROUNDS storms of each set's programs' mean run time per run (kernel.bpf_stats_enabled, one run per hook per fault), less the empty programs'; it counts what the programs do, not what it costs the kernel to call them (that is the floor's share of the added time)."
[ -z "$missing" ] || echo "Missing peers:$missing"
[ -z "${BENCH_RAW:-}" ] || cat "$BTMP/res" >&2
