#!/bin/sh
# contrib/ for people who already run Prometheus and Grafana: the Grafana
# dashboard (contrib/grafana/ksight.json) loads, every PromQL expression in
# it parses with promtool (each becomes a recording rule that `promtool
# check rules` parses), the rules file (contrib/prometheus/ksight.rules.yml)
# passes `promtool check rules` and its unit tests, and every metric name
# that the dashboard and the rules use is one a live agent exports on
# /metrics.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/http.sh"
require_bpf
command -v promtool >/dev/null || skip_all "no promtool (make deps installs Debian's prometheus)"
plan 15

DASH=$TOP/contrib/grafana/ksight.json
RULES=$TOP/contrib/prometheus/ksight.rules.yml
PROMQL="node $TOP/t/lib/promql.mjs"

# ---- the dashboard, offline ----
$PROMQL exprs "$DASH" >"$TMP/dash.exprs" 2>"$TMP/dash.err"
ok "the dashboard JSON loads and every target has a one-line expr ($(wc -l <"$TMP/dash.exprs") expressions)" \
   test $? -eq 0 -a "$(wc -l <"$TMP/dash.exprs")" -gt 40
is "$(jq -r '[.schemaVersion, (.__inputs[0].name), ([.templating.list[].name] | join(","))] | join(" ")' "$DASH")" \
   "39 DS_PROMETHEUS DS_PROMETHEUS,instance" "schemaVersion 39, a DS_PROMETHEUS input, an instance variable"
is "$(jq -r '[.panels[] | select(.type != "row") | .datasource.uid, .targets[].datasource.uid] | unique | join(" ")' "$DASH")" \
   '${DS_PROMETHEUS}' "every panel and every query uses the \${DS_PROMETHEUS} data source"
is "$(jq -r '[.panels[] | select(.type != "row") | .targets[].expr | select(contains("instance=~\"$instance\"") | not)] | length' "$DASH")" \
   0 "every query selects \$instance"
is "$(jq -r '[.panels[] | select(.type == "heatmap") | .targets[] | select(.format == "heatmap" and (.expr | test("^sum by [(]le[)] [(]rate[(]ksight_[a-z_]+_seconds_bucket[{]")))] | length' "$DASH")" \
   3 "three latency heatmaps, each the rate of a histogram's buckets summed by le"
is "$(jq -r '[.panels[].id] | (length == (unique | length))' "$DASH")" true "panel ids are unique"
is "$(jq -r '[.panels[] | select(.gridPos.x + .gridPos.w > 24)] | length' "$DASH")" 0 "no panel is wider than the grid"

$PROMQL rules dashboard <"$TMP/dash.exprs" >"$TMP/dash.rules.yml"
promtool check rules "$TMP/dash.rules.yml" >"$TMP/promtool.out" 2>&1
rc=$?
[ $rc = 0 ] || diag "$(cat "$TMP/promtool.out")"
like "$(cat "$TMP/promtool.out")" "SUCCESS: $(wc -l <"$TMP/dash.exprs") rules found" \
     "promtool parses every expression of the dashboard (as recording rules)"

# ---- the rules file, offline ----
promtool check rules "$RULES" >"$TMP/rules.out" 2>&1
rc=$?
[ $rc = 0 ] || diag "$(cat "$TMP/rules.out")"
like "$(cat "$RULES" | grep -c '^ *- \(record\|alert\):')" '^1[0-9]$' "the rules file has recording and alerting rules"
like "$(cat "$TMP/rules.out")" "SUCCESS: $(grep -c '^ *- \(record\|alert\):' "$RULES") rules found" "promtool check rules accepts ksight.rules.yml"
is "$(grep -c '^ *expr: ' "$RULES")" "$(grep -c '^ *- \(record\|alert\):' "$RULES")" "every rule's expr is on one line (so this test reads them all)"
( cd "$TOP/contrib/prometheus" && promtool test rules ksight.rules.test.yml ) >"$TMP/unit.out" 2>&1
rc=$?
[ $rc = 0 ] || diag "$(cat "$TMP/unit.out")"
ok "promtool test rules: KsightCollectorOff, KsightAgentOverBudget and KsightLeakNearLimit fire when they should" test $rc -eq 0

# ---- against a live agent ----
sed -n 's/^ *expr: *//p' "$RULES" | sed "s/^'\(.*\)'\$/\1/; s/^\"\(.*\)\"\$/\1/" >"$TMP/rules.exprs"
sed -n 's/^ *- record: *//p' "$RULES" | sort -u >"$TMP/records"
$PROMQL names <"$TMP/dash.exprs" >"$TMP/dash.names"
$PROMQL names <"$TMP/rules.exprs" | sort -u | comm -23 - "$TMP/records" >"$TMP/rules.names"

DB=$TMP/grafana.db
http_agent agent --db "$DB" --duration 300 || { echo "Bail out! no agent"; exit 1; }
# Families that exist once something happened: a request (HTTP answers)
# and block I/O on a disk (.output is on one; /tmp may be tmpfs).
IO=$TOP/.output/grafana-io.$$
at_exit "rm -f '$IO'"
# missing NAMES_FILE: the names in it that the agent's /metrics lacks now
missing() {
	curl -s "$URL/metrics" | grep -v '^#' | sed 's/[{ ].*//' | sort -u >"$TMP/exported"
	sort -u "$1" | comm -23 - "$TMP/exported" | tr '\n' ' '
}
i=0
while [ -n "$(missing "$TMP/dash.names")$(missing "$TMP/rules.names")" ] && [ $i -lt 60 ]; do
	"$HELPERS/workload" direct "$IO" 16 >/dev/null 2>&1
	sleep 0.5
	i=$((i + 1))
done
is "$(missing "$TMP/dash.names")" "" "every metric the dashboard uses ($(wc -l <"$TMP/dash.names")) is on the live agent's /metrics"
is "$(missing "$TMP/rules.names")" "" "every metric the rules use ($(wc -l <"$TMP/rules.names")) is on the live agent's /metrics"
# The name extraction itself: a histogram query names its _bucket series, not its labels or functions.
is "$(echo 'histogram_quantile(0.99, sum by (le, device) (rate(ksight_block_io_latency_seconds_bucket{op=~"read|write"}[1m]))) / on (instance) group_left ksight_build_info' | $PROMQL names | tr '\n' ' ')" \
   "ksight_block_io_latency_seconds_bucket ksight_build_info " "the names check sees metric names only (not functions, labels or keywords)"
