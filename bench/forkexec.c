/* A fork/exec-heavy job for bench/run.sh: N times fork, exec PROG ARGS,
 * wait; then prints what it measured of itself:
 *
 *   .output/bench/forkexec N PROG [ARGS...]
 *   forkexec pid=4242 n=5000 failed=0 elapsed_ns=2345678901 cpu_ns=2012345678
 *
 * elapsed_ns is the job's own wall time (first fork to last wait), so a
 * tracer's start-up and teardown are not counted against the job; cpu_ns
 * is the CPU time of the job and its children (getrusage), which other
 * users of the machine disturb less than the wall time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
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
	{
		long long elapsed = now_ns() - t0, cpu = 0;
		struct rusage ru;

		for (int who = 0; who < 2; who++) {
			getrusage(who ? RUSAGE_CHILDREN : RUSAGE_SELF, &ru);
			cpu += (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL +
			       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
		}
		printf("forkexec pid=%d n=%ld failed=%ld elapsed_ns=%lld cpu_ns=%lld\n", getpid(), n, failed, elapsed,
		       cpu);
	}
	return failed != 0;
}
