#!/bin/sh
# Detection and reports: what online detection costs the agent per tick
# with every collector on (the real metric count of this machine, from the
# agent's own collector_stats row 'detect'), beside an agent with
# detection off (RSS); then, on a one-hour synthetic capture
# (t/lib/synthdb.sh), the time of `ksight report`, of loading the page in
# headless Chromium, of `baseline learn` and of `export --features`.
#
#   sh bench/detect.sh          (or: make bench BENCH=detect)
#   DETECT_SECONDS=30 sh bench/detect.sh
. "$(dirname "$0")/lib.sh"
SECS=${DETECT_SECONDS:-20}

# --- per-tick cost inside the agent ---
"$KSIGHT" agent --db "$BTMP/on.db" --duration "$SECS" 2> "$BTMP/on.log"
set -- $("$KSIGHT" query --db "$BTMP/on.db" --csv "select count(*), round(avg(events), 1),
	round(avg(cost_ms) * 1000, 1), round(max(cost_ms) * 1000, 1),
	round(sum(cost_ms) * 1e6 / sum(events), 0)
	from collector_stats where collector = 'detect' and timestamp > (select min(timestamp) from collector_stats)" |
	sed -n 2p | tr ',' ' ')
ticks=$1 per_tick=$2 avg_us=$3 max_us=$4 ns_sample=$5
med_us=$("$KSIGHT" query --db "$BTMP/on.db" --csv "select cost_ms * 1000 from collector_stats where collector = 'detect'
	and events > 0 order by cost_ms" | sed 1d | median)
med_ns=$(awk -v u="$med_us" -v n="$per_tick" 'BEGIN { printf "%.0f", u * 1000 / n }')
collect_us=$("$KSIGHT" query --db "$BTMP/on.db" --csv "select round(sum(cost_ms) * 1000 / $ticks, 1) from collector_stats
	where kind in ('tracer', 'scraper')" | sed -n 2p)
rss_of() {  # rss_of CONFIG: VmRSS (kB) after 10 s
	start_agent "$BTMP/rss.log" --db "$BTMP/rss.db" ${1:+--config "$1"}
	sleep 10
	awk '/^VmRSS:/ {print $2}' /proc/$AGENT_PID/status
	kill -INT $AGENT_PID; wait $AGENT_PID || true
	rm -f "$BTMP"/rss.db*
}
printf 'detect:\n  enabled: false\n' > "$BTMP/off.yaml"
rss_off=$(rss_of "$BTMP/off.yaml")
rss_on=$(rss_of "")

# --- one hour of data ---
sh "$TOP/t/lib/synthdb.sh" "$BTMP/hour.db" 3600 2400
best() {  # best N CMD...: best wall ms of N runs
	n=$1; shift
	for i in $(seq "$n"); do
		t0=$(date +%s%N); "$@" > /dev/null 2>&1; echo $(( ($(date +%s%N) - t0) / 1000000 ))
	done | sort -n | head -1
}
report_ms=$(best 3 "$KSIGHT" report --db "$BTMP/hour.db" --out "$BTMP/r")
size_kb=$(( $(stat -c %s "$BTMP/r/index.html") / 1024 ))
points=$("$KSIGHT" report --db "$BTMP/hour.db" --out "$BTMP/r" | sed -n 's/.* charts, \([0-9]*\) points.*/\1/p')
browser_ms=n/a
if command -v chromium > /dev/null; then
	browser_ms=$(best 3 sh -c "rm -rf '$BTMP/prof'; timeout 120 chromium --headless --no-sandbox --disable-gpu \
		--disable-quic --no-first-run --disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir='$BTMP/prof' --dump-dom 'file://$BTMP/r/index.html'")
fi
learn_ms=$(best 3 "$KSIGHT" baseline learn --db "$BTMP/hour.db")
export_ms=$(best 3 "$KSIGHT" export --features --db "$BTMP/hour.db" --format parquet --out "$BTMP/f.parquet")
rows=$("$KSIGHT" export --features --db "$BTMP/hour.db" --out "$BTMP/f.csv" 2>&1 | sed -n 's/.*export: \([0-9]*\) rows.*/\1/p')

echo "## Detection and reports"
echo
echo "Online detection inside \`ksight agent\` with every collector on, $ticks ticks of 1 s"
echo "(from its collector_stats row 'detect'):"
echo
echo "| per tick | value |"
echo "|---|---|"
echo "| samples judged per tick (one per metric; mean) | $per_tick |"
echo "| detection time per tick, median / mean / max | $(printf %.1f "$med_us") / $avg_us / $max_us µs |"
echo "| per sample at the median tick (extract + detector + baseline + correlation) | $med_ns ns |"
echo "| per sample over all ticks (the first allocates ~18 KiB per metric) | $ns_sample ns |"
echo "| collectors' own time per tick (tracers + scrapers), for scale | $collect_us µs |"
echo "| agent RSS after 10 s, detection off / on | $rss_off / $rss_on kB |"
echo
echo "A one-hour capture (t/lib/synthdb.sh: 3600 ticks, about 190k rows), best of 3:"
echo
echo "| one hour of data | wall ms |"
echo "|---|---|"
echo "| \`ksight report\` (queries, replayed detection, ${size_kb} KiB page, $points points) | $report_ms |"
echo "| Chromium loads and draws it (headless --dump-dom, browser start included) | $browser_ms |"
echo "| \`ksight baseline learn\` | $learn_ms |"
echo "| \`ksight export --features --format parquet\` ($rows rows) | $export_ms |"
