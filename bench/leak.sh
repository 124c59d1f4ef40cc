#!/bin/sh
# Leak detector harness: real growers (t/helpers/grower) with known truth,
# all at once, under `ksight agent` running only the rss tracer, then what
# the database says about each: true- and false-positive rates, pattern
# accuracy, detection latency, growth-rate error, time-to-limit error in a
# memory cgroup with a limit, and the agent's own CPU and RSS.  Leaks run
# from their process's start (suspects once they outlast the 25 s warm-up
# horizon) or after a flat stretch (long-running processes: the 5 s latency
# target); the non-leaks include warm-ups of 10-60 MB over 2-10 s at random
# times of a process's life.  Then the page-fault cost of the tracer, the
# pure detector's cost for 1,000 processes and its accuracy on synthetic
# shapes and on held-out random processes (bench/leak.c).
#
# Needs root.  About 2 minutes.  Prints markdown.
set -u
KSIGHT=${KSIGHT:-./ksight}
HELPERS=${HELPERS:-.output/t/helpers}
BENCH_BIN=${BENCH_BIN:-.output/bench}
G=$HELPERS/grower
TMP=$(mktemp -d /tmp/ksight-leak-bench.XXXXXX)
CG=""
AGENT=""

cleanup() {
	[ -n "$AGENT" ] && kill "$AGENT" 2>/dev/null && wait "$AGENT" 2>/dev/null
	[ -n "$CG" ] && rmdir "$CG" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

echo "## Memory-growth (leak) detector"
echo
if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: needs root for BPF"
	exit 0
fi

# ---- page-fault cost of the rss tracer ----------------------------------
# Touch 1 GiB in one go (262,144 faults of 4 KiB) with and without the
# tracer attached; best of three each.
touch_ms() {
	best=""
	for i in 1 2 3; do
		t0=$(date +%s%N)
		"$G" constant --size 1G --duration 0 >/dev/null
		t1=$(date +%s%N)
		ms=$(( (t1 - t0) / 1000000 ))
		if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
	done
	echo "$best"
}
# Only the rss tracer and its detector: every other collector, the anomaly
# detection and HTTP off.
{
	printf 'detect:\n  enabled: false\nhttp:\n  enabled: false\ntracers:\n'
	for t in proc syscall blockio sched pagefault tcp; do printf '  %s: {enabled: false}\n' "$t"; done
	printf 'scrapers:\n'
	for s in meminfo loadavg stat diskstats net_dev net_tcp net_snmp pressure vmstat; do
		printf '  %s: {enabled: false}\n' "$s"
	done
} > "$TMP/rss-only.yaml"
without=$(touch_ms)
"$KSIGHT" agent --db "$TMP/fault.db" --config "$TMP/rss-only.yaml" 2>/dev/null &
AGENT=$!
sleep 1
with=$(touch_ms)
kill -INT "$AGENT"; wait "$AGENT" 2>/dev/null; AGENT=""
echo "### Page-fault cost of the rss tracer"
echo
echo "| touching 1 GiB (262,144 faults) | ms (best of 3) | per fault |"
echo "|---|---|---|"
awk -v a="$without" -v b="$with" 'BEGIN {
	printf "| without the tracer | %d | %.0f ns |\n", a, a * 1e6 / 262144
	printf "| with the rss tracer (every fault runs it) | %d | %.0f ns (+%.0f ns) |\n", b, b * 1e6 / 262144, (b - a) * 1e6 / 262144 }'
echo

