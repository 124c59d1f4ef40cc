#!/bin/sh
# ksight run on a job whose every process records what it is and what it
# measured of itself (t/helpers/run_job.sh + runwork): each process present
# exactly once with the right parent and exit status, CPU and peak RSS
# within 10% of what the workload measured, no unrelated process, the same
# rows in Parquet (read by DuckDB) and SQLite, and the summaries.  Then the
# same job with --exclude-shells.
. "$(dirname "$0")/../lib/tap.sh"
require_bpf
[ -d "$TOP/node_modules/@duckdb/node-api" ] || { echo "1..1"; echo "not ok 1 - DuckDB missing: run 'make deps'"; exit 1; }
plan 60

W=$HELPERS/runwork
LOG=$TMP/log
P=$TMP/job.parquet
DB=$TMP/job.db
JOB="sh $TOP/t/helpers/run_job.sh $W $LOG"
duck() { node "$TOP/t/lib/duckdb.mjs" --csv "$@"; }
cd "$TMP" || exit 1

# Processes started meanwhile outside the job must not show up.
( n=0; while [ ! -e "$TMP/stop" ]; do /bin/true unrelated-marker; n=$((n + 1)); done; echo $n > "$TMP/unrelated" ) &
loop=$!
"$KSIGHT" run --parquet "$P" --db "$DB" --json -- $JOB >"$TMP/json" 2>"$TMP/err"
rc=$?
touch "$TMP/stop"
wait $loop
is "$rc" 7 "ksight run exits with the job's status (7)"
ok "the Parquet file is there" test -s "$P"
is "$(ls -a "$TMP" | grep -c '\.tmp$')" 0 "no temporary file is left behind"
ok "unrelated processes ran meanwhile ($(cat "$TMP/unrelated"))" test "$(cat "$TMP/unrelated")" -gt 0

# The workload's own record, as CSV: what,pid,ppid,a,b,c
awk '{ printf "%s,%s,%s,%s,%s,%s\n", $1, $2, $3, $4, $5, $6 }' "$LOG" > "$TMP/log.csv"
is "$(grep -c '^short ' "$LOG")" 500 "the workload ran its 500 short processes"
# SQLite's rows, for DuckDB to compare with the Parquet file's
"$KSIGHT" query --db "$DB" --csv "select run_id, pid, ppid, comm, filename, cmdline, start_time, end_time,
	duration_ns, exit_code, signal, cpu_user_ns, cpu_system_ns, peak_rss_bytes, minor_faults, major_faults
	from run_processes" > "$TMP/sqlite.csv"
ksight_pid=$(awk '$1 == "root" { print $3 }' "$LOG")
root=$(awk '$1 == "root" { print $2 }' "$LOG")

# checks FILE: runs the DuckDB statement in FILE, whose rows are
# 'is|description|got|expected' or 'within|description|got|lo|hi'.
checks() {
	duck "$(cat "$1")" | sed 1d | tr -d '"' > "$TMP/checks.out" || diag "DuckDB failed"
	while IFS='|' read -r kind desc got a b; do
		if [ "$kind" = is ]; then is "$got" "$a" "$desc"; else within "$got" "$a" "$b" "$desc"; fi
	done < "$TMP/checks.out"
}

cat > "$TMP/checks.sql" <<EOF
WITH log AS (SELECT * FROM read_csv('$TMP/log.csv', header=false,
		columns={'what':'VARCHAR','pid':'VARCHAR','ppid':'VARCHAR','a':'BIGINT','b':'BIGINT','c':'BIGINT'})),
     procs AS (SELECT what, pid::INTEGER pid, ppid::INTEGER ppid, a, b, c FROM log
	       WHERE what IN ('root','nest1','nest2','leaf','cpu','mem','exit','selfkill','shorts','short')),
     p AS (SELECT * FROM '$P'),
     s AS (SELECT * FROM read_csv('$TMP/sqlite.csv', header=true, nullstr='',
		columns={'run_id':'BIGINT','pid':'INTEGER','ppid':'INTEGER','comm':'VARCHAR','filename':'VARCHAR',
			 'cmdline':'VARCHAR','start_time':'BIGINT','end_time':'BIGINT','duration_ns':'BIGINT',
			 'exit_code':'INTEGER','signal':'INTEGER','cpu_user_ns':'BIGINT','cpu_system_ns':'BIGINT',
			 'peak_rss_bytes':'BIGINT','minor_faults':'BIGINT','major_faults':'BIGINT'})),
     pn AS (SELECT * REPLACE (epoch_ns(start_time) AS start_time, epoch_ns(end_time) AS end_time) FROM p),
     j AS (SELECT procs.what, procs.ppid AS log_ppid, procs.a, procs.b, procs.c, p.* FROM procs JOIN p USING (pid))
