#!/bin/sh
# Ingestion: events from a real BPF source (the syscall tracer with a 0 ns
# slow threshold, following only a getppid load generator) through ring
# buffer -> batch -> writer -> SQLite, next to the raw SQLite insert ceiling
# for the same row shape on this machine.
. "$(dirname "$0")/lib.sh"
SECONDS_PER_RATE=${INGEST_SECONDS:-4}

ceiling=$("$BENCH_BIN/sqlite_ceiling" "$BTMP/ceiling.db" 1000000 | awk '{print $2}')

echo "## Ingestion: BPF ring buffer -> SQLite"
echo
echo "Raw SQLite ceiling (syscall_events shape, one prepared statement, one transaction, WAL): **$ceiling rows/s**"
echo
echo "| offered events/s | produced events/s | stored | lost | all stored after load end (s) | writer rows/s | writer vs ceiling |"
echo "|---|---|---|---|---|---|---|"
best=0
best_produced=0
for rate in 250000 500000 750000 1000000 0; do
	count=$((rate * SECONDS_PER_RATE))
	[ "$rate" -eq 0 ] && count=6000000
	db=$BTMP/ingest-$rate.db
	rm -f "$BTMP/go"; mkfifo "$BTMP/go"
	"$HELPERS/sysloop" "$count" "$rate" --wait < "$BTMP/go" > "$BTMP/loop.out" &
	lp=$!
	exec 3>"$BTMP/go"
	printf 'agent:\n  ringbuf_bytes: 16M\n  ringbuf_wakeup_bytes: 256k\ntracers:\n  proc: {enabled: false}\n  syscall:\n    slow_threshold: 0\n    pid: %s\nscrapers:\n  meminfo: {enabled: false}\n  loadavg: {enabled: false}\n' "$lp" > "$BTMP/ingest.yaml"
	start_agent "$BTMP/agent.log" --config "$BTMP/ingest.yaml" --db "$db"
	echo go >&3
	exec 3>&-
	wait $lp
	t0=$(date +%s%N)
	# Poll until every event of the load is queryable (or 30 s).
	i=0
	while [ $i -lt 300 ]; do
		n=$(q "$db" "select count(*) from syscall_events where pid=$lp" 2>/dev/null || echo 0)
		[ "${n:-0}" -ge "$count" ] && break
		sleep 0.05
		i=$((i + 1))
	done
	t1=$(date +%s%N)
	stop_agent
	stored=$(q "$db" "select count(*) from syscall_events where pid=$lp")
	lost=$(q "$db" "select coalesce(sum(drops),0) from collector_stats where collector in ('syscall','store')")
	writer=$(q "$db" "select cast(sum(events) / (sum(cost_ms) / 1000.0) as integer) from collector_stats where collector='store' and events > 10000")
	produced=$(sed -n 2p "$BTMP/loop.out" | awk '{printf "%.0f", $1 / ($3 / 1e9)}')
	lag=$(awk -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.2f", (t1 - t0) / 1e9 }')
	ratio=$(awk -v a="${writer:-0}" -v b="$ceiling" 'BEGIN { printf "%.2f", a / b }')
	label=$rate; [ "$rate" -eq 0 ] && label="flat out"
	echo "| $label | $produced | $stored | $lost | $lag | $writer | $ratio |"
	if [ "$rate" -gt 0 ] && [ "$lost" -eq 0 ] && [ "$stored" -ge "$count" ]; then
		best=$rate
		[ "${produced:-0}" -gt "$best_produced" ] && best_produced=$produced
	fi
	rm -f "$db"*
done
echo
echo "Stored with 0 lost: **$best_produced events/s produced** end to end (the load generator's own measured rate at the highest offered rate with nothing lost: $best offered; producer and agent share the CPUs)."
echo "Writer rows/s = rows committed / time inside the store's transactions: the pipeline's part that compares with the raw ceiling."
echo "'All stored after load end' includes waiting for the next 1 s tick. 'Flat out' offers more than the writer takes: rows queue in memory up to agent.queue_bytes, and what is dropped beyond that is counted."
