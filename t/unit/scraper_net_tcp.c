/* The TCP states scraper (tcp_stats): exact per-state counts from
 * /proc/net/tcp{,6} fixtures, errors on bad input, and live: listeners,
 * connections and a time-wait socket opened here on loopback, counted by
 * sock_diag and by the /proc parser (reached through a root prefix that
 * links to /proc) and checked against each other, against what was opened
 * and against ss(8).  The live part runs in a private network namespace
 * when it can (root, or unprivileged user namespaces), so the counts are
 * exact; otherwise it shares the host's and checks lower bounds.
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <dirent.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

#include "../lib/scrape.h"

#define T1 (1000 * NS)
#define TCP T_TCP_STATS
#define NLISTEN 5
#define NCONN 3

static const char *const states[] = { "established", "syn_sent", "syn_recv", "fin_wait1", "fin_wait2", "time_wait",
				      "close", "close_wait", "last_ack", "listen", "closing", "total" };
#define NCOLS (int)(sizeof(states) / sizeof(states[0]))

/* A new network namespace with lo up; false when not allowed. */
static bool private_netns(void)
{
	struct ifreq ifr = { 0 };
	int fd;
	bool up;

	if (unshare(CLONE_NEWNET) < 0 && unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0)
		return false;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	up = fd >= 0 && ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
	ifr.ifr_flags |= IFF_UP;
	up = up && ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
	if (fd >= 0)
		close(fd);
	return up;
}

static int listener(int family, uint16_t *ret_port)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_loopback;
		len = sizeof(*in6);
	}
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (ret_port)
		*ret_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

static int connect_to(uint16_t port)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&in, sizeof(in)) < 0)
		bail_out("cannot connect on loopback");
	return fd;
}

/* Sockets in state st (hex, e.g. 0x0A) in /proc/net/tcp + tcp6, counted
 * here without the scraper's code. */
static int64_t file_count(unsigned st)
{
	const char *files[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	int64_t n = 0;

	for (int f = 0; f < 2; f++) {
		FILE *in = fopen(files[f], "r");
		char line[512];
		unsigned state;

		if (!in)
			continue;
		if (!fgets(line, sizeof(line), in))
			line[0] = '\0';
		while (fgets(line, sizeof(line), in))
			if (sscanf(line, "%*s %*s %*s %x", &state) == 1 && state == st)
				n++;
		fclose(in);
	}
	return n;
}

/* Listening TCP sockets according to ss(8), or -1 without it. */
static int64_t ss_listening(void)
{
	FILE *p = popen("ss -Htln 2>/dev/null | wc -l", "r");
	long long n = -1;

	if (!p)
		return -1;
	if (fscanf(p, "%lld", &n) != 1)
		n = -1;
	return pclose(p) == 0 ? n : -1;
}

/* One row from each method into a[] (sock_diag) and b[] (proc). */
static void both(struct scraper *by_diag, struct scraper *by_proc, const char *proc_root, int64_t a[NCOLS],
		 int64_t b[NCOLS], char *source)
{
	scrape_tick(by_diag, "", T1);
	snprintf(source, 32, "%.31s", cell_text(TCP, 0, "source") ? cell_text(TCP, 0, "source") : "(null)");
	for (int i = 0; i < NCOLS; i++)
		a[i] = cell_int(TCP, 0, states[i]);
	scrape_tick(by_proc, proc_root, T1);
	for (int i = 0; i < NCOLS; i++)
		b[i] = cell_int(TCP, 0, states[i]);
}

/* Queues, on every NETLINK_SOCK_DIAG socket of this process, a made-up
 * dump reply from a user-space port: one LISTEN socket for each sequence
 * number 1..400 (whatever the scraper's next one is).  Returns how many
 * sockets got it. */
static int spoof_sock_diag(void)
{
	struct {
		struct nlmsghdr h;
		struct inet_diag_msg m;
	} *msgs;
	size_t n = 400;
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };
	int me = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG), hit = 0;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	msgs = calloc(n, sizeof(*msgs));
	for (size_t i = 0; i < n; i++) {
		msgs[i].h.nlmsg_len = sizeof(msgs[i]);
		msgs[i].h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
		msgs[i].h.nlmsg_flags = NLM_F_MULTI;
		msgs[i].h.nlmsg_seq = (uint32_t)i + 1;
		msgs[i].m.idiag_family = AF_INET;
		msgs[i].m.idiag_state = 10;          /* TCP_LISTEN */
	}
	while (d && me >= 0 && (e = readdir(d))) {
		int fd = atoi(e->d_name), proto = 0;
		struct sockaddr_nl addr;
		socklen_t len = sizeof(addr), plen = sizeof(proto);

		if (fd <= 2 || fd == me || fd == dirfd(d) ||
		    getsockname(fd, (struct sockaddr *)&addr, &len) || addr.nl_family != AF_NETLINK ||
		    getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &plen) || proto != NETLINK_SOCK_DIAG)
			continue;
		to.nl_pid = addr.nl_pid;
		if (sendto(me, msgs, n * sizeof(*msgs), 0, (struct sockaddr *)&to, sizeof(to)) > 0)
			hit++;
	}
	if (d)
		closedir(d);
	if (me >= 0)
		close(me);
	free(msgs);
	return hit;
}

