#!/bin/sh
# ksight top against a live agent: a known CPU hog (two busy threads) is
# ranked first by CPU, with no more CPU time than it used (its own
# /proc/PID/stat); the other rankings sort by their key; a terminal gets
# colour, NO_COLOR and pipes get no escape codes; the live view switches
# ranking on a key, quits on q and on SIGTERM and leaves the terminal as it
# found it (script(1) gives it a pseudo-terminal); bad flags and an agent
# that is not there give clear messages; GET /api/processes validates.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/http.sh"
require_bpf
command -v script >/dev/null || skip_all "no script(1) (util-linux)"
plan 32

DB=$TMP/top.db
http_agent agent --db "$DB" --duration 300 || { echo "Bail out! no agent"; exit 1; }
"$HELPERS/workload" spin 2 120 >/dev/null &
HOG=$!
at_exit "kill $HOG 2>/dev/null"
# /api/processes carries per-process data: it needs the agent's token (issue 13),
# kept in http.token next to the database.
TOPCMD="$KSIGHT top --url $URL --token-file $TMP/http.token"

# Wait (up to 60 s) until the hog leads the CPU ranking over the last 5 s.
i=0
while [ $i -lt 120 ]; do
	$TOPCMD --once --json --window 5s >"$TMP/cpu.json" 2>"$TMP/cpu.err"
	[ "$(jq -r '.processes[0].pid' "$TMP/cpu.json" 2>/dev/null)" = "$HOG" ] && break
	sleep 0.5
	i=$((i + 1))
done
hog_cpu=$(awk '{ print ($14 + $15) / '"$(getconf CLK_TCK)"' }' "/proc/$HOG/stat")
[ $i -lt 120 ] || diag "last answer: $(head -c 600 "$TMP/cpu.json") $(cat "$TMP/cpu.err")"
is "$(jq -r '.processes[0].pid' "$TMP/cpu.json")" "$HOG" "ksight top --once --json ranks the CPU hog first by CPU"
is "$(jq -r '.processes[0].comm' "$TMP/cpu.json")" workload "with its command name"
is "$(jq -r '[.sort, .window.seconds] | join(" ")' "$TMP/cpu.json")" "cpu 5" "the answer says the ranking and the window"
cpu=$(jq -r '.processes[0].cpu_seconds' "$TMP/cpu.json")
ok "its CPU time ($cpu s) is more than 0 and no more than the hog used in all (/proc/$HOG/stat: $hog_cpu s)" \
   awk "BEGIN { exit !($cpu > 0 && $cpu <= $hog_cpu + 0.01) }"
is "$(jq -r '[.processes[].cpu_seconds] | . == (sort | reverse)' "$TMP/cpu.json")" true "rows are in CPU order"
pct=$(jq -r '.processes[0].cpu_percent' "$TMP/cpu.json")
ok "cpu_percent is its CPU time over the window ($pct %)" awk "BEGIN { exit !(($pct - $cpu * 100 / 5)^2 < 1e-6) }"

