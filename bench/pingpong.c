/* Context switches for bench/run.sh: a parent and a child pass one byte
 * back and forth through two pipes N times (each round trip puts both to
 * sleep once), then the parent prints its own wall time:
 *
 *   .output/bench/pingpong N
 *   pingpong pid=4242 n=200000 elapsed_ns=1234567890
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 0;
	int ping[2], pong[2];
	long long t0;
	char c = 0;
	pid_t pid;

	if (n <= 0 || pipe(ping) || pipe(pong)) {
		fprintf(stderr, "usage: pingpong N\n");
		return 2;
	}
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		close(ping[1]);
		close(pong[0]);
		while (read(ping[0], &c, 1) == 1 && write(pong[1], &c, 1) == 1)
			;
		_exit(0);
	}
	close(ping[0]);
	close(pong[1]);
	t0 = now_ns();
	for (long i = 0; i < n; i++)
		if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1)
			return 1;
	printf("pingpong pid=%d n=%ld elapsed_ns=%lld\n", getpid(), n, now_ns() - t0);
	close(ping[1]);
	waitpid(pid, NULL, 0);
	return 0;
}
