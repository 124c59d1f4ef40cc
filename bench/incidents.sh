#!/bin/sh
# Host incidents, end to end (issue 14): does the agent, started on baselines
# learnt from a quiet capture, flag four real incidents within 5 s each,
# naming the right metric group, and then stay quiet?
#
#   1. A quiet capture of QUIET_SECONDS (default 600; a baseline needs 300
#      samples to be used) with detection off, then `ksight baseline learn`.
#   2. `ksight agent` on that database: its detectors start from those
#      baselines (/api/health's learning line says so at its first tick).
#   3. One after another, 20 s apart:
#      - a CPU hog: one busy thread per CPU for 15 s;
#      - a disk latency burst: 4 KiB O_DIRECT writes to a loop device
#        (direct I/O onto a file under .output/, set up before the capture
#        so it has a baseline; detached at exit);
#      - a memory-pressure ramp to PSI `some` > 20%: readers of a 192 MiB
#        file inside a memory cgroup of this bench whose limit steps down
#        from 256 MiB to 24 MiB (page-cache thrashing: the host's memory is
#        never short; the cgroup is removed at exit);
#      - TCP retransmits: a TCP flow over loopback, the loopback down for 3 s.
#        The whole bench runs in a private network namespace (unshare -n) of
#        its own, so that loopback is the bench's and /proc/net/snmp, which
#        the agent reads, is the namespace's; /proc/stat, diskstats and
#        pressure are the host's in any namespace.
#      Each one's first `anomalies` row of its group is found by timestamp:
#      its delay is that row's timestamp minus the injection's start.
#   4. QUIET_AFTER seconds (default 1800) of nothing, starting 30 s after the
#      last incident: the goal is at most 1 notice and 0 alerts.
#
# Not in CI: it takes QUIET_SECONDS + QUIET_AFTER + about 3 minutes, needs
# root, and its numbers depend on what else the host runs.  bench/run skips
# it unless it is named: make bench BENCH=incidents.
set -eu
if [ -z "${KS_INCIDENTS_NETNS:-}" ]; then
	KS_INCIDENTS_NETNS=1 exec unshare -n sh "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
QUIET_SECONDS=${QUIET_SECONDS:-600}
QUIET_AFTER=${QUIET_AFTER:-1800}
DB=$BTMP/incidents.db
[ "$QUIET_SECONDS" -ge 300 ] || echo "bench/incidents.sh: QUIET_SECONDS=$QUIET_SECONDS is under the 300 samples a baseline" \
	"needs to be used (BASELINE_MIN_SAMPLES): the agent will start learning, not seeded" >&2
ip link set lo up

# The loop device, on a file on a real disk (O_DIRECT needs one).
LOOPFILE=$TOP/.output/incidents-loop.$$
truncate -s 256M "$LOOPFILE"
LOOP=$(losetup --direct-io=on -f --show "$LOOPFILE")
LOOPDEV=$(basename "$LOOP")
dd if="$LOOP" of=/dev/null bs=4k count=1 iflag=direct 2>/dev/null  # listed in diskstats from now on

# The memory cgroup (v2: memory.max; v1: memory.limit_in_bytes).
if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
	CG=/sys/fs/cgroup/ksight-bench-incidents-$$
	LIMIT=memory.max
else
	CG=/sys/fs/cgroup/memory/ksight-bench-incidents-$$
	LIMIT=memory.limit_in_bytes
