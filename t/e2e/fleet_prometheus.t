#!/bin/sh
# Two hosts scraped across the network, safely: two agents in two network
# namespaces this test creates (each with its own address, its own TCP
# sockets), serving HTTPS with a client CA (mutual TLS) and a bearer token,
# and one real Prometheus (Debian's) scraping both as its documentation
# says (scheme https, authorization.credentials_file, tls_config).  PromQL
# must tell the hosts apart by instance, name each one's version, and
# answer a query across both that matches what each agent stored.  Scrapes
# without the token, with the wrong CA, or without a client certificate
# fail.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/http.sh"
[ "$(id -u)" = 0 ] || skip_all "network namespaces need root"
command -v prometheus >/dev/null || skip_all "no prometheus binary (make deps installs Debian's prometheus)"
command -v openssl >/dev/null || skip_all "no openssl (make deps installs it)"
plan 19

# ---- two hosts: network namespaces with a veth each ----
N=$(( $$ % 200 + 20 ))
for h in a b; do
	ns=ksf-$h-$$
	case $h in a) host=10.231.$N.1 peer=10.231.$N.2 ;; b) host=10.231.$N.5 peer=10.231.$N.6 ;; esac
	ip netns add $ns || { echo "Bail out! cannot create netns $ns"; exit 1; }
	at_exit "ip netns del $ns"
	ip link add kf$h$$ type veth peer name eth0 netns $ns
	at_exit "ip link del kf$h$$ 2>/dev/null"
	ip addr add $host/30 dev kf$h$$
	ip link set kf$h$$ up
	ip -n $ns addr add $peer/30 dev eth0
	ip -n $ns link set eth0 up
	ip -n $ns link set lo up
	eval "PEER_$h=$peer"
done

# ---- certificates: a CA, a server certificate per host, a client's, a stranger CA ----
C=$TMP/pki
mkdir -p "$C"
cert() {   # name signer subject [san]
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$C/$1.key" -out "$C/$1.csr" -subj "/CN=$3" 2>/dev/null
	if [ -n "${4:-}" ]; then printf 'subjectAltName=%s\n' "$4" > "$C/$1.ext"; else : > "$C/$1.ext"; fi
	openssl x509 -req -in "$C/$1.csr" -CA "$C/$2.pem" -CAkey "$C/$2.key" -CAcreateserial -out "$C/$1.pem" -days 2 \
		-extfile "$C/$1.ext" 2>/dev/null
}
for ca in ca stranger; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$C/$ca.key" -out "$C/$ca.pem" \
		-days 2 -subj "/CN=$ca" 2>/dev/null
