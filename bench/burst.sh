#!/bin/sh
# Memory given back after a burst: default agents (this build, and
# BURST_BASELINE's binary beside it when set) watch the same fork storm;
# their RSS before it, at its peak and after it settled.  The soak's goal
# (RSS after the first 10 minutes grows by <= 1 MB) fails if a burst's
# memory stays.
#
#   BURST_WARM=90 BURST_SECONDS=60 BURST_SETTLE=60 BURST_BASELINE=/old/ksight
. "$(dirname "$0")/lib.sh"
WARM=${BURST_WARM:-90}; STORM=${BURST_SECONDS:-60}; SETTLE=${BURST_SETTLE:-60}
command -v stress-ng >/dev/null || { echo "bench/burst.sh: stress-ng is missing (make deps)" >&2; exit 1; }

echo "## Memory after a burst (bench/burst.sh)"
echo
names="this"; bins="$KSIGHT"
if [ -n "${BURST_BASELINE:-}" ]; then names="$names baseline"; bins="$bins $BURST_BASELINE"; fi
set -- $bins
pids=""; urls=""
for n in $names; do
	start_agent "$BTMP/$n.log" --db "$BTMP/$n.db" --listen 127.0.0.1:0
	wait_line "$BTMP/$n.log" "dashboard on"
	pids="$pids $AGENT_PID"
	urls="$urls $(sed -n 's|.*dashboard on \(http://[^/]*\)/.*|\1|p' "$BTMP/$n.log")"
	shift
	[ $# -gt 0 ] && KSIGHT=$1
done
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
# sample FILE: every agent's RSS (KiB) on one line
sample() { l=""; for p in $pids; do l="$l $(rss "$p")"; done; echo "$l" >>"$1"; }

sleep "$WARM"
sample "$BTMP/before"
stress-ng --fork 2 -t "$STORM" >/dev/null 2>&1 &
sp=$!
s=0
while kill -0 $sp 2>/dev/null; do sample "$BTMP/storm"; sleep 5; s=$((s + 5)); done
wait $sp || true
sleep "$SETTLE"
sample "$BTMP/after"

echo "Default agents, ${WARM} s quiet, then \`stress-ng --fork 2 -t $STORM\`, then ${SETTLE} s quiet; load $(load_avg) at the end."
echo
echo "| agent | RSS before MiB | peak in the storm MiB | after MiB | kept MiB | heap free after MiB |"
echo "|---|---|---|---|---|---|"
i=1
for n in $names; do
	b=$(awk -v i=$i '{ print $i }' "$BTMP/before")
	pk=$(awk -v i=$i '$i > m { m = $i } END { print m + 0 }' "$BTMP/storm")
	a=$(awk -v i=$i '{ print $i }' "$BTMP/after")
	u=$(echo $urls | cut -d' ' -f$i)
	hf=$(curl -sf "$u/api/health" | jq -r '.memory.heap.free_bytes / 1048576 * 10 | round / 10')
	echo "| $n | $(echo "$b" | awk '{ printf "%.1f", $1 / 1024 }') | $(echo "$pk" | awk '{ printf "%.1f", $1 / 1024 }') | $(echo "$a" | awk '{ printf "%.1f", $1 / 1024 }') | $(echo "$a $b" | awk '{ printf "%+.2f", ($1 - $2) / 1024 }') | $hf |"
	i=$((i + 1))
done
for p in $pids; do kill -INT "$p"; wait "$p" || true; done
