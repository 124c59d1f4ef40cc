#!/bin/sh
# A full disk: writes fail with a clear message, rows wait in memory, and
# once space returns every tick is stored — nothing lost.
. "$(dirname "$0")/../lib/tap.sh"
require_bpf
plan 8

mkdir -p "$TMP/small"
mount -t tmpfs -o size=64m tmpfs "$TMP/small" || { echo "1..0 # SKIP cannot mount tmpfs"; exit 0; }
at_exit "umount -l '$TMP/small'"
DB=$TMP/small/full.db

agent_bg full --db "$DB" --no-http || { echo "Bail out! no agent"; exit 1; }
pid=$AGENT_PID
# Fill the filesystem, hold it full until writes fail, then free it.
dd if=/dev/zero of="$TMP/small/filler" bs=64k 2>/dev/null
# Rows keep coming while the disk is full: 300 marked execs (the marker
# names this run: the agent sees another suite's execs too).
MARK=diskfull-marker-$$
i=0; while [ $i -lt 300 ]; do /bin/true "$MARK-$i"; i=$((i + 1)); done
wait_for "a failed write" 60 grep -q "database or disk is full" "$TMP/full.err"
rm -f "$TMP/small/filler"
wait_for "writes to resume" 60 grep -q "database writes resumed" "$TMP/full.err"
n=$(q "select count(*) from memory_metrics")
wait_for "a tick after that" 60 at_least $((n + 1)) "select count(*) from memory_metrics"
agent_stop $pid
rc=$?
cp "$TMP/full.err" "$TMP/err"
is "$rc" 0 "the agent survives a full disk and exits 0 (nothing lost)"
like "$(cat "$TMP/err")" "database or disk is full" "the write failure was reported while the disk was full"
like "$(cat "$TMP/err")" "stopped after .* 0 lost" "it reports 0 rows lost"
is "$(q 'PRAGMA integrity_check')" ok "the database is sound"
ticks=$(sed -n 's/.*stopped after .*: \([0-9]*\) ticks,.*/\1/p' "$TMP/err")
is "$(q "select count(*) from memory_metrics")" "$ticks" "every tick's memory row is stored ($ticks ticks)"
is "$(q "select count(distinct timestamp) from collector_stats where collector = 'store'")" "$ticks" \
   "and every tick's collector_stats rows"
is "$(q "select count(*) from process_events where event='exec' and argv like '/bin/true $MARK-%'")" 300 \
   "all 300 execs made while the disk was full were stored afterwards"
like "$(cat "$TMP/err")" "database writes resumed" "recovery was reported"
done_testing