for key in runq:runq_wait_seconds slow:slow_call_seconds rss:rss_growth_bytes_per_s; do
	sort=${key%%:*}
	col=${key#*:}
	$TOPCMD --once --json --sort "$sort" --limit 50 >"$TMP/$sort.json"
	is "$(jq -r "[.sort, ([.processes[].$col // -1e300] | . == (sort | reverse))] | join(\" \")" "$TMP/$sort.json")" \
	   "$sort true" "--sort $sort: rows in $col order"
done

# ---- output: a pipe, NO_COLOR, a terminal ----
$TOPCMD --once --limit 5 >"$TMP/table.txt"
like "$(sed -n 2p "$TMP/table.txt")" '^ *PID +COMM +CPU%' "--once prints a table with a header"
like "$(cat "$TMP/table.txt")" "$HOG +workload" "the hog is in it"
is "$(grep -c "$(printf '\033')" "$TMP/table.txt")" 0 "no escape codes when stdout is not a terminal"
script -qec "$TOPCMD --once --limit 5" /dev/null >"$TMP/tty.txt" 2>&1
like "$(tr -d '\r' <"$TMP/tty.txt")" "$(printf '\033')\\[1mksight top" "colour on a terminal"
NO_COLOR=1 script -qec "$TOPCMD --once --limit 5" /dev/null >"$TMP/nocolor.txt" 2>&1
like "$(cat "$TMP/nocolor.txt")" "PID +COMM" "NO_COLOR on a terminal: the table ..."
is "$(grep -c "$(printf '\033')" "$TMP/nocolor.txt")" 0 "... without escape codes"

# ---- the live view on a terminal: m switches to RSS growth, q quits, the terminal is restored ----
mkfifo "$TMP/keys"
: >"$TMP/live.txt"
script -qec "$TOPCMD --interval 200ms --limit 3; stty -a" /dev/null <"$TMP/keys" >"$TMP/live.txt" 2>&1 &
LIVE=$!
exec 3>"$TMP/keys"
# wait_for PATTERN: until the live output has it (20 s)
wait_for() {
	_i=0
	while ! tr -d '\r' <"$TMP/live.txt" | grep -q "$1" && [ $_i -lt 100 ]; do sleep 0.2; _i=$((_i + 1)); done
}
wait_for "by CPU over"
printf m >&3
wait_for "by RSS growth over"
like "$(tr -d '\r' <"$TMP/live.txt")" "by RSS growth over" "the live view: m switches the ranking to RSS growth"
printf r >&3
wait_for "by run-queue wait over"
like "$(tr -d '\r' <"$TMP/live.txt")" "by run-queue wait over" "r to run-queue wait"
printf q >&3
i=0
while kill -0 $LIVE 2>/dev/null && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done
ok "q quits" test $i -lt 100
exec 3>&-
wait $LIVE
stty_after=$(tr -d '\r' <"$TMP/live.txt" | grep -o -- ' -\{0,1\}icanon \| -\{0,1\}echo ' | tr -d ' ' | tr '\n' ' ')
is "$stty_after" "icanon echo " "the terminal is back in canonical mode with echo after it quits"

# SIGTERM in the live view: it stops, restores the terminal, exits 0.
mkfifo "$TMP/keys2"
: >"$TMP/term.txt"
script -qec "sh -c 'echo \$\$ >$TMP/top.pid; exec $TOPCMD --interval 200ms --limit 3'; echo exit=\$?; stty -a" /dev/null \
	<"$TMP/keys2" >"$TMP/term.txt" 2>&1 &
LIVE=$!
exec 4>"$TMP/keys2"
i=0
while ! tr -d '\r' <"$TMP/term.txt" | grep -q "by CPU over" && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done
kill -TERM "$(cat "$TMP/top.pid")"
i=0
while kill -0 $LIVE 2>/dev/null && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done
exec 4>&-
wait $LIVE
is "$(tr -d '\r' <"$TMP/term.txt" | sed -n 's/^exit=//p')" 0 "SIGTERM stops the live view with status 0"
is "$(tr -d '\r' <"$TMP/term.txt" | grep -o -- ' -\{0,1\}icanon ' | tr -d ' ')" icanon "and the terminal is restored"

# ---- bad input ----
err=$($KSIGHT top --sort memory 2>&1); rc=$?
like "$rc: $err" "^2: ksight top: --sort: 'memory' is not one of cpu, runq, rss, slow" "a bad --sort: status 2, the flag named"
err=$($KSIGHT top --interval 1ms 2>&1); rc=$?
like "$rc: $err" "^2: ksight top: --interval: '1ms' is not a duration of 100ms or more" "a too short --interval"
err=$($KSIGHT top --json 2>&1); rc=$?
like "$rc: $err" "^2: ksight top: --json needs --once" "--json without --once"
err=$($KSIGHT top --colour 2>&1); rc=$?
like "$rc: $err" "^2: ksight top: unknown option '--colour'" "an unknown option"
port=$(free_port)
err=$($KSIGHT top --once --url "http://127.0.0.1:$port" 2>&1); rc=$?
like "$rc: $err" "^1: ksight top: cannot reach the agent at http://127.0.0.1:$port: .*is .ksight agent. running" \
     "no agent at --url: status 1, says so"
# ---- https: an agent with its own CA and a client CA (http.tls.*) ----
if command -v openssl >/dev/null; then
	C=$TMP/pki
	mkdir -p "$C"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$C/ca.key" -out "$C/ca.pem" \
		-days 2 -subj "/CN=ksight test CA" 2>/dev/null
	for c in server client; do
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$C/$c.key" -out "$C/$c.csr" \
			-subj "/CN=$c" 2>/dev/null
		printf 'subjectAltName=IP:127.0.0.1\n' >"$C/$c.ext"
		openssl x509 -req -in "$C/$c.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" -CAcreateserial -out "$C/$c.pem" \
			-days 2 -extfile "$C/$c.ext" 2>/dev/null
	done
	chmod 600 "$C"/*.key
	printf 'http:\n  tls: {cert: %s, key: %s, client_ca: %s}\n' "$C/server.pem" "$C/server.key" "$C/ca.pem" >"$TMP/tls.yaml"
	agent_bg tls --db "$TMP/tls.db" --config "$TMP/tls.yaml" --listen 127.0.0.1:0 --duration 300
	TURL=$(sed -n 's|.*dashboard on \(https://[^/]*\)/.*|\1|p' "$TMP/tls.err" | head -1)
	sed -n 's|.*dashboard on https://[^/]*/?token=\([0-9a-f]*\).*|\1|p' "$TMP/tls.err" | head -1 >"$TMP/tls.token"
	chmod 600 "$TMP/tls.token"
	TLS="--url $TURL --token-file $TMP/tls.token --once --json"
	$KSIGHT top $TLS --cacert "$C/ca.pem" --cert "$C/client.pem" --key "$C/client.key" >"$TMP/tls.json" 2>"$TMP/tls.out"
	is "$? $(jq -r .sort "$TMP/tls.json" 2>/dev/null)" "0 cpu" "https: --cacert, --cert and --key reach an agent with its own CA ($TURL)"
	err=$($KSIGHT top $TLS 2>&1); rc=$?
	like "$rc: $err" "^1: ksight top: cannot reach the agent at https://.*: .*(an agent with its own CA: --cacert FILE)" \
	     "without --cacert: status 1, the certificate refused and --cacert suggested"
	err=$($KSIGHT top $TLS --cacert "$C/ca.pem" 2>&1); rc=$?
	like "$rc: $err" "^1: ksight top: https://.* answered 403: this server needs a client certificate" \
	     "without a client certificate the agent's client CA refuses it, and top says so"
else
	skip "no openssl"; skip "no openssl"; skip "no openssl"
fi
err=$($KSIGHT top --cacert "$TMP/nonexistent.pem" --url https://127.0.0.1:1 2>&1); rc=$?
like "$rc: $err" "^2: ksight top: --cacert: cannot read .*nonexistent.pem: No such file" "an unreadable --cacert: status 2"
err=$($KSIGHT top --cacert "$TOP/README.md" --url http://127.0.0.1:1 2>&1); rc=$?
like "$rc: $err" "^2: ksight top: --cacert, --cert and --key are for an https:// --url" "--cacert with http://"
get "/api/processes?sort=memory"
is "$STATUS $(jqb .parameter)" "400 sort" "/api/processes?sort=memory: 400 naming sort"
