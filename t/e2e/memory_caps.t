#!/bin/sh
# The agent's memory caps (issue 16, "Memory"): every cap comes from its
# config key, /api/health's "memory" reports the use against each one, the
# caps hold while the agent serves and judges, and `ksight status` prints
# them.  Root is not needed: the tracers are off, the scrapers and the
# detectors make the metrics.
. "$(dirname "$0")/../lib/tap.sh"
plan 14

cat >"$TMP/caps.yaml" <<YAML
agent:
  interval: 250ms
  db_cache: 512K
tracers:
  proc: {enabled: false}
  syscall: {enabled: false}
  blockio: {enabled: false}
  sched: {enabled: false}
  pagefault: {enabled: false}
  tcp: {enabled: false}
  rss: {enabled: false}
detect:
  max_metrics: 16
http:
  listen: 127.0.0.1:0
  threads: 2
  db_cache: 128K
  cache_bytes: 64K
YAML
DB=$TMP/caps.db
agent_bg caps --db "$DB" --config "$TMP/caps.yaml" || { echo "Bail out! no agent"; exit 1; }
URL=$(sed -n 's|.*dashboard on \(http://[^/]*\)/.*|\1|p' "$TMP/caps.err" | head -1)
TOKEN=$(sed -n 's|.*dashboard on http://[^?]*?token=\([0-9a-f]*\).*|\1|p' "$TMP/caps.err" | head -1)
mem() { curl -s "$URL/api/health" | jq -r ".memory | $1"; }

is "$(mem '[.sqlite.page_cache_cap_bytes, .sqlite.connections] | join(" ")')" "$((512 * 1024 + 2 * 128 * 1024)) 3" \
   "SQLite page caches: agent.db_cache + http.threads x http.db_cache, over 3 connections"
is "$(mem '.http_cache.cap_bytes')" 65536 "answer cache capped at http.cache_bytes"
is "$(mem '.detect.max_metrics')" 16 "detectors capped at detect.max_metrics"
per=$(mem '.detect.cap_bytes / 16')
ok "each metric's windows are counted (${per} bytes, about 19 KiB)" test "$per" -gt 15000 -a "$per" -lt 60000
set -- $(mem '"\(.rss_bytes) \(.peak_rss_bytes)"')
ok "RSS and its peak are reported ($1 / $2 bytes)" test "$1" -gt 0 -a "$2" -ge "$1"

# The scrapers alone make more than 16 metrics: the rest are counted as drops.
wait_for "the detectors to hit their cap" 120 sh -c "[ \"\$(curl -s '$URL/api/health' | jq -r '.memory.detect.metrics')\" = 16 ]"
is "$(mem '.detect.metrics')" 16 "metrics judged stop at the cap"
is "$(mem '.detect.used_bytes')" "$(mem '.detect.cap_bytes')" "and their windows at its bytes"
wait_for "a detector drop" 60 at_least 1 "select coalesce(sum(drops), 0) from collector_stats where collector = 'detect'"
ok "samples of metrics past the cap are counted as drops ($(q "select sum(drops) from collector_stats where collector = 'detect'"))" \
   at_least 1 "select coalesce(sum(drops), 0) from collector_stats where collector = 'detect'"

# Answers of many distinct requests: the cache keeps at most its cap.
# Absolute times: answers about the past are the ones kept.
until=$(date +%s%N)
for i in $(seq 1 40); do
	curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" "$URL/api/stats?since=$((until - i * 1000000000))&until=$until"
	curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" "$URL/api/signals?type=memory_metrics&since=$((until - i * 1000000000))&until=$until"
done
used=$(mem '.http_cache.used_bytes')
within "$used" 1 65536 "80 distinct stats and signals answers: the cache holds $used bytes, within http.cache_bytes"
cached=$(curl -s "$URL/metrics" | sed -n 's/^ksight_http_cache_bytes //p')
within "${cached:-x}" 0 65536 "/metrics says the same ($cached bytes)"

out=$("$KSIGHT" status --db "$DB")
like "$out" "memory +RSS [0-9.]+ [KMG]?i?B \(peak [0-9.]+ [KMG]?i?B\); heap " "status: RSS, peak and heap"
like "$out" "SQLite: .* page caches capped at 768.0 KiB over 3 connections" "status: the SQLite cap"
like "$out" "HTTP answer cache: .* of 64.0 KiB \(http.cache_bytes\)" "status: the answer cache's cap"
like "$out" "detector windows: 16 of 16 metrics, ([0-9.]+ KiB) of \\1 \(detect.max_metrics\)" "status: the detectors' cap" ||
	diag "$out"
done_testing
