#!/bin/sh
# ksight export --table: two hosts' databases exported into one Hive-style
# tree, read back by DuckDB with hive_partitioning (counts per host and per
# day equal each SQLite's), boot_id from the boots table, a re-run that
# replaces instead of duplicating, --since-last shipping only new rows, an
# export killed in the middle leaving only whole files, and bad input.
. "$(dirname "$0")/../lib/tap.sh"
plan 22

DAY=86400000000000
A=$TMP/a.db
B=$TMP/b.db
sh "$TOP/t/lib/synthdb.sh" "$A" 1800 900
sh "$TOP/t/lib/synthdb.sh" "$B" 1200 600
# Days before: copies of the capture's process events one and two days back.
sqlite3 "$A" "insert into process_events select timestamp - $DAY, event, pid, ppid, uid, comm, filename, argv, exit_code, signal, duration_ns, cpu_user_ns, cpu_system_ns, peak_rss_bytes, minor_faults, major_faults, cgroup_id, cgroup from process_events;
              insert into process_events select timestamp - 2 * $DAY, event, pid, ppid, uid, comm, filename, argv, exit_code, signal, duration_ns, cpu_user_ns, cpu_system_ns, peak_rss_bytes, minor_faults, major_faults, cgroup_id, cgroup from process_events where timestamp > (select max(timestamp) from process_events) - $DAY / 2;"
sqlite3 "$B" "insert into process_events select timestamp - $DAY, event, pid, ppid, uid, comm, filename, argv, exit_code, signal, duration_ns, cpu_user_ns, cpu_system_ns, peak_rss_bytes, minor_faults, major_faults, cgroup_id, cgroup from process_events"
# An earlier agent start on A with a known boot id, in the middle of today's rows.
MID=$(sqlite3 "$A" "select timestamp from process_events order by timestamp desc limit 1 offset (select count(*) / 6 from process_events)")
sqlite3 "$A" "insert into boots (timestamp, boot_id, host) values ($MID, 'boot-a1', 'alpha-real')"

per_day() {   # host db: "host,date,count" lines in date order
	sqlite3 -csv "$2" "select '$1', strftime('%Y-%m-%d', timestamp / 1000000000, 'unixepoch'), count(*) from process_events group by 2 order by 2"
}
lake_counts() {   # dir
	node "$TOP/t/lib/duckdb.mjs" --csv "select host, date, count(*) from read_parquet('$1/table=process_events/*/*/*.parquet', hive_partitioning=1) group by all order by 1, 2" | sed 1d
}

"$KSIGHT" export --db "$A" --table process_events --out "$TMP/lake" --host alpha 2> "$TMP/err.a"
is "$?" 0 "host alpha exports (exit 0)"
"$KSIGHT" export --db "$B" --table process_events --out "$TMP/lake" --host beta 2> "$TMP/err.b"
is "$?" 0 "host beta exports into the same tree (exit 0)"
# Three days at least, four when the capture (it ends two hours before now)
# spans a midnight, as it does when the test runs soon after 02:00 UTC.
DAYS_A=$(per_day alpha "$A" | wc -l)
like "$(tail -1 "$TMP/err.a")" "^ksight export: [0-9]+ rows of process_events from host alpha in $DAYS_A files" \
     "alpha: one file per day of rows ($DAYS_A), and it says so"
want=$( (per_day alpha "$A"; per_day beta "$B") | tr -d '"')
is "$(lake_counts "$TMP/lake")" "$want" "DuckDB over the tree: rows per host and per day equal each SQLite's"
is "$(cd "$TMP/lake" && find . -type f | sed 's/part-[0-9]*\.parquet/part-N.parquet/' | sort | uniq -c | awk '{ print $1 }' | sort -u)" "1" \
   "one file per table, host and day"
ok "every path is table=/host=/date=/part-N.parquet" sh -c "cd '$TMP/lake' && ! find . -type f | grep -Ev '^\./table=process_events/host=(alpha|beta)/date=[0-9]{4}-[0-9]{2}-[0-9]{2}/part-[0-9]+\.parquet$'"
ok "no temporary file is left" sh -c "! find '$TMP/lake' -name '.*' | grep -q ."
cols=$(node "$TOP/t/lib/duckdb.mjs" --csv "select column_name from (describe select * from read_parquet('$TMP/lake/table=process_events/host=alpha/*/*.parquet')) where column_name in ('host', 'boot_id', 'timestamp', 'comm')" | sed 1d | tr '\n' ' ')
is "$cols" "timestamp comm host boot_id " "each file carries the table's columns plus host and boot_id"
want=$(sqlite3 "$A" "select count(*) from process_events where timestamp >= $MID")
got=$(node "$TOP/t/lib/duckdb.mjs" --csv "select count(*) from read_parquet('$TMP/lake/table=process_events/host=alpha/*/*.parquet') where boot_id = 'boot-a1'" | sed -n 2p)
is "$got" "$want" "rows from the boots row's timestamp on carry its boot_id"
got=$(node "$TOP/t/lib/duckdb.mjs" --csv "select count(*) from read_parquet('$TMP/lake/table=process_events/host=alpha/*/*.parquet') where boot_id is null" | sed -n 2p)
is "$got" "$(sqlite3 "$A" "select count(*) from process_events where timestamp < $MID")" "older rows have a NULL boot_id (not a made-up one)"
want=$(sqlite3 -csv "$A" "select count(*), sum(pid), count(distinct comm) from process_events" | tr -d '"')
got=$(node "$TOP/t/lib/duckdb.mjs" --csv "select count(*), sum(pid), count(distinct comm) from read_parquet('$TMP/lake/table=process_events/host=alpha/*/*.parquet')" | sed -n 2p)
is "$got" "$want" "the values are the database's (count, sum of pids, distinct commands)"

