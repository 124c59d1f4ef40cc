#!/bin/sh
# Detection inside `ksight agent` against a real workload: after a quiet
# start (the detectors learn; detect.probation is shortened to 150 samples
# at a 100 ms tick; the test counts ticks, not seconds), a burst of direct disk writes to the disk under $TMP
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
agent_bg agent --db "$DB" --config "$TMP/c.yaml" --interval 100ms --no-http || { echo "Bail out! no agent"; exit 1; }
pid=$AGENT_PID
# Learning: the probation (150 samples) and some margin, counted in ticks.
wait_for "200 ticks" 180 at_least 200 "select count(*) from memory_metrics"
learnt=$(q "select timestamp from memory_metrics order by timestamp limit 1 offset 150")
t0=$(date +%s%N)
dd if=/dev/zero of="$TMP/burst" bs=1M count=300 oflag=direct 2> /dev/null
sync
burst_end=$(date +%s%N)
# The anomaly row waits for its correlation window (3 s): wait for ticks
# past it rather than for a time.
wait_for "30 ticks after the burst" 120 at_least 30 "select count(*) from memory_metrics where timestamp > $burst_end"
t1=$(date +%s%N)
agent_stop $pid
is "$?" 0 "agent with detection runs and exits 0"
like "$(cat "$TMP/agent.err")" "detection on: " "it says detection is on"
BURST="timestamp between $t0 and $t1"
n=$(q "select count(*) from anomalies where $BURST and metric in ('io.write_bytes_per_s{device=$DEV}', 'io.write_iops{device=$DEV}', 'io.util_pct{device=$DEV}', 'io.write_p95_us{device=$DEV}')")
ok "the write burst on $DEV is an anomaly of its write metrics, during the burst ($n rows)" test "$n" -ge 1
# The first of them: which one depends on the host (on a shared machine
# other writers during learning widen the throughput's range, while the
# burst's operations or latency still stand out).
WRITES="metric in ('io.write_bytes_per_s{device=$DEV}', 'io.write_iops{device=$DEV}', 'io.util_pct{device=$DEV}', 'io.write_p95_us{device=$DEV}')"
row=$(q "select (value > high) || '|' || (score >= 0.5) || '|' || kind from anomalies where $BURST and $WRITES order by timestamp limit 1")
is "$row" "1|1|high" "the first of them: above its expected range, score >= 0.5, kind high"
diag "flagged during the burst: $("$KSIGHT" query --db "$DB" --csv "select metric || ' ' || kind || ' ' || round(value) || ' [' || round(low) || ', ' || round(high) || '] ' || round(score, 2) from anomalies where $BURST" | sed 1d | tr '\n' ';')"
like "$(q "select explanation from anomalies where $BURST and $WRITES order by timestamp limit 1")" \
     "(write throughput on $DEV is [0-9.]+ (MiB|GiB)/s|writes on $DEV are [0-9.]+|utilisation of $DEV is [0-9.]+|write p95 on $DEV is [0-9.]+)" \
     "explained in words, with the disk and the value"
start=$(q "select min(timestamp) from memory_metrics")
early=$(q "select count(*) from anomalies where timestamp < $learnt")
[ "$early" = 0 ] || diag "$(q "select timestamp - $start, metric, kind, explanation from anomalies where timestamp < $learnt")"
is "$early" 0 "nothing flagged while learning (the first 150 ticks)"
ok "collector_stats has the detectors' cost per tick" test "$(q "select count(*) from collector_stats where collector = 'detect' and cost_ms > 0 and events > 20")" -gt 100
done_testing
