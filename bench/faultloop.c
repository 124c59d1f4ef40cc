/* faultloop PAGES ROUNDS: a page-fault storm of known size, for the fault
 * benches.  Each round maps PAGES fresh anonymous pages (no huge pages),
 * writes one byte to each (one minor fault per page) and unmaps them.
 * Prints "faults cpu_ns_per_fault wall_ns_per_fault": faults counted by the
 * kernel (getrusage), and this thread's CPU time (the BPF programs run in
 * its context, and time spent waiting for a CPU on a busy machine is left
 * out) and wall time, both per fault, unmapping included. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static long long clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return ru.ru_minflt + ru.ru_majflt;
}

int main(int argc, char **argv)
{
	long pages, rounds, page = sysconf(_SC_PAGESIZE), f0;
	long long c0, w0;

	if (argc != 3 || (pages = atol(argv[1])) <= 0 || (rounds = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: faultloop PAGES ROUNDS\n");
		return 2;
	}
	f0 = minflt();
	c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	w0 = clock_ns(CLOCK_MONOTONIC);
	for (long r = 0; r < rounds; r++) {
		char *p = mmap(NULL, (size_t)(pages * page), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		madvise(p, (size_t)(pages * page), MADV_NOHUGEPAGE);
		for (long i = 0; i < pages; i++)
			p[i * page] = 1;
		munmap(p, (size_t)(pages * page));
	}
	{
		long faults = minflt() - f0;
		long long cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0, wall = clock_ns(CLOCK_MONOTONIC) - w0;

		printf("%ld %.1f %.1f\n", faults, (double)cpu / (double)faults, (double)wall / (double)faults);
	}
	return 0;
}
