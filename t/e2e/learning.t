#!/bin/sh
# A fresh agent cannot judge anything for its probation (512 samples); it
# says so, and it starts ready when baselines are stored.  A 45 s capture at
# a 100 ms tick (detection off), `ksight baseline learn` on it, then an
# agent on that database with the default probation (512 samples, 51 s at
# this tick): /api/health must say ready and seeded at its first tick, and
# a burst of direct writes to the disk under $TMP in its first seconds must
# produce an `anomalies` row for that disk's write metrics.  An agent on a
# fresh database must say it is learning, in /api/health and /metrics.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/http.sh"
require_bpf
plan 15

DB=$TMP/seeded.db
src=$(df --output=source "$TMP" | tail -1)
DEV=$(lsblk -no pkname "$src" 2>/dev/null | head -1)
[ -n "$DEV" ] || DEV=$(basename "$src")

# wait_until SECONDS COMMAND...: runs COMMAND every 0.2 s until it succeeds.
wait_until() {
	_end=$(( $(date +%s) + $1 )); shift
	until "$@"; do
		[ "$(date +%s)" -lt $_end ] || return 1
		sleep 0.2
	done
}

printf 'detect:\n  enabled: false\n' > "$TMP/capture.yaml"
"$KSIGHT" agent --db "$DB" --config "$TMP/capture.yaml" --no-http --interval 100ms --duration 45 2> "$TMP/capture.err"
is "$?" 0 "a 45 s capture at 100 ms, detection off"
is "$(q "select count(*) from baselines")" 0 "it stored no baseline"
"$KSIGHT" baseline learn --db "$DB" > "$TMP/learn.out" 2>&1
like "$(cat "$TMP/learn.out")" "learnt baselines of [0-9]+ metrics" "baseline learn learns from it"

# The agent on it: ready from its first tick.
printf 'detect:\n  window: 3s\n' > "$TMP/agent.yaml"
http_agent seeded --db "$DB" --config "$TMP/agent.yaml" --interval 100ms --duration 30 || { echo "Bail out! no agent"; exit 1; }
t0=$(date +%s%N)
get /api/health
is "$(jqb '.learning.ready')/$(jqb '.learning.needed')" "true/512" "health at the first tick: ready, the probation is 512"
ok "most metrics started from the stored baseline ($(jqb '.learning.metrics_seeded') seeded, $(jqb '.learning.metrics_learning') learning)" \
	test "$(jqb '.learning.metrics_seeded')" -gt "$(jqb '.learning.metrics_learning')"
like "$(jqb '.learning.text')" "^ready \\(seeded from the stored baseline of 20[0-9-]+ [0-9:]+ UTC\\)" \
	"and says so: $(jqb '.learning.text')"
dd if=/dev/zero of="$TMP/burst" bs=1M count=300 oflag=direct 2> /dev/null
sync
rm -f "$TMP/burst"
WRITES="metric in ('io.write_bytes_per_s{device=$DEV}', 'io.write_iops{device=$DEV}', 'io.util_pct{device=$DEV}', 'io.write_p95_us{device=$DEV}')"
found() { [ "$(q "select count(*) from anomalies where timestamp >= $t0 and $WRITES")" -ge 1 ]; }
wait_until 20 found
ok "a write burst in its first seconds is an anomaly of $DEV's write metrics" found
first=$(q "select (min(timestamp) - $t0) / 1000000 from anomalies where timestamp >= $t0 and $WRITES")
diag "first row $first ms after the first tick; $(q "select explanation from anomalies where timestamp >= $t0 and $WRITES order by timestamp limit 1")"
ok "within the 512 samples an unseeded detector would sit out ($first ms)" test "$first" -lt 51200
kill -INT $AGENT_PID
wait $AGENT_PID
is "$?" 0 "the agent stops cleanly"

# A fresh database: learning, and saying how far along.
DB=$TMP/fresh.db
http_agent fresh --db "$DB" --interval 100ms --duration 60 || { echo "Bail out! no agent"; exit 1; }
get /api/health
is "$(jqb '.learning.ready')/$(jqb '.learning.metrics_seeded')/$(jqb '.learning.seeded_from')" "false/0/null" \
	"a fresh agent is not ready, nothing seeded"
like "$(jqb '.learning.text')" "^learning: [0-9]+ of 512 samples \\(about [0-9a ]+minutes? left\\)$" \
	"and says how far along: $(jqb '.learning.text')"
ok "samples and seconds left agree ($(jqb '.learning.samples') samples, $(jqb '.learning.seconds_left') s)" \
	awk -v n="$(jqb '.learning.samples')" -v s="$(jqb '.learning.seconds_left')" \
	'BEGIN { exit !(n < 512 && s > 0 && (512 - n) * 0.1 - s < 0.01 && s - (512 - n) * 0.1 < 0.01) }'
get /metrics
like "$(grep '^ksight_detect_' "$BODY" | tr '\n' ' ')" \
	"ksight_detect_learning_samples [0-9]+ ksight_detect_learning_needed_samples 512 ksight_detect_metrics\\{state=\"learning\"\\} [1-9]" \
	"/metrics has the progress as gauges"
n1=$(curl -s "$URL/api/health" | jq .learning.samples)
moved() { [ "$(curl -s "$URL/api/health" | jq .learning.samples)" -gt "$n1" ]; }
wait_until 10 moved
ok "and the count goes up as ticks come ($n1 then more)" moved
like "$("$KSIGHT" status --db "$DB" 2>&1)" "detection +learning: [0-9]+ of 512 samples" "ksight status says it too"
done_testing
