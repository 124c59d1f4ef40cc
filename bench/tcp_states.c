/* What one tcp_stats reading costs with N sockets: the net_tcp scraper
 * counting through NETLINK_SOCK_DIAG (the live system) against the same
 * scraper parsing /proc/net/tcp{,6} (reached through a root prefix that
 * links to /proc), side by side, alternating, in one run.
 *
 *   tcp_states HELPER N...    HELPER: t/helpers/tcp_sockets
 *
 * Runs in a private network namespace, so the sockets are exactly the
 * helper's and nobody else's measurements are disturbed; without one
 * (neither root nor user namespaces) it prints why and measures nothing.
 * Prints a markdown table: wall and CPU (user + system, which includes the
 * kernel's work for this process) per reading, and the floor of any
 * per-socket method: a sock_diag dump asking for SYN_SENT only, which
 * visits every socket of the hash table but reports none of these.
 */
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "scrape/scraper.h"
#include "store/batch.h"

struct cost {
	double wall_ms, cpu_ms;
	int64_t total;
	int runs;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

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

/* Wall ms of one IPv4 sock_diag dump for SYN_SENT sockets (none here). */
static double walk_ms(void)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg = {
		.nlh = { .nlmsg_len = sizeof(msg), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
		.req = { .sdiag_family = AF_INET, .sdiag_protocol = IPPROTO_TCP, .idiag_states = 1 << 2 },
	};
	char buf[32768];
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	double t0 = now_ms();
	bool done = false;

	if (fd < 0 || send(fd, &msg, sizeof(msg), 0) < 0)
		done = true;
	while (!done) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		int len = (int)n;

		if (n <= 0)
			break;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len))
			if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR)
				done = true;
	}
	t0 = now_ms() - t0;
	if (fd >= 0)
		close(fd);
	return t0;
}

/* One reading; adds its cost to c. */
static void measure(struct scraper *s, struct batch *b, struct cost *c)
{
	struct batch_value v;
	double w0 = now_ms(), c0 = cpu_ms();

	batch__clear(b);
	scraper__run(s, b, 1);
	c->wall_ms += now_ms() - w0;
	c->cpu_ms += cpu_ms() - c0;
	c->runs++;
	c->total = batch__value(b, T_TCP_STATS, 0, "total", &v) ? v.i : -1;
}

/* Starts the helper; returns its pid and the pipe that keeps it alive. */
static pid_t start_helper(const char *helper, int n, int *ret_hold, int *ret_sockets)
{
	int in[2], out[2];
	char arg[16], line[64];
	FILE *f;
	pid_t pid;

	if (pipe(in) < 0 || pipe(out) < 0)
		return -1;
	snprintf(arg, sizeof(arg), "%d", n);
	if ((pid = fork()) == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execl(helper, helper, arg, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	f = fdopen(out[0], "r");
	if (!f || !fgets(line, sizeof(line), f) || sscanf(line, "ready %d", ret_sockets) != 1) {
		close(in[1]);
		waitpid(pid, NULL, 0);
		return -1;
	}
	fclose(f);
	*ret_hold = in[1];
	return pid;
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/ksight-bench-tcp.XXXXXX", link[64];
	struct scraper diag, proc;
	struct batch b;

	if (argc < 3) {
		fprintf(stderr, "usage: tcp_states HELPER N...\n");
		return 2;
	}
	printf("## TCP states: sock_diag netlink vs /proc/net/tcp{,6}\n\n");
	if (!mkdtemp(dir))
		return 1;
	snprintf(link, sizeof(link), "%s/proc", dir);
	if (symlink("/proc", link) < 0)
		return 1;
	batch__init(&b);

	printf("Cost of one tcp_stats reading (mean), in a private network namespace holding only\n"
	       "the helper's loopback sockets; CPU is user + system of the reading process.\n\n");
	printf("| sockets | sock_diag wall ms | /proc wall ms | /proc ÷ sock_diag | sock_diag CPU ms | /proc CPU ms | walk floor ms | counts agree |\n");
	printf("|---:|---:|---:|---:|---:|---:|---:|:---:|\n");
	for (int i = 2; i < argc; i++) {
		struct cost cd = { 0 }, cp = { 0 };
		double walk = 0;
		int n = atoi(argv[i]), sockets = 0, hold = -1;
		pid_t pid = 0;
		double t0;

		/* A fresh namespace per size: the previous size's connections
		 * linger in TIME_WAIT in the old one. */
		if (!private_netns()) {
			printf("Skipped: needs a private network namespace (root or user namespaces): %s\n",
			       strerror(errno));
			break;
		}
		scraper__open(&diag, SCRAPER_net_tcp, "");
		scraper__open(&proc, SCRAPER_net_tcp, dir);
		if (n > 0 && (pid = start_helper(argv[1], n, &hold, &sockets)) < 0) {
			printf("| %d | helper failed | | | | | | |\n", n);
			break;
		}
		/* Alternate, for at least 0.5 s each and 3 to 50 readings. */
		measure(&diag, &b, &cd);    /* warm-up: socket, buffers */
		measure(&proc, &b, &cp);
		cd = cp = (struct cost){ 0 };
		t0 = now_ms();
		while (cd.runs < 3 || (cd.runs < 50 && now_ms() - t0 < 1000)) {
			measure(&diag, &b, &cd);
			measure(&proc, &b, &cp);
			walk += walk_ms();
		}
		printf("| %d | %.3f | %.3f | %.1f | %.3f | %.3f | %.3f | %s (%lld) |\n", sockets, cd.wall_ms / cd.runs,
		       cp.wall_ms / cp.runs, cp.wall_ms / cd.wall_ms, cd.cpu_ms / cd.runs, cp.cpu_ms / cp.runs, walk / cd.runs,
		       cd.total == cp.total && cd.total == sockets ? "yes" : "NO", (long long)cd.total);
		fflush(stdout);
		if (pid > 0) {
			close(hold);
			waitpid(pid, NULL, 0);
		}
		scraper__destroy(&diag);
		scraper__destroy(&proc);
	}
	printf("\nCommand: `make bench BENCH=tcp_states` (bench/tcp_states.sh).\n");
	batch__free(&b);
	unlink(link);
	rmdir(dir);
	return 0;
}