fi
MEMFILE=$TOP/.output/incidents-mem.$$
cleanup() {
	for p in $(cat "$CG/cgroup.procs" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
	i=0
	while [ -s "$CG/cgroup.procs" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	rmdir "$CG" 2>/dev/null || true
	losetup -d "$LOOP" 2>/dev/null || true
	rm -f "$LOOPFILE" "$MEMFILE"
	_bench_exit
}
trap cleanup EXIT
mkdir "$CG"
echo $((512 << 20)) > "$CG/$LIMIT"

echo "## Host incidents (bench/incidents.sh)"
echo
echo "QUIET_SECONDS=$QUIET_SECONDS QUIET_AFTER=$QUIET_AFTER, default configuration (1 s tick), load average" \
	"$(cut -d' ' -f1-3 /proc/loadavg) at the start."
echo
printf 'detect:\n  enabled: false\n' > "$BTMP/capture.yaml"
"$KSIGHT" agent --db "$DB" --no-http --config "$BTMP/capture.yaml" --duration "$QUIET_SECONDS" 2>"$BTMP/capture.err"
"$KSIGHT" baseline learn --db "$DB" > "$BTMP/learn.out"
echo "Quiet capture: $(head -1 "$BTMP/learn.out")."

PORT=$(free_port)
start_agent "$BTMP/agent.err" --db "$DB" --listen "127.0.0.1:$PORT"
i=0
until [ "$(curl -s "http://127.0.0.1:$PORT/api/health" | jq -r '.ticks // 0' 2>/dev/null)" != 0 ] || [ $i -ge 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
echo "Agent at its first tick: $(curl -s "http://127.0.0.1:$PORT/api/health" | jq -r .learning.text)."
echo
now_ns() { date +%s%N; }
# sq SQL: one query on the database, rows as text with | between columns.
sq() { sqlite3 -cmd '.timeout 5000' "$DB" "$1"; }

# first_row T0 PATTERN: the first anomalies row at or after T0 whose metric
# matches the SQL LIKE patterns (one "metric like ..." expression), as
# "delay_s|metric|severity|explanation"; waits until the correlation window
# (10 s) has passed after T0 + 5 s.
first_row() {
	sq "select printf('%.1f', (timestamp - $1) / 1e9) || '|' || metric || '|' || severity || '|' ||
		 explanation from anomalies where timestamp >= $1 and ($2) order by timestamp limit 1"
}
# report NAME T0 PATTERN: waits for the row (up to 30 s after T0) and prints
# the table's line.
report() {
	end=$(( $2 / 1000000000 + 30 ))
	row=""
	while [ -z "$row" ] && [ "$(date +%s)" -lt $end ]; do
		sleep 1
		row=$(first_row "$2" "$3")
	done
	if [ -z "$row" ]; then
		echo "| $1 | none in 30 s | | |"
		return
	fi
	echo "$row" | awk -F'|' -v n="$1" '{ e = $4; for (i = 5; i <= NF; i++) e = e "|" $i;
		printf "| %s | `%s` (%s) | %s s | %s |\n", n, $2, $3, $1, e }'
}

echo "| incident | first row of its group | delay | explanation |"
echo "|---|---|---|---|"

# CPU hog.
sleep 20
T0=$(now_ns)
"$HELPERS/workload" spin "$(nproc)" 15 > /dev/null &
W=$!
report "CPU hog ($(nproc) busy threads)" "$T0" \
	"metric like 'cpu.%' or metric like 'sched.%' or metric like 'load.%' or metric = 'psi.some_pct{resource=cpu}'"
wait $W || true

# Disk latency burst on the loop device.
sleep 20
T0=$(now_ns)
"$HELPERS/workload" direct "$LOOP" 20000 > /dev/null &
W=$!
report "disk burst (O_DIRECT 4 KiB writes, $LOOPDEV)" "$T0" "metric like 'io.%{device=$LOOPDEV}'"
wait $W || true

# Memory-pressure ramp in the cgroup.
sleep 20
# The file is written from inside the cgroup, so its page cache is charged there.
sh -c "echo \$\$ > $CG/cgroup.procs; exec dd if=/dev/zero of=$MEMFILE bs=1M count=192 conv=fsync 2>/dev/null"
T0=$(now_ns)
sh -c "echo \$\$ > $CG/cgroup.procs; for i in 1 2 3 4; do (while :; do cat $MEMFILE; done > /dev/null 2>&1) & done; wait" 2>/dev/null &
RAMP=$!
(for mb in 256 160 128 96 64 48 32 24; do echo $((mb << 20)) > "$CG/$LIMIT" || true; sleep 2; done) &
STEPS=$!
report "memory-pressure ramp (cgroup limit 256 MiB to 24 MiB)" "$T0" "metric like 'psi.%{resource=memory}'"
wait $STEPS || true
sleep 5
PEAK=$(sq "select printf('%.0f', max(some_stall_pct)) from pressure_metrics where resource = 'memory' and timestamp >= $T0")
ABOVE=$(sq "select printf('%.1f', (min(timestamp) - $T0) / 1e9) from pressure_metrics where resource = 'memory' and
	timestamp >= $T0 and some_stall_pct > 20")
for p in $(cat "$CG/cgroup.procs"); do kill "$p" 2>/dev/null || true; done
wait $RAMP 2>/dev/null || true
rm -f "$MEMFILE"

# TCP retransmits: the loopback down for 3 s under a flow.
sleep 20
"$HELPERS/tcp_flow" "$(free_port)" 8 > /dev/null &
W=$!
sleep 1
T0=$(now_ns)
ip link set lo down
sleep 3
ip link set lo up
report "TCP retransmits (loopback down 3 s)" "$T0" "metric like 'tcp.%'"
wait $W || true

echo
echo "Memory PSI some peaked at ${PEAK:-?}% during the ramp, first above 20% ${ABOVE:-(never)} s after its start."
sleep 30
TQ=$(now_ns)
sleep "$QUIET_AFTER"
echo
echo "Quiet after: $QUIET_AFTER s, $(sq "select count(*) from anomalies where timestamp >= $TQ and severity = 'notice'") notices," \
	"$(sq "select count(*) from anomalies where timestamp >= $TQ and severity = 'alert'") alerts (goal: <= 1, 0)."
"$KSIGHT" query --db "$DB" --csv "select (timestamp - $TQ) / 1000000000 as s, metric, severity, explanation
	from anomalies where timestamp >= $TQ order by timestamp" | sed -n '2,$p' | sed 's/^/    /'
stop_agent
