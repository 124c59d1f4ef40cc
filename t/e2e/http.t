#!/bin/sh
# The agent's HTTP API end to end with curl: every endpoint's happy path
# against rows of known value, every error path (400 naming the parameter,
# 404, 405, 413, 503 overload, oversized requests), keyset pagination
# without gaps or repeats, answers following new commits, the static
# dashboard files, and the token rule (non-loopback without a token is
# refused; with one, 401 without or with a wrong token, 200 with it, as
# Bearer or Basic).  Runs as any user; as root the non-loopback case runs
# in a private network namespace.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/http.sh"
plan 120

DB=$TMP/http.db
# A hidden tracepoint gives a known warning, a known degraded status and a
# known collector error.
KSIGHT_HIDE_TRACEPOINTS=tcp_retransmit_skb http_agent main --db "$DB" --duration 300 || { echo "Bail out! no agent"; exit 1; }
# An hour ago on a whole second: old enough to be rolled up, young enough
# for retention.raw to keep the rows.
T0=$(( ($(date +%s) - 3600) * 1000000000 ))
sqlite3 "$DB" ".timeout 10000" "WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < 249)
	INSERT INTO syscall_events (timestamp, pid, tid, comm, syscall_nr, syscall_name, latency_ns, ret)
	SELECT $T0 + (i / 10) * 1000, 4242, 4242, 'ksight-test', 999, 'ksight_test', 20000000 + i * 1000, -11 FROM c"
RANGE="since=$T0&until=$((T0 + 1000000))"

# --- /api/health ---
get /api/health
is "$STATUS" 200 "/api/health: 200"
like "$(header Content-Type)" "^application/json" "JSON"
is "$(jqb .version)" "$("$KSIGHT" --version | cut -d' ' -f2)" "it reports this binary's version"
is "$(jqb '.collectors | length')" "$(ncollectors)" "every tracer and scraper is listed ($(ncollectors))"
is "$(jqb '.collectors[] | select(.name == "tcp") | .enabled')" false "the hidden tracer is off"
like "$(jqb '.collectors[] | select(.name == "tcp") | .reason')" "tcp_retransmit_skb is not in this kernel" "and says why"
is "$(jqb .status)" degraded "so the agent is degraded"
like "$(jqb '.problems | join(";")')" "tracer tcp is off" "naming the problem"
is "$(jqb .kernel)" "$(uname -r)" "kernel"
ok "database size is the file's" test "$(jqb .database.size_bytes)" -ge "$(stat -c %s "$DB")"
is "$(jqb '.collectors[] | select(.name == "meminfo") | .enabled')" true "the meminfo scraper runs"
ok "and has produced rows" test "$(jqb '.collectors[] | select(.name == "meminfo") | .events_total')" -ge 1

# --- /api/signals: known rows, pagination ---
get "/api/signals?type=syscall_events&$RANGE&limit=100"
is "$STATUS" 200 "/api/signals: 200"
is "$(jqb '.rows | length')" 100 "limit=100: 100 rows"
is "$(jqb '.rows[0].timestamp')" "$((T0 + 24000))" "newest first"
is "$(jqb '[.rows[].timestamp] == ([.rows[].timestamp] | sort | reverse)')" true "in descending time order"
is "$(jqb '.rows[0].comm')" ksight-test "columns by name"
is "$(jqb '.rows[0].ret')" -11 "integers as numbers"
like "$(jqb .next)" "^$((T0 + 15000)),[0-9]+$" "a next cursor TIMESTAMP,ROWID"
get "/api/signals?type=syscall_events&$RANGE"
is "$(jqb '.rows | length')" 100 "limit defaults to 100"

: >"$TMP/seen"
cursor=""
pages=0
while :; do
	get "/api/signals?type=syscall_events&$RANGE&limit=15${cursor:+&before=$cursor}"
	[ "$STATUS" = 200 ] || break
	jqb '.rows[].latency_ns' >>"$TMP/seen"
	pages=$((pages + 1))
	cursor=$(jqb .next)
	[ "$cursor" != null ] && [ $pages -lt 40 ] || break
done
is "$pages" 17 "250 rows in pages of 15: 17 pages (cursors inside runs of equal timestamps)"
is "$(wc -l <"$TMP/seen")" 250 "every row once"
is "$(sort -u "$TMP/seen" | wc -l)" 250 "no row twice"
is "$(jqb .next)" null "the last page has no next"

get "/api/signals?type=syscall_events&$RANGE&limit=10000"
is "$STATUS" 200 "limit=10000 is allowed"
is "$(jqb .count)" 250 "and returns everything in the range"

