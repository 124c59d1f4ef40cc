#!/bin/sh
# The dashboard in a real browser: Debian's Chromium, headless, loads
# http://127.0.0.1:PORT/ from a running agent while a workload does direct
# disk writes, and every chart must fill with points and draw them (pixels
# in the series colours on its canvas), the screenshot must not be blank,
# nothing may be fetched from anywhere but the agent, no script error or
# policy violation may occur, and the range selector must switch to 1 h
# and to 30 days (answered from the rollups).
# It is opened the way a person does: at the address the agent printed,
# http://127.0.0.1:PORT/?token=TOKEN, which trades the token for an
# HttpOnly, SameSite=Strict cookie and leaves the token out of the
# address.  The screenshot is kept in .output/t/dashboard.png.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/http.sh"
require_bpf
command -v chromium >/dev/null || skip_all "no chromium (make deps installs Debian's)"
[ -d "$TOP/node_modules/playwright-core" ] || skip_all "no playwright-core (make deps installs it from npm)"
plan 43

# Direct writes to a file on a real disk (not tmpfs): block I/O latency rows.
IO=$TOP/.output/dashboard-io.$$
(
	i=0
	while [ $i -lt 120 ]; do
		dd if=/dev/zero of="$IO" bs=64k count=16 oflag=direct conv=fsync 2>/dev/null
		sleep 0.5
		i=$((i + 1))
	done
) &
WORK=$!
at_exit "kill $WORK 2>/dev/null; rm -f $IO"

http_agent main --db "$TMP/dashboard.db" --duration 300 || { echo "Bail out! no agent"; exit 1; }
like "$AGENT_TOKEN" "^[0-9a-f]{48}$" "the agent printed its address with a token"
node "$TOP/t/lib/browser.mjs" "$URL/?token=$AGENT_TOKEN" "$TMP/dashboard.png" 3 >"$TMP/browser.json" 2>"$TMP/browser.err"
is "$?" 0 "the page loads and its charts fill within 30 s"
[ -s "$TMP/browser.json" ] || diag "$(cat "$TMP/browser.err")"
J() { jq -r "$1" "$TMP/browser.json"; }
is "$(J .final_url)" "$URL/" "the token left the address bar"
is "$(J '[.cookies[] | select(.name == "ksight_token_'"${URL##*:}"'") | .httpOnly, .sameSite] | join(" ")')" \
   "true Strict" "it became an HttpOnly, SameSite=Strict cookie"
is "$(J .script_cookies)" "" "which the page's scripts cannot read"

for c in cpu memory load disk network io_latency runqueue slow_syscalls faults tcp_retransmits process_events; do
	ok "$c: $(J ".points.$c") points drawn in $(J ".series_px.$c") series pixels" \
		test "$(J ".points.$c")" -ge 3 -a "$(J ".series_px.$c")" -gt 0
done
ok "every chart updated live ($(J .updates) updates)" test "$(J .updates)" -ge 3
is "$(J '.errors | length')" 0 "no script error or policy violation ($(J '.errors | join("; ")'))"
is "$(J '.requests_elsewhere | length')" 0 "nothing fetched from anywhere but the agent (works offline)"
is "$(J .collector_rows)" "$(ncollectors)" "the collectors table lists all $(ncollectors) collectors"
like "$(J .text.status)" "^(ok|degraded)$" "the status badge shows the agent's health"
like "$(J .text.host)" "Linux $(uname -r)" "the header names the host's kernel"
like "$(J .text.learning)" "^learning: [0-9]+ of 512 samples \\(about [0-9]+ minutes left\\)$" \
	"a fresh agent's learning line is near the top: $(J .text.learning)"
like "$(J '.text["leaks-note"]')" "leak|Leak" "the leak panel says what the detector knows"
ok "top slow syscalls are listed ($(J .slow_rows))" test "$(J .slow_rows)" -ge 1

is "$(head -c 8 "$TMP/dashboard.png" | od -An -tx1 | tr -d ' \n')" 89504e470d0a1a0a "the screenshot is a PNG"
ok "and not blank: $(J .screenshot_ink) of its pixels differ from the background" \
	awk -v v="$(J .screenshot_ink)" 'BEGIN { exit !(v > 0.05) }'
mkdir -p "$TOP/.output/t" && cp "$TMP/dashboard.png" "$TOP/.output/t/dashboard.png"