SELECT 'is|509 rows in the Parquet file|' || (SELECT count(*) FROM p) || '|509'
UNION ALL SELECT 'is|one row per pid|' || (SELECT count(DISTINCT pid) FROM p) || '|509'
UNION ALL SELECT 'is|every process of the workload has exactly one row|'
	|| (SELECT count(*) FROM procs WHERE (SELECT count(*) FROM p WHERE p.pid = procs.pid) = 1) || '|509'
UNION ALL SELECT 'is|no row for a process outside the workload|'
	|| (SELECT count(*) FROM p WHERE pid NOT IN (SELECT pid FROM procs)) || '|0'
UNION ALL SELECT 'is|every row has the parent the workload saw|' || (SELECT count(*) FROM j WHERE ppid = log_ppid) || '|509'
UNION ALL SELECT 'is|the root hangs under ksight itself|' || (SELECT ppid FROM p WHERE pid = $root) || '|$ksight_pid'
UNION ALL SELECT 'is|nested shells: sh -> sh -> sh -> leaf|'
	|| (SELECT string_agg(comm, ' -> ' ORDER BY start_time) FROM j WHERE what IN ('root','nest1','nest2','leaf')) || '|sh -> sh -> sh -> runwork'
UNION ALL SELECT 'is|the root ran the job script|' || (SELECT cmdline FROM p WHERE pid = $root) || '|$JOB'
UNION ALL SELECT 'is|the root exited 7|' || (SELECT exit_code || '/' || signal FROM p WHERE pid = $root) || '|7/0'
UNION ALL SELECT 'is|exit 3 is recorded|' || (SELECT exit_code || '/' || signal FROM j WHERE what = 'exit') || '|3/0'
UNION ALL SELECT 'is|SIGKILL is recorded with a NULL exit code|'
	|| (SELECT coalesce(exit_code::VARCHAR, 'NULL') || '/' || signal FROM j WHERE what = 'selfkill') || '|NULL/9'
UNION ALL SELECT 'is|the shell saw the same statuses|'
	|| (SELECT string_agg(a::VARCHAR, ' ' ORDER BY what) FROM log WHERE what LIKE '%-status') || '|3 137'
UNION ALL SELECT 'is|every other process exited 0|'
	|| (SELECT count(*) FROM j WHERE what NOT IN ('root','exit','selfkill') AND exit_code = 0 AND signal = 0) || '|506'
UNION ALL SELECT 'is|the leaf ran runwork leaf|' || (SELECT filename || ' ' || cmdline FROM j WHERE what = 'leaf') || '|$W $W leaf $LOG'
UNION ALL SELECT 'is|500 short children of the short parent with the quick command line|'
	|| (SELECT count(*) FROM j WHERE what = 'short' AND ppid = (SELECT pid FROM procs WHERE what = 'shorts')
	    AND cmdline = '$W quick' AND comm = 'runwork') || '|500'
UNION ALL SELECT 'is|each short child lived no longer than its parent saw it live|'
	|| (SELECT count(*) FROM j WHERE what = 'short' AND duration_ns > 0 AND duration_ns <= a) || '|500'
UNION ALL SELECT 'within|CPU of the 500 short children, summed (ksight / RUSAGE_CHILDREN of their parent)|'
	|| (SELECT round(sum(cpu_user_ns + cpu_system_ns) / (SELECT a FROM log WHERE what = 'shorts-cpu'), 4)
	    FROM j WHERE what = 'short') || '|0.9|1.1'
UNION ALL SELECT 'within|CPU of the two-thread burner (ksight / CLOCK_PROCESS_CPUTIME_ID)|'
	|| (SELECT round((cpu_user_ns + cpu_system_ns) / a, 4) FROM j WHERE what = 'cpu') || '|0.9|1.1'
