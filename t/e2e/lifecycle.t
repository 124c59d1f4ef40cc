#!/bin/sh
# The agent's life as a service, on a real database, with no assumption on
# how long a start or a tick takes:
#  - --ready-fd: "ready" comes once the first tick is stored;
#  - ksight status: running (pid, health, collectors) or not (exit 3);
#    a second agent on the same database is refused;
#  - SIGINT, SIGTERM: the tick under way is stored; the ticks the agent
#    says it made are the ticks in the database, the rows it says it
#    stored are the rows there, none lost;
#  - SIGHUP: the policy and mode reload; an invalid policy or configuration
#    keeps the ones in use and the error names file and line; a setting
#    that needs a restart says so; no tick is lost across reloads;
#  - wall-clock steps (the test clock file, an hour back then forward):
#    logged, counted in collector_stats, timestamps follow the wall clock,
#    intervals stay those of the monotonic clock.
. "$(dirname "$0")/../lib/tap.sh"
require_bpf
plan 42

# rows DB: every row of every table
rows() {
	# The writer's rows: not the rollups retention writes (<table>_1m, _1h, rollup_marks).
	for t in $(sqlite3 "$1" "select name from sqlite_master where type = 'table' and name not like 'sqlite_%'
	                         and name not like '%\_1m' escape '\' and name not like '%\_1h' escape '\' and name != 'rollup_marks'"); do
		sqlite3 "$1" "select count(*) from \"$t\""
	done | awk '{ s += $1 } END { print s + 0 }'
}
# said LOG: "TICKS ROWS LOST" from the agent's last line
said() { sed -n 's/.*stopped after .*: \([0-9]*\) ticks, \([0-9]*\) rows stored, \([0-9]*\) lost.*/\1 \2 \3/p' "$1"; }
ticks_in() { q "select count(distinct timestamp) from collector_stats where collector = 'store'"; }

# --- ready, status, one agent per database ---
DB=$TMP/life.db
agent_bg life --db "$DB" --listen 127.0.0.1:0 || { echo "Bail out! no agent"; exit 1; }
ok "ready means the first tick is stored ($(q 'select count(*) from memory_metrics') memory rows)" \
	at_least 1 "select count(*) from memory_metrics"
out=$("$KSIGHT" status --db "$DB"); rc=$?
is "$rc" 0 "status: exit 0 while the agent runs"
like "$out" "agent +running, pid $AGENT_PID, since " "it names the agent's pid"
like "$out" "health +(ok|degraded) \(http://127.0.0.1:[0-9]+/api/health\)" "and what /api/health says"
like "$out" "collectors +[0-9]+ on, [0-9]+ off" "and the collectors"
like "$out" "tracer +proc +on" "each on its own line"
is "$("$KSIGHT" status --db "$DB" --json | jq -r '[.running, .agent.pid, (.collectors | length > 0)] | join(" ")')" \
	"true $AGENT_PID true" "--json: running, the pid, the collectors"
"$KSIGHT" agent --db "$DB" --no-http --duration 1 2>"$TMP/second.err"
is "$?" 1 "a second agent on the same database is refused"
like "$(cat "$TMP/second.err")" "another agent \(pid $AGENT_PID\) is already collecting into" "and says which"

# --- SIGINT and SIGTERM: the tick under way is stored ---
for sig in INT TERM; do
	wait_for "two ticks" 60 at_least 2 "select count(*) from memory_metrics"
	sent=$(date +%s%N)
	kill -$sig $AGENT_PID
	wait $AGENT_PID
	is "$?" 0 "SIG$sig: exit 0"
	set -- $(said "$TMP/life.err")
	is "$(ticks_in)" "$1" "SIG$sig: every tick the agent made ($1) is in the database"
	is "$(q 'select count(*) from memory_metrics')" "$1" "SIG$sig: one memory row per tick"
	ok "SIG$sig: the last tick came after the signal (the interval under way is stored)" \
		test "$(q 'select max(timestamp) from collector_stats')" -ge "$sent"
	is "$3" 0 "SIG$sig: no row lost"
	is "$(rows "$DB")" "$2" "SIG$sig: the rows it stored ($2) are the rows in the database"
	if [ $sig = INT ]; then
		"$KSIGHT" status --db "$DB" >/dev/null
		is "$?" 3 "status: exit 3 once no agent runs"
		DB=$TMP/term.db
		agent_bg life --db "$DB" --no-http || { echo "Bail out! no agent"; exit 1; }
	fi
done

# --- SIGHUP: reloads ---
DB=$TMP/hup.db
printf 'mode: observe\nrules:\n  - name: note-leaks\n    when: {leak: {min_confidence: 0.9}}\n    action: notify\n' > "$TMP/policy.yaml"
printf 'remediation:\n  policy: %s\ndetect:\n  probation: 512\n' "$TMP/policy.yaml" > "$TMP/ksight.yaml"
agent_bg hup --db "$DB" --config "$TMP/ksight.yaml" --no-http || { echo "Bail out! no agent"; exit 1; }
like "$(cat "$TMP/hup.err")" "remediation: mode observe, 1 rule" "started with the policy's mode and rule"
reloaded() { [ "$(grep -c "$1" "$TMP/hup.err")" -ge "$2" ]; }

sed -i 's/mode: observe/mode: recommend/' "$TMP/policy.yaml"
kill -HUP $AGENT_PID
wait_for "the reload" 60 reloaded "reloaded: remediation mode recommend, 1 rule" 1
ok "SIGHUP: the new policy's mode is in force" reloaded "reloaded: remediation mode recommend, 1 rule" 1
ok "the agent still runs" kill -0 $AGENT_PID

printf 'mode: act\nrules:\n  - name: broken\n    when: {leak: {min_confidence: 2}}\n    action: explode\n' > "$TMP/policy.yaml"
kill -HUP $AGENT_PID
wait_for "the failed reload" 60 reloaded "reload failed" 1
like "$(grep 'reload failed' "$TMP/hup.err")" "policy.yaml:[0-9]+: .*the configuration and policy in use stay" \
	"an invalid policy: the error names file and line, and the old one stays"
is "$(grep -c 'reloaded: ' "$TMP/hup.err")" 1 "no 'reloaded' line for it"
ok "the agent still runs" kill -0 $AGENT_PID

printf 'remediation:\n  policy: %s\ndetect:\n  probation: [oops\n' "$TMP/policy.yaml" > "$TMP/ksight.yaml"
kill -HUP $AGENT_PID
wait_for "the second failed reload" 60 reloaded "reload failed" 2
like "$(grep 'reload failed' "$TMP/hup.err" | tail -1)" "ksight.yaml:[0-9]+" "an invalid configuration: file and line too"

printf 'mode: observe\nrules: []\n' > "$TMP/policy.yaml"
printf 'remediation:\n  policy: %s\ndetect:\n  probation: 100\n' "$TMP/policy.yaml" > "$TMP/ksight.yaml"
kill -HUP $AGENT_PID
wait_for "the third reload" 60 reloaded "reloaded: remediation mode observe, 0 rule" 1
like "$(cat "$TMP/hup.err")" "detect.probation changed from '512' to '100': that takes a restart" \
	"a setting only a restart applies is named as such"
n=$(q 'select count(*) from memory_metrics')
wait_for "a tick after the reloads" 60 at_least $((n + 1)) "select count(*) from memory_metrics"
kill -TERM $AGENT_PID
wait $AGENT_PID
is "$?" 0 "after three SIGHUPs, SIGTERM: exit 0"
set -- $(said "$TMP/hup.err")
is "$(q 'select count(*) from memory_metrics')/$(ticks_in)" "$1/$1" "no tick lost across the reloads ($1 ticks)"
is "$3/$(rows "$DB")" "0/$2" "no row lost"

# --- wall-clock steps ---
DB=$TMP/clock.db
echo 0 > "$TMP/clock"
export KSIGHT_TEST_CLOCK_FILE=$TMP/clock
agent_bg clock --db "$DB" --no-http || { echo "Bail out! no agent"; exit 1; }
unset KSIGHT_TEST_CLOCK_FILE
wait_for "two ticks" 60 at_least 2 "select count(*) from vmstat_metrics"
before=$(q 'select max(timestamp) from memory_metrics')
echo -3600 > "$TMP/clock"
stepped() { grep -c "wall clock stepped" "$TMP/clock.err" | grep -q "^$1$"; }
wait_for "the step back" 60 stepped 1
n=$(q 'select count(*) from vmstat_metrics')
wait_for "two ticks after the step" 60 at_least $((n + 2)) "select count(*) from vmstat_metrics"
echo 0 > "$TMP/clock"
wait_for "the step forward" 60 stepped 2
n=$(q 'select count(*) from vmstat_metrics')
wait_for "two more ticks" 60 at_least $((n + 2)) "select count(*) from vmstat_metrics"
agent_stop $AGENT_PID
is "$?" 0 "through an hour back and forward again: exit 0"
like "$(grep 'wall clock stepped' "$TMP/clock.err" | head -1)" "stepped -3600\.[0-9]+ s" "the step back is logged with its size"
like "$(grep 'wall clock stepped' "$TMP/clock.err" | tail -1)" "stepped \+3600\.[0-9]+ s .*2 steps so far" \
	"and the step forward, counted"
is "$(q "select count(*) || ' ' || max(events_total) from collector_stats where collector = 'clock'")" "2 2" \
	"collector_stats has a 'clock' row for each step"
ok "timestamps follow the wall clock: rows an hour before the first ones" \
	test "$(q 'select min(timestamp) from memory_metrics')" -lt $((before - 3000000000000))
is "$(q 'select count(*) from vmstat_metrics where interval_ms < 0 or interval_ms > 600000')" 0 \
	"intervals stay those of the monotonic clock (none negative or an hour long)"
is "$(q "select count(*) from cpu_metrics where user_pct < 0 or user_pct > 100 or idle_pct < 0 or idle_pct > 100")" 0 \
	"and so CPU shares stay within 0..100 %"
set -- $(said "$TMP/clock.err")
is "$(ticks_in)/$3" "$1/0" "every tick stored, none lost"
"$KSIGHT" status --db "$DB" > "$TMP/status.out"
like "$(cat "$TMP/status.out")" "clock steps +2, the last at .*stepped \+3600" "ksight status shows the steps"
done_testing
