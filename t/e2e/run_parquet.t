#!/bin/sh
# ksight run's Parquet file as DuckDB reads it: schema and types, row count,
# values against the workload's own record, column statistics against the
# data, NULLs, file metadata.  Then crash safety: a run killed mid-way and a
# write that fails on a full disk never leave a file that looks complete at
# the path (and never damage the file that was there).
. "$(dirname "$0")/../lib/tap.sh"
require_bpf
[ -d "$TOP/node_modules/@duckdb/node-api" ] || { echo "1..1"; echo "not ok 1 - DuckDB missing: run 'make deps'"; exit 1; }
plan 40

W=$HELPERS/runwork
LOG=$TMP/log
P=$TMP/p.parquet
duck() { node "$TOP/t/lib/duckdb.mjs" --csv "$1" | sed 1d | tr -d '"'; }
cd "$TMP" || exit 1

# 306 processes, one killed, one exiting 3, a daemon still running at the
# end (NULL end fields).
# --timeout bounds the wait for the daemon; 8 s lets 300 short processes finish on a loaded machine first
"$KSIGHT" run --timeout 8 --parquet "$P" --quiet -- \
	sh -c "$W short 300 $LOG; $W selfkill $LOG; $W exit 3 $LOG; $W daemon 30000 $LOG; exit 0" 2>/dev/null
is "$?" 0 "the job exits 0; the daemon outlives --timeout"
daemon=$(awk '$1 == "daemon" { print $2 }' "$LOG")
kill -9 "$daemon"
root=$(awk '$1 == "shorts" { print $3 }' "$LOG")
nlog=$(awk '$1 ~ /^(shorts|short|selfkill|exit|daemon-caller|daemon-parent|daemon)$/' "$LOG" | wc -l)
is "$nlog" 306 "the workload recorded 306 processes under its shell"

# schema: names, physical and logical types, required/optional
is "$(duck "select string_agg(name || ':' || type || ':' || repetition_type || ':' || duckdb_type, ' ' order by column_id)
	    from parquet_schema('$P') where name != 'schema'")" \
   "run_id:INT64:REQUIRED:BIGINT pid:INT32:REQUIRED:INTEGER ppid:INT32:REQUIRED:INTEGER comm:BYTE_ARRAY:REQUIRED:VARCHAR filename:BYTE_ARRAY:OPTIONAL:VARCHAR cmdline:BYTE_ARRAY:OPTIONAL:VARCHAR start_time:INT64:OPTIONAL:TIMESTAMP_NS end_time:INT64:OPTIONAL:TIMESTAMP_NS duration_ns:INT64:OPTIONAL:BIGINT exit_code:INT32:OPTIONAL:INTEGER signal:INT32:OPTIONAL:INTEGER cpu_user_ns:INT64:OPTIONAL:BIGINT cpu_system_ns:INT64:OPTIONAL:BIGINT peak_rss_bytes:INT64:OPTIONAL:BIGINT minor_faults:INT64:OPTIONAL:BIGINT major_faults:INT64:OPTIONAL:BIGINT" \
   "schema: every column with its physical type, repetition and DuckDB type"
is "$(duck "select string_agg(name || ':' || logical_type, ' ' order by column_id) from parquet_schema('$P')
	    where logical_type is not null")" \
   "comm:StringType() filename:StringType() cmdline:StringType() start_time:TimestampType(isAdjustedToUTC=0, unit=TimeUnit(MILLIS=<null>, MICROS=<null>, NANOS=NanoSeconds())) end_time:TimestampType(isAdjustedToUTC=0, unit=TimeUnit(MILLIS=<null>, MICROS=<null>, NANOS=NanoSeconds()))" \
   "logical types: STRING, TIMESTAMP(NANOS)"

# rows and values
is "$(duck "select count(*) from '$P'")" 307 "307 rows: the shell and its 306 processes"
is "$(duck "select sum(row_group_num_rows) from (select distinct row_group_id, row_group_num_rows from parquet_metadata('$P'))")" \
   307 "the footer says 307 rows"
awk '{ printf "%s,%s,%s\n", $1, $2, $3 }' "$LOG" > "$TMP/log.csv"
is "$(duck "with log as (select * from read_csv('$TMP/log.csv', header=false,
		columns={'what':'VARCHAR','pid':'INTEGER','ppid':'INTEGER'}) where what in ('shorts','short','selfkill','exit','daemon-caller','daemon-parent','daemon'))
	    select count(*) from log join '$P' p using (pid)
	    where p.ppid = case log.what when 'daemon' then (select pid from log where what = 'daemon-parent') else log.ppid end")" \
   306 "each process of the workload with its parent (the daemon's: the process that forked it)"
is "$(duck "select comm || ' ' || (ppid not in (select pid from '$P')) || ' ' || (cmdline like 'sh -c %short 300%')
	    from '$P' where pid = $root")" "sh true true" "the root row: the shell, under ksight, with its command line"
is "$(duck "select count(*) from '$P' where exit_code is null")" 2 "exit_code is NULL twice: the SIGKILL victim and the daemon"
is "$(duck "select count(*) from '$P' where end_time is null and duration_ns is null and signal is null
	    and cpu_user_ns is null and peak_rss_bytes is null and pid = $daemon")" 1 "the daemon's end fields are NULL"
