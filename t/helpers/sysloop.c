/* Syscall load with known size, for the syscall tracer's tests and benches.
 *
 *   sysloop COUNT [RATE] [--wait]
 *
 * Makes COUNT getppid() calls, at RATE calls per second (0: as fast as
 * possible), then prints "calls ns_per_call elapsed_ns cpu_ns_per_call" (the
 * last one is this thread's CPU time, which on a busy machine leaves out the
 * time spent waiting for a CPU; a tracer's programs run in it).  With --wait it
 * first prints its pid and waits for a line on stdin, so a tracer can be
 * pointed at it before the load starts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long long clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

int main(int argc, char **argv)
{
	long long count, rate = 0, start, end, cpu0;
	char line[16];

	if (argc < 2)
		return 2;
	count = atoll(argv[1]);
	if (argc > 2 && strcmp(argv[2], "--wait"))
		rate = atoll(argv[2]);
	if (!strcmp(argv[argc - 1], "--wait")) {
		printf("%d\n", getpid());
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin))
			return 1;
	}
	cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	start = now_ns();
	if (rate <= 0) {
		for (long long i = 0; i < count; i++)
			syscall(SYS_getppid);
	} else {
		/* Paced in slices of 1/1000 s so the rate holds on average
		 * without a clock read per call. */
		long long per_slice = rate / 1000 > 0 ? rate / 1000 : 1, done = 0;

		while (done < count) {
			long long n = count - done < per_slice ? count - done : per_slice;
			long long due;

			for (long long i = 0; i < n; i++)
				syscall(SYS_getppid);
			done += n;
			due = start + done * 1000000000LL / rate;
			while (now_ns() < due)
				;
		}
	}
	end = now_ns();
	printf("%lld %.1f %lld %.1f\n", count, (double)(end - start) / (double)count, end - start,
	       (double)(clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0) / (double)count);
	return 0;
}
