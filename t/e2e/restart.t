#!/bin/sh
# A restart on the same database carries on where the last agent stopped:
# a process leaking memory is a leak suspect; in act mode one rule renices
# it (cooldown 2 s, within a budget of one action an hour) and another
# notifies (cooldown 10 min).  The agent is stopped and started again while
# the process still leaks.  The second agent
#  - says what it took over: a cooldown, the action of the last hour, the
#    suspect still alive (same pid and start time);
#  - does not notify again (the notify cooldown survived);
#  - decides to renice again once that short cooldown is over, but only
#    recommends it: the hourly budget, spent before the restart, survived;
#  - loads the baselines the first one saved (ticks of 100 ms, so that
#    the first one has enough samples to save them).
# The rules match only this test's own process (a unique command name), so
# a copy of the test running beside it, or any other leak, is not touched.
. "$(dirname "$0")/../lib/tap.sh"
require_bpf
plan 10

LEAKY=lky$$
cp "$HELPERS/grower" "$TMP/$LEAKY"
cat > "$TMP/policy.yaml" <<EOF
mode: act
interval: 2s
max_actions_per_hour: 1
rules:
  - name: tell
    when: {leak: {min_confidence: 0.5}}
    match: {comm: [$LEAKY]}
    action: notify
    cooldown: 10m
  - name: calm
    when: {leak: {min_confidence: 0.5}}
    match: {comm: [$LEAKY]}
    action: renice
    nice: 5
    cooldown: 2s
EOF
DB=$TMP/restart.db
"$TMP/$LEAKY" linear --rate 4M --duration 600 > "$TMP/leaky.out" &
lp=$!
at_exit "kill $lp 2>/dev/null"

agent_bg first --db "$DB" --policy "$TMP/policy.yaml" --no-http --interval 100ms || { echo "Bail out! no agent"; exit 1; }
wait_for "the renice" 120 at_least 1 "select count(*) from agent_actions where target_pid = $lp and action = 'renice' and status = 'done'"
wait_for "the notice" 60 at_least 1 "select count(*) from agent_actions where rule = 'tell' and status = 'done'"
# enough samples for a baseline worth saving (BASELINE_EXACT, 64)
wait_for "70 ticks" 120 at_least 70 "select count(*) from memory_metrics"
agent_stop $AGENT_PID
is "$(awk '{ print $19 }' /proc/$lp/stat)" 5 "first agent: the leaking process was reniced to 5"
restarted=$(date +%s%N)

agent_bg second --db "$DB" --policy "$TMP/policy.yaml" --no-http --interval 100ms || { echo "Bail out! no agent"; exit 1; }
like "$(cat "$TMP/second.err")" "remediation carries on: [1-9][0-9]* cooldown\(s\) still running, 1 action\(s\) in the last hour, [1-9][0-9]* leak suspect\(s\) still alive" \
	"second agent: it takes over the cooldowns, the hour's action and the live suspect"
wait_for "a new decision on the process" 120 at_least 1 \
	"select count(*) from agent_actions where target_pid = $lp and rule = 'calm' and timestamp > $restarted"
n=$(q "select count(*) from agent_cycles where timestamp > $restarted")
wait_for "two more cycles" 60 at_least $((n + 2)) "select count(*) from agent_cycles where timestamp > $restarted"
agent_stop $AGENT_PID
is "$?" 0 "the second agent exits 0"
is "$(q "select status from agent_actions where target_pid = $lp and rule = 'calm' and timestamp > $restarted order by timestamp limit 1")" \
	recommended "once its 2 s cooldown is over the renice is decided again, and only recommended"
like "$(q "select result from agent_actions where target_pid = $lp and rule = 'calm' and timestamp > $restarted order by timestamp limit 1")" \
	"max_actions_per_hour reached" "because the hour's budget was spent before the restart"
is "$(q "select count(*) from agent_actions where rule = 'tell' and status in ('executing', 'observed', 'recommended')")" 1 \
	"one notice in all: its 10 min cooldown survived the restart"
is "$(q "select count(*) from agent_actions where status = 'executing'")" 2 \
	"two executions in all: the renice and the notice of the first agent"
ok "action ids carry on from the first agent's" \
	test "$(q "select min(action_id) from agent_actions where timestamp > $restarted")" -gt \
	     "$(q "select max(action_id) from agent_actions where timestamp <= $restarted")"
like "$(cat "$TMP/second.err")" "detection on: [0-9]+ metric baselines loaded from the database" \
	"the baselines the first agent saved are loaded"
kill $lp; wait $lp 2>/dev/null
"$KSIGHT" status --db "$DB" > "$TMP/status.out"
like "$(cat "$TMP/status.out")" "last action +.* renice on pid $lp \($LEAKY\) \[rule calm\]: recommended" \
	"ksight status shows the last action"
done_testing
