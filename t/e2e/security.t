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
MAIN_PID=$AGENT_PID MAIN_URL=$URL
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
agent_stop "$AGENT_PID"
AGENT_PID=$MAIN_PID URL=$MAIN_URL

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
agent_stop "$MAIN_PID"
OLD_TOKEN=$AGENT_TOKEN
AGENT_TOKEN=
http_agent again --db "$MAINDB" --duration 300
is "$AGENT_TOKEN" "$OLD_TOKEN" "a restart on the same database keeps the token (bookmarks and cookies stay good)"
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

# --- memory exhaustion: slow clients and huge answers (finding 6) ---
# 10,000 rows of 1 KiB argv, half control characters (each escaped to six
# bytes): an answer of every row would be 35 MiB.
ABDB=$TMP/abuse.db
"$KSIGHT" -q agent --db "$ABDB" --duration 1 --listen 127.0.0.1:0 2>/dev/null
NOW=$(($(date +%s) * 1000000000))
sqlite3 "$ABDB" "WITH RECURSIVE r(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM r WHERE i < 9999)
  INSERT INTO process_events (timestamp, event, pid, ppid, uid, comm, argv)
  SELECT $NOW - i * 1000000, 'exec', 100000 + i, 1, 0, 'abuse',
         substr(replace(hex(zeroblob(512)), '0', char(1) || 'a'), 1, 1024) FROM r;"
http_agent abuse --db "$ABDB" --duration 300
PORT=${URL##*:}
# (A loaded machine can push this query past its 2 s database budget: 503,
# retried.)
i=0
while get "/api/signals?type=process_events&limit=10000&since=1" && [ "$STATUS" = 503 ] && [ $i -lt 10 ]; do
	i=$((i + 1))
done
is "$STATUS/$(jqb .truncated)/$(jqb '.next != null')" 200/true/true \
   "an answer of 10,000 long rows stops early: truncated, with a next cursor to go on"
within "$(wc -c <"$BODY")" 1 $((2 * 1048576 + 65536)) \
   "and it is at most HTTP_BODY_MAX (2 MiB) and one row ($(($(wc -c <"$BODY") / 1024)) KiB)"
if command -v setpriv >/dev/null && [ "$(id -u)" -eq 0 ]; then
	# The abusers are two other local users, so this test's own /metrics
	# requests (root's) are a third client, as Prometheus would be.
	setpriv --reuid=65533 --regid=65533 --clear-groups perl - "$PORT" huge 50 25 "$AGENT_TOKEN" \
		<"$TOP/t/lib/http_abuse.pl" >"$TMP/huge.out" 2>&1 &
	HUGE=$!
	setpriv --reuid=65534 --regid=65534 --clear-groups perl - "$PORT" slow 200 25 \
		<"$TOP/t/lib/http_abuse.pl" >"$TMP/slow.out" 2>&1 &
	SLOW=$!
	at_exit "kill $HUGE $SLOW 2>/dev/null"
	# /metrics from the moment they start: every answer 200; the slowest
	# one and the agent's largest RSS are what the issue asks about.
	max_ms=0 max_rss=0 bad=0 i=0
	while [ $i -lt 30 ]; do
		t=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "$URL/metrics")
		[ "${t%% *}" = 200 ] || bad=$((bad + 1))
		ms=$(echo "${t#* }" | awk '{ printf "%d", $1 * 1000 }')
		[ "$ms" -gt "$max_ms" ] && max_ms=$ms
		rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$AGENT_PID/status")
		[ "$rss" -gt "$max_rss" ] && max_rss=$rss
		i=$((i + 1))
		sleep 0.2
	done
	i=0
	while [ "$(grep -c ready "$TMP/huge.out" "$TMP/slow.out" | grep -c ':1$')" -lt 2 ] && [ $i -lt 200 ]; do
		sleep 0.1; i=$((i + 1))
	done
	is "$(cat "$TMP/huge.out" "$TMP/slow.out" | grep -c ready)" 2 "50 huge requests and 200 slow clients are in"
	hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$AGENT_PID/status")
	diag "under abuse: /metrics slowest of 30: $max_ms ms; agent VmRSS max $((max_rss / 1024)) MiB, VmHWM $((hwm / 1024)) MiB"
	is "$bad" 0 "/metrics answered all 30 requests made during the abuse"
	# The issue's bound is 100 ms; this machine is shared with other builds
	# and tests, so the test only fails on a second (the slowest is in the
	# diag above and in docs/security.md).
	within "$max_ms" 0 999 "the slowest /metrics took $max_ms ms (issue's goal: 100 ms, asserted: < 1 s)"
	if ldd "$KSIGHT" 2>/dev/null | grep -q libasan; then
		# make test SANITIZE=1: ASan's shadow memory and quarantine are several times the agent's own.
		skip "peak RSS under ASan ($((hwm / 1024)) MiB) is not the agent's: the 64 MiB cap is checked on the normal build"
	else
		within "$hwm" 0 $((64 * 1024 - 1)) "the agent's peak RSS stayed under its documented 64 MiB cap ($((hwm / 1024)) MiB)"
	fi
	curl -s "$URL/metrics" >"$TMP/abuse.prom"
	refused=$(sed -n 's/^ksight_http_connections_shut_total{reason="client_limit"} //p' "$TMP/abuse.prom")
	within "${refused:-0}" $((200 - 64)) 200 "one user's connections past http.max_client_connections (64) are shut ($refused)"
	over=$(sed -n 's/^ksight_http_over_budget_total //p' "$TMP/abuse.prom")
	within "${over:-0}" 1 50 "the huge requests past their user's share of serving time got a quick 503 ($over of 50)"
	cache=$(sed -n 's/^ksight_http_cache_bytes //p' "$TMP/abuse.prom")
	within "${cache:-x}" 0 $((2 * 1048576)) "the answer cache holds at most http.cache_bytes, 2 MiB by default ($((${cache:-0} / 1024)) KiB)"
	wait $SLOW
	diag "slow clients: $(tr '\n' ' ' <"$TMP/slow.out")"
	like "$(cat "$TMP/slow.out")" "shut_fast=(13[6-9]|1[4-9][0-9]|200) shut_later=([1-9][0-9]*) open=0" \
	     "the slow clients saw it: the extra ones shut at once, the rest when their headers ran late"
	wait $HUGE
	timed=$(curl -s "$URL/metrics" | sed -n 's/^ksight_http_connections_shut_total{reason="headers_timeout"} //p')
	within "${timed:-0}" 1 200 "slow headers are shut after HTTP_HEADERS_TIMEOUT_S ($timed)"
	i=0
	while get /api/stats && [ "$STATUS" = 503 ] && [ $i -lt 50 ]; do
		sleep 0.2; i=$((i + 1))
	done
	is "$STATUS" 200 "and once the abusers are gone the API serves again" || diag "$(cat "$BODY")"
