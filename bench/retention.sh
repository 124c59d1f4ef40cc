#!/bin/sh
# Retention over a simulated month: the real store, writer and retention
# (bench/retention.c) driven through RETENTION_DAYS (30) of this host's row
# mix at 1 s ticks, the mix taken from a RETENTION_CAPTURE (20) second
# `ksight agent` run here.  The last RETENTION_TICK_DAYS (2: the raw
# tier's 48 h) are replayed tick by tick through the writer; the days
# before them are fast-forwarded (their first minute raw and rolled up,
# its minute rows copied over the day, retention run an hour at a time),
# so a month takes minutes.  Prints the database size at the end of each
# simulated day (it must level off under the cap), the writer's lag per
# tick while retention rolls up and prunes (every tick stored within 1 s),
# and then the response time of /api/series for the 30-day range (the
# dashboard's 30 d view) from an agent running on the month's database,
# next to the 7-day range (minute rollups) and the last hour (raw rows).
#
#   RETENTION_DAYS=30 RETENTION_MAX_BYTES=0 RETENTION_ROWS=0 RETENTION_DIR=/tmp bench/run retention
#
# RETENTION_ROWS=N thins the event and per-process rows evenly (each table
# keeps its share) so that a tick holds about N rows; the per-tick tables
# stay whole.  0 replays the whole mix (on a busy host that is hours).
#
# RETENTION_MAX_BYTES=0 is the agent's default cap (2 GiB or 10% of the
# filesystem); RETENTION_DIR holds the month's database (default: a
# directory under /tmp; /dev/shm takes the disk out of the timings;
# RETENTION_KEEP=1 keeps it, for EXPLAIN QUERY PLAN and the like).
#
# RETENTION_DB=FILE skips the capture and the simulation and times
# /api/series on a copy of FILE (a month.db kept by RETENTION_KEEP=1).
# RETENTION_BASELINE=KSIGHT times that binary too, side by side: each
# agent serves its own copy of the month with its collectors and
# retention off (the rows stay as they are), the requests alternate
# between them, and their answers are compared byte for byte.
#
#   RETENTION_DB=/dev/shm/month.db RETENTION_BASELINE=/tmp/old/ksight RETENTION_DIR=/dev/shm bench/run retention
. "$(dirname "$0")/lib.sh"
DAYS=${RETENTION_DAYS:-30}
CAPTURE=${RETENTION_CAPTURE:-20}
CAP=${RETENTION_MAX_BYTES:-0}
DIR=$(mktemp -d "${RETENTION_DIR:-/tmp}/ksight-retention.XXXXXX")
REQUESTS=${RETENTION_REQUESTS:-200}
ROWS=${RETENTION_ROWS:-0}
TICK_DAYS=${RETENTION_TICK_DAYS:-2}
trap '_bench_exit; [ -n "${RETENTION_KEEP:-}" ] && echo "kept $DIR/month.db" >&2 || rm -rf "$DIR"' EXIT

echo "## Retention: ${DAYS} simulated days"
echo
if [ -z "${RETENTION_DB:-}" ]; then
"$KSIGHT" -q agent --db "$BTMP/capture.db" --duration "$CAPTURE" --no-http 2>/dev/null
ticks=$(q "$BTMP/capture.db" "select count(*) - 2 from memory_metrics")
echo "Row mix: a ${CAPTURE} s \`ksight agent\` capture on this host (all collectors), per tick:"
echo
echo "| table | rows per tick |"
echo "|---|---|"
for t in $("$KSIGHT" schema | sed '/^Rollup tiers/q' | sed -n 's/^\([a-z_0-9]*\): .*/\1/p'); do
	n=$(q "$BTMP/capture.db" "select count(*) from $t")
	[ "$n" -gt 0 ] && printf '| %s | %s |\n' "$t" "$(awk -v n="$n" -v t="$ticks" 'BEGIN { printf "%.1f", n / (t + 2) }')"
done
echo

"$BENCH_BIN/retention" "$BTMP/capture.db" "$DIR/month.db" "$DAYS" "$CAP" "$ROWS" "$TICK_DAYS" >"$BTMP/sim.out"
cap=$(awk '/^sim_end_ns/ { print $4 }' "$BTMP/sim.out")
wall=$(awk '/^sim_end_ns/ { print $6 }' "$BTMP/sim.out")
awk '/^capture rows_per_tick/ { print "Thinned to about '"$ROWS"' rows per tick: " $0; print "" }' "$BTMP/sim.out"
echo "$(awk '/^replay/ { print $3 }' "$BTMP/sim.out") rows per tick replayed, ${DAYS} simulated days in ${wall} s;" \
     "cap $(awk -v c="$cap" 'BEGIN { printf "%.0f MiB", c / 1048576 }') (retention.max_bytes=${CAP}; raw 48 h, per-minute 30 d, per-hour 730 d)."
