#!/bin/sh
# The dashboard's first screen (issue 17) in headless Chromium at 1280 px,
# on a capture with a real leak, a real anomaly and a real action:
#  - leak: `grower` (a copy of t/helpers/grower) grows 3 MiB/s and keeps
#    running: a leak suspect the status strip must name;
#  - action: `leaky` grows 5 MiB/s under an act-mode policy that terminates
#    it: a decision with its steps in the remediation panel;
#  - anomaly: the detector learns for 100 ticks of 100 ms, then direct disk
#    writes (as in detect_agent.t); on this shared machine other anomalies
#    come too, and any will do: the panel and the marks show what the agent
#    recorded, which the test reads back from the API.
# Every panel must have rows, a click on the grower's row (ranked by RSS
# growth) opens its timeline with its exec row and argv, a click on a chart's
# anomaly mark shows that anomaly's explanation, nothing is wider than the
# viewport and no console error occurs.  Screenshots of each step are kept
# in .output/screenshots/dashboard-*.png.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/http.sh"
require_bpf
command -v chromium >/dev/null || skip_all "no chromium (make deps installs Debian's)"
[ -d "$TOP/node_modules/playwright-core" ] || skip_all "no playwright-core (make deps installs it from npm)"
plan 31

# deadline SECONDS COMMAND...: runs COMMAND every 0.2 s until it succeeds.
deadline() {
	_end=$(( $(date +%s) + $1 )); shift
	until "$@"; do
		[ "$(date +%s)" -lt $_end ] || return 1
		sleep 0.2
	done
}

printf 'detect:\n  probation: 100\n  window: 3s\ntracers:\n  rss:\n    warmup: 0\n' >"$TMP/config.yaml"
cat >"$TMP/policy.yaml" <<EOF2
mode: act
interval: 2s
settle: 2s
rules:
  - name: stop-leaky
    when: {leak: {min_confidence: 0.6}}
    match: {comm: [leaky]}
    action: terminate
    grace: 1s
    cooldown: 5m
EOF2
cp "$HELPERS/grower" "$TMP/leaky"
cp "$HELPERS/grower" "$TMP/grower"
DB=$TMP/dashboard.db
http_agent main --db "$DB" --config "$TMP/config.yaml" --policy "$TMP/policy.yaml" --interval 100ms \
	--duration 600 || { echo "Bail out! no agent"; exit 1; }

"$TMP/grower" linear --rate 3M --duration 300 >"$TMP/grower.out" &
GP=$!
"$TMP/leaky" linear --rate 5M --duration 120 >"$TMP/leaky.out" &
LP=$!
at_exit "kill $GP $LP 2>/dev/null"

api() { curl -s -H "Authorization: Bearer $AGENT_TOKEN" "$URL$1"; }
ticks() { [ "$(api /api/agent/status | jq -r '.agent.ticks')" -gt 120 ]; }
deadline 60 ticks || diag "the agent made fewer than 120 ticks in 60 s"
# Direct writes on the disk under $TMP, after the detector has learned.
dd if=/dev/zero of="$TMP/burst" bs=1M count=200 oflag=direct 2>/dev/null
rm -f "$TMP/burst"

suspect() { [ "$(q "select count(*) from memory_growth_events where pid = $GP and status = 'suspect'")" -ge 1 ]; }
acted() { [ "$(q "select count(*) from agent_actions where target_pid = $LP and status = 'done'")" -ge 1 ]; }
anomaly() { [ "$(q "select count(*) from anomalies")" -ge 1 ]; }
ok "the grower is a leak suspect" deadline 90 suspect
ok "the agent terminated the leaky process" deadline 90 acted
ok "the detector recorded anomalies" deadline 60 anomaly

SHOTS=$TOP/.output/screenshots
mkdir -p "$SHOTS"
node "$TOP/t/lib/dashboard.mjs" "$URL/?token=$AGENT_TOKEN" "$SHOTS" $GP >"$TMP/page.json" 2>"$TMP/page.err"
is "$?" 0 "the page loads in Chromium at 1280 px"
[ -s "$TMP/page.json" ] || diag "$(cat "$TMP/page.err")"
cp "$TMP/page.json" "$SHOTS/dashboard.json"
J() { jq -r "$1" "$TMP/page.json"; }
is "$(J '.errors | join("; ")')" "" "every step's condition was met within its deadline"

