#!/bin/sh
# Soak: one agent for an hour (SOAK_SECONDS) under a workload that changes
# every few minutes -- CPU, memory, disk and fork stress from stress-ng, a C
# build, and idle -- sampled every SOAK_SAMPLE seconds (10): its RSS, open
# file descriptors, CPU and the database's size.  With SOAK_TEST=1 (the
# default) the first half is instead the project's own `make test`, over and
# over in a clone of this tree, beside a C build (issue 15: no process that
# does not leak may become a leak suspect; the growers the leak tests start
# on purpose, t/helpers/grower, are named and left out of the count).  At the end it is stopped
# with SIGTERM and every tick it made must be in the database: rows lost
# must be 0.  Goals (issue 12): RSS grows by at most 1 MB after the first
# 10 minutes, file descriptors stay flat, CPU averages at most 1% of one
# core, the database grows as the retention bench predicts.
#
#   make bench BENCH=soak                 # an hour
#   SOAK_SECONDS=300 sh bench/soak.sh     # a trial
#
# Not in CI.  Prints the samples (one line a minute) and a summary table.
. "$(dirname "$0")/lib.sh"
SECONDS_TOTAL=${SOAK_SECONDS:-3600}
SAMPLE=${SOAK_SAMPLE:-10}
SETTLE=${SOAK_SETTLE:-600}              # RSS growth is measured from here on
[ "$SETTLE" -lt "$SECONDS_TOTAL" ] || SETTLE=$((SECONDS_TOTAL / 6))
PHASE=$((SECONDS_TOTAL / 12))           # 12 phases, 6 kinds twice
[ $PHASE -ge 10 ] || PHASE=10
TEST=${SOAK_TEST:-1}
if [ "$TEST" = 1 ]; then
	PHASES="test cpu build vm idle io fork"
	# The clone is made and built before the agent starts: its first build is not the soak's.
	git clone -q "$TOP" "$BTMP/tree"
	make -C "$BTMP/tree" -s deps all build-tests >"$BTMP/tree-build.log" 2>&1 ||
		{ echo "building the clone for the test phases failed: $(tail -5 "$BTMP/tree-build.log")" >&2; exit 1; }
else
	PHASES="cpu build vm idle io fork cpu build vm idle io fork"
fi
clk=$(getconf CLK_TCK)
page_kb=$(($(getconf PAGESIZE) / 1024))

DB=$BTMP/soak.db
exec 3>"$BTMP/ready"
"$KSIGHT" agent --db "$DB" --listen 127.0.0.1:0 --ready-fd 3 2>"$BTMP/agent.log" &
AGENT_PID=$!
exec 3>&-
_bench_pids="$_bench_pids $AGENT_PID"
i=0
until [ -s "$BTMP/ready" ]; do
	kill -0 $AGENT_PID 2>/dev/null || { echo "agent did not start: $(cat "$BTMP/agent.log")" >&2; exit 1; }
	sleep 0.1
done

