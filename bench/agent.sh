#!/bin/sh
# The whole agent: time to the first stored row, memory (RSS, PSS, BPF
# maps) with the foundation collectors and with every collector, and the
# slowdown it causes on a CPU-bound compile and on a fork/exec/open-heavy
# shell loop, against no agent, in alternating rounds.
. "$(dirname "$0")/lib.sh"
ROUNDS=${AGENT_ROUNDS:-5}

now_ns() { date +%s%N; }

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

# --- memory ---
mem() {  # mem LABEL CONFIG
	start_agent "$BTMP/mem.log" --db "$BTMP/mem.db" ${2:+--config "$2"}
	sleep 10
	rss=$(awk '/^VmRSS:/ {print $2}' /proc/$AGENT_PID/status)
	pss=$(awk '/^Pss:/ {s += $2} END {print s}' /proc/$AGENT_PID/smaps)
	hwm=$(awk '/^VmHWM:/ {print $2}' /proc/$AGENT_PID/status)
	stop_agent
	maps=$(q "$BTMP/mem.db" "select coalesce(sum(m), 0) from (select max(map_bytes) m from collector_stats where kind='tracer' group by collector)")
	awk -v l="$1" -v r="$rss" -v p="$pss" -v h="$hwm" -v m="$maps" \
		'BEGIN { printf "| %s | %.1f | %.1f | %.1f | %.1f |\n", l, r / 1024, p / 1024, h / 1024, m / 1048576 }' >> "$BTMP/mem.md"
	rm -f "$BTMP/mem.db"*
}
printf 'tracers:\n' > "$BTMP/foundation.yaml"
for t in syscall blockio sched pagefault tcp; do printf '  %s: {enabled: false}\n' "$t" >> "$BTMP/foundation.yaml"; done
printf 'scrapers:\n' >> "$BTMP/foundation.yaml"
for s in stat diskstats net_dev net_tcp net_snmp pressure vmstat; do printf '  %s: {enabled: false}\n' "$s" >> "$BTMP/foundation.yaml"; done
mem "foundation collectors (proc tracer, meminfo, loadavg)" "$BTMP/foundation.yaml"
mem "every collector" ""

# --- overhead ---
SRCS=$(find "$TOP/src" -name '*.c' ! -name '*.bpf.c' | sort)
compile() {
	for f in $SRCS; do
		gcc -O2 -std=gnu11 -D_GNU_SOURCE -I"$TOP/src" -I"$TOP/.output/bpf" -I"$TOP/.output/bench" -c "$f" -o "$BTMP/x.o"
	done
}
forkexec() {
	i=0
	while [ $i -lt 3000 ]; do cat /etc/hostname > /dev/null; i=$((i + 1)); done
}
timed() { s=$(now_ns); "$@"; echo $(( ($(now_ns) - s) / 1000000 )); }
for r in $(seq "$ROUNDS"); do
	echo "compile off $(timed compile)" >> "$BTMP/ov"
	echo "forkexec off $(timed forkexec)" >> "$BTMP/ov"
	start_agent "$BTMP/ov.log" --db "$BTMP/ov.db"
	echo "compile on $(timed compile)" >> "$BTMP/ov"
	echo "forkexec on $(timed forkexec)" >> "$BTMP/ov"
	stop_agent
	lost=$(q "$BTMP/ov.db" "select coalesce(sum(drops),0) from collector_stats")
	echo "lost $lost" >> "$BTMP/ov"
	rm -f "$BTMP/ov.db"*
done
med() { awk -v w="$1" -v s="$2" '$1 == w && $2 == s { print $3 }' "$BTMP/ov" | median; }

echo "## The whole agent"
echo
echo "Time from starting \`ksight agent\` to its first committed row: **${first:-?} ms** (first tick at a quarter interval)."
echo
echo "| collectors | RSS MiB | PSS MiB | peak RSS at start MiB | BPF map memory MiB |"
echo "|---|---|---|---|---|"
cat "$BTMP/mem.md"
echo
echo "RSS counts each ring buffer twice (libbpf maps its pages twice so records never wrap); PSS counts them once. The start-up peak is libbpf parsing the kernel's BTF, given back once the tracers are loaded."
echo
echo "| workload ($ROUNDS alternating rounds, median ms) | no agent | agent, every collector | slowdown |"
echo "|---|---|---|---|"
for w in compile forkexec; do
	off=$(med $w off); on=$(med $w on)
	label=$([ $w = compile ] && echo "CPU-bound: gcc -O2 on the project's $(echo "$SRCS" | wc -l) C files" || echo "fork/exec/open: 3,000 x cat /etc/hostname from a shell loop")
	awk -v l="$label" -v a="$off" -v b="$on" 'BEGIN { printf "| %s | %d | %d | %+.1f%% |\n", l, a, b, (b - a) * 100 / a }'
done
echo
echo "Events lost by the agent during these runs: $(awk '$1 == "lost" { s += $2 } END { print s + 0 }' "$BTMP/ov")."
