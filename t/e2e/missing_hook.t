#!/bin/sh
# A kernel without a tracepoint: the tracer that needs it is disabled with a
# one-line reason, recorded in collector_stats, and the agent keeps running
# the rest.  KSIGHT_HIDE_TRACEPOINTS makes the run-time probe report the
# tracepoint as missing.
. "$(dirname "$0")/../lib/tap.sh"
plan 5

DB=$TMP/hook.db
KSIGHT_HIDE_TRACEPOINTS=sched_process_exec "$KSIGHT" agent --db "$DB" --duration 1.5 2>"$TMP/err"
is "$?" 0 "the agent runs without the tracepoint"
like "$(cat "$TMP/err")" "tracer proc disabled: tracepoint sched_process_exec is not in this kernel" \
     "one line says which tracer and why"
is "$(q "select enabled from collector_stats where collector='proc' limit 1")" 0 "collector_stats: proc disabled"
like "$(q "select reason from collector_stats where collector='proc' limit 1")" "sched_process_exec" \
     "with the reason"
ok "the scrapers still filled memory_metrics" test "$(q 'select count(*) from memory_metrics')" -gt 0
done_testing