# Answers follow commits (the per-thread answer cache checks data_version).
get "/api/signals?type=syscall_events&$RANGE&limit=1"
before=$(jqb '.rows[0].latency_ns')
sqlite3 "$DB" ".timeout 10000" "INSERT INTO syscall_events (timestamp, pid, syscall_name, latency_ns) VALUES ($T0 + 500000, 1, 'late', 777)"
get "/api/signals?type=syscall_events&$RANGE&limit=1"
is "$before/$(jqb '.rows[0].latency_ns')" "20249000/777" "a row committed by another connection shows at once"

# --- /api/signals: errors ---
err() {  # err PATH STATUS PARAM REGEX DESCRIPTION
	get "$1"
	is "$STATUS/$(jqb '.parameter // "-"')" "$2/$3" "$5: $2 naming '$3'"
	like "$(jqb .error)" "$4" "$5: says why"
}
err "/api/signals" 400 type "missing.*one of: .*syscall_events" "no type"
err "/api/signals?type=nosuch" 400 type "unknown type 'nosuch'" "unknown type"
err "/api/signals?type=syscall_events%3Bdrop%20table%20x" 400 type "unknown type" "SQL in type"
err "/api/signals?type=syscall_events&limit=10001" 400 limit "outside \[1, 10000\]" "limit too large"
err "/api/signals?type=syscall_events&limit=0" 400 limit "outside" "limit 0"
err "/api/signals?type=syscall_events&limit=ten" 400 limit "not a whole number" "limit not a number"
err "/api/signals?type=syscall_events&since=yesterday" 400 since "not a time" "bad since"
err "/api/signals?type=syscall_events&since=2&until=1" 400 since "after 'until'" "since after until"
err "/api/signals?type=syscall_events&before=12" 400 before "cursor" "bad cursor"
err "/api/signals?type=syscall_events&colour=blue" 400 colour "unknown parameter 'colour'" "unknown parameter"
err "/api/signals?type=syscall_events&limit=1&limit=2" 400 limit "given twice" "repeated parameter"
err "/api/signals?type=syscall_events&limit=" 400 limit "no value" "empty value"

# --- /api/stats over the known rows ---
get "/api/stats?$RANGE"
is "$STATUS" 200 "/api/stats: 200"
is "$(jqb '.tables[] | select(.name == "syscall_events") | .rows')" 251 "rows per table over the window"
is "$(jqb '.slow_syscalls[] | select(.syscall == "ksight_test") | .slow_calls')" 250 "slow calls per syscall"
is "$(jqb '.slow_syscalls[] | select(.syscall == "ksight_test") | .max_ms')" 20.249 "their maximum latency"
is "$(jqb '.slowest_calls[0].latency_ms')" 20.249 "the slowest call first"
is "$(jqb '.tables | length')" "$("$KSIGHT" schema | sed '/^Rollup tiers/q' | grep -c '^[a-z_0-9]*: ')" "one entry per table the agent writes"
# Slow is the time a call did not choose: a 100 s read waiting for input
# is only waiting; a 60 ms call blocked 55 ms on a disk is slow.
T1=1100000000000000000
sqlite3 "$DB" ".timeout 10000" "INSERT INTO syscall_events (timestamp, pid, tid, comm, syscall_nr, syscall_name, latency_ns,
	ret, oncpu_ns, runq_ns, blocked_ns, sleep_ns) VALUES
	($T1, 4243, 4243, 'ksight-test', 0, 'ksight_wait', 100000000000, 1, 1000000, 0, 0, 99999000000),
	($T1 + 1, 4243, 4243, 'ksight-test', 74, 'ksight_disk', 60000000, 0, 2000000, 3000000, 55000000, 0)"
get "/api/stats?since=$T1&until=$((T1 + 1000000))"
is "$(jqb '[.slow_syscalls[].syscall] | join(",")')" ksight_disk "a call blocked on a disk is slow; one waiting for input is not"
is "$(jqb '.slowest_calls[0].involuntary_ms')/$(jqb '.slowest_calls[0].blocked_ms')/$(jqb '.slowest_calls[0].runq_ms')" \
   60/55/3 "the slowest call with its split"
is "$(jqb '.waiting_syscalls[0].syscall')/$(jqb '.waiting_syscalls[0].asleep_s')" ksight_wait/99.999 \
   "the waiting call is listed as waiting"
get "/api/series?since=$T1&until=$((T1 + 1000000000))&step=1s"
is "$(jqb '.series.slow_syscalls.data[1] | add')" 1 "the slow-syscall series counts the slow call only"
now=$(($(date +%s) * 1000000000))
sqlite3 "$DB" ".timeout 10000" "INSERT INTO syscall_events (timestamp, pid, syscall_name, latency_ns, oncpu_ns, runq_ns,
	blocked_ns, sleep_ns) VALUES ($now, 4244, 'ksight_stuck', 3700000000000, 1000000, 0, 3699999000000, 0),
	($now, 4244, 'ksight_idle', 3700000000000, 1000000, 0, 0, 3699999000000)"
