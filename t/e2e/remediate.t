#!/bin/sh
# The remediation agent end to end, on the real leak tracer: a process
# leaking 5 MB/s inside a memory cgroup limited to 300 MB, and a policy that
# allows `terminate` for its command name.
#  - act: the agent detects it, projects the time to the limit, decides,
#    terminates it and verifies the memory came back, all in agent_actions;
#    a second process with the same leak but outside the rule's match is
#    never touched;
#  - observe: the same leak is explained and the recommendation recorded,
#    and the process is left alone.
# The rule matches a command name unique to this run; the test waits for
# the agent's ready line and for rows, never for a fixed time.
. "$(dirname "$0")/../lib/tap.sh"
require_bpf
plan 14

own=$(awk -F: '$2 == "memory" { print $3 }' /proc/self/cgroup)
MEMCG=/sys/fs/cgroup/memory${own%/}/ksight-remediate-$$
mkdir "$MEMCG" 2>/dev/null || { echo "1..0 # SKIP no cgroup v1 memory controller to create a limited group in"; exit 0; }
at_exit "rmdir '$MEMCG'"
echo $((300 * 1024 * 1024)) > "$MEMCG/memory.limit_in_bytes"
# Names of this run's own: a copy of this test running beside it (or any
# other leak on the host) is never matched by this run's rule.
LEAKY=leaky$$
cp "$HELPERS/grower" "$TMP/$LEAKY"
cp "$HELPERS/grower" "$TMP/protected"
cat > "$TMP/policy.yaml" <<EOF
mode: act
interval: 5s
settle: 3s
rules:
  - name: stop-leaky
    when: {leak: {min_confidence: 0.6, max_time_to_limit: 300s}}
    match: {comm: [$LEAKY]}
    action: terminate
    grace: 2s
    cooldown: 5m
EOF

# The leaks start with their processes: the warm-up horizon (20 s, which
# holds back growth in a process's first seconds) is off, so the leak is a
# suspect within seconds.  This test is about what the remediation agent
# does with a suspect; the horizon is tested in t/unit/leak.c and
# t/bpf/leak.t.
printf 'tracers:\n  rss:\n    warmup: 0\n' > "$TMP/config.yaml"

agent() {  # agent DB NAME EXTRA-ARGS...: ready (tracers loaded, a tick stored)
	db=$1; name=$2; shift 2
	agent_bg "$name" --db "$db" --config "$TMP/config.yaml" --policy "$TMP/policy.yaml" --no-http "$@" ||
		{ echo "Bail out! no agent"; exit 1; }
	AGENT=$AGENT_PID
}

# --- act ---
DB=$TMP/act.db
agent "$DB" act
"$TMP/$LEAKY" linear --rate 5M --duration 40 --cgroup-procs "$MEMCG/cgroup.procs" > "$TMP/leaky.out" &
lp=$!
"$TMP/protected" linear --rate 5M --duration 40 > "$TMP/protected.out" &
pp=$!
wait $lp 2>/dev/null   # (the shell would print "Terminated")
is "$?" 143 "the leaking process was terminated by SIGTERM"
wait_for "VERIFY" 120 at_least 1 "select count(*) from agent_actions where target_pid=$lp and status in ('effective','ineffective')"
agent_stop $AGENT
ok "the protected process (same leak, outside the rule's match) still runs" kill -0 $pp
kill $pp; wait $pp 2>/dev/null
is "$(q "select count(*) from agent_actions where target_pid=$lp and status='executing' and action='terminate'")" 1 \
   "one terminate decision, recorded before it ran"
is "$(q "select count(*) from agent_actions where target_pid=$lp and status='done'")" 1 "recorded as done"
like "$(q "select explanation from agent_actions where target_pid=$lp and status='executing'")" \
     "pid $lp \($LEAKY\) in .*ksight-remediate-$$ grows [0-9.]+ MiB/s \(linear" "EXPLAIN names the process, cgroup and rate"
like "$(q "select projection from agent_actions where target_pid=$lp and status='executing'")" \
     "reaches its cgroup limit in [0-9]+ s \\([0-9]+\\.\\.[0-9]+ s\\) without action; terminate: .*comes back" \
     "SIMULATE gives the time to the limit without action, and the action's expected effect"
is "$(q "select json_extract(evidence, '\$.leak.limit_bytes') || ' ' || (json_extract(evidence, '\$.leak.time_to_limit_s') > 0)
          from agent_actions where target_pid=$lp and status='executing'")" "314572800 1" \
   "the evidence has the cgroup limit and the time to reach it"
is "$(q "select status from agent_actions where target_pid=$lp and status in ('effective','ineffective')")" effective \
   "VERIFY: the memory came back"
like "$(q "select result from agent_actions where target_pid=$lp and status='effective'")" \
     "cgroup memory [0-9.]+ MiB -> [0-9.]+ KiB; the process is gone" "with the cgroup's memory before (read before the signal) and after"
is "$(q "select count(*) from agent_actions where target_pid=$pp")" 0 "no decision at all about the protected process"
ok "agent_cycles recorded the phases" test "$(q "select count(*) from agent_cycles where decisions > 0")" -ge 1

# --- observe ---
DB=$TMP/observe.db
agent "$DB" observe --mode observe
"$TMP/$LEAKY" linear --rate 5M --duration 50 --cgroup-procs "$MEMCG/cgroup.procs" > "$TMP/leaky2.out" &
lp=$!
wait_for "the decision" 120 at_least 1 "select count(*) from agent_actions where target_pid=$lp and status='observed'"
n=$(q "select count(*) from agent_cycles")
wait_for "two more cycles" 60 at_least $((n + 2)) "select count(*) from agent_cycles"
ok "observe: the leaking process is left running after the decision" kill -0 $lp
kill $lp; wait $lp 2>/dev/null
agent_stop $AGENT
is "$(q "select count(*) from agent_actions where target_pid=$lp and status='observed' and action='terminate'")" 1 \
   "and the recommendation is recorded"
is "$(q "select count(*) from agent_actions where target_pid=$lp and status in ('executing','done')")" 0 \
   "nothing was executed"
done_testing