done
cert srv-a ca host-a "IP:$PEER_a"
cert srv-b ca host-b "IP:$PEER_b"
cert client ca prometheus
cert stranger-client stranger prometheus
chmod 600 "$C"/*.key
head -c 24 /dev/urandom | base64 | tr -d '+/=' > "$TMP/token"
chmod 600 "$TMP/token"

# ---- settings that are refused ----
cp "$C/srv-a.key" "$TMP/open.key"
chmod 644 "$TMP/open.key"
printf 'http:\n  listen: 127.0.0.1:0\n  tls: {cert: %s, key: %s}\n' "$C/srv-a.pem" "$TMP/open.key" > "$TMP/open.yaml"
"$KSIGHT" agent --db "$TMP/x.db" --config "$TMP/open.yaml" --duration 1 2> "$TMP/open.err"
rc=$?
like "$rc $(cat "$TMP/open.err")" "^[12] .*http.tls.key: .*open.key can be read by others \(mode 0644\)" \
   "a private key others can read is refused, naming the setting and the file"
printf 'http:\n  listen: 127.0.0.1:0\n  tls: {cert: %s}\n' "$C/srv-a.pem" > "$TMP/half.yaml"
"$KSIGHT" agent --db "$TMP/x.db" --config "$TMP/half.yaml" --duration 1 2> "$TMP/half.err"
like "$? $(cat "$TMP/half.err")" "^[12] .*TLS needs both http.tls.cert and http.tls.key" "a certificate without its key is refused"

# ---- two agents, one per namespace; host b has two more listening sockets ----
for h in a b; do
	eval "peer=\$PEER_$h"
	cat > "$TMP/$h.yaml" <<YAML
http:
  listen: $peer:7777
  token_file: $TMP/token
  tls:
    cert: $C/srv-$h.pem
    key: $C/srv-$h.key
    client_ca: $C/ca.pem
tracers:
  proc: {enabled: false}
  syscall: {enabled: false}
  blockio: {enabled: false}
  sched: {enabled: false}
  pagefault: {enabled: false}
  tcp: {enabled: false}
  rss: {enabled: false}
scrapers:
  net_tcp: {interval: 0}   # every tick: b's listeners show up within a tick, not 10 s
YAML
	ip netns exec ksf-$h-$$ "$KSIGHT" agent --db "$TMP/$h.db" --config "$TMP/$h.yaml" --duration 300 2> "$TMP/$h.err" &
	eval "AGENT_$h=$!"
	at_exit "kill -INT $! 2>/dev/null; wait $! 2>/dev/null"
done
ip netns exec ksf-b-$$ perl -MIO::Socket::INET -e '
	my @s = map { IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1:$_", ReuseAddr => 1) or die } (9001, 9002);
	sleep 300' &
LISTENER=$!
at_exit "kill $LISTENER"
SCURL="curl -s --cacert $C/ca.pem --cert $C/client.pem --key $C/client.key -H @$TMP/auth"
printf 'Authorization: Bearer %s\n' "$(cat "$TMP/token")" > "$TMP/auth"
ready() { [ "$($SCURL "https://$1:7777/api/health" | jq -r '.ticks // 0' 2>/dev/null)" -gt 0 ] 2>/dev/null; }
i=0
while ! { ready $PEER_a && ready $PEER_b; } && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
ok "both agents serve HTTPS with a token and a client CA, each in its namespace" test $i -lt 300 ||
	diag "a: $(tail -3 "$TMP/a.err") b: $(tail -3 "$TMP/b.err")"
like "$(cat "$TMP/a.err")" "dashboard on https://$PEER_a:7777/" "the agent says https"

# ---- one Prometheus, configured as its documentation says ----
PPORT=$(free_port)
job() {   # name extra-lines targets
	cat <<YAML
  - job_name: $1
    scheme: https
$2
    static_configs:
      - targets: [$3]
YAML
}
TLS_OK="    tls_config: {ca_file: $C/ca.pem, cert_file: $C/client.pem, key_file: $C/client.key}"
AUTH="    authorization: {credentials_file: $TMP/token}"
{
	printf 'global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n'
	job ksight "$AUTH
$TLS_OK" "'$PEER_a:7777', '$PEER_b:7777'"
	job notoken "$TLS_OK" "'$PEER_a:7777'"
	job wrongca "$AUTH
    tls_config: {ca_file: $C/stranger.pem, cert_file: $C/client.pem, key_file: $C/client.key}" "'$PEER_a:7777'"
	job nocert "$AUTH
    tls_config: {ca_file: $C/ca.pem}" "'$PEER_a:7777'"
	job strangercert "$AUTH
    tls_config: {ca_file: $C/ca.pem, cert_file: $C/stranger-client.pem, key_file: $C/stranger-client.key}" "'$PEER_a:7777'"
} > "$TMP/prometheus.yml"
prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/prometheus" \
	--web.listen-address="127.0.0.1:$PPORT" --log.level=warn 2>"$TMP/prometheus.err" &
PROM=$!
at_exit "kill $PROM; wait $PROM"
i=0
while [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PPORT/-/ready")" != 200 ] && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
ok "Prometheus is up on 127.0.0.1:$PPORT" test $i -lt 300 || diag "$(cat "$TMP/prometheus.err")"

promql() {   # QUERY: "instance value" lines, sorted
	curl -s "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=$1" |
		jq -r '.data.result[] | "\(.metric.instance // "-") \(.metric.version // "") \(.value[1])"' | sed 's/  / /' | sort
}
settle() {   # QUERY WANT: polls until QUERY answers WANT (up to 30 s); prints the last answer
	_i=0
	while _v=$(promql "$1") && [ "$_v" != "$2" ] && [ $_i -lt 150 ]; do sleep 0.2; _i=$((_i + 1)); done
	echo "$_v"
}

want_up=$(printf '%s 1\n%s 1' "$PEER_a:7777" "$PEER_b:7777" | sort)
is "$(settle 'up{job="ksight"}' "$want_up")" "$want_up" "Prometheus scrapes both hosts over TLS with the token (up == 1, one series per instance)"
version=$("$KSIGHT" --version | awk '{ print $2 }')
want=$(printf '%s %s 1\n%s %s 1' "$PEER_a:7777" "$version" "$PEER_b:7777" "$version" | sort)
is "$(settle 'ksight_build_info{job="ksight"}' "$want")" "$want" "ksight_build_info names each host's version ($version)"

# Host b listens on two more sockets than host a: the per-host series differ,
# and the sum across hosts is what the two databases hold.
want=$(printf '%s 1\n%s 3' "$PEER_a:7777" "$PEER_b:7777" | sort)
is "$(settle 'ksight_tcp_sockets{job="ksight",state="listen"}' "$want")" "$want" \
   "ksight_tcp_sockets{state=\"listen\"} per instance: 1 on a (the agent), 3 on b"
la=$("$KSIGHT" query --db "$TMP/a.db" --csv "select listen from tcp_stats order by timestamp desc limit 1" | sed -n 2p)
lb=$("$KSIGHT" query --db "$TMP/b.db" --csv "select listen from tcp_stats order by timestamp desc limit 1" | sed -n 2p)
is "$la:$lb" "1:3" "each agent stored the same in its own tcp_stats"
is "$(settle 'sum(ksight_tcp_sockets{job="ksight",state="listen"})' "- $((la + lb))")" "- $((la + lb))" \
   "a query across both hosts (sum) matches the two databases ($la + $lb)"
mem=$("$KSIGHT" query --db "$TMP/a.db" --csv "select total_kb * 1024 from memory_metrics order by timestamp desc limit 1" | sed -n 2p)
is "$(settle "count(ksight_memory_total_bytes{job=\"ksight\"} == $mem)" "- 2")" "- 2" \
   "both hosts' MemTotal equals what agent a stored ($mem bytes: one kernel)"

# ---- scrapes that must fail ----
for j in notoken wrongca nocert strangercert; do
	is "$(settle "up{job=\"$j\"}" "$PEER_a:7777 0")" "$PEER_a:7777 0" "a scrape with $j fails (up == 0)"
done
errs=$(curl -s "http://127.0.0.1:$PPORT/api/v1/targets" | jq -r '.data.activeTargets[] | select(.labels.job != "ksight") | "\(.labels.job): \(.lastError)"' | sort)
diag "$errs"
like "$errs" "notoken: server returned HTTP status 401" "without the token: 401"

# ---- certificates rotate: SIGHUP re-reads them ----
serial() { echo | openssl s_client -connect "$1:7777" -cert "$C/client.pem" -key "$C/client.key" 2>/dev/null | openssl x509 -noout -serial; }
old=$(serial $PEER_a)
cert srv-a2 ca host-a "IP:$PEER_a"
chmod 600 "$C/srv-a2.key"
cp "$C/srv-a2.pem" "$C/srv-a.pem"
cp "$C/srv-a2.key" "$C/srv-a.key"
kill -HUP $AGENT_a
i=0
while ! grep -q "reloaded the TLS certificate" "$TMP/a.err" && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
new=$(serial $PEER_a)
ok "SIGHUP: host a serves its new certificate ($old -> $new)" test -n "$new" -a "$new" != "$old" -a "$new" = "$(openssl x509 -noout -serial -in "$C/srv-a2.pem")"
t0=$(curl -s "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=up{job=\"ksight\",instance=\"$PEER_a:7777\"}" | jq -r '.data.result[0].value[0]')
i=0
while [ "$(curl -s "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=up{job=\"ksight\",instance=\"$PEER_a:7777\"}" | jq -r '.data.result[0].value[1]')" != 1 ] ||
      [ "$(curl -s "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=timestamp(up{job=\"ksight\",instance=\"$PEER_a:7777\"})" | jq -r '.data.result[0].value[1] | tonumber | floor')" -le "${t0%.*}" ]; do
	[ $i -lt 150 ] || break
	sleep 0.2
	i=$((i + 1))
done
ok "Prometheus scrapes it again after the rotation (up == 1, a newer scrape)" test $i -lt 150
chmod 644 "$C/srv-a.key"
kill -HUP $AGENT_a
i=0
while ! grep -q "reload failed: http.tls.key" "$TMP/a.err" && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
ok "a key left readable by others is refused at reload, and the certificate in use stays ($(serial $PEER_a))" \
   test $i -lt 300 -a "$(serial $PEER_a)" = "$new"
