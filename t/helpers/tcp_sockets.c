/* Workload: many TCP sockets on loopback, for the TCP states benchmark.
 *
 *   tcp_sockets N      open about N sockets on 127.0.0.1 (N/2 connections,
 *                      both ends open, plus one listener per process), print
 *                      "ready <sockets>" and hold them until stdin closes
 *
 * One process may hold only RLIMIT_NOFILE descriptors (the hard limit cannot
 * be raised here), so the sockets are spread over child processes, each
 * with its own listener.  Run it in a private network namespace: 100k
 * sockets in the host's would disturb everyone else's measurements.
 * Exit status: 0 after a clean release, 1 when the sockets could not be
 * opened, 2 on bad usage.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* Opens `pairs` connections to a new listener; returns sockets opened or
 * -1.  The descriptors stay open until the process exits. */
static int open_pairs(int pairs)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(addr);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);

	if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, len) < 0 || listen(lfd, 1024) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&addr, &len) < 0)
		return -1;
	for (int i = 0; i < pairs; i++) {
		int c = socket(AF_INET, SOCK_STREAM, 0);

		if (c < 0 || connect(c, (struct sockaddr *)&addr, sizeof(addr)) < 0 || accept(lfd, NULL, NULL) < 0) {
			perror("tcp_sockets");
			return -1;
		}
	}
	return 2 * pairs + 1;
}

int main(int argc, char **argv)
{
	struct rlimit rl;
	int want, per_child, nchild, total = 0, status, failed = 0;
	int ready[2];
	pid_t *kids;
	char c;

	if (argc != 2 || (want = atoi(argv[1])) < 2) {
		fprintf(stderr, "usage: tcp_sockets N (N >= 2)\n");
		return 2;
	}
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	per_child = (int)(rl.rlim_cur > 200000 ? 200000 : rl.rlim_cur) - 64;
	per_child -= per_child % 2 == 0;      /* an odd count: pairs + the listener */
	nchild = (want + per_child - 1) / per_child;
	if (!(kids = calloc((size_t)nchild, sizeof(*kids))) || pipe(ready) < 0)
		return 1;

	for (int i = 0; i < nchild; i++) {
		int share = (want - total < per_child ? want - total : per_child);

		total += share;
		if ((kids[i] = fork()) == 0) {
			int n = open_pairs(share / 2);

			close(ready[0]);
			if (n < 0)
				_exit(1);
			if (write(ready[1], &n, sizeof(n)) != sizeof(n))
				_exit(1);
			pause();      /* until the parent's SIGTERM */
			_exit(0);
		}
	}
	close(ready[1]);
	total = 0;
	for (int i = 0; i < nchild; i++) {
		int n;

		if (read(ready[0], &n, sizeof(n)) != sizeof(n)) {
			failed = 1;
			break;
		}
		total += n;
	}
	if (!failed) {
		printf("ready %d\n", total);
		fflush(stdout);
		while (read(0, &c, 1) > 0)
			;
	}
	for (int i = 0; i < nchild; i++)
		kill(kids[i], SIGTERM);
	for (int i = 0; i < nchild; i++)
		waitpid(kids[i], &status, 0);
	return failed;
}
