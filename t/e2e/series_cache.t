#!/bin/sh
# /api/series keeps the closed buckets of long ranges from one request to the
# next (src/http/series.c, "Closed buckets").  On a database with 30 days of
# hour rows (load_metrics_1h, written here with sqlite3, the rollup marks set
# as an agent leaves them), a 30-day answer is the same byte for byte:
#  - asked twice of one agent (the second from the cache);
#  - asked of a fresh agent (no cache), also for a range moved by seconds,
#    whose buckets partly come from the cache;
#  - after the oldest day of hour rows is pruned under a running agent: its
#    answer changes (the cache is dropped) and equals a fresh agent's.
# The same for a 24-hour range on 26 hours of minute rows (load_metrics_1m),
# whose closed buckets are kept too: pruned by the oldest minutes into the
# range, the answer's first hours come from the hour rows instead.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/http.sh"
require_bpf
plan 12

DB=$TMP/series.db
HOUR=3600000000000
NOW=$(date +%s%N)
MARK=$(( (NOW / HOUR - 2) * HOUR ))             # rolled up through two hours ago
FIRST=$(( MARK - 30 * 24 * HOUR ))

# Only the scrapers the test reads; no tracer (nothing here needs one).
cat >"$TMP/agent.yaml" <<YAML
detect:
  enabled: false
tracers:
  proc: {enabled: false}
  syscall: {enabled: false}
  blockio: {enabled: false}
  sched: {enabled: false}
  pagefault: {enabled: false}
  tcp: {enabled: false}
  rss: {enabled: false}
YAML

# The schema, from a first agent.
agent_bg schema --db "$DB" --config "$TMP/agent.yaml" --no-http || { echo "Bail out! no agent"; exit 1; }
agent_stop $AGENT_PID

# 30 days of hour rows, a level that moves with the hour, and the marks.
{
	echo "BEGIN;"
	i=0
	while [ $i -lt $((30 * 24)) ]; do
		echo "INSERT INTO load_metrics_1h (timestamp, load1, load5, load15, samples) VALUES ($((FIRST + i * HOUR)), $((i % 7)).5, $((i % 5)).25, $((i % 3)), 3600);"
		i=$((i + 1))
	done
	echo "INSERT OR REPLACE INTO rollup_marks (name, through_ns) VALUES ('load_metrics_1m', $MARK), ('load_metrics_1h', $MARK);"
	echo "COMMIT;"
} | sqlite3 "$DB" || { echo "Bail out! cannot write the hour rows"; exit 1; }

UNTIL=$MARK
SINCE=$(( UNTIL - 30 * 24 * HOUR ))
range() { echo "/api/series?since=$(( $1 / 1000000000 ))&until=$(( $2 / 1000000000 ))&step=4320s"; }
# answer NAME SINCE UNTIL: the body of /api/series over [SINCE, UNTIL) into $TMP/NAME
answer() { get "$(range "$2" "$3")" && [ "$STATUS" = 200 ] && cp "$BODY" "$TMP/$1"; }

http_agent a --db "$DB" --config "$TMP/agent.yaml" || { echo "Bail out! no agent"; exit 1; }
answer a1 $SINCE $UNTIL
ok "30 d: the load series has the hour rows' buckets (got $(jq '.series.load.data[0] | length' "$TMP/a1"))" \
	test "$(jq '.series.load.data[0] | length' "$TMP/a1")" -ge 590
answer a2 $SINCE $UNTIL
ok "30 d asked again (from the cache): the same bytes" cmp -s "$TMP/a1" "$TMP/a2"
answer a3 $((SINCE + 37000000000)) $((UNTIL + 37000000000))
agent_stop $AGENT_PID

http_agent b --db "$DB" --config "$TMP/agent.yaml" || { echo "Bail out! no agent"; exit 1; }
answer b1 $SINCE $UNTIL
ok "a fresh agent (no cache) gives the same bytes" cmp -s "$TMP/a1" "$TMP/b1"
answer b3 $((SINCE + 37000000000)) $((UNTIL + 37000000000))
ok "a range moved by 37 s (partial bucket, cached buckets, newer ones): the same bytes as a fresh agent's" \
	cmp -s "$TMP/a3" "$TMP/b3"

