#!/bin/sh
# /metrics end to end with a real Prometheus (Debian's, on 127.0.0.1 with
# its own config and data directory): it scrapes the agent every second
# while a workload makes a known number of getppid() calls, and PromQL
# must answer that number exactly -- the same number the agent stored in
# syscall_stats.  Counters never reset across the scrapes, a scraper that
# runs every 10th tick is in every scrape, and promtool accepts the
# exposition.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/http.sh"
require_bpf
command -v prometheus >/dev/null || skip_all "no prometheus binary (make deps installs Debian's prometheus)"
plan 12

CALLS=123457
mkfifo "$TMP/go"
"$HELPERS/sysloop" $CALLS --wait <"$TMP/go" >"$TMP/sysloop.out" &
LOOP=$!
exec 3>"$TMP/go"
at_exit "kill $LOOP 2>/dev/null"
i=0
while [ ! -s "$TMP/sysloop.out" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
PID=$(head -1 "$TMP/sysloop.out")

# Only the workload's syscalls are traced: its getppid count is known.
# Every call timed (no overhead budget): the histograms' counts must be the
# calls; under the budget they cover the timed calls only (docs/budget.md).
printf 'agent:\n  max_overhead_pct: 0\ntracers:\n  syscall:\n    pid: %s\n' "$PID" >"$TMP/agent.yaml"
DB=$TMP/metrics.db
http_agent agent --db "$DB" --config "$TMP/agent.yaml" --duration 300 || { echo "Bail out! no agent"; exit 1; }

PPORT=$(free_port)
cat >"$TMP/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: ksight
    static_configs:
      - targets: ['${URL#http://}']
YAML
prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/prometheus" \
	--web.listen-address="127.0.0.1:$PPORT" --log.level=warn 2>"$TMP/prometheus.err" &
PROM=$!
at_exit "kill $PROM; wait $PROM"
i=0
while [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PPORT/-/ready")" != 200 ] && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
ok "Prometheus is up on 127.0.0.1:$PPORT" test $i -lt 300

# promql QUERY: the value of the first result ("none" when there is none)
promql() {
	curl -s "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=$1" |
		jq -r '.data.result[0].value[1] // "none"'
}
# settle QUERY WANT: polls until QUERY answers WANT (up to 30 s); prints the last answer
settle() {
	_i=0
	while _v=$(promql "$1") && [ "$_v" != "$2" ] && [ $_i -lt 150 ]; do sleep 0.2; _i=$((_i + 1)); done
	echo "$_v"
}

is "$(settle 'up{job="ksight"}' 1)" 1 "Prometheus scrapes the agent (up == 1)"
echo go >&3
wait $LOOP
is "$(cut -d' ' -f1 "$TMP/sysloop.out" | tail -1)" $CALLS "the workload made $CALLS getppid() calls"

is "$(settle 'ksight_syscall_calls_total{syscall="getppid"}' $CALLS)" $CALLS \
   "PromQL: ksight_syscall_calls_total{syscall=\"getppid\"} is exactly $CALLS"
is "$(q "select sum(count) from syscall_stats where syscall_name = 'getppid'")" $CALLS \
   "the same number the agent stored in syscall_stats"
is "$(settle 'ksight_syscall_latency_by_syscall_seconds_count{syscall="getppid"}' $CALLS)" $CALLS \
   "its histogram counts every call"
is "$(settle 'ksight_syscall_latency_by_syscall_seconds_bucket{syscall="getppid",le="+Inf"}' $CALLS)" $CALLS \
   "and so does its +Inf bucket"
median=$(promql 'histogram_quantile(0.5, ksight_syscall_latency_by_syscall_seconds_bucket{syscall="getppid"})')
within "$median" 0.0000001 0.001 "histogram_quantile gives a getppid() median in seconds, below 1 ms ($median)"
is "$(promql 'sum(resets(ksight_syscall_latency_seconds_count[1m])) + sum(resets(ksight_context_switches_total[1m])) + sum(resets(ksight_collector_events_total[1m]))')" 0 \
   "counters never went back between scrapes"
ok "the native run-queue histogram is scraped ($(promql 'ksight_runqueue_latency_seconds_count') samples)" \
   test "$(promql 'ksight_runqueue_latency_seconds_count')" -gt 0
# net_tcp runs one tick in ten (scrapers.net_tcp.interval 10s): its
# families are in every scrape all the same, not one in ten.
is "$(settle 'count_over_time(ksight_tcp_sockets{state="listen"}[12s]) == bool on() count_over_time(up{job="ksight"}[12s])' 1)" 1 \
   "a scraper that runs every 10th tick has its families in every scrape (12 s of them)"
curl -s "$URL/metrics" >"$TMP/metrics.txt"
ok "promtool check metrics accepts the exposition" promtool check metrics <"$TMP/metrics.txt"
done_testing
