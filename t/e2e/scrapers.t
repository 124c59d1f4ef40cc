#!/bin/sh
# The /proc scrapers in the real agent, no root needed (tracers off): every
# scraper table fills on the live system with zero read errors, and with
# agent.root pointing at a fixture the rows are the fixture's.
. "$(dirname "$0")/../lib/tap.sh"
plan 16

cat >"$TMP/live.yaml" <<YAML
agent:
  interval: 250ms
tracers:
  proc:
    enabled: false
scrapers:
  net_tcp:
    interval: 500ms
YAML
DB=$TMP/live.db
"$KSIGHT" agent --config "$TMP/live.yaml" --db "$DB" --duration 1.6 2>"$TMP/live.err"
is "$?" 0 "agent with scrapers only runs and exits 0"

for t in cpu_metrics block_stats network_interface_stats tcp_stats tcp_retransmit_stats vmstat_metrics; do
	n=$(q "select count(*) from $t")
	ok "$t has rows ($n)" test "$n" -gt 0
done
if [ -r /proc/pressure/cpu ]; then
	ok "pressure_metrics has rows" test "$(q 'select count(*) from pressure_metrics')" -gt 0
else
	is "$(q "select enabled from collector_stats where collector='pressure' limit 1")" 0 "no PSI here: pressure disabled"
fi
is "$(q "select coalesce(sum(drops), 0) from collector_stats where kind='scraper'")" 0 \
   "no scraper read failed in any tick"
is "$(q "select count(distinct cpu) from cpu_metrics")" "$(($(grep -c '^cpu[0-9]' /proc/stat) + 1))" \
   "cpu_metrics: every CPU of /proc/stat plus the total"
is "$(q "select count(*) from tcp_stats where source != 'sock_diag'")" 0 "tcp_stats counted with sock_diag"
# net_tcp runs every scrapers.net_tcp.interval (here 2 ticks), from the first
# tick on; lo's row is there every tick.
is "$(q "select (count(*) + 1) / 2 from network_interface_stats where interface_name = 'lo'")" \
   "$(q "select count(*) from tcp_stats")" "tcp_stats has a row every other tick (interval 500ms), lo every tick"

# A fixture root: the agent reads t/fixtures/tick1 instead of /proc and /sys.
cat >"$TMP/fixture.yaml" <<YAML
agent:
  interval: 250ms
  root: "$TOP/t/fixtures/tick1"
tracers:
  proc:
    enabled: false
scrapers:
  net_tcp:
    interval: 0   # every tick: its rows count the ticks below
YAML
DB=$TMP/fixture.db
"$KSIGHT" agent --config "$TMP/fixture.yaml" --db "$DB" --duration 1.1 2>"$TMP/fixture.err"
is "$?" 0 "agent on a fixture root exits 0"
is "$(q "select distinct total || ' ' || listen || ' ' || source from tcp_stats")" "17 3 proc" \
   "tcp_stats from the fixture's /proc/net/tcp{,6}"
is "$(q "select group_concat(device_name, ' ') from (select distinct device_name from block_stats order by 1)")" \
   "sda vda" "block_stats: the fixture's used whole devices"
is "$(q "select count(*) || ' ' || count(user_pct) || ' ' || sum(ctxt_per_sec) from cpu_metrics where cpu = 'cpu'")" \
   "$(q "select count(*) - 1 from tcp_stats") 0 0.0" \
   "cpu_metrics on an unchanging /proc/stat: a row from the second tick on, % NULL (no time passed), 0 ctxt/s"
done_testing