# Retention prunes the oldest hours under the running agent.
sqlite3 "$DB" "DELETE FROM load_metrics_1h WHERE timestamp < $((FIRST + 24 * HOUR))" ||
	{ echo "Bail out! cannot prune"; exit 1; }
answer b4 $SINCE $UNTIL
ok "after pruning the oldest day the answer changes (the cache was dropped)" test -s "$TMP/b4" -a -n "$(cmp "$TMP/b1" "$TMP/b4")"
agent_stop $AGENT_PID

http_agent c --db "$DB" --config "$TMP/agent.yaml" || { echo "Bail out! no agent"; exit 1; }
answer c4 $SINCE $UNTIL
ok "... and equals a fresh agent's answer" cmp -s "$TMP/b4" "$TMP/c4"
answer c5 $SINCE $UNTIL
ok "... asked again of that agent (from its cache): the same bytes" cmp -s "$TMP/c4" "$TMP/c5"
is "$(jq -r '.series.load.tier' "$TMP/c4")" 1h "the 30 d view reads the hour tier"
agent_stop $AGENT_PID

# The minute tier: 26 hours of minute rows up to the mark, the 24 h view.
MINUTE=60000000000
MFIRST=$(( MARK - 26 * HOUR ))
{
	echo "BEGIN;"
	i=0
	while [ $i -lt $((26 * 60)) ]; do
		echo "INSERT INTO load_metrics_1m (timestamp, load1, load5, load15, samples) VALUES ($((MFIRST + i * MINUTE)), $((i % 11)).75, $((i % 13)).5, $((i % 4)), 60);"
		i=$((i + 1))
	done
	echo "COMMIT;"
} | sqlite3 "$DB" || { echo "Bail out! cannot write the minute rows"; exit 1; }
DSINCE=$(( UNTIL - 24 * HOUR ))
range() { echo "/api/series?since=$(( $1 / 1000000000 ))&until=$(( $2 / 1000000000 ))&step=144s"; }
http_agent d --db "$DB" --config "$TMP/agent.yaml" || { echo "Bail out! no agent"; exit 1; }
answer d1 $DSINCE $UNTIL
is "$(jq -r '.series.load.tier' "$TMP/d1")/$(jq '.series.load.data[0] | length' "$TMP/d1")" 1m/600 \
	"24 h at 144 s: the load series reads the minute tier, 600 buckets"
answer d2 $DSINCE $UNTIL
answer d3 $((DSINCE + 37000000000)) $((UNTIL + 37000000000))
ok "24 h asked again (from the cache): the same bytes" cmp -s "$TMP/d1" "$TMP/d2"
agent_stop $AGENT_PID
http_agent e --db "$DB" --config "$TMP/agent.yaml" || { echo "Bail out! no agent"; exit 1; }
answer e1 $DSINCE $UNTIL
answer e3 $((DSINCE + 37000000000)) $((UNTIL + 37000000000))
ok "24 h: a fresh agent gives the same bytes, for the range and for it moved by 37 s" \
	sh -c "cmp -s '$TMP/d1' '$TMP/e1' && cmp -s '$TMP/d3' '$TMP/e3'"
# Retention prunes the minute rows of the range's first three hours.
sqlite3 "$DB" "DELETE FROM load_metrics_1m WHERE timestamp < $((DSINCE + 3 * HOUR))" ||
	{ echo "Bail out! cannot prune"; exit 1; }
answer e4 $DSINCE $UNTIL
agent_stop $AGENT_PID
http_agent f --db "$DB" --config "$TMP/agent.yaml" || { echo "Bail out! no agent"; exit 1; }
answer f4 $DSINCE $UNTIL
agent_stop $AGENT_PID
ok "minute rows pruned into the range: the answer changes (hour rows there) and equals a fresh agent's" \
	sh -c "[ -n \"\$(cmp '$TMP/d1' '$TMP/e4')\" ] && cmp -s '$TMP/e4' '$TMP/f4'"

