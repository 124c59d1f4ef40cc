#!/bin/sh
# ksight as a systemd service, without a running systemd:
#  - make install (PREFIX, SYSCONFDIR) puts the binary, the configuration
#    (pointing into /var/lib/ksight), the example policy, the unit and its
#    doc in place, and a second install keeps an edited configuration;
#  - systemd-analyze verify accepts the installed unit; systemd-analyze
#    security --offline=yes rates it 4.0 or better (the figure is printed),
#    and docs/service.md names every setting the analysis still marks;
#  - the notify protocol, as systemd would see it: READY=1 once the first
#    tick is stored, WATCHDOG=1 from the tick loop, RELOADING=1 on SIGHUP,
#    STOPPING=1 on SIGTERM, through a datagram socket this test listens on;
#  - the unit's capabilities are enough: as an unprivileged user with only
#    CAP_BPF and CAP_PERFMON, the same collectors run as for root, and the
#    overhead budget measures its programs.
. "$(dirname "$0")/../lib/tap.sh"
command -v systemd-analyze >/dev/null || skip_all "no systemd-analyze"
plan 21

P=$TMP/usr
make -C "$TOP" --no-print-directory install PREFIX="$P" SYSCONFDIR="$TMP/etc" >"$TMP/install.out" 2>&1
is "$?" 0 "make install PREFIX=... SYSCONFDIR=...: exit 0"
[ -x "$P/bin/ksight" ] && [ -f "$TMP/etc/ksight/ksight.yaml" ] && [ -f "$TMP/etc/ksight/policy.example.yaml" ] &&
	[ -f "$P/share/doc/ksight/service.md" ]
is "$?" 0 "it installs the binary, the configuration, the example policy and the docs"
UNIT=$P/lib/systemd/system/ksight.service
like "$(grep '^ExecStart=' "$UNIT")" "^ExecStart=$P/bin/ksight agent --config $TMP/etc/ksight/ksight.yaml$" \
	"the unit runs the installed binary with the installed configuration"
out=$("$P/bin/ksight" status --config "$TMP/etc/ksight/ksight.yaml" 2>&1)
like "$out" "/var/lib/ksight/kernelsight.db \(agent.db of $TMP/etc/ksight/ksight.yaml\)" \
	"the installed configuration loads, and its database is in the state directory"
echo "# edited by the operator" >> "$TMP/etc/ksight/ksight.yaml"
make -C "$TOP" --no-print-directory install PREFIX="$P" SYSCONFDIR="$TMP/etc" >"$TMP/install2.out" 2>&1
like "$(tail -1 "$TMP/etc/ksight/ksight.yaml")" "edited by the operator" "a second install keeps the configuration"

systemd-analyze verify "$UNIT" >"$TMP/verify.out" 2>&1
is "$?" 0 "systemd-analyze verify accepts the unit"
is "$(cat "$TMP/verify.out")" "" "without a warning"
EXPORT_UNIT=$P/lib/systemd/system/ksight-export.service
systemd-analyze verify "$EXPORT_UNIT" "$P/lib/systemd/system/ksight-export.timer" >"$TMP/verify-export.out" 2>&1
is "$?:$(cat "$TMP/verify-export.out")" "0:" "the hourly export's service and timer are installed and verify without a warning"
like "$(grep '^ExecStart=' "$EXPORT_UNIT" | head -1)" "^ExecStart=$P/bin/ksight export --config $TMP/etc/ksight/ksight.yaml --table process_events --out /var/lib/ksight/export --since-last$" \
	"the export runs the installed binary on the installed configuration, --since-last"
systemd-analyze security --offline=yes "$UNIT" >"$TMP/security.out" 2>&1
exposure=$(sed -n 's/.*Overall exposure level for ksight.service: \([0-9.]*\).*/\1/p' "$TMP/security.out")
diag "systemd-analyze security --offline=yes: exposure $exposure"
ok "exposure $exposure is 4.0 or better" awk -v e="${exposure:-99}" 'BEGIN { exit !(e <= 4.0) }'
missing=$(grep '✗' "$TMP/security.out" | awk '{ print $2 }' | sed 's/=.*//' | sort -u | while read -r s; do
	grep -q "\`$s=" "$TOP/docs/service.md" || echo "$s"; done)