# ---- 1,000 real processes ---------------------------------------------------
# Each is flat for 28 s (settled), then leaks 192 KiB every second for 15 s:
# the agent follows all of them, reads their state every tick and runs the
# detector on each (and finds them: every series ends up fully analysed,
# the costly case).
"$KSIGHT" agent --db "$TMP/many.db" --config "$TMP/rss-only.yaml" 2>/dev/null &
AGENT=$!
sleep 1
cpu0=$(awk '{print $14 + $15}' "/proc/$AGENT/stat")
t0=$(date +%s%N)
"$G" linear --rate 192K --step 1 --delay 28 --duration 43 --procs 1000 > "$TMP/many.out"
sleep 2
t1=$(date +%s%N)
cpu1=$(awk '{print $14 + $15}' "/proc/$AGENT/stat")
many_rss=$(awk '/VmRSS/ {print $2}' "/proc/$AGENT/status")
kill -INT "$AGENT"; wait "$AGENT" 2>/dev/null; AGENT=""
pids=$(sed -n 's/^pid=\([0-9]*\) .*/\1/p' "$TMP/many.out" | paste -sd, -)
found=$(sqlite3 "$TMP/many.db" "select count(distinct pid) from memory_growth_events where status='suspect' and pid in ($pids)")
echo "### 1,000 real processes, each leaking 192 KiB/s after 28 s flat"
echo
echo "| processes | agent CPU (rss tracer only) | agent RSS | found as leaks |"
echo "|---|---|---|---|"
awk -v c0="$cpu0" -v c1="$cpu1" -v t0="$t0" -v t1="$t1" -v hz="$(getconf CLK_TCK)" -v rss="$many_rss" \
    -v found="$found" -v n="$(grep -c '^pid=' "$TMP/many.out")" 'BEGIN {
	printf "| %d | %.2f%% of one CPU over %.0f s | %d kB | %d |\n", n, 100 * (c1 - c0) / hz / ((t1 - t0) / 1e9),
	       (t1 - t0) / 1e9, rss, found }'
echo

# ---- the harness ----------------------------------------------------------
# name|grower arguments|expected pattern ("none": not a leak)
cat > "$TMP/set" <<'EOF'
seed-linear|linear --rate 1M --delay 31 --duration 66|linear
seed-accelerating|accelerating --rate 1M --duration 36|accelerating
seed-oscillating|oscillating --rate 1M --on 5 --off 5 --duration 60|oscillating
seed-burst|burst --size 50M --period 20 --duration 62|burst
multi-1|linear --rate 512K --duration 36|linear
multi-2|linear --rate 1M --duration 36|linear
multi-3|linear --rate 1536K --duration 36|linear
multi-4|linear --rate 2M --duration 36|linear
multi-5|linear --rate 2560K --duration 36|linear
multi-6|linear --rate 3M --duration 36|linear
multi-7|linear --rate 3584K --duration 36|linear
multi-8|linear --rate 4M --duration 36|linear
multi-9|linear --rate 4608K --duration 36|linear
multi-10|linear --rate 5M --duration 36|linear
gen-linear-256K|linear --rate 256K --duration 60|linear
gen-linear-20M|linear --rate 20M --duration 36|linear
gen-noisy-1M|noisy --rate 1M --noise 1M --duration 60|linear
gen-thp-1M|linear --rate 1M --thp --duration 46|linear
gen-osc-2-2|oscillating --rate 2M --on 2 --off 2 --duration 46|oscillating
gen-osc-3-7|oscillating --rate 2M --on 3 --off 7 --duration 60|oscillating
gen-osc-8-4|oscillating --rate 1M --on 8 --off 4 --duration 60|oscillating
gen-burst-20M-5|burst --size 20M --period 5 --duration 46|burst
gen-burst-100M-12|burst --size 100M --period 12 --duration 50|burst
gen-accel-256K|accelerating --rate 256K --duration 46|accelerating
accel-64K|accelerating --rate 64K --duration 60|accelerating
accel-128K|accelerating --rate 128K --duration 60|accelerating
accel-512K|accelerating --rate 512K --duration 46|accelerating
accel-1M-midlife|accelerating --rate 1M --delay 31 --duration 56|accelerating
midlife-linear-256K|linear --rate 256K --delay 30 --duration 60|linear
midlife-osc|oscillating --rate 2M --on 3 --off 5 --delay 31 --duration 66|oscillating
EOF
# warm-ups of 10-60 MB over 2-10 s at random times of a 60 s life (fixed seed)
awk 'BEGIN { srand(15); for (i = 1; i <= 20; i++)
	printf "warmup-%d|plateau --size %dM --fill %.1f --delay %.1f --duration 60|none\n", i,
	       10 + int(rand() * 51), 2 + rand() * 8, rand() * 45 }' >> "$TMP/set"
i=0
for spec in "16M 1" "64M 0.5" "128M 1" "256M 2" "32M 0.2"; do
	set -- $spec; i=$((i + 1))
	echo "plateau-$i|plateau --size $1 --fill $2 --duration 60|none" >> "$TMP/set"
