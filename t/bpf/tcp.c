/* TCP retransmit tracer: a sender and receiver in a private network
 * namespace, whose loopback goes down for a second while data is in
 * flight -> one row per retransmit, as many as RetransSegs rose in that
 * namespace (read once no socket there can send any more), with the
 * flow's addresses, ports, owner and namespace.
 *
 * The workload script waits (up to 20 s) until the namespace has no TCP
 * socket left but those in TIME-WAIT, which send nothing more: a socket
 * the flow closed may still retransmit its FIN on a loaded host, and the
 * collector loop must still be running to store that event. */
#include <sys/stat.h>

#include "../lib/ktest.h"

static char ns[64];

static long retrans_segs(void)
{
	char cmd[160];
	long v = -1;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "ip netns exec %s awk '/^Tcp:/ { getline; print $13 }' /proc/net/snmp", ns);
	f = popen(cmd, "r");
	if (f && fscanf(f, "%ld", &v) != 1)
		v = -1;
	if (f)
		pclose(f);
	return v;
}

static int sh(const char *fmt, const char *arg)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), fmt, arg, arg);
	return system(cmd);
}

int main(void)
{
	bool tracers[TRACER_COUNT] = { [TRACER_tcp] = true };
	char out[PATH_MAX], script[PATH_MAX], line[128];
	long before, after, sport = 0, netns = 0;
	struct ktest k;
	struct stat st;
	char *flow;
	FILE *f;

	tap_require_bpf();
	plan(7);
	snprintf(ns, sizeof(ns), "ksight-tcp-%d", getpid());
	if (sh("ip netns add %s && ip netns exec %s ip link set lo up", ns))
		bail_out("cannot create a network namespace");
	snprintf(line, sizeof(line), "/run/netns/%s", ns);
	if (stat(line, &st) == 0)
		netns = (long)st.st_ino;
	ktest_init(&k);
	snprintf(out, sizeof(out), "%s/flow.out", k.dir);
	snprintf(script, sizeof(script), "%s/flow.sh", k.dir);
	flow = ktest_helper("tcp_flow");
	f = fopen(script, "w");
	fprintf(f, "#!/bin/sh\n"
		   "ip netns exec %s %s 5555 4 &\n"
		   "sleep 1\n"
		   "ip netns exec %s ip link set lo down\n"
		   "sleep 1.2\n"
		   "ip netns exec %s ip link set lo up\n"
		   "wait\n"
		   "i=0\n"
		   "while ip netns exec %s ss -Htan exclude time-wait | grep -q .; do\n"
		   "  i=$((i + 1)); [ $i -le 200 ] || { echo 'TCP sockets still open after 20 s' >&2; exit 3; }\n"
		   "  sleep 0.1\n"
		   "done\n", ns, flow, ns, ns, ns);
	fclose(f);
	chmod(script, 0755);
	before = retrans_segs();
	ktest_start(&k, tracers, NULL);
	{
		char *argv[] = { script, NULL };

		is(ktest_workload(&k, argv, out, 60 * NSEC_PER_SEC), 0,
		   "flow with loopback down for 1.2 s, then no socket left to send");
	}
	ktest_finish(&k);
	after = retrans_segs();
	sh("ip netns del %s", ns);
	f = fopen(out, "r");
	if (!f || fscanf(f, "%ld", &sport) != 1)
		bail_out("no output from tcp_flow");
	fclose(f);
	diag("RetransSegs in the namespace: %ld -> %ld; sender port %ld; netns %ld", before, after, sport, netns);
	ok(after - before > 0, "the kernel retransmitted (%ld segments)", after - before);
	is(ktest_int(&k, "select count(*) from tcp_retransmit_events where netns=%ld", netns), after - before,
	   "one row per retransmitted segment in that namespace");
	is(ktest_int(&k, "select count(*) from tcp_retransmit_events where netns=%ld and saddr='127.0.0.1' "
			 "and daddr='127.0.0.1' and sport=%ld and dport=5555 and family=4", netns, sport),
	   after - before, "with the flow's addresses and ports");
	is(ktest_int(&k, "select count(*) from tcp_retransmit_events where netns=%ld and comm='tcp_flow' and pid > 0",
		     netns), after - before, "and the process that connected");
	is(ktest_int(&k, "select count(*) from tcp_retransmit_events where netns=%ld and state='ESTABLISHED'", netns),
	   after - before, "state ESTABLISHED");
	is(ktest_int(&k, "select coalesce(sum(drops),0) from collector_stats where collector='tcp'"), 0, "no drops");
	ktest_cleanup(&k);
	return done_testing();
}