echo "Days marked *fast* are fast-forwarded (their first minute raw, its minute rollups copied over the day, retention's"
echo "real steps run an hour of simulated time at a time); the last ${TICK_DAYS} are replayed tick by tick through the writer:"
echo "the ticks of a simulated minute go in one batch, except the first minute of every hour, where each tick is its own batch"
echo "as in the agent and its lag (submit to commit, retention steps running between batches) is measured."
echo
echo "| day | mode | database MiB | rows stored | rows pruned | tick lag p99 ms | tick lag max ms | longest retention step ms (so far) | retention CPU s | wall s |"
echo "|---|---|---|---|---|---|---|---|---|---|"
awk '$1 ~ /^[0-9]+$/ { printf "| %d | %s | %.0f | %d | %d | %s | %s | %.1f | %.1f | %.0f |\n", $1, $13, $2 / 1048576, $3, $4,
	$13 == "fast" ? "-" : sprintf("%.1f", $5), $13 == "fast" ? "-" : sprintf("%.1f", $6), $7, $8 / 1000, $9 }' \
	"$BTMP/sim.out"
echo
echo "Rows per tier at the end:"
echo
echo "| tier | rows | MiB (tables and indexes) |"
echo "|---|---|---|"
for tier in raw 1m 1h; do
	case $tier in
	raw) like="name NOT LIKE '%\\_1m%' ESCAPE '\\' AND name NOT LIKE '%\\_1h%' ESCAPE '\\'" ;;
	*) like="name LIKE '%\\_${tier}%' ESCAPE '\\'" ;;
	esac
	mib=$(sqlite3 "$DIR/month.db" "select round(sum(pgsize) / 1048576.0) from dbstat where $like")
	rows=0
	for t in $(sqlite3 "$DIR/month.db" "select name from sqlite_master where type = 'table' and $like and name != 'rollup_marks'"); do
		rows=$((rows + $(sqlite3 "$DIR/month.db" "select count(*) from $t")))
	done
	echo "| $tier | $rows | $mib |"
done
echo

else
	cp "$RETENTION_DB" "$DIR/month.db"
	echo "The month of $RETENTION_DB ($(awk -v b="$(stat -c %s "$DIR/month.db")" 'BEGIN { printf "%.0f MiB", b / 1048576 }'))."
	echo
fi

# url_of LOG, token_of LOG: where the agent of LOG serves and its token
# (/api/series serves per-process data: it needs the token the agent printed).
url_of() { sed -n 's|.*dashboard on \(http://[^/]*\)/.*|\1|p' "$1"; }
token_of() { sed -n 's|.*dashboard on http://[^ ]*token=\([0-9a-f]*\).*|\1|p' "$1"; }