get /api/diagnostics
is "$(jqb '.slow_syscalls.slowest[0].syscall')/$(jqb '.slow_syscalls.slowest[0].blocked_ms')" ksight_stuck/3699999 \
   "/api/diagnostics: the slowest call of the last 5 minutes, with its split"
is "$(jqb '[.slow_syscalls.slowest[] | select(.syscall == "ksight_idle")] | length')" 0 "not the idle one"
ok "which counts as waiting" test "$(jqb .slow_syscalls.waiting_calls)" -ge 1
get "/api/stats"
is "$STATUS/$(jqb .window.seconds)" 200/300 "default window: the last 5 minutes"
ok "the live tables count rows in it" test "$(jqb '.tables[] | select(.name == "memory_metrics") | .rows')" -ge 1
err "/api/stats?window=0s" 400 window "outside" "window too short"
err "/api/stats?window=800d" 400 window "outside" "window too long"
err "/api/stats?window=1m&since=-2m" 400 window "either" "window and since"

# --- status, diagnostics, series ---
get /api/agent/status
is "$STATUS/$(jqb .agent.pid)" "200/$AGENT_PID" "/api/agent/status: the agent's pid"
if [ "$("$KSIGHT" query --db "$DB" --csv "select count(*) from sqlite_master where name = 'memory_growth_events'" | sed -n 2p)" = 1 ]; then
	is "$(jqb '.leaks.available')/$(jqb '.leaks.suspects | type')" true/array "leak suspects from memory_growth_events"
else
	is "$(jqb '.leaks.available')" false "no leak detector in this build: said so"
fi
is "$(jqb '.anomalies | has("available")')" true "the anomaly detector's state is there too"
get /api/diagnostics
is "$STATUS" 200 "/api/diagnostics: 200"
like "$(jqb '.warnings[].message')" "tracer tcp disabled: tracepoint tcp_retransmit_skb" "recent warnings"
like "$(jqb '.collector_errors[] | select(.collector == "tcp") | .problem')" "^off: " "collector errors"
is "$(jqb '.config["http.listen"]')/$(jqb '.config["agent.db"]')" "127.0.0.1:0/$DB" "the configuration in use"
like "$(jqb .http.auth)" "^token for per-process data" "and how it is served"
get "/api/series?since=-1m"
is "$STATUS" 200 "/api/series: 200"
is "$(jqb '.series | keys | length')" 11 "every dashboard series"
ok "memory has points" test "$(jqb '.series.memory.data[0] | length')" -ge 1
within "$(jqb '.series.process_events.data[0] | length')" 60 61 "counts fill every 1 s step of the minute"
err "/api/series?step=1ms" 400 step "outside" "step too small"
err "/api/series?since=-7d&step=1s" 400 step "more than 5000 points" "too many points"

# --- /metrics and the dashboard files ---
get /metrics
is "$STATUS" 200 "/metrics: 200"
like "$(header Content-Type)" "^text/plain; version=0.0.4" "Prometheus text format 0.0.4"
ok "promtool check metrics accepts it" promtool check metrics <"$BODY"
like "$(grep '^ksight_build_info' "$BODY")" "version=\"$("$KSIGHT" --version | cut -d' ' -f2)\"} 1" "build info"
get /
is "$STATUS" 200 "/: the dashboard"
like "$(header Content-Security-Policy)" "default-src 'self'" "served with a policy that forbids other origins"
get /vendor/uPlot.iife.min.js
ok "the chart library is the npm package's file, from the binary" cmp -s "$BODY" "$TOP/node_modules/uplot/dist/uPlot.iife.min.js"

# --- other errors ---
get /api/nothing
is "$STATUS/$(jqb .status)" 404/404 "unknown path: 404 in JSON"
get /api/health -X POST
is "$STATUS/$(header Allow)" "405/GET, HEAD" "POST: 405, nothing here writes"
get /api/health -X GET --data-binary 'x=1'
is "$STATUS" 413 "a request body: 413"
get /api/health -H "X-Big: $(head -c 40000 /dev/zero | tr '\0' a)"
ok "a 40 KB header is refused ($STATUS)" test "$STATUS" -ge 400
get /api/health -I
is "$STATUS" 200 "HEAD works, and the server is still up"

