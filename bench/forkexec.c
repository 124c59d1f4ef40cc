/* A fork/exec-heavy job for bench/run.sh: N times fork, exec PROG ARGS,
 * wait; then prints what it measured of itself:
 *
 *   .output/bench/forkexec N PROG [ARGS...]
 *   forkexec pid=4242 n=5000 failed=0 elapsed_ns=2345678901
 *
 * elapsed_ns is the job's own wall time (first fork to last wait), so a
 * tracer's start-up and teardown are not counted against the job.
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
	long n = argc > 2 ? atol(argv[1]) : 0, failed = 0;
	long long t0;

	if (n <= 0) {
		fprintf(stderr, "usage: forkexec N PROG [ARGS...]\n");
		return 2;
	}
	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		int status;
		pid_t pid = fork();

		if (pid == 0) {
			execv(argv[2], argv + 2);
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid || status != 0)
			failed++;
	}
	printf("forkexec pid=%d n=%ld failed=%ld elapsed_ns=%lld\n", getpid(), n, failed, now_ns() - t0);
	return failed != 0;
}