# The status strip: one line per question, the leak named.
like "$(J .steps.panels.strip.leaks)" "grower \\(pid $GP, [0-9.]+ (KiB|MiB)/s" "the strip names the leak: $(J .steps.panels.strip.leaks | cut -c1-60)"
like "$(J .steps.panels.strip.collectors)" "^(all [0-9]+ on|[0-9]+ of [0-9]+ off: .+)$" "the strip says which collectors are on"
like "$(J .steps.panels.strip.learning)" "^ready" "the strip says learning is done: $(J .steps.panels.strip.learning)"
like "$(J .steps.panels.strip.anomaly)" "(alert|notice): " "the strip shows the last anomaly with its explanation"
like "$(J .steps.panels.strip.action)" "terminate leaky \\($LP\\): executing → done" "the strip shows the last action and its steps"
like "$(J .steps.panels.strip.db)" "^[0-9.]+ (KiB|MiB|GiB)( of its [0-9.]+ (MiB|GiB) cap \\([0-9]+%\\)|, no size cap)" "the strip gives the database size against its cap: $(J .steps.panels.strip.db)"

# The panels.
api "/api/signals?type=anomalies&limit=10000" | jq '[.rows[].explanation]' >"$TMP/anomalies.json"
shown=$(J '.steps.panels.anomaly_rows | length')
missing=$(jq -r --slurpfile db "$TMP/anomalies.json" '[.steps.panels.anomaly_rows[] | select(.[4] as $e | $db[0] | index($e) | not)] | length' "$TMP/page.json")
ok "the anomalies panel lists $shown anomalies, each one the agent recorded ($missing not)" test "$shown" -ge 1 -a "$missing" = 0
ok "anomalies are marked on the charts of their group ($(J '[.steps.panels.marks[]] | add') marks)" \
	test "$(J '[.steps.panels.marks[]] | add')" -ge 1
ok "top processes: $(J .steps.panels.processes) processes in $(J .steps.panels.cgroups) cgroups" \
	test "$(J .steps.panels.processes)" -ge 2 -a "$(J .steps.panels.cgroups)" -ge 1
like "$(J '.steps.panels.actions | map(select(.[3] == "leaky ('$LP')")) | .[0] | join("|")')" \
	"stop-leaky\\|terminate \\(act\\)\\|leaky \\($LP\\)\\|executing → done.*\\|.*without action; terminate" \
	"the remediation panel shows the decision, its steps and its projection"
like "$(J .steps.panels.remediation_note)" "^Mode act, 1 rule from " "and the mode and rules"
ok "the leak and collector tables have rows" test "$(J .steps.panels.leak_rows)" -ge 1 -a "$(J .steps.panels.collector_rows)" -ge 10

# Clicks.
like "$(J .steps.sort.row)" "^grower \\($GP\\)" "sorted by RSS growth, the grower is listed"
like "$(J .steps.timeline.title)" "^grower \\(pid $GP\\)$" "a click on it opens its timeline"
like "$(J '.steps.timeline.rows | map(select(.[1] == "process" and .[2] == "exec")) | .[0][3]')" \
	"$TMP/grower linear --rate 3M --duration 300" "with its exec row and argv"
ok "and its leak rows and CPU series ($(J .steps.timeline.cpu_points) points)" \
	test "$(J '.steps.timeline.kinds | index("leak") != null')" = true -a "$(J .steps.timeline.cpu_points)" -ge 1
marked() {  # the explanation of the clicked mark is among those shown
	jq -e --arg e "$(J .steps.mark.explanation)" \
		'.steps.mark.note | split("\n") | map(sub("^.* · (alert|notice) · [^ ]+: "; "")) | index($e) != null' \
		"$TMP/page.json" >/dev/null
}
ok "a click on a mark on the $(J .steps.mark.chart) chart shows its explanation" marked

# The timeline route itself, on the process the agent terminated.
get "/api/process?pid=$LP"
is "$STATUS" 200 "GET /api/process?pid=LEAKY answers"
is "$(jqb '[.events[] | select(.kind == "process") | .what + " " + .detail] | join(", ")')" \
   "exit killed by signal 15, exec $TMP/leaky linear --rate 5M --duration 120" "with its exec and its exit by SIGTERM"
like "$(jqb '[.events[] | select(.kind == "action") | .what] | reverse | join(" ")')" "^executing done" \
   "and the remediation steps about it, in order"
anon_get "/api/process?pid=$LP"
is "$STATUS" 401 "it names a process: without the agent's token, 401"
get "/api/process"
is "$STATUS $(jqb .parameter)" "400 pid" "no pid: 400 naming the parameter"
get "/api/process?pid=$LP&limit=1001"
is "$STATUS $(jqb .parameter)" "400 limit" "limit above 1000: 400"
get "/api/process?pid=$LP&stat=1"
is "$STATUS" 400 "an unknown parameter: 400"

is "$(J '.steps.width.wide | join(", ")')/$(J .steps.width.scroll_width)" "/1280" "no element wider than 1280 px, no horizontal scroll"
is "$(J '.console_errors | join("; ")')" "" "no console errors"
done_testing