is "$(duck "select signal || ' ' || exit_code from '$P' p join read_csv('$TMP/log.csv', header=false,
		columns={'what':'VARCHAR','pid':'INTEGER','ppid':'INTEGER'}) l using (pid) where what = 'exit'")" "0 3" \
   "the exit 3 row"
is "$(duck "select typeof(start_time) || ' ' || (epoch_ns(end_time) - epoch_ns(start_time) = duration_ns)
	    from '$P' where pid = $root")" "TIMESTAMP_NS true" "timestamps read at nanosecond precision"

# statistics of every column against the data
for col in run_id pid ppid comm filename cmdline start_time end_time duration_ns exit_code signal \
	   cpu_user_ns cpu_system_ns peak_rss_bytes minor_faults major_faults; do
	is "$(duck "select (m.stats_min_value = d.mn) || ' ' || (m.stats_max_value = d.mx) || ' ' || (m.stats_null_count = d.nn)
		    from parquet_metadata('$P') m,
			 (select min($col)::VARCHAR mn, max($col)::VARCHAR mx, count(*) - count($col) nn from '$P') d
		    where m.path_in_schema = '$col'")" "true true true" "statistics of $col: min, max, null count"
done
is "$(duck "select string_agg(distinct compression, ' ') from parquet_metadata('$P')")" ZSTD "pages are zstd-compressed"
is "$(duck "with kv as (select decode(key) k, decode(value) v from parquet_kv_metadata('$P'))
	    select ((select v from kv where k = 'start_time')::TIMESTAMP_NS <= min(start_time)) || ' ' ||
		   ((select v from kv where k = 'end_time')::TIMESTAMP_NS >= max(end_time)) || ' ' ||
		   (select v from kv where k = 'timed_out') || ' ' || (select v from kv where k = 'still_running')
	    from '$P'")" "true true true 1" "metadata: the run's start and end bracket every process; timed out with 1 running"

# kill -9 mid-run: the path never gets a file
"$KSIGHT" run --parquet "$TMP/k.parquet" -- "$W" sleep 30000 "$TMP/k.log" 2>/dev/null &
pid=$!
i=0; while ! grep -q '^sleep' "$TMP/k.log" 2>/dev/null && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 $pid
wait $pid 2>/dev/null
kill -9 "$(awk '$1 == "sleep" { print $2 }' "$TMP/k.log")"
ok "after kill -9 there is no file at the path" test ! -e "$TMP/k.parquet"
tmpfile=$(ls -A "$TMP" | grep '^\.k\.parquet\..*\.tmp$')
ok "only a hidden temporary file ($tmpfile)" test -n "$tmpfile"
node "$TOP/t/lib/duckdb.mjs" "select count(*) from read_parquet('$TMP/$tmpfile')" >/dev/null 2>&1
ok "which no reader takes for a Parquet file" test $? -ne 0

# a full disk: the write fails, the old file stays as it was
mkdir "$TMP/small"
if mount -t tmpfs -o size=256k tmpfs "$TMP/small"; then
	at_exit "umount -l '$TMP/small'"
	cp "$P" "$TMP/small/out.parquet"
	# full before the run: nothing runs
	dd if=/dev/zero of="$TMP/small/filler" bs=4k 2>/dev/null
	"$KSIGHT" run --parquet "$TMP/small/out.parquet" -- touch "$TMP/ran" 2>"$TMP/full.err"
	is "$?" 1 "a disk already full: exit 1 before the job runs ($(test -e "$TMP/ran" && echo ran || echo not run))"
	ok "and the job did not run" test ! -e "$TMP/ran"
	rm -f "$TMP/small/filler"
	# full while the job runs: the job's status is kept, the output fails
	"$KSIGHT" run --parquet "$TMP/small/out.parquet" -- \
		sh -c "$W sleep 500 $TMP/full.log; $W short 300 $TMP/full.log" 2>"$TMP/full.err" &
	pid=$!
	i=0; while ! grep -q '^sleep' "$TMP/full.log" 2>/dev/null && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
	dd if=/dev/zero of="$TMP/small/filler" bs=4k 2>/dev/null
	wait $pid
	is "$?" 1 "a disk that fills during the run: the job succeeded, the output did not: exit 1"
	like "$(cat "$TMP/full.err")" "cannot write $TMP/small/out.parquet: No space left on device; no file was left there" \
	     "with a clear message"
	ok "the file that was at the path is untouched" cmp -s "$P" "$TMP/small/out.parquet"
	is "$(ls -A "$TMP/small" | grep -c '\.tmp$')" 0 "no temporary file is left"
	rm -f "$TMP/small/filler"
	"$KSIGHT" run --quiet --parquet "$TMP/small/out.parquet" -- "$W" short 10 "$TMP/full.log"
	is "$(duck "select count(*) from '$TMP/small/out.parquet'")" 11 "with space again, the next run replaces it whole"
else
	for i in 1 2 3 4 5 6 7; do skip "cannot mount a tmpfs"; done
fi
done_testing