is "$missing" "" "docs/service.md names every setting the analysis marks, with why"

# The notify protocol, read from a datagram socket as systemd would.
if [ "$(id -u)" -ne 0 ]; then
	[ "${REQUIRE_BPF:-}" = 1 ] && { echo "not ok - needs root for BPF"; exit 1; }
	for i in 12 13 14 15 16 17 18 19 20 21; do skip "needs root for BPF"; done
	done_testing
fi
perl -MIO::Socket::UNIX -MSocket -e '
	my $s = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Local => $ARGV[0]) or die "bind: $!";
	open(my $out, ">>", $ARGV[1]) or die; $out->autoflush(1);
	while (defined $s->recv(my $m, 4096)) { print $out "$m\n" }' "$TMP/notify" "$TMP/notify.log" &
LISTENER=$!
at_exit "kill $LISTENER 2>/dev/null"
wait_for "the listener" 30 test -S "$TMP/notify"
NOTIFY_SOCKET=$TMP/notify WATCHDOG_USEC=4000000 "$P/bin/ksight" agent --db "$TMP/svc.db" --no-http 2>"$TMP/svc.err" &
AGENT=$!
at_exit "kill -INT $AGENT 2>/dev/null"
notified() { [ "$(grep -c "^$1" "$TMP/notify.log" 2>/dev/null)" -ge "${2:-1}" ]; }
wait_for "READY=1" 180 notified READY=1
DB=$TMP/svc.db
ok "READY=1 comes once the first tick is stored ($(q 'select count(*) from memory_metrics') memory rows)" \
	at_least 1 "select count(*) from memory_metrics"
like "$(grep '^STATUS=' "$TMP/notify.log" | head -1)" "STATUS=collecting into $TMP/svc.db" "with a STATUS= line"
wait_for "WATCHDOG=1" 60 notified WATCHDOG=1 2
ok "WATCHDOG=1 pings come from the tick loop" notified WATCHDOG=1 2
kill -HUP $AGENT
wait_for "RELOADING=1" 60 notified READY=1 2
ok "SIGHUP: RELOADING=1, then READY=1 again" notified RELOADING=1
kill -TERM $AGENT
wait $AGENT
is "$?" 0 "SIGTERM: exit 0"
ok "with STOPPING=1 first" notified STOPPING=1

# Capabilities: CAP_BPF and CAP_PERFMON are all the collectors need.
on() { q "select group_concat(collector, ' ') from (select collector from collector_stats where enabled = 1 and kind in ('tracer', 'scraper') and timestamp = (select max(timestamp) from collector_stats where kind = 'tracer') order by collector)"; }
as_root=$(on)
mkdir "$TMP/nobody" && chown nobody "$TMP/nobody" && chmod 0755 "$TMP"
DB=$TMP/nobody/n.db
setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all,+bpf,+perfmon \
	--ambient-caps=-all,+bpf,+perfmon --bounding-set=-all,+bpf,+perfmon \
	"$P/bin/ksight" agent --db "$DB" --no-http --ready-fd 9 9>"$TMP/nobody.ready" 2>"$TMP/nobody.err" &
AGENT=$!
wait_for "the unprivileged agent" 180 test -s "$TMP/nobody.ready"
# The overhead budget sees its programs' run time without CAP_SYS_ADMIN
# (they time themselves; the kernel's BPF_ENABLE_STATS would need it).
wait_for "an overhead row with BPF time" 60 at_least 1 \
	"select count(*) from collector_stats where collector = 'overhead' and events > 0"
bpf_ns=$(q "select max(events) from collector_stats where collector = 'overhead'")
kill -TERM $AGENT
wait $AGENT
is "$?" 0 "an unprivileged user with CAP_BPF and CAP_PERFMON runs the agent (exit 0)"
is "$(on)" "$as_root" "and the same collectors run as for root ($(echo "$as_root" | wc -w))"
ok "it loaded the tracers: process events were recorded" at_least 1 "select count(*) from process_events"
ok "its overhead budget measures its programs' run time (${bpf_ns:-no} ns in a tick)" test "${bpf_ns:-0}" -gt 0
done_testing