UNION ALL SELECT 'within|user CPU of the burner (ksight / getrusage)|'
	|| (SELECT round(cpu_user_ns / b, 4) FROM j WHERE what = 'cpu') || '|0.9|1.1'
UNION ALL SELECT 'within|peak RSS of the 64 MiB toucher (ksight / VmHWM)|'
	|| (SELECT round(peak_rss_bytes / a, 4) FROM j WHERE what = 'mem') || '|0.9|1.1'
UNION ALL SELECT 'within|peak RSS of the 64 MiB toucher in MiB|'
	|| (SELECT round(peak_rss_bytes / 1048576, 1) FROM j WHERE what = 'mem') || '|64|72'
UNION ALL SELECT 'is|duration = end - start on every row|'
	|| (SELECT count(*) FROM pn WHERE duration_ns = end_time - start_time AND duration_ns > 0) || '|509'
UNION ALL SELECT 'is|children start after their parent|'
	|| (SELECT count(*) FROM p c JOIN p par ON par.pid = c.ppid WHERE c.start_time >= par.start_time) || '|508'
UNION ALL SELECT 'is|faults and CPU are never NULL for ended processes|'
	|| (SELECT count(*) FROM p WHERE minor_faults > 0 AND major_faults >= 0 AND cpu_user_ns >= 0 AND peak_rss_bytes > 0) || '|509'
UNION ALL SELECT 'is|no unrelated process|' || (SELECT count(*) FROM p WHERE cmdline LIKE '%unrelated-marker%') || '|0'
UNION ALL SELECT 'is|one run_id|' || (SELECT count(DISTINCT run_id) FROM p) || '|1'
UNION ALL SELECT 'is|SQLite holds the same 509 rows|' || (SELECT count(*) FROM s) || '|509'
UNION ALL SELECT 'is|every Parquet value is in SQLite|' || (SELECT count(*) FROM (FROM pn EXCEPT FROM s)) || '|0'
UNION ALL SELECT 'is|every SQLite value is in Parquet|' || (SELECT count(*) FROM (FROM s EXCEPT FROM pn)) || '|0'
UNION ALL SELECT 'is|metadata: command|' || (SELECT decode(value) FROM parquet_kv_metadata('$P') WHERE decode(key) = 'command') || '|$JOB'
UNION ALL SELECT 'is|metadata: exit status, processes, failed|'
	|| (SELECT string_agg(decode(value), ' ' ORDER BY decode(key)) FROM parquet_kv_metadata('$P')
	    WHERE decode(key) IN ('exit_status', 'failed', 'processes')) || '|7 3 509'
UNION ALL SELECT 'is|metadata: ksight version|' || (SELECT decode(value) FROM parquet_kv_metadata('$P') WHERE decode(key) = 'ksight_version') || '|$("$KSIGHT" --version | cut -d' ' -f2)'
UNION ALL SELECT 'is|metadata: host|' || (SELECT decode(value) FROM parquet_kv_metadata('$P') WHERE decode(key) = 'host') || '|$(uname -n)'
UNION ALL SELECT 'is|metadata: kernel|' || (SELECT decode(value) FROM parquet_kv_metadata('$P') WHERE decode(key) = 'kernel') || '|$(uname -r) $(uname -v)'
EOF
checks "$TMP/checks.sql"

# the runs table
is "$(q "select exit_status || ' ' || exit_code || ' ' || signal || ' ' || processes || ' ' || failed || ' ' ||
	 still_running || ' ' || records_lost || ' ' || timed_out || ' ' || interrupted as v from runs")" \
   "7 7 0 509 3 0 0 0 0" \
   "runs: exit status, counts, no loss, not timed out"
is "$(q "select command from runs")" "$JOB" "runs: the command"
is "$(q "select count(*) from runs r join run_processes p using (run_id) where p.pid = $root and p.start_time >= r.start_time")" 1 \
   "runs and run_processes join on run_id; the root starts after the run does"