else
	skip "needs root and setpriv to act as other users"
fi

# --- capabilities: only what the mode needs after start (finding 8) ---
# cap_agent NAME MODE ACTIONS...: starts an agent with a policy of one rule
# per action, waits for it to say what it kept, sets CAPS to the CapEff of
# every one of its threads (sorted, unique) and NAMES to what it logged.
cap_agent() {
	_n=$1 _m=$2; shift 2
	{ echo "mode: $_m"; echo "rules:"
	  for _a in "$@"; do
		printf '  - name: r-%s\n    when: {leak: {min_confidence: 0.9}}\n    match: {comm: [nothing-runs-this]}\n    action: %s\n' "$_a" "$_a"
		[ "$_a" = renice ] && echo "    nice: 10"
	  done; } >"$TMP/$_n.policy"
	[ $# -gt 0 ] || echo "rules: []" >"$TMP/$_n.policy"
	"$KSIGHT" agent --db "$TMP/$_n.db" --policy "$TMP/$_n.policy" --listen 127.0.0.1:0 --duration 300 \
		2>"$TMP/$_n.err" &
	_p=$!
	at_exit "kill -INT $_p 2>/dev/null; wait $_p 2>/dev/null"
	_i=0
	while ! grep -qs "dashboard on" "$TMP/$_n.err" && [ $_i -lt 300 ] && kill -0 $_p 2>/dev/null; do
		sleep 0.1; _i=$((_i + 1))
	done
	CAPS=$(cat /proc/$_p/task/*/status 2>/dev/null | sed -n 's/^CapEff:\t*//p' | sort -u | tr '\n' ' ')
	NAMES=$(sed -n 's/.*capabilities kept for mode [a-z]*: //p' "$TMP/$_n.err")
	NTHREADS=$(ls /proc/$_p/task | wc -l)
	kill -INT $_p; wait $_p 2>/dev/null
}
if [ "$(id -u)" -eq 0 ]; then
	# Bits: 2 cap_dac_read_search, 5 cap_kill, 19 cap_sys_ptrace, 23 cap_sys_nice.
	cap_agent capobs observe
	is "$CAPS" "0000000000080004 " \
	   "observe: every thread ($NTHREADS) keeps only cap_dac_read_search and cap_sys_ptrace (CapEff)"
	is "$NAMES" "cap_dac_read_search,cap_sys_ptrace" "and the agent says so"
	ok "the observing agent stored rows from its tracers after the drop" \
	   [ "$(sqlite3 "$TMP/capobs.db" "SELECT count(*) FROM collector_stats WHERE kind = 'tracer' AND events_total > 0")" -gt 0 ]
	cap_agent caprec recommend terminate renice
	is "$CAPS" "0000000000080004 " "recommend, even with terminate and renice rules: the same (it never acts)"
	cap_agent capkill act terminate
	is "$CAPS" "0000000000080024 " "act with a terminate rule: + cap_kill"
	cap_agent capnice act renice ionice memory_high
	is "$CAPS" "0000000000880004 " "act with renice, ionice, memory_high: + cap_sys_nice, no cap_kill"
else
	skip "needs root: capabilities are what root gives up"
fi

# --- act mode in a pid namespace other than the host's (issue 13) ---
# The tracers report host pids: acting on them in a container could hit
# another process, so act mode refuses to start there.
if [ "$(id -u)" -eq 0 ] && unshare --pid --fork --mount-proc true 2>/dev/null; then
	printf 'mode: act\nrules:\n  - name: r\n    when: {leak: {min_confidence: 0.9}}\n    match: {comm: [nothing]}\n    action: terminate\n' \
		>"$TMP/act.policy"
	out=$(unshare --pid --fork --mount-proc "$KSIGHT" agent --db "$TMP/pidns.db" --policy "$TMP/act.policy" \
		--no-http --duration 2 2>&1)
	rc=$?
	like "$rc $(echo "$out" | grep refused)" "^1 .*act mode is refused in a pid namespace other than the host's" \
	     "act mode in a new pid namespace: refused at start, saying why"
	out=$(unshare --pid --fork --mount-proc "$KSIGHT" agent --db "$TMP/pidns.db" --policy "$TMP/act.policy" \
		--mode recommend --no-http --duration 1 2>&1)
	is "$?" 0 "recommend mode there still runs (it never acts)"
else
	skip "needs root and unshare --pid"
fi
done_testing
