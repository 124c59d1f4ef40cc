#!/bin/sh
# ksight stress: a short run captures all ten event types on this kernel,
# with no parse or insert errors, and says so; bad flags are usage errors.
. "$(dirname "$0")/../lib/tap.sh"
require_bpf
plan 8

"$KSIGHT" stress --duration 0.5 >/dev/null 2>&1
is "$?" 2 "a duration under 1 s is a usage error"

DB=$TMP/stress.db
out=$("$KSIGHT" stress --duration 8 --db "$DB" 2>&1)
rc=$?
is "$rc" 0 "stress exits 0"
like "$out" "\[1/6\] Checking prerequisites" "phases are numbered"
like "$out" "Captured: 10/10 event types" "all ten event types captured"
like "$out" "Parse errors: 0   insert errors: 0   rows dropped by the store: 0" "no parse or insert errors"
for t in syscall_events io_latency_stats; do
	n=$(q "select count(*) from $t")
	ok "$t really has rows in the database ($n)" test "$n" -gt 0
done
"$KSIGHT" stress --duration 2 --db "$DB" >/dev/null 2>&1
is "$?" 1 "an existing database is not overwritten"
done_testing