static bool same(const int64_t a[NCOLS], const int64_t b[NCOLS])
{
	for (int i = 0; i < NCOLS; i++)
		if (a[i] != b[i]) {
			diag("%s: sock_diag %lld, /proc %lld", states[i], (long long)a[i], (long long)b[i]);
			return false;
		}
	return true;
}

int main(void)
{
	struct scraper s, by_diag, by_proc;
	char dir[] = "/tmp/ksight-tcp.XXXXXX", link[64], source[32];
	int64_t a[NCOLS], b[NCOLS];
	int listeners[NLISTEN], clients[NCONN], servers[NCONN], v6 = -1, row, tries;
	uint16_t port;
	bool private;

	plan(28);

	scrape_open(&s, SCRAPER_net_tcp);
	is(scrape_tick(&s, tap_src("t/fixtures/tick1"), T1), 1, "fixture: one row");
	is_str(cell_text(TCP, 0, "source"), "proc", "a root prefix means the files are read");
	is(cell_int(TCP, 0, "listen"), 3, "listen: 2 IPv4 + 1 IPv6");
	is(cell_int(TCP, 0, "established"), 5, "established: 3 + 2");
	is(cell_int(TCP, 0, "syn_recv"), 1, "syn_recv");
	is(cell_int(TCP, 0, "time_wait"), 1, "time_wait");
	is(cell_int(TCP, 0, "closing"), 1, "closing");
	ok(cell_int(TCP, 0, "syn_sent") == 1 && cell_int(TCP, 0, "fin_wait1") == 1 && cell_int(TCP, 0, "fin_wait2") == 1 &&
	   cell_int(TCP, 0, "close") == 1 && cell_int(TCP, 0, "close_wait") == 1 && cell_int(TCP, 0, "last_ack") == 1,
	   "one each of the IPv6-only states");
	is(cell_int(TCP, 0, "total"), 17, "total: 8 IPv4 + 9 IPv6");
	is(scrape_tick(&s, tap_src("t/fixtures/tick2"), T1), 1, "no tcp6 file (IPv6 off): still a row");
	ok(cell_int(TCP, 0, "listen") == 1 && cell_int(TCP, 0, "total") == 2, "with the IPv4 sockets only");
	is(scrape_tick(&s, tap_src("t/fixtures/malformed"), T1), -1, "a bad state field is an error");
	is(scrape_rows(TCP), 0, "and adds no row");
	is(scrape_tick(&s, tap_src("t/fixtures/basic"), T1), -1, "a missing /proc/net/tcp is an error");
	scraper__destroy(&s);

	/* live */
	private = private_netns();
	if (!private)
		diag("no private network namespace: sharing the host's, checking lower bounds");
	if (!mkdtemp(dir))
		bail_out("mkdtemp");
	snprintf(link, sizeof(link), "%s/proc", dir);
	if (symlink("/proc", link) < 0)
		bail_out("symlink");
	scrape_open(&by_diag, SCRAPER_net_tcp);
	scrape_open(&by_proc, SCRAPER_net_tcp);

	both(&by_diag, &by_proc, dir, a, b, source);
	is_str(source, "sock_diag", "live: counted with sock_diag");
	is_str(cell_text(TCP, 0, "source"), "proc", "live through a root prefix: counted from /proc/net/tcp{,6}");
	if (private)
		is(a[NCOLS - 1], 0, "private namespace: no sockets yet");
	else
		ok(a[NCOLS - 1] >= 0, "host namespace: %lld sockets", (long long)a[NCOLS - 1]);

	for (int i = 0; i < NLISTEN; i++)
		if ((listeners[i] = listener(AF_INET, i ? NULL : &port)) < 0)
			bail_out("cannot listen on 127.0.0.1");
	v6 = listener(AF_INET6, NULL);
	for (int i = 0; i < NCONN; i++) {
		clients[i] = connect_to(port);
		servers[i] = accept(listeners[0], NULL, NULL);
	}
	for (tries = 0; tries < 5; tries++) {
		both(&by_diag, &by_proc, dir, a, b, source);
		if (same(a, b))
			break;
	}
	ok(same(a, b), "live: sock_diag and /proc count the same sockets in every state");
	row = NLISTEN + (v6 >= 0);
	if (private) {
		is(a[9], row, "listen: the %d listeners opened (%s IPv6)", row, v6 >= 0 ? "one" : "no");
		is(a[0], 2 * NCONN, "established: both ends of the %d connections", NCONN);
		is(a[NCOLS - 1], row + 2 * NCONN, "total");
	} else {
		ok(a[9] >= row, "listen: at least the %d listeners opened", row);
		ok(a[0] >= 2 * NCONN, "established: at least both ends of the %d connections", NCONN);
		ok(a[NCOLS - 1] >= row + 2 * NCONN, "total: at least what was opened");
	}
	/* Other programs may open or close listeners in a shared namespace:
	 * compare readings taken back to back until two agree. */
	{
		int64_t file = -1, ss = -1;
		bool have_ss = ss_listening() >= 0;

		for (tries = 0; tries < 5; tries++) {
			both(&by_diag, &by_proc, dir, a, b, source);
			file = file_count(0x0A);
			ss = have_ss ? ss_listening() : a[9];
			if (a[9] == file && a[9] == ss)
				break;
		}
		is(a[9], file, "listen equals the LISTEN lines of /proc/net/tcp + tcp6");
		if (!have_ss)
			skip(1, "ss(8) not installed");
		else
			is(a[9], ss, "listen equals what ss -tln shows");
	}

	/* The client closes first, so its socket ends in TIME_WAIT. */
	close(clients[0]);
	close(servers[0]);
	for (tries = 0; tries < 100 && file_count(0x06) < 1; tries++)
		nanosleep(&(struct timespec){ 0, 20 * 1000 * 1000 }, NULL);
	for (tries = 0; tries < 5; tries++) {
		both(&by_diag, &by_proc, dir, a, b, source);
		if (same(a, b))
			break;
	}
	ok(a[5] >= 1 && a[5] == b[5], "time-wait sockets counted alike by both (%lld)", (long long)a[5]);
	if (private) {
		is(a[5], 1, "exactly the one closed here");
		is(a[0], 2 * (NCONN - 1), "and two fewer established");
	} else {
		skip(2, "exact counts need a private namespace");
	}
	ok(same(a, b), "live: both methods still agree");

	/* A reply that does not come from the kernel (nl_pid != 0) is not
	 * counted (issue 13): every sequence number carries a fake LISTEN. */
	{
		int64_t before = a[9];
		int spoofed = spoof_sock_diag();

		both(&by_diag, &by_proc, dir, a, b, source);
		if (spoofed < 1)
			skip(1, "cannot send to the scraper's netlink socket (needs CAP_NET_ADMIN)");
		else
			ok(a[9] == b[9] && (!private || a[9] == before),
			   "a made-up sock_diag reply from another process is ignored (listen %lld, /proc %lld, before %lld)",
			   (long long)a[9], (long long)b[9], (long long)before);
	}

	for (int i = 0; i < NLISTEN; i++)
		close(listeners[i]);
	for (int i = 1; i < NCONN; i++) {
		close(clients[i]);
		close(servers[i]);
	}
	if (v6 >= 0)
		close(v6);
	scraper__destroy(&by_diag);
	scraper__destroy(&by_proc);
	unlink(link);
	rmdir(dir);

	batch__free(&scrape_batch);
	return done_testing();
}
