# Helpers for tests of the agent's HTTP server (sourced after tap.sh).
#
#   http_agent NAME ARGS...     starts `ksight agent ARGS --listen 127.0.0.1:0`
#                               in the background (stopped at exit), waits until
#                               it is ready (agent_bg); sets URL, AGENT_PID and
#                               AGENT_TOKEN (the token the agent made and
#                               printed; "" when it was given --token-file)
#   get PATH [CURL ARGS...]     GET $URL$PATH with AGENT_TOKEN (when set) as
#                               Bearer: sets STATUS, BODY (file) and HDRS (file)
#   anon_get PATH [CURL ARGS...]  the same without the agent's token
#   jqb FILTER                  jq -r FILTER on the last BODY
#   free_port                   a TCP port free on 127.0.0.1 now
#   ncollectors                 tracers + scrapers this binary has

# http_agent NAME ARGS...: the log is $TMP/NAME.err.  Waits until the agent
# says it is ready (--ready-fd: tracers loaded, first tick stored and
# published to HTTP), however long that takes; never for a fixed time.
http_agent() {
	_n=$1; shift
	agent_bg "$_n" --listen 127.0.0.1:0 "$@" || return 1
	URL=$(sed -n 's|.*dashboard on \(http://[^/]*\)/.*|\1|p' "$TMP/$_name.err" | head -1)
	[ -n "$URL" ] || { diag "agent serves no HTTP: $(cat "$TMP/$_name.err")"; return 1; }
	AGENT_TOKEN=$(sed -n 's|.*dashboard on http://[^/]*/?token=\([0-9a-f]*\).*|\1|p' "$TMP/$_name.err" | head -1)
}

anon_get() {
	_path=$1; shift
	BODY=$TMP/body.$$
	HDRS=$TMP/headers.$$
	STATUS=$(curl -s -o "$BODY" -D "$HDRS" -w '%{http_code}' "$@" "$URL$_path")
}

get() {
	_path=$1; shift
	if [ -n "${AGENT_TOKEN:-}" ]; then
		anon_get "$_path" -H "Authorization: Bearer $AGENT_TOKEN" "$@"
	else
		anon_get "$_path" "$@"
	fi
}

jqb() { jq -r "$1" "$BODY" 2>/dev/null; }

# header NAME: the value of response header NAME of the last get
header() { tr -d '\r' < "$HDRS" | sed -n "s/^$1: //Ip" | head -1; }

free_port() {
	perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1:0", ReuseAddr => 1)->sockport, "\n"'
}

ncollectors() {
	"$KSIGHT" agent --help-config | sed -n 's/.*\.enabled .*one of: //p' | wc -w
}
