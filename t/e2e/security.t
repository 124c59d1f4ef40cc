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
done_testing