is "$(J .range.range)/$(J .range.step)" 3600/6 "the range selector switches to 1 h in 6 s steps"
ok "and the charts redraw over it ($(J .range.points) memory points)" test "$(J .range.points)" -ge 1
is "$(J .range30.range)/$(J .range30.step)" 2592000/4320 "the 30 d view asks for 72 min buckets"
ok "and draws them ($(J .range30.points) memory points)" test "$(J .range30.points)" -ge 1
# The rollups start with the first complete minute (10 s after it ends):
# until then raw rows are the right answer.  Retention rolls one table at
# a time between the writer's batches, so on a busy host some tables roll
# their first minute later than others: wait (up to 100 s) until every
# series' table has, i.e. no series of the 30 d view is answered raw.
i=0
while [ "$(curl -s -H "Authorization: Bearer $AGENT_TOKEN" "$URL/api/series?since=-30d&step=4320s" |
	   jq -r '[.series[].tier] | unique | join(",")')" != 1h ] && [ $i -lt 1000 ]; do
	sleep 0.1
	i=$((i + 1))
done
is "$(curl -s -H "Authorization: Bearer $AGENT_TOKEN" "$URL/api/series?since=-30d&step=4320s" | jq -r '[.series[].tier] | unique | join(",")')" 1h \
   "which the agent answers from its per-hour tier"
# Over 2,000 minutes the hour tier answers, its step raised to an hour:
# a bounded number of rows per series (168 for 7 days, not 10,080).
curl -s -H "Authorization: Bearer $AGENT_TOKEN" "$URL/api/series?since=-7d&step=1008s" >"$TMP/7d.json"
is "$(jq -r '[.series[].tier] | unique | join(",")' "$TMP/7d.json")/$(jq -r .step_s "$TMP/7d.json")" 1h/3600 \
   "and the 7 d view from its per-hour tier, in hour steps"
ok "at most 169 points a series ($(jq '[.series[].data[0] | length] | max' "$TMP/7d.json"))" \
   test "$(jq '[.series[].data[0] | length] | max' "$TMP/7d.json")" -le 169
is "$(curl -s -H "Authorization: Bearer $AGENT_TOKEN" "$URL/api/series?since=-24h&step=144s" | jq -r '([.series[].tier] | unique | join(",")), .step_s' | tr '\n' /)" 1m/144/ \
   "while the 24 h view keeps its minute rows and its step"

# Without the token the page loads (it is public code) but shows no data,
# and says how to get in; a wrong token is refused.
node "$TOP/t/lib/browser.mjs" "$URL/" "$TMP/anon.png" 1 >"$TMP/anon.json" 2>/dev/null
is "$?" 1 "opened without the token, the charts stay empty"
like "$(jq -r '.text.updated' "$TMP/anon.json")" "needs the agent.s token: open the address the agent printed" \
     "and the page says how to get in"
node "$TOP/t/lib/browser.mjs" "$URL/?token=0$AGENT_TOKEN" "$TMP/anon.png" 1 >"$TMP/anon.json" 2>/dev/null
is "$?/$(jq -r .status "$TMP/anon.json")" "1/401" "a wrong token in the address: 401"
is "$(jq -r '.cookies | length' "$TMP/anon.json")" 0 "and no cookie"

# Unauthenticated browsers get the Basic challenge when a token file is set.
TOKEN=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
printf '%s\n' "$TOKEN" >"$TMP/token"
chmod 600 "$TMP/token"
http_agent token --db "$TMP/token.db" --token-file "$TMP/token" --duration 300
node "$TOP/t/lib/browser.mjs" "$URL/" "$TMP/token.png" 1 >"$TMP/token.json" 2>/dev/null
is "$?" 1 "with a token set, a browser without it gets no dashboard"
like "$(jq -r '(.status | tostring) + " " + (.errors | join(" "))' "$TMP/token.json")" "401|AUTH_CREDENTIALS" \
     "but the 401 challenge"
node "$TOP/t/lib/browser.mjs" "$URL/" "$TMP/token.png" 1 \
	"Basic $(printf 'me:%s' "$TOKEN" | base64 | tr -d '\n')" >"$TMP/token.json" 2>/dev/null
is "$?" 0 "with the token as its Basic password the dashboard loads and fills"
is "$(jq -r '.errors | length' "$TMP/token.json")" 0 "without errors ($(jq -r '.errors | join("; ")' "$TMP/token.json"))"
done_testing
