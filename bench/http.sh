#!/bin/sh
# The agent's HTTP server under wrk on loopback, every collector on, with
# 10,000,000 rows in syscall_events: /api/signals?limit=100 at 50
# concurrent connections (the newest rows, as a dashboard asks, and random
# deep pages that always query SQLite), /metrics scrapes, and whether the
# collectors lost events meanwhile; next to node_exporter's /metrics (Debian
# prometheus-node-exporter, started here on a free port) and Netdata's
# Prometheus export when a Netdata answers on 127.0.0.1:19999.
#
#   HTTP_ROWS=10000000 HTTP_SECONDS=5 bench/run http
. "$(dirname "$0")/lib.sh"
ROWS=${HTTP_ROWS:-10000000}
SECS=${HTTP_SECONDS:-5}
command -v wrk >/dev/null || { echo "bench/http: wrk is missing (make deps installs it)" >&2; exit 1; }

# to_ms VALUE: wrk's "812.00us", "3.43ms", "1.02s" in ms
to_ms() {
	awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'
}

# load LABEL CONNECTIONS URL [WRK ARGS]: one wrk run, one table row
load() {
	label=$1 conns=$2 url=$3
	shift 3
	wrk -t1 -c"$conns" -d"${SECS}s" --latency "$@" "$url" >"$BTMP/wrk.out" 2>&1
	p50=$(awk '$1 == "50%" { print $2 }' "$BTMP/wrk.out")
	p99=$(awk '$1 == "99%" { print $2 }' "$BTMP/wrk.out")
	rps=$(awk '/^Requests\/sec/ { printf "%.0f", $2 }' "$BTMP/wrk.out")
	errs=$(awk '/Non-2xx|Socket errors/ { print }' "$BTMP/wrk.out" | tr '\n' ' ')
	echo "| $label | $conns | $rps | $(to_ms "$p50") | $(to_ms "$p99") | ${errs:-none} |" >>"$BTMP/table.md"
}

drops() { curl -s "$1/api/health" | jq '[.collectors[].drops_total] | add'; }

# --- 10M rows ---
"$BENCH_BIN/http_db" "$BTMP/http.db" "$ROWS" >"$BTMP/db.out"
read -r rows db_s first_ts last_ts <"$BTMP/db.out"
db_mb=$(du -m "$BTMP/http.db" | cut -f1)

start_agent "$BTMP/agent.log" --db "$BTMP/http.db" --listen 127.0.0.1:0
i=0
while ! grep -qs "dashboard on" "$BTMP/agent.log" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
URL=$(sed -n 's|.*dashboard on \(http://[^/]*\)/.*|\1|p' "$BTMP/agent.log")
# Per-process rows need the token the agent printed (docs/security.md).
TOKEN=$(sed -n 's|.*dashboard on http://[^/]*/?token=\([0-9a-f]*\).*|\1|p' "$BTMP/agent.log")
AUTH="Authorization: Bearer $TOKEN"
sleep 2
started=$(date +%s%N)
drops_before=$(drops "$URL")
tracers_on=$(curl -s "$URL/api/health" | jq '[.collectors[] | select(.enabled)] | length')

cat >"$BTMP/pages.lua" <<'LUA'
-- Every request another page: before= a random point among the rows.
local first, last = tonumber(os.getenv("FIRST_TS")), tonumber(os.getenv("LAST_TS"))
math.randomseed(42)
request = function()
	local ts = first + math.random() * (last - first)
	return wrk.format(nil, "/api/signals?type=syscall_events&limit=100&before=" .. string.format("%.0f", ts) .. ",9223372036854775807")
end
LUA

load "ksight /api/signals?type=syscall_events&limit=100 (newest rows)" 50 "$URL/api/signals?type=syscall_events&limit=100" -H "$AUTH"
FIRST_TS=$first_ts LAST_TS=$last_ts load "ksight /api/signals, a random deep page per request (always a query)" 50 "$URL" -s "$BTMP/pages.lua" -H "$AUTH"
load "ksight /metrics (every collector on)" 1 "$URL/metrics"
load "ksight /metrics" 10 "$URL/metrics"
drops_after=$(drops "$URL")
metrics_series=$(curl -s "$URL/metrics" | grep -vc '^#')
metrics_kb=$(curl -s "$URL/metrics" | wc -c | awk '{ printf "%.0f", $1 / 1024 }')
render_ms=$(curl -s -H "$AUTH" "$URL/api/agent/status" | jq .agent.metrics_render_ms)
rss_mb=$(awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' /proc/$AGENT_PID/status)
stop_agent
stored_drops=$(q "$BTMP/http.db" "select coalesce(sum(drops), 0) from collector_stats where timestamp >= $started")

# --- peers ---
NE=""
for c in prometheus-node-exporter node_exporter; do command -v $c >/dev/null && NE=$c && break; done
if [ -n "$NE" ]; then
	port=$(free_port)
	$NE --web.listen-address="127.0.0.1:$port" >"$BTMP/ne.log" 2>&1 &
	ne=$!
	_bench_pids="$_bench_pids $ne"
	i=0
	while ! curl -sf -o /dev/null "http://127.0.0.1:$port/metrics" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	ne_version=$($NE --version 2>&1 | sed -n 's/.*version \([0-9.]*\).*/\1/p' | head -1)
	load "node_exporter $ne_version /metrics" 1 "http://127.0.0.1:$port/metrics"
	ne_series=$(curl -s "http://127.0.0.1:$port/metrics" | grep -vc '^#')
	kill $ne
	wait $ne 2>/dev/null || true
else
	echo "| node_exporter | – | not installed | | | |" >>"$BTMP/table.md"
fi
if curl -sf -o /dev/null "http://127.0.0.1:19999/api/v1/info"; then
	load "Netdata /api/v1/allmetrics?format=prometheus" 1 "http://127.0.0.1:19999/api/v1/allmetrics?format=prometheus"
else
	echo "| Netdata /api/v1/allmetrics | – | not running here (optional) | | | |" >>"$BTMP/table.md"
fi

echo "## HTTP API and /metrics under load"
echo
echo "wrk (1 thread) on loopback against \`ksight agent\` with $tracers_on collectors running, for ${SECS} s per row;"
echo "syscall_events holds $rows rows ($db_mb MiB database, written in $db_s s by bench/http_db). wrk shares the 2 CPUs"
echo "with the agent: closed-loop latency at 50 connections is mostly queueing behind the other 49."
echo
echo "| endpoint | connections | requests/s | p50 ms | p99 ms | errors |"
echo "|---|---:|---:|---:|---:|---|"
cat "$BTMP/table.md"
echo
echo "- Events lost by the collectors while the API was hammered: $((drops_after - drops_before)) (in memory), $stored_drops (collector_stats)."
echo "- /metrics: $metrics_series series, $metrics_kb KiB, rendered once per tick in $render_ms ms by the collector thread; node_exporter: ${ne_series:-?} series."
echo "- Agent RSS after the run: $rss_mb MiB."
echo "- Targets: /api/signals?limit=100 p99 <= 5 ms at 50 connections; /metrics p99 <= 10 ms; no events lost."
