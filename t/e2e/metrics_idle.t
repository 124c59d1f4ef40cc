#!/bin/sh
# /metrics is rendered only while someone scrapes it (docs/http.md): an
# agent nobody scrapes renders nothing; the first scrape waits for a tick
# and still gets every count the quiet ticks added (the page-fault counter
# equals the sum of the deltas stored for the ticks it covers); from then
# on every tick renders.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/http.sh"
plan 8

# Scrapers only: the test is about the snapshot, not the tracers.
{
	echo 'detect:'
	echo '  enabled: false'
	echo 'tracers:'
	for t in proc syscall blockio sched pagefault tcp rss; do echo "  $t: {enabled: false}"; done
} >"$TMP/agent.yaml"
DB=$TMP/idle.db
http_agent agent --db "$DB" --config "$TMP/agent.yaml" --duration 300 || { echo "Bail out! no agent"; exit 1; }

ticks() { get /api/health && [ "$(jqb '.ticks // 0')" -ge "$1" ]; }
wait_for "3 ticks" 60 ticks 3
get /api/agent/status
is "$(jqb '.agent.metrics_rendered')" false "no scrape yet: the ticks render no /metrics text"

get /metrics
is "$STATUS" 200 "the first scrape is answered (after waiting for a tick)"
cp "$BODY" "$TMP/first.txt"
n=$(awk '$1 == "ksight_ticks_total" { print $2 }' "$TMP/first.txt")
ok "it is a tick's text: ksight_ticks_total $n" test "${n:-0}" -ge 3
faults=$(awk '$1 == "ksight_vmstat_page_faults_total" { print $2 }' "$TMP/first.txt")
# prefix COUNT: the most stored ticks whose page-fault deltas sum to COUNT
# (the first tick stores no delta, so the text of tick n covers n - 1 rows)
prefix() {
	q "select coalesce(max(k), 0) from (select row_number() over (order by timestamp) k,
	   sum(pgfault) over (order by timestamp) s from vmstat_metrics) where s = $1"
}
wait_for "the first $n ticks stored" 30 at_least "$n" "select count(*) from vmstat_metrics"
k=$(prefix "$faults")
ok "the page-fault counter ($faults) is the sum of the first $k stored deltas: every tick's, the unrendered ones too" \
   test "$k" -ge $((n - 1))

get /api/agent/status
is "$(jqb '.agent.metrics_rendered')" true "after a scrape every tick renders"
wait_for "another tick" 30 ticks $((n + 2))
get /metrics
m=$(awk '$1 == "ksight_ticks_total" { print $2 }' "$BODY")
ok "a later scrape gets a later tick ($n, then $m) without waiting for one" test "${m:-0}" -gt "$n"
later=$(awk '$1 == "ksight_vmstat_page_faults_total" { print $2 }' "$BODY")
wait_for "the first $m ticks stored" 30 at_least "$m" "select count(*) from vmstat_metrics"
k=$(prefix "$later")
ok "and its counter ($later) is still the sum of the first $k stored deltas" test "$k" -ge $((m - 1))
ok "promtool check metrics accepts it" sh -c "! command -v promtool >/dev/null || promtool check metrics <'$BODY'"
done_testing