done
i=0
for spec in "40M 1.5 2" "20M 0.5 1" "80M 1 5" "10M 1.5 10" "100M 0.3 3"; do
	set -- $spec; i=$((i + 1))
	echo "sawtooth-$i|sawtooth --size $1 --on $2 --period $3 --duration 60|none" >> "$TMP/set"
done
i=0
for spec in "200M 3 3" "500M 5 10" "100M 2 30" "300M 10 5" "50M 1 1"; do
	set -- $spec; i=$((i + 1))
	echo "spike-$i|spike --size $1 --on $2 --off $3 --duration 60|none" >> "$TMP/set"
done
i=0
for size in 16M 64M 256M 512M 8M; do
	i=$((i + 1))
	echo "constant-$i|constant --size $size --duration 60|none" >> "$TMP/set"
done
for i in 1 2 3 4 5 6 7 8 9 10; do
	echo "small-plateau-$i|plateau --size ${i}M --fill 0.5 --duration 60|none" >> "$TMP/set"
	echo "small-sawtooth-$i|sawtooth --size $((i * 4))M --on 1 --period 2 --duration 60|none" >> "$TMP/set"
	echo "small-constant-$i|constant --size $((i * 2))M --duration 60|none" >> "$TMP/set"
done

# the limited cgroup: a child of our own v1 memory cgroup
mnt=$(grep ' - cgroup ' /proc/self/mountinfo | grep -w memory | awk '{print $5; exit}')
rel=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ {print $3; exit}' /proc/self/cgroup)
LIMIT=$((64 * 1024 * 1024))
if [ -n "$mnt" ] && [ -n "$rel" ]; then
	[ "$rel" = / ] && rel=""
	CG="$mnt$rel/ksight-bench-$$"
	mkdir "$CG" && echo "$LIMIT" > "$CG/memory.limit_in_bytes" || CG=""
fi
[ -n "$CG" ] && echo "limited|linear --rate 4M --duration 40 --cgroup-procs $CG/cgroup.procs|linear" >> "$TMP/set"

DB=$TMP/leak.db
"$KSIGHT" agent --db "$DB" --config "$TMP/rss-only.yaml" 2>"$TMP/agent.err" &
AGENT=$!
sleep 1
start_wall=$(date +%s%N)
while IFS='|' read -r name args want; do
	( "$G" $args > "$TMP/$name.out"; echo "$? $(date +%s%N)" > "$TMP/$name.status" ) 2>/dev/null &
done < "$TMP/set"
wait_growers() {
	while IFS='|' read -r name args want; do
		while [ ! -s "$TMP/$name.status" ]; do sleep 0.5; done
	done < "$TMP/set"
}
wait_growers
sleep 3
end_wall=$(date +%s%N)
# the agent's own cost, read while it still runs
ticks=$(getconf CLK_TCK)
cpu=$(awk '{print $14 + $15}' "/proc/$AGENT/stat")
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$AGENT/status")
rss=$(awk '/VmRSS/ {print $2}' "/proc/$AGENT/status")
kill -INT "$AGENT"; wait "$AGENT" 2>/dev/null; AGENT=""

# one line per grower: name want pid start_ns truth_rate status end_ns
while IFS='|' read -r name args want; do
	set -- $(sed -n 1p "$TMP/$name.out" | tr '= ' '  ')
	# pid N pattern P start_ns S rate R
	echo "$name $want $2 $6 $8 $(cat "$TMP/$name.status")"
done < "$TMP/set" > "$TMP/truth"

q() { sqlite3 -separator ' ' "$DB" "$1"; }
while read -r name want pid start truth status end; do
	first=$(q "select min(timestamp) from memory_growth_events where pid=$pid and status='suspect'")
	last=$(q "select pattern, growth_rate_bytes_per_s from memory_growth_events where pid=$pid order by timestamp desc limit 1")
	ttl=$(q "select time_to_limit_s from memory_growth_events where pid=$pid and status='suspect' order by timestamp limit 1")
	echo "$name $want $pid $start $truth $status $end ${first:--} ${last:-- -} ${ttl:--}"
done < "$TMP/truth" > "$TMP/results"
others=$(q "select count(distinct pid) from memory_growth_events where status='suspect'")

awk -v others="$others" -v cpu="$cpu" -v ticks="$ticks" -v wall_ns=$((end_wall - start_wall)) -v hwm="$hwm" \
    -v rss="$rss" -v limit="$LIMIT" '
