#!/bin/sh
# ksight leaks: its command-line contract; the list an agent run leaves in
# the database (table and JSON) for a real leaking process; a database
# from before the table existed; --live printing a suspect as it grows; and
# the agent never reporting itself while it grows.
#
# The growers here leak from their start for a few seconds: the runs turn
# the warm-up horizon off (tracers.rss.warmup: 0), which holds such growth
# back for 20 s.  This test is about the command; the rule is tested in
# t/unit/leak.c and t/bpf/leak.t.
. "$(dirname "$0")/../lib/tap.sh"
plan 25

run() { out=$("$KSIGHT" "$@" 2>&1); rc=$?; }

run leaks --help;                      is "$rc" 0 "leaks --help exits 0"
like "$out" "Examples:" "and shows examples"
run leaks --frob;                      is "$rc" 2 "unknown flag: exit 2"
run leaks --duration 5;                is "$rc" 2 "--duration without --live: exit 2"
like "$out" "only applies with --live" "says why"
run leaks --live --db "$TMP/x.db";     is "$rc" 2 "--live with --db: exit 2"
run leaks --db "$TMP/none.db";         is "$rc" 1 "missing database: exit 1"
like "$out" "no database at" "says so"

# a KernelSight database from before memory_growth_events
sqlite3 "$TMP/old.db" "PRAGMA application_id = $((0x4b53474e)); PRAGMA user_version = 1;
                       CREATE TABLE collector_stats (timestamp INTEGER NOT NULL);"
run leaks --db "$TMP/old.db";          is "$rc" 1 "older database: exit 1"
like "$out" "no memory_growth_events table" "explains what is missing"

require_bpf
printf 'tracers:\n  rss:\n    warmup: 0\n' > "$TMP/nowarm.yaml"
DB=$TMP/leaks.db
agent_bg leaks --db "$DB" --config "$TMP/nowarm.yaml" --no-http || { echo "Bail out! no agent"; exit 1; }
"$HELPERS/grower" linear --rate 2M --duration 6 > "$TMP/g.out"
pid=$(sed -n 's/^pid=\([0-9]*\) .*/\1/p' "$TMP/g.out")
wait_for "the grower's exit row" 60 at_least 1 "select count(*) from memory_growth_events where pid = $pid and status = 'exited'"
agent_stop $AGENT_PID
run leaks --db "$DB"
is "$rc" 0 "leaks on the agent's database: exit 0"
like "$(printf '%s\n' "$out" | grep "^$pid ")" "^$pid +grower +exited +linear +2\.0 MiB/s" \
     "the grower is listed: exited, linear, 2.0 MiB/s"
run leaks --db "$DB" --json
is "$rc" 0 "--json: exit 0"
is "$(printf '%s' "$out" | node -e '
	let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
		const g = JSON.parse(s).find(r => r.pid == process.argv[1]);
		console.log(g ? [g.status, g.pattern, Math.round(g.growth_rate_bytes_per_s / 104857.6) / 10,
				 g.limit_source, g.rows > 1].join(" ") : "missing");
	});' "$pid")" "exited linear 2 memavailable true" \
   "JSON: status, pattern, rate in MiB/s, limit source, several rows"

# the agent stops while a suspect still runs: 'suspect' while it runs, then
# 'gone' (the agent stops once the suspect row is stored; the grower is
# stopped once the agent is gone)
DB=$TMP/gone.db
agent_bg gone --db "$DB" --config "$TMP/nowarm.yaml" --no-http || { echo "Bail out! no agent"; exit 1; }
"$HELPERS/grower" linear --rate 2M --duration 60 > "$TMP/long.out" &
grower=$!
wait_for "the grower's pid" 30 grep -q '^pid=' "$TMP/long.out"
pid=$(sed -n 's/^pid=\([0-9]*\) .*/\1/p' "$TMP/long.out")
wait_for "the grower as a suspect" 60 at_least 1 "select count(*) from memory_growth_events where pid = $pid and status = 'suspect'"
agent_stop $AGENT_PID
run leaks --db "$TMP/gone.db"
like "$(printf '%s\n' "$out" | grep "^$pid ")" "^$pid +grower +suspect " "still running after the agent stopped: suspect"
kill $grower; wait $grower 2>/dev/null
run leaks --db "$TMP/gone.db"
like "$(printf '%s\n' "$out" | grep "^$pid ")" "^$pid +grower +gone " "once it ended unwatched: gone"

