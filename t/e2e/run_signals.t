#!/bin/sh
# ksight run's life cycle: exit status propagation, SIGINT/SIGTERM sent to
# ksight mid-job (forwarded, waited for, outputs complete), a second
# interrupt, commands that cannot run (127/126, no output left), a
# double-forking daemon (tracked until it exits, or reported at --timeout),
# and bad options or outputs (nothing runs).
. "$(dirname "$0")/../lib/tap.sh"
require_bpf
[ -d "$TOP/node_modules/@duckdb/node-api" ] || { echo "1..1"; echo "not ok 1 - DuckDB missing: run 'make deps'"; exit 1; }
plan 53

W=$HELPERS/runwork
duck() { node "$TOP/t/lib/duckdb.mjs" --csv "$1" | sed 1d; }
cd "$TMP" || exit 1
# Background jobs of a script start with SIGINT ignored; a user's ksight
# does not.
run_bg() { perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV or die "exec: $!"' "$KSIGHT" run "$@" & }
# wait_log FILE PATTERN: until the workload wrote it (20 s at most)
wait_log() {
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		sleep 0.05
		i=$((i + 1))
		[ $i -lt 400 ] || { diag "timed out waiting for '$2' in $1"; return 1; }
	done
}
# kill_logged FILE WHAT: kills (SIGKILL) the processes FILE says were WHAT
kill_logged() { for p in $(awk -v w="$2" '$1 == w { print $2 }' "$1"); do kill -9 "$p" 2>/dev/null; done; }

# --- exit status propagation
"$KSIGHT" run --no-parquet --quiet -- sh -c 'exit 42'
is "$?" 42 "exit 42 comes back as 42"
"$KSIGHT" run --no-parquet --quiet -- sh -c 'kill -TERM $$'
is "$?" 143 "a job killed by SIGTERM gives 128+15"
"$KSIGHT" run --no-parquet --quiet -- true
is "$?" 0 "a job that succeeds gives 0"

# --- SIGINT to ksight mid-job: forwarded to the job, waited for, written
run_bg --parquet "$TMP/int.parquet" -- sh -c "$W sleep 30000 $TMP/int.log; echo after >> $TMP/int.log" 2>"$TMP/int.err"
pid=$!
wait_log "$TMP/int.log" '^sleep '
kill -INT $pid
wait $pid
is "$?" 130 "SIGINT mid-job: ksight exits 130, as the job did"
like "$(cat "$TMP/int.err")" "Interrupt: waiting for sh to exit" "it says it waits for the job"
is "$(grep -c -e '^woke' -e '^after' "$TMP/int.log")" 0 "the job was interrupted (did not wake, the shell did not go on)"
is "$(duck "select string_agg(comm || ':' || signal || ':' || (end_time is not null), ' ' order by start_time)
	    from '$TMP/int.parquet'")" "sh:2:true runwork:2:true" \
   "the Parquet file is complete: both processes, ended by SIGINT"
like "$(cat "$TMP/int.err")" "was killed by SIGINT .*\\(interrupted\\)" "the summary says so"

# --- a job that handles SIGINT: it cleans up and chooses its status
run_bg --no-parquet -- sh -c "trap 'echo trapped >> $TMP/trap.log; exit 4' INT; $W sleep 30000 $TMP/trap.log" \
	2>"$TMP/trap.err"
pid=$!
wait_log "$TMP/trap.log" '^sleep '
kill -INT $pid
wait $pid
is "$?" 4 "a job that traps SIGINT and exits 4: ksight exits 4"
is "$(grep -c '^trapped' "$TMP/trap.log")" 1 "the job's handler ran once"

# --- SIGTERM to ksight is forwarded too
run_bg --parquet "$TMP/term.parquet" -- "$W" sleep 30000 "$TMP/term.log" 2>/dev/null
pid=$!
wait_log "$TMP/term.log" '^sleep '
kill -TERM $pid
wait $pid
is "$?" 143 "SIGTERM to ksight: the job gets it, ksight exits 143"
is "$(duck "select signal from '$TMP/term.parquet'")" 15 "the row says SIGTERM"

# --- a job that ignores SIGINT: a second interrupt stops waiting
run_bg --parquet "$TMP/ign.parquet" -- sh -c "trap '' INT; $W sleep 30000 $TMP/ign.log" 2>"$TMP/ign.err"
pid=$!
wait_log "$TMP/ign.log" '^sleep '
kill -INT $pid
sleep 0.5
ok "one SIGINT does not stop ksight while the job ignores it" kill -0 $pid
kill -INT $pid
wait $pid
is "$?" 130 "the second SIGINT stops it: 130"
like "$(cat "$TMP/ign.err")" "second interrupt: stopping now" "it says why it stopped"
like "$(cat "$TMP/ign.err")" "Still running when tracing ended, left running \\(2\\)" "both processes are reported as still running"
is "$(duck "select count(*) from '$TMP/ign.parquet' where end_time is null and exit_code is null and signal is null
	    and start_time is not null")" 2 "their rows have a start and NULL end fields"
sleeper=$(awk '$1 == "sleep" { print $2 }' "$TMP/ign.log")
ok "they were left running" kill -0 "$sleeper"
kill -9 "$sleeper" "$(awk '$1 == "sleep" { print $3 }' "$TMP/ign.log")" 2>/dev/null

# --- commands that cannot run
mkdir "$TMP/cwd" && cd "$TMP/cwd" || exit 1
"$KSIGHT" run -- no-such-command-ksight 2>"$TMP/nf.err"
is "$?" 127 "a command not in PATH: 127"
is "$(cat "$TMP/nf.err")" "ksight run: cannot run 'no-such-command-ksight': command not found in PATH" "with a clear message"
"$KSIGHT" run -- /no/such/dir/prog 2>"$TMP/nf.err"
is "$?" 127 "a path that does not exist: 127"
is "$(cat "$TMP/nf.err")" "ksight run: cannot run '/no/such/dir/prog': No such file or directory" "with a clear message"
echo 'echo hi' > "$TMP/noexec" && chmod 644 "$TMP/noexec"
"$KSIGHT" run -- "$TMP/noexec" 2>"$TMP/nf.err"
is "$?" 126 "a file that is not executable: 126"
is "$(cat "$TMP/nf.err")" "ksight run: cannot run '$TMP/noexec': Permission denied" "with a clear message"
is "$(ls -A)" "" "nothing was left in the working directory (no Parquet, no temporary file)"
cd "$TMP" || exit 1

# --- a daemon: ksight waits until it exits
"$KSIGHT" run --parquet "$TMP/d.parquet" -- "$W" daemon 1500 "$TMP/d.log" 2>"$TMP/d.err"
is "$?" 0 "daemon job: ksight exits with the job's 0"
is "$(grep -c '^daemon-exit' "$TMP/d.log")" 1 "the daemon ran to its end before ksight returned"
daemon=$(awk '$1 == "daemon" { print $2 }' "$TMP/d.log")
middle=$(awk '$1 == "daemon-parent" { print $2 }' "$TMP/d.log")
is "$(duck "select ppid || ' ' || exit_code || ' ' || signal || ' ' || (duration_ns > 0)
	    from '$TMP/d.parquet' where pid = $daemon")" "$middle 0 0 true" \
   "its row: forked by the first child (not init, which adopted it), ended with 0"
is "$(duck "select count(*) from '$TMP/d.parquet'")" 3 "three rows: the job, the first child, the daemon"
like "$(cat "$TMP/d.err")" "still tracking 1 process it started: $daemon \\(runwork\\)" \
   "while waiting, ksight said which process it waited for"

# --- a daemon that outlives --timeout
"$KSIGHT" run --timeout 1 --parquet "$TMP/t.parquet" --db "$TMP/t.db" -- "$W" daemon 30000 "$TMP/t.log" 2>"$TMP/t.err"
is "$?" 0 "--timeout with a daemon left: ksight exits with the job's 0"
daemon=$(awk '$1 == "daemon" { print $2 }' "$TMP/t.log")
like "$(cat "$TMP/t.err")" "Still running at --timeout, left running \\(1\\)" "the report says what is still running"
like "$(cat "$TMP/t.err")" " $daemon  running +runwork daemon 30000" "and names it"
ok "the daemon was left running" kill -0 "$daemon"
kill -9 "$daemon"
is "$(duck "select (start_time is not null) || ' ' || coalesce(end_time::VARCHAR, 'NULL') || ' ' ||
	    coalesce(duration_ns::VARCHAR, 'NULL') || ' ' || coalesce(exit_code::VARCHAR, 'NULL') || ' ' ||
	    coalesce(signal::VARCHAR, 'NULL') || ' ' || coalesce(cpu_user_ns::VARCHAR, 'NULL')
	    from '$TMP/t.parquet' where pid = $daemon")" "true NULL NULL NULL NULL NULL" \
   "its row has a start and NULL end fields"
DB=$TMP/t.db
is "$(q "select timed_out || ' ' || still_running || ' ' || exit_status as v from runs")" "1 1 0" \
   "runs: timed out, 1 still running, exit status 0"
is "$(q "select count(*) from run_processes where end_time is null")" 1 "run_processes: the same NULL end"

# --- --timeout while the command itself still runs
"$KSIGHT" run --timeout 0.5 --no-parquet -- "$W" sleep 30000 "$TMP/s.log" 2>"$TMP/s.err"
is "$?" 124 "--timeout while the command runs: 124"
like "$(cat "$TMP/s.err")" "is still running after .*\\(--timeout\\)" "the summary says it is still running"
kill_logged "$TMP/s.log" sleep

# --- bad options and outputs: nothing runs
"$KSIGHT" run 2>"$TMP/u.err"
is "$?" 2 "no command: usage error"
like "$(cat "$TMP/u.err")" "missing the command to run" "saying what is missing"
"$KSIGHT" run --timeout soon -- true 2>"$TMP/u.err"
is "$?" 2 "a bad --timeout: usage error"
like "$(cat "$TMP/u.err")" "--timeout: 'soon' is not a duration" "naming the flag"
"$KSIGHT" run --bogus -- true 2>/dev/null
is "$?" 2 "an unknown option: usage error"
"$KSIGHT" run --parquet x.parquet --no-parquet -- true 2>/dev/null
is "$?" 2 "--parquet with --no-parquet: usage error"
"$KSIGHT" run --quiet --no-parquet ls -d / >/dev/null
is "$?" 0 "options of CMD after CMD are CMD's, even without --"
"$KSIGHT" run --parquet /no/such/dir/x.parquet -- touch "$TMP/ran" 2>"$TMP/u.err"
is "$?" 1 "an unwritable --parquet: runtime error"
like "$(cat "$TMP/u.err")" "cannot write /no/such/dir/x.parquet: No such file or directory" "naming the file"
ok "and the command did not run" test ! -e "$TMP/ran"
echo "not a database" > "$TMP/foreign.db"
"$KSIGHT" run --no-parquet --db "$TMP/foreign.db" -- touch "$TMP/ran" 2>"$TMP/u.err"
is "$?" 1 "a --db that is not ours: runtime error, and the command did not run ($(test -e "$TMP/ran" && echo ran || echo not run))"
if command -v setpriv >/dev/null; then
	setpriv --reuid=65534 --regid=65534 --clear-groups "$KSIGHT" run --no-parquet -- echo ran-unprivileged \
		>"$TMP/u.out" 2>"$TMP/u.err"
	is "$?" 1 "without privileges: runtime error"
	like "$(cat "$TMP/u.err")" "cannot trace processes: .*needs root, or CAP_BPF and CAP_PERFMON" "saying what is needed"
	is "$(cat "$TMP/u.out")" "" "and the command did not run"
else
	for i in 1 2 3; do skip "no setpriv"; done
fi
done_testing
