#!/bin/sh
# A kernel without a tracepoint: the tracer that needs it is disabled with a
# one-line reason, recorded in collector_stats, and the agent keeps running
# the rest.  KSIGHT_HIDE_TRACEPOINTS makes the run-time probe report the
# tracepoint as missing.  The same for a kernel field a tracer reads (the
# run-queue accounting of CONFIG_SCHED_INFO): the sched tracer is disabled,
# and the syscall tracer, which splits a slow call's time with it, falls
# back to a sched_wakeup program and keeps running.
. "$(dirname "$0")/../lib/tap.sh"
plan 10

DB=$TMP/hook.db
KSIGHT_HIDE_TRACEPOINTS=sched_process_exec "$KSIGHT" agent --db "$DB" --duration 1.5 2>"$TMP/err"
is "$?" 0 "the agent runs without the tracepoint"
like "$(cat "$TMP/err")" "tracer proc disabled: tracepoint sched_process_exec is not in this kernel" \
     "one line says which tracer and why"
is "$(q "select enabled from collector_stats where collector='proc' limit 1")" 0 "collector_stats: proc disabled"
like "$(q "select reason from collector_stats where collector='proc' limit 1")" "sched_process_exec" \
     "with the reason"
ok "the scrapers still filled memory_metrics" test "$(q 'select count(*) from memory_metrics')" -gt 0

DB=$TMP/field.db
KSIGHT_HIDE_TRACEPOINTS=task_struct.sched_info "$KSIGHT" agent --db "$DB" --duration 2.5 2>"$TMP/err"
is "$?" 0 "the agent runs without the kernel's run-queue accounting"
like "$(cat "$TMP/err")" "tracer sched disabled: kernel field task_struct.sched_info is not in this kernel" \
     "one line says which tracer and why"
is "$(q "select enabled from collector_stats where collector='sched' limit 1")" 0 "collector_stats: sched disabled"
is "$(q "select enabled from collector_stats where collector='syscall' order by timestamp desc limit 1")" 1 \
   "collector_stats: syscall on, with its sched_wakeup fallback loaded"
ok "syscall_stats has rows" test "$(q 'select count(*) from syscall_stats')" -gt 0
done_testing
