#!/bin/sh
# ksight agent end to end: a short run fills every table the agent writes;
# SIGINT stops it cleanly; kill -9 mid-run leaves a sound database that
# kept every tick committed before the kill.  No assumption on how long
# start-up or a tick takes: the tests wait for the agent's ready line and
# for rows.
. "$(dirname "$0")/../lib/tap.sh"
require_bpf
plan 14

DB=$TMP/agent.db
"$KSIGHT" agent --db "$DB" --duration 3 2>"$TMP/agent.err"
rc=$?
is "$rc" 0 "agent --duration 3 exits 0"
like "$(cat "$TMP/agent.err")" "collecting into .*agent.db" "it says where the data goes"
like "$(cat "$TMP/agent.err")" "ksight query" "and how to look at it"

# Marked execs once the tracers are loaded, then a few ticks.  The agent
# sees the whole host: the marker names this run (another suite may run
# the same test beside it).
DB=$TMP/run.db
MARK=e2e-marker-$$
agent_bg run --db "$DB" --no-http || { echo "Bail out! no agent"; exit 1; }
for i in 1 2 3 4 5; do /bin/true "$MARK-$i"; done
wait_for "three ticks" 60 at_least 3 "select count(*) from memory_metrics"
agent_stop $AGENT_PID
is "$?" 0 "SIGINT stops the agent with status 0"
like "$(cat "$TMP/run.err")" "stopped after .* rows stored, 0 lost" "and it reports what it stored"
for t in process_events memory_metrics load_metrics collector_stats; do
	n=$(q "select count(*) from $t")
	ok "$t has rows ($n)" test "$n" -gt 0
done
is "$(q "select count(*) from process_events where event='exec' and argv like '/bin/true $MARK-%'")" 5 \
   "the 5 marked execs are in process_events"
ticks=$(sed -n 's/.*stopped after .*: \([0-9]*\) ticks,.*/\1/p' "$TMP/run.err")
is "$(q "select count(*) from memory_metrics")" "$ticks" "one memory_metrics row per tick ($ticks)"
is "$(q "select enabled from collector_stats where collector='proc' order by timestamp desc limit 1")" 1 \
   "collector_stats says the proc tracer ran"

# kill -9 in the middle of a run: whatever a reader saw committed stays.
DB=$TMP/crash.db
agent_bg crash --db "$DB" --no-http || { echo "Bail out! no agent"; exit 1; }
wait_for "three ticks" 60 at_least 3 "select count(*) from memory_metrics"
seen=$(q "select count(*) from memory_metrics")
kill -9 $AGENT_PID
wait $AGENT_PID 2>/dev/null
is "$(q 'PRAGMA integrity_check')" ok "after kill -9 the database passes integrity_check"
ok "every tick committed before the kill is still there ($seen seen, $(q 'select count(*) from memory_metrics') after)" \
	at_least "$seen" "select count(*) from memory_metrics"
done_testing
