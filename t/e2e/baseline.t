#!/bin/sh
# ksight baseline end to end on a synthetic capture (t/lib/synthdb.sh):
# learn computes the statistics the generator put in (read p95 of vda about
# 2.15 ms), --last narrows the range, a four-hour capture gets a
# time-of-day profile, show prints them (and --json), the agent reloads
# them at start and saves them back at stop, and bad input gets a one-line
# error with the right exit code.
. "$(dirname "$0")/../lib/tap.sh"
plan 20

DB=$TMP/syn.db
sh "$TOP/t/lib/synthdb.sh" "$DB" 1200 600
out=$("$KSIGHT" baseline learn --db "$DB" 2>&1)
is "$?" 0 "baseline learn exits 0"
like "$out" "learnt baselines of [0-9]+ metrics from 1200 ticks" "and says what it learnt from"
n=$(q "select count(distinct metric) from baselines where source = 'learn'")
ok "the baselines table has a row per metric ($n)" test "$n" -ge 40
json() { "$KSIGHT" baseline show --db "$DB" --json | python3 -c "import json, sys
b = {r['metric']: r for r in json.load(sys.stdin)}
print($1)"; }
within "$(json "b['io.read_p95_us{device=vda}']['median']")" 2100 2200 \
       "read p95 of vda: median about 2150 us, as generated (2000 + uniform 0-300)"
within "$(json "b['io.read_p95_us{device=vda}']['samples']")" 1200 1200 "over all 1200 samples"
within "$(json "b['mem.available_kb']['p95'] - b['mem.available_kb']['p05']")" 85000 95000 \
       "available memory: p95 - p05 about 90 MB, the generated uniform noise of 100 MB"
is "$(json "b['cpu.busy_pct']['profile']")" "None" "20 minutes of data: no time-of-day profile"

out=$("$KSIGHT" baseline show --db "$DB")
like "$out" "io.read_p95_us\{device=vda\} +learn +1200 +2\.[0-9] ms" "show prints the table with units"

"$KSIGHT" baseline learn --db "$DB" --last 5m > /dev/null
within "$(json "b['io.read_p95_us{device=vda}']['samples']")" 300 301 "--last 5m learns from the last 300 ticks"

sh "$TOP/t/lib/synthdb.sh" "$TMP/long.db" 14400 20000
"$KSIGHT" baseline learn --db "$TMP/long.db" > /dev/null
hours=$(DB=$TMP/long.db q "select json_array_length(profile) from baselines where metric = 'load.load1'")
within "$hours" 4 5 "a four-hour capture has a time-of-day profile of 4-5 local hours ($hours)"

# The agent loads them at start, keeps learning, saves them at stop.
printf 'tracers:\n' > "$TMP/c.yaml"
for t in proc syscall blockio sched pagefault tcp; do printf '  %s:\n    enabled: false\n' $t >> "$TMP/c.yaml"; done
"$KSIGHT" agent --db "$DB" --config "$TMP/c.yaml" --duration 2 2> "$TMP/agent.err"
is "$?" 0 "the agent runs on the database"
like "$(cat "$TMP/agent.err")" "detection on: [0-9]+ metric baselines loaded" "and says it loaded the baselines"
is "$(q "select source from baselines where metric = 'io.read_p95_us{device=vda}' order by timestamp desc limit 1")" agent \
   "at stop it saved them back (source agent)"
within "$(json "b['io.read_p95_us{device=vda}']['median']")" 2100 2200 "continuing from the learnt median"
within "$(json "b['io.read_p95_us{device=vda}']['samples']")" 299 302 "and its weight (300 samples, a little decay)"

# Bad input.
"$KSIGHT" baseline --db "$DB" 2> "$TMP/err"; is "$?" 2 "no action: exit 2"
"$KSIGHT" baseline learn --db "$DB" --last soon 2> "$TMP/err"; rc=$?
is "$rc $(cat "$TMP/err")" "2 ksight baseline: --last: 'soon' is not a duration (e.g. 30m, 2h) (see 'ksight baseline --help')" \
   "a bad --last: exit 2 and says why"
"$KSIGHT" baseline show --db "$TMP/none.db" 2> "$TMP/err"; rc=$?
like "$rc $(cat "$TMP/err")" "^1 ksight baseline: no database at" "a missing database: exit 1"
printf 'tracers:\n' > /dev/null
sh "$TOP/t/lib/synthdb.sh" "$TMP/empty.db" 1 0
sqlite3 "$TMP/empty.db" "delete from memory_metrics; delete from load_metrics; delete from cpu_metrics"
"$KSIGHT" baseline learn --db "$TMP/empty.db" 2> "$TMP/err"; rc=$?
like "$rc $(cat "$TMP/err")" "^1 .*no data" "a database without data: exit 1, no data"
"$KSIGHT" baseline --help | grep -q Examples; is "$?" 0 "--help has examples"
done_testing