if [ -n "${RETENTION_BASELINE:-}" ]; then
	# Two agents on two copies of the month that stay as they are: no
	# collector, no retention.  The requests alternate between them.
	printf 'retention:\n  enabled: false\ndetect:\n  enabled: false\ntracers:\n' >"$BTMP/still.yaml"
	for t in proc syscall blockio sched pagefault tcp rss; do printf '  %s: {enabled: false}\n' $t; done >>"$BTMP/still.yaml"
	echo "scrapers:" >>"$BTMP/still.yaml"
	for s in meminfo loadavg stat diskstats net_dev net_tcp net_snmp pressure vmstat; do
		printf '  %s: {enabled: false}\n' $s
	done >>"$BTMP/still.yaml"
	cp "$DIR/month.db" "$DIR/baseline.db"
	KSIGHT_NEW=$KSIGHT
	KSIGHT=$RETENTION_BASELINE
	start_agent "$BTMP/baseline.log" --config "$BTMP/still.yaml" --db "$DIR/baseline.db" --listen 127.0.0.1:0
	BASE_PID=$AGENT_PID
	KSIGHT=$KSIGHT_NEW
	start_agent "$BTMP/agent.log" --config "$BTMP/still.yaml" --db "$DIR/month.db" --listen 127.0.0.1:0
	wait_line "$BTMP/baseline.log" "dashboard on"
	wait_line "$BTMP/agent.log" "dashboard on"
	BURL=$(url_of "$BTMP/baseline.log") BTOKEN=$(token_of "$BTMP/baseline.log")
	URL=$(url_of "$BTMP/agent.log") TOKEN=$(token_of "$BTMP/agent.log")
	# The month's last row: the ranges end there, so both answer from the same rows.
	now=$(($(q "$DIR/month.db" "select max(timestamp) from load_metrics") / 1000000000 + 1))
	echo "/api/series from two agents on copies of the month, requests alternating (baseline: $RETENTION_BASELINE),"
	echo "each with a different until (no answer is reused); answers compared byte for byte:"
	echo
	echo "| /api/series range | step answered | tier | requests each | baseline median ms | baseline p99 ms | this median ms | this p99 ms | median ratio | p99 ratio | answers differing |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|"
	for view in "30 days:2592000:4320" "7 days:604800:1008" "24 hours:86400:144" "1 hour:3600:6"; do
		label=${view%%:*}
		rest=${view#*:}
		range=${rest%%:*}
		step=${rest#*:}
		: >"$BTMP/times.base"
		: >"$BTMP/times.new"
		i=0 differ=0
		while [ $i -lt "$REQUESTS" ]; do
			until=$((now - i))
			args="since=$((until - range))&until=$until&step=${step}s"
			# Alternate which goes first: neither always runs in the other's wake.
			for who in $([ $((i % 2)) -eq 0 ] && echo base new || echo new base); do
				if [ "$who" = base ]; then u=$BURL t=$BTOKEN; else u=$URL t=$TOKEN; fi
				curl -s -H "Authorization: Bearer $t" -o "$BTMP/series.$who" -w '%{time_total} %{http_code}\n' \
					"$u/api/series?$args" >>"$BTMP/times.$who"
			done
			cmp -s "$BTMP/series.base" "$BTMP/series.new" || differ=$((differ + 1))
			i=$((i + 1))
		done
		# Only answers (200) count; a refusal (503: a client's share) would be fast.
		for who in base new; do
			bad=$(awk '$2 != 200' "$BTMP/times.$who" | wc -l)
			[ "$bad" -eq 0 ] || echo "($who: $bad requests not answered with 200, left out)"
			awk '$2 == 200 { print $1 * 1000 }' "$BTMP/times.$who" | sort -n >"$BTMP/ms.$who"
		done
		p99() { awk '{ v[NR] = $1 } END { print v[int(NR * 0.99 + 0.999)] }' "$1"; }
		bmed=$(median <"$BTMP/ms.base") nmed=$(median <"$BTMP/ms.new")
		bp99=$(p99 "$BTMP/ms.base") np99=$(p99 "$BTMP/ms.new")
		tier=$(jq -r '[.series[].tier] | unique | join(",")' "$BTMP/series.new")
		echo "| $label | $(jq -r .step_s "$BTMP/series.new") s | $tier | $REQUESTS | $bmed | $bp99 | $nmed | $np99 |" \
		     "$(awk -v a="$nmed" -v b="$bmed" 'BEGIN { printf "%.2f", a / b }') |" \
		     "$(awk -v a="$np99" -v b="$bp99" 'BEGIN { printf "%.2f", a / b }') | $differ |"
	done
	stop_agent
	AGENT_PID=$BASE_PID
	stop_agent
	echo
	echo "Load average after the requests: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)."
	exit 0
fi

# The dashboard's long views against the month, from a running agent.
start_agent "$BTMP/agent.log" --db "$DIR/month.db" --listen 127.0.0.1:0
wait_line "$BTMP/agent.log" "dashboard on"
URL=$(url_of "$BTMP/agent.log")
TOKEN=$(token_of "$BTMP/agent.log")
now=$(date +%s)
echo "| /api/series range | step asked | step answered | tier | points a series | requests | median ms | p99 ms |"
echo "|---|---|---|---|---|---|---|---|"
for view in "30 days:2592000:4320" "7 days:604800:1008" "24 hours:86400:144" "1 hour:3600:6"; do
	label=${view%%:*}
	rest=${view#*:}
	range=${rest%%:*}
	step=${rest#*:}
	: >"$BTMP/times"
	i=0
	while [ $i -lt "$REQUESTS" ]; do
		# A different until each time: every request is a query, not a cached answer.
		until=$((now - i))
		curl -s -H "Authorization: Bearer $TOKEN" -o "$BTMP/series.json" -w '%{time_total}\n' \
			"$URL/api/series?since=$((until - range))&until=$until&step=${step}s" >>"$BTMP/times"
		i=$((i + 1))
	done
	tier=$(jq -r '[.series[].tier] | unique | join(",")' "$BTMP/series.json")
	med=$(awk '{ print $1 * 1000 }' "$BTMP/times" | median)
	p99=$(awk '{ print $1 * 1000 }' "$BTMP/times" | sort -n | awk '{ v[NR] = $1 } END { print v[int(NR * 0.99 + 0.999)] }')
	points=$(jq '[.series[].data[0] | length] | max' "$BTMP/series.json")
	echo "| $label | ${step} s | $(jq -r .step_s "$BTMP/series.json") s | $tier | $points | $REQUESTS | $med | $p99 |"
done
stop_agent
echo
echo "Load average after the requests: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)."
