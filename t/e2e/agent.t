#!/bin/sh
# ksight agent end to end: a short run fills every table the agent writes;
# SIGINT stops it cleanly; kill -9 mid-run leaves a sound database that
# lost at most the last tick.
. "$(dirname "$0")/../lib/tap.sh"
require_bpf
plan 14

DB=$TMP/agent.db
( sleep 1; for i in 1 2 3 4 5; do /bin/true "e2e-marker-$i"; done ) &
"$KSIGHT" agent --db "$DB" --duration 3 2>"$TMP/agent.err"
rc=$?
wait
is "$rc" 0 "agent --duration 3 exits 0"
like "$(cat "$TMP/agent.err")" "collecting into .*agent.db" "it says where the data goes"
like "$(cat "$TMP/agent.err")" "ksight query" "and how to look at it"

for t in process_events memory_metrics load_metrics collector_stats; do
	n=$(q "select count(*) from $t")
	ok "$t has rows ($n)" test "$n" -gt 0
done
is "$(q "select count(*) from process_events where event='exec' and argv like '/bin/true e2e-marker-%'")" 5 \
   "the 5 marked execs are in process_events"
n=$(q "select count(*) from memory_metrics")
within "$n" 3 4 "one memory_metrics row per tick in 3 s ($n)"
is "$(q "select enabled from collector_stats where collector='proc' order by timestamp desc limit 1")" 1 \
   "collector_stats says the proc tracer ran"

# SIGINT: clean stop with a summary
"$KSIGHT" agent --db "$TMP/int.db" 2>"$TMP/int.err" &
pid=$!
sleep 1.6
kill -INT $pid
wait $pid
is "$?" 0 "SIGINT stops the agent with status 0"
like "$(cat "$TMP/int.err")" "stopped after .* rows stored, 0 lost" "and it reports what it stored"

# kill -9 in the middle of a run
DB=$TMP/crash.db
"$KSIGHT" agent --db "$DB" --duration 60 2>/dev/null &
pid=$!
sleep 3.6
kill -9 $pid
killed_at=$(date +%s%N)
wait $pid 2>/dev/null
is "$(q 'PRAGMA integrity_check')" ok "after kill -9 the database passes integrity_check"
last=$(q "select max(timestamp) from memory_metrics")
gap_ms=$(( (killed_at - last) / 1000000 ))
within "$gap_ms" 0 1500 "at most the last tick is lost (${gap_ms} ms between the last row and the kill)"
done_testing
