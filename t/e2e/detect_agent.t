#!/bin/sh
# Detection inside `ksight agent` against a real workload: after a quiet
# start (the detectors learn; detect.probation is shortened to 150 samples
# at a 100 ms tick), a burst of direct disk writes to the disk under $TMP
# must produce an `anomalies` row for that disk's write metrics, with the
# value, expected range, score and explanation filled in, and the
# detectors' own cost row in collector_stats.
. "$(dirname "$0")/../lib/tap.sh"
require_bpf
plan 7

DB=$TMP/agent.db
src=$(df --output=source "$TMP" | tail -1)
DEV=$(lsblk -no pkname "$src" 2>/dev/null | head -1)
[ -n "$DEV" ] || DEV=$(basename "$src")
printf 'detect:\n  probation: 150\n  window: 3s\n' > "$TMP/c.yaml"
"$KSIGHT" agent --db "$DB" --config "$TMP/c.yaml" --interval 100ms --duration 30 2> "$TMP/agent.err" &
pid=$!
at_exit "kill $pid 2>/dev/null"
sleep 20
t0=$(date +%s%N)
dd if=/dev/zero of="$TMP/burst" bs=1M count=300 oflag=direct 2> /dev/null
sync
t1=$(( $(date +%s%N) + 4000000000 ))
wait $pid
is "$?" 0 "agent with detection runs 30 s and exits 0"
like "$(cat "$TMP/agent.err")" "detection on: " "it says detection is on"
BURST="timestamp between $t0 and $t1"
n=$(q "select count(*) from anomalies where $BURST and metric in ('io.write_bytes_per_s{device=$DEV}', 'io.write_iops{device=$DEV}', 'io.util_pct{device=$DEV}', 'io.write_p95_us{device=$DEV}')")
ok "the write burst on $DEV is an anomaly of its write metrics, during the burst ($n rows)" test "$n" -ge 1
row=$(q "select metric || '|' || (value > high) || '|' || (score >= 0.5) || '|' || kind from anomalies where $BURST and metric = 'io.write_bytes_per_s{device=$DEV}' order by timestamp limit 1")
is "$row" "io.write_bytes_per_s{device=$DEV}|1|1|high" "write throughput: above its expected range, score >= 0.5, kind high"
like "$(q "select explanation from anomalies where $BURST and metric = 'io.write_bytes_per_s{device=$DEV}' order by timestamp limit 1")" \
     "write throughput on $DEV is [0-9.]+ (MiB|GiB)/s" "explained in words"
start=$(q "select min(timestamp) from memory_metrics")
early=$(q "select count(*) from anomalies where timestamp < $start + 15000000000")
[ "$early" = 0 ] || diag "$(q "select timestamp - $start, metric, kind, explanation from anomalies where timestamp < $start + 15000000000")"
is "$early" 0 "nothing flagged while learning"
ok "collector_stats has the detectors' cost per tick" test "$(q "select count(*) from collector_stats where collector = 'detect' and cost_ms > 0 and events > 20")" -gt 100
done_testing
