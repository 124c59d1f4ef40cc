#!/bin/sh
# TCP states scraper: sock_diag netlink against /proc/net/tcp{,6} parsing
# with 0, 20k and 100k loopback sockets (t/helpers/tcp_sockets) in a private
# network namespace.  SOCKETS="1000 50000" overrides the sizes.
set -eu
"$BENCH_BIN/tcp_states" "$HELPERS/tcp_sockets" 0 ${SOCKETS:-20000 100000}
