# TAP helpers for shell tests (sourced by t/e2e/*.t and t/bpf/*.t scripts).
#
#   . "$(dirname "$0")/../lib/tap.sh"
#   plan 3; ok "agent exits 0" test "$rc" -eq 0; is "$n" 200 "200 rows"
#
# Sets KSIGHT (the binary), HELPERS (built workload programs) and TMP (a
# fresh directory removed at exit).  require_bpf skips for users and fails
# under REQUIRE_BPF=1.

TOP=$(cd "$(dirname "$0")/../.." && pwd)
KSIGHT=${KSIGHT:-$TOP/ksight}
HELPERS=$TOP/.output/t/helpers
TMP=$(mktemp -d /tmp/ksight-test.XXXXXX)
_tap_n=0
_tap_fail=0
_tap_cleanups=""

_tap_exit() {
	eval "$_tap_cleanups"
	rm -rf "$TMP"
}
trap _tap_exit EXIT

# at_exit 'command': run at exit, most recent first.
at_exit() { _tap_cleanups="$1 || true; $_tap_cleanups"; }

plan() { echo "1..$1"; }
diag() { echo "# $*" >&2; }

ok() {
	desc=$1; shift
	_tap_n=$((_tap_n + 1))
	if "$@"; then
		echo "ok $_tap_n - $desc"
	else
		echo "not ok $_tap_n - $desc"
		_tap_fail=$((_tap_fail + 1))
		return 1
	fi
}

is() {
	_tap_n=$((_tap_n + 1))
	if [ "$1" = "$2" ]; then
		echo "ok $_tap_n - $3"
	else
		echo "not ok $_tap_n - $3"
		diag "       got: '$1'"
		diag "  expected: '$2'"
		_tap_fail=$((_tap_fail + 1))
		return 1
	fi
}

# like "text" "regex" "description"
like() {
	_tap_n=$((_tap_n + 1))
	if printf '%s' "$1" | grep -Eq -- "$2"; then
		echo "ok $_tap_n - $3"
	else
		echo "not ok $_tap_n - $3"
		diag "       got: '$1'"
		diag "  expected to match: /$2/"
		_tap_fail=$((_tap_fail + 1))
		return 1
	fi
}

# within value lo hi description (numbers, may be decimal)
within() {
	_tap_n=$((_tap_n + 1))
	if awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }'; then
		echo "ok $_tap_n - $4"
	else
		echo "not ok $_tap_n - $4"
		diag "       got: '$1'"
		diag "  expected within [$2, $3]"
		_tap_fail=$((_tap_fail + 1))
		return 1
	fi
}

skip() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n # SKIP $1"; }

skip_all() { echo "1..0 # SKIP $1"; exit 0; }

done_testing() {
	[ -n "${_tap_planned_by_done:-}" ] && echo "1..$_tap_n"
	[ "$_tap_fail" -eq 0 ]
	exit $?
}

require_bpf() {
	if [ "$(id -u)" -ne 0 ]; then
		if [ "${REQUIRE_BPF:-}" = 1 ]; then
			echo "1..1"
			echo "not ok 1 - needs root for BPF, and REQUIRE_BPF=1 forbids skipping"
			exit 1
		fi
		skip_all "needs root for BPF (set REQUIRE_BPF=1 to make this a failure)"
	fi
}

# q SQL: one value from the test database $DB
q() { "$KSIGHT" query --db "$DB" --csv "$1" | sed -n 2p; }

# agent_bg NAME ARGS...: starts `ksight agent ARGS` in the background (its
# log in $TMP/NAME.err) and waits until it says it is ready (--ready-fd: its
# tracers are loaded and its first tick is stored), however long loading
# takes on this machine (up to 3 minutes).  Sets AGENT_PID; the agent is
# stopped at exit.  Returns 1, with the log, when it exits first.
agent_bg() {
	_name=$1; shift
	rm -f "$TMP/$_name.ready"
	"$KSIGHT" agent "$@" --ready-fd 9 9>"$TMP/$_name.ready" 2>"$TMP/$_name.err" &
	AGENT_PID=$!
	at_exit "kill -INT $AGENT_PID 2>/dev/null; wait $AGENT_PID 2>/dev/null"
	_i=0
	until [ -s "$TMP/$_name.ready" ]; do
		if ! kill -0 $AGENT_PID 2>/dev/null || [ $_i -ge 1800 ]; then
			diag "agent $_name did not get ready: $(cat "$TMP/$_name.err")"
			return 1
		fi
		sleep 0.1
		_i=$((_i + 1))
	done
}

# wait_for DESCRIPTION SECONDS COMMAND...: polls COMMAND (every 0.1 s) until
# it succeeds; returns 1 with a diagnostic after SECONDS.  The deadline only
# bounds a hang: tests wait for what they need, never for a fixed time.
wait_for() {
	_what=$1; _max=$(($2 * 10)); shift 2
	_i=0
	until "$@"; do
		_i=$((_i + 1))
		if [ $_i -ge $_max ]; then
			diag "gave up waiting for $_what"
			return 1
		fi
		sleep 0.1
	done
}

# at_least N SQL: true when SQL's value in $DB is at least N
at_least() { [ "$(q "$2" 2>/dev/null || echo 0)" -ge "$1" ] 2>/dev/null; }

# agent_stop PID: SIGINT and wait; returns the agent's exit status
agent_stop() { kill -INT "$1" 2>/dev/null; wait "$1"; }
