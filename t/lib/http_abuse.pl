#!/usr/bin/perl
# Clients that try to exhaust the agent's HTTP server (issue 13 finding 6),
# for t/e2e/security.t.  Read on stdin (perl - ARGS) so that it runs as an
# unprivileged user who cannot read the worktree.
#
#   perl - PORT slow N SECONDS
#       N slowloris clients: each sends a request line and then one header
#       line a second, never the blank line that ends the headers.  Prints
#       "ready" once all N have connected, then, after SECONDS or when every
#       connection is closed, "shut_fast=A shut_later=B open=C": connections
#       the server closed within a second of connecting (refused), later
#       (timed out), and never.
#   perl - PORT huge N SECONDS TOKEN
#       N requests for 10,000 rows each (a different since= each, so that no
#       two share a cache entry) that never read their answer.  Prints
#       "ready" once all are sent, holds the connections SECONDS, and exits.
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time sleep);

$| = 1;
$SIG{PIPE} = 'IGNORE';
my ($port, $mode, $n, $secs, $token) = @ARGV;
my @socks;
my %born;
for my $i (1 .. $n) {
	my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Proto => 'tcp')
	    or die "connect $i: $!\n";
	$born{fileno $s} = time;
	if ($mode eq 'slow') {
		print $s "GET /api/stats HTTP/1.1\r\nHost: 127.0.0.1:$port\r\n";
	} else {
		my $since = 1000 + $i;
		print $s "GET /api/signals?type=process_events&limit=10000&since=$since HTTP/1.1\r\n" .
			 "Host: 127.0.0.1:$port\r\nAuthorization: Bearer $token\r\n\r\n";
	}
	push @socks, $s;
}
print "ready\n";
my $end = time + $secs;
if ($mode ne 'slow') {
	sleep 0.2 while time < $end;
	exit 0;
}
my ($fast, $later) = (0, 0);
my $sel = IO::Select->new(@socks);
my $next = time + 1;
while (time < $end && $sel->count) {
	for my $s ($sel->can_read(0.2)) {
		my $got = sysread($s, my $buf, 4096);
		next if $got;           # an answer (a 503, say): read on until it closes
		(time - $born{fileno $s} < 1 ? $fast : $later)++;
		$sel->remove($s);
		close $s;
	}
	if (time >= $next) {
		syswrite($_, "X-Slow: 1\r\n") for $sel->handles;
		$next = time + 1;
	}
}
printf "shut_fast=%d shut_later=%d open=%d\n", $fast, $later, $sel->count;