# --live: rows as they are found, one JSON object per line
( sleep 1; "$HELPERS/grower" linear --rate 4M --duration 5 > "$TMP/live.out" ) &
run leaks --live --duration 8 --json --config "$TMP/nowarm.yaml"
wait
pid=$(sed -n 's/^pid=\([0-9]*\) .*/\1/p' "$TMP/live.out")
is "$rc" 0 "--live --duration 8: exit 0"
line=$(printf '%s\n' "$out" | grep "\"pid\":$pid," | head -1)
like "$line" '"status":"suspect"' "the grower shows up as a suspect"
like "$line" '"pattern":"linear"' "classified linear"
ok "every line is one JSON object" sh -c 'printf "%s\n" "$1" | node -e "
	let s = \"\"; process.stdin.on(\"data\", d => s += d).on(\"end\", () => {
		s.trim().split(\"\n\").forEach(l => JSON.parse(l)); });"' sh "$out"
like "$(printf '%s\n' "$out" | grep "\"pid\":$pid," | tail -1)" '"status":"exited"' "and its exit is reported"

# the agent leaves itself out: made to grow (500 processes to follow, one
# leak to judge) with no horizon to hold its own growth back, it is never
# a row, while the grower beside it is
DB=$TMP/self.db
agent_bg self --db "$DB" --config "$TMP/nowarm.yaml" --no-http || { echo "Bail out! no agent"; exit 1; }
apid=$AGENT_PID
rss0=$(awk '/VmRSS/ {print $2}' "/proc/$apid/status")
"$HELPERS/grower" constant --size 2M --duration 8 --procs 500 > /dev/null &
many=$!
"$HELPERS/grower" linear --rate 2M --duration 60 > "$TMP/beside.out" &
beside=$!
wait $many
rss1=$(awk '/VmRSS/ {print $2}' "/proc/$apid/status")
wait_for "the grower's pid" 30 grep -q '^pid=' "$TMP/beside.out"
pid=$(sed -n 's/^pid=\([0-9]*\) .*/\1/p' "$TMP/beside.out")
# the grower beside them leaks until it is a suspect, however long that takes here
wait_for "the grower beside them as a suspect" 60 at_least 1 \
	"select count(*) from memory_growth_events where pid = $pid and status = 'suspect'"
kill $beside; wait $beside 2>/dev/null
agent_stop $apid
diag "agent RSS ${rss0} kB -> ${rss1} kB"
ok "the agent grew while it followed them (${rss0} kB -> ${rss1} kB)" test "$rss1" -gt $((rss0 + 1024))
is "$(q "select count(*) from memory_growth_events where pid=$apid")" 0 "no row about the agent itself"
ok "the grower beside it is a suspect" test "$(q "select count(*) from memory_growth_events where pid=$pid and status='suspect'")" -ge 1

# a kernel map too small for the machine: every process left out is counted
printf 'tracers:\n  rss:\n    max_processes: 16\n' > "$TMP/small.yaml"
# The growers start once the agent is ready (its tracers are loaded, a tick
# stored), however long loading takes, and the agent runs until the drops
# are counted (or a deadline), not for a fixed time.
DB=$TMP/small.db
agent_bg small --db "$DB" --config "$TMP/small.yaml" --no-http || { echo "Bail out! no agent"; exit 1; }
growers=""
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	"$HELPERS/grower" constant --size 4M --duration 3 > /dev/null &
	growers="$growers $!"
done
wait_for "rss drops" 60 at_least 1 "select coalesce(sum(drops), 0) from collector_stats where collector='rss'"
wait $growers
agent_stop $AGENT_PID
drops=$(q "select sum(drops) from collector_stats where collector='rss'")
ok "a full map is counted as drops in collector_stats ($drops)" test "$drops" -gt 0
done_testing