# A C build for the 'build' phase: the project's own library sources, over and over.
build_loop() {
	end=$(($(date +%s) + $1))
	while [ "$(date +%s)" -lt "$end" ]; do
		for f in "$TOP"/src/lib/*.c "$TOP"/src/store/*.c "$TOP"/src/detect/*.c "$TOP"/src/scrape/*.c; do
			cc -O2 -std=gnu11 -D_GNU_SOURCE -I"$TOP/src" -c "$f" -o "$BTMP/build.o" 2>/dev/null || true
			[ "$(date +%s)" -lt "$end" ] || break
		done
	done
}
phase() {  # phase NAME SECONDS
	case $1 in
	cpu)   stress-ng --cpu 1 --timeout "$2" --quiet ;;
	vm)    stress-ng --vm 1 --vm-bytes 256M --timeout "$2" --quiet ;;
	io)    stress-ng --hdd 1 --hdd-bytes 64M --temp-path "$BTMP" --timeout "$2" --quiet ;;
	fork)  stress-ng --fork 1 --timeout "$2" --quiet ;;
	build) build_loop "$2" ;;
	idle)  sleep "$2" ;;
	test)  test_loop "$2" ;;
	esac
}
# 'test': the project's make test, over and over, beside the build loop.  Its
# own agents and workloads run under the soaked one; its results are only
# counted (a suite written for a quiet machine may fail under the soak).
test_loop() {
	end=$(($(date +%s) + $1))
	build_loop "$1" &
	b=$!
	while [ "$(date +%s)" -lt "$end" ]; do
		setsid make -C "$BTMP/tree" test >"$BTMP/test.log" 2>&1 &
		m=$!
		echo $m > "$BTMP/make.pid"
		while kill -0 $m 2>/dev/null && [ "$(date +%s)" -lt "$end" ]; do sleep 1; done
		if kill -0 $m 2>/dev/null; then
			kill -TERM -$m 2>/dev/null || true
			wait $m 2>/dev/null || true
			echo "cut" >> "$BTMP/test-runs"
		elif wait $m; then
			echo "pass" >> "$BTMP/test-runs"
		else
			echo "fail $(grep -m1 '^Failed\|^Files=' "$BTMP/test.log" | head -c 200)" >> "$BTMP/test-runs"
		fi
	done
	wait $b 2>/dev/null || true
}
(
	for p in $PHASES; do
		echo "$p $(date +%s)" >> "$BTMP/phases"
		if [ "$p" = test ]; then phase $p $((PHASE * 6)); else phase $p $PHASE; fi
	done
) >/dev/null 2>&1 &
WORK=$!
_bench_pids="$_bench_pids $WORK"

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
rss_kb() { awk -v p="$page_kb" '{ print $2 * p }' "/proc/$1/statm"; }
db_bytes() { stat -c %s "$DB" "$DB-wal" 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'; }

echo "## Soak: one agent for $((SECONDS_TOTAL / 60)) min under changing load"
echo
if [ "$TEST" = 1 ]; then
	echo "The first $((PHASE * 6)) s: \`make test\` over and over in a clone, beside a C build; then phases of ${PHASE} s:"
	echo "cpu, build, vm, idle, io, fork (stress-ng, a C build, sleep); sampled every ${SAMPLE} s (one line a minute shown)."
else
	echo "Phases of ${PHASE} s: cpu, build, vm, idle, io, fork, twice (stress-ng, a C build, sleep);"
	echo "sampled every ${SAMPLE} s (one line a minute shown)."
fi
echo "Load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo "| t (s) | phase | RSS (MiB) | fds | CPU of one core (last min) | database (MiB) |"
echo "|---|---|---|---|---|---|"
start=$(date +%s)
t0_ticks=$(cpu_ticks $AGENT_PID)
last_ticks=$t0_ticks
last_t=$start
: > "$BTMP/samples"
while :; do
	sleep "$SAMPLE"
	now=$(date +%s)
	t=$((now - start))
	kill -0 $AGENT_PID 2>/dev/null || { echo "the agent died: $(tail -5 "$BTMP/agent.log")" >&2; exit 1; }
	ticks=$(cpu_ticks $AGENT_PID)
	rss=$(rss_kb $AGENT_PID)
	fds=$(ls /proc/$AGENT_PID/fd | wc -l)
	db=$(db_bytes)
	ph=$(tail -1 "$BTMP/phases" 2>/dev/null | cut -d' ' -f1)
	echo "$t $rss $fds $ticks $db $ph" >> "$BTMP/samples"
	if [ $((t / 60)) -ne $(((last_t - start) / 60)) ] || [ "$t" -ge "$SECONDS_TOTAL" ]; then
		awk -v t="$t" -v ph="$ph" -v r="$rss" -v f="$fds" -v a="$last_ticks" -v b="$ticks" -v hz="$clk" \
			-v dt="$((now - last_t))" -v d="$db" \
			'BEGIN { printf "| %d | %s | %.1f | %d | %.2f%% | %.1f |\n", t, ph, r / 1024, f, (b - a) * 100 / hz / dt, d / 1048576 }'
		last_ticks=$ticks
		last_t=$now
	fi
	[ "$t" -lt "$SECONDS_TOTAL" ] || break
done
kill $WORK 2>/dev/null || true
[ ! -s "$BTMP/make.pid" ] || kill -TERM -"$(cat "$BTMP/make.pid")" 2>/dev/null || true
pkill -P $WORK 2>/dev/null || true
wait $WORK 2>/dev/null || true
end_ticks=$(cpu_ticks $AGENT_PID)
elapsed=$(($(date +%s) - start))
kill -TERM $AGENT_PID
wait $AGENT_PID || true
log=$(cat "$BTMP/agent.log")
stored_ticks=$(printf '%s\n' "$log" | sed -n 's/.*stopped after .*: \([0-9]*\) ticks, .*/\1/p')
lost=$(printf '%s\n' "$log" | sed -n 's/.*rows stored, \([0-9]*\) lost.*/\1/p')
rows=$(printf '%s\n' "$log" | sed -n 's/.* ticks, \([0-9]*\) rows stored.*/\1/p')
db_ticks=$(q "$DB" "select count(distinct timestamp) from collector_stats where collector = 'store'")
drops=$(q "$DB" "select coalesce(sum(drops), 0) from collector_stats where kind = 'tracer'")
db_final=$(db_bytes)

echo
echo "| Figure | Value | Goal |"
echo "|---|---|---|"
awk -v s="$SETTLE" -v total="$elapsed" -v a="$t0_ticks" -v b="$end_ticks" -v hz="$clk" -v dbf="$db_final" '
	{ t[NR] = $1; r[NR] = $2; f[NR] = $3; d[NR] = $5 }
	END {
		for (i = 1; i <= NR; i++) if (t[i] >= s) { rs = r[i]; ds = d[i]; ts = t[i]; break }
		rmax = 0; fmin = 1e9; fmax = 0
		for (i = 1; i <= NR; i++) {
			if (t[i] >= s && r[i] > rmax) rmax = r[i]
			if (t[i] >= 60) { if (f[i] < fmin) fmin = f[i]; if (f[i] > fmax) fmax = f[i] }
		}
		printf "| RSS at %d s, at the end, peak after it (MiB) | %.1f, %.1f, %.1f | |\n", s, rs / 1024, r[NR] / 1024, rmax / 1024
		printf "| RSS growth after %d s (MiB) | %+.2f | <= 1 |\n", s, (r[NR] - rs) / 1024
		printf "| open fds after the first minute (min..max) | %d..%d | flat |\n", fmin, fmax
		printf "| CPU, average over the run (of one core) | %.2f%% | <= 1%% |\n", (b - a) * 100 / hz / total
		printf "| database at the end (MiB) | %.1f | |\n", dbf / 1048576
		if (t[NR] > ts)
			printf "| database growth after %d s (MiB/h) | %.1f | retention bench: plateaus under the cap |\n", s, (d[NR] - ds) / 1048576 * 3600 / (t[NR] - ts)
	}' "$BTMP/samples"
echo "| ticks the agent made / ticks in the database | $stored_ticks / $db_ticks | equal |"
echo "| rows stored (writer) / rows lost | $rows / $lost | lost = 0 |"
echo "| tracer events dropped (collector_stats.drops) | $drops | counted, not rows lost |"
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
echo "| load average at the end (1, 5, 15 min) | $load_end | |"
echo
echo "CPU of one core by phase (the agent's user + system time over the phase's samples):"
echo
echo "| phase | samples | CPU |"
echo "|---|---|---|"
awk -v hz="$clk" '
	NR > 1 { dt = $1 - pt; if (dt > 0) { busy[$6] += $4 - pk; secs[$6] += dt; n[$6]++ } }
	{ pt = $1; pk = $4 }
	END { for (p in n) printf "| %s | %d | %.2f%% |\n", p, n[p], busy[p] * 100 / hz / secs[p] }' "$BTMP/samples" | sort
if [ "$TEST" = 1 ]; then
	runs=$(grep -c . "$BTMP/test-runs" 2>/dev/null || true)
	passed=$(grep -c "^pass" "$BTMP/test-runs" 2>/dev/null || true)
	cut=$(grep -c "^cut" "$BTMP/test-runs" 2>/dev/null || true)
	echo
	echo "\`make test\` runs under the agent: $runs ($passed passed, $cut cut at the phase's end, the rest failed$(grep '^fail' "$BTMP/test-runs" 2>/dev/null | head -3 | sed 's/^fail/:/' | tr '\n' ' '))."
fi
echo
echo "Leak suspects over the run (memory_growth_events, status 'suspect', by command; grower is the leak"
echo "tests' own workload, leaking on purpose or checked by them; lky<pid> is a copy of it, t/e2e/restart.t):"
echo
echo "| command | processes | deliberate? |"
echo "|---|---|---|"
"$KSIGHT" query --db "$DB" --csv "select comm, count(distinct pid || ':' || process_start) from memory_growth_events where status = 'suspect' group by comm order by 2 desc" |
	sed 1d | awk -F, '{ printf "| %s | %s | %s |\n", $1, $2, ($1 == "grower" || $1 ~ /^lky[0-9]+$/ ? "yes (test workload)" : "no") }'
NOT_GROWER="comm <> 'grower' and comm not glob 'lky[0-9]*'"
others=$("$KSIGHT" query --db "$DB" --csv "select count(distinct pid || ':' || process_start) from memory_growth_events where status = 'suspect' and $NOT_GROWER" | sed -n 2p)
echo
echo "Processes that are not the tests' growers and became suspects: **$others** (goal: 0)."
if [ "${others:-0}" -gt 0 ]; then
	echo
	echo "Each, at its first suspect row (age: seconds since the process started):"
	echo
	"$KSIGHT" query --db "$DB" "select pid, comm, pattern, round(growth_rate_bytes_per_s / 1048576, 2) as mib_per_s,
		round(rss_bytes / 1048576.0, 1) as rss_mib, round(confidence, 2) as confidence,
		round((timestamp - process_start) / 1e9, 1) as age_s
		from memory_growth_events where status = 'suspect' and $NOT_GROWER
		group by pid, process_start having timestamp = min(timestamp)"
	if [ -n "${SOAK_KEEP:-}" ]; then cp "$DB" "$SOAK_KEEP" && echo "(database kept in $SOAK_KEEP)"; fi
fi