# The same export again replaces its files: nothing is counted twice.
before=$(find "$TMP/lake" -type f | sort)
"$KSIGHT" -q export --db "$A" --table process_events --out "$TMP/lake" --host alpha 2> /dev/null
is "$(find "$TMP/lake" -type f | sort)" "$before" "a re-run writes the same files"
is "$(lake_counts "$TMP/lake")" "$( (per_day alpha "$A"; per_day beta "$B") | tr -d '"')" "and nothing twice"

# --since-last ships only what is new.
"$KSIGHT" export --db "$A" --table process_events --out "$TMP/lake2" --host alpha --since-last 2> /dev/null
is "$?" 0 "--since-last, first run (exit 0)"
LAST=$(sqlite3 "$A" "select max(timestamp) from process_events")
sqlite3 "$A" "with recursive k(i) as (select 1 union all select i + 1 from k where i < 100)
              insert into process_events (timestamp, event, pid, ppid, uid, comm) select $LAST + i * 1000, 'exec', 90000 + i, 1, 0, 'newcomer' from k"
"$KSIGHT" export --db "$A" --table process_events --out "$TMP/lake2" --host alpha --since-last 2> "$TMP/err.s"
like "$(tail -1 "$TMP/err.s")" "^ksight export: 100 rows of process_events from host alpha in 1 files" "the second run exports the 100 new rows only"
"$KSIGHT" export --db "$A" --table process_events --out "$TMP/lake2" --host alpha --since-last 2> "$TMP/err.s"
like "$(tail -1 "$TMP/err.s")" "^ksight export: 0 rows .*nothing new" "a third run finds nothing new"
is "$(lake_counts "$TMP/lake2")" "$(per_day alpha "$A" | tr -d '"')" "the shipped files together hold every row once"

# Killed in the middle: whatever is in the tree is whole.
sqlite3 "$A" "with recursive k(i) as (select 0 union all select i + 1 from k where i < 1999999)
              insert into process_events (timestamp, event, pid, ppid, uid, comm, argv)
              select $LAST - (i % 40) * $DAY - i, 'exec', i, 1, 0, 'bulk', 'bulk --number ' || i from k"
"$KSIGHT" export --db "$A" --table process_events --out "$TMP/lake3" --host alpha 2> "$TMP/err.k" &
pid=$!
wait_file_line() { i=0; while [ $i -lt 600 ] && ! grep -q 'parquet:' "$TMP/err.k"; do sleep 0.05; i=$((i + 1)); done; }
wait_file_line
kill -9 $pid 2> /dev/null
wait $pid 2> /dev/null
files=$(find "$TMP/lake3" -name '*.parquet' | wc -l)
ok "killed after its first file ($files whole files so far)" test "$files" -ge 1
want=$(sqlite3 -csv "$A" "select strftime('%Y-%m-%d', timestamp / 1000000000, 'unixepoch'), count(*) from process_events group by 1 order by 1" | tr -d '"' | sed 's/^/alpha,/')
got=$(lake_counts "$TMP/lake3")
ok "every file left is complete: its day's count is the database's" sh -c "[ -n '$got' ] && printf '%s\n' '$got' | while read l; do printf '%s\n' '$want' | grep -qx \"\$l\" || exit 1; done"

# Bad input.
"$KSIGHT" export --db "$A" --table no_such_table --out "$TMP/x" 2> "$TMP/err"
rc=$?
is "$rc:$(grep -c "no table or view 'no_such_table'" "$TMP/err")" "2:1" "an unknown table: exit 2, named"
"$KSIGHT" export --db "$A" --table "x'; drop table runs; --" --out "$TMP/x" 2> "$TMP/err"
is "$?:$(grep -c 'is not a table name' "$TMP/err")" "2:1" "a table name that is not a name is refused"
"$KSIGHT" export --db "$A" --table process_events 2> "$TMP/err"
r1=$?
"$KSIGHT" export --db "$A" --table process_events --format csv --out "$TMP/x" 2> /dev/null
r2=$?
"$KSIGHT" export --db "$A" --features --since-last --out "$TMP/x" 2> /dev/null
is "$r1:$r2:$?:$(grep -c 'needs --out DIR' "$TMP/err")" "2:2:2:1" "no --out, --format csv, --since-last without --table: usage errors"
