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

"$KSIGHT" agent --db "$DB" --duration 9 2>"$TMP/err" &
pid=$!
sleep 2
# Fill the filesystem, hold it full for 3 s, then free it.
dd if=/dev/zero of="$TMP/small/filler" bs=64k 2>/dev/null
# Rows keep coming while the disk is full: 300 marked execs.
i=0; while [ $i -lt 300 ]; do /bin/true "diskfull-marker-$i"; i=$((i + 1)); done
sleep 3
rm -f "$TMP/small/filler"
wait $pid
rc=$?
is "$rc" 0 "the agent survives a full disk and exits 0 (nothing lost)"
like "$(cat "$TMP/err")" "database or disk is full" "the write failure was reported while the disk was full"
like "$(cat "$TMP/err")" "stopped after .* 0 lost" "it reports 0 rows lost"
is "$(q 'PRAGMA integrity_check')" ok "the database is sound"
n=$(q "select count(*) from memory_metrics")
within "$n" 9 10 "every tick's memory row is stored ($n for a 9 s run)"
gap=$(q "select max(t2.timestamp - t1.timestamp) / 1000000 from memory_metrics t1 join memory_metrics t2 on t2.rowid = t1.rowid + 1")
within "$gap" 900 1100 "no gap between consecutive ticks (largest ${gap} ms)"
is "$(q "select count(*) from process_events where event='exec' and argv like '/bin/true diskfull-marker-%'")" 300 \
   "all 300 execs made while the disk was full were stored afterwards"
like "$(cat "$TMP/err")" "database writes resumed" "recovery was reported"
done_testing
