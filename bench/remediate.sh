#!/bin/sh
# The remediation agent: how long a decision cycle takes (OBSERVE to DECIDE
# plus VERIFY, EXECUTE excluded) with 1,000 live processes tracked and a
# 10,000,000-row database, and how long from the start of a 5 MB/s leak in
# a 300 MB cgroup to a verified action in act mode.
. "$(dirname "$0")/lib.sh"
ROWS=${REMEDIATE_ROWS:-10000000}
PROCS=${REMEDIATE_PROCS:-1000}

DB=$BTMP/big.db
t0=$(date +%s)
make_big_db "$DB" "$ROWS"
made=$(( $(date +%s) - t0 ))
rows=$(q "$DB" "select count(*) from process_events")

own=$(awk -F: '$2 == "memory" { print $3 }' /proc/self/cgroup)
MEMCG=/sys/fs/cgroup/memory${own%/}/ksight-bench-$$
mkdir "$MEMCG"
echo $((300 * 1024 * 1024)) > "$MEMCG/memory.limit_in_bytes"
cp "$HELPERS/grower" "$BTMP/leaky"
cat > "$BTMP/policy.yaml" <<EOF
mode: act
interval: 2s
settle: 3s
rules:
  - name: stop-leaky
    when: {leak: {min_confidence: 0.6, max_time_to_limit: 300s}}
    match: {comm: [leaky]}
    action: terminate
    grace: 2s
EOF

"$HELPERS/sleepers" "$PROCS" 45 > /dev/null &
sp=$!
sleep 2
start_agent "$BTMP/agent.log" --db "$DB" --policy "$BTMP/policy.yaml" --duration 40
sleep 8     # let the per-process rows fill
"$BTMP/leaky" linear --rate 5M --duration 60 --cgroup-procs "$MEMCG/cgroup.procs" > "$BTMP/leaky.out" || true   # terminated by the agent
wait "$AGENT_PID" || true
wait $sp || true
rmdir "$MEMCG"

leak_start=$(sed -n 's/.*start_ns=\([0-9]*\).*/\1/p' "$BTMP/leaky.out" | head -1)
lp=$(sed -n 's/^pid=\([0-9]*\).*/\1/p' "$BTMP/leaky.out" | head -1)
detected=$(q "$DB" "select min(timestamp) from memory_growth_events where pid=$lp")
decided=$(q "$DB" "select min(timestamp) from agent_actions where target_pid=$lp and status='executing'")
verified=$(q "$DB" "select min(timestamp) from agent_actions where target_pid=$lp and status='effective'")
procs=$(q "$DB" "select max(processes) from agent_cycles")
sec() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "") print "-"; else printf "%.1f", (a - b) / 1e9 }'; }

echo "## Remediation agent"
echo
echo "Database: $rows process_events rows (built in ${made} s); $PROCS live processes waking every second (the agent saw up to $procs per tick)."
echo
echo "| decision cycle, OBSERVE..DECIDE + VERIFY (EXECUTE excluded) | µs |"
echo "|---|---|"
"$KSIGHT" query --db "$DB" --csv "select observe_us + explain_us + simulate_us + decide_us + verify_us from agent_cycles" |
	sed 1d | sort -n | awk '{ v[NR] = $1 } END { printf "| cycles | %d |\n| p50 | %d |\n| p95 | %d |\n| max | %d |\n", NR, v[int(NR * 0.5 + 0.5)], v[int(NR * 0.95 + 0.5)], v[NR] }'
echo
echo "| 5 MB/s leak in a 300 MB cgroup, act mode | seconds after the leak started |"
echo "|---|---|"
echo "| first memory_growth_events row (detected) | $(sec "$detected" "$leak_start") |"
echo "| terminate decided and executing | $(sec "$decided" "$leak_start") |"
echo "| verified effective (memory back) | $(sec "$verified" "$leak_start") |"
echo
echo "Verification waits \`settle\` (3 s) after the SIGTERM, and at least the terminate grace period (2 s) plus 1 s."