function abs(x) { return x < 0 ? -x : x }
{
	name = $1; want = $2; start = $4; truth = $5; status = $6; end = $7; first = $8; pattern = $9; rate = $10; ttl = $11
	seen++
	if (want == "none") {
		neg++
		if (first != "-") { fp++; fps = fps " " name }
		if (name ~ /^warmup-/) { wneg++; if (first != "-") wfp++ }
		next
	}
	pos++
	if (first == "-") { missed = missed " " name; next }
	tp++
	lat = (first - start) / 1e9
	if (pattern == want) right++; else wrong = wrong " " name "(" pattern ")"
	kind = name ~ /^seed-/ ? name : name ~ /^multi-/ ? "10 at once" : name == "limited" ? "limited cgroup" : \
	       name ~ /^accel-/ ? "accelerating 64 KiB/s² - 1 MiB/s²" : name ~ /^midlife-/ ? "mid-life" : "other rates/periods"
	n[kind]++; latsum[kind] += lat; if (lat > latmax[kind]) latmax[kind] = lat
	if (want != "accelerating" && truth > 0) {
		err = abs(rate / truth - 1); errsum[kind] += err; errn[kind]++
		if (err > errmax[kind]) errmax[kind] = err
		allerr[++nerr] = err
		if (err > 0.05) off = off sprintf(" %s(%+.1f%%)", name, 100 * (rate / truth - 1))
	}
	if (name == "seed-linear") seedlat = lat
	if (name == "limited") { ttl_pred = ttl; ttl_true = (end - first) / 1e9; limited_status = status }
}
END {
	printf "### Harness: %d growers at once, agent with the rss tracer only\n\n", seen
	printf "| metric | value | target |\n|---|---|---|\n"
	printf "| true-positive rate | %d/%d = %.1f%% | >= 95%% |\n", tp, pos, 100 * tp / pos
	printf "| false-positive rate | %d/%d = %.1f%% | <= 2%% |\n", fp, neg, 100 * fp / neg
	printf "| ... of them warm-ups of 10-60 MB over 2-10 s at random times | %d/%d | |\n", wfp, wneg
	printf "| pattern accuracy (latest row of each) | %d/%d = %.1f%% | >= 95%% |\n", right, tp, tp ? 100 * right / tp : 0
	printf "| detection latency, linear 1 MB/s in a process flat for 31 s | %.1f s | <= 5 s |\n", seedlat
	m = 0; for (i = 1; i <= nerr; i++) if (allerr[i] > m) m = allerr[i]
	printf "| growth-rate error (latest row), worst (all but accelerating) | %.1f%% | <= 5%% |\n", 100 * m
	if (limited_status != "")
		printf "| time to limit at detection, 64 MiB cgroup | %.1f s projected, %.1f s until the OOM kill (%+.0f%%) | +-15%% |\n",
		       ttl_pred, ttl_true, 100 * (ttl_pred / ttl_true - 1)
	printf "| agent CPU (whole process, %.0f s) | %.2f%% of one CPU | |\n", wall_ns / 1e9, 100 * cpu / ticks / (wall_ns / 1e9)
	printf "| agent RSS | %d kB now, %d kB peak | |\n", rss, hwm
	printf "| other processes on the machine suspected meanwhile | %d | |\n", others - tp - fp
	printf "\n| group | found | mean latency | worst latency | mean rate error | worst rate error |\n|---|---|---|---|---|---|\n"
	for (k in n)
		printf "| %s | %d | %.1f s | %.1f s | %s | %s |\n", k, n[k], latsum[k] / n[k], latmax[k],
		       errn[k] ? sprintf("%.1f%%", 100 * errsum[k] / errn[k]) : "-", errn[k] ? sprintf("%.1f%%", 100 * errmax[k]) : "-"
	if (missed != "") printf "\nmissed:%s\n", missed
	if (fps != "") printf "\nfalse positives:%s\n", fps
	if (wrong != "") printf "\nwrong pattern:%s\n", wrong
	if (off != "") printf "\nrate off by more than 5%%:%s\n", off
}' "$TMP/results"
echo
"$BENCH_BIN/leak" cpu
echo
"$BENCH_BIN/leak" synth
echo
"$BENCH_BIN/leak" heldout
