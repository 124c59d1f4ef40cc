#!/bin/sh
# The agent's defences against the people it does not trust (issue 13,
# docs/security.md): a web page in a browser on this host (DNS rebinding:
# the Host check), local users (the token for per-process rows, the
# cookie the dashboard trades it for, file modes, key files others can
# read), and what the agent keeps after start (capabilities).
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/http.sh"

_tap_planned_by_done=1

# --- DNS rebinding: Host must name the server ---
http_agent main --db "$TMP/main.db" --duration 300 || { echo "Bail out! no agent"; exit 1; }
PORT=${URL##*:}
get /api/health -H 'Host: evil.example'
is "$STATUS" 421 "Host: evil.example: refused (421)"
like "$(jqb .error)" "does not name this server.*http.allowed_hosts" "saying why and what to do"
get "/api/signals?type=process_events&limit=10000" -H "Host: evil.example:$PORT"
is "$STATUS" 421 "a rebinding page's request for every argv: refused, port or not"
get /no/such/path -H 'Host: evil.example'
is "$STATUS" 421 "refused before routing (not a 404)"
get /api/health -H "Host: localhost:$PORT"
is "$STATUS" 200 "Host: localhost:PORT is this server"
get /api/health -H "Host: 127.0.0.1:$PORT"
is "$STATUS" 200 "Host: the listen address with its port is this server"
get /api/health -H "Host: 127.0.0.1:$((PORT == 65535 ? 1 : PORT + 1))"
is "$STATUS" 421 "the listen address with another port is not"
get /api/health -H "Host: 127.0.0.2:$PORT"
is "$STATUS" 421 "nor is another loopback address"
printf 'http:\n  allowed_hosts: "ksight.example, dash.example:8080"\n' >"$TMP/hosts.yaml"
http_agent hosts --db "$TMP/hosts.db" --config "$TMP/hosts.yaml" --duration 300
get /api/health -H 'Host: KSIGHT.example'
is "$STATUS" 200 "a name in http.allowed_hosts is accepted (any port, any case)"
get /api/health -H 'Host: dash.example:8080'
is "$STATUS" 200 "NAME:PORT in http.allowed_hosts: that port"
get /api/health -H 'Host: dash.example:8081'
is "$STATUS" 421 "and no other"

# --- local users: per-process rows need the token, even on loopback ---
MAINDB=$TMP/main.db
PORT=${URL##*:}
like "$AGENT_TOKEN" "^[0-9a-f]{48}$" "the agent printed http://ADDR/?token=TOKEN (a random 192-bit token)"
is "$(stat -c %a "$TMP/http.token")" 600 "and keeps it in http.token next to the database, mode 0600"
is "$(tr -d '\n' <"$TMP/http.token")" "$AGENT_TOKEN" "the same token"
is "$(grep -c "?token=$AGENT_TOKEN" "$TMP/main.err")" 1 "printed once"
for f in "$MAINDB" "$MAINDB-wal" "$MAINDB-shm"; do
	is "$(stat -c %a "$f")" 640 "${f##*/}: created 0640 (root and its group only)"
done
for p in "/api/signals?type=process_events" /api/stats /api/agent/status /api/diagnostics "/api/series?since=-1m"; do
	anon_get "$p"
	is "$STATUS" 401 "without the token: ${p%%\?*} is 401"
done
like "$(jqb .error)" "needs the agent's token: open the address the agent printed.*http.token" \
     "saying how to get in"
is "$(header WWW-Authenticate)" 'Bearer realm="ksight"' "a Bearer challenge, no Basic pop-up in a browser"
anon_get "/api/signals?type=process_events&limit=1" -H "Authorization: Bearer 0$AGENT_TOKEN"
is "$STATUS" 401 "a wrong token: 401"
get "/api/signals?type=process_events&limit=1"
is "$STATUS" 200 "with 'Authorization: Bearer TOKEN': 200"
anon_get /metrics
is "$STATUS" 200 "/metrics stays open on loopback (aggregates only)"
anon_get /api/health
is "$STATUS" 200 "so does /api/health"
anon_get /
is "$STATUS" 200 "and the dashboard's own files (public code, no data)"
anon_get "/?token=0$AGENT_TOKEN"
is "$STATUS/$(header Set-Cookie)" "401/" "/?token=WRONG: 401, no cookie"
anon_get "/?token=$AGENT_TOKEN"
is "$STATUS/$(header Location)" "303//" "/?token=TOKEN: 303 to / (the token leaves the address)"
COOKIE=$(header Set-Cookie)
is "$COOKIE" "ksight_token_$PORT=$AGENT_TOKEN; Path=/; HttpOnly; SameSite=Strict" \
   "with an HttpOnly, SameSite=Strict cookie named after the port"
anon_get "/api/signals?type=process_events&limit=1" -H "Cookie: other=1; ${COOKIE%%;*}"
is "$STATUS" 200 "the cookie opens per-process data"
anon_get "/api/signals?type=process_events&limit=1" -H "Cookie: ksight_token_$PORT=0$AGENT_TOKEN"
is "$STATUS" 401 "a wrong cookie does not"
anon_get "/api/signals?type=process_events&limit=1" -H "Cookie: ksight_token_$((PORT + 1))=$AGENT_TOKEN"
is "$STATUS" 401 "nor another port's cookie name"
if command -v setpriv >/dev/null && [ "$(id -u)" -eq 0 ]; then
	chmod 755 "$TMP"
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups sh -c \
		"cat '$TMP/http.token' '$MAINDB' 2>&1; curl -s -o /dev/null -w '%{http_code}' '$URL/api/signals?type=process_events'" | tr '\n' ' ')
	like "$out" "Permission denied.*Permission denied.*401$" \
	     "another local user reads neither the token nor the database, and gets 401"
	chmod 700 "$TMP"
else
	skip "needs root and setpriv to act as another user"
fi
kill -INT "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null
http_agent again --db "$MAINDB" --duration 300
is "$AGENT_TOKEN" "$(tr -d '\n' <"$TMP/http.token")" "a restart keeps the token (bookmarks and cookies stay good)"
mkdir -m 700 "$TMP/state"
STATE_DIRECTORY=$TMP/state http_agent state --db "$TMP/state.db" --duration 300
is "$AGENT_TOKEN/$(stat -c %a "$TMP/state/http.token")" "$(tr -d '\n' <"$TMP/state/http.token" 2>/dev/null)/600" \
   "under systemd (StateDirectory=) the token lives in \$STATE_DIRECTORY"

# --- secrets others can read are refused, as ssh refuses such keys ---
mkdir "$TMP/loose"
printf '%s\n' "$AGENT_TOKEN" >"$TMP/loose/http.token"
chmod 644 "$TMP/loose/http.token"
out=$("$KSIGHT" agent --db "$TMP/loose/x.db" --listen 127.0.0.1:0 --duration 1 2>&1)
is "$?" 2 "a token file others can read: the agent refuses to start"
like "$out" "http.token is open to other users \(mode 0644\).*chmod 600" "saying why and what to do"
TOKEN=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
printf '%s\n' "$TOKEN" >"$TMP/given.token"
chmod 640 "$TMP/given.token"
out=$("$KSIGHT" agent --db "$TMP/given.db" --listen 127.0.0.1:0 --token-file "$TMP/given.token" --duration 1 2>&1)
is "$?" 2 "--token-file readable by its group: refused"
like "$out" "given.token is open to other users \(mode 0640\)" "naming the file and its mode"
done_testing