# --- overload: at most http.max_connections served at once ---
"$KSIGHT" agent --db "$TMP/nohttp.db" --no-http --duration 0.5 2>"$TMP/nohttp.err"
is "$?/$(grep -c 'dashboard on' "$TMP/nohttp.err")" 0/0 "--no-http: the agent runs without a server"
printf 'http:\n  max_connections: 2\n' >"$TMP/small.yaml"
http_agent small --db "$TMP/small.db" --config "$TMP/small.yaml" --duration 300
hostport=${URL#http://}
# Two kept-alive connections, each proven accepted by an answer, held open.
perl -MIO::Socket::INET -e '
	my ($host, $port, $ready) = @ARGV;
	my @held;
	for (1 .. 2) {
		my $s = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port) or die "connect: $!";
		print $s "GET /api/health HTTP/1.1\r\nHost: $host:$port\r\n\r\n";
		my $status = <$s>;
		push @held, $s;
	}
	open(my $f, ">", $ready) or die;
	close $f;
	sleep 120;' "${hostport%:*}" "${hostport#*:}" "$TMP/held" &
HOLDER=$!
at_exit "kill $HOLDER 2>/dev/null"
i=0
while [ ! -e "$TMP/held" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
get /api/stats
is "$STATUS/$(header Retry-After)" 503/1 "a third connection: 503 with Retry-After"
like "$(jqb .error)" "overloaded" "saying so"
# Answered from memory, these two are never refused for load (issue 13).
get /metrics
is "$STATUS" 200 "but /metrics is still served"
kill $HOLDER
wait $HOLDER 2>/dev/null
i=0
while get /api/stats && [ "$STATUS" = 503 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
is "$STATUS" 200 "once they close, requests are served again"

# --- the token rule ---
run() { out=$("$KSIGHT" "$@" 2>&1); rc=$?; }
run agent --db "$TMP/open.db" --listen 0.0.0.0:0 --duration 1
is "$rc" 2 "non-loopback address without a token: refused (exit 2)"
like "$out" "not a loopback address.*--token-file" "saying why and what to do"
ok "before creating the database" test ! -e "$TMP/open.db"
printf 'short\n' >"$TMP/short.token"
chmod 600 "$TMP/short.token"
run agent --db "$TMP/open.db" --listen 127.0.0.1:0 --token-file "$TMP/short.token" --duration 1
is "$rc/$(printf '%s' "$out" | grep -c 'too short')" 2/1 "a short token: refused"

TOKEN=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
printf '%s\n' "$TOKEN" >"$TMP/token"
chmod 600 "$TMP/token"
# The token with its last character changed (to one it is not).
case $TOKEN in *x) WRONG=${TOKEN%?}y ;; *) WRONG=${TOKEN%?}x ;; esac
check_token() {  # check_token LABEL: against $URL
	get /api/health
	is "$STATUS/$(header WWW-Authenticate)" "401/Bearer realm=\"ksight\"" "$1: no token: 401 with a challenge"
	get /metrics -H "Authorization: Bearer $WRONG"
	is "$STATUS" 401 "$1: a wrong token of the same length: 401"
	get /api/health -H "Authorization: Bearer ${TOKEN}x"
	is "$STATUS" 401 "$1: the token with a byte more: 401"
	get /api/health -H "Authorization: Bearer $TOKEN"
	is "$STATUS/$(jqb .version)" "200/$("$KSIGHT" --version | cut -d' ' -f2)" "$1: the right token: 200"
	get / -u "anyone:$TOKEN"
	is "$STATUS" 200 "$1: as the password of HTTP Basic (browsers): 200"
}
http_agent token --db "$TMP/token.db" --token-file "$TMP/token" --duration 300
check_token "loopback"

if [ "$(id -u)" -eq 0 ] && ip netns add "ksight-http-$$" 2>/dev/null; then
	NS=ksight-http-$$
	at_exit "ip netns delete $NS"
	ip -n $NS link set lo up
	ip -n $NS link add ks0 type veth peer name ks1
	ip -n $NS addr add 10.213.7.1/24 dev ks0
	ip -n $NS link set ks0 up
	ip -n $NS link set ks1 up
	ip netns exec $NS "$KSIGHT" agent --db "$TMP/ns.db" --listen 10.213.7.1:0 --token-file "$TMP/token" \
		--duration 300 2>"$TMP/ns.err" &
	NSPID=$!
	at_exit "kill -INT $NSPID; wait $NSPID"
	i=0
	while ! grep -qs "dashboard on http://" "$TMP/ns.err" && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	URL=$(sed -n 's|.*dashboard on \(http://[^/]*\)/.*|\1|p' "$TMP/ns.err" | head -1)
	like "$URL" "^http://10\.213\.7\.1:[0-9]+$" "non-loopback with a token: it listens (in a private netns)"
	curl() { ip netns exec $NS /usr/bin/curl "$@"; }
	check_token "10.213.7.1"
	unset -f curl
else
	skip "non-loopback listening needs root for a private network namespace"
	for i in 1 2 3 4 5; do skip "non-loopback listening needs root"; done
fi
done_testing