# the JSON summary, after the job's own output on stdout
is "$(tail -n 1 "$TMP/json" | node -e '
	const j = JSON.parse(require("fs").readFileSync(0, "utf8"));
	console.log([j.exit_status, j.processes, j.failed, j.failures.map((f) => f.signal || f.exit_code).sort().join("+"),
		     j.parquet === process.argv[1], j.command.length].join(" "));' "$P")" "7 509 3 3+7+9 true 4" \
   "--json: exit status, counts, the three failures, the output path, argv"

# the summary on stderr
err=$(cat "$TMP/err")
like "$err" "ksight run: sh .* exited 7 after" "the summary says how the job ended"
like "$err" "Failures \\(3\\)" "it lists the 3 failures"
like "$err" "500 x runwork" "the 500 short processes are folded into one line"
like "$err" "SIGKILL +runwork selfkill" "the SIGKILL victim is named"
like "$err" "Totals: 509 processes, 3 failed, 0 still running" "totals"
is "$(awk 'length($0) > 80' "$TMP/err" | grep -v '^Killed' | wc -l)" 0 "no summary line is wider than 80 columns"
is "$(grep -c "$(printf '\033')" "$TMP/err")" 0 "no colour when stderr is not a terminal"

# --exclude-shells: shells are dropped in the kernel, except the job's root;
# their children hang under the nearest ancestor that is not a shell.
rm -f "$LOG"
"$KSIGHT" run --exclude-shells --parquet "$TMP/x.parquet" --quiet -- $JOB 2>"$TMP/xerr"
is "$?" 7 "--exclude-shells: same exit status"
is "$(grep -v '^Killed' "$TMP/xerr" | wc -l)" 0 "--quiet: nothing on stderr"
awk '{ printf "%s,%s,%s,%s,%s,%s\n", $1, $2, $3, $4, $5, $6 }' "$LOG" > "$TMP/log.csv"
root=$(awk '$1 == "root" { print $2 }' "$LOG")
cat > "$TMP/checks.sql" <<EOF
WITH log AS (SELECT * FROM read_csv('$TMP/log.csv', header=false,
		columns={'what':'VARCHAR','pid':'VARCHAR','ppid':'VARCHAR','a':'BIGINT','b':'BIGINT','c':'BIGINT'})),
     p AS (SELECT * FROM '$TMP/x.parquet')
SELECT 'is|--exclude-shells: 507 rows (the two nested shells are gone)|' || (SELECT count(*) FROM p) || '|507'
UNION ALL SELECT 'is|--exclude-shells: no shell but the root|'
	|| (SELECT count(*) FROM p WHERE comm IN ('sh','dash','bash','zsh') AND pid != $root) || '|0'
UNION ALL SELECT 'is|--exclude-shells: the root is there|' || (SELECT comm FROM p WHERE pid = $root) || '|sh'
UNION ALL SELECT 'is|--exclude-shells: every process that is not a shell is there|'
	|| (SELECT count(*) FROM log WHERE what IN ('leaf','cpu','mem','exit','selfkill','shorts','short')
	    AND pid::INTEGER IN (SELECT pid FROM p)) || '|506'
UNION ALL SELECT 'is|--exclude-shells: the leaf hangs under the root (its shell parents are hidden)|'
	|| (SELECT ppid FROM p WHERE pid = (SELECT pid::INTEGER FROM log WHERE what = 'leaf')) || '|$root'
UNION ALL SELECT 'is|--exclude-shells: the leaf has its start time (from its exit)|'
	|| (SELECT count(*) FROM p WHERE pid = (SELECT pid::INTEGER FROM log WHERE what = 'leaf')
	    AND start_time < end_time AND duration_ns > 0) || '|1'
EOF
checks "$TMP/checks.sql"

# A program named with a terminal escape (it could retitle or reprogram the
# terminal of whoever reads the summary) is shown escaped.
ESCNAME=$(printf 'fail\033]0;pwned\007x')
cp /bin/false "$TMP/$ESCNAME"
"$KSIGHT" run --parquet "$TMP/esc.parquet" -- "$TMP/$ESCNAME" 2>"$TMP/escerr"
like "$(cat "$TMP/escerr")" 'fail\\x1b\]0;pwned\\x07x' "the summary shows the name's control characters as \\xNN"
is "$(tr -cd '\033\007' <"$TMP/escerr" | wc -c)" 0 "and no raw escape reaches the terminal"
done_testing
